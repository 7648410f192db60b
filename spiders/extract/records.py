"""JSON API records (Kyruus, Yext, Solr, Algolia, Profiles RNS ...) -> listing-item fields.

One parser for every vendor: keys are compared with case, ``_``, ``-`` and ``.`` ignored, nested
objects are also reachable by their joined path (``name.first`` -> ``namefirst``), and each field
is read from the first key variant present. A vendor whose record needs more than that gets a
small ``pre_process_record`` hook in its spider, never a copy of this parser.

>>> record_fields({"name": {"first": "Jane", "last": "Doe"}, "degrees": [{"name": "MD"}]})["name"]
'Jane Doe'
"""

from __future__ import annotations

import re
from typing import Any

from spiders.extract.text import (
    clean_text,
    degrees_from_suffix,
    education_type,
    parse_certification,
    split_display_name,
    split_list,
    unique,
    year_in,
)

KEYS: dict[str, tuple[str, ...]] = {
    "name": ("namefull", "fullname", "displayname", "name", "label", "formattedname"),
    "given_name": ("namefirst", "namefirstname", "firstname", "first", "givenname"),
    "additional_name": ("namemiddle", "middlename", "middle", "additionalname", "middleinitial"),
    "family_name": ("namelast", "namelastname", "lastname", "last", "familyname", "surname"),
    "honorific_prefix": ("prefix", "honorificprefix", "nameprefix"),
    "npi": ("npi", "usnpi", "npinumber", "nationalproviderid"),
    "gender": ("gender", "sex"),
    "degrees": ("degrees", "credentials", "credential", "degree", "namesuffix", "suffix"),
    "specialties": (
        "specialties", "specialty", "clinicalspecialties", "specialtynames", "primaryspecialty",
    ),
    "board_certifications": (
        "boardcertifications", "certifications", "boardcertification", "boardcertified",
    ),
    "education": ("training", "education", "educationlist", "educations", "trainings"),
    "languages": ("languages", "languagesspoken", "knowslanguage", "spokenlanguages"),
    "accepting_new_patients": (
        "acceptingnewpatients", "acceptsnewpatients", "newpatients", "isacceptingnewpatients",
    ),
    "affiliations": (
        "networkaffiliations", "hospitalaffiliations", "admittinghospitals", "affiliations",
        "hospitals",
    ),
    "job_title": ("academictitle", "title", "jobtitle", "cacademictitle", "position"),
    "department": ("departmentname", "department", "cdepartment", "division"),
    "locations": ("locations", "offices", "practicelocations", "clinics"),
}  # fmt: skip
REF_KEYS = ("id", "objectid", "metaid", "personid", "providerid", "uuid", "npi")
_LOCATION_KEYS = {
    "name": ("name", "locationname", "practicename", "officename", "facilityname"),
    "street": (
        "street1", "street", "address1", "addressline1", "line1", "streetaddress",
        "addressstreet1", "addressstreet",
    ),
    "city": ("city", "addresscity", "locality", "addresslocality"),
    "state": ("state", "region", "addressregion", "addressstate", "statecode"),
    "zip": ("zip", "postalcode", "zipcode", "addresspostalcode", "addresszip"),
    "phone": ("phone", "mainphone", "telephone", "phonenumber", "officephone"),
}  # fmt: skip
_EDUCATION_KEYS = {
    "type": ("type", "educationtype", "kind", "degree", "category"),
    "name": ("name", "institution", "institutionname", "school", "organization", "schoolname"),
    "year": ("graduationyear", "year", "yearcompleted", "endyear", "completiondate", "enddate"),
}
_CERT_KEYS = {
    "board": ("boardname", "board", "certifyingboard", "certifyingbody"),
    "certificate": ("specialtyname", "certificate", "certification", "specialty", "name"),
}
_TEXT_KEYS = ("name", "value", "language", "label", "text", "displayname")


def norm(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


def flatten_keys(record: dict, prefix: str = "") -> dict[str, Any]:
    """{"name": {"first": "Jane"}} -> {"name": {...}, "namefirst": "Jane"}; first key wins."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        joined = prefix + norm(str(key))
        out.setdefault(joined, value)
        if isinstance(value, dict):
            for sub_key, sub_value in flatten_keys(value, joined).items():
                out.setdefault(sub_key, sub_value)
    return out


def first(flat: dict[str, Any], keys: tuple[str, ...], *, text: bool = False) -> Any:
    for key in keys:
        value = flat.get(key)
        if value in (None, "", [], {}):
            continue
        if text and not isinstance(value, str | int | float):
            continue
        return value
    return None


def texts(value: Any) -> list[str]:
    """A list of labels from strings, {name: ...} objects or a comma-separated string."""
    if value is None:
        return []
    if isinstance(value, str):
        return split_list(value)
    out = []
    for entry in value if isinstance(value, list) else [value]:
        if isinstance(entry, dict):
            entry = first(flatten_keys(entry), _TEXT_KEYS, text=True)
        out.append(clean_text(entry))
    return unique(out)


def degrees_of(value: Any) -> list[str]:
    return unique(d for label in texts(value) for d in (degrees_from_suffix(label) or [label]))


def certifications(value: Any) -> list[dict]:
    out = []
    for entry in value if isinstance(value, list) else [value] if value else []:
        if isinstance(entry, dict):
            flat = flatten_keys(entry)
            out.append(
                {
                    "board": clean_text(first(flat, _CERT_KEYS["board"], text=True)),
                    "certificate": clean_text(first(flat, _CERT_KEYS["certificate"], text=True)),
                }
            )
        else:
            out.append(parse_certification(entry))
    return unique(out)


def education(entries: list[dict]) -> list[dict]:
    out = []
    for entry in entries:
        flat = flatten_keys(entry)
        name = clean_text(first(flat, _EDUCATION_KEYS["name"], text=True))
        if not name:
            continue
        label = clean_text(str(first(flat, _EDUCATION_KEYS["type"], text=True) or ""))
        year = first(flat, _EDUCATION_KEYS["year"], text=True)
        out.append(
            {
                "type": education_type((label or "").replace("_", " ") or None, name),
                "name": name,
                "year": year_in(str(year)) if year else None,
            }
        )
    return unique(out)


def locations(entries: list[dict]) -> list[dict]:
    out = []
    for entry in entries:
        flat = flatten_keys(entry)
        place = {
            field: clean_text(first(flat, keys, text=True))
            for field, keys in _LOCATION_KEYS.items()
        }
        out.append(place)
    return unique(out)


def parallel(flat: dict[str, Any], prefix: str, fields: dict[str, tuple[str, ...]]) -> list[dict]:
    """Solr-style parallel multi-valued fields (location_city[i] ...) -> one dict per entry."""
    columns = {
        field: value
        for field, keys in fields.items()
        if isinstance(value := first(flat, tuple(prefix + k for k in keys)), list)
    }
    size = max((len(v) for v in columns.values()), default=0)
    return [
        {f: (v[i] if i < len(v) else None) or None for f, v in columns.items()} for i in range(size)
    ]


def boolean(value: Any) -> bool | None:
    if isinstance(value, bool) or value is None:
        return value
    return {"true": True, "yes": True, "y": True, "1": True, "false": False, "no": False,
            "n": False, "0": False}.get(str(value).strip().lower())  # fmt: skip


def record_ref(record: dict) -> str | None:
    value = first(flatten_keys(record), REF_KEYS, text=True)
    return str(value) if value is not None else None


def record_fields(record: dict) -> dict[str, Any]:
    """Listing-item fields guessed from one API record."""
    flat = flatten_keys(record)
    name = clean_text(first(flat, KEYS["name"], text=True))
    parts = [clean_text(first(flat, KEYS[k], text=True)) for k in
             ("given_name", "additional_name", "family_name")]  # fmt: skip
    if not name:
        name = " ".join(p for p in parts if p) or None
    raw_education = first(flat, KEYS["education"])
    raw_locations = first(flat, KEYS["locations"])
    if raw_education is None:
        raw_education = parallel(flat, "education", _EDUCATION_KEYS)
    if raw_locations is None:
        raw_locations = parallel(flat, "location", _LOCATION_KEYS)
    # Profiles RNS and others print credentials only after the name ("Jane Doe, MD").
    degrees = degrees_of(first(flat, KEYS["degrees"])) or split_display_name(name)["degrees"]
    npi = first(flat, KEYS["npi"], text=True)
    gender = clean_text(first(flat, KEYS["gender"], text=True))
    return {
        "name": name,
        "given_name": parts[0],
        "additional_name": parts[1],
        "family_name": parts[2],
        "honorific_prefix": clean_text(first(flat, KEYS["honorific_prefix"], text=True)),
        "honorific_suffix": ", ".join(degrees) or None,
        "degrees": degrees,
        "job_title": clean_text(first(flat, KEYS["job_title"], text=True)),
        "department": clean_text(first(flat, KEYS["department"], text=True)),
        "specialties": texts(first(flat, KEYS["specialties"])),
        "board_certifications": certifications(first(flat, KEYS["board_certifications"])),
        "npi": str(npi) if npi is not None else None,
        "gender": gender.lower() if gender else None,
        "languages": texts(first(flat, KEYS["languages"])),
        "accepting_new_patients": boolean(first(flat, KEYS["accepting_new_patients"])),
        "education": education([e for e in raw_education or [] if isinstance(e, dict)]),
        "locations": locations([e for e in raw_locations or [] if isinstance(e, dict)]),
        "affiliations": texts(first(flat, KEYS["affiliations"])),
        "extras": {},
    }
