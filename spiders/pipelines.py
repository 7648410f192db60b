"""Item pipelines: clean every listing, and count (never silently lose) what gets dropped."""

from __future__ import annotations

import logging
import re
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from spiders.extract.text import clean_text, unique
from spiders.items import DICT_FIELDS, FIELD_SET, LIST_FIELDS, LISTING_FIELDS, ListingItem

logger = logging.getLogger(__name__)


_NOT_DIGIT = re.compile(r"\D")
# extras the spider writes about the listing (not text read from the site): left as they are.
SPIDER_EXTRAS = frozenset({"provenance", "http", "is_physician"})


def clean_value(value: Any) -> Any:
    """Strip/unescape strings, recurse into dicts, drop empty and repeated list entries."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {k: clean_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        cleaned = [clean_text(v) if type(v) is str else clean_value(v) for v in value]
        return unique([v for v in cleaned if not isinstance(v, dict) or any(v.values())])
    return value


class CleanListingPipeline:
    """Trim and dedupe every field; drop items without a name (counted in the stats)."""

    def __init__(self, crawler: Crawler):
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CleanListingPipeline:
        return cls(crawler)

    def process_item(self, item: ListingItem) -> ListingItem:
        if unknown := item.keys() - FIELD_SET:  # a post_process_item hook's slip
            self.stats.inc_value("credcheck/dropped/unknown_fields")
            raise DropItem(
                f"listing with fields not in spiders/items.py {sorted(unknown)}: "
                f"{item.get('source_url')}",
                log_level="ERROR",
            )
        for field in LISTING_FIELDS:
            value = item.get(field)
            if field == "extras" and isinstance(value, dict):
                value = {k: v if k in SPIDER_EXTRAS else clean_value(v) for k, v in value.items()}
            else:
                value = clean_value(value)
            if value is None and field in LIST_FIELDS:
                value = []
            elif value is None and field in DICT_FIELDS:
                value = {}
            item[field] = value
        if item["npi"]:
            # "as shown", minus decoration such as "NPI: 1234567893" or "1234-567-893".
            digits = _NOT_DIGIT.sub("", item["npi"])
            item["npi"] = digits if len(digits) == 10 else item["npi"]
        if not item["name"]:
            self.stats.inc_value("credcheck/dropped/no_name")
            raise DropItem(f"listing without a name: {item['source_url']}", log_level="WARNING")
        return item


class DuplicateRefPipeline:
    """One item per (site, ref): a profile reached twice, e.g. via two URLs, is kept once."""

    def __init__(self, crawler: Crawler):
        self.stats = crawler.stats
        self.seen: set[tuple[str | None, str]] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DuplicateRefPipeline:
        return cls(crawler)

    def process_item(self, item: ListingItem) -> ListingItem:
        key = (item["site_id"], item["ref"])
        if key in self.seen:
            self.stats.inc_value("credcheck/dropped/duplicate_ref")
            raise DropItem(f"duplicate ref {item['ref']!r}: {item['source_url']}", log_level="INFO")
        self.seen.add(key)
        self.stats.inc_value("credcheck/items")
        return item
