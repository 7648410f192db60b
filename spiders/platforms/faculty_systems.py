"""Medical-school faculty systems: Profiles RNS, Elsevier Pure, VIVO.

They list researchers next to clinicians; every person is emitted and ``extras.is_physician``
(MD/DO, or a clinical title when no degree is shown) tells them apart.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from scrapy import Request
from scrapy.http import Response

from spiders.extract import extract_html
from spiders.extract.records import record_fields
from spiders.extract.text import clean_text
from spiders.platforms.base import arrival_time
from spiders.platforms.search_api import SearchApiSpider, dig, record_hash


class ProfilesRnsSpider(SearchApiSpider):
    """Profiles RNS people API: ``Profiles[{Name, Title, Department, Education ...}]``."""

    platform = "profiles_rns"
    extractor = "profiles_rns"
    records_key = "Profiles"
    page_size = 25

    def page_request(self, n: int) -> Request:
        query = urlencode({"count": self.page_size, "page": n + 1})
        return Request(f"{self.api_url}?{query}", callback=self.parse_page, cb_kwargs={"n": n})

    def next_page(self, data: Any, n: int, records: list) -> int | None:
        return n + 1 if (n + 1) * self.page_size < (data.get("TotalCount") or 0) else None

    def record_url(self, record: dict, ref: str) -> str:
        return record.get("ProfilesURL") or super().record_url(record, ref)


def localized(value: Any) -> str | None:
    """Pure's ``{"text": [{"locale": "en_US", "value": ...}]}`` -> the text."""
    texts = dig(value, "text") if isinstance(value, dict) else None
    return clean_text(texts[0].get("value")) if texts else clean_text(value)


class PureSpider(SearchApiSpider):
    """Elsevier Pure: the persons API names the people; their portal page has the details."""

    platform = "pure"
    registry_options = ("page_size", "api_key")
    extractor = "pure_api"
    records_key = "items"
    profile_pattern = r"/(?:en/)?persons/([\w-]+)/?$"
    api_key: str | None = None

    def page_request(self, n: int) -> Request:
        query = urlencode({"size": self.page_size, "offset": n * self.page_size})
        return Request(
            f"{self.api_url}?{query}",
            headers={"api-key": self.api_key or "", "Accept": "application/json"},
            callback=self.parse_page,
            cb_kwargs={"n": n},
        )

    def next_page(self, data: Any, n: int, records: list) -> int | None:
        return n + 1 if (n + 1) * self.page_size < (data.get("count") or 0) else None

    def pre_process_record(self, record: dict) -> dict:
        titles = record.get("titles") or [{}]
        units = record.get("staffOrganizationAssociations") or [{}]
        return {
            "uuid": record.get("uuid"),
            "name": record.get("name"),
            "title": localized(titles[0].get("value")),
            "department": localized(dig(units[0], "organisationalUnit.name")),
        }

    def record_items(self, record: dict, response: Response, fetched_at: str) -> Iterator[Any]:
        portal = record.get("portalUrl")
        if not portal:
            self.crawler.stats.inc_value("credcheck/pure/no_portal_url")
            return
        yield Request(
            portal,
            callback=self.parse_portal,
            cb_kwargs={"record": record, "api_url": response.url, "api_fetched_at": fetched_at},
        )

    def parse_portal(
        self, response: Response, record: dict, api_url: str, api_fetched_at: str
    ) -> Iterator[Any]:
        fetched_at = arrival_time()
        self.crawler.stats.inc_value("credcheck/pages/profile")
        from_api = record_fields(self.pre_process_record(record))
        from_page = extract_html(response)
        # The API is authoritative for who and where; the portal page for everything else.
        borrowed = sorted(
            k for k, v in from_page.items() if v not in (None, [], {}) and not from_api.get(k)
        )
        fields = {**from_api, **{k: from_page[k] for k in borrowed}}
        api_fields = [k for k, v in from_api.items() if v not in (None, [], {}) and k != "extras"]
        item = self.make_item(
            fields,
            self.extractor,
            url=response.url,
            fetched_at=fetched_at,
            content_hash=hashlib.sha256(
                record_hash(record).encode() + response.body
            ).hexdigest(),
            ref=self.ref_for(response.url),
            response=response,
            sources=[{"url": response.url, "fetched_at": fetched_at, "extractor": "html",
                      "fields": borrowed}],
            primary=(api_url, api_fetched_at, api_fields),
        )  # fmt: skip
        yield from self.post_process_item(item, response)


def node_of(value: Any, graph: dict[str, dict]) -> dict:
    """A JSON-LD reference ``{"@id": ...}`` resolved in the page's graph (or the node itself)."""
    if isinstance(value, list):
        value = value[0] if value else {}
    if isinstance(value, dict) and set(value) == {"@id"}:
        return graph.get(value["@id"], {})
    return value if isinstance(value, dict) else {}


def nodes_of(value: Any, graph: dict[str, dict]) -> list[dict]:
    return [node_of(v, graph) for v in (value if isinstance(value, list) else [value]) if v]


class VivoSpider(SearchApiSpider):
    """VIVO JSON-LD pages: people as foaf:Person nodes linked to vcard names and titles,
    positions in departments, and educational processes; the page names the next one."""

    platform = "vivo"
    extractor = "vivo"
    records_key = "@graph"

    def page_request(self, n: int, url: str | None = None) -> Request:
        return Request(url or self.api_url, callback=self.parse_page, cb_kwargs={"n": n})

    def parse_page(self, response: Response, n: int) -> Iterator[Any]:
        self.crawler.stats.inc_value("credcheck/pages/api")
        fetched_at = arrival_time()
        try:
            data = json.loads(response.text)
        except ValueError:
            self.crawler.stats.inc_value("credcheck/api/bad_json")
            return
        graph = {node["@id"]: node for node in data.get("@graph", []) if "@id" in node}
        for node in graph.values():
            types = node.get("@type")
            if "foaf:Person" in (types if isinstance(types, list) else [types]):
                record = self.person(node, graph)
                yield from self.record_items(record, response, fetched_at)
        if data.get("next"):
            yield self.page_request(n + 1, response.urljoin(data["next"]))

    def person(self, node: dict, graph: dict[str, dict]) -> dict:
        """Flatten one person's linked nodes into a plain record for the shared parser."""
        card = node_of(node.get("obo:ARG_2000028"), graph)
        name = node_of(card.get("vcard:hasName"), graph)
        title = node_of(card.get("vcard:hasTitle"), graph)
        departments = [
            org.get("rdfs:label")
            for position in nodes_of(node.get("vivo:relatedBy"), graph)
            for org in nodes_of(position.get("vivo:relates"), graph)
            if "Department" in str(org.get("@type"))
        ]
        education = [
            {
                "type": process.get("vivo:supplementalInformation"),
                "name": node_of(process.get("obo:RO_0000057"), graph).get("rdfs:label"),
                "year": dig(process, "vivo:dateTimeInterval.vivo:end.vivo:dateTime"),
            }
            for process in nodes_of(node.get("obo:RO_0000056"), graph)
        ]
        return {
            "id": node["@id"].rstrip("/").rsplit("/", 1)[-1],
            "url": node["@id"],
            "first_name": name.get("vcard:givenName"),
            "middle_name": name.get("vivo:middleName"),
            "last_name": name.get("vcard:familyName"),
            "degrees": node.get("vivo:degreeAbbreviations"),
            "title": title.get("vcard:title"),
            "department": departments[0] if departments else None,
            "education": education,
        }

    def record_url(self, record: dict, ref: str) -> str:
        return record["url"]
