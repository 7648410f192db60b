"""The page-level XPaths the extractors share, compiled once: they run on every profile page.

lxml directly, with plain strings (no "smart" back-references to the tree) and no parsel
Selector per text node.
"""

from lxml import etree

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
