"""Zero-config crawl of a directory never seen before.

    scrapy crawl directory -a url=https://www.example-hospital.org/ [-a site_id=ID]
        [-a profile_pattern=REGEX] [-a listing_pattern=REGEX] [-a mode=discover]

Reads robots.txt for sitemaps and, at the same time, walks from the start page; which URLs
are profiles and listings is learned from the pages' content (spiders.platforms.discover).
A pattern given here is taken as known and spares the learning.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from spiders.platforms.base import SITEMAP_URL
from spiders.platforms.discover import DiscoverySpider


class DirectoryZeroConfigSpider(DiscoverySpider):
    name = "directory"
    platform = "zero_config"

    def __init__(self, url: str | None = None, **kwargs: Any) -> None:
        if not url:
            raise ValueError("usage: scrapy crawl directory -a url=START_URL [-a site_id=ID]")
        parts = urlsplit(url)
        robots = urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", ""))
        starts = [url] if SITEMAP_URL.search(parts.path) else [robots, url]
        super().__init__(start_urls=starts, **kwargs)
