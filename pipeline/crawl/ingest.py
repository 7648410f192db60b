"""Crawl feeds into the raw tables: one site's run per transaction, with change accounting.

Each run's ``raw_listings`` is the site's whole directory as of that run (unchanged listings
carried forward), compared with the site's previous successful run: new, changed, unchanged,
not_modified, carried; listings missing now are gone unless the run drifted. ``previous_pages``
gives a re-crawl the validators (ETag / Last-Modified) of the pages it fetched last time.
"""

from __future__ import annotations

import json
from datetime import datetime

import duckdb
import pandas as pd

from pipeline.crawl.runner import DISCOVERY_KEY, CrawlOutcome, CrawlTarget
from pipeline.db.store import LATEST_CRAWLS, transaction
from spiders.items import is_filled

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
        f: round(sum(is_filled(item.get(f)) for item in items) / n, 4)
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
        f"""SELECT run_id, items + coalesce(carried, 0), field_coverage
            FROM crawl_runs JOIN ({LATEST_CRAWLS}) USING (site_id, run_id) WHERE site_id = ?""",
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


def previous_pages(con: duckdb.DuckDBPyConnection, site_id: str) -> dict[str, dict]:
    """{url: {"etag", "last_modified"}} of the site's latest successful run: what a re-crawl
    sends back as If-None-Match / If-Modified-Since."""
    rows = con.execute(
        f"""WITH latest AS (SELECT run_id FROM ({LATEST_CRAWLS}) WHERE site_id = ?)
           SELECT source_url, item->>'$.extras.http.etag', item->>'$.extras.http.last_modified'
           FROM raw_listings JOIN latest USING (run_id)""",
        [site_id],
    ).fetchall()
    return {
        url: {k: v for k, v in (("etag", etag), ("last_modified", modified)) if v}
        for url, etag, modified in rows
        if etag or modified
    }


def previous_discovery(con: duckdb.DuckDBPyConnection, site_id: str) -> dict | None:
    """What the site's latest successful zero-config crawl learned (its URL templates), for the
    next crawl to start from."""
    row = con.execute(
        """SELECT discovery FROM crawl_runs WHERE site_id = ? AND status = 'ok'
           AND discovery IS NOT NULL ORDER BY started_at DESC LIMIT 1""",
        [site_id],
    ).fetchone()
    return json.loads(row[0]) if row else None


def previous_pages_for(
    con: duckdb.DuckDBPyConnection, targets: list[CrawlTarget]
) -> dict[str, dict[str, dict]]:
    """{site_id: previous_pages(...)} for ``crawl_sites(previous=...)``: an incremental re-crawl.
    A site crawled zero-config also gets what its last crawl learned (key ``DISCOVERY_KEY``)."""
    previous = {}
    for target in targets:
        previous[target.site_id] = previous_pages(con, target.site_id)
        if learned := previous_discovery(con, target.site_id):
            previous[target.site_id] = {**previous[target.site_id], DISCOVERY_KEY: learned}
    return previous


def ingest_outcomes(con: duckdb.DuckDBPyConnection, outcomes: list[CrawlOutcome]) -> None:
    """Store each successful crawl (one transaction per site); failed ones leave no trace."""
    for outcome in outcomes:
        if not outcome.ok:
            continue
        ingest_crawl(
            con,
            run_id=outcome.run_id,
            site_id=outcome.target.site_id,
            start_url=outcome.target.start_url,
            items=outcome.items,  # read from the feed now: one site's listings in memory
            stats={**outcome.stats, "credcheck/bad_feed_lines": outcome.bad_feed_lines},
            started_at=outcome.started_at,
            finished_at=outcome.finished_at,
            status="ok",
            unchanged_urls=outcome.unchanged_urls,
            discovery=outcome.discovery,
        )
