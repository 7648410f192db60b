"""The reference extracts in their real layouts: boards CSV, NPPES npidata, Doctors &
Clinicians, OIG LEIE."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from pipeline.demo.world.catalogue import (
    AS_OF,
    GROUP_TAXONOMY,
    HOSPITAL_TAXONOMY,
    LEIE_EXCLUSION_TYPES,
    LEIE_OTHER_INDIVIDUALS,
    LEIE_WORLD_PHYSICIANS,
    NP_TAXONOMIES,
    PA_TAXONOMY,
    SITES,
)
from pipeline.demo.world.model import (
    Address,
    Person,
    random_date,
    slugify,
    strip_accents,
    weighted_choice,
)
from pipeline.demo.world.population import make_address, make_person
from pipeline.demo.world.reference import City, Reference

# --------------------------------------------------------------------------------------------
# Reference extracts
# --------------------------------------------------------------------------------------------


class PersonRow(list):
    """A reference file row that knows whose it is (for reference_truth.csv): ``person_npi`` is
    the true person's NPI even when the row leaves it blank, "" for people without one."""

    person_npi = ""


def person_row(values: list[str], person_npi: str | None) -> PersonRow:
    row = PersonRow(values)
    row.person_npi = person_npi or ""
    return row


def board_name_parts(rng: random.Random, person: Person) -> tuple[str, str]:
    first = person.first if rng.random() < 0.6 else strip_accents(person.first)
    middle = ""
    if person.middle:
        middle = weighted_choice(rng, ((person.middle, 0.5), (person.middle[:1], 0.3), ("", 0.2)))
    return first, middle


def board_rows(rng: random.Random, people: list[Person]) -> list[list[str]]:
    rows = []
    for person in people:
        if not person.certs:
            continue
        first, middle = board_name_parts(rng, person)
        last = person.board_last if rng.random() < 0.6 else strip_accents(person.board_last)
        # Board records follow the physician to the new address only half the time.
        location = person.home if person.moved and rng.random() < 0.5 else person.practice
        assert location is not None
        npi = "" if person.board_npi_blank else (person.npi or "")
        for cert in person.certs:
            rows.append(
                person_row([
                    npi,
                    first,
                    middle,
                    last,
                    person.suffix,
                    cert.board,
                    cert.certificate,
                    cert.certificate_type,
                    cert.status,
                    cert.initial.isoformat(),
                    cert.expiration.isoformat() if cert.expiration else "",
                    cert.moc,
                    location.city,
                    location.state,
                ], person.npi)
            )
    rows.sort(
        key=lambda r: (strip_accents(r[3]).lower(), strip_accents(r[1]).lower(), r[0], r[5], r[6])
    )
    return rows


MALFORMED_KINDS = ("bad_date", "unknown_status", "empty_last_name", "bad_date_format")


def malformed_row(rng: random.Random, template: list[str], kind: str) -> list[str]:
    row = list(template)
    if kind == "bad_date":
        row[9] = f"{row[9][:4]}-02-30"
    elif kind == "bad_date_format":
        y, m, d = row[9].split("-")
        row[9] = f"{m}/{d}/{y}"
    elif kind == "unknown_status":
        row[8] = rng.choice(("pending", "Certified*", "meeting MOC requirements"))
    else:
        row[3] = ""
    return row


def insert_malformed_rows(
    rng: random.Random, rows: list[list[str]], people: list[Person]
) -> tuple[list[list[str]], list[dict]]:
    """Extra broken rows for unlisted physicians, so the loader's reject path is exercised.

    Each copies a valid certificate of someone nobody lists, so rejecting it leaves the truth
    unchanged.  Returns the rows and, per broken row, its file line (header = line 1).
    """
    unlisted_npis = {p.npi for p in people if p.is_physician and not p.sites and p.npi}
    candidates = [r for r in rows if r[0] in unlisted_npis]
    count = min(max(4, round(0.004 * len(rows))), len(candidates))
    out = list(rows)
    kinds: dict[int, str] = {}
    for i, template in enumerate(rng.sample(candidates, count)):
        kind = MALFORMED_KINDS[i % len(MALFORMED_KINDS)]
        broken = malformed_row(rng, template, kind)
        kinds[id(broken)] = kind
        out.insert(rng.randrange(len(out) + 1), broken)
    malformed = [
        {"line": index + 2, "npi": row[0], "problem": kinds[id(row)]}
        for index, row in enumerate(out)
        if id(row) in kinds
    ]
    return out, malformed


NPPES_CREDENTIALS = {
    "MD": (("M.D.", 0.45), ("MD", 0.3), ("M.D", 0.1), ("MD, PHD", 0.03), ("", 0.12)),
    "DO": (("D.O.", 0.6), ("DO", 0.3), ("", 0.1)),
    "MBBS": (("MBBS", 0.4), ("M.B.B.S.", 0.2), ("MD", 0.3), ("", 0.1)),
    "NP": (("NP", 0.3), ("APRN", 0.25), ("FNP-C", 0.2), ("CRNP", 0.15), ("", 0.1)),
    "PA": (("PA-C", 0.7), ("PA", 0.2), ("", 0.1)),
}


class LayoutRow:
    """One row of a fixed, wide layout, filled by column name; unnamed columns stay empty."""

    def __init__(self, column: dict[str, int]) -> None:
        self.column = column
        self.values = [""] * len(column)

    def put(self, name: str, value: str) -> None:
        self.values[self.column[name]] = value


def nppes_date(d: date) -> str:
    return d.strftime("%m/%d/%Y")


def taxonomy_slots(rng: random.Random, person: Person) -> list[tuple[str, str]]:
    """(taxonomy code, primary switch) in slot order; slot 1 is not always the primary."""
    if person.role == "np":
        return [(rng.choice(NP_TAXONOMIES)[0], "Y")]
    if person.role == "pa":
        return [(PA_TAXONOMY, "Y")]
    assert person.specialty is not None
    if person.subspecialty:
        slots = [(person.subspecialty.taxonomy, "Y"), (person.specialty.taxonomy, "N")]
        return slots[::-1] if rng.random() < 0.3 else slots
    return [(person.specialty.taxonomy, "Y")]


def license_number(rng: random.Random, state: str, role: str) -> str:
    prefix = {"physician": "", "np": "RN", "pa": "PA"}[role]
    letters = rng.choice(("", "", "", "MD", "A", "G")) if role == "physician" else prefix
    return f"{letters}{rng.randrange(10000, 300000)}"


def nppes_individual(rng: random.Random, person: Person, column: dict[str, int]) -> list[str]:
    row = LayoutRow(column)
    put = row.put
    assert person.practice is not None and person.npi is not None
    enumerated = random_date(rng, date(2005, 5, 23), AS_OF - timedelta(days=60))
    # Most NPPES names are upper case; newer records keep the case as typed.
    case = str.upper if rng.random() < 0.75 else str
    put("NPI", person.npi)
    put("Entity Type Code", "1")
    put("Provider Last Name (Legal Name)", case(person.last))
    put("Provider First Name", case(person.first))
    middle = person.middle if rng.random() < 0.6 else person.middle[:1]
    put("Provider Middle Name", case(middle))
    put(
        "Provider Name Prefix Text",
        rng.choice(("", "", "", "DR.", "Dr.")) if person.is_physician else "",
    )
    put("Provider Name Suffix Text", person.suffix.upper())
    put("Provider Credential Text", weighted_choice(rng, NPPES_CREDENTIALS[person.degree]))
    if person.other_last:
        put("Provider Other Last Name", case(person.other_last))
        put("Provider Other First Name", case(person.first))
        put("Provider Other Last Name Type Code", person.other_last_type)
    mailing = person.mailing or person.practice
    for prefix, address in (("Mailing", mailing), ("Practice Location", person.practice)):
        put(f"Provider First Line Business {prefix} Address", address.street.upper())
        put(f"Provider Second Line Business {prefix} Address", address.suite.upper())
        put(f"Provider Business {prefix} Address City Name", address.city.upper())
        put(f"Provider Business {prefix} Address State Name", address.state)
        put(
            f"Provider Business {prefix} Address Postal Code",
            address.zip5 + (address.zip4 if rng.random() < 0.7 else ""),
        )
        put(f"Provider Business {prefix} Address Country Code (If outside U.S.)", "US")
        put(f"Provider Business {prefix} Address Telephone Number", address.phone)
    put("Provider Enumeration Date", nppes_date(enumerated))
    put("Last Update Date", nppes_date(random_date(rng, enumerated, AS_OF)))
    put("Provider Sex Code", "F" if person.gender == "female" else "M")
    slots = taxonomy_slots(rng, person)
    for i, (code, switch) in enumerate(slots, start=1):
        state = person.license_states[min(i - 1, len(person.license_states) - 1)]
        put(f"Healthcare Provider Taxonomy Code_{i}", code)
        put(f"Provider License Number_{i}", license_number(rng, state, person.role))
        put(f"Provider License Number State Code_{i}", state)
        put(f"Healthcare Provider Primary Taxonomy Switch_{i}", switch)
    if len(person.license_states) > len(slots):  # a second state's licence, same taxonomy
        i = len(slots) + 1
        put(f"Healthcare Provider Taxonomy Code_{i}", slots[0][0])
        put(
            f"Provider License Number_{i}",
            license_number(rng, person.license_states[-1], person.role),
        )
        put(f"Provider License Number State Code_{i}", person.license_states[-1])
        put(f"Healthcare Provider Primary Taxonomy Switch_{i}", "N")
    put("Is Sole Proprietor", weighted_choice(rng, (("N", 0.8), ("Y", 0.12), ("X", 0.08))))
    put("Certification Date", nppes_date(random_date(rng, enumerated, AS_OF)))
    return row.values


def organization_specs(ref: Reference) -> list[tuple[str, str, City]]:
    """The hospitals behind the sites plus some group practices."""
    orgs = []
    for site in SITES:  # same order as SITES, so orgs[i] belongs to SITES[i]
        city = next(c for c in ref.cities if c.city == site.city and c.state == site.state)
        taxonomy = HOSPITAL_TAXONOMY if site.kind == "hospital" else GROUP_TAXONOMY
        name = site.name if site.kind == "hospital" else f"{site.short} University Physicians"
        orgs.append((name.upper(), taxonomy, city))
    groups = (
        "ASSOCIATED PHYSICIANS OF {c}",
        "{c} FAMILY MEDICINE GROUP PC",
        "{c} HEART ASSOCIATES LLC",
        "{c} ORTHOPAEDIC CENTER PA",
    )
    others = [c for c in ref.cities if not c.metro]
    for i, pattern in enumerate(groups * 2):
        city = others[(i * 7) % len(others)]
        orgs.append((pattern.format(c=city.city.upper()), GROUP_TAXONOMY, city))
    return orgs


def nppes_organization(
    rng: random.Random,
    ref: Reference,
    npi: str,
    name: str,
    taxonomy: str,
    city: City,
    column: dict[str, int],
) -> list[str]:
    row = LayoutRow(column)
    put = row.put

    address = make_address(rng, city)
    enumerated = random_date(rng, date(2005, 5, 23), date(2015, 1, 1))
    put("NPI", npi)
    put("Entity Type Code", "2")
    put("Provider Organization Name (Legal Business Name)", name)
    for prefix in ("Mailing", "Practice Location"):
        put(f"Provider First Line Business {prefix} Address", address.street.upper())
        put(f"Provider Business {prefix} Address City Name", address.city.upper())
        put(f"Provider Business {prefix} Address State Name", address.state)
        put(f"Provider Business {prefix} Address Postal Code", address.zip5 + address.zip4)
        put(f"Provider Business {prefix} Address Country Code (If outside U.S.)", "US")
        put(f"Provider Business {prefix} Address Telephone Number", address.phone)
    put("Provider Enumeration Date", nppes_date(enumerated))
    put("Last Update Date", nppes_date(random_date(rng, enumerated, AS_OF)))
    official = make_person(rng, ref, -1, "np")
    put("Authorized Official Last Name", official.last.upper())
    put("Authorized Official First Name", official.first.upper())
    put(
        "Authorized Official Title or Position",
        rng.choice(("CEO", "CFO", "PRESIDENT", "DIRECTOR OF CREDENTIALING")),
    )
    put("Authorized Official Telephone Number", address.phone)
    put("Healthcare Provider Taxonomy Code_1", taxonomy)
    put("Healthcare Provider Primary Taxonomy Switch_1", "Y")
    put("Is Organization Subpart", "N")
    put("Certification Date", nppes_date(random_date(rng, enumerated, AS_OF)))
    return row.values


GROUP_PATTERNS = (
    "{city} MEDICAL GROUP",
    "{city} PHYSICIANS PC",
    "ASSOCIATED SPECIALISTS OF {city}",
    "{city} HEALTH PARTNERS LLC",
)


def facility_for(
    rng: random.Random, person: Person, site_orgs: dict[str, str], address: Address
) -> str:
    """Site staff bill through the site's organization; others through a local group."""
    if person.sites:
        return site_orgs[person.sites[0]]
    return rng.choice(GROUP_PATTERNS).format(city=address.city.upper())


def dac_rows(
    rng: random.Random, people: list[Person], header: Sequence[str], site_orgs: dict[str, str]
) -> list[list[str]]:
    """About 70% of clinicians; one row per clinician x address, some with two addresses."""
    column = {name: i for i, name in enumerate(header)}
    org_ids: dict[str, tuple[str, str]] = {}  # facility -> (org_pac_id, num_org_mem)
    rows = []
    for person in people:
        if person.npi is None or person.role == "researcher" or rng.random() >= 0.7:
            continue
        assert person.practice is not None and person.home is not None
        # CMS enrolment is current: a moved physician shows the new city here.
        current = make_address(rng, person.home) if person.moved else person.practice
        addresses = [current]
        if rng.random() < 0.2:
            addresses.append(make_address(rng, person.home))
        pac_id = f"{rng.randrange(10**9, 10**10)}"
        enrollment = f"I{rng.randrange(2004, 2026)}{rng.randrange(10**10):010d}"
        for address in addresses:
            row = LayoutRow(column)
            put = row.put
            put("NPI", person.npi)
            put("Ind_PAC_ID", pac_id)
            put("Ind_enrl_ID", enrollment)
            put("Provider Last Name", strip_accents(person.last).upper())
            put("Provider First Name", strip_accents(person.first).upper())
            put("Provider Middle Name", strip_accents(person.middle).upper())
            put("suff", person.suffix.upper().rstrip("."))
            put("gndr", "F" if person.gender == "female" else "M")
            fill_dac_specialty(rng, person, row)
            put("Telehlth", "Y" if rng.random() < 0.3 else "")
            org = facility_for(rng, person, site_orgs, address)
            if org not in org_ids:
                org_ids[org] = (f"{rng.randrange(10**9, 10**10)}", str(rng.randrange(2, 1500)))
            put("Facility Name", org)
            put("org_pac_id", org_ids[org][0])
            put("num_org_mem", org_ids[org][1])
            put("adr_ln_1", address.street.upper())
            put("adr_ln_2", address.suite.upper())
            put("ln_2_sprs", "")
            put("City/Town", address.city.upper())
            put("State", address.state)
            put("ZIP Code", address.zip5 + address.zip4)
            put("Telephone Number", address.phone)
            put("ind_assgn", "Y" if rng.random() < 0.9 else "M")
            put("grp_assgn", "Y" if rng.random() < 0.9 else "M")
            put(
                "adrs_id",
                f"{address.state}{address.zip5}{address.zip4}"
                f"{slugify(address.street)[:2].upper()}{rng.randrange(1000, 9999)}",
            )
            rows.append(row.values)
    return rows


def fill_dac_specialty(rng: random.Random, person: Person, row: LayoutRow) -> None:
    put = row.put
    if person.role == "np":
        put("Cred", "NP")
        put("pri_spec", "NURSE PRACTITIONER")
        return
    if person.role == "pa":
        put("Cred", "PA")
        put("pri_spec", "PHYSICIAN ASSISTANT")
        return
    assert person.specialty is not None and person.school is not None
    put("Cred", {"MBBS": "MD"}.get(person.degree, person.degree) if rng.random() < 0.85 else "")
    put("Med_sch", person.school.name.upper() if rng.random() < 0.85 else "OTHER")
    put("Grd_yr", str(person.grad_year))
    practiced = person.practiced
    assert practiced is not None
    put("pri_spec", practiced.cms)
    secondary = (
        [person.specialty.cms]
        if person.subspecialty and person.specialty.cms != practiced.cms and rng.random() < 0.5
        else []
    )
    for i, name in enumerate(secondary, start=1):
        put(f"sec_spec_{i}", name)
    put("sec_spec_all", "|".join(secondary))


def quote_all(rows: Iterable[Sequence[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for row in rows:
        # NPPES replaces embedded double quotes with single quotes.
        writer.writerow([value.replace('"', "'") for value in row])
    return buffer.getvalue()


def minimal_csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def leie_date(d: date | None) -> str:
    return d.strftime("%Y%m%d") if d else "00000000"


def choose_excluded(rng: random.Random, people: list[Person]) -> list[Person]:
    """World physicians on the LEIE: most listed somewhere, the rest not."""
    listed = [p for p in people if p.is_physician and p.npi and p.sites and p.twin_of is None]
    unlisted = [p for p in people if p.is_physician and p.npi and not p.sites]
    n_listed = min(6, len(listed))
    chosen = rng.sample(listed, n_listed) + rng.sample(
        unlisted, min(LEIE_WORLD_PHYSICIANS - n_listed, len(unlisted))
    )
    return chosen


def leie_rows(
    rng: random.Random, ref: Reference, excluded: list[Person], people: list[Person]
) -> tuple[list[list[str]], list[dict]]:
    rows: list[list[str]] = []
    notes: list[dict] = []
    for i, person in enumerate(excluded):
        assert person.practice is not None and person.specialty is not None
        kind = rng.choice(LEIE_EXCLUSION_TYPES)
        if kind == "1128b4":  # licence revocation: the boards revoke too
            for cert in person.certs:
                cert.status, cert.moc = "revoked", ""
        show_npi = i % 2 == 0
        excluded_on = random_date(rng, date(2019, 1, 1), AS_OF - timedelta(days=30))
        reinstated = random_date(rng, excluded_on, AS_OF) if i == 1 else None
        general, specialty = rng.choice(
            (
                ("IND- LIC HC SERV PRO", "PHYSICIAN (MD, DO)"),
                ("MEDICAL PRACTICE, MD", person.specialty.cms),
            )
        )
        rows.append(
            person_row(
                leie_person_row(
                    rng,
                    person,
                    general,
                    specialty,
                    person.npi if show_npi else None,
                    kind,
                    excluded_on,
                    reinstated,
                ),
                person.npi,
            )
        )
        notes.append(
            {
                "npi": person.npi,
                "listed": bool(person.sites),
                "npi_in_leie": show_npi,
                "excltype": kind,
                "reinstated": reinstated is not None,
            }
        )
    listed_names = [p for p in people if p.is_physician and p.sites]
    for i in range(LEIE_OTHER_INDIVIDUALS):
        stranger = make_person(rng, ref, -1, rng.choice(("np", "pa")))
        stranger.home = rng.choice(ref.cities)
        stranger.practice = make_address(rng, stranger.home)
        if i < 3 and listed_names:  # namesake of a listed physician, elsewhere: not them
            namesake = rng.choice(listed_names)
            stranger.first, stranger.last = namesake.first, namesake.last
            others = [c for c in ref.cities if namesake.home and c.state != namesake.home.state]
            stranger.home = rng.choice(others)
            stranger.practice = make_address(rng, stranger.home)
        general, specialty = rng.choice(
            (
                ("NURSING PROFESSION", "NURSE/NURSES AIDE"),
                ("IND- LIC HC SERV PRO", "PHARMACIST"),
                ("IND- LIC HC SERV PRO", "CHIROPRACTIC"),
                ("IND- LIC HC SERV PRO", "PHYSICIAN ASSISTANT"),
            )
        )
        excluded_on = random_date(rng, date(2001, 1, 1), AS_OF - timedelta(days=30))
        reinstated = random_date(rng, excluded_on, AS_OF) if i == 5 else None
        rows.append(
            leie_person_row(
                rng,
                stranger,
                general,
                specialty,
                None,
                rng.choice(LEIE_EXCLUSION_TYPES),
                excluded_on,
                reinstated,
            )
        )
    return rows, notes


def leie_person_row(
    rng: random.Random,
    person: Person,
    general: str,
    specialty: str,
    npi: str | None,
    kind: str,
    excluded_on: date,
    reinstated: date | None,
) -> list[str]:
    assert person.practice is not None
    born = date(
        person.grad_year - 26 if person.is_physician else rng.randrange(1950, 1995),
        rng.randrange(1, 13),
        rng.randrange(1, 29),
    )
    return [
        strip_accents(person.last).upper(),
        strip_accents(person.first).upper(),
        person.middle[:1].upper(),
        "",
        general,
        specialty,
        "",
        npi or "0000000000",
        leie_date(born),
        person.practice.street.upper(),
        person.practice.city.upper(),
        person.practice.state,
        person.practice.zip5,
        kind,
        leie_date(excluded_on),
        leie_date(reinstated),
        "00000000",
        "",
    ]
