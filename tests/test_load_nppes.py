"""NPPES loads on files in the real layouts: generated npidata files, hand-made rows for each
real-file quirk, weekly incremental files, and the othername and pl files."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pipeline.config import REFERENCE_DIR
from pipeline.demo.nppes_file import Quirks, nppes_header, quoted_line, write_nppes_file
from pipeline.normalize.npi import is_valid_npi
from pipeline.sources import load_reference
from tests.conftest import npi

NPPES_HEADERS = REFERENCE_DIR / "cms" / "nppes"


def write_rows(path: Path, rows: list[dict], gender_header: str = "Provider Sex Code") -> Path:
    """An npidata file in the real layout: 330 columns, all quoted, iso-8859-1, CRLF."""
    header = nppes_header(gender_header)
    with path.open("w", encoding="iso-8859-1", newline="") as fh:
        fh.write(quoted_line(header))
        for row in rows:
            if "Provider Sex Code" in row and gender_header != "Provider Sex Code":
                row = {**row, gender_header: row["Provider Sex Code"]}
            fh.write(quoted_line([row.get(h, "") for h in header]))
    return path


def person(n: int, **fields: str) -> dict:
    return {
        "NPI": npi(n),
        "Entity Type Code": "1",
        "Provider Last Name (Legal Name)": "SMITH",
        "Provider First Name": "JANE",
        "Provider Credential Text": "M.D.",
        "Provider Business Practice Location Address City Name": "BOSTON",
        "Provider Business Practice Location Address State Name": "MA",
        "Provider Business Practice Location Address Postal Code": "021141234",
        "Provider Business Practice Location Address Country Code (If outside U.S.)": "US",
        "Provider Business Practice Location Address Telephone Number": "6175550134",
        "Provider Enumeration Date": "05/23/2005",
        "Last Update Date": "07/08/2024",
        "Provider Sex Code": "F",
        "Healthcare Provider Taxonomy Code_1": "207RC0000X",
        "Provider License Number_1": "MD123",
        "Provider License Number State Code_1": "MA",
        "Healthcare Provider Primary Taxonomy Switch_1": "Y",
        **fields,
    }


def kept_rows(path: Path) -> list[dict[str, str]]:
    """The rows a load keeps, read with the csv module: valid NPI, first row of each NPI."""
    rows, seen = [], set()
    with path.open(encoding="iso-8859-1", newline="") as fh:
        for row in csv.DictReader(fh):
            if is_valid_npi(row["NPI"]) and row["NPI"] not in seen:
                seen.add(row["NPI"])
                rows.append(row)
    return rows


def test_generated_file_loads_with_counts_matching_what_was_written(con, tmp_path):
    path = tmp_path / "npidata_pfile.csv"
    stats = write_nppes_file(path, 3000, seed=3, quirks=Quirks.all(0.01))
    raw = path.read_bytes()
    assert raw.startswith(b'"NPI","Entity Type Code","Replacement NPI"')
    assert raw.count(b"\r\n") == 3001 and b"\xed" in raw  # iso-8859-1 í, every line CRLF
    assert all(q > 0 for q in stats.quirks.values()), stats.quirks

    result = load_reference(con, "nppes", path)
    bad = stats.quirks["bad_npi"] + stats.quirks["duplicate"]
    assert (result.rows_read, result.rows_rejected) == (3000, bad)
    assert result.rows_loaded == 3000 - bad
    # What the loader repaired is what the file, read plainly, holds on the rows it kept.
    kept = kept_rows(path)
    zip_col = "Provider Business Practice Location Address Postal Code"
    phone_col = "Provider Business Practice Location Address Telephone Number"
    lost_zeros = sum(len(r[zip_col]) in (3, 4, 7, 8) for r in kept)
    scientific = sum("E+" in r[phone_col] for r in kept)
    assert lost_zeros > 0 and scientific > 0
    assert result.repairs["practice_zip_leading_zeros"] == lost_zeros
    assert result.repairs["practice_phone_scientific"] == scientific
    counts = dict(
        con.execute(
            "SELECT coalesce(entity_type, 'deactivated'), count(*) FROM ref_nppes GROUP BY 1"
        ).fetchall()
    )
    assert counts["deactivated"] == stats.deactivated
    assert counts["1"] + counts["2"] + counts["deactivated"] == result.rows_loaded
    # Every loaded NPI passes the Luhn check and is unique; accents survived the encoding.
    assert con.execute("SELECT count(*) = count(DISTINCT npi) FROM ref_nppes").fetchone()[0]
    assert all(is_valid_npi(n) for (n,) in con.execute("SELECT npi FROM ref_nppes").fetchall())
    accented = con.execute(
        "SELECT count(*) FROM ref_nppes WHERE regexp_matches(last_name, '[áéíóúñÁÉÍÓÚÑ]')"
    ).fetchone()[0]
    assert accented == sum(
        any(c in "áéíóúñÁÉÍÓÚÑ" for c in r["Provider Last Name (Legal Name)"]) for r in kept
    )
    assert accented > 0
    # No phone in scientific notation and no 4- or 8-digit ZIP survives the load.
    assert (
        con.execute(
            "SELECT count(*) FROM ref_nppes WHERE practice_phone LIKE '%E%' "
            "OR length(practice_zip) IN (3, 4, 7, 8)"
        ).fetchone()[0]
        == 0
    )
    reasons = {
        r.split(" ")[0]
        for (r,) in con.execute("SELECT reason FROM rejects WHERE kind = 'nppes'").fetchall()
    }
    assert reasons == {"invalid", "duplicate"}


@pytest.mark.parametrize("gender_header", ["Provider Sex Code", "Provider Gender Code"])
def test_each_real_file_quirk_on_hand_made_rows(con, tmp_path, gender_header):
    rows = [
        person(
            1, **{"Provider Last Name (Legal Name)": "GARCÍA-LÓPEZ", "Provider First Name": "JOSÉ"}
        ),
        # A spreadsheet round trip: ZIP 02114 lost its zero, the phone went scientific.
        person(
            2,
            **{
                "Provider Business Practice Location Address Postal Code": "2114",
                "Provider Business Mailing Address Postal Code": "21141234",
                "Provider Business Practice Location Address Telephone Number": "6.175550134E+09",
            },
        ),
        # Digits lost for good: counted, not invented.
        person(
            3, **{"Provider Business Practice Location Address Telephone Number": "6.17555E+09"}
        ),
        # A foreign postal code is left alone.
        person(
            4,
            **{
                "Provider Business Practice Location Address Postal Code": "2000",
                "Provider Business Practice Location Address Country Code (If outside U.S.)": "AU",
            },
        ),
        # Slot 1 is not the primary; two states; a blank slot in the middle.
        person(
            5,
            **{
                "Healthcare Provider Primary Taxonomy Switch_1": "N",
                "Healthcare Provider Taxonomy Code_2": "207R00000X",
                "Provider License Number_2": "TX99",
                "Provider License Number State Code_2": "TX",
                "Healthcare Provider Primary Taxonomy Switch_2": "Y",
                "Healthcare Provider Taxonomy Code_4": "207RC0000X",
                "Provider License Number State Code_4": "NH",
                "Healthcare Provider Primary Taxonomy Switch_4": "N",
            },
        ),
        # Deactivated: the real file keeps only the NPI and the dates.
        {"NPI": npi(6), "NPI Deactivation Date": "03/01/2020"},
        {**person(7), "Replacement NPI": "0000000000"},
        {**person(8), "NPI": "0000000000"},
        {**person(9), "NPI": "1234567890"},  # fails the Luhn check
        person(10, **{"Last Update Date": "01/01/2020", "Provider Last Name (Legal Name)": "OLD"}),
        person(10, **{"Last Update Date": "01/01/2025", "Provider Last Name (Legal Name)": "NEW"}),
        # Slot 2 left blank, slot 3 filled: a gap does not hide the later slot.
        person(
            11,
            **{
                "Healthcare Provider Taxonomy Code_3": "208D00000X",
                "Provider License Number State Code_3": "VT",
                "Healthcare Provider Primary Taxonomy Switch_3": "N",
            },
        ),
    ]
    path = write_rows(tmp_path / "npidata.csv", rows, gender_header)
    result = load_reference(con, "nppes", path)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (12, 9, 3)
    got = {
        r[0]: r[1:]
        for r in con.execute(
            """SELECT npi, last_name, first_name, practice_zip, mailing_zip, practice_phone,
                      gender, repairs FROM ref_nppes"""
        ).fetchall()
    }
    assert got[npi(1)][:2] == ("GARCÍA-LÓPEZ", "JOSÉ") and got[npi(1)][5] == "F"
    assert got[npi(2)][2:5] == ("02114", "021141234", "6175550134")
    assert sorted(got[npi(2)][6]) == [
        "mailing_zip_leading_zeros",
        "practice_phone_scientific",
        "practice_zip_leading_zeros",
    ]
    assert got[npi(3)][4] is None and got[npi(3)][6] == ["practice_phone_unrepairable"]
    assert got[npi(4)][2] == "2000" and got[npi(4)][6] is None
    assert got[npi(10)][0] == "NEW"  # of two rows for one NPI, the one updated last

    slots = con.execute(
        "SELECT taxonomy_codes, license_states, primary_taxonomy, taxonomies FROM ref_nppes "
        "WHERE npi = ?",
        [npi(5)],
    ).fetchone()
    assert slots[:3] == (["207RC0000X", "207R00000X"], ["MA", "TX", "NH"], "207R00000X")
    assert [
        (t["slot"], t["code"], t["license"], t["license_state"], t["is_primary"]) for t in slots[3]
    ] == [
        (1, "207RC0000X", "MD123", "MA", False),
        (2, "207R00000X", "TX99", "TX", True),
        (4, "207RC0000X", None, "NH", False),
    ]
    gap = con.execute(
        "SELECT taxonomy_codes, license_states, [t.slot for t in taxonomies] FROM ref_nppes "
        "WHERE npi = ?",
        [npi(11)],
    ).fetchone()
    assert gap == (["207RC0000X", "208D00000X"], ["MA", "VT"], [1, 3])
    deactivated = con.execute(
        "SELECT entity_type, deactivation_date, last_name FROM ref_nppes WHERE npi = ?", [npi(6)]
    ).fetchone()
    assert deactivated[0] is None and str(deactivated[1]) == "2020-03-01"
    typed = con.execute(
        "SELECT enumeration_date, last_update_date, replacement_npi FROM ref_nppes WHERE npi = ?",
        [npi(7)],
    ).fetchone()
    assert [str(v) for v in typed[:2]] == ["2005-05-23", "2024-07-08"] and typed[2] is None

    rejects = con.execute("SELECT line_number, reason FROM rejects ORDER BY line_number").fetchall()
    assert rejects == [
        (9, "no NPI"),
        (10, "invalid NPI 1234567890 (fails the Luhn check)"),
        (11, "duplicate of line 12 (same NPI, kept the row updated last)"),
    ]
    assert (
        dict(con.execute("SELECT repair, row_count FROM load_repairs").fetchall()) == result.repairs
    )


def test_malformed_lines_are_rejects_and_line_numbers_stay_physical(con, tmp_path):
    header = nppes_header()
    lines = [
        quoted_line(header),
        quoted_line([person(1).get(h, "") for h in header]),
        quoted_line([person(2).get(h, "") for h in header][:43]),  # a short line
        quoted_line([person(3).get(h, "") for h in header]),
        quoted_line([{"NPI": "1234567890", "Entity Type Code": "1"}.get(h, "") for h in header]),
        quoted_line([person(4).get(h, "") for h in header])[:-300],  # the download stopped
    ]
    path = tmp_path / "npidata.csv"
    path.write_text("".join(lines), encoding="iso-8859-1")
    result = load_reference(con, "nppes", path)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (5, 2, 3)
    rejects = con.execute("SELECT line_number, reason FROM rejects ORDER BY 1").fetchall()
    assert rejects[0] == (3, "malformed CSV line: Expected Number of Columns: 330 Found: 43")
    assert rejects[1] == (5, "invalid NPI 1234567890 (fails the Luhn check)")
    assert rejects[2][1].startswith("malformed CSV line")
    assert con.execute("SELECT npi FROM ref_nppes ORDER BY npi").fetchall() == [
        (npi(1),),
        (npi(3),),
    ]


def test_weekly_files_apply_on_top_of_the_monthly_file(con, tmp_path):
    monthly = write_rows(tmp_path / "npidata_monthly.csv", [person(1), person(2), person(3)])
    load_reference(con, "nppes", monthly)
    weekly = write_rows(
        tmp_path / "npidata_weekly.csv",
        [
            person(2, **{"Provider Last Name (Legal Name)": "SMITH-JONES"}),  # changed
            {"NPI": npi(3), "NPI Deactivation Date": "06/01/2025"},  # deactivated
            person(4, **{"Provider Last Name (Legal Name)": "NEWCOMER"}),  # new
            {**person(5), "NPI": "1234567890"},  # rejected, the rest still applies
        ],
    )
    result = load_reference(con, "nppes-weekly", weekly)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (4, 3, 1)
    rows = dict(
        con.execute(
            "SELECT npi, coalesce(last_name, 'deactivated ' || deactivation_date) FROM ref_nppes"
        ).fetchall()
    )
    assert rows == {
        npi(1): "SMITH",
        npi(2): "SMITH-JONES",
        npi(3): "deactivated 2025-06-01",
        npi(4): "NEWCOMER",
    }
    assert load_reference(con, "nppes-weekly", weekly).unchanged
    # A new monthly file replaces everything, weekly changes included.
    load_reference(con, "nppes", write_rows(tmp_path / "npidata_next.csv", [person(1)]))
    assert con.execute("SELECT count(*), min(last_name) FROM ref_nppes").fetchone() == (1, "SMITH")
    assert con.execute("SELECT count(*) FROM rejects").fetchone()[0] == 0
    # ... and the same weekly file may then be applied again.
    assert not load_reference(con, "nppes-weekly", weekly).unchanged


def real_header(name: str) -> list[str]:
    with (NPPES_HEADERS / name).open(encoding="utf-8", newline="") as fh:
        return next(csv.reader(fh))


def test_practice_location_and_othername_files_in_their_real_layouts(con, tmp_path):
    header = real_header("pl_pfile_header.csv")
    pl = tmp_path / "pl_pfile.csv"
    rows = [
        [npi(1), "12 ELM ST", "", "WORCESTER", "MA", "1608", "US", "5085550100", "", ""],
        [npi(1), "12 ELM ST", "", "WORCESTER", "MA", "1608", "US", "5085550100", "", ""],
        [npi(2), "1 RUE", "", "MONTRÉAL", "QC", "H3A", "CA", "5145550100", "12", ""],
        ["1234567890", "9 MAIN ST", "", "X", "MA", "02114", "US", "", "", ""],
    ]
    with pl.open("w", encoding="iso-8859-1", newline="") as fh:
        fh.write("".join(quoted_line(r) for r in [header, *rows]))
    result = load_reference(con, "nppes-pl", pl)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (4, 2, 2)
    assert con.execute(
        "SELECT npi, city, zip, phone_extension FROM ref_nppes_locations ORDER BY npi"
    ).fetchall() == [(npi(1), "WORCESTER", "01608", None), (npi(2), "MONTRÉAL", "H3A", "12")]

    header = real_header("othername_pfile_header.csv")
    other = tmp_path / "othername_pfile.csv"
    rows = [[npi(9), "MERCY HEART CENTER", "3"], ["0000000000", "NOBODY", "3"]]
    with other.open("w", encoding="iso-8859-1", newline="") as fh:
        fh.write("".join(quoted_line(r) for r in [header, *rows]))
    result = load_reference(con, "nppes-othername", other)
    assert (result.rows_loaded, result.rows_rejected) == (1, 1)
    assert con.execute(
        "SELECT npi, other_name, type_code FROM ref_nppes_other_names"
    ).fetchall() == [(npi(9), "MERCY HEART CENTER", "3")]


def test_generator_cli_writes_the_older_header_variant(tmp_path):
    from pipeline.demo.nppes_file import main

    out = tmp_path / "old.csv"
    assert main([str(out), "--rows", "50", "--gender-header", "--quirks", "0.1"]) == 0
    header = next(csv.reader(out.open(encoding="iso-8859-1")))
    assert len(header) == 330 and "Provider Gender Code" in header
    assert "Provider Sex Code" not in header
    assert sum(1 for _ in out.open(encoding="iso-8859-1")) == 51
