"""Degrees and post-nominal credentials: "M.D., Ph.D., FACC" -> ["MD", "PHD", "FACC"].

Data-driven from ``data/vocab/degrees.csv`` (code, variants, kind, description). A credential is
matched on its *key*: upper case with dots, hyphens, slashes, apostrophes and spaces removed, so
"M.D.", "m.d" and "MD" are one key, and "MB ChB", "M.B., Ch.B." and "MBChB" another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from unidecode import unidecode

from pipeline.normalize.vocab import read_rows

__all__ = [
    "Degree",
    "credential_kind",
    "degree_info",
    "is_honorific_fellowship",
    "is_physician_degree",
    "split_credentials",
]

# The longest run of separate tokens that can spell one credential ("MB BCh BAO").
_MAX_JOIN = 4
# Words that appear among credentials but are not credentials themselves.
_IGNORED = frozenset({"AND", "HONS", "HON", "CANTAB", "OXON", "LOND", "EDIN", "GLAS"})
_SEPARATORS = re.compile(r"[,;:|()\[\]{}\s]+|(?<![A-Za-z])&(?![A-Za-z])")
_KEY_DROP = re.compile(r"[.,\-/'’`\s]+")


@dataclass(frozen=True)
class Degree:
    """One row of degrees.csv."""

    code: str
    kind: str
    description: str


def _key(text: str) -> str:
    return _KEY_DROP.sub("", text).upper()


@lru_cache(maxsize=1)
def _table() -> tuple[dict[str, str], dict[str, Degree]]:
    """(credential key -> canonical code, canonical code -> Degree)."""
    by_key: dict[str, str] = {}
    by_code: dict[str, Degree] = {}
    for row in read_rows("degrees.csv"):
        code = row["code"]
        if code in by_code:
            raise ValueError(f"degrees.csv: duplicate code {code}")
        by_code[code] = Degree(code=code, kind=row["kind"], description=row["description"])
        for spelling in [code, *row["variants"].split("|")]:
            if not spelling:
                continue
            key = _key(spelling)
            if by_key.get(key, code) != code:
                raise ValueError(f"degrees.csv: {spelling!r} spells both {by_key[key]} and {code}")
            by_key[key] = code
    return by_key, by_code


def _unknown_code(token: str) -> str:
    return token.replace(".", "").upper()


def _join_greedy(tokens: list[str], by_key: dict[str, str]) -> list[tuple[str | None, str]]:
    """(code, token) pairs for a token run; code is None for a token not known on its own.

    Greedy longest match: "MB", "BCh", "BAO" is one degree; "MD", "MPH" are two.
    """
    out: list[tuple[str | None, str]] = []
    i = 0
    while i < len(tokens):
        for width in range(min(_MAX_JOIN, len(tokens) - i), 0, -1):
            joined = "".join(tokens[i : i + width])
            code = by_key.get(_key(joined))
            if code is not None:
                out.append((code, joined))
                i += width
                break
        else:
            out.append((None, tokens[i]))
            i += 1
    return out


def _resolve_token(token: str, by_key: dict[str, str]) -> list[str]:
    """An unknown token: drop filler, split "MD/PhD" or "M.D.Ph.D.", or keep it as it is."""
    key = _key(token)
    if not key or key in _IGNORED:
        return []
    for pattern in (r"[-/]+", r"\.+"):
        parts = [part for part in re.split(pattern, token) if part]
        if len(parts) > 1:
            pairs = _join_greedy(parts, by_key)
            if all(code for code, _ in pairs):
                return [code for code, _ in pairs if code]
    code = _unknown_code(token)
    return [code] if any(ch.isalnum() for ch in code) else []


@lru_cache(maxsize=65536)
def _split_cached(text: str) -> tuple[str, ...]:
    by_key, _ = _table()
    tokens = [token for token in _SEPARATORS.split(unidecode(text)) if token.strip(".-/")]
    codes: list[str] = []
    for code, token in _join_greedy(tokens, by_key):
        codes.extend([code] if code else _resolve_token(token, by_key))
    return tuple(dict.fromkeys(codes))


def split_credentials(text: str | None) -> list[str]:
    """Canonical credential codes in the order given, without duplicates.

    Unknown tokens are kept, upper-cased and without dots.

    >>> split_credentials("M.D., Ph.D., F.A.C.C.")
    ['MD', 'PHD', 'FACC']
    """
    if not isinstance(text, str) or not text:
        return []
    return list(_split_cached(text))


def degree_info(code: str) -> Degree | None:
    """The vocabulary row for a credential in any spelling, or None if unknown.

    >>> degree_info("M.B., Ch.B.").code
    'MBCHB'
    """
    if not isinstance(code, str):
        return None
    by_key, by_code = _table()
    canonical = by_key.get(_key(code))
    return by_code.get(canonical) if canonical else None


def credential_kind(code: str) -> str | None:
    """The kind of a credential: physician, doctorate, master, nursing, fellowship, ...

    >>> credential_kind("PA-C")
    'physician_assistant'
    """
    info = degree_info(code)
    return info.kind if info else None


def is_physician_degree(code: str) -> bool:
    """True for degrees that make the holder a physician (MD, DO, MBBS, MBChB, ...).

    >>> is_physician_degree("D.O."), is_physician_degree("DNP")
    (True, False)
    """
    return credential_kind(code) == "physician"


def is_honorific_fellowship(code: str) -> bool:
    """True for society fellowships such as FACC or FACS (not exam-based FRCPC/FRCS).

    >>> is_honorific_fellowship("FACC"), is_honorific_fellowship("FRCPC")
    (True, False)
    """
    return credential_kind(code) == "fellowship"
