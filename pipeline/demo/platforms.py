"""Fixture sites for the vendor platforms: the same site content, served the way each platform
serves it (crawl-shapes.md sections C, E and F).

- ``kyruus_api``: OAuth2 client-credentials token, then ``/pm/v8/<customer>/providers``
  paged by ``page``/``per_page`` with ``_metadata.provider_count``.
- ``yext_api``: ``/v2/accounts/me/entities`` paged by ``offset``/``limit``; a short page ends it.
- ``solr_api``: ``/solr/providers/select`` with ``rows``/``start`` -> ``response.numFound``; flat
  documents with parallel multi-valued fields, as Solr stores them.
- ``algolia_api``: POST ``/1/indexes/<index>/query`` with ``hitsPerPage``/``page`` -> ``nbPages``.
- ``webforms``: ASP.NET WebForms directory; the pager posts ``__VIEWSTATE``/``__EVENTVALIDATION``
  back, and a stale or forged view state gets the ASP.NET error page.
- ``profiles_rns``: Profiles RNS people JSON (``Profiles[...]``), faculty and clinicians mixed.
- ``pure``: Elsevier Pure ``/ws/api/persons`` (``api-key`` header) plus portal pages
  ``/en/persons/<slug>`` that carry the clinical details.
- ``vivo``: VIVO JSON-LD ``@graph`` pages (foaf, vcard and vivo-core terms).

Credentials the fixtures accept are fixed (``FIXTURE_CLIENT_ID`` ...): registry entries in the
tests name them as a real entry would name a customer's public client id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import uuid
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlencode

from pipeline.demo.site import (
    EDUCATION_HEADINGS,
    TEXT,
    Page,
    Site,
    cert_text,
    esc,
    listing_lastmod,
    page_number,
)

JSON = "application/json; charset=utf-8"
FIXTURE_CLIENT_ID = "credcheck-fixture"
FIXTURE_CLIENT_SECRET = "fixture-secret"
FIXTURE_API_KEY = "fixture-api-key"
_TOKEN = "fixture-token-7f3a"  # what /oauth2/token hands out
_VIEWSTATE_KEY = b"fixture-machine-key"
PHYSICIAN_DEGREES = {"MD", "DO", "MBBS", "MBCHB"}


def as_json(data: Any, status: int = 200, **kw: Any) -> Page:
    return Page(status, json.dumps(data, ensure_ascii=False), JSON, **kw)


def int_arg(query: dict, name: str, default: int) -> int:
    value = (query.get(name) or [str(default)])[0]
    return int(value) if value.lstrip("-").isdigit() else default


def sort_by_id(listings: list[dict]) -> list[dict]:
    return sorted(listings, key=lambda item: item["id"])


def display_without_prefix(listing: dict) -> str:
    name = listing["display_name"]
    prefix = listing.get("prefix")
    return name[len(prefix) :].strip() if prefix and name.startswith(prefix) else name


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


class WebFormsSite(Site):
    """ASP.NET WebForms: a GridView whose pager posts the form back with its view state."""

    find_path = "/Physicians/Directory.aspx"
    page_size = 10
    grid = "ctl00$MainContent$gvPhysicians"

    def routes(self) -> dict:
        return super().routes() | {
            self.find_path: self.directory,
            "/Physicians/Profile.aspx": self.profile_page,
        }

    def record_url(self, listing: dict) -> str:
        return f"{self.base}/Physicians/Profile.aspx?id={listing['id']}"

    def view_state(self, page: int) -> tuple[str, str]:
        state = base64.b64encode(f"/wEPDwUKMTY3|page={page}|{self.site_id}".encode()).decode()
        validation = base64.b64encode(
            hmac.new(_VIEWSTATE_KEY, state.encode(), hashlib.sha256).digest()[:20]
        ).decode()
        return state, validation

    def current_page(self) -> int | None:
        """The page a postback asks for, or None when its view state does not validate."""
        form = self.request.form()
        state, validation = form.get("__VIEWSTATE", ""), form.get("__EVENTVALIDATION", "")
        try:
            shown = int(base64.b64decode(state).decode().split("|")[1].removeprefix("page="))
        except (ValueError, IndexError):
            return None
        if (state, validation) != self.view_state(shown) or form.get("__EVENTTARGET") != self.grid:
            return None
        argument = form.get("__EVENTARGUMENT", "")
        if argument == "Page$Next":
            return shown + 1
        if argument.startswith("Page$") and argument[5:].isdigit():
            return int(argument[5:])
        return None

    def directory(self, path: str, query: dict) -> Page:
        pages = max(1, math.ceil(len(self.listings) / self.page_size))
        page = 1
        if self.request.method == "POST":
            page = self.current_page()
            if page is None or not 1 <= page <= pages:
                return self.server_error()
        people = self.listings[(page - 1) * self.page_size : page * self.page_size]
        rows = "".join(
            f"""<tr><td><a id="MainContent_gvPhysicians_lnkName_{i}"
href="Profile.aspx?id={esc(p["id"])}">{esc(p["display_name"])}</a></td>
<td>{esc(", ".join(p.get("specialties") or []))}</td></tr>"""
            for i, p in enumerate(people)
        )
        pager = []
        for n in range(1, pages + 1):
            if n == page:
                pager.append(f"<td><span>{n}</span></td>")
            else:
                post_back = f"javascript:__doPostBack('{self.grid}','Page${n}')"
                pager.append(f'<td><a href="{post_back}">{n}</a></td>')
        state, validation = self.view_state(page)
        main = f"""<form method="post" action="./Directory.aspx" id="form1">
<div class="aspNetHidden">
<input type="hidden" name="__EVENTTARGET" id="__EVENTTARGET" value="" />
<input type="hidden" name="__EVENTARGUMENT" id="__EVENTARGUMENT" value="" />
<input type="hidden" name="__VIEWSTATE" id="__VIEWSTATE" value="{state}" />
</div>
<script type="text/javascript">
function __doPostBack(eventTarget, eventArgument) {{
    var theForm = document.forms['form1'];
    theForm.__EVENTTARGET.value = eventTarget; theForm.__EVENTARGUMENT.value = eventArgument;
    theForm.submit();
}}
</script>
<div class="aspNetHidden">
<input type="hidden" name="__VIEWSTATEGENERATOR" id="__VIEWSTATEGENERATOR" value="C2EE9ABB" />
<input type="hidden" name="__EVENTVALIDATION" id="__EVENTVALIDATION" value="{validation}" />
</div>
<h1>Physician Directory</h1>
<label>Last name <input name="ctl00$MainContent$txtLastName" type="text" /></label>
<input type="submit" name="ctl00$MainContent$btnSearch" value="Search" />
<table id="MainContent_gvPhysicians" class="grid">
<tr><th>Name</th><th>Specialty</th></tr>
{rows}
<tr class="pager"><td colspan="2"><table><tr>{"".join(pager)}</tr></table></td></tr>
</table>
</form>"""
        return Page(200, self.layout(f"Physician Directory | {self.name}", main))

    def server_error(self) -> Page:
        main = """<h1>Server Error in '/' Application.</h1>
<h2><i>Validation of viewstate MAC failed.</i></h2>"""
        return Page(500, self.layout("Validation of viewstate MAC failed", main))

    def profile_page(self, path: str, query: dict) -> Page:
        listing = self.by_id.get((query.get("id") or [""])[0])
        if listing is None:
            return self.soft_not_found()
        main = f"""<form method="post" action="./Profile.aspx?id={esc(listing["id"])}" id="form1">
<div id="MainContent_pnlProfile" class="profile">
<h1><span id="MainContent_lblName">{esc(listing["display_name"])}</span></h1>
{self.accepting(listing)}{self.facts(listing)}
{self.listing_sections(listing)}
</div></form>"""
        return Page(
            200,
            self.layout(f"{listing['display_name']} | {self.name}", main),
            last_modified=listing_lastmod(listing),
        )


class ProfilesRnsSite(Site):
    """Profiles RNS: a people search API returning ``Profiles[...]`` with faculty data only."""

    find_path = "/profiles/search"
    records_path = "/profiles/api/people"
    page_size = 25

    def routes(self) -> dict:
        return super().routes() | {self.records_path: self.people}

    def dynamic(self, path: str, query: dict) -> Page | None:
        parent, _, ref = path.rpartition("/")
        return self.display(self.by_id[ref]) if parent == "/display" and ref in self.by_id else None

    def record_url(self, listing: dict) -> str:
        return f"{self.base}/display/{listing['id']}"

    def people(self, path: str, query: dict) -> Page:
        count = max(1, min(100, int_arg(query, "count", self.page_size)))
        page = page_number(query)
        people = sort_by_id(self.listings)
        chunk = people[(page - 1) * count : page * count]
        return as_json(
            {
                "TotalCount": len(people),
                "Page": page,
                "Count": count,
                "Profiles": [self.record(p) for p in chunk],
            }
        )

    def record(self, listing: dict) -> dict:
        physician_degree = next(
            (d for d in listing.get("degrees") or [] if d.upper() in PHYSICIAN_DEGREES), "MD"
        )
        degree_for = {
            "medical_school": physician_degree,
            "residency": "Residency",
            "fellowship": "Fellowship",
            "other": "PhD",
        }
        return {
            "PersonID": listing["id"],
            "Name": display_without_prefix(listing),
            "FirstName": listing.get("given_name"),
            "LastName": listing.get("family_name"),
            "ProfilesURL": self.record_url(listing),
            "Title": listing.get("title"),
            "Department": listing.get("department"),
            "Email": f"{listing['id']}@{self.site_id}.example.edu",
            "Narrative": None,
            "Education": [
                {
                    "Institution": e["name"],
                    "Degree": degree_for[e["type"]],
                    "CompletionDate": str(e["year"]) if e.get("year") else None,
                }
                for e in listing.get("education") or []
            ],
            "AwardOrHonors": [],
        }

    def display(self, listing: dict) -> Page:
        main = f"<h1>{esc(listing['display_name'])}</h1><p>{esc(listing.get('title') or '')}</p>"
        return Page(200, self.layout(listing["display_name"], main))


class PureSite(Site):
    """Elsevier Pure: the persons API (with an API key) and the public portal pages."""

    find_path = "/en/persons/"
    records_path = "/ws/api/persons"

    def routes(self) -> dict:
        return super().routes() | {self.records_path: self.persons}

    def dynamic(self, path: str, query: dict) -> Page | None:
        parent, _, ref = path.rpartition("/")
        if parent == "/en/persons" and ref in self.by_id:
            return self.portal_page(self.by_id[ref])
        return None

    def record_url(self, listing: dict) -> str:
        return f"{self.base}/en/persons/{listing['id']}"

    def persons(self, path: str, query: dict) -> Page:
        if self.request.header("api-key") != FIXTURE_API_KEY:
            return as_json({"code": 401, "title": "Unauthorized"}, 401)
        size = max(1, min(100, int_arg(query, "size", 10)))
        offset = max(0, int_arg(query, "offset", 0))
        people = sort_by_id(self.listings)
        return as_json(
            {
                "count": len(people),
                "pageInformation": {"offset": offset, "size": size},
                "items": [self.record(p) for p in people[offset : offset + size]],
            }
        )

    @staticmethod
    def localized(text: str | None) -> dict | None:
        return {"formatted": False, "text": [{"locale": "en_US", "value": text}]} if text else None

    def record(self, listing: dict) -> dict:
        return {
            "pureId": abs(hash(listing["id"])) % 10**8,
            "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, self.site_id + listing["id"])),
            "name": {
                "firstName": listing.get("given_name"),
                "lastName": listing.get("family_name"),
            },
            "titles": [
                {
                    "value": self.localized(listing.get("title")),
                    "type": {"uri": "/dk/atira/pure/person/titles/designation"},
                }
            ]
            if listing.get("title")
            else [],
            "staffOrganizationAssociations": [
                {
                    "organisationalUnit": {"name": self.localized(listing.get("department"))},
                    "jobTitle": self.localized("Faculty"),
                }
            ]
            if listing.get("department")
            else [],
            "orcid": None,
            "portalUrl": self.record_url(listing),
        }

    def portal_page(self, listing: dict) -> Page:
        clinical = ""
        if listing.get("is_physician", True):
            clinical = self.listing_sections(
                {**listing, "education": []}, specialty_heading="Clinical Specialties"
            )
        education = self.listing_sections(
            {"education": listing.get("education") or []}
        )  # Education only
        main = f"""<section class="person-details">
<h1>{esc(listing["display_name"])}</h1>
<p class="rendering_person_title">{esc(listing.get("title") or "")}</p>
<p class="organisations">{esc(listing.get("department") or "")}</p>
{self.facts(listing)}{self.accepting(listing) if listing.get("is_physician", True) else ""}
</section>
{education}
{clinical}"""
        return Page(
            200,
            self.layout(f"{listing['display_name']} — {self.name}", main),
            last_modified=listing_lastmod(listing),
        )


class VivoSite(Site):
    """VIVO: people as a JSON-LD ``@graph`` of foaf/vcard/vivo-core nodes, paged."""

    find_path = "/people"
    records_path = "/vivo/api/people.jsonld"
    page_size = 15
    context: ClassVar[dict[str, str]] = {
        "foaf": "http://xmlns.com/foaf/0.1/",
        "vivo": "http://vivoweb.org/ontology/core#",
        "vcard": "http://www.w3.org/2006/vcard/ns#",
        "obo": "http://purl.obolibrary.org/obo/",
        "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    }

    def routes(self) -> dict:
        return super().routes() | {self.records_path: self.people}

    def dynamic(self, path: str, query: dict) -> Page | None:
        parent, _, ref = path.rpartition("/")
        if parent == "/individual" and ref in self.by_id:
            return self.individual(self.by_id[ref])
        return None

    def record_url(self, listing: dict) -> str:
        return f"{self.base}/individual/{listing['id']}"

    def people(self, path: str, query: dict) -> Page:
        page = page_number(query)
        people = sort_by_id(self.listings)
        chunk = people[(page - 1) * self.page_size : page * self.page_size]
        graph = [node for p in chunk for node in self.nodes(p)]
        data: dict[str, Any] = {"@context": self.context, "@graph": graph}
        if page * self.page_size < len(people):
            data["next"] = f"{self.base}{self.records_path}?{urlencode({'page': page + 1})}"
        return Page(200, json.dumps(data, ensure_ascii=False), "application/ld+json")

    def nodes(self, listing: dict) -> list[dict]:
        me = self.record_url(listing)
        types = ["foaf:Person", "vivo:FacultyMember"]
        card, name, title = me + "/vcard", me + "/vcard-name", me + "/vcard-title"
        nodes: list[dict] = [
            {
                "@id": card,
                "@type": "vcard:Individual",
                "vcard:hasName": {"@id": name},
                **({"vcard:hasTitle": {"@id": title}} if listing.get("title") else {}),
            },
            {
                "@id": name,
                "@type": "vcard:Name",
                "vcard:givenName": listing.get("given_name"),
                "vcard:familyName": listing.get("family_name"),
                **(
                    {"vivo:middleName": listing["additional_name"]}
                    if listing.get("additional_name")
                    else {}
                ),
            },
        ]
        if listing.get("title"):
            nodes.append({"@id": title, "@type": "vcard:Title", "vcard:title": listing["title"]})
        related = []
        if listing.get("department"):
            position, dept = me + "/position", me + "/position-org"
            related.append({"@id": position})
            nodes += [
                {
                    "@id": position,
                    "@type": "vivo:FacultyPosition",
                    "rdfs:label": listing.get("title") or "Faculty",
                    "vivo:relates": [{"@id": dept}],
                },
                {
                    "@id": dept,
                    "@type": "vivo:AcademicDepartment",
                    "rdfs:label": listing["department"],
                },
            ]
        trainings = []
        for i, entry in enumerate(listing.get("education") or []):
            node_id = f"{me}/training-{i}"
            trainings.append({"@id": node_id})
            nodes.append(
                {
                    "@id": node_id,
                    "@type": "vivo:EducationalProcess",
                    "vivo:supplementalInformation": EDUCATION_HEADINGS[entry["type"]],
                    "obo:RO_0000057": {"@type": "foaf:Organization", "rdfs:label": entry["name"]},
                    **(
                        {
                            "vivo:dateTimeInterval": {
                                "vivo:end": {"vivo:dateTime": f"{entry['year']}-06-30T00:00:00"}
                            }
                        }
                        if entry.get("year")
                        else {}
                    ),
                }
            )
        person = {
            "@id": me,
            "@type": types,
            "rdfs:label": f"{listing.get('family_name')}, {listing.get('given_name')}",
            "obo:ARG_2000028": {"@id": card},
            "vivo:relatedBy": related,
            "obo:RO_0000056": trainings,
            "vivo:degreeAbbreviations": ", ".join(listing.get("degrees") or []),
        }
        return [person, *nodes]

    def individual(self, listing: dict) -> Page:
        main = f"<h1>{esc(listing['display_name'])}</h1>"
        return Page(200, self.layout(listing["display_name"], main))


PLATFORM_SHAPES: dict[str, type[Site]] = {
    "kyruus_api": KyruusApiSite,
    "yext_api": YextApiSite,
    "solr_api": SolrApiSite,
    "algolia_api": AlgoliaApiSite,
    "webforms": WebFormsSite,
    "profiles_rns": ProfilesRnsSite,
    "pure": PureSite,
    "vivo": VivoSite,
}
# Where a registry entry starts each platform's crawl (path on the site).
START_PATHS = {
    "kyruus_api": "/pm/v8/{site_id}/providers",
    "yext_api": "/v2/accounts/me/entities",
    "solr_api": "/solr/providers/select",
    "algolia_api": "/1/indexes/{site_id}_providers/query",
    "webforms": "/Physicians/Directory.aspx",
    "profiles_rns": "/profiles/api/people",
    "pure": "/ws/api/persons",
    "vivo": "/vivo/api/people.jsonld",
}
__all__ = [
    "FIXTURE_API_KEY",
    "FIXTURE_CLIENT_ID",
    "FIXTURE_CLIENT_SECRET",
    "PLATFORM_SHAPES",
    "START_PATHS",
    "TEXT",
]
