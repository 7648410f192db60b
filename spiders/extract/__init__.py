"""Generic extractors shared by every spider.

Each returns the listing-item fields it found (see spiders/items.py). ``extract_listing`` tries
structured data first (JSON-LD, then microdata, then RDFa) and fills what it lacks from the page's
heading-labelled HTML sections; the item's ``extractor`` names the primary source.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from spiders.extract.html import extract_html
from spiders.extract.jsonld import extract_jsonld
from spiders.extract.microdata import extract_microdata
from spiders.extract.rdfa import extract_rdfa
from spiders.extract.soft404 import detect_soft_404

__all__ = [
    "EXTRACTORS",
    "detect_soft_404",
    "extract_html",
    "extract_jsonld",
    "extract_listing",
    "extract_microdata",
    "extract_rdfa",
]

Fields = dict[str, Any]
EXTRACTORS: tuple[tuple[str, Callable[[Any], Fields | None]], ...] = (
    ("jsonld", extract_jsonld),
    ("microdata", extract_microdata),
    ("rdfa", extract_rdfa),
)


def fill_gaps(fields: Fields, fallback: Fields) -> Fields:
    """Fields missing from ``fields`` taken from ``fallback``; the borrowed names go to extras."""
    filled = [k for k, v in fallback.items() if v not in (None, [], {}) and not fields.get(k)]
    merged = {**fields, **{k: fallback[k] for k in filled}}
    if filled:
        merged["extras"] = {**fields.get("extras", {}), "html_filled": sorted(filled)}
    return merged


def extract_listing(response: Any) -> tuple[str, Fields] | None:
    """(extractor name, fields) for a profile page, or None when no person is found.

    Faculty pages, for example, give name and title as microdata but list clinical specialties
    only as an HTML section; the result then says ``microdata`` with specialties filled from HTML.
    """
    for name, extractor in EXTRACTORS:
        fields = extractor(response)
        if fields and fields.get("name"):
            gaps = {k for k, v in fields.items() if v in (None, [], {}) and k != "extras"}
            return name, fill_gaps(fields, extract_html(response, wanted=gaps))
    from_html = extract_html(response)
    if from_html.get("name"):
        return "html", from_html
    return None
