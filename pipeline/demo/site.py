"""What a fixture site is: its content, the request it answers and the page it answers with.

``Site`` holds one demo site's content (``sites/<site_id>.json``) and renders the pages every
directory has (robots.txt, search, profiles); the shapes (``pipeline.demo.shapes``) and vendor
platforms (``pipeline.demo.platforms``) are subclasses, and ``pipeline.demo.server`` serves them.
"""

from __future__ import annotations

import copy
import html
import json
import logging
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode

logger = logging.getLogger(__name__)

HTML = "text/html; charset=utf-8"
XML = "application/xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
CSS = "text/css; charset=utf-8"
PAGE_SIZE = 20

# schema.org MedicalSpecialty enumeration members for the specialty labels they stand for; a
# page may give the specialty only as such a URL. Labels without a member stay plain strings.
SCHEMA_SPECIALTY = {
    "Anesthesiology": "Anesthesia",
    "Cardiology": "Cardiovascular",
    "Dermatology": "Dermatology",
    "Emergency Medicine": "Emergency",
    "Endocrinology": "Endocrine",
    "Gastroenterology": "Gastroenterologic",
    "Neurology": "Neurologic",
    "Gynecology": "Gynecologic",
    "Oncology": "Oncologic",
    "Pediatrics": "Pediatric",
    "Psychiatry": "Psychiatric",
    "Urology": "Urologic",
}
EDUCATION_HEADINGS = {
    "medical_school": "Medical School",
    "residency": "Residency",
    "fellowship": "Fellowship",
    "other": "Other Education",
}


@dataclass(frozen=True)
class Page:
    status: int
    body: str | bytes
    content_type: str = HTML
    headers: tuple[tuple[str, str], ...] = ()
    last_modified: str | None = None  # ISO date: enables If-Modified-Since (and ETag) answers


@dataclass
class Request:
    """What a route may read of the request beyond its path and query (POST forms, headers)."""

    method: str = "GET"
    headers: dict[str, str] | None = None
    body: bytes = b""

    def header(self, name: str) -> str:
        return (self.headers or {}).get(name.lower(), "")

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8", "replace")).items()}

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"{}")
        except ValueError:
            return None


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def variant(listing_id: str, modulo: int) -> int:
    """Deterministic page variant for a listing: numeric ids cycle, other ids hash."""
    number = int(listing_id) if listing_id.isdigit() else zlib.crc32(listing_id.encode())
    return number % modulo


def lastmod(listing_id: str) -> str:
    return (date(2024, 1, 1) + timedelta(days=variant(listing_id, 600))).isoformat()


def listing_lastmod(listing: dict) -> str:
    """When the profile last changed: ``modified`` if a test set one, else a stable date."""
    return listing.get("modified") or lastmod(listing["id"])


def person_name(listing: dict) -> str:
    parts = (listing.get("given_name"), listing.get("additional_name"), listing.get("family_name"))
    return " ".join(p for p in parts if p) or listing["display_name"]


def page_number(query: dict[str, list[str]]) -> int:
    value = (query.get("page") or ["1"])[0]
    return max(1, int(value)) if value.isdigit() else 1


def education_line(entry: dict) -> str:
    return f"{entry['name']}, {entry['year']}" if entry.get("year") else entry["name"]


def school_type(entry: dict) -> str:
    return (
        "CollegeOrUniversity"
        if entry.get("type") == "medical_school"
        else "EducationalOrganization"
    )


def cert_text(cert: dict) -> str:
    board, certificate = cert.get("board"), cert.get("certificate")
    if board and certificate:
        return f"{certificate} - {board}"
    return board or certificate or ""


class Site:
    """Routes and pages shared by every shape; subclasses add the directory itself."""

    find_label = "Find a Doctor"
    find_path = "/find-a-doctor"
    base = ""  # scheme://host:port of the current request, set per request by handle()
    request = Request()  # the current request, set per request by handle()
    extra_paths: tuple[str, ...] = ()  # fault mode: more URLs to announce (sitemap, home page)

    def __init__(self, data: dict):
        self.data = data
        self.site_id: str = data["site_id"]
        self.name: str = data["name"]
        self.set_listings(data["listings"])

    def set_listings(self, listings: list[dict]) -> None:
        """Replace the directory's content (tests change a live site between two crawls)."""
        self.listings: list[dict] = listings
        self.by_path = {listing["path"]: listing for listing in listings}
        self.by_id = {listing["id"]: listing for listing in listings}

    # -- routing ---------------------------------------------------------------------------
    def routes(self) -> dict[str, Callable[[str, dict[str, list[str]]], Page]]:
        return {
            "/": self.home,
            "/robots.txt": self.robots,
            "/about": self.about,
            "/privacy": self.privacy,
            "/assets/site.css": self.stylesheet,
        }

    def handle(
        self, path: str, query: dict[str, list[str]], base: str, request: Request | None = None
    ) -> Page:
        # Absolute URLs follow the Host the client used; a per-request copy keeps threads apart.
        view = copy.copy(self)
        view.base = base
        view.request = request or Request()
        route = view.routes().get(path)
        if route:
            return route(path, query)
        if path in self.by_path:
            listing = self.by_path[path]
            return replace(view.profile(listing), last_modified=listing_lastmod(listing))
        return view.dynamic(path, query) or view.not_found(path)

    def dynamic(self, path: str, query: dict[str, list[str]]) -> Page | None:
        """Pages addressed by a pattern (``/providers/<id>``); platforms override this."""
        return None

    # -- pages -----------------------------------------------------------------------------
    def layout(self, title: str, main: str, *, head: str = "", canonical: str = "") -> str:
        canonical_link = (
            f'<link rel="canonical" href="{esc(self.base + canonical)}">' if canonical else ""
        )
        nav = "".join(f'<li><a href="{href}">{esc(label)}</a></li>' for href, label in self.nav())
        city = ", ".join(p for p in (self.data.get("city"), self.data.get("state")) if p)
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
{canonical_link}
<link rel="stylesheet" href="/assets/site.css">
{head}
</head>
<body>
<a class="skip-link" href="#main">Skip to main content</a>
<header class="site-header">
  <a class="brand" href="/">{esc(self.name)}</a>
  <nav class="primary-nav" aria-label="Primary"><ul>{nav}</ul></nav>
</header>
<main id="main">
{main}
</main>
<footer class="site-footer">
  <p>&copy; 2025 {esc(self.name)} &middot; {esc(city)}</p>
  <nav aria-label="Footer"><a href="/about">About us</a> |
    <a href="/privacy">Privacy policy</a></nav>
</footer>
</body>
</html>
"""

    def nav(self) -> list[tuple[str, str]]:
        return [("/", "Home"), (self.find_path, self.find_label), ("/about", "About Us")]

    def home(self, path: str, query: dict) -> Page:
        main = f"""<section class="hero">
  <h1>Welcome to {esc(self.name)}</h1>
  <p>Compassionate, expert care for our community.</p>
  <p><a class="button" href="{self.find_path}">{esc(self.find_label)}</a></p>
</section>"""
        if self.extra_paths:
            main += "".join(f'<a href="{esc(p)}">Our doctors</a> ' for p in self.extra_paths)
        return Page(200, self.layout(self.name, main, canonical="/"))

    def about(self, path: str, query: dict) -> Page:
        city = esc(self.data.get("city", ""))
        main = f"<h1>About {esc(self.name)}</h1><p>Serving {city} since 1898.</p>"
        return Page(200, self.layout(f"About | {self.name}", main, canonical=path))

    def privacy(self, path: str, query: dict) -> Page:
        main = "<h1>Privacy Policy</h1><p>We do not sell personal information.</p>"
        return Page(200, self.layout(f"Privacy | {self.name}", main, canonical=path))

    def stylesheet(self, path: str, query: dict) -> Page:
        return Page(200, "body{font-family:sans-serif;margin:0}main{padding:1rem 2rem}\n", CSS)

    def robots(self, path: str, query: dict) -> Page:
        return Page(200, "User-agent: *\nAllow: /\n", TEXT)

    def not_found(self, path: str) -> Page:
        main = "<h1>Page not found</h1><p>The page you requested does not exist.</p>"
        return Page(404, self.layout(f"Page Not Found | {self.name}", main))

    def soft_not_found(self) -> Page:
        """What many CMSs answer for a stale profile id: a 200 page that says 404."""
        main = f"""<div class="error-page">
  <h1>Error 404 - page not found</h1>
  <p>Sorry, the page you are looking for could not be found.</p>
  <p><a href="{self.find_path}">Search our directory</a></p>
</div>"""
        return Page(200, self.layout(f"Page Not Found | {self.name}", main))

    def profile(self, listing: dict) -> Page:
        raise NotImplementedError

    # -- shared profile blocks ---------------------------------------------------------------
    def listing_sections(self, listing: dict, *, specialty_heading: str = "Specialties") -> str:
        """Heading-labelled sections, the way server-rendered profiles show a doctor."""
        out = []
        if listing.get("specialties"):
            items = "".join(f"<li>{esc(s)}</li>" for s in listing["specialties"])
            out.append(f"<section><h2>{specialty_heading}</h2><ul>{items}</ul></section>")
        if listing.get("board_certifications"):
            items = "".join(
                f"<li>{esc(cert_text(c))}</li>" for c in listing["board_certifications"]
            )
            out.append(f"<section><h2>Board Certifications</h2><ul>{items}</ul></section>")
        if listing.get("education"):
            blocks = []
            for kind, heading in EDUCATION_HEADINGS.items():
                entries = [e for e in listing["education"] if e.get("type") == kind]
                if entries:
                    lines = "".join(f"<p>{esc(education_line(e))}</p>" for e in entries)
                    blocks.append(f"<h3>{heading}</h3>{lines}")
            out.append(f"<section><h2>Education</h2>{''.join(blocks)}</section>")
        if listing.get("languages"):
            languages = esc(", ".join(listing["languages"]))
            out.append(f"<section><h2>Languages</h2><p>{languages}</p></section>")
        if listing.get("affiliations"):
            items = "".join(f"<li>{esc(a)}</li>" for a in listing["affiliations"])
            out.append(f"<section><h2>Hospital Affiliations</h2><ul>{items}</ul></section>")
        if listing.get("locations"):
            locations = self.location_blocks(listing)
            out.append(f"<section class='locations'><h2>Locations</h2>{locations}</section>")
        return "\n".join(out)

    @staticmethod
    def location_blocks(listing: dict) -> str:
        blocks = []
        for loc in listing.get("locations") or []:
            city_line = (
                f"{loc.get('city', '')}, {loc.get('state', '')} {loc.get('zip', '')}".strip()
            )
            phone = loc.get("phone")
            digits = re.sub(r"\D", "", phone or "")
            tel = f"<p>Phone: <a href='tel:+1{digits}'>{esc(phone)}</a></p>" if phone else ""
            blocks.append(
                f"<div class='location'><h3>{esc(loc.get('name') or 'Office')}</h3>"
                f"<address>{esc(loc.get('street', ''))}<br>{esc(city_line)}</address>{tel}</div>"
            )
        return "".join(blocks)

    def facts(self, listing: dict, *, with_npi: bool = True) -> str:
        rows = []
        if listing.get("degrees"):
            rows.append(("Credentials", ", ".join(listing["degrees"])))
        if listing.get("gender"):
            rows.append(("Gender", listing["gender"].capitalize()))
        if with_npi and listing.get("npi"):
            rows.append(("NPI", listing["npi"]))
        if not rows:
            return ""
        return (
            "<dl class='provider-facts'>"
            + "".join(f"<dt>{label}</dt><dd>{esc(value)}</dd>" for label, value in rows)
            + "</dl>"
        )

    @staticmethod
    def accepting(listing: dict) -> str:
        value = listing.get("accepting_new_patients")
        if value is None:
            return ""
        text = "Accepting new patients" if value else "Not accepting new patients"
        return f"<p class='accepting'>{text}</p>"

    def pager(self, path: str, page: int, pages: int, extra: dict | None = None) -> str:
        def href(n: int) -> str:
            return f"{path}?{urlencode({**(extra or {}), 'page': n})}"

        parts = []
        if page > 1:
            parts.append(f'<a href="{esc(href(page - 1))}" rel="prev">Previous</a>')
        for n in range(1, pages + 1):
            parts.append(
                f'<span aria-current="page">{n}</span>'
                if n == page
                else f'<a href="{esc(href(n))}">{n}</a>'
            )
        if page < pages:
            parts.append(f'<a href="{esc(href(page + 1))}" rel="next" class="next">Next</a>')
        return f'<nav class="pagination" aria-label="Pagination">{" ".join(parts)}</nav>'
