"""JSON-LD: read every ``<script type="application/ld+json">`` block, forgiving hand-made JSON."""

from __future__ import annotations

import html
import json
import logging
import re
from typing import Any

from parsel import Selector

from spiders.extract.schemaorg import find_person, flatten, person_fields
from spiders.extract.xpaths import H1_TEXT, JSONLD_SCRIPTS, selector_of

logger = logging.getLogger(__name__)

_TRAILING_COMMA = re.compile(r",\s*([}\]])")


def unwrap(text: str) -> str:
    """The block without an HTML comment or CDATA wrapper (``<!-- ... -->``, ``//<![CDATA[ ...
    //]]>``); string tests at the two ends, where a regex would try every position between."""
    text = text.strip()
    opened = text.removeprefix("//").lstrip()
    for opener in ("<!--", "<![CDATA["):
        if opened.startswith(opener):
            text = opened[len(opener) :]
            break
    text = text.rstrip()
    for closer in ("-->", "]]>"):
        if text.endswith(closer):
            text = text[: -len(closer)].rstrip().removesuffix("//")
            break
    return text


def parse_jsonld(text: str) -> Any | None:
    """Parse one block; on failure retry with the usual template slips repaired.

    Repairs: HTML comment/CDATA wrappers, trailing commas, raw newlines inside strings, and
    entity-escaped markup (``&quot;`` for quotes) from templates that HTML-escape the block.

    >>> parse_jsonld('{"@type": "Person", "name": "Jane Doe",}')
    {'@type': 'Person', 'name': 'Jane Doe'}
    """
    attempts = (
        lambda t: t,
        lambda t: _TRAILING_COMMA.sub(r"\1", unwrap(t)),
        lambda t: _TRAILING_COMMA.sub(r"\1", unwrap(html.unescape(t))),
    )
    for repair in attempts:
        try:
            return json.loads(repair(text), strict=False)  # strict=False: raw control chars
        except ValueError:
            continue
        except RecursionError:  # nested deeper than the parser goes: no repair helps
            break
    logger.debug("unparsable JSON-LD block: %.80r", text)
    return None


def jsonld_nodes(selector: Selector) -> list[dict]:
    """All typed nodes of all JSON-LD blocks on the page, flattened."""
    return [node for text in JSONLD_SCRIPTS(selector.root) for node in flatten(parse_jsonld(text))]


def extract_jsonld(response: Selector | Any) -> dict[str, Any] | None:
    """Listing fields from the page's JSON-LD person node, or None when there is none."""
    selector = selector_of(response)
    heading = H1_TEXT(selector.root)
    node = find_person(jsonld_nodes(selector), hint=heading[0] if heading else None)
    return person_fields(node) if node else None
