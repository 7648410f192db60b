"""Result cards: the repeated blocks of a results page, each showing one clinician (name with
credentials, specialty, location, phone) and usually a link to the profile.

A card becomes a listing of its own (extractor ``card``) when its profile cannot be had —
off-site, disallowed, gone, or absent — and otherwise fills the profile's gaps.
"""

from __future__ import annotations

import re
from typing import Any

from spiders.discovery.links import PERSON, Link, absolute, block_name, lone_item, repeated_block
from spiders.discovery.names import NameReading
from spiders.extract.html import lines, phone_of
from spiders.extract.text import clean_text, parse_city_state_zip, split_list

_PHONE = re.compile(r"(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}\b")
_CITY_STATE = re.compile(r"^(?P<city>[A-Za-z][A-Za-z .'-]+),\s*(?P<state>[A-Z]{2})$")
_PLACE_CITY_STATE = re.compile(
    r"^(?P<name>[^,]+),\s*(?P<city>[A-Za-z][A-Za-z .'-]+),\s*(?P<state>[A-Z]{2})$"
)
_LABELLED = re.compile(r"^(?P<label>[A-Za-z][A-Za-z /&]{1,30}?)\s*:\s*(?P<value>.+)$")
_ACCEPTING = re.compile(r"accepting new patients", re.I)
_NOT_ACCEPTING = re.compile(r"\bnot (currently )?accepting\b", re.I)
# A line that is a title, not a specialty: "Associate Professor of Medicine (Cardiology)".
_TITLE = re.compile(r"\b(professor|lecturer|instructor|director|chief|chair|dean|fellow)\b", re.I)
_NAME_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6", "a", "strong", "b")


def _label_field(label: str) -> str | None:
    label = label.lower()
    if label in ("specialties", "phone", "location", "languages"):  # written back by card_fields
        return label
    if "special" in label or "expertise" in label or "department" in label:
        return "specialties"
    if "phone" in label or label in ("tel", "call", "telephone"):
        return "phone"
    if any(w in label for w in ("location", "office", "address", "clinic", "practice")):
        return "location"
    if "language" in label:
        return "languages"
    return None


def card_fields(block, reading: NameReading, page_url: str) -> dict[str, Any]:
    """Listing fields read from one card (the same keys as the other extractors)."""
    name_text = reading.text
    cta = {
        clean_text(" ".join(a.itertext()))
        for a in block.iter("a")
        if not (a.get("href") or "").startswith("tel:")
    }
    specialties: list[str] = []
    languages: list[str] = []
    location: dict[str, str | None] = dict.fromkeys(("name", "street", "city", "state", "zip"))
    phone = None
    accepting = None
    job_title = None
    for el in block.iter():
        if not isinstance(el.tag, str):
            continue
        hint = " ".join((el.get("class") or "", el.get("itemprop") or "")).lower()
        if not specialties and "special" in hint and not len(el):
            specialties = split_list(clean_text(" ".join(el.itertext())))
        if el.tag == "a" and (el.get("href") or "").startswith("tel:") and not phone:
            phone = phone_of(el)
    street_candidate = None
    pending_label = None  # a <dt>Department</dt> line: the next line is its value
    for line in lines(block):
        if line == name_text or (reading.name and line.startswith(reading.name)):
            continue
        if pending_label is None and ":" not in line and len(line.split()) <= 3 and (
            label := _label_field(line)
        ):
            pending_label = label
            continue
        if pending_label:
            line, pending_label = f"{pending_label}: {line}", None
        if _ACCEPTING.search(line):
            accepting = not _NOT_ACCEPTING.search(line)
            continue
        labelled = _LABELLED.match(line)
        field = _label_field(labelled.group("label")) if labelled else None
        value = labelled.group("value").strip() if field else line
        if field == "specialties":
            specialties = specialties or split_list(value)
            continue
        if field == "languages":
            languages = split_list(value)
            continue
        if (field == "phone" or _PHONE.search(value)) and not phone:
            match = _PHONE.search(value)
            phone = match.group(0) if match else value
            continue
        if parsed := parse_city_state_zip(value):
            location.update(parsed)
            location["street"] = location["street"] or street_candidate
            continue
        if match := _PLACE_CITY_STATE.match(value) or _CITY_STATE.match(value):
            location.update(match.groupdict())
            location["street"] = location["street"] or street_candidate
            continue
        if field == "location" or re.match(r"^\d+\s+\w", value):
            street_candidate = value
            continue
        if value in cta or len(value) > 60 or any(c.isdigit() for c in value):
            continue
        if _TITLE.search(value) and not job_title:
            job_title = value
            continue
        if not specialties:
            specialties = split_list(value)
    if street_candidate and not location["street"] and not location["city"]:
        location["street"] = street_candidate
    has_location = any(location.values()) or phone
    return {
        "name": name_text,
        "honorific_prefix": reading.prefix,
        "honorific_suffix": ", ".join(reading.degrees) or None,
        "degrees": list(reading.degrees),
        "job_title": job_title,
        "specialties": specialties,
        "languages": languages,
        "accepting_new_patients": accepting,
        "locations": [{**location, "phone": phone}] if has_location else [],
        "extras": {},
    }


def result_cards(root, page_url: str, links: list[Link]) -> list[dict[str, Any]]:
    """Every clinician card on the page: its fields plus ``profile_url`` (or None) and the
    card's position (``card_index``), for a ref when there is no profile."""
    blocks: dict[int, tuple[Any, NameReading]] = {}
    order: list[int] = []
    for el in root.iter(*_NAME_TAGS):
        block = repeated_block(el)
        block = block if block is not None else lone_item(el)
        if block is None or id(block) in blocks:
            continue
        reading = block_name(block)
        if reading is None or not reading.listed:
            continue
        blocks[id(block)] = (block, reading)
        order.append(id(block))
    person_links = {link.url: link for link in links if link.role == PERSON}
    cards = []
    for index, key in enumerate(order):
        block, reading = blocks[key]
        fields = card_fields(block, reading, page_url)
        if not (fields["specialties"] or fields["locations"]):
            continue  # a name alone is a link, not a card
        urls = [absolute(page_url, a.get("href")) for a in block.iter("a")]
        profile = next((u for u in urls if u and u in person_links), None)
        cards.append({**fields, "profile_url": profile, "card_index": index})
    return cards
