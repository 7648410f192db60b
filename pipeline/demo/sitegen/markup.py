"""HTML of a generated site: page frame, profile pages in every markup, provider cards, pagers.

Every function is pure: a ``Style`` (the site's drawn choices) and the content in, a string out.
Absolute URLs are written with the ``BASE`` placeholder, which the server replaces by the
scheme://host:port the client asked for.
"""

from __future__ import annotations

import html
import json
import random
import re
from dataclasses import dataclass, field

from pipeline.demo.sitegen.people import Person, display_name, format_degrees

BASE = "__SITEGEN_BASE__"

MARKUPS = (
    "jsonld_physician",  # a top-level Physician node
    "jsonld_individual_physician",  # schema.org v24's person type
    "jsonld_person",  # Person with medical signals (jobTitle, medicalSpecialty, credentials)
    "jsonld_graph",  # the person inside @graph beside WebSite / Organization / BreadcrumbList
    "jsonld_array",  # a top-level array of nodes
    "jsonld_employee",  # nested as employee of a MedicalOrganization / Hospital
    "jsonld_member",  # nested as member of a MedicalClinic
    "jsonld_profilepage",  # mainEntity of a ProfilePage
    "microdata",
    "rdfa",
    "html",  # no structured data at all
)
HTML_LAYOUTS = ("dl", "headings", "table", "divs", "paragraphs")
REVIEW_TEXT = "Listened carefully and explained everything."
CARD_LAYOUTS = ("li", "div", "article", "table", "dl")


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


@dataclass
class Style:
    """A site's look: drawn once per site, used by every page."""

    org: str
    markup: str
    html_layout: str
    name_style: str
    card_layout: str
    labels: dict[str, str]  # field -> the label this site uses
    person_type: str  # Physician | IndividualPhysician | Person (JSON-LD, microdata, RDFa)
    context: str  # "https://schema.org" and its spellings
    class_prefix: str  # BEM-ish class names, or "" for bare markup
    title_format: str
    canonical: bool  # <link rel="canonical"> on profiles
    jsonld_noise: bool  # a malformed JSON-LD block beside the good one
    dotted_degrees: bool
    show_credentials: bool  # a labelled degrees field (always when the name shows none)
    nav: list[tuple[str, str]] = field(default_factory=list)  # (href, text) of the header
    footer: list[tuple[str, str]] = field(default_factory=list)

    def cls(self, name: str) -> str:
        return f' class="{self.class_prefix}{name}"' if self.class_prefix != "-" else ""


def page(style: Style, title: str, main: str, *, head: str = "", canonical: str = "") -> str:
    nav = "".join(f'<li><a href="{esc(h)}">{esc(t)}</a></li>' for h, t in style.nav)
    foot = " | ".join(f'<a href="{esc(h)}">{esc(t)}</a>' for h, t in style.footer)
    link = f'<link rel="canonical" href="{BASE}{esc(canonical)}">' if canonical else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">{link}
{head}</head>
<body><header{style.cls("header")}><a href="/"{style.cls("logo")}>{esc(style.org)}</a>
<nav><ul>{nav}</ul></nav></header>
<main id="content">
{main}
</main>
<footer{style.cls("footer")}><p>&copy; 2025 {esc(style.org)}</p><p>{foot}</p></footer>
</body></html>
"""


def jsonld_script(data: object, rng: random.Random) -> str:
    text = json.dumps(data, ensure_ascii=rng.random() < 0.5, indent=rng.choice((None, 2)))
    text = text.replace("</", "<\\/")  # a name cannot close the script element
    return f'<script type="application/ld+json">{text}</script>'


# -- profile pages ---------------------------------------------------------------------------------
def specialty_value(person: Person, rng: random.Random, context: str) -> object:
    """medicalSpecialty in one of the shapes sites use: text, schema.org URL, object, array."""
    labels = list(person.specialty_labels)
    shape = rng.randrange(4)
    if shape == 1 and person.schema_specialty:
        return f"{context.rstrip('/')}/{person.schema_specialty}"
    if shape == 2:
        return [{"@type": "MedicalSpecialty", "name": label} for label in labels]
    if shape == 3 and len(labels) == 1:
        return {"@type": "MedicalSpecialty", "name": labels[0]}
    return labels[0] if len(labels) == 1 else labels


def person_node(person: Person, style: Style, url: str, rng: random.Random) -> dict:
    """The person as schema.org JSON-LD (researchers and staff get no medical properties)."""
    clinical = person.kind in ("physician", "app")
    types = {"physician": style.person_type, "app": "Person"}
    node: dict = {"@type": types.get(person.kind, "Person")}
    if clinical and style.person_type == "Person" and rng.random() < 0.3:
        node["@type"] = ["Person", "Physician"] if person.is_physician else "Person"
    node["name"] = display_name(person, style.name_style) if rng.random() < 0.5 else (
        person.plain_name)
    if rng.random() < 0.7:
        node["givenName"], node["familyName"] = person.given, person.family
    degrees = format_degrees(person.degrees, style.dotted_degrees)
    if degrees and rng.random() < 0.7:
        node["honorificSuffix"] = ", ".join(degrees)
    elif degrees:
        node["hasCredential"] = [
            {"@type": "EducationalOccupationalCredential", "credentialCategory": "degree",
             "name": d} for d in degrees]
    node["jobTitle"] = person.title
    node["url"] = BASE + url
    if clinical:
        node["medicalSpecialty"] = specialty_value(person, rng, style.context)
        office = person.office
        node["telephone"] = office.phone
        node["address"] = {
            "@type": "PostalAddress", "streetAddress": office.street,
            "addressLocality": office.city, "addressRegion": office.state,
            "postalCode": office.zip}
        if person.npi and rng.random() < 0.5:
            node["usNPI"] = person.npi
        if person.accepting is not None:
            node["isAcceptingNewPatients"] = person.accepting
        if person.languages:
            node["knowsLanguage"] = list(person.languages)
        node["hospitalAffiliation"] = {"@type": "Hospital", "name": style.org}
    else:
        node["worksFor"] = {"@type": "Organization", "name": style.org}
        if person.research:
            node["knowsAbout"] = person.research
    if person.school:
        node["alumniOf"] = {"@type": "CollegeOrUniversity", "name": person.school}
    return node


def jsonld_blocks(person: Person, style: Style, url: str, rng: random.Random) -> list[object]:
    """The page's JSON-LD documents, wrapped the way ``style.markup`` says."""
    ctx = style.context
    node = person_node(person, style, url, rng)
    org = {"@type": rng.choice(("MedicalOrganization", "Hospital", "Organization")),
           "name": style.org, "url": BASE + "/"}
    crumbs = {"@type": "BreadcrumbList", "itemListElement": [
        {"@type": "ListItem", "position": 1, "name": "Home", "item": BASE + "/"},
        {"@type": "ListItem", "position": 2, "name": person.plain_name, "item": BASE + url}]}
    kind = style.markup
    if kind == "jsonld_graph":
        return [{"@context": ctx, "@graph": [
            {"@type": "WebSite", "name": style.org, "url": BASE + "/"}, org, crumbs, node]}]
    if kind == "jsonld_array":
        return [[{"@context": ctx, **org}, {"@context": ctx, **node}]]
    if kind in ("jsonld_employee", "jsonld_member"):
        key = "employee" if kind == "jsonld_employee" else "member"
        outer = "MedicalOrganization" if key == "employee" else "MedicalClinic"
        people = node if rng.random() < 0.5 else [node]
        return [{"@context": ctx, "@type": outer, "name": style.org, key: people}]
    if kind == "jsonld_profilepage":
        return [{"@context": ctx, "@type": "ProfilePage", "name": person.plain_name,
                 "mainEntity": node}, {"@context": ctx, **crumbs}]
    blocks: list[object] = [{"@context": ctx, **node}]
    if rng.random() < 0.5:
        blocks.append({"@context": ctx, **crumbs})
    return blocks


MALFORMED_JSONLD = (
    '{"@context": "https://schema.org", "@type": "WebPage", "name": "Profile",}',
    '{"@context": "https://schema.org", "@type": "Organization" "name": "x"}',
    "{'@type': 'WebPage'}",
)


@dataclass
class Section:
    field: str  # specialty | location | phone | education | board | languages | title | research
    values: list[str]
    prop: str = ""  # schema.org property for microdata / RDFa
    raw: list[str] | None = None  # values already marked up (HTML), when a property is nested


def profile_sections(person: Person, style: Style, attr) -> list[Section]:
    """What a profile shows, in the site's order. ``attr(prop)`` gives the microdata / RDFa
    attributes of a value (empty for plain HTML)."""
    office = person.office
    sections = [Section("title", [person.title], "jobTitle")]
    if person.degrees and (style.show_credentials or style.name_style == "dr"):
        degrees = ", ".join(format_degrees(person.degrees, style.dotted_degrees))
        sections.insert(0, Section("credentials", [degrees], "honorificSuffix"))
    if person.specialty_labels:
        sections.append(Section("specialty", list(person.specialty_labels), "medicalSpecialty"))
    if person.research:
        sections.append(Section("research", [person.research], "knowsAbout"))
    if person.kind in ("physician", "app"):
        address = (
            f'<span{attr("address", "PostalAddress")}>'
            f'<span{attr("streetAddress")}>{esc(office.street)}</span>, '
            f'<span{attr("addressLocality")}>{esc(office.city)}</span>, '
            f'<span{attr("addressRegion")}>{esc(office.state)}</span> '
            f'<span{attr("postalCode")}>{esc(office.zip)}</span></span>'
        )
        sections.append(Section("location", [office.name], raw=[esc(office.name), address]))
        sections.append(Section("phone", [office.phone], "telephone"))
    education = []
    if person.school:
        education.append(f"{style.labels['school']}: {person.school}, {person.school_year}")
    if person.residency:
        education.append(f"{style.labels['residency']}: {person.residency}")
    if person.fellowship:
        education.append(f"{style.labels['fellowship']}: {person.fellowship}")
    if education:
        sections.append(Section("education", education))
    if person.board:
        sections.append(Section("board", [person.board]))
    if person.languages:
        sections.append(Section("languages", list(person.languages), "knowsLanguage"))
    return sections


def render_sections(sections: list[Section], style: Style, attr) -> str:
    out = []
    for s in sections:
        label = esc(style.labels[s.field])
        values = s.raw or [f"<span{attr(s.prop)}>{esc(v)}</span>" if s.prop else esc(v)
                           for v in s.values]
        layout = style.html_layout
        if layout == "dl":
            out.append(f"<dt>{label}</dt>" + "".join(f"<dd>{v}</dd>" for v in values))
        elif layout == "headings":
            items = "".join(f"<li>{v}</li>" for v in values)
            out.append(f"<section{style.cls(s.field)}><h2>{label}</h2><ul>{items}</ul></section>")
        elif layout == "table":
            out.append(f"<tr><th scope='row'>{label}</th><td>{'<br>'.join(values)}</td></tr>")
        elif layout == "divs":
            out.append(
                f"<div{style.cls('field--' + s.field)}><div{style.cls('field__label')}>{label}"
                f"</div><div{style.cls('field__items')}>"
                + "".join(f"<div>{v}</div>" for v in values) + "</div></div>"
            )
        else:  # paragraphs: <p><strong>Label:</strong> value</p>
            out.append(f"<p><strong>{label}:</strong> {'; '.join(values)}</p>")
    body = "\n".join(out)
    if style.html_layout == "dl":
        return f"<dl{style.cls('facts')}>{body}</dl>"
    if style.html_layout == "table":
        return f"<table{style.cls('facts')}><tbody>{body}</tbody></table>"
    return body


def attributes(markup: str, context: str):
    """attr(prop, itemtype=None) for the markup: microdata itemprop, RDFa property, or none."""

    def microdata(prop: str, itemtype: str | None = None) -> str:
        if not prop:
            return ""
        scope = f' itemscope itemtype="https://schema.org/{itemtype}"' if itemtype else ""
        return f' itemprop="{prop}"{scope}'

    def rdfa(prop: str, itemtype: str | None = None) -> str:
        if not prop:
            return ""
        return f' property="{prop}"' + (f' typeof="{itemtype}"' if itemtype else "")

    return {"microdata": microdata, "rdfa": rdfa}.get(markup, lambda prop, itemtype=None: "")


def profile_page(
    person: Person,
    style: Style,
    url: str,
    rng: random.Random,
    *,
    reviewers: tuple[str, ...] = (),
    related: tuple[tuple[str, str], ...] = (),
) -> str:
    """One person's page in the site's markup; researchers and clinicians alike.

    ``reviewers``: patients' reviews of the person (JSON-LD Review nodes whose authors are
    Persons, on JSON-LD sites); ``related``: (href, name) of colleagues linked from the page.
    """
    markup = style.markup
    attr = attributes(markup, style.context)
    shown = display_name(person, style.name_style)
    head = ""
    if markup.startswith("jsonld"):
        blocks = jsonld_blocks(person, style, url, rng)
        if style.jsonld_noise:
            head += f'<script type="application/ld+json">{rng.choice(MALFORMED_JSONLD)}</script>'
        head += "\n".join(jsonld_script(b, rng) for b in blocks)
    sections = render_sections(profile_sections(person, style, attr), style, attr)
    kind_type = style.person_type if person.kind == "physician" else "Person"
    if markup == "microdata":
        opening = f'<article itemscope itemtype="https://schema.org/{kind_type}"{style.cls("profile")}>'
        name = f'<h1 itemprop="name">{esc(shown)}</h1>'
        degrees = ", ".join(person.degrees)
        if degrees and not (style.show_credentials or style.name_style == "dr"):
            name += f'<meta itemprop="honorificSuffix" content="{esc(degrees)}">'
    elif markup == "rdfa":
        vocab_attr = (' vocab="https://schema.org/"' if rng.random() < 0.5 else
                      ' vocab="http://schema.org/"')
        opening = f'<article{vocab_attr} typeof="{kind_type}"{style.cls("profile")}>'
        name = f'<h1 property="name">{esc(shown)}</h1>'
    else:
        opening, name = f"<article{style.cls('profile')}>", f"<h1>{esc(shown)}</h1>"
    photo = (f'<img src="/images/people/{rng.randrange(10**6)}.jpg" alt="Photo of '
             f'{esc(person.plain_name)}">') if rng.random() < 0.6 else ""
    about = ""
    if person.kind == "researcher":
        about = (f"<p>{esc(person.plain_name)} studies {esc(person.research)} in the "
                 f"Department of {esc(person.department)}.</p>")
    elif rng.random() < 0.5:
        about = (f"<p>{esc(person.plain_name)} joined {esc(style.org)} in "
                 f"{person.school_year + rng.randint(4, 9)} and enjoys hiking.</p>")
    accepting = ""
    if person.accepting is not None:
        words = "Accepting" if person.accepting else "Not accepting"
        accepting = f"<p{style.cls('accepting')}>{words} new patients</p>"
    extra = ""
    if reviewers:
        quotes = "".join(f"<blockquote>{esc(REVIEW_TEXT)}<cite>{esc(r)}</cite></blockquote>"
                         for r in reviewers)
        extra += f"<section{style.cls('reviews')}><h2>Patient reviews</h2>{quotes}</section>"
        if markup.startswith("jsonld"):
            head += jsonld_script([{
                "@context": style.context, "@type": "Review", "reviewBody": REVIEW_TEXT,
                "author": {"@type": "Person", "name": r},
                "itemReviewed": {"@type": kind_type, "name": person.plain_name},
                "reviewRating": {"@type": "Rating", "ratingValue": 5}} for r in reviewers], rng)
    if related:
        links = "".join(f'<li><a href="{esc(h)}">{esc(n)}</a></li>' for h, n in related)
        extra += f"<aside{style.cls('related')}><h2>Other providers</h2><ul>{links}</ul></aside>"
    main = f"""<nav class="breadcrumbs"><a href="/">Home</a> &rsaquo; {esc(person.plain_name)}</nav>
{opening}
<header>{photo}{name}</header>
{accepting}{about}
{sections}
</article>
{extra}"""
    title = style.title_format.format(name=shown, org=style.org,
                                      specialty=person.specialty or person.title)
    return page(style, title, main, head=head, canonical=url if style.canonical else "")


# -- listing pages ---------------------------------------------------------------------------------
def card(person: Person, style: Style, href: str | None, link_text: str | None) -> str:
    """A provider card: name with degrees, specialty, location, phone; links when ``href``."""
    shown = esc(display_name(person, style.name_style))
    name = f'<a href="{esc(href)}">{shown}</a>' if href and not link_text else shown
    more = ""
    if href and link_text:
        more = f' <a href="{esc(href)}"{style.cls("card__link")}>{esc(link_text)}</a>'
    office = person.office
    specialty = esc(", ".join(person.specialty_labels) or person.title)
    tel = re.sub(r"\D", "", office.phone)[-10:]
    phone = f'<a href="tel:+1{tel}">{esc(office.phone)}</a>'
    where = f"{esc(office.name)}, {esc(office.city)}, {esc(office.state)}"
    layout = style.card_layout
    if layout == "table":
        return (f"<tr{style.cls('result')}><td>{name}{more}</td><td>{specialty}</td>"
                f"<td>{where}</td><td>{phone}</td></tr>")
    if layout == "dl":
        return (f"<div{style.cls('card')}><h3>{name}</h3><dl><dt>{style.labels['specialty']}"
                f"</dt><dd>{specialty}</dd><dt>{style.labels['location']}</dt><dd>{where}</dd>"
                f"<dt>{style.labels['phone']}</dt><dd>{phone}</dd></dl>{more}</div>")
    tag = {"li": "li", "div": "div", "article": "article"}[layout]
    heading = "h3" if layout != "li" else "strong"
    return (f"<{tag}{style.cls('card')}><{heading}{style.cls('card__name')}>{name}</{heading}>"
            f"<p{style.cls('card__specialty')}>{specialty}</p>"
            f"<p{style.cls('card__location')}>{where}</p>"
            f"<p{style.cls('card__phone')}>{phone}</p>{more}</{tag}>")


def card_list(cards: list[str], style: Style) -> str:
    if not cards:
        return "<p>No providers match your selection.</p>"
    body = "\n".join(cards)
    if style.card_layout == "table":
        return (f"<table{style.cls('results')}><thead><tr><th>Name</th><th>"
                f"{esc(style.labels['specialty'])}</th><th>{esc(style.labels['location'])}</th>"
                f"<th>{esc(style.labels['phone'])}</th></tr></thead><tbody>{body}</tbody>"
                "</table>")
    if style.card_layout == "li":
        return f"<ul{style.cls('results')}>{body}</ul>"
    return f"<div{style.cls('results')}>{body}</div>"
