"""Seeded, deterministic demo world: reference extracts, directory sites and the truth.

The world is a population of physicians (plus nurse practitioners, physician assistants,
organizations and, on the medical-school site, PhD researchers).  From that one population the
generator writes, under ``out_dir``:

- ``reference/boards.csv``   canonical board-certification CSV (UTF-8)
- ``reference/npidata.csv``  NPPES npidata extract, real 330-column layout (iso-8859-1)
- ``reference/dac.csv``      CMS Doctors & Clinicians national file, current layout
- ``reference/leie.csv``     OIG LEIE exclusions, real layout
- ``sites/<site_id>.json``   directory content served by ``pipeline/demo/server.py``
- ``truth.csv``              what a perfect pipeline should conclude for every listing
- ``manifest.json``          counts and the deliberately planted difficulties

Listings carry the noise real directories have (nicknames, typos, married names, dropped
accents, specialty synonyms, stale addresses, namesakes in other states) so that matching is hard
in realistic ways.  The truth is computed from the generator's own knowledge; the mapping from
certificates to directory labels lives only here and must not be imported by matching code.

Everything is driven by ``random.Random`` streams derived from the seed, and dates are relative
to the fixed ``AS_OF`` date, so a seed always yields byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import sys
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from pipeline import config
from pipeline.db.schema import CERTIFICATION_VALUES
from pipeline.normalize.npi import npi_check_digit
from pipeline.sources.boards import BOARD_COLUMNS

T = TypeVar("T")
AS_OF = date(2026, 11, 1)
DATA_DIR = config.DATA_DIR / "demo"
REFERENCE_DIR = config.REFERENCE_DIR

LAPSED_STATUSES = frozenset({"expired", "lapsed", "inactive"})
# The file layouts and value sets are the project's contracts; the world writes them as is.
BOARDS_HEADER = BOARD_COLUMNS
TRUTH_HEADER = ["site_id", "listing_ref", "path", "npi", "is_physician", "expected_certification"]

# --------------------------------------------------------------------------------------------
# Specialties: the generator's private crosswalk (certificate -> taxonomy, CMS name, labels)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Specialty:
    """A board certificate area and how the outside world writes it."""

    name: str  # canonical name: the ABMS certificate name
    board: str  # ABMS board issuing it
    taxonomy: str  # NUCC code a holder registers in NPPES
    cms: str  # CMS Doctors & Clinicians specialty (pri_spec)
    labels: tuple[str, ...]  # how directories write it (repeats = weight)
    weight: float  # share among primaries, or probability within the parent
    parent: str | None = None  # parent specialty for subspecialties
    honor: str | None = None  # fellowship letters some holders append ("FACC")
    aoa: tuple[str, str] | None = None  # (AOA board area, certificate) a DO may hold instead
    department: str = "Medicine"  # academic department of a faculty member
    training_years: int = 3  # residency (or fellowship) years before the first exam


ABIM = "American Board of Internal Medicine"
ABFM = "American Board of Family Medicine"
ABP = "American Board of Pediatrics"
ABOG = "American Board of Obstetrics and Gynecology"
ABS = "American Board of Surgery"
ABA = "American Board of Anesthesiology"
ABEM = "American Board of Emergency Medicine"
ABR = "American Board of Radiology"
ABPN = "American Board of Psychiatry and Neurology"
ABD = "American Board of Dermatology"
ABOS = "American Board of Orthopaedic Surgery"
ABOTO = "American Board of Otolaryngology"
ABU = "American Board of Urology"
ABPATH = "American Board of Pathology"
ABPMR = "American Board of Physical Medicine and Rehabilitation"
ABPS = "American Board of Plastic Surgery"
ABTS = "American Board of Thoracic Surgery"

AOA_IM = "AOA Internal Medicine"
AOA_FM = "AOA Family Medicine"
AOA_PEDS = "AOA Pediatrics"
AOA_EM = "AOA Emergency Medicine"
AOA_RAD = "AOA Radiology"
AOA_NP = "AOA Neurology & Psychiatry"
AOA_EENT = "AOA Ophthalmology & Otolaryngology-HNS"

# The reference file names AOA boards by area; board records use the boards' official names.
AOA_BOARD_NAMES = {
    AOA_IM: "American Osteopathic Board of Internal Medicine",
    AOA_FM: "American Osteopathic Board of Family Physicians",
    AOA_PEDS: "American Osteopathic Board of Pediatrics",
    AOA_EM: "American Osteopathic Board of Emergency Medicine",
    AOA_RAD: "American Osteopathic Board of Radiology",
    AOA_NP: "American Osteopathic Board of Neurology and Psychiatry",
    AOA_EENT: "American Osteopathic Board of Ophthalmology and Otolaryngology-Head and Neck "
    "Surgery",
}

S = Specialty
PRIMARY_SPECIALTIES: tuple[Specialty, ...] = (
    S(
        "Internal Medicine",
        ABIM,
        "207R00000X",
        "INTERNAL MEDICINE",
        ("Internal Medicine",) * 3 + ("General Internal Medicine",),
        18,
        honor="FACP",
        aoa=(AOA_IM, "Internal Medicine"),
    ),
    S(
        "Family Medicine",
        ABFM,
        "207Q00000X",
        "FAMILY PRACTICE",
        ("Family Medicine",) * 3 + ("Family Practice",) * 2,
        14,
        honor="FAAFP",
        aoa=(AOA_FM, "Family Medicine/OMT"),
        department="Family Medicine",
    ),
    S(
        "Pediatrics",
        ABP,
        "208000000X",
        "PEDIATRIC MEDICINE",
        ("Pediatrics",) * 3 + ("Peds", "General Pediatrics"),
        9,
        honor="FAAP",
        aoa=(AOA_PEDS, "Pediatrics"),
        department="Pediatrics",
    ),
    S(
        "Emergency Medicine",
        ABEM,
        "207P00000X",
        "EMERGENCY MEDICINE",
        ("Emergency Medicine",),
        6,
        honor="FACEP",
        aoa=(AOA_EM, "Emergency Medicine"),
        department="Emergency Medicine",
    ),
    S(
        "Obstetrics and Gynecology",
        ABOG,
        "207V00000X",
        "OBSTETRICS/GYNECOLOGY",
        ("Obstetrics and Gynecology", "OB/GYN", "Obstetrics & Gynecology", "OBGYN"),
        6,
        honor="FACOG",
        department="Obstetrics and Gynecology",
        training_years=4,
    ),
    S(
        "Anesthesiology",
        ABA,
        "207L00000X",
        "ANESTHESIOLOGY",
        ("Anesthesiology",) * 3 + ("Anesthesia",),
        6,
        department="Anesthesiology",
        training_years=4,
    ),
    S(
        "Psychiatry",
        ABPN,
        "2084P0800X",
        "PSYCHIATRY",
        ("Psychiatry",),
        5,
        department="Psychiatry",
        training_years=4,
    ),
    S(
        "Diagnostic Radiology",
        ABR,
        "2085R0202X",
        "DIAGNOSTIC RADIOLOGY",
        ("Radiology", "Diagnostic Radiology"),
        4.5,
        aoa=(AOA_RAD, "Diagnostic Radiology"),
        department="Radiology",
        training_years=5,
    ),
    S(
        "Surgery",
        ABS,
        "208600000X",
        "GENERAL SURGERY",
        ("General Surgery",) * 2 + ("Surgery",),
        4,
        honor="FACS",
        department="Surgery",
        training_years=5,
    ),
    S(
        "Orthopaedic Surgery",
        ABOS,
        "207X00000X",
        "ORTHOPEDIC SURGERY",
        ("Orthopaedic Surgery", "Orthopedic Surgery", "Orthopedics"),
        3,
        honor="FAAOS",
        department="Orthopaedic Surgery",
        training_years=5,
    ),
    S(
        "Neurology",
        ABPN,
        "2084N0400X",
        "NEUROLOGY",
        ("Neurology",),
        2.5,
        aoa=(AOA_NP, "Neurology"),
        department="Neurology",
        training_years=4,
    ),
    S(
        "Ophthalmology",
        "American Board of Ophthalmology",
        "207W00000X",
        "OPHTHALMOLOGY",
        ("Ophthalmology",),
        2.2,
        aoa=(AOA_EENT, "Ophthalmology"),
        department="Ophthalmology",
        training_years=4,
    ),
    S(
        "Dermatology",
        ABD,
        "207N00000X",
        "DERMATOLOGY",
        ("Dermatology",),
        1.8,
        department="Dermatology",
        training_years=4,
    ),
    S(
        "Pathology-Anatomic/Pathology-Clinical",
        ABPATH,
        "207ZP0102X",
        "PATHOLOGY",
        ("Pathology", "Anatomic & Clinical Pathology"),
        1.6,
        department="Pathology",
        training_years=4,
    ),
    S(
        "Otolaryngology",
        ABOTO,
        "207Y00000X",
        "OTOLARYNGOLOGY",
        ("Otolaryngology", "ENT", "Otolaryngology - Head & Neck Surgery", "Ear, Nose and Throat"),
        1.3,
        aoa=(AOA_EENT, "Otolaryngology"),
        department="Otolaryngology",
        training_years=5,
    ),
    S(
        "Urology",
        ABU,
        "208800000X",
        "UROLOGY",
        ("Urology",),
        1.3,
        department="Urology",
        training_years=5,
    ),
    S(
        "Physical Medicine and Rehabilitation",
        ABPMR,
        "208100000X",
        "PHYSICAL MEDICINE AND REHABILITATION",
        ("Physical Medicine & Rehabilitation", "PM&R", "Physiatry"),
        1.2,
        department="Physical Medicine and Rehabilitation",
        training_years=4,
    ),
    S(
        "Plastic Surgery",
        ABPS,
        "208200000X",
        "PLASTIC AND RECONSTRUCTIVE SURGERY",
        ("Plastic Surgery", "Plastic & Reconstructive Surgery"),
        0.8,
        honor="FACS",
        department="Surgery",
        training_years=6,
    ),
    S(
        "Radiation Oncology",
        ABR,
        "2085R0001X",
        "RADIATION ONCOLOGY",
        ("Radiation Oncology",),
        0.7,
        department="Radiation Oncology",
        training_years=5,
    ),
    S(
        "Neurological Surgery",
        "American Board of Neurological Surgery",
        "207T00000X",
        "NEUROSURGERY",
        ("Neurosurgery", "Neurological Surgery"),
        0.6,
        honor="FACS",
        department="Neurosurgery",
        training_years=7,
    ),
    S(
        "Thoracic and Cardiac Surgery",
        ABTS,
        "208G00000X",
        "THORACIC SURGERY",
        ("Cardiothoracic Surgery", "Thoracic Surgery"),
        0.5,
        honor="FACS",
        department="Surgery",
        training_years=7,
    ),
    S(
        "Vascular Surgery",
        ABS,
        "2086S0129X",
        "VASCULAR SURGERY",
        ("Vascular Surgery",),
        0.4,
        honor="FACS",
        department="Surgery",
        training_years=5,
    ),
    S(
        "Allergy and Immunology",
        "American Board of Allergy and Immunology",
        "207K00000X",
        "ALLERGY/IMMUNOLOGY",
        ("Allergy & Immunology", "Allergy and Immunology"),
        0.5,
        training_years=5,
    ),
    S(
        "Colon and Rectal Surgery",
        "American Board of Colon and Rectal Surgery",
        "208C00000X",
        "COLORECTAL SURGERY (PROCTOLOGY)",
        ("Colorectal Surgery", "Colon & Rectal Surgery"),
        0.2,
        honor="FACS",
        department="Surgery",
        training_years=6,
    ),
)

IM, FM, PEDS, EM, OBG = (
    "Internal Medicine",
    "Family Medicine",
    "Pediatrics",
    "Emergency Medicine",
    "Obstetrics and Gynecology",
)
SUBSPECIALTIES: tuple[Specialty, ...] = (
    S(
        "Cardiovascular Disease",
        ABIM,
        "207RC0000X",
        "CARDIOVASCULAR DISEASE (CARDIOLOGY)",
        ("Cardiology",) * 3 + ("Cardiovascular Disease", "Cardiovascular Medicine"),
        0.11,
        IM,
        honor="FACC",
        aoa=(AOA_IM, "Cardiology"),
    ),
    S(
        "Gastroenterology",
        ABIM,
        "207RG0100X",
        "GASTROENTEROLOGY",
        ("Gastroenterology",) * 3 + ("Gastroenterology & Hepatology",),
        0.06,
        IM,
        honor="FACG",
        aoa=(AOA_IM, "Gastroenterology"),
    ),
    S(
        "Pulmonary Disease",
        ABIM,
        "207RP1001X",
        "PULMONARY DISEASE",
        ("Pulmonology", "Pulmonary Medicine", "Pulmonary Disease"),
        0.04,
        IM,
        honor="FCCP",
        aoa=(AOA_IM, "Pulmonary Diseases"),
    ),
    S(
        "Critical Care Medicine",
        ABIM,
        "207RC0200X",
        "CRITICAL CARE (INTENSIVISTS)",
        ("Critical Care Medicine", "Critical Care"),
        0.03,
        IM,
        aoa=(AOA_IM, "Critical Care Medicine"),
    ),
    S(
        "Nephrology",
        ABIM,
        "207RN0300X",
        "NEPHROLOGY",
        ("Nephrology",),
        0.04,
        IM,
        aoa=(AOA_IM, "Nephrology"),
    ),
    S(
        "Endocrinology, Diabetes and Metabolism",
        ABIM,
        "207RE0101X",
        "ENDOCRINOLOGY",
        ("Endocrinology",) * 2 + ("Endocrinology, Diabetes & Metabolism",),
        0.03,
        IM,
        aoa=(AOA_IM, "Endocrinology"),
    ),
    S(
        "Medical Oncology",
        ABIM,
        "207RX0202X",
        "MEDICAL ONCOLOGY",
        ("Medical Oncology", "Oncology"),
        0.04,
        IM,
        aoa=(AOA_IM, "Oncology"),
    ),
    S(
        "Hematology",
        ABIM,
        "207RH0000X",
        "HEMATOLOGY",
        ("Hematology",),
        0.02,
        IM,
        aoa=(AOA_IM, "Hematology"),
    ),
    S(
        "Infectious Disease",
        ABIM,
        "207RI0200X",
        "INFECTIOUS DISEASE",
        ("Infectious Diseases", "Infectious Disease"),
        0.03,
        IM,
        aoa=(AOA_IM, "Infectious Diseases"),
    ),
    S(
        "Rheumatology",
        ABIM,
        "207RR0500X",
        "RHEUMATOLOGY",
        ("Rheumatology",),
        0.02,
        IM,
        aoa=(AOA_IM, "Rheumatology"),
    ),
    S(
        "Geriatric Medicine",
        ABIM,
        "207RG0300X",
        "GERIATRIC MEDICINE",
        ("Geriatric Medicine", "Geriatrics"),
        0.02,
        IM,
        aoa=(AOA_IM, "Geriatric Medicine"),
    ),
    S(
        "Hospice and Palliative Medicine",
        ABIM,
        "207RH0002X",
        "HOSPICE/PALLIATIVE CARE",
        ("Palliative Medicine", "Hospice and Palliative Medicine"),
        0.01,
        IM,
        aoa=(AOA_IM, "Hospice and Palliative Medicine"),
    ),
    S(
        "Sleep Medicine",
        ABIM,
        "207RS0012X",
        "SLEEP MEDICINE",
        ("Sleep Medicine",),
        0.01,
        IM,
        aoa=(AOA_IM, "Sleep Medicine"),
    ),
    S(
        "Sports Medicine",
        ABFM,
        "207QS0010X",
        "SPORTS MEDICINE",
        ("Sports Medicine", "Primary Care Sports Medicine"),
        0.03,
        FM,
        aoa=(AOA_FM, "Sports Medicine"),
        department="Family Medicine",
    ),
    S(
        "Geriatric Medicine",
        ABFM,
        "207QG0300X",
        "GERIATRIC MEDICINE",
        ("Geriatric Medicine", "Geriatrics"),
        0.02,
        FM,
        aoa=(AOA_FM, "Geriatric Medicine"),
        department="Family Medicine",
    ),
    S(
        "Pediatric Cardiology",
        ABP,
        "2080P0202X",
        "PEDIATRIC MEDICINE",
        ("Pediatric Cardiology",),
        0.04,
        PEDS,
        department="Pediatrics",
    ),
    S(
        "Neonatal-Perinatal Medicine",
        ABP,
        "2080N0001X",
        "PEDIATRIC MEDICINE",
        ("Neonatology", "Neonatal-Perinatal Medicine"),
        0.05,
        PEDS,
        aoa=(AOA_PEDS, "Neonatology"),
        department="Pediatrics",
    ),
    S(
        "Pediatric Emergency Medicine",
        ABP,
        "2080P0204X",
        "PEDIATRIC MEDICINE",
        ("Pediatric Emergency Medicine",),
        0.03,
        PEDS,
        department="Pediatrics",
    ),
    S(
        "Pediatric Hematology-Oncology",
        ABP,
        "2080P0207X",
        "PEDIATRIC MEDICINE",
        ("Pediatric Hematology/Oncology", "Pediatric Hematology-Oncology"),
        0.03,
        PEDS,
        department="Pediatrics",
    ),
    S(
        "Pediatric Critical Care Medicine",
        ABP,
        "2080P0203X",
        "PEDIATRIC MEDICINE",
        ("Pediatric Critical Care Medicine", "Pediatric Critical Care"),
        0.03,
        PEDS,
        department="Pediatrics",
    ),
    S(
        "Pediatric Gastroenterology",
        ABP,
        "2080P0206X",
        "PEDIATRIC MEDICINE",
        ("Pediatric Gastroenterology",),
        0.02,
        PEDS,
        department="Pediatrics",
    ),
    S(
        "Pediatric Endocrinology",
        ABP,
        "2080P0205X",
        "PEDIATRIC MEDICINE",
        ("Pediatric Endocrinology",),
        0.02,
        PEDS,
        aoa=(AOA_PEDS, "Pediatric Endocrinology"),
        department="Pediatrics",
    ),
    S(
        "Maternal and Fetal Medicine",
        ABOG,
        "207VM0101X",
        "OBSTETRICS/GYNECOLOGY",
        ("Maternal-Fetal Medicine", "Maternal and Fetal Medicine"),
        0.05,
        OBG,
        department="Obstetrics and Gynecology",
    ),
    S(
        "Gynecologic Oncology",
        ABOG,
        "207VX0201X",
        "GYNECOLOGICAL ONCOLOGY",
        ("Gynecologic Oncology",),
        0.03,
        OBG,
        department="Obstetrics and Gynecology",
    ),
    S(
        "Reproductive Endocrinology/Infertility",
        ABOG,
        "207VE0102X",
        "OBSTETRICS/GYNECOLOGY",
        ("Reproductive Endocrinology and Infertility", "Reproductive Endocrinology/Infertility"),
        0.03,
        OBG,
        department="Obstetrics and Gynecology",
    ),
    S(
        "Complex General Surgical Oncology",
        ABS,
        "2086X0206X",
        "SURGICAL ONCOLOGY",
        ("Surgical Oncology",),
        0.05,
        "Surgery",
        honor="FACS",
        department="Surgery",
    ),
    S(
        "Surgical Critical Care",
        ABS,
        "2086S0102X",
        "CRITICAL CARE (INTENSIVISTS)",
        ("Surgical Critical Care",),
        0.05,
        "Surgery",
        honor="FACS",
        department="Surgery",
    ),
    S(
        "Pediatric Surgery",
        ABS,
        "2086S0120X",
        "GENERAL SURGERY",
        ("Pediatric Surgery",),
        0.03,
        "Surgery",
        honor="FACS",
        department="Surgery",
    ),
    S(
        "Pain Medicine",
        ABA,
        "207LP2900X",
        "PAIN MANAGEMENT",
        ("Pain Medicine", "Pain Management"),
        0.08,
        "Anesthesiology",
        department="Anesthesiology",
    ),
    S(
        "Critical Care Medicine",
        ABA,
        "207LC0200X",
        "CRITICAL CARE (INTENSIVISTS)",
        ("Critical Care Medicine", "Critical Care"),
        0.04,
        "Anesthesiology",
        department="Anesthesiology",
    ),
    S(
        "Pediatric Anesthesiology",
        ABA,
        "207LP3000X",
        "ANESTHESIOLOGY",
        ("Pediatric Anesthesiology",),
        0.05,
        "Anesthesiology",
        department="Anesthesiology",
    ),
    S(
        "Medical Toxicology",
        ABEM,
        "207PT0002X",
        "EMERGENCY MEDICINE",
        ("Medical Toxicology",),
        0.02,
        EM,
        aoa=(AOA_EM, "Medical Toxicology"),
        department="Emergency Medicine",
    ),
    S(
        "Emergency Medical Services",
        ABEM,
        "207PE0004X",
        "EMERGENCY MEDICINE",
        ("Emergency Medical Services", "EMS"),
        0.02,
        EM,
        aoa=(AOA_EM, "Emergency Medical Services"),
        department="Emergency Medicine",
    ),
    S(
        "Neuroradiology",
        ABR,
        "2085N0700X",
        "DIAGNOSTIC RADIOLOGY",
        ("Neuroradiology",),
        0.10,
        "Diagnostic Radiology",
        aoa=(AOA_RAD, "Neuroradiology"),
        department="Radiology",
    ),
    S(
        "Pediatric Radiology",
        ABR,
        "2085P0229X",
        "DIAGNOSTIC RADIOLOGY",
        ("Pediatric Radiology",),
        0.04,
        "Diagnostic Radiology",
        aoa=(AOA_RAD, "Pediatric Radiology"),
        department="Radiology",
    ),
    S(
        "Vascular and Interventional Radiology",
        ABR,
        "2085R0204X",
        "INTERVENTIONAL RADIOLOGY",
        ("Interventional Radiology", "Vascular & Interventional Radiology"),
        0.08,
        "Diagnostic Radiology",
        aoa=(AOA_RAD, "Vascular & Interventional Radiology"),
        department="Radiology",
    ),
    S(
        "Child and Adolescent Psychiatry",
        ABPN,
        "2084P0804X",
        "PSYCHIATRY",
        ("Child & Adolescent Psychiatry", "Child and Adolescent Psychiatry"),
        0.15,
        "Psychiatry",
        department="Psychiatry",
    ),
    S(
        "Geriatric Psychiatry",
        ABPN,
        "2084P0805X",
        "GERIATRIC PSYCHIATRY",
        ("Geriatric Psychiatry",),
        0.03,
        "Psychiatry",
        department="Psychiatry",
    ),
    S(
        "Addiction Psychiatry",
        ABPN,
        "2084P0802X",
        "ADDICTION MEDICINE",
        ("Addiction Psychiatry",),
        0.03,
        "Psychiatry",
        department="Psychiatry",
    ),
    S(
        "Vascular Neurology",
        ABPN,
        "2084V0102X",
        "NEUROLOGY",
        ("Vascular Neurology", "Stroke Neurology"),
        0.10,
        "Neurology",
        department="Neurology",
    ),
    S(
        "Clinical Neurophysiology",
        ABPN,
        "2084N0600X",
        "NEUROLOGY",
        ("Clinical Neurophysiology",),
        0.08,
        "Neurology",
        department="Neurology",
    ),
    S(
        "Epilepsy",
        ABPN,
        "2084E0001X",
        "NEUROLOGY",
        ("Epilepsy",),
        0.05,
        "Neurology",
        department="Neurology",
    ),
    S(
        "Dermatopathology",
        ABD,
        "207ND0900X",
        "DERMATOLOGY",
        ("Dermatopathology",),
        0.04,
        "Dermatology",
        department="Dermatology",
    ),
    S(
        "Pediatric Dermatology",
        ABD,
        "207NP0225X",
        "DERMATOLOGY",
        ("Pediatric Dermatology",),
        0.03,
        "Dermatology",
        department="Dermatology",
    ),
    S(
        "Orthopaedic Sports Medicine",
        ABOS,
        "207XX0005X",
        "ORTHOPEDIC SURGERY",
        ("Orthopaedic Sports Medicine",),
        0.12,
        "Orthopaedic Surgery",
        department="Orthopaedic Surgery",
    ),
    S(
        "Surgery of the Hand",
        ABOS,
        "207XS0106X",
        "HAND SURGERY",
        ("Hand Surgery",),
        0.08,
        "Orthopaedic Surgery",
        department="Orthopaedic Surgery",
    ),
    S(
        "Neurotology",
        ABOTO,
        "207YX0901X",
        "OTOLARYNGOLOGY",
        ("Neurotology",),
        0.04,
        "Otolaryngology",
        department="Otolaryngology",
    ),
    S(
        "Pediatric Otolaryngology",
        ABOTO,
        "207YP0228X",
        "OTOLARYNGOLOGY",
        ("Pediatric Otolaryngology", "Pediatric ENT"),
        0.05,
        "Otolaryngology",
        department="Otolaryngology",
    ),
    S(
        "Pediatric Urology",
        ABU,
        "2088P0231X",
        "UROLOGY",
        ("Pediatric Urology",),
        0.05,
        "Urology",
        department="Urology",
    ),
    S(
        "Cytopathology",
        ABPATH,
        "207ZC0500X",
        "PATHOLOGY",
        ("Cytopathology",),
        0.08,
        "Pathology-Anatomic/Pathology-Clinical",
        department="Pathology",
    ),
    S(
        "Neuropathology",
        ABPATH,
        "207ZN0500X",
        "PATHOLOGY",
        ("Neuropathology",),
        0.03,
        "Pathology-Anatomic/Pathology-Clinical",
        department="Pathology",
    ),
    S(
        "Pathology - Forensic",
        ABPATH,
        "207ZF0201X",
        "PATHOLOGY",
        ("Forensic Pathology",),
        0.03,
        "Pathology-Anatomic/Pathology-Clinical",
        department="Pathology",
    ),
    S(
        "Brain Injury Medicine",
        ABPMR,
        "2081P0301X",
        "PHYSICAL MEDICINE AND REHABILITATION",
        ("Brain Injury Medicine",),
        0.04,
        "Physical Medicine and Rehabilitation",
        department="Physical Medicine and Rehabilitation",
    ),
    S(
        "Pain Medicine",
        ABPMR,
        "2081P2900X",
        "PAIN MANAGEMENT",
        ("Pain Medicine", "Pain Management"),
        0.06,
        "Physical Medicine and Rehabilitation",
        department="Physical Medicine and Rehabilitation",
    ),
    S(
        "Surgery of the Hand",
        ABPS,
        "2082S0105X",
        "HAND SURGERY",
        ("Hand Surgery",),
        0.10,
        "Plastic Surgery",
        department="Surgery",
    ),
)
del S

SPECIALTY_BY_NAME: dict[str, Specialty] = {s.name: s for s in PRIMARY_SPECIALTIES}
SUBSPECIALTIES_OF: dict[str, tuple[Specialty, ...]] = {
    p.name: tuple(s for s in SUBSPECIALTIES if s.parent == p.name) for p in PRIMARY_SPECIALTIES
}
# Canonical names a directory label stands for; several certificates share a name
# ("Critical Care Medicine" from ABIM and ABA), which is fine because claims compare names.
LABEL_CANONICAL: dict[str, str] = {
    label: s.name for s in PRIMARY_SPECIALTIES + SUBSPECIALTIES for label in s.labels
}

# Physicians do list specialties they hold no certificate in (ER shifts, cosmetic work).
OFF_SPECIALTY_CLAIMS: dict[str, tuple[str, ...]] = {
    "Family Medicine": ("Emergency Medicine", "Dermatology"),
    "Internal Medicine": ("Emergency Medicine",),
    "Surgery": ("Plastic Surgery",),
    "Emergency Medicine": ("Family Medicine",),
    "Otolaryngology": ("Plastic Surgery",),
}

NON_PHYSICIAN_FIELDS = (IM, FM, PEDS, EM, OBG, "Dermatology", "Orthopaedic Surgery")
NP_TAXONOMIES = (("363L00000X", "NP"), ("363LF0000X", "FNP-C"), ("363LA2200X", "APRN"))
PA_TAXONOMY = "363A00000X"
HOSPITAL_TAXONOMY = "282N00000X"
GROUP_TAXONOMY = "193200000X"

# --------------------------------------------------------------------------------------------
# Name material that is not in the census lists
# --------------------------------------------------------------------------------------------

HISPANIC_FIRST = {
    "male": (
        "JOSE",
        "JUAN",
        "CARLOS",
        "LUIS",
        "JESUS",
        "MIGUEL",
        "JORGE",
        "ANTONIO",
        "MANUEL",
        "RAMON",
        "RAUL",
        "ANDRES",
        "HECTOR",
        "FRANCISCO",
        "ALEJANDRO",
        "FERNANDO",
        "RICARDO",
        "EDUARDO",
        "JAVIER",
        "SERGIO",
        "OSCAR",
        "ANGEL",
    ),
    "female": (
        "MARIA",
        "ANA",
        "ROSA",
        "CARMEN",
        "GLORIA",
        "MONICA",
        "VERONICA",
        "SOFIA",
        "LUCIA",
        "ADRIANA",
        "ALEJANDRA",
        "GABRIELA",
        "LETICIA",
        "YOLANDA",
        "DIANA",
        "ELENA",
    ),
}
SOUTH_ASIAN_SURNAMES = (
    "PATEL",
    "SHAH",
    "SINGH",
    "KUMAR",
    "SHARMA",
    "GUPTA",
    "DESAI",
    "MEHTA",
    "REDDY",
    "RAO",
    "JOSHI",
    "IYER",
    "KHAN",
    "AHMED",
    "ALI",
    "CHOPRA",
    "MALHOTRA",
    "KAPOOR",
    "NAIR",
    "MENON",
    "BHATT",
    "PARIKH",
    "AGARWAL",
)
SOUTH_ASIAN_FIRST = {
    "male": (
        "RAJ",
        "SANJAY",
        "ANIL",
        "VIKRAM",
        "RAVI",
        "AMIT",
        "SURESH",
        "ARUN",
        "RAHUL",
        "NIKHIL",
        "ROHIT",
        "ASHOK",
        "SAMEER",
        "IMRAN",
    ),
    "female": (
        "PRIYA",
        "DEEPA",
        "NEHA",
        "ANJALI",
        "SUNITA",
        "KAVITA",
        "POOJA",
        "LAKSHMI",
        "MEERA",
        "ASHA",
        "SHREYA",
        "NISHA",
        "AYESHA",
    ),
}
EAST_ASIAN_FIRST = {
    "male": ("WEI", "JUN", "MIN", "HYUN", "JIN", "DUC", "MINH", "HAO", "TAO", "SUNG"),
    "female": ("MEI", "LING", "YUN", "HUI", "JI", "THAO", "LAN", "XIN", "YING", "SOO"),
}
LANGUAGE_BY_SURNAME = {
    "NGUYEN": "Vietnamese",
    "TRAN": "Vietnamese",
    "LE": "Vietnamese",
    "PHAM": "Vietnamese",
    "KIM": "Korean",
    "PARK": "Korean",
    "CHOI": "Korean",
    "LEE": "Korean",
    "CHEN": "Mandarin",
    "WANG": "Mandarin",
    "LI": "Mandarin",
    "ZHANG": "Mandarin",
    "LIU": "Mandarin",
    "HUANG": "Cantonese",
    "WONG": "Cantonese",
    "CHAN": "Cantonese",
    "PATEL": "Gujarati",
    "SHAH": "Gujarati",
    "DESAI": "Gujarati",
    "SINGH": "Punjabi",
    "KUMAR": "Hindi",
    "SHARMA": "Hindi",
    "GUPTA": "Hindi",
    "KHAN": "Urdu",
    "AHMED": "Urdu",
}
# Census surnames lose their punctuation; restore the usual spelling.
SURNAME_SPELLING = {
    "OBRIEN": "O'Brien",
    "OCONNOR": "O'Connor",
    "ONEIL": "O'Neil",
    "ONEILL": "O'Neill",
    "ODONNELL": "O'Donnell",
    "OCONNELL": "O'Connell",
    "OHARA": "O'Hara",
    "OROURKE": "O'Rourke",
    "OKEEFE": "O'Keefe",
    "DELEON": "De Leon",
    "DELACRUZ": "De La Cruz",
    "DELAROSA": "De La Rosa",
    "DELOSSANTOS": "De Los Santos",
}
GENERATIONAL_SUFFIXES = (("Jr.", 0.030), ("III", 0.007), ("II", 0.003))

STREETS = (
    "Main St",
    "Elm St",
    "Washington St",
    "Cedar Ave",
    "Harbor View Rd",
    "Maple Ave",
    "Medical Center Dr",
    "Park Ave",
    "Highland Ave",
    "Oak St",
    "Lakeview Blvd",
    "Commonwealth Ave",
    "Pine St",
    "Hospital Dr",
    "University Ave",
    "Riverside Dr",
    "Center St",
    "Church St",
    "Franklin St",
    "Jefferson Blvd",
    "Broadway",
    "Market St",
    "Summit Ave",
    "Hillcrest Rd",
    "Wellness Way",
    "Fountain Sq",
)
NON_PHYSICIAN_DEGREES = {"np": (("NP",), ("APRN", "FNP-BC"), ("NP-C",)), "pa": (("PA-C",),)}
RESEARCH_DEPARTMENTS = (
    "Pharmacology",
    "Biochemistry",
    "Microbiology",
    "Genetics",
    "Epidemiology",
    "Neuroscience",
    "Cell Biology",
    "Biostatistics",
    "Molecular Physiology",
    "Immunology",
)
ACADEMIC_RANKS = (
    ("Instructor", 1),
    ("Assistant Professor", 4),
    ("Associate Professor", 3),
    ("Professor", 2),
)
LEIE_EXCLUSION_TYPES = ("1128a1", "1128a3", "1128b4", "1128b4", "1128b7", "1128a2")

# --------------------------------------------------------------------------------------------
# Sites
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteSpec:
    site_id: str
    name: str
    short: str  # short brand used in clinic names
    kind: str  # hospital | medical_school
    shape: str  # jsonld_sitemap | html_directory | faculty_directory
    city: str
    state: str
    metro: str  # key into us_cities.csv metro column
    listing_share: float  # listings per world physician
    npi_shown_rate: float  # share of listings showing an NPI on the page
    dr_prefix_rate: float
    accent_keep_rate: float
    inverted_name_rate: float  # "Doe, Jane Q., MD" style


SITES: tuple[SiteSpec, ...] = (
    SiteSpec(
        "mercy-general",
        "Mercy General Hospital",
        "Mercy",
        "hospital",
        "jsonld_sitemap",
        "Boston",
        "MA",
        "boston",
        0.16,
        0.25,
        0.5,
        0.8,
        0.0,
    ),
    SiteSpec(
        "hill-country-regional",
        "Hill Country Regional Medical Center",
        "Hill Country",
        "hospital",
        "html_directory",
        "San Antonio",
        "TX",
        "san_antonio",
        0.15,
        0.0,
        0.3,
        0.4,
        0.1,
    ),
    SiteSpec(
        "commonwealth-med",
        "Commonwealth University School of Medicine",
        "Commonwealth",
        "medical_school",
        "faculty_directory",
        "Boston",
        "MA",
        "boston",
        0.13,
        0.0,
        0.1,
        0.85,
        0.0,
    ),
)
SITE_PATH_PATTERNS = {
    "jsonld_sitemap": "/doctors/{slug}-{id}",
    "html_directory": "/physician-directory/{id}",
    "faculty_directory": "/faculty/{slug}",
}
REGION_SHARES = (("boston", 0.30), ("san_antonio", 0.22), ("other", 0.48))
NON_PHYSICIAN_LISTING_RATE = 0.04  # NPs and PAs on hospital directories
NO_NPPES_LISTING_RATE = 0.03
RESEARCHER_SHARE_FACULTY = 0.26
FACULTY_ALSO_ON_HOSPITAL = 0.35  # faculty physicians who also hold a hospital listing
MOVED_RATE = 0.10
TWIN_TARGET = 25  # same-name pairs across states with one listed
LEIE_WORLD_PHYSICIANS = 10
LEIE_OTHER_INDIVIDUALS = 10

# --------------------------------------------------------------------------------------------
# Reference data loaded from data/demo/
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeightedPool:
    """Items with cumulative weights, drawn in O(log n)."""

    items: tuple[str, ...]
    cum_weights: tuple[float, ...]

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, float]]) -> WeightedPool:
        items, cum, total = [], [], 0.0
        for item, weight in pairs:
            total += weight
            items.append(item)
            cum.append(total)
        return cls(tuple(items), tuple(cum))

    def draw(self, rng: random.Random) -> str:
        return rng.choices(self.items, cum_weights=self.cum_weights)[0]


@dataclass(frozen=True)
class City:
    city: str
    state: str
    zip: str
    area_code: str
    metro: str


@dataclass(frozen=True)
class School:
    name: str
    city: str
    country: str
    osteopathic: bool


@dataclass(frozen=True)
class Reference:
    first_names: dict[str, WeightedPool]  # by gender
    first_name_freq: dict[str, dict[str, float]]  # gender -> NAME -> percent
    surnames: WeightedPool
    surname_mix: dict[str, tuple[float, float]]  # NAME -> (pct asian, pct hispanic)
    accented: dict[tuple[str, str], str]  # (kind, PLAIN) -> accented
    nicknames: dict[str, tuple[str, ...]]  # formal lower -> nicknames lower
    abms_certificates: frozenset[tuple[str, str]]
    aoa_certificates: frozenset[tuple[str, str]]
    taxonomy_codes: frozenset[str]
    md_schools: tuple[School, ...]
    do_schools: tuple[School, ...]
    img_schools: dict[str, tuple[School, ...]]  # by country
    cities: tuple[City, ...]
    npidata_header: tuple[str, ...]
    dac_header: tuple[str, ...]
    leie_header_line: str
    leie_sample_lines: tuple[str, ...]


def _read_csv(name: str) -> list[dict[str, str]]:
    with open(DATA_DIR / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _read_census_first(name: str) -> list[tuple[str, float]]:
    """Census 1990 fixed-width list: name, frequency %, cumulative %, rank."""
    rows = []
    for line in (DATA_DIR / name).read_text(encoding="ascii").splitlines():
        parts = line.split()
        if len(parts) == 4:
            rows.append((parts[0], float(parts[1])))
    return rows


def _reference_header(name: str) -> tuple[str, ...]:
    """The column names of a public file's published header (data/reference)."""
    with open(REFERENCE_DIR / name, newline="", encoding="ascii") as fh:
        return tuple(next(csv.reader(fh)))


@lru_cache(maxsize=1)
def load_reference() -> Reference:
    """Read data/demo once per process; fail loudly if the crosswalk drifts from the data."""
    first = {g: _read_census_first(f"dist.{g}.first") for g in ("male", "female")}
    surnames = _read_csv("census_2000_surnames_top5000.csv")
    # The generator's own everyday short forms, not the matcher's nickname table.
    nick: dict[str, list[str]] = {}
    for row in _read_csv("everyday_nicknames.csv"):
        nick.setdefault(row["formal"], []).append(row["nickname"])
    schools = _read_csv("us_canada_medical_schools.csv")
    img: dict[str, list[School]] = {}
    for row in _read_csv("world_medical_schools_2014_img_subset.csv"):
        img.setdefault(row["country_iso"], []).append(
            School(row["name"], row["city"], row["country_iso"], False)
        )
    leie_sample = REFERENCE_DIR / "oig" / "UPDATED_first_rows_sample.csv"
    leie_lines = leie_sample.read_text("utf-8").splitlines()
    ref = Reference(
        first_names={g: WeightedPool.from_pairs(rows) for g, rows in first.items()},
        first_name_freq={g: dict(rows) for g, rows in first.items()},
        surnames=WeightedPool.from_pairs((r["name"], float(r["count"])) for r in surnames),
        surname_mix={r["name"]: (_pct(r["pctapi"]), _pct(r["pcthispanic"])) for r in surnames},
        accented={(r["kind"], r["plain"]): r["accented"] for r in _read_csv("accented_names.csv")},
        nicknames={k: tuple(v) for k, v in nick.items()},
        abms_certificates=frozenset(
            (r["board"], r["certificate_name"])
            for r in _read_csv("abms_board_certificates_2016.csv")
        ),
        aoa_certificates=frozenset(
            (r["aoa_board_area"], r["certificate_name"])
            for r in _read_csv("aoa_board_certificates_partial.csv")
        ),
        taxonomy_codes=frozenset(r["Code"] for r in _read_csv("nucc_taxonomy_251_subset.csv")),
        md_schools=tuple(
            School(r["name"], r["city"], r["country"], False)
            for r in schools
            if "osteopathic" not in r["name"].lower()
        ),
        do_schools=tuple(
            School(r["name"], r["city"], r["country"], True)
            for r in schools
            if "osteopathic" in r["name"].lower()
        ),
        img_schools={k: tuple(v) for k, v in img.items()},
        cities=tuple(
            City(r["city"], r["state"], r["zip"], r["area_code"], r["metro"])
            for r in _read_csv("us_cities.csv")
        ),
        npidata_header=_reference_header("cms/nppes/npidata_pfile_header.csv"),
        dac_header=_reference_header("cms/dac/DAC_NationalDownloadableFile_header_current.csv"),
        leie_header_line=(REFERENCE_DIR / "oig/UPDATED_header.csv").read_text("ascii").strip("\n"),
        leie_sample_lines=tuple(leie_lines[1:]),
    )
    _check_crosswalk(ref)
    return ref


def _pct(text: str) -> float:
    """Census percentages use "(S)" for suppressed small counts."""
    try:
        return float(text)
    except ValueError:
        return 0.0


def _check_crosswalk(ref: Reference) -> None:
    for spec in PRIMARY_SPECIALTIES + SUBSPECIALTIES:
        if (spec.board, spec.name) not in ref.abms_certificates:
            raise ValueError(f"{spec.board} / {spec.name} is not in the ABMS reference list")
        if spec.aoa and spec.aoa not in ref.aoa_certificates:
            raise ValueError(f"{spec.aoa} is not in the AOA reference list")
        if spec.taxonomy not in ref.taxonomy_codes:
            raise ValueError(f"taxonomy {spec.taxonomy} ({spec.name}) is not in NUCC 25.1")


# --------------------------------------------------------------------------------------------
# Small pure helpers
# --------------------------------------------------------------------------------------------


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def slugify(text: str) -> str:
    ascii_text = strip_accents(text).lower()
    words = "".join(c if c.isalnum() else " " for c in ascii_text).split()
    return "-".join(words)


def title_surname(upper: str) -> str:
    """Census surnames are upper case without punctuation: "MCDONALD" -> "McDonald"."""
    if upper in SURNAME_SPELLING:
        return SURNAME_SPELLING[upper]
    if upper.startswith("MC") and len(upper) > 3:
        return "Mc" + upper[2:].capitalize()
    return upper.capitalize()


def introduce_typo(rng: random.Random, name: str) -> str:
    """One transposed or dropped letter, as data entry does; short names are left alone.

    The initial is kept: typists rarely get the first letter wrong.
    """
    letters = [i for i in range(2, len(name)) if name[i].isalpha() and name[i - 1].isalpha()]
    if len(name) < 4 or not letters:
        return name
    i = rng.choice(letters)
    if rng.random() < 0.5 and name[i] != name[i - 1]:
        return name[: i - 1] + name[i] + name[i - 1] + name[i + 1 :]
    return name[:i] + name[i + 1 :]


def random_date(rng: random.Random, start: date, end: date) -> date:
    if end <= start:
        return start
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def fictional_phone(rng: random.Random, area_code: str) -> str:
    """555-01xx numbers are reserved for fiction, so no real line is ever printed."""
    return f"{area_code}5550{rng.randrange(100, 200)}"


def format_phone(digits: str) -> str:
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"


def weighted_choice(rng: random.Random, pairs: Sequence[tuple[T, float]]) -> T:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


# --------------------------------------------------------------------------------------------
# World model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    street: str
    suite: str
    city: str
    state: str
    zip5: str
    zip4: str
    phone: str  # ten digits


@dataclass
class Certificate:
    spec: Specialty  # what the certificate certifies (canonical name and parent)
    board: str  # board name as written in boards.csv
    certificate: str  # certificate name as the board writes it
    certificate_type: str  # specialty | subspecialty
    status: str
    initial: date
    expiration: date | None
    moc: str

    def satisfies(self, claims: frozenset[str]) -> bool:
        """A subspecialty certificate also counts for its parent specialty."""
        return self.spec.name in claims or (self.spec.parent or "") in claims


@dataclass
class Person:
    pid: int
    role: str  # physician | np | pa | researcher
    gender: str
    first: str  # legal first name, proper case, may carry accents
    middle: str  # full middle name or ""
    last: str  # legal last name (NPPES, DAC)
    suffix: str
    other_last: str = ""  # NPPES Provider Other Last Name
    other_last_type: str = ""  # 1 former name, 2 professional name, 5 other
    professional_last: str = ""  # surname used on directory pages
    board_last: str = ""  # surname on the board record
    ethnicity: str = ""  # hispanic | south_asian | east_asian | ""
    degree: str = "MD"
    specialty: Specialty | None = None
    subspecialty: Specialty | None = None
    off_claim: str | None = None  # a specialty claimed without holding its certificate
    grad_year: int = 2000
    school: School | None = None
    region: str = "other"  # boston | san_antonio | other
    home: City | None = None  # where they work now
    practice: Address | None = None  # NPPES practice location (stale after a move)
    mailing: Address | None = None
    has_nppes: bool = True
    npi: str | None = None
    moved: bool = False
    license_states: list[str] = field(default_factory=list)
    certs: list[Certificate] = field(default_factory=list)
    board_npi_blank: bool = False
    sites: list[str] = field(default_factory=list)  # site ids, first one is the main job
    twin_of: int | None = None  # pid of the listed physician whose name was copied

    @property
    def is_physician(self) -> bool:
        return self.role == "physician"

    @property
    def practiced(self) -> Specialty | None:
        """What they do day to day: the subspecialty when there is one."""
        return self.subspecialty or self.specialty


@dataclass
class Listing:
    """A directory entry, who it really is, and the canonical specialties its labels claim."""

    site: SiteSpec
    person: Person
    record: dict
    claims: frozenset[str]


# --------------------------------------------------------------------------------------------
# Population
# --------------------------------------------------------------------------------------------


def draw_ethnicity(rng: random.Random, ref: Reference, surname: str) -> str:
    pct_asian, pct_hispanic = ref.surname_mix.get(surname, (0.0, 0.0))
    roll = rng.random() * 100
    if roll < pct_hispanic:
        return "hispanic"
    if roll < pct_hispanic + pct_asian:
        return "south_asian" if surname in SOUTH_ASIAN_SURNAMES else "east_asian"
    return ""


def draw_first_name(rng: random.Random, ref: Reference, gender: str, ethnicity: str) -> str:
    pools = {
        "hispanic": HISPANIC_FIRST,
        "south_asian": SOUTH_ASIAN_FIRST,
        "east_asian": EAST_ASIAN_FIRST,
    }
    if ethnicity in pools and rng.random() < 0.6:
        return rng.choice(pools[ethnicity][gender])
    return ref.first_names[gender].draw(rng)


def proper_first(rng: random.Random, ref: Reference, upper: str, ethnicity: str) -> str:
    accented = ref.accented.get(("first", upper))
    if accented and ethnicity == "hispanic" and rng.random() < 0.7:
        return accented
    return upper.capitalize()


def proper_surname(rng: random.Random, ref: Reference, upper: str, ethnicity: str) -> str:
    accented = ref.accented.get(("surname", upper))
    if accented and ethnicity == "hispanic" and rng.random() < 0.7:
        return accented
    return title_surname(upper)


def make_person(rng: random.Random, ref: Reference, pid: int, role: str) -> Person:
    """A named individual with gender, ethnicity-consistent names, middle name and suffix."""
    gender = "female" if rng.random() < (0.40 if role == "physician" else 0.7) else "male"
    surname_upper = ref.surnames.draw(rng)
    ethnicity = draw_ethnicity(rng, ref, surname_upper)
    last = proper_surname(rng, ref, surname_upper, ethnicity)
    if ethnicity == "hispanic" and rng.random() < 0.08:  # compound Hispanic surname
        second = ref.surnames.draw(rng)
        last = f"{last}-{proper_surname(rng, ref, second, ethnicity)}"
    first = proper_first(rng, ref, draw_first_name(rng, ref, gender, ethnicity), ethnicity)
    middle = ""
    if rng.random() < 0.75:
        middle = proper_first(rng, ref, ref.first_names[gender].draw(rng), ethnicity)
    suffix = ""
    if gender == "male":
        suffix = weighted_choice(rng, (*GENERATIONAL_SUFFIXES, ("", 0.96)))
    person = Person(pid, role, gender, first, middle, last, suffix, ethnicity=ethnicity)
    person.professional_last = person.board_last = last
    if gender == "female" and rng.random() < 0.25:
        apply_married_name(rng, ref, person)
    return person


def apply_married_name(rng: random.Random, ref: Reference, person: Person) -> None:
    """Married women whose registry name and professional name differ, in the common ways."""
    maiden = person.last
    married = title_surname(ref.surnames.draw(rng))
    case = weighted_choice(
        rng,
        (
            ("legal_maiden", 0.30),
            ("professional_maiden", 0.25),
            ("all_married", 0.35),
            ("hyphenated", 0.10),
        ),
    )
    if case == "legal_maiden":  # NPPES kept the maiden name; pages show the married one
        person.last, person.other_last, person.other_last_type = maiden, married, "5"
        person.professional_last = married
    elif case == "professional_maiden":  # legally married name; practises under maiden name
        person.last, person.other_last, person.other_last_type = married, maiden, "1"
        person.professional_last = maiden
    elif case == "all_married":
        person.last, person.other_last, person.other_last_type = married, maiden, "1"
        person.professional_last = married
    else:
        person.last = person.professional_last = f"{maiden}-{married}"
        person.other_last, person.other_last_type = maiden, "1"
    person.board_last = person.last if rng.random() < 0.7 else person.professional_last


def draw_specialties(rng: random.Random, degree: str) -> tuple[Specialty, Specialty | None]:
    weights = [
        s.weight * (1.6 if degree == "DO" and s.name in (FM, EM, IM) else 1.0)
        for s in PRIMARY_SPECIALTIES
    ]
    primary = rng.choices(PRIMARY_SPECIALTIES, weights=weights)[0]
    roll, acc = rng.random(), 0.0
    for sub in SUBSPECIALTIES_OF[primary.name]:
        acc += sub.weight
        if roll < acc:
            return primary, sub
    return primary, None


IMG_COUNTRIES = (
    ("India", 30),
    ("Pakistan", 8),
    ("Philippines", 6),
    ("Mexico", 6),
    ("Dominica", 6),
    ("Grenada", 6),
    ("Saint Kitts and Nevis", 4),
    ("Nigeria", 4),
    ("Egypt", 4),
    ("China", 5),
    ("Iran", 3),
    ("Poland", 3),
    ("Ireland", 3),
    ("Israel", 2),
    ("Dominican Republic", 4),
    ("South Korea", 3),
    ("Colombia", 3),
)


def draw_training(rng: random.Random, ref: Reference, person: Person) -> None:
    """Degree, medical school and graduation year."""
    roll = rng.random()
    if roll < 0.11:
        person.degree, person.school = "DO", rng.choice(ref.do_schools)
    elif roll < 0.28:  # international medical graduate
        country = weighted_choice(rng, IMG_COUNTRIES)
        person.school = rng.choice(ref.img_schools[country])
        person.degree = "MBBS" if country in ("India", "Pakistan") and rng.random() < 0.4 else "MD"
    else:
        person.degree, person.school = "MD", rng.choice(ref.md_schools)
    person.grad_year = int(rng.triangular(1972, 2022, 2006))


def region_cities(ref: Reference, region: str) -> list[City]:
    if region == "other":
        return [c for c in ref.cities if not c.metro]
    return [c for c in ref.cities if c.metro == region]


def make_address(rng: random.Random, city: City) -> Address:
    suite = f"Suite {rng.randrange(100, 900)}" if rng.random() < 0.4 else ""
    return Address(
        f"{rng.randrange(1, 3000)} {rng.choice(STREETS)}",
        suite,
        city.city,
        city.state,
        city.zip,
        f"{rng.randrange(10000):04d}",
        fictional_phone(rng, city.area_code),
    )


def build_population(rng: random.Random, ref: Reference, n_physicians: int) -> list[Person]:
    """Physicians, then NPs and PAs; each gets a home region, training and an address."""
    people: list[Person] = []
    n_non_physicians = round(0.08 * n_physicians)
    for pid in range(n_physicians + n_non_physicians):
        role = "physician" if pid < n_physicians else rng.choice(("np", "np", "pa"))
        person = make_person(rng, ref, pid, role)
        person.region = weighted_choice(rng, REGION_SHARES)
        person.home = rng.choice(region_cities(ref, person.region))
        if role == "physician":
            draw_training(rng, ref, person)
            person.specialty, person.subspecialty = draw_specialties(rng, person.degree)
            if person.specialty.name in OFF_SPECIALTY_CLAIMS and rng.random() < 0.04:
                person.off_claim = rng.choice(OFF_SPECIALTY_CLAIMS[person.specialty.name])
        else:
            person.degree = "NP" if role == "np" else "PA"
            person.grad_year = rng.randrange(1995, 2024)
            person.specialty = SPECIALTY_BY_NAME[rng.choice(NON_PHYSICIAN_FIELDS)]
        person.practice = make_address(rng, person.home)
        person.license_states = [person.home.state]
        people.append(person)
    return people


def make_researcher(rng: random.Random, ref: Reference, pid: int) -> Person:
    person = make_person(rng, ref, pid, "researcher")
    person.region, person.home = "", None  # not in the clinician population
    person.degree = "PhD"
    person.grad_year = int(rng.triangular(1980, 2020, 2008))
    person.school = rng.choice(ref.md_schools)
    person.has_nppes = False
    return person


# --------------------------------------------------------------------------------------------
# Site membership
# --------------------------------------------------------------------------------------------


@dataclass
class Membership:
    """Who is listed where, decided before any page content is drawn."""

    by_site: dict[str, list[Person]]


def choose_members(
    rng: random.Random, ref: Reference, people: list[Person], n_physicians: int
) -> Membership:
    """Pick each site's listed people from its metro; researchers are created and appended."""
    by_site: dict[str, list[Person]] = {}
    for site in SITES:
        n_listings = round(site.listing_share * n_physicians)
        pool = [p for p in people if p.region == site.metro and not p.sites]
        if site.kind == "medical_school":
            peers = [
                p
                for s in SITES
                if s.kind == "hospital" and s.metro == site.metro
                for p in by_site[s.site_id]
                if p.is_physician
            ]
            members = faculty_members(rng, ref, people, pool, peers, n_listings)
        else:
            members = hospital_members(rng, pool, n_listings)
        for person in members:
            person.sites.append(site.site_id)
        mark_without_nppes(rng, members, site)
        by_site[site.site_id] = members
    plant_namesakes(rng, people)
    return Membership(by_site)


def hospital_members(rng: random.Random, pool: list[Person], n_listings: int) -> list[Person]:
    """Mostly physicians, plus a few NPs and PAs, as hospital directories list them."""
    physicians = [p for p in pool if p.is_physician]
    others = [p for p in pool if not p.is_physician]
    n_other = min(round(NON_PHYSICIAN_LISTING_RATE * n_listings), len(others))
    members = rng.sample(others, n_other)
    return members + rng.sample(physicians, min(n_listings - n_other, len(physicians)))


def faculty_members(
    rng: random.Random,
    ref: Reference,
    people: list[Person],
    pool: list[Person],
    hospital_peers: list[Person],
    n_listings: int,
) -> list[Person]:
    """Clinical faculty (some also on the hospital's directory) and PhD researchers."""
    n_researchers = round(RESEARCHER_SHARE_FACULTY * n_listings)
    n_physicians = n_listings - n_researchers
    n_shared = min(round(FACULTY_ALSO_ON_HOSPITAL * n_physicians), len(hospital_peers))
    physicians = [p for p in pool if p.is_physician]
    members = rng.sample(hospital_peers, n_shared)
    members += rng.sample(physicians, min(n_physicians - n_shared, len(physicians)))
    for _ in range(n_researchers):
        researcher = make_researcher(rng, ref, len(people))
        people.append(researcher)
        members.append(researcher)
    return members


def mark_without_nppes(rng: random.Random, members: list[Person], site: SiteSpec) -> None:
    """A few listed physicians have no NPPES record at all (truth npi empty)."""
    candidates = [p for p in members if p.is_physician and p.sites == [site.site_id]]
    for person in rng.sample(
        candidates, min(round(NO_NPPES_LISTING_RATE * len(members)), len(candidates))
    ):
        person.has_nppes = False


def plant_namesakes(rng: random.Random, people: list[Person]) -> None:
    """Give unlisted physicians in other states the exact name of listed ones."""
    # Only people listed under their legal surname, so the namesake collides on the page too.
    listed = [
        p
        for p in people
        if p.is_physician and p.sites and p.has_nppes and p.professional_last == p.last
    ]
    unlisted = [p for p in people if p.is_physician and not p.sites and p.has_nppes]
    rng.shuffle(unlisted)
    used: set[int] = set()
    for person in rng.sample(listed, min(TWIN_TARGET, len(listed))):
        twin = next(
            (
                u
                for u in unlisted
                if u.pid not in used
                and u.gender == person.gender
                and u.home is not None
                and person.home is not None
                and u.home.state != person.home.state
            ),
            None,
        )
        if twin is None:
            continue
        used.add(twin.pid)
        twin.first, twin.last, twin.suffix = person.first, person.last, ""
        twin.professional_last = twin.board_last = person.last
        twin.other_last = twin.other_last_type = ""
        twin.ethnicity = person.ethnicity
        if rng.random() < 0.4:  # a shared middle name makes the pair harder still
            twin.middle = person.middle
        if rng.random() < 0.5:
            twin.specialty, twin.subspecialty = person.specialty, person.subspecialty
        twin.twin_of = person.pid


# --------------------------------------------------------------------------------------------
# Addresses and identifiers
# --------------------------------------------------------------------------------------------


def site_locations(rng: random.Random, ref: Reference, site: SiteSpec) -> list[dict]:
    """A handful of clinic addresses per site; the first is the main campus."""
    cities = region_cities(ref, site.metro)
    main_city = next(c for c in cities if c.city == site.city)
    names = [
        f"{site.name} - Main Campus",
        f"{site.short} Heart & Vascular Center",
        f"{site.short} Women's Health",
        f"{site.short} Cancer Center",
        f"{site.short} Children's Clinic",
    ]
    locations = []
    for i, name in enumerate(names):
        city = main_city if i < 2 else rng.choice(cities)
        address = make_address(rng, city)
        locations.append({"name": name, "address": address})
    for city in rng.sample(cities, min(3, len(cities))):
        locations.append(
            {"name": f"{site.short} Primary Care - {city.city}", "address": make_address(rng, city)}
        )
    return locations


def settle_practice_addresses(
    rng: random.Random, ref: Reference, membership: Membership, locations: dict[str, list[dict]]
) -> dict[int, list[dict]]:
    """NPPES practice address = the listed clinic, except for the ~10% who moved."""
    person_locations: dict[int, list[dict]] = {}
    for site in SITES:
        for person in membership.by_site[site.site_id]:
            if person.pid in person_locations:
                continue
            if person.role == "researcher":  # labs are on the main campus
                person_locations[person.pid] = [locations[site.site_id][0]]
                continue
            chosen = [locations[site.site_id][0]] if rng.random() < 0.3 else []
            chosen.append(rng.choice(locations[site.site_id][1:]))
            person_locations[person.pid] = chosen
            address: Address = chosen[-1]["address"]
            person.home = next(
                c for c in ref.cities if c.city == address.city and c.state == address.state
            )
            person.practice = address
            person.license_states = [address.state]
            if person.is_physician and rng.random() < MOVED_RATE:
                move_away(rng, ref, person)
    return person_locations


def move_away(rng: random.Random, ref: Reference, person: Person) -> None:
    """NPPES still shows the previous practice: same state or, half the time, another one."""
    assert person.home is not None
    same_state = [
        c
        for c in ref.cities
        if c.state == person.home.state and c.city != person.home.city and not c.metro
    ]
    others = [c for c in ref.cities if c.state != person.home.state]
    old = rng.choice(same_state) if same_state and rng.random() < 0.5 else rng.choice(others)
    person.moved = True
    current_state = person.home.state
    person.practice = make_address(rng, old)
    person.license_states = [old.state]
    if old.state != current_state and rng.random() < 0.5:
        person.license_states.append(current_state)


def assign_npis(rng: random.Random, people: list[Person], n_orgs: int) -> list[str]:
    """Unique Luhn-valid NPIs for everyone with an NPPES record, plus the organizations."""
    seen: set[str] = set()

    def fresh() -> str:
        while True:
            base = f"{rng.choice('12')}{rng.randrange(10**8):08d}"
            npi = base + str(npi_check_digit(base))
            if npi not in seen:
                seen.add(npi)
                return npi

    for person in people:
        if person.has_nppes and person.role != "researcher":
            person.npi = fresh()
    return [fresh() for _ in range(n_orgs)]


def assign_mailing_addresses(rng: random.Random, people: list[Person]) -> None:
    """Mail goes to the practice, except for some who bill from a post-office box."""
    for person in people:
        person.mailing = person.practice
        if person.practice and rng.random() < 0.15:
            box = f"PO Box {rng.randrange(100, 9999)}"
            person.mailing = Address(
                box,
                "",
                person.practice.city,
                person.practice.state,
                person.practice.zip5,
                "",
                person.practice.phone,
            )


# --------------------------------------------------------------------------------------------
# Board certificates
# --------------------------------------------------------------------------------------------

STATUS_WEIGHTS = (
    ("active", 0.85),
    ("expired", 0.07),
    ("lapsed", 0.04),
    ("inactive", 0.02),
    ("suspended", 0.01),
    ("revoked", 0.01),
)
NO_BOARD_RECORD_RATE = 0.10


def certificate_dates(rng: random.Random, status: str, initial: date) -> tuple[date | None, str]:
    """Expiration date and MOC flag consistent with the status as of AS_OF."""
    if status == "active":
        if initial.year < 1990:  # time-unlimited certificates from before recertification
            return None, "not_required"
        if rng.random() < 0.3:  # continuous certification: no printed end date
            return None, "yes"
        expiration = initial
        while expiration <= AS_OF:
            expiration = add_years(expiration, 10)
        return expiration, "yes" if rng.random() < 0.9 else ""
    if status in ("expired", "lapsed"):
        start = max(add_years(initial, 1), AS_OF - timedelta(days=8 * 365))
        return random_date(rng, start, AS_OF - timedelta(days=1)), "no"
    if status == "inactive":
        if rng.random() < 0.5:
            return None, ""
        return random_date(rng, add_years(initial, 1), AS_OF - timedelta(days=1)), "no"
    # suspended / revoked: the printed end date is whatever it was
    return (add_years(initial, 10) if rng.random() < 0.5 else None), ""


def make_certificate(
    rng: random.Random, person: Person, spec: Specialty, initial: date, status: str, use_aoa: bool
) -> Certificate:
    if use_aoa and spec.aoa:
        board, certificate = AOA_BOARD_NAMES[spec.aoa[0]], spec.aoa[1]
    else:
        board, certificate = spec.board, spec.name
    expiration, moc = certificate_dates(rng, status, initial)
    kind = "subspecialty" if spec.parent else "specialty"
    return Certificate(spec, board, certificate, kind, status, initial, expiration, moc)


def assign_certificates(rng: random.Random, person: Person) -> list[Certificate]:
    """Primary certificate, often a subspecialty one; ~10% of physicians hold none."""
    assert person.specialty is not None
    if rng.random() < NO_BOARD_RECORD_RATE:
        return []
    spec = person.specialty
    year = person.grad_year + spec.training_years + rng.choice((0, 0, 1))
    initial = date(year, rng.randrange(6, 12), rng.randrange(1, 29))
    if initial > AS_OF - timedelta(days=30):  # board eligible, not yet certified
        return []
    use_aoa = person.degree == "DO" and spec.aoa is not None and rng.random() < 0.5
    primary = make_certificate(
        rng, person, spec, initial, weighted_choice(rng, STATUS_WEIGHTS), use_aoa
    )
    certs = [primary]
    sub = person.subspecialty
    if sub and rng.random() < 0.8 and (not use_aoa or sub.aoa):
        sub_initial = add_years(initial, rng.choice((2, 3, 3)))
        if sub_initial < AS_OF:
            sub_cert = make_certificate(
                rng, person, sub, sub_initial, weighted_choice(rng, STATUS_WEIGHTS), use_aoa
            )
            certs.append(sub_cert)
            # Many subspecialists let the parent certificate lapse and keep only the sub.
            if sub_cert.status == "active" and primary.status == "active" and rng.random() < 0.3:
                primary.status = "expired"
                primary.expiration, primary.moc = certificate_dates(rng, "expired", initial)
    return certs


def expected_certification(person: Person, claims: frozenset[str]) -> str:
    """The verdict a perfect pipeline reaches for one listing (the rules of truth.csv)."""
    if not person.is_physician or not person.has_nppes:
        return "unknown"
    active = [c for c in person.certs if c.status == "active"]
    if any(c.satisfies(claims) for c in active):
        return "certified"
    if active:
        return "certified_other_specialty"
    if any(c.status in LAPSED_STATUSES and c.satisfies(claims) for c in person.certs):
        return "lapsed"
    return "not_certified"


# --------------------------------------------------------------------------------------------
# Listings
# --------------------------------------------------------------------------------------------


def pick_nickname(rng: random.Random, ref: Reference, first: str, gender: str) -> str | None:
    """An everyday short form ("Bob" for Robert, "Liz" for Elizabeth, "Kit" for Katherine).

    Drawn from data/demo/everyday_nicknames.csv, written for the generator: the matcher's
    nickname table does not know every form in it, as it will not know every real one.
    """
    formal = strip_accents(first).lower()
    freq = ref.first_name_freq[gender]
    options = [n for n in ref.nicknames.get(formal, ()) if len(n) < len(formal)]
    if not options:
        return None
    weights = [0.01 + freq.get(n.upper(), 0.0) for n in options]
    return rng.choices(options, weights=weights)[0].capitalize()


def middle_as_shown(rng: random.Random, middle: str) -> str | None:
    if not middle:
        return None
    return weighted_choice(rng, ((middle, 0.3), (f"{middle[0]}.", 0.45), ("", 0.25))) or None


def surname_as_shown(rng: random.Random, person: Person, site: SiteSpec) -> str:
    name = person.professional_last
    if "-" in name and rng.random() < 0.3:  # compound names get cut or spaced
        name = name.split("-")[0] if rng.random() < 0.6 else name.replace("-", " ")
    if rng.random() >= site.accent_keep_rate:
        name = strip_accents(name)
    if rng.random() < 0.03:
        name = introduce_typo(rng, name)
    return name


def physician_degrees(rng: random.Random, person: Person, site: SiteSpec) -> list[str]:
    degrees = [person.degree]
    if site.kind == "medical_school" and rng.random() < 0.2:
        degrees.append("PhD")
    if rng.random() < 0.05:
        degrees.append("MPH")
    practiced = person.practiced
    honor = practiced.honor if practiced else None
    if honor and rng.random() < 0.3:
        degrees.append(honor)
    return degrees


def display_name(
    prefix: str | None,
    given: str,
    middle: str | None,
    family: str,
    suffix: str,
    degrees: list[str],
    inverted: bool,
    show_degrees: bool,
) -> str:
    """How the name reads at the top of the profile ("Dr. Jane Q. Doe, MD, FACC")."""
    letters = ", ".join(degrees) if show_degrees else ""
    if inverted:
        first_part = " ".join(x for x in (given, middle) if x)
        text = f"{family}{' ' + suffix if suffix else ''}, {first_part}"
        return f"{text}, {letters}" if letters else text
    words = [w for w in (prefix, given, middle, family, suffix) if w]
    text = " ".join(words)
    return f"{text}, {letters}" if letters else text


def listing_specialties(rng: random.Random, person: Person) -> list[tuple[str, str]]:
    """(label, canonical name) pairs the page lists."""

    def label_of(spec: Specialty) -> tuple[str, str]:
        return rng.choice(spec.labels), spec.name

    if person.role in ("np", "pa"):
        return [label_of(person.specialty)] if person.specialty else []
    if person.role == "researcher":
        return []
    assert person.specialty is not None
    if person.off_claim:
        return [label_of(SPECIALTY_BY_NAME[person.off_claim])]
    if person.subspecialty:
        shown = [label_of(person.subspecialty)]
        if rng.random() < 0.4:
            shown.append(label_of(person.specialty))
        return shown
    return [label_of(person.specialty)]


def claimed_certifications(rng: random.Random, person: Person) -> list[dict]:
    """Pages often print the boards, sometimes stale ones, never invented ones."""
    if not person.certs or rng.random() < 0.35:
        return []
    shown = [c for c in person.certs if c.status not in ("revoked", "suspended")]
    return [
        {"board": c.board if rng.random() < 0.9 else None, "certificate": c.certificate}
        for c in shown
    ]


def education_entries(rng: random.Random, ref: Reference, person: Person) -> list[dict]:
    if person.school is None or rng.random() < 0.2:
        return []
    if person.role == "researcher":
        return [{"type": "other", "name": person.school.name, "year": person.grad_year}]
    entries = [{"type": "medical_school", "name": person.school.name, "year": person.grad_year}]
    if person.is_physician and person.specialty:
        program = rng.choice(ref.md_schools).name
        end = person.grad_year + person.specialty.training_years
        entries.append(
            {"type": "residency", "name": f"{program} ({person.specialty.name})", "year": end}
        )
        if person.subspecialty:
            fellowship = rng.choice(ref.md_schools).name
            entries.append(
                {
                    "type": "fellowship",
                    "name": f"{fellowship} ({person.subspecialty.name})",
                    "year": end + 2,
                }
            )
    return entries


def languages_for(rng: random.Random, person: Person, site: SiteSpec) -> list[str]:
    languages = ["English"]
    speaks_spanish = person.ethnicity == "hispanic" and rng.random() < 0.7
    if speaks_spanish or (site.state == "TX" and rng.random() < 0.12):
        languages.append("Spanish")
    surname = strip_accents(person.last).upper()
    if surname in LANGUAGE_BY_SURNAME and rng.random() < 0.4:
        languages.append(LANGUAGE_BY_SURNAME[surname])
    return languages


def location_record(location: dict) -> dict:
    address: Address = location["address"]
    street = f"{address.street}, {address.suite}" if address.suite else address.street
    return {
        "name": location["name"],
        "street": street,
        "city": address.city,
        "state": address.state,
        "zip": address.zip5,
        "phone": format_phone(address.phone),
    }


def faculty_title(rng: random.Random, person: Person) -> tuple[str, str]:
    rank = weighted_choice(rng, ACADEMIC_RANKS)
    if person.role == "researcher":
        department = rng.choice(RESEARCH_DEPARTMENTS)
        if rng.random() < 0.15:  # PhDs in clinical departments read like clinicians
            department = rng.choice(("Medicine", "Pediatrics", "Psychiatry"))
        return f"{rank} of {department}", f"Department of {department}"
    spec = person.practiced
    assert spec is not None
    department = spec.department
    title = f"{rank} of {department}"
    if person.subspecialty:
        title += f" ({person.subspecialty.labels[0]})"
    return title, f"Department of {department}"


def build_listing(
    rng: random.Random,
    ref: Reference,
    site: SiteSpec,
    person: Person,
    listing_id: str,
    locations: list[dict],
    show_npi: bool,
) -> tuple[dict, frozenset[str]]:
    """One directory entry in the site content model of docs/design.md section 2."""
    physician = person.is_physician
    given = person.first
    if rng.random() >= site.accent_keep_rate:
        given = strip_accents(given)
    if physician and rng.random() < 0.10:
        given = pick_nickname(rng, ref, person.first, person.gender) or given
    middle = middle_as_shown(rng, person.middle)
    family = surname_as_shown(rng, person, site)
    if physician:
        degrees = physician_degrees(rng, person, site)
    elif person.role == "researcher":
        degrees = ["PhD"] + (["MPH"] if rng.random() < 0.1 else [])
    else:
        degrees = list(rng.choice(NON_PHYSICIAN_DEGREES[person.role]))
    doctor = physician or person.role == "researcher"  # PhDs are "Dr." too
    prefix = "Dr." if doctor and rng.random() < site.dr_prefix_rate else None
    inverted = rng.random() < site.inverted_name_rate
    show_degrees = prefix is None or rng.random() < 0.5
    specialties = listing_specialties(rng, person)
    title = department = None
    if site.kind == "medical_school":
        title, department = faculty_title(rng, person)
    npi = person.npi if show_npi else None
    record = {
        "id": listing_id,
        "path": "",
        "display_name": display_name(
            prefix, given, middle, family, person.suffix, degrees, inverted, show_degrees
        ),
        "prefix": prefix,
        "given_name": given,
        "additional_name": middle,
        "family_name": family,
        "degrees": degrees,
        "specialties": [label for label, _ in specialties],
        "board_certifications": claimed_certifications(rng, person) if physician else [],
        "npi": npi,
        "gender": person.gender if rng.random() < 0.8 else None,
        "languages": languages_for(rng, person, site) if person.role != "researcher" else [],
        "accepting_new_patients": (rng.random() < 0.7) if person.role != "researcher" else None,
        "education": education_entries(rng, ref, person),
        "locations": [location_record(loc) for loc in locations],
        "affiliations": [site.name],
        "title": title,
        "department": department,
        "is_physician": physician,
    }
    return record, frozenset(canonical for _, canonical in specialties)


def build_site_listings(
    rng: random.Random,
    ref: Reference,
    site: SiteSpec,
    members: list[Person],
    person_locations: dict[int, list[dict]],
    site_locs: list[dict],
) -> list[Listing]:
    ids = rng.sample(range(10000, 99999), len(members))
    with_npi = [p.pid for p in members if p.npi]
    npi_shown = set(
        rng.sample(with_npi, min(round(site.npi_shown_rate * len(members)), len(with_npi)))
    )
    used_slugs: dict[str, int] = {}
    listings = []
    for person, numeric_id in zip(members, ids):
        locations = person_locations[person.pid]
        if site.site_id not in person.sites[:1]:  # second site: its own clinics
            locations = [rng.choice(site_locs)]
        record, claims = build_listing(
            rng, ref, site, person, str(numeric_id), locations, person.pid in npi_shown
        )
        slug = slugify(
            " ".join(
                x
                for x in (record["given_name"], record["additional_name"], record["family_name"])
                if x
            )
        )
        if site.shape == "faculty_directory":
            used_slugs[slug] = used_slugs.get(slug, 0) + 1
            if used_slugs[slug] > 1:
                slug = f"{slug}-{used_slugs[slug]}"
            record["id"] = slug
        record["path"] = SITE_PATH_PATTERNS[site.shape].format(slug=slug, id=record["id"])
        listings.append(Listing(site, person, record, claims))
    listings.sort(
        key=lambda x: (
            slugify(x.record["family_name"]),
            slugify(x.record["given_name"]),
            x.record["id"],
        )
    )
    return listings


# --------------------------------------------------------------------------------------------
# Reference extracts
# --------------------------------------------------------------------------------------------


def board_name_parts(rng: random.Random, person: Person) -> tuple[str, str]:
    first = person.first if rng.random() < 0.6 else strip_accents(person.first)
    middle = ""
    if person.middle:
        middle = weighted_choice(rng, ((person.middle, 0.5), (person.middle[:1], 0.3), ("", 0.2)))
    return first, middle


def board_rows(rng: random.Random, people: list[Person]) -> list[list[str]]:
    rows = []
    for person in people:
        if not person.certs:
            continue
        first, middle = board_name_parts(rng, person)
        last = person.board_last if rng.random() < 0.6 else strip_accents(person.board_last)
        # Board records follow the physician to the new address only half the time.
        location = person.home if person.moved and rng.random() < 0.5 else person.practice
        assert location is not None
        npi = "" if person.board_npi_blank else (person.npi or "")
        for cert in person.certs:
            rows.append(
                [
                    npi,
                    first,
                    middle,
                    last,
                    person.suffix,
                    cert.board,
                    cert.certificate,
                    cert.certificate_type,
                    cert.status,
                    cert.initial.isoformat(),
                    cert.expiration.isoformat() if cert.expiration else "",
                    cert.moc,
                    location.city,
                    location.state,
                ]
            )
    rows.sort(
        key=lambda r: (strip_accents(r[3]).lower(), strip_accents(r[1]).lower(), r[0], r[5], r[6])
    )
    return rows


MALFORMED_KINDS = ("bad_date", "unknown_status", "empty_last_name", "bad_date_format")


def malformed_row(rng: random.Random, template: list[str], kind: str) -> list[str]:
    row = list(template)
    if kind == "bad_date":
        row[9] = f"{row[9][:4]}-02-30"
    elif kind == "bad_date_format":
        y, m, d = row[9].split("-")
        row[9] = f"{m}/{d}/{y}"
    elif kind == "unknown_status":
        row[8] = rng.choice(("pending", "Certified*", "meeting MOC requirements"))
    else:
        row[3] = ""
    return row


def insert_malformed_rows(
    rng: random.Random, rows: list[list[str]], people: list[Person]
) -> tuple[list[list[str]], list[dict]]:
    """Extra broken rows for unlisted physicians, so the loader's reject path is exercised.

    Each copies a valid certificate of someone nobody lists, so rejecting it leaves the truth
    unchanged.  Returns the rows and, per broken row, its file line (header = line 1).
    """
    unlisted_npis = {p.npi for p in people if p.is_physician and not p.sites and p.npi}
    candidates = [r for r in rows if r[0] in unlisted_npis]
    count = min(max(4, round(0.004 * len(rows))), len(candidates))
    out = list(rows)
    kinds: dict[int, str] = {}
    for i, template in enumerate(rng.sample(candidates, count)):
        kind = MALFORMED_KINDS[i % len(MALFORMED_KINDS)]
        broken = malformed_row(rng, template, kind)
        kinds[id(broken)] = kind
        out.insert(rng.randrange(len(out) + 1), broken)
    malformed = [
        {"line": index + 2, "npi": row[0], "problem": kinds[id(row)]}
        for index, row in enumerate(out)
        if id(row) in kinds
    ]
    return out, malformed


NPPES_CREDENTIALS = {
    "MD": (("M.D.", 0.45), ("MD", 0.3), ("M.D", 0.1), ("MD, PHD", 0.03), ("", 0.12)),
    "DO": (("D.O.", 0.6), ("DO", 0.3), ("", 0.1)),
    "MBBS": (("MBBS", 0.4), ("M.B.B.S.", 0.2), ("MD", 0.3), ("", 0.1)),
    "NP": (("NP", 0.3), ("APRN", 0.25), ("FNP-C", 0.2), ("CRNP", 0.15), ("", 0.1)),
    "PA": (("PA-C", 0.7), ("PA", 0.2), ("", 0.1)),
}


class LayoutRow:
    """One row of a fixed, wide layout, filled by column name; unnamed columns stay empty."""

    def __init__(self, column: dict[str, int]) -> None:
        self.column = column
        self.values = [""] * len(column)

    def put(self, name: str, value: str) -> None:
        self.values[self.column[name]] = value


def nppes_date(d: date) -> str:
    return d.strftime("%m/%d/%Y")


def taxonomy_slots(rng: random.Random, person: Person) -> list[tuple[str, str]]:
    """(taxonomy code, primary switch) in slot order; slot 1 is not always the primary."""
    if person.role == "np":
        return [(rng.choice(NP_TAXONOMIES)[0], "Y")]
    if person.role == "pa":
        return [(PA_TAXONOMY, "Y")]
    assert person.specialty is not None
    if person.subspecialty:
        slots = [(person.subspecialty.taxonomy, "Y"), (person.specialty.taxonomy, "N")]
        return slots[::-1] if rng.random() < 0.3 else slots
    return [(person.specialty.taxonomy, "Y")]


def license_number(rng: random.Random, state: str, role: str) -> str:
    prefix = {"physician": "", "np": "RN", "pa": "PA"}[role]
    letters = rng.choice(("", "", "", "MD", "A", "G")) if role == "physician" else prefix
    return f"{letters}{rng.randrange(10000, 300000)}"


def nppes_individual(rng: random.Random, person: Person, column: dict[str, int]) -> list[str]:
    row = LayoutRow(column)
    put = row.put
    assert person.practice is not None and person.npi is not None
    enumerated = random_date(rng, date(2005, 5, 23), AS_OF - timedelta(days=60))
    # Most NPPES names are upper case; newer records keep the case as typed.
    case = str.upper if rng.random() < 0.75 else str
    put("NPI", person.npi)
    put("Entity Type Code", "1")
    put("Provider Last Name (Legal Name)", case(person.last))
    put("Provider First Name", case(person.first))
    middle = person.middle if rng.random() < 0.6 else person.middle[:1]
    put("Provider Middle Name", case(middle))
    put(
        "Provider Name Prefix Text",
        rng.choice(("", "", "", "DR.", "Dr.")) if person.is_physician else "",
    )
    put("Provider Name Suffix Text", person.suffix.upper())
    put("Provider Credential Text", weighted_choice(rng, NPPES_CREDENTIALS[person.degree]))
    if person.other_last:
        put("Provider Other Last Name", case(person.other_last))
        put("Provider Other First Name", case(person.first))
        put("Provider Other Last Name Type Code", person.other_last_type)
    mailing = person.mailing or person.practice
    for prefix, address in (("Mailing", mailing), ("Practice Location", person.practice)):
        put(f"Provider First Line Business {prefix} Address", address.street.upper())
        put(f"Provider Second Line Business {prefix} Address", address.suite.upper())
        put(f"Provider Business {prefix} Address City Name", address.city.upper())
        put(f"Provider Business {prefix} Address State Name", address.state)
        put(
            f"Provider Business {prefix} Address Postal Code",
            address.zip5 + (address.zip4 if rng.random() < 0.7 else ""),
        )
        put(f"Provider Business {prefix} Address Country Code (If outside U.S.)", "US")
        put(f"Provider Business {prefix} Address Telephone Number", address.phone)
    put("Provider Enumeration Date", nppes_date(enumerated))
    put("Last Update Date", nppes_date(random_date(rng, enumerated, AS_OF)))
    put("Provider Sex Code", "F" if person.gender == "female" else "M")
    slots = taxonomy_slots(rng, person)
    for i, (code, switch) in enumerate(slots, start=1):
        state = person.license_states[min(i - 1, len(person.license_states) - 1)]
        put(f"Healthcare Provider Taxonomy Code_{i}", code)
        put(f"Provider License Number_{i}", license_number(rng, state, person.role))
        put(f"Provider License Number State Code_{i}", state)
        put(f"Healthcare Provider Primary Taxonomy Switch_{i}", switch)
    if len(person.license_states) > len(slots):  # a second state's licence, same taxonomy
        i = len(slots) + 1
        put(f"Healthcare Provider Taxonomy Code_{i}", slots[0][0])
        put(
            f"Provider License Number_{i}",
            license_number(rng, person.license_states[-1], person.role),
        )
        put(f"Provider License Number State Code_{i}", person.license_states[-1])
        put(f"Healthcare Provider Primary Taxonomy Switch_{i}", "N")
    put("Is Sole Proprietor", weighted_choice(rng, (("N", 0.8), ("Y", 0.12), ("X", 0.08))))
    put("Certification Date", nppes_date(random_date(rng, enumerated, AS_OF)))
    return row.values


def organization_specs(ref: Reference) -> list[tuple[str, str, City]]:
    """The hospitals behind the sites plus some group practices."""
    orgs = []
    for site in SITES:  # same order as SITES, so orgs[i] belongs to SITES[i]
        city = next(c for c in ref.cities if c.city == site.city and c.state == site.state)
        taxonomy = HOSPITAL_TAXONOMY if site.kind == "hospital" else GROUP_TAXONOMY
        name = site.name if site.kind == "hospital" else f"{site.short} University Physicians"
        orgs.append((name.upper(), taxonomy, city))
    groups = (
        "ASSOCIATED PHYSICIANS OF {c}",
        "{c} FAMILY MEDICINE GROUP PC",
        "{c} HEART ASSOCIATES LLC",
        "{c} ORTHOPAEDIC CENTER PA",
    )
    others = [c for c in ref.cities if not c.metro]
    for i, pattern in enumerate(groups * 2):
        city = others[(i * 7) % len(others)]
        orgs.append((pattern.format(c=city.city.upper()), GROUP_TAXONOMY, city))
    return orgs


def nppes_organization(
    rng: random.Random,
    ref: Reference,
    npi: str,
    name: str,
    taxonomy: str,
    city: City,
    column: dict[str, int],
) -> list[str]:
    row = LayoutRow(column)
    put = row.put

    address = make_address(rng, city)
    enumerated = random_date(rng, date(2005, 5, 23), date(2015, 1, 1))
    put("NPI", npi)
    put("Entity Type Code", "2")
    put("Provider Organization Name (Legal Business Name)", name)
    for prefix in ("Mailing", "Practice Location"):
        put(f"Provider First Line Business {prefix} Address", address.street.upper())
        put(f"Provider Business {prefix} Address City Name", address.city.upper())
        put(f"Provider Business {prefix} Address State Name", address.state)
        put(f"Provider Business {prefix} Address Postal Code", address.zip5 + address.zip4)
        put(f"Provider Business {prefix} Address Country Code (If outside U.S.)", "US")
        put(f"Provider Business {prefix} Address Telephone Number", address.phone)
    put("Provider Enumeration Date", nppes_date(enumerated))
    put("Last Update Date", nppes_date(random_date(rng, enumerated, AS_OF)))
    official = make_person(rng, ref, -1, "np")
    put("Authorized Official Last Name", official.last.upper())
    put("Authorized Official First Name", official.first.upper())
    put(
        "Authorized Official Title or Position",
        rng.choice(("CEO", "CFO", "PRESIDENT", "DIRECTOR OF CREDENTIALING")),
    )
    put("Authorized Official Telephone Number", address.phone)
    put("Healthcare Provider Taxonomy Code_1", taxonomy)
    put("Healthcare Provider Primary Taxonomy Switch_1", "Y")
    put("Is Organization Subpart", "N")
    put("Certification Date", nppes_date(random_date(rng, enumerated, AS_OF)))
    return row.values


GROUP_PATTERNS = (
    "{city} MEDICAL GROUP",
    "{city} PHYSICIANS PC",
    "ASSOCIATED SPECIALISTS OF {city}",
    "{city} HEALTH PARTNERS LLC",
)


def facility_for(
    rng: random.Random, person: Person, site_orgs: dict[str, str], address: Address
) -> str:
    """Site staff bill through the site's organization; others through a local group."""
    if person.sites:
        return site_orgs[person.sites[0]]
    return rng.choice(GROUP_PATTERNS).format(city=address.city.upper())


def dac_rows(
    rng: random.Random, people: list[Person], header: Sequence[str], site_orgs: dict[str, str]
) -> list[list[str]]:
    """About 70% of clinicians; one row per clinician x address, some with two addresses."""
    column = {name: i for i, name in enumerate(header)}
    org_ids: dict[str, tuple[str, str]] = {}  # facility -> (org_pac_id, num_org_mem)
    rows = []
    for person in people:
        if person.npi is None or person.role == "researcher" or rng.random() >= 0.7:
            continue
        assert person.practice is not None and person.home is not None
        # CMS enrolment is current: a moved physician shows the new city here.
        current = make_address(rng, person.home) if person.moved else person.practice
        addresses = [current]
        if rng.random() < 0.2:
            addresses.append(make_address(rng, person.home))
        pac_id = f"{rng.randrange(10**9, 10**10)}"
        enrollment = f"I{rng.randrange(2004, 2026)}{rng.randrange(10**10):010d}"
        for address in addresses:
            row = LayoutRow(column)
            put = row.put
            put("NPI", person.npi)
            put("Ind_PAC_ID", pac_id)
            put("Ind_enrl_ID", enrollment)
            put("Provider Last Name", strip_accents(person.last).upper())
            put("Provider First Name", strip_accents(person.first).upper())
            put("Provider Middle Name", strip_accents(person.middle).upper())
            put("suff", person.suffix.upper().rstrip("."))
            put("gndr", "F" if person.gender == "female" else "M")
            fill_dac_specialty(rng, person, row)
            put("Telehlth", "Y" if rng.random() < 0.3 else "")
            org = facility_for(rng, person, site_orgs, address)
            if org not in org_ids:
                org_ids[org] = (f"{rng.randrange(10**9, 10**10)}", str(rng.randrange(2, 1500)))
            put("Facility Name", org)
            put("org_pac_id", org_ids[org][0])
            put("num_org_mem", org_ids[org][1])
            put("adr_ln_1", address.street.upper())
            put("adr_ln_2", address.suite.upper())
            put("ln_2_sprs", "")
            put("City/Town", address.city.upper())
            put("State", address.state)
            put("ZIP Code", address.zip5 + address.zip4)
            put("Telephone Number", address.phone)
            put("ind_assgn", "Y" if rng.random() < 0.9 else "M")
            put("grp_assgn", "Y" if rng.random() < 0.9 else "M")
            put(
                "adrs_id",
                f"{address.state}{address.zip5}{address.zip4}"
                f"{slugify(address.street)[:2].upper()}{rng.randrange(1000, 9999)}",
            )
            rows.append(row.values)
    return rows


def fill_dac_specialty(rng: random.Random, person: Person, row: LayoutRow) -> None:
    put = row.put
    if person.role == "np":
        put("Cred", "NP")
        put("pri_spec", "NURSE PRACTITIONER")
        return
    if person.role == "pa":
        put("Cred", "PA")
        put("pri_spec", "PHYSICIAN ASSISTANT")
        return
    assert person.specialty is not None and person.school is not None
    put("Cred", {"MBBS": "MD"}.get(person.degree, person.degree) if rng.random() < 0.85 else "")
    put("Med_sch", person.school.name.upper() if rng.random() < 0.85 else "OTHER")
    put("Grd_yr", str(person.grad_year))
    practiced = person.practiced
    assert practiced is not None
    put("pri_spec", practiced.cms)
    secondary = (
        [person.specialty.cms]
        if person.subspecialty and person.specialty.cms != practiced.cms and rng.random() < 0.5
        else []
    )
    for i, name in enumerate(secondary, start=1):
        put(f"sec_spec_{i}", name)
    put("sec_spec_all", "|".join(secondary))


def quote_all(rows: Iterable[Sequence[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for row in rows:
        # NPPES replaces embedded double quotes with single quotes.
        writer.writerow([value.replace('"', "'") for value in row])
    return buffer.getvalue()


def minimal_csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def leie_date(d: date | None) -> str:
    return d.strftime("%Y%m%d") if d else "00000000"


def choose_excluded(rng: random.Random, people: list[Person]) -> list[Person]:
    """World physicians on the LEIE: most listed somewhere, the rest not."""
    listed = [p for p in people if p.is_physician and p.npi and p.sites and p.twin_of is None]
    unlisted = [p for p in people if p.is_physician and p.npi and not p.sites]
    n_listed = min(6, len(listed))
    chosen = rng.sample(listed, n_listed) + rng.sample(
        unlisted, min(LEIE_WORLD_PHYSICIANS - n_listed, len(unlisted))
    )
    return chosen


def leie_rows(
    rng: random.Random, ref: Reference, excluded: list[Person], people: list[Person]
) -> tuple[list[list[str]], list[dict]]:
    rows: list[list[str]] = []
    notes: list[dict] = []
    for i, person in enumerate(excluded):
        assert person.practice is not None and person.specialty is not None
        kind = rng.choice(LEIE_EXCLUSION_TYPES)
        if kind == "1128b4":  # licence revocation: the boards revoke too
            for cert in person.certs:
                cert.status, cert.moc = "revoked", ""
        show_npi = i % 2 == 0
        excluded_on = random_date(rng, date(2019, 1, 1), AS_OF - timedelta(days=30))
        reinstated = random_date(rng, excluded_on, AS_OF) if i == 1 else None
        general, specialty = rng.choice(
            (
                ("IND- LIC HC SERV PRO", "PHYSICIAN (MD, DO)"),
                ("MEDICAL PRACTICE, MD", person.specialty.cms),
            )
        )
        rows.append(
            leie_person_row(
                rng,
                person,
                general,
                specialty,
                person.npi if show_npi else None,
                kind,
                excluded_on,
                reinstated,
            )
        )
        notes.append(
            {
                "npi": person.npi,
                "listed": bool(person.sites),
                "npi_in_leie": show_npi,
                "excltype": kind,
                "reinstated": reinstated is not None,
            }
        )
    listed_names = [p for p in people if p.is_physician and p.sites]
    for i in range(LEIE_OTHER_INDIVIDUALS):
        stranger = make_person(rng, ref, -1, rng.choice(("np", "pa")))
        stranger.home = rng.choice(ref.cities)
        stranger.practice = make_address(rng, stranger.home)
        if i < 3 and listed_names:  # namesake of a listed physician, elsewhere: not them
            namesake = rng.choice(listed_names)
            stranger.first, stranger.last = namesake.first, namesake.last
            others = [c for c in ref.cities if namesake.home and c.state != namesake.home.state]
            stranger.home = rng.choice(others)
            stranger.practice = make_address(rng, stranger.home)
        general, specialty = rng.choice(
            (
                ("NURSING PROFESSION", "NURSE/NURSES AIDE"),
                ("IND- LIC HC SERV PRO", "PHARMACIST"),
                ("IND- LIC HC SERV PRO", "CHIROPRACTIC"),
                ("IND- LIC HC SERV PRO", "PHYSICIAN ASSISTANT"),
            )
        )
        excluded_on = random_date(rng, date(2001, 1, 1), AS_OF - timedelta(days=30))
        reinstated = random_date(rng, excluded_on, AS_OF) if i == 5 else None
        rows.append(
            leie_person_row(
                rng,
                stranger,
                general,
                specialty,
                None,
                rng.choice(LEIE_EXCLUSION_TYPES),
                excluded_on,
                reinstated,
            )
        )
    return rows, notes


def leie_person_row(
    rng: random.Random,
    person: Person,
    general: str,
    specialty: str,
    npi: str | None,
    kind: str,
    excluded_on: date,
    reinstated: date | None,
) -> list[str]:
    assert person.practice is not None
    born = date(
        person.grad_year - 26 if person.is_physician else rng.randrange(1950, 1995),
        rng.randrange(1, 13),
        rng.randrange(1, 29),
    )
    return [
        strip_accents(person.last).upper(),
        strip_accents(person.first).upper(),
        person.middle[:1].upper(),
        "",
        general,
        specialty,
        "",
        npi or "0000000000",
        leie_date(born),
        person.practice.street.upper(),
        person.practice.city.upper(),
        person.practice.state,
        person.practice.zip5,
        kind,
        leie_date(excluded_on),
        leie_date(reinstated),
        "00000000",
        "",
    ]


# --------------------------------------------------------------------------------------------
# Orchestration
# --------------------------------------------------------------------------------------------


def stream(seed: int, name: str) -> random.Random:
    """Independent random stream per stage, so changing one stage leaves the others alone."""
    return random.Random(f"credcheck-demo:{seed}:{name}")


def same_name_collisions(people: list[Person]) -> list[dict]:
    """Full names (first + last) shared by NPPES individuals in different states, one listed."""
    groups: dict[tuple[str, str], list[Person]] = {}
    for p in people:
        if p.npi and p.is_physician and p.practice:
            key = (strip_accents(p.first).upper(), strip_accents(p.last).upper())
            groups.setdefault(key, []).append(p)
    out = []
    for (first, last), members in sorted(groups.items()):
        states = sorted({p.practice.state for p in members if p.practice})
        if len(states) > 1 and any(p.sites for p in members):
            out.append(
                {
                    "first": first,
                    "last": last,
                    "states": states,
                    "npis": sorted(p.npi for p in members if p.npi),
                }
            )
    return out


def write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding=encoding, newline="") as fh:
        fh.write(text)


@dataclass
class World:
    """Everything the generator knows, before it is written out."""

    ref: Reference
    people: list[Person]
    orgs: list[tuple[str, str, City, str]]  # name, taxonomy, city, NPI
    listings: list[Listing]
    leie: list[list[str]]
    leie_notes: list[dict]


def build_world(seed: int, n_physicians: int) -> World:
    """Population -> site membership -> addresses -> NPIs -> certificates -> LEIE -> listings.

    Each stage draws from its own stream, so the order of calls below is the only coupling.
    """
    ref = load_reference()
    people = build_population(stream(seed, "people"), ref, n_physicians)
    membership = choose_members(stream(seed, "membership"), ref, people, n_physicians)
    rng = stream(seed, "places")
    locations = {s.site_id: site_locations(rng, ref, s) for s in SITES}
    person_locations = settle_practice_addresses(rng, ref, membership, locations)
    assign_mailing_addresses(stream(seed, "mailing"), people)
    org_specs = organization_specs(ref)
    org_npis = assign_npis(stream(seed, "npi"), people, len(org_specs))
    orgs = [(*spec, npi) for spec, npi in zip(org_specs, org_npis)]

    rng = stream(seed, "boards")
    for person in people:
        if person.is_physician and person.has_nppes:
            person.certs = assign_certificates(rng, person)
            person.board_npi_blank = rng.random() < 0.3
    excluded = choose_excluded(stream(seed, "leie-pick"), people)
    leie, leie_notes = leie_rows(stream(seed, "leie"), ref, excluded, people)

    listings: list[Listing] = []
    for site in SITES:
        listings += build_site_listings(
            stream(seed, f"site:{site.site_id}"),
            ref,
            site,
            membership.by_site[site.site_id],
            person_locations,
            locations[site.site_id],
        )
    return World(ref, people, orgs, listings, leie, leie_notes)


def write_boards(out_dir: Path, rng: random.Random, world: World) -> tuple[int, list[dict]]:
    rows, malformed = insert_malformed_rows(rng, board_rows(rng, world.people), world.people)
    write_text(out_dir / "reference/boards.csv", minimal_csv(BOARDS_HEADER, rows))
    return len(rows), malformed


def write_npidata(out_dir: Path, rng: random.Random, world: World) -> int:
    header = world.ref.npidata_header
    column = {name: i for i, name in enumerate(header)}
    rows = [nppes_individual(rng, p, column) for p in world.people if p.npi]
    rows += [
        nppes_organization(rng, world.ref, npi, name, taxonomy, city, column)
        for name, taxonomy, city, npi in world.orgs
    ]
    rows.sort(key=lambda r: r[0])
    write_text(out_dir / "reference/npidata.csv", quote_all([header, *rows]), encoding="iso-8859-1")
    return len(rows)


def write_dac(out_dir: Path, rng: random.Random, world: World) -> int:
    site_orgs = {site.site_id: world.orgs[i][0] for i, site in enumerate(SITES)}
    rows = dac_rows(rng, world.people, world.ref.dac_header, site_orgs)
    write_text(out_dir / "reference/dac.csv", minimal_csv(world.ref.dac_header, rows))
    return len(rows)


def write_leie(out_dir: Path, world: World) -> int:
    """Header and the real sample rows verbatim, then the world's exclusions by name."""
    head = "\n".join((world.ref.leie_header_line, *world.ref.leie_sample_lines)) + "\n"
    rows = sorted(world.leie, key=lambda r: (r[0], r[1], r[8]))
    write_text(out_dir / "reference/leie.csv", head + quote_all(rows))
    return len(world.ref.leie_sample_lines) + len(rows)


def write_site(out_dir: Path, site: SiteSpec, listings: list[Listing]) -> dict:
    content = {
        "site_id": site.site_id,
        "name": site.name,
        "kind": site.kind,
        "shape": site.shape,
        "city": site.city,
        "state": site.state,
        "listings": [x.record for x in listings],
    }
    write_text(
        out_dir / f"sites/{site.site_id}.json",
        json.dumps(content, ensure_ascii=False, indent=1) + "\n",
    )
    return {
        "shape": site.shape,
        "listings": len(listings),
        "physicians": sum(x.record["is_physician"] for x in listings),
        "npi_shown": sum(x.record["npi"] is not None for x in listings),
    }


def truth_rows(listings: list[Listing]) -> list[list[str]]:
    return [
        [
            x.site.site_id,
            x.record["id"],
            x.record["path"],
            x.person.npi or "",
            "true" if x.person.is_physician else "false",
            expected_certification(x.person, x.claims),
        ]
        for x in listings
    ]


def population_counts(world: World) -> dict[str, int]:
    people = world.people
    listed = [p for p in people if p.is_physician and p.sites]
    return {
        "physicians": sum(p.is_physician for p in people),
        "physicians_without_nppes": sum(p.is_physician and not p.has_nppes for p in people),
        "nurse_practitioners": sum(p.role == "np" for p in people),
        "physician_assistants": sum(p.role == "pa" for p in people),
        "researchers": sum(p.role == "researcher" for p in people),
        "organizations": len(world.orgs),
        "physicians_without_board_record": sum(
            p.is_physician and p.has_nppes and not p.certs for p in people
        ),
        "listed_on_two_sites": sum(len(p.sites) > 1 for p in people),
        "planted_namesakes": sum(p.twin_of is not None for p in people),
        "listed_moved": sum(p.moved for p in listed),
        "listed_with_married_name_difference": sum(p.professional_last != p.last for p in listed),
    }


def generate_world(out_dir: Path, seed: int = 7, n_physicians: int = 3000) -> dict:
    """Write a complete demo world under ``out_dir`` and return its manifest.

    The manifest (also written as ``manifest.json``) gives row counts per file, listings per
    site, the truth distribution and the planted difficulties.

    Example:
        >>> import tempfile
        >>> m = generate_world(Path(tempfile.mkdtemp()), seed=7, n_physicians=600)
        >>> sorted(m["sites"]) == ["commonwealth-med", "hill-country-regional", "mercy-general"]
        True
        >>> m["files"]["truth.csv"] == sum(s["listings"] for s in m["sites"].values())
        True
    """
    if n_physicians < 100:
        raise ValueError("n_physicians must be at least 100 to fill three sites")
    out_dir = Path(out_dir)
    world = build_world(seed, n_physicians)
    rng = stream(seed, "write")
    files: dict[str, int] = {}
    files["reference/boards.csv"], malformed = write_boards(out_dir, rng, world)
    files["reference/npidata.csv"] = write_npidata(out_dir, rng, world)
    files["reference/dac.csv"] = write_dac(out_dir, rng, world)
    files["reference/leie.csv"] = write_leie(out_dir, world)
    sites = {}
    for site in SITES:
        sites[site.site_id] = write_site(
            out_dir, site, [x for x in world.listings if x.site is site]
        )
        files[f"sites/{site.site_id}.json"] = sites[site.site_id]["listings"]
    truth = truth_rows(world.listings)
    write_text(out_dir / "truth.csv", minimal_csv(TRUTH_HEADER, truth))
    files["truth.csv"] = len(truth)

    manifest = {
        "seed": seed,
        "as_of": AS_OF.isoformat(),
        "n_physicians": n_physicians,
        "files": files,
        "sites": sites,
        "truth_distribution": {v: sum(row[5] == v for row in truth) for v in CERTIFICATION_VALUES},
        "people": population_counts(world),
        "same_name_collisions": same_name_collisions(world.people),
        "boards_malformed_rows": malformed,
        "leie_world_physicians": world.leie_notes,
    }
    write_text(out_dir / "manifest.json", json.dumps(manifest, indent=1) + "\n")
    return {"out_dir": str(out_dir), **manifest}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.demo.world",
        description="Write a seeded, deterministic demo world: reference extracts (boards, "
        "NPPES, DAC, LEIE), three directory sites and truth.csv.",
        epilog="The same seed and size always produce byte-identical files.",
    )
    parser.add_argument("out_dir", type=Path, help="directory to write the world into")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument(
        "--physicians",
        type=int,
        default=3000,
        help="number of physicians in the world (default 3000)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    manifest = generate_world(args.out_dir, seed=args.seed, n_physicians=args.physicians)
    elapsed = time.perf_counter() - started
    for rel, rows in manifest["files"].items():
        print(f"{rel:32} {rows:6d} rows")
    print("truth:", ", ".join(f"{k}={v}" for k, v in manifest["truth_distribution"].items()))
    print(f"wrote {args.out_dir} in {elapsed:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
