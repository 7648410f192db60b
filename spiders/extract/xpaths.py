"""The page-level XPaths the extractors share, compiled once: they run on every profile page.

lxml directly, with plain strings (no "smart" back-references to the tree) and no parsel
Selector per text node. ``selector_of`` gives every extractor the page's parsed tree.
"""

import logging
from typing import Any

from lxml import etree
from parsel import Selector

logger = logging.getLogger(__name__)

TITLE_TEXT = etree.XPath("//title//text()", smart_strings=False)
H1_TEXT = etree.XPath("//h1//text()", smart_strings=False)
# The page's readable text: every text node in <body> outside scripts and styles.
BODY_TEXT = etree.XPath(
    "//body//text()[not(ancestor::script) and not(ancestor::style)]", smart_strings=False
)
JSONLD_SCRIPTS = etree.XPath(
    "//script[contains(translate(@type, 'LDJSON', 'ldjson'), 'ld+json')]/text()",
    smart_strings=False,
)


def selector_of(page: Any) -> Selector:
    """The page's selector (a response's, or the selector itself).

    Scrapy builds a response's selector with the URL of the page's ``<base href>`` and raises
    ValueError when that URL does not parse (``http://[x``); such a page is read without it.
    """
    if isinstance(page, Selector):
        return page
    try:
        return page.selector
    except ValueError as exc:
        logger.warning("Ignored the unparsable <base href> of %s: %s", page.url, exc)
        return Selector(text=page.text, type="html", base_url=page.url)
