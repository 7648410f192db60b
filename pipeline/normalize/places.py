"""US places and contact details: states, ZIP codes, phone numbers, city matching keys.

Spreadsheet exports mangle these: ZIP codes lose leading zeros ("2114" for 02114) and phone numbers
turn into scientific notation ("6.175550134E9"); the functions repair what can be repaired and
return None for the rest, so a loader can count what it could not use.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import phonenumbers
from unidecode import unidecode

from pipeline.normalize.vocab import read_rows

__all__ = ["normalize_city", "normalize_phone", "normalize_state", "normalize_zip", "state_name"]


def _state_key(text: str) -> str:
    text = unidecode(text).lower().replace("'", "").replace("ʻ", "").replace(".", "")
    return " ".join(re.split(r"[^a-z]+", text)).strip()


@lru_cache(maxsize=1)
def _states() -> tuple[dict[str, str], dict[str, str]]:
    """(key -> code, code -> name) from us_states.csv."""
    by_key: dict[str, str] = {}
    names: dict[str, str] = {}
    for row in read_rows("us_states.csv"):
        code = row["code"]
        names[code] = row["name"]
        for spelling in [code, row["name"], row["ap"], *row["variants"].split("|")]:
            if spelling:
                by_key[_state_key(spelling)] = code
    return by_key, names


@lru_cache(maxsize=4096)
def normalize_state(text: str | None) -> str | None:
    """Two-letter USPS code for a state, DC or territory name or abbreviation; None if unknown.

    >>> normalize_state("Massachusetts"), normalize_state("Mass."), normalize_state("ma")
    ('MA', 'MA', 'MA')
    """
    if not isinstance(text, str) or not text:
        return None
    by_key, _ = _states()
    return by_key.get(_state_key(text))


def state_name(code: str | None) -> str | None:
    """Full name of a state code.

    >>> state_name("ma")
    'Massachusetts'
    """
    code = normalize_state(code)
    return _states()[1][code] if code else None


_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:\.\d+)?[eE][+]?\d+$")
_FLOAT_ZERO = re.compile(r"^(\d+)\.0*$")


def _integer_text(value: object) -> str | None:
    """Digits of a number that went through a spreadsheet: 2114.0, "2114.0", "6.17E9"."""
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value) or not value.is_integer():
            return None
        return str(int(value))
    text = str(value).strip()
    if _SCIENTIFIC.match(text):
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None
        if number != number.to_integral_value() or number < 0:
            return None
        return str(int(number))
    match = _FLOAT_ZERO.match(text)
    return match.group(1) if match else text


_ZIP_PLUS4 = re.compile(r"^(\d{3,5})[-\s](\d{4})$")
_ZIP_IN_TEXT = re.compile(r"(?<!\d)(\d{5})(?:-\d{4})?\s*$")


@lru_cache(maxsize=65536)
def _zip_cached(text: str) -> str | None:
    match = _ZIP_PLUS4.match(text)
    if match:
        digits = match.group(1).zfill(5)
    elif text.isdigit():
        if len(text) in (3, 4, 5):  # lost leading zeros: 2114 -> 02114
            digits = text.zfill(5)
        elif len(text) in (7, 8, 9):  # ZIP+4 without its hyphen, maybe without leading zeros
            digits = text.zfill(9)[:5]
        else:
            return None
    else:
        found = _ZIP_IN_TEXT.search(text)
        if not found:
            return None
        digits = found.group(1)
    return None if digits == "00000" else digits


def normalize_zip(value: object) -> str | None:
    """Five-digit US ZIP code, repairing lost leading zeros; None when it cannot be one.

    >>> normalize_zip("2114"), normalize_zip("02114-1234"), normalize_zip("2114.0")
    ('02114', '02114', '02114')
    """
    text = _integer_text(value)
    if not text:
        return None
    return _zip_cached(text)


@lru_cache(maxsize=65536)
def _phone_cached(text: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_phone(value: object, region: str = "US") -> str | None:
    """E.164 phone number ("+16175550134"), extensions dropped; None when not a valid number.

    Numbers written in scientific notation by a spreadsheet ("6.175550134E9") are repaired.

    >>> normalize_phone("(617) 555-0134"), normalize_phone("6.175550134E9")
    ('+16175550134', '+16175550134')
    """
    text = _integer_text(value)
    if not text or not any(ch.isdigit() for ch in text):
        return None
    text = text.removeprefix("tel:").strip()
    return _phone_cached(text, region)


_CITY_WORDS = {
    "st": "saint",
    "ste": "sainte",
    "ft": "fort",
    "mt": "mount",
    "pt": "point",
    "twp": "township",
    "hts": "heights",
    "spgs": "springs",
    "spg": "springs",
    "jct": "junction",
    "vlg": "village",
    "ctr": "center",
    "pk": "park",
}
_DIRECTIONS = {"n": "north", "s": "south", "e": "east", "w": "west"}


@lru_cache(maxsize=65536)
def normalize_city(text: str | None) -> str:
    """Matching key of a city name: lower-case ASCII, "St."/"Ft."/"Mt." spelt out.

    A trailing ", MA" is dropped. Returns "" for empty input.

    >>> normalize_city("ST. LOUIS"), normalize_city("Winston-Salem"), normalize_city("Ft Myers")
    ('saint louis', 'winston salem', 'fort myers')
    """
    if not isinstance(text, str) or not text:
        return ""
    if "," in text:
        head, _, tail = text.rpartition(",")
        if head.strip() and normalize_state(tail):
            text = head
    ascii_text = unidecode(text).lower().replace("'", "").replace(".", " ")
    words = [word for word in re.split(r"[^a-z0-9]+", ascii_text) if word]
    words = [_CITY_WORDS.get(word, word) for word in words]
    if len(words) > 1 and words[0] in _DIRECTIONS:
        words[0] = _DIRECTIONS[words[0]]
    return " ".join(words)
