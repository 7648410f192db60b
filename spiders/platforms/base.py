"""The one spider all credcheck spiders are configured from.

Discovery: start URLs ending in ``robots.txt`` or ``.xml`` are read as sitemaps (robots.txt
``Sitemap:`` lines, sitemap indexes, url sets: Scrapy's SitemapSpider); any other start URL is a
listing page, whose profile links are followed, and whose next pages / sub-listings are read
the same way. Profile URLs are recognised by ``profile_pattern``, whose first non-empty capture
group becomes the item's ``ref``.

Parsing: every profile page goes through the generic extractors (spiders.extract); per-site
quirks belong in the ``post_process_item`` hook, never in a copy of the parser.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import ParseResult, SplitResult, urlsplit

from scrapy import Request
from scrapy.http import Response, TextResponse
from scrapy.spiders import SitemapSpider

from spiders.extract import detect_soft_404, extract_listing
from spiders.extract.text import is_physician
from spiders.items import ListingItem, new_listing

logger = logging.getLogger(__name__)

# Profile URL shapes seen on real directories (docs: crawl-shapes.md); group 1.. is the ref.
GUESSED_PROFILE_PATTERN = "|".join(
    (
        r"/doctors?/(?:[^/?#]*-)?(\d+)/?$",  # /doctors/jane-q-doe-10482
        r"/physician-directory/([\w-]+)/?$",  # /physician-directory/12345
        r"/(?:find-a-doctor|providers?|physicians?)/(?:profile/)?([\w-]*\d[\w-]*)/?$",
        r"/faculty/([\w-]+)/?$",  # /faculty/jane-doe
        r"/(?:en/)?persons/([\w-]+)/?$",  # Elsevier Pure
        r"/people/([\w-]+)/?$",
    )
)
# Listing pages: the directory's entry page and its paginated / A-Z / department views.
GUESSED_LISTING_PATTERN = (
    r"/(?:find-a-(?:doctor|physician|provider)|doctors|physicians|providers|faculty|people"
    r"|directory|our-doctors)/?(?:\?.*)?$"
)
# Link text that leads from a home page into a directory, and text of "next page" links.
DIRECTORY_LINK_TEXT = re.compile(
    r"\b(find a (doctor|physician|provider)|our (doctors|physicians|faculty)|faculty directory"
    r"|physician directory|provider directory)\b",
    re.I,
)
NEXT_LINK_TEXT = re.compile(r"^\s*(next( page)?|›|»|>)\s*$", re.I)
SITEMAP_URL = re.compile(r"(/robots\.txt|\.xml|\.xml\.gz)$", re.I)


def arrival_time() -> str:
    """Time of arrival, as close as a callback gets: parsing starts right after download."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def netloc_of(url: str | SplitResult | ParseResult) -> str:
    """host:port with the default port filled in: sites on one host differ by port.

    Takes a URL or its parsed parts (``urlparse_cached(request)``: parsed once per request).
    """
    parts = urlsplit(url) if isinstance(url, str) else url
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return f"{(parts.hostname or '').lower()}:{port}"


class DirectorySpider(SitemapSpider):
    """Base spider: configure with class attributes (a registry entry sets the same names)."""

    name: ClassVar[str]
    site_id: str | None = None
    platform = "generic"
    start_urls: Iterable[str] = ()
    profile_pattern: str | None = GUESSED_PROFILE_PATTERN
    listing_pattern: str | None = GUESSED_LISTING_PATTERN
    since: str | None = None  # -a since=2025-01-31: skip sitemap entries not modified since
    # Extra keys a registry entry may set for this platform (credentials, page size ...).
    registry_options: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # applies -a arguments as attributes first
        self.start_urls = list(self.start_urls)
        if not self.site_id and self.start_urls:
            self.site_id = urlsplit(self.start_urls[0]).netloc  # zero-config: host:port
        self.profile_re = re.compile(self.profile_pattern) if self.profile_pattern else None
        self.listing_re = re.compile(self.listing_pattern) if self.listing_pattern else None
        # Offsite filtering by host:port (spiders.middlewares.NetlocOffsiteMiddleware).
        self.allowed_netlocs = {netloc_of(url) for url in self.start_urls}
        # Pages known unchanged since the last run without fetching them (304, old lastmod).
        self.unchanged_urls: set[str] = set()

    @property
    def sitemap_rules(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return [(self.profile_pattern, "parse_profile")]

    async def start(self) -> AsyncIterator[Any]:
        for url in self.start_urls:
            if SITEMAP_URL.search(urlsplit(url).path):
                yield Request(url, callback=self._parse_sitemap)
            else:
                yield Request(url, callback=self.parse_listing)

    # -- discovery ---------------------------------------------------------------------------
    def sitemap_filter(self, entries: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """With ``since``, skip entries whose <lastmod> is older: a re-crawl fetches only what
        changed (applies to child sitemaps in an index as well as to profile URLs)."""
        for entry in entries:
            lastmod = (entry.get("lastmod") or "")[:10]
            if self.since and lastmod and lastmod < self.since[:10]:
                self.crawler.stats.inc_value("credcheck/sitemap/not_modified_skipped")
                self.unchanged_urls.add(entry["loc"])
                continue
            yield entry

    def ref_for(self, url: str) -> str:
        match = self.profile_re.search(url) if self.profile_re else None
        groups = [g for g in (match.groups() if match else ()) if g]
        return groups[0] if groups else url

    def parse_listing(self, response: Response) -> Iterator[Request]:
        """Follow profile links, next-page links (``<link rel=next>`` in the head too) and
        listing views; nothing else."""
        if not isinstance(response, TextResponse):
            return
        self.crawler.stats.inc_value("credcheck/pages/listing")
        for link in response.css("a[href], link[rel~=next][href]"):
            url = response.urljoin(link.attrib["href"]).split("#")[0]
            if not url.startswith(("http://", "https://")):
                continue
            if self.profile_re and self.profile_re.search(url):
                yield Request(url, callback=self.parse_profile)
            elif self.is_listing_link(url, link):
                yield Request(url, callback=self.parse_listing)

    def is_listing_link(self, url: str, link: Any) -> bool:
        label = " ".join(link.css("::text").getall()) or link.attrib.get("aria-label", "")
        return bool(
            (self.listing_re and self.listing_re.search(url))
            or link.attrib.get("rel") == "next"
            or NEXT_LINK_TEXT.match(label)
            or DIRECTORY_LINK_TEXT.search(label)
        )

    # -- parsing -----------------------------------------------------------------------------
    def parse_profile(self, response: Response) -> Iterator[ListingItem]:
        stats = self.crawler.stats
        stats.inc_value("credcheck/pages/profile")
        if not isinstance(response, TextResponse):
            stats.inc_value("credcheck/pages/not_html")
            return
        if detect_soft_404(response):
            stats.inc_value("credcheck/soft_404")
            logger.info("Soft 404 (page says not found): %s", response.url)
            return
        fetched_at = arrival_time()
        found = extract_listing(response)
        if found is None:
            stats.inc_value("credcheck/no_person_found")
            logger.warning("No person found on profile page %s", response.url)
            return
        extractor, fields = found
        if extractor == "html" and b"application/ld+json" in response.body:
            stats.inc_value("credcheck/faults/malformed_jsonld")  # read from HTML instead
        item = self.make_item(
            fields,
            extractor,
            url=response.url,
            fetched_at=fetched_at,
            content_hash=hashlib.sha256(response.body).hexdigest(),
            ref=self.ref_for(response.url),
            response=response,
        )
        yield from self.post_process_item(item, response)

    def make_item(
        self,
        fields: dict[str, Any],
        extractor: str,
        *,
        url: str,
        fetched_at: str,
        content_hash: str,
        ref: str,
        response: Response | None = None,
        sources: list[dict] | None = None,
        primary: tuple[str, str, list[str]] | None = None,
    ) -> ListingItem:
        """The item with its provenance: which URL, fetch time and extractor gave each field
        (``extras.provenance``; ``primary`` = (url, fetch time, fields) when the extractor's
        fields came from another URL than the item's, as an API record behind a portal page),
        the HTTP validators for the next run's conditional request
        (``extras.http``), and whether the listing shows a physician (``extras.is_physician``:
        faculty systems list researchers too)."""
        self.crawler.stats.inc_value(f"credcheck/items/{extractor}")
        extras = dict(fields.get("extras") or {})
        carded = extras.pop("card_filled", None)  # {"url", "fetched_at", "fields"}: from a card
        borrowed = set(extras.get("html_filled") or ()) | set(carded["fields"] if carded else ())
        filled = [k for k, v in fields.items() if v not in (None, [], {}) and k != "extras"]
        provenance = [
            {"url": url, "fetched_at": fetched_at, "extractor": extractor,
             "fields": [f for f in filled if f not in borrowed]},
        ]  # fmt: skip
        if primary is not None:
            provenance = [{"url": primary[0], "fetched_at": primary[1], "extractor": extractor,
                           "fields": primary[2]}]  # fmt: skip
        elif extras.get("html_filled"):
            provenance.append(
                {"url": url, "fetched_at": fetched_at, "extractor": "html",
                 "fields": sorted(extras["html_filled"])}
            )  # fmt: skip
        if carded:
            provenance.append({**carded, "extractor": "card", "fields": sorted(carded["fields"])})
        extras["provenance"] = provenance + list(sources or [])
        extras["is_physician"] = is_physician(fields.get("degrees") or [], fields.get("job_title"))
        if response is not None:
            validators = {
                key: value.decode("latin-1")
                for key, header in (("etag", b"ETag"), ("last_modified", b"Last-Modified"))
                if (value := response.headers.get(header))
            }
            if validators:
                extras["http"] = validators
        return new_listing(
            **{**fields, "extras": extras},
            site_id=self.site_id,
            source_url=url,
            fetched_at=fetched_at,
            content_hash=content_hash,
            extractor=extractor,
            ref=ref,
        )

    def post_process_item(self, item: ListingItem, response: Response) -> Iterable[ListingItem]:
        """Per-site hook: adjust or drop the item. The default passes it through."""
        yield item
