"""Loaders for the reference files: board certificates, NPPES, Doctors & Clinicians, OIG LEIE.

Kinds (``credcheck load KIND PATH``):

- ``boards``: the canonical board-certification CSV (see README), read with Python's csv module
  and inserted in batches;
- ``nppes``: the monthly NPPES npidata file (~9M rows, 330 columns, iso-8859-1); replaces the
  NPPES reference. ``nppes-weekly``: a weekly incremental npidata file, applied on top (its rows
  replace the same NPIs' rows). ``nppes-othername`` and ``nppes-pl``: the other-name and
  secondary practice-location files of the same bundle;
- ``dac``: the CMS Doctors & Clinicians national file, current or 2021 layout (detected from the
  header); ``dac-affiliations``: its Facility_Affiliation file;
- ``leie``: the OIG LEIE UPDATED.csv (replaces the exclusions); ``leie-supplement``: a monthly
  supplement of new exclusions and/or reinstatements, applied on top.

The CMS and OIG files go through DuckDB's CSV reader in one streaming, parallel pass that reads
only the columns needed, repairs values in SQL and writes into a fresh copy of the raw table,
swapped in at commit; DuckDB works under a fixed memory limit, so memory does not grow with the
file. Each load runs in one transaction: a failure (or a killed process) leaves the previous
reference as it was. Re-loading a file already loaded is a no-op (sha256). Every load is
recorded in ``load_runs``; rows not loaded are kept in ``rejects`` with their line and reason;
values repaired on the way (ZIP codes that lost leading zeros, phone numbers in scientific
notation) are listed per row in ``repairs`` and counted per load in ``load_repairs``.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from pipeline.config import CredcheckError
from pipeline.db.store import new_id, transaction
from pipeline.normalize.npi import is_valid_npi
from pipeline.normalize.npi import npi_valid_sql as _npi_ok

Progress = Callable[[str], None]
"""Receives progress lines ("nppes: reading npidata.csv 42% (12s)"); raising cancels the load."""

BOARD_COLUMNS = [
    "npi",
    "first_name",
    "middle_name",
    "last_name",
    "suffix",
    "board",
    "certificate",
    "certificate_type",
    "status",
    "initial_certification_date",
    "expiration_date",
    "moc",
    "city",
    "state",
]
BOARD_STATUSES = {"active", "expired", "lapsed", "inactive", "suspended", "revoked"}
CERTIFICATE_TYPES = {"specialty", "subspecialty"}
MOC_VALUES = {"", "yes", "no", "not_required"}


@dataclass(frozen=True)
class Kind:
    name: str
    table: str
    description: str
    base: str | None = None  # incremental kinds apply on top of this kind's load
    encoding: str | None = None  # None: UTF-8 if the file decodes as UTF-8, else iso-8859-1


KIND_SPECS = {
    k.name: k
    for k in (
        Kind("boards", "ref_boards", "canonical board-certification CSV"),
        Kind("nppes", "ref_nppes", "NPPES npidata file (monthly full file)", encoding="latin-1"),
        Kind(
            "nppes-weekly",
            "ref_nppes",
            "NPPES weekly incremental npidata file",
            "nppes",
            encoding="latin-1",
        ),
        Kind(
            "nppes-othername", "ref_nppes_other_names", "NPPES othername file", encoding="latin-1"
        ),
        Kind(
            "nppes-pl",
            "ref_nppes_locations",
            "NPPES secondary practice locations (pl) file",
            encoding="latin-1",
        ),
        Kind("dac", "ref_dac", "CMS Doctors & Clinicians national file (current or 2021)"),
        Kind("dac-affiliations", "ref_dac_affiliations", "CMS DAC Facility_Affiliation file"),
        Kind("leie", "ref_leie", "OIG LEIE exclusions (UPDATED.csv)"),
        Kind("leie-supplement", "ref_leie", "OIG LEIE monthly supplement", "leie"),
    )
}
KINDS = tuple(KIND_SPECS)
TABLES = {name: spec.table for name, spec in KIND_SPECS.items()}


@dataclass(frozen=True)
class LoadResult:
    load_id: str
    kind: str
    path: str
    sha256: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    unchanged: bool = False
    repairs: dict[str, int] = field(default_factory=dict)


# Columns added since the first schema; applied to older database files before a load.
MIGRATIONS = """
ALTER TABLE ref_boards ADD COLUMN IF NOT EXISTS repairs VARCHAR[];
ALTER TABLE ref_nppes ADD COLUMN IF NOT EXISTS organization_name VARCHAR;
ALTER TABLE ref_nppes ADD COLUMN IF NOT EXISTS other_name_type VARCHAR;
ALTER TABLE ref_nppes ADD COLUMN IF NOT EXISTS other_credential VARCHAR;
ALTER TABLE ref_nppes ADD COLUMN IF NOT EXISTS practice_address_1 VARCHAR;
ALTER TABLE ref_nppes ADD COLUMN IF NOT EXISTS practice_address_2 VARCHAR;
ALTER TABLE ref_nppes ADD COLUMN IF NOT EXISTS mailing_zip VARCHAR;
ALTER TABLE ref_nppes ADD COLUMN IF NOT EXISTS enumeration_date DATE;
ALTER TABLE ref_nppes ADD COLUMN IF NOT EXISTS last_update_date DATE;
ALTER TABLE ref_nppes ADD COLUMN IF NOT EXISTS deactivation_reason VARCHAR;
ALTER TABLE ref_nppes ADD COLUMN IF NOT EXISTS reactivation_date DATE;
ALTER TABLE ref_nppes ADD COLUMN IF NOT EXISTS taxonomies STRUCT(slot INTEGER, code VARCHAR,
    license VARCHAR, license_state VARCHAR, is_primary BOOLEAN)[];
ALTER TABLE ref_nppes ADD COLUMN IF NOT EXISTS repairs VARCHAR[];
ALTER TABLE ref_dac ADD COLUMN IF NOT EXISTS layout VARCHAR;
ALTER TABLE ref_dac ADD COLUMN IF NOT EXISTS ind_pac_id VARCHAR;
ALTER TABLE ref_dac ADD COLUMN IF NOT EXISTS ind_enrl_id VARCHAR;
ALTER TABLE ref_dac ADD COLUMN IF NOT EXISTS secondary_specialty_list VARCHAR[];
ALTER TABLE ref_dac ADD COLUMN IF NOT EXISTS telehealth VARCHAR;
ALTER TABLE ref_dac ADD COLUMN IF NOT EXISTS org_pac_id VARCHAR;
ALTER TABLE ref_dac ADD COLUMN IF NOT EXISTS num_org_mem INTEGER;
ALTER TABLE ref_dac ADD COLUMN IF NOT EXISTS address_line_1 VARCHAR;
ALTER TABLE ref_dac ADD COLUMN IF NOT EXISTS address_line_2 VARCHAR;
ALTER TABLE ref_dac ADD COLUMN IF NOT EXISTS address_id VARCHAR;
ALTER TABLE ref_dac ADD COLUMN IF NOT EXISTS hospital_ccns VARCHAR[];
ALTER TABLE ref_dac ADD COLUMN IF NOT EXISTS hospital_names VARCHAR[];
ALTER TABLE ref_dac ADD COLUMN IF NOT EXISTS repairs VARCHAR[];
ALTER TABLE ref_leie ADD COLUMN IF NOT EXISTS upin VARCHAR;
ALTER TABLE ref_leie ADD COLUMN IF NOT EXISTS birth_date DATE;
ALTER TABLE ref_leie ADD COLUMN IF NOT EXISTS repairs VARCHAR[];
"""


# ------------------------------------------------------------------------------ the entry point


def load_reference(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    path: Path,
    *,
    progress: Progress | None = None,
    progress_every: float = 2.0,
) -> LoadResult:
    """Load one reference file of ``kind`` atomically and record it in ``load_runs``.

    ``progress`` (optional) receives a line now and then on long loads; if it raises, the load
    is cancelled and rolled back.

    >>> load_reference(con, "nppes", Path("npidata_pfile_20050523-20250608.csv"))  # doctest: +SKIP
    LoadResult(load_id='load-nppes-...', kind='nppes', ..., rows_loaded=9012345, ...)
    """
    if kind not in KIND_SPECS:
        raise CredcheckError(f"unknown reference kind {kind!r}; choose one of {', '.join(KINDS)}")
    spec = KIND_SPECS[kind]
    path = Path(path)
    if not path.is_file():
        raise CredcheckError(f"{kind}: no such file: {path}")
    report = _Reporter(kind, progress, progress_every)
    report(f"checking {path.name} ({path.stat().st_size / 1e6:,.0f} MB)")
    # CMS writes the NPPES files in iso-8859-1; the others are checked while hashing.
    sha, utf8 = _fingerprint(path, check_utf8=spec.encoding is None)
    _migrate(con)
    previous = _loaded_already(con, spec, sha)
    if previous:
        return LoadResult(previous[0], kind, str(path), sha, *previous[1:], unchanged=True)

    load_id = new_id(f"load-{kind}")
    started = datetime.now(UTC).replace(tzinfo=None)
    encoding = spec.encoding or ("utf-8" if utf8 else "latin-1")
    source = _Source(path, encoding, load_id, kind, table=spec.table)
    with _load_settings(con), transaction(con):
        if spec.base is None:
            # A full load fills a fresh table that replaces the old one at the end: dropping
            # the old table frees its blocks (a DELETE would leave them in the file), and the
            # new rows keep DuckDB's fast commit path (see _swap_in).
            source.table = f"{spec.table}__loading"
            con.execute(f"CREATE TABLE {source.table} AS SELECT * FROM {spec.table} LIMIT 0")
            kinds = [k.name for k in KIND_SPECS.values() if k.name == kind or k.base == kind]
            con.execute("DELETE FROM rejects WHERE list_contains(?, kind)", [kinds])
        rows_read = LOADERS[kind](con, source, report)
        if spec.base is None:
            _swap_in(con, source, spec.table)
        report("recording the load")
        loaded = con.execute(
            f"SELECT count(*) FROM {spec.table} WHERE load_id = ?", [load_id]
        ).fetchone()[0]
        rejected = con.execute(
            "SELECT count(*) FROM rejects WHERE load_id = ?", [load_id]
        ).fetchone()[0]
        if source.applied:  # supplement rows merged into rows of an earlier load
            loaded += source.applied
        repairs = _record_repairs(con, spec, load_id)
        finished = datetime.now(UTC).replace(tzinfo=None)
        con.execute(
            "INSERT INTO load_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                load_id,
                kind,
                str(path.resolve()),
                sha,
                rows_read,
                loaded,
                rejected,
                started,
                finished,
            ],
        )
    report(f"done: read {rows_read:,} rows, loaded {loaded:,}, rejected {rejected:,}")
    return LoadResult(load_id, kind, str(path), sha, rows_read, loaded, rejected, False, repairs)


def _swap_in(con: duckdb.DuckDBPyConnection, source: _Source, table: str) -> None:
    """Replace ``table`` by the freshly loaded one, inside the load's transaction.

    Rows deleted from a table created in the same transaction make DuckDB re-append all its
    rows at commit, slowly and with memory growing with the file; copying the kept rows into
    another fresh table costs less, and only files with rejects or duplicates pay it.
    """
    loaded = source.table
    if source.removed:
        con.execute(f"CREATE TABLE {table}__kept AS SELECT * FROM {loaded}")
        con.execute(f"DROP TABLE {loaded}")
        loaded = f"{table}__kept"
    con.execute(f"DROP TABLE {table}")
    con.execute(f"ALTER TABLE {loaded} RENAME TO {table}")
    source.table = table


def file_sha256(path: Path) -> str:
    return _fingerprint(Path(path), check_utf8=False)[0]


def _fingerprint(path: Path, check_utf8: bool = True) -> tuple[str, bool]:
    """sha256 of the file and whether it is valid UTF-8 (read once, in 1 MB blocks)."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")() if check_utf8 else None
    utf8 = check_utf8
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
            if utf8 and decoder is not None:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    utf8 = False
    return digest.hexdigest(), utf8


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    from pipeline.db.store import RAW_SCHEMA

    con.execute(RAW_SCHEMA)
    con.execute(MIGRATIONS)


def _loaded_already(con: duckdb.DuckDBPyConnection, spec: Kind, sha: str) -> tuple | None:
    """The load_runs row that makes loading this file again a no-op, if any."""
    if spec.base is None:
        row = con.execute(
            "SELECT load_id, sha256, rows_read, rows_loaded, rows_rejected FROM load_runs "
            "WHERE kind = ? ORDER BY finished_at DESC LIMIT 1",
            [spec.name],
        ).fetchone()
        return (row[0], *row[2:]) if row and row[1] == sha else None
    # An incremental file is a no-op if applied since the latest full load of its base.
    row = con.execute(
        """SELECT load_id, rows_read, rows_loaded, rows_rejected FROM load_runs
           WHERE kind = ? AND sha256 = ? AND finished_at >= coalesce(
               (SELECT max(finished_at) FROM load_runs WHERE kind = ?), TIMESTAMP '1900-01-01')
           ORDER BY finished_at DESC LIMIT 1""",
        [spec.name, sha, spec.base],
    ).fetchone()
    return tuple(row) if row else None


@contextmanager
def _load_settings(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Progress tracking on, and a memory ceiling so big operators spill to disk."""
    old = dict(
        con.execute(
            "SELECT name, value FROM duckdb_settings() WHERE name IN "
            "('enable_progress_bar', 'enable_progress_bar_print', 'progress_bar_time', "
            "'memory_limit')"
        ).fetchall()
    )
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")
    con.execute("SET progress_bar_time = 200")  # track from 0.2 s, not the default 2 s
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    try:
        yield
    finally:
        for name, value in old.items():
            con.execute(f"SET {name} = '{value}'")


MEMORY_LIMIT = "384MB"  # DuckDB spills beyond this; RSS stays ~400 MB on any file size


def _record_repairs(con: duckdb.DuckDBPyConnection, spec: Kind, load_id: str) -> dict[str, int]:
    columns = {r[0] for r in con.execute(f"DESCRIBE {spec.table}").fetchall()}
    if "repairs" not in columns:
        return {}
    rows = con.execute(
        f"""SELECT repair, count(*) FROM (
                SELECT unnest(repairs) AS repair FROM {spec.table}
                WHERE load_id = ? AND repairs IS NOT NULL)
            GROUP BY repair ORDER BY repair""",
        [load_id],
    ).fetchall()
    if rows:
        con.executemany(
            "INSERT INTO load_repairs VALUES (?, ?, ?, ?)",
            [(load_id, spec.name, repair, n) for repair, n in rows],
        )
    return dict(rows)


class _Reporter:
    """Sends progress lines, and polls DuckDB's query progress while a long statement runs."""

    def __init__(self, kind: str, progress: Progress | None, every: float) -> None:
        self.kind, self.progress, self.every = kind, progress, every
        self.started = time.monotonic()

    def __call__(self, message: str) -> None:
        if self.progress is not None:
            self.progress(f"{self.kind}: {message} ({time.monotonic() - self.started:.0f}s)")

    def run(self, con: duckdb.DuckDBPyConnection, label: str, sql: str, params: list):
        """Execute ``sql``, reporting its percentage every ``every`` seconds."""
        if self.progress is None:
            return con.execute(sql, params).fetchall()
        stop = threading.Event()
        failure: list[BaseException] = []

        def poll() -> None:
            while not stop.wait(self.every):
                try:
                    percent = con.query_progress()
                    if percent >= 0:
                        self(f"{label} {percent:.0f}%")
                except BaseException as exc:  # the callback cancels the load
                    failure.append(exc)
                    con.interrupt()
                    return

        watcher = threading.Thread(target=poll, daemon=True)
        watcher.start()
        try:
            result = con.execute(sql, params).fetchall()
        except duckdb.InterruptException:
            if failure:
                raise failure[0] from None
            raise
        finally:
            stop.set()
            watcher.join()
        if failure:
            raise failure[0]
        return result


# ---------------------------------------------------------------------- CSV files read by DuckDB


@dataclass
class _Source:
    path: Path
    encoding: str
    load_id: str
    kind: str
    header: list[str] = field(default_factory=list)
    table: str = ""  # where the rows go (a fresh table for full loads, see load_reference)
    applied: int = 0  # rows merged into an earlier load's rows (supplements)
    removed: int = 0  # rows deleted from ``table`` after insertion (rejects, duplicates)

    def read_header(self) -> list[str]:
        with self.path.open(
            encoding="utf-8-sig" if self.encoding == "utf-8" else "latin-1", newline=""
        ) as fh:
            self.header = next(csv.reader(fh), [])
        return self.header


def _key(name: str) -> str:
    return " ".join(name.replace("\ufeff", "").split()).lower()


def _pick_columns(kind: str, header: list[str], wanted: dict[str, tuple[str, ...]]) -> dict:
    """Map our column names to the file's, accepting header variants (case and spacing too)."""
    by_key = {}
    for name in header:
        by_key.setdefault(_key(name), name)
    picked, missing = {}, []
    for ours, variants in wanted.items():
        found = next((by_key[_key(v)] for v in variants if _key(v) in by_key), None)
        if found is None:
            missing.append(variants[0])
        picked[ours] = found
    if missing:
        raise CredcheckError(f"{kind}: file is missing expected columns: {', '.join(missing)}")
    return picked


def _q(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _read_csv(source: _Source) -> str:
    """A read_csv call with the dialect fixed and every column text, so nothing is sniffed.

    Only the columns the SELECT names are materialised. Malformed lines (wrong field count,
    unterminated quotes) go to DuckDB's reject tables instead of failing the load.
    """
    columns = ", ".join(f"{_lit(name)}: 'VARCHAR'" for name in _unique(source.header))
    return (
        f"read_csv({_lit(str(source.path))}, header = true, auto_detect = false, "
        f"delim = ',', quote = '\"', escape = '\"', encoding = {_lit(source.encoding)}, "
        f"columns = {{{columns}}}, store_rejects = true)"
    )


def _unique(header: list[str]) -> list[str]:
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


def _txt(column: str) -> str:
    """A file column, trimmed with '' as NULL (the inner query of ``_insert_from_csv`` does it)."""
    return _q(column)


def _npi(column: str) -> str:
    """An NPI as text; '0000000000' (no NPI) and blanks become NULL, 1.234567893E+09 digits."""
    value = _txt(column)
    return (
        f"CASE WHEN {value} IS NULL OR {value} = '0000000000' THEN NULL "
        f"WHEN length({value}) = 10 THEN {value} "
        f"WHEN regexp_full_match({value}, '[0-9]\\.[0-9]{{9}}[eE]\\+?0?9') "
        f"THEN CAST(CAST({value} AS DOUBLE) AS BIGINT)::VARCHAR ELSE {value} END"
    )


def _date_expr(column: str) -> str:
    """MM/DD/YYYY (NPPES) or YYYYMMDD (LEIE) to DATE; '00000000' and blanks are no date."""
    value = _txt(column)
    return (
        f"CASE WHEN {value} IS NULL OR {value} = '00000000' THEN NULL "
        f"WHEN length({value}) = 8 THEN try_strptime({value}, '%Y%m%d')::DATE "
        f"WHEN substr({value}, 5, 1) = '-' THEN try_strptime({value}, '%Y-%m-%d')::DATE "
        f"ELSE try_strptime({value}, '%m/%d/%Y')::DATE END"
    )


def _zip_expr(column: str, country: str | None = None) -> tuple[str, str]:
    """(repaired ZIP, repair flag): US ZIPs that lost leading zeros get them back.

    "2114" -> "02114", "21141234" -> "021141234"; "02114-1234" and "2114.0" are tidied. Foreign
    postal codes (a country code other than US) are left alone.
    """
    raw = _txt(column)
    value = (
        f"(CASE WHEN contains({raw}, '.') THEN regexp_replace({raw}, '\\.0+$', '') ELSE {raw} END)"
    )
    us = f"coalesce({_txt(country)}, 'US') = 'US'" if country else "true"
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


def _phone_expr(column: str) -> tuple[str, str, str]:
    """(repaired phone, repaired flag, unrepairable flag) for spreadsheet scientific notation.

    "6.175550134E+09" -> "6175550134". "6.17555E+09" lost digits: NULL, counted as unrepairable.
    """
    value = _txt(column)
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


def _repairs_list(flags: dict[str, str]) -> str:
    items = ", ".join(f"CASE WHEN {flag} THEN {_lit(name)} END" for name, flag in flags.items())
    # Most rows need no repair: test the flags before building a list.
    return (
        f"CASE WHEN {' OR '.join(flags.values())} "
        f"THEN list_filter([{items}], lambda x: x IS NOT NULL) END"
    )


def _insert_from_csv(
    con: duckdb.DuckDBPyConnection,
    source: _Source,
    report: _Reporter,
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
    used = [c for c in _unique(source.header) if _q(c) in exprs]
    cleaned = ", ".join(f"nullif(trim({_q(c)}), '') AS {_q(c)}" for c in used)
    sql = (
        f"INSERT INTO {table} BY NAME SELECT ? AS load_id, {exprs} "
        f"FROM (SELECT {cleaned} FROM {_read_csv(source)})"
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


def _reject_where(
    con: duckdb.DuckDBPyConnection,
    source: _Source,
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


def _drop_duplicates(
    con: duckdb.DuckDBPyConnection,
    source: _Source,
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


def _stage(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """An empty temp table shaped like ``table``, where a small file's rows are checked first.

    The big files go straight into their table instead: a copy would cost ~15% of the load.
    Deleting rejected rows there makes DuckDB re-append the load's rows at commit, a cost paid
    only by files that have rejects (the real monthly NPPES file has none).
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE _stage AS SELECT * FROM {table} LIMIT 0")
    return "_stage"


def _publish(con: duckdb.DuckDBPyConnection, table: str) -> None:
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _stage")
    con.execute("DROP TABLE _stage")


# ------------------------------------------------------------------------------------- NPPES

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


def _nppes_select(source: _Source) -> dict[str, str]:
    header = source.read_header()
    cols = _pick_columns(source.kind, header, NPPES_COLUMNS)
    slots = _pick_columns(
        source.kind,
        header,
        {
            f"{name}_{i}": (f"{label}_{i}",)
            for i in TAXONOMY_SLOTS
            for name, label in _SLOT_FIELDS.items()
        },
    )

    def slot(name: str, i: int) -> str:
        return _txt(slots[f"{name}_{i}"])

    one_slot = f"{slot('code', 2)} IS NULL AND {slot('license_state', 2)} IS NULL"

    def distinct_in_order(name: str) -> str:
        # Slot order matters (slot 1 first), so drop blanks and repeats without sorting.
        # Most providers fill one slot: that case skips the list work.
        items = ", ".join(slot(name, i) for i in TAXONOMY_SLOTS)
        first = slot(name, 1)
        return (
            f"CASE WHEN {one_slot} THEN CASE WHEN {first} IS NOT NULL THEN [{first}] END "
            f"ELSE nullif(list_filter([{items}], lambda x, i: x IS NOT NULL "
            f"AND list_position([{items}], x) = i), []) END"
        )

    def slot_struct(i: int) -> str:
        return (
            f"{{'slot': {i}, 'code': {slot('code', i)}, 'license': {slot('license', i)}, "
            f"'license_state': {slot('license_state', i)}, "
            f"'is_primary': coalesce({slot('primary', i)} = 'Y', false)}}"
        )

    structs = ", ".join(slot_struct(i) for i in TAXONOMY_SLOTS)
    practice_zip, practice_zip_fixed = _zip_expr(cols["practice_zip"], cols["practice_country"])
    mailing_zip, mailing_zip_fixed = _zip_expr(cols["mailing_zip"], cols["mailing_country"])
    phone, phone_fixed, phone_lost = _phone_expr(cols["practice_phone"])
    select = {name: _txt(cols[name]) for name in _NPPES_TEXT}
    select |= {
        "npi": _txt(cols["npi"]),
        "replacement_npi": f"CASE WHEN {_txt(cols['replacement_npi'])} IS NULL THEN NULL "
        f"WHEN {_npi_ok(_npi(cols['replacement_npi']))} THEN {_npi(cols['replacement_npi'])} END",
        "practice_zip": practice_zip,
        "mailing_zip": mailing_zip,
        "practice_phone": phone,
        "enumeration_date": _date_expr(cols["enumeration_date"]),
        "last_update_date": _date_expr(cols["last_update_date"]),
        "deactivation_date": _date_expr(cols["deactivation_date"]),
        "reactivation_date": _date_expr(cols["reactivation_date"]),
        "taxonomy_codes": distinct_in_order("code"),
        "license_states": distinct_in_order("license_state"),
        "primary_taxonomy": "CASE "
        + " ".join(
            f"WHEN {slot('primary', i)} = 'Y' THEN {slot('code', i)}" for i in TAXONOMY_SLOTS
        )
        + " END",
        "taxonomies": f"CASE WHEN {one_slot} THEN CASE WHEN {slot('code', 1)} IS NOT NULL "
        f"THEN [{slot_struct(1)}] END "
        f"ELSE nullif(list_filter([{structs}], lambda x: x.code IS NOT NULL), []) END",
        "repairs": _repairs_list(
            {
                "practice_zip_leading_zeros": practice_zip_fixed,
                "mailing_zip_leading_zeros": mailing_zip_fixed,
                "practice_phone_scientific": phone_fixed,
                "practice_phone_unrepairable": phone_lost,
            }
        ),
    }
    return select


def _nppes_rejects(con: duckdb.DuckDBPyConnection, source: _Source) -> None:
    _reject_where(
        con,
        source,
        source.table,
        f"""CASE WHEN npi IS NULL OR npi = '0000000000' THEN 'no NPI'
                 WHEN NOT {_npi_ok("npi")} THEN 'invalid NPI ' || npi || ' (fails the Luhn check)'
                 WHEN coalesce(entity_type, '') NOT IN ('1', '2') AND deactivation_date IS NULL
                      THEN 'unknown entity type ' || coalesce(entity_type, '(empty)')
            END""",
        "concat_ws(',', npi, entity_type, last_name, first_name, organization_name)",
    )
    # Duplicate NPIs (seen when files are concatenated): keep the row updated last.
    _drop_duplicates(
        con,
        source,
        source.table,
        ["npi"],
        "last_update_date DESC NULLS LAST, rowid",
        "same NPI, kept the row updated last",
    )


def _load_nppes(con: duckdb.DuckDBPyConnection, source: _Source, report: _Reporter) -> int:
    rows_read = _insert_from_csv(con, source, report, source.table, _nppes_select(source))
    report("checking NPIs and duplicates")
    _nppes_rejects(con, source)
    return rows_read


def _load_nppes_weekly(con: duckdb.DuckDBPyConnection, source: _Source, report: _Reporter) -> int:
    """Weekly rows replace the rows of the same NPIs from earlier loads."""
    rows_read = _load_nppes(con, source, report)
    report("applying the weekly changes")
    con.execute(
        """DELETE FROM ref_nppes WHERE load_id <> ? AND npi IN (
               SELECT npi FROM ref_nppes WHERE load_id = ?)""",
        [source.load_id, source.load_id],
    )
    return rows_read


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


def _npi_rejects(con: duckdb.DuckDBPyConnection, source: _Source, table: str, raw: str) -> None:
    _reject_where(
        con,
        source,
        table,
        f"""CASE WHEN npi IS NULL THEN 'no NPI'
                 WHEN NOT {_npi_ok("npi")} THEN 'invalid NPI ' || npi || ' (fails the Luhn check)'
            END""",
        raw,
    )


def _load_nppes_pl(con: duckdb.DuckDBPyConnection, source: _Source, report: _Reporter) -> int:
    cols = _pick_columns(source.kind, source.read_header(), NPPES_PL_COLUMNS)
    zip_code, zip_fixed = _zip_expr(cols["zip"], cols["country"])
    phone, phone_fixed, phone_lost = _phone_expr(cols["phone"])
    select = {name: _txt(col) for name, col in cols.items()}
    select |= {
        "npi": _npi(cols["npi"]),
        "zip": zip_code,
        "phone": phone,
        "repairs": _repairs_list(
            {
                "zip_leading_zeros": zip_fixed,
                "phone_scientific": phone_fixed,
                "phone_unrepairable": phone_lost,
            }
        ),
    }
    rows_read = _insert_from_csv(con, source, report, source.table, select)
    _npi_rejects(con, source, source.table, "concat_ws(',', npi, address_1, city)")
    key = ["npi", "address_1", "address_2", "city", "state", "zip", "phone"]
    _drop_duplicates(con, source, source.table, key, "rowid", "same location")
    return rows_read


def _load_nppes_othername(
    con: duckdb.DuckDBPyConnection, source: _Source, report: _Reporter
) -> int:
    cols = _pick_columns(
        source.kind,
        source.read_header(),
        {
            "npi": ("NPI",),
            "other_name": ("Provider Other Organization Name",),
            "type_code": ("Provider Other Organization Name Type Code",),
        },
    )
    select = {
        "npi": _npi(cols["npi"]),
        "other_name": _txt(cols["other_name"]),
        "type_code": _txt(cols["type_code"]),
    }
    rows_read = _insert_from_csv(con, source, report, source.table, select)
    _npi_rejects(con, source, source.table, "concat_ws(',', npi, other_name)")
    _drop_duplicates(
        con,
        source,
        source.table,
        ["npi", "other_name", "type_code"],
        "rowid",
        "same other name",
    )
    return rows_read


# ---------------------------------------------------------------------- Doctors & Clinicians

DAC_COLUMNS = {
    "npi": ("NPI",),
    "ind_pac_id": ("Ind_PAC_ID",),
    "ind_enrl_id": ("Ind_enrl_ID",),
    "last_name": ("Provider Last Name", "lst_nm"),
    "first_name": ("Provider First Name", "frst_nm"),
    "middle_name": ("Provider Middle Name", "mid_nm"),
    "suffix": ("suff",),
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
DAC_SECONDARY = tuple(f"sec_spec_{i}" for i in range(1, 5))
DAC_HOSPITALS = range(1, 6)


def dac_layout(header: list[str]) -> str:
    """'2021' (lst_nm ... hosp_afl_1..5) or 'current' (Provider Last Name ... Facility Name)."""
    keys = {_key(h) for h in header}
    if "lst_nm" in keys or "hosp_afl_1" in keys:
        return "2021"
    if "provider last name" in keys or "facility name" in keys:
        return "current"
    raise CredcheckError(
        "dac: file is missing expected columns: NPI, Provider Last Name (or lst_nm) — "
        "not a Doctors & Clinicians national file"
    )


def _load_dac(con: duckdb.DuckDBPyConnection, source: _Source, report: _Reporter) -> int:
    header = source.read_header()
    _pick_columns(source.kind, header, {"npi": ("NPI",)})
    layout = dac_layout(header)
    cols = _pick_columns(source.kind, header, DAC_COLUMNS)
    keys = {_key(h): h for h in header}
    zip_code, zip_fixed = _zip_expr(cols["zip"])
    phone, phone_fixed, phone_lost = _phone_expr(cols["phone"])
    secondary = [keys[s] for s in (_key(s) for s in DAC_SECONDARY) if s in keys]
    select = {name: _txt(col) for name, col in cols.items()}
    select |= {
        "npi": _npi(cols["npi"]),
        "layout": _lit(layout),
        "num_org_mem": f"TRY_CAST({_txt(cols['num_org_mem'])} AS INTEGER)",
        "graduation_year": f"regexp_replace({_txt(cols['graduation_year'])}, '\\.0+$', '')",
        "zip": zip_code,
        "phone": phone,
        "secondary_specialty_list": "nullif(list_filter(["
        + ", ".join(_txt(c) for c in secondary)
        + "], lambda x: x IS NOT NULL), [])"
        if secondary
        else "NULL",
        "telehealth": _txt(keys["telehlth"]) if "telehlth" in keys else "NULL",
        "repairs": _repairs_list(
            {
                "zip_leading_zeros": zip_fixed,
                "phone_scientific": phone_fixed,
                "phone_unrepairable": phone_lost,
            }
        ),
    }
    if layout == "2021":
        ccns = [keys.get(f"hosp_afl_{i}") for i in DAC_HOSPITALS]
        names = [keys.get(f"hosp_afl_lbn_{i}") for i in DAC_HOSPITALS]
        for column, parts in (("hospital_ccns", ccns), ("hospital_names", names)):
            items = ", ".join(_txt(p) for p in parts if p)
            select[column] = f"nullif(list_filter([{items}], lambda x: x IS NOT NULL), [])"
    rows_read = _insert_from_csv(con, source, report, source.table, select)
    report("checking NPIs and duplicates")
    _npi_rejects(con, source, source.table, "concat_ws(',', npi, last_name, first_name)")
    # A DAC row is clinician x enrollment x group x address: identical rows add nothing.
    key = [c for c in select if c not in ("repairs", "layout")]
    _drop_duplicates(con, source, source.table, key, "rowid", "identical row")
    return rows_read


DAC_AFFILIATION_COLUMNS = {
    "npi": ("NPI",),
    "ind_pac_id": ("Ind_PAC_ID",),
    "last_name": ("Provider Last Name", "lst_nm"),
    "first_name": ("Provider First Name", "frst_nm"),
    "middle_name": ("Provider Middle Name", "mid_nm"),
    "suffix": ("suff",),
    "facility_type": ("facility_type",),
    "facility_ccn": ("Facility Affiliations Certification Number",),
    "parent_ccn": ("Facility Type Certification Number",),
}


def _load_dac_affiliations(
    con: duckdb.DuckDBPyConnection, source: _Source, report: _Reporter
) -> int:
    cols = _pick_columns(source.kind, source.read_header(), DAC_AFFILIATION_COLUMNS)
    select = {name: _txt(col) for name, col in cols.items()} | {"npi": _npi(cols["npi"])}
    rows_read = _insert_from_csv(con, source, report, source.table, select)
    _npi_rejects(con, source, source.table, "concat_ws(',', npi, facility_ccn)")
    key = ["npi", "ind_pac_id", "facility_type", "facility_ccn", "parent_ccn"]
    _drop_duplicates(con, source, source.table, key, "rowid", "identical row")
    return rows_read


# ----------------------------------------------------------------------------------- OIG LEIE

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


def _leie_select(source: _Source) -> dict[str, str]:
    cols = _pick_columns(source.kind, source.read_header(), LEIE_COLUMNS)
    zip_code, zip_fixed = _zip_expr(cols["zip"])
    npi = _npi(cols["npi"])
    select = {name: _txt(col) for name, col in cols.items()}
    select |= {
        # A malformed NPI on the LEIE is dropped, not the exclusion: the name still matches.
        "npi": f"CASE WHEN {_npi_ok(npi)} THEN {npi} END",
        "dob": f"nullif({_txt(cols['dob'])}, '00000000')",
        "birth_date": _date_expr(cols["dob"]),
        "zip": zip_code,
        # Kept as text here and checked below, so a bad date becomes a reject with its reason.
        "exclusion_date": _txt(cols["exclusion_date"]),
        "reinstatement_date": _date_expr(cols["reinstatement_date"]),
        "waiver_date": _date_expr(cols["waiver_date"]),
        "repairs": _repairs_list(
            {
                "zip_leading_zeros": zip_fixed,
                "npi_invalid_dropped": f"({npi} IS NOT NULL AND NOT {_npi_ok(npi)})",
            }
        ),
    }
    return select


def _load_leie_rows(con: duckdb.DuckDBPyConnection, source: _Source, report: _Reporter) -> int:
    # exclusion_date is a DATE column: stage the text in a small temp table first (the LEIE is
    # ~80k rows), check it, then insert typed rows.
    select = _leie_select(source)
    stage = _stage(con, source.table)
    con.execute("ALTER TABLE _stage ALTER exclusion_date TYPE VARCHAR")
    rows_read = _insert_from_csv(con, source, report, stage, select)
    _reject_where(
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
    _drop_duplicates(con, source, "_stage", key, "rowid", "identical row")
    return rows_read


def _load_leie(con: duckdb.DuckDBPyConnection, source: _Source, report: _Reporter) -> int:
    rows_read = _load_leie_rows(con, source, report)
    _publish(con, source.table)
    return rows_read


def _load_leie_supplement(
    con: duckdb.DuckDBPyConnection, source: _Source, report: _Reporter
) -> int:
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
    _publish(con, source.table)
    return rows_read


def _leie_type(column: str) -> str:
    return "DATE" if column == "exclusion_date" else "VARCHAR"


# ------------------------------------------------------------------------ board certificates


def _parse_date(text: str, *, required: bool) -> date | None:
    if not text:
        if required:
            raise ValueError("missing date")
        return None
    return date.fromisoformat(text)


def _board_row_problem(row: dict[str, str]) -> str | None:
    """Why a canonical board row cannot be used, or None when it can."""
    for name in ("first_name", "last_name", "board", "certificate"):
        if not row[name]:
            return f"missing {name}"
    if row["certificate_type"] not in CERTIFICATE_TYPES:
        return f"unknown certificate_type {row['certificate_type']!r}"
    if row["status"] not in BOARD_STATUSES:
        return f"unknown status {row['status']!r}"
    if row["moc"] not in MOC_VALUES:
        return f"unknown moc {row['moc']!r}"
    for name, required in (("initial_certification_date", True), ("expiration_date", False)):
        try:
            _parse_date(row[name], required=required)
        except ValueError:
            return f"bad {name} {row[name]!r} (want YYYY-MM-DD)"
    if row["npi"] and not is_valid_npi(row["npi"]):
        return f"invalid NPI {row['npi']!r} (fails the Luhn check)"
    return None


_BOARD_SCHEMA = pa.schema(
    [
        ("load_id", pa.string()),
        ("line_number", pa.int64()),
        *[(c, pa.string()) for c in BOARD_COLUMNS[:9]],
        ("initial_certification_date", pa.date32()),
        ("expiration_date", pa.date32()),
        *[(c, pa.string()) for c in BOARD_COLUMNS[11:]],
    ]
)
_BOARD_BATCH = 50_000


def _load_boards(con: duckdb.DuckDBPyConnection, source: _Source, report: _Reporter) -> int:
    """Python's csv reader, checked row by row, inserted in Arrow batches of 50,000."""
    good: list[tuple] = []
    rejected: list[tuple] = []
    seen: dict[int, int] = {}  # hash of a row's values -> its first line (duplicate rows)
    encoding = "utf-8-sig" if source.encoding == "utf-8" else "latin-1"

    def flush() -> None:
        if good:
            batch = pa.Table.from_pylist(
                [dict(zip(_BOARD_SCHEMA.names, row)) for row in good], schema=_BOARD_SCHEMA
            )
            con.register("_board_batch", batch)
            con.execute(f"INSERT INTO {source.table} BY NAME SELECT * FROM _board_batch")
            con.unregister("_board_batch")
            good.clear()
        if rejected:
            con.executemany("INSERT INTO rejects VALUES (?, ?, ?, ?, ?)", rejected)
            rejected.clear()

    with source.path.open(encoding=encoding, newline="") as fh:
        reader = csv.reader(fh)
        header = [h.strip().lower() for h in next(reader, [])]
        missing = [c for c in BOARD_COLUMNS if c not in header]
        if missing:
            raise CredcheckError(
                f"boards: {source.path} is not a canonical board-certification CSV "
                f"(missing columns: {', '.join(missing)})"
            )
        positions = [header.index(c) for c in BOARD_COLUMNS]
        rows_read = 0
        for line_number, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            rows_read += 1
            raw = ",".join(values)
            if len(values) != len(header):
                problem = f"expected {len(header)} fields, got {len(values)}"
                rejected.append((source.load_id, "boards", line_number, problem, raw))
                continue
            row = {c: values[p].strip() for c, p in zip(BOARD_COLUMNS, positions)}
            row["status"] = row["status"].lower()
            row["certificate_type"] = row["certificate_type"].lower()
            row["moc"] = row["moc"].lower()
            if row["npi"] == "0000000000":  # the CMS files' "no NPI"
                row["npi"] = ""
            problem = _board_row_problem(row)
            fingerprint = hash(tuple(row.values()))
            if problem is None and fingerprint in seen:
                problem = f"duplicate of line {seen[fingerprint]} (identical row)"
            if problem:
                rejected.append((source.load_id, "boards", line_number, problem, raw))
                continue
            seen[fingerprint] = line_number
            good.append(
                (
                    source.load_id,
                    line_number,
                    row["npi"] or None,
                    row["first_name"],
                    row["middle_name"] or None,
                    row["last_name"],
                    row["suffix"] or None,
                    row["board"],
                    row["certificate"],
                    row["certificate_type"],
                    row["status"],
                    _parse_date(row["initial_certification_date"], required=True),
                    _parse_date(row["expiration_date"], required=False),
                    row["moc"] or None,
                    row["city"] or None,
                    row["state"].upper() or None,
                )
            )
            if len(good) >= _BOARD_BATCH:
                flush()
                report(f"read {rows_read:,} rows")
    flush()
    return rows_read


LOADERS: dict[str, Callable[[duckdb.DuckDBPyConnection, _Source, _Reporter], int]] = {
    "boards": _load_boards,
    "nppes": _load_nppes,
    "nppes-weekly": _load_nppes_weekly,
    "nppes-othername": _load_nppes_othername,
    "nppes-pl": _load_nppes_pl,
    "dac": _load_dac,
    "dac-affiliations": _load_dac_affiliations,
    "leie": _load_leie,
    "leie-supplement": _load_leie_supplement,
}
