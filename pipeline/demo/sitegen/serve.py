"""Serve generated sites on loopback, each on its own port, with a per-site request log.

The HTTP machinery is the fixture server's (pipeline.demo.server: keep-alive, ETag /
If-Modified-Since, HEAD); a generated site only supplies ``site_id`` and ``handle``.
"""

from __future__ import annotations

import json
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

from pipeline.demo.server import FixtureServer, make_handler
from pipeline.demo.sitegen.site import GeneratedSite
from pipeline.demo.sitegen.truth import ExpectedProfile


@dataclass
class ServedSite:
    site: GeneratedSite
    base: str
    log: list[dict] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path

    @property
    def start_urls(self) -> list[str]:
        return [self.url(p) for p in self.site.start_paths]

    def expected_profile_urls(self) -> dict[str, ExpectedProfile]:
        return {self.url(p.path): p for p in self.site.truth.profiles}

    def fetched(self, statuses: Iterable[int] | None = None) -> list[str]:
        """Paths requested so far (GET and HEAD), optionally only those answered ``statuses``."""
        wanted = set(statuses) if statuses is not None else None
        return [e["path"] for e in self.log if wanted is None or e["status"] in wanted]

    def score(self, items: Iterable[dict]) -> Score:
        """Listings (crawl items: ``source_url``, ``name`` / ``given_name`` / ``family_name``,
        ``extras.is_physician``) against the truth. A listing is right when it is the first
        for an expected profile (its URL, naming its person) or for a card-only person (their
        name, from one of the site's listing pages); anything else (decoys, staff, repeats,
        soft 404s) is wrong. Recall counts profiles and cards together."""
        truth = self.site.truth
        profiles = self.expected_profile_urls()
        listing_urls = {self.url(p) for p in truth.listing_pages}
        found_profiles: set[str] = set()
        found_cards: set[int] = set()
        wrong, physician_errors, count = [], 0, 0
        for item in items:
            count += 1
            url = item.get("source_url") or ""
            profile = profiles.get(url)
            person = None
            if profile and url not in found_profiles and _names(item, profile.given,
                                                                profile.family):  # fmt: skip
                found_profiles.add(url)
                person = profile
            elif url in listing_urls:
                for i, card in enumerate(truth.cards):
                    if i not in found_cards and _names(item, card.given, card.family):
                        found_cards.add(i)
                        person = card
                        break
            if person is None:
                wrong.append((url, str(item.get("name"))))
            elif (item.get("extras") or {}).get("is_physician") is not person.is_physician:
                physician_errors += 1
        return Score(len(profiles), len(found_profiles), len(truth.cards), len(found_cards),
                     count, wrong, physician_errors, len(self.log))

    def configured_entry(self) -> dict:
        return self.site.configured_entry(self.base)

    def registry_toml(self, site_id: str | None = None) -> str:
        """The configured entry as a ``[sites.<id>]`` table (TOML strings written as JSON
        strings, which TOML reads the same for the characters used here)."""
        entry = self.configured_entry()
        lines = [f"[sites.{site_id or self.site.site_id}]"]
        for key, value in entry.items():
            lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
        return "\n".join(lines) + "\n"


@dataclass
class Score:
    """A crawl's listings against a site's truth (``ServedSite.score``)."""

    profiles_expected: int
    profiles_found: int
    cards_expected: int
    cards_found: int
    items: int
    wrong: list[tuple[str, str]]  # (url, name) of listings that match no expected one
    physician_errors: int  # matched listings whose extras.is_physician disagrees
    pages_fetched: int

    @property
    def recall(self) -> float:
        expected = self.profiles_expected + self.cards_expected
        return (self.profiles_found + self.cards_found) / expected if expected else 1.0

    @property
    def precision(self) -> float:
        return (self.items - len(self.wrong)) / self.items if self.items else 1.0


def _folded(text: str | None) -> str:
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return " ".join(ascii_text.casefold().split())


def _names(item: dict, given: str, family: str) -> bool:
    name = _folded(" ".join(str(item.get(k) or "") for k in ("name", "given_name",
                                                              "family_name")))  # fmt: skip
    return _folded(family) in name and _folded(given) in name


@contextmanager
def serve_generated_sites(
    sites: Iterable[GeneratedSite], *, host: str = "127.0.0.1", latency: float = 0.0
) -> Iterator[list[ServedSite]]:
    """Serve each site on its own free port; yield them in order; shut all down on exit."""
    served: list[ServedSite] = []
    with ExitStack() as stack:
        for site in sites:
            log: list[dict] = []
            server = FixtureServer((host, 0), make_handler(site, log, None, latency))
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"sitegen-{site.seed}",
                daemon=True,
            )
            thread.start()
            stack.callback(_stop, server, thread)
            served.append(ServedSite(site, "http://{}:{}".format(*server.server_address[:2]), log))
        yield served


def _stop(server: FixtureServer, thread: threading.Thread) -> None:
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
