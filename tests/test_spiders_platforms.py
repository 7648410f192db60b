"""Every directory platform crawled end to end: each fixture site is the same site content served
the platform's way (pipeline.demo.platforms), crawled by a real Scrapy child process configured by
a registry entry of a few lines, and scored against the content: precision and recall of the
extracted listings, and field by field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.crawl.runner import CrawlTarget, crawl_sites
from pipeline.demo.platforms import START_PATHS
from pipeline.demo.server import serve_sites

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "sites"
SITES = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in FIXTURES.glob("*.json")}
LOOPBACK = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False",
            "CONCURRENT_REQUESTS_PER_DOMAIN": "8"}  # fmt: skip
NAMES = ("given_name", "family_name")
CLINICAL = ("specialties", "board_certifications", "npi", "gender", "languages",
            "accepting_new_patients", "locations", "affiliations")  # fmt: skip
API_FIELDS = (*NAMES, "additional_name", "degrees", "education", "job_title", "department",
              *CLINICAL)  # fmt: skip
FACULTY = (*NAMES, "degrees", "education", "job_title", "department")
# platform -> (fixture site, start path, extra registry lines, fields the platform shows)
PLATFORMS = {
    "schemaorg_sitemap": ("mercy-general", "/robots.txt", "",
                          ("degrees", "education", *CLINICAL)),
    "html_directory": ("st-lukes", "/find-a-doctor", "", ("degrees", "education", *CLINICAL)),
    "faculty_directory": ("northbridge-med", "/faculty", "",
                          ("degrees", "education", "job_title", "department", "specialties")),
    "kyruus_api": ("st-lukes", START_PATHS["kyruus_api"],
                   'token_url = "{base}/oauth2/token"\nclient_id = "credcheck-fixture"\n'
                   'client_secret = "fixture-secret"\npage_size = 20\n', API_FIELDS),
    "yext_api": ("st-lukes", START_PATHS["yext_api"],
                 'api_key = "fixture-api-key"\npage_size = 20\n', API_FIELDS),
    "solr_api": ("mercy-general", START_PATHS["solr_api"], "page_size = 10\n", API_FIELDS),
    "algolia_api": ("mercy-general", START_PATHS["algolia_api"],
                    'api_key = "fixture-api-key"\napp_id = "FIXTURE"\npage_size = 10\n',
                    API_FIELDS),
    "webforms": ("st-lukes", START_PATHS["webforms"], "", ("degrees", "education", *CLINICAL)),
    "profiles_rns": ("northbridge-med", START_PATHS["profiles_rns"], "", FACULTY),
    "pure": ("northbridge-med", START_PATHS["pure"], 'api_key = "fixture-api-key"\n',
             (*FACULTY, "specialties", "board_certifications", "npi", "locations")),
    "vivo": ("northbridge-med", START_PATHS["vivo"], "", (*FACULTY, "additional_name")),
}  # fmt: skip
SHAPE_OF = {"schemaorg_sitemap": "jsonld_sitemap"}  # platform -> fixture shape, where they differ
TRUTH_KEY = {"job_title": "title"}
LIST_FIELDS = {"degrees", "specialties", "board_certifications", "languages", "education",
               "locations", "affiliations"}  # fmt: skip


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """All platforms crawled in parallel (two at a time, as the pipeline crawls sites)."""
    tmp = tmp_path_factory.mktemp("platforms")
    registry = tmp / "sites.toml"
    entries, targets = [], []
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CREDCHECK_SITES", str(registry))
        with serve_sites_by_platform() as bases:
            for platform, (site, start, extra, _) in PLATFORMS.items():
                base = bases[platform]
                start_url = base + start.format(site_id=site)
                entries.append(
                    f'[sites.{platform.replace("_", "-")}]\nname = "{site} on {platform}"\n'
                    f'platform = "{platform}"\nstart_urls = ["{start_url}"]\n'
                    + extra.format(base=base)
                )
                targets.append(CrawlTarget(platform, platform.replace("_", "-"), {}, start_url))
            registry.write_text("\n".join(entries))
            outcomes = crawl_sites(targets, runs_dir=tmp / "runs", settings=LOOPBACK, parallel=3)
    return {o.target.site_id: o for o in outcomes}


class serve_sites_by_platform:
    """Each platform's fixture site on its own port (the same content in its platform's shape)."""

    def __enter__(self) -> dict[str, str]:
        from contextlib import ExitStack

        self.stack = ExitStack()
        bases = {}
        for platform, (site, *_rest) in PLATFORMS.items():
            shape = SHAPE_OF.get(platform, platform)
            urls = self.stack.enter_context(serve_sites([FIXTURES / f"{site}.json"], shape=shape))
            bases[platform] = urls[site]
        return bases

    def __exit__(self, *exc) -> None:
        self.stack.close()


def truth_value(listing: dict, field: str):
    value = listing.get(TRUTH_KEY.get(field, field))
    return [] if value is None and field in LIST_FIELDS else value


def same_person(item: dict, listing: dict) -> bool:
    if item["given_name"] or item["family_name"]:
        return (item["given_name"], item["family_name"]) == (
            listing["given_name"], listing["family_name"])  # fmt: skip
    return item["name"] == listing["display_name"]


def score(items: list[dict], listings: list[dict]) -> tuple[float, float]:
    """Precision and recall of extracted listings: an extracted listing is right when its ref is a
    listing of the site and it names that listing's person."""
    by_ref = {listing["id"]: listing for listing in listings}
    right = {i["ref"] for i in items if i["ref"] in by_ref and same_person(i, by_ref[i["ref"]])}
    return len(right) / max(1, len(items)), len(right) / max(1, len(listings))


@pytest.mark.parametrize("platform", list(PLATFORMS))
def test_platform_fixture_is_crawled_with_precision_and_recall_of_at_least_099(crawled, platform):
    site, _, _, fields = PLATFORMS[platform]
    outcome = crawled[platform]
    assert outcome.ok, outcome.error
    listings = SITES[site]["listings"]
    items = outcome.items
    precision, recall = score(items, listings)
    print(f"\n{platform}: listings={len(items)}/{len(listings)} "
          f"precision={precision:.3f} recall={recall:.3f}")  # fmt: skip
    assert precision >= 0.99 and recall >= 0.99
    by_ref = {listing["id"]: listing for listing in listings}
    for field in fields:
        right = sum(item[field] == truth_value(by_ref[item["ref"]], field) for item in items)
        assert right / len(items) >= 0.99, (platform, field, right, len(items))
    stats = outcome.stats
    assert stats.get("credcheck/parse_errors", 0) == 0 and stats["finish_reason"] == "finished"


@pytest.mark.parametrize("platform", ["profiles_rns", "pure", "vivo", "faculty_directory"])
def test_faculty_systems_tell_physicians_from_researchers(crawled, platform):
    site = PLATFORMS[platform][0]
    by_ref = {listing["id"]: listing for listing in SITES[site]["listings"]}
    items = crawled[platform].items
    said = {i["ref"] for i in items if i["extras"]["is_physician"]}
    physicians = {ref for ref, listing in by_ref.items() if listing["is_physician"]}
    assert said == physicians and 0 < len(physicians) < len(by_ref)


@pytest.mark.parametrize("platform", ["kyruus_api", "pure", "webforms"])
def test_every_field_names_its_url_fetch_time_and_extractor(crawled, platform):
    for item in crawled[platform].items:
        sources = item["extras"]["provenance"]
        shown = {k for k, v in item.items() if k not in ("extras",) and v not in (None, [], {})}
        named = {field for source in sources for field in source["fields"]}
        person_fields = shown - {"site_id", "source_url", "fetched_at", "content_hash",
                                 "extractor", "ref"}  # fmt: skip
        assert person_fields <= named, (platform, person_fields - named)
        for source in sources:
            assert source["url"].startswith("http://127.0.0.1:") and source["extractor"]
            assert source["fetched_at"].endswith("+00:00")
    if platform == "pure":  # two sources: the persons API for who, the portal page for the rest
        extractors = {s["extractor"] for s in crawled[platform].items[0]["extras"]["provenance"]}
        assert extractors == {"pure_api", "html"}


def test_api_credentials_are_used_as_the_platforms_require(crawled):
    # Kyruus fetched a token first; the search answered 200 only with it (a 401 would fail).
    assert crawled["kyruus_api"].stats["downloader/request_method_count/POST"] == 1
    assert crawled["algolia_api"].stats["downloader/request_method_count/POST"] >= 3
    # WebForms: every page after the first came from a postback of the view state.
    pages = -(-len(SITES["st-lukes"]["listings"]) // 10)
    assert crawled["webforms"].stats["credcheck/webforms/postbacks"] == pages - 1
    assert crawled["webforms"].stats.get("downloader/response_status_count/500", 0) == 0
    # Yext stops on the short page without a total: 45 listings in pages of 20 -> 3 requests.
    assert crawled["yext_api"].stats["credcheck/pages/api"] == 3
