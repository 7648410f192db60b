"""Recognisers and extractors never raise, whatever bytes a page holds.

Hypothesis builds near-garbage pages from the pieces real pages break with (structured-data
fragments, broken markup, control characters and NUL bytes, odd encodings and charset
declarations, comment-only documents, empty bodies, huge attribute values) and feeds them through
``extract_listing`` and ``detect_soft_404`` as real Scrapy ``HtmlResponse`` objects: 10,000 pages
per run, drawn afresh each time (no example database). On a failure Hypothesis prints the page's
bytes and a ``@reproduce_failure`` blob.

Hypothesis draws each fragment's kind and a seed; the fragment's content comes from
``random.Random(seed)``: a few draws per fragment instead of one per character keeps 10,000
pages within the test-time budget, and shrinking still removes fragments and simplifies kinds.
"""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy.http import HtmlResponse

from spiders.extract import detect_soft_404, extract_listing

FUZZ = settings(
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example
    ],
)
GARBAGE_PAGES, EMBEDDED_PAGES = 7_000, 3_000  # 10,000 pages a run

NASTY_CHARS = "\x00\x01\x08\x0b\x0c\x1b\x1f\x7f\x85\xa0\ufeff\ufffe\u2028\u202e\ud800<>&\"'=/;{}[],:#%"
SCHEMA_KEYS = ("@context", "@type", "@graph", "@id", "@value", "name", "givenName", "familyName",
               "honorificSuffix", "hasCredential", "jobTitle", "medicalSpecialty", "address",
               "alumniOf", "worksFor", "affiliation", "hospitalAffiliation", "usNPI", "identifier",
               "mainEntity", "employee", "member", "itemListElement", "item", "knowsLanguage",
               "isAcceptingNewPatients", "gender", "telephone", "location", "workLocation",
               "practicesAt", "roleName", "endDate", "credentialCategory", "recognizedBy",
               "propertyID", "value", "sameAs", "memberOf", "url")  # fmt: skip
TYPES = ("Person", "Physician", "IndividualPhysician", "Hospital", "PostalAddress",
         "OrganizationRole", "MedicalSpecialty", "EducationalOccupationalCredential", "Place",
         "https://schema.org/Physician", "")  # fmt: skip
BAD_URLS = ("http://[x", "http://[::1", "//\x00", "javascript:alert(1)", "", "http://a b/",
            "mailto:", "http://127.0.0.1:99999/")  # fmt: skip
BROKEN_MARKUP = (
    "<!--", "-->", "<!---->", "<![CDATA[", "]]>", "<?xml version='1.0' encoding='utf-16'?>",
    '<?xml version="1.0" encoding="UTF-8"?>', "<!DOCTYPE html>", "<!DOCTYPE", "<script>",
    "</script>", "<style>", "<div", "<a href='", "<meta charset='utf-16'>", "<meta charset=''>",
    '<meta http-equiv="Content-Type" content="text/html; charset=shift_jis">',
    "<meta charset='x-no-such-charset'>", "<h1>", "</h1>", "<title>", "</title>", "&#0;",
    "&#xD800;", "&#99999999;", "&", "&nbsp", "<table><tr><td>", "<plaintext>",
    "<svg><![CDATA[x]]></svg>", "<math><mi>", "\ufeff", "<html><html>", "<body/>", "</html>",
    "<h1>Page not found</h1>", "<title>404</title>", "<base href='http://[x'>", "<template>",
    "<noscript>", "<iframe srcdoc='<h1>x</h1>'>", "<textarea>", "<xmp>",
    "<h1>Dr. Jane Doe, MD</h1>",
)  # fmt: skip
ENCODINGS = ("utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16", "utf-16-be", "utf-32",
             "shift_jis", "ascii", "cp500")  # fmt: skip
CONTENT_TYPES = (None, "text/html", "text/html; charset=utf-8", "text/html; charset=utf-16",
                 "text/html; charset=bogus", "text/html; charset=", "application/xhtml+xml",
                 "text/html; charset=cp500")  # fmt: skip


# -- fragment builders: pure functions of a random.Random -------------------------------------
def nasty_text(rng: random.Random, size: int = 12) -> str:
    """Control characters, NULs, lone surrogates, markup characters and any code point."""
    return "".join(
        rng.choice(NASTY_CHARS) if rng.random() < 0.6 else chr(rng.randrange(0x110000))
        for _ in range(rng.randrange(size + 1))
    )


def json_value(rng: random.Random, depth: int = 0):
    roll = rng.random()
    if depth < 4 and roll < 0.25:
        return [json_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if depth < 4 and roll < 0.55:
        return {(rng.choice(SCHEMA_KEYS) if rng.random() < 0.85 else nasty_text(rng)):
                json_value(rng, depth + 1) for _ in range(rng.randrange(6))}  # fmt: skip
    return rng.choice((None, True, False, rng.randint(-(10**20), 10**20), rng.random() * 1e308,
                       float("nan"), rng.choice(TYPES), nasty_text(rng)))  # fmt: skip


def jsonld_fragment(rng: random.Random) -> str:
    text = json.dumps(json_value(rng), ensure_ascii=rng.random() < 0.5)
    damage = rng.choice(("none", "truncate", "comma", "comment", "deep", "entities"))
    if damage == "truncate":
        text = text[: rng.randrange(len(text) + 1)]
    elif damage == "comma":
        text = text.replace("}", ",}").replace("]", ",]")
    elif damage == "comment":
        text = f"<!--{text}-->" if rng.random() < 0.5 else f"//<![CDATA[\n{text}\n//]]>"
    elif damage == "deep":  # nested past the parser's recursion limit
        depth = rng.randrange(100, 3_000)
        text = "[" * depth + text + "]" * rng.choice((0, depth))
    elif damage == "entities":
        text = text.replace('"', "&quot;")
    kind = rng.choice(("application/ld+json", "APPLICATION/LD+JSON",
                       "application/ld+json; charset=utf-8", "ld+json"))  # fmt: skip
    return f'<script type="{kind}">{text}</script>'


def microdata_fragment(rng: random.Random, depth: int = 0) -> str:
    tag = rng.choice(("div", "span", "a", "img", "meta", "time", "link", "object", "data", "p"))
    attrs = []
    if rng.random() < 0.6:
        attrs += ["itemscope", f'itemtype="{rng.choice((*TYPES, nasty_text(rng)))}"']
    if rng.random() < 0.6:
        attrs.append(f'itemprop="{rng.choice((*SCHEMA_KEYS, nasty_text(rng)))}"')
    for name in rng.sample(("href", "src", "content", "datetime", "itemid", "itemref", "id",
                            "value", "data"), rng.randrange(4)):  # fmt: skip
        attrs.append(f'{name}="{rng.choice((*BAD_URLS, nasty_text(rng)))}"')
    inner = nasty_text(rng)
    if depth < 2:
        inner += "".join(microdata_fragment(rng, depth + 1) for _ in range(rng.randrange(3)))
    return f"<{tag} {' '.join(attrs)}>{inner}</{tag}>"


def rdfa_fragment(rng: random.Random) -> str:
    vocab = rng.choice(("https://schema.org/", "http://schema.org/", "", "x\x00"))
    props = "".join(f'<span property="{rng.choice((*SCHEMA_KEYS, nasty_text(rng)))}">'
                    f"{nasty_text(rng)}</span>" for _ in range(rng.randrange(4)))  # fmt: skip
    return f'<div vocab="{vocab}" typeof="{rng.choice(TYPES)}">{props}</div>'


def huge_attribute(rng: random.Random) -> str:
    n = rng.randrange(1_000, 100_000)
    return (f'<div itemscope itemtype="https://schema.org/Person" title="{"x" * n}">'
            f'<span itemprop="name" data-x="{nasty_text(rng) * (n // 50)}">Jane Doe</span></div>')


def comment(rng: random.Random) -> str:
    return f"<!--{nasty_text(rng).replace('-->', '')}-->"


FRAGMENTS = {
    "jsonld": jsonld_fragment,
    "microdata": microdata_fragment,
    "rdfa": rdfa_fragment,
    "broken": lambda rng: rng.choice(BROKEN_MARKUP),
    "text": nasty_text,
    "comment": comment,
    "huge": huge_attribute,
}


# Huge fragments cost the most to parse: one draw in twenty is enough to keep them covered.
FRAGMENT_KINDS = tuple(k for k in FRAGMENTS if k != "huge") * 3 + ("huge",)


@st.composite
def fragment(draw, kinds: tuple[str, ...] = FRAGMENT_KINDS) -> str:
    kind = draw(st.sampled_from(kinds))
    return FRAGMENTS[kind](random.Random(draw(st.integers(0, 2**32 - 1))))


@st.composite
def page_bytes(draw) -> bytes:
    """A near-garbage page: fragments glued together, encoded one way or another, sometimes
    with raw bytes spliced in; or a comment-only document, or next to nothing."""
    shape = draw(st.sampled_from(("fragments", "fragments", "fragments", "comment", "empty",
                                  "binary")))  # fmt: skip
    if shape == "empty":
        return draw(st.sampled_from((b"", b" ", b"\x00", b"\n\t ", b"\xef\xbb\xbf")))
    if shape == "binary":
        return draw(st.binary(max_size=300))
    if shape == "comment":
        text = draw(fragment(("comment",)))
    else:
        text = "".join(draw(st.lists(fragment(), min_size=1, max_size=6)))
    body = text.encode(draw(st.sampled_from(ENCODINGS)), errors="replace")
    if draw(st.booleans()):
        at = draw(st.integers(0, len(body)))
        body = body[:at] + draw(st.binary(max_size=12)) + body[at:]
    return body


# Pages that once raised, each with the person it must still yield (None: no person).
PHYSICIAN = ('<div itemscope itemtype="https://schema.org/Physician"><h1 itemprop="name">'
             "Jane Doe, MD</h1></div>")  # fmt: skip
JANE = '<script type="application/ld+json">{"@type": "Physician", "name": "Jane Doe"%s}</script>'
REGRESSIONS = {
    "comment-only document naming itemscope": (b"<!-- itemscope -->", None),
    "processing instruction only": (b"<?itemscope?>", None),
    "XML declaration with an encoding": (
        b'<?xml version="1.0" encoding="UTF-8"?>' + PHYSICIAN.encode(), "Jane Doe, MD"),
    "NUL bytes inside microdata": (PHYSICIAN.replace("Doe", "Do\x00e").encode(), "Jane Doe, MD"),
    "href urljoin rejects inside microdata": (
        PHYSICIAN.replace("</h1>", '</h1><a itemprop="url" href="http://[x">x</a>').encode(),
        "Jane Doe, MD"),
    "base href urljoin rejects": (b"<base href='http://[x'>" + (JANE % "").encode(), "Jane Doe"),
    "JSON-LD nested past the recursion limit": (
        b'<script type="application/ld+json">' + b"[" * 5000 + b"]" * 5000 + b"</script>"
        + (JANE % "").encode(), "Jane Doe"),
    "numbers where an address belongs": ((JANE % ', "address": [5, null]').encode(), "Jane Doe"),
    "itemref naming another item's element (extruct's KeyError)": (
        (PHYSICIAN + '<k itemscope itemref="//"></html><a itemscope itemprop id="//">').encode(),
        "Jane Doe, MD"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(REGRESSIONS))
def test_pages_that_once_raised_now_yield_what_they_hold(case):
    body, name = REGRESSIONS[case]
    page = response(body, "text/html")
    assert not detect_soft_404(page)
    found = extract_listing(page)
    assert (found[1]["name"] if found else None) == name


def response(body: bytes, content_type: str | None) -> HtmlResponse:
    headers = {"Content-Type": content_type} if content_type else {}
    return HtmlResponse("http://127.0.0.1:8080/doctors/x", body=body, headers=headers)


@settings(FUZZ, max_examples=GARBAGE_PAGES)
@given(body=page_bytes(), content_type=st.sampled_from(CONTENT_TYPES))
def test_no_page_makes_the_extractors_raise(body, content_type):
    page = response(body, content_type)
    detect_soft_404(page)
    found = extract_listing(page)
    if found is not None:  # what comes out is a listing: an extractor name and a name
        extractor, fields = found
        assert extractor in ("jsonld", "microdata", "rdfa", "html") and fields["name"]


# Garbage around the person block closes what it opens: an unclosed comment or <script> before
# the block would hide it from a browser as well. Garbage holding persons of its own is left out
# (which of two persons is the listing is not this test's question).
CLOSED_BROKEN = ("<!---->", "]]>", "-->", "<div><span><p>", "<table><tr><td>", "</div>",
                 "<h2>Locations</h2>", "<?xml version='1.0'?>", "<!DOCTYPE html>", "\x00",
                 '<script type="application/ld+json">{"@type": "Organization", "name": "X"}'
                 "</script>", '<script type="application/ld+json">{"@type":</script>',
                 "<base href='http://[x'>")  # fmt: skip
CLOSED = {
    "jsonld": jsonld_fragment,
    "rdfa": rdfa_fragment,
    "comment": comment,
    "huge": lambda rng: f'<div title="{"x" * rng.randrange(1_000, 100_000)}"></div>',
    "text": lambda rng: nasty_text(rng).replace("<", "").replace("&", ""),
    "broken": lambda rng: rng.choice(CLOSED_BROKEN),
}


CLOSED_KINDS = tuple(k for k in CLOSED if k != "huge") * 3 + ("huge",)


@st.composite
def closed_garbage(draw) -> str:
    kind = draw(st.sampled_from(CLOSED_KINDS))
    text = CLOSED[kind](random.Random(draw(st.integers(0, 2**32 - 1))))
    return "" if "Person" in text or "Physician" in text else text


def person_block(syntax: str, given_name: str, family: str) -> str:
    if syntax == "jsonld":
        node = {"@context": "https://schema.org", "@type": "Physician",
                "name": f"{given_name} {family}, MD", "medicalSpecialty": "Cardiology"}
        return f'<script type="application/ld+json">{json.dumps(node)}</script>'
    return (f'<div itemscope itemtype="https://schema.org/Physician"><h1 itemprop="name">'
            f"{given_name} {family}, MD</h1><span itemprop=\"medicalSpecialty\">Cardiology"
            "</span></div>")  # fmt: skip


name_part = st.builds(str.capitalize, st.text("abcdefghijklmnopqrstuvwxyzéøñ", min_size=3, max_size=10))


@settings(FUZZ, max_examples=EMBEDDED_PAGES)
@given(
    before=st.lists(closed_garbage(), max_size=5),
    after=st.lists(closed_garbage(), max_size=5),
    syntax=st.sampled_from(("jsonld", "microdata")),
    given_name=name_part,
    family=name_part,
    content_type=st.sampled_from(("text/html", "text/html; charset=utf-8", None)),
)
def test_one_valid_person_among_garbage_is_still_found(
    before, after, syntax, given_name, family, content_type
):
    text = "".join(before) + person_block(syntax, given_name, family) + "".join(after)
    if content_type != "text/html; charset=utf-8":  # say the encoding in the page instead
        text = '<meta charset="utf-8">' + text
    found = extract_listing(response(text.encode("utf-8", "surrogatepass"), content_type))
    assert found is not None, text[:500]
    extractor, fields = found
    assert extractor == syntax
    assert f"{given_name} {family}" in fields["name"], (fields["name"], text[:500])
