"""Publish: build a fresh, documented database file from the work database and swap it in.

A run does its work in the private work database, records history there, then writes a new
file beside the published one (``ATTACH`` + ``CREATE TABLE … AS``), adds the views, comments
and lookup tables, flushes it to disk and renames it over the published file with
``os.replace``. Readers holding the old file keep their snapshot; every new connection sees the
new state; a crash at any point leaves either the old file or the new one, never a mix.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from pipeline.db.store import new_id, transaction
from pipeline.history import CHANGE_KINDS, ensure_history_schema, record_history
from pipeline.normalize.names import name_key
from pipeline.verify import VERIFICATIONS_VIEW

# ------------------------------------------------------------------------------ the contract

CERTIFICATION_ORDER = [
    "certified",
    "certified_other_specialty",
    "lapsed",
    "not_certified",
    "unknown",
]

# Published objects, in the order docs/schema.md lists them: (name, comment).
OBJECT_COMMENTS: dict[str, str] = {
    "verifications": "One row per crawled listing: who it is and what the records confirm. "
    "The stable contract (see README).",
    "physicians": "One row per resolved identity (NPI) with every listing of it, its "
    "certificates, affiliations, education and exclusion status.",
    "changes": "Events between runs: new listing, listing gone, specialty / affiliation / "
    "identity / certification / certificate status changed, newly excluded, exclusion lifted.",
    "listing_history": "Every listing ever seen: when it was first and last seen, and when a "
    "healthy crawl of its site stopped listing it.",
    "listing_versions": "Each distinct state of a listing with its validity interval: the "
    "state as of time X is valid_from <= X AND (valid_to IS NULL OR valid_to > X).",
    "publish_runs": "Each run that published this file (match or scheduled run).",
    "crawl_runs": "Each crawl of one site: when, how it went, and its Scrapy stats.",
    "load_runs": "Each reference file loaded: kind, path, sha256 and row counts.",
    "listings": "Crawled listings of each site's latest successful crawl, normalized.",
    "listing_matches": "The match decision of each listing, with its runner-up and the "
    "per-comparison levels and weights.",
    "reference_people": "Individual providers from NPPES, with places and specialties from "
    "NPPES and Doctors & Clinicians.",
    "certificates": "Board certificates (canonical board CSV rows) and the NPI each is tied to.",
    "exclusions": "OIG LEIE exclusions of individuals and the NPI each is tied to.",
    "raw_listings": "The crawled items behind the published listings (latest successful crawl "
    "of each site), as JSON with provenance. Older crawls stay in the work database.",
    "rejects": "Reference rows that were not loaded, with their line number and reason.",
    "match_parameters": "The parameters each matching run learned (m, u, weight per "
    "comparison level): with listing_matches.comparisons, why a listing matched.",
    "lookup_entries": "What `credcheck lookup` shows: one row per physician (matched NPI) or "
    "per listing not resolved to one.",
    "lookup_keys": "Name blocking keys of lookup_entries: each surname, its parts and its "
    "one-deletion variants (one typo away), with the first initial, sorted by key.",
}

_CERT_STRUCT = "board, certificate, status, expiration"
COLUMN_COMMENTS: dict[str, dict[str, str]] = {
    "verifications": {
        "listing_id": "`site_id:ref`, stable across crawls",
        "site_id": "registry id of the site",
        "source_url": "the profile page",
        "listed_name": "the name as listed",
        "claimed_specialties": "specialties as listed",
        "npi": "NPI of the matched person; NULL unless identity = 'matched'",
        "identity": "matched | ambiguous | unmatched",
        "match_score": "probability (0..1) of the best candidate",
        "certification": "certified | certified_other_specialty | lapsed | not_certified | "
        "unknown (README explains each)",
        "certificates": f"the matched person's certificates ({_CERT_STRUCT})",
        "excluded": "on the OIG LEIE without reinstatement",
        "crawled_at": "when the page was fetched (UTC)",
    },
    "physicians": {
        "npi": "the resolved identity (NPPES NPI)",
        "name": "display name from NPPES",
        "first": "NPPES first name",
        "middle": "NPPES middle name",
        "last": "NPPES last name",
        "suffix": "NPPES name suffix",
        "credentials": "NPPES credentials, canonical (MD, DO, …)",
        "physician": "holds a physician degree or taxonomy (false: NP, PA, …)",
        "gender": "NPPES gender code",
        "practice_city": "NPPES practice city",
        "practice_state": "NPPES practice state",
        "states": "every state the records or listings place the person in",
        "specialties": "canonical specialties from the reference records and certificates",
        "claimed_specialties": "specialties as listed, over all listings",
        "certification": "the most reassuring certification value over its listings",
        "listings": "each listing resolved to this NPI, with first_seen / last_seen",
        "sites": "registry ids of the sites listing the person",
        "affiliations": "hospital affiliations over all listings",
        "education": "education as listed (type, name, year, source site) and the medical "
        "school from Doctors & Clinicians (source 'dac')",
        "certificates": "board certificates tied to the NPI (board, certificate, "
        "certificate_type, status, expiration)",
        "active_certificates": "names of the certificates whose status is active",
        "excluded": "on the OIG LEIE without reinstatement",
        "exclusions": "LEIE exclusions tied to the NPI (exclusion_type, exclusion_date, "
        "reinstatement_date)",
        "first_seen": "when a listing of the person was first seen",
        "last_seen": "when a listing of the person was last seen",
    },
    "changes": {
        "change_id": "increasing id of the event",
        "publish_id": "the run that recorded it (publish_runs.publish_id)",
        "changed_at": "when that run published (UTC)",
        "kind": " | ".join(CHANGE_KINDS),
        "listing_id": "the listing concerned",
        "site_id": "its site",
        "npi": "its NPI at the time of the event (NULL when not matched)",
        "old_value": "value before ('; ' between list items)",
        "new_value": "value after ('; ' between list items)",
        "detail": "what else explains the event (the certificate, the crawl time, …)",
    },
    "listing_history": {
        "listing_id": "the listing",
        "site_id": "its site",
        "first_seen": "fetch time of the first crawl that listed it (UTC)",
        "last_seen": "fetch time of the latest crawl that listed it (UTC)",
        "gone_at": "start of the healthy crawl that no longer listed it; NULL while listed",
    },
    "listing_versions": {
        "listing_id": "the listing",
        "site_id": "its site",
        "valid_from": "publish time from which this state holds (UTC)",
        "valid_to": "publish time it stopped holding; NULL for the current state",
        "publish_id": "the run that recorded this state",
        "listed_name": "the name as listed",
        "specialties": "claimed specialties, canonical, sorted",
        "affiliations": "listed hospital affiliations, sorted",
        "npi": "matched NPI",
        "identity": "matched | ambiguous | unmatched",
        "certification": "verifications.certification at the time",
        "certificate_statuses": "the matched person's certificates and their status",
        "excluded": "excluded at the time",
    },
    "publish_runs": {
        "publish_id": "id of the run",
        "command": "match | run | demo",
        "started_at": "when the run started publishing (UTC)",
        "published_at": "when its file was swapped in (UTC); NULL if it never was",
        "listings": "listings published",
        "matched": "listings matched to an NPI",
        "physicians": "resolved identities published",
        "changes": "change events the run recorded",
        "crawl_run_ids": "the crawls behind the published listings",
    },
    "crawl_runs": {
        "run_id": "id of the crawl (its feed is in runs-dir/<run_id>)",
        "site_id": "registry id of the site",
        "start_url": "the URL the crawl started from",
        "started_at": "when the crawl started (UTC)",
        "finished_at": "when it finished (UTC)",
        "status": "ok | failed",
        "items": "listings in the feed",
        "pages": "responses received",
        "parse_errors": "pages whose parsing failed",
        "soft_404": "pages that were 'not found' pages served with status 200",
        "stats": "Scrapy's stats and credcheck counters (JSON)",
        "pages_fetched": "pages downloaded with a body (2xx)",
        "not_modified": "listings known unchanged without download (304, old lastmod)",
        "new_listings": "refs not in the site's previous run",
        "changed": "refs whose content hash differs from the previous run",
        "unchanged": "refs fetched again with the same content hash",
        "gone": "refs of the previous run missing now (0 when drift)",
        "carried": "rows copied forward from the previous run (304s, drift)",
        "drift": "yield or field coverage fell sharply against the previous run: not a healthy "
        "crawl, so listings it misses are not recorded as gone",
        "drift_reason": "why the run counts as drift",
        "field_coverage": "{field: share of the run's listings that have it} (JSON)",
        "errors": "{kind: count}: http_5xx, http_429, timeout, truncated, … (JSON)",
        "discovery": "zero-config crawls: what was learned — directory entry, URL templates "
        "kept and rejected with their sampled yield, pagination (JSON); the next crawl of the "
        "site starts from it",
    },
    "load_runs": {
        "load_id": "id of the load",
        "kind": "boards | nppes | dac | leie",
        "path": "the file loaded",
        "sha256": "sha256 of the file",
        "rows_read": "rows read",
        "rows_loaded": "rows loaded",
        "rows_rejected": "rows rejected (see rejects)",
        "started_at": "when the load started (UTC)",
        "finished_at": "when it finished (UTC)",
    },
    "rejects": {
        "load_id": "the load (load_runs.load_id)",
        "kind": "reference kind",
        "line_number": "line in the file",
        "reason": "why the row was not loaded",
        "raw_row": "the row as read",
    },
    "raw_listings": {
        "run_id": "the crawl (crawl_runs.run_id)",
        "site_id": "registry id of the site",
        "ref": "stable listing key on the site",
        "source_url": "the page the item was read from",
        "fetched_at": "when the page was fetched (UTC)",
        "content_hash": "sha256 of the response body",
        "extractor": "jsonld | microdata | html",
        "item": "the listing item as crawled (docs/design.md §1)",
        "change": "new | changed | unchanged | not_modified | carried",
        "carried_from": "run_id the row was copied from (not_modified / carried)",
    },
    "listings": {
        "listing_id": "`site_id:ref`",
        "site_id": "registry id of the site",
        "source_url": "the profile page",
        "listed_name": "the name as listed",
        "claimed_specialties": "specialties as listed",
        "claimed_canonical": "claimed specialties, canonical",
        "first": "parsed first name",
        "middle": "parsed middle name",
        "last": "parsed last name",
        "suffix": "parsed suffix (Jr, III)",
        "credentials": "degrees and credentials, canonical",
        "states": "states of its locations",
        "cities": "cities of its locations (normalized)",
        "specialties": "claimed and certificate specialties, canonical (used for matching)",
        "npi": "NPI shown on the page, when valid",
        "physician": "lists a physician degree (NULL when no degree is listed)",
        "affiliations": "hospital affiliations as listed",
        "crawled_at": "when the page was fetched (UTC)",
        "first_seen": "when the listing was first seen (listing_history)",
        "last_seen": "when the listing was last seen (listing_history)",
    },
    "listing_matches": {
        "listing_id": "the listing",
        "npi": "matched NPI (NULL unless matched)",
        "identity": "matched | ambiguous | unmatched",
        "match_score": "probability of the best candidate",
        "certification": "verifications.certification",
        "candidate_npi": "the best candidate, matched or not",
        "runner_up_npi": "the second-best candidate",
        "runner_up_score": "its probability",
        "comparisons": "per-comparison levels and weights of the best candidate (JSON)",
    },
    "reference_people": {
        "npi": "NPI",
        "first": "first name",
        "middle": "middle name",
        "last": "last name",
        "suffix": "suffix",
        "credentials": "credentials, canonical",
        "alt_lasts": "other last names (NPPES)",
        "states": "practice, mailing, DAC and license states",
        "cities": "practice, mailing and DAC cities (normalized)",
        "specialties": "canonical specialties from taxonomies, DAC and board certificates",
        "physician": "physician taxonomy or degree",
        "practice_city": "NPPES practice city",
        "practice_state": "NPPES practice state",
        "gender": "gender code",
        "medical_school": "medical school from Doctors & Clinicians",
    },
    "certificates": {
        "line_number": "line in the board CSV",
        "matched_npi": "NPI the certificate is tied to (by NPI or by the matcher)",
        "first": "first name on the certificate",
        "middle": "middle name",
        "last": "last name",
        "board": "issuing board",
        "certificate": "certificate name",
        "certificate_type": "specialty | subspecialty",
        "status": "active | expired | lapsed | inactive | suspended | revoked",
        "expiration_date": "expiration date",
        "city": "city",
        "state": "state",
    },
    "exclusions": {
        "matched_npi": "NPI the exclusion is tied to",
        "first": "first name",
        "middle": "middle name",
        "last": "last name",
        "city": "city",
        "state": "state",
        "exclusion_type": "LEIE exclusion authority, e.g. 1128a1",
        "exclusion_date": "exclusion date",
        "reinstatement_date": "reinstatement date (NULL while excluded)",
    },
    "match_parameters": {
        "run_id": "one matching run; listing_matches.comparisons->>'run_id'",
        "created_at": "when it ran (UTC)",
        "link": "listings | certificates | exclusions (each -> NPPES people)",
        "comparison": "a comparison, or 'prior'",
        "level": "agreement level of the comparison",
        "level_name": "what the level means",
        "m": "P(level | same person), by EM on broad-rule pairs",
        "u": "P(level | different people), from random pairs",
        "weight": "log2(m / u); the prior's is log2(lambda / (1 - lambda))",
        "term_frequency_adjusted": "whether the weight is adjusted for how common the value is",
    },
    "lookup_entries": {
        "person_key": "the NPI, or 'listing:' + listing_id when not resolved",
        "card": "JSON: name, npi, state, states, claimed_specialties, specialties, "
        "certification, certificates ('name (status)'), excluded, identity, sites",
    },
    "lookup_keys": {
        "key": "surname|initial: the surname, a part of it, or a one-deletion variant of "
        "those, then '|' and the first name's initial",
        "person_key": "lookup_entries.person_key",
        "first_key": "first name key of that name variant",
        "last_key": "surname key of that name variant",
    },
}

# ------------------------------------------------------------------------------ SQL

# Each site's latest successful crawl: the crawls behind the published listings.
_LATEST_RUNS = """
SELECT arg_max(run_id, started_at) AS run_id FROM crawl_runs WHERE status = 'ok' GROUP BY site_id
"""

TITLE_CASE_MACRO = """
CREATE OR REPLACE TEMP MACRO title_case(s) AS
    array_to_string(list_transform(string_split(lower(s), ' '),
        lambda w: array_to_string(list_transform(string_split(w, '-'),
            lambda h: upper(h[1]) || h[2:]), '-')), ' ')
"""

_PHYSICIANS = f"""
WITH cur AS (
    SELECT l.* EXCLUDE (npi), m.npi, m.certification, h.first_seen, h.last_seen
    FROM listings l JOIN listing_matches m USING (listing_id)
    LEFT JOIN listing_history h USING (listing_id)
    WHERE m.identity = 'matched'
),
edu AS (
    SELECT r.site_id || ':' || coalesce(r.ref, r.source_url) AS listing_id, r.site_id,
           unnest(coalesce(json_transform(r.item -> 'education',
               '[{{"type": "VARCHAR", "name": "VARCHAR", "year": "VARCHAR"}}]'), [])) AS e
    FROM raw_listings r WHERE r.run_id IN ({_LATEST_RUNS})
),
edu_by_npi AS (
    SELECT cur.npi, list(DISTINCT {{'type': e.type, 'name': e.name, 'year': e.year,
                                   'source': edu.site_id}}) AS education
    FROM edu JOIN cur USING (listing_id) WHERE e.name IS NOT NULL GROUP BY cur.npi
),
by_npi AS (
    SELECT npi,
           list({{'listing_id': listing_id, 'site_id': site_id, 'source_url': source_url,
                 'listed_name': listed_name,
                 'claimed_specialties': CAST(claimed_specialties AS VARCHAR[]),
                 'certification': certification, 'first_seen': first_seen,
                 'last_seen': last_seen}} ORDER BY listing_id) AS listings,
           list_sort(list_distinct(flatten(list(CAST(claimed_specialties AS VARCHAR[])))))
               AS claimed_specialties,
           list_sort(list_distinct(flatten(list(CAST(specialties AS VARCHAR[])))))
               AS listed_specialties,
           list_sort(list_distinct(flatten(list(CAST(states AS VARCHAR[]))))) AS listed_states,
           list_sort(list_distinct(list(site_id))) AS sites,
           list_sort(list_distinct(flatten(list(CAST(affiliations AS VARCHAR[])))))
               AS affiliations,
           {CERTIFICATION_ORDER}[min(list_position({CERTIFICATION_ORDER}, certification))]
               AS certification,
           min(first_seen) AS first_seen, max(last_seen) AS last_seen
    FROM cur GROUP BY npi
),
certs AS (
    SELECT matched_npi AS npi,
           list({{'board': board, 'certificate': certificate,
                 'certificate_type': certificate_type, 'status': status,
                 'expiration': CAST(expiration_date AS DATE)}}
                ORDER BY certificate_type, certificate) AS certificates
    FROM certificates WHERE matched_npi IS NOT NULL GROUP BY matched_npi
),
excl AS (
    SELECT matched_npi AS npi, bool_or(reinstatement_date IS NULL) AS excluded,
           list({{'exclusion_type': exclusion_type,
                 'exclusion_date': CAST(exclusion_date AS DATE),
                 'reinstatement_date': CAST(reinstatement_date AS DATE)}}
                ORDER BY exclusion_date) AS exclusions
    FROM exclusions WHERE matched_npi IS NOT NULL GROUP BY matched_npi
)
SELECT b.npi,
       title_case(concat_ws(' ', p.first, p.middle, p.last, p.suffix)) AS name,
       p.first, p.middle, p.last, p.suffix,
       CAST(p.credentials AS VARCHAR[]) AS credentials,
       p.physician, p.gender, p.practice_city, p.practice_state,
       list_sort(list_distinct(list_concat(CAST(p.states AS VARCHAR[]), b.listed_states)))
           AS states,
       list_sort(list_distinct(list_concat(CAST(p.specialties AS VARCHAR[]),
                                           b.listed_specialties))) AS specialties,
       b.claimed_specialties, b.certification, b.listings, b.sites, b.affiliations,
       list_concat(coalesce(e.education, []),
                   CASE WHEN p.medical_school IS NOT NULL
                        THEN [{{'type': 'medical_school', 'name': p.medical_school,
                               'year': NULL::VARCHAR, 'source': 'dac'}}]
                        ELSE [] END) AS education,
       coalesce(c.certificates, []) AS certificates,
       list_transform(list_filter(coalesce(c.certificates, []), lambda x: x.status = 'active'),
                      lambda x: x.certificate) AS active_certificates,
       coalesce(x.excluded, false) AS excluded,
       coalesce(x.exclusions, []) AS exclusions,
       b.first_seen, b.last_seen
FROM by_npi b
LEFT JOIN reference_people p USING (npi)
LEFT JOIN certs c USING (npi)
LEFT JOIN excl x USING (npi)
LEFT JOIN edu_by_npi e USING (npi)
ORDER BY b.npi
"""

LOOKUP_ENTRIES_FROM_PHYSICIANS = """
SELECT npi AS person_key, name, npi, coalesce(practice_state, states[1]) AS state, states,
       claimed_specialties, specialties, certification,
       list_transform(certificates, lambda c: c.certificate || ' (' || c.status || ')')
           AS certificates,
       excluded, 'matched' AS identity, sites
FROM physicians
"""

_UNRESOLVED_ENTRIES = """
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


# ------------------------------------------------------------------------------ publishing


@dataclass(frozen=True)
class PublishResult:
    publish_id: str
    path: Path
    listings: int
    matched: int
    physicians: int
    changes: int
    seconds: float


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _work_comments(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], str]:
    """Column comments other stages put on work-database tables (kept when published)."""
    rows = con.execute(
        "SELECT table_name, column_name, comment FROM duckdb_columns() "
        "WHERE database_name = current_database() AND comment IS NOT NULL AND comment <> ''"
    ).fetchall()
    return {(t, c): text for t, c, text in rows}


def apply_comments(
    con: duckdb.DuckDBPyConnection, extra: dict[tuple[str, str], str] | None = None
) -> None:
    """COMMENT ON every published object and column that has a text for it."""
    kinds = dict(
        con.execute(
            "SELECT table_name, CASE WHEN table_type = 'VIEW' THEN 'VIEW' ELSE 'TABLE' END "
            "FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
    )
    for name, comment in OBJECT_COMMENTS.items():
        if name in kinds:
            con.execute(f"COMMENT ON {kinds[name]} {name} IS {_quote(comment)}")
    columns = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'"
    ).fetchall()
    for table, column in columns:
        text = COLUMN_COMMENTS.get(table, {}).get(column) or (extra or {}).get((table, column))
        if text:
            con.execute(f'COMMENT ON COLUMN {table}."{column}" IS {_quote(text)}')


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_builds(published: Path) -> None:
    """Half-built files of runs that died (call while holding the job lock)."""
    for stale in published.parent.glob(f".{published.name}.publishing-*"):
        stale.unlink(missing_ok=True)


def publish(con: duckdb.DuckDBPyConnection, published: Path, *, command: str) -> PublishResult:
    """Record history in the work database ``con`` and atomically replace ``published``."""
    started = datetime.now(UTC).replace(tzinfo=None)
    publish_id = new_id("publish")
    ensure_history_schema(con)
    with transaction(con):
        changes = record_history(con, publish_id, started)
        counts = con.execute(
            """SELECT count(*), count(*) FILTER (identity = 'matched'),
                      count(DISTINCT npi) FILTER (identity = 'matched')
               FROM listing_matches"""
        ).fetchone()
        con.execute(
            f"""INSERT INTO publish_runs
                SELECT ?, ?, ?, NULL, ?, ?, ?, ?,
                       (SELECT list(run_id ORDER BY run_id) FROM ({_LATEST_RUNS}))""",
            [publish_id, command, started, counts[0], counts[1], counts[2], changes],
        )

    published.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_builds(published)
    building = published.with_name(f".{published.name}.publishing-{os.getpid()}")
    try:
        _build_file(con, building, publish_id)
        _fsync(building)
        os.replace(building, published)
        _fsync(published.parent)
    finally:
        building.unlink(missing_ok=True)
        Path(str(building) + ".wal").unlink(missing_ok=True)
    published_at = datetime.now(UTC).replace(tzinfo=None)
    con.execute(
        "UPDATE publish_runs SET published_at = ? WHERE publish_id = ?",
        [published_at, publish_id],
    )
    return PublishResult(
        publish_id,
        published,
        counts[0],
        counts[1],
        counts[2],
        changes,
        (published_at - started).total_seconds(),
    )


def _build_file(con: duckdb.DuckDBPyConnection, path: Path, publish_id: str) -> None:
    con.execute(TITLE_CASE_MACRO)
    copies = {
        "listings": """SELECT l.*, h.first_seen, h.last_seen
                       FROM listings l LEFT JOIN listing_history h USING (listing_id)""",
        "listing_matches": "SELECT * FROM listing_matches",
        "reference_people": "SELECT * FROM reference_people",
        "certificates": "SELECT * FROM certificates",
        "exclusions": "SELECT * FROM exclusions",
        "crawl_runs": "SELECT * FROM crawl_runs ORDER BY started_at",
        "load_runs": "SELECT * FROM load_runs ORDER BY started_at",
        "rejects": "SELECT * FROM rejects",
        "raw_listings": f"SELECT * FROM raw_listings WHERE run_id IN ({_LATEST_RUNS})",
        "listing_history": "SELECT * FROM listing_history ORDER BY listing_id",
        "listing_versions": "SELECT * FROM listing_versions ORDER BY listing_id, valid_from",
        "changes": "SELECT * FROM changes ORDER BY change_id",
        "publish_runs": "SELECT * FROM publish_runs ORDER BY started_at",
        "physicians": _PHYSICIANS,
    }
    # Tables other stages keep in the work database, published when present.
    work_tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if "match_parameters" in work_tables:
        copies["match_parameters"] = "SELECT * FROM match_parameters ORDER BY created_at"
    comments = _work_comments(con)
    con.execute(f"ATTACH {_quote(str(path))} AS publishing")
    try:
        for table, select in copies.items():
            con.execute(f"CREATE TABLE publishing.{table} AS {select}")
        names = con.execute(
            """SELECT m.npi AS person_key, l.first, l.last
               FROM listings l JOIN listing_matches m USING (listing_id)
               WHERE m.identity = 'matched'
               UNION ALL
               SELECT p.npi, p.first, p.last FROM reference_people p
               WHERE p.npi IN (SELECT npi FROM listing_matches WHERE identity = 'matched')
               UNION ALL
               SELECT 'listing:' || l.listing_id, l.first, l.last
               FROM listings l JOIN listing_matches m USING (listing_id)
               WHERE m.identity <> 'matched'"""
        ).df()
    finally:
        con.execute("DETACH publishing")

    out = duckdb.connect(str(path))
    try:
        out.execute(VERIFICATIONS_VIEW)
        build_lookup_tables(
            out,
            f"{LOOKUP_ENTRIES_FROM_PHYSICIANS} UNION ALL BY NAME {_UNRESOLVED_ENTRIES}",
            names,
        )
        out.execute(
            "UPDATE publish_runs SET published_at = ? WHERE publish_id = ?",
            [datetime.now(UTC).replace(tzinfo=None), publish_id],
        )
        apply_comments(out, comments)
        out.execute("CHECKPOINT")
    finally:
        out.close()
