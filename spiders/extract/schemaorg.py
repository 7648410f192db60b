"""schema.org Person/Physician nodes -> listing fields, shared by the JSON-LD and microdata readers.

Both readers turn a page into plain dicts shaped like JSON-LD (``{"@type": ..., "name": ...}``);
everything below works on those dicts, so a site's markup syntax never matters.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from typing import Any

from spiders.extract.text import (
    clean_text,
    degrees_from_suffix,
    education_type,
    parse_certification,
    split_display_name,
    unique,
    year_in,
)

# Lower rank wins. Since schema.org v24 Physician is an organization type and the person is an
# IndividualPhysician, but many sites still describe the person as a Physician.
PERSON_TYPES = {"IndividualPhysician": 0, "Physician": 1, "Person": 2}
# Person nodes are everywhere (page authors, reviewers); only these properties mark a listing.
_LISTING_HINTS = (
    "jobTitle", "honorificSuffix", "medicalSpecialty", "hasCredential", "alumniOf", "worksFor",
    "affiliation", "hospitalAffiliation", "usNPI", "givenName", "familyName",
)  # fmt: skip
# Nested properties that can hold the listed person (ProfilePage.mainEntity, Hospital.employee).
NESTED_KEYS = (
    "@graph", "mainEntity", "employee", "employees", "member", "members", "itemListElement", "item",
)  # fmt: skip

# schema.org MedicalSpecialty enumeration members -> the label a directory would print.
SPECIALTY_LABELS = {
    "Anesthesia": "Anesthesiology",
    "Cardiovascular": "Cardiology",
    "CommunityHealth": "Community Health",
    "DietNutrition": "Nutrition",
    "Emergency": "Emergency Medicine",
    "Endocrine": "Endocrinology",
    "Gastroenterologic": "Gastroenterology",
    "Genetic": "Medical Genetics",
    "Geriatric": "Geriatrics",
    "Gynecologic": "Gynecology",
    "Hematologic": "Hematology",
    "Infectious": "Infectious Disease",
    "LaboratoryScience": "Laboratory Medicine",
    "Neurologic": "Neurology",
    "Obstetric": "Obstetrics",
    "Oncologic": "Oncology",
    "Optometric": "Optometry",
    "Otolaryngologic": "Otolaryngology",
    "Pediatric": "Pediatrics",
    "PharmacySpecialty": "Pharmacy",
    "Physiotherapy": "Physical Therapy",
    "PlasticSurgery": "Plastic Surgery",
    "Podiatric": "Podiatry",
    "PrimaryCare": "Primary Care",
    "Psychiatric": "Psychiatry",
    "PublicHealth": "Public Health",
    "Pulmonary": "Pulmonology",
    "Radiography": "Radiology",
    "Renal": "Nephrology",
    "Rheumatologic": "Rheumatology",
    "Surgical": "Surgery",
    "Toxicologic": "Toxicology",
    "Urologic": "Urology",
}
_SCHEMA_URL = re.compile(r"^https?://(?:www\.)?schema\.org/", re.I)
_DEPARTMENT = re.compile(r"^(department|dept\.?|division|section|school|center) (of|for)\b", re.I)


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def types_of(node: dict) -> set[str]:
    """{'Physician', 'Person'} from '@type' given as a string, a list or full schema.org URLs."""
    return {_type_name(str(t)) for t in as_list(node.get("@type"))}


@functools.lru_cache(maxsize=1024)  # a site uses a handful of type names on every page
def _type_name(value: str) -> str:
    return _SCHEMA_URL.sub("", value)


def flatten(data: Any) -> Iterator[dict]:
    """Every typed node in a JSON-LD document: top level, @graph, lists, mainEntity, employee...

    Depth first, in document order; with a stack of its own, since a page's nesting depth is
    the page's to choose and must not reach Python's recursion limit.
    """
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(reversed(value))
        elif isinstance(value, dict):
            if "@type" in value:
                yield value
            stack.extend(value[key] for key in reversed(NESTED_KEYS) if key in value)


def text_of(value: Any) -> str | None:
    """A property's text: a string, the first of a list, or a nested thing's name."""
    # Called some thirty times per profile page, mostly with a string or nothing.
    if value is None:
        return None
    if isinstance(value, str):
        return clean_text(value)
    for item in as_list(value):
        if isinstance(item, dict):
            item = item.get("name") or item.get("@value") or item.get("value")
        if text := clean_text(item):
            return text
    return None


def names_of(value: Any) -> list[str]:
    if value is None:
        return []
    return unique(text_of(v) for v in as_list(value))


def find_person(nodes: Iterable[dict], hint: str | None = None) -> dict | None:
    """The listed person among a page's nodes, preferring IndividualPhysician > Physician > Person
    and, among equals, the node whose name appears in ``hint`` (the page's h1)."""
    hint = (hint or "").casefold()
    best, best_key = None, None
    for position, node in enumerate(nodes):
        ranks = [PERSON_TYPES[t] for t in types_of(node) if t in PERSON_TYPES]
        if not ranks or not (node.get("name") or node.get("familyName")):
            continue
        if min(ranks) == PERSON_TYPES["Person"] and not any(k in node for k in _LISTING_HINTS):
            continue
        name = (text_of(node.get("name")) or "").casefold()
        key = (min(ranks), not (name and name in hint), position)
        if best_key is None or key < best_key:
            best, best_key = node, key
    return best


def specialty_label(value: Any) -> str | None:
    """'Cardiology', 'https://schema.org/Cardiovascular' or {'name': ...} -> a label."""
    if isinstance(value, dict):
        value = value.get("name") or value.get("@id") or value.get("url")
    text = clean_text(value)
    if text and _SCHEMA_URL.match(text):
        member = _SCHEMA_URL.sub("", text).strip("/")
        return SPECIALTY_LABELS.get(member) or re.sub(r"(?<=[a-z])(?=[A-Z])", " ", member)
    return text


def credentials(values: Any) -> tuple[list[dict], list[str]]:
    """hasCredential (text or EducationalOccupationalCredential) -> (certifications, degrees)."""
    certs, degrees = [], []
    for value in as_list(values):
        if not isinstance(value, dict):
            if cert := parse_certification(value):
                certs.append(cert)
            continue
        category = (text_of(value.get("credentialCategory")) or "").lower()
        name = text_of(value.get("name"))
        board = text_of(value.get("recognizedBy"))
        if "degree" in category:
            degrees.extend(degrees_from_suffix(name) or ([name] if name else []))
        elif name or board:
            parsed = parse_certification(name) if name and not board else None
            certs.append(parsed or {"board": board, "certificate": name})
    return certs, degrees


def education(values: Any) -> list[dict]:
    """alumniOf: plain organizations, or OrganizationRole wrappers carrying roleName and dates."""
    out = []
    for value in as_list(values):
        if isinstance(value, dict) and types_of(value) & {"Role", "OrganizationRole"}:
            name = text_of(value.get("alumniOf"))
            label = text_of(value.get("roleName"))
            year = year_in(text_of(value.get("endDate")) or text_of(value.get("startDate")))
        else:
            name, label, year = text_of(value), None, None
        if name:
            out.append({"type": education_type(label, name), "name": name, "year": year})
    return out


def locations(node: dict) -> list[dict]:
    """address (PostalAddress, list or text) and places (workLocation...) -> location dicts."""
    found = []
    places = [p for k in ("workLocation", "location", "practicesAt") for p in as_list(node.get(k))]
    for place in places:
        if isinstance(place, dict):
            for address in as_list(place.get("address")) or [{}]:
                found.append((place, address))
    found += [({}, address) for address in as_list(node.get("address"))]
    out = []
    for place, address in found:
        if isinstance(address, str):
            address = {"streetAddress": address}
        elif not isinstance(address, dict):  # a number or a list where an address belongs
            continue
        out.append(
            {
                "name": text_of(address.get("name")) or text_of(place.get("name")),
                "street": text_of(address.get("streetAddress")),
                "city": text_of(address.get("addressLocality")),
                "state": text_of(address.get("addressRegion")),
                "zip": text_of(address.get("postalCode")),
                "phone": text_of(address.get("telephone")) or text_of(place.get("telephone")),
            }
        )
    if len(out) == 1 and not out[0]["phone"]:
        out[0]["phone"] = text_of(node.get("telephone"))
    return out


def npi_of(node: dict) -> str | None:
    if npi := text_of(node.get("usNPI")):
        return npi
    for ident in as_list(node.get("identifier")):
        if isinstance(ident, dict) and "npi" in (text_of(ident.get("propertyID")) or "").lower():
            return text_of(ident.get("value"))
    return None


def accepting(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = (text_of(value) or "").lower().removeprefix("https://schema.org/")
    return {"true": True, "yes": True, "false": False, "no": False}.get(text)


def gender(value: Any) -> str | None:
    text = text_of(value)
    return _SCHEMA_URL.sub("", text).lower() if text else None


def person_fields(node: dict) -> dict[str, Any]:
    """Map one schema.org person node to listing-item fields (see spiders/items.py)."""
    listed = text_of(node.get("name"))
    parts = [text_of(node.get(k)) for k in ("givenName", "additionalName", "familyName")]
    name = listed or " ".join(p for p in parts if p) or None
    from_name = split_display_name(name)  # "Dr. Jane Doe, MD" carries prefix and degrees
    suffix = text_of(node.get("honorificSuffix")) or from_name["honorific_suffix"]
    certs, credential_degrees = credentials(node.get("hasCredential"))
    works_for = names_of(node.get("worksFor"))
    departments = [n for n in works_for if _DEPARTMENT.match(n)]
    return {
        "name": name,
        "given_name": parts[0],
        "additional_name": parts[1],
        "family_name": parts[2],
        "honorific_prefix": text_of(node.get("honorificPrefix")) or from_name["honorific_prefix"],
        "honorific_suffix": suffix,
        "degrees": unique(degrees_from_suffix(suffix) + credential_degrees),
        "job_title": text_of(node.get("jobTitle")),
        "department": text_of(node.get("department")) or (departments[0] if departments else None),
        "specialties": unique(specialty_label(v) for v in as_list(node.get("medicalSpecialty"))),
        "board_certifications": unique(certs),
        "npi": npi_of(node),
        "gender": gender(node.get("gender")),
        "languages": names_of(node.get("knowsLanguage")),
        "accepting_new_patients": accepting(node.get("isAcceptingNewPatients")),
        "education": unique(education(node.get("alumniOf"))),
        "locations": unique(locations(node)),
        "affiliations": unique(
            names_of(node.get("hospitalAffiliation"))
            + names_of(node.get("affiliation"))
            + [n for n in works_for if n not in departments]
        ),
        "extras": {
            k: v
            for k, v in {
                "url": text_of(node.get("url")),
                "same_as": names_of(node.get("sameAs")),
                "member_of": names_of(node.get("memberOf")),
                "types": sorted(types_of(node)),
            }.items()
            if v
        },
    }
