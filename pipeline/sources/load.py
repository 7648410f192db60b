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
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipeline.config import CredcheckError
from pipeline.db.schema import RAW, create_tables
from pipeline.db.store import new_id, transaction
from pipeline.sources import boards, dac, leie, nppes
from pipeline.sources.base import MEMORY_LIMITS, Kind, Progress, Reporter, Source
from pipeline.sources.csvsql import number_lines

KIND_SPECS: dict[str, Kind] = {
    k.name: k for family in (boards, nppes, dac, leie) for k in family.KINDS
}
KINDS = tuple(KIND_SPECS)


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




# ------------------------------------------------------------------------------ the entry point


def load_reference(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    path: Path,
    *,
    progress: Progress | None = None,
    progress_every: float = 2.0,
    mapping: Path | None = None,
) -> LoadResult:
    """Load one reference file of ``kind`` atomically and record it in ``load_runs``.

    ``progress`` (optional) receives a line now and then on long loads; if it raises, the load
    is cancelled and rolled back. ``mapping``: a TOML file mapping another layout onto the
    canonical one (``boards`` only; ``pipeline.sources.mapping``).

    >>> load_reference(con, "nppes", Path("npidata_pfile_20050523-20250608.csv"))  # doctest: +SKIP
    LoadResult(load_id='load-nppes-...', kind='nppes', ..., rows_loaded=9012345, ...)
    """
    if kind not in KIND_SPECS:
        raise CredcheckError(f"unknown reference kind {kind!r}; choose one of {', '.join(KINDS)}")
    spec = KIND_SPECS[kind]
    path = Path(path)
    if not path.is_file():
        raise CredcheckError(f"{kind}: no such file: {path}")
    if mapping is not None and kind != "boards":
        raise CredcheckError(f"{kind}: --mapping applies to board records only")
    if mapping is not None and not Path(mapping).is_file():
        raise CredcheckError(f"{kind}: no such mapping file: {mapping}")
    report = Reporter(kind, progress, progress_every)
    report(f"checking {path.name} ({path.stat().st_size / 1e6:,.0f} MB)")
    # CMS writes the NPPES files in iso-8859-1; the others are checked before reading.
    utf8 = spec.encoding is None and _decodes_as_utf8(path)
    create_tables(con, (RAW,))  # a file made by an older version gets the newer columns
    # The file is hashed while it is read (a pass of its own cost ~5% of a load); a file
    # loaded already is found as soon as its hash is known, and its load rolled back.
    hashing = _Hashing(path, mapping, _loaded_shas(con, spec), con)
    try:
        return _load(con, spec, path, mapping, report, utf8, hashing)
    except (_Unchanged, duckdb.InterruptException):
        if not hashing.unchanged:
            raise
        previous = _loaded_already(con, spec, hashing.sha)
        return LoadResult(previous[0], kind, str(path), hashing.sha, *previous[1:], unchanged=True)
    finally:
        hashing.stop()


def _load(con, spec, path, mapping, report, utf8, hashing) -> LoadResult:
    kind = spec.name
    load_id = new_id(f"load-{kind}")
    started = datetime.now(UTC).replace(tzinfo=None)
    encoding = spec.encoding or ("utf-8" if utf8 else "latin-1")
    source = Source(path, encoding, load_id, kind, table=spec.table, mapping=mapping)
    kinds = [k.name for k in KIND_SPECS.values() if k.name == kind or k.base == kind]
    with _load_settings(con):
        if spec.base is None and spec.check is not None:
            # Two transactions: the rows go into a fresh table nobody reads and are committed
            # (DuckDB's fast path: their blocks are already written); then the checks delete
            # the rows they reject from that committed table (cheap: deleting rows inserted in
            # the same transaction would make the commit append every row again), and the
            # table replaces the previous one. A failure in either leaves the previous
            # reference as it was; the leftover table is dropped here or by the next load.
            source.table = f"{spec.table}__loading"
            try:
                with transaction(con):
                    con.execute(f"DROP TABLE IF EXISTS {source.table}")
                    con.execute(
                        f"CREATE TABLE {source.table} AS SELECT * FROM {spec.table} LIMIT 0"
                    )
                    rows_read = spec.load(con, source, report)
                    sha = hashing.result()
                with transaction(con):
                    record = _finish(con, spec, source, kinds, report, path, sha, rows_read,
                                     started)  # fmt: skip
            except BaseException:
                _drop_leftover(con, source.table)
                raise
        else:
            with transaction(con):
                if spec.base is None:
                    source.table = f"{spec.table}__loading"
                    con.execute(f"DROP TABLE IF EXISTS {source.table}")
                    con.execute(
                        f"CREATE TABLE {source.table} AS SELECT * FROM {spec.table} LIMIT 0"
                    )
                rows_read = spec.load(con, source, report)
                record = _finish(con, spec, source, kinds, report, path, hashing.result(),
                                 rows_read, started)  # fmt: skip
    loaded, rejected, repairs = record
    report(f"done: read {rows_read:,} rows, loaded {loaded:,}, rejected {rejected:,}")
    return LoadResult(
        load_id, kind, str(path), hashing.sha, rows_read, loaded, rejected, False, repairs
    )


def _finish(con, spec, source, kinds, report, path, sha, rows_read, started) -> tuple:
    """Inside the load's last transaction: checks, the swap, and the load_runs record.

    Returns (rows loaded, rows rejected, repairs).
    """
    load_id = source.load_id
    if spec.base is None:
        con.execute(
            "DELETE FROM rejects WHERE list_contains(?, kind) AND load_id <> ?", [kinds, load_id]
        )
    if source.pending_rejects:  # malformed lines, found while reading
        con.executemany("INSERT INTO rejects VALUES (?, ?, ?, ?, ?)", source.pending_rejects)
    if spec.check is not None:
        number_lines(con, source, source.table)  # rowids changed if the rows were committed
        spec.check(con, source, report)
    if spec.base is None:
        report("replacing the previous rows")
        con.execute(f"DROP TABLE {spec.table}")
        con.execute(f"ALTER TABLE {source.table} RENAME TO {spec.table}")
        source.table = spec.table
    report("recording the load")
    loaded = con.execute(
        f"SELECT count(*) FROM {spec.table} WHERE load_id = ?", [load_id]
    ).fetchone()[0]
    rejected = con.execute(
        "SELECT count(*) FROM rejects WHERE load_id = ?", [load_id]
    ).fetchone()[0]
    if source.applied:  # supplement rows merged into rows of an earlier load
        loaded += source.applied
    repairs = _record_repairs(con, spec, load_id, source.notes)
    finished = datetime.now(UTC).replace(tzinfo=None)
    con.execute(
        "INSERT INTO load_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [load_id, spec.name, str(path.resolve()), sha, rows_read, loaded, rejected, started,
         finished],
    )  # fmt: skip
    return loaded, rejected, repairs


def _drop_leftover(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Drop the committed rows of a load that failed afterwards (best effort: the next load of
    the kind drops them too)."""
    with suppress(duckdb.Error):
        con.execute(f"DROP TABLE IF EXISTS {table}")


def _decodes_as_utf8(path: Path) -> bool:
    """Whether the file is valid UTF-8 (read until the first byte that is not)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            try:
                decoder.decode(block)
            except UnicodeDecodeError:
                return False
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


class _Unchanged(Exception):
    """The file being loaded is one loaded already: its load is rolled back."""


class _Hashing:
    """The file's sha256 (with the mapping's text, if any), computed in a thread.

    hashlib releases the GIL on large blocks, so the hash runs beside DuckDB's reader. If the
    file turns out to be one of ``loaded`` (its reload is a no-op), the running statement is
    interrupted and ``result`` raises ``_Unchanged``.
    """

    def __init__(self, path: Path, mapping: Path | None, loaded: set[str], con) -> None:
        self.path, self.mapping, self.loaded, self.con = path, mapping, loaded, con
        self.sha = ""
        self.unchanged = False
        self.error: BaseException | None = None
        self.stopping = threading.Event()  # the load failed: no need to finish the hash
        self.thread = threading.Thread(target=self._run, name="credcheck-sha256", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            digest = hashlib.sha256()
            with self.path.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 22), b""):
                    if self.stopping.is_set():
                        return
                    digest.update(block)
            sha = digest.hexdigest()
            if self.mapping is not None:  # the same file under another mapping is another load
                text = Path(self.mapping).read_text(encoding="utf-8")
                sha = hashlib.sha256((sha + text).encode()).hexdigest()
            self.sha = sha
            if sha in self.loaded:
                self.unchanged = True
                self.con.interrupt()
        except BaseException as exc:  # raised by result() in the loading thread
            self.error = exc

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join()

    def result(self) -> str:
        self.thread.join()
        if self.error is not None:
            raise self.error
        if self.unchanged:
            raise _Unchanged(self.sha)
        return self.sha


def _loaded_shas(con: duckdb.DuckDBPyConnection, spec: Kind) -> set[str]:
    """The sha256 of the files whose load of ``spec`` again would be a no-op."""
    if spec.base is None:
        row = con.execute(
            "SELECT sha256 FROM load_runs WHERE kind = ? ORDER BY finished_at DESC LIMIT 1",
            [spec.name],
        ).fetchone()
        return {row[0]} if row else set()
    rows = con.execute(
        """SELECT sha256 FROM load_runs
           WHERE kind = ? AND finished_at >= coalesce(
               (SELECT max(finished_at) FROM load_runs WHERE kind = ?), TIMESTAMP '1900-01-01')""",
        [spec.name, spec.base],
    ).fetchall()
    return {r[0] for r in rows}


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
    """Progress tracking on, and a memory ceiling so big operators spill to disk (each stage
    sets its own, ``MEMORY_LIMITS``)."""
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
    con.execute(f"SET memory_limit = '{MEMORY_LIMITS['read']}'")
    try:
        yield
    finally:
        for name, value in old.items():
            con.execute(f"SET {name} = '{value}'")




def _record_repairs(
    con: duckdb.DuckDBPyConnection, spec: Kind, load_id: str, notes: dict[str, int]
) -> dict[str, int]:
    """Count the rows' repairs (their ``repairs`` column) and the file's into load_repairs."""
    columns = {r[0] for r in con.execute(f"DESCRIBE {spec.table}").fetchall()}
    counts = dict(notes)
    if "repairs" in columns:
        rows = con.execute(
            f"""SELECT repair, count(*) FROM (
                    SELECT unnest(repairs) AS repair FROM {spec.table}
                    WHERE load_id = ? AND repairs IS NOT NULL)
                GROUP BY repair""",
            [load_id],
        ).fetchall()
        for repair, n in rows:
            counts[repair] = counts.get(repair, 0) + n
    counts = dict(sorted(counts.items()))
    if counts:
        con.executemany(
            "INSERT INTO load_repairs VALUES (?, ?, ?, ?)",
            [(load_id, spec.name, repair, n) for repair, n in counts.items()],
        )
    return counts
