"""The three classic directory shapes: a JSON-LD profile site found through its sitemap, a
server-rendered "Find a Doctor" with paginated cards, and a faculty directory with microdata
profiles mixing researchers with clinicians."""

from __future__ import annotations

import json
import math
import re
import string
from typing import Any
from urllib.parse import urlencode

from pipeline.demo.site import (
    EDUCATION_HEADINGS,
    PAGE_SIZE,
    SCHEMA_SPECIALTY,
    TEXT,
    XML,
    Page,
    Request,
    Site,
    cert_text,
    esc,
    listing_lastmod,
    page_number,
    person_name,
    school_type,
    variant,
)


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
