"""Matching engine: comparison levels, term frequencies, decisions, certification rules."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.match import (
    COMPARISONS,
    block_candidates,
    link,
    prepare_people,
    score_pairs,
)
from pipeline.normalize.npi import is_valid_npi
from pipeline.store import NPI_MACRO
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


def decisions_for(listings: list[dict]) -> pd.DataFrame:
    decided, _ = link(people(listings), REFERENCE)
    return decided.set_index("rec_id")


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


def test_namesakes_with_no_distinguishing_evidence_are_ambiguous_not_guessed():
    decided = decisions_for([{"rec_id": "x", "first": "Robert", "last": "Smith"}])
    assert decided.loc["x", "identity"] == "ambiguous"
    assert decided.loc["x", "npi"] is None
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
        ]
    )
    assert decided.loc["npi", "npi"] == "1000000012"
    left = prepare_people(
        people(
            [
                {"rec_id": "a", "first": "Anna", "last": "Zbigniewski", "npi": "1000000046"},
                {"rec_id": "b", "first": "Anna", "last": "Zbigniewski", "npi": "1999999999"},
            ]
        )
    )
    right = prepare_people(REFERENCE)
    scored = score_pairs(left, right, block_candidates(left, right))
    npi_weight = scored.set_index(["l", "r"])["npi_weight"]
    assert npi_weight.loc[(0, 4)] > 15
    assert npi_weight.loc[(1, 4)] < -9


def test_agreeing_on_a_common_surname_counts_for_less_than_on_a_rare_one():
    left = prepare_people(
        people(
            [
                {"rec_id": "a", "first": "Anna", "last": "Smith"},
                {"rec_id": "b", "first": "Anna", "last": "Zbigniewski"},
            ]
        )
    )
    right = prepare_people(REFERENCE)
    scored = score_pairs(left, right, block_candidates(left, right)).set_index(["l", "r"])
    smith = scored.loc[(0, 5), "surname_weight"]
    rare = scored.loc[(1, 4), "surname_weight"]
    assert scored.loc[(0, 5), "surname_level"] == scored.loc[(1, 4), "surname_level"] == 0
    assert rare > smith + 2


@pytest.mark.parametrize(
    ("comparison", "left", "right", "level_name"),
    [
        ("surname", {"last": "Smith"}, {"last": "SMITH"}, "exact (term-frequency adjusted)"),
        ("surname", {"last": "Jonhson"}, {"last": "Johnson"}, "jaro-winkler >= 0.92"),
        (
            "surname",
            {"last": "Garcia"},
            {"last": "Garcia-Lopez"},
            "exact (term-frequency adjusted)",
        ),
        ("surname", {"last": "Nguyen"}, {"last": "Patel"}, "different"),
        ("first_name", {"first": "Bill"}, {"first": "William"}, "nickname of each other"),
        ("first_name", {"first": "J"}, {"first": "John"}, "initial agrees"),
        ("first_name", {"first": "Jon"}, {"first": "Jonn"}, "jaro-winkler >= 0.9"),
        ("middle_initial", {"middle": "Ann"}, {"middle": "A."}, "agree"),
        ("middle_initial", {"middle": "B"}, {"middle": "A"}, "disagree"),
        (
            "location",
            {"states": ["MA"], "cities": ["boston"]},
            {"states": ["MA", "NH"], "cities": ["boston"]},
            "same state and city",
        ),
        (
            "location",
            {"states": ["MA"], "cities": ["salem"]},
            {"states": ["MA"], "cities": ["boston"]},
            "same state, other city",
        ),
        ("location", {"states": ["MA"]}, {"states": ["CA"]}, "other state"),
        (
            "specialty",
            {"specialties": ["Internal Medicine"]},
            {"specialties": ["Cardiovascular Disease"]},
            "agree",
        ),
        ("specialty", {"specialties": ["Dermatology"]}, {"specialties": ["Neurology"]}, "disagree"),
        ("degree", {"physician": False}, {"physician": True}, "one is not a physician"),
    ],
)
def test_comparison_levels(comparison, left, right, level_name):
    base = {"rec_id": "x", "first": "Ann", "last": "Lee"}
    lp = prepare_people(people([{**base, **left}]))
    rp = prepare_people(people([{**base, **right}]))
    spec = next(c for c in COMPARISONS if c.name == comparison)
    level = spec.level_of(next(lp.itertuples(index=False)), next(rp.itertuples(index=False)))
    assert spec.levels[level].name == level_name


def test_missing_values_carry_no_weight():
    lp = prepare_people(people([{"rec_id": "x", "first": "Ann", "last": "Lee"}]))
    rp = prepare_people(people([{"rec_id": "y", "first": "Ann", "last": "Lee"}]))
    scored = score_pairs(lp, rp, pd.DataFrame({"l": [0], "r": [0]}))
    for name in ("middle_initial", "location", "specialty", "npi"):
        assert scored.loc[0, f"{name}_weight"] == 0


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


@given(st.from_regex(r"[0-9]{10}", fullmatch=True))
def test_sql_npi_check_agrees_with_python(npi):
    con = duckdb.connect()
    con.execute(NPI_MACRO)
    assert con.execute("SELECT npi_is_valid(?)", [npi]).fetchone()[0] == is_valid_npi(npi)
