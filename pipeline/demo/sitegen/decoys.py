"""Decoy pages of a generated site: people who are no physician's listing (news authors,
reviewers, leadership, speakers, trustees) and pages about places."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from pipeline.demo.sitegen import markup, vocab
from pipeline.demo.sitegen.markup import BASE, esc
from pipeline.demo.sitegen.people import Person, display_name, slugify

if TYPE_CHECKING:
    from pipeline.demo.sitegen.site import GeneratedSite


def build_decoys(site: GeneratedSite, rng: random.Random) -> list[tuple[str, str]]:
    """Each decoy kind the site draws: its pages, and the (path, label) of its menu link."""
    nav = []
    for kind in site.options["decoys"]:
        index, label = DECOYS[kind](site, rng)
        nav.append((index, label))
    return nav


def _decoy(site: GeneratedSite, path: str, title: str, main: str, head: str = "") -> None:
    site.add_html(path, markup.page(site.style, title, main, head=head))
    site.decoy_paths.add(path)


def _some_doctor(site: GeneratedSite, rng: random.Random) -> Person:
    return rng.choice([p for p in site.people if p.is_physician] or site.people)


def news(site: GeneratedSite, rng: random.Random) -> tuple[str, str]:
    folder = rng.choice(("news", "blog", "stories", "newsroom"))
    links = []
    for i in range(rng.randint(2, 4)):
        author = _some_doctor(site, rng)
        topic = rng.choice(vocab.TOPICS)
        path = f"/{folder}/{2024 - i}/{slugify(topic)}-{i}" + rng.choice(("", ".html"))
        byline = display_name(author, site.style.name_style)
        data = {"@context": "https://schema.org", "@type": rng.choice(("NewsArticle",
                "BlogPosting", "Article")), "headline": f"Tips on {topic}",
                "author": {"@type": "Person", "name": byline,
                           "jobTitle": author.specialty or author.title,
                           "url": BASE + site.profile_path(author)},
                "datePublished": f"{2024 - i}-0{i + 1}-15"}
        main = (f"<article><h1>Tips on {esc(topic)}</h1><p class='byline'>By "
                f"{esc(byline)}</p><p>{esc(author.plain_name)}, a "
                f"{esc(author.specialty or author.title)} specialist, shares advice.</p>"
                "</article>")
        _decoy(site, path, f"Tips on {topic}", main, markup.jsonld_script(data, rng))
        links.append(f'<li><a href="{esc(path)}">Tips on {esc(topic)}</a></li>')
    index = f"/{folder}/"
    _decoy(site, index, "News", f"<h1>News</h1><ul>{''.join(links)}</ul>")
    return index, "News"


def reviews(site: GeneratedSite, rng: random.Random) -> tuple[str, str]:
    path = rng.choice(("/patient-stories", "/reviews", "/testimonials"))
    reviews = [{"@type": "Review", "author": {"@type": "Person", "name":
                f"{rng.choice(vocab.GIVEN_NAMES)} {rng.choice(vocab.FAMILY_NAMES)}"},
                "reviewBody": "Kind staff and short waits.",
                "reviewRating": {"@type": "Rating", "ratingValue": rng.randint(4, 5)}}
               for _ in range(rng.randint(3, 6))]
    data = {"@context": "https://schema.org", "@type": "MedicalOrganization",
            "name": site.org, "review": reviews}
    items = "".join(f"<blockquote>{esc(r['reviewBody'])}<cite>{esc(r['author']['name'])}"
                    "</cite></blockquote>" for r in reviews)
    _decoy(site, path, "Patient stories", f"<h1>Patient stories</h1>{items}",
                markup.jsonld_script(data, rng))
    return path, "Patient Stories"


def locations(site: GeneratedSite, rng: random.Random) -> tuple[str, str]:
    offices = {p.office.name: p.office for p in site.people}
    links = []
    for name, office in list(offices.items())[:3]:
        path = f"/locations/{slugify(name)}"
        data = {"@context": "https://schema.org", "@type": "MedicalClinic", "name": name,
                "telephone": office.phone, "address": {"@type": "PostalAddress",
                "streetAddress": office.street, "addressLocality": office.city,
                "addressRegion": office.state, "postalCode": office.zip}}
        main = (f"<h1>{esc(name)}</h1><address>{esc(office.street)}<br>"
                f"{esc(office.city_line)}</address><p>Phone: {esc(office.phone)}</p>"
                "<p>Open Monday to Friday, 8 am to 5 pm.</p>")
        _decoy(site, path, name, main, markup.jsonld_script(data, rng))
        links.append(f'<li><a href="{esc(path)}">{esc(name)}</a></li>')
    _decoy(site, "/locations/", "Locations", f"<h1>Locations</h1><ul>{''.join(links)}</ul>")
    return "/locations/", "Locations"


def staff(site: GeneratedSite, rng: random.Random) -> tuple[str, str]:
    """Leadership pages: one person each, in the site's own profile markup, but staff."""
    folder = rng.choice(("/about/leadership/", "/leadership/", "/administration/"))
    links = []
    for person in site.staff:
        path = folder + person.slug()
        site.add_html(path, markup.profile_page(person, site.style, path, rng))
        site.decoy_paths.add(path)
        links.append(f'<li><a href="{esc(path)}">{esc(person.plain_name)}</a>, '
                     f"{esc(person.title)}</li>")
    _decoy(site, folder, "Leadership", f"<h1>Our leadership</h1><ul>{''.join(links)}</ul>")
    return folder, "Leadership"


def events(site: GeneratedSite, rng: random.Random) -> tuple[str, str]:
    speaker = _some_doctor(site, rng)
    topic = rng.choice(vocab.TOPICS)
    path = f"/events/{slugify(topic)}-talk"
    shown = display_name(speaker, site.style.name_style)
    data = {"@context": "https://schema.org", "@type": "Event", "name": f"Talk: {topic}",
            "startDate": "2025-10-02T18:00", "location": {"@type": "Place", "name": site.org},
            "performer": {"@type": "Person", "name": shown,
                          "jobTitle": speaker.specialty or speaker.title}}
    main = (f"<h1>Community talk: {esc(topic)}</h1><p>Speaker: {esc(shown)}</p>"
            "<p>October 2, 6 pm. Free, registration required.</p>")
    _decoy(site, path, f"Talk: {topic}", main, markup.jsonld_script(data, rng))
    return path, "Events"


def people_list(site: GeneratedSite, rng: random.Random) -> tuple[str, str]:
    path = rng.choice(("/about/board-of-trustees", "/foundation/donors", "/about/committee"))
    names = [f"{rng.choice(vocab.GIVEN_NAMES)} {rng.choice(vocab.FAMILY_NAMES)}"
             for _ in range(rng.randint(8, 16))]
    data = {"@context": "https://schema.org", "@type": "ItemList", "itemListElement": [
        {"@type": "ListItem", "position": i + 1, "item": {"@type": "Person", "name": n}}
        for i, n in enumerate(names)]}
    items = "".join(f"<li>{esc(n)}</li>" for n in names)
    _decoy(site, path, "Board of Trustees", f"<h1>Board of Trustees</h1><ul>{items}</ul>",
                markup.jsonld_script(data, rng))
    return path, "Board of Trustees"


DECOYS = {
    "news": news,
    "reviews": reviews,
    "locations": locations,
    "staff": staff,
    "events": events,
    "people_list": people_list,
}
