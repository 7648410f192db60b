"""Microdata (``itemscope``/``itemprop``), read by extruct into the same dicts as JSON-LD."""

from __future__ import annotations

from typing import Any

from spiders.extract.schemaorg import find_person, flatten, person_fields


def microdata_nodes(html: str, base_url: str | None = None) -> list[dict]:
    """Every microdata item on the page as a JSON-LD-shaped dict (nested items included)."""
    # Imported on first use: extruct brings every syntax's parser (some 0.4 s), and most
    # directories publish JSON-LD, so most crawls never get here.
    import extruct

    data = extruct.extract(html, base_url=base_url, syntaxes=["microdata"], uniform=True)
    return list(flatten(data.get("microdata", [])))


def extract_microdata(response: Any) -> dict[str, Any] | None:
    """Listing fields from the page's microdata person item, or None when there is none."""
    if "itemscope" not in response.text:  # extruct parses the whole page; skip when pointless
        return None
    nodes = microdata_nodes(response.text, response.url)
    node = find_person(nodes, hint=response.css("h1 ::text").get())
    return person_fields(node) if node else None
