"""The links of a page and what each one is for: the way into a directory, the next page of a
listing, a person, ordinary content, or the site's own chrome (header, footer, menus).

Pure functions over a parsed page (an lxml root and its URL): the crawler (spiders.discovery
.learner) turns roles into sampling priorities; classify_page counts people links to tell a
listing page from the rest.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, urljoin, urlsplit, urlunsplit

from spiders.discovery.names import NameReading, read_name
from spiders.discovery.templates import url_template
from spiders.extract.text import clean_text

ENTRY, PAGINATION, PERSON, CONTENT, CHROME = "entry", "pagination", "person", "content", "chrome"

# The words of a link into a people directory, as hospital, practice and faculty sites word
# their menus: "Find a Doctor", "Find Care", "Our Physicians", "Faculty Directory", "Meet the
# Team", "Our Consultants", "People" ... and the same in the languages of sites abroad ("Nuestros
# médicos", "Cuadro médico", "Unsere Ärzte", "Trouver un médecin", "Corpo clínico").
_PEOPLE = (
    r"doctors?|physicians?|providers?|clinicians?|specialists?|surgeons?|faculty|people|staff"
    r"|experts?|team|practitioners?|consultants?|dentists?|professionals|care team"
)
_PEOPLE_ABROAD = (  # doctors / specialists / our team, in Spanish, Portuguese, French, Italian,
    # German, Dutch (each written with and without its accents)
    r"m[ée]dicos|doctores|especialistas|profesionales|cuadro m[ée]dico|equipo m[ée]dico"
    r"|corpo cl[íi]nico|equipe m[ée]dica|m[ée]decins|praticiens|[ée]quipe m[ée]dicale"
    r"|medici|specialisti|[äa]rzte|[äa]rztinnen|[äa]rzteteam|arztsuche|artsen|specialisten"
    r"|zorgverleners"
)
ENTRY_WORDS = re.compile(
    rf"\b(?:(?:find|search(?: for)?|browse|choose|locate)(?: [\w&-]+){{0,3}} (?:{_PEOPLE})"
    rf"|(?:our|meet|all)(?: [\w&-]+){{0,2}} (?:{_PEOPLE})"
    rf"|(?:{_PEOPLE}) (?:directory|finder|search|profiles|list(?:ing)?|index|a-z)"
    rf"|find(?: a| your)? care|who'?s who"
    rf"|directory|faculty|physicians|doctors|providers|people|clinicians|specialists"
    rf"|consultants|(?:medical|clinical|care|our) (?:staff|team|experts)"
    rf"|(?:nuestros |nossos |nos |i nostri |unsere |onze )?(?:{_PEOPLE_ABROAD})"
    rf"|(?:buscar|busque|encuentre|encontre|trouver|trova|vind|finden)(?: [\w-]+){{0,2}}"
    rf" (?:m[ée]dicos?|doctor|m[ée]decin|medico|arzt|arts|especialista))\b",
    re.I,
)
# "Next", "Next page", "More results", "›", "»", ">" ... once punctuation is stripped.
NEXT_TEXT = re.compile(
    r"^(?:next(?: page| results?)?|more(?: results)?|load more|show more|older|forward"
    r"|siguiente|suivant|weiter|nächste|volgende|próxima|próximo|avanti|successivo"
    r"|[›»>→]+|next ?[›»>→]+)$",
    re.I,
)
PAGE_KEYS = frozenset(
    {"page", "p", "pg", "pagenum", "pageno", "pagenumber", "page_number", "currentpage", "start",
     "offset", "from", "skip", "startrow", "first", "pageindex", "paged"}
)  # fmt: skip
_PAGE_PATH = re.compile(r"/(?:page|p|pg|seite|pagina)/(\d+)/?$", re.I)
# The words of a card's link to the profile when the name itself is not the link.
PROFILE_TEXT = re.compile(
    r"\b(?:profile|bio(?:graphy)?|view|details|more about|learn more|read more|meet)\b", re.I
)
_LETTER_TEXT = re.compile(r"^[A-Z](?:\s*[-–]\s*[A-Z])?$", re.I)
_CHROME_TAGS = frozenset({"header", "footer", "nav", "aside"})
_CHROME_ROLES = frozenset({"banner", "contentinfo", "navigation", "complementary"})
_SKIP_SCHEMES = ("mailto:", "tel:", "javascript:", "data:", "sms:", "fax:", "#")


@dataclass(frozen=True)
class Link:
    url: str
    text: str
    role: str
    form: str | None = None  # pagination form: "rel=next", "next link", "?page=", "a-z" ...
    name: NameReading | None = None  # the person the link leads to, when it is a person link


def absolute(base: str, href: str | None) -> str | None:
    """The link's absolute http(s) URL without its fragment, or None."""
    href = (href or "").strip()
    if not href or href.lower().startswith(_SKIP_SCHEMES):
        return None
    try:
        parts = urlsplit(urljoin(base, href))
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def link_text(anchor) -> str:
    text = clean_text(" ".join(t for t in anchor.itertext() if isinstance(t, str)))
    if not text:
        text = clean_text(anchor.get("aria-label") or anchor.get("title"))
    if not text:
        alts = [img.get("alt") for img in anchor.iter("img") if img.get("alt")]
        text = clean_text(alts[0]) if alts else None
    return text or ""


def in_chrome(element) -> bool:
    """Inside the header, footer, a menu or a sidebar: on every page, about no page."""
    for ancestor in element.iterancestors():
        if not isinstance(ancestor.tag, str):
            continue
        if ancestor.tag in _CHROME_TAGS or (ancestor.get("role") or "").lower() in _CHROME_ROLES:
            return True
    return False


def pagination_form(url: str, page_url: str, text: str, rel: str) -> str | None:
    """How the link pages through a listing, or None when it does not."""
    bare = re.sub(r"[\s\W_]+", " ", text).strip() if text not in ("›", "»", ">", "→") else text
    rels = rel.lower().split()
    by_text = None
    if "next" in rels:
        by_text = "rel=next"
    elif NEXT_TEXT.match(bare or text.strip()):
        by_text = "next link"
    elif text.strip().isdigit() and len(text.strip()) <= 4:
        by_text = "numbered pages"
    elif _LETTER_TEXT.match(text.strip()):
        by_text = "a-z letters"
    if by_text is None:
        return _same_listing_another_page(url, page_url)
    if by_text == "a-z letters":
        return by_text
    query = {k.lower(): v for k, v in parse_qsl(urlsplit(url).query)}
    for key in sorted(PAGE_KEYS & query.keys()):
        if query[key].isdigit():
            return f"?{key}="
    if _PAGE_PATH.search(urlsplit(url).path):
        return "/page/N"
    return by_text


def _same_listing_another_page(url: str, page_url: str) -> str | None:
    """The link is this listing at another page, whatever its text ("Siguiente", an icon):
    the same path with a page number in a paging key (``?from=11``), or ``/page/N``."""
    here, there = urlsplit(page_url), urlsplit(url)
    if there.netloc != here.netloc:
        return None
    query = {k.lower(): v for k, v in parse_qsl(there.query)}
    mine = {k.lower(): v for k, v in parse_qsl(here.query)}
    if there.path == here.path:
        paging = [k for k in PAGE_KEYS & query.keys() if query[k].isdigit()]
        rest = {k: v for k, v in query.items() if k not in PAGE_KEYS}
        mine_rest = {k: v for k, v in mine.items() if k not in PAGE_KEYS}
        if paging and rest == mine_rest:
            return f"?{sorted(paging)[0]}="
    base = _PAGE_PATH.sub("", there.path).rstrip("/")
    if base != there.path.rstrip("/") and base == _PAGE_PATH.sub("", here.path).rstrip("/"):
        return "/page/N"
    return None


def repeated_block(element, limit: int = 6):
    """The nearest ancestor (or the element) that repeats among its siblings: a result card, a
    list item, a table row. None when the element stands alone."""
    node = element
    for _ in range(limit):
        parent = node.getparent()
        if parent is None:
            return None
        klass = node.get("class")
        same = sum(1 for c in parent if c.tag == node.tag and c.get("class") == klass)
        if same >= 2 and node.tag not in ("td", "th"):  # a row is a card; its cells are not
            return node
        node = parent
    return None


_PAGE_FRAME = ("header", "nav", "footer", "main")


def lone_item(element, limit: int = 4):
    """A result list of one: the list item, table row or box around the element, when it looks
    like a card (a phone link, or a link to a profile)."""
    for ancestor in element.iterancestors():
        if limit == 0 or ancestor.tag in ("main", "body", "section", "ul", "ol", "table"):
            return None
        if next(ancestor.iter(*_PAGE_FRAME), None) is not None:
            return None  # a box around the page's header or menu (an app's mount) is no card
        phone = any((a.get("href") or "").startswith("tel:") for a in ancestor.iter("a"))
        if ancestor.tag == "article" and phone:  # (a news article's "read more" is no card)
            return ancestor
        if ancestor.tag in ("li", "tr", "div") and (
            phone or any(PROFILE_TEXT.search(link_text(a)) for a in ancestor.iter("a"))
        ):
            return ancestor
        limit -= 1
    return None


def block_name(block) -> NameReading | None:
    """The one person a repeated block shows, read from its headings, links and strong text
    (a clinician's name over any other: a card may also name its practice manager)."""
    strong: dict[str, NameReading] = {}
    for el in block.iter("h1", "h2", "h3", "h4", "h5", "h6", "a", "strong", "b", "span", "p",
                         "div", "td", "dt", "li"):  # fmt: skip
        if len(el) and el.tag not in ("a", "h2", "h3", "h4", "h5", "h6", "strong", "b"):
            text = el.text  # "Jane Doe, MD <a>See profile</a>": the text before the link
        else:
            text = " ".join(t for t in el.itertext() if isinstance(t, str))
        reading = read_name(text)
        if reading.strong:
            strong.setdefault((reading.name or "").casefold(), reading)
    clinicians = [r for r in strong.values() if r.listed]
    if len(clinicians) == 1:
        return clinicians[0]
    return next(iter(strong.values())) if len(strong) == 1 else None


def page_links(root, page_url: str) -> list[Link]:
    """Every link on the page with its role (see the module doc), in document order."""
    anchors = []
    for anchor in root.iter("a", "area"):
        url = absolute(page_url, anchor.get("href"))
        if url and url != page_url:
            anchors.append((anchor, url, link_text(anchor)))
    links: list[Link] = []
    for element in root.iter("link"):  # <link rel="next" href="?page=2"> in the page's head
        rel = (element.get("rel") or "").lower().split()
        url = absolute(page_url, element.get("href")) if "next" in rel else None
        if url and url != page_url:
            links.append(Link(url, "next", PAGINATION, pagination_form(url, page_url, "", "next")))
    weak: dict[tuple, list[int]] = defaultdict(list)  # name-shaped links by template and block
    person_urls: dict[str, NameReading] = {}
    for anchor, url, text in anchors:
        form = pagination_form(url, page_url, text, anchor.get("rel") or "")
        chrome = in_chrome(anchor)
        reading = read_name(text)
        if form and (form != "a-z letters" or _letters_nearby(anchor)):
            links.append(Link(url, text, PAGINATION, form))
            continue
        if ENTRY_WORDS.search(text) and len(text.split()) <= 6:
            links.append(Link(url, text, ENTRY))
            continue
        if chrome:
            links.append(Link(url, text, CHROME))
            continue
        if not reading.strong:
            block = repeated_block(anchor)
            block = block if block is not None else lone_item(anchor)
            named = block_name(block) if block is not None else None
            if named is not None and (PROFILE_TEXT.search(text) or _only_link(block, anchor)):
                reading = named
        if reading.strong:
            person_urls.setdefault(url, reading)
            links.append(Link(url, text, PERSON, name=reading))
            continue
        if reading.shaped:
            parent = anchor.getparent()
            key = (url_template(url), parent.tag if parent is not None else None)
            weak[key].append(len(links))
        links.append(Link(url, text, CONTENT))
    # Name-shaped links repeated in one structure ("Doe, Jane" x 10 in an A-Z list) are people.
    for indexes in weak.values():
        if len(indexes) >= 3:
            for i in indexes:
                link = links[i]
                links[i] = Link(link.url, link.text, PERSON, name=read_name(link.text))
    # A "View profile" link goes where the card's name link goes: it leads to that person too.
    return [
        Link(link.url, link.text, PERSON, name=person_urls[link.url])
        if link.role == CONTENT and link.url in person_urls
        else link
        for link in links
    ]


def _only_link(block, anchor) -> bool:
    """The block's links all go to one place (an image and a name linking the same profile)."""
    return len({a.get("href") for a in block.iter("a")}) == 1


def _letters_nearby(anchor) -> bool:
    """An A-Z bar has its letters side by side; a lone "A" in a menu is not one."""
    parent = anchor.getparent()
    if parent is None:
        return False
    letters = sum(1 for a in parent.iter("a") if _LETTER_TEXT.match(link_text(a) or ""))
    return letters >= 8


def pagination_kinds(links: list[Link]) -> list[str]:
    """The forms of pagination among the links, most specific first, without repeats."""
    order = ("?page=", "/page/N", "a-z letters", "rel=next", "next link", "numbered pages")
    forms = {link.form for link in links if link.role == PAGINATION and link.form}
    return sorted(forms, key=lambda f: (order.index(f) if f in order else 1, f))


def people(links: list[Link]) -> Iterator[Link]:
    seen = set()
    for link in links:
        if link.role == PERSON and link.url not in seen:
            seen.add(link.url)
            yield link
