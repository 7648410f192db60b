"""Zero-config discovery benchmark: random directory sites crawled with no configuration, scored
against their truth, and compared with a configured crawl of the same site in the same run.

    python -m bench.discover [--sites 40] [--seed S] [--parallel 2]

Each site is drawn by the site randomizer (pipeline.demo.sitegen) from a seed (``--seed`` picks
the first; the rest follow) and served on 127.0.0.1. Two crawls per site, each a real Scrapy
child process (pipeline.crawl.crawl_site) with politeness delays off on our own loopback server:

- **configured**: the registry entry the site's owner would write (``configured_entry()``: its
  platform, start URLs and profile pattern; for a site whose people are known only from result
  cards, also its directory entry and listing pages, see ``configured_entry`` below) — the
  baseline of pages fetched;
- **zero-config**: ``credcheck crawl --url <start>`` — the ``directory`` spider, which learns
  what the pages are from their content (spiders.discovery); the start is the site's home page
  for even seeds and its directory entry page for odd ones (a user may give either).

About 15% of the sites are client-rendered (the randomizer's ``rendering`` option: an app shell
on every route, the content from a data endpoint): both crawls render them in headless chromium
(spiders.render), and the requests counted are all the server logged, the browser's own (the
script bundle, the data calls) included. A machine without chromium skips nothing: those
sites then score recall 0.

A listing is right when it comes from an expected profile page (or, for people known only from
result cards, names a card's person) and does not call a researcher or nurse practitioner a
physician. Per site: recall (expected profiles and cards found), precision (listings that are
right), fetch ratio (requests the zero-config crawl made / requests the configured crawl made,
as the site's server logged them). One line per site, then the totals (recall and precision
over all listings, fetch ratio of the summed requests), last::

    discover: sites=40 recall=R precision=P fetch_ratio=F seconds=S

Targets: recall >= 0.98, precision >= 0.995, fetch_ratio <= 1.3.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from pipeline.crawl import ZERO_CONFIG_SPIDER, CrawlOutcome, CrawlTarget, crawl_sites

LOOPBACK = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "4",
    "LOG_LEVEL": "INFO",
}


@dataclass
class SiteScore:
    seed: int
    options: dict
    expected: int  # profiles and cards the truth holds
    found: int  # of them, found by the zero-config crawl
    listings: int  # listings the zero-config crawl emitted
    right: int  # of them, right
    pages: int  # requests of the zero-config crawl
    configured_pages: int  # requests of the configured crawl
    configured_found: int
    errors: list[str] = field(default_factory=list)  # what went wrong, for the site's line
    kinds: Counter = field(default_factory=Counter)  # the zero-config requests, by kind
    configured_kinds: Counter = field(default_factory=Counter)  # the configured crawl's

    @property
    def recall(self) -> float:
        return self.found / self.expected if self.expected else 1.0

    @property
    def precision(self) -> float:
        return self.right / self.listings if self.listings else 1.0

    @property
    def fetch_ratio(self) -> float:
        return self.pages / max(1, self.configured_pages)

    def line(self) -> str:
        text = (
            f"site seed={self.seed} expected={self.expected} found={self.found} "
            f"listings={self.listings} recall={self.recall:.3f} precision={self.precision:.3f} "
            f"pages={self.pages} configured_pages={self.configured_pages} "
            f"fetch_ratio={self.fetch_ratio:.2f}"
        )
        return text + (f"  [{'; '.join(self.errors[:3])}]" if self.errors else "")

    def breakdown(self) -> str:
        """The two crawls' requests by kind (``request_kinds``), zero-config / configured."""
        kinds = sorted(set(self.kinds) | set(self.configured_kinds), key=KIND_ORDER.index)
        return f"  requests seed={self.seed}: " + " ".join(
            f"{k}={self.kinds[k]}/{self.configured_kinds[k]}" for k in kinds
        )


KIND_ORDER = ("robots", "sitemap", "probe", "home", "profile", "listing", "decoy", "gone",
              "stale", "disallowed", "other", "repeat", "browser")  # fmt: skip


def _key(path_and_query: str) -> str:
    parts = urlsplit(path_and_query)
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return (parts.path.rstrip("/") or "/") + (f"?{query}" if query else "")


def request_kinds(site, log: list[dict]) -> Counter:
    """What a crawl's requests (the site's log entries) were, by the site's truth: robots.txt,
    sitemaps, sitemap probes that found none, the home page, expected profiles, listing pages,
    decoys, gone pages (4xx, redirects), stale sitemap entries, other pages, repeats of a page
    already requested in the same crawl (a client-rendered page: its shell as served, then
    rendered), and what a browser asked for a client-rendered page (its script bundle and data
    calls)."""
    truth = site.truth
    profiles = {_key(p.path) for p in truth.profiles}
    listings = {_key(p) for p in truth.listing_pages}
    decoys = {_key(p) for p in truth.decoys}
    stale = {_key(p) for p in truth.stale}
    browser = {_key(p) for p in site.asset_paths()}
    seen: set[str] = set()
    kinds: Counter = Counter()
    for entry in log:
        key = _key(entry["path"])
        path = urlsplit(entry["path"]).path
        if key in browser:
            kinds["browser"] += 1
            continue
        if key in seen:
            kinds["repeat"] += 1
            continue
        seen.add(key)
        if path == "/robots.txt":
            kind = "robots"
        elif re.search(r"sitemap|\.xml(\.gz)?$", path, re.I):
            kind = "sitemap" if entry["status"] == 200 else "probe"
        elif key == "/":
            kind = "home"
        elif key in profiles:
            kind = "profile"
        elif key in listings:
            kind = "listing"
        elif key in decoys:
            kind = "decoy"
        elif key in stale:
            kind = "stale"
        elif not site.allowed(entry["path"]):
            kind = "disallowed"
        elif entry["status"] != 200:
            kind = "gone"
        else:
            kind = "other"
        kinds[kind] += 1
    return kinds


def _path(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path.rstrip("/") or "/") + (f"?{parts.query}" if parts.query else "")


def _names(item: dict, person) -> bool:
    """The listing names the expected person: given and family name, any case."""
    text = " ".join(str(item.get(k) or "") for k in ("name", "given_name", "family_name"))
    text = text.casefold()
    parts = [getattr(person, "family", None), (getattr(person, "given", None) or "").split()[:1]]
    family, given = parts[0] or str(person.name).split()[-1], (parts[1] or [""])[0]
    return family.casefold() in text and given.casefold() in text


def _card_for(item: dict, path: str, cards: list, found: set[int]) -> int | None:
    """The card-only person a card listing names, of those not found yet: one shown on the
    listing's page before one shown elsewhere, then the fullest name (the listing of "Ana Lucía
    C. Hollingsworth" names "Lucía Hollingsworth" too, a colleague on another page)."""
    text = " ".join(str(item.get(k) or "") for k in ("name", "given_name", "family_name"))
    candidates = [i for i, c in enumerate(cards) if i not in found and _names(item, c)]
    return max(
        candidates,
        key=lambda i: (
            path in {_path(p) for p in cards[i].listing_paths},
            cards[i].given.casefold() in text.casefold(),
            len(cards[i].given),
        ),
        default=None,
    )


def configured_entry(served) -> dict:
    """The site's registry entry as its owner would write it (``configured_entry()``), made
    complete where the generator's entry cannot reach what the site lists, and no larger than a
    user who configured it at its best would make it. A site whose people are known only from
    result cards gets its directory entry as a start URL and, as ``listing_pattern``, the pages
    of one full view of its directory: its full list when it has one (not the A-Z letters or
    departments that show the same people again), else every letter or department. With no
    profile a crawler could fetch (all off-site, forbidden, broken or unlinked), it has no
    ``profile_pattern`` and no sitemap start either: the cards are all there is."""
    entry = dict(served.configured_entry())
    site = served.site
    truth = site.truth
    if truth.cards and truth.listing_pages:
        views = site.listing_views
        pages = set(views[None]) if None in views else set(truth.listing_pages)
        pages.add(site.start_paths[-1])
        if truth.profiles:
            entry["start_urls"] = [*entry["start_urls"], served.url(site.start_paths[-1])]
        else:
            entry["platform"] = "html_directory"
            entry["start_urls"] = [served.url(site.start_paths[-1])]
            entry["profile_pattern"] = "(?!)"  # (matches nothing: no profile to fetch)
        paths = sorted({p.rstrip("/") or "/" for p in pages})
        entry["listing_pattern"] = "^https?://[^/]+(?:" + "|".join(map(re.escape, paths)) + ")/?$"
    return entry


def start_url(served) -> str:
    """Where the zero-config crawl starts: the home page for even seeds, the directory's entry
    page for odd ones (a user may give either)."""
    home, *entry = served.start_urls
    return entry[-1] if entry and served.site.seed % 2 else home


def registry_table(site_id: str, entry: dict) -> str:
    lines = [f"[sites.{site_id}]"]
    lines += [f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in entry.items()]
    return "\n".join(lines) + "\n"


def score_site(served, outcome: CrawlOutcome, configured: CrawlOutcome, pages: int,
               configured_pages: int) -> SiteScore:  # fmt: skip
    """Recall, precision and pages of one site's zero-config crawl against its truth."""
    truth = served.site.truth
    profiles = {_path(served.url(p.path)): p for p in truth.profiles}
    cards = list(truth.cards)
    decoys = {_path(served.url(d)) for d in truth.decoys}
    found_profiles: set[str] = set()
    found_cards: set[int] = set()
    right = 0
    errors = []
    for item in outcome.items:
        path = _path(item["source_url"])
        physician = item["extras"].get("is_physician")
        if item["extractor"] != "card" and path in profiles:
            expected = profiles[path]
            if not _names(item, expected):
                errors.append(f"wrong person on {path}: {item['name']}")
            elif physician is (not expected.is_physician) and physician is not None:
                errors.append(f"is_physician={physician} for {item['name']}")
            else:
                right += path not in found_profiles
                found_profiles.add(path)
            continue
        match = _card_for(item, path, cards, found_cards)
        profile_path = _path(item["extras"].get("profile_url") or "") if item["extras"].get(
            "profile_url") else None  # fmt: skip
        if (
            item["extractor"] == "card"
            and profile_path in profiles
            and profile_path not in found_profiles
        ):
            # A card for a profile the truth expects: the profile was not crawled.
            errors.append(f"card instead of profile {profile_path}")
            continue
        if match is not None:
            found_cards.add(match)
            right += 1
            continue
        why = "decoy" if path in decoys else "unexpected"
        errors.append(f"{why} listing {item['name']!r} from {path} [{item['extractor']}]")
    missed = sorted(set(profiles) - found_profiles)
    if missed:
        errors.append(f"missed {len(missed)} profiles, e.g. {missed[0]}")
    missed_cards = [c.name for i, c in enumerate(cards) if i not in found_cards]
    if missed_cards:
        errors.append(f"missed {len(missed_cards)} cards, e.g. {missed_cards[0]!r}")
    if outcome.error and outcome.error != "no listings found":
        errors.append(f"crawl: {outcome.error}")
    return SiteScore(
        seed=served.site.seed,
        options=served.site.options,
        expected=len(profiles) + len(cards),
        found=len(found_profiles) + len(found_cards),
        listings=len(outcome.items),
        right=right,
        pages=pages,
        configured_pages=configured_pages,
        configured_found=len(configured.items),
        errors=errors,
    )


def evaluate(seeds: list[int], *, parallel: int = 2, runs_dir: Path | None = None,
             progress=lambda score: None) -> list[SiteScore]:  # fmt: skip
    """Serve the seeds' sites, crawl each configured and zero-config, score; in that order."""
    from pipeline.demo.sitegen import GeneratedSite, serve_generated_sites

    sites = [GeneratedSite(seed) for seed in seeds]
    with tempfile.TemporaryDirectory(prefix="bench-discover-") as tmp:
        runs = runs_dir or Path(tmp)
        registry = runs / "sites.toml"
        with serve_generated_sites(sites) as served:
            ids = [f"seed-{s.site.seed}" for s in served]
            entries = [configured_entry(s) for s in served]
            registry.write_text("\n".join(registry_table(i, e) for i, e in zip(ids, entries)))
            configured_targets = [
                CrawlTarget(i, i, {}, e["start_urls"][0]) for i, e in zip(ids, entries)
            ]
            starts = [start_url(s) for s in served]
            zero_targets = [
                CrawlTarget(i, ZERO_CONFIG_SPIDER, {"url": url, "site_id": i}, url)
                for url, i in zip(starts, ids)
            ]
            previous = os.environ.get("CREDCHECK_SITES")
            os.environ["CREDCHECK_SITES"] = str(registry)
            try:
                configured = crawl_sites(configured_targets, runs_dir=runs / "configured",
                                         settings=LOOPBACK, parallel=parallel)  # fmt: skip
            finally:
                if previous is None:
                    os.environ.pop("CREDCHECK_SITES", None)
                else:
                    os.environ["CREDCHECK_SITES"] = previous
            configured_pages = [len(s.log) for s in served]
            zero = crawl_sites(zero_targets, runs_dir=runs / "zero", settings=LOOPBACK,
                               parallel=parallel)  # fmt: skip
            scores = []
            for s, z, c, before in zip(served, zero, configured, configured_pages):
                score = score_site(s, z, c, len(s.log) - before, before)
                score.kinds = request_kinds(s.site, s.log[before:])
                score.configured_kinds = request_kinds(s.site, s.log[:before])
                scores.append(score)
                progress(score)
    return scores


def totals(scores: list[SiteScore]) -> tuple[float, float, float]:
    expected = sum(s.expected for s in scores)
    listings = sum(s.listings for s in scores)
    recall = sum(s.found for s in scores) / expected if expected else 1.0
    precision = sum(s.right for s in scores) / listings if listings else 1.0
    ratio = sum(s.pages for s in scores) / max(1, sum(s.configured_pages for s in scores))
    return recall, precision, ratio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.discover",
        description="Zero-config crawls of random directory sites against their truth, and "
        "against a configured crawl of the same sites (pages fetched).",
    )
    parser.add_argument("--sites", type=int, default=40, help="random sites (default: 40)")
    parser.add_argument("--seed", type=int, default=1000, help="first site seed (default: 1000)")
    parser.add_argument(
        "--parallel", type=int, default=2, help="sites crawled at once (default: 2)"
    )
    parser.add_argument(
        "--breakdown", action="store_true",
        help="after each site's line, its requests by kind (zero-config/configured)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    started = time.perf_counter()
    seeds = list(range(args.seed, args.seed + args.sites))
    print(f"serving {len(seeds)} random sites (seeds {seeds[0]}..{seeds[-1]}), crawling each "
          "configured, then zero-config ...", file=sys.stderr, flush=True)  # fmt: skip

    def progress(score: SiteScore) -> None:
        print(score.line() + ("\n" + score.breakdown() if args.breakdown else ""), flush=True)

    scores = evaluate(seeds, parallel=args.parallel, progress=progress)
    recall, precision, ratio = totals(scores)
    seconds = time.perf_counter() - started
    print(
        f"discover: sites={len(scores)} recall={recall:.4f} precision={precision:.4f} "
        f"fetch_ratio={ratio:.2f} seconds={seconds:.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
