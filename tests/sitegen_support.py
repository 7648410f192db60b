"""Reading a generated site's pages in-process, client-rendered sites included.

For a client-rendered site, ``fetch`` does what its script does, in Python: the route's app shell,
then the data URL, then the page put together from the payload (or the not-found page the bundle
carries). The browser tests (tests/test_sitegen_client.py) check that the real script in a real
Chromium builds the same page.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

from pipeline.demo.server import Page
from pipeline.demo.sitegen import GeneratedSite
from pipeline.demo.sitegen.markup import esc

BASE_URL = "http://127.0.0.1:9"


def answer(site: GeneratedSite, path_and_query: str, base: str = BASE_URL) -> Page:
    """The site's own answer to one GET (a client-rendered site's shell, bundle, data...)."""
    parts = urlsplit(path_and_query)
    return site.handle(parts.path, parse_qs(parts.query), base)


def is_shell(site: GeneratedSite, page: Page) -> bool:
    return site.client is not None and page.body == site.client.shell(site.org)


def bundle_not_found(site: GeneratedSite) -> dict:
    """The not-found page the script bundle carries (read from the served script)."""
    script = answer(site, site.client.bundle).body
    return json.loads(re.search(r"var NOT_FOUND = (.*);\n", script).group(1))


def fetch(site: GeneratedSite, path_and_query: str, base: str = BASE_URL) -> Page:
    """The page a reader gets at ``path_and_query``: a server-rendered site's answer; for a
    client-rendered one the page its script builds, with the data call's status (a redirect
    the script follows as a 301)."""
    page = answer(site, path_and_query, base)
    if not is_shell(site, page):
        return page
    assert page.status == 200, (site.seed, path_and_query)
    data = answer(site, site.data_path(path_and_query), base)
    assert data.content_type.startswith("application/json"), (site.seed, path_and_query)
    parts = site.client.parts(json.loads(data.body))
    if parts["redirect"]:
        return Page(301, "", page.content_type, (("Location", parts["redirect"]),))
    if not isinstance(parts["body"], str):
        assert data.status != 200, (site.seed, path_and_query)
        missing = bundle_not_found(site)
        parts = {"title": missing["title"], "head": "", "body": missing["html"]}
    document = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
                f'<title>{esc(parts["title"])}</title>\n{parts["head"] or ""}</head>\n'
                f'<body>{parts["body"]}</body></html>\n')
    return Page(data.status, document, page.content_type)
