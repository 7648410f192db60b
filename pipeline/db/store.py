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
    stats JSON,
    -- incremental re-crawl accounting (pipeline.db.store.ingest_crawl)
    pages_fetched INTEGER,     -- pages downloaded with a body (2xx)
    not_modified INTEGER,      -- listings known unchanged without download (304, old lastmod)
    new_listings INTEGER,      -- refs not in the site's previous run
    changed INTEGER,           -- refs whose content hash differs from the previous run
    unchanged INTEGER,         -- refs fetched again with the same content hash
    gone INTEGER,              -- refs of the previous run missing now (0 when drift)
    carried INTEGER,           -- rows copied forward from the previous run (304s, drift)
    drift BOOLEAN,             -- yield or field coverage fell sharply against the previous run
    drift_reason VARCHAR,
    field_coverage JSON,       -- {field: share of the run's listings that have it}
    errors JSON,               -- {kind: count}: http_5xx, http_429, timeout, truncated, ...
    discovery JSON             -- zero-config: the URL templates learned (spiders.discovery)
);
CREATE TABLE IF NOT EXISTS raw_listings (
    run_id VARCHAR NOT NULL,
    site_id VARCHAR NOT NULL,
    ref VARCHAR,
    source_url VARCHAR NOT NULL,
    fetched_at TIMESTAMP,
    content_hash VARCHAR,
    extractor VARCHAR,
    item JSON NOT NULL,
    change VARCHAR,            -- new | changed | unchanged | not_modified | carried
    carried_from VARCHAR       -- run_id the row was copied from (not_modified / carried)
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
CREATE TABLE IF NOT EXISTS load_repairs (
    load_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    repair VARCHAR NOT NULL,   -- e.g. practice_zip_leading_zeros, practice_phone_scientific
    row_count BIGINT           -- rows of the load with that repair (see the repairs column)
);
CREATE TABLE IF NOT EXISTS ref_boards (
    load_id VARCHAR, line_number BIGINT,
    npi VARCHAR, first_name VARCHAR, middle_name VARCHAR, last_name VARCHAR, suffix VARCHAR,
    board VARCHAR, certificate VARCHAR, certificate_type VARCHAR, status VARCHAR,
    initial_certification_date DATE, expiration_date DATE, moc VARCHAR,
    city VARCHAR, state VARCHAR, repairs VARCHAR[]
);
CREATE TABLE IF NOT EXISTS ref_nppes (
    load_id VARCHAR,
    npi VARCHAR, entity_type VARCHAR, replacement_npi VARCHAR,
    last_name VARCHAR, first_name VARCHAR, middle_name VARCHAR,
    prefix VARCHAR, suffix VARCHAR, credential VARCHAR,
    other_last_name VARCHAR, other_first_name VARCHAR, other_middle_name VARCHAR,
    practice_city VARCHAR, practice_state VARCHAR, practice_zip VARCHAR, practice_phone VARCHAR,
    mailing_city VARCHAR, mailing_state VARCHAR,
    gender VARCHAR, deactivation_date DATE,
    taxonomy_codes VARCHAR[], license_states VARCHAR[], primary_taxonomy VARCHAR,
    organization_name VARCHAR,
    other_name_type VARCHAR, other_credential VARCHAR,
    practice_address_1 VARCHAR, practice_address_2 VARCHAR, mailing_zip VARCHAR,
    enumeration_date DATE, last_update_date DATE,
    deactivation_reason VARCHAR, reactivation_date DATE,
    -- the 15 taxonomy slots in slot order, blanks dropped
    taxonomies STRUCT(slot INTEGER, code VARCHAR, license VARCHAR, license_state VARCHAR,
                      is_primary BOOLEAN)[],
    repairs VARCHAR[]
);
CREATE TABLE IF NOT EXISTS ref_nppes_other_names (
    load_id VARCHAR,
    npi VARCHAR, other_name VARCHAR, type_code VARCHAR
);
CREATE TABLE IF NOT EXISTS ref_nppes_locations (
    load_id VARCHAR,
    npi VARCHAR, address_1 VARCHAR, address_2 VARCHAR, city VARCHAR, state VARCHAR, zip VARCHAR,
    country VARCHAR, phone VARCHAR, phone_extension VARCHAR, fax VARCHAR, repairs VARCHAR[]
);
CREATE TABLE IF NOT EXISTS ref_dac (
    load_id VARCHAR,
    npi VARCHAR, last_name VARCHAR, first_name VARCHAR, middle_name VARCHAR, suffix VARCHAR,
    gender VARCHAR, credential VARCHAR, medical_school VARCHAR, graduation_year VARCHAR,
    primary_specialty VARCHAR, secondary_specialties VARCHAR, organization VARCHAR,
    city VARCHAR, state VARCHAR, zip VARCHAR, phone VARCHAR,
    layout VARCHAR,   -- current | 2021
    ind_pac_id VARCHAR, ind_enrl_id VARCHAR, secondary_specialty_list VARCHAR[],
    telehealth VARCHAR, org_pac_id VARCHAR, num_org_mem INTEGER,
    address_line_1 VARCHAR, address_line_2 VARCHAR, address_id VARCHAR,
    hospital_ccns VARCHAR[], hospital_names VARCHAR[],   -- 2021 layout: hosp_afl_1..5
    repairs VARCHAR[]
);
CREATE TABLE IF NOT EXISTS ref_dac_affiliations (
    load_id VARCHAR,
    npi VARCHAR, ind_pac_id VARCHAR, last_name VARCHAR, first_name VARCHAR, middle_name VARCHAR,
    suffix VARCHAR, facility_type VARCHAR, facility_ccn VARCHAR, parent_ccn VARCHAR
);
CREATE TABLE IF NOT EXISTS ref_leie (
    load_id VARCHAR,
    last_name VARCHAR, first_name VARCHAR, middle_name VARCHAR, business_name VARCHAR,
    general VARCHAR, specialty VARCHAR, npi VARCHAR, dob VARCHAR, address VARCHAR,
    city VARCHAR, state VARCHAR, zip VARCHAR, exclusion_type VARCHAR,
    exclusion_date DATE, reinstatement_date DATE, waiver_date DATE, waiver_state VARCHAR,
    upin VARCHAR, birth_date DATE, repairs VARCHAR[]
);
"""


# Databases made before the incremental-crawl columns get them (new ones have them already).
CRAWL_UPGRADE = """
ALTER TABLE crawl_runs ADD COLUMN IF NOT EXISTS pages_fetched INTEGER;
ALTER TABLE crawl_runs ADD COLUMN IF NOT EXISTS not_modified INTEGER;
ALTER TABLE crawl_runs ADD COLUMN IF NOT EXISTS new_listings INTEGER;
ALTER TABLE crawl_runs ADD COLUMN IF NOT EXISTS changed INTEGER;
ALTER TABLE crawl_runs ADD COLUMN IF NOT EXISTS unchanged INTEGER;
ALTER TABLE crawl_runs ADD COLUMN IF NOT EXISTS gone INTEGER;
ALTER TABLE crawl_runs ADD COLUMN IF NOT EXISTS carried INTEGER;
ALTER TABLE crawl_runs ADD COLUMN IF NOT EXISTS drift BOOLEAN;
ALTER TABLE crawl_runs ADD COLUMN IF NOT EXISTS drift_reason VARCHAR;
ALTER TABLE crawl_runs ADD COLUMN IF NOT EXISTS field_coverage JSON;
ALTER TABLE crawl_runs ADD COLUMN IF NOT EXISTS errors JSON;
ALTER TABLE crawl_runs ADD COLUMN IF NOT EXISTS discovery JSON;
ALTER TABLE raw_listings ADD COLUMN IF NOT EXISTS change VARCHAR;
ALTER TABLE raw_listings ADD COLUMN IF NOT EXISTS carried_from VARCHAR;
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
    con.execute(RAW_SCHEMA)
    con.execute(CRAWL_UPGRADE)
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


# Drift: a run whose yield falls below this share of the previous run's, or where a field the
# previous run had on at least DRIFT_MIN_COVERAGE of listings loses DRIFT_COVERAGE_DROP of it,
# is a broken crawl (a redesign, a block page), not a directory that lost its doctors.
DRIFT_YIELD_RATIO = 0.5
DRIFT_COVERAGE_DROP = 0.25
DRIFT_MIN_COVERAGE = 0.5
COVERAGE_FIELDS = (
    "given_name", "family_name", "degrees", "job_title", "department", "specialties",
    "board_certifications", "npi", "gender", "languages", "accepting_new_patients", "education",
    "locations", "affiliations",
)  # fmt: skip
# Crawl stats -> error kinds (first match wins): what went wrong, counted per run.
ERROR_KINDS = (
    ("http_429", "downloader/response_status_count/429"),
    ("http_5xx", "downloader/response_status_count/5"),
    ("http_4xx", "downloader/response_status_count/4"),
    ("timeout", "downloader/exception_type_count/scrapy.exceptions.DownloadTimeoutError"),
    ("timeout", "downloader/exception_type_count/twisted.internet.error.TimeoutError"),
    ("timeout", "downloader/exception_type_count/twisted.internet.error.TCPTimedOutError"),
    # DOWNLOAD_MAXSIZE exceeded: Scrapy cancels the download
    ("too_large", "downloader/exception_type_count/scrapy.exceptions.DownloadCancelledError"),
    ("too_large", "downloader/exception_type_count/twisted.internet.defer.CancelledError"),
    ("connection", "downloader/exception_type_count/"),
    ("truncated", "credcheck/faults/truncated"),
    ("charset_repaired", "credcheck/faults/charset_repaired"),
    ("charset_undeclared", "credcheck/faults/charset_undeclared"),
    ("redirect_loop", "credcheck/faults/redirect_loop"),
    ("malformed_jsonld", "credcheck/faults/malformed_jsonld"),
    ("offsite_filtered", "offsite/filtered"),
    ("robots_forbidden", "robotstxt/forbidden"),
    ("soft_404", "credcheck/soft_404"),
    ("no_person_found", "credcheck/no_person_found"),
    ("parse_error", "credcheck/parse_errors/"),
    ("bad_json", "credcheck/api/bad_json"),
    ("retries_exhausted", "retry/max_reached"),
)


def errors_by_kind(stats: dict) -> dict[str, int]:
    """{kind: count} from a run's Scrapy stats (see ERROR_KINDS)."""
    out: dict[str, int] = {}
    for key, value in stats.items():
        for kind, prefix in ERROR_KINDS:
            if key.startswith(prefix) and isinstance(value, int | float):
                out[kind] = out.get(kind, 0) + int(value)
                break
    return dict(sorted(out.items()))


def field_coverage(items: list[dict]) -> dict[str, float]:
    """Share of listings that have each field (non-empty)."""
    n = max(1, len(items))
    return {
        f: round(sum(item.get(f) not in (None, "", [], {}) for item in items) / n, 4)
        for f in COVERAGE_FIELDS
    }


def drift_reason(
    n_now: int, coverage: dict[str, float], n_before: int, coverage_before: dict[str, float]
) -> str | None:
    """Why this run is not to be trusted against the previous one, or None."""
    if n_before and n_now < DRIFT_YIELD_RATIO * n_before:
        return f"yield fell from {n_before} to {n_now} listings"
    drops = [
        f"{field} {before:.0%} -> {coverage.get(field, 0):.0%}"
        for field, before in coverage_before.items()
        if before >= DRIFT_MIN_COVERAGE and before - coverage.get(field, 0) >= DRIFT_COVERAGE_DROP
    ]
    return "field coverage fell: " + ", ".join(drops) if drops else None


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
    unchanged_urls: list[str] | tuple[str, ...] = (),
    discovery: dict | None = None,
) -> dict:
    """Record one site's crawl run and its items in a single transaction; return the run's
    change counts.

    Each run's ``raw_listings`` is the site's whole directory as of that run: listings the crawl
    knew unchanged without downloading them (``unchanged_urls``: 304s, old sitemap lastmod) are
    copied forward from the previous run, and so are missing listings when the run drifted (a
    broken crawl does not make doctors disappear). Compared with the previous run, each listing
    is new, changed, unchanged or not_modified; previous listings missing now are gone.
    """
    previous = con.execute(
        """SELECT run_id, items + coalesce(carried, 0), field_coverage FROM crawl_runs
           WHERE site_id = ? AND status = 'ok' ORDER BY started_at DESC LIMIT 1""",
        [site_id],
    ).fetchone()
    before: dict[str, tuple] = {}
    if previous:
        before = {
            ref: (url, content_hash)
            for ref, url, content_hash in con.execute(
                "SELECT ref, source_url, content_hash FROM raw_listings WHERE run_id = ?",
                [previous[0]],
            ).fetchall()
        }
    changes = []
    for item in items:
        seen = before.get(item.get("ref"))
        changes.append(
            "new" if seen is None else "unchanged" if seen[1] == item.get("content_hash")
            else "changed"
        )  # fmt: skip
    now = {item.get("ref") for item in items}
    unchanged = set(unchanged_urls)
    not_modified = [r for r, (url, _) in before.items() if r not in now and url in unchanged]
    missing = [r for r in before if r not in now and r not in set(not_modified)]
    snapshot_items = items + [{"ref": r} for r in not_modified]  # coverage: refilled below
    coverage = field_coverage(items) if items else {}
    coverage_before = json.loads(previous[2]) if previous and previous[2] else {}
    reason = None
    if previous:
        # The run's coverage counts the listings it downloaded; unchanged ones keep theirs.
        reason = drift_reason(
            len(snapshot_items), coverage, int(previous[1] or 0),
            coverage_before if len(items) >= len(snapshot_items) / 2 else {},
        )  # fmt: skip
    carried = not_modified + (missing if reason else [])
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
            "change": changes,
        }
    )
    counts = {
        "pages_fetched": sum(
            int(v) for k, v in stats.items()
            if k.startswith("downloader/response_status_count/2")
        ),
        "not_modified": len(not_modified),
        "new_listings": changes.count("new"),
        "changed": changes.count("changed"),
        "unchanged": changes.count("unchanged"),
        "gone": 0 if reason else len(missing),
        "carried": len(carried),
    }  # fmt: skip
    with transaction(con):
        con.execute(
            """INSERT INTO crawl_runs (run_id, site_id, start_url, started_at, finished_at,
                   status, items, pages, parse_errors, soft_404, stats, pages_fetched,
                   not_modified, new_listings, changed, unchanged, gone, carried, drift,
                   drift_reason, field_coverage, errors, discovery)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
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
                *counts.values(),
                reason is not None,
                reason,
                json.dumps(coverage),
                json.dumps(errors_by_kind(stats)),
                json.dumps(discovery) if discovery else None,
            ],
        )
        if len(feed):
            con.register("feed_to_ingest", feed)
            con.execute(
                """INSERT INTO raw_listings (run_id, site_id, ref, source_url, fetched_at,
                       content_hash, extractor, item, change)
                   SELECT * FROM feed_to_ingest"""
            )
            con.unregister("feed_to_ingest")
        if carried:
            con.execute(
                """INSERT INTO raw_listings
                   SELECT ?, site_id, ref, source_url, fetched_at, content_hash, extractor, item,
                          CASE WHEN list_contains(?, ref) THEN 'not_modified' ELSE 'carried' END,
                          run_id
                   FROM raw_listings WHERE run_id = ? AND list_contains(?, ref)""",
                [run_id, not_modified, previous[0], carried],
            )
    return counts | {"drift": reason}
