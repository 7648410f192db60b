"""Link two person frames: encode, block, compare, estimate, score, and resolve each left record
to at most one right record with ``pipeline.match.decide``.

A link runs in chunks of ``CHUNK_RECORDS`` left records: each chunk's pairs are blocked,
compared, scored and folded into every record's best two candidates and the summed odds of the
rest (``TopTwo``), then dropped; memory follows the chunk and the reference, not the number of
pairs, so a national link (a million listings against seven million NPIs) fits one machine.
Within a chunk, pairs are compared and scored ``CHUNK_PAIRS`` at a time on every core; the
decisions' explanations are written ``EXPLAIN_RECORDS`` records at a time.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import closing
from dataclasses import dataclass, field
from typing import TypeVar

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.match.blocking import Blocker, Candidates
from pipeline.match.comparisons import COMPARISONS, PairBatch, build_tables, comparison_levels
from pipeline.match.decide import THRESHOLDS, identities, shares
from pipeline.match.model import (
    Parameters,
    a_name_disagrees,
    estimate_parameters,
    match_prior,
    pair_weights,
    term_frequency_tables,
)
from pipeline.match.people import (
    Encoded,
    Vocab,
    encode_sides,
)

log = logging.getLogger(__name__)

CHUNK_PAIRS = 1_000_000  # pairs compared at once: bounds the temporary arrays
CHUNK_RECORDS = 100_000  # left records blocked, compared and scored at once
EXPLAIN_RECORDS = 100_000  # records whose explanations are built at once
# The cores this process may use (sched_getaffinity is Linux-only).
COMPARE_THREADS = (
    len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
)

T = TypeVar("T")
_NPI = next(i for i, c in enumerate(COMPARISONS) if c.name == "npi")


@dataclass
class LinkDetails:
    """What a link learned and did: parameters, pair counts, timings (seconds)."""

    parameters: Parameters
    candidates: Candidates | None  # every candidate pair, when asked to keep them
    timings: dict[str, float] = field(default_factory=dict)
    cpu_timings: dict[str, float] = field(default_factory=dict)  # process CPU seconds per step
    left: Encoded | None = None
    right: Encoded | None = None
    vocab: Vocab | None = None
    pairs: int = 0  # candidate pairs compared


def _npi_decisive(levels: np.ndarray) -> np.ndarray:
    """An equal, check-digit-valid NPI decides when neither name disagrees. Where one does
    (a colleague's number on the page, or a new surname the reference does not know), the
    NPI is weighed with everything else: a candidate whose names and place agree can beat it.
    """
    return (levels[:, _NPI] == 0) & ~a_name_disagrees(levels)


def _record_batches(lpos: np.ndarray) -> list[tuple[int, int]]:
    """Ranges of about CHUNK_PAIRS pairs (bounding the temporary arrays) that never split a
    left record's pairs (``lpos`` sorted): each batch folds into records no other one touches."""
    cuts = np.searchsorted(lpos, lpos[CHUNK_PAIRS::CHUNK_PAIRS]) if len(lpos) else []
    bounds = np.unique(np.r_[0, cuts, len(lpos)]).tolist()
    return [(a, b) for a, b in itertools.pairwise(bounds) if b > a]


def _on_cores(batches: list[tuple[int, int]], work: Callable[[int, int], T]) -> list[T]:
    """``work(start, stop)`` of each batch, in order, on every core: the comparisons are numpy
    and rapidfuzz kernels and the explanations Arrow kernels, all releasing the GIL; they read
    the vocabulary's tables that ``build_tables`` made beforehand."""
    if len(batches) <= 1:
        return [work(*batch) for batch in batches]
    with ThreadPoolExecutor(COMPARE_THREADS) as pool:
        return list(pool.map(lambda r: work(*r), batches))  # list(): raise the first error


@dataclass
class _Compared:
    """A chunk's pairs compared: levels, the summed log2 m/u (the match weight less the
    prior) and whether an NPI decides the pair."""

    levels: np.ndarray  # int8 (pairs, comparisons)
    evidence: np.ndarray  # float64
    decisive: np.ndarray  # bool


def _compare(left, right, vocab, candidates: Candidates, params, tf, batches) -> _Compared:
    """Levels and evidence of a chunk's pairs, batch by batch on every core."""
    n = len(candidates)
    out = _Compared(
        np.empty((n, len(COMPARISONS)), np.int8), np.empty(n, np.float64), np.empty(n, bool)
    )

    def work(start: int, stop: int) -> None:
        lpos, rpos = candidates.lpos[start:stop], candidates.rpos[start:stop]
        batch = PairBatch(left, right, vocab, lpos, rpos)
        levels = out.levels[start:stop] = comparison_levels(batch)
        out.evidence[start:stop] = pair_weights(batch, levels, params, tf).sum(axis=1)
        out.decisive[start:stop] = _npi_decisive(levels)

    _on_cores(batches, work)
    return out


@dataclass
class TopTwo:
    """Per left record: its best and runner-up candidates and what the others add up to."""

    best_r: np.ndarray  # int64 right position, -1 none
    best_w: np.ndarray  # match weight, NaN none
    best_decisive: np.ndarray  # bool
    runner_r: np.ndarray
    runner_w: np.ndarray
    others: np.ndarray  # log2 of the summed calibrated odds of the remaining candidates
    best_levels: np.ndarray  # int8 (records, comparisons): kept for the explanations
    runner_levels: np.ndarray

    @classmethod
    def empty(cls, n: int) -> TopTwo:
        no_levels = np.zeros((n, len(COMPARISONS)), np.int8)
        return cls(
            np.full(n, -1, np.int64),
            np.full(n, np.nan),
            np.zeros(n, bool),
            np.full(n, -1, np.int64),
            np.full(n, np.nan),
            np.full(n, -np.inf),
            no_levels,
            no_levels.copy(),
        )

    def add(self, lpos, rpos, weight, decisive, levels) -> None:
        """Fold in the scored candidates of some records (``lpos`` sorted, records complete)."""
        if len(lpos) == 0:
            return
        starts = np.flatnonzero(np.r_[True, lpos[1:] != lpos[:-1]])
        owner = lpos[starts]
        rank = weight + np.where(decisive, 1000.0, 0.0)  # a decisive NPI ranks first
        index = np.arange(len(lpos))

        def first_max(values: np.ndarray) -> np.ndarray:
            top = np.maximum.reduceat(values, starts)
            at = np.where(values == np.repeat(top, np.diff(np.r_[starts, len(values)])),
                          index, len(values))  # fmt: skip
            return np.minimum.reduceat(at, starts), top

        best, _ = first_max(rank)
        rest = rank.copy()
        rest[best] = -np.inf
        runner, runner_top = first_max(rest)
        has_runner = runner_top > -np.inf
        self.best_r[owner] = rpos[best]
        self.best_w[owner] = weight[best]
        self.best_decisive[owner] = decisive[best]
        self.best_levels[owner] = levels.take(best, axis=0)
        self.runner_levels[owner[has_runner]] = levels.take(runner[has_runner], axis=0)
        self.runner_r[owner[has_runner]] = rpos[runner[has_runner]]
        self.runner_w[owner[has_runner]] = weight[runner[has_runner]]
        bits = THRESHOLDS.bits(weight)
        bits[best] = -np.inf
        bits[runner[has_runner]] = -np.inf
        top = np.maximum.reduceat(bits, starts)
        top_each = np.repeat(top, np.diff(np.r_[starts, len(bits)]))
        with np.errstate(invalid="ignore", divide="ignore"):
            shifted = np.where(top_each > -np.inf, bits - top_each, -np.inf)
            total = np.add.reduceat(np.exp2(shifted), starts)
            others = np.where(total > 0, top + np.log2(total), -np.inf)
        self.others[owner] = others


def _fold(top: TopTwo, candidates: Candidates, weight, compared: _Compared, batches) -> None:
    """Fold a chunk's scored pairs into ``top``, batch by batch on every core (a batch's
    records are its own)."""

    def work(start: int, stop: int) -> None:
        top.add(
            candidates.lpos[start:stop],
            candidates.rpos[start:stop],
            weight[start:stop],
            compared.decisive[start:stop],
            compared.levels[start:stop],
        )

    _on_cores(batches, work)


def _json_numbers(values: np.ndarray) -> pa.Array:
    """Floats as JSON numbers (3 decimals), ``null`` where not finite: each distinct value is
    formatted once (weights take few distinct values)."""
    values = np.round(np.asarray(values, dtype=np.float64), 3)
    inverse, distinct = pd.factorize(values)  # hashing, not sorting (NaN: code -1)
    text = [repr(float(x)) if math.isfinite(x) else "null" for x in distinct.tolist()]
    text.append("null")
    inverse = np.where(inverse < 0, len(text) - 1, inverse)
    return pc.take(pa.array(text, pa.string()), pa.array(inverse))


def _json_strings(values: pd.Series) -> pa.Array:
    """Strings (or missing) as JSON values: plain printable ASCII is quoted by Arrow, anything
    else goes through ``json.dumps``, once per distinct value."""
    text = pa.array(values.astype("str"), pa.string())
    plain = pc.fill_null(pc.match_substring_regex(text, r"^[ !#-\[\]-~]*$"), False)
    quoted = pc.binary_join_element_wise('"', text, '"', "")
    out = pc.if_else(plain, quoted, pa.nulls(len(text), pa.string()))
    plain_np = plain.to_numpy(zero_copy_only=False)
    other = np.flatnonzero(~plain_np & text.is_valid().to_numpy(zero_copy_only=False))
    if len(other):
        codes, distinct = pd.factorize(values.iloc[other], use_na_sentinel=True)
        dumped = np.array([json.dumps(v) for v in distinct.tolist()], dtype=object)[codes]
        full = np.array(out.to_pylist(), dtype=object)
        full[other] = dumped
        out = pa.array(full, pa.string())
    return pc.fill_null(out, "null")


def _join(*pieces) -> pa.Array:
    """Element-wise concatenation of text arrays and constant strings."""
    return pc.binary_join_element_wise(*pieces, "")


def _explain_pairs(left, right, vocab, lpos, rpos, levels, params, tf) -> pa.Array:
    """Per-comparison level names and weights of chosen pairs, as JSON objects (text).

    Built column by column with Arrow string kernels: a national link explains a million
    decisions, and a dict per comparison per pair would cost more than the matching.
    """
    weights = pair_weights(PairBatch(left, right, vocab, lpos, rpos), levels, params, tf)
    pieces: list = ["{"]
    for k, c in enumerate(COMPARISONS):
        names = pa.array([json.dumps(level) for level in c.levels], pa.string())
        lead = ", " if k else ""
        pieces += [f'{lead}{json.dumps(c.name)}: {{"level": ', pc.take(names, levels[:, k])]
        pieces += [', "weight": ', _json_numbers(weights[:, k]), "}"]
    return _join(*pieces, "}")


def _explanations(left, right, vocab, top: TopTwo, params, tf, runner_npi, rows) -> pa.Array:
    """The ``comparisons`` JSON text of records ``rows`` (null for a record without a
    candidate). Every record's pieces are made: a piece that is null (no candidate, no
    runner-up) nulls its record's text, so no text is ever moved into place."""
    has_best, has_runner = top.best_r[rows] >= 0, top.runner_r[rows] >= 0
    if not has_best.any():
        return pa.nulls(len(rows), pa.string())
    best_r = np.where(has_best, top.best_r[rows], 0)  # 0: a stand-in whose text is dropped
    runner_r = np.where(has_runner, top.runner_r[rows], 0)
    runner = _join(
        '{"npi": ',
        _json_strings(runner_npi.iloc[rows]),
        ', "match_weight": ',
        _json_numbers(top.runner_w[rows]),
        ', "comparisons": ',
        _explain_pairs(left, right, vocab, rows, runner_r, top.runner_levels[rows], params, tf),
        "}",
    )
    no_runner = pa.array(np.full(len(rows), "null", dtype=object), pa.string())
    flags = pa.array(np.where(top.best_decisive[rows], "true", "false"), mask=~has_best)
    return _join(
        f'{{"prior": {round(params.prior_weight, 3)}, "match_weight": ',
        _json_numbers(top.best_w[rows]),
        ', "npi_decisive": ',
        flags,
        ', "other_candidates_bits": ',
        _json_numbers(top.others[rows]),
        ', "comparisons": ',
        _explain_pairs(left, right, vocab, rows, best_r, top.best_levels[rows], params, tf),
        ', "runner_up": ',
        pc.if_else(has_runner, runner, no_runner),
        f', "thresholds": {json.dumps(THRESHOLDS.as_dict())}}}',
    )


def resolve(
    left: Encoded,
    right: Encoded,
    vocab: Vocab,
    top: TopTwo,
    params: Parameters,
    tf: dict,
) -> pd.DataFrame:
    """Resolve each left record to at most one right record.

    Returns one row per left record: ``rec_id``, ``npi`` (the right record's ``npi`` or None),
    ``identity`` (matched / ambiguous / unmatched), ``match_score`` (probability of the best
    candidate), ``candidate_npi``, the runner-up's ``npi`` and score, and ``comparisons``: a
    JSON object (text) with the best pair's per-comparison levels and weights, the runner-up's,
    and the decision's inputs (None without a candidate).
    """
    n = left.n
    has_runner = top.runner_r >= 0
    identity = identities(top.best_w, top.runner_w, top.others, top.best_decisive, THRESHOLDS)
    b_p, r_p = shares(top.best_w, top.runner_w, top.others, THRESHOLDS)
    r_p = np.where(has_runner, r_p, np.nan)
    right_npi = _as_column(right.frame["npi"]) if "npi" in right.frame else None
    candidate_npi = _ids_at(right_npi, top.best_r)
    runner_npi = _ids_at(right_npi, top.runner_r)

    # Explanations (JSON text), a slice of records at a time: a national link's explanations
    # are gigabytes, and each slice's Arrow pieces are dropped once its text is made.
    pieces = _on_cores(
        _slices(n, EXPLAIN_RECORDS),
        lambda start, stop: _explanations(
            left, right, vocab, top, params, tf, runner_npi, np.arange(start, stop)
        ),
    )
    comparisons = pa.chunked_array(pieces, pa.string())
    return pd.DataFrame(
        {
            "rec_id": _as_column(left.frame["rec_id"]),
            "npi": _ids_at(right_npi, np.where(identity == "matched", top.best_r, -1)),
            "identity": identity,
            "match_score": np.round(b_p, 6),
            "candidate_npi": candidate_npi,
            "runner_up_npi": runner_npi,
            "runner_up_score": r_p,
            "comparisons": pd.Series(comparisons, dtype="str"),
            "best_r": top.best_r,
        }
    )


def _slices(n: int, size: int) -> list[tuple[int, int]]:
    return [(start, min(start + size, n)) for start in range(0, n, size)]


def _as_column(values: pd.Series) -> pd.Series:
    """A frame's column as a result column: text stays Arrow text, anything else is handed on
    as Python objects, as before."""
    values = values.reset_index(drop=True)
    return values if isinstance(values.dtype, pd.StringDtype) else values.astype(object)


def _ids_at(ids: pd.Series | None, positions: np.ndarray) -> pd.Series:
    """The ids (an ``_as_column``) at right positions (missing at -1 or without ids)."""
    if ids is None or len(ids) == 0:
        return pd.Series([None] * len(positions), dtype=object)
    taken = ids.take(np.maximum(positions, 0)).reset_index(drop=True)
    return taken.where(pd.Series(positions >= 0), None if taken.dtype == object else np.nan)


class _JoinedAhead:
    """(start, candidates) of each chunk of ``size`` left records, joined one chunk ahead on
    ``pool`` (DuckDB and a numpy sort, both outside the GIL) while the caller works: the first
    chunk's from the moment this is made, each next one's while the caller compares and scores
    the last. Two chunks' pairs are held at most. ``close`` waits for a join in flight, so
    that the blocker may drop its tables."""

    def __init__(self, blocker: Blocker, pool: ThreadPoolExecutor, n: int, size: int) -> None:
        self.blocker, self.pool, self.n, self.size = blocker, pool, n, size
        self.pending = pool.submit(blocker.candidates, 0, size)

    def __iter__(self) -> Iterator[tuple[int, Candidates]]:
        for start in range(0, max(self.n, 1), self.size):
            candidates = self.pending.result()
            if start + self.size < self.n:
                nxt = start + self.size
                self.pending = self.pool.submit(self.blocker.candidates, nxt, nxt + self.size)
            yield start, candidates

    def close(self) -> None:
        wait([self.pending])


def link(
    left: pd.DataFrame,
    right: pd.DataFrame,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
    params: Parameters | None = None,
    seed: int = 0,
    chunk_records: int = CHUNK_RECORDS,
    keep_candidates: bool = False,
) -> tuple[pd.DataFrame, LinkDetails]:
    """Block, estimate (unless ``params`` are given), score and decide.

    Left records go through blocking, comparison and scoring ``chunk_records`` at a time;
    only each record's best two candidates (and what the rest add up to) are kept, so memory
    follows the chunk, not the link. m and u are estimated on sampled pairs, the prior on the
    first chunk's candidates.
    ``keep_candidates``: also keep every candidate pair (for a blocking report).

    Returns (one decision per left record, the link's details incl. the learned parameters).
    """
    fixed_params = params is not None
    timings: dict[str, float] = {}
    cpu_timings: dict[str, float] = {}  # CPU over wall time: how well a step uses the cores
    clock, cpu_clock = time.perf_counter(), time.process_time()

    def lap(name: str) -> None:
        nonlocal clock, cpu_clock
        now, cpu_now = time.perf_counter(), time.process_time()
        timings[name] = round(timings.get(name, 0.0) + now - clock, 3)
        cpu_timings[name] = round(cpu_timings.get(name, 0.0) + cpu_now - cpu_clock, 3)
        clock, cpu_clock = now, cpu_now

    lenc, renc, vocab = encode_sides(left, right)
    # From here on the encoded arrays are all the link reads: a caller that handed its frames
    # over without keeping them gets their memory back for the rest of the link.
    del left, right
    lap("encode")
    log.info("encoded %d left and %d right records in %.1fs", lenc.n, renc.n, timings["encode"])
    top = TopTwo.empty(lenc.n)
    kept: list[Candidates] = []
    n_pairs = 0
    # Work done beside the main line: the vocabulary's comparison tables while DuckDB prepares
    # the blocking keys; the first chunk's candidates while m and u are estimated; each next
    # chunk's while this one is compared and scored (``_JoinedAhead``).
    with ThreadPoolExecutor(1) as aside:
        tables = aside.submit(build_tables, lenc, renc, vocab)
        tf = term_frequency_tables(lenc, renc, vocab)
        with (
            Blocker(lenc, renc, vocab, con) as blocker,
            closing(_JoinedAhead(blocker, aside, lenc.n, chunk_records)) as chunks,
        ):
            tables.result()
            lap("block")
            if params is None:
                params = estimate_parameters(lenc, renc, vocab, seed=seed)
                lap("estimate")
            for start, candidates in chunks:
                n_pairs += len(candidates)
                lap("block")
                batches = _record_batches(candidates.lpos)
                compared = _compare(lenc, renc, vocab, candidates, params, tf, batches)
                lap("compare")
                if start == 0 and not fixed_params:
                    # The prior: the share of the first chunk's records that have a match.
                    n_records = min(chunk_records, lenc.n)
                    params.lam = match_prior(candidates.lpos, compared.evidence, n_records, renc.n)
                weight = compared.evidence
                weight += params.prior_weight
                _fold(top, candidates, weight, compared, batches)
                lap("score")
                log.info(
                    "records %d-%d of %d: %d candidate pairs (%d so far)",
                    start,
                    min(start + chunk_records, lenc.n),
                    lenc.n,
                    len(candidates),
                    n_pairs,
                )
                if keep_candidates:
                    kept.append(candidates)
                del candidates, compared, weight
    decisions = resolve(lenc, renc, vocab, top, params, tf)
    lap("decide")
    if kept:
        everything = Candidates(
            lpos=np.concatenate([c.lpos for c in kept]),
            rpos=np.concatenate([c.rpos for c in kept]),
            keys=np.concatenate([c.keys for c in kept]),
        )
    else:
        everything = None
    details = LinkDetails(params, everything, timings, cpu_timings, lenc, renc, vocab, n_pairs)
    return decisions, details
