"""The demo world's catalogue: its own specialty crosswalk and name material (data files under
data/demo, written for the generator and independent of data/vocab), its sites and its rates."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from pipeline import config
from pipeline.sources.boards import BOARD_COLUMNS

DATA_DIR = config.DATA_DIR / "demo"
REFERENCE_DIR = config.REFERENCE_DIR
AS_OF = date(2026, 11, 1)
LAPSED_STATUSES = frozenset({"expired", "lapsed", "inactive"})
# The file layouts and value sets are the project's contracts; the world writes them as is.
BOARDS_HEADER = BOARD_COLUMNS
TRUTH_HEADER = ["site_id", "listing_ref", "path", "npi", "is_physician", "expected_certification"]


@dataclass(frozen=True)
class Specialty:
    """A board certificate area and how the outside world writes it."""

    name: str  # canonical name: the ABMS certificate name
    board: str  # ABMS board issuing it
    taxonomy: str  # NUCC code a holder registers in NPPES
    cms: str  # CMS Doctors & Clinicians specialty (pri_spec)
    labels: tuple[str, ...]  # how directories write it (repeats = weight)
    weight: float  # share among primaries, or probability within the parent
    parent: str | None = None  # parent specialty for subspecialties
    honor: str | None = None  # fellowship letters some holders append ("FACC")
    aoa: tuple[str, str] | None = None  # (AOA board area, certificate) a DO may hold instead
    department: str = "Medicine"  # academic department of a faculty member
    training_years: int = 3  # residency (or fellowship) years before the first exam

    @classmethod
    def from_json(cls, data: dict) -> Specialty:
        tuples = {k: tuple(v) for k, v in data.items() if k in ("labels", "aoa")}
        return cls(**{**data, **tuples})


_CATALOGUE = json.loads((DATA_DIR / "specialties.json").read_text(encoding="utf-8"))
_NAMES = json.loads((DATA_DIR / "names.json").read_text(encoding="utf-8"))

# The reference file names AOA boards by area; board records use the boards' official names.
AOA_BOARD_NAMES: dict[str, str] = _CATALOGUE["aoa_board_names"]
PRIMARY_SPECIALTIES = tuple(Specialty.from_json(s) for s in _CATALOGUE["primary"])
SUBSPECIALTIES = tuple(Specialty.from_json(s) for s in _CATALOGUE["subspecialties"])
IM, FM, PEDS, EM, OBG = (
    "Internal Medicine",
    "Family Medicine",
    "Pediatrics",
    "Emergency Medicine",
    "Obstetrics and Gynecology",
)
SPECIALTY_BY_NAME: dict[str, Specialty] = {s.name: s for s in PRIMARY_SPECIALTIES}
SUBSPECIALTIES_OF: dict[str, tuple[Specialty, ...]] = {
    p.name: tuple(s for s in SUBSPECIALTIES if s.parent == p.name) for p in PRIMARY_SPECIALTIES
}
# Canonical names a directory label stands for; several certificates share a name
# ("Critical Care Medicine" from ABIM and ABA), which is fine because claims compare names.
LABEL_CANONICAL: dict[str, str] = {
    label: s.name for s in PRIMARY_SPECIALTIES + SUBSPECIALTIES for label in s.labels
}
# Physicians do list specialties they hold no certificate in (ER shifts, cosmetic work).
OFF_SPECIALTY_CLAIMS: dict[str, tuple[str, ...]] = {
    k: tuple(v) for k, v in _CATALOGUE["off_specialty_claims"].items()
}

NON_PHYSICIAN_FIELDS = (IM, FM, PEDS, EM, OBG, "Dermatology", "Orthopaedic Surgery")
NP_TAXONOMIES = (("363L00000X", "NP"), ("363LF0000X", "FNP-C"), ("363LA2200X", "APRN"))
PA_TAXONOMY = "363A00000X"
HOSPITAL_TAXONOMY = "282N00000X"
GROUP_TAXONOMY = "193200000X"

# Name material that is not in the census lists (data/demo/names.json).
HISPANIC_FIRST = {k: tuple(v) for k, v in _NAMES["hispanic_first"].items()}
SOUTH_ASIAN_SURNAMES = tuple(_NAMES["south_asian_surnames"])
SOUTH_ASIAN_FIRST = {k: tuple(v) for k, v in _NAMES["south_asian_first"].items()}
EAST_ASIAN_FIRST = {k: tuple(v) for k, v in _NAMES["east_asian_first"].items()}
LANGUAGE_BY_SURNAME: dict[str, str] = _NAMES["language_by_surname"]
# Census surnames lose their punctuation; restore the usual spelling.
SURNAME_SPELLING: dict[str, str] = _NAMES["surname_spelling"]
GENERATIONAL_SUFFIXES = tuple((s, float(p)) for s, p in _NAMES["generational_suffixes"])
STREETS = tuple(_NAMES["streets"])
NON_PHYSICIAN_DEGREES = {
    role: tuple(tuple(d) for d in options)
    for role, options in _NAMES["non_physician_degrees"].items()
}
RESEARCH_DEPARTMENTS = tuple(_NAMES["research_departments"])
ACADEMIC_RANKS = tuple((rank, int(w)) for rank, w in _NAMES["academic_ranks"])
LEIE_EXCLUSION_TYPES = tuple(_NAMES["leie_exclusion_types"])

# --------------------------------------------------------------------------------------------
# Sites
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteSpec:
    site_id: str
    name: str
    short: str  # short brand used in clinic names
    kind: str  # hospital | medical_school
    shape: str  # jsonld_sitemap | html_directory | faculty_directory
    city: str
    state: str
    metro: str  # key into us_cities.csv metro column
    listing_share: float  # listings per world physician
    npi_shown_rate: float  # share of listings showing an NPI on the page
    dr_prefix_rate: float
    accent_keep_rate: float
    inverted_name_rate: float  # "Doe, Jane Q., MD" style


SITES: tuple[SiteSpec, ...] = (
    SiteSpec(
        "mercy-general",
        "Mercy General Hospital",
        "Mercy",
        "hospital",
        "jsonld_sitemap",
        "Boston",
        "MA",
        "boston",
        0.16,
        0.25,
        0.5,
        0.8,
        0.0,
    ),
    SiteSpec(
        "hill-country-regional",
        "Hill Country Regional Medical Center",
        "Hill Country",
        "hospital",
        "html_directory",
        "San Antonio",
        "TX",
        "san_antonio",
        0.15,
        0.0,
        0.3,
        0.4,
        0.1,
    ),
    SiteSpec(
        "commonwealth-med",
        "Commonwealth University School of Medicine",
        "Commonwealth",
        "medical_school",
        "faculty_directory",
        "Boston",
        "MA",
        "boston",
        0.13,
        0.0,
        0.1,
        0.85,
        0.0,
    ),
)
SITE_PATH_PATTERNS = {
    "jsonld_sitemap": "/doctors/{slug}-{id}",
    "html_directory": "/physician-directory/{id}",
    "faculty_directory": "/faculty/{slug}",
}
REGION_SHARES = (("boston", 0.30), ("san_antonio", 0.22), ("other", 0.48))
NON_PHYSICIAN_LISTING_RATE = 0.04  # NPs and PAs on hospital directories
NO_NPPES_LISTING_RATE = 0.03
RESEARCHER_SHARE_FACULTY = 0.26
FACULTY_ALSO_ON_HOSPITAL = 0.35  # faculty physicians who also hold a hospital listing
MOVED_RATE = 0.10
TWIN_TARGET = 25  # same-name pairs across states with one listed
LEIE_WORLD_PHYSICIANS = 10
LEIE_OTHER_INDIVIDUALS = 10
