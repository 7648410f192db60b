"""RDFa (``vocab``/``typeof``/``property``), read by extruct and compacted into the same dicts as
JSON-LD, so the schema.org mapping (spiders.extract.schemaorg) reads all three syntaxes alike.

extruct gives RDFa as expanded JSON-LD: full IRIs for types and properties, values wrapped in
``{"@value": ...}`` and nested things as ``{"@id": ...}`` references. ``compact`` turns that back
into nested ``{"@type": "Physician", "name": ..., "address": {...}}`` trees rooted at the nodes
nothing else refers to.
"""

from __future__ import annotations

import logging
from typing import Any

from spiders.extract.schemaorg import find_person, flatten, person_fields
from spiders.extract.xpaths import H1_TEXT, selector_of

logger = logging.getLogger(__name__)

RDFA_MARKERS = ("typeof=", "property=", "vocab=")


def local_name(iri: str) -> str:
    """'https://schema.org/medicalSpecialty' -> 'medicalSpecialty'."""
    return iri.rstrip("/#").rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def compact(expanded: list[dict]) -> list[dict]:
    """Expanded JSON-LD nodes -> nested compact dicts, one tree per root node."""
    by_id = {node.get("@id"): node for node in expanded if isinstance(node, dict)}
    referenced = {
        value["@id"]
        for node in by_id.values()
        for key, values in node.items()
        if not key.startswith("@") and isinstance(values, list)
        for value in values
        if isinstance(value, dict) and "@id" in value and value["@id"] in by_id
    }

    def build(node: dict, seen: frozenset[str]) -> dict:
        out: dict[str, Any] = {}
        types = [local_name(t) for t in node.get("@type", []) if isinstance(t, str)]
        if types:
            out["@type"] = types if len(types) > 1 else types[0]
        for key, values in node.items():
            if key.startswith("@") or not isinstance(values, list):
                continue
            items = []
            for value in values:
                if not isinstance(value, dict):
                    continue
                if "@value" in value:
                    items.append(value["@value"])
                elif (ref := value.get("@id")) in by_id and ref not in seen:
                    items.append(build(by_id[ref], seen | {ref}))
                elif ref:
                    items.append(ref)
            if items:
                out[local_name(key)] = items[0] if len(items) == 1 else items
        return out

    return [
        build(node, frozenset({node_id}))
        for node_id, node in by_id.items()
        if node_id not in referenced and node.get("@type")
    ]


def rdfa_nodes(html: str, base_url: str | None = None) -> list[dict]:
    """Every typed RDFa node of the page (nested ones included), JSON-LD shaped. extruct's RDFa
    reader wants the text (it builds its own DOM); a page it cannot read has no RDFa, logged as
    a skip."""
    import extruct  # imported on first use, as in spiders.extract.microdata

    try:
        data = extruct.extract(html, base_url=base_url, syntaxes=["rdfa"])
    except Exception as exc:  # rdflib and extruct raise several kinds on broken markup
        logger.warning("Skipped unreadable RDFa on %s: %r", base_url, exc)
        return []
    return list(flatten(compact(data.get("rdfa", []))))


def has_rdfa(text: str) -> bool:
    return any(marker in text for marker in RDFA_MARKERS)


def extract_rdfa(response: Any) -> dict[str, Any] | None:
    """Listing fields from the page's RDFa person node, or None when there is none."""
    if not has_rdfa(response.text):
        return None
    nodes = rdfa_nodes(response.text, response.url)
    heading = H1_TEXT(selector_of(response).root)
    node = find_person(nodes, hint=heading[0] if heading else None) if nodes else None
    return person_fields(node) if node else None
