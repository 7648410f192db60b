"""The Scrapy project: extractors on HTML strings, pipelines and middlewares on their own, and real
crawls of the fixture sites over loopback (each in a child process: Twisted's reactor cannot
restart inside one Python process)."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import DropItem
from scrapy.http import HtmlResponse
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from pipeline.demo.server import ArrivalStampedHandler, FixtureServer, serve_sites
from spiders import settings as project_settings
from spiders.extract import detect_soft_404, extract_html, extract_jsonld, extract_listing
from spiders.extract.jsonld import parse_jsonld
from spiders.extract.microdata import extract_microdata
from spiders.extract.text import parse_certification, split_display_name
from spiders.items import LISTING_FIELDS, new_listing
from spiders.middlewares import NetlocOffsiteMiddleware, ParseErrorMiddleware, retry_after
from spiders.pipelines import CleanListingPipeline, DuplicateRefPipeline
from spiders.registry import RegistryError, load_registry, spider_class
from spiders.spiders.directory import DirectoryZeroConfigSpider

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "sites"
SITES = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in FIXTURES.glob("*.json")}
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=INFO"]
DESIGN_FIELDS = [  # docs/design.md section 1, in order
    "site_id", "source_url", "fetched_at", "content_hash", "extractor", "ref", "name",
    "given_name", "additional_name", "family_name", "honorific_prefix", "honorific_suffix",
    "degrees", "job_title", "department", "specialties", "board_certifications", "npi", "gender",
    "languages", "accepting_new_patients", "education", "locations", "affiliations", "extras",
]  # fmt: skip


def page(body: str, url: str = "http://127.0.0.1:8000/doctors/jane-doe-1") -> HtmlResponse:
    return HtmlResponse(url=url, body=body.encode("utf-8"), encoding="utf-8")


def ld(*blocks: str, h1: str = "Dr. Jane Q. Doe, MD") -> HtmlResponse:
    scripts = "".join(f'<script type="application/ld+json">{b}</script>' for b in blocks)
    return page(f"<html><head>{scripts}</head><body><h1>{h1}</h1></body></html>")


# -- the item -------------------------------------------------------------------------------------
def test_listing_item_has_exactly_the_design_fields_with_empty_defaults():
    assert list(LISTING_FIELDS) == DESIGN_FIELDS and list(new_listing()) == DESIGN_FIELDS
    item = new_listing(name="Dr. Jane Doe")
    assert item["degrees"] == [] and item["extras"] == {} and item["npi"] is None
    assert new_listing()["degrees"] is not item["degrees"]  # no shared mutable defaults
    with pytest.raises(KeyError):
        new_listing(nickname="Janie")


# -- JSON-LD ------------------------------------------------------------------------------------
def test_jsonld_reads_a_physician_with_every_mapped_property():
    fields = extract_jsonld(
        ld("""{"@context": "https://schema.org", "@type": "IndividualPhysician",
        "name": "Jane Q. Doe", "givenName": "Jane", "additionalName": "Q.", "familyName": "Doe",
        "honorificPrefix": "Dr.", "honorificSuffix": "MD, FACC", "gender": "https://schema.org/Female",
        "medicalSpecialty": ["Cardiology", "https://schema.org/Oncologic",
                             {"@type": "MedicalSpecialty", "name": "Internal Medicine"}],
        "identifier": {"@type": "PropertyValue", "propertyID": "NPI", "value": "1234567893"},
        "hasCredential": [
          {"@type": "EducationalOccupationalCredential", "credentialCategory": "Board Certification",
           "name": "Cardiovascular Disease",
           "recognizedBy": {"@type": "Organization", "name": "American Board of Internal Medicine"}},
          "Internal Medicine - American Board of Internal Medicine"],
        "alumniOf": [{"@type": "OrganizationRole", "roleName": "Residency", "endDate": "2007",
                      "alumniOf": {"@type": "EducationalOrganization", "name": "Mass General"}},
                     {"@type": "CollegeOrUniversity", "name": "Harvard Medical School"}],
        "hospitalAffiliation": [{"@type": "Hospital", "name": "Mercy General Hospital"}],
        "address": [{"@type": "PostalAddress", "name": "Heart Center", "streetAddress": "12 Elm St",
                     "addressLocality": "Boston", "addressRegion": "MA", "postalCode": "02114",
                     "telephone": "(617) 555-0134"}],
        "isAcceptingNewPatients": "True", "knowsLanguage": [{"@type": "Language", "name": "Spanish"}, "English"]
        }""")
    )
    assert fields["name"] == "Jane Q. Doe" and fields["family_name"] == "Doe"
    assert fields["honorific_prefix"] == "Dr." and fields["degrees"] == ["MD", "FACC"]
    assert fields["specialties"] == ["Cardiology", "Oncology", "Internal Medicine"]
    assert fields["npi"] == "1234567893" and fields["gender"] == "female"
    assert fields["board_certifications"] == [
        {"board": "American Board of Internal Medicine", "certificate": "Cardiovascular Disease"},
        {"board": "American Board of Internal Medicine", "certificate": "Internal Medicine"},
    ]
    assert fields["education"] == [
        {"type": "residency", "name": "Mass General", "year": 2007},
        {"type": "medical_school", "name": "Harvard Medical School", "year": None},
    ]
    assert fields["locations"] == [
        {"name": "Heart Center", "street": "12 Elm St", "city": "Boston", "state": "MA",
         "zip": "02114", "phone": "(617) 555-0134"},
    ]  # fmt: skip
    assert fields["affiliations"] == ["Mercy General Hospital"]
    assert fields["accepting_new_patients"] is True
    assert fields["languages"] == ["Spanish", "English"]


@pytest.mark.parametrize(
    "block",
    [
        '{"@context": "https://schema.org", "@graph": [{"@type": "WebPage", "name": "x"},'
        ' {"@type": "Physician", "name": "Jane Doe", "usNPI": "1234567893"}]}',
        '{"@type": "ProfilePage", "mainEntity": {"@type": "IndividualPhysician",'
        ' "name": "Jane Doe", "usNPI": "1234567893"}}',
        '{"@type": "Hospital", "name": "Mercy", "employee": [{"@type": ["Physician", "Person"],'
        ' "name": "Jane Doe", "usNPI": "1234567893"}]}',
        '[{"@type": "Person", "name": "Jane Doe", "jobTitle": "MD", "usNPI": "1234567893"}]',
        # hand-made templates: trailing commas and HTML-escaped markup
        '{"@type": "Physician", "name": "Jane Doe", "usNPI": "1234567893",}',
        "{&quot;@type&quot;: &quot;Physician&quot;, &quot;name&quot;: &quot;Jane Doe&quot;,"
        " &quot;usNPI&quot;: &quot;1234567893&quot;}",
    ],
    ids=["graph", "mainEntity", "employee", "list-person", "trailing-comma", "escaped"],
)
def test_jsonld_finds_the_person_wherever_it_sits(block):
    fields = extract_jsonld(ld(block))
    assert fields["name"] == "Jane Doe" and fields["npi"] == "1234567893"


@pytest.mark.parametrize(
    "block",
    [
        '<!-- {"@type": "Physician", "name": "Jane Doe"} -->',
        '//<![CDATA[\n{"@type": "Physician", "name": "Jane Doe"}\n//]]>',
        '{"@type": "Physician", "name": "Jane Doe", "knowsLanguage": ["English",],}',
        "{&quot;@type&quot;: &quot;Physician&quot;, &quot;name&quot;: &quot;Jane Doe&quot;}",
        '{"@type": "Physician", "name": "Jane Doe", "description": "a ]]> b, }"}',  # valid as is
    ],
)
def test_jsonld_template_slips_are_repaired(block):
    assert parse_jsonld(block)["name"] == "Jane Doe"


def test_jsonld_survives_a_malformed_block_next_to_a_good_one_and_ignores_bystanders():
    response = ld(
        '{"@type": "WebSite", "name": "Mercy", "url": "/",,}}',  # beyond repair
        '{"@type": "BreadcrumbList", "itemListElement": []}',
        '{"@type": "Article", "author": {"@type": "Person", "name": "Web Editor"}}',
        '{"@type": "Person", "name": "Web Editor"}',  # a Person with no listing properties
        '{"@type": "Physician", "name": "Heart &amp; Vascular Group"}',  # an organisation
        '{"@type": "IndividualPhysician", "name": "Jane Q. Doe", "honorificSuffix": "MD",}',
    )
    assert extract_jsonld(response)["name"] == "Jane Q. Doe"
    assert parse_jsonld("{not json") is None
    assert extract_jsonld(ld('{"@type": "Person", "name": "Web Editor"}')) is None


# -- microdata and HTML sections --------------------------------------------------------------------
FACULTY_PAGE = """<html><head><title>Jane Doe | Northbridge</title></head><body>
<article itemscope itemtype="https://schema.org/Person">
<h1 itemprop="name">Jane Doe, MD, PhD</h1>
<meta itemprop="givenName" content="Jane"><meta itemprop="familyName" content="Doe">
<meta itemprop="honorificSuffix" content="MD, PhD">
<p itemprop="jobTitle">Associate Professor of Medicine (Cardiology)</p>
<p itemprop="worksFor" itemscope itemtype="https://schema.org/Organization">
  <span itemprop="name">Department of Medicine</span></p>
<ul><li itemprop="alumniOf" itemscope itemtype="https://schema.org/OrganizationRole">
  <span itemprop="roleName">Fellowship</span>: <span itemprop="alumniOf" itemscope
  itemtype="https://schema.org/EducationalOrganization"><span itemprop="name">MGH</span></span>,
  <time itemprop="endDate" datetime="2010">2010</time></li></ul>
<h2>Clinical Specialties</h2><ul><li>Cardiology</li><li>Echocardiography</li></ul>
</article></body></html>"""


def test_microdata_person_with_html_sections_filling_the_gaps():
    response = page(FACULTY_PAGE, "http://127.0.0.1:8000/faculty/jane-doe")
    micro = extract_microdata(response)
    assert micro["job_title"] == "Associate Professor of Medicine (Cardiology)"
    assert micro["department"] == "Department of Medicine" and micro["degrees"] == ["MD", "PhD"]
    assert micro["education"] == [{"type": "fellowship", "name": "MGH", "year": 2010}]
    extractor, fields = extract_listing(response)
    assert extractor == "microdata"
    assert fields["specialties"] == ["Cardiology", "Echocardiography"]
    assert fields["extras"]["html_filled"] == ["specialties"]


HTML_PROFILE = """<html><head><title>Dr. Jane Doe, DO | St. Luke's</title></head><body>
<nav><h2>Menu</h2><ul><li>Home</li></ul></nav>
<h1>Dr. Jane Doe, DO</h1>
<p>Not accepting new patients</p>
<p><strong>NPI:</strong> 1234567893</p>
<dl><dt>Gender</dt><dd>Female</dd><dt>Languages</dt><dd>English, Spanish</dd></dl>
<h2>Specialty:</h2><p>Family Medicine; Sports Medicine</p>
<h2>Board Certifications</h2><ul><li>Family Medicine (American Board of Family Medicine)</li>
<li>American Osteopathic Board of Family Physicians</li></ul>
<h2>Education &amp; Training</h2>
<p><strong>Medical School:</strong> Tufts University School of Medicine, 2004</p>
<h3>Residency</h3><ul><li>Boston Medical Center (2007)</li></ul>
<h2>Office Locations</h2>
<h3>Main Campus</h3><address>67 Belmont St<br>Suite 200<br>Worcester, MA 01605</address>
<a href="tel:+15085550100">(508) 555-0100</a>
<address>Westside Clinic<br>9 Main St<br>Shrewsbury, MA 01545</address>
<a href="tel:5085550111">Call us</a>
<h2>Patient Reviews</h2><p>Great doctor.</p>
</body></html>"""


def test_html_sections_are_read_in_flat_layouts_with_varied_headings():
    fields = extract_html(page(HTML_PROFILE, "http://127.0.0.1:8000/physician-directory/7"))
    assert fields["name"] == "Dr. Jane Doe, DO"
    assert fields["honorific_prefix"] == "Dr." and fields["degrees"] == ["DO"]
    assert fields["accepting_new_patients"] is False and fields["npi"] == "1234567893"
    assert fields["gender"] == "female" and fields["languages"] == ["English", "Spanish"]
    assert fields["specialties"] == ["Family Medicine", "Sports Medicine"]
    assert fields["board_certifications"] == [
        {"board": "American Board of Family Medicine", "certificate": "Family Medicine"},
        {"board": "American Osteopathic Board of Family Physicians", "certificate": None},
    ]
    assert fields["education"] == [
        {"type": "medical_school", "name": "Tufts University School of Medicine", "year": 2004},
        {"type": "residency", "name": "Boston Medical Center", "year": 2007},
    ]
    assert fields["locations"] == [
        {"name": "Main Campus", "street": "67 Belmont St, Suite 200", "city": "Worcester",
         "state": "MA", "zip": "01605", "phone": "(508) 555-0100"},
        {"name": "Westside Clinic", "street": "9 Main St", "city": "Shrewsbury", "state": "MA",
         "zip": "01545", "phone": "5085550111"},
    ]  # fmt: skip
    assert extract_listing(page(HTML_PROFILE))[0] == "html"


def test_name_falls_back_to_the_title_before_the_bar():
    fields = extract_html(page("<html><head><title>Wei Chen, MBChB | Mercy</title></head></html>"))
    assert fields["name"] == "Wei Chen, MBChB" and fields["degrees"] == ["MBChB"]


@pytest.mark.parametrize(
    ("title", "h1", "soft"),
    [
        ("Page Not Found | Mercy", "Error 404 - page not found", True),
        ("Mercy General", "Sorry, this profile is no longer available", True),
        ("404 | Mercy", "Oops", True),
        ("Dr. Jane Doe | Mercy", "Dr. Jane Doe", False),
        ("Dr. Jane Doe | Mercy", "Dr. Jane Doe, Suite 404", False),
    ],
)
def test_soft_404_is_read_from_title_and_heading(title, h1, soft):
    body = f"<html><head><title>{title}</title></head><body><h1>{h1}</h1>page not found</body>"
    assert detect_soft_404(page(body)) is soft


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Doe, Jane Q., MD", ("Doe, Jane Q.", "MD", ["MD"])),
        ("Sofía Lopez, APRN, FNP-BC", ("Sofía Lopez", "APRN, FNP-BC", ["APRN", "FNP-BC"])),
        ("Robert Smith, Jr., M.D., Ph.D.", ("Robert Smith", "Jr., M.D., Ph.D.", ["M.D.", "Ph.D."])),
        ("Ann Lee", ("Ann Lee", None, [])),
        ("DE LA FUENTE, SUNITA, MD", ("DE LA FUENTE, SUNITA", "MD", ["MD"])),
        ("DOE, FRANK, JR, MD, FACC", ("DOE, FRANK", "JR, MD, FACC", ["MD", "FACC"])),
        ("LEE, ANN", ("LEE, ANN", None, [])),
    ],
)
def test_split_display_name(text, expected):
    parts = split_display_name(text)
    assert (parts["name"], parts["honorific_suffix"], parts["degrees"]) == expected


def test_parse_certification_finds_the_board_on_either_side():
    board = "American Board of Pediatrics"
    assert parse_certification(f"{board}: Pediatrics") == {
        "board": board,
        "certificate": "Pediatrics",
    }
    assert parse_certification("Board certified in Pediatrics") == {
        "board": None, "certificate": "Pediatrics",
    }  # fmt: skip


# -- pipelines, middlewares, registry, settings ----------------------------------------------------
@pytest.fixture
def crawler():
    crawler = get_crawler(Spider, settings_dict={})
    crawler.spider = Spider("t")
    crawler.stats.open_spider()
    return crawler


def test_clean_pipeline_trims_dedupes_and_counts_nameless_drops(crawler):
    pipeline = CleanListingPipeline.from_crawler(crawler)
    item = pipeline.process_item(
        new_listing(name="  Jane   Doe ", languages=["English", "english ", ""], npi="NPI 1234567893",
                    board_certifications=[{"board": None, "certificate": None}])
    )  # fmt: skip
    assert item["name"] == "Jane Doe" and item["languages"] == ["English"]
    assert item["npi"] == "1234567893" and item["board_certifications"] == []
    with pytest.raises(DropItem):
        pipeline.process_item(new_listing(name="  ", source_url="http://x/1"))
    assert crawler.stats.get_value("credcheck/dropped/no_name") == 1


def test_clean_pipeline_drops_and_counts_a_listing_a_hook_gave_unknown_fields(crawler):
    pipeline = CleanListingPipeline.from_crawler(crawler)
    item = new_listing(name="Jane Doe", source_url="http://x/1")
    item["speciality"] = "Cardiology"  # a post_process_item hook's typo
    with pytest.raises(DropItem, match="speciality"):
        pipeline.process_item(item)
    assert crawler.stats.get_value("credcheck/dropped/unknown_fields") == 1
    # A hook that deleted a field gets it back, empty.
    item = new_listing(name="Jane Doe")
    del item["languages"]
    assert pipeline.process_item(item)["languages"] == []


def test_duplicate_refs_per_site_are_dropped_and_counted(crawler):
    pipeline = DuplicateRefPipeline.from_crawler(crawler)
    pipeline.process_item(new_listing(site_id="a", ref="1", name="x"))
    pipeline.process_item(new_listing(site_id="b", ref="1", name="x"))
    with pytest.raises(DropItem):
        pipeline.process_item(new_listing(site_id="a", ref="1", name="x"))
    assert crawler.stats.get_value("credcheck/dropped/duplicate_ref") == 1


def test_parse_errors_are_counted_and_swallowed(crawler):
    middleware = ParseErrorMiddleware.from_crawler(crawler)
    assert middleware.process_spider_exception(page("<html/>"), ValueError("boom")) == []
    assert crawler.stats.get_value("credcheck/parse_errors") == 1


def test_offsite_filter_compares_host_and_port():
    spider = Spider("t")
    spider.allowed_netlocs = {"127.0.0.1:8001"}
    middleware = NetlocOffsiteMiddleware(stats=None)
    assert middleware.should_follow(Request("http://127.0.0.1:8001/faculty/x"), spider)
    assert not middleware.should_follow(Request("http://127.0.0.1:8002/faculty/x"), spider)
    assert not middleware.should_follow(Request("http://example.org:8001/"), spider)


def test_since_skips_sitemap_entries_not_modified_since():
    crawler = get_crawler(DirectoryZeroConfigSpider)
    spider = DirectoryZeroConfigSpider.from_crawler(
        crawler, url="http://127.0.0.1:9/robots.txt", since="2025-01-31"
    )
    entries = [
        {"loc": "http://127.0.0.1:9/doctors/a-1", "lastmod": "2025-01-30T23:00:00+00:00"},
        {"loc": "http://127.0.0.1:9/doctors/b-2", "lastmod": "2025-02-01"},
        {"loc": "http://127.0.0.1:9/doctors/c-3"},  # no lastmod: cannot tell, so fetch
    ]
    kept = [e["loc"][-1] for e in spider.sitemap_filter(entries)]
    assert kept == ["2", "3"]
    assert crawler.stats.get_value("credcheck/sitemap/not_modified_skipped") == 1


def test_retry_after_reads_seconds_and_dates():
    def response(value):
        return HtmlResponse("http://x/", status=429, headers={"Retry-After": value}, body=b"")

    assert retry_after(response("7")) == 7.0
    assert retry_after(response("Wed, 21 Oct 2015 07:28:00 GMT")) == 0.0
    assert retry_after(HtmlResponse("http://x/", body=b"")) is None


def test_registry_entries_become_spider_classes_and_bad_entries_are_refused(tmp_path):
    registry = tmp_path / "sites.toml"
    registry.write_text(
        '[sites.acme-health]\nname = "Acme"\nplatform = "html_directory"\n'
        'start_urls = ["http://127.0.0.1:9/find-a-doctor"]\n'
    )
    entry = load_registry(registry)["acme-health"]
    cls = spider_class(entry, __name__)
    assert cls.name == "acme-health" and cls.__name__ == "AcmeHealthSpider"
    assert cls.profile_pattern == r"/physician-directory/([\w-]+)/?$"
    for bad in ('platform = "wordpress"', 'platform = "html_directory"\nstart_url = "x"'):
        registry.write_text(f'[sites.acme]\n{bad}\nstart_urls = ["http://x/"]\n')
        with pytest.raises(RegistryError):
            load_registry(registry)
    assert len(load_registry(REPO_ROOT / "spiders" / "sites.toml")) >= 2  # the examples parse


def test_politeness_settings_are_not_lowered_by_settings_or_any_spider():
    settings = Settings()
    settings.setmodule(project_settings)
    assert settings.getbool("ROBOTSTXT_OBEY")
    assert settings.getfloat("DOWNLOAD_DELAY") >= 1.0
    assert settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") <= 2
    assert settings.getbool("AUTOTHROTTLE_ENABLED") and not settings.getbool("HTTPCACHE_ENABLED")
    assert settings["USER_AGENT"].startswith("credcheck/") and "+https://" in settings["USER_AGENT"]
    from scrapy.spiderloader import SpiderLoader

    loader = SpiderLoader.from_settings(settings)
    for name in loader.list():
        custom = loader.load(name).custom_settings or {}
        assert custom.get("ROBOTSTXT_OBEY", True) and custom.get("DOWNLOAD_DELAY", 1.0) >= 1.0


# -- real crawls over loopback --------------------------------------------------------------------
def crawl(
    tmp: Path, spider: str, *args: str, registry: Path | None = None, clean_log: bool = True
) -> tuple[list, dict]:
    """Run ``scrapy crawl`` in a child process; return the feed's items and the stats file."""
    feed, stats = tmp / f"{spider}.jsonl", tmp / f"{spider}.stats.json"
    env = {**os.environ, **({"CREDCHECK_SITES": str(registry)} if registry else {})}
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", spider, *args, *FAST, "-O", str(feed),
         "-s", f"CREDCHECK_STATS_PATH={stats}"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not clean_log or "Traceback" not in proc.stderr, proc.stderr[-3000:]
    items = [json.loads(line) for line in feed.read_text().splitlines()]
    return items, json.loads(stats.read_text())


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    """The three fixture sites on loopback, their access log and a registry naming them."""
    log: list[dict] = []
    with serve_sites(sorted(FIXTURES.glob("*.json")), access_log=log) as urls:
        registry = tmp_path_factory.mktemp("registry") / "sites.toml"
        starts = {"mercy-general": ("schemaorg_sitemap", "/robots.txt"),
                  "st-lukes": ("html_directory", "/find-a-doctor"),
                  "northbridge-med": ("faculty_directory", "/faculty")}  # fmt: skip
        registry.write_text("".join(
            f'[sites.{site_id}]\nname = "{SITES[site_id]["name"]}"\nplatform = "{platform}"\n'
            f'start_urls = ["{urls[site_id]}{path}"]\n\n'
            for site_id, (platform, path) in starts.items()
        ))  # fmt: skip
        yield urls, log, registry


def assert_listings_match(
    items: list[dict], site_id: str, base: str, fields: tuple, *, zero_config: bool = False
) -> None:
    """Every listing found exactly once, with the given fields equal to the site's content.
    Its ref is the site's id (a registry pattern's group), or with ``zero_config`` what varies
    in its URL template (``grace-m-patel-10482``: the id within it)."""
    listings = {base + listing["path"]: listing for listing in SITES[site_id]["listings"]}
    urls = [item["source_url"] for item in items]
    assert sorted(urls) == sorted(listings) and len(set(urls)) == len(urls)
    for item in items:
        listing = listings[item["source_url"]]
        if zero_config:
            assert item["ref"] == listing["path"].rsplit("/", 1)[-1]
            assert item["ref"].endswith(listing["id"])
        else:
            assert item["ref"] == listing["id"]
        for field in fields:
            assert item[field] == listing[field], (listing["id"], field)


COMMON_FIELDS = ("specialties", "board_certifications", "npi", "education", "degrees", "locations")


def test_zero_config_crawl_of_a_jsonld_sitemap_site_obeys_robots(sites, tmp_path):
    urls, log, _ = sites
    base = urls["mercy-general"]
    items, stats = crawl(tmp_path, "directory", "-a", f"url={base}/")
    assert_listings_match(
        items, "mercy-general", base, (*COMMON_FIELDS, "languages"), zero_config=True
    )
    assert {item["extractor"] for item in items} == {"jsonld"}  # malformed blocks tolerated
    for item in items:
        assert list(item) == DESIGN_FIELDS
        assert item["site_id"] == base.removeprefix("http://")
        assert datetime.fromisoformat(item["fetched_at"]).utcoffset().total_seconds() == 0
    # The home page links to /search; robots.txt forbids it, so it was never requested.
    crawled = [e for e in log if e["site_id"] == "mercy-general"]
    assert all(e["user_agent"] == project_settings.USER_AGENT for e in crawled)
    requested = [e["path"] for e in crawled]
    assert "/robots.txt" in requested and not [p for p in requested if p.startswith("/search")]
    assert stats["robotstxt/forbidden"] >= 1
    body = urllib.request.urlopen(items[0]["source_url"]).read()
    assert items[0]["content_hash"] == hashlib.sha256(body).hexdigest()
    assert stats["credcheck/items"] == len(items) and stats["finish_reason"] == "finished"
    datetime.fromisoformat(stats["start_time"])


def test_registry_crawl_of_an_html_directory_skips_soft_404s(sites, tmp_path):
    urls, _, registry = sites
    items, stats = crawl(tmp_path, "st-lukes", registry=registry)
    base = urls["st-lukes"]
    assert_listings_match(items, "st-lukes", base, (*COMMON_FIELDS, "gender", "affiliations"))
    assert {item["extractor"] for item in items} == {"html"}
    assert all(item["name"] == SITES["st-lukes"]["listings"][0]["display_name"]
               for item in items if item["ref"] == SITES["st-lukes"]["listings"][0]["id"])  # fmt: skip
    assert stats["credcheck/soft_404"] == 2  # the two dead links on the listing pages
    assert stats["credcheck/pages/profile"] == len(items) + 2
    assert stats.get("credcheck/parse_errors", 0) == 0
    assert stats["credcheck/site_id"] == "st-lukes"


def test_registry_crawl_of_a_faculty_directory_keeps_researchers(sites, tmp_path):
    urls, _, registry = sites
    items, _ = crawl(tmp_path, "northbridge-med", registry=registry)
    base = urls["northbridge-med"]
    assert_listings_match(items, "northbridge-med", base, ("education", "degrees", "department"))
    assert {item["extractor"] for item in items} == {"microdata"}
    listings = {listing["id"]: listing for listing in SITES["northbridge-med"]["listings"]}
    researchers = [item for item in items if not listings[item["ref"]]["is_physician"]]
    assert researchers and all(item["specialties"] == [] for item in researchers)
    for item in items:
        listing = listings[item["ref"]]
        assert item["job_title"] == listing["title"]
        assert item["specialties"] == listing["specialties"]
        assert item["given_name"] == listing["given_name"]


def test_scrapy_list_shows_directory_and_every_registered_site(sites):
    _, _, registry = sites
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "list"], cwd=REPO_ROOT, capture_output=True, text=True,
        env={**os.environ, "CREDCHECK_SITES": str(registry)}, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["directory", "mercy-general", "northbridge-med", "st-lukes"]


@contextmanager
def tiny_site(routes: dict[str, list[tuple[int, dict, str]]]):
    """A one-off site: path -> responses served in turn (the last one repeats). Yields the base
    URL and a log of (arrival time, path): when each request reached the host, as the kernel
    stamped it, not when a thread of the server got round to it on a loaded machine."""
    log: list[tuple[float, str]] = []
    served: dict[str, int] = {}

    class Handler(ArrivalStampedHandler):
        def do_GET(self):
            log.append((self.arrived, self.path))
            answers = routes.get(self.path, [(404, {}, "not found")])
            n = served[self.path] = served.get(self.path, -1) + 1
            status, headers, body = answers[min(n, len(answers) - 1)]
            headers = dict(headers)
            time.sleep(float(headers.pop("_think_seconds", 0)))  # a slow server
            if not status:  # hang up without answering
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            data = body.encode()
            self.send_response(status)
            for name, value in {"Content-Type": "text/html; charset=utf-8", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = FixtureServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", log
    finally:
        server.shutdown()
        server.server_close()


HOME = '<html><body><a href="/doctors/jane-doe-1">Jane</a> <a href="/doctors/wei-chen-2">Wei</a>'
PROFILE = (
    "<html><head><title>{0} | Mercy</title></head><body><h1>{0}</h1>"
    "<h2>Specialties</h2><ul><li>Cardiology</li></ul></body></html>"
)


def test_a_robots_txt_that_answers_5xx_means_disallow_all(tmp_path):
    with tiny_site({"/robots.txt": [(503, {}, "down")], "/": [(200, {}, HOME)]}) as (url, log):
        items, stats = crawl(tmp_path, "directory", "-a", f"url={url}/", "-s", "RETRY_TIMES=0")
    assert items == [] and {path for _, path in log} == {"/robots.txt"}
    assert stats["credcheck/robotstxt/unavailable_disallow_all"] == 1


def test_a_robots_txt_that_cannot_be_fetched_means_disallow_all(tmp_path):
    # The site answers pages but drops the robots.txt connection (a network error).
    with tiny_site({"/": [(200, {}, HOME)], "/robots.txt": [(0, {}, "")]}) as (url, log):
        items, stats = crawl(
            tmp_path, "directory", "-a", f"url={url}/", "-s", "RETRY_TIMES=0", clean_log=False
        )  # Scrapy logs the failed robots.txt download with its traceback
    assert items == [] and {path for _, path in log} == {"/robots.txt"}
    assert stats["credcheck/robotstxt/unavailable_disallow_all"] == 1


def test_robots_txt_is_fetched_once_for_its_rules_and_its_sitemaps(tmp_path):
    # The zero-config spider reads robots.txt's Sitemap lines: it gets the copy the robots
    # middleware fetched for the rules, not a second request.
    sitemap = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>{0}/doctors/jane-doe-1</loc></url><url><loc>{0}/doctors/wei-chen-2</loc></url>"
        "</urlset>"
    )
    routes = {
        "/robots.txt": [(200, {"Content-Type": "text/plain"}, "User-agent: *\nSitemap: /sm.xml\n")],
        "/": [(200, {}, "<html><body><h1>Mercy</h1></body></html>")],
        "/doctors/jane-doe-1": [(200, {}, PROFILE.format("Dr. Jane Doe, MD"))],
        "/doctors/wei-chen-2": [(200, {}, PROFILE.format("Dr. Wei Chen, MD"))],
    }
    with tiny_site(routes) as (url, log):
        routes["/sm.xml"] = [(200, {"Content-Type": "application/xml"}, sitemap.format(url))]
        items, stats = crawl(tmp_path, "directory", "-a", f"url={url}/")
    paths = [path for _, path in log]
    assert paths.count("/robots.txt") == 1 and "/sm.xml" in paths, paths
    assert sorted(item["ref"] for item in items) == ["jane-doe-1", "wei-chen-2"]
    assert stats["credcheck/robotstxt/reused"] == 1


def test_crawl_delay_and_retry_after_space_the_requests(tmp_path):
    robots = "User-agent: *\nCrawl-delay: 0.5\n"
    routes = {
        "/robots.txt": [(200, {"Content-Type": "text/plain"}, robots)],
        "/": [(200, {}, HOME)],
        "/doctors/jane-doe-1": [(200, {}, PROFILE.format("Dr. Jane Doe, MD"))],
        "/doctors/wei-chen-2": [
            (429, {"Retry-After": "1"}, "slow down"),
            (200, {}, PROFILE.format("Dr. Wei Chen, MD")),
        ],
    }
    with tiny_site(routes) as (url, log):
        items, stats = crawl(tmp_path, "directory", "-a", f"url={url}/")
    assert sorted(item["ref"] for item in items) == ["jane-doe-1", "wei-chen-2"]
    times = [t for t, _ in log]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps[1:]) >= 0.45, log  # after robots.txt, every request waited the Crawl-delay
    rate_limited = [t for t, path in log if path == "/doctors/wei-chen-2"]
    assert rate_limited[1] - rate_limited[0] >= 0.95  # and the retry waited for Retry-After
    assert stats["credcheck/retry_after"] == 1
    assert stats["credcheck/robotstxt/crawl_delay"] == 0.5


def test_a_crawl_delay_holds_from_the_last_answer_of_a_slow_server(tmp_path):
    """A Crawl-delay counts from the last answer too (as Nutch and Heritrix count it): the
    answer proves the request was there, while a request started here may leave late from a
    busy process, and the server must not see the next one closer than the floor."""
    robots = "User-agent: *\nCrawl-delay: 0.3\n"
    slow = {"_think_seconds": "0.4"}
    names = ["jane-doe-1", "wei-chen-2", "ana-ruiz-3"]
    routes = {
        "/robots.txt": [(200, {"Content-Type": "text/plain"}, robots)],
        "/": [(200, {}, "<html><body>" + "".join(f'<a href="/doctors/{n}">x</a>' for n in names))],
        **{f"/doctors/{n}": [(200, slow, PROFILE.format(f"Dr. {n.split('-')[0].title()} Doe, MD"))]
           for n in names},
    }  # fmt: skip
    with tiny_site(routes) as (url, log):
        items, _ = crawl(tmp_path, "directory", "-a", f"url={url}/")
    assert len(items) == 3
    first, second, third = [t for t, path in log if path.startswith("/doctors/")]
    assert second - first >= 0.3 - 0.02, log  # two in flight, the floor apart
    # The third waits the floor after the first answer (0.4 s after the first request), not
    # merely after the second request started (which would be 0.3 + 0.3 after the first).
    assert third - first >= 0.4 + 0.3 - 0.02, log


def test_registry_entries_take_only_their_platforms_options(tmp_path):
    registry = tmp_path / "sites.toml"
    registry.write_text(
        '[sites.harbor]\nname = "Harbor"\nplatform = "kyruus_api"\n'
        'start_urls = ["http://127.0.0.1:9/pm/v8/harbor/providers"]\n'
        'token_url = "http://127.0.0.1:9/oauth2/token"\nclient_id = "id"\nclient_secret = "s"\n'
        "page_size = 25\n"
    )
    cls = spider_class(load_registry(registry)["harbor"], __name__)
    assert (cls.client_id, cls.client_secret, cls.page_size) == ("id", "s", 25)
    assert cls.platform == "kyruus_api"
    registry.write_text(  # an API key means nothing to an HTML directory
        '[sites.lukes]\nplatform = "html_directory"\nstart_urls = ["http://127.0.0.1:9/"]\n'
        'api_key = "k"\n'
    )
    with pytest.raises(RegistryError, match="unknown keys"):
        load_registry(registry)


# -- engine tuning (spiders/engine.py, spiders/compat.py) --------------------------------------------------------
def test_stats_collector_counts_like_scrapys_without_the_per_access_shim():
    from spiders.compat import StatsCollector

    stats = StatsCollector(get_crawler(Spider, settings_dict={}))
    stats.inc_value("pages")
    stats.inc_value("pages", 2)
    stats.max_value("depth", 3)
    stats.max_value("depth", 1)
    stats.set_value("reason", "finished")
    assert stats.get_stats() == {"pages": 3, "depth": 3, "reason": "finished"}
    # Scrapy's shim caches a warning wrapper per method on the instance; ours has none.
    assert not [name for name in vars(stats) if name.startswith("_cached_")]


def test_gc_tuning_freezes_startup_objects_and_collects_young_ones_less_often():
    import gc

    from spiders.engine import GC_YOUNG_THRESHOLD, GarbageCollectionTuning

    before = gc.get_threshold()
    try:
        GarbageCollectionTuning().engine_started()
        assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, *before[1:])
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_crawl_settings_use_the_engine_tuning():
    from scrapy.utils.project import get_project_settings

    project = get_project_settings()  # spiders.settings, via scrapy.cfg
    assert project.get("STATS_CLASS") == "spiders.compat.StatsCollector"
    assert "spiders.engine.GarbageCollectionTuning" in project.getdict("EXTENSIONS")
    assert project.getint("CONCURRENT_ITEMS") == 1
