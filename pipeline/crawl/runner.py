"""Run Scrapy crawls in child processes and ingest their feeds.

Twisted's reactor cannot be restarted inside one Python process, so each site is crawled by
``python -m scrapy crawl`` in its own process, writing a JSON Lines feed and a stats file into a
per-run folder. Sites run in parallel (never one site split across processes, which would
double the load on it); the database is written only after a crawl finished, in one transaction.

Re-crawls are incremental: the previous run's page validators (ETag / Last-Modified, see
``previous_pages``) go to the spider, which asks with conditional requests and reports the pages
it found unchanged; ingest copies those forward. A crawl that stops before it finished (killed,
or closed early) keeps its Scrapy JOBDIR under ``<runs_dir>/jobs/<site>``, and the next crawl of
that site resumes it into the same run folder instead of starting over.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.config import REPO_ROOT, CredcheckError
from pipeline.db.store import new_id
from spiders.registry import RegistryError, SiteEntry, load_registry

ZERO_CONFIG_SPIDER = "directory"
DISCOVERY_KEY = "\0discovery"  # in a site's previous pages: not a URL, so never a page


@dataclass(frozen=True)
class CrawlTarget:
    site_id: str
    spider: str
    spider_args: dict[str, str] = field(default_factory=dict)
    start_url: str | None = None


@dataclass
class CrawlOutcome:
    target: CrawlTarget
    run_id: str
    run_dir: Path
    items: list[dict]
    stats: dict
    started_at: datetime
    finished_at: datetime
    returncode: int
    bad_feed_lines: int
    error: str | None = None
    unchanged_urls: list[str] = field(default_factory=list)
    resumed: bool = False
    discovery: dict | None = None  # zero-config crawls: what the spider learned about the site

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()


def registered_sites() -> dict[str, SiteEntry]:
    """The site registry (``CREDCHECK_SITES`` or ``spiders/sites.toml``), checked."""
    try:
        return load_registry()
    except RegistryError as exc:
        raise CredcheckError(str(exc)) from exc


def site_id_for_url(url: str) -> str:
    """Zero-config site id: the URL's host and port (``127.0.0.1:8081``)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CredcheckError(f"not an http(s) URL: {url!r}")
    return parts.netloc


def plan_targets(site_ids: Iterable[str], urls: Iterable[str]) -> list[CrawlTarget]:
    """Registry sites by id, plus zero-config crawls of start URLs."""
    site_ids, urls = list(site_ids), list(urls)
    targets = []
    if site_ids:
        registry = registered_sites()
        unknown = [s for s in site_ids if s not in registry]
        if unknown:
            raise CredcheckError(
                f"unknown site id(s): {', '.join(unknown)}; `credcheck sites` lists the registry"
            )
        for site_id in site_ids:
            targets.append(CrawlTarget(site_id, site_id, {}, registry[site_id].start_urls[0]))
    for url in urls:
        site_id = site_id_for_url(url)
        targets.append(
            CrawlTarget(site_id, ZERO_CONFIG_SPIDER, {"url": url, "site_id": site_id}, url)
        )
    return targets


def _failure_reason(stats: dict, items: int, returncode: int) -> str | None:
    if returncode != 0:
        return f"scrapy exited with code {returncode}"
    if items:
        return None
    errors = {
        k.rsplit("/", 1)[-1].rsplit(".", 1)[-1]: v
        for k, v in stats.items()
        if k.startswith("downloader/exception_type_count/")
    }
    if errors:
        return (
            "could not fetch the site (" + ", ".join(f"{k} x{v}" for k, v in errors.items()) + ")"
        )
    if not stats.get("response_received_count"):
        return "no page could be fetched"
    return "no listings found"






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


def _job_dir(runs_dir: Path, site_id: str) -> Path:
    return runs_dir / "jobs" / re.sub(r"[^\w.-]+", "_", site_id)


def crawl_site(
    target: CrawlTarget,
    runs_dir: Path,
    settings: dict[str, str],
    previous: dict[str, dict] | None = None,
) -> CrawlOutcome:
    """Crawl one site in a child Scrapy process; the feed and log land in a run folder.

    An unfinished earlier crawl of the site (its JOBDIR still there) is resumed, appending to
    that crawl's feed; otherwise a new run starts (with ``previous`` pages asked conditionally).
    """
    job_dir = _job_dir(runs_dir, target.site_id)
    marker = job_dir / "credcheck_run_dir"
    resumed = marker.exists()
    if resumed:
        run_dir = Path(marker.read_text().strip())
        run_id = run_dir.name
    else:
        run_id = new_id("crawl")
        run_dir = runs_dir / run_id
        run_dir.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(job_dir, ignore_errors=True)
        job_dir.mkdir(parents=True)
        marker.write_text(str(run_dir))
        pages = dict(previous or {})
        learned = pages.pop(DISCOVERY_KEY, None)
        (run_dir / "previous.json").write_text(json.dumps({"pages": pages, "discovery": learned}))
    feed, stats_path, log_path, unchanged_path, discovery_path = (
        run_dir / "items.jsonl",
        run_dir / "stats.json",
        run_dir / "crawl.log",
        run_dir / "unchanged.json",
        run_dir / "discovery.json",
    )
    command = [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        target.spider,
        "-o" if resumed else "-O",  # a resumed crawl adds to the feed it started
        str(feed),
        "-s",
        f"CREDCHECK_STATS_PATH={stats_path}",
        "-s",
        f"CREDCHECK_UNCHANGED_PATH={unchanged_path}",
        "-s",
        f"CREDCHECK_PREVIOUS_PATH={run_dir / 'previous.json'}",
        "-s",
        f"JOBDIR={job_dir}",
        "-s",
        f"LOG_FILE={log_path}",
        "-s",
        f"CREDCHECK_DISCOVERY_PATH={discovery_path}",
    ]
    for name, value in target.spider_args.items():
        command += ["-a", f"{name}={value}"]
    for name, value in settings.items():
        command += ["-s", f"{name}={value}"]
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "spiders.settings"}
    started = datetime.now(UTC).replace(tzinfo=None)
    proc = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False
    )
    finished = datetime.now(UTC).replace(tzinfo=None)
    stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
    items, bad_lines = read_feed(feed)
    unchanged = json.loads(unchanged_path.read_text()) if unchanged_path.exists() else []
    discovery = json.loads(discovery_path.read_text()) if discovery_path.exists() else None
    # Listings found unchanged (304s) count as found: an unchanged site is a good crawl.
    error = _failure_reason(stats, len(items) + len(unchanged), proc.returncode)
    if proc.returncode != 0 and proc.stderr.strip():
        error += ": " + proc.stderr.strip().splitlines()[-1]
    reason = stats.get("finish_reason")
    if reason != "finished" and (job_dir / "requests.queue").exists():
        # Stopped part-way (killed, or closed early): keep the JOBDIR; the next crawl resumes.
        error = f"interrupted ({reason or 'killed'}); the next crawl of the site resumes it"
    else:
        shutil.rmtree(job_dir, ignore_errors=True)
    if resumed:
        stats["credcheck/resumed"] = 1
    return CrawlOutcome(
        target, run_id, run_dir, items, stats, started, finished, proc.returncode, bad_lines,
        error, unchanged, resumed, discovery,
    )  # fmt: skip


def crawl_sites(
    targets: list[CrawlTarget],
    *,
    runs_dir: Path,
    settings: dict[str, str] | None = None,
    parallel: int = 2,
    progress: Callable[[CrawlOutcome], None] = lambda outcome: None,
    previous: dict[str, dict[str, dict]] | None = None,
) -> list[CrawlOutcome]:
    """Crawl each target, sites in parallel; nothing is written to the database here.

    ``previous``: {site_id: previous_pages(...)} for conditional re-crawls (optional).
    """
    settings = settings or {}
    previous = previous or {}
    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        futures = [
            pool.submit(crawl_site, t, runs_dir, settings, previous.get(t.site_id)) for t in targets
        ]
        outcomes = []
        for future in futures:
            outcomes.append(future.result())
            progress(outcomes[-1])
    return outcomes

