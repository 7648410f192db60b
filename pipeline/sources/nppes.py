"""NPPES: the npidata file (monthly full and weekly incremental), and the othername and
pl files of the same bundle. CMS writes them in iso-8859-1 with every field quoted; a file
re-saved by a spreadsheet or a dataframe is often UTF-8, and is read as such when it decodes."""

from __future__ import annotations

import duckdb

from pipeline.normalize.npi import npi_valid_sql
from pipeline.sources.base import Kind, Reporter, Source
from pipeline.sources.csvsql import (
    NUMBER_FLAGS,
    date_expr,
    drop_duplicates,
    insert_from_csv,
    npi_reason,
    npi_rejects,
    npi_text,
    phone_expr,
    pick_columns,
    reject_where,
    repairs_list,
    text,
    zip_expr,
)

NPPES_COLUMNS = {
    "npi": ("NPI",),
    "entity_type": ("Entity Type Code",),
    "replacement_npi": ("Replacement NPI",),
    "organization_name": ("Provider Organization Name (Legal Business Name)",),
    "last_name": ("Provider Last Name (Legal Name)",),
    "first_name": ("Provider First Name",),
    "middle_name": ("Provider Middle Name",),
    "prefix": ("Provider Name Prefix Text",),
    "suffix": ("Provider Name Suffix Text",),
    "credential": ("Provider Credential Text",),
    "other_last_name": ("Provider Other Last Name",),
    "other_first_name": ("Provider Other First Name",),
    "other_middle_name": ("Provider Other Middle Name",),
    "other_credential": ("Provider Other Credential Text",),
    "other_name_type": ("Provider Other Last Name Type Code",),
    "practice_address_1": ("Provider First Line Business Practice Location Address",),
    "practice_address_2": ("Provider Second Line Business Practice Location Address",),
    "practice_city": ("Provider Business Practice Location Address City Name",),
    "practice_state": ("Provider Business Practice Location Address State Name",),
    "practice_zip": ("Provider Business Practice Location Address Postal Code",),
    "practice_country": (
        "Provider Business Practice Location Address Country Code (If outside U.S.)",
    ),
    "practice_phone": ("Provider Business Practice Location Address Telephone Number",),
    "mailing_city": ("Provider Business Mailing Address City Name",),
    "mailing_state": ("Provider Business Mailing Address State Name",),
    "mailing_zip": ("Provider Business Mailing Address Postal Code",),
    "mailing_country": ("Provider Business Mailing Address Country Code (If outside U.S.)",),
    "enumeration_date": ("Provider Enumeration Date",),
    "last_update_date": ("Last Update Date",),
    "deactivation_reason": ("NPI Deactivation Reason Code",),
    "deactivation_date": ("NPI Deactivation Date",),
    "reactivation_date": ("NPI Reactivation Date",),
    "gender": ("Provider Sex Code", "Provider Gender Code"),
}
TAXONOMY_SLOTS = range(1, 16)
_SLOT_FIELDS = {
    "code": "Healthcare Provider Taxonomy Code",
    "license": "Provider License Number",
    "license_state": "Provider License Number State Code",
    "primary": "Healthcare Provider Primary Taxonomy Switch",
}
_NPPES_TEXT = [
    "entity_type",
    "organization_name",
    "last_name",
    "first_name",
    "middle_name",
    "prefix",
    "suffix",
    "credential",
    "other_last_name",
    "other_first_name",
    "other_middle_name",
    "other_credential",
    "other_name_type",
    "practice_address_1",
    "practice_address_2",
    "practice_city",
    "practice_state",
    "mailing_city",
    "mailing_state",
    "deactivation_reason",
    "gender",
]


# Columns that hold integers: repaired when a spreadsheet wrote them as floats or exponents.
_NUMBER_COLUMNS = (
    "npi", "entity_type", "replacement_npi", "other_name_type", "practice_zip", "mailing_zip",
    "enumeration_date", "last_update_date", "deactivation_date",
    "reactivation_date",
)  # fmt: skip


def _nppes_select(source: Source) -> tuple[dict[str, str], list[str]]:
    """The loader's expressions, and the file columns that hold integers."""
    header = source.read_header()
    cols = pick_columns(source.kind, header, NPPES_COLUMNS, source.notes)
    slots = pick_columns(
        source.kind,
        header,
        {
            f"{name}_{i}": (f"{label}_{i}",)
            for i in TAXONOMY_SLOTS
            for name, label in _SLOT_FIELDS.items()
        },
    )
    numbers = [cols[c] for c in _NUMBER_COLUMNS]
    numbers += [slots[f"license_{i}"] for i in TAXONOMY_SLOTS]

    def slot(name: str, i: int) -> str:
        return text(slots[f"{name}_{i}"])

    def none_filled(name: str, which: range) -> str:
        return " AND ".join(f"{slot(name, i)} IS NULL" for i in which)

    def distinct_in_order(name: str) -> str:
        # Slot order matters (slot 1 first), so drop blanks and repeats without sorting. The
        # blanks go first, in one pass over the slots; the repeats are then sought in the
        # few values left (list_transform binds that short list once): seeking them among
        # all 15 slots for each slot cost ~6% of the read per list.
        filled = (
            f"list_filter([{', '.join(slot(name, i) for i in TAXONOMY_SLOTS)}], "
            "lambda x: x IS NOT NULL)"
        )
        return (
            f"list_transform([{filled}], lambda v: CASE WHEN len(v) = 1 THEN v "
            "WHEN len(v) > 1 THEN list_filter(v, lambda x, i: list_position(v, x) = i) END)[1]"
        )

    def slot_struct(i: int) -> str:
        return (
            f"{{'slot': {i}, 'code': {slot('code', i)}, 'license': {slot('license', i)}, "
            f"'license_state': {slot('license_state', i)}, "
            f"'is_primary': coalesce({slot('primary', i)} = 'Y', false)}}"
        )

    def taxonomies(upto: int) -> str:
        structs = ", ".join(slot_struct(i) for i in range(1, upto + 1))
        return f"nullif(list_filter([{structs}], lambda x: x.code IS NOT NULL), [])"

    practice_zip, practice_zip_fixed = zip_expr(cols["practice_zip"], cols["practice_country"])
    mailing_zip, mailing_zip_fixed = zip_expr(cols["mailing_zip"], cols["mailing_country"])
    phone, phone_float, phone_fixed, phone_lost = phone_expr(cols["practice_phone"])
    replacement = npi_text(cols["replacement_npi"])
    select = {name: text(cols[name]) for name in _NPPES_TEXT}
    select |= {
        "npi": npi_text(cols["npi"]),
        "replacement_npi": f"CASE WHEN {npi_valid_sql(replacement)} THEN {replacement} END",
        "practice_zip": practice_zip,
        "mailing_zip": mailing_zip,
        "practice_phone": phone,
        "enumeration_date": date_expr(cols["enumeration_date"]),
        "last_update_date": date_expr(cols["last_update_date"]),
        "deactivation_date": date_expr(cols["deactivation_date"]),
        "reactivation_date": date_expr(cols["reactivation_date"]),
        "taxonomy_codes": distinct_in_order("code"),
        "license_states": distinct_in_order("license_state"),
        "primary_taxonomy": "CASE "
        + " ".join(
            f"WHEN {slot('primary', i)} = 'Y' THEN {slot('code', i)}" for i in TAXONOMY_SLOTS
        )
        + " END",
        # Most providers fill one slot, many two: only the slots up to the last filled code
        # are built into structs (all 15 are built only for the few rows that fill a third).
        "taxonomies": f"CASE WHEN {none_filled('code', TAXONOMY_SLOTS[1:])} "
        f"THEN CASE WHEN {slot('code', 1)} IS NOT NULL THEN [{slot_struct(1)}] END "
        f"WHEN {none_filled('code', TAXONOMY_SLOTS[2:])} THEN {taxonomies(2)} "
        f"ELSE {taxonomies(TAXONOMY_SLOTS[-1])} END",
        "repairs": repairs_list(
            {
                "practice_zip_leading_zeros": practice_zip_fixed,
                "mailing_zip_leading_zeros": mailing_zip_fixed,
                "practice_phone_scientific": phone_fixed,
                "practice_phone_unrepairable": phone_lost,
                **NUMBER_FLAGS,
                "integer_written_as_float": f"(_as_float OR {phone_float})",
            }
        ),
    }
    return select, numbers


def _nppes_rejects(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    reject_where(
        con,
        source,
        source.table,
        f"""coalesce(
                CASE WHEN npi = '0000000000' THEN 'no NPI' END,
                {npi_reason()},
                CASE WHEN coalesce(entity_type, '') NOT IN ('1', '2') AND deactivation_date IS NULL
                     THEN 'unknown entity type ' || coalesce(entity_type, '(empty)') END)""",
        "concat_ws(',', npi, entity_type, last_name, first_name, organization_name)",
    )
    # Duplicate NPIs (seen when files are concatenated): keep the row updated last.
    drop_duplicates(
        con,
        source,
        source.table,
        ["npi"],
        "last_update_date DESC NULLS LAST, rowid",
        "same NPI, kept the row updated last",
    )


def load_nppes(con: duckdb.DuckDBPyConnection, source: Source, report: Reporter) -> int:
    select, numbers = _nppes_select(source)
    return insert_from_csv(con, source, report, source.table, select, numbers)


def check_nppes(con: duckdb.DuckDBPyConnection, source: Source, report: Reporter) -> None:
    report("checking NPIs and duplicates")
    _nppes_rejects(con, source)


def check_nppes_weekly(con: duckdb.DuckDBPyConnection, source: Source, report: Reporter) -> None:
    """Weekly rows replace the rows of the same NPIs from earlier loads."""
    check_nppes(con, source, report)
    report("applying the weekly changes")
    con.execute(
        """DELETE FROM ref_nppes WHERE load_id <> ? AND npi IN (
               SELECT npi FROM ref_nppes WHERE load_id = ?)""",
        [source.load_id, source.load_id],
    )


NPPES_PL_COLUMNS = {
    "npi": ("NPI",),
    "address_1": ("Provider Secondary Practice Location Address- Address Line 1",),
    "address_2": (
        "Provider Secondary Practice Location Address-  Address Line 2",
        "Provider Secondary Practice Location Address- Address Line 2",
    ),
    "city": ("Provider Secondary Practice Location Address - City Name",),
    "state": ("Provider Secondary Practice Location Address - State Name",),
    "zip": ("Provider Secondary Practice Location Address - Postal Code",),
    "country": ("Provider Secondary Practice Location Address - Country Code (If outside U.S.)",),
    "phone": ("Provider Secondary Practice Location Address - Telephone Number",),
    "phone_extension": ("Provider Secondary Practice Location Address - Telephone Extension",),
    "fax": ("Provider Practice Location Address - Fax Number",),
}


def load_nppes_pl(con: duckdb.DuckDBPyConnection, source: Source, report: Reporter) -> int:
    cols = pick_columns(source.kind, source.read_header(), NPPES_PL_COLUMNS, source.notes)
    zip_code, zip_fixed = zip_expr(cols["zip"], cols["country"])
    phone, phone_float, phone_fixed, phone_lost = phone_expr(cols["phone"])
    select = {name: text(col) for name, col in cols.items()}
    select |= {
        "npi": npi_text(cols["npi"]),
        "zip": zip_code,
        "phone": phone,
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
    numbers = [cols[c] for c in ("npi", "zip", "phone_extension", "fax")]
    return insert_from_csv(con, source, report, source.table, select, numbers)


def check_nppes_pl(con: duckdb.DuckDBPyConnection, source: Source, report: Reporter) -> None:
    npi_rejects(con, source, source.table, "concat_ws(',', npi, address_1, city)")
    key = ["npi", "address_1", "address_2", "city", "state", "zip", "phone"]
    drop_duplicates(con, source, source.table, key, "rowid", "same location")


def load_nppes_othername(con: duckdb.DuckDBPyConnection, source: Source, report: Reporter) -> int:
    cols = pick_columns(
        source.kind,
        source.read_header(),
        {
            "npi": ("NPI",),
            "other_name": ("Provider Other Organization Name",),
            "type_code": ("Provider Other Organization Name Type Code",),
        },
        source.notes,
    )
    select = {
        "npi": npi_text(cols["npi"]),
        "other_name": text(cols["other_name"]),
        "type_code": text(cols["type_code"]),
    }
    numbers = [cols["npi"], cols["type_code"]]
    return insert_from_csv(con, source, report, source.table, select, numbers)


def check_nppes_othername(
    con: duckdb.DuckDBPyConnection, source: Source, report: Reporter
) -> None:
    npi_rejects(con, source, source.table, "concat_ws(',', npi, other_name)")
    drop_duplicates(
        con,
        source,
        source.table,
        ["npi", "other_name", "type_code"],
        "rowid",
        "same other name",
    )


KINDS = (
    Kind("nppes", "ref_nppes", "NPPES npidata file (monthly full file)", load_nppes,
         check_nppes),
    Kind("nppes-weekly", "ref_nppes", "NPPES weekly incremental npidata file", load_nppes,
         check_nppes_weekly, base="nppes"),
    Kind("nppes-othername", "ref_nppes_other_names", "NPPES othername file", load_nppes_othername,
         check_nppes_othername),
    Kind("nppes-pl", "ref_nppes_locations", "NPPES secondary practice locations (pl) file",
         load_nppes_pl, check_nppes_pl),
)  # fmt: skip
