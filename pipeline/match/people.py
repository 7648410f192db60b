"""Person frames -> integer-coded arrays, one shared vocabulary per kind of value.

Both sides of a link are *person frames* (``PERSON_COLUMNS``; the optional columns of
``OPTIONAL_COLUMNS`` add evidence when present). A list column may also be given as a scalar
column of one value per person (the benchmark does, to save memory). Every derived value (name
keys, nickname roots, phonetic codes) is computed once per *distinct* raw value, never per row, and
strings become integer codes so that blocking and scoring work on numpy arrays and in DuckDB.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.normalize.gender import sex_code
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
# school (canonical name) and graduation year, the sex a source states (NPPES, DAC, some pages).
OPTIONAL_COLUMNS = ("zips", "affiliations", "schools", "grad_years", "gender")

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

    @staticmethod
    def codes(table: dict[str, int], texts: list[str]) -> np.ndarray:
        """``code`` of each text (int64), new texts coded in order of first appearance: the
        dictionary's own loops, not one Python call per text."""
        new = (t for t in dict.fromkeys(texts) if t and t not in table)
        table.update(zip(new, itertools.count(len(table))))
        return np.fromiter(map(table.get, texts, itertools.repeat(-1)), np.int64, len(texts))

    def name_list(self) -> np.ndarray:
        """Every name key at its code (built once per size of the table: comparisons ask for
        it per batch of pairs)."""
        out = self.__dict__.get("_name_list")
        if out is None or len(out) != len(self.names):
            out = np.empty(len(self.names), dtype=object)
            for text, code in self.names.items():
                out[code] = text
            self._name_list = out
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

    frame: pd.DataFrame  # the record ids (rec_id, npi) of the frame encoded
    first: np.ndarray  # int32 name code of the first-name key, -1 missing
    first_root: np.ndarray  # int32 name code of the formal first name ("bob" -> "robert")
    middle: np.ndarray  # int32 code of the middle initial's letter, -1 missing
    middle_name: np.ndarray  # int32 name code of the whole middle name, -1 missing or an initial
    surnames: np.ndarray  # int32 (n, SURNAME_WIDTH): main surname key first, then alternates
    # The first-name field read as a surname (its key, and a compound's parts): what a page
    # that swapped the fields ("Garcia-Lopez Ana") put there.
    first_as_surnames: np.ndarray  # int32 (n, SURNAME_WIDTH)
    states: np.ndarray  # uint64 bit mask of states
    places: np.ndarray  # int32 (n, PLACE_WIDTH) codes of "city|ST" and "zip:NNNNN"
    affiliations: np.ndarray  # int32 (n, AFFILIATION_WIDTH)
    specialties: np.ndarray  # int32 (n, SPECIALTY_WIDTH)
    npi: np.ndarray  # int64, 0 when none
    physician: np.ndarray  # int8: 1, 0, or -1 unknown
    school: np.ndarray  # int32 code, -1 missing
    year: np.ndarray  # int16, 0 missing
    gender: np.ndarray  # int8 sex the source states (pipeline.normalize.gender codes), 0 unknown

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


@dataclass
class _Distinct:
    """A column's entries as codes into its distinct values: derived values are computed once
    per distinct value, never per row. A list column is exploded (``pos``: each entry's row)."""

    pos: np.ndarray  # int64 row of each entry
    codes: np.ndarray  # index into ``uniques`` per entry, -1 missing
    uniques: np.ndarray  # object: the distinct values

    @classmethod
    def of(cls, values, pos: np.ndarray) -> _Distinct:
        """Entries ``values`` (a Series or an array) at rows ``pos``."""
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        return cls(pos, np.asarray(codes, dtype=np.int64), np.asarray(uniques, dtype=object))

    def map(self, fn, missing=None) -> np.ndarray:
        """``fn`` of each entry's value (object array); ``missing`` for a missing value."""
        mapped = np.empty(len(self.uniques) + 1, dtype=object)
        mapped[:-1] = [fn(u) for u in self.uniques.tolist()]
        mapped[-1] = missing
        return mapped[self.codes]

    def coded(self, fn, table: dict[str, int]) -> np.ndarray:
        """int32 vocabulary code of ``fn(value)`` per entry (-1 when empty or missing)."""
        texts = [fn(u) if isinstance(u, str) else "" for u in self.uniques.tolist()]
        mapped = np.append(Vocab.codes(table, texts), -1).astype(np.int32)
        return mapped[self.codes]


def _distinct(frame: pd.DataFrame, name: str) -> _Distinct:
    """A column (all missing when the frame lacks it) as a ``_Distinct``. Text columns are
    factorized where they are (Arrow strings by Arrow's dictionary encoding): only the distinct
    values ever become Python objects."""
    if name not in frame.columns:
        n = len(frame)
        return _Distinct(np.arange(n), np.full(n, -1, np.int64), np.empty(0, dtype=object))
    values = frame[name].reset_index(drop=True)
    pos = np.arange(len(values), dtype=np.int64)
    # List columns hold lists (or nothing) in every row: the first non-empty rows tell. (A
    # text, number or flag column holds none: no need to look.)
    may_hold_lists = values.dtype == object or isinstance(values.dtype, pd.ArrowDtype)
    if may_hold_lists and any(_is_list(v) for v in values.dropna().head(100)):
        values = values.explode()
        pos = np.asarray(values.index, dtype=np.int64)
    return _Distinct.of(values, pos)


def _is_list(value) -> bool:
    return isinstance(value, (list, tuple, np.ndarray))


def _is_nan(value) -> bool:
    return isinstance(value, float) and value != value


def _padded(n: int, pos: np.ndarray, codes: np.ndarray, width: int) -> np.ndarray:
    """Rows of up to ``width`` distinct codes per person, -1 padded."""
    out = np.full((n, width), -1, dtype=np.int32)
    keep = codes >= 0
    if not keep.any():
        return out
    if len(pos) < 2 or bool((np.diff(pos[keep]) > 0).all()):  # one value per person
        out[pos[keep], 0] = codes[keep]
        return out
    key = np.unique((pos[keep].astype(np.int64) << 32) | codes[keep].astype(np.int64))
    pos, codes = key >> 32, key & 0xFFFFFFFF
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


def surname_forms(last: str) -> list[str]:
    """The forms a surname goes by: its key and, for a compound one, its parts and its parts
    run together (blocking and comparison codes; lookup keys add typo variants).

    >>> surname_forms("García-López")
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


def _surname_codes(
    column: _Distinct, names: dict[str, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row position, surname key code, is the row's first key) for each surname key of each
    entry. Keys are derived and coded once per distinct surname, then spread with numpy."""
    if len(column.codes) == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0, dtype=bool)
    per_unique = [surname_forms(u) if isinstance(u, str) else [] for u in column.uniques.tolist()]
    per_unique.append([])
    codes = column.codes
    counts_u = np.fromiter(map(len, per_unique), np.int64, len(per_unique))
    starts_u = np.cumsum(counts_u) - counts_u
    flat_u = Vocab.codes(names, list(itertools.chain.from_iterable(per_unique)))
    counts = counts_u[codes]
    total = int(counts.sum())
    row_of = np.repeat(np.arange(len(codes)), counts)
    within = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    flat = flat_u[starts_u[codes][row_of] + within]
    return column.pos[row_of], flat, within == 0


def encode(frame: pd.DataFrame, vocab: Vocab) -> Encoded:
    """Encode one person frame with (and into) the shared vocabulary."""
    frame = frame.reset_index(drop=True)
    n = len(frame)
    names, values = vocab.names, vocab.values

    first_raw = _distinct(frame, "first")
    first = first_raw.coded(name_key, names)
    first_root = first_raw.coded(canonical_first_name, names)
    middle_raw = _distinct(frame, "middle")
    middle = middle_raw.map(
        lambda v: ord(name_key(v)[0]) if isinstance(v, str) and name_key(v) else -1, -1
    ).astype(np.int32)
    middle_name = middle_raw.coded(lambda v: name_key(v) if len(name_key(v)) > 1 else "", names)

    # Surnames: the main one first, then its parts and the other / former names with theirs.
    main_rows, main_codes, main_first = _surname_codes(_distinct(frame, "last"), names)
    main = np.full(n, -1, dtype=np.int32)
    main[main_rows[main_first]] = main_codes[main_first]
    alt_rows, alt_codes, _ = _surname_codes(_distinct(frame, "alt_lasts"), names)
    other_rows = np.r_[main_rows[~main_first], alt_rows]
    other_codes = np.r_[main_codes[~main_first], alt_codes]
    keep = other_codes != main[other_rows]
    others = _padded(n, other_rows[keep], other_codes[keep], SURNAME_WIDTH - 1)
    surnames = np.concatenate([main[:, None], others], axis=1)
    first_rows, first_forms, is_key = _surname_codes(first_raw, names)
    first_parts = _padded(n, first_rows[~is_key], first_forms[~is_key], SURNAME_WIDTH - 1)
    first_as_surnames = np.concatenate([first[:, None], first_parts], axis=1)

    state_raw = _distinct(frame, "states")
    bits = state_raw.map(
        lambda s: (1 << _state_bit(normalize_state(s) or "")) if normalize_state(s) else 0, 0
    )
    states = np.zeros(n, dtype=np.uint64)
    np.bitwise_or.at(states, state_raw.pos, bits.astype(np.uint64))

    city_raw, zip_raw = _distinct(frame, "cities"), _distinct(frame, "zips")
    city_codes = city_raw.coded(lambda c: f"city:{name_key(c)}", values)
    zip_codes = zip_raw.coded(lambda z: f"zip:{z[:5]}", values)
    places = np.concatenate(
        [
            _padded(n, city_raw.pos, city_codes, PLACE_WIDTH // 2),
            _padded(n, zip_raw.pos, zip_codes, PLACE_WIDTH // 2),
        ],
        axis=1,
    )

    aff_raw = _distinct(frame, "affiliations")
    aff_codes = aff_raw.coded(lambda a: f"org:{name_key(a)}", values)
    affiliations = _padded(n, aff_raw.pos, aff_codes, AFFILIATION_WIDTH)

    spec_raw = _distinct(frame, "specialties")
    spec_codes = spec_raw.coded(lambda s: s, vocab.specialties)
    specialties = _padded(n, spec_raw.pos, spec_codes, SPECIALTY_WIDTH)

    npi = npi_numbers(_column(frame, "npi"))
    physician = _distinct(frame, "physician").map(_flag, -1).astype(np.int8)

    school_raw = _distinct(frame, "schools")
    school_codes = school_raw.coded(lambda s: f"school:{s}", values)
    school = np.full(n, -1, dtype=np.int32)
    ok = school_codes >= 0
    school[school_raw.pos[ok][::-1]] = school_codes[ok][::-1]  # the first school listed wins
    year = np.zeros(n, dtype=np.int16)
    year_raw = _distinct(frame, "grad_years")
    year_num = year_raw.map(_year, 0).astype(np.int16)
    ok = year_num > 0
    year[year_raw.pos[ok][::-1]] = year_num[ok][::-1]

    gender = _distinct(frame, "gender").map(sex_code, 0)

    return Encoded(
        # Only the ids decisions report are kept: a national reference's other columns would
        # stay in memory for the whole link.
        frame=frame[[c for c in ("rec_id", "npi") if c in frame.columns]],
        first=first,
        first_root=first_root,
        middle=middle,
        middle_name=middle_name,
        surnames=surnames,
        first_as_surnames=first_as_surnames,
        states=states,
        places=places,
        affiliations=affiliations,
        specialties=specialties,
        npi=npi,
        physician=physician,
        school=school,
        year=year,
        gender=gender.astype(np.int8),
    )


def npi_numbers(values: pd.Series) -> np.ndarray:
    """NPIs as int64 (0 when missing or failing the check digit); ten-digit text is vectorized.

    >>> npi_numbers(pd.Series(["1234567893", "1234567890", None, " 1234567893 "])).tolist()
    [1234567893, 0, 0, 1234567893]
    """
    # Arrow kernels: a national reference has seven million of them.
    text = pa.array(pd.Series(values, dtype="string").reset_index(drop=True), pa.string())
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    matches = pc.match_substring_regex(text, "^[0-9]{10}$")
    plain = pc.fill_null(matches, False).to_numpy(zero_copy_only=False)
    out = np.zeros(len(text), dtype=np.int64)
    if plain.any():
        ten = text.filter(pa.array(plain))  # ten ASCII digits each: one contiguous byte block
        _, offsets, data = ten.buffers()
        start = int(np.frombuffer(offsets, np.int32)[ten.offset])
        digits = np.frombuffer(data, np.uint8, 10 * len(ten), start).reshape(-1, 10) - 48
        body = digits[:, :9].astype(np.int16)
        body[:, 0::2] *= 2  # from the right of the nine, every second digit is doubled
        body[body > 9] -= 9
        valid = (10 - (24 + body.sum(axis=1)) % 10) % 10 == digits[:, 9]
        number = pc.cast(ten, pa.int64()).to_numpy()
        out[np.flatnonzero(plain)[valid]] = number[valid]
    other = ~plain & pc.is_valid(text).to_numpy(zero_copy_only=False)
    if other.any():
        raw = values.reset_index(drop=True).to_numpy(dtype=object)[other]
        column = _Distinct.of(raw, np.flatnonzero(other))
        out[other] = column.map(lambda v: int(clean_npi(v) or 0), 0).astype(np.int64)
    return out


def _year(value) -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        return 0
    return year if 1900 < year < 2100 else 0


def encode_sides(left: pd.DataFrame, right: pd.DataFrame) -> tuple[Encoded, Encoded, Vocab]:
    vocab = Vocab()
    return encode(left, vocab), encode(right, vocab), vocab


def first_variants(vocab_names: np.ndarray, code: int) -> frozenset[str]:
    return first_name_keys(vocab_names[code]) if code >= 0 else frozenset()
