"""OIG LEIE: the full exclusions file UPDATED.csv and its monthly supplements (new exclusions,
reinstatements)."""

from __future__ import annotations

import duckdb

from pipeline.normalize.npi import npi_valid_sql
from pipeline.sources.base import Kind, Reporter, Source
from pipeline.sources.csvsql import (
    NUMBER_FLAGS,
    date_expr,
    drop_duplicates,
    insert_from_csv,
    npi_text,
    pick_columns,
    publish_stage,
    reject_where,
    repairs_list,
    stage_table,
    text,
    zip_expr,
)

LEIE_COLUMNS = {
    "last_name": ("LASTNAME",),
    "first_name": ("FIRSTNAME",),
    "middle_name": ("MIDNAME",),
    "business_name": ("BUSNAME",),
    "general": ("GENERAL",),
    "specialty": ("SPECIALTY",),
    "upin": ("UPIN",),
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
_LEIE_KEY = [
    "last_name",
    "first_name",
    "middle_name",
    "business_name",
    "exclusion_type",
    "exclusion_date",
]


_LEIE_NUMBERS = ("npi", "dob", "zip", "exclusion_date", "reinstatement_date", "waiver_date")


def _leie_select(source: Source) -> tuple[dict[str, str], list[str]]:
    cols = pick_columns(source.kind, source.read_header(), LEIE_COLUMNS, source.notes)
    zip_code, zip_fixed = zip_expr(cols["zip"])
    npi = npi_text(cols["npi"])
    dob = text(cols["dob"])
    select = {name: text(col) for name, col in cols.items()}
    select |= {
        # A malformed NPI on the LEIE is dropped, not the exclusion: the name still matches.
        "npi": f"CASE WHEN {npi_valid_sql(npi)} THEN {npi} END",
        "dob": f"CASE WHEN {dob} NOT IN ('00000000', '0') THEN {dob} END",
        "birth_date": date_expr(cols["dob"]),
        "zip": zip_code,
        # Kept as text here and checked below, so a bad date becomes a reject with its reason.
        "exclusion_date": text(cols["exclusion_date"]),
        "reinstatement_date": date_expr(cols["reinstatement_date"]),
        "waiver_date": date_expr(cols["waiver_date"]),
        "repairs": repairs_list(
            {
                "zip_leading_zeros": zip_fixed,
                "npi_invalid_dropped": f"({npi} IS NOT NULL AND NOT {npi_valid_sql(npi)})",
                **NUMBER_FLAGS,
            }
        ),
    }
    return select, [cols[c] for c in _LEIE_NUMBERS]


def _load_leie_rows(con: duckdb.DuckDBPyConnection, source: Source, report: Reporter) -> int:
    # exclusion_date is a DATE column: stage the text in a small temp table first (the LEIE is
    # ~80k rows), check it, then insert typed rows.
    select, numbers = _leie_select(source)
    stage = stage_table(con, source.table)
    con.execute("ALTER TABLE _stage ALTER exclusion_date TYPE VARCHAR")
    rows_read = insert_from_csv(con, source, report, stage, select, numbers)
    con.execute("UPDATE _stage SET line_number = _line(rowid)")
    reject_where(
        con,
        source,
        "_stage",
        """CASE WHEN last_name IS NULL AND business_name IS NULL THEN 'no name'
                WHEN try_strptime(exclusion_date, '%Y%m%d') IS NULL
                     THEN 'bad EXCLDATE ' || coalesce(exclusion_date, '(empty)')
           END""",
        "concat_ws(',', last_name, first_name, business_name, npi, exclusion_date)",
    )
    con.execute(
        "UPDATE _stage SET exclusion_date = "
        "strftime(strptime(exclusion_date, '%Y%m%d'), '%Y-%m-%d')"
    )
    key = [*_LEIE_KEY, "npi", "dob", "address", "city", "state", "reinstatement_date"]
    drop_duplicates(con, source, "_stage", key, "rowid", "identical row")
    return rows_read


def load_leie(con: duckdb.DuckDBPyConnection, source: Source, report: Reporter) -> int:
    rows_read = _load_leie_rows(con, source, report)
    publish_stage(con, source.table)
    return rows_read


def load_leie_supplement(con: duckdb.DuckDBPyConnection, source: Source, report: Reporter) -> int:
    """New exclusions are added; reinstatements close the matching exclusion.

    A supplement row that matches an exclusion already loaded (same name, exclusion type and
    date) updates that row (its reinstatement date, a newly known NPI) instead of adding a copy.
    """
    rows_read = _load_leie_rows(con, source, report)
    match = " AND ".join(f"l.{c} IS NOT DISTINCT FROM s.{c}::{_leie_type(c)}" for c in _LEIE_KEY)
    con.execute(
        f"""UPDATE ref_leie l SET
                reinstatement_date = coalesce(s.reinstatement_date, l.reinstatement_date),
                npi = coalesce(l.npi, s.npi)
            FROM _stage s WHERE {match}"""
    )
    applied = con.execute(
        f"""DELETE FROM _stage s WHERE EXISTS (SELECT 1 FROM ref_leie l WHERE {match})"""
    ).fetchone()[0]
    source.applied = applied
    publish_stage(con, source.table)
    return rows_read


def _leie_type(column: str) -> str:
    return "DATE" if column == "exclusion_date" else "VARCHAR"


KINDS = (
    Kind("leie", "ref_leie", "OIG LEIE exclusions (UPDATED.csv)", load_leie),
    Kind("leie-supplement", "ref_leie", "OIG LEIE monthly supplement", load_leie_supplement,
         base="leie"),
)  # fmt: skip
