"""Zero-config end to end over the fixture platforms: `credcheck discover` learns each site, its
sites.toml entry crawls the same listings without sampling, and `credcheck crawl --url` stores
what it learned with the run and starts the next crawl from it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import pytest

from pipeline.demo.server import serve_sites
from tests.conftest import run_cli

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "sites"
SITES = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in FIXTURES.glob("*.json")}
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8"]  # fmt: skip


@pytest.fixture(scope="module")
def fixture_sites():
    with serve_sites(sorted(FIXTURES.glob("*.json"))) as urls:
        yield urls


@pytest.mark.parametrize(
    ("site", "start", "profile_template", "pagination"),
    [
        ("mercy-general", "/", "/doctors/{id}", None),
        ("st-lukes", "/", "/physician-directory/{id}", "?page="),
        ("northbridge-med", "/", "/faculty/{slug}", "a-z letters"),
    ],
)
def test_discover_learns_a_fixture_platform_and_its_entry_crawls_every_listing(
    fixture_sites, tmp_path, site, start, profile_template, pagination
):
    base = fixture_sites[site]
    out = run_cli("discover", base + start, "--format", "json", *FAST)
    report = json.loads(out.stdout)
    kept = {t["template"]: t for t in report["templates"] if t["kind"] in ("profile", "mixed")}
    assert profile_template in kept and kept[profile_template]["sample_yield"].get("profile")
    assert pagination is None or pagination in report["pagination"]
    assert len(report["samples"]) == 5 and all(s["name"] for s in report["samples"])
    text = run_cli("discover", base + start, *FAST).stdout
    for heading in ("directory entry:", "profile templates:", "sites.toml entry:",
                    "sample listings:", profile_template):  # fmt: skip
        assert heading in text
    # The entry, pasted into a registry, crawls the whole directory without any sampling.
    registry = tmp_path / "sites.toml"
    registry.write_text(run_cli("discover", base + start, "--format", "toml", *FAST).stdout)
    site_id = registry.read_text().split("]")[0].removeprefix("[sites.")
    feed = tmp_path / "items.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", site_id, "-O", str(feed), *FAST],
        cwd=REPO_ROOT, env={**os.environ, "CREDCHECK_SITES": str(registry)},
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    items = [json.loads(line) for line in feed.read_text().splitlines()]
    listings = SITES[site]["listings"]
    assert {urlsplit(item["source_url"]).path for item in items} == {x["path"] for x in listings}
    # One ref per page, read from what varies in the template (the id within the slug).
    assert len({item["ref"] for item in items}) == len(items) == len(listings)
    assert all(item["ref"].endswith(x["id"]) for item, x in zip(
        sorted(items, key=lambda i: urlsplit(i["source_url"]).path),
        sorted(listings, key=lambda x: x["path"]))
    )  # fmt: skip


def test_crawl_url_stores_what_it_learned_and_the_next_crawl_starts_from_it(
    fixture_sites, tmp_path
):
    url = fixture_sites["st-lukes"] + "/"
    db = tmp_path / "db.duckdb"
    for _ in range(2):
        run_cli("crawl", "--url", url, *FAST, "--full", "--runs-dir", str(tmp_path), "--db", str(db))
    con = duckdb.connect(str(tmp_path / "db.work.duckdb"), read_only=True)
    rows = con.execute("SELECT discovery FROM crawl_runs ORDER BY started_at").fetchall()
    first, second = (json.loads(row[0]) for row in rows)
    learned = {t["template"]: t for t in second["templates"]}
    assert learned["/physician-directory/{id}"]["learned"]
    assert learned["/physician-directory/{id}"]["sampled"] == 0  # no samples needed any more
    assert second["samples_used"] < first["samples_used"]
    count = con.execute(
        "SELECT count(*) FROM raw_listings WHERE run_id = (SELECT max(run_id) FROM crawl_runs)"
        " AND extractor <> 'card'"
    ).fetchone()[0]
    assert count == len(SITES["st-lukes"]["listings"])
