"""Fellegi-Sunter model: parameters estimated without labels, weights, term frequencies.

- ``u`` (P(level | different people)) comes from *random* pairs, which are almost all
  non-matches: never from the blocked pairs, where namesakes make agreement look ordinary.
- ``m`` (P(level | same person)) and the share of matches among the blocked pairs (``lambda``)
  come from expectation-maximisation on the blocked pairs with ``u`` held fixed. The blocked
  pairs are a union of broad keys that keep nearly every true pair, so they hold many matches.
- The exact levels of surname and first name use the value's own frequency on the reference
  side as ``u`` (term-frequency adjustment): agreeing on "Smith" counts for less than on
  "Zbigniewski".

A pair's match weight is ``log2(lambda / (1 - lambda)) + sum(log2(m / u))`` over comparisons
(a comparison at its null level adds 0); its probability is ``1 / (1 + 2 ** -weight)``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pipeline.match.comparisons import COMPARISONS, PairBatch, comparison_levels
from pipeline.match.people import Encoded, Vocab

PROBABILITY_FLOOR = 1e-6
RANDOM_PAIRS = 200_000
EM_MAX_PAIRS = 200_000
EM_ITERATIONS = 25


@dataclass
class Parameters:
    m: list[np.ndarray]  # per comparison, per level
    u: list[np.ndarray]
    lam: float  # share of matches among blocked pairs
    iterations: int = 0
    converged: bool = False

    @classmethod
    def defaults(cls) -> Parameters:
        return cls(
            m=[np.array(c.m, dtype=float) for c in COMPARISONS],
            u=[np.array(c.u, dtype=float) for c in COMPARISONS],
            lam=0.1,
        )

    def weight_tables(self) -> list[np.ndarray]:
        """log2(m / u) per comparison and level; 0 at the null level."""
        tables = []
        for c, m, u in zip(COMPARISONS, self.m, self.u):
            u = np.ones_like(u) if c.weight_is_m_only else u
            w = np.log2(np.maximum(m, PROBABILITY_FLOOR) / np.maximum(u, PROBABILITY_FLOOR))
            w[c.null_level] = 0.0
            tables.append(w)
        return tables

    @property
    def prior_weight(self) -> float:
        lam = min(max(self.lam, 1e-9), 1 - 1e-9)
        return math.log2(lam / (1 - lam))

    def to_json(self) -> str:
        """The fitted model as JSON: m and u per comparison level, by name and label, and lambda.

        >>> Parameters.from_json(Parameters.defaults().to_json()).lam
        0.1
        """
        comparisons = {
            c.name: {
                label: {"m": float(m[k]), "u": float(u[k])}
                for k, label in enumerate(c.levels)
                if k != c.null_level
            }
            for c, m, u in zip(COMPARISONS, self.m, self.u)
        }
        return json.dumps(
            {
                "lambda": self.lam,
                "iterations": self.iterations,
                "converged": self.converged,
                "comparisons": comparisons,
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> Parameters:
        """A model saved by ``to_json``; it must name every comparison and level declared now."""
        data = json.loads(text)
        m, u = [], []
        for c in COMPARISONS:
            saved = data["comparisons"].get(c.name)
            if saved is None or set(saved) != set(c.levels) - {c.levels[c.null_level]}:
                raise ValueError(f"the saved model does not fit comparison {c.name!r}: refit it")
            m.append(np.array([saved.get(label, {"m": 1.0})["m"] for label in c.levels]))
            u.append(np.array([saved.get(label, {"u": 1.0})["u"] for label in c.levels]))
        return cls(m, u, data["lambda"], data.get("iterations", 0), data.get("converged", False))

    def save(self, path: Path) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Parameters:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))

    def as_frame(self) -> pd.DataFrame:
        """One row per comparison level: m, u, weight (the stored, explainable form)."""
        rows = []
        for c, m, u, w in zip(COMPARISONS, self.m, self.u, self.weight_tables()):
            for k, name in enumerate(c.levels):
                rows.append(
                    {
                        "comparison": c.name,
                        "level": k,
                        "level_name": name,
                        "m": float(m[k]) if k != c.null_level else None,
                        "u": float(u[k]) if k != c.null_level else None,
                        "weight": float(w[k]),
                        "term_frequency_adjusted": k == c.tf_level,
                    }
                )
        rows.append(
            {
                "comparison": "prior",
                "level": 0,
                "level_name": f"lambda={self.lam:.6g} (EM iterations {self.iterations})",
                "m": float(self.lam),
                "u": None,
                "weight": self.prior_weight,
                "term_frequency_adjusted": False,
            }
        )
        return pd.DataFrame(rows)


# ------------------------------------------------------------------------------ estimation


def _level_shares(
    levels: np.ndarray, weights: np.ndarray | None = None, fallback: list | None = None
) -> list[np.ndarray]:
    """Share of each level (null level excluded); ``fallback`` where nothing was comparable."""
    shares = []
    for k, c in enumerate(COMPARISONS):
        counts = np.bincount(levels[:, k], weights=weights, minlength=len(c.levels))
        counts = counts.astype(float)
        counts[c.null_level] = 0.0
        total = counts.sum()
        if fallback is not None and total < 1.0:
            shares.append(fallback[k])
            continue
        # Laplace smoothing: a level never seen among the pairs is rare, not impossible.
        share = (counts + 0.5) / (total + 0.5 * (len(c.levels) - 1)) if total else counts
        share[c.null_level] = 1.0
        shares.append(share)
    return shares


def estimate_u(
    left: Encoded, right: Encoded, vocab: Vocab, n_pairs: int = RANDOM_PAIRS, seed: int = 0
) -> list[np.ndarray]:
    """u per comparison level from random (left, right) pairs: almost all different people."""
    rng = np.random.default_rng(seed)
    n = min(n_pairs, left.n * right.n)
    batch = PairBatch(left, right, vocab, rng.integers(0, left.n, n), rng.integers(0, right.n, n))
    defaults = [np.array(c.u, dtype=float) for c in COMPARISONS]
    u = _level_shares(comparison_levels(batch), fallback=defaults)
    for k, c in enumerate(COMPARISONS):
        # NPI equality between random people is essentially never seen: one in the reference.
        floor = 1.0 / max(right.n, 1)
        u[k] = np.maximum(u[k], floor)
        if c.name == "npi":
            u[k][0] = min(defaults[k][0], floor)
    return u


def expectation_maximisation(
    levels: np.ndarray,
    params: Parameters,
    iterations: int = EM_ITERATIONS,
    tolerance: float = 1e-5,
    frozen: list[bool] | None = None,
) -> Parameters:
    """Estimate m and lambda on unlabelled pairs (u held fixed), from ``params`` as the start.

    Comparisons marked ``frozen`` keep their starting m (a rule that fixes a comparison says
    nothing about it) and take no part in the posterior.
    """
    frozen = frozen or [False] * len(COMPARISONS)
    m = [x.copy() for x in params.m]
    u = params.u
    lam = params.lam
    log_u = [np.log(np.maximum(x, PROBABILITY_FLOOR)) for x in u]
    done = 0
    converged = False
    for done in range(1, iterations + 1):  # noqa: B007 - the count is reported
        log_m = [np.log(np.maximum(x, PROBABILITY_FLOOR)) for x in m]
        log_odds = np.full(len(levels), math.log(lam / (1 - lam)))
        for k, c in enumerate(COMPARISONS):
            if frozen[k]:
                continue
            diff = log_m[k] - log_u[k]
            diff[c.null_level] = 0.0
            log_odds += diff[levels[:, k]]
        post = 1.0 / (1.0 + np.exp(-np.clip(log_odds, -700, 700)))
        new_m = [
            old if frozen[k] else share
            for k, (old, share) in enumerate(zip(m, _level_shares(levels, post, m)))
        ]
        new_lam = float(post.mean())
        change = max(max(float(np.abs(a - b).max()) for a, b in zip(new_m, m)), abs(new_lam - lam))
        m, lam = new_m, min(max(new_lam, 1e-9), 1 - 1e-9)
        if change < tolerance:
            converged = True
            break
    return Parameters(m=m, u=u, lam=lam, iterations=done, converged=converged)


# Training sessions (Splink's way): EM on pairs that agree on a broad rule, estimating m for the
# comparisons the rule does not fix. Same surname -> everything but the surname; same formal
# first name and state -> the surname (location and first name are fixed by that rule).
TRAINING_RULES = (
    ("same surname", ("surname",)),
    ("same formal first name and state", ("first_name", "location")),
)
TRAINING_LEFT_SAMPLE = 5_000  # left records sampled per rule; their rule pairs train EM


def training_pairs(
    left: Encoded, right: Encoded, rule: str, seed: int = 0, sample: int = TRAINING_LEFT_SAMPLE
) -> tuple[np.ndarray, np.ndarray]:
    """(l, r) pairs of a sample of left records that agree on a broad rule, joined in DuckDB."""

    rng = np.random.default_rng(seed)
    picked = np.sort(rng.choice(left.n, min(sample, left.n), replace=False))
    if rule == "same surname":
        lf = pd.DataFrame({"idx": picked, "k": left.last[picked].astype(np.int64)})
        rf = pd.DataFrame({"idx": np.arange(right.n), "k": right.last.astype(np.int64)})
    else:
        lf = pd.DataFrame({"idx": picked, "k": left.first_root[picked].astype(np.int64)})
        rf = pd.DataFrame({"idx": np.arange(right.n), "k": right.first_root.astype(np.int64)})
    lf["s"], rf["s"] = left.states[picked].astype(np.int64), right.states.astype(np.int64)
    same_state = "AND (l.s & r.s) <> 0" if rule != "same surname" else ""
    con = duckdb.connect()
    try:
        con.register("tl", lf[lf["k"] >= 0])
        con.register("tr", rf[rf["k"] >= 0])
        got = con.execute(
            f"""SELECT l.idx AS l, r.idx AS r FROM tl l JOIN tr r ON l.k = r.k {same_state}
                USING SAMPLE reservoir({EM_MAX_PAIRS} ROWS) REPEATABLE ({int(seed)})"""
        ).fetchnumpy()
    finally:
        con.close()
    return np.asarray(got["l"], np.int64), np.asarray(got["r"], np.int64)


def estimate_parameters(
    left: Encoded,
    right: Encoded,
    vocab: Vocab,
    levels: np.ndarray,
    n_blocked_records: int | None = None,
    seed: int = 0,
) -> Parameters:
    """u from random pairs; m by EM on broad-rule pairs; the prior from the blocked pairs.

    ``levels`` are the blocked candidate pairs' levels of ``n_blocked_records`` left records
    (default: all of them): with m and u fixed, EM on them gives the expected number of true
    pairs per record, hence the prior probability that two records match.
    """
    start = Parameters.defaults()
    start.u = estimate_u(left, right, vocab, seed=seed)
    estimates: list[list[np.ndarray]] = [[] for _ in COMPARISONS]
    iterations = 0
    for rule, fixed in TRAINING_RULES:
        lpos, rpos = training_pairs(left, right, rule, seed)
        if len(lpos) < 50:
            continue
        rule_levels = comparison_levels(PairBatch(left, right, vocab, lpos, rpos))
        frozen = [c.name in fixed or not c.estimate_m for c in COMPARISONS]
        trained = expectation_maximisation(rule_levels, start, frozen=frozen)
        iterations += trained.iterations
        for k, c in enumerate(COMPARISONS):
            if not frozen[k] and (rule_levels[:, k] != c.null_level).any():
                estimates[k].append(trained.m[k])
    m = [np.mean(found, axis=0) if found else default for found, default in zip(estimates, start.m)]
    params = Parameters(m=m, u=start.u, lam=start.lam, iterations=iterations, converged=True)
    n_blocked = left.n if n_blocked_records is None else n_blocked_records
    params.lam = match_prior(levels, params, n_blocked, right.n)
    return params


def match_prior(levels: np.ndarray, params: Parameters, n_left: int, n_right: int) -> float:
    """P(two random records match): expected true pairs among the blocked pairs of ``n_left``
    left records / all their pairs with the ``n_right`` right records."""
    if len(levels) == 0:
        return 1.0 / max(n_right, 2)
    frozen = [True] * len(COMPARISONS)
    sample = levels
    if len(levels) > EM_MAX_PAIRS:
        pick = np.random.default_rng(0).choice(len(levels), EM_MAX_PAIRS, replace=False)
        sample = levels[pick]
    start = Parameters(m=params.m, u=params.u, lam=0.5)
    blocked = expectation_maximisation(sample, start, frozen=frozen).lam
    expected = blocked * len(levels)
    return float(min(max(expected / max(n_left * n_right, 1), 1e-12), 0.5))


# ------------------------------------------------------------------------------ weights


def term_frequencies(codes: np.ndarray, size: int) -> np.ndarray:
    """Share of reference people bearing each code (index ``size`` for -1)."""
    counts = np.bincount(codes[codes >= 0], minlength=size).astype(float)
    return np.r_[counts / max(len(codes), 1), 0.0]


_SURNAME = next(i for i, c in enumerate(COMPARISONS) if c.name == "surname")
_FIRST = next(i for i, c in enumerate(COMPARISONS) if c.name == "first_name")
_NPI = next(i for i, c in enumerate(COMPARISONS) if c.name == "npi")


def names_clearly_disagree(levels: np.ndarray) -> np.ndarray:
    """Both surname and first name are present and different."""
    surname, first = COMPARISONS[_SURNAME], COMPARISONS[_FIRST]
    return (levels[:, _SURNAME] == surname.levels.index("different")) & (
        levels[:, _FIRST] == first.levels.index("different")
    )


def pair_weights(
    batch: PairBatch,
    levels: np.ndarray,
    params: Parameters,
    tf: dict[str, np.ndarray],
) -> np.ndarray:
    """Per-comparison weights (pairs, comparisons) float32, TF-adjusted on exact name levels.

    An equal NPI counts for nothing when the names clearly disagree: the page shows someone
    else's number (a colleague's, the group's), not evidence that this is that person.
    """
    tables = params.weight_tables()
    out = np.empty(levels.shape, dtype=np.float32)
    floor = 1.0 / max(batch.right.n, 1)
    for k, c in enumerate(COMPARISONS):
        out[:, k] = tables[k][levels[:, k]]
        if c.tf_level is None or c.name not in tf:
            continue
        exact = levels[:, k] == c.tf_level
        if not exact.any():
            continue
        if c.name == "location":
            freq = _shared_place_frequency(batch, exact, tf[c.name])
        else:
            names = batch.right.last if c.name == "surname" else batch.right.first
            freq = tf[c.name][names[batch.rpos[exact]]]
        freq = np.maximum(freq, floor)
        m = max(params.m[k][c.tf_level], PROBABILITY_FLOOR)
        out[exact, k] = np.log2(m / freq)
    out[(levels[:, _NPI] == 0) & names_clearly_disagree(levels), _NPI] = 0.0
    return out


def _shared_place_frequency(batch: PairBatch, rows: np.ndarray, freq: np.ndarray) -> np.ndarray:
    """Per pair (``rows`` of the batch): the reference share of the rarest place (city or ZIP
    code) both records name; 1.0 where they share none."""
    lp, rp = batch.left.places[batch.lpos[rows]], batch.right.places[batch.rpos[rows]]
    out = np.ones(len(lp))
    for i in range(lp.shape[1]):
        col = lp[:, i]
        if not (col >= 0).any():
            continue
        shared = (col >= 0) & (col[:, None] == rp).any(axis=1)
        out[shared] = np.minimum(out[shared], freq[col[shared]])
    return out


def reference_term_frequencies(right: Encoded, vocab: Vocab) -> dict[str, np.ndarray]:
    size = len(vocab.names)
    # A person names each place once (distinct codes per row), so counts are people.
    places = right.places[right.places >= 0]
    return {
        "surname": term_frequencies(right.last, size),
        "first_name": term_frequencies(right.first, size),
        "location": np.bincount(places, minlength=len(vocab.values)) / max(right.n, 1),
    }
