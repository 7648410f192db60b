"""Crawls in child Scrapy processes (``runner``), and their feeds ingested into the raw tables
(``ingest``)."""

from pipeline.crawl.runner import (
    ZERO_CONFIG_SPIDER,
    CrawlOutcome,
    CrawlTarget,
    crawl_site,
    crawl_sites,
    plan_targets,
    registered_sites,
    site_id_for_url,
)

__all__ = [
    "ZERO_CONFIG_SPIDER",
    "CrawlOutcome",
    "CrawlTarget",
    "crawl_site",
    "crawl_sites",
    "plan_targets",
    "registered_sites",
    "site_id_for_url",
]
