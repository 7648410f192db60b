"""Integrity of the vocabulary files in data/vocab."""

import csv
from collections import defaultdict

import pytest

from pipeline.normalize.specialties import (
    canonical_board,
    known_specialties,
    specialty_candidates,
    specialty_key,
)
from pipeline.normalize.vocab import read_rows, vocab_dir, vocab_path


def test_every_vocab_file_is_named_in_sources():
    sources = (vocab_dir() / "SOURCES.md").read_text(encoding="utf-8")
    for path in vocab_dir().iterdir():
        if path.name != "SOURCES.md":
            assert f"`{path.name}`" in sources, f"{path.name} has no line in SOURCES.md"


def test_missing_vocab_file_names_the_folder():
    with pytest.raises(FileNotFoundError, match=r"no_such\.csv"):
        vocab_path("no_such.csv")


def test_csv_files_are_rectangular():
    for path in vocab_dir().glob("*.csv"):
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
        width = len(rows[0])
        assert all(len(row) == width for row in rows), path.name


def test_every_nucc_physician_code_is_in_the_crosswalk():
    labels = {row["label"] for row in read_rows("specialty_crosswalk.csv")}
    codes = [
        row["Code"]
        for row in read_rows("nucc_taxonomy_251.csv")
        if row["Grouping"] == "Allopathic & Osteopathic Physicians"
    ]
    assert len(codes) == 238
    assert not [code for code in codes if code not in labels]


def test_crosswalk_canonicals_are_board_certificates():
    known = known_specialties()
    for row in read_rows("specialty_crosswalk.csv"):
        for name in filter(None, row["canonical"].split("|")):
            assert name in known, row
        assert row["kind"] in {"abms", "aoa", "nucc", "cms", "synonym", "canonical"}, row


def test_crosswalk_labels_are_unique_by_key():
    seen: dict[str, str] = {}
    for row in read_rows("specialty_crosswalk.csv"):
        key = (
            row["label"].lower()
            if row["kind"] == "nucc" and row["label"][:3].isdigit()
            else specialty_key(row["label"])
        )
        assert key not in seen, (row["label"], seen.get(key))
        seen[key] = row["label"]


def test_every_board_certificate_resolves_and_its_board_is_known():
    for row in read_rows("board_certificates.csv"):
        assert specialty_candidates(row["certificate"]), row
        assert canonical_board(row["board"]) == row["board"], row
        assert row["certificate_type"] in {"specialty", "subspecialty"}, row
        for parent in row["parent_specialty"].split("|"):
            assert parent in known_specialties(), row


def test_certificates_with_disagreeing_parents_have_one_preferred_row():
    parents: dict[str, set[str]] = defaultdict(set)
    preferred: dict[str, int] = defaultdict(int)
    for row in read_rows("board_certificates.csv"):
        for canonical in specialty_candidates(row["certificate"]):
            own = row["parent_specialty"].split("|")
            parents[canonical] |= {canonical} if canonical in own else set(own)
            preferred[canonical] += row["preferred"] == "Y"
    for canonical, found in parents.items():
        assert preferred[canonical] <= 1, canonical
        if len(found) > 1:
            assert preferred[canonical] == 1, (canonical, found)


def test_post_2016_certificates_are_present():
    certificates = {row["certificate"] for row in read_rows("board_certificates.csv")}
    for name in [
        "Addiction Medicine",
        "Adult Cardiac Anesthesiology",
        "Neurocritical Care",
        "Pediatric Hospital Medicine",
        "Complex Family Planning",
        "Micrographic Dermatologic Surgery",
        "Urogynecology and Reconstructive Pelvic Surgery",
    ]:
        assert name in certificates
    assert "Female Pelvic Medicine and Reconstructive Surgery" not in certificates


def test_degree_codes_are_unique():
    codes = [row["code"] for row in read_rows("degrees.csv")]
    assert len(codes) == len(set(codes))


@pytest.mark.parametrize("missing", [None, float("nan"), 3.5, 0])
def test_text_functions_take_missing_values_from_dataframes(missing):
    from pipeline.normalize.degrees import degree_info, is_physician_degree, split_credentials
    from pipeline.normalize.names import (
        PersonName,
        canonical_first_name,
        first_name_keys,
        name_key,
        parse_person_name,
    )
    from pipeline.normalize.npi import clean_npi
    from pipeline.normalize.places import normalize_city, normalize_state
    from pipeline.normalize.schools import canonical_school
    from pipeline.normalize.specialties import (
        canonical_board,
        canonical_specialties,
        canonical_specialty,
        claims_match,
    )

    assert split_credentials(missing) == []
    assert degree_info(missing) is None
    assert not is_physician_degree(missing)
    assert parse_person_name(missing) == PersonName()
    assert name_key(missing) == ""
    assert first_name_keys(missing) == frozenset()
    assert canonical_first_name(missing) == ""
    assert normalize_state(missing) is None
    assert normalize_city(missing) == ""
    assert canonical_school(missing) is None
    assert canonical_specialty(missing) is None
    assert canonical_specialties([missing, "Cardiology"]) == ["Cardiovascular Disease"]
    assert not claims_match(missing, "Internal Medicine")
    assert canonical_board(missing) is None
    assert clean_npi(missing) is None
