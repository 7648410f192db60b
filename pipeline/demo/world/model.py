"""The world's people and what they hold, and the small pure helpers every step uses."""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TypeVar

from pipeline.demo.world.catalogue import SURNAME_SPELLING, SiteSpec, Specialty
from pipeline.demo.world.reference import City, School

T = TypeVar("T")


# --------------------------------------------------------------------------------------------
# Small pure helpers
# --------------------------------------------------------------------------------------------


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def slugify(text: str) -> str:
    ascii_text = strip_accents(text).lower()
    words = "".join(c if c.isalnum() else " " for c in ascii_text).split()
    return "-".join(words)


def title_surname(upper: str) -> str:
    """Census surnames are upper case without punctuation: "MCDONALD" -> "McDonald"."""
    if upper in SURNAME_SPELLING:
        return SURNAME_SPELLING[upper]
    if upper.startswith("MC") and len(upper) > 3:
        return "Mc" + upper[2:].capitalize()
    return upper.capitalize()


def introduce_typo(rng: random.Random, name: str) -> str:
    """One transposed or dropped letter, as data entry does; short names are left alone.

    The initial is kept: typists rarely get the first letter wrong.
    """
    letters = [i for i in range(2, len(name)) if name[i].isalpha() and name[i - 1].isalpha()]
    if len(name) < 4 or not letters:
        return name
    i = rng.choice(letters)
    if rng.random() < 0.5 and name[i] != name[i - 1]:
        return name[: i - 1] + name[i] + name[i - 1] + name[i + 1 :]
    return name[:i] + name[i + 1 :]


def random_date(rng: random.Random, start: date, end: date) -> date:
    if end <= start:
        return start
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def fictional_phone(rng: random.Random, area_code: str) -> str:
    """555-01xx numbers are reserved for fiction, so no real line is ever printed."""
    return f"{area_code}5550{rng.randrange(100, 200)}"


def format_phone(digits: str) -> str:
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"


def weighted_choice(rng: random.Random, pairs: Sequence[tuple[T, float]]) -> T:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


# --------------------------------------------------------------------------------------------
# World model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    street: str
    suite: str
    city: str
    state: str
    zip5: str
    zip4: str
    phone: str  # ten digits


@dataclass
class Certificate:
    spec: Specialty  # what the certificate certifies (canonical name and parent)
    board: str  # board name as written in boards.csv
    certificate: str  # certificate name as the board writes it
    certificate_type: str  # specialty | subspecialty
    status: str
    initial: date
    expiration: date | None
    moc: str

    def satisfies(self, claims: frozenset[str]) -> bool:
        """A subspecialty certificate also counts for its parent specialty."""
        return self.spec.name in claims or (self.spec.parent or "") in claims


@dataclass
class Person:
    pid: int
    role: str  # physician | np | pa | researcher
    gender: str
    first: str  # legal first name, proper case, may carry accents
    middle: str  # full middle name or ""
    last: str  # legal last name (NPPES, DAC)
    suffix: str
    other_last: str = ""  # NPPES Provider Other Last Name
    other_last_type: str = ""  # 1 former name, 2 professional name, 5 other
    professional_last: str = ""  # surname used on directory pages
    board_last: str = ""  # surname on the board record
    ethnicity: str = ""  # hispanic | south_asian | east_asian | ""
    degree: str = "MD"
    specialty: Specialty | None = None
    subspecialty: Specialty | None = None
    off_claim: str | None = None  # a specialty claimed without holding its certificate
    grad_year: int = 2000
    school: School | None = None
    region: str = "other"  # boston | san_antonio | other
    home: City | None = None  # where they work now
    practice: Address | None = None  # NPPES practice location (stale after a move)
    mailing: Address | None = None
    has_nppes: bool = True
    npi: str | None = None
    moved: bool = False
    license_states: list[str] = field(default_factory=list)
    certs: list[Certificate] = field(default_factory=list)
    board_npi_blank: bool = False
    sites: list[str] = field(default_factory=list)  # site ids, first one is the main job
    twin_of: int | None = None  # pid of the listed physician whose name was copied

    @property
    def is_physician(self) -> bool:
        return self.role == "physician"

    @property
    def practiced(self) -> Specialty | None:
        """What they do day to day: the subspecialty when there is one."""
        return self.subspecialty or self.specialty


@dataclass
class Listing:
    """A directory entry, who it really is, and the canonical specialties its labels claim."""

    site: SiteSpec
    person: Person
    record: dict
    claims: frozenset[str]
