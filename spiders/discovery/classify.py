"""What a page is, decided by what it contains — never by its URL.

- **profile**: a page about one person. Either structured data (JSON-LD, microdata or RDFa) makes
  a person the page's subject — an IndividualPhysician, a Physician or medical business named as
  a person, or a Person with clinical signals (specialty, NPI, credentials, a clinician's degree
  or title; a Person with only academic signals is a researcher's profile) — or, with no
  structured data, the page's heading names one person with a clinician's credentials and the page
  has profile sections (specialty, locations, education, board certification ...).
- **listing**: a page that leads to people: repeated blocks or links naming people, result cards,
  or pagination / an A-Z index of a directory.
- **gone**: an error page, a soft 404 (its title or heading says so; a 200 answer worded
  otherwise is told by ``page_fingerprint``: the same as the site gave for another address).
- **other**: everything else — news with Person authors, reviews, location pages that name no
  doctor, staff contacts, organisations.

``classify_page`` is a pure function of the page; it never raises (a page it cannot read is
``other``) and says why it decided (``evidence``).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from spiders.discovery.cards import result_cards
from spiders.discovery.links import CHROME as CHROME_LINK
from spiders.discovery.links import PAGINATION, Link, page_links, pagination_kinds, people
from spiders.discovery.names import CLINICIAN_CREDENTIALS, NameReading, credential_code, read_name
from spiders.discovery.templates import url_template
from spiders.extract.html import sections
from spiders.extract.jsonld import parse_jsonld
from spiders.extract.schemaorg import (
    NESTED_KEYS,
    as_list,
    credentials,
    flatten,
    text_of,
    types_of,
)
from spiders.extract.soft404 import detect_soft_404
from spiders.extract.text import clean_text, is_physician
from spiders.extract.xpaths import BODY_TEXT, H1_TEXT, JSONLD_SCRIPTS, TITLE_TEXT

logger = logging.getLogger(__name__)

PROFILE, LISTING, OTHER, GONE = "profile", "listing", "other", "gone"

# Properties whose value is someone *about* the page's subject, never the subject itself.
BYSTANDER_KEYS = (
    "author", "creator", "contributor", "editor", "reviewedBy", "lastReviewedBy", "review",
    "reviews", "publisher", "accountablePerson", "copyrightHolder", "funder", "sponsor",
    "provider", "brand", "comment", "interactionStatistic", "citation", "about",
)  # fmt: skip
ARTICLE_TYPES = frozenset(
    {"Article", "NewsArticle", "BlogPosting", "Review", "MedicalScholarlyArticle", "Report",
     "ScholarlyArticle", "Event", "Recipe", "Comment", "Question", "FAQPage", "HowTo"}
)  # fmt: skip
PERSON_BUSINESS_TYPES = frozenset(
    {"MedicalBusiness", "MedicalClinic", "MedicalOrganization", "Dentist", "Optician",
     "Physician", "LocalBusiness", "ProfessionalService"}
)  # fmt: skip
# Properties only a person has: a node with them is a person whatever its type says.
PERSON_ONLY_KEYS = (
    "givenName", "familyName", "honorificPrefix", "honorificSuffix", "gender", "alumniOf",
    "hasCredential", "jobTitle", "birthDate",
)  # fmt: skip
_CLINICAL_TITLE = re.compile(
    r"\b(physician|surgeon|doctor|clinician|attending|hospitalist|internist|resident"
    r"|practitioner|\w+ologist|pediatrician|psychiatrist|obstetrician|anesthesiologist"
    r"|radiologist|intensivist|m\.?d\.?|d\.?o\.?)\b",
    re.I,
)
_RESEARCH_DOCTORATE = re.compile(r"\b(?:Ph\.?\s?D|D\.?\s?Phil|Sc\.?\s?D|Dr\.?\s?P\.?H)\b\.?")
_ACADEMIC_TITLE = re.compile(
    r"\b(professor|lecturer|instructor|research(er)?|scientist|investigator|faculty|fellow"
    r"|chair|dean|postdoc\w*|scholar)\b",
    re.I,
)
_PROFILE_WORDS = re.compile(
    r"\b(board[- ]certified|board certification|american (osteopathic )?board of|residency"
    r"|fellowship|internship|medical school|school of medicine|college of medicine"
    r"|medical degree|accepting new patients|npi\b|specialt(y|ies)|languages? spoken"
    r"|clinical (interests|focus|expertise)|areas? of (expertise|focus)|conditions treated"
    r"|hospital affiliations?|insurance(s)? accepted)",
    re.I,
)
# Sections only a clinician's profile has (a location page may list specialties and an address).
CLINICAL_SECTIONS = frozenset(
    {"section specialties", "section board_certifications", "section education"}
)
_CITY_STATE_ZIP = re.compile(r"\b[A-Z][A-Za-z .'-]+,\s*[A-Z]{2}\.?\s+\d{5}(?:-\d{4})?\b")
_TITLE_SEPARATORS = re.compile(r"\s+[|–—-]\s+|\s*[|:]\s*")
# How results pages state their count: "47 results", "Showing 1-10 of 47", "Results: 47",
# "47 physicians found" (English and the other languages of directory words).
_RESULT_WORDS = (
    r"(?:results?|matches|hits|providers?|physicians?|doctors?|clinicians?|specialists?"
    r"|experts?|consultants?|people|persons|members|profiles|records|entries|listings"
    r"|résultats?|resultados?|risultati|ergebnisse|treffer|resultaten|médecins|médicos"
    r"|medici|ärzte|artsen)"
)
_NUMBER = r"(\d{1,3}(?:[,.\u00a0 ]\d{3})+|\d+)"
_STATED_TOTAL = (
    re.compile(rf"\b\d+\s*[-–—]\s*\d+\s+(?:of|de|di|von|van|sur|sobre|su)\s+{_NUMBER}\b", re.I),
    re.compile(rf"(?<![\d,.\-/])\b{_NUMBER}\s+{_RESULT_WORDS}\b", re.I),
    re.compile(rf"\b{_RESULT_WORDS}\s*(?::|\()\s*{_NUMBER}\b", re.I),
)


@dataclass(frozen=True)
class PageClass:
    """What a page is and why; a listing page's people links, pagination and cards."""

    kind: str
    evidence: tuple[str, ...]
    physician: bool | None = None  # for a profile: does it show a physician
    syntax: str | None = None  # for a profile: jsonld | microdata | rdfa | html
    links: tuple[Link, ...] = ()
    cards: tuple[dict, ...] = ()
    pagination: tuple[str, ...] = field(default=())
    total: int | None = None  # for a listing: how many results it says its list holds


@dataclass
class Subject:
    node: dict
    syntax: str
    signals: tuple[str, ...]
    name: NameReading

    @property
    def clinical(self) -> bool:
        return any(s != "academic" for s in self.signals)


# -- structured data ------------------------------------------------------------------------------
def _walk(data: Any, bystanders: set[str], members: set[int], depth: int = 0,
          under_bystander: bool = False, in_list: bool = False) -> None:  # fmt: skip
    """Collect the @ids of nodes that sit (or are referenced) under a bystander property, and
    the nodes that are members of an ItemList (a results page's people, not its subject)."""
    if depth > 50:  # deeper than any page's real data: stop rather than recurse forever
        return
    if isinstance(data, list):
        for value in data:
            _walk(value, bystanders, members, depth + 1, under_bystander, in_list)
    elif isinstance(data, dict):
        if under_bystander and isinstance(data.get("@id"), str):
            bystanders.add(data["@id"])
        if in_list and "@type" in data and not types_of(data) & {"ListItem"}:
            members.add(id(data))
            if isinstance(data.get("@id"), str):
                bystanders.add(data["@id"])
        for key, value in data.items():
            if isinstance(value, dict | list):
                _walk(value, bystanders, members, depth + 1,
                      under_bystander or key in BYSTANDER_KEYS,
                      in_list or key == "itemListElement")  # fmt: skip


def jsonld_documents(root) -> list[Any]:
    return [d for d in (parse_jsonld(t) for t in JSONLD_SCRIPTS(root)) if d is not None]


def structured_nodes(response: Any, root) -> tuple[list[tuple[str, dict]], set[str]]:
    """(syntax, node) for every typed node the page's structured data makes a candidate subject
    (top level, @graph, mainEntity, employee ...), and the @ids of bystanders (authors ...)."""
    nodes: list[tuple[str, dict]] = []
    bystanders: set[str] = set()
    members: set[int] = set()
    documents = jsonld_documents(root)
    _walk(documents, bystanders, members)
    nodes += [("jsonld-list" if id(n) in members else "jsonld", n) for n in flatten(documents)]
    text = getattr(response, "text", "") or ""
    url = getattr(response, "url", None)
    if "itemscope" in text:
        from spiders.extract.microdata import microdata_nodes

        nodes += [("microdata", n) for n in microdata_nodes(root, url)]
    from spiders.extract.rdfa import has_rdfa, rdfa_nodes

    if has_rdfa(text):
        nodes += [("rdfa", n) for n in rdfa_nodes(text, url)]
    return nodes, bystanders


def person_signals(node: dict) -> tuple[str, ...]:
    """Why a node is a listed person: its type and properties (empty: not a listed person).

    >>> person_signals({"@type": "Person", "name": "Jane Doe", "medicalSpecialty": "Cardiology"})
    ('specialty',)
    >>> person_signals({"@type": "Person", "name": "Web Editor", "jobTitle": "Editor"})
    ()
    """
    types = types_of(node)
    name = text_of(node.get("name")) or " ".join(
        p for p in (text_of(node.get("givenName")), text_of(node.get("familyName"))) if p
    )
    reading = read_name(name)
    split_name = bool(node.get("givenName") or node.get("familyName"))
    signals = []
    if "IndividualPhysician" in types:
        signals.append("IndividualPhysician")
    elif types & PERSON_BUSINESS_TYPES and "Person" not in types:
        # Physician became an organisation type: a business (or a Physician) counts only when
        # it is described as a person: named with credentials, or with person-only properties.
        personal = split_name or any(node.get(k) for k in PERSON_ONLY_KEYS)
        if not (reading.clinician or (reading.shaped and (reading.strong or personal))):
            return ()
        kind = "Physician" if "Physician" in types else sorted(types & PERSON_BUSINESS_TYPES)[0]
        signals.append(kind if kind == "Physician" else f"{kind} named as a person")
    elif "Person" not in types:
        return ()
    if not name:
        return ()
    if node.get("medicalSpecialty"):
        signals.append("specialty")
    if node.get("usNPI") or any(
        isinstance(i, dict) and "npi" in (text_of(i.get("propertyID")) or "").lower()
        for i in as_list(node.get("identifier"))
    ):
        signals.append("npi")
    certifications, degrees = credentials(node.get("hasCredential"))
    if certifications:
        signals.append("certifications")
    if any(credential_code(d) in CLINICIAN_CREDENTIALS for d in degrees):
        signals.append("clinician's degree credential")
    if node.get("hospitalAffiliation"):
        signals.append("hospital affiliation")
    suffix = read_name(f"{name}, {text_of(node.get('honorificSuffix')) or ''}".rstrip(", "))
    if suffix.clinician:
        signals.append("clinician's degree")
    title = text_of(node.get("jobTitle")) or ""
    if _CLINICAL_TITLE.search(title):
        signals.append("clinical title")
    elif _ACADEMIC_TITLE.search(title) or (node.get("alumniOf") and node.get("worksFor")):
        signals.append("academic")
    return tuple(signals)


def subjects(response: Any, root) -> tuple[list[Subject], bool, int]:
    """The people the structured data names as the page's possible subjects (bystanders and
    list members left out), whether it is about an article, review or event (whose people are
    bystanders), and how many people it lists in an ItemList (a results page's)."""
    nodes, bystanders = structured_nodes(response, root)
    found: dict[str, Subject] = {}
    article = False
    listed = 0
    for syntax, node in nodes:
        types = types_of(node)
        if types & ARTICLE_TYPES:
            article = True
        if syntax == "jsonld-list":
            listed += bool(person_signals(node))
            continue
        if isinstance(node.get("@id"), str) and node["@id"] in bystanders:
            continue
        signals = person_signals(node)
        if not signals:
            continue
        name = text_of(node.get("name")) or " ".join(
            p for p in (text_of(node.get("givenName")), text_of(node.get("familyName"))) if p
        )
        reading = read_name(name)
        key = (reading.name or name).casefold()
        if key not in found or len(signals) > len(found[key].signals):
            found[key] = Subject(node, syntax, signals, reading)
    return list(found.values()), article, listed


# -- the page -------------------------------------------------------------------------------------
def sub_listings(links: list[Link], page_url: str) -> int:
    """Links to views of this very page — its path with a query (``?service=cardiology``) or
    a folder below it (``/browse/cardiology/``) —, in the largest group of one template: an
    index of departments or filters, in any language."""
    groups: Counter = Counter()
    for link in links:
        if link.role not in (CHROME_LINK, PAGINATION) and is_view_of(link.url, page_url):
            groups[url_template(link.url)] += 1
    return max(groups.values(), default=0)


def is_view_of(url: str, page_url: str) -> bool:
    """``url`` is the page at ``page_url`` seen another way: its path with another query
    (``?service=cardiology``), or a folder below it (``/browse/cardiology/``)."""
    here, there = urlsplit(page_url), urlsplit(url)
    folder = here.path.rstrip("/") + "/"
    return there.netloc == here.netloc and (
        (there.path == here.path and bool(there.query) and there.query != here.query)
        or (there.path.startswith(folder) and there.path != folder)
    )


def page_heading(root) -> str | None:
    """The page's main heading: its h1, else its <title> before the site name."""
    h1 = clean_text(" ".join(H1_TEXT(root)))
    if h1:
        return h1
    title = clean_text(" ".join(TITLE_TEXT(root)))
    return clean_text(_TITLE_SEPARATORS.split(title)[0]) if title else None


def titles(root) -> str:
    return " ".join(
        t
        for t in (clean_text(" ".join(H1_TEXT(root))), clean_text(" ".join(TITLE_TEXT(root))))
        if t
    ).casefold()


def names_heading(subject: Subject, heading_text: str) -> bool:
    node = subject.node
    family = (text_of(node.get("familyName")) or "").casefold()
    name = (subject.name.name or "").casefold()
    return bool((name and name in heading_text) or (family and family in heading_text))


def profile_cues(root) -> tuple[str, ...]:
    """Signs that a page profiles a clinician: labelled sections, education and board words,
    an address, a phone link."""
    cues = [f"section {name}" for name in sections(root)]
    body = " ".join(BODY_TEXT(root))
    words = {m.group(0).lower() for m in _PROFILE_WORDS.finditer(body)}
    cues += sorted(words)[:6]
    if _CITY_STATE_ZIP.search(body):
        cues.append("address")
    if any((a.get("href") or "").startswith("tel:") for a in root.iter("a")):
        cues.append("phone link")
    return tuple(dict.fromkeys(cues))


def stated_total(root) -> int | None:
    """The number of results a listing page says its list holds ("47 results", "Showing
    1-10 of 47"), when it states exactly one such number; None otherwise."""
    text = " ".join(" ".join(BODY_TEXT(root)).split())
    numbers = {
        int(re.sub(r"\D", "", match.group(1)))
        for pattern in _STATED_TOTAL
        for match in pattern.finditer(text)
    }
    return numbers.pop() if len(numbers) == 1 else None


def page_fingerprint(response: Any) -> str:
    """What a page says, as a short key: its body text with its own address taken out, in
    every form (a missing-page answer may echo the address asked for). Two addresses with one
    key are one answer — a site's "not found" page, however it is worded, when neither shows a
    person. Never raises (an unreadable page is keyed by its bytes)."""
    try:
        text = " ".join(" ".join(BODY_TEXT(response.selector.root)).split())
        urls = [getattr(response, "url", ""), *(getattr(response, "meta", None) or {}).get(
            "redirect_urls", ())]  # fmt: skip
        pieces = set()
        for url in urls:
            parts = urlsplit(url)
            path = unquote(parts.path)
            pieces |= {url, path, f"{path}?{parts.query}", parts.query}
            pieces |= {p for p in re.split(r"[/?&=]+", f"{path}?{unquote(parts.query)}") if p}
        for piece in sorted(pieces, key=len, reverse=True):
            if len(piece) > 1:
                text = text.replace(piece, " ")
        text = " ".join(text.split())
    except Exception:  # (no selector: not a text page)
        text = repr(getattr(response, "body", b""))
    return hashlib.sha1(text.encode("utf-8", "replace")).hexdigest()


def classify_page(response: Any) -> PageClass:
    """What the page is (PROFILE, LISTING, GONE or OTHER) and the evidence; never raises."""
    try:
        return _classify(response)
    except Exception as exc:  # unreadable bytes are "other", never a failed crawl
        logger.debug("could not classify %s: %r", getattr(response, "url", "?"), exc)
        return PageClass(OTHER, (f"unreadable page ({type(exc).__name__})",))


def _classify(response: Any) -> PageClass:
    if getattr(response, "status", 200) >= 400 or detect_soft_404(response):
        return PageClass(GONE, ("error page",))
    root = response.selector.root
    heading_text = titles(root)
    found, article, listed = subjects(response, root)
    named = [s for s in found if names_heading(s, heading_text)]
    if named or (len(found) == 1 and not article):
        best = min(named or found, key=lambda s: ("IndividualPhysician" not in s.signals,
                                                  not s.clinical, -len(s.signals)))  # fmt: skip
        node = best.node
        degrees = list(best.name.degrees) + list(read_name(
            f"x y, {text_of(node.get('honorificSuffix')) or ''}").degrees)  # fmt: skip
        physician = is_physician(degrees, text_of(node.get("jobTitle")))
        if physician is None and {"IndividualPhysician", "Physician"} & set(best.signals):
            physician = True  # the type says so where the page shows no degree
        evidence = (f"{best.syntax} person {best.name.name or '?'!r}: {', '.join(best.signals)}",)
        if named and len(found) > 1:
            evidence += (f"the heading names them among {len(found)} people",)
        return PageClass(PROFILE, evidence, physician=physician, syntax=best.syntax)
    links = page_links(root, response.url)
    heading = page_heading(root)
    reading = read_name(heading)
    if reading.clinician and len(found) < 3:
        cues = profile_cues(root)
        if cues:
            return PageClass(
                PROFILE,
                (f"heading names {reading.name!r} with {', '.join(reading.degrees) or 'Dr.'}",
                 "cues: " + ", ".join(cues[:6])),
                physician=reading.physician or None,
                syntax="html",
            )  # fmt: skip
        body = " ".join(BODY_TEXT(root))[:3000]
        academic = _ACADEMIC_TITLE.search(body)
        doctorate = _RESEARCH_DOCTORATE.search(body)
        if not reading.degrees and academic and doctorate and not article:
            # "Dr. Jane Doe" over an academic title and a research doctorate, with nothing
            # clinical: a researcher's profile.
            return PageClass(
                PROFILE,
                (f"heading names researcher {reading.name!r} (Dr., {doctorate.group(0)})",
                 f"academic title {academic.group(0)!r}"),
                physician=False,
                syntax="html",
            )  # fmt: skip
    elif reading.shaped and not article and len(
        {c for c in profile_cues(root) if c in CLINICAL_SECTIONS}
    ) >= 2:  # fmt: skip
        # A name without credentials ("Martinez, Luis G.") over a clinician's sections.
        cues = profile_cues(root)
        return PageClass(
            PROFILE,
            (f"heading names {reading.name!r}", "cues: " + ", ".join(cues[:6])),
            syntax="html",
        )
    elif reading.shaped and reading.degrees and not article:
        cues = profile_cues(root)
        academic = _ACADEMIC_TITLE.search(" ".join(BODY_TEXT(root))[:3000])
        schooling = [c for c in cues if c.startswith("section") or c in (
            "residency", "fellowship", "school of medicine")]  # fmt: skip
        if academic and (reading.scholar or schooling):
            return PageClass(
                PROFILE,
                (f"heading names researcher {reading.name!r} ({', '.join(reading.degrees)})",
                 f"academic title {academic.group(0)!r}"),
                physician=False,
                syntax="html",
            )  # fmt: skip
    led_to = [
        link
        for link in people(links)
        if link.name is None or link.name.listed or not link.name.strong
    ]  # a leadership page's "Jane Doe, MBA" leads nowhere
    views = sub_listings(links, response.url)
    cards = tuple(result_cards(root, response.url, links))
    forms = tuple(pagination_kinds(links))
    evidence = []
    if len(found) >= 3:
        evidence.append(f"{len(found)} people in structured data")
    if listed:
        evidence.append(f"{listed} people in an ItemList")
    if led_to:
        evidence.append(f"{len(led_to)} links to people")
    if cards:
        evidence.append(f"{len(cards)} result cards")
    if forms:
        evidence.append("pagination: " + ", ".join(forms))
    if views:
        evidence.append(f"{views} views of this page (departments, filters)")
    index = (
        "a-z letters" in forms
        or sum(1 for link in links if link.role == PAGINATION) >= 8
        or views >= 5
    )
    if len(led_to) >= 3 or cards or len(found) >= 3 or listed or (led_to and forms) or index:
        total = stated_total(root)
        if total is not None:
            evidence.append(f"states {total} results")
        return PageClass(LISTING, tuple(evidence), links=tuple(links), cards=cards,
                         pagination=forms, total=total)  # fmt: skip
    why = ["no person is the page's subject"]
    if article:
        why.append("an article/review page")
    if found:
        why.append(f"{len(found)} people mentioned, none in the heading")
    return PageClass(OTHER, tuple(why + evidence), links=tuple(links), pagination=forms)


__all__ = [
    "GONE", "LISTING", "NESTED_KEYS", "OTHER", "PROFILE", "PageClass", "classify_page",
    "page_fingerprint",
]  # fmt: skip
