"""The specialty crosswalk as a join: a directory's label, the board certificate, the NUCC
taxonomy code NPPES carries and the CMS specialty name in Doctors & Clinicians all meet on one
canonical name; and the reference files' own vocabularies are fully covered."""

from __future__ import annotations

import pytest

from pipeline.normalize.specialties import canonical_specialty, claims_match, specialty_key
from pipeline.normalize.vocab import read_rows

# directory label (as hospitals write it), certificate (as the board writes it),
# NUCC code (NPPES taxonomy slot), CMS pri_spec (Doctors & Clinicians) -> canonical
JOINED = [
    (
        "Cardiology",
        "Cardiovascular Disease",
        "207RC0000X",
        "CARDIOVASCULAR DISEASE (CARDIOLOGY)",
        "Cardiovascular Disease",
    ),
    (
        "Ob/Gyn",
        "Obstetrics and Gynecology",
        "207V00000X",
        "OBSTETRICS/GYNECOLOGY",
        "Obstetrics and Gynecology",
    ),
    ("Family Practice", "Family Medicine", "207Q00000X", "FAMILY PRACTICE", "Family Medicine"),
    (
        "Orthopedics",
        "Orthopaedic Surgery",
        "207X00000X",
        "ORTHOPEDIC SURGERY",
        "Orthopaedic Surgery",
    ),
    (
        "Heart rhythm specialist",
        "Clinical Cardiac Electrophysiology",
        "207RC0001X",
        "CARDIAC ELECTROPHYSIOLOGY",
        "Clinical Cardiac Electrophysiology",
    ),
    ("GI", "Gastroenterology", "207RG0100X", "GASTROENTEROLOGY", "Gastroenterology"),
    (
        "Palliative Care",
        "Hospice and Palliative Medicine",
        "207RH0002X",
        "HOSPICE/PALLIATIVE CARE",
        "Hospice and Palliative Medicine",
    ),
    ("Neurosurgery", "Neurological Surgery", "207T00000X", "NEUROSURGERY", "Neurological Surgery"),
    (
        "Addiction Medicine",
        "Addiction Medicine",
        "207RA0401X",
        "ADDICTION MEDICINE",
        "Addiction Medicine",
    ),
    (
        "PM&R",
        "Physical Medicine and Rehabilitation",
        "208100000X",
        "PHYSICAL MEDICINE AND REHABILITATION",
        "Physical Medicine and Rehabilitation",
    ),
]


@pytest.mark.parametrize(("label", "certificate", "code", "cms", "canonical"), JOINED)
def test_one_specialty_four_vocabularies(label, certificate, code, cms, canonical):
    assert [canonical_specialty(x) for x in (label, certificate, code, cms)] == [canonical] * 4
    assert claims_match(label, certificate)


def test_every_physician_taxonomy_code_is_in_the_crosswalk():
    """Each of the 238 physician NUCC codes maps to a board specialty, or is listed on purpose
    with an empty canonical (no certificate: General Practice, Obesity Medicine, ...)."""
    labels = {specialty_key(r["label"]) for r in read_rows("specialty_crosswalk.csv")}
    codes = [
        r["Code"]
        for r in read_rows("nucc_taxonomy_251.csv")
        if r["Grouping"] == "Allopathic & Osteopathic Physicians"
    ]
    assert len(codes) == 238
    assert [c for c in codes if specialty_key(c) not in labels] == []
    mapped = [c for c in codes if canonical_specialty(c)]
    assert len(mapped) >= 200


def test_every_cms_physician_specialty_name_maps():
    cms = [r for r in read_rows("specialty_crosswalk.csv") if r["kind"] == "cms"]
    assert len(cms) >= 50
    for row in cms:
        assert canonical_specialty(row["label"]) == (row["canonical"].split("|")[0] or None), row
