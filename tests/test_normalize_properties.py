"""Invariants of the normalizers, checked on generated input."""

import pytest

hypothesis = pytest.importorskip("hypothesis")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from pipeline.normalize.degrees import split_credentials  # noqa: E402
from pipeline.normalize.names import (  # noqa: E402
    canonical_first_name,
    first_name_keys,
    name_key,
    parse_person_name,
)
from pipeline.normalize.npi import clean_npi, is_valid_npi, npi_check_digit  # noqa: E402
from pipeline.normalize.places import (  # noqa: E402
    normalize_city,
    normalize_phone,
    normalize_state,
    normalize_zip,
)
from pipeline.normalize.specialties import canonical_specialty, known_specialties  # noqa: E402

names_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
name_like = st.from_regex(
    r"(Dr\. )?[A-Z][a-zé'\-]{1,12}( [A-Z]\.)? [A-Z][a-z'\-]{1,14}(, (MD|DO|PhD|FACC|MPH))*",
    fullmatch=True,
)


@given(names_text)
def test_name_key_is_idempotent_and_plain(text):
    key = name_key(text)
    assert name_key(key) == key
    assert key == key.strip()
    assert "  " not in key
    assert all(ch.isascii() and (ch.isalnum() or ch == " ") for ch in key)
    assert key == key.lower()


@given(names_text)
def test_parse_person_name_never_fails(text):
    parsed = parse_person_name(text)
    assert isinstance(parsed.credentials, tuple)
    for part in (parsed.prefix, parsed.first, parsed.middle, parsed.last, parsed.suffix):
        assert isinstance(part, str)


@given(name_like)
def test_credentials_never_land_in_name_parts(text):
    parsed = parse_person_name(text)
    assert parsed.last
    for code in ("MD", "DO", "PhD", "FACC", "MPH"):
        assert code not in (parsed.first, parsed.middle, parsed.last)


@given(names_text)
def test_first_name_keys_contain_the_key(text):
    keys = first_name_keys(text)
    if name_key(text):
        assert name_key(text) in keys
    else:
        assert keys == frozenset()


@given(st.sampled_from(["bob", "bill", "peggy", "jack", "liz", "tony", "dick", "mai", "larry"]))
def test_canonical_first_name_is_stable(first):
    canonical = canonical_first_name(first)
    assert canonical_first_name(canonical) == canonical


@given(names_text)
def test_split_credentials_codes_are_upper_and_unique(text):
    codes = split_credentials(text)
    assert len(codes) == len(set(codes))
    for code in codes:
        assert code and code == code.upper() and "." not in code and " " not in code


@given(st.one_of(st.text(max_size=20), st.integers(), st.floats(), st.none()))
def test_normalize_zip_is_five_digits_or_none(value):
    result = normalize_zip(value)
    assert result is None or (len(result) == 5 and result.isdigit() and result != "00000")


@given(st.integers(min_value=1, max_value=99999))
def test_zip_survives_losing_leading_zeros(number):
    zip_code = f"{number:05d}"
    assert normalize_zip(str(number)) == (zip_code if number >= 100 else None)
    assert normalize_zip(float(number)) == (zip_code if number >= 100 else None)
    if number >= 100:
        assert normalize_zip(zip_code + "-1234") == zip_code


@given(st.one_of(st.text(max_size=25), st.integers(), st.floats(), st.none()))
def test_normalize_phone_is_e164_or_none(value):
    result = normalize_phone(value)
    assert result is None or (result.startswith("+") and result[1:].isdigit())


@given(
    st.integers(min_value=200, max_value=989),
    st.integers(min_value=200, max_value=999),
    st.integers(min_value=0, max_value=9999),
)
def test_us_phone_formats_agree(area, exchange, line):
    digits = f"{area}{exchange}{line:04d}"
    expected = normalize_phone(digits)
    assert normalize_phone(f"({area}) {exchange}-{line:04d}") == expected
    assert normalize_phone(f"{int(digits):.9E}") == expected
    assert normalize_phone(float(digits)) == expected


@given(names_text)
def test_normalize_city_is_idempotent(text):
    key = normalize_city(text)
    assert normalize_city(key) == key


@given(names_text)
def test_normalize_state_gives_a_code_or_none(text):
    code = normalize_state(text)
    assert code is None or (len(code) == 2 and code.isupper() and normalize_state(code) == code)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_every_nine_digits_have_exactly_one_valid_npi(first_nine):
    valid = [d for d in "0123456789" if is_valid_npi(first_nine + d)]
    assert valid == [str(npi_check_digit(first_nine))]
    assert clean_npi(first_nine + valid[0]) == first_nine + valid[0]


@settings(max_examples=200)
@given(names_text)
def test_canonical_specialty_is_known_or_none(text):
    result = canonical_specialty(text)
    assert result is None or result in known_specialties()
