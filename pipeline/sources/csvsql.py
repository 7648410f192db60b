"""Shared CSV-repair helpers: one streaming DuckDB pass per file, repairs written in SQL.

The CMS and OIG files go through DuckDB's CSV reader with the dialect fixed and every column
read as text (nothing is sniffed), only the columns a loader selects materialised. The SQL
expressions here repair what spreadsheets and exports damage (ZIP codes that lost their leading
zeros, phone numbers and NPIs in scientific notation, three date formats) and flag each repair
for the ``repairs`` column; rows that cannot be used move to ``rejects`` with their line number.
"""

from __future__ import annotations

import duckdb

from pipeline.config import CredcheckError
from pipeline.db.store import literal
from pipeline.normalize.npi import npi_valid_sql
from pipeline.sources.base import Reporter, Source


def header_key(name: str) -> str:
    return " ".join(name.replace("\ufeff", "").split()).lower()


def pick_columns(kind: str, header: list[str], wanted: dict[str, tuple[str, ...]]) -> dict:
    """Map our column names to the file's, accepting header variants (case and spacing too)."""
    by_key = {}
    for name in header:
        by_key.setdefault(header_key(name), name)
    picked, missing = {}, []
    for ours, variants in wanted.items():
        found = next((by_key[header_key(v)] for v in variants if header_key(v) in by_key), None)
        if found is None:
            missing.append(variants[0])
        picked[ours] = found
    if missing:
        raise CredcheckError(f"{kind}: file is missing expected columns: {', '.join(missing)}")
    return picked


def ident(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def read_csv_sql(source: Source) -> str:
    """A read_csv call with the dialect fixed and every column text, so nothing is sniffed.

    Only the columns the SELECT names are materialised. Malformed lines (wrong field count,
    unterminated quotes) go to DuckDB's reject tables instead of failing the load.
    """
    columns = ", ".join(f"{literal(name)}: 'VARCHAR'" for name in unique_header(source.header))
    return (
        f"read_csv({literal(str(source.path))}, header = true, auto_detect = false, "
        f"delim = ',', quote = '\"', escape = '\"', encoding = {literal(source.encoding)}, "
        f"columns = {{{columns}}}, store_rejects = true)"
    )


def unique_header(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in header:
        name = name.replace("\ufeff", "")
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out


def text(column: str) -> str:
    """A file column, trimmed with '' as NULL (the inner query of ``insert_from_csv`` does it)."""
    return ident(column)


def npi_text(column: str) -> str:
    """An NPI as text; '0000000000' (no NPI) and blanks become NULL, 1.234567893E+09 digits."""
    value = text(column)
    return (
        f"CASE WHEN {value} IS NULL OR {value} = '0000000000' THEN NULL "
        f"WHEN length({value}) = 10 THEN {value} "
        f"WHEN regexp_full_match({value}, '[0-9]\\.[0-9]{{9}}[eE]\\+?0?9') "
        f"THEN CAST(CAST({value} AS DOUBLE) AS BIGINT)::VARCHAR ELSE {value} END"
    )


def date_expr(column: str) -> str:
    """MM/DD/YYYY (NPPES) or YYYYMMDD (LEIE) to DATE; '00000000' and blanks are no date."""
    value = text(column)
    return (
        f"CASE WHEN {value} IS NULL OR {value} = '00000000' THEN NULL "
        f"WHEN length({value}) = 8 THEN try_strptime({value}, '%Y%m%d')::DATE "
        f"WHEN substr({value}, 5, 1) = '-' THEN try_strptime({value}, '%Y-%m-%d')::DATE "
        f"ELSE try_strptime({value}, '%m/%d/%Y')::DATE END"
    )


def zip_expr(column: str, country: str | None = None) -> tuple[str, str]:
    """(repaired ZIP, repair flag): US ZIPs that lost leading zeros get them back.

    "2114" -> "02114", "21141234" -> "021141234"; "02114-1234" and "2114.0" are tidied. Foreign
    postal codes (a country code other than US) are left alone.
    """
    raw = text(column)
    value = (
        f"(CASE WHEN contains({raw}, '.') THEN regexp_replace({raw}, '\\.0+$', '') ELSE {raw} END)"
    )
    us = f"coalesce({text(country)}, 'US') = 'US'" if country else "true"
    # Cheap tests first: only 3-, 4-, 7- and 8-character values can have lost zeros.
    lost = (
        f"(CASE WHEN length({value}) IN (3, 4, 7, 8) AND {us} "
        f"THEN regexp_full_match({value}, '[0-9]+') ELSE false END)"
    )
    repaired = (
        f"CASE WHEN length({value}) IN (5, 9) THEN {value} "
        f"WHEN {lost} THEN lpad({value}, CASE WHEN length({value}) <= 4 THEN 5 ELSE 9 END, '0') "
        f"WHEN regexp_full_match({value}, '[0-9]{{5}}-[0-9]{{4}}') "
        f"THEN replace({value}, '-', '') ELSE {value} END"
    )
    return repaired, lost


def phone_expr(column: str) -> tuple[str, str, str]:
    """(repaired phone, repaired flag, unrepairable flag) for spreadsheet scientific notation.

    "6.175550134E+09" -> "6175550134". "6.17555E+09" lost digits: NULL, counted as unrepairable.
    """
    value = text(column)
    scientific = (
        f"(CASE WHEN contains({value}, 'E') OR contains({value}, 'e') "
        f"THEN regexp_full_match({value}, '[0-9]\\.[0-9]+[eE]\\+?[0-9]+') ELSE false END)"
    )
    digits = f"length(regexp_extract({value}, '\\.([0-9]+)', 1))"
    exponent = f"TRY_CAST(regexp_extract({value}, '[eE]\\+?([0-9]+)', 1) AS INTEGER)"
    whole = f"({scientific} AND {digits} >= {exponent})"
    repaired = (
        f"CASE WHEN NOT {scientific} THEN {value} "
        f"WHEN {whole} THEN CAST(round(CAST({value} AS DOUBLE)) AS BIGINT)::VARCHAR END"
    )
    return repaired, whole, f"({scientific} AND NOT {whole})"


def repairs_list(flags: dict[str, str]) -> str:
    items = ", ".join(f"CASE WHEN {flag} THEN {literal(name)} END" for name, flag in flags.items())
    # Most rows need no repair: test the flags before building a list.
    return (
        f"CASE WHEN {' OR '.join(flags.values())} "
        f"THEN list_filter([{items}], lambda x: x IS NOT NULL) END"
    )


def insert_from_csv(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    report: Reporter,
    table: str,
    select: dict[str, str],
) -> int:
    """One streaming pass: file -> ``table``. Returns the rows read (inserted + malformed).

    DuckDB's parallel CSV reader keeps the file's order when inserting (preserve_insertion_order),
    so a row's line number follows from its rowid; numbering rows in the query instead would
    serialise the scan. ``_line(rowid)`` (a temp macro) gives a row of this load its physical
    line, counting the header as line 1 and skipping past malformed lines.
    """
    for name in ("reject_errors", "reject_scans"):
        con.execute(f"DROP TABLE IF EXISTS temp.{name}")
    exprs = ", ".join(f"{expr} AS {name}" for name, expr in select.items())
    # The inner query reads only the file columns the expressions use, each trimmed once.
    used = [c for c in unique_header(source.header) if ident(c) in exprs]
    cleaned = ", ".join(f"nullif(trim({ident(c)}), '') AS {ident(c)}" for c in used)
    sql = (
        f"INSERT INTO {table} BY NAME SELECT ? AS load_id, {exprs} "
        f"FROM (SELECT {cleaned} FROM {read_csv_sql(source)})"
    )
    inserted = report.run(con, f"reading {source.path.name}", sql, [source.load_id])[0][0]
    malformed = con.execute(
        "SELECT line, any_value(error_message), any_value(trim(csv_line, e'\\r\\n')) "
        "FROM reject_errors GROUP BY line ORDER BY line"
    ).fetchall()
    if malformed:
        con.executemany(
            "INSERT INTO rejects VALUES (?, ?, ?, ?, ?)",
            [
                (source.load_id, source.kind, line, f"malformed CSV line: {message}", text)
                for line, message, text in malformed
            ],
        )
    base = con.execute(
        f"SELECT coalesce(min(rowid), 0) FROM {table} WHERE load_id = ?", [source.load_id]
    ).fetchone()[0]
    # Malformed line j (1-based, in order) sits before data lines >= line_j - (j - 1).
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _malformed AS "
        "SELECT line - (row_number() OVER (ORDER BY line) - 1) AS adj FROM "
        "(SELECT DISTINCT line FROM reject_errors)"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP MACRO _line(r) AS r - {base} + 2 + "
        f"(SELECT count(*) FROM _malformed WHERE adj <= r - {base} + 2)"
    )
    return inserted + len(malformed)


def reject_where(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    table: str,
    reason_sql: str,
    raw_sql: str,
) -> None:
    """Move this load's rows with a non-NULL reason from ``table`` to ``rejects``."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _bad AS
            SELECT rid, reason FROM (
                SELECT rowid AS rid, {reason_sql} AS reason FROM {table} WHERE load_id = ?)
            WHERE reason IS NOT NULL""",
        [source.load_id],
    )
    con.execute(
        f"""INSERT INTO rejects
            SELECT ?, ?, _line(b.rid), b.reason, {raw_sql}
            FROM {table} t JOIN _bad b ON t.rowid = b.rid ORDER BY b.rid""",
        [source.load_id, source.kind],
    )
    source.removed += con.execute(
        f"DELETE FROM {table} WHERE rowid IN (SELECT rid FROM _bad)"
    ).fetchone()[0]
    con.execute("DROP TABLE _bad")


def drop_duplicates(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    table: str,
    key: list[str],
    order: str,
    what: str,
) -> None:
    """Keep one row per ``key`` in this load (the first by ``order``); reject the others.

    Grouping on a hash of the key keeps the big aggregate small; rows sharing a hash are then
    compared on the key itself, so a hash collision never drops a row.
    """
    key_sql = ", ".join(key)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _dup_hashes AS
            SELECT hash({key_sql}) AS h FROM {table} WHERE load_id = ?
            GROUP BY h HAVING count(*) > 1""",
        [source.load_id],
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _dups AS
            SELECT rid, keep, shown FROM (
                SELECT rowid AS rid, {key[0]} AS shown,
                       row_number() OVER w AS n, first_value(rowid) OVER w AS keep
                FROM {table}
                WHERE load_id = ? AND hash({key_sql}) IN (SELECT h FROM _dup_hashes)
                WINDOW w AS (PARTITION BY {key_sql} ORDER BY {order}))
            WHERE n > 1""",
        [source.load_id],
    )
    con.execute(
        f"""INSERT INTO rejects
            SELECT ?, ?, _line(rid), 'duplicate of line ' || _line(keep) || ' ({what})', shown
            FROM _dups ORDER BY rid""",
        [source.load_id, source.kind],
    )
    source.removed += con.execute(
        f"DELETE FROM {table} WHERE rowid IN (SELECT rid FROM _dups)"
    ).fetchone()[0]
    con.execute("DROP TABLE _dup_hashes")
    con.execute("DROP TABLE _dups")


def stage_table(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """An empty temp table shaped like ``table``, where a small file's rows are checked first.

    The big files go straight into their table instead: a copy would cost ~15% of the load.
    Deleting rejected rows there makes DuckDB re-append the load's rows at commit, a cost paid
    only by files that have rejects (the real monthly NPPES file has none).
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE _stage AS SELECT * FROM {table} LIMIT 0")
    return "_stage"


def publish_stage(con: duckdb.DuckDBPyConnection, table: str) -> None:
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _stage")
    con.execute("DROP TABLE _stage")


def npi_reason(column: str = "npi") -> str:
    """SQL: why an NPI column's value cannot be used ('no NPI', 'invalid NPI …'), else NULL."""
    return (
        f"CASE WHEN {column} IS NULL THEN 'no NPI' "
        f"WHEN NOT {npi_valid_sql(column)} "
        f"THEN 'invalid NPI ' || {column} || ' (fails the Luhn check)' END"
    )


def npi_rejects(con: duckdb.DuckDBPyConnection, source: Source, table: str, raw: str) -> None:
    """Move this load's rows without a usable NPI to ``rejects``."""
    reject_where(con, source, table, npi_reason(), raw)
