import pytest

from pipeline.normalize.specialties import (
    canonical_board,
    canonical_specialties,
    canonical_specialty,
    claims_match,
    is_subspecialty,
    known_specialties,
    parent_specialty,
    specialty_candidates,
    specialty_key,
)

CANONICAL_CASES = [
    # directory wording
    ("Cardiology", "Cardiovascular Disease"),
    ("Cardiologist", "Cardiovascular Disease"),
    ("cardiology", "Cardiovascular Disease"),
    ("Heart & Vascular", "Cardiovascular Disease"),
    ("Heart and Vascular Center", "Cardiovascular Disease"),
    ("Cardiovascular Medicine", "Cardiovascular Disease"),
    ("OB/GYN", "Obstetrics and Gynecology"),
    ("OBGYN", "Obstetrics and Gynecology"),
    ("OB-GYN", "Obstetrics and Gynecology"),
    ("Obstetrics & Gynecology", "Obstetrics and Gynecology"),
    ("Obstetrics/Gynecology", "Obstetrics and Gynecology"),
    ("Obstetrician/Gynecologist", "Obstetrics and Gynecology"),
    ("Dept. of Obstetrics & Gynaecology", "Obstetrics and Gynecology"),
    ("ENT", "Otolaryngology"),
    ("Ear, Nose and Throat", "Otolaryngology"),
    ("Ear, Nose & Throat", "Otolaryngology"),
    ("Otolaryngology - Head & Neck Surgery", "Otolaryngology"),
    ("Otolaryngology–Head and Neck Surgery", "Otolaryngology"),
    ("GI", "Gastroenterology"),
    ("Gastroenterology", "Gastroenterology"),
    ("Gastroenterology & Hepatology", "Gastroenterology"),
    ("Family Practice", "Family Medicine"),
    ("Family Physician", "Family Medicine"),
    ("Peds", "Pediatrics"),
    ("Pediatrics", "Pediatrics"),
    ("Paediatrics", "Pediatrics"),
    ("Pediatrician", "Pediatrics"),
    ("General Pediatrics", "Pediatrics"),
    ("General Surgery", "Surgery"),
    ("Orthopaedic Surgery", "Orthopaedic Surgery"),
    ("Orthopedics", "Orthopaedic Surgery"),
    ("Orthopedic Surgery", "Orthopaedic Surgery"),
    ("Orthopaedics", "Orthopaedic Surgery"),
    ("Orthopedic Surgeon", "Orthopaedic Surgery"),
    ("Hem/Onc", "Medical Oncology"),
    ("Hematology/Oncology", "Medical Oncology"),
    ("Medical Oncology", "Medical Oncology"),
    ("Oncology", "Medical Oncology"),
    ("Hematology", "Hematology"),
    ("Haematology", "Hematology"),
    ("Pulmonology", "Pulmonary Disease"),
    ("Pulmonary Medicine", "Pulmonary Disease"),
    ("Critical Care", "Critical Care Medicine"),
    ("Nephrology", "Nephrology"),
    ("Neurology", "Neurology"),
    ("Neurologist", "Neurology"),
    ("Psychiatry", "Psychiatry"),
    ("Psychiatrist", "Psychiatry"),
    ("Dermatology", "Dermatology"),
    ("Dermatologist", "Dermatology"),
    ("Ophthalmology", "Ophthalmology"),
    ("Urology", "Urology"),
    ("Radiology", "Diagnostic Radiology"),
    ("Diagnostic Radiology", "Diagnostic Radiology"),
    ("Anesthesiology", "Anesthesiology"),
    ("Anesthesia", "Anesthesiology"),
    ("Anaesthesiology", "Anesthesiology"),
    ("Emergency Medicine", "Emergency Medicine"),
    ("Endocrinology", "Endocrinology, Diabetes and Metabolism"),
    ("Endocrinology, Diabetes & Metabolism", "Endocrinology, Diabetes and Metabolism"),
    ("Rheumatology", "Rheumatology"),
    ("Infectious Disease", "Infectious Disease"),
    ("Infectious Diseases", "Infectious Disease"),
    ("Allergy & Immunology", "Allergy and Immunology"),
    ("Allergy/Immunology", "Allergy and Immunology"),
    ("Sports Medicine", "Sports Medicine"),
    ("Geriatrics", "Geriatric Medicine"),
    ("Geriatric Medicine", "Geriatric Medicine"),
    ("Hospitalist", "Internal Medicine"),
    ("Hospital Medicine", "Internal Medicine"),
    ("Internal Medicine", "Internal Medicine"),
    ("General Internal Medicine", "Internal Medicine"),
    ("Interventional Cardiology", "Interventional Cardiology"),
    ("Electrophysiology", "Clinical Cardiac Electrophysiology"),
    ("Palliative Care", "Hospice and Palliative Medicine"),
    ("Neonatology", "Neonatal-Perinatal Medicine"),
    ("Maternal-Fetal Medicine", "Maternal and Fetal Medicine"),
    ("Reproductive Endocrinology and Infertility", "Reproductive Endocrinology/Infertility"),
    ("Neurosurgery", "Neurological Surgery"),
    ("Neurosurgeon", "Neurological Surgery"),
    ("Cardiothoracic Surgery", "Thoracic and Cardiac Surgery"),
    ("Colorectal Surgery", "Colon and Rectal Surgery"),
    ("Surgical Oncology", "Complex General Surgical Oncology"),
    ("Hand Surgery", "Surgery of the Hand"),
    ("PM&R", "Physical Medicine and Rehabilitation"),
    ("Physiatry", "Physical Medicine and Rehabilitation"),
    ("Physical Medicine & Rehabilitation", "Physical Medicine and Rehabilitation"),
    ("Pain Management", "Pain Medicine"),
    ("Mohs Surgery", "Micrographic Dermatologic Surgery"),
    ("Pediatric Cardiologist", "Pediatric Cardiology"),
    ("Pediatric Hematology/Oncology", "Pediatric Hematology-Oncology"),
    ("Pediatric Hospitalist", "Pediatric Hospital Medicine"),
    ("Child Neurology", "Neurology with Special Qualification in Child Neurology"),
    ("Pathology", "Pathology-Anatomic/Pathology-Clinical"),
    ("Anatomic & Clinical Pathology", "Pathology-Anatomic/Pathology-Clinical"),
    ("Interventional Radiology", "Interventional Radiology and Diagnostic Radiology"),
    ("Cardiology Physician", "Cardiovascular Disease"),
    ("Cardiology Specialist", "Cardiovascular Disease"),
    ("Sleep Medicine Specialist", "Sleep Medicine"),
    ("Department of Surgery", "Surgery"),
    ("Dept. of Dermatology", "Dermatology"),
    ("Division of Cardiology", "Cardiovascular Disease"),
    ("  CARDIOLOGY  ", "Cardiovascular Disease"),
    # board certificate names, renamed ones and AOA names
    ("Cardiovascular Disease", "Cardiovascular Disease"),
    (
        "Female Pelvic Medicine and Reconstructive Surgery",
        "Urogynecology and Reconstructive Pelvic Surgery",
    ),
    (
        "Urogynecology and Reconstructive Pelvic Surgery",
        "Urogynecology and Reconstructive Pelvic Surgery",
    ),
    ("Psychosomatic Medicine", "Consultation-Liaison Psychiatry"),
    ("Clinical Genetics (MD)", "Clinical Genetics and Genomics (MD/DO)"),
    ("Aerospace Medicine*", "Aerospace Medicine"),
    ("Internal Medicine-Critical Care Medicine", "Critical Care Medicine"),
    ("Pathology - Molecular Genetic", "Molecular Genetic Pathology"),
    ("Addiction Medicine", "Addiction Medicine"),
    ("Adult Cardiac Anesthesiology", "Adult Cardiac Anesthesiology"),
    ("Neurocritical Care", "Neurocritical Care"),
    ("Pediatric Hospital Medicine", "Pediatric Hospital Medicine"),
    ("Complex Family Planning", "Complex Family Planning"),
    ("Micrographic Dermatologic Surgery", "Micrographic Dermatologic Surgery"),
    ("Family Medicine/OMT", "Family Medicine"),
    ("Pulmonary Diseases", "Pulmonary Disease"),
    (
        "Neuromusculoskeletal Medicine & OMM",
        "Neuromusculoskeletal Medicine and Osteopathic Manipulative Medicine",
    ),
    ("Angiography & Interventional Radiology", "Vascular and Interventional Radiology"),
    # NUCC codes and names
    ("207RC0000X", "Cardiovascular Disease"),
    ("207rc0000x", "Cardiovascular Disease"),
    ("207R00000X", "Internal Medicine"),
    ("208M00000X", "Internal Medicine"),
    ("2084P0800X", "Psychiatry"),
    ("207VF0040X", "Urogynecology and Reconstructive Pelvic Surgery"),
    ("Internal Medicine, Cardiovascular Disease", "Cardiovascular Disease"),
    ("Cardiovascular Disease Physician", "Cardiovascular Disease"),
    ("Critical Care Medicine (Anesthesiology) Physician", "Critical Care Medicine"),
    ("Pediatrics, Pediatric Cardiology", "Pediatric Cardiology"),
    ("Ophthalmology, Retina Specialist", "Ophthalmology"),
    ("Thoracic Surgery (Cardiothoracic Vascular Surgery)", "Thoracic and Cardiac Surgery"),
    # CMS specialty names
    ("CARDIOVASCULAR DISEASE (CARDIOLOGY)", "Cardiovascular Disease"),
    ("INTERNAL MEDICINE", "Internal Medicine"),
    ("OBSTETRICS/GYNECOLOGY", "Obstetrics and Gynecology"),
    ("OTOLARYNGOLOGY", "Otolaryngology"),
    ("GASTROENTEROLOGY", "Gastroenterology"),
    ("FAMILY PRACTICE", "Family Medicine"),
    ("DIAGNOSTIC RADIOLOGY", "Diagnostic Radiology"),
    ("ANESTHESIOLOGY", "Anesthesiology"),
    ("EMERGENCY MEDICINE", "Emergency Medicine"),
    ("HEMATOLOGY/ONCOLOGY", "Medical Oncology"),
    ("ORTHOPEDIC SURGERY", "Orthopaedic Surgery"),
    ("PSYCHIATRY", "Psychiatry"),
    ("NEUROLOGY", "Neurology"),
    ("PULMONARY DISEASE", "Pulmonary Disease"),
    ("NEPHROLOGY", "Nephrology"),
    ("DERMATOLOGY", "Dermatology"),
    ("OPHTHALMOLOGY", "Ophthalmology"),
    ("UROLOGY", "Urology"),
    ("GENERAL SURGERY", "Surgery"),
    ("PEDIATRIC MEDICINE", "Pediatrics"),
    ("ENDOCRINOLOGY", "Endocrinology, Diabetes and Metabolism"),
    ("RHEUMATOLOGY", "Rheumatology"),
    ("INFECTIOUS DISEASE", "Infectious Disease"),
    ("PHYSICAL MEDICINE AND REHABILITATION", "Physical Medicine and Rehabilitation"),
    ("CRITICAL CARE (INTENSIVISTS)", "Critical Care Medicine"),
    ("HOSPICE/PALLIATIVE CARE", "Hospice and Palliative Medicine"),
    ("COLORECTAL SURGERY (PROCTOLOGY)", "Colon and Rectal Surgery"),
    ("PLASTIC AND RECONSTRUCTIVE SURGERY", "Plastic Surgery"),
    ("NEUROSURGERY", "Neurological Surgery"),
    ("CARDIAC ELECTROPHYSIOLOGY", "Clinical Cardiac Electrophysiology"),
    # faculty and department titles
    ("Associate Professor of Medicine (Cardiology)", "Cardiovascular Disease"),
    ("Professor of Pediatrics", "Pediatrics"),
    ("Professor of Pediatrics (Cardiology)", "Pediatric Cardiology"),
    ("Assistant Professor of Clinical Medicine", "Internal Medicine"),
    ("Professor of Medicine", "Internal Medicine"),
    ("Instructor in Surgery", "Surgery"),
    ("Clinical Professor of Family Medicine", "Family Medicine"),
    ("Professor and Chair of Neurology", "Neurology"),
    ("Professor of Obstetrics and Gynecology", "Obstetrics and Gynecology"),
    ("Chief, Division of Cardiology", "Cardiovascular Disease"),
    ("Director of Interventional Cardiology", "Interventional Cardiology"),
    (
        "Associate Professor, Department of Medicine, Division of Gastroenterology",
        "Gastroenterology",
    ),
    ("Professor of Psychiatry and Behavioral Sciences", "Psychiatry"),
    ("Professor of Radiology and Biomedical Imaging", "Diagnostic Radiology"),
    ("Internal Medicine (Hospitalist)", "Internal Medicine"),
    # typos (one known label within a small edit distance)
    ("Gastroenterolgy", "Gastroenterology"),
    ("Opthalmology", "Ophthalmology"),
    ("Rheumotology", "Rheumatology"),
    ("Dermatolgy", "Dermatology"),
    ("Nephrolgy", "Nephrology"),
    ("Pediatric Cardiolgy", "Pediatric Cardiology"),
    ("Orthopedic Surgry", "Orthopaedic Surgery"),
]


@pytest.mark.parametrize(("label", "expected"), CANONICAL_CASES)
def test_canonical_specialty(label, expected):
    assert canonical_specialty(label) == expected


@pytest.mark.parametrize(
    "label",
    [
        "Women's Health",
        "Primary Care",
        "NURSE PRACTITIONER",
        "Nurse Practitioner",
        "Physician Assistant",
        "PHYSICIAN ASSISTANT",
        "CLINICAL PSYCHOLOGIST",
        "Adult Medicine",
        "Obesity Medicine",
        "Urgent Care",
        "Integrative Medicine",
        "Cancer Center",
        "Banana",
        "Professor of Epidemiology",
        "Professor of Biochemistry",
        "Pediatric Nurology",
        "",
        "  ",
        # a slip of two different specialties: hematology or hepatology
        "Hematolgy",
        "Pediatric Hepatology",
        "Instructor of Immunology",
        None,
        "363L00000X",
        "999ZZ9999X",
        "Spine Surgery",
        "Cosmetic Surgery",
        "GENERAL PRACTICE",
        "Oral & Maxillofacial Surgery",
        "Podiatry",
    ],
)
def test_not_confident_gives_none(label):
    assert canonical_specialty(label) is None


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Hem/Onc", ("Medical Oncology", "Hematology")),
        ("Med-Peds", ("Internal Medicine", "Pediatrics")),
        ("Internal Medicine-Pediatrics", ("Internal Medicine", "Pediatrics")),
        ("Pulmonary & Critical Care", ("Pulmonary Disease", "Critical Care Medicine")),
        (
            "Pathology",
            (
                "Pathology-Anatomic/Pathology-Clinical",
                "Pathology - Anatomic",
                "Pathology - Clinical",
            ),
        ),
        (
            "Interventional Radiology",
            (
                "Interventional Radiology and Diagnostic Radiology",
                "Vascular and Interventional Radiology",
            ),
        ),
        ("Professor of Medicine and Pediatrics", ("Internal Medicine", "Pediatrics")),
        ("Cardiology", ("Cardiovascular Disease",)),
        ("Primary Care", ()),
    ],
)
def test_specialty_candidates(label, expected):
    assert specialty_candidates(label) == expected


def test_canonical_specialties_dedups_and_keeps_order():
    labels = [
        "Cardiology",
        "Cardiovascular Disease",
        "207RC0000X",
        "NP",
        None,
        "Hem/Onc",
        "Internal Medicine",
        "Banana",
    ]
    assert canonical_specialties(labels) == [
        "Cardiovascular Disease",
        "Medical Oncology",
        "Hematology",
        "Internal Medicine",
    ]
    assert canonical_specialties([]) == []


def test_every_canonical_is_a_board_certificate():
    names = known_specialties()
    for label in CANONICAL_CASES:
        assert canonical_specialty(label[0]) in names


@pytest.mark.parametrize(
    ("name", "parent"),
    [
        ("Cardiovascular Disease", "Internal Medicine"),
        ("Cardiology", "Internal Medicine"),
        ("Interventional Cardiology", "Internal Medicine"),
        ("Internal Medicine", "Internal Medicine"),
        ("Pediatrics", "Pediatrics"),
        ("Pediatric Cardiology", "Pediatrics"),
        ("Pediatric Hospital Medicine", "Pediatrics"),
        ("Neonatal-Perinatal Medicine", "Pediatrics"),
        ("Gynecologic Oncology", "Obstetrics and Gynecology"),
        ("Complex Family Planning", "Obstetrics and Gynecology"),
        ("Urogynecology and Reconstructive Pelvic Surgery", "Obstetrics and Gynecology"),
        ("Micrographic Dermatologic Surgery", "Dermatology"),
        ("Adult Cardiac Anesthesiology", "Anesthesiology"),
        ("Neurocritical Care", "Neurology"),
        ("Vascular Neurology", "Neurology"),
        ("Addiction Psychiatry", "Psychiatry"),
        ("Consultation-Liaison Psychiatry", "Psychiatry"),
        ("Neuroradiology", "Diagnostic Radiology"),
        ("Cytopathology", "Pathology-Anatomic/Pathology-Clinical"),
        ("Surgical Critical Care", "Surgery"),
        ("Congenital Cardiac Surgery", "Thoracic and Cardiac Surgery"),
        ("Orthopaedic Sports Medicine", "Orthopaedic Surgery"),
        ("Neurotology", "Otolaryngology"),
        # issued by several boards: the preferred row decides
        ("Critical Care Medicine", "Internal Medicine"),
        ("Sleep Medicine", "Internal Medicine"),
        ("Hospice and Palliative Medicine", "Internal Medicine"),
        ("Sports Medicine", "Family Medicine"),
        ("Pain Medicine", "Anesthesiology"),
        ("Medical Toxicology", "Emergency Medicine"),
        ("Adolescent Medicine", "Pediatrics"),
        ("Addiction Medicine", "Public Health and General Preventive Medicine"),
        ("Allergy and Immunology", "Allergy and Immunology"),
        ("Vascular Surgery", "Vascular Surgery"),
        ("Neurology with Special Qualification in Child Neurology", "Neurology"),
        ("Not A Specialty", "Not A Specialty"),
    ],
)
def test_parent_specialty(name, parent):
    assert parent_specialty(name) == parent


def test_is_subspecialty():
    assert is_subspecialty("Cardiovascular Disease")
    assert is_subspecialty("Sleep Medicine")
    assert not is_subspecialty("Internal Medicine")
    assert not is_subspecialty("Vascular Surgery")
    assert not is_subspecialty("Banana")


@pytest.mark.parametrize(
    ("claimed", "certificate", "board", "expected"),
    [
        # same specialty, in any spelling
        ("Cardiovascular Disease", "Cardiovascular Disease", None, True),
        ("Cardiology", "Cardiovascular Disease", None, True),
        ("CARDIOVASCULAR DISEASE (CARDIOLOGY)", "Cardiology", None, True),
        ("OB/GYN", "Obstetrics and Gynecology", None, True),
        (
            "Female Pelvic Medicine and Reconstructive Surgery",
            "Urogynecology and Reconstructive Pelvic Surgery",
            None,
            True,
        ),
        # a subspecialty certificate supports its parent
        ("Internal Medicine", "Cardiovascular Disease", None, True),
        ("Internal Medicine", "Cardiology", "AOBIM", True),
        ("Pediatrics", "Pediatric Cardiology", None, True),
        ("Obstetrics and Gynecology", "Maternal and Fetal Medicine", None, True),
        ("Diagnostic Radiology", "Neuroradiology", None, True),
        ("Psychiatry", "Addiction Psychiatry", None, True),
        ("Neurology", "Neurology with Special Qualification in Child Neurology", None, True),
        ("Pathology", "Cytopathology", None, True),
        ("Pathology", "Pathology - Clinical", None, True),
        ("Urology", "Urogynecology and Reconstructive Pelvic Surgery", "ABU", True),
        # a multi-board subspecialty: any issuing board's parent, or the named board's only
        ("Family Medicine", "Sports Medicine", None, True),
        ("Internal Medicine", "Sleep Medicine", None, True),
        ("Internal Medicine", "Sleep Medicine", "American Board of Internal Medicine", True),
        ("Internal Medicine", "Sleep Medicine", "ABPN", False),
        ("Family Medicine", "Addiction Medicine", "ABPM", False),
        # labels standing for several specialties match any of them
        ("Hem/Onc", "Hematology", None, True),
        ("Hematology/Oncology", "Medical Oncology", None, True),
        ("Med-Peds", "Pediatrics", None, True),
        # equivalent certificates
        ("Interventional Radiology", "Vascular and Interventional Radiology", None, True),
        (
            "Interventional Radiology and Diagnostic Radiology",
            "Vascular and Interventional Radiology",
            None,
            True,
        ),
        # not supported
        ("Cardiology", "Internal Medicine", None, False),
        ("Cardiovascular Disease", "Interventional Cardiology", None, False),
        ("Pediatrics", "Cardiovascular Disease", None, False),
        ("Internal Medicine", "Pediatrics", None, False),
        ("Psychiatry", "Neurology", None, False),
        ("Diagnostic Radiology", "Radiation Oncology", None, False),
        ("Surgery", "Vascular Surgery", None, False),
        ("Emergency Medicine", "Family Medicine", None, False),
        ("Nurse Practitioner", "Internal Medicine", None, False),
        ("Primary Care", "Family Medicine", None, False),
        ("Banana", "Banana", None, False),
        ("", "Internal Medicine", None, False),
        (None, None, None, False),
    ],
)
def test_claims_match(claimed, certificate, board, expected):
    assert claims_match(claimed, certificate, board) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ABIM", "American Board of Internal Medicine"),
        ("American Board of Internal Medicine", "American Board of Internal Medicine"),
        ("abfm", "American Board of Family Medicine"),
        ("AOBFP", "American Osteopathic Board of Family Physicians"),
        ("AOA Internal Medicine", "American Osteopathic Board of Internal Medicine"),
        ("American Board of Orthopedic Surgery", "American Board of Orthopaedic Surgery"),
        ("American Board of Nothing", None),
        ("", None),
    ],
)
def test_canonical_board(text, expected):
    assert canonical_board(text) == expected


@pytest.mark.parametrize(
    ("label", "key"),
    [
        ("Obstetrics & Gynecology", "obstetrics gynecology"),
        ("Obstetrics and Gynecology", "obstetrics gynecology"),
        ("OB/GYN", "ob gyn"),
        ("Dept. of Paediatrics", "pediatrics"),
        ("Women's Health", "womens health"),
        ("Cardiology Physicians", "cardiology"),
        ("Physician", "physician"),
        ("", ""),
    ],
)
def test_specialty_key(label, key):
    assert specialty_key(label) == key
