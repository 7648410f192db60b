"""CMS Doctors & Clinicians: the national file (current or 2021 layout, told apart by its
header) and its Facility_Affiliation file."""

from __future__ import annotations

import duckdb

from pipeline.config import CredcheckError
from pipeline.sources.base import Kind, Reporter, Source
from pipeline.sources.csvsql import (
    NUMBER_FLAGS,
    drop_duplicates,
    header_key,
    insert_from_csv,
    literal,
    npi_rejects,
    npi_text,
    phone_expr,
    pick_columns,
    repairs_list,
    text,
    zip_expr,
)

# The clinician, as both the national file and Facility_Affiliation name it (current, 2021).
DAC_PERSON_COLUMNS = {
    "npi": ("NPI",),
    "ind_pac_id": ("Ind_PAC_ID",),
    "last_name": ("Provider Last Name", "lst_nm"),
    "first_name": ("Provider First Name", "frst_nm"),
    "middle_name": ("Provider Middle Name", "mid_nm"),
    "suffix": ("suff",),
}
DAC_COLUMNS = {
    **DAC_PERSON_COLUMNS,
    "ind_enrl_id": ("Ind_enrl_ID",),
    "gender": ("gndr",),
    "credential": ("Cred",),
    "medical_school": ("Med_sch",),
    "graduation_year": ("Grd_yr",),
    "primary_specialty": ("pri_spec",),
    "secondary_specialties": ("sec_spec_all",),
    "organization": ("Facility Name", "org_nm"),
    "org_pac_id": ("org_pac_id",),
    "num_org_mem": ("num_org_mem",),
    "address_line_1": ("adr_ln_1",),
    "address_line_2": ("adr_ln_2",),
    "city": ("City/Town", "cty"),
    "state": ("State", "st"),
    "zip": ("ZIP Code", "zip"),
    "phone": ("Telephone Number", "phn_numbr"),
    "address_id": ("adrs_id",),
}
_DAC_NUMBERS = (
    "npi", "ind_pac_id", "graduation_year", "org_pac_id", "num_org_mem", "zip",
)  # fmt: skip
DAC_SECONDARY = tuple(f"sec_spec_{i}" for i in range(1, 5))
DAC_HOSPITALS = range(1, 6)


def dac_layout(header: list[str]) -> str:
    """'2021' (lst_nm ... hosp_afl_1..5) or 'current' (Provider Last Name ... Facility Name)."""
    keys = {header_key(h) for h in header}
    if "lst_nm" in keys or "hosp_afl_1" in keys:
        return "2021"
    if "provider last name" in keys or "facility name" in keys:
        return "current"
    raise CredcheckError(
        "dac: file is missing expected columns: NPI, Provider Last Name (or lst_nm) — "
        "not a Doctors & Clinicians national file"
    )


def load_dac(con: duckdb.DuckDBPyConnection, source: Source, report: Reporter) -> int:
    header = source.read_header()
    pick_columns(source.kind, header, {"npi": ("NPI",)})
    layout = dac_layout(header)
    cols = pick_columns(source.kind, header, DAC_COLUMNS, source.notes)
    keys = {header_key(h): h for h in header}
    zip_code, zip_fixed = zip_expr(cols["zip"])
    phone, phone_float, phone_fixed, phone_lost = phone_expr(cols["phone"])
    secondary = [keys[s] for s in (header_key(s) for s in DAC_SECONDARY) if s in keys]
    select = {name: text(col) for name, col in cols.items()}
    select |= {
        "npi": npi_text(cols["npi"]),
        "layout": literal(layout),
        "num_org_mem": f"TRY_CAST({text(cols['num_org_mem'])} AS INTEGER)",
        "graduation_year": text(cols["graduation_year"]),
        "zip": zip_code,
        "phone": phone,
        "secondary_specialty_list": "nullif(list_filter(["
        + ", ".join(text(c) for c in secondary)
        + "], lambda x: x IS NOT NULL), [])"
        if secondary
        else "NULL",
        "telehealth": text(keys["telehlth"]) if "telehlth" in keys else "NULL",
        "repairs": repairs_list(
            {
                "zip_leading_zeros": zip_fixed,
                "phone_scientific": phone_fixed,
                "phone_unrepairable": phone_lost,
                **NUMBER_FLAGS,
                "integer_written_as_float": f"(_as_float OR {phone_float})",
            }
        ),
    }
    numbers = [cols[c] for c in _DAC_NUMBERS]
    if layout == "2021":
        ccns = [keys.get(f"hosp_afl_{i}") for i in DAC_HOSPITALS]
        names = [keys.get(f"hosp_afl_lbn_{i}") for i in DAC_HOSPITALS]
        for column, parts in (("hospital_ccns", ccns), ("hospital_names", names)):
            items = ", ".join(text(p) for p in parts if p)
            select[column] = f"nullif(list_filter([{items}], lambda x: x IS NOT NULL), [])"
    return insert_from_csv(con, source, report, source.table, select, numbers)


def check_dac(con: duckdb.DuckDBPyConnection, source: Source, report: Reporter) -> None:
    report("checking NPIs and duplicates")
    npi_rejects(con, source, source.table, "concat_ws(',', npi, last_name, first_name)")
    # A DAC row is clinician x enrollment x group x address: identical rows add nothing.
    drop_duplicates(con, source, source.table, source.columns, "rowid", "identical row")


DAC_AFFILIATION_COLUMNS = {
    **DAC_PERSON_COLUMNS,
    "facility_type": ("facility_type",),
    "facility_ccn": ("Facility Affiliations Certification Number",),
    "parent_ccn": ("Facility Type Certification Number",),
}


def load_dac_affiliations(con: duckdb.DuckDBPyConnection, source: Source, report: Reporter) -> int:
    cols = pick_columns(source.kind, source.read_header(), DAC_AFFILIATION_COLUMNS, source.notes)
    select = {name: text(col) for name, col in cols.items()} | {"npi": npi_text(cols["npi"])}
    numbers = [cols[c] for c in ("npi", "ind_pac_id")]
    return insert_from_csv(con, source, report, source.table, select, numbers)


def check_dac_affiliations(
    con: duckdb.DuckDBPyConnection, source: Source, report: Reporter
) -> None:
    npi_rejects(con, source, source.table, "concat_ws(',', npi, facility_ccn)")
    key = ["npi", "ind_pac_id", "facility_type", "facility_ccn", "parent_ccn"]
    drop_duplicates(con, source, source.table, key, "rowid", "identical row")


KINDS = (
    Kind("dac", "ref_dac", "CMS Doctors & Clinicians national file (current or 2021)", load_dac,
         check_dac),
    Kind("dac-affiliations", "ref_dac_affiliations", "CMS DAC Facility_Affiliation file",
         load_dac_affiliations, check_dac_affiliations),
)  # fmt: skip
