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

from pipeline.db import schema
from pipeline.db.schema import CERTIFICATION_VALUES
from pipeline.db.store import LATEST_CRAWLS, literal, new_id, transaction
from pipeline.discrepancies import build_discrepancies
from pipeline.history import ensure_history_schema, record_history
from pipeline.lookup import (
    LOOKUP_ENTRIES_FROM_PHYSICIANS,
    UNRESOLVED_ENTRIES,
    build_lookup_tables,
    build_specialist_table,
)
from pipeline.verify import VERIFICATIONS_VIEW

# ------------------------------------------------------------------------------ SQL

# The crawls behind the published listings.
_LATEST_RUNS = f"SELECT run_id FROM ({LATEST_CRAWLS})"

TITLE_CASE_MACRO = """
CREATE OR REPLACE TEMP MACRO title_case(s) AS
    array_to_string(list_transform(string_split(lower(s), ' '),
        lambda w: array_to_string(list_transform(string_split(w, '-'),
            lambda h: upper(h[1]) || h[2:]), '-')), ' ')
"""

_PHYSICIANS = f"""
WITH cur AS (
    SELECT l.* EXCLUDE (npi), m.person_id, m.certification, m.certification_reason,
           h.first_seen, h.last_seen
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
edu_by_person AS (
    SELECT cur.person_id, list(DISTINCT {{'type': e.type, 'name': e.name, 'year': e.year,
                                         'source': edu.site_id}}) AS education
    FROM edu JOIN cur USING (listing_id) WHERE e.name IS NOT NULL GROUP BY cur.person_id
),
by_person AS (
    SELECT person_id,
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
           {list(CERTIFICATION_VALUES)}[
               min(list_position({list(CERTIFICATION_VALUES)}, certification))]
               AS certification,
           any_value(certification_reason) AS certification_reason,
           min(first_seen) AS first_seen, max(last_seen) AS last_seen
    FROM cur GROUP BY person_id
),
certs AS (
    SELECT person_id,
           list({{'board': board, 'certificate': certificate,
                 'certificate_type': certificate_type, 'status': status,
                 'expiration': CAST(expiration_date AS DATE)}}
                ORDER BY certificate_type, certificate) AS certificates
    FROM certificates WHERE person_id IS NOT NULL GROUP BY person_id
),
excl AS (
    SELECT person_id, bool_or(reinstatement_date IS NULL) AS excluded,
           list({{'exclusion_type': exclusion_type,
                 'exclusion_date': CAST(exclusion_date AS DATE),
                 'reinstatement_date': CAST(reinstatement_date AS DATE)}}
                ORDER BY exclusion_date) AS exclusions
    FROM exclusions WHERE person_id IS NOT NULL GROUP BY person_id
)
SELECT p.npi, b.person_id, CAST(p.sources AS VARCHAR[]) AS evidence, p.npi_deactivated,
       title_case(concat_ws(' ', p.first, p.middle, p.last, p.suffix)) AS name,
       p.first, p.middle, p.last, p.suffix,
       CAST(p.credentials AS VARCHAR[]) AS credentials,
       p.physician, p.gender, p.practice_city, p.practice_state,
       list_sort(list_distinct(list_concat(CAST(p.states AS VARCHAR[]), b.listed_states)))
           AS states,
       list_sort(list_distinct(list_concat(CAST(p.specialties AS VARCHAR[]),
                                           b.listed_specialties))) AS specialties,
       b.claimed_specialties, b.certification,
       CASE WHEN b.certification = 'unknown' THEN b.certification_reason END
           AS certification_reason,
       b.listings, b.sites, b.affiliations,
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
FROM by_person b
LEFT JOIN reference_people p USING (person_id)
LEFT JOIN certs c USING (person_id)
LEFT JOIN excl x USING (person_id)
LEFT JOIN edu_by_person e USING (person_id)
ORDER BY b.person_id
"""

# Point lookups by NPI, listing id or page URL (the web app's physician and listing pages,
# `credcheck explain`): an ART index answers each in a millisecond or two at a million
# physicians, where a scan of the column takes tens to hundreds.
LOOKUP_INDEXES = {
    "physicians": ("npi", "person_id"),
    "listings": ("listing_id",),
    "listing_matches": ("listing_id",),
    "raw_listings": ("source_url",),
    "reference_people": ("npi",),
    "certificates": ("matched_npi", "person_id"),
    "changes": ("npi", "listing_id"),
}


def create_lookup_indexes(con: duckdb.DuckDBPyConnection) -> None:
    """``LOOKUP_INDEXES`` on the tables of a file being published."""
    for table, columns in LOOKUP_INDEXES.items():
        for column in columns:
            con.execute(f"CREATE INDEX IF NOT EXISTS {table}_{column} ON {table}({column})")


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


def apply_comments(con: duckdb.DuckDBPyConnection) -> None:
    """COMMENT ON every published object and column, from ``pipeline.db.schema``."""
    for table in schema.TABLES.values():
        if not table.published:
            continue
        kind = "VIEW" if table.view else "TABLE"
        con.execute(f"COMMENT ON {kind} {table.name} IS {literal(table.comment)}")
        for column in table.columns:
            con.execute(
                f'COMMENT ON COLUMN {table.name}."{column.name}" IS {literal(column.text)}'
            )


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
                      count(DISTINCT person_id) FILTER (identity = 'matched')
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
    con.execute(f"ATTACH {literal(str(path))} AS publishing")
    try:
        for table, select in copies.items():
            con.execute(f"CREATE TABLE publishing.{table} AS {select}")
        names = con.execute(
            """SELECT m.person_id AS person_key, l.first, l.last
               FROM listings l JOIN listing_matches m USING (listing_id)
               WHERE m.identity = 'matched'
               UNION ALL
               SELECT p.person_id, p.first, p.last FROM reference_people p
               WHERE p.person_id IN (
                   SELECT person_id FROM listing_matches WHERE identity = 'matched')
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
            f"{LOOKUP_ENTRIES_FROM_PHYSICIANS} UNION ALL BY NAME {UNRESOLVED_ENTRIES}",
            names,
        )
        build_specialist_table(out)
        build_discrepancies(out)
        out.execute(
            "UPDATE publish_runs SET published_at = ? WHERE publish_id = ?",
            [datetime.now(UTC).replace(tzinfo=None), publish_id],
        )
        apply_comments(out)
        create_lookup_indexes(out)
        out.execute("CHECKPOINT")
    finally:
        out.close()
