"""Vendor provider-search APIs: one base spider that pages through JSON, one subclass per vendor.

A subclass says how page ``n`` (0-based) is asked for, where the records are, and when to stop;
records become items through the shared record parser (spiders.extract.records). The start URL
is the search endpoint; registry entries add the customer's public credentials:

    [sites.acme-health]
    platform = "kyruus_api"
    start_urls = ["https://api.acme.example/pm/v8/acme/providers"]
    token_url = "https://api.acme.example/oauth2/token"
    client_id = "..."
    client_secret = "..."
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar
from urllib.parse import urlencode

from scrapy import FormRequest, Request
from scrapy.http import Response

from spiders.extract.records import record_fields, record_ref
from spiders.items import ListingItem
from spiders.platforms.base import DirectorySpider, arrival_time


def dig(data: Any, path: str) -> Any:
    """``dig(d, "response.docs")`` -> d["response"]["docs"], or None."""
    for key in path.split("."):
        data = data.get(key) if isinstance(data, dict) else None
    return data


def record_hash(record: dict) -> str:
    """Content hash of one record (the page holds many; each changes on its own)."""
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


class SearchApiSpider(DirectorySpider):
    """Base: page through a JSON search API; every record is a listing."""

    platform = "search_api"
    registry_options: ClassVar[tuple[str, ...]] = ("page_size",)
    listing_pattern = None
    page_size: int = 50
    records_key: str = "records"  # dotted path to the list of records in a page
    extractor = "api"

    @property
    def api_url(self) -> str:
        return self.start_urls[0]

    async def start(self) -> AsyncIterator[Any]:
        yield self.page_request(0)

    def page_request(self, n: int) -> Request:
        raise NotImplementedError

    def next_page(self, data: Any, n: int, records: list) -> int | None:
        """The next page number, or None when this was the last."""
        raise NotImplementedError

    def record_url(self, record: dict, ref: str) -> str:
        """The record's own URL (its provenance): ``<api>/<ref>`` unless the vendor differs."""
        return f"{self.api_url.split('?')[0]}/{ref}"

    def pre_process_record(self, record: dict) -> dict:
        """Per-vendor hook: reshape a record before the shared parser reads it."""
        return record

    def parse_page(self, response: Response, n: int) -> Iterator[Any]:
        stats = self.crawler.stats
        stats.inc_value("credcheck/pages/api")
        fetched_at = arrival_time()
        try:
            data = json.loads(response.text)
        except ValueError:
            stats.inc_value("credcheck/api/bad_json")
            return
        records = dig(data, self.records_key) or []
        for record in records:
            if isinstance(record, dict):
                yield from self.record_items(record, response, fetched_at)
        following = self.next_page(data, n, records) if records else None
        if following is not None:
            yield self.page_request(following)

    def record_items(self, record: dict, response: Response, fetched_at: str) -> Iterator[Any]:
        fields = record_fields(self.pre_process_record(record))
        ref = record_ref(record) or fields.get("npi") or fields.get("name") or "?"
        item = self.make_item(
            fields,
            self.extractor,
            url=self.record_url(record, ref),
            fetched_at=fetched_at,
            content_hash=record_hash(record),
            ref=ref,
            # the fields were read from the search page that carried the record
            primary=(response.url, fetched_at, [k for k, v in fields.items() if v not in
                                                (None, [], {}) and k != "extras"]),
        )  # fmt: skip
        yield from self.post_process_item(item, response)

    def post_process_item(self, item: ListingItem, response: Response) -> Iterator[ListingItem]:
        yield item


class KyruusApiSpider(SearchApiSpider):
    """Kyruus ProviderMatch: OAuth2 client-credentials token, then ``page``/``per_page``."""

    platform = "kyruus_api"
    registry_options = ("page_size", "token_url", "client_id", "client_secret")
    extractor = "kyruus"
    records_key = "providers"
    token_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    token: str | None = None

    async def start(self) -> AsyncIterator[Any]:
        if not self.token_url:
            yield self.page_request(0)
            return
        yield FormRequest(
            self.token_url,
            formdata={"grant_type": "client_credentials", "client_id": self.client_id or "",
                      "client_secret": self.client_secret or ""},
            callback=self.got_token,
            dont_filter=True,
        )  # fmt: skip

    def got_token(self, response: Response) -> Iterator[Request]:
        self.token = json.loads(response.text)["access_token"]
        yield self.page_request(0)

    def page_request(self, n: int) -> Request:
        query = urlencode({"per_page": self.page_size, "page": n + 1})
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return Request(
            f"{self.api_url}?{query}", headers=headers, callback=self.parse_page, cb_kwargs={"n": n}
        )

    def next_page(self, data: Any, n: int, records: list) -> int | None:
        total = dig(data, "_metadata.provider_count") or 0
        return n + 1 if (n + 1) * self.page_size < total else None


class YextApiSpider(SearchApiSpider):
    """Yext entities: ``offset``/``limit`` and no total, so a short page is the last one."""

    platform = "yext_api"
    registry_options = ("page_size", "api_key")
    extractor = "yext"
    records_key = "response.entities"
    page_size = 50
    api_key: str | None = None

    def page_request(self, n: int) -> Request:
        query = {"api_key": self.api_key or "", "v": "20240101", "limit": self.page_size,
                 "offset": n * self.page_size}  # fmt: skip
        return Request(
            f"{self.api_url}?{urlencode(query)}", callback=self.parse_page, cb_kwargs={"n": n}
        )

    def next_page(self, data: Any, n: int, records: list) -> int | None:
        return n + 1 if len(records) >= self.page_size else None


class SolrApiSpider(SearchApiSpider):
    """Solr select: ``rows``/``start`` until ``response.numFound``."""

    platform = "solr_api"
    extractor = "solr"
    records_key = "response.docs"

    def page_request(self, n: int) -> Request:
        query = urlencode({"q": "*:*", "wt": "json", "rows": self.page_size,
                           "start": n * self.page_size})  # fmt: skip
        return Request(f"{self.api_url}?{query}", callback=self.parse_page, cb_kwargs={"n": n})

    def next_page(self, data: Any, n: int, records: list) -> int | None:
        found = dig(data, "response.numFound") or 0
        return n + 1 if (n + 1) * self.page_size < found else None

    def record_url(self, record: dict, ref: str) -> str:
        return f"{self.api_url.split('?')[0]}?{urlencode({'q': f'id:{ref}'})}"


class AlgoliaApiSpider(SearchApiSpider):
    """Algolia query: POST ``hitsPerPage``/``page`` (0-based) until ``nbPages``."""

    platform = "algolia_api"
    registry_options = ("page_size", "api_key", "app_id")
    extractor = "algolia"
    records_key = "hits"
    api_key: str | None = None
    app_id: str | None = None

    def page_request(self, n: int) -> Request:
        body = json.dumps({"params": urlencode({"query": "", "hitsPerPage": self.page_size,
                                                "page": n})})  # fmt: skip
        return Request(
            self.api_url,
            method="POST",
            body=body,
            headers={"Content-Type": "application/json",
                     "X-Algolia-API-Key": self.api_key or "",
                     "X-Algolia-Application-Id": self.app_id or ""},
            callback=self.parse_page,
            cb_kwargs={"n": n},
        )  # fmt: skip

    def next_page(self, data: Any, n: int, records: list) -> int | None:
        return n + 1 if n + 1 < (data.get("nbPages") or 0) else None

    def record_url(self, record: dict, ref: str) -> str:
        return f"{self.api_url.removesuffix('/query')}/{ref}"
