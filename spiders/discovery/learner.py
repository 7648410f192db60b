"""The per-site learner: which URL templates of a site hold profiles and listings.

A small state machine per template group (spiders.discovery.templates): URLs are *offered* as
the crawl finds them (sitemap entries, links with a priority from their role); a group is
*sampled* — a few of its URLs fetched and their pages classified by content — and *decided*:
``profile``, ``listing`` or ``mixed`` groups are crawled whole, ``rejected`` ones are not fetched
again. Every fetch of a decided group is still judged by its content, and its yield counted: a
group learned in an earlier run that stops yielding is noticed (``stale``) and sampled afresh; a
listing group whose pages lead to nobody new is ``redundant`` (a second index of people already
found, by many of them; or by a few, each shown already on another of the site's listings) and
left.

Samples of undecided groups come out of a per-site budget (counting the samples that found
neither a profile nor a listing: those that did are pages the crawl wanted anyway). Groups
offered with a low priority (links in a page's content but not on a listing, or in the site's
menus) are sampled only when the crawl has found no people otherwise (``explore``). So are the
groups only a sitemap names (a site's news, events, leadership pages ... beside its
profiles): a directory lists its people, so once it has led to them those groups are left —
but for the members of a crawled group's family (``/dept/{other}/dr/{id}``); a site without
a directory has only its sitemap, and every group of it is sampled.

Pure Python, no Scrapy: the spider turns the returned ``Fetch``es into requests.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from spiders.discovery.classify import GONE, LISTING, OTHER, PROFILE
from spiders.discovery.templates import id_key, template_families, url_template

UNKNOWN, MIXED, REJECTED, REDUNDANT = "unknown", "mixed", "rejected", "redundant"
CRAWLED = frozenset({PROFILE, LISTING, MIXED})
# Offer priorities, from the role of the link or where the URL came from.
HIGH, SITEMAP, LOW, CHROME = 3, 2, 1, 0
SAMPLES = 2  # agreeing samples that decide a group (a group of one URL: one)
MAX_SAMPLES = 4  # a group whose samples disagree gets this many before it is decided
STALE_AFTER = 4  # fetches of a learned group without a profile or listing: it stopped yielding
REDUNDANT_AFTER = 3  # pages of a listing group that led to nobody new (empty ones too) ...
# ... showing this many people, all known: a directory whose share of people found nowhere else
# (a card whose profile link is broken) is 6% or more shows one among 50 with odds of 95%.
REDUNDANT_PEOPLE = 50
# ... or this many people, every one shown before on a listing of another template: the same
# directory seen another way (its A-Z letters after its full list), whatever its size.
RESHOWN_PEOPLE = 5
# A group of filtered views (A-Z letters, departments) read once the lists it filters were
# walked to their end: this many pages of it, each showing people and only people those lists
# showed, say it is them again (two, drawn at random: a list cut short after its first pages
# would show in one of them).
VIEW_REDUNDANT_AFTER = 2
MAX_ENTRIES = 8  # directory entry links tried per site
# Members of one template family (``/dept/{x}/dr/{id}``) sampled at once: the rest wait, and
# are decided by what those say of the family (inherited) or sampled after them.
FAMILY_SAMPLING = 2
# Dead addresses (errors, the site's missing page) sampled from this many members of a family,
# this many in all, and not one profile or listing among its samples: the family is left (a
# directory whose every profile link is broken: its cards are its listings). With a tenth of a
# directory's links broken, six dead samples in a row come one time in a million; one
# department robots.txt shuts is one member, whatever its samples.
DEAD_FAMILY_SAMPLES, DEAD_FAMILY_MEMBERS = 6, 3
DEAD_SAMPLES = 3  # dead addresses sampled from one group, more than its pages, no profile: left
SMALL_GROUP = 2  # sitemap groups this small are a site's own pages, explored only if needed


@dataclass(frozen=True)
class Fetch:
    url: str
    purpose: str  # "sample" (deciding a group) or "crawl" (a decided group)
    template: str


def canonical(url: str) -> str:
    """The URL as the learner compares it: no fragment, sorted query, no trailing slash."""
    parts = urlsplit(url)
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, query, ""))


@dataclass
class Group:
    template: str
    kind: str = UNKNOWN
    pending: list[tuple[int, str]] = field(default_factory=list)  # (priority, URL) not fetched
    priority: int = CHROME  # highest offer priority seen
    sampled_priority: int = -1  # highest priority among the samples taken
    samples: list[tuple[str, str]] = field(default_factory=list)  # (url, page kind)
    in_flight: int = 0  # samples requested, not yet observed
    outcomes: Counter = field(default_factory=Counter)  # page kind -> fetches
    new_people: int = 0  # people first found on this group's listing pages
    listing_pages: int = 0  # listing pages that led to people
    quiet_pages: int = 0  # pages of a listing group that led to nobody new (empty ones too)
    quiet_people: int = 0  # the people those pages showed, all known already
    reshown_people: int = 0  # ... all of them shown before on another template's listings
    reshown_pages: int = 0  # quiet pages with people, every one shown on another's listings
    reshown_only: bool = True  # every quiet page with people was one of those
    sources: set[str] = field(default_factory=set)
    example: str | None = None
    learned: bool = False  # decided in an earlier run
    late: bool = False  # sampled after the site's people were found: one sample decides
    stale: bool = False
    offered: int = 0
    query_values: dict[str, set[str]] = field(default_factory=dict)  # key -> up to 2 values
    view: bool = False  # linked as a filtered view of a listing (its A-Z letters, departments)
    known_listings: int = 0  # samples that were listings of people all found before

    @property
    def fetched(self) -> int:
        return sum(self.outcomes.values())

    def evidence(self) -> list[str]:
        return [kind for _, kind in self.samples if kind != GONE]


class SiteLearner:
    """Learn one site's templates (see the module doc)."""

    def __init__(
        self,
        *,
        budget: int = 40,
        prior: dict[str, Any] | None = None,
        crawl: bool = True,
        preview: int = 5,
        seed: str = "",
        patterns: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.budget = budget  # samples of undecided groups
        self.samples_used = 0
        self.samples_out: set[str] = set()  # sampled, not yet observed
        self.samples_wasted = 0  # sampled, found neither a profile nor a listing
        self.crawl = crawl  # False: learn only (credcheck discover), fetch a preview per group
        self.preview = preview
        self.groups: dict[str, Group] = {}
        self.seen: dict[str, str] = {}  # canonical URL -> group key
        self.entries_tried = 0
        self.sitemap_offers = 0  # URLs the sitemaps named
        self.fetched: dict[str, str] = {}  # canonical URL -> the page kind observed
        # canonical URL -> how the crawl came to it ("sitemap", "person" ...): an address two
        # independent sources name exists; a link alone may be broken
        self.named_by: dict[str, set[str]] = {}
        self.best_lead: dict[str, int] = {}  # canonical URL -> its best offer's priority
        self.random = random.Random(seed)
        self.stale: list[str] = []
        # The crawl has walked every list it found before turning to their filtered views.
        self.views_open = False
        # Configured patterns (a registry entry's profile_pattern ...): decided, never sampled.
        self.patterns = [(re.compile(regex), f"~{regex}") for regex, _ in patterns]
        for regex, kind in patterns:
            group = self.groups.setdefault(f"~{regex}", Group(f"~{regex}", kind=kind))
            group.sources.add("configured")
        for entry in (prior or {}).get("templates", []):
            kind = entry.get("kind")
            if entry.get("entry") or entry["template"].startswith("~"):
                continue  # single pages and configured patterns are not templates to carry
            if kind in CRAWLED or kind == REJECTED:
                group = self.groups.setdefault(entry["template"], Group(entry["template"]))
                group.kind, group.learned = kind, True
                group.sources.add("learned")

    # -- offers -----------------------------------------------------------------------------------
    def start(self, url: str) -> Fetch:
        """The start URL: fetched whatever it is (it is not a sample of anything)."""
        key = canonical(url)
        template = self.seen.setdefault(key, f"={key}")
        group = self.groups.setdefault(template, Group(template))
        group.offered += 1
        group.example = group.example or url
        group.sources.add("start")
        group.priority = HIGH
        return self._fetch(group, url, "sample")

    def offer(
        self,
        url: str,
        priority: int,
        source: str,
        *,
        entry: bool = False,
        paging: bool = False,
        view: bool = False,
    ) -> list[Fetch]:
        """A URL the crawl found: fetched at once when its group is decided for crawling,
        else kept for sampling (``flush``). ``paging``: a listing links it as one of its own
        pages (next, numbered, A-Z): its group is a listing by that place, without samples
        (a sample could be an empty letter). ``view``: a listing links it as a filtered view
        of itself (a letter, a department): its group is marked so (``is_view``). Returns what
        to fetch now."""
        key = canonical(url)
        if key in self.seen:  # offered again, maybe in a better role: the group knows it
            seen = self.groups[self.seen[key]]
            seen.priority = max(seen.priority, priority)
            seen.sources.add(source)
            self.named_by.setdefault(key, set()).add(source)
            self.best_lead[key] = max(self.best_lead.get(key, priority), priority)
            return []
        self.named_by[key], self.best_lead[key] = {source}, priority
        if entry and self.entries_tried >= MAX_ENTRIES:
            entry = False  # enough single pages tried: the rest go with their template
        if entry:
            self.entries_tried += 1
        template = next((name for regex, name in self.patterns if regex.search(url)), None)
        template = template or (f"={key}" if entry else url_template(url))
        group = self.groups.get(template)
        if group is None:
            group = self.groups[template] = Group(template)
            self._inherit(group)
        self.seen[key] = template
        group.offered += 1
        group.view = group.view or view
        for name, value in parse_qsl(urlsplit(url).query):
            values = group.query_values.setdefault(name.lower(), set())
            if len(values) < 2:
                values.add(value)
        self.sitemap_offers += source == "sitemap"
        group.sources.add(source)
        group.example = group.example or url
        group.priority = max(group.priority, priority)
        if paging and group.kind == UNKNOWN and not group.samples and not group.in_flight:
            group.kind = LISTING
            group.sources.add("paging")
        if group.kind in CRAWLED and (self.crawl or group.fetched + group.in_flight < self.preview):
            if self._on_probation(group) and group.in_flight:
                group.pending.append((priority, url))
                return []
            return [self._fetch(group, url, "crawl")]
        group.pending.append((priority, url))
        if group.kind == REJECTED and priority > group.sampled_priority >= 0:
            group.kind = UNKNOWN  # a better lead into a group judged on weaker ones: look again
        elif self._judged_small(group) and group.offered > SMALL_GROUP + 1:
            group.kind = UNKNOWN  # rejected on one page while it looked small; it is not
        return []

    @staticmethod
    def _rejected_on_few(group: Group) -> bool:
        """Rejected in this run on fewer pages than a decision of a group of some size needs."""
        return group.kind == REJECTED and not group.learned and len(group.evidence()) < SAMPLES

    @staticmethod
    def _judged_small(group: Group) -> bool:
        """Rejected on its own pages, fewer than a group of its size needs: one page said
        enough while the group looked like a site's few own pages (a directory's first
        profile links, its one sample a staff page). Not one rejected on dead addresses alone:
        more of them are more links of a directory whose profile links are broken."""
        return (
            SiteLearner._rejected_on_few(group)
            and bool(group.evidence())
            and SiteLearner._dead_samples(group) < DEAD_SAMPLES
            and "family" not in group.sources
        )

    @staticmethod
    def _dead_samples(group: Group) -> int:
        return sum(1 for _, kind in group.samples if kind == GONE)

    def _family_kind(self, group: Group) -> str | None:
        """What the group's family says, by a clear majority of its other decided members:
        crawled (``mixed``: a department with profiles and a staff page or two) or rejected;
        None when the family is small or split."""
        if group.template[0] in "=~":
            return None
        for family in template_families(group.template):
            kinds = [
                vote
                for g in self.groups.values()
                if g is not group and (vote := self._vote(g))
                and g.template[0] not in "=~" and family in template_families(g.template)
            ]  # fmt: skip
            crawled = sum(k in CRAWLED for k in kinds)
            rejected = len(kinds) - crawled
            if crawled >= 2 and crawled >= 3 * rejected:
                return MIXED
            if rejected >= 2 and not crawled:
                return REJECTED
        return None

    @staticmethod
    def _vote(group: Group) -> str | None:
        """What a decided group says of its family: its decision when that rests on its own
        pages (or an earlier run). Not one it inherited; not a rejection on fewer pages than
        a decision needs — a small department's one staff page, or dead addresses alone
        (robots.txt shuts one department, a sitemap names removed pages), say nothing of what
        the others hold."""
        if group.kind in (UNKNOWN, REDUNDANT) or ("family" in group.sources and not group.samples):
            return None
        if SiteLearner._rejected_on_few(group):
            return None
        return group.kind

    def _inherit(self, group: Group) -> None:
        """A new group of a family whose decided members all agree (``/dept/cardiology/dr/{id}``
        after ``/dept/neurology/dr/{id}`` and ``/dept/urology/dr/{id}``) is decided alike."""
        kind = self._family_kind(group)
        if kind in CRAWLED | {REJECTED}:
            group.kind = kind
            group.sources.add("family")

    def flush(self) -> list[Fetch]:
        """Samples for every undecided group offered with at least sitemap priority: called
        after a batch of offers (a page's links, a sitemap), so samples are drawn from the
        whole batch."""
        fetches = []
        for group in list(self.groups.values()):
            if group.kind != UNKNOWN or group.priority < SITEMAP or self._sitemap_only(group):
                continue  # (sitemap-only groups wait for ``explore``)
            if not group.in_flight and self._dead_family(group):
                group.kind = REJECTED  # (its own samples so far among the dead, perhaps)
                group.sources.add("family")
                continue
            if not group.samples and not group.in_flight and self._family_busy(group):
                continue  # (sampled once its family has spoken, at a later flush)
            fetches += self._sample(group)
        return fetches

    def _relatives(self, group: Group) -> list[Group]:
        """The other groups of the group's template families."""
        if group.template[0] in "=~":
            return []
        families = set(template_families(group.template))
        return [
            g for g in self.groups.values()
            if g is not group and g.template[0] not in "=~"
            and families & set(template_families(g.template))
        ]  # fmt: skip

    def _family_busy(self, group: Group) -> bool:
        """FAMILY_SAMPLING of its relatives are being sampled, undecided yet (one, while the
        family has found only dead addresses)."""
        busy = sum(1 for g in self._relatives(group) if g.kind == UNKNOWN and g.in_flight)
        return busy >= (1 if self._dying(group) else FAMILY_SAMPLING)

    def _dying(self, group: Group) -> bool:
        """Samples of the group or its family found dead addresses and not one profile or
        listing: the next sample may be the last needed to leave them, so one at a time."""
        family = [group, *self._relatives(group)]
        return any(self._dead_samples(g) for g in family) and not self._found_any(family)

    @staticmethod
    def _found_any(groups: list[Group]) -> bool:
        """One of the groups is crawled, or its samples found a profile or a listing."""
        return any(g.kind in CRAWLED or g.outcomes[PROFILE] or g.outcomes[LISTING] for g in groups)

    def _dead_family(self, group: Group) -> bool:
        """Its family's samples (its own among them) found dead addresses (DEAD_FAMILY_SAMPLES
        or more, from DEAD_FAMILY_MEMBERS members or more) and neither a profile nor a listing,
        and no member is crawled."""
        relatives = self._relatives(group)
        family = [group, *relatives] if relatives else []
        if self._found_any(family):
            return False
        dead = [self._dead_samples(g) for g in family]
        return sum(n > 0 for n in dead) >= DEAD_FAMILY_MEMBERS and sum(dead) >= DEAD_FAMILY_SAMPLES

    @staticmethod
    def _sitemap_only(group: Group) -> bool:
        """Named by a sitemap (and perhaps the site's menus), never linked as a person, an
        entry or a page of a listing."""
        return (
            "sitemap" in group.sources
            and group.sources <= {"sitemap", "chrome"}
            and group.priority <= SITEMAP
        )

    def _small(self, group: Group) -> bool:
        """A group of one or two pages only the sitemap names, with no larger family: the
        site's own pages (about, contact), sampled only if nothing else works. (One the site's
        menus link too may be its directory, which a sitemap naming some people does not
        replace.)"""
        if group.template[0] in "=~" or group.sources != {"sitemap"}:
            return False
        sizes = [
            sum(g.offered for g in self.groups.values()
                if g.template[0] not in "=~" and family in template_families(g.template))
            for family in template_families(group.template)
        ]  # fmt: skip
        return max([group.offered, *sizes]) <= SMALL_GROUP

    def is_new(self, url: str) -> bool:
        return canonical(url) not in self.seen

    def group_kind(self, url: str) -> str | None:
        """The decision on the group of a URL already offered (None: never offered)."""
        template = self.seen.get(canonical(url))
        return self.groups[template].kind if template else None

    def ref_key(self, url: str) -> str | None:
        """The query key that carries the id of ``url``'s group: the one whose value differs
        between its URLs (``profile`` beside a constant ``action=view``); None when none is
        known to (a group of one URL, ids in the path)."""
        template = self.seen.get(canonical(url))
        group = self.groups.get(template) if template else None
        if group is None:
            return None
        varying = {k: min(v) for k, v in group.query_values.items() if len(v) > 1}
        return id_key("?" + urlencode(varying)) if varying else None

    def leave_views(self) -> None:
        """The filtered views of the site's lists are left unread (the lists are whole)."""
        for group in self.groups.values():
            if group.view and group.kind in (UNKNOWN, LISTING):
                group.kind, group.pending = REDUNDANT, []

    def is_view(self, template: str) -> bool:
        """The group is one of filtered views of a listing (see ``offer``): the spider reads
        them after the lists they filter, which they may only repeat."""
        group = self.groups.get(template)
        return group is not None and group.view and group.kind not in (PROFILE, MIXED)

    def fetched_as(self, url: str) -> str | None:
        """The kind the page at ``url`` was found to be, or None when not fetched (yet)."""
        return self.fetched.get(canonical(url))

    # -- sampling ---------------------------------------------------------------------------------
    def _fetch(self, group: Group, url: str, purpose: str) -> Fetch:
        group.in_flight += 1
        return Fetch(url, purpose, group.template)

    def _needed(self, group: Group) -> int:
        small = group.offered <= SMALL_GROUP + 1  # a group of three pages: one says enough
        return 1 if small or group.late or group.template.startswith("=") else SAMPLES

    def _sample(self, group: Group) -> list[Fetch]:
        if group.kind != UNKNOWN or not group.pending:
            return []
        evidence = len(group.evidence())
        needed = self._needed(group)
        # Samples that disagreed get company one at a time.
        wanted = (needed - evidence if evidence < needed else 1) - group.in_flight
        dead = self._dead_samples(group)
        if dead and not any(kind == PROFILE for kind in group.evidence()):
            # Dead addresses: no more out at once than it takes to leave the group.
            wanted = min(wanted, max(1, DEAD_SAMPLES - dead) - group.in_flight)
        elif self._dying(group):
            wanted = min(wanted, 1 - group.in_flight)  # (its family's: one at a time)
        fetches = []
        while wanted > 0 and group.pending and self.spent() < self.budget:
            # The best-led URL first (a person link over a menu link), one that two sources
            # name (a sitemap and a listing) over one a single link names; among equals, any.
            # (Held till the sitemaps are in, a listing's links that are new to the crawl are
            # just those the sitemap left out: its broken ones, if it has any.)
            leads = [self._lead(url, p) for p, url in group.pending]
            best = max(leads)
            ties = [i for i, lead in enumerate(leads) if lead == best]
            priority, url = group.pending.pop(self.random.choice(ties))
            priority = best[0]
            self.samples_used += 1
            self.samples_out.add(canonical(url))
            group.sampled_priority = max(group.sampled_priority, priority)
            fetches.append(self._fetch(group, url, "sample"))
            wanted -= 1
        return fetches

    def _lead(self, url: str, priority: int) -> tuple[int, bool]:
        """How well a pending URL is led: its best offer's priority, and whether two sources
        name it."""
        key = canonical(url)
        return max(priority, self.best_lead.get(key, priority)), len(self.named_by.get(key, ())) > 1

    def spent(self) -> int:
        """Samples that cost something: those that found neither profile nor listing, and
        those still out (a sample that finds a profile is a page the crawl wanted anyway)."""
        return self.samples_wasted + len(self.samples_out)

    def explore(self, *, cards: bool = False) -> list[Fetch]:
        """When the crawl has nothing left to do: samples of the groups that waited (offered
        with low priority, or named only by a sitemap). While the site has shown nobody (no
        profile; ``cards``: no result card either), one group at a time, the best-led and
        largest first. Once it has, only members of a crawled group's family — and, on a site
        without a directory (no listing page led to people), every sitemap group but the
        site's own pages. Empty when there is nothing worth trying."""
        waiting = [
            g for g in self.groups.values() if g.kind == UNKNOWN and g.pending and not g.in_flight
        ]
        waiting.sort(key=lambda g: (-g.priority, -(len(g.pending) + g.fetched), g.template))
        if not cards and not any(g.outcomes[PROFILE] for g in self.groups.values()):
            for group in waiting:
                if fetches := self._sample(group):
                    return fetches
            return []
        directory = cards or any(g.listing_pages for g in self.groups.values())
        crawled = {
            family
            for g in self.groups.values()
            if g.kind in CRAWLED and g.template[0] not in "=~"
            for family in template_families(g.template)
        }
        fetches = []
        for group in waiting:
            related = group.template[0] not in "=~" and crawled & set(
                template_families(group.template)
            )
            sitemap = self._sitemap_only(group) and not self._small(group)
            if related:
                # The site's people are found: one sample says whether a group of their
                # family adds to them.
                group.late = True
                fetches += self._sample(group)
            elif sitemap and not directory:
                # No directory yet: it may be among these pages (a menu's "Find Care" beside
                # About and Contact), which one sample would not tell.
                fetches += self._sample(group)
        return fetches

    # -- observations -----------------------------------------------------------------------------
    def observe(
        self,
        url: str,
        template: str,
        kind: str,
        *,
        people: int = 0,
        new_people: int = 0,
        judged: bool = True,
        shown_before: int = 0,
    ) -> list[Fetch]:
        """The page at ``url`` (fetched for ``template``'s group) turned out to be ``kind``
        (a listing: leading to ``people``, ``new_people`` of them not seen before; ``judged``
        False: whether they are new is not known yet; ``shown_before``: how many people it
        shows when every one was shown on another template's listings); returns what to fetch
        now."""
        group = self.groups.get(template)
        if group is None:
            return []
        self.fetched[canonical(url)] = kind
        if canonical(url) in self.samples_out:
            self.samples_out.discard(canonical(url))
            self.samples_wasted += kind not in (PROFILE, LISTING)
        group.outcomes[kind] += 1
        if kind == LISTING and people:  # (an empty letter says nothing either way)
            group.listing_pages += 1
            group.new_people += new_people
        if group.kind == LISTING and judged and not new_people:
            group.quiet_pages += 1  # (an empty letter found nobody new either)
            group.quiet_people += people
            group.reshown_people += shown_before
            group.reshown_pages += shown_before > 0
            group.reshown_only = group.reshown_only and (shown_before > 0 or people == 0)
        if group.in_flight:
            group.in_flight -= 1
        if group.kind == UNKNOWN:
            group.samples.append((url, kind))
            group.known_listings += kind == LISTING and judged and not new_people
            return self._decide(group)
        if group.learned and not group.stale:
            useful = group.outcomes[PROFILE] + group.outcomes[LISTING]
            if useful == 0 and group.fetched >= STALE_AFTER:
                group.stale, group.kind = True, UNKNOWN  # the site changed: learn it again
                self.stale.append(group.template)
                group.samples = []
                return self._sample(group)
        if group.kind == LISTING and not group.template.startswith("="):
            # Views read after the lists they filter were walked whole are judged against all
            # of those lists' people: fewer pages tell.
            view = group.view and self.views_open and group.reshown_only
            if group.new_people == 0 and (
                (view and group.reshown_pages >= VIEW_REDUNDANT_AFTER)
                or (
                    group.quiet_pages >= REDUNDANT_AFTER
                    and (
                        group.quiet_people >= REDUNDANT_PEOPLE
                        or (group.reshown_only and group.reshown_people >= RESHOWN_PEOPLE)
                    )
                )
            ):
                group.kind = REDUNDANT
                return []
            return self._release(group)  # on probation, one more; proven, the rest
        return []

    def reclassify(self, url: str, kind: str) -> list[Fetch]:
        """The page at ``url`` was not what it seemed (an "other" page that turned out to be
        the site's answer for a missing page): its group's samples and yield say so now, and
        a group rejected on it is judged again. Returns what to fetch now."""
        key = canonical(url)
        old = self.fetched.get(key)
        group = self.groups.get(self.seen.get(key, ""))
        if old is None or old == kind or group is None:
            return []
        self.fetched[key] = kind
        group.outcomes[old] -= 1
        group.outcomes[kind] += 1
        group.samples = [(u, kind if canonical(u) == key else k) for u, k in group.samples]
        if group.kind in (REJECTED, UNKNOWN) and group.samples and not group.learned:
            group.kind = UNKNOWN
            return self._decide(group)
        return []

    def _decide(self, group: Group) -> list[Fetch]:
        evidence = group.evidence()
        useful = [k for k in evidence if k in (PROFILE, LISTING)]
        needed = self._needed(group)
        gone = self._dead_samples(group)
        decision = None
        # Pages a listing links as its pagination (A-Z letters, next pages) are listings by
        # their place, even when the samples drawn were empty ("0 results" under "F").
        to_reject = min(4, group.offered) if "pagination" in group.sources else needed
        if len(evidence) >= to_reject and not useful:
            decision = REJECTED
        elif len(useful) >= needed and len(useful) == len(evidence):
            kinds = set(useful)
            decision = kinds.pop() if len(kinds) == 1 else MIXED
        elif len(evidence) >= MAX_SAMPLES or (len(evidence) >= needed and not group.pending):
            # Half useful or more: crawled whole (a directory's profiles beside its staff
            # pages: every page is still judged by its content); a bag of a site's own pages
            # with one listing among them (/about, /careers, /locations/): not; nor one whose
            # listings only showed people found before (a news index, a staff list: what they
            # link is offered already).
            news = len(useful) - group.known_listings
            decision = MIXED if news / len(evidence) >= 0.5 else REJECTED
        elif gone and PROFILE not in evidence and (
            (gone >= DEAD_SAMPLES and gone > len(evidence)) or self._dead_family(group)
        ):
            # Mostly dead addresses and not one profile (a directory's broken profile links; a
            # removed profile's redirect to the directory among them), in the group or in its
            # family: its cards are all there is.
            decision = REJECTED
        if decision is None:
            return self._sample(group)
        if decision == REJECTED and self._family_kind(group) in CRAWLED:
            # One staff page in a department of a directory whose other departments hold
            # profiles: the department holds profiles too (the staff page is read as such).
            decision = MIXED
        group.kind = decision
        return self._release(group) + self._propagate(group)

    def _release(self, group: Group) -> list[Fetch]:
        """A group decided for crawling: fetch what it holds (a preview, when learning only).

        A listing group whose pages have led to nobody new yet (the sitemap named them all)
        is on probation: its pages go one at a time, in no particular order, until one finds
        someone new (then all go) or REDUNDANT_AFTER pages found nobody new (then none)."""
        if group.kind not in CRAWLED:
            return []
        room = len(group.pending) if self.crawl else max(0, self.preview - group.fetched)
        if self._on_probation(group):
            room = min(room, max(0, 1 - group.in_flight))
            self.random.shuffle(group.pending)
        released, group.pending = group.pending[:room], group.pending[room:]
        return [self._fetch(group, url, "crawl") for _, url in released]

    def _on_probation(self, group: Group) -> bool:
        return (
            group.kind == LISTING
            and group.new_people == 0
            and not group.template.startswith("=")
        )

    def _propagate(self, decided: Group) -> list[Fetch]:
        """Undecided members of the decided group's families, decided alike once two members
        agree (and none disagrees); and members rejected on their samples before the family
        was known, which the family now says hold profiles (a department whose one sample was
        its staff page), as if they had been decided after it."""
        families = (
            set(template_families(decided.template)) if decided.template[0] not in "=~" else set()
        )
        fetches = []
        for group in list(self.groups.values()):
            if (
                not families
                or group.in_flight
                or group.template[0] in "=~"
                or not families & set(template_families(group.template))
            ):
                continue
            if group.kind == UNKNOWN and not group.samples:
                self._inherit(group)
                fetches += self._release(group)
            elif (
                group.kind == REJECTED
                and not group.learned
                and self._family_kind(group) in CRAWLED
            ):
                group.kind = MIXED
                group.sources.add("family")
                fetches += self._release(group)
        return fetches

    # -- what was learned -------------------------------------------------------------------------
    def templates(self) -> list[dict[str, Any]]:
        """Every group with its decision and yield, the decided ones first, larger first."""
        order = {PROFILE: 0, MIXED: 1, LISTING: 2, REDUNDANT: 3, REJECTED: 4, UNKNOWN: 5}
        out = []
        for group in self.groups.values():
            if group.template.startswith("=") and group.kind == UNKNOWN:
                continue
            out.append(
                {
                    "template": _page(group.template[1:])
                    if group.template.startswith("=")
                    else group.template,
                    "entry": group.template.startswith("="),
                    "kind": group.kind,
                    "urls_seen": group.offered,
                    "fetched": group.fetched,
                    "sampled": len(group.samples),
                    "sample_yield": dict(Counter(k for _, k in group.samples)),
                    "yield": dict(group.outcomes),
                    "new_people": group.new_people,
                    "sources": sorted(group.sources),
                    "example": group.example,
                    "ref_key": group.example and self.ref_key(group.example),
                    "learned": group.learned,
                    "stale": group.stale,
                }
            )
        out.sort(key=lambda t: (order.get(t["kind"], 9), -t["urls_seen"], t["template"]))
        return out

    def state(self) -> dict[str, Any]:
        return {
            "templates": self.templates(),
            "samples_used": self.samples_used,
            "samples_wasted": self.samples_wasted,
            "sample_budget": self.budget,
            "stale": list(self.stale),
        }


def _page(url: str) -> str:
    """A single page's path and query, as its template reads."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


__all__ = [
    "CHROME", "HIGH", "LOW", "MIXED", "OTHER", "REDUNDANT", "REJECTED", "SITEMAP", "UNKNOWN",
    "Fetch", "Group", "SiteLearner", "canonical",
]  # fmt: skip
