"""The fixture web server: every shape serves the pages real directories serve, on loopback."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from parsel import Selector

from pipeline.demo.server import serve_sites

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "sites"
SITE_FILES = sorted(FIXTURES.glob("*.json"))
SITES = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in SITE_FILES}


def fetch(url: str) -> tuple[int, str, str]:
    """(status, content type, body) without raising on 4xx."""
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read().decode("utf-8")
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read().decode("utf-8")


@pytest.fixture(scope="module")
def served():
    log: list[dict] = []
    with serve_sites(SITE_FILES, access_log=log) as urls:
        yield urls, log


def ld_blocks(html: str) -> list[str]:
    return Selector(text=html).xpath('//script[@type="application/ld+json"]/text()').getall()


def test_each_site_gets_its_own_loopback_port_and_is_shut_down_on_exit():
    with serve_sites(SITE_FILES) as urls:
        assert set(urls) == set(SITES)
        ports = {int(url.rsplit(":", 1)[1]) for url in urls.values()}
        assert len(ports) == len(SITES)
        assert all(url.startswith("http://127.0.0.1:") for url in urls.values())
        assert fetch(urls["st-lukes"] + "/")[0] == 200
    for port in ports:
        with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            pass


def test_unknown_paths_are_real_404s_and_every_page_declares_its_charset(served):
    urls, _ = served
    for base in urls.values():
        status, ctype, _ = fetch(base + "/no/such/page")
        assert status == 404 and "charset=utf-8" in ctype
        assert "charset=utf-8" in fetch(base + "/robots.txt")[1]


def test_jsonld_site_robots_disallows_search_and_names_the_sitemap_index(served):
    urls, _ = served
    base = urls["mercy-general"]
    _, ctype, robots = fetch(base + "/robots.txt")
    assert ctype.startswith("text/plain")
    assert "User-agent: *" in robots and "Disallow: /search" in robots.splitlines()
    assert f"Sitemap: {base}/sitemap_index.xml" in robots
    assert fetch(base + "/search")[0] == 200  # it exists; robots is what keeps crawlers out


def test_sitemap_index_splits_profiles_over_child_sitemaps_with_lastmod(served):
    urls, _ = served
    base = urls["mercy-general"]
    _, ctype, index = fetch(base + "/sitemap_index.xml")
    assert ctype.startswith("application/xml")
    index_sel = Selector(text=index, type="xml")
    index_sel.remove_namespaces()
    children = index_sel.xpath("//sitemap/loc/text()").getall()
    assert index_sel.xpath("//sitemap/lastmod/text()").getall()
    profile_locs = []
    for child in children:
        child_sel = Selector(text=fetch(child)[2], type="xml")
        child_sel.remove_namespaces()
        locs = [u for u in child_sel.xpath("//url/loc/text()").getall() if "/doctors/" in u]
        if locs:
            assert len(child_sel.xpath("//url/lastmod").getall()) == len(locs)
        profile_locs += locs
    assert len([c for c in children if "doctors" in c]) >= 2
    expected = sorted(base + listing["path"] for listing in SITES["mercy-general"]["listings"])
    assert sorted(profile_locs) == expected


def test_jsonld_profiles_vary_placement_specialty_form_and_carry_extra_blocks(served):
    urls, _ = served
    placements, specialty_forms = set(), set()
    malformed = breadcrumbs = 0
    for listing in SITES["mercy-general"]["listings"]:
        status, _, html = fetch(urls["mercy-general"] + listing["path"])
        assert status == 200
        assert Selector(text=html).css("h1::text").get() == listing["display_name"]
        for block in ld_blocks(html):
            try:
                data = json.loads(block)
            except ValueError:
                malformed += 1
                continue
            if data.get("@type") == "BreadcrumbList":
                breadcrumbs += 1
                continue
            placement = "@graph" if "@graph" in data else data["@type"]
            placements.add(placement)
            node = {
                "@graph": lambda d: d["@graph"][1],
                "ProfilePage": lambda d: d["mainEntity"],
                "Hospital": lambda d: d["employee"][0],
            }.get(placement, lambda d: d)(data)
            specialty = node["medicalSpecialty"]
            form = type(specialty).__name__
            if isinstance(specialty, str) and specialty.startswith("https://schema.org/"):
                form = "url"
            specialty_forms.add(form)
            if listing["npi"] and "identifier" not in node:
                assert node["usNPI"] == listing["npi"]
            assert node["honorificSuffix"] == ", ".join(listing["degrees"])
            for prop in (
                "address",
                "telephone",
                "alumniOf",
                "hospitalAffiliation",
                "knowsLanguage",
            ):
                assert prop in node, prop
    assert placements == {
        "Physician", "IndividualPhysician", "Person", "@graph", "ProfilePage", "Hospital",
    }  # fmt: skip
    assert specialty_forms == {"str", "url", "dict", "list"}
    assert malformed >= 3 and breadcrumbs == len(SITES["mercy-general"]["listings"])


def test_html_directory_paginates_links_dead_profiles_and_soft_404s_them(served):
    urls, _ = served
    base = urls["st-lukes"]
    listings = SITES["st-lukes"]["listings"]
    seen, dead, url = [], [], base + "/find-a-doctor"
    while url:
        sel = Selector(text=fetch(url)[2])
        hrefs = sel.css("a.provider-card__name::attr(href)").getall()
        seen += [h for h in hrefs if int(h.rsplit("/", 1)[1]) < 990000]
        dead += [h for h in hrefs if int(h.rsplit("/", 1)[1]) >= 990000]
        next_href = sel.css("a[rel=next]::attr(href)").get()
        assert sel.css("a[rel=next]::text").get() in (None, "Next")
        url = base + next_href if next_href else None
    assert seen == [listing["path"] for listing in listings]
    assert len(dead) == 2
    status, _, html = fetch(base + dead[0])
    assert status == 200 and "Error 404 - page not found" in html
    status, _, html = fetch(base + listings[0]["path"])
    sel = Selector(text=html)
    assert status == 200 and not ld_blocks(html) and "itemscope" not in html
    assert (
        sel.css("title::text").get() == f"{listings[0]['display_name']} | St. Luke's Medical Center"
    )
    headings = sel.css("h2::text").getall()
    for heading in ("Specialties", "Board Certifications", "Education", "Languages", "Locations"):
        assert heading in headings
    assert sel.css("a[href^='tel:']")
    assert "User-agent: *\nAllow: /" in fetch(base + "/robots.txt")[2]


def test_faculty_directory_has_az_pages_microdata_and_researchers_without_clinics(served):
    urls, _ = served
    base = urls["northbridge-med"]
    index = Selector(text=fetch(base + "/faculty")[2])
    assert len(index.css("nav.az a")) == 26 and index.css("ul.departments a")
    medicine = Selector(text=fetch(base + "/faculty?department=Department+of+Medicine")[2])
    assert medicine.css("a[rel=next]")  # more than one page of Medicine faculty
    for listing in SITES["northbridge-med"]["listings"]:
        sel = Selector(text=fetch(base + listing["path"])[2])
        person = sel.css('[itemscope][itemtype="https://schema.org/Person"]')
        assert person.css('[itemprop="name"]::text').get() == listing["display_name"]
        assert person.css('[itemprop="jobTitle"]::text').get() == listing["title"]
        for prop in ("givenName", "familyName", "honorificSuffix"):
            assert person.css(f'meta[itemprop="{prop}"]::attr(content)').get()
        assert person.css('[itemprop="alumniOf"]') and person.css('[itemprop="worksFor"]')
        clinical = "Clinical Specialties" in sel.css("h2::text").getall()
        assert clinical == listing["is_physician"]
        if not listing["is_physician"]:
            assert "PhD" in listing["degrees"]


def test_access_log_records_path_and_user_agent(served):
    urls, log = served
    request = urllib.request.Request(urls["st-lukes"] + "/about", headers={"User-Agent": "probe/1"})
    urllib.request.urlopen(request, timeout=5).read()
    assert {"site_id": "st-lukes", "path": "/about", "user_agent": "probe/1"}.items() <= log[
        -1
    ].items()


def test_command_line_serves_on_port_base_until_interrupted(tmp_path):
    with socket.socket() as probe:  # a free port to start from
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline.demo.server", str(FIXTURES / "st-lukes.json"),
         "--port-base", str(port)],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = proc.stdout.readline()
        assert re.match(rf"st-lukes\s+http://127\.0\.0\.1:{port}/", line)
        assert fetch(f"http://127.0.0.1:{port}/find-a-doctor")[0] == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def request(url: str, *, data: bytes | None = None, headers: dict | None = None):
    """(status, headers, body) for any request, without raising on 4xx/5xx."""
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def test_conditional_requests_answer_304_for_an_unchanged_page(served):
    urls, _ = served
    url = urls["mercy-general"] + SITES["mercy-general"]["listings"][0]["path"]
    status, headers, _ = request(url)
    assert status == 200 and headers["ETag"] and headers["Last-Modified"]
    assert request(url, headers={"If-None-Match": headers["ETag"]})[:1] == (304,)
    assert request(url, headers={"If-Modified-Since": headers["Last-Modified"]})[:1] == (304,)
    assert request(url, headers={"If-None-Match": '"other"'})[0] == 200


def test_platform_shapes_guard_their_apis_like_the_real_ones():
    from pipeline.demo.platforms import FIXTURE_CLIENT_ID, FIXTURE_CLIENT_SECRET

    with serve_sites([FIXTURES / "st-lukes.json"], shape="kyruus_api") as urls:
        api = urls["st-lukes"] + "/pm/v8/st-lukes/providers?per_page=5&page=2"
        assert request(api)[0] == 401  # no token
        form = urllib.parse.urlencode({"grant_type": "client_credentials",
                                       "client_id": FIXTURE_CLIENT_ID,
                                       "client_secret": FIXTURE_CLIENT_SECRET}).encode()  # fmt: skip
        token = json.loads(request(urls["st-lukes"] + "/oauth2/token", data=form)[2])
        status, _, body = request(api, headers={"Authorization": f"Bearer {token['access_token']}"})
        page = json.loads(body)
        assert status == 200 and page["_metadata"]["provider_count"] == 45
        assert len(page["providers"]) == 5
    with serve_sites([FIXTURES / "st-lukes.json"], shape="webforms") as urls:
        directory = urls["st-lukes"] + "/Physicians/Directory.aspx"
        html = request(directory)[2].decode()
        assert "__doPostBack('ctl00$MainContent$gvPhysicians','Page$2')" in html
        forged = urllib.parse.urlencode({"__EVENTTARGET": "ctl00$MainContent$gvPhysicians",
                                         "__EVENTARGUMENT": "Page$2", "__VIEWSTATE": "forged",
                                         "__EVENTVALIDATION": "x"}).encode()  # fmt: skip
        assert request(directory, data=forged)[0] == 500  # viewstate MAC validation failed
