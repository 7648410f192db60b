"""Politeness beyond Scrapy's defaults, incremental re-crawls, and counting faults and parse
failures instead of losing them.

Scrapy by itself filters offsite requests by host name only, allows everything when robots.txt
answers 5xx, ignores robots ``Crawl-delay`` and ``Retry-After``, retries without backing off, and
re-downloads unchanged pages. A crawler that reads other people's directories every night should
do better on all of these.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.httpobj import urlparse_cached

from spiders.platforms.base import netloc_of

logger = logging.getLogger(__name__)


class NetlocOffsiteMiddleware(OffsiteMiddleware):
    """Stay on the start URLs' host:port, not merely their host name.

    Sites served from one host on different ports (the fixture sites on 127.0.0.1, or a hospital
    whose staging site sits on :8443) are different sites.
    """

    def should_follow(self, request: Request, spider: Spider) -> bool:
        allowed = getattr(spider, "allowed_netlocs", None)
        if allowed:
            return netloc_of(urlparse_cached(request)) in allowed
        return super().should_follow(request, spider)


class PoliteDelayMiddleware:
    """Honour robots ``Crawl-delay``, ``Retry-After`` and failing answers, with pauses that end.

    The site's pace is its download slot's delay: DOWNLOAD_DELAY, or AutoThrottle's. Crawl-delay
    is a floor under that pace. A 429/503 with Retry-After pauses the site until the time it
    names (capped by ``RETRY_AFTER_MAX``); any other retryable answer pauses it for
    ``RETRY_BACKOFF_BASE * 2**n`` seconds (capped by ``RETRY_BACKOFF_MAX``), n counting the
    request's retries or the site's failures in a row, whichever is more. The downloader
    (spiders.compat.PoliteDownloader) holds the floor and the pauses where requests leave; a
    pause never enters the delay, so when it ends the pace is what it was, and AutoThrottle
    never reads it as latency.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        settings = crawler.settings
        self.user_agent = settings.get("USER_AGENT")
        self.retry_after_max = settings.getfloat("RETRY_AFTER_MAX", 120.0)
        self.backoff_base = settings.getfloat("RETRY_BACKOFF_BASE", 1.0)
        self.backoff_max = settings.getfloat("RETRY_BACKOFF_MAX", 60.0)
        self.retry_codes = set(settings.getlist("RETRY_HTTP_CODES"))
        self.failures: dict[str, int] = {}  # slot key -> failed answers in a row
        crawler.signals.connect(self.robots_parsed, signal=signals.robots_parsed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PoliteDelayMiddleware:
        return cls(crawler)

    @property
    def downloader(self) -> Any:
        return self.crawler.engine.downloader

    def robots_parsed(self, robotparser: Any, request: Request) -> None:
        delay = robotparser.crawl_delay(self.user_agent) if robotparser else None
        if delay:
            self.downloader.set_floor(self.downloader.get_slot_key(request), float(delay))
            self.crawler.stats.set_value("credcheck/robotstxt/crawl_delay", float(delay))

    def process_response(self, request: Request, response: Response) -> Response:
        status = response.status
        if status in (429, 503) and (wait := retry_after(response)) is not None:
            wait = min(wait, self.retry_after_max)
            self.crawler.stats.inc_value("credcheck/retry_after")
            self.crawler.stats.inc_value("credcheck/paused_seconds", wait)
            self.downloader.pause(self.downloader.get_slot_key(request), wait)
        elif status in self.retry_codes:
            self._back_off(request)
        elif status < 400 and self.failures:
            self.failures.pop(self.downloader.get_slot_key(request), None)
        return response

    def _back_off(self, request: Request) -> None:
        key = self.downloader.get_slot_key(request)
        failures = self.failures[key] = self.failures.get(key, 0) + 1
        attempt = max(request.meta.get("retry_times", 0), failures - 1)
        wait = min(self.backoff_max, self.backoff_base * 2**attempt)
        self.crawler.stats.inc_value("credcheck/retry_backoff")
        self.crawler.stats.inc_value("credcheck/paused_seconds", wait)
        self.downloader.pause(key, wait)


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


class LoopAwareRedirectMiddleware(RedirectMiddleware):
    """A redirect back to a URL already in the chain is a loop: counted and dropped at once.

    Redirected requests skip the duplicate filter (they are still the fetch of the original
    URL), so a loop through a URL also listed elsewhere is seen as the loop it is.
    """

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Any:
        try:
            result = super().process_response(request, response)
        except IgnoreRequest:
            self.crawler.stats.inc_value("credcheck/faults/redirect_loop")
            raise
        if isinstance(result, Request) and result is not request:
            chain = result.meta.get("redirect_urls", [])
            if result.url in chain:
                self.crawler.stats.inc_value("credcheck/faults/redirect_loop")
                logger.warning("Redirect loop: %s", " -> ".join([*chain, result.url]))
                raise IgnoreRequest("redirect loop")
            result.dont_filter = True
        return result


class ResponseCheckMiddleware:
    """Count bodies cut short (kept: what arrived may still hold the listing), and repair the
    commonest charset fault: UTF-8 pages labelled ISO-8859-1 / Windows-1252."""

    def __init__(self, crawler: Crawler):
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ResponseCheckMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if "dataloss" in response.flags:
            self.stats.inc_value("credcheck/faults/truncated")
        if not isinstance(response, TextResponse) or response.status != 200:
            return response
        declared = (response.headers.get(b"Content-Type") or b"").lower()
        if b"charset" not in declared and b"charset" not in response.body[:2048].lower():
            self.stats.inc_value("credcheck/faults/charset_undeclared")
        if response.encoding.lower() in ("iso-8859-1", "latin-1", "cp1252", "windows-1252"):
            try:
                response.body.decode("utf-8")
            except UnicodeDecodeError:
                return response  # really Latin-1
            if any(b > 0x7F for b in response.body):  # valid UTF-8 with non-ASCII: it is UTF-8
                self.stats.inc_value("credcheck/faults/charset_repaired")
                return response.replace(encoding="utf-8")
        return response


class ConditionalRequestMiddleware:
    """Incremental re-crawls: ask for pages seen last run with If-None-Match/If-Modified-Since,
    and turn a 304 into "unchanged" (counted, and recorded for the run's ingest).

    The previous run's validators come from the file named by CREDCHECK_PREVIOUS_PATH
    (``{"pages": {url: {"etag": ..., "last_modified": ...}}}``, written by pipeline.crawl.runner).
    """

    def __init__(self, crawler: Crawler, pages: dict[str, dict]):
        self.crawler = crawler
        self.pages = pages

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequestMiddleware:
        path = crawler.settings.get("CREDCHECK_PREVIOUS_PATH")
        pages = json.loads(Path(path).read_text()).get("pages", {}) if path else {}
        if not pages:
            raise NotConfigured  # a first crawl: nothing to ask about (and no per-page hooks)
        return cls(crawler, pages)

    def process_request(self, request: Request) -> None:
        seen = self.pages.get(request.url)
        if not seen or request.method != "GET" or b"If-None-Match" in request.headers:
            return
        if seen.get("etag"):
            request.headers[b"If-None-Match"] = seen["etag"]
        if seen.get("last_modified"):
            request.headers[b"If-Modified-Since"] = seen["last_modified"]

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status == 304 and request.url in self.pages:
            self.crawler.stats.inc_value("credcheck/incremental/not_modified")
            mark_unchanged(self.crawler.spider, request.url)
            raise IgnoreRequest("not modified since the last run")
        return response


def mark_unchanged(spider: Any, url: str) -> None:
    """Remember a page known unchanged without fetching it (304, or an old sitemap lastmod);
    kept in the spider's JOBDIR state so a resumed crawl still knows."""
    unchanged = getattr(spider, "unchanged_urls", None)
    if unchanged is not None:
        unchanged.add(url)


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
    "ConditionalRequestMiddleware",
    "LoopAwareRedirectMiddleware",
    "NetlocOffsiteMiddleware",
    "ParseErrorMiddleware",
    "PoliteDelayMiddleware",
    "ResponseCheckMiddleware",
    "retry_after",
]
