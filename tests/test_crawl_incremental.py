"""Nightly re-crawls against a live fixture site that changes between runs: conditional requests
(304s), change accounting per run in crawl_runs, drift that does not make listings gone, and an
interrupted crawl that resumes from its JOBDIR. Real Scrapy child processes, real DuckDB."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import duckdb
import pytest

from pipeline.crawl.ingest import drift_reason, ingest_outcomes, previous_pages
from pipeline.crawl.runner import (
    CrawlTarget,
    crawl_site,
    crawl_sites,
)
from pipeline.db.store import open_db
from pipeline.demo.server import serve_sites
from tests.conftest import run_cli

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "sites"
LOOPBACK = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False",
            "CONCURRENT_REQUESTS_PER_DOMAIN": "8"}  # fmt: skip


def site_content(name: str) -> dict:
    return copy.deepcopy(json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8")))


@pytest.fixture
def live_site(tmp_path, monkeypatch):
    """mercy-general on loopback, changeable between crawls, with a registry entry naming it."""
    log: list[dict] = []
    with serve_sites([site_content("mercy-general")], access_log=log) as urls:
        registry = tmp_path / "sites.toml"
        registry.write_text(
            f'[sites.mercy]\nname = "Mercy"\nplatform = "schemaorg_sitemap"\n'
            f'start_urls = ["{urls["mercy-general"]}/robots.txt"]\n'
        )
        monkeypatch.setenv("CREDCHECK_SITES", str(registry))
        yield urls.sites["mercy-general"], urls["mercy-general"], log


def crawl_and_ingest(con, runs: Path, target: CrawlTarget, incremental: bool = True) -> dict:
    previous = {target.site_id: previous_pages(con, target.site_id)} if incremental else None
    [outcome] = crawl_sites([target], runs_dir=runs, settings=LOOPBACK, previous=previous)
    assert outcome.ok, outcome.error
    ingest_outcomes(con, [outcome])
    row = con.execute(
        """SELECT run_id, items, pages_fetched, not_modified, new_listings, changed, unchanged,
                  gone, carried, drift, drift_reason, field_coverage, errors
           FROM crawl_runs WHERE run_id = ?""",
        [outcome.run_id],
    ).fetchone()
    keys = ("run_id", "items", "pages_fetched", "not_modified", "new", "changed", "unchanged",
            "gone", "carried", "drift", "drift_reason", "field_coverage", "errors")  # fmt: skip
    return dict(zip(keys, row))


def test_recrawl_asks_conditionally_and_counts_new_changed_unchanged_and_gone(live_site, tmp_path):
    site, base, log = live_site
    con = open_db(tmp_path / "crawl.duckdb")
    target = CrawlTarget("mercy", "mercy", {}, base + "/robots.txt")
    listings = site.listings
    first = crawl_and_ingest(con, tmp_path / "runs", target)
    assert (first["items"], first["new"], first["gone"], first["drift"]) == (24, 24, 0, False)
    assert first["pages_fetched"] >= 24 and first["not_modified"] == 0
    coverage = json.loads(first["field_coverage"])
    assert coverage["specialties"] == 1.0 and 0 < coverage["npi"] < 1

    # Overnight: one profile edited, one doctor left, one joined.
    edited = {**listings[0], "specialties": ["Sleep Medicine"]}
    joined = {**listings[2], "id": "77777", "path": "/doctors/new-doctor-77777",
              "given_name": "Nadia", "display_name": "Dr. Nadia New, MD"}  # fmt: skip
    site.set_listings([edited, *listings[2:], joined])
    log.clear()
    second = crawl_and_ingest(con, tmp_path / "runs", target)
    assert (second["new"], second["changed"], second["gone"]) == (1, 1, 1)
    assert second["not_modified"] == 22 and second["unchanged"] == 0 and not second["drift"]
    profile_hits = [e for e in log if e["path"].startswith("/doctors/")]
    assert sum(e["status"] == 304 for e in profile_hits) == 22
    assert all(e["if_none_match"] for e in profile_hits if e["path"] != joined["path"])
    # The run's raw listings are the whole directory: unchanged ones copied forward.
    rows = dict(
        con.execute(
            "SELECT change, count(*) FROM raw_listings WHERE run_id = ? GROUP BY 1",
            [second["run_id"]],
        ).fetchall()
    )
    assert rows == {"not_modified": 22, "changed": 1, "new": 1}

    # A full re-crawl without validators: same content hashes mean unchanged, not changed.
    third = crawl_and_ingest(con, tmp_path / "runs", target, incremental=False)
    assert (third["unchanged"], third["changed"], third["new"], third["gone"]) == (24, 0, 0, 0)


def test_a_run_whose_yield_collapses_is_drift_and_its_missing_listings_are_not_gone(
    live_site, tmp_path
):
    site, base, _ = live_site
    con = open_db(tmp_path / "crawl.duckdb")
    target = CrawlTarget("mercy", "mercy", {}, base + "/robots.txt")
    crawl_and_ingest(con, tmp_path / "runs", target)
    site.set_listings(site.listings[:4])  # a redesign hides most profiles from the sitemap
    drifted = crawl_and_ingest(con, tmp_path / "runs", target)
    assert drifted["drift"] and "yield fell" in drifted["drift_reason"]
    assert drifted["gone"] == 0 and drifted["carried"] == 24
    kept = con.execute(
        "SELECT count(DISTINCT ref) FROM raw_listings WHERE run_id = ?", [drifted["run_id"]]
    ).fetchone()[0]
    assert kept == 24  # the staged directory still has everyone


def test_drift_by_field_coverage():
    before = {"specialties": 1.0, "npi": 0.25, "education": 0.9}
    assert drift_reason(24, {"specialties": 1.0, "npi": 0.0, "education": 0.85}, 24, before) is None
    reason = drift_reason(24, {"specialties": 0.1, "npi": 0.25, "education": 0.9}, 24, before)
    assert reason == "field coverage fell: specialties 100% -> 10%"
    assert drift_reason(11, {}, 24, {}) == "yield fell from 24 to 11 listings"


def test_an_interrupted_crawl_resumes_from_its_jobdir(tmp_path, monkeypatch):
    log: list[dict] = []
    with serve_sites([FIXTURES / "st-lukes.json"], access_log=log) as urls:
        registry = tmp_path / "sites.toml"
        registry.write_text(
            f'[sites.lukes]\nname = "St Lukes"\nplatform = "html_directory"\n'
            f'start_urls = ["{urls["st-lukes"]}/find-a-doctor"]\n'
        )
        monkeypatch.setenv("CREDCHECK_SITES", str(registry))
        target = CrawlTarget("lukes", "lukes", {}, urls["st-lukes"] + "/find-a-doctor")
        slow = {**LOOPBACK, "CONCURRENT_REQUESTS_PER_DOMAIN": "1"}
        stopped = crawl_site(target, tmp_path / "runs", {**slow, "CLOSESPIDER_ITEMCOUNT": "10"})
        assert stopped.error and "interrupted" in stopped.error
        assert (tmp_path / "runs" / "jobs" / "lukes" / "requests.queue").exists()
        first_part = {e["path"] for e in log if e["path"].startswith("/physician-directory/")}
        log.clear()
        resumed = crawl_site(target, tmp_path / "runs", slow)
    assert resumed.ok and resumed.resumed and resumed.run_id == stopped.run_id
    refs = {item["ref"] for item in resumed.items}  # the feed holds both parts
    assert len(refs) == 45
    again = {e["path"] for e in log if e["path"].startswith("/physician-directory/")}
    assert len(first_part) >= 10 and not first_part & again  # nothing fetched twice
    assert not (tmp_path / "runs" / "jobs" / "lukes").exists()  # finished: nothing to resume


def test_credcheck_crawl_recrawls_conditionally_unless_told_full(live_site, tmp_path):
    _, _, log = live_site
    db, runs = tmp_path / "cli.duckdb", tmp_path / "runs"
    loopback = [arg for name, value in LOOPBACK.items() for arg in ("-s", f"{name}={value}")]

    def crawl(*extra: str) -> list[int]:
        log.clear()
        run_cli("crawl", "mercy", *loopback, "--runs-dir", str(runs), "--db", str(db), *extra)
        return [e["status"] for e in log if e["path"].startswith("/doctors/")]

    assert crawl().count(200) == 24  # the first crawl fetches every profile
    assert crawl().count(304) == 24  # nothing changed: every profile answers Not Modified
    con = duckdb.connect(str(tmp_path / "cli.work.duckdb"), read_only=True)
    latest = con.execute(
        "SELECT not_modified, unchanged, gone FROM crawl_runs ORDER BY started_at DESC LIMIT 1"
    ).fetchone()
    con.close()
    assert latest == (24, 0, 0)
    assert crawl("--full").count(200) == 24  # --full asks unconditionally
