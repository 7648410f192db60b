"""What a directory shows of a person: names as listed, degrees, specialties, education,
languages, locations."""

from __future__ import annotations

import random

from pipeline.demo.world.catalogue import (
    ACADEMIC_RANKS,
    LANGUAGE_BY_SURNAME,
    NON_PHYSICIAN_DEGREES,
    RESEARCH_DEPARTMENTS,
    SITE_PATH_PATTERNS,
    SPECIALTY_BY_NAME,
    SiteSpec,
    Specialty,
)
from pipeline.demo.world.model import (
    Address,
    Listing,
    Person,
    format_phone,
    introduce_typo,
    slugify,
    strip_accents,
    weighted_choice,
)
from pipeline.demo.world.reference import Reference

# --------------------------------------------------------------------------------------------
# Listings
# --------------------------------------------------------------------------------------------


def pick_nickname(rng: random.Random, ref: Reference, first: str, gender: str) -> str | None:
    """An everyday short form ("Bob" for Robert, "Liz" for Elizabeth, "Kit" for Katherine).

    Drawn from data/demo/everyday_nicknames.csv, written for the generator: the matcher's
    nickname table does not know every form in it, as it will not know every real one.
    """
    formal = strip_accents(first).lower()
    freq = ref.first_name_freq[gender]
    options = [n for n in ref.nicknames.get(formal, ()) if len(n) < len(formal)]
    if not options:
        return None
    weights = [0.01 + freq.get(n.upper(), 0.0) for n in options]
    return rng.choices(options, weights=weights)[0].capitalize()


def middle_as_shown(rng: random.Random, middle: str) -> str | None:
    if not middle:
        return None
    return weighted_choice(rng, ((middle, 0.3), (f"{middle[0]}.", 0.45), ("", 0.25))) or None


def surname_as_shown(rng: random.Random, person: Person, site: SiteSpec) -> str:
    name = person.professional_last
    if "-" in name and rng.random() < 0.3:  # compound names get cut or spaced
        name = name.split("-")[0] if rng.random() < 0.6 else name.replace("-", " ")
    if rng.random() >= site.accent_keep_rate:
        name = strip_accents(name)
    if rng.random() < 0.03:
        name = introduce_typo(rng, name)
    return name


def physician_degrees(rng: random.Random, person: Person, site: SiteSpec) -> list[str]:
    degrees = [person.degree]
    if site.kind == "medical_school" and rng.random() < 0.2:
        degrees.append("PhD")
    if rng.random() < 0.05:
        degrees.append("MPH")
    practiced = person.practiced
    honor = practiced.honor if practiced else None
    if honor and rng.random() < 0.3:
        degrees.append(honor)
    return degrees


def display_name(
    prefix: str | None,
    given: str,
    middle: str | None,
    family: str,
    suffix: str,
    degrees: list[str],
    inverted: bool,
    show_degrees: bool,
) -> str:
    """How the name reads at the top of the profile ("Dr. Jane Q. Doe, MD, FACC")."""
    letters = ", ".join(degrees) if show_degrees else ""
    if inverted:
        first_part = " ".join(x for x in (given, middle) if x)
        text = f"{family}{' ' + suffix if suffix else ''}, {first_part}"
        return f"{text}, {letters}" if letters else text
    words = [w for w in (prefix, given, middle, family, suffix) if w]
    text = " ".join(words)
    return f"{text}, {letters}" if letters else text


def listing_specialties(rng: random.Random, person: Person) -> list[tuple[str, str]]:
    """(label, canonical name) pairs the page lists."""

    def label_of(spec: Specialty) -> tuple[str, str]:
        return rng.choice(spec.labels), spec.name

    if person.role in ("np", "pa"):
        return [label_of(person.specialty)] if person.specialty else []
    if person.role == "researcher":
        return []
    assert person.specialty is not None
    if person.off_claim:
        return [label_of(SPECIALTY_BY_NAME[person.off_claim])]
    if person.subspecialty:
        shown = [label_of(person.subspecialty)]
        if rng.random() < 0.4:
            shown.append(label_of(person.specialty))
        return shown
    return [label_of(person.specialty)]


def claimed_certifications(rng: random.Random, person: Person) -> list[dict]:
    """Pages often print the boards, sometimes stale ones, never invented ones."""
    if not person.certs or rng.random() < 0.35:
        return []
    shown = [c for c in person.certs if c.status not in ("revoked", "suspended")]
    return [
        {"board": c.board if rng.random() < 0.9 else None, "certificate": c.certificate}
        for c in shown
    ]


def education_entries(rng: random.Random, ref: Reference, person: Person) -> list[dict]:
    if person.school is None or rng.random() < 0.2:
        return []
    if person.role == "researcher":
        return [{"type": "other", "name": person.school.name, "year": person.grad_year}]
    entries = [{"type": "medical_school", "name": person.school.name, "year": person.grad_year}]
    if person.is_physician and person.specialty:
        program = rng.choice(ref.md_schools).name
        end = person.grad_year + person.specialty.training_years
        entries.append(
            {"type": "residency", "name": f"{program} ({person.specialty.name})", "year": end}
        )
        if person.subspecialty:
            fellowship = rng.choice(ref.md_schools).name
            entries.append(
                {
                    "type": "fellowship",
                    "name": f"{fellowship} ({person.subspecialty.name})",
                    "year": end + 2,
                }
            )
    return entries


def languages_for(rng: random.Random, person: Person, site: SiteSpec) -> list[str]:
    languages = ["English"]
    speaks_spanish = person.ethnicity == "hispanic" and rng.random() < 0.7
    if speaks_spanish or (site.state == "TX" and rng.random() < 0.12):
        languages.append("Spanish")
    surname = strip_accents(person.last).upper()
    if surname in LANGUAGE_BY_SURNAME and rng.random() < 0.4:
        languages.append(LANGUAGE_BY_SURNAME[surname])
    return languages


def location_record(location: dict) -> dict:
    address: Address = location["address"]
    street = f"{address.street}, {address.suite}" if address.suite else address.street
    return {
        "name": location["name"],
        "street": street,
        "city": address.city,
        "state": address.state,
        "zip": address.zip5,
        "phone": format_phone(address.phone),
    }


def faculty_title(rng: random.Random, person: Person) -> tuple[str, str]:
    rank = weighted_choice(rng, ACADEMIC_RANKS)
    if person.role == "researcher":
        department = rng.choice(RESEARCH_DEPARTMENTS)
        if rng.random() < 0.15:  # PhDs in clinical departments read like clinicians
            department = rng.choice(("Medicine", "Pediatrics", "Psychiatry"))
        return f"{rank} of {department}", f"Department of {department}"
    spec = person.practiced
    assert spec is not None
    department = spec.department
    title = f"{rank} of {department}"
    if person.subspecialty:
        title += f" ({person.subspecialty.labels[0]})"
    return title, f"Department of {department}"


def build_listing(
    rng: random.Random,
    ref: Reference,
    site: SiteSpec,
    person: Person,
    listing_id: str,
    locations: list[dict],
    show_npi: bool,
) -> tuple[dict, frozenset[str]]:
    """One directory entry in the site content model of docs/design.md section 2."""
    physician = person.is_physician
    given = person.first
    if rng.random() >= site.accent_keep_rate:
        given = strip_accents(given)
    if physician and rng.random() < 0.10:
        given = pick_nickname(rng, ref, person.first, person.gender) or given
    middle = middle_as_shown(rng, person.middle)
    family = surname_as_shown(rng, person, site)
    if physician:
        degrees = physician_degrees(rng, person, site)
    elif person.role == "researcher":
        degrees = ["PhD"] + (["MPH"] if rng.random() < 0.1 else [])
    else:
        degrees = list(rng.choice(NON_PHYSICIAN_DEGREES[person.role]))
    doctor = physician or person.role == "researcher"  # PhDs are "Dr." too
    prefix = "Dr." if doctor and rng.random() < site.dr_prefix_rate else None
    inverted = rng.random() < site.inverted_name_rate
    show_degrees = prefix is None or rng.random() < 0.5
    specialties = listing_specialties(rng, person)
    title = department = None
    if site.kind == "medical_school":
        title, department = faculty_title(rng, person)
    npi = person.npi if show_npi else None
    record = {
        "id": listing_id,
        "path": "",
        "display_name": display_name(
            prefix, given, middle, family, person.suffix, degrees, inverted, show_degrees
        ),
        "prefix": prefix,
        "given_name": given,
        "additional_name": middle,
        "family_name": family,
        "degrees": degrees,
        "specialties": [label for label, _ in specialties],
        "board_certifications": claimed_certifications(rng, person) if physician else [],
        "npi": npi,
        "gender": person.gender if rng.random() < 0.8 else None,
        "languages": languages_for(rng, person, site) if person.role != "researcher" else [],
        "accepting_new_patients": (rng.random() < 0.7) if person.role != "researcher" else None,
        "education": education_entries(rng, ref, person),
        "locations": [location_record(loc) for loc in locations],
        "affiliations": [site.name],
        "title": title,
        "department": department,
        "is_physician": physician,
    }
    return record, frozenset(canonical for _, canonical in specialties)


def build_site_listings(
    rng: random.Random,
    ref: Reference,
    site: SiteSpec,
    members: list[Person],
    person_locations: dict[int, list[dict]],
    site_locs: list[dict],
) -> list[Listing]:
    ids = rng.sample(range(10000, 99999), len(members))
    with_npi = [p.pid for p in members if p.npi]
    npi_shown = set(
        rng.sample(with_npi, min(round(site.npi_shown_rate * len(members)), len(with_npi)))
    )
    used_slugs: dict[str, int] = {}
    listings = []
    for person, numeric_id in zip(members, ids):
        locations = person_locations[person.pid]
        if site.site_id not in person.sites[:1]:  # second site: its own clinics
            locations = [rng.choice(site_locs)]
        record, claims = build_listing(
            rng, ref, site, person, str(numeric_id), locations, person.pid in npi_shown
        )
        slug = slugify(
            " ".join(
                x
                for x in (record["given_name"], record["additional_name"], record["family_name"])
                if x
            )
        )
        if site.shape == "faculty_directory":
            used_slugs[slug] = used_slugs.get(slug, 0) + 1
            if used_slugs[slug] > 1:
                slug = f"{slug}-{used_slugs[slug]}"
            record["id"] = slug
        record["path"] = SITE_PATH_PATTERNS[site.shape].format(slug=slug, id=record["id"])
        listings.append(Listing(site, person, record, claims))
    listings.sort(
        key=lambda x: (
            slugify(x.record["family_name"]),
            slugify(x.record["given_name"]),
            x.record["id"],
        )
    )
    return listings
