"""Reference loaders on small files in the real layouts."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pipeline.config import REFERENCE_DIR, CredcheckError
from pipeline.sources import load_reference
from pipeline.sources.boards import BOARD_COLUMNS

NPPES_HEADER = REFERENCE_DIR / "cms" / "nppes" / "npidata_pfile_header.csv"
LEIE_SAMPLE = REFERENCE_DIR / "oig" / "UPDATED_first_rows_sample.csv"
LEIE_HEADER = REFERENCE_DIR / "oig" / "UPDATED_header.csv"


def write_boards(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=BOARD_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in BOARD_COLUMNS})
    return path


GOOD_BOARD = dict(
    npi="1234567893",
    first_name="Jane",
    middle_name="Q",
    last_name="Doe",
    board="American Board of Internal Medicine",
    certificate="Cardiovascular Disease",
    certificate_type="subspecialty",
    status="active",
    initial_certification_date="2010-07-01",
    expiration_date="2030-12-31",
    moc="yes",
    city="Boston",
    state="MA",
)


def test_boards_load_keeps_good_rows_and_rejects_bad_ones_with_reasons(con, tmp_path):
    path = write_boards(
        tmp_path / "boards.csv",
        [
            GOOD_BOARD,
            {**GOOD_BOARD, "npi": "", "first_name": "John", "status": "expired", "moc": ""},
            {**GOOD_BOARD, "status": "pending"},
            {**GOOD_BOARD, "initial_certification_date": "07/01/2010"},
            {**GOOD_BOARD, "last_name": ""},
            {**GOOD_BOARD, "npi": "1234567890"},
        ],
    )
    result = load_reference(con, "boards", path)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (6, 2, 4)
    reasons = [
        r for (r,) in con.execute("SELECT reason FROM rejects ORDER BY line_number").fetchall()
    ]
    assert reasons == [
        "unknown status 'pending'",
        "bad initial_certification_date '07/01/2010' (want YYYY-MM-DD)",
        "missing last_name",
        "invalid NPI '1234567890' (fails the Luhn check)",
    ]
    assert con.execute("SELECT count(*) FROM ref_boards WHERE npi IS NULL").fetchone()[0] == 1
    runs = con.execute("SELECT kind, rows_loaded, rows_rejected FROM load_runs").fetchall()
    assert runs == [("boards", 2, 4)]


def test_reloading_the_same_file_is_a_no_op(con, tmp_path):
    path = write_boards(tmp_path / "boards.csv", [GOOD_BOARD])
    first = load_reference(con, "boards", path)
    again = load_reference(con, "boards", path)
    assert again.unchanged and again.load_id == first.load_id
    assert con.execute("SELECT count(*) FROM load_runs").fetchone()[0] == 1


def test_a_failed_load_leaves_the_previous_reference_intact(con, tmp_path):
    load_reference(con, "boards", write_boards(tmp_path / "good.csv", [GOOD_BOARD]))
    broken = tmp_path / "broken.csv"
    broken.write_text("npi,first_name,last_name\n1,a,b\n", encoding="utf-8")
    with pytest.raises(CredcheckError, match="missing columns: middle_name"):
        load_reference(con, "boards", broken)
    with pytest.raises(CredcheckError, match="no such file"):
        load_reference(con, "boards", tmp_path / "absent.csv")
    assert con.execute("SELECT last_name FROM ref_boards").fetchall() == [("Doe",)]
    assert con.execute("SELECT count(*) FROM load_runs").fetchone()[0] == 1


def test_leie_real_sample_rows_load_with_dates_and_no_npi_placeholders(con, tmp_path):
    path = tmp_path / "UPDATED.csv"
    path.write_text(LEIE_HEADER.read_text() + LEIE_SAMPLE.read_text().split("\n", 1)[1])
    result = load_reference(con, "leie", path)
    assert result.rows_loaded == 5 and result.rows_rejected == 0
    rows = con.execute(
        "SELECT business_name, npi, exclusion_date, reinstatement_date FROM ref_leie "
        "ORDER BY business_name"
    ).fetchall()
    assert rows[0][0] == "#1 MARKETING SERVICE, INC"
    assert str(rows[0][2]) == "2020-03-19" and rows[0][3] is None
    # "0000000000" means no NPI; the one real NPI in the sample passes the Luhn check.
    assert [r[1] for r in rows].count(None) == 4
    assert "1972902351" in [r[1] for r in rows]


def nppes_file(path: Path, rows: list[dict], gender_header: str = "Provider Sex Code") -> Path:
    header = next(csv.reader(NPPES_HEADER.open(encoding="utf-8")))
    header = [gender_header if h == "Provider Sex Code" else h for h in header]
    with path.open("w", newline="", encoding="latin-1") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_ALL)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(h, "") for h in header])
    return path


def test_nppes_reads_latin1_names_taxonomies_and_rejects_bad_npis(con, tmp_path):
    person = {
        "NPI": "1234567893",
        "Entity Type Code": "1",
        "Provider Last Name (Legal Name)": "GARCÍA",
        "Provider First Name": "JOSÉ",
        "Provider Credential Text": "M.D.",
        "Provider Business Practice Location Address State Name": "TX",
        "Healthcare Provider Taxonomy Code_1": "207R00000X",
        "Healthcare Provider Primary Taxonomy Switch_1": "N",
        "Healthcare Provider Taxonomy Code_2": "207RC0000X",
        "Healthcare Provider Primary Taxonomy Switch_2": "Y",
        "Provider License Number State Code_2": "TX",
    }
    path = nppes_file(
        tmp_path / "npidata.csv",
        [
            person,
            {**person},  # a duplicate row of the same NPI
            {**person, "NPI": "1234567890"},
            {**person, "NPI": "0000000000"},
        ],
        gender_header="Provider Gender Code",
    )
    result = load_reference(con, "nppes", path)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (4, 1, 3)
    row = con.execute(
        "SELECT first_name, last_name, taxonomy_codes, primary_taxonomy, license_states "
        "FROM ref_nppes"
    ).fetchone()
    assert row == ("JOSÉ", "GARCÍA", ["207R00000X", "207RC0000X"], "207RC0000X", ["TX"])


def test_unknown_kind_and_wrong_layout_give_clear_errors(con, tmp_path):
    with pytest.raises(CredcheckError, match="unknown reference kind"):
        load_reference(con, "npi", tmp_path / "x.csv")
    wrong = tmp_path / "dac.csv"
    wrong.write_text("a,b\n1,2\n")
    with pytest.raises(CredcheckError, match="missing expected columns: NPI"):
        load_reference(con, "dac", wrong)
