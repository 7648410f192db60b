"""The canonical board-certification CSV (README "Contracts"), or another layout through a
mapping (``pipeline.sources.mapping``): read with Python's csv module, checked row by row,
inserted in Arrow batches."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date

import duckdb
import pyarrow as pa

from pipeline.config import CredcheckError
from pipeline.normalize.npi import is_valid_npi
from pipeline.normalize.numbers import spreadsheet_integer
from pipeline.sources.base import Kind, Reporter, Source
from pipeline.sources.mapping import BoardMapping

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


def _parse_date(text: str, *, required: bool) -> date | None:
    if not text:
        if required:
            raise ValueError("missing date")
        return None
    return date.fromisoformat(text)


def _board_row_problem(row: dict[str, str]) -> str | None:
    """Why a canonical board row cannot be used, or None when it can."""
    for name in ("first_name", "last_name", "board", "certificate"):
        if not row[name]:
            return f"missing {name}"
    if row["certificate_type"] not in CERTIFICATE_TYPES:
        return f"unknown certificate_type {row['certificate_type']!r}"
    if row["status"] not in BOARD_STATUSES:
        return f"unknown status {row['status']!r}"
    if row["moc"] not in MOC_VALUES:
        return f"unknown moc {row['moc']!r}"
    for name, required in (("initial_certification_date", True), ("expiration_date", False)):
        try:
            _parse_date(row[name], required=required)
        except ValueError:
            return f"bad {name} {row[name]!r} (want YYYY-MM-DD)"
    if row["npi"] and not is_valid_npi(row["npi"]):
        return f"invalid NPI {row['npi']!r} (fails the Luhn check)"
    return None


_BOARD_SCHEMA = pa.schema(
    [
        ("load_id", pa.string()),
        ("line_number", pa.int64()),
        *[(c, pa.string()) for c in BOARD_COLUMNS[:9]],
        ("initial_certification_date", pa.date32()),
        ("expiration_date", pa.date32()),
        *[(c, pa.string()) for c in BOARD_COLUMNS[11:]],
        ("repairs", pa.list_(pa.string())),
    ]
)
_BOARD_BATCH = 50_000


def load_boards(con: duckdb.DuckDBPyConnection, source: Source, report: Reporter) -> int:
    """Python's csv reader, checked row by row, inserted in Arrow batches of 50,000."""
    good: list[tuple] = []
    rejected: list[tuple] = []
    seen: dict[int, int] = {}  # hash of a row's values -> its first line (duplicate rows)
    encoding = "utf-8-sig" if source.encoding == "utf-8" else "latin-1"

    def flush() -> None:
        if good:
            batch = pa.Table.from_pylist(
                [dict(zip(_BOARD_SCHEMA.names, row)) for row in good], schema=_BOARD_SCHEMA
            )
            con.register("_board_batch", batch)
            con.execute(f"INSERT INTO {source.table} BY NAME SELECT * FROM _board_batch")
            con.unregister("_board_batch")
            good.clear()
        if rejected:
            con.executemany("INSERT INTO rejects VALUES (?, ?, ?, ?, ?)", rejected)
            rejected.clear()

    source.read_header()  # notes a byte-order mark, CRLF, padded header cells
    rows = (
        BoardMapping.read(source.mapping).rows(source.path, encoding)
        if source.mapping
        else _canonical_rows(source, encoding)
    )
    rows_read = 0
    for line_number, values, raw in rows:
        rows_read += 1
        if values is None:
            source.note("empty_rows_skipped")
            continue
        if isinstance(values, str):  # the line itself is malformed
            rejected.append((source.load_id, "boards", line_number, values, raw))
            continue
        row = dict(zip(BOARD_COLUMNS, values))
        row["status"] = row["status"].lower()
        row["certificate_type"] = row["certificate_type"].lower()
        row["moc"] = row["moc"].lower()
        row["npi"], repaired = spreadsheet_integer(row["npi"])
        if row["npi"] in ("0000000000", "0"):  # the CMS files' "no NPI"
            row["npi"] = ""
        problem = _board_row_problem(row)
        fingerprint = hash(tuple(row.values()))
        if problem is None and fingerprint in seen:
            problem = f"duplicate of line {seen[fingerprint]} (identical row)"
        if problem:
            rejected.append((source.load_id, "boards", line_number, problem, raw))
            continue
        seen[fingerprint] = line_number
        good.append(
            (
                source.load_id,
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
                [repaired] if repaired else None,
            )
        )
        if len(good) >= _BOARD_BATCH:
            flush()
            report(f"read {rows_read:,} rows")
    flush()
    return rows_read


def _canonical_rows(source: Source, encoding: str) -> Iterator[tuple[int, list | str | None, str]]:
    """(line, the canonical values — or why the line is malformed, or None when empty, raw)."""
    with source.path.open(encoding=encoding, newline="") as fh:
        reader = csv.reader(fh)
        header = [h.strip().lower() for h in next(reader, [])]
        missing = [c for c in BOARD_COLUMNS if c not in header]
        if missing:
            raise CredcheckError(
                f"boards: {source.path} is not a canonical board-certification CSV "
                f"(missing columns: {', '.join(missing)}); for another layout, give a mapping: "
                "credcheck load boards FILE --mapping MAP.toml"
            )
        positions = [header.index(c) for c in BOARD_COLUMNS]
        for line_number, values in enumerate(reader, start=2):
            raw = ",".join(values)
            if not any(v.strip() for v in values):
                yield line_number, None, raw
            elif len(values) != len(header):
                yield line_number, f"expected {len(header)} fields, got {len(values)}", raw
            else:
                yield line_number, [values[p].strip() for p in positions], raw


KINDS = (Kind("boards", "ref_boards", "canonical board-certification CSV", load_boards),)
