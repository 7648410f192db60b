"""Who is in the world: physicians, nurse practitioners, physician assistants and researchers,
which sites list them, where they practise, their NPIs."""

from __future__ import annotations

import random
from dataclasses import dataclass

from pipeline.demo.world.catalogue import (
    EAST_ASIAN_FIRST,
    EM,
    FACULTY_ALSO_ON_HOSPITAL,
    FM,
    GENERATIONAL_SUFFIXES,
    HISPANIC_FIRST,
    IM,
    MOVED_RATE,
    NO_NPPES_LISTING_RATE,
    NON_PHYSICIAN_FIELDS,
    NON_PHYSICIAN_LISTING_RATE,
    OFF_SPECIALTY_CLAIMS,
    PRIMARY_SPECIALTIES,
    REGION_SHARES,
    RESEARCHER_SHARE_FACULTY,
    SITES,
    SOUTH_ASIAN_FIRST,
    SOUTH_ASIAN_SURNAMES,
    SPECIALTY_BY_NAME,
    STREETS,
    SUBSPECIALTIES_OF,
    TWIN_TARGET,
    SiteSpec,
    Specialty,
)
from pipeline.demo.world.model import (
    Address,
    Person,
    fictional_phone,
    title_surname,
    weighted_choice,
)
from pipeline.demo.world.reference import City, Reference
from pipeline.normalize.npi import npi_check_digit

# --------------------------------------------------------------------------------------------
# Population
# --------------------------------------------------------------------------------------------


def draw_ethnicity(rng: random.Random, ref: Reference, surname: str) -> str:
    pct_asian, pct_hispanic = ref.surname_mix.get(surname, (0.0, 0.0))
    roll = rng.random() * 100
    if roll < pct_hispanic:
        return "hispanic"
    if roll < pct_hispanic + pct_asian:
        return "south_asian" if surname in SOUTH_ASIAN_SURNAMES else "east_asian"
    return ""


def draw_first_name(rng: random.Random, ref: Reference, gender: str, ethnicity: str) -> str:
    pools = {
        "hispanic": HISPANIC_FIRST,
        "south_asian": SOUTH_ASIAN_FIRST,
        "east_asian": EAST_ASIAN_FIRST,
    }
    if ethnicity in pools and rng.random() < 0.6:
        return rng.choice(pools[ethnicity][gender])
    return ref.first_names[gender].draw(rng)


def proper_first(rng: random.Random, ref: Reference, upper: str, ethnicity: str) -> str:
    accented = ref.accented.get(("first", upper))
    if accented and ethnicity == "hispanic" and rng.random() < 0.7:
        return accented
    return upper.capitalize()


def proper_surname(rng: random.Random, ref: Reference, upper: str, ethnicity: str) -> str:
    accented = ref.accented.get(("surname", upper))
    if accented and ethnicity == "hispanic" and rng.random() < 0.7:
        return accented
    return title_surname(upper)


def make_person(rng: random.Random, ref: Reference, pid: int, role: str) -> Person:
    """A named individual with gender, ethnicity-consistent names, middle name and suffix."""
    gender = "female" if rng.random() < (0.40 if role == "physician" else 0.7) else "male"
    surname_upper = ref.surnames.draw(rng)
    ethnicity = draw_ethnicity(rng, ref, surname_upper)
    last = proper_surname(rng, ref, surname_upper, ethnicity)
    if ethnicity == "hispanic" and rng.random() < 0.08:  # compound Hispanic surname
        second = ref.surnames.draw(rng)
        last = f"{last}-{proper_surname(rng, ref, second, ethnicity)}"
    first = proper_first(rng, ref, draw_first_name(rng, ref, gender, ethnicity), ethnicity)
    middle = ""
    if rng.random() < 0.75:
        middle = proper_first(rng, ref, ref.first_names[gender].draw(rng), ethnicity)
    suffix = ""
    if gender == "male":
        suffix = weighted_choice(rng, (*GENERATIONAL_SUFFIXES, ("", 0.96)))
    person = Person(pid, role, gender, first, middle, last, suffix, ethnicity=ethnicity)
    person.professional_last = person.board_last = last
    if gender == "female" and rng.random() < 0.25:
        apply_married_name(rng, ref, person)
    return person


def apply_married_name(rng: random.Random, ref: Reference, person: Person) -> None:
    """Married women whose registry name and professional name differ, in the common ways."""
    maiden = person.last
    married = title_surname(ref.surnames.draw(rng))
    case = weighted_choice(
        rng,
        (
            ("legal_maiden", 0.30),
            ("professional_maiden", 0.25),
            ("all_married", 0.35),
            ("hyphenated", 0.10),
        ),
    )
    if case == "legal_maiden":  # NPPES kept the maiden name; pages show the married one
        person.last, person.other_last, person.other_last_type = maiden, married, "5"
        person.professional_last = married
    elif case == "professional_maiden":  # legally married name; practises under maiden name
        person.last, person.other_last, person.other_last_type = married, maiden, "1"
        person.professional_last = maiden
    elif case == "all_married":
        person.last, person.other_last, person.other_last_type = married, maiden, "1"
        person.professional_last = married
    else:
        person.last = person.professional_last = f"{maiden}-{married}"
        person.other_last, person.other_last_type = maiden, "1"
    person.board_last = person.last if rng.random() < 0.7 else person.professional_last


def draw_specialties(rng: random.Random, degree: str) -> tuple[Specialty, Specialty | None]:
    weights = [
        s.weight * (1.6 if degree == "DO" and s.name in (FM, EM, IM) else 1.0)
        for s in PRIMARY_SPECIALTIES
    ]
    primary = rng.choices(PRIMARY_SPECIALTIES, weights=weights)[0]
    roll, acc = rng.random(), 0.0
    for sub in SUBSPECIALTIES_OF[primary.name]:
        acc += sub.weight
        if roll < acc:
            return primary, sub
    return primary, None


IMG_COUNTRIES = (
    ("India", 30),
    ("Pakistan", 8),
    ("Philippines", 6),
    ("Mexico", 6),
    ("Dominica", 6),
    ("Grenada", 6),
    ("Saint Kitts and Nevis", 4),
    ("Nigeria", 4),
    ("Egypt", 4),
    ("China", 5),
    ("Iran", 3),
    ("Poland", 3),
    ("Ireland", 3),
    ("Israel", 2),
    ("Dominican Republic", 4),
    ("South Korea", 3),
    ("Colombia", 3),
)


def draw_training(rng: random.Random, ref: Reference, person: Person) -> None:
    """Degree, medical school and graduation year."""
    roll = rng.random()
    if roll < 0.11:
        person.degree, person.school = "DO", rng.choice(ref.do_schools)
    elif roll < 0.28:  # international medical graduate
        country = weighted_choice(rng, IMG_COUNTRIES)
        person.school = rng.choice(ref.img_schools[country])
        person.degree = "MBBS" if country in ("India", "Pakistan") and rng.random() < 0.4 else "MD"
    else:
        person.degree, person.school = "MD", rng.choice(ref.md_schools)
    person.grad_year = int(rng.triangular(1972, 2022, 2006))


def region_cities(ref: Reference, region: str) -> list[City]:
    if region == "other":
        return [c for c in ref.cities if not c.metro]
    return [c for c in ref.cities if c.metro == region]


def make_address(rng: random.Random, city: City) -> Address:
    suite = f"Suite {rng.randrange(100, 900)}" if rng.random() < 0.4 else ""
    return Address(
        f"{rng.randrange(1, 3000)} {rng.choice(STREETS)}",
        suite,
        city.city,
        city.state,
        city.zip,
        f"{rng.randrange(10000):04d}",
        fictional_phone(rng, city.area_code),
    )


def build_population(rng: random.Random, ref: Reference, n_physicians: int) -> list[Person]:
    """Physicians, then NPs and PAs; each gets a home region, training and an address."""
    people: list[Person] = []
    n_non_physicians = round(0.08 * n_physicians)
    for pid in range(n_physicians + n_non_physicians):
        role = "physician" if pid < n_physicians else rng.choice(("np", "np", "pa"))
        person = make_person(rng, ref, pid, role)
        person.region = weighted_choice(rng, REGION_SHARES)
        person.home = rng.choice(region_cities(ref, person.region))
        if role == "physician":
            draw_training(rng, ref, person)
            person.specialty, person.subspecialty = draw_specialties(rng, person.degree)
            if person.specialty.name in OFF_SPECIALTY_CLAIMS and rng.random() < 0.04:
                person.off_claim = rng.choice(OFF_SPECIALTY_CLAIMS[person.specialty.name])
        else:
            person.degree = "NP" if role == "np" else "PA"
            person.grad_year = rng.randrange(1995, 2024)
            person.specialty = SPECIALTY_BY_NAME[rng.choice(NON_PHYSICIAN_FIELDS)]
        person.practice = make_address(rng, person.home)
        person.license_states = [person.home.state]
        people.append(person)
    return people


def make_researcher(rng: random.Random, ref: Reference, pid: int) -> Person:
    person = make_person(rng, ref, pid, "researcher")
    person.region, person.home = "", None  # not in the clinician population
    person.degree = "PhD"
    person.grad_year = int(rng.triangular(1980, 2020, 2008))
    person.school = rng.choice(ref.md_schools)
    person.has_nppes = False
    return person


# --------------------------------------------------------------------------------------------
# Site membership
# --------------------------------------------------------------------------------------------


@dataclass
class Membership:
    """Who is listed where, decided before any page content is drawn."""

    by_site: dict[str, list[Person]]


def choose_members(
    rng: random.Random, ref: Reference, people: list[Person], n_physicians: int
) -> Membership:
    """Pick each site's listed people from its metro; researchers are created and appended."""
    by_site: dict[str, list[Person]] = {}
    for site in SITES:
        n_listings = round(site.listing_share * n_physicians)
        pool = [p for p in people if p.region == site.metro and not p.sites]
        if site.kind == "medical_school":
            peers = [
                p
                for s in SITES
                if s.kind == "hospital" and s.metro == site.metro
                for p in by_site[s.site_id]
                if p.is_physician
            ]
            members = faculty_members(rng, ref, people, pool, peers, n_listings)
        else:
            members = hospital_members(rng, pool, n_listings)
        for person in members:
            person.sites.append(site.site_id)
        mark_without_nppes(rng, members, site)
        by_site[site.site_id] = members
    plant_namesakes(rng, people)
    return Membership(by_site)


def hospital_members(rng: random.Random, pool: list[Person], n_listings: int) -> list[Person]:
    """Mostly physicians, plus a few NPs and PAs, as hospital directories list them."""
    physicians = [p for p in pool if p.is_physician]
    others = [p for p in pool if not p.is_physician]
    n_other = min(round(NON_PHYSICIAN_LISTING_RATE * n_listings), len(others))
    members = rng.sample(others, n_other)
    return members + rng.sample(physicians, min(n_listings - n_other, len(physicians)))


def faculty_members(
    rng: random.Random,
    ref: Reference,
    people: list[Person],
    pool: list[Person],
    hospital_peers: list[Person],
    n_listings: int,
) -> list[Person]:
    """Clinical faculty (some also on the hospital's directory) and PhD researchers."""
    n_researchers = round(RESEARCHER_SHARE_FACULTY * n_listings)
    n_physicians = n_listings - n_researchers
    n_shared = min(round(FACULTY_ALSO_ON_HOSPITAL * n_physicians), len(hospital_peers))
    physicians = [p for p in pool if p.is_physician]
    members = rng.sample(hospital_peers, n_shared)
    members += rng.sample(physicians, min(n_physicians - n_shared, len(physicians)))
    for _ in range(n_researchers):
        researcher = make_researcher(rng, ref, len(people))
        people.append(researcher)
        members.append(researcher)
    return members


def mark_without_nppes(rng: random.Random, members: list[Person], site: SiteSpec) -> None:
    """A few listed physicians have no NPPES record at all (truth npi empty)."""
    candidates = [p for p in members if p.is_physician and p.sites == [site.site_id]]
    for person in rng.sample(
        candidates, min(round(NO_NPPES_LISTING_RATE * len(members)), len(candidates))
    ):
        person.has_nppes = False


def plant_namesakes(rng: random.Random, people: list[Person]) -> None:
    """Give unlisted physicians in other states the exact name of listed ones."""
    # Only people listed under their legal surname, so the namesake collides on the page too.
    listed = [
        p
        for p in people
        if p.is_physician and p.sites and p.has_nppes and p.professional_last == p.last
    ]
    unlisted = [p for p in people if p.is_physician and not p.sites and p.has_nppes]
    rng.shuffle(unlisted)
    used: set[int] = set()
    for person in rng.sample(listed, min(TWIN_TARGET, len(listed))):
        twin = next(
            (
                u
                for u in unlisted
                if u.pid not in used
                and u.gender == person.gender
                and u.home is not None
                and person.home is not None
                and u.home.state != person.home.state
            ),
            None,
        )
        if twin is None:
            continue
        used.add(twin.pid)
        twin.first, twin.last, twin.suffix = person.first, person.last, ""
        twin.professional_last = twin.board_last = person.last
        twin.other_last = twin.other_last_type = ""
        twin.ethnicity = person.ethnicity
        if rng.random() < 0.4:  # a shared middle name makes the pair harder still
            twin.middle = person.middle
        if rng.random() < 0.5:
            twin.specialty, twin.subspecialty = person.specialty, person.subspecialty
        twin.twin_of = person.pid


# --------------------------------------------------------------------------------------------
# Addresses and identifiers
# --------------------------------------------------------------------------------------------


def site_locations(rng: random.Random, ref: Reference, site: SiteSpec) -> list[dict]:
    """A handful of clinic addresses per site; the first is the main campus."""
    cities = region_cities(ref, site.metro)
    main_city = next(c for c in cities if c.city == site.city)
    names = [
        f"{site.name} - Main Campus",
        f"{site.short} Heart & Vascular Center",
        f"{site.short} Women's Health",
        f"{site.short} Cancer Center",
        f"{site.short} Children's Clinic",
    ]
    locations = []
    for i, name in enumerate(names):
        city = main_city if i < 2 else rng.choice(cities)
        address = make_address(rng, city)
        locations.append({"name": name, "address": address})
    for city in rng.sample(cities, min(3, len(cities))):
        locations.append(
            {"name": f"{site.short} Primary Care - {city.city}", "address": make_address(rng, city)}
        )
    return locations


def settle_practice_addresses(
    rng: random.Random, ref: Reference, membership: Membership, locations: dict[str, list[dict]]
) -> dict[int, list[dict]]:
    """NPPES practice address = the listed clinic, except for the ~10% who moved."""
    person_locations: dict[int, list[dict]] = {}
    for site in SITES:
        for person in membership.by_site[site.site_id]:
            if person.pid in person_locations:
                continue
            if person.role == "researcher":  # labs are on the main campus
                person_locations[person.pid] = [locations[site.site_id][0]]
                continue
            chosen = [locations[site.site_id][0]] if rng.random() < 0.3 else []
            chosen.append(rng.choice(locations[site.site_id][1:]))
            person_locations[person.pid] = chosen
            address: Address = chosen[-1]["address"]
            person.home = next(
                c for c in ref.cities if c.city == address.city and c.state == address.state
            )
            person.practice = address
            person.license_states = [address.state]
            if person.is_physician and rng.random() < MOVED_RATE:
                move_away(rng, ref, person)
    return person_locations


def move_away(rng: random.Random, ref: Reference, person: Person) -> None:
    """NPPES still shows the previous practice: same state or, half the time, another one."""
    assert person.home is not None
    same_state = [
        c
        for c in ref.cities
        if c.state == person.home.state and c.city != person.home.city and not c.metro
    ]
    others = [c for c in ref.cities if c.state != person.home.state]
    old = rng.choice(same_state) if same_state and rng.random() < 0.5 else rng.choice(others)
    person.moved = True
    current_state = person.home.state
    person.practice = make_address(rng, old)
    person.license_states = [old.state]
    if old.state != current_state and rng.random() < 0.5:
        person.license_states.append(current_state)


def assign_npis(rng: random.Random, people: list[Person], n_orgs: int) -> list[str]:
    """Unique Luhn-valid NPIs for everyone with an NPPES record, plus the organizations."""
    seen: set[str] = set()

    def fresh() -> str:
        while True:
            base = f"{rng.choice('12')}{rng.randrange(10**8):08d}"
            npi = base + str(npi_check_digit(base))
            if npi not in seen:
                seen.add(npi)
                return npi

    for person in people:
        if person.has_nppes and person.role != "researcher":
            person.npi = fresh()
    return [fresh() for _ in range(n_orgs)]


def assign_mailing_addresses(rng: random.Random, people: list[Person]) -> None:
    """Mail goes to the practice, except for some who bill from a post-office box."""
    for person in people:
        person.mailing = person.practice
        if person.practice and rng.random() < 0.15:
            box = f"PO Box {rng.randrange(100, 9999)}"
            person.mailing = Address(
                box,
                "",
                person.practice.city,
                person.practice.state,
                person.practice.zip5,
                "",
                person.practice.phone,
            )
