"""Questions people ask of the published file: who is this physician, who is certified in X.

Both functions read only published tables, take user text as query *parameters* or compare it
in Python, and never build SQL from it.
"""

from __future__ import annotations

import duckdb
import pandas as pd
from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler

from pipeline.config import CredcheckError
from pipeline.match import as_text
from pipeline.normalize.names import first_name_keys, name_key, parse_person_name
from pipeline.normalize.places import normalize_state
from pipeline.normalize.specialties import canonical_specialty, claims_match

MIN_NAME_SCORE = 0.80

_PUBLISHED = """
SELECT v.listing_id, v.site_id, v.source_url, v.listed_name, v.claimed_specialties, v.npi,
       v.identity, v.match_score, v.certification, v.certificates, v.excluded,
       l.first, l.middle, l.last, l.states, l.specialties, l.affiliations,
       p.first AS ref_first, p.middle AS ref_middle, p.last AS ref_last,
       p.practice_state, p.practice_city
FROM verifications v
JOIN listings l USING (listing_id)
LEFT JOIN reference_people p ON p.npi = v.npi
"""

# How listings of one person are summarised: the most reassuring evidence first.
CERTIFICATION_RANK = {
    "certified": 0,
    "certified_other_specialty": 1,
    "lapsed": 2,
    "not_certified": 3,
    "unknown": 4,
}


def _published(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    try:
        return con.execute(_PUBLISHED).df()
    except duckdb.CatalogException as exc:
        raise CredcheckError(
            "the database has no published verifications yet: run `credcheck match`"
        ) from exc


def _name_score(query_first: str, query_last: str, first: str, last: str) -> float:
    """How well a typed name fits a person, 0..1, forgiving nicknames, typos, missing parts."""
    last_key = name_key(last or "")
    surnames = {last_key, *last_key.replace("-", " ").split()} - {""}
    if not surnames:
        return 0.0
    last_sim = max(JaroWinkler.normalized_similarity(query_last, s) for s in surnames)
    if not query_first:
        return last_sim
    first_key = name_key(first or "")
    if not first_key:
        first_sim = 0.5
    elif first_name_keys(query_first) & first_name_keys(first_key):
        first_sim = 1.0
    elif len(query_first) == 1:
        first_sim = 1.0 if first_key.startswith(query_first) else 0.0
    else:
        first_sim = JaroWinkler.normalized_similarity(query_first, first_key)
    return 0.65 * last_sim + 0.35 * first_sim


def _state_filter(frame: pd.DataFrame, state: str | None) -> pd.DataFrame:
    if not state:
        return frame
    wanted = normalize_state(state)
    if not wanted:
        raise CredcheckError(f"unknown state {state!r}; use a two-letter code such as MA")
    keep = [
        wanted in list(states if states is not None else []) or practice == wanted
        for states, practice in zip(frame["states"], frame["practice_state"])
    ]
    return frame[keep]


def _specialty(text: str) -> str:
    canonical = canonical_specialty(text)
    if not canonical:
        raise CredcheckError(
            f"unknown specialty {text!r}; try a board specialty name or a common label "
            "such as 'cardiology', 'OB/GYN' or 'family medicine'"
        )
    return canonical


def _summarise(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per person: matched listings grouped by NPI, unmatched ones on their own."""
    if frame.empty:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    frame = frame.assign(person=frame["npi"].fillna(frame["listing_id"]))
    rows = []
    for _, group in frame.groupby("person", sort=False):
        best = group.sort_values("certification", key=lambda s: s.map(CERTIFICATION_RANK)).iloc[0]
        ref_name = " ".join(
            as_text(p) for p in (best.ref_first, best.ref_middle, best.ref_last) if as_text(p)
        )
        # NPPES names are often upper case; show them the way people write them.
        parsed = parse_person_name(ref_name) if as_text(best.ref_last) else None
        name = (
            " ".join(p for p in (parsed.first, parsed.middle, parsed.last, parsed.suffix) if p)
            if parsed
            else best.listed_name
        )
        certificates = best.certificates if best.certificates is not None else []
        rows.append(
            {
                "name": name,
                "npi": best.npi,
                "state": best.practice_state
                if isinstance(best.practice_state, str)
                else ", ".join(best.states if best.states is not None else []),
                "claimed_specialties": sorted({s for c in group["claimed_specialties"] for s in c}),
                "certification": best.certification,
                "certificates": [f"{c['certificate']} ({c['status']})" for c in certificates],
                "excluded": bool(group["excluded"].any()),
                "identity": best.identity,
                "sites": sorted(set(group["site_id"])),
                "score": round(float(group.get("name_score", pd.Series([1.0])).max()), 3),
            }
        )
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


RESULT_COLUMNS = [
    "name",
    "npi",
    "state",
    "claimed_specialties",
    "certification",
    "certificates",
    "excluded",
    "identity",
    "sites",
    "score",
]


def lookup(
    con: duckdb.DuckDBPyConnection,
    name: str,
    *,
    state: str | None = None,
    specialty: str | None = None,
    limit: int = 10,
) -> pd.DataFrame:
    """People whose name fits ``name``, best first (nicknames, typos, "Dr." and degrees forgiven).

    >>> lookup(con, "Dr. Bob Smith, MD", state="MA")  # doctest: +SKIP
    """
    parsed = parse_person_name(name)
    query_last = name_key(parsed.last)
    query_first = name_key(parsed.first)
    if not query_last:
        # Not name-shaped (one word, or stray punctuation): a single word is a surname, else
        # the first and last words are taken as first name and surname.
        words = name_key(name).split()
        if not words:
            raise CredcheckError("give a physician's name, e.g. `credcheck lookup 'Jane Doe'`")
        query_last, query_first = words[-1], (words[0] if len(words) > 1 else "")
    frame = _state_filter(_published(con), state)
    scores = [
        max(
            _name_score(query_first, query_last, f, s),
            _name_score(query_first, query_last, rf, rs) if isinstance(rs, str) else 0.0,
        )
        for f, s, rf, rs in zip(
            frame["first"], frame["last"], frame["ref_first"], frame["ref_last"]
        )
    ]
    frame = frame.assign(name_score=scores)
    frame = frame[frame["name_score"] >= MIN_NAME_SCORE]
    if specialty:
        wanted = _specialty(specialty)
        keep = [
            any(claims_match(wanted, s) or claims_match(s, wanted) for s in specs)
            for specs in frame["specialties"]
        ]
        frame = frame[keep]
    result = _summarise(frame.sort_values("name_score", ascending=False))
    return result.sort_values("score", ascending=False, kind="stable").head(limit)


def find(
    con: duckdb.DuckDBPyConnection,
    specialty: str,
    *,
    state: str | None = None,
    institution: str | None = None,
    limit: int = 100,
) -> pd.DataFrame:
    """Physicians whose active board certification in ``specialty`` is verified."""
    wanted = _specialty(specialty)
    frame = _state_filter(_published(con), state)
    frame = frame[frame["identity"] == "matched"]
    keep = [
        any(
            c["status"] == "active"
            and claims_match(
                wanted,
                canonical_specialty(c["certificate"]) or c["certificate"],
                board=c["board"],
            )
            for c in (certs if certs is not None else [])
        )
        for certs in frame["certificates"]
    ]
    frame = frame[keep]
    if institution:
        text = institution.lower()
        keep = [
            fuzz.partial_ratio(
                text, " ".join([site, *list(affs if affs is not None else [])]).lower()
            )
            >= 85
            for site, affs in zip(frame["site_id"], frame["affiliations"])
        ]
        frame = frame[keep]
    result = _summarise(frame)
    return result.sort_values("name").head(limit)
