"""Client-rendered directories (spiders.render): app shells recognised by what they contain,
rendered in a real headless chromium, politely."""

from __future__ import annotations

import json
import re
import threading
from contextlib import contextmanager
from urllib.parse import urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy.http import HtmlResponse, TextResponse

from pipeline.demo.server import FixtureServer, make_handler
from pipeline.demo.site import Page
from spiders.discovery.report import format_text
from spiders.render import is_app_shell
from tests.conftest import run_cli
from tests.web_support import require_chromium

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]


def html(body: str, status: int = 200, url: str = "http://127.0.0.1/x") -> HtmlResponse:
    return HtmlResponse(url, status=status, body=body.encode(), encoding="utf-8")


SHELL = ('<!doctype html><html><head><title>Lakeview Health</title>'
         '<script type="application/ld+json">{"@type": "Hospital", "name": "Lakeview"}</script>'
         '<link rel="stylesheet" href="/s.css"></head><body><div id="{mount}"></div>'
         '{noscript}<script src="/assets/index-9c1e.js" type="module"></script></body></html>')


def test_an_app_shell_is_recognised_by_its_content_whatever_its_mount_and_script():
    for mount in ("root", "app", "__nuxt", "portal-7"):
        for noscript in ("", "<noscript>Please turn on JavaScript to use this site.</noscript>"):
            assert is_app_shell(html(SHELL.replace("{mount}", mount).replace(
                "{noscript}", noscript)))
    inline = ("<html><body><div id=x></div><script>window.__boot=function(){var a=document."
              "getElementById('x');a.innerHTML=render(window.__DATA__)}</script></body></html>")
    assert is_app_shell(html(inline))


def test_a_served_page_is_read_as_it_is():
    shell = SHELL.replace("{mount}", "root").replace("{noscript}", "")
    person = shell.replace('<div id="root"></div>',
                           "<h1>Dr. Priya Natarajan, MD</h1><p>Cardiology, 12 Elm St.</p>")
    links = shell.replace('<div id="root"></div>',
                          "".join(f'<a href="/d/{i}">{i}</a>' for i in range(3)))
    no_script = "<html><body><div id=root></div></body></html>"
    tiny_json_ld = ('<html><head><script src="/a.js"></script></head><body><div id=r></div>'
                    '</body></html>')
    for page in (person, links, no_script):
        assert not is_app_shell(html(page))
    assert not is_app_shell(html(tiny_json_ld, status=404))
    assert not is_app_shell(TextResponse("http://127.0.0.1/robots.txt", body=b"User-agent: *"))
    assert is_app_shell(html(tiny_json_ld))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600) | st.text(max_size=600).map(str.encode))
def test_any_bytes_are_judged_without_raising(body):
    is_app_shell(HtmlResponse("http://127.0.0.1/p", body=body))
    is_app_shell(HtmlResponse("http://127.0.0.1/p", body=b"<script src=a.js></script>" + body))


# -- a client-rendered directory, served on loopback ---------------------------------------------
PEOPLE = [("ines-ferreira", "Ines Ferreira", "MD", "Rheumatology"),
          ("tobias-lindqvist", "Tobias Lindqvist", "DO", "Sports Medicine"),
          ("grace-okafor", "Grace Okafor", "MD", "Nephrology"),
          ("hamid-rahimi", "Hamid Rahimi", "MD", "Urology")]  # fmt: skip
APP = """
const route = location.pathname + location.search;
new Image().src = '/pixel.gif';  // looks, never fetched by a rendering
fetch('{other}/internal/track.js').catch(() => null);  // another site's robots forbids
fetch('/internal/metrics?r=' + encodeURIComponent(route)).catch(() => null);  // robots forbids
fetch('/content' + (route === '/' ? '/index' : route.replace('?', '/')) + '.json')
  .then(r => r.json()).then(d => {
    document.title = d.title;
    document.getElementById('app').innerHTML = d.html;
  });
"""


class ClientRenderedSite:
    """Every route is the same shell; the content comes from /content/<route>.json."""

    site_id = "client-rendered"

    def __init__(self, other: str = "http://127.0.0.1:9"):
        self.app = APP.replace("{other}", other)

    def content(self, route: str) -> dict | None:
        if route == "/index":
            return {"title": "Lakeview", "html": '<h1>Lakeview Health</h1><p>Care close to '
                    'home.</p><a href="/our-doctors">Our doctors</a>'}
        if route in ("/our-doctors", "/our-doctors/page=2"):
            chunk = PEOPLE[:2] if route == "/our-doctors" else PEOPLE[2:]
            cards = "".join(f'<article><h3><a href="/our-doctors/{slug}">{name}, {deg}</a></h3>'
                            f"<p>{spec}</p><p>(312) 555-0{i}00</p></article>"
                            for i, (slug, name, deg, spec) in enumerate(chunk))
            nxt = '<a rel="next" href="/our-doctors?page=2">Next</a>' if route == \
                "/our-doctors" else ""
            return {"title": "Our doctors", "html": f"<h1>Our doctors</h1>{cards}{nxt}"}
        for slug, name, deg, spec in PEOPLE:
            if route == f"/our-doctors/{slug}":
                return {"title": name, "html": f"<h1>{name}, {deg}</h1><h2>Specialty</h2>"
                        f"<p>{spec}</p><h2>Office</h2><p>9 Lake Rd, Evanston, IL 60201</p>"
                        "<h2>Education</h2><p>Northwestern University, 2004</p>"}
        return None

    def handle(self, path: str, query: dict, base: str, request=None) -> Page:
        if path == "/robots.txt":
            return Page(200, "User-agent: *\nDisallow: /internal/\n", "text/plain")
        if path == "/app.js":
            return Page(200, self.app, "application/javascript")
        if path in ("/pixel.gif", "/internal/metrics"):
            return Page(200, "", "image/gif")
        if path.startswith("/content/") and path.endswith(".json"):
            found = self.content(path.removeprefix("/content").removesuffix(".json"))
            return Page(200 if found else 404, json.dumps(found or {}), "application/json")
        if path.startswith("/sitemap"):
            return Page(404, "not found", "text/plain")
        shell = ('<!doctype html><html><head><title>Lakeview</title></head><body>'
                 '<div id="app"></div><script src="/app.js"></script></body></html>')
        return Page(200, shell)


@contextmanager
def served(site):
    log: list[dict] = []
    server = FixtureServer(("127.0.0.1", 0), make_handler(site, log))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    try:
        yield "http://{}:{}".format(*server.server_address[:2]), log
    finally:
        server.shutdown()
        server.server_close()


def test_a_client_rendered_directory_is_crawled_with_zero_config_and_politely(tmp_path):
    """Zero-config from the home page of a site whose every page is an empty shell: the shells
    are rendered in chromium and every profile read. The browser asks for the page's script
    and data only, with our User-Agent: no image, nothing robots.txt forbids (another host's
    robots.txt read first)."""
    require_chromium()
    with served(ClientRenderedSite()) as (other, other_log), \
            served(ClientRenderedSite(other)) as (base, log):
        out = run_cli("crawl", "--url", base + "/", "--db", str(tmp_path / "c.duckdb"),
                      "--runs-dir", str(tmp_path / "runs"), *FAST)
    items = [json.loads(line) for feed in (tmp_path / "runs").glob("crawl-*/items.jsonl")
             for line in feed.read_text().splitlines()]
    found = {urlsplit(item["source_url"]).path: item["name"] for item in items}
    assert {f"/our-doctors/{slug}" for slug, *_ in PEOPLE} <= set(found), (found, out.stdout)
    for slug, name, *_ in PEOPLE:
        assert name in found[f"/our-doctors/{slug}"]
    paths = [entry["path"] for entry in log]
    assert any(p.startswith("/content/our-doctors/") for p in paths)
    assert not [p for p in paths if p.startswith(("/pixel", "/internal"))], paths
    assert [e["path"] for e in other_log] == ["/robots.txt"], other_log
    agents = {entry["user_agent"] for entry in log + other_log}
    assert len(agents) == 1 and agents.pop().startswith("credcheck/"), agents
    # Each route's shell is read once as served and once rendered; never more.
    shells = [p for p in paths if p.startswith("/our-doctors")]
    assert max(shells.count(p) for p in set(shells)) == 2, shells
    # The summary counts the rendered pages and what the browser asked for them.
    summary = re.search(r": 4 listings from \d+ pages \((\d+) rendered in a browser, which "
                        r"asked (\d+) more\)", out.stdout)
    assert summary, out.stdout
    rendered, asked = map(int, summary.groups())
    assert rendered == len(set(shells)) + 1  # and the home page
    assert asked == sum(p == "/app.js" or p.startswith("/content/") for p in paths), paths


def test_without_a_browser_a_shell_is_reported_not_silently_empty(tmp_path):
    with served(ClientRenderedSite()) as (base, log):
        out = run_cli("crawl", "--url", base + "/", "--db", str(tmp_path / "c.duckdb"),
                      "--runs-dir", str(tmp_path / "runs"), *FAST,
                      env={"CREDCHECK_CHROMIUM": "/nonexistent/chromium"}, check=False)
    text = out.stdout + out.stderr
    assert out.returncode != 0
    assert "JavaScript" in text and "chromium" in text, text
    assert not any(e["path"].startswith("/content/") for e in log)


def test_discover_says_a_directory_is_built_by_javascript_and_learns_it():
    require_chromium()
    with served(ClientRenderedSite()) as (base, _log):
        report = json.loads(run_cli("discover", base + "/", "--format", "json", *FAST).stdout)
    text = format_text(report)  # what the text format prints of the same report
    kept = [t["template"] for t in report["templates"] if t["kind"] in ("profile", "mixed")]
    assert kept == ["/our-doctors/{slug}"], report["templates"]
    assert report["rendering"]["pages"] >= 2 and report["rendering"]["without_browser"] == 0
    assert {s["name"] for s in report["samples"]} <= {f"{n}, {d}" for _, n, d, _ in PEOPLE}
    assert "built by JavaScript: " in text and "pages rendered in a browser" in text, text


def test_a_shell_whose_scripts_build_nothing_is_said_to_stay_empty(tmp_path):
    """A site whose bundle fails: the shell is rendered, waited for a while longer (it may be
    slow), and then the crawl says what happened rather than only "no listings found"."""
    require_chromium()
    site = ClientRenderedSite()
    site.app = "throw new Error('the API key expired');"
    with served(site) as (base, _log):
        out = run_cli("crawl", "--url", base + "/", "--db", str(tmp_path / "c.duckdb"),
                      "--runs-dir", str(tmp_path / "runs"), *FAST, check=False)
    assert out.returncode != 0
    assert "built by JavaScript and stayed empty when rendered" in out.stderr, out.stderr
    stats = json.loads(next((tmp_path / "runs").glob("crawl-*/stats.json")).read_text())
    assert stats["credcheck/render/still_empty"] == stats["credcheck/render/app_shells"] >= 1
