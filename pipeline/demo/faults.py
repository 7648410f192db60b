"""Fault mode for the fixture server: some pages misbehave the ways real servers do.

Which page gets which fault is fixed by the listing's position, so a test knows what to expect:

    position 0: 503 twice, then the page      (a 5xx burst; retries recover it)
    position 1: 429 with Retry-After: 1 once   (rate limited; the retry waits)
    position 2: answers after 0.3 s            (slow, but within the timeout)
    position 3: never answers in time          (timed out every time: lost, counted)
    position 4: body cut short                 (Content-Length larger than what is sent)
    position 5: declares ISO-8859-1, sends UTF-8   (wrong charset)
    position 6: no charset anywhere            (missing charset)
    position 7: broken JSON-LD, stray and missing tags (malformed; HTML sections still readable)
Extra paths listed in the sitemap and linked from the home page: a redirect loop, a 50 MB page,
and links to other hosts (which a polite crawler never follows).
"""

from __future__ import annotations

import random
import re
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

from pipeline.demo.site import TEXT, Page, Request, Site

KINDS = (
    "http_503_burst", "http_429", "slow", "timeout", "truncated", "wrong_charset",
    "missing_charset", "malformed",
)  # fmt: skip
LOOP_PATHS = ("/doctors/loop-a-900001", "/doctors/loop-b-900002")
HUGE_PATH = "/doctors/huge-900003"
HUGE_BYTES = 50 * 1024 * 1024
OFFSITE_URLS = ("http://127.0.0.1:9/doctors/elsewhere-900004", "https://other.example/doctors/x-5")
TIMEOUT_SLEEP = 2.5  # tests run with DOWNLOAD_TIMEOUT=1


class Faults:
    def __init__(self, site: Site):
        self.site = site
        self.by_path = {
            listing["path"]: kind for listing, kind in zip(site.listings, KINDS, strict=False)
        }
        self.by_path |= dict.fromkeys(LOOP_PATHS, "redirect_loop") | {HUGE_PATH: "huge"}
        self.served: dict[str, int] = {}
        self.lock = threading.Lock()
        # The extra paths are announced where crawlers look: sitemaps and the home page.
        site.extra_paths = (*LOOP_PATHS, HUGE_PATH, *OFFSITE_URLS)

    def fault_for(self, path: str, site: Site) -> str | None:
        kind = self.by_path.get(path)
        if kind is None:
            return None
        with self.lock:
            n = self.served[path] = self.served.get(path, 0) + 1
        if (kind == "http_503_burst" and n > 2) or (kind == "http_429" and n > 1):
            return None  # the burst is over
        return kind

    def page(self, kind: str, path: str, site: Site, base: str, request: Request) -> Page:
        if kind == "http_503_burst":
            return Page(503, "Service Unavailable", TEXT)
        if kind == "http_429":
            return Page(429, "Too Many Requests", TEXT, headers=(("Retry-After", "1"),))
        if kind == "redirect_loop":
            other = LOOP_PATHS[1 - LOOP_PATHS.index(path)]
            return Page(302, "", TEXT, headers=(("Location", base + other),))
        if kind == "huge":
            return Page(200, b"<html><body>" + b" " * HUGE_BYTES + b"</body></html>")
        page = site.handle(path, {}, base, request)
        body = page.body if isinstance(page.body, str) else page.body.decode()
        # A line with accents, so a wrong or missing charset matters.
        body = body.replace("</main>", "<p>Soins de santé · Atención médica</p></main>")
        if kind == "wrong_charset":
            return Page(200, body.encode("utf-8"), "text/html; charset=iso-8859-1")
        if kind == "missing_charset":
            body = body.replace('<meta charset="utf-8">', "")
            return Page(200, body.encode("utf-8"), "text/html")
        if kind == "malformed":
            # Every JSON-LD block broken beyond repair, and closing tags dropped.
            body = re.sub(r'(<script type="application/ld\+json">)', r"\1{{{", body)
            body = body.replace("</li>", "").replace("</p>", "")  # optional end tags left out
            body = body.replace(
                '<main id="main">', '<main id="main"></span></div><div class=promo>'
            )
            return Page(200, body)
        return page

    def misbehave(
        self, kind: str, handler: BaseHTTPRequestHandler, page: Page, body: bytes
    ) -> bool:
        """Faults in the transport itself; True when the answer has been dealt with."""
        if kind in ("slow", "timeout"):
            time.sleep(0.3 if kind == "slow" else TIMEOUT_SLEEP)
            return False
        if kind == "truncated":
            handler.send_response(200)
            handler.send_header("Content-Type", page.content_type)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            # Cut after the head (the JSON-LD is there), as a dropped connection would.
            handler.wfile.write(body[: body.index(b"</head>") + 7 if b"</head>" in body else 100])
            handler.close_connection = True
            return True
        return False


class RateLimits:
    """A site that asks to be crawled slowly: a robots.txt ``Crawl-delay`` (when given) and, on
    a seeded share of profile pages, a first answer of 429 or 503 with ``Retry-After`` (1 to 3
    seconds; the next answer is the page); a quarter as many answer 503 once without it (a
    crawler backs off on its own). The server log's ``fault`` names each answer:
    ``retry_after:N``, ``busy``, ``crawl_delay``.
    """

    def __init__(
        self, site: Site, *, seed: int = 0, share: float = 0.13, crawl_delay: float | None = None
    ):
        rng = random.Random(f"{seed}:{site.site_id}")
        self.crawl_delay = crawl_delay
        self.by_path: dict[str, str] = {}
        for path in sorted(site.by_path):
            draw = rng.random()
            if draw < share:
                self.by_path[path] = f"retry_after:{rng.choice((1, 2, 3))}"
            elif draw < share * 1.25:
                self.by_path[path] = "busy"
        self.served: set[str] = set()
        self.lock = threading.Lock()

    def fault_for(self, path: str, site: Site) -> str | None:
        if path == "/robots.txt":
            return "crawl_delay" if self.crawl_delay else None
        kind = self.by_path.get(path)
        with self.lock:
            if kind is None or path in self.served:
                return None
            self.served.add(path)
        return kind

    def page(self, kind: str, path: str, site: Site, base: str, request: Request) -> Page:
        if kind == "crawl_delay":
            page = site.handle(path, {}, base, request)
            body = page.body if isinstance(page.body, str) else page.body.decode()
            rule = f"User-agent: *\nCrawl-delay: {self.crawl_delay:g}\n"
            return Page(page.status, body.replace("User-agent: *\n", rule, 1), TEXT)
        if kind == "busy":
            return Page(503, "Service Unavailable", TEXT)
        seconds = kind.split(":")[1]
        status = 429 if int(seconds) % 2 else 503
        return Page(status, "Please slow down", TEXT, headers=(("Retry-After", seconds),))

    def misbehave(self, kind: str, handler: Any, page: Page, body: bytes) -> bool:
        return False


__all__ = ["HUGE_PATH", "KINDS", "LOOP_PATHS", "OFFSITE_URLS", "Any", "Faults", "RateLimits"]
