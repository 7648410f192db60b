"""One generated directory website: its drawn options, URL templates, every page, and the truth."""

from __future__ import annotations

import gzip
import html
import posixpath
import random
import re
import string
import urllib.robotparser
from typing import Any
from urllib.parse import urlencode

from pipeline.demo.server import Page
from pipeline.demo.sitegen import markup, vocab
from pipeline.demo.sitegen.client import ClientApp
from pipeline.demo.sitegen.decoys import build_decoys
from pipeline.demo.sitegen.markup import BASE, Style, esc
from pipeline.demo.sitegen.people import (
    NAME_STYLES,
    PHONE_FORMATS,
    Person,
    display_name,
    make_person,
    slugify,
)
from pipeline.demo.sitegen.sitemaps import GzPage, build_robots, build_sitemaps
from pipeline.demo.sitegen.truth import site_truth
from pipeline.demo.sitegen.urls import ProfileTemplate, cased, listing_shape, path_key

HTML = "text/html; charset=utf-8"

# Every option the generator draws, with its possible values: tests assert each value occurs.
OPTIONS: dict[str, tuple] = {
    "org_kind": ("hospital", "faculty", "group", "plan"),
    "id_style": ("numeric", "slug", "slug_id", "id_slug", "hex", "code"),
    "id_in": ("path", "query"),
    "extension": ("", ".html", ".htm", ".aspx", ".php", ".cfm", ".jsp"),
    "case": ("lower", "title", "camel"),
    "trailing_slash": (False, True),
    "nested_departments": (False, True),
    "markup": markup.MARKUPS,
    "html_layout": markup.HTML_LAYOUTS,
    "name_style": NAME_STYLES,
    "card_layout": markup.CARD_LAYOUTS,
    "sitemap": ("index", "flat", "gzip", "absent", "partial", "stale"),
    "robots": ("sitemap_line", "no_sitemap_line", "absent"),
    "disallow": ("none", "search", "decoys", "department", "profiles"),
    "listing": (False, True),
    "grouping": ("none", "az", "az_and_all", "departments"),
    "page_param": ("page", "offset", "path", "single"),
    "page_links": ("rel_next", "head_rel_next", "next_text", "aria_next", "numbered"),
    "card_mode": ("linked", "offsite", "disallowed", "broken", "unlinked"),
    "href_style": ("root", "absolute", "relative"),
    "staff_in_directory": (False, True),
    "listing_itemlist_jsonld": (False, True),
    "profile_reviews": (False, True),
    "related_providers": (False, True),
    "some_broken": (False, True),
    "page1_alias": (False, True),
    "listing_reviews_jsonld": (False, True),
    "unknown_status": ("404", "soft404"),
    "decoys": ("news", "reviews", "locations", "staff", "events", "people_list"),
    # How pages are delivered: as HTML, or as an app shell whose script fetches the content
    # (client.py). Drawn from its own generator: a seed's site is the same either way.
    "rendering": ("server", "client"),
}
CLIENT_SHARE = 0.15


class GeneratedSite:
    """A whole directory website drawn from ``seed``. See the package docstring."""

    def __init__(self, seed: int, *, people: int | None = None, rendering: str | None = None):
        self.seed = seed
        self.site_id = f"sitegen-{seed}"
        rng = random.Random(seed)
        self.options: dict[str, Any] = {}
        self._draw_options(rng)
        self._draw_people(rng, people)
        self._draw_templates(rng)
        self._draw_style(rng)
        self.pages: dict[str, Page | GzPage] = {}  # by path + query in a canonical order
        self.paths: dict[str, str] = {}  # the same key -> the path as the site links it
        self.links_from: dict[str, set[str]] = {}
        self.shown_on: dict[str, list[Person]] = {}  # listing page -> people whose cards it shows
        # the pages of the directory's full list (None) and of each letter or department view
        self.listing_views: dict[tuple[str, str] | None, list[str]] = {}
        self._build(rng)
        self.truth = site_truth(self)
        self._draw_rendering(rendering)

    # -- options ---------------------------------------------------------------------------------
    def _pick(self, rng: random.Random, name: str, weights: tuple[float, ...] | None = None):
        value = rng.choices(OPTIONS[name], weights=weights)[0]
        self.options[name] = value
        return value

    def _draw_options(self, rng: random.Random) -> None:
        o = self.options
        kind = self._pick(rng, "org_kind")
        self._pick(rng, "id_style")
        self._pick(rng, "id_in", (0.65, 0.35))
        self._pick(rng, "extension", (0.3, 0.15, 0.1, 0.15, 0.1, 0.1, 0.1))
        self._pick(rng, "case", (0.6, 0.25, 0.15))
        o["trailing_slash"] = o["id_in"] == "path" and not o["extension"] and rng.random() < 0.4
        self._pick(rng, "nested_departments", (0.7, 0.3))
        self._pick(rng, "markup")
        self._pick(rng, "html_layout")
        self._pick(rng, "name_style")
        self._pick(rng, "card_layout")
        sitemap = self._pick(rng, "sitemap")
        self._pick(rng, "robots", (0.55, 0.25, 0.2))
        self._pick(rng, "card_mode", (0.8, 0.05, 0.05, 0.05, 0.05))
        if o["card_mode"] == "disallowed" and o["robots"] == "absent":
            o["robots"] = "no_sitemap_line"  # profiles robots.txt forbids need a robots.txt
        self._pick(rng, "href_style", (0.6, 0.2, 0.2))
        if o["card_mode"] != "linked" or sitemap in ("absent", "partial"):
            o["listing"] = True
        else:
            o["listing"] = rng.random() < 0.7
        if o["card_mode"] == "disallowed":
            o["disallow"] = "profiles"
        else:
            choices = ["none", "search", "decoys"] + (["department"] if o["nested_departments"]
                                                      and o["listing"] else [])
            o["disallow"] = rng.choice(choices)
        o["grouping"] = rng.choice(OPTIONS["grouping"]) if o["listing"] else "none"
        if kind == "faculty" and o["listing"] and rng.random() < 0.5:
            o["grouping"] = rng.choice(("az", "departments"))
        o["page_param"] = rng.choice(OPTIONS["page_param"])
        links = rng.sample(OPTIONS["page_links"], rng.choice((1, 1, 2)))
        o["page_links"] = tuple(sorted(links))
        o["some_broken"] = o["card_mode"] == "linked" and o["listing"] and rng.random() < 0.2
        o["page1_alias"] = "numbered" in links and rng.random() < 0.3
        o["listing_reviews_jsonld"] = o["listing"] and rng.random() < 0.2
        o["listing_itemlist_jsonld"] = o["listing"] and rng.random() < 0.25
        # Practice managers and the like in the directory itself, on the profiles' template.
        o["staff_in_directory"] = kind != "faculty" and o["listing"] and rng.random() < 0.2
        o["unknown_status"] = rng.choice(OPTIONS["unknown_status"])
        o["profile_reviews"] = rng.random() < 0.25
        o["related_providers"] = rng.random() < 0.25
        decoys = [d for d in OPTIONS["decoys"] if rng.random() < 0.5]
        o["decoys"] = tuple(decoys or [rng.choice(OPTIONS["decoys"])])

    def _draw_rendering(self, forced: str | None) -> None:
        """Server or client rendering, drawn from a generator of its own so that the main one
        draws exactly what it drew before this option existed (same people, pages, templates).
        ``forced``: a test's choice; the app drawn is the same as when the draw says client."""
        rng = random.Random(f"{self.seed}/rendering")
        drawn = rng.choices(OPTIONS["rendering"], (1 - CLIENT_SHARE, CLIENT_SHARE))[0]
        if forced not in (None, *OPTIONS["rendering"]):
            raise ValueError(f"rendering must be one of {OPTIONS['rendering']}, not {forced!r}")
        self.options["rendering"] = forced or drawn
        self.client = ClientApp.draw(rng) if self.options["rendering"] == "client" else None

    # -- people ----------------------------------------------------------------------------------
    def _draw_people(self, rng: random.Random, count: int | None) -> None:
        o = self.options
        org_word = rng.choice(vocab.ORG_FIRST)
        self.org = f"{org_word} {rng.choice(vocab.ORG_KINDS[o['org_kind']])}"
        self.org_slug = slugify(self.org)
        phone_format = rng.choice(PHONE_FORMATS)
        n_depts = rng.randint(3, 6)
        departments = sorted({rng.choice(vocab.SPECIALTIES)[0][0] for _ in range(n_depts)})
        count = count or rng.randint(12, 70)
        kinds = {"faculty": (0.7, 0.05, 0.25), "plan": (0.8, 0.2, 0.0)}.get(
            o["org_kind"], (0.85, 0.13, 0.02))
        people, seen = [], set()
        while len(people) < count:
            kind = rng.choices(("physician", "app", "researcher"), weights=kinds)[0]
            faculty = o["org_kind"] == "faculty"  # elsewhere the department is the specialty
            person = make_person(rng, kind, org_word, phone_format, departments if faculty else [])
            if (person.given, person.family) not in seen:  # one person per name, as truth keys
                seen.add((person.given, person.family))
                people.append(person)
        self.people = people
        self.staff = [make_person(rng, "staff", org_word, phone_format, []) for _ in range(4)]
        self.directory_staff = [make_person(rng, "staff", org_word, phone_format, [])
                                for _ in range(rng.randint(2, 4) if o["staff_in_directory"] else 0)]
        self.removed = [make_person(rng, "physician", org_word, phone_format, departments)
                        for _ in range(rng.randint(2, 6))]
        self.refs = self._make_refs(rng, people + self.removed + self.directory_staff)

    def _make_refs(self, rng: random.Random, people: list[Person]) -> dict[int, str]:
        style, refs, used = self.options["id_style"], {}, set()
        for person in people:
            while True:
                number = rng.randint(100, 999999)
                ref = {
                    "numeric": str(number),
                    "slug": person.slug(with_middle=bool(used & {person.slug()})),
                    "slug_id": f"{person.slug()}-{number}",
                    "id_slug": f"{number}-{person.slug()}",
                    "hex": f"{rng.getrandbits(40):010x}",
                    "code": f"{rng.choice(string.ascii_uppercase)}"
                    f"{rng.choice(string.ascii_uppercase)}{number % 100000:05d}",
                }[style]
                if ref not in used:
                    break
                if style == "slug":  # a namesake: real sites add a number
                    ref = f"{person.slug()}-{len(used) + 2}"
                    if ref not in used:
                        break
            used.add(ref)
            refs[id(person)] = ref
        return refs

    def ref(self, person: Person) -> str:
        return self.refs[id(person)]

    # -- URL templates ---------------------------------------------------------------------------
    def _draw_templates(self, rng: random.Random) -> None:
        o = self.options
        case = o["case"]
        for _attempt in range(50):
            listing_word = rng.choice(vocab.DIRECTORY_WORDS)
            if o["card_mode"] == "disallowed" or rng.random() < 0.4:
                profile_word = rng.choice(vocab.DIRECTORY_WORDS)
            else:
                profile_word = listing_word
            folders: list[str] = []
            if rng.random() < 0.3:
                folders.append(rng.choice(vocab.SECTION_FOLDERS))
            if o["nested_departments"]:
                folders += rng.choice(
                    (["departments", "{dept}", profile_word], ["{dept}", profile_word],
                     [profile_word, "{dept}"]))
            else:
                folders.append(profile_word)
            if o["id_in"] == "query":
                script = rng.choice(vocab.PROFILE_WORDS) + (o["extension"] or "")
                if not o["extension"] and rng.random() < 0.4:
                    script = ""  # /doctors/?id=123
                key = rng.choice(vocab.QUERY_ID_KEYS)
                prefix = rng.choice(("", "", "", "action=view&", "view=profile&", "tab=bio&"))
            else:
                script, key, prefix = "", "", ""
            self.profile_template = ProfileTemplate(
                folders=tuple(cased(f, case) for f in folders),
                id_in=o["id_in"],
                script=cased(script, case) if script else "",
                ext=o["extension"] if o["id_in"] == "path" else "",
                trailing_slash=o["trailing_slash"],
                query_key=key,
                query_prefix=prefix,
                id_style=o["id_style"],
            )
            listing_folders = [cased(listing_word, case)]
            if rng.random() < 0.3:
                listing_folders.insert(0, cased(rng.choice(vocab.SECTION_FOLDERS), case))
            self.listing_dir = "/" + "/".join(listing_folders) + "/"
            leaf = rng.choice(vocab.LISTING_LEAVES) if o["page_param"] != "path" else ""
            self.listing_leaf = cased(leaf, case) if leaf else ""
            if not self.listing_leaf and rng.random() < 0.5:
                self.entry_path = self.listing_dir.rstrip("/")
            else:
                self.entry_path = self.listing_dir + self.listing_leaf
            self.page_param = {
                "page": rng.choice(vocab.PAGE_PARAMS_1),
                "offset": rng.choice(vocab.OFFSET_PARAMS),
                "path": cased(rng.choice(vocab.PAGE_FOLDERS), case),
                "single": "",
            }[o["page_param"]]
            if o["page_param"] == "path" and self.listing_leaf:
                self.options["page_param"] = "page"
                self.page_param = rng.choice(vocab.PAGE_PARAMS_1)
            self.offset_base = rng.choice((0, 1))
            self.letter_param = rng.choice(vocab.LETTER_PARAMS)
            self.dept_param = rng.choice(vocab.DEPT_PARAMS)
            self.group_in_path = not self.listing_leaf and rng.random() < 0.5
            self.browse_word = cased(rng.choice(("browse", "a-z", "letter", "by-name", "az")),
                                     case)
            self.page_size = rng.choice((6, 8, 10, 12, 15, 20, 25))
            if self._templates_distinct():
                # The words drawn, for the record (tests check the vocabulary gets used).
                self.words = {"listing": listing_word, "profile": profile_word,
                              "query_key": key, "page": self.page_param}
                return
        raise RuntimeError(f"seed {self.seed}: no distinct URL templates in 50 draws")

    def _templates_distinct(self) -> bool:
        """Profile URLs and listing URLs must not share a template (else no pattern could tell
        them apart, for a site owner or for a learner): checked on sample URLs."""
        profile_re = re.compile(self.profile_template.regex())
        groups = [None, *(("letter", c) for c in "ABZ"),
                  *(("dept", slugify(p.department)) for p in self.people)]
        samples = [self.page_path(g, n, explicit=True) for g in groups for n in (1, 2, 13)]
        samples += [self.entry_path, "/search"]
        if any(profile_re.match("http://h" + s) for s in samples):
            return False
        if self.options["card_mode"] == "disallowed":
            prefix = self.profile_prefix()
            if any(s.startswith(prefix) for s in samples) or not prefix.strip("/"):
                return False
        return True

    def profile_prefix(self) -> str:
        """The folder above every profile (what a Disallow line for the profiles names)."""
        words = []
        for folder in self.profile_template.folders:
            if folder == "{dept}":
                break
            words.append(folder)
        return "/" + "/".join(words) + "/" if words else "/"

    def profile_path(self, person: Person) -> str:
        return self.profile_template.path(self.ref(person), slugify(person.department))

    def page_path(self, group: tuple[str, str] | None, n: int, explicit: bool = False) -> str:
        """A listing page: ``group`` is None (everyone), ("letter", "B") or ("dept", slug).
        ``explicit``: page 1 with its page parameter (a duplicate URL of page 1)."""
        o = self.options
        params: list[tuple[str, str]] = []
        base = self.entry_path
        if group and self.group_in_path:
            word = self.browse_word if group[0] == "letter" else cased("specialty", o["case"])
            value = group[1].lower() if group[0] == "letter" else group[1]
            base = f"{self.listing_dir}{word}/{value}/"
        elif group:
            params.append((self.letter_param if group[0] == "letter" else self.dept_param,
                           group[1]))
        if n > 1 or explicit:
            style = o["page_param"]
            if style == "page" or (style == "path" and params):
                params.append((self.page_param if style == "page" else "page", str(n)))
            elif style == "offset":
                params.append((self.page_param, str((n - 1) * self.page_size + self.offset_base)))
            elif style == "path":
                base = f"{base.rstrip('/')}/{self.page_param}/{n}/"
        return base + ("?" + urlencode(params) if params else "")

    # -- style -----------------------------------------------------------------------------------
    def _draw_style(self, rng: random.Random) -> None:
        o = self.options
        labels = {name: rng.choice(words) for name, words in vocab.LABELS.items()}
        person_type = {"jsonld_physician": "Physician",
                       "jsonld_individual_physician": "IndividualPhysician",
                       "jsonld_person": "Person"}.get(
            o["markup"], rng.choice(("Physician", "IndividualPhysician", "Person")))
        self.style = Style(
            org=self.org,
            markup=o["markup"],
            html_layout=o["html_layout"],
            name_style=o["name_style"],
            card_layout=o["card_layout"],
            labels=labels,
            person_type=person_type,
            context=rng.choice(("https://schema.org", "http://schema.org", "https://schema.org/",
                                "http://schema.org/")),
            class_prefix=rng.choice(("", "c-", "provider-", "dr-", "-")),
            title_format=rng.choice(("{name} | {org}", "{name} - {specialty} - {org}",
                                     "{org}: {name}", "{name}", "Meet {name} | {org}")),
            canonical=rng.random() < 0.6,
            jsonld_noise=rng.random() < 0.15,
            dotted_degrees=o["name_style"] == "dotted",
            show_credentials=rng.random() < 0.4,
        )
        self.entry_text = rng.choice(vocab.DIRECTORY_LINK_TEXTS)
        self.next_text = rng.choice(vocab.NEXT_TEXTS)
        self.prev_text = rng.choice(vocab.PREV_TEXTS)
        self.profile_link_text = rng.choice((None, None, *vocab.PROFILE_LINK_TEXTS))
        self.soft404 = rng.choice(vocab.SOFT_404_TEXTS)

    # -- pages -----------------------------------------------------------------------------------
    def add_page(self, path: str, page_: Page | GzPage) -> None:
        self.pages[path_key(path)] = page_
        self.paths[path_key(path)] = path

    def add_html(self, path: str, body: str, status: int = 200) -> None:
        self.add_page(path, Page(status, body, HTML))
        self.links_from[path] = set(re.findall(r'href="(/[^"]*)"', body))

    def _build(self, rng: random.Random) -> None:
        o = self.options
        self.decoy_paths: set[str] = set()
        self.listing_paths: set[str] = set()
        decoy_nav = build_decoys(self, rng)
        entry_link = (self.entry_path if o["listing"] else "/search", self.entry_text)
        distractions = rng.sample(vocab.NAV_DISTRACTIONS, 3)
        nav = [("/", "Home"), entry_link, *((f"/{slugify(d)}", d) for d in distractions[:2]),
               *decoy_nav[:2], ("/about", "About Us")]
        rng.shuffle(nav)
        self.style.nav = nav
        self.style.footer = [("/about", "About"), ("/privacy", "Privacy"), *decoy_nav[2:],
                             (f"/{slugify(distractions[2])}", distractions[2])]
        # People's fate: a profile page, or only a card (which the truth then expects).
        self.state: dict[int, str] = {}
        for person in self.people:
            state = {"linked": "ok", "offsite": "offsite", "disallowed": "disallowed",
                     "broken": "missing", "unlinked": "unlinked"}[o["card_mode"]]
            if state == "ok" and o["some_broken"] and rng.random() < 0.1:
                state = "missing"
            self.state[id(person)] = state
        for person in self.directory_staff:
            self.state[id(person)] = "staff"
        self._build_profiles(rng)
        self._build_home(rng)
        for path, title, text in (("/about", "About us", "Caring for our region since 1911."),
                                  ("/privacy", "Privacy", "We respect your privacy.")):
            self.add_html(path, markup.page(self.style, title, f"<h1>{title}</h1><p>{text}</p>"))
        for text in distractions:
            self.add_html(f"/{slugify(text)}", markup.page(
                self.style, text, f"<h1>{esc(text)}</h1><p>Coming soon.</p>"))
        self._build_search()
        if o["listing"]:
            self._build_listings(rng)
        build_sitemaps(self, rng)
        build_robots(self)

    def _build_home(self, rng: random.Random) -> None:
        hero_link = ""
        if rng.random() < 0.6:
            href = self.entry_path if self.options["listing"] else "/search"
            hero_link = f'<p><a class="btn" href="{esc(href)}">{esc(self.entry_text)}</a></p>'
        main = (f"<section><h1>Welcome to {esc(self.org)}</h1><p>Expert care, close to home."
                f"</p>{hero_link}</section>")
        self.add_html("/", markup.page(self.style, self.org, main))

    def _build_search(self) -> None:
        main = (f"<h1>{esc(self.entry_text)}</h1><form action='/search' method='get'>"
                "<label>Name or specialty <input name='q'></label><button>Search</button>"
                "</form>")
        self.add_html("/search", markup.page(self.style, f"Search | {self.org}", main))

    def _build_profiles(self, rng: random.Random) -> None:
        o = self.options
        linkable = [p for p in self.people if self.state[id(p)] == "ok"]
        for person in self.people:
            state = self.state[id(person)]
            if state in ("ok", "disallowed"):
                path = self.profile_path(person)
                reviewers = tuple(
                    f"{rng.choice(vocab.GIVEN_NAMES)} {rng.choice(vocab.FAMILY_NAMES)[:1]}."
                    for _ in range(rng.randint(1, 3))
                ) if o["profile_reviews"] and person.kind != "researcher" else ()
                related = tuple(
                    (self.href(path, self.profile_path(p)), display_name(p, o["name_style"]))
                    for p in rng.sample(linkable, min(3, len(linkable))) if p is not person
                ) if o["related_providers"] else ()
                self.add_html(path, markup.profile_page(
                    person, self.style, path, rng, reviewers=reviewers, related=related))
        for person in self.directory_staff:  # staff pages on the profiles' URL template
            path = self.profile_path(person)
            self.add_html(path, markup.profile_page(person, self.style, path, rng))
            self.decoy_paths.add(path)
        for removed in self.removed:
            path = self.profile_path(removed)
            answer = rng.choice(("unknown", "gone", "redirect"))
            if answer == "gone":
                self.add_page(path, Page(410, markup.page(self.style, "Gone", "<h1>Gone</h1>")))
            elif answer == "redirect":
                target = self.entry_path if self.options["listing"] else "/"
                self.add_page(path, Page(301, "", HTML, (("Location", BASE + target),)))

    def not_found(self) -> Page:
        title, text = self.soft404
        body = markup.page(self.style, f"{title} | {self.org}",
                           f"<h1>{esc(title)}</h1><p>{esc(text)}</p>")
        return Page(200 if self.options["unknown_status"] == "soft404" else 404, body, HTML)

    # -- listings --------------------------------------------------------------------------------
    def card_href(self, person: Person) -> str | None:
        state = self.state[id(person)]
        if state == "unlinked":
            return None
        if state == "offsite":
            return f"https://portal.{self.org_slug}.example/provider/{self.ref(person)}"
        return self.profile_path(person)

    def href(self, from_path: str, target: str | None) -> str | None:
        """A link to ``target`` as the site writes it: root-relative, absolute or relative."""
        style = self.options["href_style"]
        if target is None or not target.startswith("/") or style == "root":
            return target
        if style == "absolute":
            return BASE + target
        here = from_path.split("?")[0].rsplit("/", 1)[0] or "/"
        path, _, query = target.partition("?")
        relative = posixpath.relpath(path, here) + ("/" if path.endswith("/") else "")
        return relative + (f"?{query}" if query else "") if relative != "./" else target

    def _itemlist_jsonld(self, rng: random.Random, chunk: list[Person]) -> str:
        """The results as a schema.org ItemList of the people on the page: a listing page, so
        many person nodes, none of them the page's subject."""
        items = [{"@type": "ListItem", "position": i + 1, "item": {
            "@type": self.style.person_type if p.kind == "physician" else "Person",
            "name": display_name(p, self.style.name_style),
            **({"medicalSpecialty": p.specialty_labels[0]} if p.specialty_labels else {}),
            **({"url": BASE + href} if (href := self.card_href(p)) and href[0] == "/" else {}),
        }} for i, p in enumerate(chunk)]
        return markup.jsonld_script({"@context": "https://schema.org", "@type": "ItemList",
                                     "itemListElement": items}, rng)

    def _build_listings(self, rng: random.Random) -> None:
        o = self.options
        ordered = sorted(self.people + self.directory_staff,
                         key=lambda p: (slugify(p.family), slugify(p.given)))
        groups: list[tuple[tuple[str, str] | None, list[Person]]] = []
        index_links = ""
        if o["grouping"] in ("az", "az_and_all"):
            link_all = rng.random() < 0.5
            letters = []
            for letter in string.ascii_uppercase:
                members = [p for p in ordered if slugify(p.family)[:1].upper() == letter]
                if members or link_all:
                    groups.append((("letter", letter), members))
                    href = self.page_path(("letter", letter), 1)
                    letters.append(f'<a href="{esc(href)}">{letter}</a>')
                else:
                    letters.append(f"<span>{letter}</span>")
            index_links = (f'<nav class="az" aria-label="Browse by last name">'
                           f'{" ".join(letters)}</nav>')
        elif o["grouping"] == "departments":
            links = []
            for dept in sorted({p.department for p in ordered}):
                group = ("dept", slugify(dept))
                groups.append((group, [p for p in ordered if p.department == dept]))
                links.append(f'<li><a href="{esc(self.page_path(group, 1))}">{esc(dept)}</a></li>')
            index_links = f"<h2>Browse by department</h2><ul>{''.join(links)}</ul>"
        if o["grouping"] in ("none", "az_and_all"):
            groups.insert(0, (None, ordered))
        else:  # the entry page is an index of groups only
            self.listing_paths.add(self.entry_path)
            main = f"<h1>{esc(self.entry_text)}</h1>{index_links}"
            self.add_html(self.entry_path, markup.page(self.style, self.entry_text, main))
        for group, members in groups:
            self._build_group(rng, group, members, index_links if group is None else "")

    def _build_group(self, rng, group, members: list[Person], extra: str) -> None:
        o = self.options
        size = max(1, len(members)) if o["page_param"] == "single" else self.page_size
        pages = max(1, -(-len(members) // size))
        heading = self.entry_text if group is None else (
            f"{group[1]}" if group[0] == "letter" else group[1].replace("-", " ").title())
        for n in range(1, pages + 1):
            chunk = members[(n - 1) * size : n * size]
            path = self.page_path(group, n)
            cards = [markup.card(p, self.style, self.href(path, self.card_href(p)),
                                 self.profile_link_text) for p in chunk]
            head, pager = self._pager(group, n, pages)
            if o["listing_reviews_jsonld"] and chunk:
                head += self._reviews_jsonld(rng, chunk)
            if o["listing_itemlist_jsonld"] and chunk:
                head += self._itemlist_jsonld(rng, chunk)
            main = (f"<h1>{esc(heading)}</h1>{extra}<p>{len(members)} results</p>"
                    f"{markup.card_list(cards, self.style)}{pager}")
            self.add_html(path, markup.page(self.style, f"{heading} | {self.org}", main, head=head))
            self.listing_paths.add(path)
            self.listing_views.setdefault(group, []).append(path)
            self.shown_on.setdefault(path, []).extend(chunk)
            if n == 1 and o["page1_alias"] and pages > 1:
                alias = self.page_path(group, 1, explicit=True)
                if alias != path:
                    self.add_html(alias, self.pages[path_key(path)].body)
                    self.listing_paths.add(alias)
                    self.listing_views[group].append(alias)
                    self.shown_on.setdefault(alias, []).extend(chunk)

    def _pager(self, group, n: int, pages: int) -> tuple[str, str]:
        """(head, body) pagination for page n of ``pages`` in the site's link styles."""
        if pages == 1:
            return "", ""
        here = self.page_path(group, n)
        head, body = self._pager_links(group, n, pages)
        # Pager hrefs follow the site's link style too (the head's rel=next stays absolute).
        def restyle(match: re.Match) -> str:
            return f'href="{esc(self.href(here, html.unescape(match.group(1))))}"'

        body = re.sub(r'href="([^"]+)"', restyle, body)
        return head, body

    def _pager_links(self, group, n: int, pages: int) -> tuple[str, str]:
        links = self.options["page_links"]
        head, parts = "", []
        nxt = self.page_path(group, n + 1) if n < pages else None
        prev = self.page_path(group, n - 1) if n > 1 else None
        if prev and "numbered" not in links:
            parts.append(f'<a href="{esc(prev)}" rel="prev">{esc(self.prev_text)}</a>')
        if "numbered" in links:
            window = {1, pages, *range(max(1, n - 2), min(pages, n + 2) + 1)}
            last = 0
            for k in sorted(window):
                if k - last > 1:
                    parts.append("<span>&hellip;</span>")
                if k == n:
                    parts.append(f'<span aria-current="page">{k}</span>')
                else:
                    explicit = k == 1 and self.options["page1_alias"]
                    href = self.page_path(group, k, explicit)
                    parts.append(f'<a href="{esc(href)}">{k}</a>')
                last = k
        if nxt:
            if "rel_next" in links:
                parts.append(f'<a href="{esc(nxt)}" rel="next">{esc(self.next_text)}</a>')
            if "next_text" in links:
                parts.append(f'<a href="{esc(nxt)}" class="pager-next">{esc(self.next_text)}</a>')
            if "aria_next" in links:
                parts.append(f'<a href="{esc(nxt)}" aria-label="Next page"><svg width="8" '
                             'height="12" aria-hidden="true"><path d="M0 0l8 6-8 6z"/></svg></a>')
            if "head_rel_next" in links:
                head = f'<link rel="next" href="{BASE}{esc(nxt)}">'
        return head, f'<nav class="pagination">{" ".join(parts)}</nav>' if parts else ""

    def _reviews_jsonld(self, rng: random.Random, chunk: list[Person]) -> str:
        """Patients' reviews of the providers on a results page: Person nodes that are
        reviewers, not providers (a health plan's page in the issue had only these)."""
        reviews = []
        for person in chunk[:3]:
            reviewer = f"{rng.choice(vocab.GIVEN_NAMES)} {rng.choice(vocab.FAMILY_NAMES)[:1]}."
            reviews.append({"@context": "https://schema.org", "@type": "Review",
                            "author": {"@type": "Person", "name": reviewer},
                            "reviewRating": {"@type": "Rating", "ratingValue": rng.randint(3, 5)},
                            "reviewBody": f"Great visit with {person.plain_name}."})
        return markup.jsonld_script(reviews, rng)

    def allowed(self, path: str) -> bool:
        """What robots.txt lets a polite crawler (any user agent but the banned one) fetch."""
        if self.options["robots"] == "absent":
            return True
        if not hasattr(self, "_robots"):
            self._robots = urllib.robotparser.RobotFileParser()
            self._robots.parse(self.robots_txt.replace(BASE, "http://h").splitlines())
        return self._robots.can_fetch("credcheck", "http://h" + path)

    # -- interface -------------------------------------------------------------------------------
    @property
    def start_paths(self) -> tuple[str, str]:
        """(home page, directory entry): a zero-config user may start from either."""
        return "/", self.entry_path if self.options["listing"] else "/search"

    def configured_entry(self, base: str) -> dict[str, Any]:
        """The ``spiders/sites.toml`` table a site owner would write for the existing spiders:
        sitemaps when they list every profile, else the listing pages with a listing pattern."""
        o = self.options
        robots_names_sitemap = o["robots"] == "sitemap_line" and self.sitemap_urls
        sitemap_start = [base + ("/robots.txt" if robots_names_sitemap else self.sitemap_urls[0])
                         ] if self.sitemap_urls else []
        full_sitemap = o["sitemap"] in ("index", "flat", "gzip", "stale")
        entry: dict[str, Any] = {"name": self.org}
        if full_sitemap:
            entry["platform"] = "schemaorg_sitemap"
            entry["start_urls"] = sitemap_start
        else:
            entry["platform"] = "faculty_directory" if o["org_kind"] == "faculty" else (
                "html_directory")
            entry["start_urls"] = [*sitemap_start, base + self.entry_path]
            entry["listing_pattern"] = self.listing_regex()
        entry["profile_pattern"] = self.profile_template.regex()
        return entry

    def listing_regex(self) -> str:
        """A regex matching every listing page of the site and no other page."""
        paths = sorted(self.listing_paths)
        alternatives = sorted({listing_shape(p) for p in paths})
        return "^https?://[^/]+(?:" + "|".join(alternatives) + ")$"

    def handle(self, path: str, query: dict[str, list[str]], base: str, request: Any = None
               ) -> Page:
        """Answer one request (the fixture server's ``Site.handle`` interface)."""
        if self.client is not None:
            return self.client.answer(self, path, query, base)
        return self.server_answer(path, query, base)[0]

    def server_answer(self, path: str, query: dict[str, list[str]], base: str
                      ) -> tuple[Page, bool]:
        """The server-rendered site's answer, and whether the site has the route (False: the
        not-found page, whatever its status)."""
        flat = [(k, v) for k, values in query.items() for v in values]
        target = path + ("?" + urlencode(flat) if flat else "")
        found = self.pages.get(path_key(target))
        folder_without_slash = not flat and path_key(path + "/") in self.pages
        if found is None and folder_without_slash:  # servers redirect to the folder's URL
            return Page(301, "", HTML, (("Location", base + path + "/"),)), True
        if found is None:
            return _rebase(self.not_found(), base), False
        if isinstance(found, GzPage):
            return Page(200, gzip.compress(found.text.replace(BASE, base).encode(), mtime=0),
                        "application/x-gzip"), True
        return _rebase(found, base), True

    def data_path(self, route: str) -> str | None:
        """Where a client-rendered site's script fetches ``route``'s content (None: a
        server-rendered site)."""
        return self.client.data_path(route) if self.client else None

    def asset_paths(self) -> list[str]:
        """A client-rendered site's script bundle and stylesheet, then the data URL of every
        route the site has (any status); none for a server-rendered site."""
        if self.client is None:
            return []
        return [*self.client.asset_paths(), *map(self.client.data_path, self.url_paths(None))]

    def url_paths(self, status: int | None = 200) -> list[str]:
        """Every path (+ query, as linked) the site has a page for, with that status."""
        return sorted(path for key, path in self.paths.items()
                      if status is None or getattr(self.pages[key], "status", 200) == status)


def _rebase(page_: Page, base: str) -> Page:
    body = page_.body.replace(BASE, base) if isinstance(page_.body, str) else page_.body
    headers = tuple((k, v.replace(BASE, base)) for k, v in page_.headers)
    return Page(page_.status, body, page_.content_type, headers)
