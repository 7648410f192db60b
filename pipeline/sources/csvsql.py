"""Shared CSV-repair helpers: one streaming DuckDB pass per file, repairs written in SQL.

The CMS and OIG files go through DuckDB's CSV reader with the dialect fixed and every column
read as text (nothing is sniffed), only the columns a loader selects materialised. The SQL
expressions here repair what spreadsheets and dataframes do to a CSV — integer codes and ids
written as floats (``1.0``, ``1234567890.0``) or in scientific notation, ZIP codes that lost
their leading zeros, ``0`` for ``00000000``, three date formats, rows left empty at the end —
and flag each repair for the ``repairs`` column (file-level repairs — a byte-order mark, CRLF
line ends, padded header cells, columns found under an older name — are counted on the
``Source``); rows that cannot be used move to ``rejects`` with their line number.
"""

from __future__ import annotations

import duckdb

from pipeline.config import CredcheckError
from pipeline.db.store import literal
from pipeline.normalize.npi import npi_valid_sql
from pipeline.sources.base import Reporter, Source, memory_for


def header_key(name: str) -> str:
    return " ".join(name.replace("\ufeff", "").split()).lower()


def pick_columns(
    kind: str,
    header: list[str],
    wanted: dict[str, tuple[str, ...]],
    notes: dict[str, int] | None = None,
) -> dict:
    """Map our column names to the file's, accepting header variants (case and spacing too).

    The first variant is the current name; a column found under a later one (a rename between
    years, e.g. "Provider Gender Code" for "Provider Sex Code") is counted in ``notes``.
    """
    by_key = {}
    for name in header:
        by_key.setdefault(header_key(name), name)
    picked, missing = {}, []
    for ours, variants in wanted.items():
        position = next((i for i, v in enumerate(variants) if header_key(v) in by_key), None)
        if position is None:
            missing.append(variants[0])
            picked[ours] = None
            continue
        picked[ours] = by_key[header_key(variants[position])]
        if position > 0 and notes is not None:
            notes["column_renamed"] = notes.get("column_renamed", 0) + 1
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
    for i, name in enumerate(header):
        name = name.replace("\ufeff", "") or f"column{i}"  # a dataframe's unnamed index
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
    """An NPI as text; '0000000000' (no NPI; '0' once a spreadsheet had it) and blanks are NULL.

    Floats and scientific notation are repaired for every number column (``number_sql``).
    """
    value = text(column)
    return f"CASE WHEN {value} IN ('0000000000', '0') THEN NULL ELSE {value} END"


def number_sql(value: str) -> tuple[str, str, str, str]:
    """(repaired, written as float, scientific notation, digits lost) for an integer in text.

    A spreadsheet or dataframe writes integer codes and ids as floats ("1.0", "1234567890.0")
    or in scientific notation ("6.175550134E+09"); both are repaired. "6.17555E+09" lost digits:
    kept as it is (a loader rejects or drops it). The flags are never NULL.

    Only values with a dot pay for the regexes: the tests are nested in CASE, which evaluates a
    branch only on the rows that reach it (DuckDB's AND, in a SELECT list, evaluates both sides
    on every row: ``dotted AND regexp`` cost the regex on every value, a third of the read).
    """
    dotted = f"contains({value}, '.')"
    scientific = f"regexp_full_match({value}, '[0-9]\\.[0-9]+[eE]\\+?[0-9]+')"
    digits = f"length(regexp_extract({value}, '\\.([0-9]+)', 1))"
    exponent = f"TRY_CAST(regexp_extract({value}, '[eE]\\+?([0-9]+)', 1) AS INTEGER)"
    no_digit_lost = f"coalesce({digits} >= {exponent}, false)"

    def if_dotted(test: str) -> str:
        return f"(CASE WHEN {dotted} THEN {test} ELSE false END)"

    as_float = if_dotted(f"regexp_full_match({value}, '[0-9]+\\.0*')")
    whole = if_dotted(f"CASE WHEN {scientific} THEN {no_digit_lost} ELSE false END")
    lost = if_dotted(f"CASE WHEN {scientific} THEN NOT {no_digit_lost} ELSE false END")
    repaired = (
        f"CASE WHEN NOT {dotted} THEN {value} "
        f"WHEN {as_float} THEN split_part({value}, '.', 1) "
        f"WHEN {whole} THEN CAST(round(CAST({value} AS DOUBLE)) AS HUGEINT)::VARCHAR "
        f"ELSE {value} END"
    )
    return repaired, as_float, whole, lost


NUMBER_FLAGS = {
    "integer_written_as_float": "_as_float",
    "scientific_notation": "_scientific",
}
"""Row repairs ``insert_from_csv`` flags for the ``numbers`` columns (use in repairs_list)."""


def date_expr(column: str) -> str:
    """MM/DD/YYYY (NPPES) or YYYYMMDD (LEIE) to DATE; '00000000' (or '0') and blanks: no date."""
    value = text(column)
    return (
        f"CASE WHEN {value} IS NULL OR {value} IN ('00000000', '0') THEN NULL "
        f"WHEN length({value}) = 8 THEN try_strptime({value}, '%Y%m%d')::DATE "
        f"WHEN substr({value}, 5, 1) = '-' THEN try_strptime({value}, '%Y-%m-%d')::DATE "
        f"ELSE try_strptime({value}, '%m/%d/%Y')::DATE END"
    )


def zip_expr(column: str, country: str | None = None) -> tuple[str, str]:
    """(repaired ZIP, repair flag): US ZIPs that lost leading zeros get them back.

    "2114" -> "02114", "21141234" -> "021141234"; "02114-1234" is tidied ("2114.0" is a
    float, repaired as a number column). Foreign postal codes (a country code other than US)
    are left alone.
    """
    value = text(column)
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


def phone_expr(column: str) -> tuple[str, str, str, str]:
    """(repaired phone, written-as-float flag, scientific flag, unrepairable flag).

    "6.175550134E+09" -> "6175550134", "6175550134.0" -> "6175550134". "6.17555E+09" lost
    digits: NULL, counted as unrepairable. (Phones are not ``numbers`` columns: their repairs
    are counted under their own names.)
    """
    value = text(column)
    repaired, as_float, scientific, lost = number_sql(value)
    return f"CASE WHEN NOT {lost} THEN {repaired} END", as_float, scientific, lost


def repairs_list(flags: dict[str, str]) -> str:
    items = ", ".join(f"CASE WHEN {flag} THEN {literal(name)} END" for name, flag in flags.items())
    # Most rows need no repair: test the flags before building a list.
    return (
        f"CASE WHEN {' OR '.join(flags.values())} "
        f"THEN list_filter([{items}], lambda x: x IS NOT NULL) END"
    )


def columns_used(source: Source, select: dict[str, str]) -> list[str]:
    """The file columns a loader's expressions read (all of them are read as text)."""
    exprs = " ".join(select.values())
    return [c for c in unique_header(source.header) if ident(c) in exprs]


def read_query(source: Source, select: dict[str, str], numbers: list[str] = ()) -> str:
    """The SELECT of ``insert_from_csv``: the loader's expressions over the repaired file.

    The inner query reads only the file columns the expressions use, each trimmed once; the
    middle one repairs the number columns and flags the rows it repaired. ``?`` is the load id.
    """
    exprs = ", ".join(f"{expr} AS {name}" for name, expr in select.items())
    used = columns_used(source, select)
    cleaned = ", ".join(f"nullif(trim({ident(c)}), '') AS {ident(c)}" for c in used)
    repaired, dotted, flags = [], [], {"_as_float": [], "_scientific": []}
    for c in used:
        if c in numbers:
            value, as_float, scientific, _ = number_sql(ident(c))
            repaired.append(f"{value} AS {ident(c)}")
            dotted.append(f"contains({ident(c)}, '.')")
            flags["_as_float"].append(as_float)
            flags["_scientific"].append(scientific)
        else:
            repaired.append(ident(c))
    # Most rows have no dot in any number column: one test per row spares them the flags.
    repaired += [
        f"CASE WHEN {' OR '.join(dotted)} THEN {' OR '.join(f)} ELSE false END AS {name}"
        if f
        else f"false AS {name}"
        for name, f in flags.items()
    ]
    return (
        f"SELECT ? AS load_id, {exprs} "
        f"FROM (SELECT {', '.join(repaired)} FROM (SELECT {cleaned} FROM {read_csv_sql(source)}))"
    )


def insert_from_csv(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    report: Reporter,
    table: str,
    select: dict[str, str],
    numbers: list[str] = (),
) -> int:
    """One streaming pass: file -> ``table``. Returns the rows read (inserted + malformed).

    ``numbers``: file columns that hold integers (codes, ids, ZIPs, phones, numeric dates),
    repaired by ``number_sql`` before the loader's expressions see them; ``NUMBER_FLAGS`` name
    the per-row flags. Lines with no value at all (",,,,", a spreadsheet's trailing rows) are
    skipped and counted, not rejected.

    DuckDB's parallel CSV reader keeps the file's order when inserting (preserve_insertion_order),
    so a row's line number follows from its rowid; numbering rows in the query instead would
    serialise the scan. ``_line(rowid)`` (a temp macro) gives a row of this load its physical
    line, counting the header as line 1 and skipping past malformed lines.
    """
    for name in ("reject_errors", "reject_scans"):
        con.execute(f"DROP TABLE IF EXISTS temp.{name}")
    source.columns = [n for n in select if n not in ("repairs", "layout")]
    sql = f"INSERT INTO {table} BY NAME {read_query(source, select, numbers)}"
    with memory_for(con, "read"):
        inserted = report.run(con, f"reading {source.path.name}", sql, [source.load_id])[0][0]
    empty = con.execute(
        "SELECT count(DISTINCT line) FROM reject_errors "
        "WHERE regexp_full_match(csv_line, '[\\s,\"]*')"
    ).fetchone()[0]
    if empty:
        source.note("empty_rows_skipped", empty)
    malformed = con.execute(
        "SELECT line, any_value(error_message), any_value(trim(csv_line, e'\\r\\n')) "
        "FROM reject_errors WHERE NOT regexp_full_match(csv_line, '[\\s,\"]*') "
        "GROUP BY line ORDER BY line"
    ).fetchall()
    # Recorded with the load's checks (``load_reference``), in the transaction that keeps them.
    source.pending_rejects += [
        (source.load_id, source.kind, line, f"malformed CSV line: {message}", text)
        for line, message, text in malformed
    ]
    # Malformed line j (1-based, in order) sits before data lines >= line_j - (j - 1).
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _malformed AS "
        "SELECT line - (row_number() OVER (ORDER BY line) - 1) AS adj FROM "
        "(SELECT DISTINCT line FROM reject_errors)"
    )
    number_lines(con, source, table)
    return inserted + len(malformed) + empty


def number_lines(con: duckdb.DuckDBPyConnection, source: Source, table: str) -> None:
    """(Re)define ``_line(rowid)``: the physical line of a row of this load in ``table``.

    Rows keep their order, so a line follows from the row's rank among the load's rowids; the
    rowids change when the rows are committed, so a load that checks its rows after committing
    them numbers them again.
    """
    base = con.execute(
        f"SELECT coalesce(min(rowid), 0) FROM {table} WHERE load_id = ?", [source.load_id]
    ).fetchone()[0]
    con.execute(
        f"CREATE OR REPLACE TEMP MACRO _line(r) AS r - {base} + 2 + "
        f"(SELECT count(*) FROM _malformed WHERE adj <= r - {base} + 2)"
    )


def reject_where(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    table: str,
    reason_sql: str,
    raw_sql: str,
) -> None:
    """Move this load's rows with a non-NULL reason from ``table`` to ``rejects``.

    Rows with no value at all (a spreadsheet's empty rows) are dropped and counted instead.
    """
    if source.columns:
        reason_sql = (
            f"CASE WHEN {' AND '.join(f'{c} IS NULL' for c in source.columns)} THEN '' "
            f"ELSE {reason_sql} END"
        )
    with memory_for(con, "check"):
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _bad AS
                SELECT rid, reason FROM (
                    SELECT rowid AS rid, {reason_sql} AS reason FROM {table} WHERE load_id = ?)
                WHERE reason IS NOT NULL""",
            [source.load_id],
        )
    empty = con.execute("SELECT count(*) FROM _bad WHERE reason = ''").fetchone()[0]
    if empty:
        source.note("empty_rows_skipped", empty)
    con.execute(
        f"""INSERT INTO rejects
            SELECT ?, ?, _line(b.rid), b.reason, {raw_sql}
            FROM {table} t JOIN _bad b ON t.rowid = b.rid WHERE b.reason <> ''
            ORDER BY b.rid""",
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
    with memory_for(con, "check"):
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
        f"WHEN NOT {npi_valid_sql(column)} THEN CASE "
        f"WHEN regexp_full_match({column}, '[0-9]\\.[0-9]+[eE]\\+?[0-9]+') "
        f"THEN 'NPI ' || {column} || ' in scientific notation lost digits' "
        f"ELSE 'invalid NPI ' || {column} || ' (fails the Luhn check)' END END"
    )


def npi_rejects(con: duckdb.DuckDBPyConnection, source: Source, table: str, raw: str) -> None:
    """Move this load's rows without a usable NPI to ``rejects``."""
    reject_where(con, source, table, npi_reason(), raw)
