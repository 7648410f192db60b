"""Search-API platforms: Kyruus (OAuth2, page/per_page), Yext (offset/limit), Solr
(rows/start, flat multi-valued documents), Algolia (POST, hitsPerPage/page)."""

from __future__ import annotations

import math
import uuid
from typing import ClassVar
from urllib.parse import parse_qs

from pipeline.demo.platforms.common import (
    _TOKEN,
    FIXTURE_API_KEY,
    FIXTURE_CLIENT_ID,
    FIXTURE_CLIENT_SECRET,
    as_json,
    display_without_prefix,
    int_arg,
    sort_by_id,
)
from pipeline.demo.site import (
    EDUCATION_HEADINGS,
    Page,
    Site,
    cert_text,
    listing_lastmod,
)


class ApiSite(Site):
    """A site whose directory is a JSON API; its home page is a JS app that shows nothing."""

    records_path = "/api/providers"

    def home(self, path: str, query: dict) -> Page:
        main = f'<h1>Find a Doctor</h1><div id="app" data-api="{self.records_path}"></div>'
        return Page(200, self.layout(self.name, main))

    def record_url(self, listing: dict) -> str:
        return f"{self.base}{self.records_path}/{listing['id']}"

    def routes(self) -> dict:
        return super().routes() | {self.records_path: self.search}

    def dynamic(self, path: str, query: dict) -> Page | None:
        """One record as JSON at ``<records_path>/<id>``: the record's own URL."""
        parent, _, ref = path.rpartition("/")
        if parent == self.records_path and (listing := self.by_id.get(ref)):
            return as_json(self.record(listing), last_modified=listing_lastmod(listing))
        return None

    def search(self, path: str, query: dict) -> Page:
        raise NotImplementedError

    def record(self, listing: dict) -> dict:
        raise NotImplementedError


class KyruusApiSite(ApiSite):
    def routes(self) -> dict:
        return super().routes() | {"/oauth2/token": self.token}

    @property
    def records_path(self) -> str:  # type: ignore[override]
        return f"/pm/v8/{self.site_id}/providers"

    def token(self, path: str, query: dict) -> Page:
        form = self.request.form()
        if (
            self.request.method != "POST"
            or form.get("grant_type") != "client_credentials"
            or form.get("client_id") != FIXTURE_CLIENT_ID
            or form.get("client_secret") != FIXTURE_CLIENT_SECRET
        ):
            return as_json({"error": "invalid_client"}, 401)
        return as_json({"access_token": _TOKEN, "token_type": "Bearer", "expires_in": 3600})

    def search(self, path: str, query: dict) -> Page:
        if self.request.header("Authorization") != f"Bearer {_TOKEN}":
            return as_json(
                {"error": "unauthorized"}, 401, headers=(("WWW-Authenticate", "Bearer"),)
            )
        per_page = max(1, min(100, int_arg(query, "per_page", 10)))
        page = max(1, int_arg(query, "page", 1))
        people = sort_by_id(self.listings)
        chunk = people[(page - 1) * per_page : page * per_page]
        return as_json(
            {
                "_metadata": {"provider_count": len(people), "page": page, "per_page": per_page},
                "providers": [self.record(listing) for listing in chunk],
            }
        )

    def record(self, listing: dict) -> dict:
        return {
            "id": listing["id"],
            "npi": listing.get("npi"),
            "name": {
                "first": listing.get("given_name"),
                "middle": listing.get("additional_name"),
                "last": listing.get("family_name"),
                "full": display_without_prefix(listing),
                "preferred": None,
            },
            "gender": listing.get("gender"),
            "degrees": [{"name": d, "source": "Provider"} for d in listing.get("degrees") or []],
            "specialties": [
                {"name": s, "eligible": True} for s in listing.get("specialties") or []
            ],
            "board_certifications": [
                {"specialty_name": c.get("certificate"), "board_name": c.get("board")}
                for c in listing.get("board_certifications") or []
            ],
            "training": [
                {"type": e["type"], "name": e["name"], "graduation_year": e.get("year")}
                for e in listing.get("education") or []
            ],
            "accepting_new_patients": listing.get("accepting_new_patients"),
            "languages": [{"language": lang} for lang in listing.get("languages") or []],
            "network_affiliations": [
                {"name": a, "type": "Hospital"} for a in listing.get("affiliations") or []
            ],
            "academic_title": listing.get("title"),
            "department_name": listing.get("department"),
            "locations": [
                {
                    "name": loc.get("name"),
                    "street1": loc.get("street"),
                    "city": loc.get("city"),
                    "state": loc.get("state"),
                    "zip": loc.get("zip"),
                    "phone": loc.get("phone"),
                }
                for loc in listing.get("locations") or []
            ],
        }


class YextApiSite(ApiSite):
    records_path = "/v2/accounts/me/entities"
    _education_types: ClassVar[dict[str, str]] = {
        "medical_school": "MEDICAL_SCHOOL",
        "residency": "RESIDENCY",
        "fellowship": "FELLOWSHIP",
        "other": "OTHER",
    }

    def search(self, path: str, query: dict) -> Page:
        if (query.get("api_key") or [""])[0] != FIXTURE_API_KEY:
            return as_json({"meta": {"errors": [{"message": "Invalid api_key"}]}}, 401)
        limit = max(1, min(50, int_arg(query, "limit", 20)))
        offset = max(0, int_arg(query, "offset", 0))
        people = sort_by_id(self.listings)
        entities = [self.record(listing) for listing in people[offset : offset + limit]]
        # No total: clients stop when a page comes back short.
        return as_json({"meta": {"uuid": str(uuid.uuid4())}, "response": {"entities": entities}})

    def record(self, listing: dict) -> dict:
        locations = listing.get("locations") or []
        return {
            "meta": {"id": listing["id"], "entityType": "healthcareProfessional"},
            "npi": listing.get("npi"),
            "first_name": listing.get("given_name"),
            "middle_name": listing.get("additional_name"),
            "last_name": listing.get("family_name"),
            "name": display_without_prefix(listing),
            "degrees": list(listing.get("degrees") or []),
            "gender": (listing.get("gender") or "").upper() or None,
            "specialties": list(listing.get("specialties") or []),
            "certifications": [cert_text(c) for c in listing.get("board_certifications") or []],
            "education_list": [
                {
                    "type": self._education_types[e["type"]],
                    "institution_name": e["name"],
                    "year_completed": e.get("year"),
                }
                for e in listing.get("education") or []
            ],
            "admitting_hospitals": list(listing.get("affiliations") or []),
            "languages": list(listing.get("languages") or []),
            "accepting_new_patients": listing.get("accepting_new_patients"),
            "locations": [
                {
                    "name": loc.get("name"),
                    "address": {
                        "line1": loc.get("street"),
                        "city": loc.get("city"),
                        "region": loc.get("state"),
                        "postalCode": loc.get("zip"),
                    },
                    "mainPhone": loc.get("phone"),
                }
                for loc in locations
            ],
            "c_academic_title": listing.get("title"),
            "c_department": listing.get("department"),
        }


class SolrApiSite(ApiSite):
    records_path = "/solr/providers/select"

    def search(self, path: str, query: dict) -> Page:
        rows = max(1, min(100, int_arg(query, "rows", 10)))
        start = max(0, int_arg(query, "start", 0))
        people = sort_by_id(self.listings)
        return as_json(
            {
                "responseHeader": {"status": 0, "QTime": 3, "params": {"q": "*:*"}},
                "response": {
                    "numFound": len(people),
                    "start": start,
                    "docs": [self.record(p) for p in people[start : start + rows]],
                },
            }
        )

    def record_url(self, listing: dict) -> str:
        return f"{self.base}{self.records_path}?q=id:{listing['id']}"

    def record(self, listing: dict) -> dict:
        education = listing.get("education") or []
        locations = listing.get("locations") or []
        doc = {
            "id": listing["id"],
            "npi": listing.get("npi"),
            "full_name": display_without_prefix(listing),
            "first_name": listing.get("given_name"),
            "middle_name": listing.get("additional_name"),
            "last_name": listing.get("family_name"),
            "degrees": listing.get("degrees") or [],
            "specialties": listing.get("specialties") or [],
            "board_certifications": [
                cert_text(c) for c in listing.get("board_certifications") or []
            ],
            "gender": listing.get("gender"),
            "languages": listing.get("languages") or [],
            "accepting_new_patients": listing.get("accepting_new_patients"),
            "hospital_affiliations": listing.get("affiliations") or [],
            "title": listing.get("title"),
            "department": listing.get("department"),
            # Solr has no nested objects: parallel multi-valued fields, one entry per item.
            "education_type": [EDUCATION_HEADINGS[e["type"]] for e in education],
            "education_name": [e["name"] for e in education],
            "education_year": [e.get("year") or 0 for e in education],
        }
        for key in ("name", "street", "city", "state", "zip", "phone"):
            doc[f"location_{key}"] = [loc.get(key) or "" for loc in locations]
        return {k: v for k, v in doc.items() if v not in (None, [])}


class AlgoliaApiSite(ApiSite):
    @property
    def records_path(self) -> str:  # type: ignore[override]
        return f"/1/indexes/{self.site_id}_providers/query"

    def search(self, path: str, query: dict) -> Page:
        if self.request.header("X-Algolia-API-Key") != FIXTURE_API_KEY or not self.request.header(
            "X-Algolia-Application-Id"
        ):
            return as_json({"message": "Invalid Application-ID or API key", "status": 403}, 403)
        if self.request.method != "POST":
            return as_json({"message": "Method not allowed", "status": 405}, 405)
        params = parse_qs((self.request.json() or {}).get("params", ""))
        per_page = max(1, min(100, int_arg(params, "hitsPerPage", 20)))
        page = max(0, int_arg(params, "page", 0))
        people = sort_by_id(self.listings)
        pages = math.ceil(len(people) / per_page)
        hits = [self.record(p) for p in people[page * per_page : (page + 1) * per_page]]
        return as_json(
            {
                "hits": hits,
                "nbHits": len(people),
                "page": page,
                "nbPages": pages,
                "hitsPerPage": per_page,
                "processingTimeMS": 1,
            }
        )

    def record(self, listing: dict) -> dict:
        return {
            "objectID": listing["id"],
            "name": display_without_prefix(listing),
            "firstName": listing.get("given_name"),
            "middleName": listing.get("additional_name"),
            "lastName": listing.get("family_name"),
            "credentials": ", ".join(listing.get("degrees") or []),
            "npi": listing.get("npi"),
            "gender": listing.get("gender"),
            "specialties": listing.get("specialties") or [],
            "boardCertifications": [
                {"board": c.get("board"), "certificate": c.get("certificate")}
                for c in listing.get("board_certifications") or []
            ],
            "education": [
                {
                    "type": EDUCATION_HEADINGS[e["type"]],
                    "institution": e["name"],
                    "year": e.get("year"),
                }
                for e in listing.get("education") or []
            ],
            "languages": listing.get("languages") or [],
            "acceptingNewPatients": listing.get("accepting_new_patients"),
            "locations": [
                {
                    "name": loc.get("name"),
                    "address1": loc.get("street"),
                    "city": loc.get("city"),
                    "state": loc.get("state"),
                    "postalCode": loc.get("zip"),
                    "phone": loc.get("phone"),
                }
                for loc in listing.get("locations") or []
            ],
            "hospitalAffiliations": listing.get("affiliations") or [],
            "title": listing.get("title"),
            "department": listing.get("department"),
            "_highlightResult": {},
        }
