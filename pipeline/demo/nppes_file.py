"""Realistic NPPES npidata files of any size, streamed to disk.

The file has the real 330-column header (June 2025 V2, or the older "Provider Gender Code"
variant), iso-8859-1 bytes, every field quoted, CRLF line ends, dates as MM/DD/YYYY and NPIs
with valid Luhn check digits, sorted by NPI like the real file. Names come from the US Census
lists (surnames weighted by frequency, some with their accented spellings), taxonomies from the
NUCC code set in a realistic mix (about a fifth physicians, then nurses, NPs, PAs, therapists,
and organisations). About 3% of NPIs are deactivated rows that carry only the NPI and dates.

Quirks can be injected at a rate each: duplicate rows, Luhn-invalid NPIs, ZIP codes that lost
their leading zeros and phone numbers in scientific notation (a spreadsheet round trip).

    python -m pipeline.demo.nppes_file OUT.csv --rows 1000000 [--seed 7] [--quirks 0.001]

Rows are written as they are generated, so memory does not grow with ``--rows``.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import itertools
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from pipeline.config import DATA_DIR, REFERENCE_DIR
from pipeline.normalize.npi import npi_check_digit

DEMO_DATA = DATA_DIR / "demo"
VOCAB = DATA_DIR / "vocab"
HEADER_FILE = REFERENCE_DIR / "cms" / "nppes" / "npidata_pfile_header.csv"

QUIRKS = ("duplicate", "bad_npi", "zip_lost_zero", "phone_scientific")


@dataclass(frozen=True)
class Quirks:
    """Rate (0..1) at which each real-file quirk is injected."""

    duplicate: float = 0.0
    bad_npi: float = 0.0
    zip_lost_zero: float = 0.0
    phone_scientific: float = 0.0

    @classmethod
    def all(cls, rate: float) -> Quirks:
        return cls(rate, rate, rate, rate)


@dataclass
class FileStats:
    """What was written, so tests can check the loader's counts."""

    rows: int = 0
    individuals: int = 0
    organizations: int = 0
    deactivated: int = 0
    quirks: dict[str, int] = field(default_factory=lambda: dict.fromkeys(QUIRKS, 0))


def nppes_header(gender_header: str = "Provider Sex Code") -> list[str]:
    header = next(csv.reader(HEADER_FILE.open(encoding="ascii", newline="")))
    return [gender_header if h == "Provider Sex Code" else h for h in header]


class _Weighted:
    """Fast weighted choice with a cumulative table and bisect."""

    def __init__(self, items: list, weights: list[float]) -> None:
        self.items = items
        self.cumulative = list(itertools.accumulate(weights))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random):
        return self.items[bisect.bisect(self.cumulative, rng.random() * self.total)]


def _census_first(path: Path) -> _Weighted:
    names, weights = [], []
    for line in path.read_text(encoding="ascii").splitlines():
        parts = line.split()
        if len(parts) >= 2:
            names.append(parts[0])
            weights.append(float(parts[1]))
    return _Weighted(names, weights)


@dataclass
class _Vocab:
    surnames: _Weighted
    male: _Weighted
    female: _Weighted
    accented: dict[str, str]
    individual_taxonomies: _Weighted
    organization_taxonomies: list[str]
    cities: list[tuple[str, str, str, str]]  # city, state, zip, area code


# Share of individual NPIs by NUCC grouping (roughly the real file's mix).
_GROUP_SHARE = {
    "Allopathic & Osteopathic Physicians": 0.22,
    "Nursing Service Providers": 0.18,
    "Physician Assistants & Advanced Practice Nursing Providers": 0.16,
    "Behavioral Health & Social Service Providers": 0.12,
    "Respiratory, Developmental, Rehabilitative and Restorative Service Providers": 0.08,
    "Dental Providers": 0.07,
    "Pharmacy Service Providers": 0.04,
    "Chiropractic Providers": 0.03,
    "Eye and Vision Services Providers": 0.03,
    "Technologists, Technicians & Other Technical Service Providers": 0.03,
    "Podiatric Medicine & Surgery Service Providers": 0.01,
    "Dietary & Nutritional Service Providers": 0.01,
    "Speech, Language and Hearing Service Providers": 0.01,
    "Other Service Providers": 0.01,
}
_CREDENTIALS = {
    "20": (("MD", 0.5), ("M.D.", 0.3), ("DO", 0.08), ("D.O.", 0.04), ("MD, PHD", 0.04), ("", 0.04)),
    "36": (("NP", 0.3), ("FNP-C", 0.2), ("APRN", 0.2), ("PA-C", 0.2), ("CRNA", 0.1)),
    "16": (("RN", 0.6), ("R.N.", 0.2), ("LPN", 0.2)),
    "12": (("DDS", 0.6), ("D.D.S.", 0.2), ("DMD", 0.2)),
}
_STREETS = (
    "MAIN ST",
    "OAK AVE",
    "MEDICAL CENTER DR",
    "ELM ST",
    "PARK BLVD",
    "HOSPITAL RD",
    "WASHINGTON ST",
    "MAPLE AVE",
    "CENTRAL AVE",
    "HEALTH WAY",
)
_SUFFIXES = (("", 0.95), ("JR.", 0.025), ("SR.", 0.01), ("II", 0.008), ("III", 0.007))


def _load_vocab() -> _Vocab:
    def rows(path: Path) -> list[dict[str, str]]:
        with path.open(encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))

    census = rows(DEMO_DATA / "census_2000_surnames_top5000.csv")
    accented = {
        r["plain"]: r["accented"] for r in rows(DEMO_DATA / "accented_names.csv") if r["accented"]
    }
    taxonomy = rows(VOCAB / "nucc_taxonomy_251.csv")
    by_group: dict[str, list[str]] = {}
    for r in taxonomy:
        by_group.setdefault(r["Grouping"], []).append(r["Code"])
    codes, weights = [], []
    for group, share in _GROUP_SHARE.items():
        members = by_group.get(group, [])
        for i, code in enumerate(members):
            # Generic codes (no specialization, ending 00000X) are the commonest in each group.
            boost = 6.0 if code.endswith("00000X") else 1.0 / (1 + i % 7)
            codes.append(code)
            weights.append(share * boost / len(members))
    org_codes = [r["Code"] for r in taxonomy if r["Section"] == "Non-Individual"]
    cities = [
        (r["city"].upper(), r["state"], r["zip"], r["area_code"])
        for r in rows(DEMO_DATA / "us_cities.csv")
    ]
    return _Vocab(
        surnames=_Weighted([r["name"] for r in census], [float(r["count"]) for r in census]),
        male=_census_first(DEMO_DATA / "dist.male.first"),
        female=_census_first(DEMO_DATA / "dist.female.first"),
        accented=accented,
        individual_taxonomies=_Weighted(codes, weights),
        organization_taxonomies=org_codes,
        cities=cities,
    )


def _date(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def _mdy(d: date) -> str:
    return d.strftime("%m/%d/%Y")


def _pick(rng: random.Random, options: tuple[tuple[str, float], ...]) -> str:
    x = rng.random()
    for value, weight in options:
        x -= weight
        if x < 0:
            return value
    return options[-1][0]


class NppesRows:
    """Generates npidata rows (lists of 330 strings) with their quirks counted in ``stats``."""

    def __init__(
        self,
        seed: int = 7,
        quirks: Quirks = Quirks(),
        gender_header: str = "Provider Sex Code",
        first_npi: int = 100_000_000,
    ) -> None:
        self.rng = random.Random(seed)
        self.quirks = quirks
        self.header = nppes_header(gender_header)
        self.col = {name: i for i, name in enumerate(self.header)}
        self.gender_col = self.col[gender_header]
        self.vocab = _load_vocab()
        self.next_npi = first_npi
        self.stats = FileStats()
        self.as_of = date(2025, 6, 8)

    def _npi(self) -> str:
        self.next_npi += 1 + self.rng.randrange(8)
        nine = str(self.next_npi)
        check = npi_check_digit(nine)
        if self.quirks.bad_npi and self.rng.random() < self.quirks.bad_npi:
            self.stats.quirks["bad_npi"] += 1
            check = (check + 1 + self.rng.randrange(9)) % 10
        return nine + str(check)

    def _address(self, row: list[str], kind: str) -> None:
        rng, col = self.rng, self.col
        city, state, zip5, area = self.vocab.cities[rng.randrange(len(self.vocab.cities))]
        postal = zip5 + (f"{rng.randrange(10000):04d}" if rng.random() < 0.7 else "")
        if (
            self.quirks.zip_lost_zero
            and postal.startswith("0")
            and rng.random() < self.quirks.zip_lost_zero * 4  # only ~1/4 of ZIPs start with 0
        ):
            self.stats.quirks["zip_lost_zero"] += 1
            postal = postal.lstrip("0")
        phone = f"{area}555{rng.randrange(100, 200):04d}"
        if self.quirks.phone_scientific and rng.random() < self.quirks.phone_scientific:
            self.stats.quirks["phone_scientific"] += 1
            phone = f"{int(phone):.9E}"  # 6.175550134E+09
        row[col[f"Provider First Line Business {kind} Address"]] = (
            f"{rng.randrange(1, 9999)} {_STREETS[rng.randrange(len(_STREETS))]}"
        )
        if rng.random() < 0.3:
            row[col[f"Provider Second Line Business {kind} Address"]] = (
                f"SUITE {rng.randrange(100, 999)}"
            )
        row[col[f"Provider Business {kind} Address City Name"]] = city
        row[col[f"Provider Business {kind} Address State Name"]] = state
        row[col[f"Provider Business {kind} Address Postal Code"]] = postal
        row[col[f"Provider Business {kind} Address Country Code (If outside U.S.)"]] = "US"
        row[col[f"Provider Business {kind} Address Telephone Number"]] = phone

    def _individual(self, row: list[str]) -> None:
        rng, col, vocab = self.rng, self.col, self.vocab
        female = rng.random() < 0.55
        first = (vocab.female if female else vocab.male).pick(rng)
        last = vocab.surnames.pick(rng)
        upper = rng.random() < 0.75
        if rng.random() < 0.5:  # accented spellings, written in iso-8859-1
            first = vocab.accented.get(first, first)
            last = vocab.accented.get(last, last)
        fix = str.upper if upper else str.title
        row[col["Entity Type Code"]] = "1"
        row[col["Provider Last Name (Legal Name)"]] = fix(last)
        row[col["Provider First Name"]] = fix(first)
        if rng.random() < 0.7:
            middle = (vocab.female if female else vocab.male).pick(rng)
            row[col["Provider Middle Name"]] = fix(middle if rng.random() < 0.5 else middle[0])
        row[col["Provider Name Suffix Text"]] = _pick(rng, _SUFFIXES)
        code = vocab.individual_taxonomies.pick(rng)
        credential = _pick(rng, _CREDENTIALS.get(code[:2], (("", 1.0),)))
        row[col["Provider Credential Text"]] = credential
        if code.startswith("20") and rng.random() < 0.3:
            row[col["Provider Name Prefix Text"]] = "DR."
        if female and rng.random() < 0.06:
            row[col["Provider Other Last Name"]] = fix(vocab.surnames.pick(rng))
            row[col["Provider Other First Name"]] = fix(first)
            row[col["Provider Other Last Name Type Code"]] = "1"  # former name
        row[self.gender_col] = "F" if female else "M"
        state = self._addresses(row)
        slots = [code]
        if rng.random() < 0.25:
            slots.append(vocab.individual_taxonomies.pick(rng))
        if rng.random() < 0.05:
            slots += [code] * rng.randrange(1, 13)  # same taxonomy licensed in several states
        primary = rng.randrange(len(slots)) if len(slots) > 1 and rng.random() < 0.3 else 0
        for i, slot_code in enumerate(slots, start=1):
            row[col[f"Healthcare Provider Taxonomy Code_{i}"]] = slot_code
            row[col[f"Provider License Number_{i}"]] = (
                f"{rng.choice('ABDGM')}{rng.randrange(10**6)}"
            )
            row[col[f"Provider License Number State Code_{i}"]] = (
                state if i == 1 else self.vocab.cities[rng.randrange(len(self.vocab.cities))][1]
            )
            row[col[f"Healthcare Provider Primary Taxonomy Switch_{i}"]] = (
                "Y" if i - 1 == primary else "N"
            )
        row[col["Is Sole Proprietor"]] = _pick(rng, (("N", 0.8), ("Y", 0.12), ("X", 0.08)))
        self.stats.individuals += 1

    def _organization(self, row: list[str]) -> None:
        rng, col, vocab = self.rng, self.col, self.vocab
        row[col["Entity Type Code"]] = "2"
        city = vocab.cities[rng.randrange(len(vocab.cities))][0]
        row[col["Provider Organization Name (Legal Business Name)"]] = (
            f"{vocab.surnames.pick(rng)} {rng.choice(('MEDICAL GROUP', 'HEALTH LLC', 'CLINIC PC'))}"
            if rng.random() < 0.5
            else f"{city} {rng.choice(('HOME HEALTH', 'PHARMACY', 'DENTAL CARE', 'THERAPY INC'))}"
        )
        self._addresses(row)
        row[col["Authorized Official Last Name"]] = vocab.surnames.pick(rng)
        row[col["Authorized Official First Name"]] = vocab.male.pick(rng)
        row[col["Authorized Official Title or Position"]] = rng.choice(("CEO", "OWNER", "CFO"))
        taxonomies = vocab.organization_taxonomies
        row[col["Healthcare Provider Taxonomy Code_1"]] = taxonomies[rng.randrange(len(taxonomies))]
        row[col["Healthcare Provider Primary Taxonomy Switch_1"]] = "Y"
        row[col["Is Organization Subpart"]] = "N"
        self.stats.organizations += 1

    def _addresses(self, row: list[str]) -> str:
        self._address(row, "Practice Location")
        if self.rng.random() < 0.6:
            for kind in ("First Line Business", "Second Line Business"):
                source = self.col[f"Provider {kind} Practice Location Address"]
                row[self.col[f"Provider {kind} Mailing Address"]] = row[source]
            for part in (
                "City Name",
                "State Name",
                "Postal Code",
                "Telephone Number",
                "Country Code (If outside U.S.)",
            ):
                source = self.col[f"Provider Business Practice Location Address {part}"]
                row[self.col[f"Provider Business Mailing Address {part}"]] = row[source]
        else:
            self._address(row, "Mailing")
        return row[self.col["Provider Business Practice Location Address State Name"]]

    def row(self) -> list[str]:
        rng, col = self.rng, self.col
        row = [""] * len(self.header)
        row[col["NPI"]] = self._npi()
        enumerated = _date(rng, date(2005, 5, 23), self.as_of)
        if rng.random() < 0.03:  # deactivated: NPI and dates only
            row[col["NPI Deactivation Date"]] = _mdy(_date(rng, enumerated, self.as_of))
            self.stats.deactivated += 1
            return row
        if rng.random() < 0.8:
            self._individual(row)
        else:
            self._organization(row)
        row[col["Provider Enumeration Date"]] = _mdy(enumerated)
        row[col["Last Update Date"]] = _mdy(_date(rng, enumerated, self.as_of))
        row[col["Certification Date"]] = _mdy(_date(rng, enumerated, self.as_of))
        return row

    def rows(self, n: int) -> Iterator[list[str]]:
        while self.stats.rows < n:
            row = self.row()
            yield row
            self.stats.rows += 1
            if (
                self.quirks.duplicate
                and self.stats.rows < n
                and rng_hit(self.rng, self.quirks.duplicate)
            ):
                self.stats.quirks["duplicate"] += 1
                yield row
                self.stats.rows += 1


def rng_hit(rng: random.Random, rate: float) -> bool:
    return rng.random() < rate


def quoted_line(values: list[str]) -> str:
    """One line in NPPES style: every field quoted, inner double quotes made single."""
    line = '","'.join(values)
    if line.count('"') != 2 * (len(values) - 1):  # a value holds a double quote (rare)
        line = '","'.join(v.replace('"', "'") for v in values)
    return '"' + line + '"\r\n'


def write_nppes_file(
    path: Path,
    rows: int,
    *,
    seed: int = 7,
    quirks: Quirks = Quirks(),
    gender_header: str = "Provider Sex Code",
    first_npi: int = 100_000_000,
    progress: bool = False,
) -> FileStats:
    """Write an npidata file of ``rows`` data rows; returns what was written."""
    generator = NppesRows(seed, quirks, gender_header, first_npi)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with path.open("w", encoding="iso-8859-1", newline="", buffering=1 << 20) as fh:
        fh.write(quoted_line(generator.header))
        batch: list[str] = []
        next_report = 100_000
        for row in generator.rows(rows):
            batch.append(quoted_line(row))
            if len(batch) == 5000:
                fh.write("".join(batch))
                batch.clear()
                if progress and generator.stats.rows >= next_report:
                    next_report += 100_000
                    print(
                        f"nppes_file: {generator.stats.rows:,} rows "
                        f"({time.monotonic() - started:.0f}s)",
                        file=sys.stderr,
                    )
        fh.write("".join(batch))
    return generator.stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.demo.nppes_file",
        description="Write a realistic NPPES npidata file (330 columns, iso-8859-1, all quoted).",
    )
    parser.add_argument("out", type=Path, help="the CSV file to write")
    parser.add_argument("--rows", type=int, default=10_000, help="data rows (default 10,000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--quirks",
        type=float,
        default=0.0,
        metavar="RATE",
        help="inject duplicate rows, bad NPIs, ZIPs without leading zeros and phones in "
        "scientific notation, each at this rate (e.g. 0.001)",
    )
    parser.add_argument(
        "--gender-header",
        action="store_true",
        help='write the older "Provider Gender Code" header instead of "Provider Sex Code"',
    )
    args = parser.parse_args(argv)
    stats = write_nppes_file(
        args.out,
        args.rows,
        seed=args.seed,
        quirks=Quirks.all(args.quirks),
        gender_header="Provider Gender Code" if args.gender_header else "Provider Sex Code",
        progress=True,
    )
    print(
        f"wrote {args.out}: rows={stats.rows} individuals={stats.individuals} "
        f"organizations={stats.organizations} deactivated={stats.deactivated} "
        + " ".join(f"{k}={v}" for k, v in stats.quirks.items())
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
