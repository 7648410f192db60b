"""Politeness beyond Scrapy's defaults, and counting parse failures instead of losing them.

Scrapy by itself filters offsite requests by host name only, allows everything when robots.txt
answers 5xx, ignores robots ``Crawl-delay`` and ignores ``Retry-After``. A crawler that reads
other people's directories should do better on all four.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.misc import build_from_crawler

from spiders.platforms.base import netloc_of

logger = logging.getLogger(__name__)

DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"


class NetlocOffsiteMiddleware(OffsiteMiddleware):
    """Stay on the start URLs' host:port, not merely their host name.

    Sites served from one host on different ports (the fixture sites on 127.0.0.1, or a hospital
    whose staging site sits on :8443) are different sites.
    """

    def should_follow(self, request: Request, spider: Spider) -> bool:
        allowed = getattr(spider, "allowed_netlocs", None)
        if allowed:
            return netloc_of(request.url) in allowed
        return super().should_follow(request, spider)


class StrictRobotsTxtMiddleware(RobotsTxtMiddleware):
    """RFC 9309 section 2.3.1.4: a robots.txt that is unreachable (5xx, or a network error after
    retries) means "disallow all". A 4xx still means "no rules", as in Scrapy.

    ``_parse_robots`` and ``_robots_error`` are Scrapy's internal hooks; tests/test_spiders.py
    checks the behaviour, so a Scrapy upgrade that moves them is noticed.
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


class PoliteDelayMiddleware:
    """Honour robots ``Crawl-delay`` and ``Retry-After`` by raising the download slot's delay.

    Crawl-delay is a floor that AutoThrottle may not go below (re-applied after each response,
    since AutoThrottle recomputes the delay on every response). Retry-After on 429/503 raises
    the delay once (capped by ``RETRY_AFTER_MAX``); AutoThrottle then eases it back down.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.user_agent = crawler.settings.get("USER_AGENT")
        self.retry_after_max = crawler.settings.getfloat("RETRY_AFTER_MAX", 120.0)
        self.floors: dict[str, float] = {}  # netloc -> Crawl-delay seconds
        crawler.signals.connect(self.robots_parsed, signal=signals.robots_parsed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PoliteDelayMiddleware:
        return cls(crawler)

    def robots_parsed(self, robotparser: Any, request: Request) -> None:
        delay = robotparser.crawl_delay(self.user_agent) if robotparser else None
        if delay:
            self.floors[netloc_of(request.url)] = float(delay)
            self.crawler.stats.set_value("credcheck/robotstxt/crawl_delay", float(delay))

    def _slot(self, request: Request) -> Any:
        downloader = self.crawler.engine.downloader
        return downloader.slots.get(downloader.get_slot_key(request))

    def _raise_delay(self, request: Request, seconds: float) -> None:
        slot = self._slot(request)
        if slot is None:  # the site's first request: nothing to space it from
            return
        if slot.delay < seconds:
            slot.delay = seconds
            slot.jitter = 0.0  # jitter would shorten some waits below what the site asked for

    def process_request(self, request: Request) -> None:
        if floor := self.floors.get(netloc_of(request.url)):
            self._raise_delay(request, floor)

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status in (429, 503) and (wait := retry_after(response)) is not None:
            self.crawler.stats.inc_value("credcheck/retry_after")
            self._raise_delay(request, min(wait, self.retry_after_max))
        if floor := self.floors.get(netloc_of(request.url)):
            self._raise_delay(request, floor)
        return response


def retry_after(response: Response) -> float | None:
    """Seconds from a Retry-After header given as seconds or as an HTTP date."""
    value = (response.headers.get(b"Retry-After") or b"").decode("latin-1").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class ParseErrorMiddleware:
    """Spider middleware: a callback that raises is counted and logged; the crawl goes on."""

    def __init__(self, crawler: Crawler):
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ParseErrorMiddleware:
        return cls(crawler)

    def process_spider_exception(
        self, response: Response, exception: Exception
    ) -> Iterable[Any] | None:
        if isinstance(exception, HttpError):  # a 404/500 page: HttpErrorMiddleware counts it
            return None
        self.stats.inc_value("credcheck/parse_errors")
        self.stats.inc_value(f"credcheck/parse_errors/{type(exception).__name__}")
        logger.error("Could not parse %s: %r", response.url, exception, exc_info=exception)
        return []


__all__ = [
    "NetlocOffsiteMiddleware",
    "ParseErrorMiddleware",
    "PoliteDelayMiddleware",
    "StrictRobotsTxtMiddleware",
    "retry_after",
]
