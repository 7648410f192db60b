"""Board records in other layouts: `credcheck load boards FILE --mapping MAP.toml`.

The shipped example (docs/examples) loads as documented; and the demo's board records, rewritten
into a randomly drawn wide layout (column names, status words, date format, several certificates
per row; seed drawn at test time and printed), load through a mapping exactly as the canonical
file does.
"""

from __future__ import annotations

import csv
import random
from datetime import date
from pathlib import Path

import duckdb
import pytest
from conftest import REPO_ROOT, run_cli

from pipeline.sources import load_reference

EXAMPLES = REPO_ROOT / "docs" / "examples"
COLUMNS = (
    "npi, first_name, middle_name, last_name, suffix, board, certificate, certificate_type, "
    "status, initial_certification_date, expiration_date, moc, city, state"
)
REGRESSION_SEEDS: list[int] = []


def test_the_example_mapping_loads_the_example_export(tmp_path):
    env = {"CREDCHECK_DB": str(tmp_path / "credcheck.duckdb")}
    done = run_cli(
        "load", "boards", str(EXAMPLES / "board_export.csv"),
        "--mapping", str(EXAMPLES / "board_mapping.toml"), env=env,
    )  # fmt: skip
    assert "loaded 5, rejected 1" in done.stdout
    with duckdb.connect(str(tmp_path / "credcheck.work.duckdb"), read_only=True) as con:
        rows = con.execute(
            """SELECT line_number, npi, first_name, middle_name, last_name, certificate,
                      certificate_type, status, initial_certification_date, expiration_date
               FROM ref_boards ORDER BY line_number, certificate"""
        ).fetchall()
        rejects = con.execute("SELECT line_number, reason FROM rejects").fetchall()
    assert rows == [
        (2, "1234567893", "Jane", "Q.", "Doe", "Cardiovascular Disease", "subspecialty", "active",
         date(2007, 7, 1), None),
        (2, "1234567893", "Jane", "Q.", "Doe", "Internal Medicine", "specialty", "active",
         date(2004, 7, 1), date(2034, 12, 31)),
        (3, None, "Chidi", None, "Okafor", "Pediatrics", "specialty", "expired",
         date(1998, 6, 15), date(2018, 6, 15)),
        (4, "1245319599", "Thanh", "B", "Nguyen", "Surgery", "specialty", "lapsed",
         date(2010, 9, 1), date(2030, 9, 1)),
        (5, None, "María", None, "García-López", "Family Medicine", "specialty", "active",
         date(2015, 8, 1), None),
    ]  # fmt: skip
    assert rejects == [(5, "unknown status 'pending'")]


def test_a_mapping_mistake_is_a_clear_error(tmp_path):
    mapping = tmp_path / "map.toml"
    mapping.write_text('[columns]\nfull_name = "Physician Name"\nlicence = "License No"\n')
    env = {"CREDCHECK_DB": str(tmp_path / "credcheck.duckdb")}
    done = run_cli(
        "load", "boards", str(EXAMPLES / "board_export.csv"), "--mapping", str(mapping),
        env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "'licence' is not a canonical board column" in done.stderr
    mapping.write_text(
        (EXAMPLES / "board_mapping.toml").read_text().replace('"Cert 2 Issued"', '"Issued 2"')
    )
    done = run_cli(
        "load", "boards", str(EXAMPLES / "board_export.csv"), "--mapping", str(mapping),
        env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "no column(s) Issued 2" in done.stderr


def _wide_layout(rows: list[tuple], rng: random.Random, out: Path) -> Path:
    """Write canonical rows as one row per person with certificates in columns; return the
    mapping that reads it back."""
    statuses = ("active", "expired", "lapsed", "inactive", "suspended", "revoked")
    words = {s: f"{rng.choice(('Status', 'St', 'State of cert'))} {s.upper()}-{i}"
             for i, s in enumerate(statuses)}  # fmt: skip
    date_format = rng.choice(("%m/%d/%Y", "%d.%m.%Y", "%Y%m%d", "%b %d %Y"))
    slot = rng.choice(("Cert {i} {f}", "{f}_{i}", "C{i}-{f}"))
    people: dict[tuple, list[tuple]] = {}
    for r in rows:
        people.setdefault((r[0], r[1], r[2], r[3], r[4], r[12], r[13]), []).append(r)
    slots = max(len(certs) for certs in people.values())
    fields = ("Board", "Name", "Kind", "Status", "Since", "Until", "MOC")
    header = ["Id", "NPI", "Given", "Middle", "Family", "Sfx", "Town", "St"] + [
        slot.format(i=i, f=f) for i in range(1, slots + 1) for f in fields
    ]
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for n, (person, certs) in enumerate(people.items()):
            line = [f"P{n}", person[0] or "", *[v or "" for v in person[1:5]], person[5] or "",
                    person[6] or ""]  # fmt: skip
            for c in rng.sample(certs, len(certs)) + [None] * (slots - len(certs)):
                line += (
                    [c[5], c[6], c[7].title(), words[c[8]], c[9].strftime(date_format),
                     c[10].strftime(date_format) if c[10] else "", c[11] or ""]
                    if c else [""] * len(fields)
                )  # fmt: skip
            writer.writerow(line)
    mapping = out.with_suffix(".toml")
    certificates = "".join(
        "\n[[certificates]]\n"
        + "".join(
            f'{canonical} = "{slot.format(i=i, f=f)}"\n'
            for canonical, f in zip(
                ("board", "certificate", "certificate_type", "status",
                 "initial_certification_date", "expiration_date", "moc"), fields,
            )
        )
        for i in range(1, slots + 1)
    )
    mapping.write_text(
        '[columns]\nnpi = "NPI"\nfirst_name = "Given"\nmiddle_name = "Middle"\n'
        'last_name = "Family"\nsuffix = "Sfx"\ncity = "Town"\nstate = "St"\n'
        "[status]\n" + "".join(f'"{w.lower()}" = "{s}"\n' for s, w in words.items())
        + f'[dates]\nformats = ["{date_format}"]\n' + certificates,
        encoding="utf-8",
    )
    return mapping


@pytest.mark.parametrize("seed", [*REGRESSION_SEEDS, random.SystemRandom().randrange(10**6)])
def test_a_wide_layout_loads_like_the_canonical_file(seed, demo_world, tmp_path):
    print(f"seed {seed}")
    with duckdb.connect(str(tmp_path / "canonical.duckdb")) as con:
        load_reference(con, "boards", demo_world / "reference" / "boards.csv")
        expected = con.execute(f"SELECT {COLUMNS} FROM ref_boards ORDER BY ALL").fetchall()
    wide = tmp_path / "wide.csv"
    mapping = _wide_layout(expected, random.Random(seed), wide)
    with duckdb.connect(str(tmp_path / "wide.duckdb")) as con:
        result = load_reference(con, "boards", wide, mapping=mapping)
        loaded = con.execute(f"SELECT {COLUMNS} FROM ref_boards ORDER BY ALL").fetchall()
    assert result.rows_rejected == 0, seed
    assert loaded == expected, seed
