"""Where credcheck patches Scrapy's private internals, each with the upstream issue it works
around, and the Scrapy versions they were written and tested for.

- ``PoliteDownloader``: ``Downloader._process_queue`` and ``_wait_for_download`` — per-site
  concurrency that holds without a download delay, Crawl-delay floors and Retry-After / backoff
  pauses that end on time, the delay counted from a download's real start, and one cap on
  downloads in flight shared by all the sites of a process;
- ``StrictRobotsTxtMiddleware``: ``RobotsTxtMiddleware._parse_robots`` / ``_robots_error`` —
  RFC 9309: an unreachable robots.txt (5xx, network error) means "disallow all"; and a spider's
  own request for robots.txt (its sitemaps) is answered with the copy the middleware fetched;
- ``StatsCollector``: ``MemoryStatsCollector.__getattribute__`` — the stats collector without
  the per-attribute deprecation shim (several percent of a crawl's CPU).

Private API can change in any release: importing this module checks that the installed Scrapy
is in ``SCRAPY_VERSIONS`` (pyproject.toml pins the same range). Before widening the range, run
the tests named in each class's docstring against the new version.
"""

from __future__ import annotations

import logging
from time import monotonic

import scrapy
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from scrapy import Request, signals
from scrapy.core.downloader import Downloader, Slot
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import _schedule_coro
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from twisted.internet.defer import Deferred

from spiders.render import remember_robots

# The Scrapy releases these patches were written against and tested on (pyproject.toml too).
SCRAPY_VERSIONS = ">=2.19,<2.20"

logger = logging.getLogger(__name__)

DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"


def check_scrapy_version(version: str = scrapy.__version__) -> None:
    """Refuse to run the patches on a Scrapy they were not written for.

    >>> check_scrapy_version("2.19.0")
    >>> check_scrapy_version("2.20.0")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    RuntimeError: credcheck's Scrapy patches ... for Scrapy >=2.19,<2.20; this is Scrapy 2.20.0. ...
    """
    if Version(version) not in SpecifierSet(SCRAPY_VERSIONS):
        raise RuntimeError(
            f"credcheck's Scrapy patches (spiders/compat.py) were written for Scrapy "
            f"{SCRAPY_VERSIONS}; this is Scrapy {version}. Re-check each patch against it, then "
            "widen SCRAPY_VERSIONS and pyproject.toml."
        )


check_scrapy_version()


class PoliteDownloader(Downloader):
    """Scrapy's downloader, with a site's politeness checked at the one moment a request leaves
    its slot's queue. Overrides Scrapy's private ``Downloader._process_queue`` and wraps
    ``_wait_for_download``:

    - per-slot concurrency counts a request as transferring when it leaves the queue (Scrapy
      counts it only once its coroutine runs, so without a delay the loop emptied the whole
      queue at once: 8 requests in flight against a limit of 1 were measured). Upstream: the
      per-slot bookkeeping of scrapy/scrapy#7293 behind the burst of scrapy/scrapy#6476;
      tests/test_crawl_faults.py measures the limit holding;
    - a site's floor (robots.txt ``Crawl-delay``) and pause (``Retry-After``, backoff) apply
      beside the slot's delay, which stays the site's pace (DOWNLOAD_DELAY, or AutoThrottle's):
      AutoThrottle may not go below the floor, and a pause ends at its time with the pace as it
      was, never read by AutoThrottle (Scrapy has no pause: raising the delay for Retry-After
      leaves it raised, or AutoThrottle eases it down from there over dozens of requests;
      spiders.middlewares.PoliteDelayMiddleware sets both; tests/test_fleet.py reads the gaps
      from the server's log);
    - the delay counts from when a download really starts: in a process busy with many sites
      the event loop may start it late, and counting from the dequeue would let the next
      request follow it too closely; and a site's floor counts from its last response too
      when that came later: a busy loop may also write a started request late, and the
      server must never see two requests closer than its floor (its response, not our
      start, proves the request was there);
    - downloads in flight are capped across every crawler of the process
      (``FLEET_PROCESS_CONCURRENT_REQUESTS``; 0: no cap), for many sites in one process
      (spiders/fleet.py).
    """

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.floors: dict[str, float] = {}  # slot key -> seconds no request may follow closer
        self.answered: dict[str, float] = {}  # slot key (with a floor) -> its last response
        self.pauses: dict[str, float] = {}  # slot key -> monotonic time its pause ends
        self.budget = DownloadBudget.shared(
            crawler.settings.getint("FLEET_PROCESS_CONCURRENT_REQUESTS")
        )
        crawler.signals.connect(self._response_arrived, signal=signals.response_downloaded)

    def _response_arrived(self, request: Request) -> None:
        key = request.meta.get(self.DOWNLOAD_SLOT, "")
        if key in self.floors:  # before Scrapy's downloader picks the slot's next request
            self.answered[key] = monotonic()

    def set_floor(self, key: str, seconds: float) -> None:
        self.floors[key] = max(seconds, self.floors.get(key, 0.0))

    def pause(self, key: str, seconds: float) -> None:
        """No request of the slot leaves before ``seconds`` from now (a longer pause stands)."""
        until = monotonic() + seconds
        if until > self.pauses.get(key, 0.0):
            self.pauses[key] = until
            if (slot := self.slots.get(key)) and slot.latercall:  # re-time a pending wake-up
                slot.close()
                self._process_queue(slot)

    def _wait(self, slot: Slot, now: float) -> tuple[float, float]:
        """(seconds before the slot's next request may leave, the delay between requests)."""
        key = slot.queue[0][0].meta.get(self.DOWNLOAD_SLOT, "")
        pace, floor = slot.download_delay(), self.floors.get(key, 0.0)
        wait = pace - (now - slot.lastseen) if pace else 0.0
        if floor:
            since = max(slot.lastseen, self.answered.get(key, 0.0))
            wait = max(wait, floor - (now - since))
        delay = max(pace, floor)
        if (until := self.pauses.get(key)) is not None:
            if until > now:
                wait = max(wait, until - now)
            else:
                del self.pauses[key]
        return wait, delay

    def _process_queue(self, slot: Slot) -> None:
        if slot.latercall or not slot.queue:
            return
        now = monotonic()
        wait, delay = self._wait(slot, now)
        if wait > 0:
            slot.latercall = call_later(wait, self._latercall, slot)
            return
        while slot.queue and slot.free_transfer_slots() > 0 and self.budget.take(self, slot):
            slot.lastseen = now
            request, queue_dfd = slot.queue.popleft()
            slot.transferring.add(request)  # now, not when the coroutine starts
            _schedule_coro(self._download_started(slot, request, queue_dfd))
            if delay:
                self._process_queue(slot)
                break

    async def _download_started(
        self, slot: Slot, request: Request, queue_dfd: Deferred[Response]
    ) -> None:
        slot.lastseen = max(slot.lastseen, monotonic())
        try:
            await self._wait_for_download(slot, request, queue_dfd)
        finally:
            self.budget.release()

    def close(self) -> None:
        self.budget.forget(self)
        super().close()


class DownloadBudget:
    """Downloads in flight across every downloader of the process, capped at ``limit`` (0: no
    cap); a slot that finds the budget spent waits its turn, first come first served."""

    _shared: DownloadBudget | None = None

    def __init__(self, limit: int):
        self.limit = limit
        self.active = 0
        self.waiting: dict[tuple[Downloader, Slot], None] = {}  # insertion-ordered set

    @classmethod
    def shared(cls, limit: int) -> DownloadBudget:
        """The process's budget (its first user sets the limit: a fleet gives every crawler
        the same)."""
        if cls._shared is None:
            cls._shared = cls(limit)
        return cls._shared

    def take(self, downloader: Downloader, slot: Slot) -> bool:
        if self.limit and self.active >= self.limit:
            self.waiting[downloader, slot] = None
            return False
        self.active += 1
        return True

    def release(self) -> None:
        self.active -= 1
        while self.waiting and (not self.limit or self.active < self.limit):
            downloader, slot = next(iter(self.waiting))
            del self.waiting[downloader, slot]
            downloader._process_queue(slot)

    def forget(self, downloader: Downloader) -> None:
        for key in [k for k in self.waiting if k[0] is downloader]:
            del self.waiting[key]


class StrictRobotsTxtMiddleware(RobotsTxtMiddleware):
    """RFC 9309 section 2.3.1.4: a robots.txt that is unreachable (5xx, or a network error after
    retries) means "disallow all". A 4xx still means "no rules", as in Scrapy.

    Overrides Scrapy's private ``_parse_robots`` and ``_robots_error``. Upstream: Scrapy's
    RobotsTxtMiddleware parses whatever body a robots.txt request returns, so a 5xx error page
    reads as "no rules", and a download error allows everything; no upstream issue asks for
    RFC 9309 here (searched, 2026). tests/test_spiders.py checks the behaviour.

    Also overrides ``process_request`` (public, but it must run after the parser is known): a
    spider that reads robots.txt for its sitemaps is answered from the response the middleware
    fetched, rather than fetching the file a second time.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._fetched: dict[str, Response] = {}  # netloc -> the robots.txt answer, as fetched

    async def process_request(self, request: Request, spider: object = None) -> Response | None:
        """As Scrapy's; and a spider's own request for a site's robots.txt (to read its
        ``Sitemap:`` lines) gets the answer fetched for the rules: one request, not two."""
        await super().process_request(request)
        if request.meta.get("dont_obey_robotstxt"):
            return None
        url = urlparse_cached(request)
        kept = self._fetched.get(url.netloc)
        if kept is None or url.path != "/robots.txt" or url.query:
            return None
        self._stats.inc_value("credcheck/robotstxt/reused")
        return kept.replace(url=request.url, request=request)

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        self._fetched[netloc] = response
        if response.status >= 500:
            self._disallowing(netloc, f"answered {response.status}")
            response = response.replace(body=DISALLOW_ALL)
        await super()._parse_robots(response, netloc, request)
        # A rendered page's own requests (spiders.render) obey the same rules.
        agent = self._robotstxt_useragent or self._default_useragent
        remember_robots(netloc, self._parsers.get(netloc), agent)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        if isinstance(exc, IgnoreRequest):  # filtered by us (offsite...), not unreachable
            super()._robots_error(exc, netloc)
            return
        self._stats.inc_value(f"robotstxt/exception_count/{type(exc)}")
        self._disallowing(netloc, f"failed ({exc.__class__.__name__})")
        waiting = self._parsers[netloc]
        parser = build_from_crawler(self._parserimpl, self.crawler, DISALLOW_ALL)
        self._parsers[netloc] = parser
        waiting.callback(parser)

    def _disallowing(self, netloc: str, why: str) -> None:
        self._stats.inc_value("credcheck/robotstxt/unavailable_disallow_all")
        logger.warning("robots.txt for %s %s: treating the site as disallowed", netloc, why)


class StatsCollector(MemoryStatsCollector):
    """Scrapy's in-memory stats without its deprecation shim.

    Scrapy 2.19 routes every attribute access on the stats collector, its own ``_stats`` dict
    included, through a Python ``__getattribute__`` that warns about a deprecated ``spider``
    argument (raising and catching an AttributeError on the way); the engine and the spiders
    update some ten stats per page. credcheck never passes ``spider``, so plain attribute
    access is all it needs.

    Replaces the ``__getattribute__`` that scrapy/scrapy#7011 (deprecating the ``spider``
    argument of StatsCollector methods) added; scrapy/scrapy#7842 makes that check cheaper
    upstream. tests/test_spiders.py checks it counts like Scrapy's.
    """

    __getattribute__ = object.__getattribute__
