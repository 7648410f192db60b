"""Many demo sites at once, for the many-sites tests and ``bench.fleet``.

``fleet_sites(n, profiles)`` makes ``n`` distinct directory sites (the three classic shapes in
turn, each site with its own listings, ids and URLs, drawn from a small demo world);
``politeness(log, delay)`` reads the fixture server's request log back: per site, the requests,
the closest two came, how long each Retry-After asked to wait and how long the crawler did, and
the site's politeness floor (what its delay and its Retry-After pauses force, however fast the
crawler).
"""

from __future__ import annotations

import copy
import itertools
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field

from pipeline.demo.world.catalogue import SITE_PATH_PATTERNS
from pipeline.demo.world.generate import build_world

SHAPES = tuple(SITE_PATH_PATTERNS)  # jsonld_sitemap, html_directory, faculty_directory


def fleet_sites(n_sites: int, profiles: int, seed: int = 1) -> list[dict]:
    """``n_sites`` site content dicts (docs/design.md section 2) of ``profiles`` listings each."""
    pool = [listing.record for listing in build_world(seed, n_physicians=300).listings]
    rng = random.Random(seed)
    sites = []
    for i in range(n_sites):
        shape = SHAPES[i % len(SHAPES)]
        listings, slugs = [], set()
        drawn = (
            rng.sample(pool, profiles) if profiles <= len(pool) else rng.choices(pool, k=profiles)
        )
        for n, record in enumerate(drawn):
            listing = copy.deepcopy(record)
            name = f"{listing['given_name']} {listing['family_name']}".lower()
            slug = re.sub(r"[^a-z]+", "-", name).strip("-")
            slug = slug if slug not in slugs else f"{slug}-{n}"  # namesakes get their own URL
            slugs.add(slug)
            listing["id"] = slug if shape == "faculty_directory" else str(100000 + n)
            listing["path"] = SITE_PATH_PATTERNS[shape].format(slug=slug, id=listing["id"])
            listings.append(listing)
        sites.append(
            {"site_id": f"fleet-{i:04d}", "name": f"Fleet Site {i}", "kind": "hospital",
             "shape": shape, "city": "Boston", "state": "MA", "listings": listings}
        )  # fmt: skip
    return sites


@dataclass
class SitePoliteness:
    """One site's requests as its server saw them."""

    requests: int = 0
    closest: float = float("inf")  # seconds between the two closest requests
    # half the shortest span of three requests in a row: a request the server's clock read late
    # makes one gap short and the next long; a crawler that does not wait makes both short
    closest_pair: float = float("inf")
    # (seconds asked, seconds until the site's next request) per Retry-After answer
    pauses: list[tuple[float, float]] = field(default_factory=list)
    floor: float = 0.0  # what the delay and the Retry-After pauses force, start to finish
    first: float = 0.0
    last: float = 0.0

    def closest_after_pause(self) -> float:
        """How the crawler kept the pauses: the least of (waited - asked), 0 when none."""
        return min((waited - asked for asked, waited in self.pauses), default=0.0)


def politeness(log: list[dict], delay: float) -> dict[str, SitePoliteness]:
    """Per site: its requests, their closest gap, each Retry-After's pause and its floor: the
    sum over consecutive requests of the wait the site asked for (its delay, or the Retry-After
    of the answer before, whichever is longer)."""
    by_site: dict[str, list[dict]] = defaultdict(list)
    for entry in log:
        by_site[entry["site_id"]].append(entry)
    report = {}
    for site_id, entries in by_site.items():
        entries.sort(key=lambda e: e["time"])
        site = SitePoliteness(len(entries), first=entries[0]["time"], last=entries[-1]["time"])
        for first, _, third in zip(entries, entries[1:], entries[2:], strict=False):
            site.closest_pair = min(site.closest_pair, (third["time"] - first["time"]) / 2)
        for before, after in itertools.pairwise(entries):
            gap = after["time"] - before["time"]
            site.closest = min(site.closest, gap)
            asked = retry_after_of(before)
            if asked:
                site.pauses.append((asked, gap))
            site.floor += max(delay, asked)
        report[site_id] = site
    return report


def retry_after_of(entry: dict) -> float:
    """Seconds a logged answer asked the crawler to wait (RateLimits names them)."""
    fault = entry.get("fault") or ""
    return float(fault.split(":")[1]) if fault.startswith("retry_after:") else 0.0
