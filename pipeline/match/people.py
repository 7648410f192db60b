"""Person frames -> integer-coded arrays, one shared vocabulary per kind of value.

Both sides of a link are *person frames* (``PERSON_COLUMNS``; the optional columns of
``OPTIONAL_COLUMNS`` add evidence when present). A list column may also be given as a scalar
column of one value per person (the benchmark does, to save memory). Every derived value (name
keys, nickname roots, phonetic codes) is computed once per *distinct* raw value, never per row, and
strings become integer codes so that blocking and scoring work on numpy arrays and in DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from pipeline.normalize.names import canonical_first_name, first_name_keys, name_key
from pipeline.normalize.npi import clean_npi
from pipeline.normalize.places import normalize_state
from pipeline.normalize.specialties import claims_match

PERSON_COLUMNS = (
    "rec_id",  # unique id on its side
    "first",
    "middle",
    "last",
    "alt_lasts",  # list: other / former / maiden surnames
    "states",  # list of two-letter states
    "cities",  # list of city keys
    "specialties",  # list of canonical specialties
    "npi",  # NPI known on this side (shown on a page, or the reference's own), or None
    "physician",  # True / False / None (unknown)
)
# Evidence some sources have: practice ZIP codes, hospital affiliations / group names, medical
# school (canonical name) and graduation year.
OPTIONAL_COLUMNS = ("zips", "affiliations", "schools", "grad_years")

SURNAME_WIDTH = 4  # main surname + up to three alternates (other names, parts of compounds)
PLACE_WIDTH = 6  # city and ZIP codes per person
AFFILIATION_WIDTH = 3
SPECIALTY_WIDTH = 8


def as_text(value) -> str:
    """A cell as text: pandas gives NaN (truthy!) or None for missing values."""
    return value if isinstance(value, str) else ""


def as_texts(value) -> list[str]:
    """A list cell as a list of non-empty strings (a scalar string becomes a one-item list)."""
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, (list, tuple)) or hasattr(value, "tolist"):
        return [v for v in list(value) if isinstance(v, str) and v]
    return []


@dataclass
class Vocab:
    """Shared string <-> code tables for one link (both sides)."""

    names: dict[str, int] = field(default_factory=dict)  # name keys (first and last)
    values: dict[str, int] = field(default_factory=dict)  # places, affiliations, schools
    specialties: dict[str, int] = field(default_factory=dict)

    @staticmethod
    def code(table: dict[str, int], text: str) -> int:
        if not text:
            return -1
        code = table.get(text)
        if code is None:
            code = table[text] = len(table)
        return code

    def name_list(self) -> np.ndarray:
        out = np.empty(len(self.names), dtype=object)
        for text, code in self.names.items():
            out[code] = text
        return out

    @cached_property
    def specialty_agreement(self) -> np.ndarray:
        """Boolean matrix: do two canonical specialties support each other (either direction)?"""
        names = sorted(self.specialties, key=self.specialties.get)
        k = len(names)
        agree = np.zeros((k + 1, k + 1), dtype=bool)  # last row/column: the -1 padding
        for i, a in enumerate(names):
            for j, b in enumerate(names):
                agree[i, j] = a == b or claims_match(a, b) or claims_match(b, a)
        return agree


@dataclass
class Encoded:
    """One side of a link as arrays; row i is ``frame.iloc[i]``."""

    frame: pd.DataFrame
    first: np.ndarray  # int32 name code of the first-name key, -1 missing
    first_root: np.ndarray  # int32 name code of the formal first name ("bob" -> "robert")
    middle: np.ndarray  # int32 code of the middle initial's letter, -1 missing
    surnames: np.ndarray  # int32 (n, SURNAME_WIDTH): main surname key first, then alternates
    states: np.ndarray  # uint64 bit mask of states
    places: np.ndarray  # int32 (n, PLACE_WIDTH) codes of "city|ST" and "zip:NNNNN"
    affiliations: np.ndarray  # int32 (n, AFFILIATION_WIDTH)
    specialties: np.ndarray  # int32 (n, SPECIALTY_WIDTH)
    npi: np.ndarray  # int64, 0 when none
    physician: np.ndarray  # int8: 1, 0, or -1 unknown
    school: np.ndarray  # int32 code, -1 missing
    year: np.ndarray  # int16, 0 missing

    @property
    def n(self) -> int:
        return len(self.frame)

    @property
    def last(self) -> np.ndarray:
        return self.surnames[:, 0]


# ------------------------------------------------------------------------------ helpers


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def _exploded(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(row positions, values) of a list column or a scalar column, missing values dropped."""
    values = series.reset_index(drop=True)
    sample = next((v for v in values if v is not None and not _is_nan(v)), None)
    if sample is not None and not isinstance(sample, str) and hasattr(sample, "__len__"):
        values = values.explode()
    pos = np.asarray(values.index, dtype=np.int64)
    vals = values.to_numpy(dtype=object)
    keep = np.fromiter((isinstance(v, str) and v != "" for v in vals), bool, len(vals))
    return pos[keep], vals[keep]


def _is_nan(value) -> bool:
    return isinstance(value, float) and value != value


def _map_distinct(values: np.ndarray, fn) -> np.ndarray:
    """Apply ``fn`` once per distinct value."""
    if len(values) == 0:
        return np.empty(0, dtype=object)
    codes, uniques = pd.factorize(values)
    mapped = np.array([fn(u) for u in uniques] + [None], dtype=object)
    return mapped[codes]


def _padded(n: int, pos: np.ndarray, codes: np.ndarray, width: int) -> np.ndarray:
    """Rows of up to ``width`` distinct codes per person, -1 padded."""
    out = np.full((n, width), -1, dtype=np.int32)
    keep = codes >= 0
    pos, codes = pos[keep], codes[keep]
    if len(pos) == 0:
        return out
    pairs = np.unique(np.stack([pos, codes], axis=1), axis=0)
    pos, codes = pairs[:, 0], pairs[:, 1]
    starts = np.r_[0, np.flatnonzero(np.diff(pos)) + 1]
    rank = np.arange(len(pos)) - np.repeat(starts, np.diff(np.r_[starts, len(pos)]))
    fits = rank < width
    out[pos[fits], rank[fits]] = codes[fits]
    return out


_STATE_BITS: dict[str, int] = {}


def _state_bit(state: str) -> int:
    bit = _STATE_BITS.get(state)
    if bit is None:
        bit = _STATE_BITS[state] = len(_STATE_BITS) % 64
    return bit


def surname_keys(last: str) -> list[str]:
    """The surname key and, for a compound surname, its parts and its parts run together.

    >>> surname_keys("García-López")
    ['garcia lopez', 'garcia', 'lopez', 'garcialopez']
    """
    key = name_key(last)
    if not key:
        return []
    parts = key.split()
    if len(parts) < 2:
        return [key]
    return [key, *[p for p in parts if len(p) > 1], "".join(parts)]


def _flag(value) -> int:
    if value is None or value is pd.NA or _is_nan(value):
        return -1
    return 1 if bool(value) else 0


# ------------------------------------------------------------------------------ encoding


def encode(frame: pd.DataFrame, vocab: Vocab) -> Encoded:
    """Encode one person frame with (and into) the shared vocabulary."""
    frame = frame.reset_index(drop=True)
    n = len(frame)
    names = vocab.names

    first_raw = _column(frame, "first").to_numpy(dtype=object)
    first_key = _map_distinct(first_raw, lambda v: name_key(v) if isinstance(v, str) else "")
    first = np.array([Vocab.code(names, k or "") for k in first_key], dtype=np.int32)
    root = _map_distinct(first_raw, lambda v: canonical_first_name(v) if isinstance(v, str) else "")
    first_root = np.array([Vocab.code(names, k or "") for k in root], dtype=np.int32)

    middle_raw = _column(frame, "middle").to_numpy(dtype=object)
    middle_init = _map_distinct(middle_raw, lambda v: name_key(v)[:1] if isinstance(v, str) else "")
    middle = np.array([ord(c) if c else -1 for c in middle_init], dtype=np.int32)

    # Surnames: the main one, its parts, and the other / former names with theirs.
    pos_parts, code_parts = [], []
    last_raw = _column(frame, "last").to_numpy(dtype=object)
    last_keys = _map_distinct(last_raw, lambda v: surname_keys(v) if isinstance(v, str) else [])
    main = np.full(n, -1, dtype=np.int32)
    for i, keys in enumerate(last_keys):
        if keys:
            main[i] = Vocab.code(names, keys[0])
            for k in keys[1:]:
                pos_parts.append(i)
                code_parts.append(Vocab.code(names, k))
    alt_pos, alt_vals = _exploded(_column(frame, "alt_lasts"))
    alt_keys = _map_distinct(alt_vals, surname_keys)
    for i, keys in zip(alt_pos, alt_keys):
        for k in keys:
            pos_parts.append(i)
            code_parts.append(Vocab.code(names, k))
    others = _padded(
        n, np.asarray(pos_parts, np.int64), np.asarray(code_parts, np.int64), SURNAME_WIDTH * 2
    )
    # Alternates equal to the main surname add nothing.
    others[others == main[:, None]] = -1
    others = np.sort(np.where(others < 0, np.iinfo(np.int32).max, others), axis=1)
    others = np.where(others == np.iinfo(np.int32).max, -1, others)[:, : SURNAME_WIDTH - 1]
    surnames = np.concatenate([main[:, None], others.astype(np.int32)], axis=1)

    state_pos, state_vals = _exploded(_column(frame, "states"))
    state_norm = _map_distinct(state_vals, lambda s: normalize_state(s) or "")
    states = np.zeros(n, dtype=np.uint64)
    bits = np.array([(1 << _state_bit(s)) if s else 0 for s in state_norm], dtype=np.uint64)
    np.bitwise_or.at(states, state_pos, bits)

    # Cities are "city|ST" when the person has one state, else plain; ZIPs are "zip:NNNNN".
    values = vocab.values
    city_pos, city_vals = _exploded(_column(frame, "cities"))
    city_key = _map_distinct(city_vals, name_key)
    city_codes = np.array([Vocab.code(values, f"city:{c}") for c in city_key], dtype=np.int64)
    zip_pos, zip_vals = _exploded(_column(frame, "zips"))
    zip_codes = np.array([Vocab.code(values, f"zip:{z[:5]}") for z in zip_vals], dtype=np.int64)
    places = _padded(
        n, np.r_[city_pos, zip_pos], np.r_[city_codes, zip_codes].astype(np.int64), PLACE_WIDTH
    )

    aff_pos, aff_vals = _exploded(_column(frame, "affiliations"))
    aff_key = _map_distinct(aff_vals, name_key)
    aff_codes = np.array([Vocab.code(values, f"org:{a}") for a in aff_key], dtype=np.int64)
    affiliations = _padded(n, aff_pos, aff_codes, AFFILIATION_WIDTH)

    spec_pos, spec_vals = _exploded(_column(frame, "specialties"))
    spec_codes = np.array([Vocab.code(vocab.specialties, s) for s in spec_vals], dtype=np.int64)
    specialties = _padded(n, spec_pos, spec_codes, SPECIALTY_WIDTH)

    npi_raw = _column(frame, "npi").to_numpy(dtype=object)
    npi_clean = _map_distinct(npi_raw, lambda v: clean_npi(v) or "")
    npi = np.array([int(v) if v else 0 for v in npi_clean], dtype=np.int64)

    physician = np.array([_flag(v) for v in _column(frame, "physician")], dtype=np.int8)

    school_pos, school_vals = _exploded(_column(frame, "schools"))
    school = np.full(n, -1, dtype=np.int32)
    school_codes = np.array([Vocab.code(values, f"school:{s}") for s in school_vals], np.int32)
    school[school_pos[::-1]] = school_codes[::-1]  # the first school listed wins
    year = np.zeros(n, dtype=np.int16)
    years = _column(frame, "grad_years")
    if years.notna().any():
        year_pos, year_vals = _exploded(years.map(_years_as_text))
        year[year_pos[::-1]] = np.array([int(y) for y in year_vals[::-1]], dtype=np.int16)

    return Encoded(
        frame=frame,
        first=first,
        first_root=first_root,
        middle=middle,
        surnames=surnames,
        states=states,
        places=places,
        affiliations=affiliations,
        specialties=specialties,
        npi=npi,
        physician=physician,
        school=school,
        year=year,
    )


def _years_as_text(value):
    if isinstance(value, (list, tuple)) or hasattr(value, "tolist"):
        return [str(int(v)) for v in list(value) if _is_year(v)]
    return str(int(value)) if _is_year(value) else None


def _is_year(value) -> bool:
    try:
        return 1900 < int(value) < 2100
    except (TypeError, ValueError):
        return False


def encode_sides(left: pd.DataFrame, right: pd.DataFrame) -> tuple[Encoded, Encoded, Vocab]:
    vocab = Vocab()
    return encode(left, vocab), encode(right, vocab), vocab


def first_variants(vocab_names: np.ndarray, code: int) -> frozenset[str]:
    return first_name_keys(vocab_names[code]) if code >= 0 else frozenset()
