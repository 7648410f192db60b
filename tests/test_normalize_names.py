import pytest

from pipeline.normalize.names import (
    PersonName,
    canonical_first_name,
    first_name_keys,
    name_key,
    parse_person_name,
)

P = PersonName

NAME_CASES = [
    ("Dr. Jane Q. Doe, MD, FACC", P("Dr.", "Jane", "Q.", "Doe", "", "", ("MD", "FACC"))),
    (
        "Smith-Jones, Mary Ann, MD, FACC",
        P("", "Mary", "Ann", "Smith-Jones", "", "", ("MD", "FACC")),
    ),
    ("Dr. José A. García-López Jr.", P("Dr.", "José", "A.", "García-López", "Jr.", "", ())),
    ("LEE, KIM", P("", "Kim", "", "Lee", "", "", ())),
    ("John (Jack) Smith, M.D., Ph.D.", P("", "John", "", "Smith", "", "Jack", ("MD", "PHD"))),
    ('Robert "Bob" Jones DO', P("", "Robert", "", "Jones", "", "Bob", ("DO",))),
    ("Thomas “Tom” Brady, DO", P("", "Thomas", "", "Brady", "", "Tom", ("DO",))),
    ("William 'Bill' Gates MD", P("", "William", "", "Gates", "", "Bill", ("MD",))),
    ("Mary Smith MD MPH", P("", "Mary", "", "Smith", "", "", ("MD", "MPH"))),
    ("Anne-Marie O'Neil, MD", P("", "Anne-Marie", "", "O'Neil", "", "", ("MD",))),
    ("Sean O’Brien, MD", P("", "Sean", "", "O'Brien", "", "", ("MD",))),
    ("Van der Berg, Pieter", P("", "Pieter", "", "Van der Berg", "", "", ())),
    ("VAN DER BERG, PIETER", P("", "Pieter", "", "Van der Berg", "", "", ())),
    ("Nguyen Thi Mai", P("", "Nguyen", "Thi", "Mai", "", "", ())),
    ("Smith, John III", P("", "John", "", "Smith", "III", "", ())),
    ("John A. Smith IV, MD", P("", "John", "A.", "Smith", "IV", "", ("MD",))),
    ("John Smith, Jr., MD", P("", "John", "", "Smith", "Jr.", "", ("MD",))),
    ("John Smith Jr. MD", P("", "John", "", "Smith", "Jr.", "", ("MD",))),
    ("John Smith MD Jr.", P("", "John", "", "Smith", "Jr.", "", ("MD",))),
    ("Mary Ann Smith, MB ChB", P("", "Mary", "Ann", "Smith", "", "", ("MBCHB",))),
    ("Dr. Kim Lee, MBBS, FRCS", P("Dr.", "Kim", "", "Lee", "", "", ("MBBS", "FRCS"))),
    ("John Smith, PA-C", P("", "John", "", "Smith", "", "", ("PA-C",))),
    ("Jane Doe, FNP-BC", P("", "Jane", "", "Doe", "", "", ("FNP-BC",))),
    ("Jane Doe MD, FACC", P("", "Jane", "", "Doe", "", "", ("MD", "FACC"))),
    ("Jane Doe, MD PhD", P("", "Jane", "", "Doe", "", "", ("MD", "PHD"))),
    ("Dr Jane Doe MD PhD FAHA", P("Dr", "Jane", "", "Doe", "", "", ("MD", "PHD", "FAHA"))),
    ("Jane Doe (MD)", P("", "Jane", "", "Doe", "", "", ("MD",))),
    ("Doe, Jane MD", P("", "Jane", "", "Doe", "", "", ("MD",))),
    ("DOE, JANE Q, MD", P("", "Jane", "Q", "Doe", "", "", ("MD",))),
    ("DR. JANE DOE", P("Dr.", "Jane", "", "Doe", "", "", ())),
    ("JOHN MCDONALD, MD", P("", "John", "", "McDonald", "", "", ("MD",))),
    ("mary o'neil", P("", "Mary", "", "O'Neil", "", "", ())),
    ("Maria de la Cruz, MD", P("", "Maria", "", "de la Cruz", "", "", ("MD",))),
    (
        "Dr. Mary-Kate Olsen-Smith, DO, MPH",
        P("Dr.", "Mary-Kate", "", "Olsen-Smith", "", "", ("DO", "MPH")),
    ),
    ("Jane Doe, MD, FACOG, Chief of Obstetrics", P("", "Jane", "", "Doe", "", "", ("MD", "FACOG"))),
    ("Prof. Dr. Hans Müller", P("Prof. Dr.", "Hans", "", "Müller", "", "", ())),
    ("J. Robert Oppenheimer, MD", P("", "J.", "Robert", "Oppenheimer", "", "", ("MD",))),
    ("Eun-Ji Park, M.D.", P("", "Eun-Ji", "", "Park", "", "", ("MD",))),
    ("Ng, Lisa, MD", P("", "Lisa", "", "Ng", "", "", ("MD",))),
    ("  Jane   Doe ,  MD ", P("", "Jane", "", "Doe", "", "", ("MD",))),
    # Surnames that are also credential abbreviations stay surnames.
    ("Anh Do", P("", "Anh", "", "Do", "", "", ())),
    ("ANH DO", P("", "Anh", "", "Do", "", "", ())),
    ("Kim Anh Do, MD", P("", "Kim", "Anh", "Do", "", "", ("MD",))),
    ("Kevin Ma", P("", "Kevin", "", "Ma", "", "", ())),
    ("Nguyen, Ma", P("", "Ma", "", "Nguyen", "", "", ())),
    # Given names that nameparser would otherwise read as titles.
    ("Dean Smith", P("", "Dean", "", "Smith", "", "", ())),
    ("King Lee, MD", P("", "King", "", "Lee", "", "", ("MD",))),
    ("SMITH, JOHN V", P("", "John", "V", "Smith", "", "", ())),
    ("Dr. Smith", P("Dr.", "", "", "Smith", "", "", ())),
    ("Smith", P("", "", "", "Smith", "", "", ())),
    ("", P()),
    ("   ", P()),
]


@pytest.mark.parametrize(
    ("text", "expected"), NAME_CASES, ids=[case[0] or "empty" for case in NAME_CASES]
)
def test_parse_person_name(text, expected):
    assert parse_person_name(text) == expected


def test_person_name_is_frozen():
    name = parse_person_name("Jane Doe, MD")
    with pytest.raises(AttributeError):
        name.first = "Joan"  # type: ignore[misc]
    assert hash(name) == hash(parse_person_name("Jane Doe, MD"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("García-López", "garcia lopez"),
        ("Smith-Jones", "smith jones"),
        ("Smith Jones", "smith jones"),
        ("Mary–Kate", "mary kate"),
        ("O'Neil", "oneil"),
        ("O’Neil", "oneil"),
        ("Smith-Jones, Mary Ann", "smith jones mary ann"),
        ("  VAN   DER  Berg ", "van der berg"),
        ("Müller", "muller"),
        ("Jane Q. Doe", "jane q doe"),
        ("Zoë Ångström", "zoe angstrom"),
        ("Nguyễn Thị Mai", "nguyen thi mai"),
        ("St. John", "st john"),
        ("", ""),
        (None, ""),
    ],
)
def test_name_key(text, expected):
    assert name_key(text) == expected


@pytest.mark.parametrize(
    ("first", "must_contain"),
    [
        ("bob", {"bob", "robert"}),
        ("Robert", {"robert", "bob", "rob", "bobby"}),
        ("BILL", {"bill", "william"}),
        ("William", {"william", "bill", "will", "billy"}),
        ("Peggy", {"peggy", "margaret"}),
        ("Jack", {"jack", "john"}),
        ("Liz", {"liz", "elizabeth"}),
        ("José", {"jose"}),
        ("Mai", {"mai"}),
    ],
)
def test_first_name_keys_contain_relatives(first, must_contain):
    assert must_contain <= first_name_keys(first)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Bob", "Robert"),
        ("Bob", "Bobby"),
        ("Bill", "William"),
        ("Peggy", "Margaret"),
        ("Jim", "James"),
        ("Dick", "Richard"),
        ("Kate", "Katherine"),
        ("Tony", "Anthony"),
    ],
)
def test_nicknames_relate_through_shared_keys(left, right):
    assert first_name_keys(left) & first_name_keys(right)


@pytest.mark.parametrize(("left", "right"), [("Mary", "John"), ("Wei", "Mai"), ("Robert", "Susan")])
def test_unrelated_first_names_share_no_key(left, right):
    assert not first_name_keys(left) & first_name_keys(right)


def test_first_name_keys_of_nothing():
    assert first_name_keys("") == frozenset()
    assert first_name_keys(None) == frozenset()


@pytest.mark.parametrize(
    ("first", "expected"),
    [
        ("Bob", "robert"),
        ("Bobby", "robert"),
        ("Rob", "robert"),
        ("Robert", "robert"),
        ("Bill", "william"),
        ("Billy", "william"),
        ("Will", "william"),
        ("William", "william"),
        ("Jim", "james"),
        ("Jimmy", "james"),
        ("Jack", "john"),
        ("Johnny", "john"),
        ("Liz", "elizabeth"),
        ("Beth", "elizabeth"),
        ("Peggy", "margaret"),
        ("Dick", "richard"),
        ("Rick", "richard"),
        ("Tom", "thomas"),
        ("Mike", "michael"),
        ("Tony", "anthony"),
        ("Chuck", "charles"),
        ("Alex", "alexander"),
        ("Fred", "frederick"),
        ("Larry", "lawrence"),
        ("Lawrence", "lawrence"),
        ("Jerry", "gerald"),
        ("Lee", "lee"),
        ("Ann", "ann"),
        ("Anne", "anne"),
        ("Mai", "mai"),
        ("José", "jose"),
        ("Nguyen", "nguyen"),
        ("", ""),
    ],
)
def test_canonical_first_name(first, expected):
    assert canonical_first_name(first) == expected


@pytest.mark.parametrize(
    "rest",
    [
        "Jane Doe",
        "Dr. Jane Q. Doe",
        "Prof. Dr. Hans Müller",
        "Smith, John",
        "Smith, John III",
        "Smith-Jones, Mary Ann",
        "John A. Smith IV",
        "J. Robert Oppenheimer",
        "Nguyen Thi Mai",
        "DR. JANE DOE",
        "Dr. Smith",
        "Smith",
        "Anne-Marie O'Neil",
        "Jean-Luc Picard Jr.",
    ],
)
def test_fast_path_agrees_with_nameparser(rest):
    from pipeline.normalize.names import _nameparser_parts, _simple_parts

    fast = _simple_parts(rest)
    assert fast is not None
    assert fast == _nameparser_parts(rest)


@pytest.mark.parametrize(
    "rest",
    [
        "Van der Berg, Pieter",
        "Maria de la Cruz",
        "Ahmed bin Rashid",
        "Smith, John, Jr.",
        "John & Jane Smith",
        "R2D2 Smith",
    ],
)
def test_hard_names_go_to_nameparser(rest):
    from pipeline.normalize.names import _simple_parts

    assert _simple_parts(rest) is None
