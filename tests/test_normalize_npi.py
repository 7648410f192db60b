import pytest

from pipeline.normalize.npi import clean_npi, is_valid_npi, npi_check_digit

# NPIs whose check digits follow the CMS standard (Luhn over "80840" + the first nine digits).
VALID = ["1234567893", "1245319599", "1003000126", "1932102084", "1578566584"]


@pytest.mark.parametrize("npi", VALID)
def test_valid_npis(npi):
    assert is_valid_npi(npi)
    assert clean_npi(npi) == npi


@pytest.mark.parametrize(
    "text",
    [
        "1234567890",
        "1234567894",
        "123456789",
        "12345678931",
        "123456789X",
        "",
        " 1234567893",
        "1234 567893",
        "0000000000",
        "１２３４５６７８９３",
        None,
        1234567893,
    ],
)
def test_invalid_npis(text):
    assert not is_valid_npi(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (" 1234567893 ", "1234567893"),
        ("NPI: 1234567893", "1234567893"),
        ("npi#1234567893", "1234567893"),
        ("123-456-7893", "1234567893"),
        ("1234567893.0", "1234567893"),
        (1234567893, "1234567893"),
        (1234567893.0, "1234567893"),
        ("0000000000", None),
        ("1234567890", None),
        ("12345", None),
        ("", None),
        (None, None),
        (True, None),
        (1.5, None),
    ],
)
def test_clean_npi(value, expected):
    assert clean_npi(value) == expected


def test_check_digit():
    assert npi_check_digit("123456789") == 3
    with pytest.raises(ValueError):
        npi_check_digit("12345")


def test_one_changed_digit_is_caught():
    for position in range(10):
        for replacement in "0123456789":
            if replacement == VALID[0][position]:
                continue
            changed = VALID[0][:position] + replacement + VALID[0][position + 1 :]
            assert not is_valid_npi(changed)


def test_vectorized_npi_numbers_agree_with_the_one_value_rule():
    """The matcher's Arrow/numpy reading of a whole NPI column (``npi_numbers``) gives what
    ``clean_npi`` gives value by value: random ten-digit numbers (a tenth pass the check),
    text around numbers, other scripts' digits, numbers as numbers, gaps."""
    import random

    import pandas as pd

    from pipeline.match.people import npi_numbers

    seed = random.randrange(2**32)
    rng = random.Random(seed)
    values: list = [str(rng.randrange(10**9, 10**10)) for _ in range(3000)]
    values += [f"NPI: {v}" for v in values[:50]] + [f" {v} " for v in values[50:100]]
    values += ["１２３４５６７８９３", "٣٣٣٣٣٣٣٣٣٣", "123456789X", "", None, 1234567893, float("nan")]
    rng.shuffle(values)
    expected = [int(clean_npi(v) or 0) for v in values]
    got = npi_numbers(pd.Series(values, dtype=object)).tolist()
    assert got == expected, f"seed {seed}"
    assert sum(x > 0 for x in expected) > 100, f"seed {seed}"  # the valid branch was taken
