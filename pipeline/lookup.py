"""Questions people ask of the published file: who is this physician, who is certified in X.

``lookup`` is fast at a million physicians: the published file keeps ``lookup_keys`` (each
surname, its parts and its one-deletion variants, sorted), so one parameterized query fetches the
few name variants one typo away from what was typed; rapidfuzz and the nickname table then rank
those candidates in Python. User text only ever reaches SQL as a query parameter.
"""

from __future__ import annotations

import json

import duckdb
import pandas as pd
from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler

from pipeline.config import CredcheckError
from pipeline.normalize.names import first_name_keys, name_key, parse_person_name
from pipeline.normalize.places import normalize_state
from pipeline.normalize.specialties import canonical_specialty, claims_match, known_specialties

MIN_NAME_SCORE = 0.80

# How results are ordered when names fit equally well: the most reassuring evidence first.
CERTIFICATION_RANK = {
    "certified": 0,
    "certified_other_specialty": 1,
    "lapsed": 2,
    "not_certified": 3,
    "unknown": 4,
}

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

# Cards are fetched by key in batches: an IN list this short is answered from the ART index.
BATCH = 200


def _fail_unpublished(exc: Exception) -> CredcheckError:
    return CredcheckError(
        "the database has no published lookup tables: run `credcheck match` or `credcheck run` "
        f"to publish it ({exc})"
    )


def _state(state: str | None) -> str | None:
    if not state:
        return None
    wanted = normalize_state(state)
    if not wanted:
        raise CredcheckError(f"unknown state {state!r}; use a two-letter code such as MA")
    return wanted


def _specialty(text: str) -> str:
    canonical = canonical_specialty(text)
    if not canonical:
        raise CredcheckError(
            f"unknown specialty {text!r}; try a board specialty name or a common label "
            "such as 'cardiology', 'OB/GYN' or 'family medicine'"
        )
    return canonical


LOOKUP_ENTRIES_FROM_PHYSICIANS = """
SELECT person_id AS person_key, name, npi, coalesce(practice_state, states[1]) AS state, states,
       claimed_specialties, specialties, certification,
       list_transform(certificates, lambda c: c.certificate || ' (' || c.status || ')')
           AS certificates,
       excluded, 'matched' AS identity, sites
FROM physicians
"""

UNRESOLVED_ENTRIES = """
SELECT 'listing:' || v.listing_id AS person_key, v.listed_name AS name, NULL AS npi,
       array_to_string(CAST(l.states AS VARCHAR[]), ', ') AS state,
       CAST(l.states AS VARCHAR[]) AS states,
       CAST(v.claimed_specialties AS VARCHAR[]) AS claimed_specialties,
       CAST(l.specialties AS VARCHAR[]) AS specialties, v.certification,
       CAST([] AS VARCHAR[]) AS certificates, v.excluded, v.identity, [v.site_id] AS sites
FROM verifications v JOIN listings l USING (listing_id)
WHERE v.identity <> 'matched'
"""


def one_deletion_keys_sql(names_table: str) -> str:
    """SQL of lookup_keys rows from a table of (person_key, first_key, last_key).

    A key is ``surname-variant|first-initial``: the surname, each of its parts, and every string
    one deletion away from those (a typo of one letter — dropped, doubled, changed or two
    swapped — shares one of them), followed by the first name's initial, so that "John Smith"
    reads the Smiths whose first name starts with J (or with the initial of a nickname of it).
    """
    return f"""
    WITH parts AS (
        SELECT DISTINCT person_key, first_key, last_key, unnest(
            list_distinct(list_append(string_split(last_key, ' '), last_key))) AS part
        FROM {names_table} WHERE last_key <> ''
    )
    SELECT DISTINCT (CASE WHEN i = 0 THEN part
                          ELSE substr(part, 1, i - 1) || substr(part, i + 1) END)
                    || '|' || left(first_key, 1) AS key,
           person_key, first_key, last_key
    FROM parts, range(0, 64) AS r(i)
    WHERE i <= length(part) AND (i = 0 OR length(part) > 3)
    ORDER BY key
    """


def _keys(values: pd.Series) -> pd.Series:
    """``name_key`` over a column, computed once per distinct value."""
    distinct = {v: name_key(v) if isinstance(v, str) else "" for v in values.dropna().unique()}
    return values.map(distinct).fillna("")


def build_lookup_tables(
    con: duckdb.DuckDBPyConnection, entries_sql: str, names: pd.DataFrame
) -> None:
    """Create ``lookup_entries`` (one JSON card per person) and ``lookup_keys`` (name keys).

    ``entries_sql`` selects the lookup columns (``LOOKUP_ENTRIES_FROM_PHYSICIANS`` …);
    ``names`` has every name variant as (person_key, first, last). Both tables are stored
    uncompressed with an ART index on their key: a lookup fetches a few hundred rows by key,
    and fetching single rows out of compressed segments is what would make it slow.
    """
    frame = pd.DataFrame(
        {
            "person_key": names["person_key"],
            "first_key": _keys(names["first"]),
            "last_key": _keys(names["last"]),
        }
    ).drop_duplicates()
    con.execute("PRAGMA force_compression='uncompressed'")
    try:
        con.execute(
            "CREATE OR REPLACE TABLE lookup_entries AS "
            "SELECT e.person_key, CAST(to_json(e) AS VARCHAR) AS card "
            f"FROM ({entries_sql}) e ORDER BY e.person_key"
        )
        con.register("lookup_name_frame", frame)
        con.execute(
            "CREATE OR REPLACE TABLE lookup_keys AS " + one_deletion_keys_sql("lookup_name_frame")
        )
        con.unregister("lookup_name_frame")
        con.execute("CREATE INDEX lookup_entries_person_key ON lookup_entries(person_key)")
        con.execute("CREATE INDEX lookup_keys_key ON lookup_keys(key)")
        con.execute("CHECKPOINT")
    finally:
        con.execute("PRAGMA force_compression='auto'")


def _typed_name(name: str) -> tuple[str, str]:
    """(first key, surname key) of a name as typed: "Dr." and degrees dropped, any order."""
    parsed = parse_person_name(name)
    query_last, query_first = name_key(parsed.last), name_key(parsed.first)
    if not query_last:
        # Not name-shaped (one word, or stray punctuation): a single word is a surname, else
        # the first and last words are taken as first name and surname.
        words = name_key(name).split()
        if not words:
            raise CredcheckError("give a physician's name, e.g. `credcheck lookup 'Jane Doe'`")
        query_last, query_first = words[-1], (words[0] if len(words) > 1 else "")
    return query_first, query_last


def surname_keys(last_key: str) -> list[str]:
    """The surname variants under which ``lookup_keys`` files a surname: the surname, each of its
    parts, and, for those longer than three letters, every string one deletion away.

    The rule of ``one_deletion_keys_sql`` (which builds the published table), in Python: a query
    computes its few variants in microseconds instead of a DuckDB query of its own, which under
    load was the largest part of a search. tests/test_readme_contracts.py holds the two to
    agreement on random names.

    >>> surname_keys("smith")
    ['mith', 'sith', 'smih', 'smit', 'smith', 'smth']
    """
    if not last_key:
        return []
    variants: set[str] = set()
    for part in {*last_key.split(" "), last_key}:
        variants.add(part)
        if len(part) > 3:
            # range(0, 64) in the SQL: deletions at the first 63 positions.
            variants.update(part[:i] + part[i + 1 :] for i in range(min(len(part), 63)))
    return sorted(variants)


def first_initials(first_key: str) -> list[str]:
    """Initials a typed first name may be filed under: its own, its nicknames', or none.

    >>> first_initials("bob")
    ['', 'b', 'r']
    """
    if not first_key:
        return [""]
    return sorted({"", first_key[0], *(k[0] for k in first_name_keys(first_key) if k)})


def _name_score(query_first: str, query_last: str, first_key: str, last_key: str) -> float:
    """How well a typed name fits a name variant, 0..1 (nicknames, typos, missing parts)."""
    if not last_key:
        return 0.0
    # One part of a double-barrelled surname fits a little less than the whole surname.
    last_sim = max(
        [JaroWinkler.normalized_similarity(query_last, last_key)]
        + [0.97 * JaroWinkler.normalized_similarity(query_last, p) for p in last_key.split()]
    )
    if not query_first:
        return last_sim
    if not first_key:
        first_sim = 0.5
    elif first_key == query_first:
        first_sim = 1.0
    elif len(query_first) == 1 or len(first_key) == 1:
        first_sim = 0.95 if first_key[0] == query_first[0] else 0.0
    elif first_name_keys(query_first) & first_name_keys(first_key):
        first_sim = 0.95  # a nickname: as good as a name, a little less than the same name
    else:
        first_sim = JaroWinkler.normalized_similarity(query_first, first_key)
    return 0.65 * last_sim + 0.35 * first_sim


def _placeholders(values: list) -> str:
    return ", ".join("?" * len(values))


def _key_rows(
    con: duckdb.DuckDBPyConnection, query_first: str, variants: list[str], every_initial: bool
) -> list:
    if not variants:
        return []
    try:
        if query_first and not every_initial:
            keys = [f"{v}|{i}" for v in variants for i in first_initials(query_first)]
            return con.execute(
                "SELECT person_key, first_key, last_key FROM lookup_keys "
                f"WHERE key IN ({_placeholders(keys)})",
                keys,
            ).fetchall()
        rows = []
        for variant in variants:  # every initial: a range of the sorted keys
            rows += con.execute(
                "SELECT person_key, first_key, last_key FROM lookup_keys "
                "WHERE key >= ? AND key < ?",
                [variant + "|", variant + "}"],
            ).fetchall()
        return rows
    except duckdb.CatalogException as exc:
        raise _fail_unpublished(exc) from exc


def _candidates(
    con: duckdb.DuckDBPyConnection,
    query_first: str,
    query_last: str,
    every_initial: bool = False,
    enough: int = 10,
) -> pd.Series:
    """Best name score of each person_key one typo away from the typed surname.

    The surname as typed is read first; its one-typo variants only when that did not already
    give ``enough`` close fits (so "John Smith" does not read every Smyth and Smit).
    """
    exact = sorted({query_last, *query_last.split()} - {""})
    scored: dict[tuple[str, str], float] = {}
    best: dict[str, float] = {}
    for stage in (exact, [k for k in surname_keys(query_last) if k not in exact]):
        for person_key, first_key, last_key in _key_rows(con, query_first, stage, every_initial):
            pair = (first_key, last_key)
            score = scored.get(pair)
            if score is None:
                score = scored[pair] = _name_score(query_first, query_last, first_key, last_key)
            if score > best.get(person_key, -1.0):
                best[person_key] = score
        if sum(score >= 0.9 for score in best.values()) >= enough:
            break
    return pd.Series(best, dtype=float)


def _cards(con: duckdb.DuckDBPyConnection, person_keys: list[str]) -> pd.DataFrame:
    rows = con.execute(
        f"SELECT card FROM lookup_entries WHERE person_key IN ({_placeholders(person_keys)})",
        person_keys,
    ).fetchall()
    return pd.DataFrame([json.loads(card) for (card,) in rows], columns=CARD_COLUMNS)


CARD_COLUMNS = [
    "person_key",
    "name",
    "npi",
    "state",
    "states",
    "claimed_specialties",
    "specialties",
    "certification",
    "certificates",
    "excluded",
    "identity",
    "sites",
]


def _with_state(frame: pd.DataFrame, state: str | None) -> pd.DataFrame:
    if not state or frame.empty:
        return frame
    return frame[[state in (states or []) for states in frame["states"]]]


def _with_specialty(frame: pd.DataFrame, specialty: str | None) -> pd.DataFrame:
    if not specialty or frame.empty:
        return frame
    wanted = _specialty(specialty)
    keep = [
        any(claims_match(wanted, s) or claims_match(s, wanted) for s in list(specs))
        for specs in frame["specialties"]
    ]
    return frame[keep]


def institution_fits(institution: str, places: str | None) -> bool:
    """Does the text of a person's sites and affiliations (space-joined) name the institution?"""
    return fuzz.partial_ratio(institution.lower(), (places or "").lower()) >= 85


def _at_institution(frame: pd.DataFrame, institution: str | None) -> pd.DataFrame:
    """Rows whose sites or affiliations contain the institution (hospital, school or site id)."""
    if not institution or frame.empty:
        return frame
    keep = [
        institution_fits(institution, " ".join([*_listed(sites), *_listed(affs)]))
        for sites, affs in zip(frame["sites"], frame["affiliations"])
    ]
    return frame[keep]


def _listed(values) -> list:
    return list(values) if values is not None else []


def _with_affiliations(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> pd.DataFrame:
    """Cards with the affiliations of each physician (or unresolved listing) added."""
    if frame.empty:
        return frame.assign(affiliations=[])
    npis = [k for k in frame["person_key"] if not k.startswith("listing:")]
    listing_ids = [
        k.removeprefix("listing:") for k in frame["person_key"] if k.startswith("listing:")
    ]
    rows = []
    if npis:
        rows += con.execute(
            f"SELECT npi, affiliations FROM physicians WHERE npi IN ({_placeholders(npis)})", npis
        ).fetchall()
    if listing_ids:
        rows += con.execute(
            "SELECT 'listing:' || listing_id, affiliations FROM listings "
            f"WHERE listing_id IN ({_placeholders(listing_ids)})",
            listing_ids,
        ).fetchall()
    affiliations = dict(rows)
    return frame.assign(affiliations=[affiliations.get(k) for k in frame["person_key"]])


def _as_result(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for column in ("claimed_specialties", "certificates", "sites"):
        frame[column] = [list(v) if v is not None else [] for v in frame[column]]
    frame["excluded"] = frame["excluded"].astype(bool)
    frame["npi"] = frame["npi"].astype(object).where(frame["npi"].notna(), None)
    return frame.reindex(columns=RESULT_COLUMNS).reset_index(drop=True)


def search(
    con: duckdb.DuckDBPyConnection,
    name: str,
    *,
    state: str | None = None,
    specialty: str | None = None,
    institution: str | None = None,
    limit: int = 10,
) -> pd.DataFrame:
    """``lookup``'s ranked people as their cards (``CARD_COLUMNS`` and ``score``).

    ``person_key`` (the NPI, or ``listing:`` + listing id when not resolved) is what a caller
    links to; ``lookup`` shows the same rows in its result columns.
    """
    wanted_state = _state(state)
    if specialty:
        _specialty(specialty)  # an unknown specialty is an error even when no name fits
    query_first, query_last = _typed_name(name)
    scores = _candidates(con, query_first, query_last, enough=limit)
    scores = scores[scores >= MIN_NAME_SCORE]
    if scores.empty and query_first:
        # A typo in the first letter of the first name: every initial of the surname.
        scores = _candidates(con, query_first, query_last, every_initial=True)
        scores = scores[scores >= MIN_NAME_SCORE]
    if scores.empty and query_first and len(query_first) > 1:
        # Typed surname first without a comma ("Smith John"): try the other order.
        scores = _candidates(con, query_last, query_first) * 0.98
        scores = scores[scores >= MIN_NAME_SCORE]
    if scores.empty:
        return pd.DataFrame(columns=[*CARD_COLUMNS, "score"])
    scores = scores.sort_values(ascending=False, kind="stable")
    # Best names first, a batch at a time, until enough pass the filters.
    found = []
    for start in range(0, len(scores), BATCH):
        batch = _cards(con, list(scores.index[start : start + BATCH]))
        batch = _with_specialty(_with_state(batch, wanted_state), specialty)
        if institution:
            batch = _at_institution(_with_affiliations(con, batch), institution)
        found.append(batch)
        if sum(len(f) for f in found) >= limit:
            break
    frame = pd.concat(found, ignore_index=True)
    if frame.empty:
        return pd.DataFrame(columns=[*CARD_COLUMNS, "score"])
    frame["score"] = frame["person_key"].map(scores).round(3)
    frame["rank"] = frame["certification"].map(CERTIFICATION_RANK).fillna(9)
    frame = frame.sort_values(["score", "rank", "name"], ascending=[False, True, True])
    return frame.drop(columns="rank").head(limit).reset_index(drop=True)


def lookup(
    con: duckdb.DuckDBPyConnection,
    name: str,
    *,
    state: str | None = None,
    specialty: str | None = None,
    institution: str | None = None,
    limit: int = 10,
) -> pd.DataFrame:
    """People whose name fits ``name``, best first (nicknames, typos, "Dr." and degrees forgiven).

    >>> lookup(con, "Dr. Bob Smith, MD", state="MA")  # doctest: +SKIP
    """
    found = search(
        con, name, state=state, specialty=specialty, institution=institution, limit=limit
    )
    if found.empty:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    return _as_result(found)


def build_specialist_table(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``specialists``: for every board specialty, who holds an active certificate that
    supports it (``claims_match``: the specialty itself, an equivalent, or a subspecialty of
    it under its board), sorted by specialty, then name.

    ``find`` reads one specialty's rows — a narrow range of a sorted table, which DuckDB's zone
    maps skip to — instead of testing every physician's certificates, and takes the first by
    ``name_order`` (an integer: a top-N on it is several times cheaper than on names). Which
    certificates support which specialty is decided in Python once per distinct (board,
    certificate).
    """
    active = "unnest(list_filter(certificates, lambda c: c.status = 'active')) AS c"
    pairs = con.execute(
        f"""SELECT DISTINCT coalesce(c.board, '') AS board, c.certificate
            FROM (SELECT {active} FROM physicians) WHERE c.certificate IS NOT NULL"""
    ).fetchall()
    specialties = sorted(known_specialties())
    supports = pd.DataFrame(
        [
            (board, certificate, specialty)
            for board, certificate in pairs
            for specialty in specialties
            if claims_match(
                specialty, canonical_specialty(certificate) or certificate, board=board or None
            )
        ],
        columns=["board", "certificate", "specialty"],
    )
    con.register("specialty_supports", supports)
    try:
        con.execute(
            f"""CREATE OR REPLACE TABLE specialists AS
                WITH held AS (
                    SELECT person_id AS person_key, name, CAST(states AS VARCHAR[]) AS states,
                           array_to_string(list_concat(coalesce(sites, []),
                                                       coalesce(affiliations, [])), ' ') AS places,
                           {active}
                    FROM physicians
                ),
                supported AS (
                    SELECT DISTINCT CAST(s.specialty AS VARCHAR) AS specialty, h.name,
                           h.person_key, h.states, h.places
                    FROM held h JOIN specialty_supports s
                      ON CAST(s.board AS VARCHAR) = coalesce(h.c.board, '')
                     AND CAST(s.certificate AS VARCHAR) = h.c.certificate
                )
                SELECT row_number() OVER (ORDER BY specialty, name, person_key) AS name_order, *
                FROM supported
                ORDER BY name_order"""
        )
    finally:
        con.unregister("specialty_supports")


def find(
    con: duckdb.DuckDBPyConnection,
    specialty: str,
    *,
    state: str | None = None,
    institution: str | None = None,
    limit: int = 100,
) -> pd.DataFrame:
    """Physicians whose active board certification in ``specialty`` is verified, by name.

    >>> find(con, "cardiology", state="MA")  # doctest: +SKIP
    """
    wanted = _specialty(specialty)
    wanted_state = _state(state)
    where, params = ["specialty = ?"], [wanted]
    if wanted_state:
        where.append("list_contains(states, ?)")
        params.append(wanted_state)
    try:
        if institution:
            # Few distinct places per specialty: each is judged once, then kept by equality.
            places = [
                text
                for (text,) in con.execute(
                    f"SELECT DISTINCT places FROM specialists WHERE {' AND '.join(where)}", params
                ).fetchall()
                if institution_fits(institution, text)
            ]
            if not places:
                return pd.DataFrame(columns=RESULT_COLUMNS)
            where.append("places IN (SELECT unnest(?::VARCHAR[]))")
            params.append(places)
        keys = [
            key
            for (key,) in con.execute(
                f"SELECT person_key FROM specialists WHERE {' AND '.join(where)} "
                "ORDER BY name_order LIMIT ?",
                [*params, limit],
            ).fetchall()
        ]
    except duckdb.CatalogException as exc:
        raise _fail_unpublished(exc) from exc
    if not keys:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    cards = pd.concat(
        [_cards(con, keys[start : start + BATCH]) for start in range(0, len(keys), BATCH)],
        ignore_index=True,
    )
    order = {key: i for i, key in enumerate(keys)}
    cards = cards.sort_values("person_key", key=lambda k: k.map(order), kind="stable")
    return _as_result(cards.assign(score=1.0))
