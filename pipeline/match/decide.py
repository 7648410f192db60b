"""The decision rule, once: a listing's best and runner-up match weights -> its identity.

Linking calls it on every listing at once; ``explain`` calls it on one stored decision and on
its counterfactuals ("without the NPI evidence it would be ambiguous"), with the thresholds the
decision was made with, so an explanation cannot drift from the decision it explains.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

# Probability calibration: calibrated log2-odds = SLOPE * match weight + SHIFT. Fitted with
# ``python -m bench.calibrate`` on demo worlds of the fitting seeds (pipeline.match.evaluate
# FITTING_SEEDS: 101, 102, 103; best candidate per listing, ridge towards 1 / 0 because the
# classes nearly separate): Brier 0.0006 on 3,907 listings. The tests judge other seeds.


@dataclass(frozen=True)
class Thresholds:
    match_probability: float = 0.90  # a listing's best candidate must be at least this likely
    ambiguous_probability: float = 0.50  # best two together less likely than this: unmatched
    min_margin_bits: float = 3.0  # best must beat the runner-up by this many bits (8x likelier)
    calibration_slope: float = 1.125
    calibration_shift_bits: float = 0.113

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def probability(self, weight):
        """Calibrated probability of a match weight (bits); array in, array out.

        >>> round(float(THRESHOLDS.probability(10.0)), 4)
        0.9996
        """
        bits = self.calibration_slope * np.asarray(weight, dtype=float)
        bits = bits + self.calibration_shift_bits
        return 1.0 / (1.0 + np.power(2.0, -np.clip(bits, -1000, 1000)))


THRESHOLDS = Thresholds()


def identities(best, runner, decisive, t: Thresholds = THRESHOLDS) -> np.ndarray:
    """matched / ambiguous / unmatched for each record, from its best candidate's weight
    (``nan``: no candidate), its runner-up's (``nan``: none) and whether a valid NPI on the page
    decides it.

    Matched: decisive, or probable enough and clearly ahead of the runner-up. Ambiguous: no
    clear winner, but the record is probably one of the best two (their odds add up: "one of
    these two Robert Smiths").

    >>> identities([12.0, 12.0, -5.0, float("nan")], [0.0, 11.0, float("nan"), float("nan")],
    ...            [False, False, False, False]).tolist()
    ['matched', 'ambiguous', 'unmatched', 'unmatched']
    """
    best = np.asarray(best, dtype=float)
    runner = np.asarray(runner, dtype=float)
    has, has_runner = ~np.isnan(best), ~np.isnan(runner)
    best_p = np.where(has, t.probability(np.where(has, best, 0.0)), 0.0)
    runner_p = np.where(has_runner, t.probability(np.where(has_runner, runner, 0.0)), 0.0)
    margin = np.where(has_runner, best - np.where(has_runner, runner, 0.0), np.inf)
    matched = (has & np.asarray(decisive, dtype=bool)) | (
        (best_p >= t.match_probability) & (margin >= t.min_margin_bits)
    )
    odds = np.minimum(best_p / np.maximum(1.0 - best_p, 1e-300), 1e300)
    odds = odds + np.minimum(runner_p / np.maximum(1.0 - runner_p, 1e-300), 1e300)
    ambiguous = ~matched & has & (odds / (1.0 + odds) >= t.ambiguous_probability)
    return np.where(matched, "matched", np.where(ambiguous, "ambiguous", "unmatched"))


def identity(
    best: float, runner: float | None, decisive: bool, t: Thresholds = THRESHOLDS
) -> str:
    """``identities`` of one record (``runner`` None: no runner-up)."""
    runner_weight = float("nan") if runner is None else runner
    return str(identities([best], [runner_weight], [decisive], t)[0])


def weight_for(probability: float, t: Thresholds = THRESHOLDS) -> float:
    """The match weight whose calibrated probability is ``probability``.

    >>> round(weight_for(THRESHOLDS.match_probability), 2)
    2.72
    """
    bits = np.log2(probability / (1 - probability))
    return float((bits - t.calibration_shift_bits) / t.calibration_slope)
