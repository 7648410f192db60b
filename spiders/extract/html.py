"""Server-rendered profiles without structured data: read heading-labelled sections.

Directories print a doctor as a name in ``<h1>`` followed by sections such as "Specialties",
"Board Certifications", "Education" (with "Medical School"/"Residency"/"Fellowship"
sub-headings), "Languages" and "Locations" (address blocks with ``tel:`` links). A section is a
heading (or a ``<dt>``) and the siblings after it up to the next heading of the same level.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator
from typing import Any

from parsel import Selector

from spiders.extract.text import (
    clean_text,
    degrees_from_suffix,
    education_type,
    parse_certification,
    parse_city_state_zip,
    split_display_name,
    split_list,
    strip_year,
    unique,
    year_in,
)
from spiders.extract.xpaths import BODY_TEXT, TITLE_TEXT, selector_of

# Section heading text (lower case, "&" read as "and") -> item field.
SECTION_ALIASES = {
    "specialties": (
        "specialties", "specialty", "clinical specialties", "medical specialties",
        "areas of specialty", "specialty areas",
    ),
    "board_certifications": (
        "board certifications", "board certification", "certifications", "board certified",
    ),
    "education": (
        "education", "education and training", "training", "medical education",
        "education and residency",
    ),
    "languages": ("languages", "languages spoken", "language", "spoken languages"),
    "affiliations": ("hospital affiliations", "affiliations", "affiliated hospitals"),
    "locations": (
        "locations", "location", "office locations", "practice locations", "clinic locations",
        "offices", "where i practice",
    ),
}  # fmt: skip
# Fields read from labelled facts (<dt>/<dd>, "<strong>NPI:</strong> ...").
_FACT_FIELDS = ("degrees", "job_title", "department", "specialties", "npi", "gender", "languages")
_FIELD_FOR_HEADING = {
    alias: field for field, aliases in SECTION_ALIASES.items() for alias in aliases
}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BLOCKS = {"p", "li", "dd", "div", "address", "tr", "section", "article", "ul", "ol", "dl"}
_EDUCATION_LABEL = re.compile(
    r"^(medical school|medical degree|residency|internship|fellowship|education|degree)\s*:\s*",
    re.I,
)
_NPI = re.compile(r"\bNPI\b\D{0,20}?(\d{10})\b")
_NOT_ACCEPTING = re.compile(r"\bnot (currently )?accepting new patients\b", re.I)
_ACCEPTING = re.compile(r"\b(currently )?accepting new patients\b", re.I)
_TRAILING_COLON = re.compile(r"[\s:]+$")


def heading_key(text: str | None) -> str:
    return _TRAILING_COLON.sub("", (clean_text(text) or "").lower().replace("&", "and"))


def lines(element: Any) -> list[str]:
    """The element's text split at ``<br>`` and block boundaries, cleaned."""
    parts: list[str] = []

    def walk(el: Any) -> None:
        if not isinstance(el.tag, str):  # comments, processing instructions
            return
        if el.tag in _BLOCKS:
            parts.append("\n")
        if el.tag == "br":
            parts.append("\n")
        parts.append(el.text or "")
        for child in el:
            walk(child)
            parts.append(child.tail or "")
        if el.tag in _BLOCKS:
            parts.append("\n")

    walk(element)
    return [t for t in (clean_text(line) for line in "".join(parts).split("\n")) if t]


def text(element: Any) -> str | None:
    if not len(element) and isinstance(element.tag, str):  # a leaf: its text is all there is
        return clean_text(element.text)
    return clean_text(" ".join(lines(element)))


def sections(root: Any) -> dict[str, list[Any]]:
    """field -> content elements, for every recognised heading-labelled section."""
    found: dict[str, list[Any]] = {}
    for el in root.iter(*_HEADINGS, "dt"):
        field = _FIELD_FOR_HEADING.get(heading_key(text(el)))
        if not field or field in found:
            continue
        content = []
        for sibling in el.itersiblings():
            if not isinstance(sibling.tag, str):
                continue
            if el.tag == "dt" and sibling.tag == "dt":
                break
            level = _HEADINGS.get(sibling.tag)
            if level and el.tag != "dt" and level <= _HEADINGS[el.tag]:
                break
            content.append(sibling)
        found[field] = content
    return found


def list_values(content: list[Any]) -> list[str]:
    """List items, else the lines of each block split at commas/semicolons."""
    items = [li for node in content for li in node.iter("li")]
    if items:
        return unique(text(li) for li in items)
    return unique(value for node in content for line in lines(node) for value in split_list(line))


def walk(content: list[Any]) -> Iterator[Any]:
    for node in content:
        yield from (el for el in node.iter() if isinstance(el.tag, str))


def is_subheading(el: Any) -> bool:
    """h3-h6 and <dt>, or a <strong> standing alone as its block's whole text."""
    if el.tag in ("h3", "h4", "h5", "h6", "dt"):
        return True
    parent = el.getparent()
    return el.tag in ("strong", "b") and parent is not None and text(parent) == text(el)


def education(content: list[Any]) -> list[dict]:
    """Entries under sub-headings ("Residency") or inline labels ("Residency: X, 2007")."""
    out, label = [], None
    for el in walk(content):
        if is_subheading(el):
            label = text(el)
            continue
        if el.tag not in ("p", "li", "dd") or any(c.tag in ("p", "li") for c in el):
            continue
        for line in lines(el):
            entry_label = label
            if match := _EDUCATION_LABEL.match(line):
                entry_label, line = match.group(1), line[match.end() :]
            name = strip_year(line)
            if name and re.search(r"[A-Za-z]{3}", name):
                kind = education_type(entry_label, name)
                out.append({"type": kind, "name": name, "year": year_in(line)})
    return out


def phone_of(link: Any) -> str | None:
    shown = text(link)
    if shown and re.search(r"\d{3}.*\d{4}", shown):
        return shown
    return clean_text(link.get("href", "").removeprefix("tel:")) or None


def address(address_lines: list[str], name: str | None) -> dict[str, Any]:
    address_lines = [line for line in address_lines if line != name]
    place = {"name": name, **dict.fromkeys(("street", "city", "state", "zip", "phone"))}
    for i in range(len(address_lines) - 1, -1, -1):
        if parsed := parse_city_state_zip(address_lines[i]):
            place.update(parsed)
            street_lines = address_lines[:i]
            # A leading line without digits is the practice name, not the street.
            if street_lines and not place["name"] and not re.search(r"\d", street_lines[0]):
                place["name"] = street_lines.pop(0)
            place["street"] = ", ".join(street_lines) or None
            break
    else:
        place["street"] = ", ".join(address_lines) or None
    return place


def locations(content: list[Any]) -> list[dict]:
    """Address blocks in order; a sub-heading names the next block, a tel: link phones the last."""
    out: list[dict] = []
    pending_name = None
    for el in walk(content):
        if is_subheading(el) and not any(el.iterancestors("address")):
            pending_name = text(el)
        elif el.tag == "address":
            out.append(address(lines(el), pending_name))
            pending_name = None
        elif el.tag == "a" and el.get("href", "").startswith("tel:"):
            if out and not out[-1]["phone"] and pending_name is None:
                out[-1]["phone"] = phone_of(el)
            else:
                out.append(address([], pending_name) | {"phone": phone_of(el)})
                pending_name = None
    return out


def facts(root: Any) -> dict[str, str]:
    """Labelled facts: ``<dt>Gender</dt><dd>Female</dd>``, ``<strong>NPI:</strong> 123`` and an
    element classed as a label followed by its value."""
    out: dict[str, str] = {}
    for dt in root.iter("dt"):
        dd = dt.getnext()
        if dd is not None and dd.tag == "dd":
            out.setdefault(heading_key(text(dt)), text(dd) or "")
    for label in root.iter("strong", "b", "th"):
        parent = label.getparent()
        whole = text(parent) or ""
        key = heading_key(text(label))
        if key and whole.lower().startswith(key) and (value := whole[len(key) :].lstrip(": ")):
            out.setdefault(key, value)
    # <div class="field__label">Credentials</div><div class="field__items">DPhil</div>
    for label in root.xpath("//*[contains(@class, 'label')]"):
        value = label.getnext()
        key = heading_key(text(label))
        if value is not None and key and len(key.split()) <= 4:
            out.setdefault(key, text(value) or "")
    return out


# Labels of a fact that lists post-nominal credentials: "Credentials", "Degree(s)",
# "Professional Designations", "Post-nominals".
_CREDENTIALS_LABEL = re.compile(r"\b(credentials?|degrees?|designations?|post-?nominals?)\b")


def labelled_credentials(known: dict[str, str]) -> list[str]:
    """The credentials of the first fact labelled as such whose value reads as credentials
    ("Degree(s): DNP, APRN"; not "Degrees: Medical School, 2013")."""
    for label, value in known.items():
        if _CREDENTIALS_LABEL.search(label) and (found := degrees_from_suffix(value)):
            return found
    return []


def extract_html(response: Selector | Any, wanted: Collection[str] | None = None) -> dict[str, Any]:
    """Listing fields from headings, sections and labelled facts; name from h1 or <title>.

    ``wanted``: only these fields are needed (the rest come back empty) — filling the gaps of a
    structured-data listing need not read every section of the page.
    """
    want = (lambda _field: True) if wanted is None else wanted.__contains__
    root = selector_of(response).root
    h1 = next(iter(root.iter("h1")), None)
    listed = text(h1) if h1 is not None else None
    if not listed:
        title = clean_text(" ".join(TITLE_TEXT(root)))
        listed = clean_text(title.split("|")[0]) if title else None
    # The listed name's prefix, suffix and degrees; a gap-filling call rarely needs them.
    name_parts = ("honorific_prefix", "honorific_suffix", "degrees")
    name = split_display_name(listed if any(map(want, name_parts)) else None)
    found = sections(root) if any(map(want, SECTION_ALIASES)) else {}
    known = facts(root) if any(map(want, _FACT_FIELDS)) else {}
    npi, accepting = known.get("npi"), None
    if (want("npi") and not npi) or want("accepting_new_patients"):
        page_text = " ".join(BODY_TEXT(root))
        npi = npi or (m.group(1) if (m := _NPI.search(page_text)) else None)
        if _NOT_ACCEPTING.search(page_text):
            accepting = False
        elif _ACCEPTING.search(page_text):
            accepting = True

    def section(field: str, read: Callable[[list[Any]], Any]) -> Any:
        return read(found.get(field, [])) if want(field) else []

    return {
        "name": listed,
        "honorific_prefix": name["honorific_prefix"],
        "honorific_suffix": name["honorific_suffix"],
        "degrees": unique(name["degrees"] + labelled_credentials(known)),
        "job_title": known.get("title") or known.get("academic title") or known.get("position"),
        "department": known.get("department"),
        "specialties": section("specialties", list_values)
        or split_list(known.get("specialty") or known.get("specialties")),
        "board_certifications": unique(
            parse_certification(v) for v in section("board_certifications", list_values)
        ),
        "npi": npi,
        "gender": (known.get("gender") or "").lower() or None,
        "languages": section("languages", list_values) or split_list(known.get("languages")),
        "accepting_new_patients": accepting,
        "education": unique(section("education", education)),
        "locations": unique(section("locations", locations)),
        "affiliations": section("affiliations", list_values),
        "extras": {},
    }
