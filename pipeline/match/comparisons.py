"""Comparisons as data: each is a name, its discrete levels, and a vectorized level function.

A level function takes a ``PairBatch`` (two encoded sides and the positions of the pairs) and
returns one level index per pair (int8). Fuzzy string similarity is computed once per *distinct*
pair of values with rapidfuzz's vectorized ``process.cpdist`` on both cores; set agreement
(places, specialties, surnames with their alternates) is numpy on padded integer codes.

Comparisons are declared (``COMPARISONS``): each level has a label, a starting m and u, and a
Jaro-Winkler threshold where it has one; level functions look their levels up by label and
read the thresholds from the declaration. The starting ``m`` / ``u`` are only a start:
``pipeline.match.model`` estimates u from random pairs and m by expectation-maximisation on the
blocked pairs, without labels.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from pipeline.match.people import Encoded, Vocab, first_variants
from pipeline.normalize.gender import UNKNOWN, name_sex


@dataclass(frozen=True)
class Level:
    """One agreement level: what it means, and the starting m and u EM refines."""

    label: str
    m: float  # starting P(level | same person)
    u: float  # starting P(level | different people)
    similarity: float | None = None  # Jaro-Winkler threshold of a fuzzy level
    tf: bool = False  # u is the value's own frequency on the reference side


def exact(m: float, u: float, *, tf: bool = False) -> Level:
    return Level("exact (term-frequency adjusted)" if tf else "exact", m, u, tf=tf)


def jaro_winkler(threshold: float, m: float, u: float) -> Level:
    """A fuzzy level; its label is its threshold ("jaro-winkler >= 0.92")."""
    return Level(f"jaro-winkler >= {threshold:g}", m, u, similarity=threshold)


# "Cannot compare" (a value missing on one side): weight 0, never estimated.
MISSING = Level("missing", 1.0, 1.0)


@dataclass(frozen=True)
class Comparison:
    name: str
    level_list: tuple[Level, ...]
    level_of: Callable[[PairBatch, Comparison], np.ndarray]  # one level index per pair
    # False: m is declared, not estimated (EM on namesakes cannot learn how rarely a property
    # of the person disagrees with itself; the declaration says it).
    estimate_m: bool = True
    # True: the weight is log2(m) alone. The comparison says in which order other comparisons
    # compared their values; how often strangers agree so is counted by those (``name_order``).
    weight_is_m_only: bool = False

    @property
    def levels(self) -> tuple[str, ...]:
        return tuple(level.label for level in self.level_list)

    @property
    def m(self) -> tuple[float, ...]:
        return tuple(level.m for level in self.level_list)

    @property
    def u(self) -> tuple[float, ...]:
        return tuple(level.u for level in self.level_list)

    @property
    def null_level(self) -> int:
        return self.levels.index(MISSING.label)

    @property
    def tf_level(self) -> int | None:
        return next((k for k, level in enumerate(self.level_list) if level.tf), None)

    def index(self, label: str) -> int:
        return self.levels.index(label)

    def fuzzy_levels(self) -> list[tuple[int, float]]:
        """(level, threshold) of the Jaro-Winkler levels, loosest first: assign in this order."""
        fuzzy = [(k, lv.similarity) for k, lv in enumerate(self.level_list) if lv.similarity]
        return sorted(fuzzy, key=lambda kv: kv[1])


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

    def scores(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(Jaro-Winkler similarity, Damerau-Levenshtein distance) of name codes, as far as the
        levels need them: the similarity where it could reach the loosest fuzzy level (else 0),
        the distance where it could be one (else 99). Each distinct code pair is looked at
        once; missing names: similarity 0, distance 99."""
        sim = np.zeros(len(a), dtype=np.float32)
        dist = np.full(len(a), 99, dtype=np.int16)
        ok = (a >= 0) & (b >= 0)
        if not ok.any():
            return sim, dist
        inverse, ua, ub = _distinct_pairs(a[ok], b[ok])
        jw, dl = self.distinct_scores(ua, ub)
        sim[ok] = jw[inverse]
        dist[ok] = dl[inverse]
        return sim, dist

    def distinct_scores(self, ua: np.ndarray, ub: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``scores`` of distinct pairs of (present) name codes."""
        jw = np.zeros(len(ua), dtype=np.float32)
        dl = np.full(len(ua), 99, dtype=np.int16)
        # Most candidate names share too few letters to be close: they are not scored (scoring
        # also holds the GIL while rapidfuzz reads the strings).
        fuzzy, one_edit = _could_be_close(self.vocab, ua, ub)
        todo = np.flatnonzero(fuzzy)
        if len(todo):
            names = self.names
            left, right = names[ua[todo]].tolist(), names[ub[todo]].tolist()
            jw[todo] = process.cpdist(
                left, right, scorer=JaroWinkler.normalized_similarity, workers=-1
            )
            # One edit apart implies a Jaro-Winkler similarity well above 0.6: measure only
            # those, and names of three letters, whose Jaro window is too narrow to see a
            # transposition.
            length = _name_lengths(self.vocab)
            short = (length[ua[todo]] <= 3) & (length[ub[todo]] <= 3)
            near = np.flatnonzero(((jw[todo] >= 0.6) | short) & one_edit[todo])
            if len(near):
                got = process.cpdist(
                    [left[k] for k in near.tolist()],
                    [right[k] for k in near.tolist()],
                    scorer=DamerauLevenshtein.distance,
                    workers=-1,
                )
                dl[todo[near]] = np.minimum(np.asarray(got), 99)
        return jw, dl

    def subset(self, pairs: np.ndarray) -> PairBatch:
        """The batch of some of these pairs (``pairs``: their indexes)."""
        return PairBatch(self.left, self.right, self.vocab, self.lpos[pairs], self.rpos[pairs])

    def distances(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Damerau-Levenshtein distance of name codes where it could be one (else 99): only
        names one edit may separate are measured, each distinct code pair once."""
        dist = np.full(len(a), 99, dtype=np.int16)
        ok = np.flatnonzero((a >= 0) & (b >= 0))
        if not len(ok):
            return dist
        inverse, ua, ub = _distinct_pairs(a[ok], b[ok])
        dl = np.full(len(ua), 99, dtype=np.int16)
        near = np.flatnonzero(_could_be_close(self.vocab, ua, ub)[1])
        if len(near):
            names = self.names
            got = process.cpdist(
                names[ua[near]].tolist(),
                names[ub[near]].tolist(),
                scorer=DamerauLevenshtein.distance,
                workers=-1,
            )
            dl[near] = np.minimum(np.asarray(got), 99)
        dist[ok] = dl[inverse]
        return dist

    @cached_property
    def swapped(self) -> np.ndarray:
        """The left record's first and last names are in each other's fields ("Wong Mei" for
        Mei Wong): its names agree better with the right record's exchanged than as given.

        Agreement of one name: 2 equal (or any surname form), 1 one typo apart, a nickname or
        an initial that fits, 0 otherwise. The exchanged order must do strictly better, and
        both names must agree in it: a first name that is also a surname ("Rose", "Anthony")
        equal to someone's surname is no swap when the other name says nothing.
        """
        lf, ll = self.left.first[self.lpos], self.left.last[self.lpos]
        rf, rs = self.right.first[self.rpos], _rows(self.right, "surnames", self.rpos)
        out = np.zeros(len(self), dtype=bool)
        letter = _first_names(self).letter
        length = _first_names(self).length
        # Worth a look: both names present, a first letter fitting exchanged, and either the
        # first letters as given not both fitting or a name equal to the other field's.
        both = (lf >= 0) & (ll >= 0) & (rf >= 0) & (rs[:, 0] >= 0) & (lf != ll)
        both &= (letter[ll] == letter[rf]) | (letter[lf] == letter[rs[:, 0]])
        as_given = (letter[lf] == letter[rf]) & (letter[ll] == letter[rs[:, 0]])
        both &= ~as_given | (ll == rf) | equals_any(lf, rs)
        both &= ~((lf == rf) & (ll == rs[:, 0]))
        if not both.any():
            return out
        idx = np.flatnonzero(both)
        lf, ll, rf, rs = lf[idx], ll[idx], rf[idx], rs[idx]

        def agree(x: np.ndarray, y: np.ndarray, first: bool = False) -> np.ndarray:
            dist = self.distances(x, y)
            one_letter = (length[x] == 1) | (length[y] == 1)
            fits = one_letter & (letter[x] == letter[y])
            if first:
                fits |= ~one_letter & _first_names(self).nicknames(x, y)
            agreement = np.where(x == y, 2, np.where((dist <= 1) & ~one_letter | fits, 1, 0))
            if first:
                open_ = np.flatnonzero(agreement == 0)
                agreement[open_] = _contains(self.vocab, x[open_], y[open_])
            return agreement

        def agree_surname(forms: np.ndarray) -> np.ndarray:
            """Best agreement of any form of one side's surname with any of the right's."""
            best = np.zeros(len(forms), dtype=np.int64)
            for i in range(forms.shape[1]):
                for j in range(rs.shape[1]):
                    has = (forms[:, i] >= 0) & (rs[:, j] >= 0)
                    if has.any():
                        best[has] = np.maximum(best[has], agree(forms[has, i], rs[has, j]))
            return best

        # Both exchanged names must agree: the rarer of the two tests first, then the rest
        # only where it holds.
        surname_exchanged = agree_surname(self.left.first_as_surnames.take(self.lpos[idx], axis=0))
        keep = np.flatnonzero(surname_exchanged > 0)
        idx, lf, ll, rf, rs = idx[keep], lf[keep], ll[keep], rf[keep], rs[keep]
        surname_exchanged = surname_exchanged[keep]
        first_exchanged = agree(ll, rf, first=True)
        keep = np.flatnonzero(first_exchanged > 0)
        idx, lf, ll, rf, rs = idx[keep], lf[keep], ll[keep], rf[keep], rs[keep]
        exchanged = first_exchanged[keep] + surname_exchanged[keep]
        straight = agree(lf, rf, first=True) + agree_surname(
            self.left.surnames.take(self.lpos[idx], axis=0)
        )
        out[idx] = exchanged > straight
        return out

    @cached_property
    def left_first(self) -> np.ndarray:
        """The left record's first-name codes per pair, in the order that fits (``swapped``)."""
        first = self.left.first[self.lpos]
        return np.where(self.swapped, self.left.last[self.lpos], first)

    @cached_property
    def left_first_root(self) -> np.ndarray:
        root = self.left.first_root[self.lpos]
        return np.where(self.swapped, self.left.last[self.lpos], root)


def _name_lengths(vocab: Vocab) -> np.ndarray:
    """Length of every name key by code (one array per size of the name table)."""
    lengths = vocab.__dict__.get("_name_lengths")
    if lengths is None or len(lengths) != len(vocab.names):
        names = vocab.name_list()
        lengths = np.fromiter((len(x) for x in names), np.int32, len(names))
        vocab._name_lengths = lengths
    return lengths


def _letter_counts(vocab: Vocab) -> np.ndarray:
    """How often each character (a-z, 0-9, anything else) occurs in every name key, by code:
    uint8 (names, 37)."""
    counts = vocab.__dict__.get("_letter_counts")
    if counts is None or len(counts) != len(vocab.names):
        text = vocab.name_list().tolist()
        data = np.frombuffer("".join(text).encode("ascii", "replace"), np.uint8)
        symbol = np.full(256, 36, dtype=np.int64)
        symbol[np.frombuffer(b"abcdefghijklmnopqrstuvwxyz0123456789", np.uint8)] = np.arange(36)
        owner = np.repeat(np.arange(len(text), dtype=np.int64), _name_lengths(vocab))
        flat = np.bincount(owner * 37 + symbol[data], minlength=len(text) * 37)
        counts = np.minimum(flat, 255).astype(np.uint8).reshape(len(text), 37)
        vocab._letter_counts = counts
    return counts


@lru_cache(maxsize=1)
def _jaro_needed() -> float:
    """The Jaro similarity below which Jaro-Winkler cannot reach the loosest fuzzy level: the
    Winkler bonus (a 0.1 share of the gap per common prefix letter, four at most) applies above
    a Jaro of 0.7 only, so Jaro-Winkler <= 0.6 + 0.4 x Jaro there and = Jaro below."""
    loosest = min(t for c in COMPARISONS for _, t in c.fuzzy_levels())
    return loosest if loosest <= 0.7 else max(0.7, (loosest - 0.6) / 0.4)


def _letter_sets(vocab: Vocab) -> tuple[np.ndarray, np.ndarray]:
    """Per name code: the set of characters it holds as a bit mask (uint64, the 37 symbols of
    ``_letter_counts``) and its letters beyond one of each (its repeats)."""
    sets = vocab.__dict__.get("_letter_sets")
    if sets is None or len(sets[0]) != len(vocab.names):
        counts = _letter_counts(vocab)
        present = counts > 0
        bits = np.left_shift(np.uint64(1), np.arange(37, dtype=np.uint64))
        mask = np.bitwise_or.reduce(np.where(present, bits, np.uint64(0)), axis=1)
        repeats = counts.sum(axis=1, dtype=np.int32) - present.sum(axis=1, dtype=np.int32)
        sets = vocab._letter_sets = (mask, repeats)
    return sets


def _could_be_close(vocab: Vocab, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pair of name codes: could they reach a fuzzy level, and could they be one edit
    apart? Upper bounds from the letters they share (``m``, counted with repeats, at least
    the Jaro matches): Jaro <= (m / len a + m / len b + 1) / 3; one edit needs lengths at most
    one apart and all letters but one shared. ``m`` is bounded cheaply first (the characters
    both hold, plus the fewer repeats) and counted exactly only where that bound passes."""
    length = _name_lengths(vocab)
    la, lb = np.maximum(length[a], 1), np.maximum(length[b], 1)

    def bounds(shared: np.ndarray, la: np.ndarray, lb: np.ndarray):
        jaro_bound = (shared / la + shared / lb + 1) / 3
        one_edit = (np.abs(la - lb) <= 1) & (shared >= np.maximum(la, lb) - 1)
        return (jaro_bound >= _jaro_needed() - 1e-9) | one_edit, one_edit

    mask, repeats = _letter_sets(vocab)
    rough = np.bitwise_count(mask[a] & mask[b]) + np.minimum(repeats[a], repeats[b])
    close, one_edit = bounds(rough, la, lb)
    look = np.flatnonzero(close)
    counts = _letter_counts(vocab)
    a, b = a[look], b[look]
    shared = np.minimum(counts.take(a, axis=0), counts.take(b, axis=0)).sum(axis=1, dtype=np.int32)
    close[look], one_edit[look] = bounds(shared, la[look], lb[look])
    return close, one_edit


def _distinct_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(inverse, ua, ub): pairs of codes (non-negative, below 2**32) numbered by distinct pair,
    and the distinct pairs' two codes: work per distinct pair, spread back with ``inverse``."""
    inverse, uniq = pd.factorize((a.astype(np.int64) << 32) | b.astype(np.int64))
    return inverse, (uniq >> 32).astype(np.int64), (uniq & 0xFFFFFFFF).astype(np.int64)


def _contains(vocab: Vocab, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per pair of name codes: is the one of 3+ letters inside the other ("tony" / "anthony",
    a short form no table lists)? Each distinct pair is looked at once."""
    out = np.zeros(len(a), dtype=bool)
    todo = np.flatnonzero((a >= 0) & (b >= 0) & (a != b))
    if len(todo) == 0:
        return out
    inverse, ua, ub = _distinct_pairs(a[todo], b[todo])
    out[todo] = _distinct_contains(vocab, ua, ub)[inverse]
    return out


def _distinct_contains(vocab: Vocab, ua: np.ndarray, ub: np.ndarray) -> np.ndarray:
    """``_contains`` of distinct pairs of present, different name codes."""
    inside = np.zeros(len(ua), dtype=bool)
    length = _name_lengths(vocab)
    # Only where every letter of the shorter name (of 3+) is in the longer one is it worth a
    # look.
    counts = _letter_counts(vocab)
    shared = np.minimum(counts.take(ua, axis=0), counts.take(ub, axis=0)).sum(
        axis=1, dtype=np.int32
    )
    shorter = np.minimum(length[ua], length[ub])
    look = np.flatnonzero((shorter >= 3) & (shared >= shorter))
    names = vocab.name_list()
    xs, ys = names[ua[look]].tolist(), names[ub[look]].tolist()
    inside[look] = np.fromiter((x in y or y in x for x, y in zip(xs, ys)), bool, len(xs))
    return inside


_PADDED = ("surnames", "places", "affiliations", "specialties")


def _rows(side: Encoded, name: str, pos: np.ndarray) -> np.ndarray:
    """``side.<name>[pos]`` (padded code rows) from the columns some row of the side uses, the
    first always: most of a padded table is padding, and a gather moves every column."""
    compact = side.__dict__.setdefault("_compact_rows", {})
    table = compact.get(name)
    if table is None:
        table = getattr(side, name)
        used = (table >= 0).any(axis=0)
        used[0] = True
        table = compact[name] = np.ascontiguousarray(table[:, used])
    return table.take(pos, axis=0)  # (take: several times faster than [pos] on rows)


def _used(rows: np.ndarray) -> np.ndarray:
    """The columns of padded code rows that hold a value somewhere (often just the first)."""
    if not rows.size:
        return rows
    used = [j for j in range(rows.shape[1]) if rows[:, j].max() >= 0]  # (not a short-row any)
    return rows if len(used) == rows.shape[1] else rows[:, used]


def equals_any(col: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Row-wise: is ``col`` equal to any value of ``rows`` (column by column: a reduction
    along short rows is many times slower)."""
    hit = np.zeros(len(col), dtype=bool)
    for j in range(rows.shape[1]):
        hit |= col == rows[:, j]
    return hit


def _any_equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise: do two padded code rows share a non-missing value?"""
    a, b = _used(a), _used(b)
    hit = np.zeros(len(a), dtype=bool)
    for i in range(a.shape[1]):
        col = a[:, i]
        if not (col >= 0).any():
            continue
        hit |= equals_any(col, b) & (col >= 0)
    return hit


# ------------------------------------------------------------------------------ surname


def _row_ids(rows: np.ndarray) -> np.ndarray:
    """An id per row of padded codes, equal exactly where the rows are."""
    ids = np.zeros(len(rows), dtype=np.int64)
    for k in range(rows.shape[1]):
        ids = pd.factorize((ids << 32) | (rows[:, k].astype(np.int64) + 1))[0].astype(np.int64)
    return ids


def _surname_row_ids(side: Encoded) -> tuple[np.ndarray, np.ndarray]:
    """Ids of a side's surname rows and of its first-name fields read as surnames, in one id
    space (a swapped page compares the latter), made once per side."""
    ids = side.__dict__.get("_surname_row_ids")
    if ids is None:
        both = _row_ids(np.concatenate([side.surnames, side.first_as_surnames]))
        ids = side._surname_row_ids = (both[: side.n], both[side.n :])
    return ids


def _once_each(lid: np.ndarray, rid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(inverse, first): the pairs of ids numbered by distinct pair, and the first position of
    each distinct pair (the one compared for all of them)."""
    inverse, ua, _ = _distinct_pairs(lid, rid)
    first = np.empty(len(ua), dtype=np.int64)
    first[inverse[::-1]] = np.arange(len(inverse) - 1, -1, -1)
    return inverse, first


def surname_level(p: PairBatch, c: Comparison) -> np.ndarray:
    """Every surname form of each side against every one of the other (other names, parts).
    Many pairs compare the same two rows of surnames: each distinct two is compared once."""
    surnames, as_swapped = _surname_row_ids(p.left)
    lid = np.where(p.swapped, as_swapped[p.lpos], surnames[p.lpos])
    rid = _surname_row_ids(p.right)[0][p.rpos]
    inverse, first = _once_each(lid, rid)
    lpos, flip = p.lpos[first], p.swapped[first]
    ls = np.where(
        flip[:, None],
        p.left.first_as_surnames.take(lpos, axis=0),
        p.left.surnames.take(lpos, axis=0),
    )
    return _surname_rows_level(p, c, ls, _rows(p.right, "surnames", p.rpos[first]))[inverse]


def _surname_rows_level(p: PairBatch, c: Comparison, ls: np.ndarray, rs: np.ndarray) -> np.ndarray:
    level = np.full(len(ls), c.index("different"), dtype=np.int8)
    missing = (ls[:, 0] < 0) | (rs[:, 0] < 0)
    best = np.zeros(len(ls), dtype=np.float32)
    closest = np.full(len(ls), 99, dtype=np.int16)
    used_l, used_r = _used(ls), _used(rs)
    shared = _any_equal(used_l, used_r)  # a level above any score: no need to score them
    for i in range(used_l.shape[1]):
        for j in range(used_r.shape[1]):
            a, b = used_l[:, i], used_r[:, j]
            ok = (a >= 0) & (b >= 0) & (a != b) & ~shared
            if not ok.any():
                continue
            sim, dist = p.scores(a[ok], b[ok])
            best[ok] = np.maximum(best[ok], sim)
            closest[ok] = np.minimum(closest[ok], dist)
    for k, threshold in c.fuzzy_levels():
        level[best >= threshold] = k
    level[closest <= 1] = c.index("one typo apart")
    level[shared] = c.index("other name or part of a compound agrees")
    level[(ls[:, 0] == rs[:, 0]) & ~missing] = c.tf_level
    level[missing] = c.null_level
    return level


# ------------------------------------------------------------------------------ first name


class _FirstNames:
    """Per first-name code: length, first letter, and its nickname relatives as integer ids.

    Two names are nicknames of each other when their relative sets intersect ("bob" and
    "bobby" share "robert"); the sets are stored CSR-style so that the test runs in numpy.
    """

    def __init__(self, names: np.ndarray, codes: np.ndarray, lengths: np.ndarray) -> None:
        size = len(names)
        # Length and first letter of every name (a swapped surname is compared as a first name).
        self.length = lengths
        self.letter = np.fromiter((ord(x[0]) if x else 0 for x in names), np.int32, size)
        counts = np.zeros(size, dtype=np.int64)
        ids: dict[str, int] = {}
        per_code: dict[int, list[int]] = {}
        for code in codes.tolist():
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
        # The left side's surnames too: a page may have put them in the first-name field.
        codes = np.unique(np.r_[p.left.first, p.left.last, p.right.first])
        table = _FirstNames(p.names, codes[codes >= 0], _name_lengths(p.vocab))
        p.vocab._first_names = table
    return table


def first_level(p: PairBatch, c: Comparison) -> np.ndarray:
    """Exact, nicknames (the table), one typo apart (Damerau-Levenshtein, any letter), a
    short form the table lacks that the other name contains ("Xander" / "Alexander"), an
    initial."""
    a, b = p.left_first, p.right.first[p.rpos]
    level = np.full(len(p), c.index("different"), dtype=np.int8)
    missing = (a < 0) | (b < 0)
    todo = ~missing & (a != b)
    if todo.any():
        # Every test below is of the two names alone: each distinct pair is tested once.
        inverse, ua, ub = _distinct_pairs(a[todo], b[todo])
        sim, dist = p.distinct_scores(ua, ub)
        table = _first_names(p)
        one_letter = (table.length[ua] == 1) | (table.length[ub] == 1)
        nick = ~one_letter & table.nicknames(ua, ub)
        contains = np.zeros(len(ua), dtype=bool)
        open_ = np.flatnonzero(~nick)
        contains[open_] = _distinct_contains(p.vocab, ua[open_], ub[open_])
        sub = np.full(len(ua), c.index("different"), dtype=np.int8)
        sub[one_letter & (table.letter[ua] == table.letter[ub])] = c.index("initial agrees")
        for k, threshold in c.fuzzy_levels():
            sub[(sim >= threshold) & ~one_letter] = k
        sub[contains] = c.index("one contains the other")
        sub[(dist <= 1) & ~one_letter] = c.index("one typo apart")
        sub[nick] = c.index("nickname of each other")
        sub = sub[inverse]
        same_root = p.left_first_root[todo] == p.right.first_root[p.rpos[todo]]
        sub[same_root] = c.index("nickname of each other")
        level[todo] = sub
    level[~missing & (a == b)] = c.tf_level
    level[missing] = c.null_level
    return level


def name_order_level(p: PairBatch, c: Comparison) -> np.ndarray:
    """Did the page put the names in each other's fields? (Then they are compared swapped.)"""
    as_given, swapped = c.index("as registered"), c.index("first and last names swapped")
    level = np.where(p.swapped, swapped, as_given).astype(np.int8)
    no_names = (p.left.first[p.lpos] < 0) | (p.left.last[p.lpos] < 0)
    level[no_names & ~p.swapped] = c.null_level
    return level


# ------------------------------------------------------------------------------ others


def middle_level(p: PairBatch, c: Comparison) -> np.ndarray:
    a, b = p.left.middle[p.lpos], p.right.middle[p.rpos]
    level = np.where(a == b, c.index("initials agree"), c.index("disagree")).astype(np.int8)
    name_a, name_b = p.left.middle_name[p.lpos], p.right.middle_name[p.rpos]
    level[(name_a >= 0) & (name_a == name_b)] = c.index("same middle name")
    level[(a < 0) | (b < 0)] = c.null_level
    return level


def _location_row_ids(side: Encoded) -> np.ndarray:
    """Ids of a side's (states, places, affiliations) rows, equal exactly where all three are;
    made once per side."""
    ids = side.__dict__.get("_location_row_ids")
    if ids is None:
        states = side.states.view(np.int64)
        rows = np.column_stack([states >> 32, states & 0xFFFFFFFF, side.places, side.affiliations])
        ids = side._location_row_ids = _row_ids(rows)
    return ids


def location_level(p: PairBatch, c: Comparison) -> np.ndarray:
    """Practice state, city, ZIP and affiliation move together: ONE comparison, not four.
    Each distinct pair of whereabouts is compared once (most pairs share theirs with others)."""
    lid, rid = _location_row_ids(p.left)[p.lpos], _location_row_ids(p.right)[p.rpos]
    inverse, first = _once_each(lid, rid)
    return _whereabouts_level(p.subset(first), c)[inverse]


def _whereabouts_level(p: PairBatch, c: Comparison) -> np.ndarray:
    ls, rs = p.left.states[p.lpos], p.right.states[p.rpos]
    same_state = (ls & rs) != 0
    unknown_state = (ls == 0) | (rs == 0)  # a place outside the states we know
    level = np.where(same_state, c.index("same state, other city"), c.index("other state"))
    level = level.astype(np.int8)
    same_group = _any_equal(
        _rows(p.left, "affiliations", p.lpos), _rows(p.right, "affiliations", p.rpos)
    )
    level[same_group] = c.index("same hospital or group")
    same_place = _any_equal(_rows(p.left, "places", p.lpos), _rows(p.right, "places", p.rpos))
    same_place &= same_state | unknown_state
    level[same_place] = c.index("same state and city or ZIP")
    level[same_place & same_group] = c.index("same place and same hospital, group or address")
    no_place = (
        (ls == 0) & (p.left.affiliations[:, 0][p.lpos] < 0) & (p.left.places[:, 0][p.lpos] < 0)
    )
    no_place |= (
        (rs == 0) & (p.right.affiliations[:, 0][p.rpos] < 0) & (p.right.places[:, 0][p.rpos] < 0)
    )
    level[no_place] = c.null_level
    # A place outside the states we know, and nothing agreeing: nothing known to disagree on.
    level[unknown_state & (level == c.index("other state"))] = c.null_level
    return level


def specialty_level(p: PairBatch, c: Comparison) -> np.ndarray:
    ls = _used(_rows(p.left, "specialties", p.lpos))
    rs = _used(_rows(p.right, "specialties", p.rpos))
    agree_matrix = p.vocab.specialty_agreement
    hit = np.zeros(len(p), dtype=bool)
    for i in range(ls.shape[1]):
        a = ls[:, i]
        if not (a >= 0).any():
            continue
        for j in range(rs.shape[1]):
            b = rs[:, j]
            hit |= agree_matrix[a, b] & (a >= 0) & (b >= 0)
    level = np.where(hit, c.index("agree through the crosswalk"), c.index("disagree"))
    level = level.astype(np.int8)
    missing = (p.left.specialties[:, 0][p.lpos] < 0) | (p.right.specialties[:, 0][p.rpos] < 0)
    level[missing] = c.null_level
    return level


def education_level(p: PairBatch, c: Comparison) -> np.ndarray:
    ls, rs = p.left.school[p.lpos], p.right.school[p.rpos]
    ly, ry = p.left.year[p.lpos], p.right.year[p.rpos]
    same_school = ls == rs
    both_years = (ly > 0) & (ry > 0)
    level = np.where(
        same_school, c.index("same medical school"), c.index("different medical school")
    ).astype(np.int8)
    apart = same_school & both_years & (np.abs(ly.astype(np.int32) - ry) == 1)
    level[apart] = c.index("same medical school, a year apart")
    level[same_school & both_years & (ly == ry)] = c.index("same medical school and year")
    # A school one side does not name (or staging could not resolve): the years still tell.
    no_school = (ls < 0) | (rs < 0)
    gap = np.abs(ly.astype(np.int32) - ry)
    level[no_school] = np.select(
        [gap[no_school] == 0, gap[no_school] == 1],
        [c.index("same year, a school unknown"), c.index("a year apart, a school unknown")],
        c.index("other year, a school unknown"),
    )
    level[no_school & ~both_years] = c.null_level
    return level


def _name_sexes(p: PairBatch, codes: np.ndarray) -> np.ndarray:
    """The sex each first-name code tells (``name_sex``), looked up once per name per link."""
    table = getattr(p.vocab, "_name_sexes", None)
    if table is None or len(table) < len(p.vocab.names):
        grown = np.full(len(p.vocab.names), -1, dtype=np.int8)  # -1: not looked up yet
        if table is not None:
            grown[: len(table)] = table
        table = p.vocab._name_sexes = grown
    known = table[np.maximum(codes, 0)]
    todo = codes[(codes >= 0) & (known < 0)]  # none once ``build_tables`` has run
    if len(todo):
        todo = np.unique(todo)
        names = p.names
        table[todo] = [name_sex(names[k]) for k in todo.tolist()]
        known = table[np.maximum(codes, 0)]
    return np.where(codes >= 0, known, UNKNOWN)


def sex_level(p: PairBatch, c: Comparison) -> np.ndarray:
    """The sex each source states, else the one the first name tells.

    Two different first names of one sex may still be a nickname the tables do not know; of
    two sexes they are two people. Where both first names are the same (or the same formal
    name) and a sex was only read off them, it says nothing the first-name comparison has not.
    """
    first_l, first_r = p.left_first, p.right.first[p.rpos]
    stated_l, stated_r = p.left.gender[p.lpos], p.right.gender[p.rpos]
    sex_l = np.where(stated_l > 0, stated_l, _name_sexes(p, first_l))
    sex_r = np.where(stated_r > 0, stated_r, _name_sexes(p, first_r))
    level = np.where(sex_l == sex_r, c.index("same"), c.index("different")).astype(np.int8)
    same_name = (first_l >= 0) & (
        (first_l == first_r) | (p.left_first_root == p.right.first_root[p.rpos])
    )
    read_off_names = (stated_l == UNKNOWN) | (stated_r == UNKNOWN)
    level[(sex_l == UNKNOWN) | (sex_r == UNKNOWN) | (same_name & read_off_names)] = c.null_level
    return level


def npi_level(p: PairBatch, c: Comparison) -> np.ndarray:
    a, b = p.left.npi[p.lpos], p.right.npi[p.rpos]
    level = np.where(a == b, c.index("equal"), c.index("different")).astype(np.int8)
    level[(a == 0) | (b == 0)] = c.null_level
    return level


def degree_level(p: PairBatch, c: Comparison) -> np.ndarray:
    a, b = p.left.physician[p.lpos], p.right.physician[p.rpos]
    level = np.where(
        a == b, c.index("both physicians or both not"), c.index("one is not a physician")
    )
    level = level.astype(np.int8)
    level[(a < 0) | (b < 0)] = c.null_level
    return level


# The comparisons, declared: each level's label, starting m and u (EM refines m; u comes from
# random pairs), Jaro-Winkler thresholds where a level has one. Adding a field is one entry here
# and its level function above.
COMPARISONS: tuple[Comparison, ...] = (
    Comparison(
        "surname",
        (
            exact(m=0.88, u=0.001, tf=True),
            Level("other name or part of a compound agrees", m=0.05, u=0.0005),
            Level("one typo apart", m=0.03, u=0.0005),
            jaro_winkler(0.92, m=0.01, u=0.002),
            jaro_winkler(0.84, m=0.01, u=0.02),
            Level("different", m=0.02, u=0.976),
            MISSING,
        ),
        surname_level,
    ),
    Comparison(
        "first_name",
        (
            exact(m=0.80, u=0.015, tf=True),
            Level("nickname of each other", m=0.08, u=0.004),
            Level("one typo apart", m=0.03, u=0.005),
            Level("one contains the other", m=0.02, u=0.005),
            jaro_winkler(0.88, m=0.01, u=0.01),
            Level("initial agrees", m=0.03, u=0.05),
            Level("different", m=0.03, u=0.911),
            MISSING,
        ),
        first_level,
    ),
    # Names compared exchanged have been weighed by the name comparisons, as exchanged, with
    # the exchanged names' own frequencies: how often strangers agree so is already counted.
    # What is left is how rarely a page swaps the fields: the weight is log2(m) alone. That
    # rate is declared (about one listing in a hundred), not estimated: the training blocks
    # join on names as given, so they never hold a swapped pair to learn it from.
    Comparison(
        "name_order",
        (
            Level("as registered", m=0.99, u=0.98),
            Level("first and last names swapped", m=0.01, u=0.02),
            MISSING,
        ),
        name_order_level,
        estimate_m=False,
        weight_is_m_only=True,
    ),
    Comparison(
        "middle_initial",
        (
            Level("same middle name", m=0.5, u=0.01),
            Level("initials agree", m=0.4, u=0.07),
            Level("disagree", m=0.1, u=0.92),
            MISSING,
        ),
        middle_level,
    ),
    Comparison(
        "location",
        (
            Level("same place and same hospital, group or address", m=0.2, u=0.0005),
            # u: how many reference people share the place (the rarest place the two share):
            # the same ZIP in a small town says more than the same big city.
            Level("same state and city or ZIP", m=0.4, u=0.0035, tf=True),
            Level("same hospital or group", m=0.05, u=0.002),
            Level("same state, other city", m=0.2, u=0.03),
            Level("other state", m=0.15, u=0.964),
            MISSING,
        ),
        location_level,
    ),
    Comparison(
        "specialty",
        (
            Level("agree through the crosswalk", m=0.8, u=0.08),
            Level("disagree", m=0.2, u=0.92),
            MISSING,
        ),
        specialty_level,
    ),
    Comparison(
        "education",
        (
            Level("same medical school and year", m=0.8, u=0.0002),
            Level("same medical school, a year apart", m=0.05, u=0.0003),
            Level("same medical school", m=0.1, u=0.01),
            Level("different medical school", m=0.05, u=0.9895),
            Level("same year, a school unknown", m=0.9, u=0.02),
            Level("a year apart, a school unknown", m=0.05, u=0.04),
            Level("other year, a school unknown", m=0.05, u=0.94),
            MISSING,
        ),
        education_level,
    ),
    Comparison(
        "sex",
        # The same person's sex disagrees with itself only where a name was read wrong.
        (Level("same", m=0.98, u=0.5), Level("different", m=0.02, u=0.5), MISSING),
        sex_level,
        estimate_m=False,
    ),
    Comparison(
        "npi",
        (Level("equal", m=0.99, u=1e-6), Level("different", m=0.01, u=1 - 1e-6), MISSING),
        npi_level,
    ),
    Comparison(
        "degree",
        (
            Level("both physicians or both not", m=0.98, u=0.7),
            Level("one is not a physician", m=0.02, u=0.3),
            MISSING,
        ),
        degree_level,
    ),
)


def build_tables(left: Encoded, right: Encoded, vocab: Vocab) -> None:
    """Build the tables comparisons would otherwise fill lazily (first names' relatives, the
    sex each first name tells, specialty agreement, each side's padded code tables without
    their empty columns) for every name of both sides: comparisons running on several threads
    then only read them."""
    batch = PairBatch(left, right, vocab, np.empty(0, np.int64), np.empty(0, np.int64))
    _first_names(batch)
    _letter_sets(vocab)
    for side in (left, right):
        _surname_row_ids(side)
        _location_row_ids(side)
    _name_sexes(batch, np.r_[left.first, left.last, right.first])
    vocab.specialty_agreement  # noqa: B018 - a cached property, computed here once
    empty = np.empty(0, np.int64)
    for side in (left, right):
        for name in _PADDED:
            _rows(side, name, empty)


def comparison_levels(batch: PairBatch) -> np.ndarray:
    """Level index of every comparison for every pair: int8 array (pairs, comparisons)."""
    out = np.empty((len(batch), len(COMPARISONS)), dtype=np.int8)
    for k, comparison in enumerate(COMPARISONS):
        out[:, k] = comparison.level_of(batch, comparison) if len(batch) else 0
    return out
