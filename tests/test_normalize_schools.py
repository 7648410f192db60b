import pytest

from pipeline.normalize.schools import canonical_school, medical_school, school_key

HARVARD = "Harvard Medical School"
HOPKINS = "Johns Hopkins University School of Medicine"
UCSF = "University of California, San Francisco, School of Medicine"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Harvard Medical School", HARVARD),
        ("Harvard Med", HARVARD),
        ("HMS", HARVARD),
        ("harvard medical school", HARVARD),
        ("Harvard University", HARVARD),
        ("Johns Hopkins University School of Medicine", HOPKINS),
        ("Johns Hopkins", HOPKINS),
        ("Johns Hopkins Univeristy School of Medicine", HOPKINS),
        ("UCSF School of Medicine", UCSF),
        ("UCSF", UCSF),
        ("University of California San Francisco", UCSF),
        ("Duke", "Duke University School of Medicine"),
        ("Duke University", "Duke University School of Medicine"),
        ("University of Michigan", "University of Michigan Medical School"),
        ("Univ. of Michigan School of Medicine", "University of Michigan Medical School"),
        ("UCLA", "David Geffen School of Medicine at UCLA"),
        ("David Geffen School of Medicine", "David Geffen School of Medicine at UCLA"),
        (
            "University of Pennsylvania School of Medicine",
            "Perelman School of Medicine at University of Pennsylvania",
        ),
        ("Mount Sinai School of Medicine", "Icahn School of Medicine at Mount Sinai"),
        ("Dartmouth Medical School", "Geisel School of Medicine at Dartmouth"),
        ("St. Louis University School of Medicine", "Saint Louis University School of Medicine"),
        (
            "Washington University in St. Louis",
            "Washington University School of Medicine in St. Louis",
        ),
        ("University of Washington", "University of Washington School of Medicine"),
        (
            "The Ohio State University College of Medicine",
            "The Ohio State University College of Medicine",
        ),
        ("Ohio State University", "The Ohio State University College of Medicine"),
        (
            "Columbia University College of Physicians & Surgeons",
            "Columbia University Vagelos College of Physicians and Surgeons",
        ),
        ("University of Iowa", "University of Iowa Carver College of Medicine"),
        ("UC San Diego", "UC San Diego School of Medicine"),
        (
            "Boston University School of Medicine",
            "Boston University Chobanian & Avedisian School of Medicine",
        ),
        (
            "Lake Erie College of Osteopathic Medicine",
            "Lake Erie College of Osteopathic Medicine - Erie",
        ),
        (
            "Kirksville College of Osteopathic Medicine",
            "A.T. Still University Kirksville College of Osteopathic Medicine",
        ),
        ("PCOM", "Philadelphia College of Osteopathic Medicine"),
        ("McGill", "McGill University Faculty of Medicine and Health Sciences"),
        ("Université de Montréal", "Université de Montréal Faculté de Médecine"),
        ("Universite de Montreal", "Université de Montréal Faculté de Médecine"),
        ("Hahnemann University School of Medicine", "Hahnemann University School of Medicine"),
        ("Mayo Medical School", "Mayo Clinic Alix School of Medicine"),
    ],
)
def test_canonical_school(text, expected):
    assert canonical_school(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # several schools fit
        "Michigan State University",
        "University of Arizona",
        "University of Texas",
        "University of California",
        "Texas Tech",
        "Ohio University",
        # places and words, not schools
        "Boston",
        "Indiana",
        "New York",
        "Chicago",
        "Medical",
        # not a US or Canadian medical school
        "King Edward Medical University",
        "University of Oxford",
        "St. George's University",
        "",
        None,
    ],
)
def test_unknown_or_ambiguous_school_is_none(text):
    assert canonical_school(text) is None


def test_medical_school_row():
    school = medical_school("UCSF")
    assert school is not None
    assert (school.state, school.city, school.kind, school.status) == (
        "CA",
        "San Francisco",
        "allopathic",
        "open",
    )
    assert medical_school("PCOM").kind == "osteopathic"
    assert medical_school("Hahnemann University School of Medicine").status == "closed"
    # the reference file's errors are corrected in data/vocab
    assert medical_school("Kirksville College of Osteopathic Medicine").state == "MO"
    assert medical_school("Nonexistent School") is None


def test_school_key():
    assert school_key("The Ohio State Univ. College of Medicine") == (
        "ohio state university college of medicine"
    )
    assert school_key("Texas A&M") == "texas a and m"
