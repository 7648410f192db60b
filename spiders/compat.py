"""Where credcheck patches Scrapy's private internals, each with the upstream issue it works
around, and the Scrapy versions they were written and tested for.

- ``PerSlotLimitDownloader``: ``Downloader._process_queue`` — CONCURRENT_REQUESTS_PER_DOMAIN holds
  without a download delay (Scrapy counts a download as transferring only once its coroutine
  runs, so with no delay the loop empties the whole slot queue at once: 8 requests in flight
  against a limit of 1 were measured);
- ``StrictRobotsTxtMiddleware``: ``RobotsTxtMiddleware._parse_robots`` / ``_robots_error`` —
  RFC 9309: an unreachable robots.txt (5xx, network error) means "disallow all";
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
from scrapy import Request
from scrapy.core.downloader import Downloader, Slot
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import _schedule_coro
from scrapy.utils.misc import build_from_crawler

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


class PerSlotLimitDownloader(Downloader):
    """Counts a request as transferring when it leaves the slot queue (see the module doc).

    Overrides Scrapy's private ``Downloader._process_queue``. Upstream: the late accounting
    is the per-slot bookkeeping of scrapy/scrapy#7293 (active downloads under-counted) behind the
    burst described in scrapy/scrapy#6476 (without DOWNLOAD_DELAY, requests go out as fast as
    the CPU allows); tests/test_crawl_faults.py measures the limit holding.
    """

    def _process_queue(self, slot: Slot) -> None:
        if slot.latercall:
            return
        now = monotonic()
        delay = slot.download_delay()
        if delay:
            penalty = delay - now + slot.lastseen
            if penalty > 0:
                slot.latercall = call_later(penalty, self._latercall, slot)
                return
        while slot.queue and slot.free_transfer_slots() > 0:
            slot.lastseen = now
            request, queue_dfd = slot.queue.popleft()
            slot.transferring.add(request)  # now, not when the coroutine starts
            _schedule_coro(self._wait_for_download(slot, request, queue_dfd))
            if delay:
                self._process_queue(slot)
                break


class StrictRobotsTxtMiddleware(RobotsTxtMiddleware):
    """RFC 9309 section 2.3.1.4: a robots.txt that is unreachable (5xx, or a network error after
    retries) means "disallow all". A 4xx still means "no rules", as in Scrapy.

    Overrides Scrapy's private ``_parse_robots`` and ``_robots_error``. Upstream: Scrapy's
    RobotsTxtMiddleware parses whatever body a robots.txt request returns, so a 5xx error page
    reads as "no rules", and a download error allows everything; no upstream issue asks for
    RFC 9309 here (searched, 2026). tests/test_spiders.py checks the behaviour.
    """

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if response.status >= 500:
            self._disallowing(netloc, f"answered {response.status}")
            response = response.replace(body=DISALLOW_ALL)
        await super()._parse_robots(response, netloc, request)

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
