"""Fixture web server: serves demo directory sites (docs/design.md section 2) on loopback.

Each site gets its own ``ThreadingHTTPServer`` on 127.0.0.1, so each one is a separate
host:port, as separate hospitals are separate hosts on the web. Pages are rendered per the site's
``shape`` and imitate the shapes real hospital and faculty directories take, including
their awkward parts: JSON-LD in many placements plus a malformed block, a robots-disallowed
search page, soft 404s, paginated listings, microdata faculty profiles mixing researchers with
clinicians.

    with serve_sites([Path("sites/mercy-general.json")]) as urls:
        urls["mercy-general"]  # -> "http://127.0.0.1:40123"

By hand: ``python -m pipeline.demo.server world/sites/*.json [--port-base 8100]``.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import html
import json
import logging
import math
import re
import string
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

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


class JsonLdSitemapSite(Site):
    """Hospital CMS: robots.txt -> sitemap index -> profiles carrying schema.org JSON-LD."""

    find_path = "/search"  # the site's own search, which robots.txt keeps crawlers out of

    def routes(self) -> dict:
        routes = super().routes() | {
            "/sitemap_index.xml": self.sitemap_index,
            "/search": self.search,
        }
        routes["/sitemaps/pages.xml"] = self.pages_sitemap
        for n in range(1, len(self.chunks()) + 1):
            routes[f"/sitemaps/doctors-{n}.xml"] = self.doctors_sitemap
        return routes

    def robots(self, path: str, query: dict) -> Page:
        body = (
            "# Crawlers are welcome on profiles; please leave the search alone.\n"
            "User-agent: *\nDisallow: /search\nDisallow: /api/\n\n"
            f"Sitemap: {self.base}/sitemap_index.xml\n"
        )
        return Page(200, body, TEXT)

    def chunks(self) -> list[list[dict]]:
        # At least two child sitemaps, as large sites split theirs.
        size = max(1, min(500, math.ceil(len(self.listings) / 2)))
        return [self.listings[i : i + size] for i in range(0, len(self.listings), size)] or [[]]

    def sitemap_index(self, path: str, query: dict) -> Page:
        names = ["pages"] + [f"doctors-{n}" for n in range(1, len(self.chunks()) + 1)]
        entries = "".join(
            f"<sitemap><loc>{self.base}/sitemaps/{name}.xml</loc><lastmod>2025-01-15</lastmod></sitemap>"
            for name in names
        )
        return Page(200, self.xml("sitemapindex", entries), XML)

    def pages_sitemap(self, path: str, query: dict) -> Page:
        urls = "".join(f"<url><loc>{self.base}{p}</loc></url>" for p in ("/", "/about", "/privacy"))
        return Page(200, self.xml("urlset", urls), XML)

    def doctors_sitemap(self, path: str, query: dict) -> Page:
        n = int(re.search(r"(\d+)\.xml$", path).group(1))
        urls = "".join(
            f"<url><loc>{self.base}{esc(listing['path'])}</loc><lastmod>{listing_lastmod(listing)}</lastmod>"
            "<changefreq>monthly</changefreq></url>"
            for listing in self.chunks()[n - 1]
        )
        if n == 1:
            urls += "".join(
                f"<url><loc>{esc(p if p.startswith('http') else self.base + p)}</loc></url>"
                for p in self.extra_paths
            )
        return Page(200, self.xml("urlset", urls), XML)

    @staticmethod
    def xml(root: str, body: str) -> str:
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<{root} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</{root}>\n'
        )

    def search(self, path: str, query: dict) -> Page:
        main = """<h1>Find a Doctor</h1>
<form action="/search" method="get"><label>Name, specialty or condition
<input type="search" name="q"></label><button type="submit">Search</button></form>
<p>Enter a search term to see matching doctors.</p>"""
        return Page(200, self.layout(f"Find a Doctor | {self.name}", main, canonical="/search"))

    def profile(self, listing: dict) -> Page:
        blocks = [self.breadcrumbs(listing), self.physician_jsonld(listing)]
        if variant(listing["id"], 3) == 0:
            # A second, hand-templated block with a trailing comma, as CMS snippets often carry.
            blocks.insert(
                0,
                f"""{{
  "@context": "https://schema.org",
  "@type": "WebSite",
  "name": "{self.name}",
  "url": "{self.base}/",
}}""",
            )
        head = "\n".join(f'<script type="application/ld+json">\n{b}\n</script>' for b in blocks)
        main = f"""<nav class="breadcrumbs" aria-label="Breadcrumb"><a href="/">Home</a> &rsaquo;
<a href="/search">Find a Doctor</a> &rsaquo; <span>{esc(listing["display_name"])}</span></nav>
<article class="doctor-profile">
  <header><h1>{esc(listing["display_name"])}</h1>{self.accepting(listing)}
  {self.facts(listing, with_npi=False)}</header>
  {self.listing_sections(listing)}
</article>"""
        title = f"{listing['display_name']} | {self.name}"
        return Page(200, self.layout(title, main, head=head, canonical=listing["path"]))

    def breadcrumbs(self, listing: dict) -> str:
        crumbs = [
            ("Home", "/"),
            ("Find a Doctor", "/search"),
            (listing["display_name"], listing["path"]),
        ]
        return json.dumps(
            {
                "@context": "https://schema.org",
                "@type": "BreadcrumbList",
                "itemListElement": [
                    {"@type": "ListItem", "position": i, "name": name, "item": self.base + href}
                    for i, (name, href) in enumerate(crumbs, 1)
                ],
            },
            indent=1,
            ensure_ascii=False,
        )

    def physician_jsonld(self, listing: dict) -> str:
        """The person's JSON-LD, placed and spelled one of several real-world ways by id."""
        node = self.person_node(listing)
        placement = variant(listing["id"], 6) if listing.get("is_physician", True) else 2
        url = self.base + listing["path"]
        if placement == 0:
            node["@type"] = "Physician"  # pre-v24 sites still call the person a Physician
            data: Any = {"@context": "https://schema.org", **node}
        elif placement == 1:
            data = {"@context": "https://schema.org", "@type": "IndividualPhysician", **node}
        elif placement == 2:
            data = {
                "@context": "https://schema.org",
                "@type": "Person",
                **node,
                "jobTitle": listing.get("title")
                or ("Physician" if listing.get("is_physician", True) else "Clinician"),
            }
        elif placement == 3:
            data = {
                "@context": "https://schema.org",
                "@graph": [
                    {"@type": "WebPage", "@id": url, "url": url, "name": listing["display_name"]},
                    {"@type": "IndividualPhysician", "@id": url + "#physician", **node},
                ],
            }
        elif placement == 4:
            data = {
                "@context": "https://schema.org",
                "@type": "ProfilePage",
                "url": url,
                "mainEntity": {"@type": "IndividualPhysician", **node},
            }
        else:
            data = {
                "@context": "https://schema.org",
                "@type": "Hospital",
                "name": self.name,
                "url": self.base + "/",
                "employee": [{"@type": ["Physician", "Person"], **node}],
            }
        text = json.dumps(data, indent=1, ensure_ascii=False)
        if variant(listing["id"], 5) == 0:
            # Hand-edited templates: HTML-escaped ampersands and a trailing comma.
            text = text.replace("&", "&amp;")
            text = re.sub(r"\n}$", ",\n}", text)
        return text

    def person_node(self, listing: dict) -> dict:
        lid = listing["id"]
        node: dict[str, Any] = {}
        # The name either as displayed or as the bare name next to separate honorifics.
        node["name"] = listing["display_name"] if variant(lid, 2) else person_name(listing)
        if listing.get("prefix"):
            node["honorificPrefix"] = listing["prefix"]
        if listing.get("degrees"):
            node["honorificSuffix"] = ", ".join(listing["degrees"])
        for key, prop in (
            ("given_name", "givenName"),
            ("additional_name", "additionalName"),
            ("family_name", "familyName"),
        ):
            if listing.get(key):
                node[prop] = listing[key]
        node["url"] = self.base + listing["path"]
        if listing.get("gender"):
            node["gender"] = f"https://schema.org/{listing['gender'].capitalize()}"
        if listing.get("specialties"):
            node["medicalSpecialty"] = self.specialty_value(listing["specialties"], variant(lid, 4))
        if listing.get("npi"):
            if variant(lid, 7) == 3:
                node["identifier"] = {
                    "@type": "PropertyValue",
                    "propertyID": "NPI",
                    "value": listing["npi"],
                }
            else:
                node["usNPI"] = listing["npi"]
        credentials = [
            {
                "@type": "EducationalOccupationalCredential",
                "credentialCategory": "Board Certification",
                "name": c.get("certificate"),
                **(
                    {"recognizedBy": {"@type": "Organization", "name": c["board"]}}
                    if c.get("board")
                    else {}
                ),
            }
            for c in listing.get("board_certifications") or []
        ]
        if credentials and variant(lid, 4) == 1:
            # Some CMSs flatten credentials to text.
            credentials = [cert_text(c) for c in listing["board_certifications"]]
        if credentials:
            node["hasCredential"] = credentials
        if listing.get("education"):
            node["alumniOf"] = [
                {
                    "@type": "OrganizationRole",
                    "roleName": EDUCATION_HEADINGS.get(e.get("type"), "Education"),
                    **({"endDate": str(e["year"])} if e.get("year") else {}),
                    "alumniOf": {"@type": school_type(e), "name": e["name"]},
                }
                for e in listing["education"]
            ]
        if listing.get("affiliations"):
            node["hospitalAffiliation"] = [
                {"@type": "Hospital", "name": a} for a in listing["affiliations"]
            ]
        locations = listing.get("locations") or []
        if locations:
            addresses = [
                {
                    "@type": "PostalAddress",
                    "name": loc.get("name"),
                    "streetAddress": loc.get("street"),
                    "addressLocality": loc.get("city"),
                    "addressRegion": loc.get("state"),
                    "postalCode": loc.get("zip"),
                    "addressCountry": "US",
                    "telephone": loc.get("phone"),
                }
                for loc in locations
            ]
            node["address"] = addresses[0] if len(addresses) == 1 else addresses
            if locations[0].get("phone"):
                node["telephone"] = locations[0]["phone"]
        if listing.get("accepting_new_patients") is not None:
            node["isAcceptingNewPatients"] = listing["accepting_new_patients"]
        if listing.get("languages"):
            node["knowsLanguage"] = (
                [{"@type": "Language", "name": lang} for lang in listing["languages"]]
                if variant(lid, 2)
                else list(listing["languages"])
            )
        return node

    @staticmethod
    def specialty_value(specialties: list[str], form: int) -> Any:
        """form 0: string, 1: schema.org URL, 2: MedicalSpecialty object, 3: array of mixed."""

        def url_or_text(label: str) -> str:
            member = SCHEMA_SPECIALTY.get(label)
            return f"https://schema.org/{member}" if member else label

        def obj(label: str) -> dict:
            return {"@type": "MedicalSpecialty", "name": label}

        if form == 3 or len(specialties) > 1:
            makers = (str, url_or_text, obj)
            return [makers[(i + form) % 3](label) for i, label in enumerate(specialties)]
        label = specialties[0]
        return (label, url_or_text(label), obj(label), [label])[form]


class HtmlDirectorySite(Site):
    """Server-rendered 'Find a Doctor': paginated result cards, profiles without structured data."""

    def routes(self) -> dict:
        return super().routes() | {self.find_path: self.find_a_doctor}

    def handle(self, path: str, query: dict, base: str, request: Request | None = None) -> Page:
        page = super().handle(path, query, base, request)
        if page.status == 404 and path.startswith("/physician-directory/"):
            return self.soft_not_found()
        return page

    def dead_ids(self) -> list[str]:
        """Two ids that are not (or no longer) in the directory, linked from listing pages."""
        known = {listing["id"] for listing in self.listings}
        candidates = (str(n) for n in range(990001, 999999))
        return [c for c in candidates if c not in known][:2]

    def find_a_doctor(self, path: str, query: dict) -> Page:
        pages = max(1, math.ceil(len(self.listings) / PAGE_SIZE))
        page = page_number(query)
        chunk = self.listings[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        cards = [
            self.card(
                listing["path"],
                listing["display_name"],
                listing.get("specialties") or [],
                (listing.get("locations") or [{}])[0].get("city"),
            )
            for listing in chunk
        ]
        dead = self.dead_ids()
        if page == 1 and cards:
            cards.insert(
                min(5, len(cards)),
                self.card(
                    f"/physician-directory/{dead[0]}",
                    "Dr. Alan Former, MD",
                    ["Internal Medicine"],
                    self.data.get("city"),
                ),
            )
        if page == pages and cards:
            cards.append(
                self.card(
                    f"/physician-directory/{dead[1]}",
                    "Dr. Beth Retired, DO",
                    ["Family Medicine"],
                    self.data.get("city"),
                )
            )
        shown_from = (page - 1) * PAGE_SIZE + 1
        shown_to, total = shown_from + len(chunk) - 1, len(self.listings)
        count = (
            f"Showing {shown_from}&ndash;{shown_to} of {total} doctors"
            if chunk
            else "No doctors match your search."
        )
        main = f"""<h1>Find a Doctor</h1>
<form class="provider-search" action="{self.find_path}" method="get">
<label>Name or specialty <input type="search" name="q"></label>
<button type="submit">Search</button></form>
<p class="results-count">{count}</p>
<ul class="results">
{"".join(cards)}
</ul>
{self.pager(self.find_path, page, pages)}"""
        title = f"Find a Doctor{f' - Page {page}' if page > 1 else ''} | {self.name}"
        return Page(200, self.layout(title, main, canonical=f"{self.find_path}?page={page}"))

    @staticmethod
    def card(href: str, name: str, specialties: list[str], city: str | None) -> str:
        return f"""<li class="provider-card">
  <a class="provider-card__name" href="{esc(href)}">{esc(name)}</a>
  <p class="provider-card__specialty">{esc(", ".join(specialties))}</p>
  <p class="provider-card__location">{esc(city or "")}</p>
  <a class="provider-card__cta" href="{esc(href)}">View profile</a>
</li>"""

    def profile(self, listing: dict) -> Page:
        main = f"""<nav class="breadcrumbs"><a href="/">Home</a> &rsaquo;
<a href="{self.find_path}">Find a Doctor</a> &rsaquo;
<span>{esc(listing["display_name"])}</span></nav>
<article class="provider-profile">
<header class="provider-header">
  <h1>{esc(listing["display_name"])}</h1>
  {self.accepting(listing)}
  {self.facts(listing)}
</header>
{self.listing_sections(listing)}
<p><a href="{self.find_path}">Back to search results</a></p>
</article>"""
        title = f"{listing['display_name']} | {self.name}"
        return Page(200, self.layout(title, main, canonical=listing["path"]))


class FacultyDirectorySite(Site):
    """Medical-school faculty directory: A-Z and department listings, microdata profiles."""

    find_label = "Faculty Directory"
    find_path = "/faculty"
    page_size = 10

    def routes(self) -> dict:
        return super().routes() | {"/faculty": self.faculty, "/faculty/": self.faculty}

    @staticmethod
    def sort_key(listing: dict) -> tuple[str, str]:
        surname = listing.get("family_name") or listing["display_name"]
        return surname.lower(), listing["display_name"]

    def faculty(self, path: str, query: dict) -> Page:
        letter = (query.get("letter") or [""])[0].upper()
        department = (query.get("department") or [""])[0]
        if letter:
            people = [p for p in self.listings if self.sort_key(p)[0][:1].upper() == letter]
            heading, extra = f"Faculty: {letter}", {"letter": letter}
        elif department:
            people = [p for p in self.listings if p.get("department") == department]
            heading, extra = department, {"department": department}
        else:
            return self.faculty_index()
        people.sort(key=self.sort_key)
        pages = max(1, math.ceil(len(people) / self.page_size))
        page = page_number(query)
        rows = (
            "".join(
                f"""<li class="person"><a href="{esc(p["path"])}">{esc(p["display_name"])}</a>
<span class="person__title">{esc(p.get("title") or "")}</span></li>"""
                for p in people[(page - 1) * self.page_size : page * self.page_size]
            )
            or "<li>No faculty found.</li>"
        )
        main = f"""{self.az_bar()}<h1>{esc(heading)}</h1>
<ul class="people">{rows}</ul>
{self.pager(self.find_path, page, pages, extra) if pages > 1 else ""}"""
        return Page(200, self.layout(f"{heading} | {self.name}", main))

    def az_bar(self) -> str:
        links = "".join(f'<a href="/faculty?letter={c}">{c}</a> ' for c in string.ascii_uppercase)
        return f'<nav class="az" aria-label="Browse by last name">{links}</nav>'

    def faculty_index(self) -> Page:
        departments = sorted({p["department"] for p in self.listings if p.get("department")})
        items = "".join(
            f'<li><a href="/faculty?{urlencode({"department": d})}">{esc(d)}</a></li>'
            for d in departments
        )
        main = f"""<h1>Faculty Directory</h1>
<p>Browse our faculty by last name or by department.</p>
{self.az_bar()}
<h2>Departments</h2><ul class="departments">{items}</ul>"""
        return Page(
            200, self.layout(f"Faculty Directory | {self.name}", main, canonical="/faculty")
        )

    def profile(self, listing: dict) -> Page:
        suffix = ", ".join(listing.get("degrees") or [])
        name_parts = "".join(
            f'<meta itemprop="{prop}" content="{esc(listing[key])}">'
            for key, prop in (
                ("given_name", "givenName"),
                ("additional_name", "additionalName"),
                ("family_name", "familyName"),
            )
            if listing.get(key)
        )
        education = "".join(self.education_item(e) for e in listing.get("education") or [])
        if listing.get("is_physician", True):
            clinical_only = {**listing, "education": [], "affiliations": []}
            clinical = f"""<section class="clinical"><h2>Clinical Profile</h2>
{self.accepting(listing)}{self.facts(listing)}
{self.listing_sections(clinical_only, specialty_heading="Clinical Specialties")}
</section>"""
        else:  # researchers: an office, no clinical profile
            offices = self.location_blocks(listing)
            clinical = f"<section><h2>Locations</h2>{offices}</section>" if offices else ""
        affiliations = "".join(
            f"""<li itemprop="affiliation" itemscope itemtype="https://schema.org/Organization">
<span itemprop="name">{esc(a)}</span></li>"""
            for a in listing.get("affiliations") or []
        )
        main = f"""<article class="faculty-profile" itemscope itemtype="https://schema.org/Person">
<header>
  <h1><span itemprop="name">{esc(listing["display_name"])}</span></h1>{name_parts}
  {f'<meta itemprop="honorificSuffix" content="{esc(suffix)}">' if suffix else ""}
  <p class="title" itemprop="jobTitle">{esc(listing.get("title") or "")}</p>
  <p class="department" itemprop="worksFor" itemscope itemtype="https://schema.org/Organization">
    <span itemprop="name">{esc(listing.get("department") or self.name)}</span></p>
</header>
<section><h2>Education</h2><ul>{education}</ul></section>
<section><h2>Affiliations</h2><ul>{affiliations}</ul></section>
{clinical}
</article>"""
        return Page(
            200,
            self.layout(
                f"{listing['display_name']} | {self.name}", main, canonical=listing["path"]
            ),
        )

    @staticmethod
    def education_item(entry: dict) -> str:
        """One schooling as a microdata OrganizationRole (role name + school + year)."""
        year = entry.get("year")
        when = f', <time itemprop="endDate" datetime="{year}">{year}</time>' if year else ""
        return f"""<li itemprop="alumniOf" itemscope itemtype="https://schema.org/OrganizationRole">
<span itemprop="roleName">{EDUCATION_HEADINGS.get(entry.get("type"), "Education")}</span>:
<span itemprop="alumniOf" itemscope itemtype="https://schema.org/{school_type(entry)}">
<span itemprop="name">{esc(entry["name"])}</span></span>{when}</li>"""


SHAPES: dict[str, type[Site]] = {
    "jsonld_sitemap": JsonLdSitemapSite,
    "html_directory": HtmlDirectorySite,
    "faculty_directory": FacultyDirectorySite,
}


def all_shapes() -> dict[str, type[Site]]:
    """SHAPES plus the vendor platforms (search APIs, WebForms, faculty systems), which render
    the same content their way (pipeline.demo.platforms; imported late: it builds on Site)."""
    from pipeline.demo.platforms import PLATFORM_SHAPES

    return SHAPES | PLATFORM_SHAPES


def load_site(source: Path | dict, shape: str | None = None) -> Site:
    """A site from its content file (or the content itself), rendered in its own ``shape`` or,
    when given, in another one: the same directory on another platform, for tests."""
    data = source if isinstance(source, dict) else json.loads(Path(source).read_text("utf-8"))
    if shape:
        data = {**data, "shape": shape}
    try:
        return all_shapes()[data["shape"]](data)
    except KeyError:
        raise ValueError(f"{source}: unknown site shape {data.get('shape')!r}") from None


def http_date(iso_day: str) -> str:
    return format_datetime(datetime.fromisoformat(iso_day).replace(tzinfo=UTC), usegmt=True)


def not_modified(request: Request, etag: str, last_modified: str | None) -> bool:
    """RFC 9110 13.1: If-None-Match wins over If-Modified-Since."""
    if match := request.header("If-None-Match"):
        return etag in [t.strip() for t in match.split(",")] or match.strip() == "*"
    since = request.header("If-Modified-Since")
    if since and last_modified:
        try:
            changed = datetime.fromisoformat(last_modified).replace(tzinfo=UTC)
            return parsedate_to_datetime(since) >= changed
        except (TypeError, ValueError):
            return False
    return False


def make_handler(
    site: Site, access_log: list[dict] | None, faults: Any = None, latency: float = 0.0
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "credcheck-fixture/0.1"
        # Headers and body go out in two writes; with Nagle on, the client's delayed ACK would
        # hold every keep-alive response back ~40 ms.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self.respond(send_body=True)

        def do_HEAD(self) -> None:
            self.respond(send_body=False)

        def do_POST(self) -> None:
            self.respond(send_body=True)

        def respond(self, send_body: bool) -> None:
            url = urlsplit(self.path)
            host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(
                self.command,
                {k.lower(): v for k, v in self.headers.items()},
                self.rfile.read(length) if length else b"",
            )
            fault = faults.fault_for(url.path, site) if faults else None
            try:
                if fault:
                    page = faults.page(fault, url.path, site, f"http://{host}", request)
                else:
                    page = site.handle(url.path, parse_qs(url.query), f"http://{host}", request)
            except Exception:  # a fixture bug should show as a 500, not kill the thread
                logger.exception("fixture server error on %s", self.path)
                page = Page(500, "Internal Server Error", TEXT)
            body = page.body if isinstance(page.body, bytes) else page.body.encode("utf-8")
            headers = list(page.headers)
            status = page.status
            if status == 200 and self.command in ("GET", "HEAD"):
                # Validators for conditional re-crawls: a strong ETag over the body, and the
                # profile's change date when the page has one.
                etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
                headers.append(("ETag", etag))
                if page.last_modified:
                    headers.append(("Last-Modified", http_date(page.last_modified)))
                if not_modified(request, etag, page.last_modified):
                    status, body = 304, b""
            # Logged before answering, so a client that has its response finds it logged.
            if access_log is not None:
                access_log.append(
                    {
                        "site_id": site.site_id,
                        "method": self.command,
                        "path": self.path,
                        "status": status,
                        "user_agent": self.headers.get("User-Agent", ""),
                        "time": time.time(),
                        "fault": fault,
                        "if_none_match": request.header("If-None-Match"),
                    }
                )
            if latency:
                time.sleep(latency)
            if fault and faults.misbehave(fault, self, page, body):
                return
            self.send_response(status)
            if status != 304:
                self.send_header("Content-Type", page.content_type)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body:
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("%s %s", site.site_id, format % args)

    return Handler


class FixtureServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A crawler that hangs up (a cancelled 50 MB download, a timeout) is not a server bug.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class SiteUrls(dict):
    """{site_id: base_url}, with the live ``Site`` objects in ``.sites``."""

    sites: dict[str, Site]


@contextmanager
def serve_sites(
    site_json_paths: list[Path | dict],
    *,
    host: str = "127.0.0.1",
    port_base: int | None = None,
    access_log: list[dict] | None = None,
    shape: str | None = None,
    faults: bool = False,
    latency: float = 0.0,
) -> Iterator[SiteUrls]:
    """Serve each site on its own port; yield {site_id: base_url}; shut all down on exit.

    ``port_base`` gives site i the port port_base + i (default: free ports). Requests are
    appended to ``access_log`` (site_id, method, path, status, user_agent) when it is given.
    ``shape`` renders every site in that shape; ``faults`` turns on the fault mode
    (pipeline.demo.faults): some pages misbehave the ways real servers do. ``latency`` delays
    every answer by that many seconds (a busy server, for throttling tests).
    """
    from pipeline.demo.faults import Faults

    sites = [load_site(p, shape) for p in site_json_paths]
    urls = SiteUrls()
    urls.sites = {}
    with ExitStack() as stack:
        for i, site in enumerate(sites):
            if site.site_id in urls:
                raise ValueError(f"duplicate site_id {site.site_id!r}")
            port = 0 if port_base is None else port_base + i
            plan = Faults(site) if faults else None
            server = FixtureServer((host, port), make_handler(site, access_log, plan, latency))
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.1},  # quick shutdown; tests start many servers
                name=f"fixture-{site.site_id}",
                daemon=True,
            )
            thread.start()
            stack.callback(_stop, server, thread)
            urls[site.site_id] = "http://{}:{}".format(*server.server_address[:2])
            urls.sites[site.site_id] = site
        yield urls


def _stop(server: ThreadingHTTPServer, thread: threading.Thread) -> None:
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve demo directory sites on 127.0.0.1.")
    parser.add_argument("sites", nargs="+", type=Path, help="sites/<site_id>.json files")
    parser.add_argument(
        "--port-base", type=int, default=None, help="serve site i on port N+i (default: free ports)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with serve_sites(args.sites, port_base=args.port_base) as urls:
        for site_id, url in urls.items():
            print(f"{site_id}\t{url}/", flush=True)
        print("Serving; press Ctrl-C to stop.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
