"""Many sites in one Scrapy process: one crawler per site, all on one reactor.

    python -m spiders.fleet PLAN.json

PLAN (written by ``pipeline.crawl.runner``)::

    {"settings": {NAME: VALUE, ...},                 # for the whole process (-s overrides)
     "sites": [{"site_id": "mercy", "spider": "mercy", "args": {...},
                "settings": {"JOBDIR": ..., "FEEDS": ..., "CREDCHECK_STATS_PATH": ...,
                             "CREDCHECK_LOG_PATH": ..., ...}}, ...]}

Each site is crawled by its own ``Crawler`` (its own spider, scheduler, download slot, stats,
feed, JOBDIR, extensions), exactly what ``scrapy crawl SITE`` would run, so everything per
site stays as it is for one site: items, stats, robots.txt, Crawl-delay, Retry-After pauses,
backoff, AutoThrottle, conditional requests, JOBDIR resume. What the crawlers share is the
process: the reactor, the code, and a cap on downloads in flight across all of them
(``FLEET_PROCESS_CONCURRENT_REQUESTS``, spiders.compat.DownloadBudget). At most
``FLEET_PROCESS_SITES_AT_ONCE`` sites run at once; the next starts when one closes.

Each site logs to its own file (``CREDCHECK_LOG_PATH``) through one router on the root logger
(Scrapy's per-crawler log counter would put every crawler's handler on every record); what no
site logged goes to the process's ``LOG_FILE``. On stdout, one JSON line per site as it starts
and as it closes (``{"event": "closed", "site_id": ..., "reason": ...}``), for the parent to
report progress. A site whose spider cannot even start closes with reason ``error: ...``; the
others go on.
"""

from __future__ import annotations

import gc
import json
import logging
import sys
from collections import deque
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings
from scrapy.utils.project import get_project_settings

logger = logging.getLogger(__name__)

# Scrapy's LogCount extension adds one root handler per crawler: with N sites, every record
# would pass N handlers (and be counted N times). SiteLogRouter counts per site instead.
FLEET_EXTENSIONS = {"scrapy.extensions.logcount.LogCount": None}


class SiteLogRouter(logging.Handler):
    """One root handler for every site: a record about a site's spider goes to that site's log
    file and counts in its stats (``log_count/LEVEL``, as Scrapy counts); the rest goes to the
    process's log."""

    def __init__(self, fallback: logging.Handler, formatter: logging.Formatter):
        super().__init__()
        self.fallback = fallback
        self.formatter_ = formatter
        self.sites: dict[Spider, tuple[logging.Handler, Crawler]] = {}
        self.expected: dict[Crawler, str] = {}  # crawlers whose spider has not logged yet

    def expect(self, crawler: Crawler, path: str) -> None:
        """Send what ``crawler``'s spider logs to ``path`` (opened at its first record)."""
        self.expected[crawler] = path

    def _attach(self, spider: Spider) -> tuple[logging.Handler, Crawler] | None:
        crawler = getattr(spider, "crawler", None)
        path = self.expected.pop(crawler, None)
        if path is None or crawler is None:
            return None
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(self.formatter_)
        handler.setLevel(crawler.settings.get("LOG_LEVEL"))
        self.sites[spider] = (handler, crawler)
        return handler, crawler

    def detach(self, crawler: Crawler) -> None:
        self.expected.pop(crawler, None)
        handler, _ = self.sites.pop(crawler.spider, (None, None))
        if handler is not None:
            handler.close()

    def emit(self, record: logging.LogRecord) -> None:
        spider = getattr(record, "spider", None)
        site = self.sites.get(spider) or (self._attach(spider) if spider is not None else None)
        if site is None:
            if record.levelno >= self.fallback.level:
                self.fallback.handle(record)
            return
        handler, crawler = site
        crawler.stats.inc_value(f"log_count/{record.levelname}")
        if record.levelno >= handler.level:
            handler.handle(record)


class Fleet:
    """The sites of one plan, crawled in one process, ``FLEET_PROCESS_SITES_AT_ONCE`` at a time."""

    def __init__(self, plan: dict[str, Any], settings: Settings | None = None):
        self.settings = settings or get_project_settings()
        self.settings.setdict(plan.get("settings", {}), priority="cmdline")
        extensions = self.settings.getdict("EXTENSIONS")
        self.settings.set("EXTENSIONS", {**extensions, **FLEET_EXTENSIONS}, priority="cmdline")
        self.settings.set("CREDCHECK_GC_FREEZE", False, priority="cmdline")  # done once, here
        self.queue: deque[dict[str, Any]] = deque(plan["sites"])
        self.at_once = max(1, self.settings.getint("FLEET_PROCESS_SITES_AT_ONCE"))
        self.running = 0
        self.settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
        self.process = CrawlerProcess(self.settings)
        self.reactor_installed = False
        self.router = self._install_logging()

    def _install_logging(self) -> SiteLogRouter:
        level = self.settings.get("LOG_LEVEL")
        formatter = logging.Formatter(
            self.settings.get("LOG_FORMAT"), self.settings.get("LOG_DATEFORMAT")
        )
        log_file = self.settings.get("LOG_FILE")
        fallback: logging.Handler = (
            logging.FileHandler(log_file, encoding="utf-8")
            if log_file
            else logging.StreamHandler(sys.stderr)
        )
        fallback.setFormatter(formatter)
        fallback.setLevel(level)
        router = SiteLogRouter(fallback, formatter)
        logging.root.addHandler(router)
        # Records below the level are never even made (Scrapy logs every page at DEBUG).
        logging.root.setLevel(level)
        return router

    def run(self) -> None:
        gc.collect()
        gc.freeze()  # modules and settings: never garbage, never worth scanning again
        self._start_next()
        if self.running:
            self.process.start(stop_after_crawl=False)

    def _start_next(self) -> None:
        while self.queue and self.running < self.at_once:
            self._start(self.queue.popleft())
        if not self.running and not self.queue:
            from twisted.internet import reactor

            if reactor.running:
                reactor.stop()

    def _start(self, job: dict[str, Any]) -> None:
        site_id = job["site_id"]
        self.running += 1
        try:
            spidercls = self.process.spider_loader.load(job["spider"])
            crawler = Crawler(spidercls, self.settings, init_reactor=not self.reactor_installed)
            crawler.settings.setdict(job.get("settings", {}), priority="cmdline")  # its copy
            self.reactor_installed = True
        except Exception as exc:  # an unknown spider, a bad setting: this site only
            self._closed(job, None, f"error: {type(exc).__name__}: {exc}")
            return
        if log_path := job.get("settings", {}).get("CREDCHECK_LOG_PATH"):
            self.router.expect(crawler, log_path)
        reasons: list[str] = []
        crawler.signals.connect(
            lambda spider, reason: reasons.append(reason), signal=signals.spider_closed, weak=False
        )
        emit({"event": "started", "site_id": site_id})
        deferred = self.process.crawl(crawler, **job.get("args", {}))

        def done(result: Any) -> None:
            reason = reasons[0] if reasons else None
            if reason is None:
                failure = result if hasattr(result, "getErrorMessage") else None
                reason = f"error: {failure.getErrorMessage()}" if failure else "error: no close"
                if failure is not None:
                    logger.error("Site %s could not be crawled: %s", site_id, failure.value)
            self.router.detach(crawler)
            self._closed(job, crawler, reason)

        deferred.addBoth(done)

    def _closed(self, job: dict[str, Any], crawler: Crawler | None, reason: str) -> None:
        self.running -= 1
        if reason == "shutdown":  # Ctrl-C / SIGTERM: the sites not started stay for next time
            self.queue.clear()
        if not emit({"event": "closed", "site_id": job["site_id"], "reason": reason}):
            # No runner to ingest what is crawled: start no more sites, and still stop the
            # reactor once the running ones close (else the orphan would idle forever).
            logger.warning("the crawl runner is gone: %d sites not started", len(self.queue))
            self.queue.clear()
        self._start_next()


def emit(event: dict[str, Any]) -> bool:
    """Tell the runner (our stdout is its pipe); False when no one is listening any more."""
    try:
        print(json.dumps(event), flush=True)
    except (BrokenPipeError, ValueError):  # the runner is gone (killed, or timed out by cron)
        return False
    return True


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.exit("usage: python -m spiders.fleet PLAN.json")
    Fleet(json.loads(Path(args[0]).read_text(encoding="utf-8"))).run()


if __name__ == "__main__":
    main()
