"""Reference files as they arrive: the demo's NPPES, DAC, LEIE and board files after a pandas
round trip and after a spreadsheet-style rewrite load every row exactly as the originals do.

The spreadsheet rewrite is written here, independent of the loaders: per file it draws from a
seed (drawn at test time and printed; failing seeds join ``REGRESSION_SEEDS``) what a
spreadsheet does on "Save as CSV" — number columns lose their leading zeros, become floats or
scientific notation (all digits kept: what loses digits cannot be repaired), UTF-8 with or
without a byte-order mark, CRLF or LF line ends, another quoting style, padded header cells, an
older column name, and empty rows at the end (full width, and short ",,,," ones).
"""

from __future__ import annotations

import csv
import random
import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipeline.sources import load_reference

FILES = {"nppes": "npidata.csv", "dac": "dac.csv", "leie": "leie.csv", "boards": "boards.csv"}
TABLES = {"nppes": "ref_nppes", "dac": "ref_dac", "leie": "ref_leie", "boards": "ref_boards"}
ENCODINGS = {"nppes": "iso-8859-1"}
# Older names of a column, as a file of another year has them.
OLDER_NAMES = {"Provider Sex Code": "Provider Gender Code"}
# Number columns of the files that no loader keeps (NPPES: only the practice location's phone is
# kept): written as floats, there is nothing to repair or count.
UNUSED = {"Provider Business Mailing Address Telephone Number", "Authorized Official Telephone Number"}
REGRESSION_SEEDS: list[int] = [
    675363,  # floats only in the mailing phone, a column not kept (nothing to count)
]
_DIGITS = re.compile(r"[0-9]+")


def spreadsheet_rewrite(source: Path, target: Path, rng: random.Random, encoding: str) -> dict:
    """Write ``source`` as a spreadsheet would save it; returns what was done."""
    with source.open(encoding=encoding, newline="") as fh:
        header, *rows = list(csv.reader(fh))
    done: dict = {"numbers": {}}
    for j, name in enumerate(header):
        values = [r[j] for r in rows if r[j]]
        if not values or not all(_DIGITS.fullmatch(v) for v in values):
            continue
        style = rng.choice(("integer", "float", "scientific", "as_is"))
        done["numbers"][name] = style
        for r in rows:
            if r[j]:
                r[j] = _as_number(r[j], style)
    for j, name in enumerate(header):
        if name in OLDER_NAMES and rng.random() < 0.5:
            header[j] = OLDER_NAMES[name]
            done["renamed"] = name
        if rng.random() < 0.1:
            header[j] = rng.choice((" ", "  ")) + header[j] + rng.choice(("", " "))
    done["bom"] = rng.random() < 0.5
    done["crlf"] = rng.random() < 0.5
    done["quoting"] = rng.choice(("minimal", "all", "nonnumeric"))
    done["empty_rows"] = rng.randrange(0, 4)
    quoting = {"minimal": csv.QUOTE_MINIMAL, "all": csv.QUOTE_ALL,
               "nonnumeric": csv.QUOTE_NONNUMERIC}[done["quoting"]]  # fmt: skip
    with target.open("w", encoding="utf-8-sig" if done["bom"] else "utf-8", newline="") as fh:
        writer = csv.writer(fh, quoting=quoting, lineterminator="\r\n" if done["crlf"] else "\n")
        writer.writerow(header)
        writer.writerows(rows)
        for i in range(done["empty_rows"]):
            if i % 2:
                fh.write("," * 4 + ("\r\n" if done["crlf"] else "\n"))
            else:
                writer.writerow([""] * len(header))
    return done


def _as_number(digits: str, style: str) -> str:
    number = str(int(digits))  # a number cell has no leading zeros
    if style == "float":
        return number + ".0"
    if style == "scientific" and len(number) > 1:
        return f"{number[0]}.{number[1:]}E+{len(number) - 1:02d}"
    return digits if style == "as_is" else number


def _loaded(kind: str, path: Path, db: Path) -> tuple:
    """(rows read, loaded rows sorted, rejects) of one file loaded into a fresh database."""
    with duckdb.connect(str(db)) as con:
        result = load_reference(con, kind, path)
        columns = [
            c
            for (c,) in con.execute(
                f"SELECT column_name FROM (DESCRIBE {TABLES[kind]})"
            ).fetchall()
            if c not in ("load_id", "repairs")
        ]
        rows = con.execute(f"SELECT {', '.join(columns)} FROM {TABLES[kind]} ORDER BY ALL").fetchall()
        rejects = con.execute("SELECT line_number, reason FROM rejects ORDER BY ALL").fetchall()
        repairs = dict(
            con.execute("SELECT repair, row_count FROM load_repairs").fetchall()
        )
    return result.rows_read, rows, rejects, repairs


@pytest.fixture(scope="module")
def originals(demo_world, tmp_path_factory):
    out = tmp_path_factory.mktemp("originals")
    return {
        kind: _loaded(kind, demo_world / "reference" / name, out / f"{kind}.duckdb")
        for kind, name in FILES.items()
    }


@pytest.mark.parametrize("kind", list(FILES))
def test_a_pandas_round_trip_loads_the_same_rows(kind, demo_world, originals, tmp_path):
    source = demo_world / "reference" / FILES[kind]
    frame = pd.read_csv(source, dtype=None, encoding=ENCODINGS.get(kind, "utf-8"))
    round_trip = tmp_path / f"{kind}.csv"
    frame.to_csv(round_trip, index=False)
    rows_read, rows, rejects, repairs = _loaded(kind, round_trip, tmp_path / "db.duckdb")
    expected_read, expected_rows, expected_rejects, _ = originals[kind]
    assert (rows_read, len(rows), rejects) == (expected_read, len(expected_rows), expected_rejects)
    assert rows == expected_rows
    # pandas wrote integer columns with blanks as floats: repaired and counted.
    assert repairs.get("integer_written_as_float", 0) > 0, repairs


def _seeds() -> list[int]:
    return [*REGRESSION_SEEDS, random.SystemRandom().randrange(10**6)]


@pytest.mark.parametrize("seed", _seeds())
@pytest.mark.parametrize("kind", list(FILES))
def test_a_spreadsheet_rewrite_loads_the_same_rows(kind, seed, demo_world, originals, tmp_path):
    source = demo_world / "reference" / FILES[kind]
    rewritten = tmp_path / f"{kind}.csv"
    done = spreadsheet_rewrite(
        source, rewritten, random.Random(f"{seed}:{kind}"), ENCODINGS.get(kind, "utf-8")
    )
    print(f"seed {seed} ({kind}): {done}")
    rows_read, rows, rejects, repairs = _loaded(kind, rewritten, tmp_path / "db.duckdb")
    expected_read, expected_rows, expected_rejects, _ = originals[kind]
    assert rows_read - repairs.get("empty_rows_skipped", 0) == expected_read, (seed, done)
    assert repairs.get("empty_rows_skipped", 0) == done["empty_rows"], (seed, repairs)
    assert rejects == expected_rejects, (seed, done)
    assert rows == expected_rows, (seed, done)
    assert bool(repairs.get("byte_order_mark")) == done["bom"], (seed, repairs)
    assert bool(repairs.get("column_renamed")) == ("renamed" in done), (seed, repairs)
    styles = {style for name, style in done["numbers"].items() if name.strip() not in UNUSED}
    if "float" in styles:
        assert repairs.get("integer_written_as_float", 0) > 0, (seed, done, repairs)
