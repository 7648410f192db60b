"""robots.txt and sitemaps of a generated site."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipeline.demo.server import Page
from pipeline.demo.sitegen.markup import BASE, esc
from pipeline.demo.sitegen.people import slugify

if TYPE_CHECKING:
    from pipeline.demo.sitegen.site import GeneratedSite

XML = "application/xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class GzPage:
    """A sitemap served gzipped (compressed when served, with the server's own address)."""

    text: str


def xml_document(root: str, body: str) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} '
            f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</{root}>\n')


def build_sitemaps(site: GeneratedSite, rng: random.Random) -> None:
    """The sitemaps the site's options call for (none, flat, gzipped, an index of chunks)."""
    o = site.options
    site.sitemap_urls = []  # what robots.txt names (or would name)
    site.stale_paths = set()
    if o["sitemap"] == "absent":
        return
    profiles = [site.profile_path(p) for p in site.people + site.directory_staff
                if site.state[id(p)] in ("ok", "disallowed", "staff")]
    if o["sitemap"] == "partial" and profiles:
        profiles = rng.sample(profiles, max(1, int(len(profiles) * rng.uniform(0.3, 0.8))))
    if o["sitemap"] == "stale":
        site.stale_paths = {site.profile_path(p) for p in site.removed}
        profiles = sorted(profiles + sorted(site.stale_paths))
    other = ["/", "/about", *sorted(site.decoy_paths)]
    if o["listing"]:
        other.append(site.entry_path)
    gz = o["sitemap"] == "gzip"
    ext = ".xml.gz" if gz else ".xml"
    flat = o["sitemap"] == "flat" or (gz and rng.random() < 0.4)
    if flat:
        name = rng.choice(("/sitemap", "/sitemap-main", "/sitemaps/all")) + ext
        if o["robots"] != "sitemap_line":
            name = "/sitemap" + ext  # the conventional place, found without robots.txt
        _sitemap(site, name, profiles + other, gz)
        site.sitemap_urls = [name]
        return
    chunk = rng.choice((10, 25, 50))
    children = []
    for i in range(0, len(profiles), chunk):
        child = f"/sitemaps/providers-{i // chunk + 1}{ext}"
        _sitemap(site, child, profiles[i : i + chunk], gz)
        children.append(child)
    _sitemap(site, f"/sitemaps/pages{ext}", other, gz)
    children.append(f"/sitemaps/pages{ext}")
    index = rng.choice(("/sitemap_index.xml", "/sitemap.xml", "/sitemaps/index.xml"))
    if o["robots"] != "sitemap_line":
        index = "/sitemap.xml"
    body = "".join(f"<sitemap><loc>{BASE}{esc(c)}</loc></sitemap>" for c in children)
    site.add_page(index, Page(200, xml_document("sitemapindex", body), XML))
    site.sitemap_urls = [index]


def _sitemap(site: GeneratedSite, path: str, paths: list[str], gz: bool) -> None:
    body = "".join(f"<url><loc>{BASE}{esc(p)}</loc><lastmod>2025-0{1 + len(p) % 9}-1"
                   f"{len(p) % 10}</lastmod></url>" for p in paths)
    text = xml_document("urlset", body)
    site.add_page(path, GzPage(text) if gz else Page(200, text, XML))


def build_robots(site: GeneratedSite) -> None:
    """robots.txt (Disallow lines and Sitemap lines as drawn); profiles it forbids become
    people known only by their cards."""
    o = site.options
    lines = ["User-agent: *"]
    site.disallow_prefixes = []
    if o["disallow"] == "search":
        site.disallow_prefixes.append("/search")
    elif o["disallow"] == "decoys" and site.decoy_paths:
        # A decoys' folder that holds no page of the directory (its entry may share the
        # folder of a decoy: /about/team/ beside /about/leadership/).
        directory = {site.entry_path, *site.listing_paths} if o["listing"] else set()
        folders = ["/" + p.strip("/").split("/")[0] + "/" for p in sorted(site.decoy_paths)]
        folder = next((f for f in folders if not any(p.startswith(f) for p in directory)), None)
        site.disallow_prefixes += [folder] if folder else []
    elif o["disallow"] == "profiles":
        site.disallow_prefixes.append(site.profile_prefix())
    elif o["disallow"] == "department":
        dept = slugify(sorted({p.department for p in site.people})[0])
        sample = site.profile_template.path("x", dept)
        site.disallow_prefixes.append(sample[: sample.index(dept) + len(dept) + 1])
    lines += [f"Disallow: {p}" for p in site.disallow_prefixes] or ["Allow: /"]
    lines.append("")
    lines += ["User-agent: GPTBot", "Disallow: /", ""]
    if o["robots"] == "sitemap_line":
        lines += [f"Sitemap: {BASE}{s}" for s in site.sitemap_urls]
    site.robots_txt = "\n".join(lines) + "\n"
    if o["robots"] != "absent":
        site.add_page("/robots.txt", Page(200, site.robots_txt, TEXT))
    for person in site.people:  # profiles robots.txt forbids are no profile of the site
        if site.state[id(person)] == "ok" and not site.allowed(site.profile_path(person)):
            site.state[id(person)] = "disallowed"
