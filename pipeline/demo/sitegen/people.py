"""People of a generated directory: physicians, advanced-practice clinicians, researchers, and the
staff who appear on decoy pages. Pure functions of a ``random.Random``."""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass

from pipeline.demo.sitegen import vocab


@dataclass(frozen=True)
class Office:
    name: str
    street: str
    city: str
    state: str
    zip: str
    phone: str  # as the site writes it

    @property
    def city_line(self) -> str:
        return f"{self.city}, {self.state} {self.zip}"


@dataclass(frozen=True)
class Person:
    """One person of the site. ``kind``: physician | app (NP, PA ...) | researcher | staff."""

    kind: str
    given: str
    middle: str  # an initial, or ""
    family: str
    degrees: tuple[str, ...]
    title: str
    specialty: str  # the group's first label ("" for researchers and staff)
    specialty_labels: tuple[str, ...]  # as this person's pages word it
    schema_specialty: str | None  # schema.org MedicalSpecialty member, where one exists
    department: str
    office: Office
    school: str
    school_year: int
    residency: str
    fellowship: str
    board: str
    languages: tuple[str, ...]
    gender: str
    npi: str
    accepting: bool | None
    research: str

    @property
    def is_physician(self) -> bool:
        return any(d in vocab.PHYSICIAN_DEGREES for d in self.degrees)

    @property
    def plain_name(self) -> str:
        """Given (initial) family: the name a reader would say."""
        middle = f" {self.middle}." if self.middle else ""
        return f"{self.given}{middle} {self.family}"

    def slug(self, with_middle: bool = False) -> str:
        parts = [self.given, self.middle if with_middle else "", self.family]
        return slugify(" ".join(p for p in parts if p))


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def npi_number(rng: random.Random) -> str:
    """A 10-digit NPI whose last digit is the Luhn check over "80840" + the first nine."""
    body = str(rng.randint(1, 2)) + "".join(str(rng.randint(0, 9)) for _ in range(8))
    digits = [int(c) for c in "80840" + body]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:  # the check digit will sit right of these: double every other
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return body + str((10 - total % 10) % 10)


PHONE_FORMATS = ("({a}) {b}-{c}", "{a}-{b}-{c}", "{a}.{b}.{c}", "+1 {a} {b} {c}", "1-{a}-{b}-{c}")


def make_office(rng: random.Random, org_word: str, phone_format: str) -> Office:
    city, state, zip3 = rng.choice(vocab.CITIES)
    phone = phone_format.format(
        a=f"{rng.randint(201, 989)}", b="555", c=f"{rng.randint(100, 199):04d}"
    )
    return Office(
        name=f"{org_word} {rng.choice(vocab.CLINIC_WORDS)}",
        street=f"{rng.randint(10, 9900)} {rng.choice(vocab.STREETS)}",
        city=city,
        state=state,
        zip=f"{zip3}{rng.randint(10, 99)}",
        phone=phone,
    )


def make_person(
    rng: random.Random, kind: str, org_word: str, phone_format: str, departments: list[str]
) -> Person:
    given, family = rng.choice(vocab.GIVEN_NAMES), rng.choice(vocab.FAMILY_NAMES)
    middle = rng.choice(vocab.MIDDLE_INITIALS) if rng.random() < 0.4 else ""
    department = rng.choice(departments) if departments else ""
    labels, schema = rng.choice(vocab.SPECIALTIES)
    if department and rng.random() < 0.7:  # a faculty clinician mostly practises their field
        labels, schema = next(g for g in vocab.SPECIALTIES if g[0][0] == department)
    specialty, shown = labels[0], (rng.choice(labels),)
    if rng.random() < 0.25:
        other = rng.choice(vocab.SPECIALTIES)[0][0]
        if other != specialty:
            shown = (*shown, other)
    department = department or specialty
    rank = rng.choice(vocab.ACADEMIC_RANKS)
    if kind == "physician":
        degrees = (rng.choice(vocab.PHYSICIAN_DEGREES),)
        if rng.random() < 0.35:
            degrees += tuple(rng.sample(vocab.PHYSICIAN_EXTRAS, rng.randint(1, 2)))
        title = f"{rank} of {department}" if departments else rng.choice(shown)
    elif kind == "app":
        degrees = rng.choice(vocab.APP_DEGREES)
        title = rng.choice(vocab.APP_TITLES)
    elif kind == "researcher":
        degrees = rng.choice(vocab.RESEARCHER_DEGREES)
        field = rng.choice(vocab.RESEARCH_FIELDS)
        specialty, shown, schema = "", (), None
        department = field if not departments else department
        title = f"{rank} of {field}"
    else:  # staff: people on leadership pages, no clinical degree
        degrees = rng.choice(vocab.STAFF_DEGREES)
        specialty, shown, schema = "", (), None
        title = rng.choice(vocab.STAFF_TITLES)
    clinical = kind in ("physician", "app")
    return Person(
        kind=kind,
        given=given,
        middle=middle,
        family=family,
        degrees=degrees,
        title=title,
        specialty=specialty,
        specialty_labels=shown,
        schema_specialty=schema,
        department=department,
        office=make_office(rng, org_word, phone_format),
        school=rng.choice(vocab.SCHOOLS) if kind != "staff" else "",
        school_year=rng.randint(1978, 2018),
        residency=rng.choice(vocab.TRAINING_HOSPITALS) if kind == "physician" else "",
        fellowship=rng.choice(vocab.TRAINING_HOSPITALS)
        if kind == "physician" and rng.random() < 0.4
        else "",
        board=vocab.BOARDS.get(specialty, "") if kind == "physician" else "",
        languages=tuple(rng.sample(vocab.LANGUAGES, rng.randint(1, 3))) if clinical else (),
        gender=rng.choice(("Female", "Male", "")),
        npi=npi_number(rng) if clinical else "",
        accepting=rng.choice((True, False, None)) if clinical else None,
        research=rng.choice(vocab.RESEARCH_TOPICS) if kind == "researcher" else "",
    )


def format_degrees(degrees: tuple[str, ...], dotted: bool) -> tuple[str, ...]:
    return tuple(vocab.DOTTED.get(d, d) if dotted else d for d in degrees)


def display_name(person: Person, style: str) -> str:
    """The name as the site prints it (cards, headings). Styles:

    >>> p = Person("physician", "Jane", "Q", "Doe", ("MD", "FACS"), "", "", (), None, "",
    ...            Office("", "", "", "", "", ""), "", 0, "", "", "", (), "", "", None, "")
    >>> [display_name(p, s) for s in ("comma", "surname_first", "dr", "dotted")]
    ['Jane Q. Doe, MD, FACS', 'Doe, Jane Q. MD FACS', 'Dr. Jane Q. Doe', 'Jane Q. Doe, M.D., FACS']
    >>> display_name(p, "upper_surname_first")
    'DOE, JANE Q, MD, FACS'
    """
    name = person.plain_name
    if style == "comma":
        return ", ".join((name, *person.degrees)) if person.degrees else name
    if style == "surname_first":
        middle = f" {person.middle}." if person.middle else ""
        return " ".join((f"{person.family}, {person.given}{middle}", *person.degrees))
    if style == "dr":  # "Dr." for doctors of medicine and of philosophy alike
        doctor = person.is_physician or any(d.startswith(("Ph", "Sc", "DP", "DN")) for d in
                                            person.degrees)
        return f"Dr. {name}" if doctor else ", ".join((name, *person.degrees))
    if style == "dotted":
        return ", ".join((name, *format_degrees(person.degrees, True)))
    if style == "plain_space":
        return " ".join((name, *person.degrees))
    if style == "upper":
        return ", ".join((name.upper(), *person.degrees))
    if style == "upper_surname_first":  # "DE LA FUENTE, SUNITA Q, MD": a roster's capitals
        middle = f" {person.middle}" if person.middle else ""
        return ", ".join((person.family.upper(), f"{person.given}{middle}".upper(),
                          *(d.upper() for d in person.degrees)))  # fmt: skip
    raise ValueError(style)


NAME_STYLES = (
    "comma", "surname_first", "dr", "dotted", "plain_space", "upper", "upper_surname_first"
)  # fmt: skip
