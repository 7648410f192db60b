"""The listing item every spider emits (docs/design.md section 1)."""

from __future__ import annotations

from typing import Any

# The design's fields, in the design's order; the feed is written in this order.
LISTING_FIELDS: tuple[str, ...] = (
    # provenance: applies to every field below
    "site_id",
    "source_url",
    "fetched_at",  # ISO-8601 UTC
    "content_hash",  # sha256 hex of the response body
    "extractor",  # jsonld | microdata | html | the API or faculty system read
    "ref",  # stable listing key captured from the URL, else the URL
    # the person as listed
    "name",
    "given_name",
    "additional_name",
    "family_name",
    "honorific_prefix",
    "honorific_suffix",
    "degrees",
    "job_title",
    "department",
    "specialties",
    "board_certifications",  # [{board, certificate}]
    "npi",
    "gender",
    "languages",
    "accepting_new_patients",
    "education",  # [{type, name, year}]; type: medical_school|residency|fellowship|other
    "locations",  # [{name, street, city, state, zip, phone}]
    "affiliations",
    "extras",
)
FIELD_SET = frozenset(LISTING_FIELDS)
LIST_FIELDS = frozenset(
    {"degrees", "specialties", "board_certifications", "languages", "education", "locations",
     "affiliations"}
)  # fmt: skip
DICT_FIELDS = frozenset({"extras"})
EMPTY_VALUES = (None, "", [], {})


def is_filled(value: Any) -> bool:
    """Whether a field has a value: null, "", [] and {} are a field left empty.

    >>> is_filled("MD"), is_filled([]), is_filled(0)
    (True, False, True)
    """
    return value not in EMPTY_VALUES


class ListingItem(dict):
    """One physician/faculty listing as read from one page: a dict whose keys are exactly
    LISTING_FIELDS, every one always present (``new_listing`` builds one; the cleaning pipeline
    drops, counted, an item a hook gave unknown keys).

    A dict rather than a ``scrapy.Item``: Scrapy treats both alike, and a dict's item access
    runs in C, where an Item's runs in Python -- and a crawl reads and writes every field of
    every listing several times (build, clean, export).
    """


def new_listing(**fields: Any) -> ListingItem:
    """A ListingItem with every field set: null, or a fresh [] / {} where none is given.

    >>> new_listing(name="Dr. Jane Doe, MD")["specialties"]
    []
    """
    unknown = fields.keys() - FIELD_SET
    if unknown:
        raise KeyError(f"not ListingItem fields: {sorted(unknown)}")
    item = ListingItem()
    for name in LISTING_FIELDS:
        value = fields.get(name)
        if value is None:
            value = [] if name in LIST_FIELDS else {} if name in DICT_FIELDS else None
        item[name] = value
    return item
