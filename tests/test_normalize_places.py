import pytest

from pipeline.normalize.places import (
    normalize_city,
    normalize_phone,
    normalize_state,
    normalize_zip,
    state_name,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Massachusetts", "MA"), ("Mass.", "MA"), ("ma", "MA"), ("MA", "MA"), (" m.a. ", "MA"),
        ("MASSACHUSETTS", "MA"), ("Calif.", "CA"), ("California", "CA"), ("N.Y.", "NY"),
        ("new york", "NY"), ("New York State", "NY"), ("Penna.", "PA"), ("Pa.", "PA"),
        ("Washington", "WA"), ("Wash.", "WA"), ("Washington, D.C.", "DC"), ("D.C.", "DC"),
        ("District of Columbia", "DC"), ("DC", "DC"), ("Tex.", "TX"), ("Texas", "TX"),
        ("W.Va.", "WV"), ("West Virginia", "WV"), ("N. Carolina", "NC"), ("S.D.", "SD"),
        ("Hawai'i", "HI"), ("Wisc.", "WI"), ("Puerto Rico", "PR"), ("PR", "PR"), ("Guam", "GU"),
        ("U.S. Virgin Islands", "VI"), ("Virgin Islands", "VI"), ("American Samoa", "AS"),
        ("Northern Mariana Islands", "MP"), ("AE", "AE"),
        ("Ontario", None), ("XX", None), ("Mass General", None), ("", None), (None, None),
    ],
)
def test_normalize_state(text, expected):
    assert normalize_state(text) == expected


def test_all_fifty_states_and_dc_round_trip():
    codes = [
        "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
        "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ",
        "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT",
        "VA", "WA", "WV", "WI", "WY", "DC",
    ]
    assert len(codes) == 51
    for code in codes:
        assert normalize_state(code) == code
        assert normalize_state(code.lower()) == code
        assert normalize_state(state_name(code)) == code


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2114", "02114"), ("02114-1234", "02114"), ("2114.0", "02114"), (2114, "02114"),
        (2114.0, "02114"), ("02114", "02114"), ("021141234", "02114"), ("21141234", "02114"),
        ("2114-1234", "02114"), ("02114 1234", "02114"), ("901", "00901"), ("00901-1234", "00901"),
        ("9011234", "00901"), ("2.114E3", "02114"), ("90210", "90210"), (90210, "90210"),
        ("Boston, MA 02114", "02114"), ("  02114  ", "02114"),
        ("12345-678", None), ("123456", None), ("12", None), ("", None), (None, None),
        ("00000", None), ("H3A 0G4", None), ("abcde", None), (float("nan"), None),
        (2114.5, None), (True, None),
    ],
)
def test_normalize_zip(value, expected):
    assert normalize_zip(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("(617) 555-0134", "+16175550134"), ("617-555-0134", "+16175550134"),
        ("617.555.0134", "+16175550134"), ("6175550134", "+16175550134"),
        ("1-617-555-0134", "+16175550134"), ("+1 617 555 0134", "+16175550134"),
        ("6.175550134E9", "+16175550134"), ("6.175550134e+09", "+16175550134"),
        ("1.6175550134E10", "+16175550134"), ("6175550134.0", "+16175550134"),
        (6175550134, "+16175550134"), (6175550134.0, "+16175550134"),
        ("617-555-0134 ext. 12", "+16175550134"), ("(617) 555-0134 x204", "+16175550134"),
        ("tel:+16175550134", "+16175550134"), ("+44 20 7946 0958", "+442079460958"),
        ("555-0134", None), ("(617) 123-4567", None), ("n/a", None), ("", None), (None, None),
        ("0", None), (float("nan"), None),
    ],
)
def test_normalize_phone(value, expected):
    assert normalize_phone(value) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ST. LOUIS", "saint louis"), ("Saint Louis", "saint louis"), ("St Louis", "saint louis"),
        ("Winston-Salem", "winston salem"), ("Ft. Lauderdale", "fort lauderdale"),
        ("Fort Lauderdale", "fort lauderdale"), ("Mt. Pleasant", "mount pleasant"),
        ("Coeur d'Alene", "coeur dalene"), ("N. Las Vegas", "north las vegas"),
        ("E Lansing", "east lansing"), ("Boston, MA", "boston"), ("Boston, Massachusetts", "boston"),
        ("Québec", "quebec"), ("St. John's", "saint johns"), ("Ste. Genevieve", "sainte genevieve"),
        ("  NEW   YORK ", "new york"), ("Washington, DC", "washington"), ("N", "n"), ("", ""),
        (None, ""),
    ],
)
def test_normalize_city(text, expected):
    assert normalize_city(text) == expected
