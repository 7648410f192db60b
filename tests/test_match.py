"""Matching engine: comparison levels, term frequencies, decisions, certification rules."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.match import COMPARISONS, link
from pipeline.match.blocking import (
    KEY_KINDS,
    NEIGHBOURHOOD_WINDOW,
    block_candidates,
    blocking_report,
)
from pipeline.match.comparisons import PairBatch, comparison_levels
from pipeline.match.model import (
    Parameters,
    expectation_maximisation,
    match_prior,
    pair_weights,
    term_frequency_tables,
)
from pipeline.match.people import encode_sides
from pipeline.normalize.npi import is_valid_npi, npi_valid_sql
from pipeline.verify import classify_certification


def people(rows: list[dict]) -> pd.DataFrame:
    defaults = {
        "middle": None,
        "alt_lasts": [],
        "states": [],
        "cities": [],
        "specialties": [],
        "npi": None,
        "physician": True,
    }
    return pd.DataFrame([{**defaults, **row} for row in rows])


REFERENCE = people(
    [
        {
            "rec_id": "1",
            "npi": "1000000004",
            "first": "ROBERT",
            "middle": "A",
            "last": "SMITH",
            "states": ["MA"],
            "cities": ["boston"],
            "specialties": ["Cardiovascular Disease"],
        },
        {
            "rec_id": "2",
            "npi": "1000000012",
            "first": "ROBERT",
            "middle": "J",
            "last": "SMITH",
            "states": ["CA"],
            "cities": ["fresno"],
            "specialties": ["Family Medicine"],
        },
        {
            "rec_id": "3",
            "npi": "1000000020",
            "first": "ELIZABETH",
            "last": "GARCIA-LOPEZ",
            "states": ["TX"],
            "cities": ["houston"],
            "specialties": ["Pediatrics"],
        },
        {
            "rec_id": "4",
            "npi": "1000000038",
            "first": "MARY",
            "last": "JOHNSON",
            "alt_lasts": ["WILLIAMS"],
            "states": ["OH"],
            "cities": ["columbus"],
            "specialties": ["Obstetrics and Gynecology"],
        },
        {
            "rec_id": "5",
            "npi": "1000000046",
            "first": "ANNA",
            "last": "ZBIGNIEWSKI",
            "states": ["IL"],
            "cities": ["chicago"],
            "specialties": ["Neurology"],
        },
        {
            "rec_id": "6",
            "npi": "1000000053",
            "first": "ANNA",
            "last": "SMITH",
            "states": ["IL"],
            "cities": ["chicago"],
            "specialties": ["Neurology"],
        },
        # Many more Smiths make "smith" a common surname in this reference.
        *[
            {
                "rec_id": f"s{i}",
                "npi": f"20000000{i:02d}",
                "first": f"PAT{i}",
                "last": "SMITH",
                "states": ["NY"],
                "cities": ["albany"],
            }
            for i in range(12)
        ],
    ]
)


def fixed_parameters(n_right: int) -> Parameters:
    """The comparisons' starting m/u with a prior of one match per left record."""
    params = Parameters.defaults()
    params.lam = 1.0 / n_right
    return params


def decisions_for(listings: list[dict]) -> pd.DataFrame:
    decided, _ = link(people(listings), REFERENCE, params=fixed_parameters(len(REFERENCE)))
    return decided.set_index("rec_id")


def pair_table(left_rows: list[dict], right: pd.DataFrame) -> pd.DataFrame:
    """Every (left, right) pair with each comparison's level name and weight."""
    left = people(left_rows)
    lenc, renc, vocab = encode_sides(left, right)
    lpos = np.repeat(np.arange(lenc.n), renc.n)
    rpos = np.tile(np.arange(renc.n), lenc.n)
    batch = PairBatch(lenc, renc, vocab, lpos, rpos)
    levels = comparison_levels(batch)
    params = fixed_parameters(renc.n)
    weights = pair_weights(batch, levels, params, term_frequency_tables(lenc, renc, vocab))
    out = pd.DataFrame({"l": lpos, "r": rpos})
    for k, c in enumerate(COMPARISONS):
        out[f"{c.name}_level"] = [c.levels[x] for x in levels[:, k]]
        out[f"{c.name}_weight"] = weights[:, k]
    return out.set_index(["l", "r"])


def test_nickname_and_location_resolve_the_right_namesake():
    decided = decisions_for(
        [
            {
                "rec_id": "bob-ma",
                "first": "Bob",
                "last": "Smith",
                "states": ["MA"],
                "cities": ["boston"],
                "specialties": ["Cardiovascular Disease"],
            },
            {
                "rec_id": "rob-ca",
                "first": "Robert",
                "middle": "J.",
                "last": "Smith",
                "states": ["CA"],
                "cities": ["fresno"],
            },
        ]
    )
    assert decided.loc["bob-ma", ["identity", "npi"]].tolist() == ["matched", "1000000004"]
    assert decided.loc["rob-ca", ["identity", "npi"]].tolist() == ["matched", "1000000012"]


def test_an_empty_reference_leaves_every_listing_unmatched():
    """Nobody to match against (a reference file that loaded no row): every listing is
    unmatched, with no candidate and no explanation, rather than an error."""
    listings = people([{"rec_id": "x", "first": "Robert", "last": "Smith"}])
    decided, details = link(listings, REFERENCE.iloc[:0])
    assert decided["rec_id"].tolist() == ["x"] and details.pairs == 0
    row = decided.iloc[0]
    assert row["identity"] == "unmatched"
    assert pd.isna(row["npi"]) and pd.isna(row["candidate_npi"]) and pd.isna(row["comparisons"])


def test_namesakes_with_no_distinguishing_evidence_are_ambiguous_not_guessed():
    decided = decisions_for([{"rec_id": "x", "first": "Robert", "last": "Smith"}])
    assert decided.loc["x", "identity"] == "ambiguous"
    assert pd.isna(decided.loc["x", "npi"])  # no NPI is claimed
    assert {decided.loc["x", "candidate_npi"], decided.loc["x", "runner_up_npi"]} == {
        "1000000004",
        "1000000012",
    }


def test_hyphenated_married_and_misspelled_surnames_still_match():
    decided = decisions_for(
        [
            {
                "rec_id": "liz",
                "first": "Liz",
                "last": "Garcia",
                "states": ["TX"],
                "cities": ["houston"],
                "specialties": ["Pediatrics"],
            },
            {
                "rec_id": "married",
                "first": "Mary",
                "last": "Williams",
                "states": ["OH"],
                "cities": ["columbus"],
            },
            {
                "rec_id": "typo",
                "first": "Anna",
                "last": "Zbigneiwski",
                "states": ["IL"],
                "cities": ["chicago"],
                "specialties": ["Neurology"],
            },
        ]
    )
    assert decided.loc["liz", "npi"] == "1000000020"
    assert decided.loc["married", "npi"] == "1000000038"
    assert decided.loc["typo", "npi"] == "1000000046"
    assert (decided["identity"] == "matched").all()


def test_unknown_people_stay_unmatched():
    decided = decisions_for(
        [
            {"rec_id": "nobody", "first": "Quentin", "last": "Oyelaran", "states": ["MA"]},
            {"rec_id": "wrong-first", "first": "Harold", "last": "Zbigniewski", "states": ["WA"]},
        ]
    )
    assert (decided["identity"] == "unmatched").all()
    assert decided["npi"].isna().all()


def test_a_shown_npi_decides_between_namesakes_and_a_wrong_one_counts_against():
    decided = decisions_for(
        [
            {"rec_id": "npi", "first": "Robert", "last": "Smith", "npi": "1000000012"},
            # Names that clearly disagree are not overruled by the NPI.
            {"rec_id": "other", "first": "Quentin", "last": "Oyelaran", "npi": "1000000046"},
        ]
    )
    assert decided.loc["npi", ["identity", "npi"]].tolist() == ["matched", "1000000012"]
    # A colleague's NPI (another surname) does not decide: it is weighed with the rest.
    colleague = decisions_for(
        [
            {
                "rec_id": "colleague",
                "first": "Anna",
                "last": "Zbigniewski",
                "states": ["IL"],
                "cities": ["chicago"],
                "specialties": ["Neurology"],
                "npi": "1000000053",  # Anna Smith's, a colleague in the same department
            }
        ]
    )
    assert json.loads(colleague.loc["colleague", "comparisons"])["npi_decisive"] is False
    assert json.loads(decided.loc["npi", "comparisons"])["npi_decisive"] is True
    assert decided.loc["other", "identity"] != "matched"
    scored = pair_table(
        [
            {"rec_id": "a", "first": "Anna", "last": "Zbigniewski", "npi": "1000000046"},
            {"rec_id": "b", "first": "Anna", "last": "Zbigniewski", "npi": "1000000053"},
            # Fails the check digit: not evidence at all.
            {"rec_id": "c", "first": "Anna", "last": "Zbigniewski", "npi": "1000000047"},
        ],
        REFERENCE,
    )
    assert scored.loc[(0, 4), "npi_weight"] > 15
    assert scored.loc[(1, 4), "npi_weight"] < -5
    assert scored.loc[(2, 4), "npi_level"] == "missing"


def test_agreeing_on_a_common_surname_counts_for_less_than_on_a_rare_one():
    scored = pair_table(
        [
            {"rec_id": "a", "first": "Anna", "last": "Smith"},
            {"rec_id": "b", "first": "Anna", "last": "Zbigniewski"},
        ],
        REFERENCE,
    )
    assert scored.loc[(0, 5), "surname_level"] == scored.loc[(1, 4), "surname_level"]
    assert scored.loc[(0, 5), "surname_level"].startswith("exact")
    assert scored.loc[(1, 4), "surname_weight"] > scored.loc[(0, 5), "surname_weight"] + 2


@pytest.mark.parametrize(
    ("comparison", "left", "right", "level_name"),
    [
        ("surname", {"last": "Smith"}, {"last": "SMITH"}, "exact (term-frequency adjusted)"),
        ("surname", {"last": "Jonhson"}, {"last": "Johnson"}, "one typo apart"),
        ("surname", {"last": "Mith"}, {"last": "Smith"}, "one typo apart"),  # the first letter
        ("surname", {"last": "Johnstone"}, {"last": "Johnson"}, "jaro-winkler >= 0.92"),
        (
            "surname",
            {"last": "Garcia Lopez"},
            {"last": "GARCIA-LOPEZ"},
            "exact (term-frequency adjusted)",
        ),
        (
            "surname",
            {"last": "Garcia"},
            {"last": "Garcia-Lopez"},
            "other name or part of a compound agrees",
        ),
        (
            "surname",
            {"last": "Williams"},
            {"last": "Johnson", "alt_lasts": ["Williams"]},
            "other name or part of a compound agrees",
        ),
        (
            "surname",
            {"first": "Wong", "last": "Mei"},
            {"first": "Mei", "last": "Wong"},
            "exact (term-frequency adjusted)",
        ),
        (
            "name_order",
            {"first": "Wong", "last": "Mei"},
            {"first": "Mei", "last": "Wong"},
            "first and last names swapped",
        ),
        (
            "name_order",
            {"first": "Wong", "last": "Mie"},  # swapped, and a typo in one of them
            {"first": "Mei", "last": "Wong"},
            "first and last names swapped",
        ),
        (
            "name_order",
            {"first": "Wong", "last": "M."},  # swapped, the first name as an initial
            {"first": "Mei", "last": "Wong"},
            "first and last names swapped",
        ),
        ("name_order", {"first": "Mei", "last": "Wong"}, {"first": "Mei", "last": "Wong"}, "as registered"),
        (
            "name_order",
            {"first": "Smith", "last": "Bob"},  # swapped, the first name a nickname
            {"first": "Robert", "last": "Smith"},
            "first and last names swapped",
        ),
        (
            "name_order",
            {"first": "Garcia-Lopez", "last": "Ana"},  # swapped, a compound surname
            {"first": "Ana", "last": "Lopez", "alt_lasts": ["Garcia"]},
            "first and last names swapped",
        ),
        (
            "surname",
            {"first": "Garcia-Lopez", "last": "Ana"},
            {"first": "Ana", "last": "Lopez", "alt_lasts": ["Garcia"]},
            "other name or part of a compound agrees",
        ),
        (
            "name_order",
            {"first": "Birch", "last": "Isab"},  # swapped, a short form no table lists
            {"first": "Isabel", "last": "Birch"},
            "first and last names swapped",
        ),
        (
            "name_order",
            {"first": "Rose", "last": "Cruz"},  # a first name that is someone's surname: no swap
            {"first": "Cornelia", "last": "Rose"},
            "as registered",
        ),
        ("surname", {"last": "Nguyen"}, {"last": "Patel"}, "different"),
        ("surname", {"last": None}, {"last": "Patel"}, "missing"),
        ("first_name", {"first": "Ann"}, {"first": "ANN"}, "exact (term-frequency adjusted)"),
        ("first_name", {"first": "Bill"}, {"first": "William"}, "nickname of each other"),
        ("first_name", {"first": "Liz"}, {"first": "Elizabeth"}, "nickname of each other"),
        ("first_name", {"first": "J"}, {"first": "John"}, "initial agrees"),
        ("first_name", {"first": "Jon"}, {"first": "Jonn"}, "one typo apart"),
        ("first_name", {"first": "Qorothy"}, {"first": "Dorothy"}, "one typo apart"),
        ("first_name", {"first": "Xander"}, {"first": "Alexander"}, "one contains the other"),
        ("first_name", {"first": "Harold"}, {"first": "Maria"}, "different"),
        (
            "first_name",
            {"first": "Wong", "last": "Mei"},
            {"first": "Mei", "last": "Wong"},
            "exact (term-frequency adjusted)",
        ),
        ("middle_initial", {"middle": "Ann"}, {"middle": "ANN"}, "same middle name"),
        ("middle_initial", {"middle": "Ann"}, {"middle": "A."}, "initials agree"),
        ("middle_initial", {"middle": "Ann"}, {"middle": "Amy"}, "initials agree"),
        ("middle_initial", {"middle": "B"}, {"middle": "A"}, "disagree"),
        ("middle_initial", {"middle": None}, {"middle": "A"}, "missing"),
        (
            "location",
            {"states": ["MA"], "cities": ["boston"]},
            {"states": ["MA", "NH"], "cities": ["boston"]},
            "same state and city or ZIP",
        ),
        (
            "location",
            {"states": ["MA"], "zips": ["02114"]},
            {"states": ["MA"], "zips": ["02114-2696"]},
            "same state and city or ZIP",
        ),
        (
            "location",
            {"states": ["MA"], "cities": ["salem"]},
            {"states": ["MA"], "cities": ["boston"]},
            "same state, other city",
        ),
        (
            "location",
            {"states": ["MA"], "cities": ["boston"], "affiliations": ["Mercy General Hospital"]},
            {"states": ["MA"], "cities": ["boston"], "affiliations": ["MERCY GENERAL HOSPITAL"]},
            "same place and same hospital, group or address",
        ),
        (
            "location",
            {"states": ["MA"], "affiliations": ["Mercy General Hospital"]},
            {"states": ["NY"], "affiliations": ["MERCY GENERAL HOSPITAL"]},
            "same hospital or group",
        ),
        ("location", {"states": ["MA"]}, {"states": ["CA"]}, "other state"),
        ("location", {}, {"states": ["CA"]}, "missing"),
        (
            "specialty",
            {"specialties": ["Internal Medicine"]},
            {"specialties": ["Cardiovascular Disease"]},
            "agree through the crosswalk",
        ),
        ("specialty", {"specialties": ["Dermatology"]}, {"specialties": ["Neurology"]}, "disagree"),
        ("specialty", {}, {"specialties": ["Neurology"]}, "missing"),
        (
            "education",
            {"schools": ["Harvard Medical School"], "grad_years": [2004]},
            {"schools": ["Harvard Medical School"], "grad_years": ["2004"]},
            "same medical school and year",
        ),
        (
            "education",
            {"schools": ["Harvard Medical School"], "grad_years": [2004]},
            {"schools": ["Harvard Medical School"], "grad_years": [2005]},
            "same medical school, a year apart",
        ),
        (
            "education",
            {"schools": ["Harvard Medical School"], "grad_years": [2004]},
            {"schools": ["Harvard Medical School"], "grad_years": [2010]},
            "same medical school",
        ),
        (
            "education",
            {"schools": ["Harvard Medical School"]},
            {"schools": ["Yale School of Medicine"]},
            "different medical school",
        ),
        ("education", {"schools": ["Harvard Medical School"]}, {}, "missing"),
        (
            "education",
            {"grad_years": [2004]},
            {"schools": ["Harvard Medical School"], "grad_years": [2004]},
            "same year, a school unknown",
        ),
        ("education", {"grad_years": [2004]}, {"grad_years": [2005]}, "a year apart, a school unknown"),
        ("education", {"grad_years": [2004]}, {"grad_years": [1980]}, "other year, a school unknown"),
        # The sex a source states, else the one the first name tells.
        ("sex", {"first": "Mark"}, {"first": "Alicia"}, "different"),
        ("sex", {"first": "Mark"}, {"first": "Marcus"}, "same"),
        ("sex", {"first": "Ann"}, {"first": "ANN"}, "missing"),  # the first names said it
        ("sex", {"first": "Ann", "gender": "F"}, {"first": "Ann", "gender": "M"}, "different"),
        ("sex", {"first": "J."}, {"first": "John", "gender": "M"}, "missing"),
        ("sex", {"first": "J.", "gender": "Male"}, {"first": "Jane", "gender": "F"}, "different"),
        ("sex", {"first": "Mei"}, {"first": "Wei"}, "missing"),  # names of either sex
        ("npi", {"npi": "1234567893"}, {"npi": "1234567893"}, "equal"),
        ("npi", {"npi": "1234567893"}, {"npi": "1000000004"}, "different"),
        ("npi", {"npi": "1234567890"}, {"npi": "1234567890"}, "missing"),  # bad check digit
        ("degree", {"physician": False}, {"physician": True}, "one is not a physician"),
        ("degree", {"physician": True}, {"physician": True}, "both physicians or both not"),
        ("degree", {"physician": None}, {"physician": True}, "missing"),
    ],
)
def test_comparison_levels(comparison, left, right, level_name):
    base = {"rec_id": "x", "first": "Ann", "last": "Lee"}
    scored = pair_table([{**base, **left}], people([{**base, **right}]))
    assert scored.loc[(0, 0), f"{comparison}_level"] == level_name


def test_missing_values_carry_no_weight():
    scored = pair_table(
        [{"rec_id": "x", "first": "Ann", "last": "Lee"}],
        people([{"rec_id": "y", "first": "Ann", "last": "Lee", "physician": None}]),
    )
    for name in ("middle_initial", "location", "specialty", "education", "npi", "degree"):
        assert scored.loc[(0, 0), f"{name}_weight"] == 0


def test_every_comparison_has_levels_weights_and_a_null_level():
    params = Parameters.defaults()
    for c, table in zip(COMPARISONS, params.weight_tables()):
        assert len(c.levels) == len(c.m) == len(c.u) == len(table)
        assert table[c.null_level] == 0
        if c.weight_is_m_only:  # how rarely a true pair shows the level: never evidence for
            assert 0 >= table[0] > table[c.null_level - 1]
            continue
        assert table[0] > 0 > table[c.null_level - 1]  # agreement for, disagreement against


def test_em_recovers_m_and_lambda_from_unlabelled_pairs():
    rng = np.random.default_rng(3)
    truth = Parameters.defaults()
    n, share = 60_000, 0.3
    is_match = rng.random(n) < share
    levels = np.empty((n, len(COMPARISONS)), dtype=np.int8)
    for k, c in enumerate(COMPARISONS):
        m = np.array(c.m, dtype=float)
        u = np.array(c.u, dtype=float)
        m[c.null_level] = u[c.null_level] = 0.0
        levels[is_match, k] = rng.choice(len(m), is_match.sum(), p=m / m.sum())
        levels[~is_match, k] = rng.choice(len(u), (~is_match).sum(), p=u / u.sum())
    start = Parameters.defaults()
    # Start far from the truth: flat m, and lambda 0.05.
    start.m = [
        np.where(np.arange(len(c.levels)) == c.null_level, 1.0, 1.0 / (len(c.levels) - 1))
        for c in COMPARISONS
    ]
    start.u = truth.u
    start.lam = 0.05
    fitted = expectation_maximisation(levels, start, iterations=200)
    assert abs(fitted.lam - share) < 0.01
    for k, c in enumerate(COMPARISONS):
        expected = np.array(c.m[: c.null_level]) / sum(c.m[: c.null_level])
        assert np.allclose(fitted.m[k][: c.null_level], expected, atol=0.02), c.name


def test_the_prior_is_the_share_of_listings_with_a_match_not_of_their_namesakes():
    """900 of 1,000 listings have their person among the candidates (strong evidence), every
    listing has namesakes (weak evidence) besides: the prior odds against "none of them" are
    0.9 / 0.1 spread over the reference, however many namesakes each listing brings."""
    rng = np.random.default_rng(3)
    n_left, n_right = 1000, 100_000
    for namesakes in (2, 20):
        true_l = np.arange(900)
        weak_l = np.repeat(np.arange(n_left), namesakes)
        lpos = np.r_[true_l, weak_l]
        evidence = np.r_[rng.normal(30, 2, len(true_l)), rng.normal(0, 2, len(weak_l))]
        lam = match_prior(lpos, evidence, n_left, n_right)
        odds = lam / (1 - lam) * n_right
        assert 0.88 < odds / (1 + odds) < 0.92, namesakes


def test_frozen_comparisons_keep_their_m_in_em():
    levels = np.zeros((1000, len(COMPARISONS)), dtype=np.int8)
    start = Parameters.defaults()
    frozen = [c.name == "surname" for c in COMPARISONS]
    fitted = expectation_maximisation(levels, start, frozen=frozen)
    assert np.array_equal(fitted.m[0], start.m[0])
    assert fitted.m[1][0] > 0.95  # everything agrees on the first name


def test_a_dozen_training_matches_do_not_overturn_the_declared_m():
    """A reference of twenty people gives EM a dozen matches: a surname that disagrees in a
    few of them (namesakes EM takes for matches) must stay strong evidence against a match."""
    surname = COMPARISONS[0]
    different = surname.index("different")
    levels = np.zeros((12, len(COMPARISONS)), dtype=np.int8)
    levels[:3, 0] = different
    start = Parameters.defaults()
    start.lam = 0.9
    fitted = expectation_maximisation(levels, start)
    declared = surname.m[different] / (sum(surname.m) - surname.m[surname.null_level])
    assert fitted.m[0][different] < 2 * declared + 0.03
    many = np.repeat(levels, 100, axis=0)  # the same shares over 1,200 pairs: the data speak
    assert expectation_maximisation(many, start).m[0][different] > 0.2


def test_link_estimates_parameters_without_labels(tmp_path):
    rng = np.random.default_rng(5)
    firsts = ["JOHN", "MARY", "ROBERT", "LINDA", "JAMES", "SUSAN", "DAVID", "KAREN", "ANA", "WEI"]
    lasts = [f"SURNAME{chr(65 + i)}{chr(65 + j)}" for i in range(20) for j in range(20)]
    states = ["MA", "TX", "CA", "NY", "OH"]
    ref = people(
        [
            {
                "rec_id": str(i),
                "npi": None,
                "first": rng.choice(firsts),
                "last": rng.choice(lasts),
                "middle": rng.choice(list("ABCDEFGH")),
                "states": [rng.choice(states)],
                "cities": [f"city{rng.integers(30)}"],
            }
            for i in range(3000)
        ]
    )
    picked = rng.choice(len(ref), 800, replace=False)
    listings = ref.iloc[picked].assign(rec_id=[f"l{i}" for i in range(800)])
    decided, details = link(listings, ref)
    frame = details.parameters.as_frame().set_index(["comparison", "level"])
    assert frame.loc[("first_name", 0), "m"] > 0.9
    assert frame.loc[("first_name", 0), "u"] < 0.2
    assert frame.loc[("middle_initial", 2), "weight"] < -3  # disagree
    truth = ref["rec_id"].iloc[picked].to_numpy()
    chosen = ref["rec_id"].to_numpy()[decided["best_r"].to_numpy()]
    matched = decided["identity"] == "matched"
    assert (chosen[matched] == truth[matched]).mean() > 0.99
    assert matched.mean() > 0.8

    # The fitted model, saved as JSON and loaded again, decides exactly the same.
    saved = tmp_path / "model.json"
    details.parameters.save(saved)
    loaded = Parameters.load(saved)
    assert loaded.lam == details.parameters.lam
    again, _ = link(listings, ref, params=loaded)
    pd.testing.assert_frame_equal(
        again.drop(columns="comparisons"), decided.drop(columns="comparisons")
    )
    assert again["comparisons"].tolist() == decided["comparisons"].tolist()


def test_blocking_keys_reach_typos_nicknames_swaps_and_other_names():
    listings = people(
        [
            {"rec_id": "nick", "first": "Bob", "last": "Smith", "states": ["MA"]},
            {"rec_id": "typo", "first": "Anna", "last": "Zbigneiwski", "states": ["IL"]},
            {"rec_id": "moved", "first": "Anna", "last": "Zbigneiwski", "states": ["WA"]},
            {"rec_id": "swap", "first": "Smith", "last": "Anna", "states": ["IL"]},
            {"rec_id": "married", "first": "Mary", "last": "Williams", "states": ["OH"]},
            {"rec_id": "part", "first": "Liz", "last": "Lopez", "states": ["TX"]},
            {"rec_id": "npi", "first": "R", "last": "Smithe", "npi": "1000000012"},
            # A typo in the first letter of the first name, by someone who moved.
            {"rec_id": "first-letter", "first": "Enna", "last": "Zbigniewski", "states": ["WA"]},
            # Swapped fields with a typo: "Zbigniewsky Anna".
            {"rec_id": "swap-typo", "first": "Zbigniewsky", "last": "Anna", "states": ["CA"]},
            # No surname at all, in the person's city.
            {"rec_id": "no-surname", "first": "Robert", "cities": ["fresno"], "states": ["CA"]},
        ]
    )
    lenc, renc, vocab = encode_sides(listings, REFERENCE)
    candidates = block_candidates(lenc, renc, vocab)
    expected_l = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    expected_r = [0, 4, 4, 5, 3, 2, 1, 4, 4, 1]
    report = blocking_report(candidates, expected_l, expected_r).set_index("key")
    assert report.loc["all", "recall"] == 1.0
    assert set(report.index) == {*KEY_KINDS, "all"}
    pats = people([{"rec_id": "pat", "first": "P", "last": "Smith", "states": ["NY"]}])
    lenc, renc, vocab = encode_sides(pats, REFERENCE)
    near = np.uint16(1 << KEY_KINDS.index("neighbourhood"))
    keyed = block_candidates(lenc, renc, vocab).keys & ~near
    assert (keyed != 0).sum() == 12  # the twelve "P... Smith" in NY
    capped = block_candidates(lenc, renc, vocab, max_block_size=5)
    assert not (capped.keys & ~near).any()  # every key's block is too big now
    assert len(capped) <= 4 * NEIGHBOURHOOD_WINDOW  # the sorted neighbourhood's fixed budget


def test_an_initial_and_a_common_surname_who_moved_are_reached_through_the_year():
    """J. Sanchez (2009) practises in another state now: the surname + initial block is too
    big to keep and the place keys look in the old state; the graduation year splits it."""
    states, firsts = ["TX", "CA", "FL", "NY", "IL"], ["JACK", "JAMES", "JANE", "JASON", "JOSE"]
    reference = people(
        [
            {
                "rec_id": f"j{i}",
                "first": firsts[i % 5],
                "middle": "ALAN",
                "last": "SANCHEZ",
                "states": [states[i % 5]],
                "cities": [f"town{i}"],
                "grad_years": 1975 + i,
            }
            for i in range(30)  # over the surname + initial cap
        ]
        + [
            {
                "rec_id": "jimmy",
                "first": "JIMMY",
                "middle": "WILLIAM",
                "last": "SANCHEZ",
                "states": ["VA"],
                "cities": ["richmond"],
                "grad_years": 2009,
            }
        ]
    )
    listing = people(
        [
            {
                "rec_id": "moved",
                "first": "J.",
                "middle": "WILLIAM",
                "last": "SANCHEZ",
                "states": ["AZ"],
                "cities": ["phoenix"],
                "grad_years": 2009,
            }
        ]
    )
    lenc, renc, vocab = encode_sides(listing, reference)
    report = blocking_report(block_candidates(lenc, renc, vocab), [0], [30]).set_index("key")
    assert report.loc["all", "recall"] == 1.0
    assert report.loc["surname_initial", "recall"] == 0.0  # the block is over its cap
    decided, _ = link(listing, reference, params=fixed_parameters(len(reference)))
    assert decided.loc[0, "identity"] == "matched"
    assert reference["rec_id"][decided.loc[0, "best_r"]] == "jimmy"


def test_a_nickname_the_tables_do_not_know_is_reached_through_the_middle_name():
    """Livvy Sabrina Small is Olivia Sabrina Small, in another city: no name key relates the
    first names and the sorted neighbourhood holds other Smalls; the whole middle name does."""
    firsts = ["LINDA", "LISA", "LOIS", "MARY", "NANCY", "NORA", "MARK", "OLGA"]
    town = {"states": ["OH"], "last": "SMALL"}
    reference = people(
        [
            {"rec_id": f"s{i}", "first": first, "middle": "ANN", "cities": [f"town{i}"], **town}
            for i, first in enumerate(firsts)
        ]
        + [{"rec_id": "olivia", "first": "OLIVIA", "middle": "SABRINA", "cities": ["x"], **town}]
    )
    listing = people(
        [{"rec_id": "livvy", "first": "Livvy", "middle": "SABRINA", "cities": ["dayton"], **town}]
    )
    lenc, renc, vocab = encode_sides(listing, reference)
    candidates = block_candidates(lenc, renc, vocab)
    report = blocking_report(candidates, [0], [len(firsts)]).set_index("key")
    assert report.loc["all", "recall"] == 1.0
    assert report.loc["surname_middle", "only_this_key"] == 1


def test_one_person_listed_on_two_sites_resolves_to_one_npi():
    decided = decisions_for(
        [
            {
                "rec_id": "site-a",
                "first": "Anna",
                "last": "Zbigniewski",
                "states": ["IL"],
                "cities": ["chicago"],
                "specialties": ["Neurology"],
            },
            {
                "rec_id": "site-b",
                "first": "Ann",
                "middle": "M",
                "last": "Zbigniewski",
                "states": ["IL"],
                "specialties": ["Neurology"],
            },
        ]
    )
    assert (decided["identity"] == "matched").all()
    assert set(decided["npi"]) == {"1000000046"}


@pytest.mark.parametrize(
    ("identity", "claimed", "certificates", "expected"),
    [
        (
            "matched",
            ["Cardiovascular Disease"],
            [("Cardiovascular Disease", "active", None)],
            "certified",
        ),
        (
            "matched",
            ["Internal Medicine"],
            [("Cardiovascular Disease", "active", None)],
            "certified",
        ),
        (
            "matched",
            ["Dermatology"],
            [("Internal Medicine", "active", None)],
            "certified_other_specialty",
        ),
        ("matched", [], [("Internal Medicine", "active", None)], "certified_other_specialty"),
        ("matched", ["Internal Medicine"], [("Internal Medicine", "expired", None)], "lapsed"),
        (
            "matched",
            ["Internal Medicine"],
            [("Internal Medicine", "lapsed", None), ("Pediatrics", "revoked", None)],
            "lapsed",
        ),
        (
            "matched",
            ["Internal Medicine"],
            [("Internal Medicine", "revoked", None)],
            "not_certified",
        ),
        ("matched", ["Internal Medicine"], [("Dermatology", "expired", None)], "not_certified"),
        ("matched", ["Pediatrics"], [], "not_certified"),
        ("ambiguous", ["Pediatrics"], [("Pediatrics", "active", None)], "unknown"),
        ("unmatched", [], [], "unknown"),
    ],
)
def test_classify_certification(identity, claimed, certificates, expected):
    assert classify_certification(identity, claimed, certificates) == expected


def test_a_multi_board_subspecialty_counts_only_for_its_issuing_boards_parent():
    palliative = (
        "Hospice and Palliative Medicine",
        "active",
        "American Board of Internal Medicine",
    )
    assert classify_certification("matched", ["Internal Medicine"], [palliative]) == "certified"
    assert (
        classify_certification("matched", ["Obstetrics and Gynecology"], [palliative])
        == "certified_other_specialty"
    )


def test_board_certification_does_not_apply_to_a_matched_nurse_practitioner():
    assert classify_certification("matched", ["Dermatology"], [], physician=False) == "unknown"


@settings(deadline=None, max_examples=50)  # a DuckDB connection per example
@given(st.from_regex(r"[0-9]{10}", fullmatch=True))
def test_sql_npi_check_agrees_with_python(npi):
    con = duckdb.connect()
    sql = f"SELECT {npi_valid_sql('$npi')}"
    assert con.execute(sql, {"npi": npi}).fetchone()[0] == is_valid_npi(npi)


def test_calibration_fit_recovers_slope_and_shift_and_resists_separation():
    from pipeline.match.evaluate import fit_calibration

    rng = np.random.default_rng(1)
    w = rng.uniform(-20, 20, 5000)
    y = (rng.random(5000) < 1 / (1 + 2.0 ** -(1.5 * w + 1.0))).astype(float)
    slope, shift = fit_calibration(w, y, ridge=0.0)
    assert abs(slope - 1.5) < 0.2 and abs(shift - 1.0) < 0.5
    # Perfectly separated labels: the ridge keeps the fit near the uncalibrated (1, 0).
    separated = (w > 0).astype(float)
    slope, shift = fit_calibration(w, separated)
    assert 0.5 < slope < 5 and abs(shift) < 5


def test_quality_is_asserted_only_on_seeds_never_fitted_on():
    from pipeline.match.evaluate import ASSERTION_SEEDS, FITTING_SEEDS
    from tests.conftest import DEMO_SEED

    assert DEMO_SEED in ASSERTION_SEEDS
    assert not set(FITTING_SEEDS) & set(ASSERTION_SEEDS)


def test_decisions_do_not_depend_on_how_the_work_is_sliced(monkeypatch):
    """Pairs compared in parallel batches, records in chunks, explanations in slices: the same
    decisions and explanations as in one piece."""
    import importlib

    from pipeline.demo.linkage_world import generate, staged

    link_module = importlib.import_module("pipeline.match.link")  # the module, not the function

    listings, reference, _ = generate(1500, 6000, seed=3)
    listings, reference = staged(listings), staged(reference)
    whole, details = link(listings, reference)
    monkeypatch.setattr(link_module, "CHUNK_PAIRS", 997)
    monkeypatch.setattr(link_module, "EXPLAIN_RECORDS", 101)
    sliced, sliced_details = link(
        listings, reference, params=details.parameters, chunk_records=400
    )
    assert sliced_details.pairs == details.pairs > 997 * 4  # several batches per chunk
    pd.testing.assert_frame_equal(sliced, whole)


def test_a_failure_inside_a_link_reaches_the_caller_and_leaves_its_connection_clean(monkeypatch):
    """An error while a chunk is compared (the next chunk's join running beside it) reaches the
    caller, and the caller's DuckDB connection is left as it was: no blocking tables or views,
    its settings back."""
    import importlib

    from pipeline.demo.linkage_world import generate, staged

    link_module = importlib.import_module("pipeline.match.link")
    listings, reference, _ = generate(600, 2000, seed=5)
    listings, reference = staged(listings), staged(reference)
    real_compare, calls = link_module._compare, []

    def failing_on_the_second_chunk(*args):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return real_compare(*args)

    monkeypatch.setattr(link_module, "_compare", failing_on_the_second_chunk)
    con = duckdb.connect()
    setting = "SELECT current_setting('preserve_insertion_order')"
    before = con.execute(setting).fetchone()
    with pytest.raises(RuntimeError, match="disk on fire"):
        link(listings, reference, con=con, chunk_records=200)
    assert len(calls) == 2
    left = con.execute(
        """SELECT table_name FROM duckdb_tables()
           UNION ALL SELECT view_name FROM duckdb_views() WHERE NOT internal"""
    ).fetchall()
    assert left == []
    assert con.execute(setting).fetchone() == before


_LETTERS = "abcdeilnorst ẞé-'0"


@st.composite
def _name_pairs(draw):
    """A name and another: unrelated, or the first after a few random edits (substitutions,
    insertions, deletions, neighbours exchanged), which lands near the fuzzy thresholds."""
    x = draw(st.text(alphabet=_LETTERS, min_size=1, max_size=12))
    if draw(st.booleans()):
        return x, draw(st.text(alphabet=_LETTERS, min_size=1, max_size=12))
    y = list(x)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(y)))
        kind = draw(st.sampled_from(["sub", "ins", "del", "swap"]))
        letter = draw(st.sampled_from(_LETTERS))
        if kind == "ins" or not y:
            y.insert(at, letter)
        elif kind == "sub":
            y[min(at, len(y) - 1)] = letter
        elif kind == "del" and len(y) > 1:
            del y[min(at, len(y) - 1)]
        elif kind == "swap" and at + 1 < len(y):
            y[at], y[at + 1] = y[at + 1], y[at]
    return x, "".join(y)


@settings(max_examples=300, deadline=None)
@given(pairs=st.lists(_name_pairs(), min_size=1, max_size=40))
def test_names_left_unscored_could_reach_no_fuzzy_level_and_no_typo(pairs):
    """The letter bound that spares most candidate names from scoring never spares a pair that
    reaches the loosest Jaro-Winkler level or is one edit apart."""
    from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

    from pipeline.match.comparisons import _could_be_close
    from pipeline.match.people import Vocab

    vocab = Vocab()
    a = np.array([Vocab.code(vocab.names, x) for x, _ in pairs])
    b = np.array([Vocab.code(vocab.names, y) for _, y in pairs])
    fuzzy, one_edit = _could_be_close(vocab, a, b)
    loosest = min(t for c in COMPARISONS for _, t in c.fuzzy_levels())
    for (x, y), could, could_typo in zip(pairs, fuzzy.tolist(), one_edit.tolist()):
        typo = DamerauLevenshtein.distance(x, y) <= 1
        assert could or not (typo or JaroWinkler.normalized_similarity(x, y) >= loosest), (x, y)
        assert could_typo or not typo, (x, y)


@settings(deadline=None, max_examples=12)  # a small world and its blocking per example
@given(world=st.integers(0, 10_000), subset=st.integers(0, 2**32 - 1))
def test_a_pairs_levels_do_not_depend_on_the_other_pairs_of_its_batch(world, subset):
    """Comparisons work once per distinct pair of names, rows and places in a batch: a pair's
    levels must be the same whatever else shares its batch (any subset, in any order)."""
    from pipeline.demo.linkage_world import generate, staged

    listings, reference, _ = generate(150, 600, seed=world)
    lenc, renc, vocab = encode_sides(staged(listings), staged(reference))
    candidates = block_candidates(lenc, renc, vocab)
    whole = comparison_levels(PairBatch(lenc, renc, vocab, candidates.lpos, candidates.rpos))
    rng = np.random.default_rng(subset)
    some = rng.permutation(len(candidates))[: rng.integers(1, len(candidates) + 1)]
    part = comparison_levels(
        PairBatch(lenc, renc, vocab, candidates.lpos[some], candidates.rpos[some])
    )
    np.testing.assert_array_equal(part, whole[some])
