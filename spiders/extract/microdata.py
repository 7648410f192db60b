"""Microdata (``itemscope``/``itemprop``), read by extruct into the same dicts as JSON-LD."""

from __future__ import annotations

import logging
from typing import Any

from lxml import etree

from spiders.extract.schemaorg import find_person, flatten, person_fields
from spiders.extract.xpaths import H1_TEXT, selector_of

logger = logging.getLogger(__name__)


def microdata_nodes(root: etree._Element, base_url: str | None = None) -> list[dict]:
    """Every microdata item under ``root`` as a JSON-LD-shaped dict (nested items included).

    ``root`` is the tree the response's selector already parsed: extruct re-parsing the text
    would fail where parsel recovers (a document that is only a comment, NUL bytes, an XML
    declaration naming an encoding). An item extruct cannot read (an href such as
    ``http://[x`` that urljoin rejects, an ``itemref`` naming another item's element) loses
    the page's microdata, logged as a skip.
    """
    # Imported on first use: extruct brings every syntax's parser (some 0.4 s), and most
    # directories publish JSON-LD, so most crawls never get here.
    import extruct

    try:
        data = extruct.extract(root, base_url=base_url, syntaxes=["microdata"], uniform=True)
    except Exception as exc:  # extruct raises several kinds on broken items (KeyError, ValueError)
        logger.warning("Skipped unreadable microdata on %s: %s", base_url, exc)
        return []
    return list(flatten(data.get("microdata", [])))


def extract_microdata(response: Any) -> dict[str, Any] | None:
    """Listing fields from the page's microdata person item, or None when there is none."""
    if "itemscope" not in response.text:  # extruct reads the whole tree; skip when pointless
        return None
    root = selector_of(response).root
    heading = H1_TEXT(root)
    node = find_person(microdata_nodes(root, response.url), hint=heading[0] if heading else None)
    return person_fields(node) if node else None
