"""Zero-config discovery as pure functions: URL templates, names, page classification, links and
pagination, result cards, the per-site learner and its report (spiders/discovery)."""

from __future__ import annotations

import re
import string
import tomllib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy.http import HtmlResponse

from spiders.discovery.classify import (
    GONE,
    LISTING,
    OTHER,
    PROFILE,
    classify_page,
    stated_total,
)
from spiders.discovery.learner import (
    CHROME,
    HIGH,
    LOW,
    MIXED,
    REDUNDANT,
    REJECTED,
    SITEMAP,
    SiteLearner,
    canonical,
)
from spiders.discovery.links import ENTRY, PAGINATION, PERSON, page_links, pagination_kinds
from spiders.discovery.names import read_name
from spiders.discovery.report import discovery_report, format_text, registry_entry
from spiders.discovery.templates import template_ref, template_regex, url_template
from spiders.registry import load_registry

BASE = "http://127.0.0.1:8000"


def page(body: str, path: str = "/x", status: int = 200) -> HtmlResponse:
    return HtmlResponse(BASE + path, body=body.encode("utf-8"), encoding="utf-8", status=status)


def html(main: str, *, title: str = "Page | Riverside Health", head: str = "") -> str:
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title>{head}</head><body>"
        '<header><nav><a href="/">Home</a> <a href="/about-us">About Us</a>'
        ' <a href="/contact-us">Contact Us</a> <a href="/news">News</a></nav></header>'
        f"<main>{main}</main><footer><a href='/privacy'>Privacy Policy</a></footer></body></html>"
    )


def ld(data: str) -> str:
    return f'<script type="application/ld+json">{data}</script>'


# -- URL templates --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "template"),
    [
        ("/doctors/jane-q-doe-10482", "/doctors/{id}"),
        ("/Doctors/Jane-Q-Doe-10482/", "/doctors/{id}"),
        ("/physician-directory/12345", "/physician-directory/{id}"),
        ("/faculty/jane-doe", "/faculty/{slug}"),
        ("/Faculty/Jane_Doe.html", "/faculty/{slug}.html"),
        ("/find/provider.aspx?ID=77", "/find/provider.aspx?id"),
        ("/find/Provider.aspx?id=77&name=jane-doe", "/find/provider.aspx?id&name"),
        ("/profile.php?pid=9&utm_source=mail", "/profile.php?pid"),
        ("/cardiology/dr-jane-doe.cfm", "/cardiology/{slug}.cfm"),
        ("/departments/cardiology/doctors/jane-doe", "/departments/cardiology/doctors/{slug}"),
        ("/news/2024/05/new-heart-center", "/news/{id}/{id}/{slug}"),
        ("/find-a-doctor?page=3", "/find-a-doctor?page"),
        ("/find-a-doctor/page/3", "/find-a-doctor/page/{id}"),
        ("/faculty?letter=B&page=2", "/faculty?letter&page"),
        ("/", "/"),
        ("/en/persons/jane-doe-3f2a", "/en/persons/{id}"),
        ("/p/123.jsp", "/p/{id}.jsp"),
    ],
)
def test_url_template(url, template):
    assert url_template(BASE + url) == template


_segment = st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=12)


@given(st.lists(_segment, min_size=1, max_size=5), st.booleans(), st.booleans())
def test_template_ignores_case_trailing_slash_fragment_and_query_order(segments, slash, upper):
    path = "/" + "/".join(segments) + ("/" if slash else "")
    url = BASE + (path.upper() if upper else path) + "?b=2&a=1#top"
    assert url_template(url) == url_template(BASE + "/" + "/".join(segments) + "?a=9&b=8")


@given(st.text(max_size=80))
def test_templates_refs_and_canonical_forms_never_raise(junk):
    for url in (junk, BASE + "/" + junk, "http://" + junk):
        try:
            url_template(url)
            template_ref(url)
            canonical(url)
        except ValueError:  # urllib refuses some hosts ("[" ...): the crawler never sees them
            pass


@pytest.mark.parametrize(
    ("url", "ref"),
    [
        ("/doctors/jane-q-doe-10482", "jane-q-doe-10482"),
        ("/doctors/10482-jane-doe", "10482-jane-doe"),
        ("/Doctors/JV29901/", "JV29901"),
        ("/doctors/10482/Jane-Doe", "10482/jane-doe"),
        ("/physician-directory/20300/", "20300"),
        ("/faculty/Jane-Doe.html", "jane-doe"),
        ("/Provider.aspx?providerId=77&tab=bio", "77"),
        ("/profile.php?name=jane&pid=5", "5"),
    ],
)
def test_template_ref(url, ref):
    assert template_ref(BASE + url) == ref


@given(
    st.lists(st.sampled_from(["doctors", "Find", "people", "md", "x_y"]), max_size=2),
    st.sampled_from(["jane-doe", "Jane-Q-Doe-4410", "7781", "dr-wei-chen"]),
    st.sampled_from(["", ".html", ".aspx", ".php"]),
    st.booleans(),
)
def test_template_regex_matches_its_urls_and_captures_the_ref(folders, last, extension, slash):
    url = BASE + "/" + "/".join([*folders, last + extension]) + ("/" if slash and not extension else "")
    regex = re.compile(template_regex(url_template(url)))
    match = regex.search(url)
    ref = template_ref(url)
    assert match and next(g for g in match.groups() if g).casefold() == ref.casefold()
    assert not regex.search(BASE + "/about-us/" + last + "/extra")


def test_template_regex_for_query_ids():
    template = url_template(BASE + "/find/Provider.aspx?tab=bio&ID=77")
    regex = re.compile(template_regex(template))
    assert regex.search(BASE + "/find/provider.aspx?id=12&tab=x").group(1) == "12"
    assert not regex.search(BASE + "/find/provider.aspx?id=12")  # the tab key is part of it


# -- names ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "shaped", "clinician", "physician"),
    [
        ("Dr. Jane Q. Doe, MD, FACC", True, True, True),
        ("Jane Doe MD", True, True, True),
        ("Doe, Jane Q., M.D.", True, True, True),
        ("Dr. Aisha Q. Sørensen, MD", True, True, True),
        ("Łukasz Żółw, DO", True, True, True),
        ("Jean-Luc O'Brien, PA-C", True, True, False),
        ("Maria de la Cruz, NP", True, True, False),
        # Particles come on top of the name words: six words, four of them name words.
        ("Dr. Ana Lucía H. de la Fuente", True, True, False),
        ("Maria Luisa van der Berg-de la Cruz, MD", True, True, True),
        ("Jane Ann Mary Lou Beth Doe", False, False, False),
        ("Dr. Wei Chen", True, True, False),
        ("Elena Thompson, PhD", True, False, False),
        ("Mary Smith, RN", True, False, False),
        ("Doe, Jane", True, False, False),
        # All capitals, surname first: case tells no name word from a credential.
        ("DE LA FUENTE, SUNITA, MD", True, True, True),
        ("NGUYEN, VAN, DO", True, True, True),
        # ... particles in capitals come on top too (seed 9700030), but a capital VAN alone
        # with a surname is still two name words.
        ("ANA LUCÍA V. VAN DER MEER, MD", True, True, True),
        ("VAN NGUYEN, MD", True, True, True),
        ("JANE ANN MARY LOU BETH DOE", False, False, False),
        ("DOE, FRANK, MD, CPPS", True, True, True),
        ("LEE, ANN", True, False, False),
        ("KIM, PAUL, PA-C", True, True, False),
        ("Find a Doctor", False, False, False),
        ("Heart & Vascular Group", False, False, False),
        ("Showing 1-20 of 45 doctors", False, False, False),
        ("Next", False, False, False),
        ("", False, False, False),
    ],
)
def test_read_name(text, shaped, clinician, physician):
    reading = read_name(text)
    assert (reading.shaped, reading.clinician, reading.physician) == (shaped, clinician, physician)


# Names drawn here, not from the code's tables: syllables (any letters a name may have), and
# words that look like credentials or particles in capitals. (A given name that spells a degree
# after a surname, "DE SOUSA, MA, MD", stays ambiguous in capitals: those are surnames only.)
_SYLLABLE = st.from_regex(r"[bcdfghjklmnprstvwz][aeiou][nrl]?", fullmatch=True)
_NAME_WORD = st.lists(_SYLLABLE, min_size=2, max_size=4).map(lambda s: "".join(s).capitalize())
_GIVEN = _NAME_WORD | st.sampled_from(["Fatima", "Frank", "Faith", "Pat", "Paul", "Ann", "Van"])
_FAMILY = _NAME_WORD | st.sampled_from(["Ma", "Do", "Ba", "Le", "Fernanda", "Faa", "Ng", "Md"])
_PARTICLE = st.sampled_from(["", "de ", "de la ", "van ", "Da ", "del "])


@settings(max_examples=300, deadline=None)
@given(
    given_name=_GIVEN, family=_FAMILY, particle=_PARTICLE, caps=st.booleans(),
    surname_first=st.booleans(), degree=st.sampled_from(["MD", "DO", "M.D.", "MBBS"]),
    extras=st.lists(st.sampled_from(["FACS", "PhD", "MPH", "FACOG", "FRCPC"]), max_size=2),
)  # fmt: skip
def test_a_physicians_name_reads_so_in_capitals_and_surname_first(
    given_name, family, particle, caps, surname_first, degree, extras
):
    family = particle + family
    name = f"{family}, {given_name}" if surname_first else f"{given_name} {family}"
    text = ", ".join([name, degree, *extras])
    text = text.upper() if caps else text
    reading = read_name(text)
    assert reading.physician, (text, reading)
    assert reading.name == (name.upper() if caps else name), (text, reading)


@given(st.text(alphabet=st.sampled_from(" ,.-ABDMCFPHlaex"), max_size=30) | st.text(max_size=40))
def test_read_name_never_raises(text):
    """Commas, capitals and credential letters in any order, empty parts included ("x y, ")."""
    reading = read_name(text)
    assert reading.clinician <= reading.shaped


# -- profiles by content --------------------------------------------------------------------------
PHYSICIAN_LD = """{"@context": "https://schema.org", "@type": "Physician", "name": "Jane Q. Doe",
 "honorificSuffix": "MD", "medicalSpecialty": "Cardiology", "usNPI": "1234567893"}"""


@pytest.mark.parametrize(
    ("body", "path", "physician", "syntax"),
    [
        # JSON-LD at a URL no pattern would guess
        (html("<h1>Jane Q. Doe, MD</h1>", head=ld(PHYSICIAN_LD)), "/x/7Gk2/view.cfm?u=9", True,
         "jsonld"),
        # ProfilePage.mainEntity, IndividualPhysician
        (html("<h1>Dr. Wei Chen</h1>", head=ld('{"@type": "ProfilePage", "mainEntity": '
              '{"@type": "IndividualPhysician", "name": "Wei Chen", "medicalSpecialty": '
              '"https://schema.org/Cardiovascular"}}')), "/p/1", True, "jsonld"),
        # a Person with clinical signals, no physician type
        (html("<h1>Ann Lee</h1>", head=ld('{"@type": "Person", "name": "Ann Lee", '
              '"honorificSuffix": "DO", "jobTitle": "Family Physician"}')), "/a", True, "jsonld"),
        # a medical business named as the person
        (html("<h1>Dr. Ravi Patel, MD</h1>", head=ld('{"@type": "MedicalBusiness", '
              '"name": "Dr. Ravi Patel, MD", "telephone": "555-0100"}')), "/b", True, "jsonld"),
        # microdata faculty profile of a clinician
        (html('<article itemscope itemtype="https://schema.org/Person"><h1 itemprop="name">'
              'Jane Doe, MD, PhD</h1><p itemprop="jobTitle">Professor of Medicine</p></article>'),
         "/f/jane", True, "microdata"),
        # a researcher: a profile, but not a physician
        (html('<article itemscope itemtype="https://schema.org/Person"><h1 itemprop="name">'
              'Elena Thompson, PhD</h1><p itemprop="jobTitle">Professor of Biochemistry</p>'
              "</article>"), "/f/elena", False, "microdata"),
        # RDFa
        (html('<div vocab="https://schema.org/" typeof="Physician"><h1 property="name">'
              'Dr. Omar Haddad, MD</h1><span property="medicalSpecialty">Urology</span></div>'),
         "/r", True, "rdfa"),
        # HTML only: a clinician's name and profile sections
        (html("<h1>Dr. Sofia Lindqvist, DO</h1><h2>Areas of Expertise</h2><p>Sports medicine</p>"
              "<h2>Education</h2><p>Residency: Boston Medical Center</p>"
              "<address>9 Main St<br>Worcester, MA 01605</address>"), "/s", True, "html"),
    ],
    ids=["jsonld-odd-url", "mainentity", "person-signals", "business-as-person", "microdata",
         "researcher", "rdfa", "html-only"],
)  # fmt: skip
def test_profiles_are_recognised_by_content(body, path, physician, syntax):
    result = classify_page(page(body, path))
    assert result.kind == PROFILE, result.evidence
    assert result.physician is physician and result.syntax == syntax


REVIEWERS = ld('[{"@type": "Person", "name": "Patricia Gomez", "givenName": "Patricia"},'
               ' {"@type": "Person", "name": "Tom B.", "jobTitle": "Verified patient"}]')  # fmt: skip


@pytest.mark.parametrize(
    "body",
    [
        # a news article by a physician: the author is a bystander
        html("<h1>New heart center opens</h1><p>By Dr. Jane Doe, MD</p>", head=ld(
            '{"@type": "NewsArticle", "headline": "New heart center opens", "author": '
            '{"@type": "Person", "name": "Jane Doe", "honorificSuffix": "MD", '
            '"jobTitle": "Cardiologist"}}')),
        # the author as its own @graph node, referenced by @id
        html("<h1>Flu season tips</h1>", head=ld(
            '{"@graph": [{"@type": "BlogPosting", "headline": "Flu season tips", "author": '
            '{"@id": "#a"}}, {"@type": "Person", "@id": "#a", "name": "Omar Haddad", '
            '"honorificSuffix": "MD", "medicalSpecialty": "Infectious Disease"}]}')),
        # reviews of a doctor
        html("<h1>Patient reviews</h1>", head=REVIEWERS),
        # a staff contact
        html("<h1>Mary Smith, RN</h1><p>Practice manager</p><a href='tel:5550100'>555-0100</a>"),
        # an organisation typed Physician (schema.org v24)
        html("<h1>Heart &amp; Vascular Group</h1>", head=ld(
            '{"@type": "Physician", "name": "Heart & Vascular Group", "medicalSpecialty": '
            '"Cardiology"}')),
        # a clinician's name as a heading but nothing of a profile
        html("<h1>Dr. Jane Doe, MD</h1>"),
        # a location page
        html("<h1>Westside Clinic</h1><address>9 Main St<br>Worcester, MA 01605</address>"),
    ],
    ids=["news-author", "graph-author", "reviews", "staff", "organisation", "bare-name",
         "location"],
)  # fmt: skip
def test_traps_are_not_profiles(body):
    assert classify_page(page(body)).kind == OTHER


def test_a_page_listing_many_people_is_a_listing_not_a_profile():
    people = ",".join(
        f'{{"@type": "Physician", "name": "Doctor {c} Example", "honorificSuffix": "MD", '
        f'"url": "/d/{c}"}}'
        for c in "ABCD"
    )
    body = html("<h1>Our cardiologists</h1>", head=ld(f'{{"@graph": [{people}]}}'))
    assert classify_page(page(body)).kind == LISTING


def test_a_doctor_of_philosophy_over_an_academic_title_is_a_researchers_profile():
    fields = (
        "<div><b>Post-nominals</b> PhD, MPH</div>"
        "<div><b>Title</b> Adjunct Professor of Cell Biology</div>"
        "<div><b>Research Focus</b> cohort studies of cardiovascular risk</div>"
    )
    result = classify_page(page(html(f"<h1>Dr. Minh Kaczmarek</h1>{fields}")))
    assert result.kind == PROFILE and result.physician is False, result.evidence
    # "Dr." over neither an academic title nor a doctorate is no one's profile yet.
    plain = classify_page(page(html("<h1>Dr. Minh Kaczmarek</h1><p>Welcome to our blog.</p>")))
    assert plain.kind == OTHER


@pytest.mark.parametrize(
    ("text", "total"),
    [
        ("<p>47 results</p>", 47),
        ("<p>Showing 1-10 of 1,247 physicians</p>", 1247),
        ("<p>Results: 47</p><nav>Page 1 of 5</nav>", 47),
        ("<h2>12 doctors found</h2><p>Showing 1–12 of 12</p>", 12),
        ("<p>Ergebnisse (31)</p>", 31),
        ("<p>Mostrando 1-20 de 85 médicos</p>", 85),
        ("<nav>Page 1 of 5</nav>", None),  # pages, not results
        ("<p>3 results</p><p>4 results</p>", None),  # two counts: none to trust
        ("<p>Call 555-0147 for an appointment.</p>", None),
    ],
)
def test_a_listing_page_says_how_many_results_its_list_holds(text, total):
    assert stated_total(page(html(text)).selector.root) == total


def test_error_pages_are_gone():
    assert classify_page(page(html("<h1>Error 404 - page not found</h1>"))).kind == GONE
    assert classify_page(page(html("<h1>Dr. Jane Doe, MD</h1>"), status=404)).kind == GONE


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=400))
def test_classify_page_never_raises(junk):
    body = b"<html><body><div itemscope itemtype='https://schema.org/Person'>" + junk
    result = classify_page(HtmlResponse(BASE + "/j", body=body, encoding="utf-8"))
    assert result.kind in (PROFILE, LISTING, OTHER, GONE)


# Menu words of real directories (hospital, practice, faculty and foreign sites), and the menu
# items beside them that lead to no directory.
@pytest.mark.parametrize(
    "text, entry",
    [
        ("Find Care", True), ("Find a Specialist", True), ("Our Consultants", True),
        ("Meet the Team", True), ("Physician Directory", True), ("Who's Who", True),
        ("Cuadro médico", True), ("Nuestros medicos", True), ("Unsere Ärzte", True),
        ("Trouver un médecin", True), ("Corpo clínico", True), ("Onze artsen", True),
        ("Find a Location", False), ("Find Urgent Care", False), ("Pay Your Bill", False),
        ("Find a Clinical Trial", False), ("Careers", False), ("Leadership", False),
        ("Medical Records", False), ("Patient Stories", False),
    ],
)  # fmt: skip
def test_directory_entry_links_are_known_by_their_words(text, entry):
    body = html(f'<main><p>Welcome.</p><a href="/go">{text}</a></main>')
    roles = [link.role for link in page_links(page(body, "/").selector.root, BASE + "/")]
    assert (ENTRY in roles) is entry, roles


# -- listings: people links, pagination, cards ------------------------------------------------------
def cards_page(n: int = 4, *, linked: bool = True, extra: str = "") -> str:
    def name(i: int) -> str:
        text = f"Dr. Person{chr(65 + i)} Example{chr(65 + i)}, MD"
        return f'<a href="/find/Provider.aspx?id={i}">{text}</a>' if linked else text

    cards = "".join(
        f'<li class="result"><h3>{name(i)}</h3>'
        f"<p>Specialty: Cardiology</p><p>12 Elm St</p><p>Boston, MA 02114</p>"
        f"<p><a href='tel:617555010{i}'>(617) 555-010{i}</a></p>"
        f"<a href='/find/Provider.aspx?id={i}'>View profile</a> <a href='/book?d={i}'>Book</a></li>"
        for i in range(n)
    )
    return html(f"<h1>Search results</h1><ul>{cards}</ul>{extra}", head=REVIEWERS)


def test_a_card_only_results_page_with_reviewer_persons_is_a_listing_of_cards():
    result = classify_page(page(cards_page(linked=False), "/results"))
    assert result.kind == LISTING
    assert len(result.cards) == 4
    card = result.cards[0]
    assert card["name"] == "Dr. PersonA ExampleA, MD" and card["degrees"] == ["MD"]
    assert card["specialties"] == ["Cardiology"] and card["profile_url"] is None
    assert card["locations"] == [{"name": None, "street": "12 Elm St", "city": "Boston",
                                  "state": "MA", "zip": "02114", "phone": "(617) 555-0100"}]  # fmt: skip


def test_cards_link_their_profiles_and_nothing_else_leads_to_people():
    result = classify_page(page(cards_page(), "/results"))
    people = {link.url for link in result.links if link.role == PERSON}
    assert people == {f"{BASE}/find/Provider.aspx?id={i}" for i in range(4)}
    assert [c["profile_url"] for c in result.cards] == sorted(people)


@pytest.mark.parametrize("wrapper", ['<div id="root">', '<div class="page-wrap"><div>'])
def test_a_box_around_the_whole_page_is_no_card(wrapper):
    """A client-side app's mount (or a theme's page wrapper) holds the logo link, the menu and
    every card: it is the page, not a card of the one clinician in it with the first profile
    link in it (seed 1015, rendered: a clinician's card read with the practice manager's
    profile link, listed before hers)."""
    manager = ('<li class="result"><h3>Rafael Haddad MHA</h3><p>Chief Executive Officer</p>'
               "<p><a href='tel:5445550115'>(544) 555-0115</a></p>"
               "<a href='/find/Provider.aspx?id=9'>Learn more</a></li>")
    body = cards_page(1).replace('<ul><li class="result">', f'<ul>{manager}<li class="result">')
    body = body.replace("<body>", "<body>" + wrapper).replace(
        "</body>", "</div>" * wrapper.count("<div") + "</body>")
    body = body.replace('<nav><a href="/">Home</a>', '<a href="/">Riverside Health</a><nav>')
    result = classify_page(page(body, "/results"))
    assert [(c["name"], c["profile_url"]) for c in result.cards] == [
        ("Dr. PersonA ExampleA, MD", f"{BASE}/find/Provider.aspx?id=0")]


def test_a_faculty_a_z_index_in_microdata_is_a_listing():
    letters = "".join(f'<a href="/people/az/{c.lower()}/">{c}</a>' for c in string.ascii_uppercase)
    rows = "".join(
        f'<tr itemscope itemtype="https://schema.org/Person"><td><a itemprop="url" '
        f'href="/people/{n.lower()}-smith.html"><span itemprop="name">Smith, {n}</span></a></td>'
        f'<td itemprop="jobTitle">Professor</td></tr>'
        for n in ("Anna", "Boris", "Chidi", "Dana")
    )
    body = html(f'<nav class="az">{letters}</nav><h1>Faculty: S</h1><table>{rows}</table>')
    result = classify_page(page(body, "/people/az/s/"))
    assert result.kind == LISTING, result.evidence
    assert "a-z letters" in result.pagination
    assert len([link for link in result.links if link.role == PERSON]) == 4


@pytest.mark.parametrize(
    ("anchor", "form"),
    [
        ('<a rel="next" href="/list?x=1&pg=2">Suivant</a>', "?pg="),
        ('<a href="/list?page=2">Next</a>', "?page="),
        ('<a href="/list?p=2">›</a>', "?p="),
        ('<a href="/list?start=20">»</a>', "?start="),
        ('<a href="/list?offset=20">Next page</a>', "?offset="),
        ('<a href="/list/page/2/">2</a>', "/page/N"),
        ('<a href="/list;2">Next &gt;</a>', "next link"),
        ('<a href="/list/2" rel="next">More</a>', "rel=next"),
        ('<a href="/list/two">3</a>', "numbered pages"),
    ],
)
def test_pagination_forms(anchor, form):
    links = page_links(page(html(f"<h1>Doctors</h1>{anchor}"), "/list").selector.root, BASE + "/list")
    assert pagination_kinds(links) == [form] and links[-2].role == PAGINATION


# -- the learner ----------------------------------------------------------------------------------
def urls(template: str, n: int, start: int = 0) -> list[str]:
    return [BASE + template.format(i=i) for i in range(start, start + n)]


def test_a_group_whose_samples_are_profiles_is_crawled_whole():
    learner = SiteLearner(seed="t")
    for url in urls("/dr/{i}-x", 30):
        assert learner.offer(url, SITEMAP, "sitemap") == []
    assert learner.flush() == []  # named only by a sitemap: sampled when the crawl is idle
    samples = learner.explore()
    assert [f.purpose for f in samples] == ["sample", "sample"]
    assert learner.observe(samples[0].url, samples[0].template, PROFILE) == []
    released = learner.observe(samples[1].url, samples[1].template, PROFILE)
    assert len(released) == 28 and {f.purpose for f in released} == {"crawl"}
    # Later URLs of the group are fetched at once.
    assert learner.offer(BASE + "/dr/99-x", LOW, "link")[0].purpose == "crawl"


def test_a_group_whose_samples_are_other_pages_is_not_fetched():
    learner = SiteLearner(seed="t")
    for url in urls("/news/story-{i}", 20):
        learner.offer(url, SITEMAP, "sitemap")
    samples = learner.explore()
    for fetch in samples:
        assert learner.observe(fetch.url, fetch.template, OTHER) == []
    assert learner.groups["/news/{id}"].kind == REJECTED
    assert learner.offer(BASE + "/news/story-99", HIGH, "person") == []  # reopened, not fetched
    assert learner.samples_used == 2


def test_disagreeing_samples_get_more_and_a_mostly_useful_group_is_mixed():
    learner = SiteLearner(seed="t")
    for url in urls("/{i}", 1) + [BASE + f"/p{i}" for i in range(40)]:
        learner.offer(url, SITEMAP, "sitemap")
    kinds = iter([OTHER, PROFILE, PROFILE, PROFILE])
    fetches = learner.explore()
    while fetches:
        fetch = fetches.pop()
        more = learner.observe(fetch.url, fetch.template, next(kinds))
        if learner.groups[fetch.template].kind != "unknown":
            break
        fetches += more
    assert learner.groups["/{id}"].kind == MIXED


def test_the_sample_budget_is_kept():
    learner = SiteLearner(budget=5, seed="t")
    for n in range(10):
        for url in urls(f"/section{chr(97 + n)}/{{i}}-y", 3):
            learner.offer(url, SITEMAP, "content")
    assert len(learner.flush()) == 5 and learner.samples_used == 5


def test_low_priority_groups_are_explored_only_while_no_profile_was_found():
    learner = SiteLearner(seed="t")
    for url in urls("/menu/item-{i}", 3):
        learner.offer(url, LOW, "content")
    assert learner.flush() == []
    fetches = learner.explore()
    assert fetches and fetches[0].purpose == "sample"
    learner.observe(fetches[0].url, fetches[0].template, PROFILE)
    assert learner.explore() == []


def _sitemap_site(learner: SiteLearner, *, directory: bool) -> None:
    """Profiles, news and a second department of profiles named by a sitemap; the profiles
    found (from the directory's listing page, or from the sitemap alone)."""
    for url in urls("/dept/heart/dr/{i}-x", 20) + urls("/news/story-{i}", 9):
        learner.offer(url, SITEMAP, "sitemap")
    learner.offer(BASE + "/dept/lung/dr/1-x", SITEMAP, "sitemap")
    learner.offer(BASE + "/dept/lung/dr/2-x", SITEMAP, "sitemap")
    assert learner.flush() == []
    if directory:
        learner.offer(BASE + "/doctors", HIGH, "entry", entry=True)
        (entry,) = learner.flush()
        learner.observe(entry.url, entry.template, LISTING, people=20, new_people=0)
    first = learner.explore()
    assert {f.template for f in first} == {"/dept/heart/dr/{id}"}  # the largest group first
    for fetch in first:
        learner.observe(fetch.url, fetch.template, PROFILE)


def test_a_directory_lists_its_people_so_groups_only_a_sitemap_names_are_left():
    learner = SiteLearner(seed="t")
    _sitemap_site(learner, directory=True)
    # Only the other department of the crawled profiles' family is sampled; the news are not.
    assert {f.template for f in learner.explore()} == {"/dept/lung/dr/{id}"}
    assert learner.groups["/news/{id}"].fetched == 0


def test_without_a_directory_every_group_of_the_sitemap_is_sampled():
    learner = SiteLearner(seed="t")
    _sitemap_site(learner, directory=False)
    fetches = learner.explore()
    assert {f.template for f in fetches} == {"/dept/lung/dr/{id}", "/news/{id}"}
    # The directory may hide among the site's own pages: one sample of them does not decide.
    news = [f for f in fetches if f.template == "/news/{id}"]
    assert len(news) == 2


@pytest.mark.parametrize(
    ("kinds", "decision"),
    [((PROFILE, OTHER, PROFILE, OTHER), MIXED), ((OTHER, PROFILE, OTHER, OTHER), REJECTED)],
)
def test_a_group_whose_samples_are_half_profiles_is_crawled(kinds, decision):
    """Profiles beside staff pages in one folder: half the samples useful is enough."""
    learner = SiteLearner(seed="t")
    for url in urls("/people/{i}-x", 30):
        learner.offer(url, HIGH, "person")
    observed = iter(kinds)
    fetches = learner.flush()
    while fetches and learner.groups["/people/{id}"].kind == "unknown":
        fetch = fetches.pop(0)
        fetches += learner.observe(fetch.url, fetch.template, next(observed))
    assert learner.groups["/people/{id}"].kind == decision


@pytest.mark.parametrize(("new_people", "decision"), [(0, REJECTED), (4, MIXED)])
def test_a_bag_of_pages_whose_listings_show_only_people_found_before_is_not_crawled(
    new_people, decision
):
    """A site's menu pages: a news index and a staff list (listings of people found before:
    their links are offered already) beside two other pages are no reason to fetch the rest;
    listings that led to people nobody had found are."""
    learner = SiteLearner(seed="t")
    for url in urls("/{i}-page", 9):
        learner.offer(url, SITEMAP, "chrome")
    observed = iter((LISTING, OTHER, LISTING, OTHER))
    fetches = learner.flush()
    while fetches and learner.groups["/{id}"].kind == "unknown":
        fetch = fetches.pop(0)
        kind = next(observed)
        people = 5 if kind == LISTING else 0
        fetches += learner.observe(fetch.url, fetch.template, kind, people=people,
                                   new_people=min(people, new_people))  # fmt: skip
    assert learner.groups["/{id}"].kind == decision


def test_a_directory_the_menus_link_is_sampled_though_the_sitemap_led_to_profiles():
    """A sitemap may name only some people: one page the site's menus link (its directory,
    perhaps) is tried; one page the sitemap alone names (about, contact) is not."""
    learner = SiteLearner(seed="t")
    for url in urls("/dr/{i}-x", 10):
        learner.offer(url, SITEMAP, "sitemap")
    learner.offer(BASE + "/find/results.aspx", SITEMAP, "sitemap")
    learner.offer(BASE + "/find/results.aspx", CHROME, "chrome")
    learner.offer(BASE + "/contact", SITEMAP, "sitemap")
    for fetch in learner.explore():
        learner.observe(fetch.url, fetch.template, PROFILE)
    assert {f.url for f in learner.explore()} == {BASE + "/find/results.aspx"}


def test_departments_of_dead_addresses_or_one_staff_page_say_nothing_of_their_family():
    """One department robots.txt keeps us from (every sample gone) and two whose sampled
    page was a staff page: another department is still sampled, not rejected with them."""
    learner = SiteLearner(seed="t")
    for dept, n in (("anesthesia", 3), ("eyes", 1), ("skin", 2)):
        for url in urls(f"/dept/{dept}/dr/{{i}}-x", n):
            learner.offer(url, HIGH, "person")
    kinds = {"anesthesia": GONE, "eyes": OTHER, "skin": OTHER}
    fetches = learner.flush()
    while fetches:  # (as the spider does: what an answer released, then what waited)
        fetch = fetches.pop()
        fetches += learner.observe(fetch.url, fetch.template, kinds[fetch.url.split("/")[4]])
        fetches += learner.flush()
    for dept in kinds:
        assert learner.groups[f"/dept/{dept}/dr/{{id}}"].kind == REJECTED
    learner.offer(BASE + "/dept/heart/dr/1-x", HIGH, "person")
    assert learner.groups["/dept/heart/dr/{id}"].kind == "unknown"
    assert [f.purpose for f in learner.flush()] == ["sample"]


def test_a_department_rejected_on_its_staff_page_is_crawled_once_its_family_holds_profiles():
    learner = SiteLearner(seed="t")
    learner.offer(BASE + "/dept/eyes/dr/1-x", HIGH, "person")
    learner.offer(BASE + "/dept/eyes/dr/2-x", HIGH, "person")
    (sample,) = learner.flush()  # a group of two: one sample says enough
    learner.observe(sample.url, sample.template, OTHER)  # its staff page
    assert learner.groups["/dept/eyes/dr/{id}"].kind == REJECTED
    for dept in ("heart", "lung", "kidney"):
        for url in urls(f"/dept/{dept}/dr/{{i}}-x", 3):
            learner.offer(url, HIGH, "person")
    released = []
    fetches = learner.flush()
    while fetches:
        fetch = fetches.pop()
        if fetch.template == "/dept/eyes/dr/{id}":
            released.append(fetch.url)
        else:
            fetches += learner.observe(fetch.url, fetch.template, PROFILE)
    assert learner.groups["/dept/eyes/dr/{id}"].kind == MIXED
    other = {BASE + "/dept/eyes/dr/1-x", BASE + "/dept/eyes/dr/2-x"} - {sample.url}
    assert released == list(other)


def test_samples_go_first_to_addresses_two_sources_name():
    """A listing's links that the sitemap does not name may be its broken ones: a profile
    group is sampled on addresses both name, and is not rejected on dead links."""
    learner = SiteLearner(seed="t")
    alive = urls("/dr/{i}-x", 20)
    for url in alive:
        learner.offer(url, SITEMAP, "sitemap")
    for url in alive + [BASE + f"/dr/{i}-x" for i in range(100, 120)]:  # 20 broken links
        learner.offer(url, HIGH, "person")
    samples = learner.flush()
    assert len(samples) == 2 and {f.url for f in samples} <= set(alive)
    assert all(learner.observe(f.url, f.template, PROFILE) is not None for f in samples)
    assert learner.groups["/dr/{id}"].kind == PROFILE


def test_a_group_rejected_on_pages_that_were_the_sites_missing_page_is_judged_again():
    learner = SiteLearner(seed="t")
    for url in urls("/dr/{i}-x", 10):
        learner.offer(url, HIGH, "person")
    first = learner.flush()
    for fetch in first:  # two soft 404s, read as "other" pages
        learner.observe(fetch.url, fetch.template, OTHER)
    assert learner.groups["/dr/{id}"].kind == REJECTED
    # The same page came back for another address: both were the site's missing page.
    again = learner.reclassify(first[0].url, GONE) + learner.reclassify(first[1].url, GONE)
    # (after two dead addresses, one sample at a time: a third would leave the group)
    assert learner.groups["/dr/{id}"].kind == "unknown" and len(again) == 1
    second = learner.observe(again[0].url, again[0].template, PROFILE)
    assert len(second) == 1 and second[0].purpose == "sample"
    released = learner.observe(second[0].url, second[0].template, PROFILE)
    assert learner.groups["/dr/{id}"].kind == PROFILE and len(released) == 6
    assert +learner.groups["/dr/{id}"].outcomes == {GONE: 2, PROFILE: 2}


def test_templates_learned_before_are_used_and_noticed_when_they_stop_yielding():
    learner = SiteLearner(prior={"templates": [{"template": "/dr/{id}", "kind": "profile"},
                                               {"template": "/news/{slug}", "kind": "rejected"}]})  # fmt: skip
    assert learner.offer(BASE + "/dr/1-x", SITEMAP, "sitemap")[0].purpose == "crawl"
    assert learner.offer(BASE + "/news/a", SITEMAP, "sitemap") == []
    for i in range(2, 6):
        learner.offer(BASE + f"/dr/{i}-x", SITEMAP, "sitemap")
    for i in range(1, 5):
        learner.observe(BASE + f"/dr/{i}-x", "/dr/{id}", OTHER)
    assert learner.stale == ["/dr/{id}"] and learner.groups["/dr/{id}"].kind == "unknown"


def test_a_listing_group_that_leads_to_nobody_new_is_left():
    learner = SiteLearner(prior={"templates": [{"template": "/dept?name", "kind": "listing"}]})
    for i in range(9):
        learner.offer(BASE + f"/dept?name={i}", HIGH, "content")
    # Three quiet pages of a few people each say little (one card whose profile link is
    # broken may be on the next page): the group stays, on probation.
    for i in range(3):
        learner.observe(BASE + f"/dept?name={i}", "/dept?name", LISTING, people=4, new_people=0)
    assert learner.groups["/dept?name"].kind == LISTING
    for i in range(3, 6):
        learner.observe(BASE + f"/dept?name={i}", "/dept?name", LISTING, people=15, new_people=0)
    assert learner.groups["/dept?name"].kind == REDUNDANT
    assert learner.offer(BASE + "/dept?name=99", HIGH, "content") == []


def test_letters_read_after_the_full_list_are_redundant_after_two_pages_that_only_repeat_it():
    learner = SiteLearner(seed="t")
    learner.views_open = True  # (the spider: every list walked, nothing else to fetch)
    fetches = []
    for letter in "ABCDEFGH":
        fetches += learner.offer(
            BASE + f"/people?letter={letter}", HIGH, "pagination", paging=True, view=True
        )
    assert learner.is_view("/people?letter")
    (first,) = fetches  # (on probation: one page at a time)
    (second,) = learner.observe(first.url, first.template, LISTING, people=3, shown_before=3)
    assert learner.observe(second.url, second.template, LISTING, people=2, shown_before=2) == []
    assert learner.groups["/people?letter"].kind == REDUNDANT
    # Read before the lists were walked, two such pages are not enough.
    early = SiteLearner(seed="t")
    for letter in "ABCDEFGH":
        early.offer(BASE + f"/people?letter={letter}", HIGH, "pagination", paging=True, view=True)
    early.observe(BASE + "/people?letter=A", "/people?letter", LISTING, people=3, shown_before=3)
    early.observe(BASE + "/people?letter=B", "/people?letter", LISTING, people=2, shown_before=2)
    assert early.groups["/people?letter"].kind == LISTING


def test_a_family_of_dead_profile_links_is_sampled_one_at_a_time_once_dead_and_then_left():
    """Every card's profile link broken, one per department: two members sampled at first,
    one at a time once a dead address came back; six dead samples from three departments, and
    the other departments are not fetched."""
    learner = SiteLearner(seed="t")
    depts = ["heart", "lung", "kidney", "skin", "eyes", "bone", "brain", "blood"]
    for dept in depts:
        learner.offer(BASE + f"/dept/{dept}/dr/1-x", HIGH, "person")
    fetches, fetched = learner.flush(), []
    assert len(fetches) == 2
    while fetches:
        fetch = fetches.pop()
        fetched.append(fetch.url)
        fetches += learner.observe(fetch.url, fetch.template, GONE) + learner.flush()
    assert len(fetched) == 6  # (not one more out when the sixth came back)
    assert all(learner.groups[f"/dept/{d}/dr/{{id}}"].kind == REJECTED for d in depts
               if BASE + f"/dept/{d}/dr/1-x" not in fetched)  # fmt: skip


def test_a_group_of_dead_profile_links_is_left_after_three_and_stays_left_as_it_grows():
    """Every card's profile link broken (one template): the first sample a removed profile's
    redirect to the directory (a listing), then dead addresses one at a time; three of them
    and the group is left, and the listing pages that offer more of its links do not reopen it
    (seed 6304001: 40 soft 404s fetched; seed 1003: 16 404s)."""
    learner = SiteLearner(seed="t")
    for url in urls("/dr/{i}-x", 4):
        learner.offer(url, HIGH, "person")
    fetches, fetched = learner.flush(), []
    while fetches:
        fetch = fetches.pop()
        fetched.append(fetch.url)
        kind = LISTING if len(fetched) == 1 else GONE
        fetches += learner.observe(fetch.url, fetch.template, kind) + learner.flush()
    assert len(fetched) == 4 and learner.groups["/dr/{id}"].kind == REJECTED
    for page_number in range(5):  # more listing pages, more of its links
        for url in urls("/dr/{i}-x", 10, start=10 * page_number + 10):
            assert learner.offer(url, HIGH, "person") == []
        assert learner.flush() == []
    assert learner.groups["/dr/{id}"].kind == REJECTED


def test_members_of_a_dead_family_with_samples_of_their_own_are_left_with_it():
    """Departments whose one broken link each was sampled, dead: six of them, and the family
    is dead; the next listing page offers each another link, and none is sampled (the
    departments sampled so far are left with the family, not sampled on)."""
    learner = SiteLearner(seed="t")
    depts = ["heart", "lung", "kidney", "skin", "eyes", "bone"]
    fetched = []
    for page_number in range(2):
        fetches = []
        for dept in depts:
            fetches += learner.offer(BASE + f"/dept/{dept}/dr/{page_number}-x", HIGH, "person")
        fetches += learner.flush()
        while fetches:
            fetch = fetches.pop(0)
            fetched.append(fetch.url)
            fetches += learner.observe(fetch.url, fetch.template, GONE) + learner.flush()
    assert len(fetched) == 6 and all("/0-x" in url for url in fetched)
    assert all(learner.groups[f"/dept/{d}/dr/{{id}}"].kind == REJECTED for d in depts)


def test_the_id_of_a_query_template_is_the_value_that_varies():
    """``?action=view&profile=jane-doe``: no digits, no key that says id; ``action`` is the
    same on every profile, so the ref (and a registry pattern's group) is ``profile``'s."""
    learner = SiteLearner(seed="t")
    names = ["jane-doe", "wei-chen", "ana-de-la-cruz"]
    for name in names:
        learner.offer(BASE + f"/person?action=view&profile={name}", SITEMAP, "sitemap")
    url = BASE + "/person?action=view&profile=wei-chen"
    assert learner.ref_key(url) == "profile"
    assert template_ref(url, key=learner.ref_key(url)) == "wei-chen"
    (group,) = [t for t in learner.templates() if t["template"] == "/person?action&profile"]
    regex = re.compile(template_regex(group["template"], group["example"], group["ref_key"]))
    assert regex.search(url).group(1) == "wei-chen"
    assert learner.ref_key(BASE + "/elsewhere?id=1") is None  # (never offered)


# -- the report -----------------------------------------------------------------------------------
def test_the_registry_entry_parses_and_its_patterns_match_what_was_learned(tmp_path):
    learner = SiteLearner(seed="t")
    learner.offer(BASE + "/find-a-doctor", HIGH, "entry", entry=True)
    for url in urls("/Doctors/Jane-Doe-{i}.aspx", 5):
        learner.offer(url, SITEMAP, "sitemap")
    queue = learner.flush()
    while queue or (queue := learner.explore()):  # (explore: what the spider does when idle)
        fetch = queue.pop()
        kind = LISTING if "find-a-doctor" in fetch.url else PROFILE
        if fetch.url == BASE + "/find-a-doctor":  # the entry links its pages
            for url in urls("/find-a-doctor?page={i}", 4):
                queue += learner.offer(url, HIGH, "pagination", paging=True)
        queue += learner.observe(fetch.url, fetch.template, kind, people=3, new_people=3)
    report = discovery_report(
        start_url=BASE + "/", entry=BASE + "/find-a-doctor", sitemaps=[BASE + "/sitemap.xml"],
        pagination=["?page="], state=learner.state(), samples=[], site_id="127.0.0.1:8000",
    )  # fmt: skip
    path = tmp_path / "sites.toml"
    path.write_text(registry_entry(report))
    entry = load_registry(path)["127-0-0-1-8000"]
    assert entry.platform == "schemaorg_sitemap"
    profile = re.compile(entry.profile_pattern)
    assert profile.search(BASE + "/doctors/jane-doe-3.aspx").group(1) == "jane-doe-3"
    listing = re.compile(entry.listing_pattern)
    assert listing.search(BASE + "/find-a-doctor?page=7") and listing.search(BASE + "/find-a-doctor")
    assert not listing.search(BASE + "/about-us")
    text = format_text(report)
    assert "/doctors/{id}.aspx" in text and "profile" in text and "?page=" in text
    assert tomllib.loads(text.split("sites.toml entry:\n")[1].split("\nsample listings")[0])


def test_refs_of_two_pages_never_collide():
    """Two profiles ending in the same number (seed 5028: wei-singh-865026 and
    leilani-rosenthal-865026) are two pages: their refs differ, so neither is dropped as a
    duplicate."""
    urls = [BASE + "/Experts/wei-singh-865026.jsp", BASE + "/Experts/leilani-rosenthal-865026.jsp"]
    refs = {template_ref(url) for url in urls}
    assert refs == {"wei-singh-865026", "leilani-rosenthal-865026"}
    regex = re.compile(template_regex(url_template(urls[0])))
    assert {regex.search(url).group(1) for url in urls} == refs
