"""Reference material the world is drawn from: the census name lists, schools, cities,
board lists and public file headers under data/demo and data/reference, read once."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from pipeline.demo.world.catalogue import (
    DATA_DIR,
    PRIMARY_SPECIALTIES,
    REFERENCE_DIR,
    SUBSPECIALTIES,
)

# --------------------------------------------------------------------------------------------
# Reference data loaded from data/demo/
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeightedPool:
    """Items with cumulative weights, drawn in O(log n)."""

    items: tuple[str, ...]
    cum_weights: tuple[float, ...]

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, float]]) -> WeightedPool:
        items, cum, total = [], [], 0.0
        for item, weight in pairs:
            total += weight
            items.append(item)
            cum.append(total)
        return cls(tuple(items), tuple(cum))

    def draw(self, rng: random.Random) -> str:
        return rng.choices(self.items, cum_weights=self.cum_weights)[0]


@dataclass(frozen=True)
class City:
    city: str
    state: str
    zip: str
    area_code: str
    metro: str


@dataclass(frozen=True)
class School:
    name: str
    city: str
    country: str
    osteopathic: bool


@dataclass(frozen=True)
class Reference:
    first_names: dict[str, WeightedPool]  # by gender
    first_name_freq: dict[str, dict[str, float]]  # gender -> NAME -> percent
    surnames: WeightedPool
    surname_mix: dict[str, tuple[float, float]]  # NAME -> (pct asian, pct hispanic)
    accented: dict[tuple[str, str], str]  # (kind, PLAIN) -> accented
    nicknames: dict[str, tuple[str, ...]]  # formal lower -> nicknames lower
    abms_certificates: frozenset[tuple[str, str]]
    aoa_certificates: frozenset[tuple[str, str]]
    taxonomy_codes: frozenset[str]
    md_schools: tuple[School, ...]
    do_schools: tuple[School, ...]
    img_schools: dict[str, tuple[School, ...]]  # by country
    cities: tuple[City, ...]
    npidata_header: tuple[str, ...]
    dac_header: tuple[str, ...]
    leie_header_line: str
    leie_sample_lines: tuple[str, ...]


def _read_csv(name: str) -> list[dict[str, str]]:
    with open(DATA_DIR / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _read_census_first(name: str) -> list[tuple[str, float]]:
    """Census 1990 fixed-width list: name, frequency %, cumulative %, rank."""
    rows = []
    for line in (DATA_DIR / name).read_text(encoding="ascii").splitlines():
        parts = line.split()
        if len(parts) == 4:
            rows.append((parts[0], float(parts[1])))
    return rows


def _reference_header(name: str) -> tuple[str, ...]:
    """The column names of a public file's published header (data/reference)."""
    with open(REFERENCE_DIR / name, newline="", encoding="ascii") as fh:
        return tuple(next(csv.reader(fh)))


@lru_cache(maxsize=1)
def load_reference() -> Reference:
    """Read data/demo once per process; fail loudly if the crosswalk drifts from the data."""
    first = {g: _read_census_first(f"dist.{g}.first") for g in ("male", "female")}
    surnames = _read_csv("census_2000_surnames_top5000.csv")
    # The generator's own everyday short forms, not the matcher's nickname table.
    nick: dict[str, list[str]] = {}
    for row in _read_csv("everyday_nicknames.csv"):
        nick.setdefault(row["formal"], []).append(row["nickname"])
    schools = _read_csv("us_canada_medical_schools.csv")
    img: dict[str, list[School]] = {}
    for row in _read_csv("world_medical_schools_2014_img_subset.csv"):
        img.setdefault(row["country_iso"], []).append(
            School(row["name"], row["city"], row["country_iso"], False)
        )
    leie_sample = REFERENCE_DIR / "oig" / "UPDATED_first_rows_sample.csv"
    leie_lines = leie_sample.read_text("utf-8").splitlines()
    ref = Reference(
        first_names={g: WeightedPool.from_pairs(rows) for g, rows in first.items()},
        first_name_freq={g: dict(rows) for g, rows in first.items()},
        surnames=WeightedPool.from_pairs((r["name"], float(r["count"])) for r in surnames),
        surname_mix={r["name"]: (_pct(r["pctapi"]), _pct(r["pcthispanic"])) for r in surnames},
        accented={(r["kind"], r["plain"]): r["accented"] for r in _read_csv("accented_names.csv")},
        nicknames={k: tuple(v) for k, v in nick.items()},
        abms_certificates=frozenset(
            (r["board"], r["certificate_name"])
            for r in _read_csv("abms_board_certificates_2016.csv")
        ),
        aoa_certificates=frozenset(
            (r["aoa_board_area"], r["certificate_name"])
            for r in _read_csv("aoa_board_certificates_partial.csv")
        ),
        taxonomy_codes=frozenset(r["Code"] for r in _read_csv("nucc_taxonomy_251_subset.csv")),
        md_schools=tuple(
            School(r["name"], r["city"], r["country"], False)
            for r in schools
            if "osteopathic" not in r["name"].lower()
        ),
        do_schools=tuple(
            School(r["name"], r["city"], r["country"], True)
            for r in schools
            if "osteopathic" in r["name"].lower()
        ),
        img_schools={k: tuple(v) for k, v in img.items()},
        cities=tuple(
            City(r["city"], r["state"], r["zip"], r["area_code"], r["metro"])
            for r in _read_csv("us_cities.csv")
        ),
        npidata_header=_reference_header("cms/nppes/npidata_pfile_header.csv"),
        dac_header=_reference_header("cms/dac/DAC_NationalDownloadableFile_header_current.csv"),
        leie_header_line=(REFERENCE_DIR / "oig/UPDATED_header.csv").read_text("ascii").strip("\n"),
        leie_sample_lines=tuple(leie_lines[1:]),
    )
    _check_crosswalk(ref)
    return ref


def _pct(text: str) -> float:
    """Census percentages use "(S)" for suppressed small counts."""
    try:
        return float(text)
    except ValueError:
        return 0.0


def _check_crosswalk(ref: Reference) -> None:
    for spec in PRIMARY_SPECIALTIES + SUBSPECIALTIES:
        if (spec.board, spec.name) not in ref.abms_certificates:
            raise ValueError(f"{spec.board} / {spec.name} is not in the ABMS reference list")
        if spec.aoa and spec.aoa not in ref.aoa_certificates:
            raise ValueError(f"{spec.aoa} is not in the AOA reference list")
        if spec.taxonomy not in ref.taxonomy_codes:
            raise ValueError(f"taxonomy {spec.taxonomy} ({spec.name}) is not in NUCC 25.1")
