"""Raw -> staged: normalize crawled listings and reference rows into person frames.

Every function here reads raw tables and returns a pandas frame with the columns that
``pipeline.match.PERSON_COLUMNS`` names (plus descriptive columns), so staged data can always be
rebuilt from raw.
"""

from __future__ import annotations

import json

import duckdb
import pandas as pd

from pipeline.db.store import LATEST_CRAWLS
from pipeline.normalize.degrees import is_physician_degree, split_credentials
from pipeline.normalize.names import parse_person_name
from pipeline.normalize.npi import clean_npi
from pipeline.normalize.places import normalize_city, normalize_state, normalize_zip
from pipeline.normalize.schools import canonical_school
from pipeline.normalize.specialties import canonical_specialties, canonical_specialty


def _distinct(values) -> list:
    seen: dict = {}
    for value in values:
        if value and value not in seen:
            seen[value] = None
    return list(seen)


def _as_list(value) -> list:
    """A list column's value as a list (DuckDB gives arrays; a left join's gap gives NaN)."""
    if isinstance(value, (list, tuple)) or hasattr(value, "tolist"):
        return [v for v in list(value) if isinstance(v, str) and v]
    return []


def _physician_flag(credentials: list[str]) -> bool | None:
    """True with a physician degree, False with only other degrees, None when none is given."""
    if not credentials:
        return None
    return any(is_physician_degree(c) for c in credentials)


# ------------------------------------------------------------------------------ listings


def listing_person(item: dict) -> dict:
    """One crawled item -> one staged listing row (a person frame row plus what it claims)."""
    parsed = parse_person_name(item.get("name") or "")
    first = item.get("given_name") or parsed.first
    last = item.get("family_name") or parsed.last
    middle = item.get("additional_name") or parsed.middle
    if item.get("given_name") and item.get("family_name"):
        # Structured parts can still carry "Dr." or degrees; run them through the parser too.
        structured = parse_person_name(f"{item['given_name']} {middle or ''} {item['family_name']}")
        first, middle, last = structured.first, structured.middle or middle, structured.last
    credentials = _distinct(
        [*parsed.credentials]
        + [c for d in item.get("degrees") or [] for c in split_credentials(d)]
        + split_credentials(item.get("honorific_suffix") or "")
    )
    claimed = _distinct(item.get("specialties") or [])
    # What the listing claims is its specialties (a faculty title when none is given); the
    # board certificates a page shows are evidence for matching, not claims.
    claimed_canonical = canonical_specialties(claimed)
    if not claimed_canonical and item.get("job_title"):
        title_specialty = canonical_specialty(item["job_title"])
        claimed_canonical = [title_specialty] if title_specialty else []
    shown_certificates = [
        bc.get("certificate") for bc in item.get("board_certifications") or [] if bc
    ]
    specialties = _distinct(
        claimed_canonical + canonical_specialties([c for c in shown_certificates if c])
    )
    locations = item.get("locations") or []
    schools = [e for e in item.get("education") or [] if e and e.get("type") == "medical_school"]
    return {
        "listing_id": f"{item.get('site_id')}:{item.get('ref') or item.get('source_url')}",
        "site_id": item.get("site_id"),
        "source_url": item.get("source_url"),
        "listed_name": item.get("name"),
        "claimed_specialties": claimed,
        "claimed_canonical": claimed_canonical,
        "first": first,
        "middle": middle,
        "last": last,
        "suffix": parsed.suffix,
        "credentials": credentials,
        "alt_lasts": [],
        "states": _distinct(normalize_state(loc.get("state") or "") for loc in locations),
        "cities": _distinct(normalize_city(loc.get("city") or "") for loc in locations),
        "specialties": specialties,
        "npi": clean_npi(item.get("npi") or ""),
        "physician": _physician_flag(credentials),
        "gender": item.get("gender"),
        "affiliations": _distinct(item.get("affiliations") or []),
        "zips": _distinct(normalize_zip(loc.get("zip")) for loc in locations),
        "schools": _distinct(canonical_school(e.get("name")) for e in schools),
        "grad_years": _distinct(e.get("year") for e in schools if e.get("year")),
        "crawled_at": item.get("fetched_at"),
    }


def staged_listings(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Listings of each site's latest successful crawl, normalized."""
    rows = con.execute(
        f"""WITH latest AS ({LATEST_CRAWLS})
           SELECT r.item FROM raw_listings r JOIN latest USING (site_id, run_id)
           ORDER BY r.site_id, r.ref"""
    ).fetchall()
    people = [listing_person(json.loads(item)) for (item,) in rows]
    frame = pd.DataFrame(people)
    if frame.empty:
        return frame
    # A site may list one profile under two URLs; one listing id is one listing.
    frame = frame.drop_duplicates("listing_id").reset_index(drop=True)
    frame["rec_id"] = frame["listing_id"]
    frame["crawled_at"] = pd.to_datetime(frame["crawled_at"], utc=True, errors="coerce")
    frame["crawled_at"] = frame["crawled_at"].dt.tz_localize(None)
    return frame


# ------------------------------------------------------------------------------ references

SOURCES = ("nppes", "dac", "boards", "leie")
"""The reference sources, in the order evidence lists them (``verifications.evidence``)."""


def loaded_sources(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The sources with rows in the work database, in ``SOURCES`` order."""
    tables = {"nppes": "ref_nppes", "dac": "ref_dac", "boards": "ref_boards", "leie": "ref_leie"}
    return [
        source
        for source, table in tables.items()
        if con.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0]
    ]


def deactivated_npis(con: duckdb.DuckDBPyConnection) -> set[str]:
    """NPIs NPPES lists as deactivated (and not reactivated since)."""
    rows = con.execute(
        """SELECT npi FROM ref_nppes WHERE deactivation_date IS NOT NULL
           AND (reactivation_date IS NULL OR reactivation_date < deactivation_date)"""
    ).fetchall()
    return {npi for (npi,) in rows}


def _dac_physician(credential, specialty) -> bool | None:
    """A DAC clinician is a physician by degree, else by a physician specialty (NP, PA: no)."""
    credentials = split_credentials(credential or "")
    if any(is_physician_degree(c) for c in credentials):
        return True
    if isinstance(specialty, str) and canonical_specialty(specialty):
        return True
    return False if credentials or isinstance(specialty, str) else None


def reference_people(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """People with an NPI from NPPES (individuals) and Doctors & Clinicians, merged by NPI.

    NPPES gives the name when it has the person, Doctors & Clinicians otherwise; places and
    specialties are the union of both. ``sources`` lists which of the two describe the person.
    """
    nppes = con.execute(
        """SELECT npi, first_name, middle_name, last_name, suffix, credential, other_last_name,
                  practice_city, practice_state, mailing_city, mailing_state, practice_zip,
                  taxonomy_codes, license_states, gender
           FROM ref_nppes WHERE entity_type = '1' AND last_name IS NOT NULL ORDER BY npi"""
    ).df()
    dac = con.execute(
        """SELECT npi, list(DISTINCT city) AS cities, list(DISTINCT state) AS states,
                  list(DISTINCT primary_specialty) AS specs,
                  list(DISTINCT zip) AS zips, list(DISTINCT organization) AS orgs,
                  any_value(medical_school) AS medical_school,
                  any_value(graduation_year) AS graduation_year,
                  arg_min(first_name, rowid) AS dac_first,
                  arg_min(middle_name, rowid) AS dac_middle,
                  arg_min(last_name, rowid) AS dac_last, arg_min(suffix, rowid) AS dac_suffix,
                  arg_min(credential, rowid) AS dac_credential,
                  arg_min(primary_specialty, rowid) AS dac_specialty,
                  arg_min(gender, rowid) AS dac_gender
           FROM ref_dac WHERE last_name IS NOT NULL GROUP BY npi"""
    ).df()
    nppes["in_nppes"] = True
    dac["in_dac"] = True
    frame = nppes.merge(dac, on="npi", how="outer").sort_values("npi", kind="stable")
    for flag in ("in_nppes", "in_dac"):
        frame[flag] = frame[flag].astype("boolean").fillna(False).astype(bool)
    rows = []
    for p in frame.itertuples(index=False):
        in_nppes, in_dac = bool(p.in_nppes), bool(p.in_dac)
        dac_cities, dac_states = _as_list(p.cities), _as_list(p.states)
        dac_specs, taxonomies = _as_list(p.specs), _as_list(p.taxonomy_codes)
        credential = p.credential if in_nppes else p.dac_credential
        credentials = split_credentials(credential if isinstance(credential, str) else "")
        if in_nppes:
            physician = any(code.startswith("20") for code in taxonomies) or any(
                is_physician_degree(c) for c in credentials
            )
            first, middle, last, suffix = p.first_name, p.middle_name, p.last_name, p.suffix
        else:
            physician = _dac_physician(p.dac_credential, p.dac_specialty)
            first, middle, last, suffix = p.dac_first, p.dac_middle, p.dac_last, p.dac_suffix
        rows.append(
            {
                "rec_id": p.npi,
                "person_id": p.npi,
                "npi": p.npi,
                "sources": [s for s, on in (("nppes", in_nppes), ("dac", in_dac)) if on],
                "first": _text(first),
                "middle": _text(middle),
                "last": _text(last),
                "suffix": _text(suffix),
                "credentials": credentials,
                "alt_lasts": _as_list([p.other_last_name]),
                "states": _distinct(
                    [
                        normalize_state(s or "")
                        for s in [_text(p.practice_state), _text(p.mailing_state), *dac_states]
                    ]
                    + _as_list(p.license_states)
                ),
                "cities": _distinct(
                    normalize_city(c or "")
                    for c in [_text(p.practice_city), _text(p.mailing_city), *dac_cities]
                ),
                "specialties": canonical_specialties(taxonomies + [s for s in dac_specs if s]),
                "physician": physician,
                "zips": _distinct(
                    normalize_zip(z) for z in [_text(p.practice_zip), *_as_list(p.zips)]
                ),
                "affiliations": _as_list(p.orgs),
                "schools": _as_list([canonical_school(p.medical_school)]),
                "grad_years": _as_list([p.graduation_year]),
                "practice_city": _text(p.practice_city),
                "practice_state": _text(p.practice_state),
                "gender": _text(p.gender) if in_nppes else _text(p.dac_gender),
                "medical_school": _text(p.medical_school),
            }
        )
    return pd.DataFrame(rows, columns=REFERENCE_PERSON_COLUMNS)


REFERENCE_PERSON_COLUMNS = [
    "rec_id", "person_id", "npi", "sources", "first", "middle", "last", "suffix", "credentials",
    "alt_lasts", "states", "cities", "specialties", "physician", "zips", "affiliations",
    "schools", "grad_years", "practice_city", "practice_state", "gender", "medical_school",
]  # fmt: skip


def _text(value) -> str | None:
    return value if isinstance(value, str) and value else None


def _one_place_people(
    rows: pd.DataFrame, *, rec_ids: pd.Series, specialties: list, physician: bool | list | None
) -> pd.DataFrame:
    """Person-frame columns for reference rows that name one person at one city and state."""
    return rows.assign(
        rec_id=rec_ids,
        first=rows["first_name"],
        middle=rows["middle_name"],
        last=rows["last_name"],
        alt_lasts=[[] for _ in range(len(rows))],
        states=[_as_list([normalize_state(s)]) for s in rows["state"]],
        cities=[_as_list([normalize_city(c)]) for c in rows["city"]],
        specialties=specialties,
        npi=[clean_npi(n) for n in rows["npi"]],
        physician=physician,
    )


def board_people(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Board certificate rows as person records (one per certificate row)."""
    rows = con.execute(
        """SELECT line_number, npi, first_name, middle_name, last_name, suffix, board,
                  certificate, certificate_type, status, initial_certification_date,
                  expiration_date, moc, city, state
           FROM ref_boards ORDER BY line_number, board, certificate"""
    ).df()
    if rows.empty:
        return rows
    return _one_place_people(
        rows,
        # One line of a file in another layout may hold several certificates.
        rec_ids=pd.Series(range(len(rows)), index=rows.index).astype(str),
        specialties=[_as_list([canonical_specialty(c)]) for c in rows["certificate"]],
        physician=True,
    )


def exclusion_people(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """LEIE exclusions of individuals (businesses cannot be a listed physician)."""
    rows = con.execute(
        """SELECT row_number() OVER (ORDER BY load_id, line_number) AS rec_no, line_number,
                  last_name, first_name, middle_name, npi, city, state, general, specialty,
                  exclusion_type, exclusion_date, reinstatement_date
           FROM ref_leie WHERE last_name IS NOT NULL"""
    ).df()
    if rows.empty:
        return rows
    return _one_place_people(
        rows,
        rec_ids=rows["rec_no"].astype(str),
        specialties=[
            _as_list([canonical_specialty(s)]) if _text(s) else [] for s in rows["specialty"]
        ],
        physician=[_leie_physician(g, s) for g, s in zip(rows["general"], rows["specialty"])],
    )


def _leie_physician(general, specialty) -> bool | None:
    """What the LEIE says an excluded individual does: a physician when its general category
    or specialty names a physician's degree ("MEDICAL PRACTICE, MD") or a physician specialty;
    not one when the specialty names another occupation (nurse, pharmacist, chiropractic);
    unknown when it names none. A namesake on the list is often another profession.

    >>> [_leie_physician("MEDICAL PRACTICE, MD", "INTERNAL MEDICINE"),
    ...  _leie_physician("IND- LIC HC SERV PRO", "PHARMACIST"),
    ...  _leie_physician("IND- LIC HC SERV PRO", "")]
    [True, False, None]
    """
    text = " ".join(v for v in (general, specialty) if _text(v))
    if any(is_physician_degree(c) for c in split_credentials(text)):
        return True
    if _text(specialty):
        return canonical_specialty(specialty) is not None
    return None
