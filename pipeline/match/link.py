"""Link two person frames: encode, block, compare, estimate, score, and resolve each left record
to at most one right record with ``pipeline.match.decide``."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from pipeline.match.blocking import Candidates, block_candidates
from pipeline.match.comparisons import COMPARISONS, PairBatch, comparison_levels
from pipeline.match.decide import THRESHOLDS, identities
from pipeline.match.model import (
    Parameters,
    estimate_parameters,
    names_clearly_disagree,
    pair_weights,
    reference_term_frequencies,
)
from pipeline.match.people import (
    Encoded,
    Vocab,
    encode_sides,
)

CHUNK_PAIRS = 1_000_000  # pairs scored at once: bounds memory on large links

_NPI = next(i for i, c in enumerate(COMPARISONS) if c.name == "npi")


@dataclass
class LinkDetails:
    """What a link learned and did: parameters, pair counts, timings (seconds)."""

    parameters: Parameters
    candidates: Candidates
    timings: dict[str, float] = field(default_factory=dict)
    left: Encoded | None = None
    right: Encoded | None = None
    vocab: Vocab | None = None


def _npi_decisive(levels: np.ndarray) -> np.ndarray:
    """An equal, check-digit-valid NPI decides unless the names clearly disagree."""
    return (levels[:, _NPI] == 0) & ~names_clearly_disagree(levels)


def _score(left, right, vocab, candidates, params, tf) -> tuple[np.ndarray, np.ndarray]:
    """Total match weight and NPI-decisiveness of every candidate pair, chunk by chunk."""
    total = np.empty(len(candidates), dtype=np.float64)
    decisive = np.empty(len(candidates), dtype=bool)
    prior = params.prior_weight
    for start in range(0, len(candidates), CHUNK_PAIRS):
        stop = start + CHUNK_PAIRS
        batch = PairBatch(
            left, right, vocab, candidates.lpos[start:stop], candidates.rpos[start:stop]
        )
        levels = candidates.levels[start:stop]
        total[start:stop] = prior + pair_weights(batch, levels, params, tf).sum(axis=1)
        decisive[start:stop] = _npi_decisive(levels)
    return total, decisive


def _levels(left, right, vocab, candidates) -> np.ndarray:
    out = np.empty((len(candidates), len(COMPARISONS)), dtype=np.int8)
    for start in range(0, len(candidates), CHUNK_PAIRS):
        stop = start + CHUNK_PAIRS
        batch = PairBatch(
            left, right, vocab, candidates.lpos[start:stop], candidates.rpos[start:stop]
        )
        out[start:stop] = comparison_levels(batch)
    return out


def _explain_pairs(left, right, vocab, lpos, rpos, params, tf) -> list[dict]:
    """Per-comparison level names and weights for a few chosen pairs."""
    if len(lpos) == 0:
        return []
    batch = PairBatch(left, right, vocab, lpos, rpos)
    levels = comparison_levels(batch)
    weights = np.round(pair_weights(batch, levels, params, tf).astype(np.float64), 3)
    columns = [
        (c.name, np.asarray(c.levels, dtype=object)[levels[:, k]].tolist(), weights[:, k].tolist())
        for k, c in enumerate(COMPARISONS)
    ]
    return [
        {name: {"level": lv[i], "weight": w[i]} for name, lv, w in columns}
        for i in range(len(lpos))
    ]


def resolve(
    left: Encoded,
    right: Encoded,
    vocab: Vocab,
    candidates: Candidates,
    weight: np.ndarray,
    decisive: np.ndarray,
    params: Parameters,
    tf: dict,
) -> pd.DataFrame:
    """Resolve each left record to at most one right record.

    Returns one row per left record: ``rec_id``, ``npi`` (the right record's ``npi`` or None),
    ``identity`` (matched / ambiguous / unmatched), ``match_score`` (probability of the best
    candidate), ``candidate_npi``, the runner-up's ``npi`` and score, and ``comparisons``: the
    best pair's per-comparison levels and weights, the runner-up's, and the decision's inputs.
    """
    n = left.n
    rank_key = weight + np.where(decisive, 1000.0, 0.0)
    order = np.lexsort((-rank_key, candidates.lpos))
    l_sorted = candidates.lpos[order]
    first_of = np.r_[True, l_sorted[1:] != l_sorted[:-1]] if len(order) else np.zeros(0, bool)
    best_idx = order[first_of]
    second_mask = np.r_[False, first_of[:-1]] & ~first_of if len(order) else first_of
    second_idx = order[second_mask]

    best = np.full(n, -1, dtype=np.int64)
    runner = np.full(n, -1, dtype=np.int64)
    best[candidates.lpos[best_idx]] = best_idx
    runner[candidates.lpos[second_idx]] = second_idx

    right_npi = right.frame["npi"].to_numpy(dtype=object) if "npi" in right.frame else None
    has = best >= 0
    has_runner = runner >= 0
    # Position -1 (no candidate) reads the sentinel appended at the end.
    wx, dx = np.r_[weight, 0.0], np.r_[decisive, False]
    rx = np.r_[candidates.rpos, 0]
    b_w = np.where(has, wx[best], -np.inf)
    r_w = np.where(has_runner, wx[runner], -np.inf)
    b_dec = has & dx[best]
    b_p = np.where(has, THRESHOLDS.probability(np.where(has, b_w, 0.0)), 0.0)
    r_p = np.where(has_runner, THRESHOLDS.probability(np.where(has_runner, r_w, 0.0)), np.nan)
    identity = identities(
        np.where(has, b_w, np.nan), np.where(has_runner, r_w, np.nan), b_dec, THRESHOLDS
    )
    matched = identity == "matched"

    def npi_of(pair_idx: np.ndarray, ok: np.ndarray) -> list:
        if right_npi is None:
            return [None] * n
        rr = rx[pair_idx]
        return [right_npi[x] if k else None for x, k in zip(rr.tolist(), ok.tolist())]

    candidate_npi = npi_of(best, has)
    runner_npi = npi_of(runner, has_runner)

    # Explanations only for records that have a candidate.
    rows_b = np.flatnonzero(has)
    expl_b = _explain_pairs(left, right, vocab, rows_b, rx[best[rows_b]], params, tf)
    rows_r = np.flatnonzero(has_runner)
    expl_r = _explain_pairs(left, right, vocab, rows_r, rx[runner[rows_r]], params, tf)
    comparisons: list[dict | None] = [None] * n
    for i, e in zip(rows_b.tolist(), expl_b):
        comparisons[i] = {
            "prior": round(params.prior_weight, 3),
            "match_weight": round(float(b_w[i]), 3),
            "npi_decisive": bool(b_dec[i]),
            "comparisons": e,
            "runner_up": None,
            "thresholds": THRESHOLDS.as_dict(),
        }
    for i, e in zip(rows_r.tolist(), expl_r):
        comparisons[i]["runner_up"] = {
            "npi": runner_npi[i],
            "match_weight": round(float(r_w[i]), 3),
            "comparisons": e,
        }
    return pd.DataFrame(
        {
            "rec_id": left.frame["rec_id"].to_numpy(dtype=object),
            "npi": [c if m else None for c, m in zip(candidate_npi, matched.tolist())],
            "identity": identity,
            "match_score": np.round(b_p, 6),
            "candidate_npi": candidate_npi,
            "runner_up_npi": runner_npi,
            "runner_up_score": r_p,
            "comparisons": comparisons,
            "best_r": np.where(has, rx[best], -1),
        }
    )


def link(
    left: pd.DataFrame,
    right: pd.DataFrame,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
    params: Parameters | None = None,
    seed: int = 0,
) -> tuple[pd.DataFrame, LinkDetails]:
    """Block, estimate (unless ``params`` are given), score and decide.

    Returns (one decision per left record, the link's details incl. the learned parameters).
    """
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now

    lenc, renc, vocab = encode_sides(left, right)
    lap("encode")
    candidates = block_candidates(lenc, renc, vocab, con)
    lap("block")
    candidates.levels = _levels(lenc, renc, vocab, candidates)
    lap("compare")
    if params is None:
        params = estimate_parameters(lenc, renc, vocab, candidates.levels, seed=seed)
    lap("estimate")
    tf = reference_term_frequencies(renc, vocab)
    weight, decisive = _score(lenc, renc, vocab, candidates, params, tf)
    lap("score")
    decisions = resolve(lenc, renc, vocab, candidates, weight, decisive, params, tf)
    lap("decide")
    details = LinkDetails(params, candidates, timings, lenc, renc, vocab)
    return decisions, details

