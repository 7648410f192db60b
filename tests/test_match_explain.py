"""Explanations and counterfactuals of stored match decisions."""

from __future__ import annotations

from pipeline.match.explain import explanation_frame, what_would_change

THRESHOLDS = {
    "match_probability": 0.9,
    "ambiguous_probability": 0.5,
    "credible_probability": 0.1,
    "calibration_slope": 1.0,
    "calibration_shift_bits": 0.0,
}


def details(weights: dict[str, float], prior: float = -10.0, runner: float | None = None):
    comparisons = {
        name: {"level": "missing" if w == 0 else "some level", "weight": w}
        for name, w in weights.items()
    }
    return {
        "prior": prior,
        "match_weight": prior + sum(weights.values()),
        "npi_decisive": False,
        "comparisons": comparisons,
        "runner_up": None
        if runner is None
        else {"npi": "1234567893", "match_weight": runner, "comparisons": comparisons},
        "thresholds": THRESHOLDS,
    }


def test_a_comfortable_match_has_no_single_point_of_failure():
    d = details({"surname": 15.0, "first_name": 12.0, "location": 5.0, "npi": 0.0}, runner=-20)
    assert what_would_change(d) == ["no single comparison would change it"]


def test_counterfactuals_name_the_evidence_the_decision_rests_on():
    d = details({"surname": 9.0, "first_name": 3.0, "location": 3.0, "npi": 0.0})
    lines = what_would_change(d)
    assert any(line.startswith("without the surname evidence") for line in lines)
    assert any(line.startswith("without the first_name evidence") for line in lines)
    assert not any("npi" in line for line in lines)  # missing evidence weighs nothing


def test_an_unmatched_listing_says_how_much_evidence_is_missing():
    d = details({"surname": 9.0, "first_name": -7.0, "npi": 0.0})
    (line,) = what_would_change(d)
    assert line.startswith("it would match with")
    assert "npi" in line  # not compared: showing an NPI could decide it


def test_explanation_frame_puts_best_and_runner_up_side_by_side():
    d = details({"surname": 9.0, "first_name": 8.0}, runner=1.0)
    frame = explanation_frame(d).set_index("comparison")
    assert frame.loc["surname", "weight"] == 9.0
    assert frame.loc["surname", "runner_up_weight"] == 9.0
    assert frame.loc["prior (any two records)", "weight"] == -10.0


def test_every_stored_decision_is_what_the_shared_rule_decides_from_its_explanation(demo_db):
    """Linking and explain share one decision rule: re-deciding each stored decision from the
    weights and thresholds it stored gives back its identity."""
    import json

    import duckdb

    from pipeline.match.decide import identity
    from pipeline.match.explain import _thresholds

    con = duckdb.connect(str(demo_db), read_only=True)
    rows = con.execute(
        "SELECT identity, comparisons FROM listing_matches WHERE comparisons IS NOT NULL"
    ).fetchall()
    con.close()
    assert len(rows) > 1000
    by_identity: dict[str, int] = {}
    for stored, text in rows:
        d = json.loads(text)
        runner = d["runner_up"]["match_weight"] if d["runner_up"] else None
        others = d["other_candidates_bits"]
        again = identity(d["match_weight"], runner, d["npi_decisive"], _thresholds(d), others)
        assert again == stored
        by_identity[stored] = by_identity.get(stored, 0) + 1
    # "ambiguous" needs two credible namesakes, which a demo world may not have (the rule's
    # namesake case is tested in test_match); both other outcomes are always there.
    assert {"matched", "unmatched"} <= set(by_identity)


def test_fuzzy_level_labels_are_derived_from_their_thresholds():
    from pipeline.match.comparisons import COMPARISONS, jaro_winkler

    assert jaro_winkler(0.87, m=0.1, u=0.1).label == "jaro-winkler >= 0.87"
    for c in COMPARISONS:
        for k, threshold in c.fuzzy_levels():
            assert c.levels[k] == f"jaro-winkler >= {threshold:g}"
        assert c.levels[c.null_level] == "missing"


def test_the_missing_evidence_named_is_exactly_what_the_rule_needs():
    import re

    from pipeline.match.decide import Thresholds, identity

    d = details({"surname": 9.0, "first_name": -2.0, "npi": 0.0}, runner=-1.0)
    d["other_candidates_bits"] = 1.5  # more namesakes compete
    (line,) = what_would_change(d)
    need = float(re.search(r"with ([0-9.]+) more bits", line).group(1))
    runner, others, t = d["runner_up"]["match_weight"], d["other_candidates_bits"], Thresholds(**THRESHOLDS)
    for extra, expected in ((need - 0.1, "unmatched"), (need + 0.1, "matched")):
        got = identity(d["match_weight"] + extra, runner, False, t, others)
        assert got == expected, (extra, got)
