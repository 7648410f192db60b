"""Loaders for the four reference kinds: board certificates, NPPES, Doctors & Clinicians, LEIE.

Each load replaces its kind's raw table in one transaction, so a failed load leaves the previous
reference intact. Rows that cannot be used are kept in ``rejects`` with their reason; re-loading
a file whose sha256 matches the current load of that kind is a no-op.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from pipeline.config import CredcheckError
from pipeline.store import new_id, transaction

BOARD_COLUMNS = [
    "npi",
    "first_name",
    "middle_name",
    "last_name",
    "suffix",
    "board",
    "certificate",
    "certificate_type",
    "status",
    "initial_certification_date",
    "expiration_date",
    "moc",
    "city",
    "state",
]
BOARD_STATUSES = {"active", "expired", "lapsed", "inactive", "suspended", "revoked"}
CERTIFICATE_TYPES = {"specialty", "subspecialty"}
MOC_VALUES = {"", "yes", "no", "not_required"}

KINDS = ("boards", "nppes", "dac", "leie")


@dataclass(frozen=True)
class LoadResult:
    load_id: str
    kind: str
    path: str
    sha256: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    unchanged: bool = False


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_reference(con: duckdb.DuckDBPyConnection, kind: str, path: Path) -> LoadResult:
    """Load one reference file of ``kind`` atomically and record it in ``load_runs``."""
    if kind not in LOADERS:
        raise CredcheckError(f"unknown reference kind {kind!r}; choose one of {', '.join(KINDS)}")
    path = Path(path)
    if not path.is_file():
        raise CredcheckError(f"{kind}: no such file: {path}")
    sha = file_sha256(path)
    current = con.execute(
        "SELECT load_id, rows_read, rows_loaded, rows_rejected FROM load_runs "
        "WHERE kind = ? ORDER BY finished_at DESC LIMIT 1",
        [kind],
    ).fetchone()
    if current and _current_sha(con, kind) == sha:
        return LoadResult(current[0], kind, str(path), sha, *current[1:], unchanged=True)

    load_id = new_id(f"load-{kind}")
    started = datetime.now(UTC).replace(tzinfo=None)
    with transaction(con):
        con.execute(f"DELETE FROM {TABLES[kind]}")
        con.execute("DELETE FROM rejects WHERE kind = ?", [kind])
        rows_read, rows_loaded, rows_rejected = LOADERS[kind](con, path, load_id)
        finished = datetime.now(UTC).replace(tzinfo=None)
        con.execute(
            "INSERT INTO load_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                load_id,
                kind,
                str(path.resolve()),
                sha,
                rows_read,
                rows_loaded,
                rows_rejected,
                started,
                finished,
            ],
        )
    return LoadResult(load_id, kind, str(path), sha, rows_read, rows_loaded, rows_rejected)


def _current_sha(con: duckdb.DuckDBPyConnection, kind: str) -> str | None:
    row = con.execute(
        "SELECT sha256 FROM load_runs WHERE kind = ? ORDER BY finished_at DESC LIMIT 1", [kind]
    ).fetchone()
    return row[0] if row else None


# ---------------------------------------------------------------------------- board certificates


def _parse_date(text: str, *, required: bool) -> date | None:
    if not text:
        if required:
            raise ValueError("missing date")
        return None
    return date.fromisoformat(text)


def _board_row_problem(row: dict[str, str]) -> str | None:
    """Why a canonical board row cannot be used, or None when it can."""
    for field in ("first_name", "last_name", "board", "certificate"):
        if not row[field]:
            return f"missing {field}"
    if row["certificate_type"] not in CERTIFICATE_TYPES:
        return f"unknown certificate_type {row['certificate_type']!r}"
    if row["status"] not in BOARD_STATUSES:
        return f"unknown status {row['status']!r}"
    if row["moc"] not in MOC_VALUES:
        return f"unknown moc {row['moc']!r}"
    for field, required in (("initial_certification_date", True), ("expiration_date", False)):
        try:
            _parse_date(row[field], required=required)
        except ValueError:
            return f"bad {field} {row[field]!r} (want YYYY-MM-DD)"
    return None


def _load_boards(con: duckdb.DuckDBPyConnection, path: Path, load_id: str) -> tuple[int, int, int]:
    good: list[tuple] = []
    rejected: list[tuple] = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = [h.strip().lower() for h in next(reader, [])]
        missing = [c for c in BOARD_COLUMNS if c not in header]
        if missing:
            raise CredcheckError(
                f"boards: {path} is not a canonical board-certification CSV "
                f"(missing columns: {', '.join(missing)})"
            )
        positions = [header.index(c) for c in BOARD_COLUMNS]
        rows_read = 0
        for line_number, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            rows_read += 1
            if len(values) != len(header):
                rejected.append(
                    (
                        load_id,
                        "boards",
                        line_number,
                        f"expected {len(header)} fields, got {len(values)}",
                        ",".join(values),
                    )
                )
                continue
            row = {c: values[p].strip() for c, p in zip(BOARD_COLUMNS, positions)}
            row["status"] = row["status"].lower()
            row["certificate_type"] = row["certificate_type"].lower()
            row["moc"] = row["moc"].lower()
            problem = _board_row_problem(row)
            if problem is None and row["npi"] and not _npi_ok(con, row["npi"]):
                problem = f"invalid NPI {row['npi']!r} (fails the Luhn check)"
            if problem:
                rejected.append((load_id, "boards", line_number, problem, ",".join(values)))
                continue
            good.append(
                (
                    load_id,
                    line_number,
                    row["npi"] or None,
                    row["first_name"],
                    row["middle_name"] or None,
                    row["last_name"],
                    row["suffix"] or None,
                    row["board"],
                    row["certificate"],
                    row["certificate_type"],
                    row["status"],
                    _parse_date(row["initial_certification_date"], required=True),
                    _parse_date(row["expiration_date"], required=False),
                    row["moc"] or None,
                    row["city"] or None,
                    row["state"].upper() or None,
                )
            )
    if good:
        con.executemany(f"INSERT INTO ref_boards VALUES ({', '.join('?' * 16)})", good)
    if rejected:
        con.executemany("INSERT INTO rejects VALUES (?, ?, ?, ?, ?)", rejected)
    return rows_read, len(good), len(rejected)


def _npi_ok(con: duckdb.DuckDBPyConnection, npi: str) -> bool:
    return bool(con.execute("SELECT npi_is_valid(?)", [npi]).fetchone()[0])


# ------------------------------------------------------------------ CSV files read by DuckDB


def _read_header(path: Path, encoding: str) -> list[str]:
    with path.open(encoding=encoding, newline="") as fh:
        return next(csv.reader(fh), [])


def _pick_columns(kind: str, header: list[str], wanted: dict[str, tuple[str, ...]]) -> dict:
    """Map our column names to the file's, accepting the header variants real files use."""
    picked, missing = {}, []
    for ours, variants in wanted.items():
        found = next((v for v in variants if v in header), None)
        if found is None:
            missing.append(variants[0])
        picked[ours] = found
    if missing:
        raise CredcheckError(f"{kind}: file is missing expected columns: {', '.join(missing)}")
    return picked


def _stage_csv(con: duckdb.DuckDBPyConnection, path: Path, encoding: str) -> None:
    """Read the whole file as text into ``src``; malformed lines go to DuckDB's reject tables."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE src AS SELECT * FROM read_csv(?, header = true, "
        "all_varchar = true, encoding = ?, store_rejects = true)",
        [str(path), encoding],
    )


def _copy_csv_rejects(con: duckdb.DuckDBPyConnection, kind: str, load_id: str) -> int:
    count = con.execute("SELECT count(*) FROM reject_errors").fetchone()[0]
    if count:
        con.execute(
            "INSERT INTO rejects SELECT ?, ?, line, 'malformed CSV line: ' || error_message, "
            "csv_line FROM reject_errors",
            [load_id, kind],
        )
    return count


def _q(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _renamed(cols: dict[str, str]) -> str:
    """SELECT list that trims each file column, turns '' into NULL and gives it our name."""
    return ", ".join(f"nullif(trim({_q(col)}), '') AS {ours}" for ours, col in cols.items())


def _counts(
    con: duckdb.DuckDBPyConnection, kind: str, table: str, load_id: str, rows_read: int
) -> tuple[int, int, int]:
    loaded = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    rejected = con.execute("SELECT count(*) FROM rejects WHERE load_id = ?", [load_id]).fetchone()[
        0
    ]
    return rows_read, loaded, rejected


NPPES_COLUMNS = {
    "npi": ("NPI",),
    "entity_type": ("Entity Type Code",),
    "replacement_npi": ("Replacement NPI",),
    "last_name": ("Provider Last Name (Legal Name)",),
    "first_name": ("Provider First Name",),
    "middle_name": ("Provider Middle Name",),
    "prefix": ("Provider Name Prefix Text",),
    "suffix": ("Provider Name Suffix Text",),
    "credential": ("Provider Credential Text",),
    "other_last_name": ("Provider Other Last Name",),
    "other_first_name": ("Provider Other First Name",),
    "other_middle_name": ("Provider Other Middle Name",),
    "practice_city": ("Provider Business Practice Location Address City Name",),
    "practice_state": ("Provider Business Practice Location Address State Name",),
    "practice_zip": ("Provider Business Practice Location Address Postal Code",),
    "practice_phone": ("Provider Business Practice Location Address Telephone Number",),
    "mailing_city": ("Provider Business Mailing Address City Name",),
    "mailing_state": ("Provider Business Mailing Address State Name",),
    "gender": ("Provider Sex Code", "Provider Gender Code"),
    "deactivation_date": ("NPI Deactivation Date",),
}
TAXONOMY_SLOTS = range(1, 16)


def _load_nppes(con: duckdb.DuckDBPyConnection, path: Path, load_id: str) -> tuple[int, int, int]:
    header = _read_header(path, "latin-1")
    cols = _pick_columns("nppes", header, NPPES_COLUMNS)
    slot_cols = {
        f"{name}_{i}": (f"{label}_{i}",)
        for i in TAXONOMY_SLOTS
        for name, label in (
            ("taxonomy", "Healthcare Provider Taxonomy Code"),
            ("license_state", "Provider License Number State Code"),
            ("primary", "Healthcare Provider Primary Taxonomy Switch"),
        )
    }
    slots = _pick_columns("nppes", header, slot_cols)
    _stage_csv(con, path, "latin-1")
    rows_read = con.execute("SELECT count(*) FROM src").fetchone()[0]
    malformed = _copy_csv_rejects(con, "nppes", load_id)

    def nonempty_list(prefix: str) -> str:
        # Slot order matters (slot 1 first), so drop blanks and repeats without sorting.
        items = ", ".join(f"nullif(trim({_q(slots[f'{prefix}_{i}'])}), '')" for i in TAXONOMY_SLOTS)
        return (
            f"list_filter([{items}], lambda x, i: x IS NOT NULL "
            f"AND list_position([{items}], x) = i)"
        )

    primary = " ".join(
        f"WHEN {_q(slots[f'primary_{i}'])} = 'Y' THEN nullif({_q(slots[f'taxonomy_{i}'])}, '')"
        for i in TAXONOMY_SLOTS
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE nppes_rows AS
            SELECT {_renamed(cols)}, {nonempty_list("taxonomy")} AS taxonomy_codes,
                   {nonempty_list("license_state")} AS license_states,
                   CASE {primary} END AS primary_taxonomy,
                   row_number() OVER () + 1 AS line_number
            FROM src"""
    )
    con.execute(
        """INSERT INTO rejects
           SELECT ?, 'nppes', line_number,
                  CASE WHEN NOT npi_is_valid(npi) THEN 'invalid NPI ' || coalesce(npi, '(empty)')
                       ELSE 'unknown entity type ' || coalesce(entity_type, '(empty)') END,
                  npi
           FROM nppes_rows
           WHERE NOT npi_is_valid(npi) OR coalesce(entity_type, '') NOT IN ('1', '2')""",
        [load_id],
    )
    names = ", ".join([*cols, "taxonomy_codes", "license_states", "primary_taxonomy"])
    # Duplicate rows of one NPI (seen when monthly files are concatenated): keep the first.
    con.execute(
        f"""INSERT INTO ref_nppes ({"load_id, " + names})
            SELECT ?, {names} FROM nppes_rows
            WHERE npi_is_valid(npi) AND entity_type IN ('1', '2')
            QUALIFY row_number() OVER (PARTITION BY npi ORDER BY line_number) = 1""",
        [load_id],
    )
    return _counts(con, "nppes", "ref_nppes", load_id, rows_read + malformed)


DAC_COLUMNS = {
    "npi": ("NPI",),
    "last_name": ("Provider Last Name", "lst_nm"),
    "first_name": ("Provider First Name", "frst_nm"),
    "middle_name": ("Provider Middle Name", "mid_nm"),
    "suffix": ("suff",),
    "gender": ("gndr",),
    "credential": ("Cred",),
    "medical_school": ("Med_sch",),
    "graduation_year": ("Grd_yr",),
    "primary_specialty": ("pri_spec",),
    "secondary_specialties": ("sec_spec_all",),
    "organization": ("Facility Name", "org_nm"),
    "city": ("City/Town", "cty"),
    "state": ("State", "st"),
    "zip": ("ZIP Code", "zip"),
    "phone": ("Telephone Number", "phn_numbr"),
}


def _load_dac(con: duckdb.DuckDBPyConnection, path: Path, load_id: str) -> tuple[int, int, int]:
    # The 2021 layout and the current one differ in column names; _pick_columns takes either.
    cols = _pick_columns("dac", _read_header(path, "utf-8-sig"), DAC_COLUMNS)
    _stage_csv(con, path, "utf-8")
    rows_read = con.execute("SELECT count(*) FROM src").fetchone()[0]
    malformed = _copy_csv_rejects(con, "dac", load_id)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE dac_rows AS
            SELECT {_renamed(cols)}, row_number() OVER () + 1 AS line_number FROM src"""
    )
    con.execute(
        "INSERT INTO rejects SELECT ?, 'dac', line_number, "
        "'invalid NPI ' || coalesce(npi, '(empty)'), npi FROM dac_rows WHERE NOT npi_is_valid(npi)",
        [load_id],
    )
    names = ", ".join(cols)
    # A DAC row is clinician x enrollment x group x address: identical rows add nothing.
    con.execute(
        f"INSERT INTO ref_dac (load_id, {names}) "
        f"SELECT DISTINCT ?, {names} FROM dac_rows WHERE npi_is_valid(npi)",
        [load_id],
    )
    return _counts(con, "dac", "ref_dac", load_id, rows_read + malformed)


LEIE_COLUMNS = {
    "last_name": ("LASTNAME",),
    "first_name": ("FIRSTNAME",),
    "middle_name": ("MIDNAME",),
    "business_name": ("BUSNAME",),
    "general": ("GENERAL",),
    "specialty": ("SPECIALTY",),
    "npi": ("NPI",),
    "dob": ("DOB",),
    "address": ("ADDRESS",),
    "city": ("CITY",),
    "state": ("STATE",),
    "zip": ("ZIP",),
    "exclusion_type": ("EXCLTYPE",),
    "exclusion_date": ("EXCLDATE",),
    "reinstatement_date": ("REINDATE",),
    "waiver_date": ("WAIVERDATE",),
    "waiver_state": ("WVRSTATE",),
}


def _leie_date(column: str) -> str:
    # LEIE writes YYYYMMDD and "00000000" for "no date".
    return f"try_strptime(nullif({column}, '00000000'), '%Y%m%d')::DATE"


def _load_leie(con: duckdb.DuckDBPyConnection, path: Path, load_id: str) -> tuple[int, int, int]:
    cols = _pick_columns("leie", _read_header(path, "utf-8-sig"), LEIE_COLUMNS)
    _stage_csv(con, path, "utf-8")
    rows_read = con.execute("SELECT count(*) FROM src").fetchone()[0]
    malformed = _copy_csv_rejects(con, "leie", load_id)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE leie_rows AS
            SELECT {_renamed(cols)}, row_number() OVER () + 1 AS line_number FROM src"""
    )
    con.execute(
        """INSERT INTO rejects SELECT ?, 'leie', line_number, reason, coalesce(npi, '')
           FROM (SELECT *, CASE
                   WHEN last_name IS NULL AND business_name IS NULL THEN 'no name'
                   WHEN exclusion_date IS NULL OR try_strptime(exclusion_date, '%Y%m%d') IS NULL
                        THEN 'bad EXCLDATE ' || coalesce(exclusion_date, '(empty)')
                 END AS reason FROM leie_rows)
           WHERE reason IS NOT NULL""",
        [load_id],
    )
    con.execute(
        f"""INSERT INTO ref_leie
            SELECT ?, last_name, first_name, middle_name, business_name, general, specialty,
                   CASE WHEN npi_is_valid(npi) THEN npi END, dob, address, city, state, zip,
                   exclusion_type, {_leie_date("exclusion_date")},
                   {_leie_date("reinstatement_date")}, {_leie_date("waiver_date")}, waiver_state
            FROM leie_rows
            WHERE (last_name IS NOT NULL OR business_name IS NOT NULL)
              AND try_strptime(exclusion_date, '%Y%m%d') IS NOT NULL""",
        [load_id],
    )
    return _counts(con, "leie", "ref_leie", load_id, rows_read + malformed)


TABLES = {"boards": "ref_boards", "nppes": "ref_nppes", "dac": "ref_dac", "leie": "ref_leie"}
LOADERS: dict[str, Callable[[duckdb.DuckDBPyConnection, Path, str], tuple[int, int, int]]] = {
    "boards": _load_boards,
    "nppes": _load_nppes,
    "dac": _load_dac,
    "leie": _load_leie,
}
