"""Faculty research-profile systems: Profiles RNS people JSON, Elsevier Pure persons API plus
portal pages, VIVO JSON-LD graphs."""

from __future__ import annotations

import json
import uuid
from typing import Any, ClassVar
from urllib.parse import urlencode

from pipeline.demo.platforms.common import (
    FIXTURE_API_KEY,
    PHYSICIAN_DEGREES,
    as_json,
    display_without_prefix,
    int_arg,
    sort_by_id,
)
from pipeline.demo.site import (
    EDUCATION_HEADINGS,
    Page,
    Site,
    esc,
    listing_lastmod,
    page_number,
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
