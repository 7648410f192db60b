"""Faults and politeness against the fixture server: the crawl completes through every fault,
counts each one, extracts what is extractable and never leaves the site; retries back off,
per-domain concurrency holds, AutoThrottle slows down for a slow server, and every request names
the bot with a contact URL."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.crawl.ingest import errors_by_kind
from pipeline.demo.faults import HUGE_PATH, KINDS, LOOP_PATHS, OFFSITE_URLS, TIMEOUT_SLEEP
from pipeline.demo.server import serve_sites
from spiders import settings as project_settings

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "sites"
MERCY = json.loads((FIXTURES / "mercy-general.json").read_text(encoding="utf-8"))


def crawl(tmp: Path, url: str, *settings: str) -> tuple[list[dict], dict]:
    """Zero-config crawl of ``url`` in a child Scrapy process; the feed's items and the stats."""
    feed, stats = tmp / "items.jsonl", tmp / "stats.json"
    args = [arg for pair in settings for arg in ("-s", pair)]
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "directory", "-a", f"url={url}", "-O", str(feed),
         "-s", f"CREDCHECK_STATS_PATH={stats}", *args],
        cwd=REPO_ROOT, env=os.environ, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [json.loads(line) for line in feed.read_text().splitlines()], json.loads(
        stats.read_text()
    )


def ref_of(listing: dict) -> str:
    """A zero-config listing's ref: what varies in its profile URL (``grace-m-patel-10482``)."""
    return listing["path"].rsplit("/", 1)[-1]


@pytest.fixture(scope="module")
def faulty_crawl(tmp_path_factory):
    log: list[dict] = []
    with serve_sites([FIXTURES / "mercy-general.json"], access_log=log, faults=True) as urls:
        base = urls["mercy-general"]
        items, stats = crawl(
            tmp_path_factory.mktemp("faults"), base + "/",
            "DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
            "DOWNLOAD_TIMEOUT=1", "RETRY_TIMES=2", "RETRY_BACKOFF_BASE=0.4",
        )  # fmt: skip
    return items, stats, log, base


def test_the_crawl_completes_through_every_fault_and_extracts_what_is_extractable(faulty_crawl):
    items, stats, _, _ = faulty_crawl
    assert stats["finish_reason"] == "finished"
    listings = MERCY["listings"]
    lost = ref_of(listings[KINDS.index("timeout")])  # never answers in time: nothing to read
    assert sorted(i["ref"] for i in items) == sorted(ref_of(x) for x in listings if ref_of(x) != lost)
    by_ref = {item["ref"]: item for item in items}
    for kind in ("http_503_burst", "http_429", "slow", "truncated", "wrong_charset",
                 "missing_charset", "malformed"):  # fmt: skip
        listing = listings[KINDS.index(kind)]
        item = by_ref[ref_of(listing)]
        assert item["specialties"] == listing["specialties"], kind
        assert item["given_name"] in (None, listing["given_name"]), kind
    # Broken JSON-LD: the HTML sections still give the listing.
    assert by_ref[ref_of(listings[KINDS.index("malformed")])]["extractor"] == "html"
    # The truncated body kept its head, where the JSON-LD is.
    assert by_ref[ref_of(listings[KINDS.index("truncated")])]["extractor"] == "jsonld"


def test_every_fault_is_counted_by_kind(faulty_crawl):
    _, stats, _, _ = faulty_crawl
    errors = errors_by_kind(stats)
    assert errors["http_5xx"] == 2 and errors["http_429"] == 1
    assert errors["timeout"] == 3  # the first attempt and both retries
    assert errors["truncated"] == 1 and errors["charset_repaired"] == 1
    assert (errors["charset_undeclared"], errors["malformed_jsonld"]) == (1, 1), errors
    assert (errors["redirect_loop"], errors["too_large"]) == (len(LOOP_PATHS), 1), errors
    # Each off-site URL is announced twice, in the sitemap and on the home page (site.py).
    assert errors["offsite_filtered"] == 2 * len(OFFSITE_URLS), errors


def test_a_wrong_charset_is_repaired_and_no_link_leaves_the_site(faulty_crawl):
    items, _, log, _ = faulty_crawl
    listing = MERCY["listings"][KINDS.index("wrong_charset")]
    item = next(i for i in items if i["ref"] == ref_of(listing))
    assert item["name"] in (listing["display_name"], " ".join(
        p for p in (listing["given_name"], listing["additional_name"], listing["family_name"]) if p
    ))  # fmt: skip
    assert "Ã" not in json.dumps(item, ensure_ascii=False)
    # Every request went to this site; the off-site links were filtered before any download.
    assert all(entry["site_id"] == "mercy-general" for entry in log)
    assert not [e for e in log if "elsewhere" in e["path"] or "other.example" in e["path"]]
    assert [e["path"] for e in log].count(HUGE_PATH) == 1  # cancelled, not retried
    assert {e["path"] for e in log} >= set(LOOP_PATHS)


def test_retries_back_off_exponentially(faulty_crawl):
    _, stats, log, _ = faulty_crawl
    path = MERCY["listings"][KINDS.index("http_503_burst")]["path"]
    times = [e["time"] for e in log if e["path"] == path]
    assert len(times) == 3  # 503, 503, then the page
    first_gap, second_gap = times[1] - times[0], times[2] - times[1]
    assert first_gap >= 0.4 * 0.95 and second_gap >= 0.8 * 0.95, (first_gap, second_gap)
    assert stats["credcheck/retry_backoff"] == 2
    timeouts = [e["time"] for e in log if e["path"] == MERCY["listings"][3]["path"]]
    assert len(timeouts) == 3 and TIMEOUT_SLEEP > 1  # the timed-out page was retried too


def max_in_flight(starts: list[float], latency: float) -> int:
    """Most requests the server was answering at once (each takes ``latency`` seconds)."""
    starts = sorted(starts)
    return max(sum(1 for t in starts[i:] if t < start + latency * 0.9)
               for i, start in enumerate(starts))  # fmt: skip


def test_per_domain_concurrency_holds_and_every_request_names_the_bot(tmp_path):
    log: list[dict] = []
    with serve_sites([FIXTURES / "mercy-general.json"], access_log=log, latency=0.25) as urls:
        items, _ = crawl(
            tmp_path, urls["mercy-general"] + "/robots.txt", "DOWNLOAD_DELAY=0",
            "AUTOTHROTTLE_ENABLED=False", "CONCURRENT_REQUESTS_PER_DOMAIN=2",
            "CONCURRENT_REQUESTS=16",
        )  # fmt: skip
    assert len(items) == len(MERCY["listings"])
    assert max_in_flight([e["time"] for e in log], 0.25) == 2
    agents = {e["user_agent"] for e in log}
    assert agents == {project_settings.USER_AGENT} and "+https://" in project_settings.USER_AGENT


def test_autothrottle_spaces_requests_to_a_slow_server(tmp_path):
    log: list[dict] = []
    with serve_sites([FIXTURES / "mercy-general.json"], access_log=log, latency=0.3) as urls:
        crawl(
            tmp_path, urls["mercy-general"] + "/robots.txt", "DOWNLOAD_DELAY=0.02",
            "AUTOTHROTTLE_ENABLED=True", "AUTOTHROTTLE_START_DELAY=0.02",
            "AUTOTHROTTLE_TARGET_CONCURRENCY=1", "CONCURRENT_REQUESTS_PER_DOMAIN=4",
        )  # fmt: skip
    starts = sorted(e["time"] for e in log)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    later = sorted(gaps[len(gaps) // 2 :])
    # Without AutoThrottle, 4 slots and a 0.02 s delay would start requests ~0.02 s apart; with it,
    # the delay climbs towards latency / target concurrency = 0.3 s.
    assert later[len(later) // 2] >= 0.2, later
