"""Run Scrapy crawls in child processes, many sites per process, and collect their feeds.

Twisted's reactor cannot be restarted inside one Python process, so crawls run in child
processes: ``python -m spiders.fleet PLAN``, each crawling many sites at once, one Scrapy crawler
per site (spiders/fleet.py). The sites are shared among as many processes as there are cores
(``FLEET_PROCESSES``), balanced by the pages each site had last time; a site is never split
across processes, which would double the load on it. Each site writes a JSON Lines feed and a
stats file into its own run folder; the database is written only after a crawl finished, in one
transaction per site (pipeline.crawl.ingest).

Re-crawls are incremental: the previous run's page validators (ETag / Last-Modified, see
``previous_pages``) go to the spider, which asks with conditional requests and reports the pages
it found unchanged; ingest copies those forward. A crawl that was stopped in good order
(Ctrl-C, a closing condition) keeps its Scrapy JOBDIR under ``<runs_dir>/jobs/<site>``, and the
next crawl of that site resumes it into the same run folder instead of starting over. A JOBDIR
left by a killed process is not resumed (Scrapy writes its queue's state only on close): the site
starts over. When a crawl process dies, the sites it had not finished are crawled again in a
fresh process, then, should that die too, each in a process of its own: one site that kills its
process cannot take the others with it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
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
    item_count: int
    stats: dict
    started_at: datetime
    finished_at: datetime
    close_reason: str | None  # Scrapy's (finished, shutdown, closespider_...); None: never closed
    bad_feed_lines: int
    error: str | None = None
    unchanged_urls: list[str] = field(default_factory=list)
    resumed: bool = False
    discovery: dict | None = None  # zero-config crawls: what the spider learned about the site

    @property
    def items(self) -> list[dict]:
        """The feed's listings, read when asked (a fleet's feeds need not all fit in memory)."""
        return read_feed(self.run_dir / "items.jsonl")[0]

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


def _failure_reason(stats: dict, items: int, close_reason: str | None) -> str | None:
    if close_reason is None:
        return "the crawl process ended before the site's crawl closed"
    if close_reason.startswith("error:"):
        return "the crawl could not start: " + close_reason.removeprefix("error:").strip()
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
    if stats.get("credcheck/render/still_empty"):
        return (
            f"no listings found: {stats['credcheck/render/still_empty']} page(s) are built by "
            "JavaScript and stayed empty when rendered (their scripts failed, or took longer "
            "than the download timeout)"
        )
    if stats.get("credcheck/render/no_browser"):
        return (
            f"no listings found: {stats['credcheck/render/no_browser']} page(s) are built by "
            "JavaScript and no browser is installed to render them (Debian: apt-get install "
            "chromium, or set CREDCHECK_CHROMIUM)"
        )
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


def _resumable(job_dir: Path) -> bool:
    """A JOBDIR closed in good order: Scrapy wrote its queue's state (``active.json``) on close.
    A killed crawl's queue is not readable: resuming it would skip every request it had seen."""
    return (job_dir / "requests.queue" / "active.json").exists()


@dataclass
class SiteJob:
    """One site's crawl as planned: its run folder, JOBDIR and what the fleet is told."""

    target: CrawlTarget
    run_id: str
    run_dir: Path
    job_dir: Path
    resumed: bool
    started_at: datetime = field(default_factory=lambda: _now())

    @property
    def feed(self) -> Path:
        return self.run_dir / "items.jsonl"

    def plan_entry(self) -> dict:
        run_dir = self.run_dir
        return {
            "site_id": self.target.site_id,
            "spider": self.target.spider,
            "args": dict(self.target.spider_args),
            "settings": {
                # a resumed crawl adds to the feed it started
                "FEEDS": {str(self.feed): {"format": "jsonlines", "overwrite": not self.resumed}},
                "JOBDIR": str(self.job_dir),
                "CREDCHECK_STATS_PATH": str(run_dir / "stats.json"),
                "CREDCHECK_UNCHANGED_PATH": str(run_dir / "unchanged.json"),
                "CREDCHECK_PREVIOUS_PATH": str(run_dir / "previous.json"),
                "CREDCHECK_DISCOVERY_PATH": str(run_dir / "discovery.json"),
                "CREDCHECK_LOG_PATH": str(run_dir / "crawl.log"),
            },
        }


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def prepare_site(target: CrawlTarget, runs_dir: Path, previous: dict | None) -> SiteJob:
    """The site's run folder and JOBDIR: an earlier crawl stopped in good order is resumed; one
    whose process was killed starts over in its own run folder; otherwise a new run starts
    (with ``previous`` pages asked conditionally)."""
    job_dir = _job_dir(runs_dir, target.site_id)
    marker = job_dir / "credcheck_run_dir"
    if marker.exists() and _resumable(job_dir):
        run_dir = Path(marker.read_text().strip())
        return SiteJob(target, run_dir.name, run_dir, job_dir, resumed=True)
    if marker.exists() and Path(marker.read_text().strip()).is_dir():
        run_dir = Path(marker.read_text().strip())  # killed part-way: the same run, from scratch
        for name in ("items.jsonl", "stats.json", "unchanged.json", "discovery.json"):
            (run_dir / name).unlink(missing_ok=True)
    else:
        run_dir = runs_dir / new_id("crawl")
        run_dir.mkdir(parents=True, exist_ok=True)
        pages = dict(previous or {})
        learned = pages.pop(DISCOVERY_KEY, None)
        (run_dir / "previous.json").write_text(json.dumps({"pages": pages, "discovery": learned}))
    shutil.rmtree(job_dir, ignore_errors=True)
    job_dir.mkdir(parents=True)
    marker.write_text(str(run_dir))
    return SiteJob(target, run_dir.name, run_dir, job_dir, resumed=False)


def collect_site(job: SiteJob, close_reason: str | None, died: str | None = None) -> CrawlOutcome:
    """What one site's crawl left in its run folder, judged; its JOBDIR kept only when the
    next crawl can resume it."""
    run_dir = job.run_dir
    stats_path, unchanged_path = run_dir / "stats.json", run_dir / "unchanged.json"
    discovery_path = run_dir / "discovery.json"
    stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
    items, bad_lines = read_feed(job.feed)
    unchanged = json.loads(unchanged_path.read_text()) if unchanged_path.exists() else []
    discovery = json.loads(discovery_path.read_text()) if discovery_path.exists() else None
    # Listings found unchanged (304s) count as found: an unchanged site is a good crawl.
    error = _failure_reason(stats, len(items) + len(unchanged), close_reason)
    if died and error:
        error += f" ({died})"
    reason = stats.get("finish_reason") or close_reason
    if close_reason is not None and reason != "finished" and _resumable(job.job_dir):
        # Stopped part-way in good order (Ctrl-C, closed early): the next crawl resumes it.
        error = f"interrupted ({reason}); the next crawl of the site resumes it"
    elif close_reason is not None:
        shutil.rmtree(job.job_dir, ignore_errors=True)
    if job.resumed:
        stats["credcheck/resumed"] = 1
    return CrawlOutcome(
        job.target, job.run_id, run_dir, len(items), stats, job.started_at, _now(), close_reason,
        bad_lines, error, unchanged, job.resumed, discovery,
    )  # fmt: skip


# ------------------------------------------------------------------------------ the fleet


def fleet_setting(settings: dict[str, str], name: str) -> int:
    """An integer FLEET_* setting: the run's override (-s), else spiders/settings.py."""
    from spiders import settings as project

    return int(settings.get(name, getattr(project, name)))


def plan_processes(
    jobs: list[SiteJob], settings: dict[str, str], weights: dict[str, int]
) -> list[list[SiteJob]]:
    """Share the sites among processes: one per core (``FLEET_PROCESSES`` to choose), never more
    than sites; heaviest first to the least loaded (by last run's pages), a site never split."""
    wanted = fleet_setting(settings, "FLEET_PROCESSES") or len(os.sched_getaffinity(0))
    shards: list[list[SiteJob]] = [[] for _ in range(max(1, min(wanted, len(jobs))))]
    load = [0] * len(shards)
    for job in sorted(jobs, key=lambda j: -weights.get(j.target.site_id, 0)):
        lightest = load.index(min(load))
        shards[lightest].append(job)
        load[lightest] += weights.get(job.target.site_id, 0) + 1
    return [shard for shard in shards if shard]


INTERRUPTED = "interrupted"


class FleetRun:
    """Crawl process(es) for a list of sites, reporting each site as it closes."""

    def __init__(
        self,
        runs_dir: Path,
        settings: dict[str, str],
        processes: int,
        report: Callable[[CrawlOutcome], None],
    ):
        self.runs_dir = runs_dir
        self.settings = settings
        self.report = report
        self.lock = threading.Lock()
        self.fleet_dir = runs_dir / new_id("fleet")
        self.counter = 0
        self.pids: list[int] = []  # of the crawl processes, as they start
        share = max(1, processes)
        self.process_settings = {
            **settings,
            "FLEET_PROCESS_SITES_AT_ONCE": str(
                -(-fleet_setting(settings, "FLEET_SITES_AT_ONCE") // share)
            ),
            "FLEET_PROCESS_CONCURRENT_REQUESTS": str(
                -(-fleet_setting(settings, "FLEET_CONCURRENT_REQUESTS") // share)
            ),
        }

    def crawl(self, jobs: list[SiteJob]) -> list[CrawlOutcome]:
        """Crawl ``jobs`` in one process; the sites it did not finish (it died) once more
        together, then each alone."""
        outcomes, unfinished, died = self._run_process(jobs)
        if unfinished and died != INTERRUPTED:
            more, unfinished, died = self._run_process([self._again(j) for j in unfinished])
            outcomes += more
            for job in unfinished if died != INTERRUPTED else ():
                more, left, died = self._run_process([self._again(job)])
                outcomes += more + [self._done(j, None, died) for j in left]
                unfinished = [j for j in unfinished if j is not job]
        return outcomes + [self._done(j, None, died) for j in unfinished]

    def _again(self, job: SiteJob) -> SiteJob:
        """The site's crawl from scratch, in its run folder (its process was killed)."""
        return prepare_site(job.target, self.runs_dir, None)

    def _done(self, job: SiteJob, reason: str | None, died: str | None = None) -> CrawlOutcome:
        outcome = collect_site(job, reason, died)
        with self.lock:
            self.report(outcome)
        return outcome

    def _run_process(
        self, jobs: list[SiteJob]
    ) -> tuple[list[CrawlOutcome], list[SiteJob], str | None]:
        """(outcomes of the sites that closed, sites that did not, how the process died)."""
        with self.lock:
            self.counter += 1
            name = f"process-{self.counter}"
        self.fleet_dir.mkdir(parents=True, exist_ok=True)
        plan_path = self.fleet_dir / f"{name}.plan.json"
        log_path = self.fleet_dir / f"{name}.log"
        plan = {
            "settings": {**self.process_settings, "LOG_FILE": str(log_path)},
            "sites": [job.plan_entry() for job in jobs],
        }
        plan_path.write_text(json.dumps(plan, indent=1))
        by_site = {job.target.site_id: job for job in jobs}
        outcomes: list[CrawlOutcome] = []
        env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "spiders.settings"}
        with log_path.open("ab") as stderr:
            proc = subprocess.Popen(
                [sys.executable, "-m", "spiders.fleet", str(plan_path)],
                cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True,
            )  # fmt: skip
            with self.lock:
                self.pids.append(proc.pid)
            for line in proc.stdout:
                try:
                    event = json.loads(line)
                    job = by_site[event["site_id"]]
                except (ValueError, KeyError, TypeError):
                    continue  # not ours: a library's print
                if event.get("event") == "started":
                    job.started_at = _now()
                elif event.get("event") == "closed" and by_site.pop(job.target.site_id, None):
                    outcomes.append(self._done(job, event.get("reason") or "finished"))
            returncode = proc.wait()
        died = None
        if by_site and returncode in (-signal.SIGINT, -signal.SIGTERM, 128 + signal.SIGINT):
            died = INTERRUPTED  # Ctrl-C or a stop before the sites opened: no second try
        elif by_site:
            died = (
                f"killed by signal {-returncode}" if returncode < 0
                else f"exit code {returncode}; see {log_path}"
            )  # fmt: skip
        return outcomes, list(by_site.values()), died


def crawl_site(
    target: CrawlTarget,
    runs_dir: Path,
    settings: dict[str, str],
    previous: dict[str, dict] | None = None,
) -> CrawlOutcome:
    """Crawl one site (in a crawl process of its own); see ``crawl_sites``."""
    previous_by_site = {target.site_id: previous} if previous else None
    return crawl_sites([target], runs_dir=runs_dir, settings=settings, previous=previous_by_site)[0]


def crawl_sites(
    targets: list[CrawlTarget],
    *,
    runs_dir: Path,
    settings: dict[str, str] | None = None,
    progress: Callable[[CrawlOutcome], None] = lambda outcome: None,
    previous: dict[str, dict[str, dict]] | None = None,
    announce: Callable[[str], None] = lambda line: None,
    parallel: int | None = None,
    weights: dict[str, int] | None = None,
) -> list[CrawlOutcome]:
    """Crawl every target, many sites per process, all at once (up to ``FLEET_SITES_AT_ONCE``);
    ``progress`` hears of each site as it closes. Nothing is written to the database here.

    ``previous``: {site_id: previous_pages(...)} for conditional re-crawls (optional).
    ``parallel``: how many crawl processes (default: ``FLEET_PROCESSES``, 0 = one per core).
    ``weights``: {site_id: pages last time} to share sites evenly among processes (default:
    the number of ``previous`` pages).
    """
    settings = dict(settings or {})
    if parallel is not None:
        settings.setdefault("FLEET_PROCESSES", str(parallel))
    previous = previous or {}
    if len({t.site_id for t in targets}) != len(targets):
        raise CredcheckError("a site may be crawled only once at a time")
    jobs = [prepare_site(t, runs_dir, previous.get(t.site_id)) for t in targets]
    if weights is None:
        weights = {site: len(pages) for site, pages in previous.items()}
    shards = plan_processes(jobs, settings, weights)
    fleet = FleetRun(runs_dir, settings, len(shards), progress)
    announce(
        f"crawling {len(jobs)} site(s) in {len(shards)} process(es) "
        f"(logs: {fleet.fleet_dir}, one crawl.log per site)"
    )
    with ThreadPoolExecutor(max_workers=len(shards)) as pool:
        done = [o for outcomes in pool.map(fleet.crawl, shards) for o in outcomes]
    by_site = {o.target.site_id: o for o in done}
    return [by_site[t.site_id] for t in targets]
