"""The DuckDB file: schema, transactions, and ingest of crawl feeds.

Layers (see docs/design.md): raw tables keep what was crawled or loaded, with provenance;
staged tables (``listings``, ``reference_people``, ``certificates``, ``exclusions``) are rebuilt
from raw by ``pipeline.match``; ``verifications`` is the published view.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from pipeline.config import CredcheckError

# Luhn check of an NPI: the check digit is computed over "80840" + the first nine digits;
# the prefix contributes a constant 24 to the sum.
NPI_MACRO = """
CREATE OR REPLACE TEMP MACRO npi_is_valid(s) AS (
    regexp_full_match(coalesce(s, ''), '[0-9]{10}')
    AND (10 - (24 + list_sum(list_transform(range(1, 10), lambda i:
            CASE WHEN i % 2 = 1
                 THEN (2 * CAST(substr(s, i, 1) AS INT)) // 10
                      + (2 * CAST(substr(s, i, 1) AS INT)) % 10
                 ELSE CAST(substr(s, i, 1) AS INT) END))) % 10) % 10
        = TRY_CAST(substr(s, 10, 1) AS INT)
)
"""

RAW_SCHEMA = """
CREATE TABLE IF NOT EXISTS crawl_runs (
    run_id VARCHAR PRIMARY KEY,
    site_id VARCHAR NOT NULL,
    start_url VARCHAR,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    status VARCHAR,            -- ok | failed
    items INTEGER,
    pages INTEGER,
    parse_errors INTEGER,
    soft_404 INTEGER,
    stats JSON
);
CREATE TABLE IF NOT EXISTS raw_listings (
    run_id VARCHAR NOT NULL,
    site_id VARCHAR NOT NULL,
    ref VARCHAR,
    source_url VARCHAR NOT NULL,
    fetched_at TIMESTAMP,
    content_hash VARCHAR,
    extractor VARCHAR,
    item JSON NOT NULL
);
CREATE TABLE IF NOT EXISTS load_runs (
    load_id VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL,
    path VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    rows_read BIGINT,
    rows_loaded BIGINT,
    rows_rejected BIGINT,
    started_at TIMESTAMP,
    finished_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS rejects (
    load_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    line_number BIGINT,
    reason VARCHAR NOT NULL,
    raw_row VARCHAR
);
CREATE TABLE IF NOT EXISTS ref_boards (
    load_id VARCHAR, line_number BIGINT,
    npi VARCHAR, first_name VARCHAR, middle_name VARCHAR, last_name VARCHAR, suffix VARCHAR,
    board VARCHAR, certificate VARCHAR, certificate_type VARCHAR, status VARCHAR,
    initial_certification_date DATE, expiration_date DATE, moc VARCHAR,
    city VARCHAR, state VARCHAR
);
CREATE TABLE IF NOT EXISTS ref_nppes (
    load_id VARCHAR,
    npi VARCHAR, entity_type VARCHAR, replacement_npi VARCHAR,
    last_name VARCHAR, first_name VARCHAR, middle_name VARCHAR,
    prefix VARCHAR, suffix VARCHAR, credential VARCHAR,
    other_last_name VARCHAR, other_first_name VARCHAR, other_middle_name VARCHAR,
    practice_city VARCHAR, practice_state VARCHAR, practice_zip VARCHAR, practice_phone VARCHAR,
    mailing_city VARCHAR, mailing_state VARCHAR,
    gender VARCHAR, deactivation_date VARCHAR,
    taxonomy_codes VARCHAR[], license_states VARCHAR[], primary_taxonomy VARCHAR
);
CREATE TABLE IF NOT EXISTS ref_dac (
    load_id VARCHAR,
    npi VARCHAR, last_name VARCHAR, first_name VARCHAR, middle_name VARCHAR, suffix VARCHAR,
    gender VARCHAR, credential VARCHAR, medical_school VARCHAR, graduation_year VARCHAR,
    primary_specialty VARCHAR, secondary_specialties VARCHAR, organization VARCHAR,
    city VARCHAR, state VARCHAR, zip VARCHAR, phone VARCHAR
);
CREATE TABLE IF NOT EXISTS ref_leie (
    load_id VARCHAR,
    last_name VARCHAR, first_name VARCHAR, middle_name VARCHAR, business_name VARCHAR,
    general VARCHAR, specialty VARCHAR, npi VARCHAR, dob VARCHAR, address VARCHAR,
    city VARCHAR, state VARCHAR, zip VARCHAR, exclusion_type VARCHAR,
    exclusion_date DATE, reinstatement_date DATE, waiver_date DATE, waiver_state VARCHAR
);
"""


def open_db(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the database file; a writer also gets the schema created if missing."""
    if read_only:
        if not path.exists():
            raise CredcheckError(
                f"no database at {path}: run `credcheck demo` or `credcheck run` first"
            )
        try:
            con = duckdb.connect(str(path), read_only=True)
        except duckdb.IOException as exc:
            raise CredcheckError(f"cannot open {path} read-only: {exc}") from exc
        return con
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path))
    except duckdb.IOException as exc:
        raise CredcheckError(f"cannot open {path} for writing: {exc}") from exc
    con.execute(NPI_MACRO)
    con.execute(RAW_SCHEMA)
    return con


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: a failure inside rolls back, so the file stays as it was."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def new_id(prefix: str) -> str:
    """A sortable, unique id such as ``crawl-20261127T101500-3f2a9c``."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return f"{prefix}-{stamp}-{uuid.uuid4().hex[:6]}"


def read_feed(feed_path: Path) -> tuple[list[dict], int]:
    """Items of a JSON Lines feed, and how many lines could not be read (counted, not fatal)."""
    items: list[dict] = []
    bad_lines = 0
    if not feed_path.exists():
        return items, bad_lines
    with feed_path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                bad_lines += 1
                continue
            if isinstance(item, dict) and item.get("source_url"):
                items.append(item)
            else:
                bad_lines += 1
    return items, bad_lines


def ingest_crawl(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    site_id: str,
    start_url: str | None,
    items: list[dict],
    stats: dict,
    started_at: datetime,
    finished_at: datetime,
    status: str,
) -> None:
    """Record one site's crawl run and its items in a single transaction."""
    feed = pd.DataFrame(
        {
            "run_id": run_id,
            "site_id": [item.get("site_id") or site_id for item in items],
            "ref": [item.get("ref") for item in items],
            "source_url": [item["source_url"] for item in items],
            "fetched_at": pd.to_datetime(
                [item.get("fetched_at") for item in items], utc=True, errors="coerce"
            ).tz_localize(None),
            "content_hash": [item.get("content_hash") for item in items],
            "extractor": [item.get("extractor") for item in items],
            "item": [json.dumps(item, ensure_ascii=False) for item in items],
        }
    )
    with transaction(con):
        con.execute(
            "INSERT INTO crawl_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                site_id,
                start_url,
                started_at,
                finished_at,
                status,
                len(items),
                int(stats.get("response_received_count", 0) or 0),
                int(stats.get("credcheck/parse_errors", 0) or 0),
                int(stats.get("credcheck/soft_404", 0) or 0),
                json.dumps(stats, default=str),
            ],
        )
        if len(feed):
            con.register("feed_to_ingest", feed)
            con.execute("INSERT INTO raw_listings SELECT * FROM feed_to_ingest")
            con.unregister("feed_to_ingest")
