"""What a discovery learned, as data (JSON), as a ready-to-paste ``sites.toml`` entry, and as
the text ``credcheck discover`` prints. Pure functions over the learner's state."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from spiders.discovery.templates import template_families, template_regex

CRAWLED_KINDS = ("profile", "mixed", "listing")


def _families(templates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Templates of one family (``/dept/cardiology/dr/{id}``, ``/dept/urology/dr/{id}``) as
    their family (``/dept/*/dr/{id}``), so that the pattern also covers departments to come."""
    plain = [t for t in templates if not (t["template"][0] == "~" or t.get("entry"))]
    sizes = Counter(f for t in plain for f in template_families(t["template"]))
    by_family: dict[str, list[dict]] = {}
    for t in templates:
        families = [] if t not in plain else template_families(t["template"])
        best = max(families, key=lambda f: (sizes[f], f), default=None)
        key = best if best and sizes[best] > 1 else t["template"]
        by_family.setdefault(key, []).append(t)
    return [
        {**members[0], "template": family} if len(members) > 1 else members[0]
        for family, members in by_family.items()
    ]


def _pattern(templates: list[dict[str, Any]]) -> str | None:
    """One regex for several templates (case-insensitive once, at the front)."""
    parts = []
    for t in _families(templates):
        if t["template"].startswith("~"):  # a configured pattern, as given
            parts.append(t["template"][1:])
        elif t.get("entry"):  # a single page: its own path (and query)
            parts.append("(?i)^https?://[^/?#]+" + re.escape(_path_and_query(t["template"])) + "$")
        else:
            parts.append(template_regex(t["template"], t.get("example"), t.get("ref_key")))
    if not parts:
        return None
    bare = [p.removeprefix("(?i)") for p in parts]
    return "(?i)" + ("|".join(f"(?:{p})" for p in bare) if len(bare) > 1 else bare[0])


def _path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(("", "", parts.path, parts.query, ""))


def _site_key(site_id: str | None) -> str:
    return re.sub(r"[^a-z0-9]+", "-", (site_id or "site").lower()).strip("-") or "site"


def registry_entry(report: dict[str, Any]) -> str:
    """A ``[sites.<id>]`` table that crawls what discovery found, without sampling: the
    sitemaps (when profiles came from them) and the directory entry as start URLs, the kept
    templates as ``profile_pattern`` / ``listing_pattern``."""
    templates = report["templates"]
    profiles = [
        t for t in templates if t["kind"] in ("profile", "mixed") and t["yield"].get("profile")
    ]
    listings = [t for t in templates if t["kind"] == "listing" or (
        t["kind"] == "mixed" and t["yield"].get("listing"))]  # fmt: skip
    from_sitemap = any("sitemap" in t["sources"] for t in profiles)
    starts = []
    if from_sitemap and report.get("robots_url"):
        starts.append(report["robots_url"])
    if report.get("entry") and listings:
        starts.append(report["entry"])
    if not starts and report.get("start_url"):
        starts.append(report["start_url"])
    platform = "schemaorg_sitemap" if from_sitemap else "html_directory"
    lines = [
        f"[sites.{_site_key(report.get('site_id'))}]",
        f'name = "{report.get("site_id") or "discovered site"}"',
        f'platform = "{platform}"',
        "start_urls = [" + ", ".join(f'"{u}"' for u in starts) + "]",
    ]
    if pattern := _pattern(profiles):
        lines.append(f"profile_pattern = '{pattern}'")
    if listings and (pattern := _pattern(listings)):
        lines.append(f"listing_pattern = '{pattern}'")
    return "\n".join(lines) + "\n"


def discovery_report(
    *,
    start_url: str | None,
    entry: str | None,
    sitemaps: list[str],
    pagination: list[str],
    state: dict[str, Any],
    samples: list[dict],
    site_id: str | None,
) -> dict[str, Any]:
    """Everything discovery learned about one site (stored with the crawl run)."""
    robots = None
    if start_url:
        parts = urlsplit(start_url)
        robots = urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", ""))
    report: dict[str, Any] = {
        "site_id": site_id,
        "start_url": start_url,
        "robots_url": robots,
        "entry": entry,
        "sitemaps": sitemaps,
        "pagination": pagination,
        "templates": state["templates"],
        "samples_used": state["samples_used"],
        "sample_budget": state["sample_budget"],
        "stale": state["stale"],
        "samples": samples,
    }
    report["registry_entry"] = registry_entry(report)
    report["summary"] = {
        "entry": entry,
        "profile_templates": [t["template"] for t in state["templates"]
                              if t["kind"] in ("profile", "mixed")],
        "listing_templates": [t["template"] for t in state["templates"] if t["kind"] == "listing"],
        "pagination": pagination[:1],
        "samples_used": state["samples_used"],
    }  # fmt: skip
    return report


def _yield_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])) or "-"


def format_text(report: dict[str, Any]) -> str:
    """The report as ``credcheck discover`` prints it."""
    out = [f"site: {report.get('site_id')}  (start: {report.get('start_url')})"]
    out.append(f"directory entry: {report.get('entry') or '(none: profiles came from sitemaps)'}")
    sitemaps = report.get("sitemaps") or []
    out.append(
        f"sitemaps: {', '.join(sitemaps[:3]) + (' ...' if len(sitemaps) > 3 else '') or '(none)'}"
    )

    def section(t: dict) -> str:
        if t["kind"] in ("profile", "mixed") and t["yield"].get("profile"):
            return "profile templates"
        if t["kind"] in ("listing", "redundant", "mixed"):
            return "listing templates"
        return "not kept" if t["sampled"] else ""

    for title in ("profile templates", "listing templates", "not kept"):
        rows = [t for t in report["templates"] if section(t) == title]
        out.append(f"{title}:" + ("" if rows else " (none)"))
        for t in rows:
            out.append(
                f"  {t['template']:<44} {t['kind']:<9} sampled {t['sampled']} "
                f"({_yield_text(t['sample_yield'])}); fetched {t['fetched']} "
                f"({_yield_text(t['yield'])}); {t['urls_seen']} URLs seen"
            )
    out.append(f"pagination: {', '.join(report.get('pagination') or []) or '(none seen)'}")
    out.append(f"samples: {report['samples_used']} of a budget of {report['sample_budget']}")
    rendered = report.get("rendering") or {}
    if rendered.get("pages"):
        out.append(f"built by JavaScript: {rendered['pages']} pages rendered in a browser, which "
                   f"asked {rendered['browser_requests']} more (scripts, data)")
    if rendered.get("without_browser"):
        out.append(f"built by JavaScript: {rendered['without_browser']} pages left unread, no "
                   "browser installed (Debian: apt-get install chromium, or set "
                   "CREDCHECK_CHROMIUM)")
    if report.get("stale"):
        out.append("stopped yielding since the last run: " + ", ".join(report["stale"]))
    out.append("")
    out.append("sites.toml entry:")
    out.append(report["registry_entry"])
    out.append("sample listings:")
    for i, sample in enumerate(report.get("samples") or [], 1):
        where = (sample.get("locations") or [{}])[0] or {}
        place = ", ".join(p for p in (where.get("city"), where.get("state")) if p)
        out.append(
            f"  {i}. {sample['name']} — {', '.join(sample.get('specialties') or []) or '?'}"
            f"{' — ' + place if place else ''} [{sample['extractor']}] {sample['source_url']}"
        )
    if not report.get("samples"):
        out.append("  (none)")
    return "\n".join(out) + "\n"
