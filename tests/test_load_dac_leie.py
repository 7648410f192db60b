"""Doctors & Clinicians (current and 2021 layouts, Facility_Affiliation), OIG LEIE (UPDATED.csv
and monthly supplements) and board-certificate loads, with the real-file quirks."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pipeline.config import REFERENCE_DIR, CredcheckError
from pipeline.sources import load_reference
from pipeline.sources.boards import BOARD_COLUMNS
from pipeline.sources.dac import dac_layout
from tests.conftest import npi

DAC = REFERENCE_DIR / "cms" / "dac"
OIG = REFERENCE_DIR / "oig"


def header_of(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return next(csv.reader(fh))


def write_csv(path: Path, header: list[str], rows: list[dict], encoding="utf-8", quote_all=False):
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(h, "") for h in header])
    return path


def dac_row(n: int, layout: str, **fields: str) -> dict:
    names = (
        {
            "lst_nm": "NÚÑEZ",
            "frst_nm": "JOSÉ",
            "cty": "BOSTON",
            "st": "MA",
            "zip": "021141234",
            "phn_numbr": "6175550134",
            "org_nm": "MERCY GENERAL HOSPITAL",
        }
        if layout == "2021"
        else {
            "Provider Last Name": "NÚÑEZ",
            "Provider First Name": "JOSÉ",
            "City/Town": "BOSTON",
            "State": "MA",
            "ZIP Code": "021141234",
            "Telephone Number": "6175550134",
            "Facility Name": "MERCY GENERAL HOSPITAL",
        }
    )
    return {
        "NPI": npi(n),
        "Ind_PAC_ID": f"{n:010d}",
        "Ind_enrl_ID": f"I2020{n:010d}",
        "gndr": "M",
        "Cred": "MD",
        "Med_sch": "HARVARD MEDICAL SCHOOL",
        "Grd_yr": "2004",
        "pri_spec": "CARDIOVASCULAR DISEASE (CARDIOLOGY)",
        "sec_spec_1": "INTERNAL MEDICINE",
        "sec_spec_all": "INTERNAL MEDICINE",
        "adr_ln_1": "12 ELM ST",
        "adrs_id": f"MA{n}",
        **names,
        **fields,
    }


@pytest.mark.parametrize("layout", ["current", "2021"])
def test_dac_both_layouts_with_quirks(con, tmp_path, layout):
    header = header_of(DAC / f"DAC_NationalDownloadableFile_header_{layout}.csv")
    assert dac_layout(header) == layout
    zip_col, phone_col = (
        ("zip", "phn_numbr") if layout == "2021" else ("ZIP Code", "Telephone Number")
    )
    rows = [
        dac_row(
            1,
            layout,
            hosp_afl_1="220071",
            hosp_afl_lbn_1="MERCY GENERAL HOSPITAL",
            hosp_afl_3="220077",
            hosp_afl_lbn_3="ST ELSEWHERE",
        ),
        dac_row(1, layout),  # identical after the first? no: hospitals differ in 2021
        dac_row(
            2, layout, **{zip_col: "21141234", phone_col: "6.175550199E+09", "Grd_yr": "1998.0"}
        ),
        dac_row(
            2, layout, **{zip_col: "21141234", phone_col: "6.175550199E+09", "Grd_yr": "1998.0"}
        ),
        dac_row(3, layout, NPI="1234567890"),
        dac_row(4, layout, NPI="0000000000"),
    ]
    # A real export that went through a Windows spreadsheet: iso-8859-1, every field quoted.
    path = write_csv(
        tmp_path / "DAC_NationalDownloadableFile.csv", header, rows, "iso-8859-1", True
    )
    result = load_reference(con, "dac", path)
    loaded = 3 if layout == "2021" else 2
    assert (result.rows_read, result.rows_loaded) == (6, loaded)
    assert result.rows_rejected == 6 - loaded
    got = con.execute(
        """SELECT npi, last_name, first_name, zip, phone, graduation_year, layout,
                  secondary_specialty_list, hospital_ccns, hospital_names, repairs
           FROM ref_dac ORDER BY npi, hospital_ccns NULLS LAST"""
    ).fetchall()
    assert got[0][:3] == (npi(1), "NÚÑEZ", "JOSÉ") and got[0][6] == layout
    assert got[0][7] == ["INTERNAL MEDICINE"]
    if layout == "2021":
        assert got[0][8:10] == (["220071", "220077"], ["MERCY GENERAL HOSPITAL", "ST ELSEWHERE"])
    else:
        assert got[0][8] is None
    two = [r for r in got if r[0] == npi(2)]
    assert len(two) == 1
    assert two[0][3:6] == ("021141234", "6175550199", "1998")
    # Grd_yr "1998.0": a year written as a float, repaired and counted like the others.
    assert sorted(two[0][10]) == [
        "integer_written_as_float",
        "phone_scientific",
        "zip_leading_zeros",
    ]
    reasons = [
        r for (r,) in con.execute("SELECT reason FROM rejects ORDER BY line_number").fetchall()
    ]
    assert "invalid NPI 1234567890 (fails the Luhn check)" in reasons
    assert "no NPI" in reasons
    assert any(r.startswith("duplicate of line 4 (identical row)") for r in reasons)


def test_dac_unknown_layout_and_facility_affiliations(con, tmp_path):
    wrong = write_csv(tmp_path / "x.csv", ["NPI", "something"], [{"NPI": npi(1)}])
    with pytest.raises(CredcheckError, match="Doctors & Clinicians"):
        load_reference(con, "dac", wrong)
    header = header_of(DAC / "Facility_Affiliation_header.csv")
    rows = [
        {
            "NPI": npi(1),
            "Ind_PAC_ID": "0000000001",
            "Provider Last Name": "NUNEZ",
            "Provider First Name": "JOSE",
            "facility_type": "Hospital",
            "Facility Affiliations Certification Number": "220071",
        },
        {
            "NPI": npi(1),
            "Ind_PAC_ID": "0000000001",
            "Provider Last Name": "NUNEZ",
            "Provider First Name": "JOSE",
            "facility_type": "Hospital",
            "Facility Affiliations Certification Number": "220071",
        },
        {
            "NPI": npi(1),
            "facility_type": "Skilled Nursing Facility",
            "Facility Affiliations Certification Number": "225001",
            "Facility Type Certification Number": "220071",
        },
    ]
    result = load_reference(con, "dac-affiliations", write_csv(tmp_path / "fa.csv", header, rows))
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (3, 2, 1)
    assert con.execute(
        "SELECT facility_type, facility_ccn, parent_ccn FROM ref_dac_affiliations ORDER BY 2"
    ).fetchall() == [("Hospital", "220071", None), ("Skilled Nursing Facility", "225001", "220071")]


LEIE_HEADER = header_of(OIG / "UPDATED_header.csv")


def leie_row(last: str, first: str, excluded: str, **fields: str) -> dict:
    return {
        "LASTNAME": last,
        "FIRSTNAME": first,
        "MIDNAME": "",
        "BUSNAME": "",
        "GENERAL": "IND- LIC HC SERV PRO",
        "SPECIALTY": "PHYSICIAN (MD, DO)",
        "UPIN": "",
        "NPI": "0000000000",
        "DOB": "19650412",
        "ADDRESS": "1 MAIN ST",
        "CITY": "BOSTON",
        "STATE": "MA",
        "ZIP": "02114",
        "EXCLTYPE": "1128a1",
        "EXCLDATE": excluded,
        "REINDATE": "00000000",
        "WAIVERDATE": "00000000",
        "WVRSTATE": "",
        **fields,
    }


def test_leie_full_file_and_monthly_supplements(con, tmp_path):
    sample = (OIG / "UPDATED_first_rows_sample.csv").read_text().splitlines()[1:]
    updated = write_csv(
        tmp_path / "UPDATED.csv",
        LEIE_HEADER,
        [
            leie_row("DOE", "JOHN", "20200115", ZIP="2114", NPI=npi(1)),  # ZIP lost its zero
            leie_row("ROE", "RICHARD", "20190301", NPI="1234567890"),  # bad NPI: kept, NPI dropped
            leie_row("ROE", "RICHARD", "20190301", NPI="1234567890"),  # duplicate row
            leie_row("POE", "EDGAR", "2019-03-01"),  # not YYYYMMDD
            leie_row("", "", "20200101"),  # no name at all
        ],
        quote_all=True,
    )
    updated.write_text(updated.read_text() + "\n".join(sample) + "\n")
    result = load_reference(con, "leie", updated)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (10, 7, 3)
    assert result.repairs == {"npi_invalid_dropped": 1, "zip_leading_zeros": 1}
    doe = con.execute(
        "SELECT zip, npi, exclusion_date, reinstatement_date, birth_date, dob FROM ref_leie "
        "WHERE last_name = 'DOE'"
    ).fetchone()
    assert doe[:2] == ("02114", npi(1))
    assert [str(d) if d else None for d in doe[2:5]] == ["2020-01-15", None, "1965-04-12"]
    assert con.execute("SELECT npi FROM ref_leie WHERE last_name = 'ROE'").fetchall() == [(None,)]
    reasons = sorted(r for (r,) in con.execute("SELECT reason FROM rejects").fetchall())
    assert reasons == ["bad EXCLDATE 2019-03-01", "duplicate of line 3 (identical row)", "no name"]

    supplement = write_csv(
        tmp_path / "2506EXCL.csv",
        LEIE_HEADER,
        [
            leie_row("DOE", "JOHN", "20200115", ZIP="02114", REINDATE="20250601"),  # reinstated
            leie_row("NEW", "NANCY", "20250610", NPI=npi(2)),  # a new exclusion
        ],
        quote_all=True,
    )
    result = load_reference(con, "leie-supplement", supplement)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (2, 2, 0)
    assert con.execute("SELECT count(*) FROM ref_leie").fetchone()[0] == 8
    assert (
        str(
            con.execute(
                "SELECT reinstatement_date FROM ref_leie WHERE last_name = 'DOE'"
            ).fetchone()[0]
        )
        == "2025-06-01"
    )
    assert con.execute("SELECT npi FROM ref_leie WHERE last_name = 'NEW'").fetchone() == (npi(2),)
    assert load_reference(con, "leie-supplement", supplement).unchanged
    # The next full file replaces exclusions and supplements alike.
    load_reference(
        con,
        "leie",
        write_csv(
            tmp_path / "UPDATED2.csv",
            LEIE_HEADER,
            [leie_row("DOE", "JOHN", "20200115")],
            quote_all=True,
        ),
    )
    assert con.execute("SELECT count(*), max(reinstatement_date) FROM ref_leie").fetchone() == (
        1,
        None,
    )


def test_boards_quirks_latin1_no_npi_placeholder_and_duplicates(con, tmp_path):
    row = dict(
        npi="0000000000",
        first_name="José",
        middle_name="",
        last_name="García-López",
        suffix="Jr.",
        board="American Board of Internal Medicine",
        certificate="Cardiovascular Disease",
        certificate_type="subspecialty",
        status="Active",
        initial_certification_date="2010-07-01",
        expiration_date="",
        moc="yes",
        city="Boston",
        state="ma",
    )
    path = write_csv(
        tmp_path / "boards.csv", BOARD_COLUMNS, [row, row, {**row, "npi": npi(5)}], "iso-8859-1"
    )
    result = load_reference(con, "boards", path)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (3, 2, 1)
    assert con.execute(
        "SELECT npi, first_name, last_name, status, state FROM ref_boards ORDER BY line_number"
    ).fetchall() == [
        (None, "José", "García-López", "active", "MA"),
        (npi(5), "José", "García-López", "active", "MA"),
    ]
    assert con.execute("SELECT line_number, reason FROM rejects").fetchall() == [
        (3, "duplicate of line 2 (identical row)")
    ]
