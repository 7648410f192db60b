"""Zero-config crawl of a directory never seen before.

    scrapy crawl directory -a url=https://www.example-hospital.org/ [-a site_id=ID]
        [-a profile_pattern=REGEX] [-a listing_pattern=REGEX]

Reads robots.txt for sitemaps and, at the same time, walks the start page's directory links
and pages; profile URLs are recognised by the usual shapes unless a pattern is given.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from spiders.platforms.base import SITEMAP_URL, DirectorySpider


class DirectoryZeroConfigSpider(DirectorySpider):
    name = "directory"
    platform = "zero_config"

    def __init__(self, url: str | None = None, **kwargs: Any) -> None:
        if not url:
            raise ValueError("usage: scrapy crawl directory -a url=START_URL [-a site_id=ID]")
        parts = urlsplit(url)
        robots = urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", ""))
        starts = [url] if SITEMAP_URL.search(parts.path) else [robots, url]
        super().__init__(start_urls=starts, **kwargs)
