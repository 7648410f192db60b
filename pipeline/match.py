"""Record linkage: blocking, comparisons in discrete levels, Fellegi-Sunter weights, decisions.

Both sides are *person frames* with the columns of ``PERSON_COLUMNS``. The same engine links
directory listings, board certificates without an NPI and LEIE exclusions to NPPES people.

A comparison is data: a name, a function that returns a level index for a pair, and an (m, u)
probability per level. A pair's match weight is the prior log-odds plus the sum of
``log2(m / u)`` over comparisons; the surname's exact level uses the surname's own frequency as
``u`` (term-frequency adjustment), so agreeing on "Smith" counts for less than on "Zbigniewski".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import jellyfish
import pandas as pd
from rapidfuzz.distance import JaroWinkler

from pipeline.normalize.names import first_name_keys, name_key
from pipeline.normalize.specialties import claims_match

PERSON_COLUMNS = (
    "rec_id",  # unique id on its side
    "first",
    "middle",
    "last",
    "alt_lasts",  # list: other / former / maiden surnames
    "states",  # list of two-letter states
    "cities",  # list of city keys
    "specialties",  # list of canonical specialties
    "npi",  # NPI known on this side (shown on a page, or the reference's own), or None
    "physician",  # True / False / None (unknown)
)

# Pairs sharing one blocking key value with more than this many reference people are too
# common to tell apart by that key alone (think "smith|j"); other keys still reach them.
MAX_BLOCK_SIZE = 400


# ------------------------------------------------------------------------------ preparation


def _surname_keys(last: str, alt_lasts: Iterable[str]) -> set[str]:
    """Every surname a person may go by: full, alternates, and each part of a hyphenated one."""
    keys: set[str] = set()
    for surname in [last, *alt_lasts]:
        key = name_key(surname or "")
        if not key:
            continue
        keys.add(key)
        parts = key.replace("-", " ").split()
        if len(parts) > 1:
            keys.update(p for p in parts if len(p) > 1)
            keys.add("".join(parts))
    return keys


def as_text(value) -> str:
    """A cell as text: pandas gives NaN (truthy!) or None for missing values."""
    return value if isinstance(value, str) else ""


def as_texts(value) -> list[str]:
    if isinstance(value, (list, tuple)) or hasattr(value, "tolist"):
        return [v for v in list(value) if isinstance(v, str) and v]
    return []


def _flag(value) -> bool | None:
    return None if value is None or value is pd.NA or value != value else bool(value)


def prepare_people(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the derived matching columns (keys, variants, blocking keys) to a person frame."""
    out = frame.copy()
    for column in ("first", "middle", "last"):
        out[column] = [as_text(v) for v in out[column]]
    for column in ("alt_lasts", "states", "cities", "specialties"):
        out[column] = [as_texts(v) for v in out[column]]
    out["npi"] = pd.Series([as_text(v) or None for v in out["npi"]], index=out.index, dtype=object)
    out["physician"] = pd.Series(
        [_flag(v) for v in out["physician"]], index=out.index, dtype=object
    )
    out["first_key"] = [name_key(f) for f in out["first"]]
    out["first_variants"] = [first_name_keys(f) for f in out["first"]]
    out["middle_initial"] = [name_key(m)[:1] for m in out["middle"]]
    out["last_key"] = [name_key(s) for s in out["last"]]
    out["surname_keys"] = [
        _surname_keys(last, alts) for last, alts in zip(out["last"], out["alt_lasts"])
    ]
    out["block_keys"] = [_block_keys(row) for row in out.itertuples(index=False)]
    return out


def _one_deletion_variants(word: str) -> set[str]:
    """The word and every form of it with one letter removed.

    Two spellings one typo apart (a dropped, added, swapped or changed letter) always share a
    variant, so this key survives the typos that change a surname's sound and prefix.
    """
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


def _block_keys(person) -> set[str]:
    keys: set[str] = set()
    if person.npi:
        keys.add(f"npi:{person.npi}")
    initials = {v[:1] for v in person.first_variants if v}
    for surname in person.surname_keys:
        phonetic = jellyfish.metaphone(surname) or surname
        for initial in initials:
            keys.add(f"ph:{phonetic}|{initial}")
        # A typo in the surname changes its sound; the full first name and prefix still agree.
        for variant in person.first_variants:
            keys.add(f"pre:{surname[:3]}|{variant}")
        # Typos that also break the prefix: one-deletion variants, kept small by the state.
        if len(surname) >= 4:
            for typo_key in _one_deletion_variants(surname):
                for state in person.states:
                    keys.add(f"del:{typo_key}|{person.first_key[:1]}|{state}")
    return keys


def block_candidates(left: pd.DataFrame, right: pd.DataFrame) -> pd.DataFrame:
    """Candidate pairs (``l``, ``r`` positional indexes) sharing at least one blocking key."""
    lk = pd.DataFrame(
        [(i, k) for i, keys in enumerate(left["block_keys"]) for k in keys], columns=["l", "key"]
    )
    rk = pd.DataFrame(
        [(i, k) for i, keys in enumerate(right["block_keys"]) for k in keys], columns=["r", "key"]
    )
    sizes = rk["key"].value_counts()
    rk = rk[rk["key"].map(sizes) <= MAX_BLOCK_SIZE]
    pairs = lk.merge(rk, on="key")[["l", "r"]].drop_duplicates()
    return pairs.reset_index(drop=True)


# ------------------------------------------------------------------------------ comparisons


@dataclass(frozen=True)
class Level:
    name: str
    m: float  # P(level | same person)
    u: float  # P(level | different people)

    @property
    def weight(self) -> float:
        return math.log2(self.m / self.u)


@dataclass(frozen=True)
class Comparison:
    name: str
    levels: tuple[Level, ...]
    level_of: Callable[[object, object], int]  # (left person, right person) -> level index
    null_level: int | None = None  # index of the level that means "cannot compare" (weight 0)

    def weight(self, level: int) -> float:
        return 0.0 if level == self.null_level else self.levels[level].weight


def _jw(a: str, b: str) -> float:
    return JaroWinkler.normalized_similarity(a, b) if a and b else 0.0


def _surname_level(left, right) -> int:
    if not left.surname_keys or not right.surname_keys:
        return 4
    if left.surname_keys & right.surname_keys:
        return 0
    best = max(_jw(a, b) for a in left.surname_keys for b in right.surname_keys)
    if best >= 0.92:
        return 1
    if best >= 0.84:
        return 2
    return 3


def _first_level(left, right) -> int:
    if not left.first_key or not right.first_key:
        return 5
    if left.first_key == right.first_key:
        return 0
    if left.first_variants & right.first_variants:
        return 1
    if _jw(left.first_key, right.first_key) >= 0.9:
        return 2
    # One side gives only an initial ("J. Smith").
    if (len(left.first_key) == 1 or len(right.first_key) == 1) and (
        left.first_key[0] == right.first_key[0]
    ):
        return 3
    return 4


def _middle_level(left, right) -> int:
    if not left.middle_initial or not right.middle_initial:
        return 2
    return 0 if left.middle_initial == right.middle_initial else 1


def _location_level(left, right) -> int:
    # Practice city and state move together when a physician moves, so they are ONE comparison.
    if not left.states or not right.states:
        return 3
    if not set(left.states) & set(right.states):
        return 2
    if set(left.cities or ()) & set(right.cities or ()):
        return 0
    return 1


def _specialty_level(left, right) -> int:
    if not left.specialties or not right.specialties:
        return 2
    agree = any(
        claims_match(a, b) or claims_match(b, a)
        for a in left.specialties
        for b in right.specialties
    )
    return 0 if agree else 1


def _npi_level(left, right) -> int:
    if not left.npi or not right.npi:
        return 2
    return 0 if left.npi == right.npi else 1


def _degree_level(left, right) -> int:
    if left.physician is None or right.physician is None:
        return 2
    return 0 if left.physician == right.physician else 1


SURNAME_EXACT = Level("exact (term-frequency adjusted)", 0.90, 0.001)

COMPARISONS: tuple[Comparison, ...] = (
    Comparison(
        "surname",
        (
            SURNAME_EXACT,
            Level("jaro-winkler >= 0.92", 0.06, 0.002),
            Level("jaro-winkler >= 0.84", 0.025, 0.02),
            Level("different", 0.015, 0.977),
            Level("missing", 1, 1),
        ),
        _surname_level,
        null_level=4,
    ),
    Comparison(
        "first_name",
        (
            Level("exact", 0.80, 0.015),
            Level("nickname of each other", 0.10, 0.004),
            Level("jaro-winkler >= 0.9", 0.04, 0.01),
            Level("initial agrees", 0.03, 0.05),
            Level("different", 0.03, 0.921),
            Level("missing", 1, 1),
        ),
        _first_level,
        null_level=5,
    ),
    Comparison(
        "middle_initial",
        (Level("agree", 0.55, 0.08), Level("disagree", 0.04, 0.6), Level("missing", 1, 1)),
        _middle_level,
        null_level=2,
    ),
    Comparison(
        "location",
        (
            Level("same state and city", 0.62, 0.004),
            Level("same state, other city", 0.22, 0.03),
            Level("other state", 0.16, 0.966),
            Level("missing", 1, 1),
        ),
        _location_level,
        null_level=3,
    ),
    Comparison(
        "specialty",
        (Level("agree", 0.80, 0.08), Level("disagree", 0.20, 0.92), Level("missing", 1, 1)),
        _specialty_level,
        null_level=2,
    ),
    Comparison(
        "npi",
        (Level("equal", 0.999, 1e-6), Level("different", 0.001, 0.999), Level("missing", 1, 1)),
        _npi_level,
        null_level=2,
    ),
    Comparison(
        "degree",
        (
            Level("both physicians or both not", 0.98, 0.7),
            Level("one is not a physician", 0.005, 0.3),
            Level("missing", 1, 1),
        ),
        _degree_level,
        null_level=2,
    ),
)


def surname_frequencies(right: pd.DataFrame) -> dict[str, float]:
    """Share of reference people bearing each surname key (for term-frequency adjustment)."""
    counts = right["last_key"].value_counts()
    return (counts / max(len(right), 1)).to_dict()


def score_pairs(left: pd.DataFrame, right: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Levels, weights and match probability of every candidate pair.

    Returns one row per pair with ``l``, ``r``, ``<comparison>_level`` and ``<comparison>_weight``
    columns, ``match_weight`` (log2 Bayes factor incl. the prior) and ``match_probability``.
    """
    tf = surname_frequencies(right)
    floor = 1.0 / max(len(right), 1)
    prior = math.log2(1.0 / max(len(right), 2))
    lrows = list(left.itertuples(index=False))
    rrows = list(right.itertuples(index=False))
    records = []
    for li, ri in zip(pairs["l"], pairs["r"]):
        lp, rp = lrows[li], rrows[ri]
        record = {"l": li, "r": ri}
        total = prior
        for comparison in COMPARISONS:
            level = comparison.level_of(lp, rp)
            weight = comparison.weight(level)
            if comparison.name == "surname" and level == 0:
                shared = (lp.surname_keys & rp.surname_keys) or {rp.last_key}
                u = max(min(tf.get(k, floor) for k in shared), floor)
                weight = math.log2(SURNAME_EXACT.m / u)
            record[f"{comparison.name}_level"] = level
            record[f"{comparison.name}_weight"] = round(weight, 3)
            total += weight
        record["match_weight"] = total
        records.append(record)
    scored = pd.DataFrame.from_records(records)
    if scored.empty:
        scored = pd.DataFrame(columns=["l", "r", "match_weight"])
    scored["match_probability"] = 1.0 / (1.0 + 2.0 ** (-scored["match_weight"].astype(float)))
    return scored


def level_names() -> dict[str, list[str]]:
    """Each comparison's level names, for explaining a stored level index."""
    return {c.name: [level.name for level in c.levels] for c in COMPARISONS}


# ------------------------------------------------------------------------------ decisions

MATCH_PROBABILITY = 0.90  # a listing's best candidate must be at least this likely
AMBIGUOUS_PROBABILITY = 0.50  # below this nothing is claimed at all
MIN_MARGIN_BITS = 3.0  # best must beat the runner-up by this many bits (8x more likely)


def decide(left: pd.DataFrame, right: pd.DataFrame, scored: pd.DataFrame) -> pd.DataFrame:
    """Resolve each left record to at most one right record.

    Returns one row per left record: ``rec_id``, ``npi`` (the right record's ``npi`` or None),
    ``identity`` (matched / ambiguous / unmatched), ``match_score`` (probability of the best
    candidate), the runner-up's ``npi`` and score, and the best pair's levels and weights.
    """
    weight_cols = [c for c in scored.columns if c.endswith(("_level", "_weight"))]
    best_by_left: dict[int, list] = {}
    if not scored.empty:
        ranked = scored.sort_values(["l", "match_weight"], ascending=[True, False])
        for li, group in ranked.groupby("l", sort=False):
            best_by_left[li] = group.head(2).to_dict("records")
    out = []
    for li, rec_id in enumerate(left["rec_id"]):
        top = best_by_left.get(li, [])
        row = {
            "rec_id": rec_id,
            "npi": None,
            "identity": "unmatched",
            "match_score": 0.0,
            "candidate_npi": None,
            "runner_up_npi": None,
            "runner_up_score": None,
            "comparisons": None,
        }
        if top:
            best = top[0]
            row["match_score"] = float(best["match_probability"])
            row["candidate_npi"] = right["npi"].iat[best["r"]]
            row["comparisons"] = {c: best[c] for c in weight_cols}
            runner = top[1] if len(top) > 1 else None
            if runner is not None:
                row["runner_up_npi"] = right["npi"].iat[runner["r"]]
                row["runner_up_score"] = float(runner["match_probability"])
            margin = best["match_weight"] - (runner["match_weight"] if runner else -math.inf)
            if best["match_probability"] >= MATCH_PROBABILITY and margin >= MIN_MARGIN_BITS:
                row["identity"] = "matched"
                row["npi"] = row["candidate_npi"]
            elif best["match_probability"] >= AMBIGUOUS_PROBABILITY:
                row["identity"] = "ambiguous"
        out.append(row)
    return pd.DataFrame(out)


def link(left: pd.DataFrame, right: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Block, score and decide; returns (decisions per left record, all scored pairs)."""
    left_p, right_p = prepare_people(left), prepare_people(right)
    pairs = block_candidates(left_p, right_p)
    scored = score_pairs(left_p, right_p, pairs)
    return decide(left_p, right_p, scored), scored
