"""Fellegi-Sunter model: parameters estimated without labels, weights, term frequencies.

- ``u`` (P(level | different people)) comes from *random* pairs, which are almost all
  non-matches: never from the blocked pairs, where namesakes make agreement look ordinary.
- ``m`` (P(level | same person)) comes from expectation-maximisation on pairs that agree on a
  broad rule, ``u`` held fixed. The prior (``lambda``) comes from the share of listings that
  have a match in the reference, by EM over each listing's blocked candidates with m and u
  held (``match_prior``), spread over the reference's people: how many listings a reference
  knows is learned, from a national registry (nearly all) to an exclusion list (a handful).
- The exact levels of surname, first name and place use the value's own frequency as ``u``
  (term-frequency adjustment), counted among the people of both sides, leaving out the pair's
  own two records: agreeing on "Smith" counts for less than on "Zbigniewski", and a small
  reference's names are as common as people's names are, not one in its twenty.

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

from pipeline.match.comparisons import COMPARISONS, PairBatch, comparison_levels, equals_any
from pipeline.match.people import Encoded, Vocab

PROBABILITY_FLOOR = 1e-6
RANDOM_PAIRS = 200_000
EM_MAX_PAIRS = 200_000
EM_ITERATIONS = 25
# EM's m is a maximum a posteriori estimate: a Dirichlet prior centred on the declared m, worth
# this many matches. Thousands of matches in a link's training pairs outweigh it; the dozen
# that a reference of twenty people yields do not, and must not decide what a disagreeing
# surname is worth.
M_PRIOR_MATCHES = 50.0


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
    # A level never seen between strangers is as rare as one person among everyone both sides
    # hold (NPI equality, above all), not one in the reference: an exclusion list of twenty
    # people would make every agreement a one-in-twenty coincidence.
    floor = 1.0 / max(left.n + right.n, 1)
    for k, c in enumerate(COMPARISONS):
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
    nothing about it) and take no part in the posterior. The starting m is also the centre of
    the prior each estimate is drawn towards (``M_PRIOR_MATCHES``).
    """
    frozen = frozen or [False] * len(COMPARISONS)
    m = [x.copy() for x in params.m]
    declared = [x.copy() for x in params.m]
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
            old if frozen[k] else _m_estimate(levels[:, k], post, declared[k], COMPARISONS[k])
            for k, old in enumerate(m)
        ]
        new_lam = float(post.mean())
        change = max(max(float(np.abs(a - b).max()) for a, b in zip(new_m, m)), abs(new_lam - lam))
        m, lam = new_m, min(max(new_lam, 1e-9), 1 - 1e-9)
        if change < tolerance:
            converged = True
            break
    return Parameters(m=m, u=u, lam=lam, iterations=done, converged=converged)


def _m_estimate(levels: np.ndarray, post: np.ndarray, declared: np.ndarray, c) -> np.ndarray:
    """m of one comparison: the posterior-weighted level counts plus ``M_PRIOR_MATCHES``
    matches spread as ``declared`` says (the null level is never estimated)."""
    counts = np.bincount(levels, weights=post, minlength=len(c.levels)).astype(float)
    counts[c.null_level] = 0.0
    prior = np.asarray(declared, dtype=float).copy()
    prior[c.null_level] = 0.0
    prior = prior / prior.sum() if prior.sum() > 0 else prior
    share = (counts + M_PRIOR_MATCHES * prior) / (counts.sum() + M_PRIOR_MATCHES)
    share[c.null_level] = 1.0
    return share


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


def estimate_parameters(left: Encoded, right: Encoded, vocab: Vocab, seed: int = 0) -> Parameters:
    """u from random pairs; m by EM on broad-rule pairs. The prior is the caller's to set, from
    the blocked pairs' evidence under these m and u (``match_prior``): the link scores its
    first chunk's pairs once, for the prior and for the decisions."""
    start = Parameters.defaults()
    start.u = estimate_u(left, right, vocab, seed=seed)
    estimates: list[list[np.ndarray]] = [[] for _ in COMPARISONS]
    iterations = 0
    for rule, fixed in TRAINING_RULES:
        rule_l, rule_r = training_pairs(left, right, rule, seed)
        if len(rule_l) < 50:
            continue
        rule_levels = comparison_levels(PairBatch(left, right, vocab, rule_l, rule_r))
        frozen = [c.name in fixed or not c.estimate_m for c in COMPARISONS]
        trained = expectation_maximisation(rule_levels, start, frozen=frozen)
        iterations += trained.iterations
        for k, c in enumerate(COMPARISONS):
            if not frozen[k] and (rule_levels[:, k] != c.null_level).any():
                estimates[k].append(trained.m[k])
    m = [np.mean(found, axis=0) if found else default for found, default in zip(estimates, start.m)]
    return Parameters(m=m, u=start.u, lam=start.lam, iterations=iterations, converged=True)


def match_prior(
    lpos: np.ndarray, evidence: np.ndarray, n_left: int, n_right: int, iterations: int = 200
) -> float:
    """P(two random records match), such that each left record's prior odds of being one of
    the ``n_right`` right records rather than none of them are ``pi / (1 - pi)``.

    ``pi``, the share of left records that have a match, is data, not a constant (a national
    registry knows nearly every listed physician, an exclusion list a handful): EM on the
    records, each one's blocked candidates' evidence (``lpos`` and the summed log2 m/u of
    each pair) held fixed. One record is at most one person, so its candidates compete for
    one match: a record's posterior of having one is ``c S / (1 + c S)``, ``S`` the sum of its
    candidates' likelihood ratios and ``c = pi / ((1 - pi) n_right)``, the per-pair prior odds
    the decision rule (``pipeline.match.decide``) weighs against "none of them". A pair-level
    share would count namesakes of one listing as several matches and weigh a listing's
    chance of being in the reference as 1 in its candidates, not 1 in the reference.
    """
    if len(lpos) == 0 or n_left == 0:
        return 1.0 / max(n_right, 2)
    inverse, owners = pd.factorize(np.asarray(lpos))  # hashing: no sort of millions of pairs
    top = np.full(len(owners), -np.inf)
    np.maximum.at(top, inverse, evidence)
    total = np.zeros(len(owners))
    np.add.at(total, inverse, np.exp2(np.clip(evidence - top[inverse], -1000, 0)))
    log2_sum = top + np.log2(total)  # log2 of each record's summed likelihood ratios
    pi = 0.5
    for _ in range(iterations):
        log2_c = math.log2(pi / (1 - pi)) - math.log2(max(n_right, 1))
        post = 1.0 / (1.0 + np.exp2(-np.clip(log2_c + log2_sum, -1000, 1000)))
        new = min(max(float(post.sum()) / n_left, 1e-9), 1 - 1e-6)
        if abs(new - pi) < 1e-7:
            pi = new
            break
        pi = new
    odds = pi / ((1 - pi) * max(n_right, 1))
    return odds / (1 + odds)


# ------------------------------------------------------------------------------ weights


def term_frequencies(codes: np.ndarray, size: int) -> np.ndarray:
    """People bearing each code (index ``size`` for -1)."""
    return np.r_[np.bincount(codes[codes >= 0], minlength=size).astype(float), 0.0]


_SURNAME = next(i for i, c in enumerate(COMPARISONS) if c.name == "surname")
_FIRST = next(i for i, c in enumerate(COMPARISONS) if c.name == "first_name")
_NPI = next(i for i, c in enumerate(COMPARISONS) if c.name == "npi")


def names_clearly_disagree(levels: np.ndarray) -> np.ndarray:
    """Both surname and first name are present and different."""
    surname, first = COMPARISONS[_SURNAME], COMPARISONS[_FIRST]
    return (levels[:, _SURNAME] == surname.levels.index("different")) & (
        levels[:, _FIRST] == first.levels.index("different")
    )


def a_name_disagrees(levels: np.ndarray) -> np.ndarray:
    """The surname or the first name is present and different."""
    surname, first = COMPARISONS[_SURNAME], COMPARISONS[_FIRST]
    return (levels[:, _SURNAME] == surname.levels.index("different")) | (
        levels[:, _FIRST] == first.levels.index("different")
    )


def pair_weights(
    batch: PairBatch,
    levels: np.ndarray,
    params: Parameters,
    tf: dict,
) -> np.ndarray:
    """Per-comparison weights (pairs, comparisons) float32, TF-adjusted on exact name levels.

    An equal NPI counts for nothing when the names clearly disagree: the page shows someone
    else's number (a colleague's, the group's), not evidence that this is that person.
    """
    tables = params.weight_tables()
    # Built column by column (Fortran order: each column contiguous), handed on in rows.
    out = np.empty(levels.shape, dtype=np.float32, order="F")
    others = max(tf["people"] - 2, 1)
    for k, c in enumerate(COMPARISONS):
        level = np.ascontiguousarray(levels[:, k])
        out[:, k] = tables[k].astype(np.float32).take(level)
        if c.tf_level is None or c.name not in tf:
            continue
        exact = level == c.tf_level
        if not exact.any():
            continue
        if c.name == "location":
            bearers = _shared_place_bearers(batch, exact, tf[c.name])
        else:
            names = batch.right.last if c.name == "surname" else batch.right.first
            bearers = tf[c.name][names[batch.rpos[exact]]]
        # u: how often someone *else* agrees so. The pair's two records are among the value's
        # bearers and say nothing of how common it is; a value only they bear, one in all.
        freq = np.maximum(bearers - 2, 1) / others
        m = max(params.m[k][c.tf_level], PROBABILITY_FLOOR)
        out[exact, k] = np.log2(m / freq)
    out[(levels[:, _NPI] == 0) & names_clearly_disagree(levels), _NPI] = 0.0
    return np.ascontiguousarray(out)


def _shared_place_bearers(batch: PairBatch, rows: np.ndarray, people: np.ndarray) -> np.ndarray:
    """Per pair (``rows`` of the batch): how many people name the rarest place (city or ZIP
    code) both records name; infinite where they share none."""
    lp = batch.left.places.take(batch.lpos[rows], axis=0)
    rp = batch.right.places.take(batch.rpos[rows], axis=0)
    out = np.full(len(lp), np.inf)
    for i in range(lp.shape[1]):
        col = lp[:, i]
        if not (col >= 0).any():
            continue
        shared = (col >= 0) & equals_any(col, rp)
        out[shared] = np.minimum(out[shared], people[col[shared]])
    return out


def term_frequency_tables(left: Encoded, right: Encoded, vocab: Vocab) -> dict:
    """People bearing each surname, first name and place, counted on both sides together (as
    Splink does), and ``people``, how many they are: how common a name is among people, which
    a small reference cannot tell. Twenty excluded people, one of them a Sell, do not make
    "Sell" a name one person in twenty bears; among the listings too it is one in a thousand
    or so. For a national registry the listings change little.
    """
    size = len(vocab.names)
    # A person names each place once (distinct codes per row), so counts are people.
    places = np.r_[left.places[left.places >= 0], right.places[right.places >= 0]]
    return {
        "surname": term_frequencies(np.r_[left.last, right.last], size),
        "first_name": term_frequencies(np.r_[left.first, right.first], size),
        "location": np.bincount(places, minlength=len(vocab.values)).astype(float),
        "people": left.n + right.n,
    }
