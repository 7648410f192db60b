"""Serve generated sites on loopback, each on its own port, with a per-site request log.

The HTTP machinery is the fixture server's (pipeline.demo.server: keep-alive, ETag /
If-Modified-Since, HEAD); a generated site only supplies ``site_id`` and ``handle``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

from pipeline.demo.server import FixtureServer, make_handler
from pipeline.demo.sitegen.site import ExpectedProfile, GeneratedSite


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
