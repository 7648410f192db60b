"""Many sites at once in one crawl process per core (spiders/fleet.py, pipeline.crawl.runner),
checked from the fixture server's request log: every site within its own politeness (delay,
robots Crawl-delay, Retry-After) while all are crawled together; the pace returns when a pause
ends (AutoThrottle on or off); a failing site, a site that cannot start and a crawl process
killed with SIGKILL take nothing from the others. Real fixture servers, real Scrapy processes.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pipeline.crawl.ingest import ingest_outcomes
from pipeline.crawl.runner import CrawlTarget, crawl_sites
from pipeline.db.store import open_db
from pipeline.demo.faults import RateLimits
from pipeline.demo.fleet import fleet_sites, politeness, retry_after_of
from pipeline.demo.run import write_demo_registry
from pipeline.demo.server import serve_sites

# The server logs when each request reached the host (the kernel's stamp), but a crawl process
# on a loaded machine may still send a request's bytes a little after its download started
# (115 ms was seen at load 12, with the server's own read times): allow one gap this much jitter,
# and two gaps in a row half of it each. A crawler ignoring a Crawl-delay of 0.7 s (pacing at
# 0.3 s), varying its delay by Scrapy's default +-50%, or cutting a Retry-After short would
# still show.
JITTER = 0.15


def serve_fleet(sites: list[dict], log: list[dict], tmp_path: Path, monkeypatch, **faults):
    """Serve ``sites`` with RateLimits(**faults) and point the registry at them."""
    plan = (lambda site: RateLimits(site, **faults)) if faults else False
    server = serve_sites(sites, access_log=log, faults=plan)
    urls = server.__enter__()
    registry = tmp_path / "sites.toml"
    write_demo_registry(registry, {s["site_id"]: s for s in sites}, urls)
    monkeypatch.setenv("CREDCHECK_SITES", str(registry))
    return server, urls


def timeline(log: list[dict], site_id: str) -> list[tuple]:
    """(gap, path, status, fault) of a site's requests, for a failure's message."""
    entries = sorted((e for e in log if e["site_id"] == site_id), key=lambda e: e["time"])
    return [(round(b["time"] - a["time"], 3), b["path"], b["status"], b["fault"])
            for a, b in itertools.pairwise(entries)]  # fmt: skip


def targets_for(sites: list[dict]) -> list[CrawlTarget]:
    return [CrawlTarget(s["site_id"], s["site_id"], {}, None) for s in sites]


def refs(outcome) -> list[str]:
    return sorted(item["ref"] for item in outcome.items)


def expected_refs(site: dict) -> list[str]:
    return sorted(listing["id"] for listing in site["listings"])


def test_many_sites_at_once_each_within_its_own_politeness(tmp_path, monkeypatch):
    sites = fleet_sites(12, profiles=4, seed=3)
    slow = {s["site_id"] for s in sites[::3]}  # robots.txt asks these for 0.7 s
    log: list[dict] = []
    delay = 0.3

    def plan(site):
        return RateLimits(
            site, seed=5, share=0.3, crawl_delay=0.7 if site.site_id in slow else None
        )

    server = serve_sites(sites, access_log=log, faults=plan)
    urls = server.__enter__()
    try:
        registry = tmp_path / "sites.toml"
        write_demo_registry(registry, {s["site_id"]: s for s in sites}, urls)
        monkeypatch.setenv("CREDCHECK_SITES", str(registry))
        outcomes = crawl_sites(
            targets_for(sites), runs_dir=tmp_path / "runs",
            settings={"DOWNLOAD_DELAY": str(delay), "AUTOTHROTTLE_START_DELAY": str(delay),
                      "RETRY_BACKOFF_BASE": "0.5"},
        )  # fmt: skip
    finally:
        server.__exit__(None, None, None)

    for site, outcome in zip(sites, outcomes, strict=True):
        assert outcome.ok, (site["site_id"], outcome.error)
        assert refs(outcome) == expected_refs(site), site["site_id"]
    seen = politeness(log, delay)
    asked = [e for e in log if retry_after_of(e)]
    assert len(asked) >= 8 and any(e["fault"] == "busy" for e in log)  # the faults were met
    for site_id, site in seen.items():
        wanted = 0.7 if site_id in slow else delay
        assert site.closest >= wanted - JITTER, (site_id, wanted, timeline(log, site_id))
        assert site.closest_pair >= wanted - JITTER / 2, (site_id, timeline(log, site_id))
        # On average (a late stamp on the first or last request moves it by JITTER / gaps).
        average = (site.last - site.first) / (site.requests - 1)
        assert average >= wanted - JITTER / (site.requests - 1), (site_id, average)
        assert site.closest_after_pause() >= -JITTER, (site_id, site.pauses)
    # All at once: every site had started before any finished; one process per core at most.
    assert max(s.first for s in seen.values()) < min(s.last for s in seen.values())
    plans_run = list((tmp_path / "runs").glob("fleet-*/process-*.plan.json"))
    assert 1 <= len(plans_run) <= (os.cpu_count() or 1)
    # Everything per site is as for one site: a crawl_runs row, a log, listings.
    con = open_db(tmp_path / "work.duckdb")
    ingest_outcomes(con, outcomes)
    rows = con.execute("SELECT site_id, items, status FROM crawl_runs ORDER BY site_id").fetchall()
    assert rows == [(s["site_id"], len(s["listings"]), "ok") for s in sites]
    assert all("Spider opened" in (o.run_dir / "crawl.log").read_text() for o in outcomes)


@pytest.mark.parametrize("autothrottle", ["True", "False"])
def test_the_pace_returns_when_a_pause_ends(tmp_path, monkeypatch, autothrottle):
    [site] = fleet_sites(1, profiles=14, seed=11)
    log: list[dict] = []
    delay = 0.25
    server, _ = serve_fleet([site], log, tmp_path, monkeypatch, seed=2, share=0.2)
    try:
        [outcome] = crawl_sites(
            targets_for([site]), runs_dir=tmp_path / "runs",
            settings={"DOWNLOAD_DELAY": str(delay), "AUTOTHROTTLE_ENABLED": autothrottle,
                      "AUTOTHROTTLE_START_DELAY": str(delay), "RETRY_BACKOFF_BASE": "0.5"},
        )  # fmt: skip
    finally:
        server.__exit__(None, None, None)
    assert outcome.ok and refs(outcome) == expected_refs(site)
    log.sort(key=lambda e: e["time"])
    faults = [e["fault"] for e in log if e["fault"]]
    assert sum(f.startswith("retry_after:") for f in faults) >= 2 and "busy" in faults, faults
    gaps_after_pause, paced = [], []
    for before, after in itertools.pairwise(log):
        gap = after["time"] - before["time"]
        if retry_after_of(before):
            gaps_after_pause.append((retry_after_of(before), gap))
        elif not before["fault"]:
            paced.append(gap)
    # Every pause lasted as long as asked ...
    assert all(gap >= asked - JITTER for asked, gap in gaps_after_pause), gaps_after_pause
    # ... and then the pace was the delay again, not the pause (nor AutoThrottle easing from it).
    assert min(paced) >= delay - JITTER
    assert statistics.median(paced) <= delay * 1.3, paced
    assert sorted(paced)[int(len(paced) * 0.9)] <= delay * 2, paced


def fleet_pids(runs_dir: Path) -> list[int]:
    """Crawl processes whose plan lies under ``runs_dir``."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"spiders.fleet" in cmdline and any(str(runs_dir).encode() in a for a in cmdline):
            pids.append(int(proc.name))
    return pids


def test_a_failing_site_or_a_killed_process_takes_nothing_from_the_others(tmp_path, monkeypatch):
    sites = fleet_sites(4, profiles=4, seed=4)
    log: list[dict] = []
    runs = tmp_path / "runs"
    server, _ = serve_fleet(sites, log, tmp_path, monkeypatch)
    registry = Path(os.environ["CREDCHECK_SITES"])
    registry.write_text(
        registry.read_text() + '\n[sites.gone]\nname = "Gone"\nplatform = "html_directory"\n'
        'start_urls = ["http://127.0.0.1:9/find-a-doctor"]\n'
    )
    targets = [*targets_for(sites), CrawlTarget("gone", "gone", {}, None),
               CrawlTarget("no-such-spider", "no-such-spider", {}, None)]  # fmt: skip
    result: dict = {}

    def crawl():
        result["outcomes"] = crawl_sites(
            targets, runs_dir=runs, settings={"DOWNLOAD_DELAY": "0.2", "RETRY_TIMES": "0"}
        )

    thread = threading.Thread(target=crawl)
    try:
        thread.start()
        deadline = time.monotonic() + 120
        while not [e for e in log if e["path"].startswith("/doctors/")]:
            assert time.monotonic() < deadline and thread.is_alive(), "no profile was fetched"
            time.sleep(0.05)
        victims = fleet_pids(runs)
        assert victims
        os.kill(victims[0], signal.SIGKILL)  # mid-crawl: its sites are crawled again
        thread.join(timeout=300)
    finally:
        server.__exit__(None, None, None)
    assert not thread.is_alive()
    *good, gone, nonesuch = result["outcomes"]
    for site, outcome in zip(sites, good, strict=True):
        assert outcome.ok, (site["site_id"], outcome.error)
        assert refs(outcome) == expected_refs(site), site["site_id"]  # each listing once
    assert not gone.ok and "could not fetch" in gone.error
    assert not nonesuch.ok and "could not start" in nonesuch.error
    # The killed process's sites ran again; the others' were not touched.
    assert len(list(runs.glob("fleet-*/process-*.plan.json"))) >= 2
    assert not list((runs / "jobs").glob("*/requests.queue"))  # nothing left half done


def test_a_crawl_process_whose_runner_is_gone_still_ends(tmp_path):
    """The runner reads the crawl process's events from a pipe. Killed (by a cron timeout, a
    kill of its pid alone), it leaves the process writing to nobody: the process starts no
    more sites and ends when its running ones close, rather than idling in the reactor
    forever (a "closed" event into the broken pipe used to stop it before it stopped the
    reactor)."""
    sites = [{"site_id": f"gone-{i}", "spider": "directory",
              "args": {"url": "http://127.0.0.1:9/", "site_id": f"gone-{i}"},
              "settings": {"CREDCHECK_LOG_PATH": str(tmp_path / f"gone-{i}.log")}}
             for i in range(3)]  # fmt: skip
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"settings": {"RETRY_TIMES": "0", "FLEET_PROCESS_SITES_AT_ONCE":
                                             "1", "LOG_FILE": str(tmp_path / "fleet.log")},
                                "sites": sites}))  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "spiders.fleet", str(plan)], cwd=Path(__file__).resolve().parents[1],
                            env={**os.environ, "SCRAPY_SETTINGS_MODULE": "spiders.settings"},
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert json.loads(proc.stdout.readline())["event"] == "started"
        proc.stdout.close()  # the runner is gone
        proc.wait(timeout=120)
    finally:
        proc.kill()
    started = (tmp_path / "fleet.log").read_text().count("the crawl runner is gone")
    assert started == 1  # the first site's close found no one listening; no other site began
