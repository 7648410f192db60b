"""What a generated site holds: the profiles and card-only people a crawler must find, and
the pages it must not take for listings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.demo.sitegen.site import GeneratedSite


@dataclass(frozen=True)
class ExpectedProfile:
    """A person's profile page a polite crawler may fetch: it must yield exactly this listing."""

    path: str  # canonical path (+ query) on the site
    ref: str  # the id in the URL
    name: str  # given (initial) family
    given: str
    family: str
    degrees: tuple[str, ...]
    is_physician: bool
    kind: str  # physician | app | researcher


@dataclass(frozen=True)
class ExpectedCard:
    """A person known only from listing cards (the profile is off-site, disallowed, 404 or
    absent): each such person must yield one listing from a card."""

    listing_paths: tuple[str, ...]  # the allowed listing pages that show the card
    name: str
    given: str
    family: str
    degrees: tuple[str, ...]
    is_physician: bool
    specialty: str  # the label the card shows
    phone: str
    reason: str  # offsite | disallowed | missing | unlinked


@dataclass
class Truth:
    profiles: list[ExpectedProfile]
    cards: list[ExpectedCard]
    decoys: set[str]  # paths of pages that must yield no listing
    listing_pages: set[str]  # the directory's listing pages (entry, pages, letters, departments)
    disallowed: set[str]  # pages robots.txt keeps a polite crawler out of
    stale: set[str]  # sitemap entries whose profile was removed (404 / soft 404 / redirect)


def site_truth(site: GeneratedSite) -> Truth:
    """What a perfect polite crawler finds on the built site."""
    profiles, cards = [], []
    for person in site.people:
        state = site.state[id(person)]
        path = site.profile_path(person)
        if state == "ok":
            profiles.append(ExpectedProfile(
                path=path, ref=site.ref(person), name=person.plain_name,
                given=person.given, family=person.family, degrees=person.degrees,
                is_physician=person.is_physician, kind=person.kind))
            continue
        shown = tuple(sorted(
            p for p, people in site.shown_on.items()
            if site.allowed(p) and any(q is person for q in people)))
        if shown:
            cards.append(ExpectedCard(
                listing_paths=shown, name=person.plain_name, given=person.given,
                family=person.family, degrees=person.degrees,
                is_physician=person.is_physician,
                specialty=", ".join(person.specialty_labels) or person.title,
                phone=person.office.phone,
                reason="missing" if state == "missing" else state))
    all_paths = {p for p in site.links_from} | set(site.stale_paths)
    return Truth(
        profiles=profiles,
        cards=cards,
        decoys=set(site.decoy_paths),
        listing_pages=set(site.listing_paths),
        disallowed={p for p in all_paths if not site.allowed(p)},
        stale=set(site.stale_paths),
    )
