"""Zero-configuration crawling: the site's pages say what they are, the crawl learns its URLs.

From any start URL (a home page, a directory page, a results page) and the site's robots.txt
sitemaps, every URL found is offered to the site's learner (spiders.discovery.learner), which
samples each URL template and crawls the templates whose pages are profiles or listings, as
their content shows (spiders.discovery.classify). Profile pages become listings through the
usual extractors; result cards become listings (extractor ``card``) when their profile cannot be
had, and fill the profile's gaps when it can. What was learned is written at the end
(``CREDCHECK_DISCOVERY_PATH``) and, given back the next run (``CREDCHECK_PREVIOUS_PATH``, key
``discovery``), spares the sampling.

Politeness is the platform's: robots.txt obeyed, and samples are ordinary requests in the site's
download slot.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response, TextResponse

from spiders.discovery.classify import (
    GONE,
    LISTING,
    OTHER,
    PROFILE,
    PageClass,
    classify_page,
    is_view_of,
    page_fingerprint,
    sub_listings,
)
from spiders.discovery.learner import (
    CHROME,
    HIGH,
    LOW,
    MIXED,
    SITEMAP,
    UNKNOWN,
    Fetch,
    SiteLearner,
    canonical,
)
from spiders.discovery.links import CHROME as CHROME_LINK
from spiders.discovery.links import CONTENT, ENTRY, PAGINATION, PERSON, Link, page_links
from spiders.discovery.report import discovery_report
from spiders.discovery.templates import template_ref
from spiders.extract import extract_html, extract_listing, fill_gaps
from spiders.items import ListingItem
from spiders.platforms.base import SITEMAP_URL, DirectorySpider, arrival_time, netloc_of

logger = logging.getLogger(__name__)

# Link role -> offer priority, on a listing page and on any other page.
ON_LISTING = {PERSON: HIGH, PAGINATION: HIGH, ENTRY: HIGH, CONTENT: SITEMAP, CHROME_LINK: CHROME}
ELSEWHERE = {PERSON: HIGH, PAGINATION: SITEMAP, ENTRY: HIGH, CONTENT: LOW, CHROME_LINK: CHROME}
# Where sitemaps usually are when robots.txt does not say (tried in turn, until one is).
SITEMAP_PROBES = ("/sitemap.xml", "/sitemap_index.xml", "/sitemap.xml.gz")
ROLE_ORDER = {ENTRY: 0, PAGINATION: 1, PERSON: 2, CONTENT: 3, CHROME_LINK: 4}
# Scrapy request priorities: sitemaps first (they name the most), then samples (they decide
# groups), then listing pages (they find people), then the rest.
REQUEST_PRIORITY = {"sitemap": 40, "sample": 30, LISTING: 20, "mixed": 10}


class DiscoverySpider(DirectorySpider):
    """Zero-config: start URLs are robots.txt / sitemaps or any page of the site."""

    platform = "discover"
    profile_pattern = None  # learned; a registry entry's pattern is taken as known
    listing_pattern = None
    mode = "crawl"  # -a mode=discover: learn the templates, fetch a preview of each
    sample_budget = 40
    registry_options = ("sample_budget",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pending_cards: dict[str, dict] = {}  # profile URL -> the card that links it
        self.listing_forms: Counter = Counter()  # pagination kinds seen on listing pages
        self.entry: str | None = None  # the first listing page reached
        self.sitemaps: list[str] = []
        self.samples: list[dict] = []  # the first few listings, for `credcheck discover`
        self.offsite_people: set[str] = set()  # profile links to other sites, seen on listings
        self.cards_seen = False  # a listing showed result cards: the site has shown people
        # Pages wait while sitemaps are out: what the sitemaps name is known before a listing
        # page is judged by the people it leads to (new ones, or ones a sitemap named).
        self.sitemaps_out = 0
        self.held: list[Request] = []
        # Sitemaps wait while the start page's directory is read (None: they are read at once).
        # They are for profiles: the first profile read sends them; a directory whose people
        # are all result cards, no profile reachable behind them (off-site, unlinked, forbidden
        # or broken links), is what the site has of them, and they are left unread.
        self.sitemaps_waiting: list[Request] | None = None
        self.profiles_read = 0
        # Filtered views of a listing (its A-Z letters, its departments) wait till the crawl has
        # nothing else to do: the full list they filter is walked first, and they are judged
        # against it (people they only repeat make them redundant, not news).
        self.views_later: list[Request] = []
        self.answers: dict[str, str] = {}  # fingerprint of an "other" page -> its first address
        self.shown_on: dict[str, str] = {}  # person (profile URL, card) -> the listing template
        # that showed them first
        # Cards whose profile link failed, as (card, why): listings at the end, unless a profile
        # of the same ref was read meanwhile (a broken link to a profile another link reaches)
        self.stand_ins: list[tuple[dict, str]] = []
        self.profile_refs: set[str] = set()
        # The people the site's lists (listing pages but for filtered views) showed, by the
        # number of results the pages said their list holds (None: a page that said none).
        self.listed: dict[int | None, set[str]] = {}

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> DiscoverySpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        patterns = tuple(
            (regex, kind)
            for regex, kind in (
                (spider.profile_pattern, PROFILE),
                (spider.listing_pattern, LISTING),
            )
            if regex
        )
        spider.learner = SiteLearner(
            budget=int(spider.sample_budget),
            prior=spider.previous_discovery(crawler.settings.get("CREDCHECK_PREVIOUS_PATH")),
            crawl=spider.mode != "discover",
            seed=spider.site_id or "",
            patterns=patterns,
        )
        crawler.signals.connect(spider.on_idle, signal=signals.spider_idle)
        return spider

    @staticmethod
    def previous_discovery(path: str | None) -> dict | None:
        if not path or not Path(path).exists():
            return None
        return json.loads(Path(path).read_text()).get("discovery")

    @property
    def sitemap_rules(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return [("", "parse_page")]  # every sitemap URL; the learner decides

    async def start(self) -> AsyncIterator[Any]:
        if not all(SITEMAP_URL.search(urlsplit(url).path) for url in self.start_urls):
            self.sitemaps_waiting = []  # a page to start from: its directory first
        for url in self.start_urls:
            if SITEMAP_URL.search(urlsplit(url).path):
                self.sitemaps_out += 1
                yield Request(
                    url,
                    self._parse_sitemap,
                    errback=self.on_sitemap_error,
                    priority=REQUEST_PRIORITY["sitemap"],
                    meta={"probes": SITEMAP_PROBES if url.endswith("/robots.txt") else ()},
                )
                continue
            yield self.request_for(self.learner.start(url), start=True)

    # -- requests ---------------------------------------------------------------------------------
    def request_for(self, fetch: Fetch, *, start: bool = False) -> Request:
        kind = self.learner.groups[fetch.template].kind
        priority = REQUEST_PRIORITY.get(fetch.purpose, REQUEST_PRIORITY.get(kind, 0))
        return Request(
            fetch.url,
            callback=self.parse_page,
            errback=self.on_error,
            priority=priority,
            dont_filter=True,  # the learner never offers a URL twice
            meta={"template": fetch.template, "learn_url": fetch.url, "start": start},
        )

    def requests_for(self, fetches: Iterable[Fetch]) -> Iterator[Request]:
        """Requests for the learner's fetches; held while sitemaps are out (``sitemaps_out``),
        and but for samples while they wait (``sitemaps_waiting``)."""
        for fetch in fetches:
            if fetch.purpose == "sample":
                self.crawler.stats.inc_value("credcheck/discovery/samples")
            if not self.learner.views_open and self.learner.is_view(fetch.template):
                self.views_later.append(self.request_for(fetch))
            elif self.sitemaps_out > 0 or (
                self.sitemaps_waiting is not None and fetch.purpose != "sample"
            ):
                self.held.append(self.request_for(fetch))
            else:
                yield self.request_for(fetch)

    def same_site(self, url: str) -> bool:
        return netloc_of(url) in self.allowed_netlocs

    # -- sitemaps ---------------------------------------------------------------------------------
    def _parse_sitemap(self, response: Response) -> Iterator[Request]:
        self.sitemaps_out -= 1
        fetches: list[Fetch] = []
        found = list(super()._parse_sitemap(response))
        if not found and response.meta.get("probes"):
            # No Sitemap line (or nothing at the place tried): the conventional places, one
            # request each, until one is a sitemap.
            found = [self.probe(response.url, response.meta["probes"])]
        else:
            self.sitemaps += [response.url] if not response.url.endswith("/robots.txt") else []
        for request in found:
            if request.callback == self._parse_sitemap:
                yield from self.sitemap_request(request.replace(
                    priority=REQUEST_PRIORITY["sitemap"],
                    errback=self.on_sitemap_error,
                    meta={**request.meta, "probes": request.meta.get("probes", ())},
                ))  # fmt: skip
            elif self.same_site(request.url):
                fetches += self.learner.offer(request.url, SITEMAP, "sitemap")
            else:
                self.crawler.stats.inc_value("offsite/filtered")
        yield from self.requests_for(fetches + self.learner.flush())
        yield from self.release_held()

    def sitemap_request(self, request: Request) -> Iterator[Request]:
        """A sitemap (or a conventional place to look for one): fetched now, or kept while
        sitemaps wait."""
        if self.sitemaps_waiting is not None:
            self.sitemaps_waiting.append(request)
            return
        self.sitemaps_out += 1
        yield request

    def read_sitemaps(self) -> Iterator[Request]:
        """The sitemaps that waited: now (the pages held meanwhile wait for them)."""
        waiting, self.sitemaps_waiting = self.sitemaps_waiting or [], None
        self.sitemaps_out += len(waiting)
        yield from waiting
        yield from self.release_held()

    def release_held(self) -> Iterator[Request]:
        """The pages that waited for the sitemaps, once none is out."""
        if self.sitemaps_out <= 0 and self.sitemaps_waiting is None and self.held:
            held, self.held = self.held, []
            yield from held

    def probe(self, url: str, places: tuple[str, ...]) -> Request:
        parts = urlsplit(url)
        there = urlunsplit((parts.scheme, parts.netloc, places[0], "", ""))
        self.crawler.stats.inc_value("credcheck/discovery/sitemap_probes")
        return Request(there, callback=self._parse_sitemap, meta={"probes": places[1:]})

    def on_sitemap_error(self, failure: Any) -> Iterator[Request]:
        """A sitemap (or robots.txt) that cannot be had: try the next conventional place."""
        self.crawler.stats.inc_value("credcheck/discovery/sitemap_unavailable")
        self.sitemaps_out -= 1
        request = failure.request
        if places := request.meta.get("probes"):
            yield from self.sitemap_request(self.probe(request.url, places).replace(
                priority=REQUEST_PRIORITY["sitemap"], errback=self.on_sitemap_error
            ))  # fmt: skip
        yield from self.release_held()

    # -- pages ------------------------------------------------------------------------------------
    def parse_page(self, response: Response) -> Iterator[Any]:
        meta = response.meta
        stats = self.crawler.stats
        if not isinstance(response, TextResponse):
            stats.inc_value("credcheck/pages/not_html")
            yield from self.requests_for(
                self.learner.observe(meta["learn_url"], meta["template"], OTHER)
            )
            return
        page = classify_page(response)
        fetches: list[Fetch] = []
        if page.kind == OTHER and (first := self.same_answer(response)):
            # A 200 answer worded as no error page we know, given for two addresses: the
            # site's page for a missing one (never a profile, a listing, or a reason to sample).
            page = PageClass(GONE, (f"the same page as at {first}: the site's missing page",))
            fetches += self.learner.reclassify(first, GONE)
        stats.inc_value(f"credcheck/discovery/pages/{page.kind}")
        card = self.pending_cards.pop(canonical(meta["learn_url"]), None)
        if page.kind == PROFILE:
            self.profiles_read += 1
            stats.inc_value("credcheck/pages/profile")
            yield from self.profile_items(response, page, card)
        elif card is not None:
            self.stand_ins.append((card, f"profile link led to a {page.kind} page"))
        new_people = 0
        if page.kind in (LISTING, OTHER) or meta.get("start"):
            links = list(page.links) or page_links(response.selector.root, response.url)
            new_people, fetches = self.offer_links(
                links,
                page,
                response.url,
                start=bool(meta.get("start")),
                entry=meta["template"].startswith("="),
            )
        undecided = 0  # cards whose profile is not read yet
        if page.kind == LISTING:
            # People known only by their cards are people this listing found too.
            for card in page.cards:
                profile = card["profile_url"]
                key = profile or (card.get("name") or "").casefold()
                group = self.learner.group_kind(profile) if profile else None
                read_as = self.learner.fetched_as(profile) if profile else None
                if group in (UNKNOWN, PROFILE, MIXED) and read_as is None and self.same_site(
                    profile
                ):
                    # News or not as its profile will read: a profile, or a broken link or
                    # one robots.txt keeps us from (then the card is all there is of them).
                    undecided += 1
                    self.offsite_people.add(key)  # (seen here first, whatever it is)
                    continue
                # A card is news unless its profile was read as a profile.
                covered = profile and self.same_site(profile) and read_as == PROFILE
                if not covered:
                    new_people += key not in self.offsite_people
                    self.offsite_people.add(key)
            stats.inc_value("credcheck/pages/listing")
            if not self.learner.is_view(meta["template"]):
                self.listed.setdefault(page.total, set()).update(self.people_keys(page))
            self.cards_seen = self.cards_seen or bool(page.cards)
            self.entry = self.entry or response.url
            self.listing_forms.update(page.pagination)
            yield from self.hold_cards(page, response)
        people = len(self.people_keys(page))  # (a card and its profile link: one person)
        judged = not (undecided and not new_people)  # (cards that may yet be news: no verdict)
        if self.sitemaps_waiting is not None:
            judged = False  # (people the sitemaps, still unread, may name: no verdict either)
        # (a letter of one person reads as no listing, but is one of its group's pages)
        view = self.learner.is_view(meta["template"])
        shown_before = (
            self.shown_before(page, meta["template"])
            if page.kind == LISTING or (page.kind == OTHER and view)
            else 0
        )
        if shown_before and self.learner.views_open and view:
            # A filtered view showing only people the walked lists showed: whatever their
            # profiles turn out to be, those lists' cards stand for them.
            judged = True
        fetches += self.learner.observe(
            meta["learn_url"],
            meta["template"],
            page.kind,
            people=people if judged else 0,
            new_people=new_people,
            judged=judged,
            shown_before=shown_before,
        )
        yield from self.sitemaps_if_settled()
        # A sample that found a profile gave its budget back: groups that waited may go now.
        yield from self.requests_for(fetches + self.learner.flush())

    def sitemaps_if_settled(self) -> Iterator[Request]:
        """The sitemaps that wait, once a profile was read or the start page has led to no
        directory (no listing read or known by its place, no sample still out: an entry page,
        a filter of one)."""
        if self.sitemaps_waiting is None:
            return
        directory = self.entry is not None or any(
            g.kind == LISTING or (g.kind == UNKNOWN and g.in_flight)
            for g in self.learner.groups.values()
        )
        if self.profiles_read or not directory:
            yield from self.read_sitemaps()

    @staticmethod
    def people_keys(page: PageClass) -> set[str]:
        """The people a listing page shows: their profile links, or their cards' names."""
        return {canonical(link.url) for link in page.links if link.role == PERSON} | {
            canonical(card["profile_url"]) if card["profile_url"]
            else "card:" + (card.get("name") or "").casefold()
            for card in page.cards
        }  # fmt: skip

    def shown_before(self, page: PageClass, template: str) -> int:
        """How many people this listing page shows when every one of them was shown before on
        a listing of another template (the same directory seen another way: its A-Z letters
        after its full list); 0 when any of them was not."""
        keys = self.people_keys(page)
        earlier = [self.shown_on.setdefault(key, template) for key in keys]
        return len(keys) if all(t != template for t in earlier) else 0

    def lists_whole(self) -> bool:
        """Every list the crawl walked said how many results it holds, and showed that many
        people: the lists are whole, and their filtered views (A-Z letters, departments) can
        only show them again."""
        return bool(self.listed) and all(
            total is not None and len(people) >= total for total, people in self.listed.items()
        )

    def same_answer(self, response: Response) -> str | None:
        """The address that gave this very page before (see ``page_fingerprint``), if any."""
        here = canonical(response.meta["learn_url"])
        first = self.answers.setdefault(page_fingerprint(response), here)
        return first if first != here else None

    def offer_links(
        self,
        links: list[Link],
        page: PageClass,
        page_url: str,
        *,
        start: bool = False,
        entry: bool = False,
    ) -> tuple[int, list[Fetch]]:
        priorities = ON_LISTING if page.kind == LISTING else ELSEWHERE
        fetches: list[Fetch] = []
        new_people = 0
        # A listing's department views are listings by their place; so are those of a page
        # reached as the directory's entry that is an index of views without cards of its own
        # ("Browse by department"), but for the home page, of which every page is a view.
        index = page.kind == LISTING or (entry and urlsplit(page_url).path.strip("/") != "")
        views = (
            {link.url: True for link in links if is_view_of(link.url, page_url)}
            if index and sub_listings(links, page_url) >= 3
            else {}
        )
        # Another page's filtered views of itself (``?dept=cardiology`` beside ``?dept=urology``)
        # are few when its directory is small: worth a sample each template, whatever the page
        # itself showed (an index of two departments reads as no listing).
        here = urlsplit(page_url).path
        filters = {
            link.url
            for link in links
            if here.strip("/") and link.role == CONTENT and urlsplit(link.url).path == here
            and is_view_of(link.url, page_url)
        }  # fmt: skip
        # A start page without a link that says "directory": its own content links are where a
        # user would click next, each a candidate entry of its own.
        guess_entries = (
            start and page.kind != LISTING and not any(link.role == ENTRY for link in links)
        )
        # A URL linked twice (a menu item and a button) is offered in its most telling role.
        for link in sorted(links, key=lambda link: ROLE_ORDER[link.role]):
            if link.role == PERSON and not self.same_site(link.url):
                # People whose profiles live elsewhere are still people this listing found.
                new_people += canonical(link.url) not in self.offsite_people
                self.offsite_people.add(canonical(link.url))
            if not self.same_site(link.url):
                # Counted as Scrapy's offsite filter counts what it drops (a card may still
                # be the listing of an off-site profile).
                self.crawler.stats.inc_value("offsite/filtered")
                continue
            if SITEMAP_URL.search(urlsplit(link.url).path):
                continue
            if link.role == PERSON and self.learner.is_new(link.url):
                new_people += 1
            candidate = guess_entries and link.role == CONTENT
            fetches += self.learner.offer(
                link.url,
                max(priorities[link.role], SITEMAP)
                if candidate or link.url in filters
                else priorities[link.role],
                link.role,
                entry=link.role == ENTRY or candidate,
                # A listing's own pages and its department views are listings by their place.
                paging=(page.kind == LISTING and link.role == PAGINATION)
                or (link.role == CONTENT and bool(views.get(link.url))),
                view=(page.kind == LISTING and link.form == "a-z letters")
                or (link.role == CONTENT and bool(views.get(link.url))),
            )
        return new_people, fetches + self.learner.flush()

    def profile_items(
        self, response: Response, page: PageClass, card: dict | None
    ) -> Iterator[ListingItem]:
        stats = self.crawler.stats
        found = extract_listing(response)
        if found is not None and page.syntax == "html" and found[0] != "html":
            # Structured data about someone else (a reviewer): the page's person is in its HTML.
            found = ("html", extract_html(response))
        if found is None or not found[1].get("name"):
            stats.inc_value("credcheck/no_person_found")
            if card is not None:
                yield self.card_item(card, why="no person could be read from the profile")
            return
        extractor, fields = found
        if extractor == "html" and b"application/ld+json" in response.body:
            stats.inc_value("credcheck/faults/malformed_jsonld")  # read from HTML instead
        if card is not None:
            fields = self.fill_from_card(fields, card)
        fields.setdefault("extras", {})
        fields["extras"] = {**fields["extras"], "page_evidence": list(page.evidence)}
        item = self.make_item(
            fields,
            extractor,
            url=response.url,
            fetched_at=arrival_time(),
            content_hash=hashlib.sha256(response.body).hexdigest(),
            ref=self.ref_for(response.url)
            if self.profile_re and self.profile_re.search(response.url)
            else template_ref(response.url, key=self.learner.ref_key(response.url)),
            response=response,
        )
        self.profile_refs.add(item["ref"])
        if item["extras"].get("is_physician") is None and page.physician is not None:
            item["extras"]["is_physician"] = page.physician  # the page's type or title says
        self.keep_sample(item)
        yield from self.post_process_item(item, response)

    @staticmethod
    def fill_from_card(fields: dict, card: dict) -> dict:
        """The profile wins; the card fills what the profile lacks (counted in provenance)."""
        card_fields = {k: v for k, v in card["fields"].items() if k != "extras"}
        extras = fields.get("extras") or {}
        merged = fill_gaps({**fields, "extras": {}}, card_fields)
        filled = merged["extras"].get("html_filled") or []  # fill_gaps names what it borrowed
        merged["extras"] = dict(extras)
        if filled:
            merged["extras"]["card_filled"] = {
                "url": card["listing_url"], "fetched_at": card["fetched_at"], "fields": filled,
            }  # fmt: skip
        return merged

    # -- result cards -----------------------------------------------------------------------------
    def hold_cards(self, page: PageClass, response: Response) -> Iterator[ListingItem]:
        """Cards whose profile may be fetched wait for it; the others are listings now."""
        fetched_at = arrival_time()
        content_hash = hashlib.sha256(response.body).hexdigest()
        for fields in page.cards:
            card = {
                "fields": {
                    k: v for k, v in fields.items() if k not in ("profile_url", "card_index")
                },
                "profile_url": fields["profile_url"],
                "listing_url": response.url,
                "fetched_at": fetched_at,
                "content_hash": content_hash,
            }
            profile = fields["profile_url"]
            if profile and self.same_site(profile):
                seen_as = self.learner.fetched_as(profile)
                if seen_as is None:  # not fetched yet: the profile may still come
                    self.pending_cards.setdefault(canonical(profile), card)
                elif seen_as != PROFILE:
                    self.stand_ins.append((card, f"profile link led to a {seen_as} page"))
                continue  # (a profile already read stands on its own)
            yield self.card_item(card, why="off-site profile" if profile else "no profile link")

    def card_ref(self, card: dict) -> str:
        """The card's key in the site: its profile's, or its name's when it links none."""
        if profile := card["profile_url"]:
            return template_ref(profile, key=self.learner.ref_key(profile))
        name = (card["fields"].get("name") or "").lower()
        return "card:" + re.sub(r"[^a-z0-9]+", "-", name).strip("-")

    def card_item(self, card: dict, *, why: str) -> ListingItem:
        self.crawler.stats.inc_value("credcheck/discovery/cards_as_listings")
        fields = {**card["fields"], "extras": {"profile_url": card["profile_url"], "card": why}}
        ref = self.card_ref(card)
        item = self.make_item(
            fields,
            "card",
            url=card["listing_url"],
            fetched_at=card["fetched_at"],
            content_hash=card["content_hash"],
            ref=ref,
        )
        self.keep_sample(item)
        return item

    def on_error(self, failure: Any) -> Iterator[Any]:
        """A fetch that failed (HTTP error, robots.txt, network): the page is gone; a card that
        waited for it becomes a listing."""
        request = failure.request
        meta = request.meta
        self.crawler.stats.inc_value("credcheck/discovery/pages/gone")
        card = self.pending_cards.pop(canonical(meta["learn_url"]), None)
        if card is not None:
            self.stand_ins.append((card, f"profile unreachable ({type(failure.value).__name__})"))
        fetches = self.learner.observe(meta["learn_url"], meta["template"], GONE)
        yield from self.sitemaps_if_settled()
        yield from self.requests_for(fetches + self.learner.flush())

    def on_idle(self) -> None:
        """Nothing left to fetch: explore links of low priority if no profile was found yet;
        then release the cards whose profile was never fetched."""
        self.sitemaps_out = 0  # (nothing is out: a sitemap request was dropped unanswered)
        held, self.held = self.held, []
        if not held and not self.learner.views_open:
            # Every list is walked: its filtered views now (and from now on, as they come) —
            # unless the lists said how many they hold and showed that many.
            self.learner.views_open = True
            held, self.views_later = self.views_later, []
            if held and self.lists_whole():
                self.crawler.stats.inc_value("credcheck/discovery/views_left", len(held))
                self.learner.leave_views()
                held = []
        if not held and self.sitemaps_waiting is not None and not self.cards_seen:
            # The start page's directory, if any, is walked and showed nobody: the sitemaps
            # now, before pages of lesser promise are tried.
            held = list(self.read_sitemaps())
        fetches = []
        if not held:
            fetches = self.learner.flush() or self.learner.explore(cards=self.cards_seen)
        for request in [*held, *self.requests_for(fetches)]:
            self.crawler.engine.crawl(request)
        if held or fetches:
            raise DontCloseSpider
        if self.sitemaps_waiting is not None:
            # A directory of result cards walked whole, no profile behind them: the cards are
            # what the site has of its people; its sitemaps would name pages about others.
            self.crawler.stats.inc_value("credcheck/discovery/sitemaps_unread",
                                         len(self.sitemaps_waiting))  # fmt: skip
            self.sitemaps_waiting = None
        cards = list(self.pending_cards.values()) if self.learner.crawl else []
        if cards or self.stand_ins:
            self.pending_cards = {}
            cards = [(card, "profile not crawled (its template was not kept)") for card in cards]
            cards, self.stand_ins = self.stand_ins + cards, []
            self.crawler.engine.crawl(
                Request("data:,", callback=self.release_cards, cb_kwargs={"cards": cards},
                        dont_filter=True, meta={"allow_offsite": True})
            )  # fmt: skip
            raise DontCloseSpider

    def release_cards(
        self, response: Response, cards: list[tuple[dict, str]]
    ) -> Iterator[ListingItem]:
        """Cards whose profile was not read become listings, but for those whose ref a profile
        that was read has (a broken link, beside another that reached the profile)."""
        for card, why in cards:
            if self.card_ref(card) in self.profile_refs:
                self.crawler.stats.inc_value("credcheck/discovery/cards_of_profiles_read")
                continue
            yield self.card_item(card, why=why)

    # -- what was learned -------------------------------------------------------------------------
    def keep_sample(self, item: ListingItem) -> None:
        if len(self.samples) < 5:
            self.samples.append(
                {k: item[k] for k in ("name", "degrees", "specialties", "extractor", "ref",
                                      "source_url")} | {"locations": item["locations"][:1]}
            )  # fmt: skip

    def closed(self, reason: str) -> None:
        path = self.crawler.settings.get("CREDCHECK_DISCOVERY_PATH")
        state = self.learner.state()
        report = discovery_report(
            start_url=self.start_urls[-1] if self.start_urls else None,
            entry=self.entry,
            sitemaps=self.sitemaps,
            pagination=[form for form, _ in self.listing_forms.most_common()],
            state=state,
            samples=self.samples,
            site_id=self.site_id,
        )
        logger.info("discovery: %s", json.dumps(report["summary"]))
        if path:
            Path(path).write_text(json.dumps(report, indent=1, default=str))
