"""The listing item every spider emits (docs/design.md section 1)."""

from __future__ import annotations

from typing import Any

from scrapy import Field, Item


class ListingItem(Item):
    """One physician/faculty listing as read from one page. Every key is always present."""

    # provenance: applies to every field below
    site_id = Field()
    source_url = Field()
    fetched_at = Field()  # ISO-8601 UTC
    content_hash = Field()  # sha256 hex of the response body
    extractor = Field()  # jsonld | microdata | html
    ref = Field()  # stable listing key captured from the URL, else the URL
    # the person as listed
    name = Field()
    given_name = Field()
    additional_name = Field()
    family_name = Field()
    honorific_prefix = Field()
    honorific_suffix = Field()
    degrees = Field()
    job_title = Field()
    department = Field()
    specialties = Field()
    board_certifications = Field()  # [{board, certificate}]
    npi = Field()
    gender = Field()
    languages = Field()
    accepting_new_patients = Field()
    education = Field()  # [{type, name, year}]; type: medical_school|residency|fellowship|other
    locations = Field()  # [{name, street, city, state, zip, phone}]
    affiliations = Field()
    extras = Field()


# The design's field order (Item keeps its fields sorted); the feed is written in this order.
LISTING_FIELDS: tuple[str, ...] = (
    "site_id", "source_url", "fetched_at", "content_hash", "extractor", "ref",
    "name", "given_name", "additional_name", "family_name", "honorific_prefix",
    "honorific_suffix", "degrees", "job_title", "department", "specialties",
    "board_certifications", "npi", "gender", "languages", "accepting_new_patients",
    "education", "locations", "affiliations", "extras",
)  # fmt: skip
assert set(LISTING_FIELDS) == set(ListingItem.fields), "LISTING_FIELDS out of step with the item"
LIST_FIELDS = frozenset(
    {"degrees", "specialties", "board_certifications", "languages", "education", "locations",
     "affiliations"}
)  # fmt: skip
DICT_FIELDS = frozenset({"extras"})
EDUCATION_TYPES = ("medical_school", "residency", "fellowship", "other")


def new_listing(**fields: Any) -> ListingItem:
    """A ListingItem with every field set: null, or a fresh [] / {} where none is given.

    >>> new_listing(name="Dr. Jane Doe, MD")["specialties"]
    []
    """
    unknown = set(fields) - set(LISTING_FIELDS)
    if unknown:
        raise KeyError(f"not ListingItem fields: {sorted(unknown)}")
    item = ListingItem()
    for name in LISTING_FIELDS:
        value = fields.get(name)
        if value is None:
            value = [] if name in LIST_FIELDS else {} if name in DICT_FIELDS else None
        item[name] = value
    return item
