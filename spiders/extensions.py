"""RunStatsExtension: write the crawl's final stats as JSON for the pipeline to ingest, and the
URLs the crawl found unchanged without fetching them (304s, old sitemap lastmod)."""

from __future__ import annotations

import json
import logging
import os
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

logger = logging.getLogger(__name__)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return str(value)


class RunStatsExtension:
    """On spider close, write Scrapy's stats (datetimes as ISO strings) to CREDCHECK_STATS_PATH.

    Written atomically (temporary file, then rename) so a reader never sees half a file. With
    CREDCHECK_STATS_LOG (a crawl on a Scrapyd node, whose files the coordinator cannot read),
    the stats and the unchanged URLs are logged instead, as one line
    ``credcheck-stats: {"stats": ..., "unchanged": [...]}`` (pipeline.crawl.scrapyd reads it).
    """

    def __init__(self, crawler: Crawler, path: Path | None):
        self.crawler = crawler
        self.path = path
        unchanged = crawler.settings.get("CREDCHECK_UNCHANGED_PATH")
        self.unchanged_path = Path(unchanged) if unchanged else None
        self.to_log = crawler.settings.getbool("CREDCHECK_STATS_LOG")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunStatsExtension:
        path = crawler.settings.get("CREDCHECK_STATS_PATH")
        if not path and not crawler.settings.getbool("CREDCHECK_STATS_LOG"):
            raise NotConfigured  # no message: Scrapy would log it as a warning
        ext = cls(crawler, Path(path) if path else None)
        # Receivers run in connection order; CoreStats (a base extension) connected before us,
        # so finish_time and finish_reason are already recorded when this runs.
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        # With JOBDIR, SpiderState (connected before us) has loaded ``spider.state``: keep the
        # unchanged URLs in it, so an interrupted and resumed crawl still knows them.
        state = getattr(spider, "state", None)
        if isinstance(state, dict) and hasattr(spider, "unchanged_urls"):
            kept = state.setdefault("unchanged_urls", set())
            kept |= spider.unchanged_urls
            spider.unchanged_urls = kept

    def spider_closed(self, spider: Spider, reason: str) -> None:
        stats = dict(self.crawler.stats.get_stats())
        stats.setdefault("finish_reason", reason)
        stats["credcheck/site_id"] = getattr(spider, "site_id", None)
        stats["credcheck/spider"] = spider.name
        urls = sorted(getattr(spider, "unchanged_urls", ()))
        if self.to_log:
            record = json.dumps({"stats": stats, "unchanged": urls}, default=_jsonable)
            logger.info("credcheck-stats: %s", record)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text(json.dumps(stats, default=_jsonable, indent=1, sort_keys=True) + "\n")
            os.replace(tmp, self.path)
            logger.info("Run stats written to %s", self.path)
        if self.unchanged_path is not None:
            self.unchanged_path.write_text(json.dumps(urls, indent=0) + "\n")
