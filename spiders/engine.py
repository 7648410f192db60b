"""Engine tuning for long crawls: less time in Python's garbage collector (and, in
``spiders.compat``, in Scrapy's stats shim).

It does not change what a crawl fetches or extracts; both only cut per-page overhead, which a
crawl of tens of thousands of profiles pays tens of thousands of times (bench/crawl.py measures
it; its bare baseline spider runs with the same tuning, so the comparison stays fair).
"""

from __future__ import annotations

import gc

from scrapy import signals
from scrapy.crawler import Crawler

# Young objects allowed before a collection (CPython's default is 700). A crawl allocates and
# frees dicts and lists for every page; collecting every 700 of them spends several percent of
# the crawl re-scanning the scheduler's queue of pending requests.
GC_YOUNG_THRESHOLD = 20_000


class GarbageCollectionTuning:
    """Once the engine has started, freeze everything built so far (modules, settings,
    middlewares: never garbage, so never worth scanning) and collect young objects less often.
    Reference counting still frees almost everything at once; only cycles wait longer."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> GarbageCollectionTuning:
        ext = cls(crawler.settings.getbool("CREDCHECK_GC_FREEZE", True))
        crawler.signals.connect(ext.engine_started, signal=signals.engine_started)
        return ext

    def __init__(self, freeze: bool = True):
        self.freeze = freeze

    def engine_started(self) -> None:
        if self.freeze:  # a fleet of sites freezes once, before its crawlers (spiders/fleet.py)
            gc.collect()
            gc.freeze()
        _, older, oldest = gc.get_threshold()
        gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)
