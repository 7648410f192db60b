"""Comparisons as data: each is a name, its discrete levels, and a vectorized level function.

A level function takes a ``PairBatch`` (two encoded sides and the positions of the pairs) and
returns one level index per pair (int8). Fuzzy string similarity is computed once per *distinct*
pair of values with rapidfuzz's vectorized ``process.cpdist`` on both cores; set agreement
(places, specialties, surnames with their alternates) is numpy on padded integer codes.

Default ``m`` / ``u`` values are the starting point only: ``pipeline.match.model`` estimates u
from random pairs and m by expectation-maximisation on the blocked pairs, without labels.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler

from pipeline.match.people import Encoded, Vocab, first_variants


@dataclass(frozen=True)
class Comparison:
    name: str
    levels: tuple[str, ...]
    null_level: int  # "cannot compare": weight 0, not estimated
    m: tuple[float, ...]  # starting P(level | same person)
    u: tuple[float, ...]  # starting P(level | different people)
    level_of: Callable[[PairBatch], np.ndarray]
    tf_level: int | None = None  # the exact level whose u is the value's own frequency


class PairBatch:
    """Candidate pairs (positions ``l`` into ``left``, ``r`` into ``right``) being compared."""

    def __init__(self, left: Encoded, right: Encoded, vocab: Vocab, lpos, rpos) -> None:
        self.left, self.right, self.vocab = left, right, vocab
        self.lpos = np.asarray(lpos, dtype=np.int64)
        self.rpos = np.asarray(rpos, dtype=np.int64)
        self._names = None

    def __len__(self) -> int:
        return len(self.lpos)

    @property
    def names(self) -> np.ndarray:
        if self._names is None:
            self._names = self.vocab.name_list()
        return self._names

    def similarity(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Jaro-Winkler similarity of name codes, each distinct code pair scored once."""
        out = np.zeros(len(a), dtype=np.float32)
        ok = (a >= 0) & (b >= 0)
        if not ok.any():
            return out
        key = (a[ok].astype(np.int64) << 32) | b[ok].astype(np.int64)
        uniq, inverse = np.unique(key, return_inverse=True)
        names = self.names
        sims = process.cpdist(
            names[(uniq >> 32).astype(np.int64)].tolist(),
            names[(uniq & 0xFFFFFFFF).astype(np.int64)].tolist(),
            scorer=JaroWinkler.normalized_similarity,
            workers=-1,
        )
        out[ok] = np.asarray(sims, dtype=np.float32)[inverse]
        return out

    @cached_property
    def swapped(self) -> np.ndarray:
        """First and last names swapped between the two sides ("Lee Wong" / "Wong Lee")."""
        lf, ll = self.left.first[self.lpos], self.left.last[self.lpos]
        rf, rl = self.right.first[self.rpos], self.right.last[self.rpos]
        return (lf >= 0) & (ll >= 0) & (lf == rl) & (ll == rf) & (lf != ll)


def _any_equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise: do two padded code rows share a non-missing value?"""
    hit = np.zeros(len(a), dtype=bool)
    for i in range(a.shape[1]):
        col = a[:, i]
        if not (col >= 0).any():
            continue
        hit |= (col[:, None] == b).any(axis=1) & (col >= 0)
    return hit


# ------------------------------------------------------------------------------ surname

SURNAME_LEVELS = (
    "exact (term-frequency adjusted)",
    "other name or part of a compound agrees",
    "swapped with the first name",
    "jaro-winkler >= 0.92",
    "jaro-winkler >= 0.84",
    "different",
    "missing",
)


def surname_level(p: PairBatch) -> np.ndarray:
    ls, rs = p.left.surnames[p.lpos], p.right.surnames[p.rpos]
    level = np.full(len(p), 5, dtype=np.int8)
    missing = (ls[:, 0] < 0) | (rs[:, 0] < 0)
    best = np.zeros(len(p), dtype=np.float32)
    for i in range(ls.shape[1]):
        for j in range(rs.shape[1]):
            a, b = ls[:, i], rs[:, j]
            ok = (a >= 0) & (b >= 0)
            if not ok.any():
                continue
            sim = np.zeros(len(p), dtype=np.float32)
            sim[ok] = p.similarity(a[ok], b[ok])
            best = np.maximum(best, sim)
    level[best >= 0.84] = 4
    level[best >= 0.92] = 3
    level[p.swapped] = 2
    level[_any_equal(ls, rs)] = 1
    level[(ls[:, 0] == rs[:, 0]) & ~missing] = 0
    level[missing] = 6
    return level


# ------------------------------------------------------------------------------ first name

FIRST_LEVELS = (
    "exact (term-frequency adjusted)",
    "nickname of each other",
    "jaro-winkler >= 0.9",
    "initial agrees",
    "different",
    "missing",
)


class _FirstNames:
    """Per first-name code: length, first letter, and its nickname relatives as integer ids.

    Two names are nicknames of each other when their relative sets intersect ("bob" and
    "bobby" share "robert"); the sets are stored CSR-style so that the test runs in numpy.
    """

    def __init__(self, names: np.ndarray, codes: np.ndarray) -> None:
        size = len(names)
        self.length = np.zeros(size, dtype=np.int32)
        self.letter = np.zeros(size, dtype=np.int32)
        counts = np.zeros(size, dtype=np.int64)
        ids: dict[str, int] = {}
        per_code: dict[int, list[int]] = {}
        for code in codes.tolist():
            name = names[code]
            self.length[code] = len(name)
            self.letter[code] = ord(name[0]) if name else 0
            variants = [Vocab.code(ids, v) for v in first_variants(names, code)]
            per_code[code] = variants
            counts[code] = len(variants)
        self.indptr = np.r_[0, np.cumsum(counts)]
        self.indices = np.zeros(int(counts.sum()), dtype=np.int64)
        for code, variants in per_code.items():
            self.indices[self.indptr[code] : self.indptr[code + 1]] = variants

        # Every (a, b) pair of codes that share a relative, as sorted int64 keys a << 32 | b.
        order = np.argsort(self.indices, kind="stable")
        owners = np.repeat(np.arange(size, dtype=np.int64), counts)[order]
        shared = self.indices[order]
        starts = np.r_[0, np.flatnonzero(np.diff(shared)) + 1, len(shared)]
        keys = []
        for lo, hi in itertools.pairwise(starts.tolist()):
            group = owners[lo:hi]
            if len(group) > 1:
                keys.append(((group[:, None] << 32) | group[None, :]).ravel())
        self.pairs = np.unique(np.concatenate(keys)) if keys else np.empty(0, np.int64)

    def nicknames(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if len(self.pairs) == 0:
            return np.zeros(len(a), dtype=bool)
        key = (a.astype(np.int64) << 32) | b.astype(np.int64)
        at = np.minimum(np.searchsorted(self.pairs, key), len(self.pairs) - 1)
        return self.pairs[at] == key


def _first_names(p: PairBatch) -> _FirstNames:
    table = getattr(p.vocab, "_first_names", None)
    if table is None or len(table.length) < len(p.vocab.names):
        codes = np.unique(np.r_[p.left.first, p.right.first])
        table = _FirstNames(p.names, codes[codes >= 0])
        p.vocab._first_names = table
    return table


def first_level(p: PairBatch) -> np.ndarray:
    a, b = p.left.first[p.lpos], p.right.first[p.rpos]
    level = np.full(len(p), 4, dtype=np.int8)
    missing = (a < 0) | (b < 0)
    todo = ~missing & (a != b)
    if todo.any():
        ta, tb = a[todo], b[todo]
        sim = p.similarity(ta, tb)
        key = (ta.astype(np.int64) << 32) | tb.astype(np.int64)
        uniq, inverse = np.unique(key, return_inverse=True)
        ua, ub = (uniq >> 32).astype(np.int64), (uniq & 0xFFFFFFFF).astype(np.int64)
        table = _first_names(p)
        one_letter = (table.length[ua] == 1) | (table.length[ub] == 1)
        initial = one_letter & (table.letter[ua] == table.letter[ub])
        nick = ~one_letter & table.nicknames(ua, ub)
        sub = np.full(len(ta), 4, dtype=np.int8)
        sub[initial[inverse]] = 3
        sub[(sim >= 0.9) & ~initial[inverse]] = 2
        same_root = p.left.first_root[p.lpos[todo]] == p.right.first_root[p.rpos[todo]]
        sub[nick[inverse] | same_root] = 1
        level[todo] = sub
    level[~missing & (a == b)] = 0
    level[p.swapped] = 0
    level[missing & ~p.swapped] = 5
    return level


# ------------------------------------------------------------------------------ others

MIDDLE_LEVELS = ("agree", "disagree", "missing")


def middle_level(p: PairBatch) -> np.ndarray:
    a, b = p.left.middle[p.lpos], p.right.middle[p.rpos]
    level = np.where(a == b, 0, 1).astype(np.int8)
    level[(a < 0) | (b < 0)] = 2
    return level


LOCATION_LEVELS = (
    "same state and city or ZIP",
    "same hospital or group",
    "same state, other city",
    "other state",
    "missing",
)


def location_level(p: PairBatch) -> np.ndarray:
    """Practice state, city, ZIP and affiliation move together: ONE comparison, not four."""
    ls, rs = p.left.states[p.lpos], p.right.states[p.rpos]
    same_state = (ls & rs) != 0
    level = np.where(same_state, 2, 3).astype(np.int8)
    level[_any_equal(p.left.affiliations[p.lpos], p.right.affiliations[p.rpos])] = 1
    level[same_state & _any_equal(p.left.places[p.lpos], p.right.places[p.rpos])] = 0
    no_place = (ls == 0) & (p.left.affiliations[p.lpos, 0] < 0)
    no_place |= (rs == 0) & (p.right.affiliations[p.rpos, 0] < 0)
    level[no_place] = 4
    return level


SPECIALTY_LEVELS = ("agree through the crosswalk", "disagree", "missing")


def specialty_level(p: PairBatch) -> np.ndarray:
    ls, rs = p.left.specialties[p.lpos], p.right.specialties[p.rpos]
    agree_matrix = p.vocab.specialty_agreement
    hit = np.zeros(len(p), dtype=bool)
    for i in range(ls.shape[1]):
        a = ls[:, i]
        if not (a >= 0).any():
            continue
        for j in range(rs.shape[1]):
            b = rs[:, j]
            hit |= agree_matrix[a, b] & (a >= 0) & (b >= 0)
    level = np.where(hit, 0, 1).astype(np.int8)
    level[(ls[:, 0] < 0) | (rs[:, 0] < 0)] = 2
    return level


EDUCATION_LEVELS = (
    "same medical school and year",
    "same medical school",
    "different medical school",
    "missing",
)


def education_level(p: PairBatch) -> np.ndarray:
    ls, rs = p.left.school[p.lpos], p.right.school[p.rpos]
    ly, ry = p.left.year[p.lpos], p.right.year[p.rpos]
    level = np.where(ls == rs, 1, 2).astype(np.int8)
    level[(ls == rs) & (ly == ry) & (ly > 0)] = 0
    level[(ls < 0) | (rs < 0)] = 3
    return level


NPI_LEVELS = ("equal", "different", "missing")


def npi_level(p: PairBatch) -> np.ndarray:
    a, b = p.left.npi[p.lpos], p.right.npi[p.rpos]
    level = np.where(a == b, 0, 1).astype(np.int8)
    level[(a == 0) | (b == 0)] = 2
    return level


DEGREE_LEVELS = ("both physicians or both not", "one is not a physician", "missing")


def degree_level(p: PairBatch) -> np.ndarray:
    a, b = p.left.physician[p.lpos], p.right.physician[p.rpos]
    level = np.where(a == b, 0, 1).astype(np.int8)
    level[(a < 0) | (b < 0)] = 2
    return level


COMPARISONS: tuple[Comparison, ...] = (
    Comparison(
        "surname",
        SURNAME_LEVELS,
        6,
        (0.88, 0.05, 0.005, 0.03, 0.02, 0.015, 1),
        (0.001, 0.0005, 0.00001, 0.002, 0.02, 0.9765, 1),
        surname_level,
        tf_level=0,
    ),
    Comparison(
        "first_name",
        FIRST_LEVELS,
        5,
        (0.80, 0.10, 0.04, 0.03, 0.03, 1),
        (0.015, 0.004, 0.01, 0.05, 0.921, 1),
        first_level,
        tf_level=0,
    ),
    Comparison("middle_initial", MIDDLE_LEVELS, 2, (0.9, 0.1, 1), (0.08, 0.92, 1), middle_level),
    Comparison(
        "location",
        LOCATION_LEVELS,
        4,
        (0.6, 0.05, 0.2, 0.15, 1),
        (0.004, 0.002, 0.03, 0.964, 1),
        location_level,
    ),
    Comparison("specialty", SPECIALTY_LEVELS, 2, (0.8, 0.2, 1), (0.08, 0.92, 1), specialty_level),
    Comparison(
        "education",
        EDUCATION_LEVELS,
        3,
        (0.85, 0.1, 0.05, 1),
        (0.0005, 0.01, 0.9895, 1),
        education_level,
    ),
    Comparison("npi", NPI_LEVELS, 2, (0.99, 0.01, 1), (1e-6, 1 - 1e-6, 1), npi_level),
    Comparison("degree", DEGREE_LEVELS, 2, (0.98, 0.02, 1), (0.7, 0.3, 1), degree_level),
)
COMPARISON_BY_NAME = {c.name: c for c in COMPARISONS}


def comparison_levels(batch: PairBatch) -> np.ndarray:
    """Level index of every comparison for every pair: int8 array (pairs, comparisons)."""
    out = np.empty((len(batch), len(COMPARISONS)), dtype=np.int8)
    for k, comparison in enumerate(COMPARISONS):
        out[:, k] = comparison.level_of(batch) if len(batch) else 0
    return out
