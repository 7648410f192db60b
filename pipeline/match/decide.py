"""The decision rule, once: a listing's candidates' match weights -> its identity.

Linking calls it on every listing at once; ``explain`` calls it on one stored decision and on
its counterfactuals ("without the NPI evidence it would be ambiguous"), with the thresholds the
decision was made with, so an explanation cannot drift from the decision it explains.

One listing is at most one person, so its candidates compete: each candidate's calibrated odds
against the others' and against "none of them", P(candidate) = odds / (1 + all candidates' odds).
A listing is matched when its best candidate is at least ``match_probability`` (or a valid NPI
on the page agrees and neither name disagrees); ambiguous when two candidates are
credible ("one of these two Robert Smiths": the runner-up at least ``credible_probability``,
the two together at least ``ambiguous_probability``) — a common name alone is not ambiguous.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import numpy as np

# Probability calibration: calibrated log2-odds = SLOPE * match weight + SHIFT. Fitted with
# ``python -m bench.calibrate`` on demo worlds of the fitting seeds (pipeline.match.evaluate
# FITTING_SEEDS: 101, 102, 103; best candidate per listing, ridge towards 1 / 0 because the
# classes nearly separate): Brier 0.00048 on 3,958 listings. The tests judge other seeds.
# Refitted when the prior became EM's estimate (it had been half the blocked pairs' share),
# and again when it became the share of listings that have a match, spread over the reference
# (issue 15): slope 1.100, shift -0.228, Brier 0.00033 on 3,958 listings.
# ``match_probability`` was chosen on linkage worlds of seeds 101 and 102 (20,000 x 100,000):
# F1 is flat from 0.4 to 0.6 and falls beyond 0.7; 0.5 is also where a calibrated probability
# says "more likely right than wrong".


@dataclass(frozen=True)
class Thresholds:
    match_probability: float = 0.50  # the best candidate's share of the odds, at least
    ambiguous_probability: float = 0.50  # best two together less likely than this: unmatched
    credible_probability: float = 0.10  # a runner-up this likely is a second credible candidate
    calibration_slope: float = 1.100
    calibration_shift_bits: float = -0.228

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def stored(cls, values: dict) -> Thresholds:
        """The thresholds a stored decision was made with (unknown keys of older rules left)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def bits(self, weight):
        """Calibrated log2-odds of match weights; NaN (no candidate) -> -inf."""
        weight = np.asarray(weight, dtype=float)
        out = self.calibration_slope * np.nan_to_num(weight) + self.calibration_shift_bits
        return np.where(np.isnan(weight), -np.inf, out)

    def probability(self, weight):
        """Calibrated probability of a match weight (bits), alone; array in, array out.

        >>> round(float(THRESHOLDS.probability(10.0)), 4)
        0.9994
        """
        bits = np.clip(self.bits(weight), -1000, 1000)
        return 1.0 / (1.0 + np.power(2.0, -bits))


THRESHOLDS = Thresholds()


def shares(best, runner, others, t: Thresholds = THRESHOLDS):
    """P(best), P(runner-up): each one's odds / (1 + every candidate's odds).

    ``others`` is log2 of the summed calibrated odds of the remaining candidates (-inf: none).
    """
    b_bits, r_bits = t.bits(best), t.bits(runner)
    others = np.asarray(others, dtype=float)
    every = np.logaddexp2(np.logaddexp2(b_bits, r_bits), others)
    denominator = np.logaddexp2(0.0, every)  # log2(1 + every candidate's odds)
    return np.exp2(b_bits - denominator), np.exp2(r_bits - denominator)


def identities(best, runner, others, decisive, t: Thresholds = THRESHOLDS) -> np.ndarray:
    """matched / ambiguous / unmatched for each record, from its best candidate's weight
    (``nan``: no candidate), its runner-up's (``nan``: none), log2 of the summed odds of its
    other candidates (-inf: none) and whether a valid NPI on the page decides it.

    >>> identities([12.0, 12.0, -1.0, float("nan")], [0.0, 12.0, float("nan"), float("nan")],
    ...            [-np.inf] * 4, [False] * 4).tolist()
    ['matched', 'ambiguous', 'unmatched', 'unmatched']
    """
    best = np.asarray(best, dtype=float)
    b_p, r_p = shares(best, runner, others, t)
    matched = (~np.isnan(best) & np.asarray(decisive, dtype=bool)) | (b_p >= t.match_probability)
    ambiguous = ~matched & (r_p >= t.credible_probability) & (b_p + r_p >= t.ambiguous_probability)
    return np.where(matched, "matched", np.where(ambiguous, "ambiguous", "unmatched"))


def identity(
    best: float,
    runner: float | None,
    decisive: bool,
    t: Thresholds = THRESHOLDS,
    others: float | None = None,
) -> str:
    """``identities`` of one record (``runner`` / ``others`` None: none)."""
    runner_weight = math.nan if runner is None else runner
    others_bits = -math.inf if others is None else others
    return str(identities([best], [runner_weight], [others_bits], [decisive], t)[0])


def weight_for(
    probability: float,
    t: Thresholds = THRESHOLDS,
    runner: float | None = None,
    others: float | None = None,
) -> float:
    """The match weight at which the best candidate's share of the odds is ``probability``,
    given its competitors (a runner-up's weight, the others' summed log2-odds).

    >>> round(weight_for(THRESHOLDS.match_probability), 2)
    0.21
    """
    rest = 0.0  # log2(1 + the competitors' odds)
    if runner is not None:
        rest = float(np.logaddexp2(rest, t.bits(runner)))
    if others is not None:
        rest = float(np.logaddexp2(rest, others))
    bits = math.log2(probability / (1 - probability)) + rest
    return (bits - t.calibration_shift_bits) / t.calibration_slope
