"""Opening a database file, transactions, and run ids.

A writer's connection gets the raw tables of ``pipeline.db.schema`` (created, or given the
columns declared since the file was made); a reader opens the file read-only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from pipeline.config import CredcheckError
from pipeline.db import schema
from pipeline.db.schema import RAW, create_tables

# Each site's latest successful crawl (site_id, run_id): the crawl its listings are taken from.
LATEST_CRAWLS = """
SELECT site_id, arg_max(run_id, started_at) AS run_id FROM crawl_runs WHERE status = 'ok'
GROUP BY site_id
"""


def open_db(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the database file; a writer also gets the schema created if missing."""
    if read_only:
        if not path.exists():
            raise CredcheckError(
                f"no database at {path}: run `credcheck demo` or `credcheck run` first"
            )
        try:
            con = duckdb.connect(str(path), read_only=True)
        except duckdb.IOException as exc:
            raise CredcheckError(f"cannot open {path} read-only: {exc}") from exc
        return con
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path))
    except duckdb.IOException as exc:
        raise CredcheckError(f"cannot open {path} for writing: {exc}") from exc
    create_tables(con, (RAW,))
    return con


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: a failure inside rolls back, so the file stays as it was."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def literal(text: str) -> str:
    """A SQL string literal (for the few statements that take no parameters: ATTACH, COMMENT).

    >>> literal("O'Brien")
    "'O''Brien'"
    """
    return "'" + text.replace("'", "''") + "'"


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    """Insert a frame's rows into a declared table, by column name; the table's types win.

    Columns the table does not declare are ignored; declared ones the frame lacks are NULL.
    """
    names = [c.name for c in schema.TABLES[table].columns if not c.at_publish]
    frame = frame.assign(**{n: None for n in names if n not in frame.columns})[names]
    con.register("frame_to_insert", frame)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM frame_to_insert")
    finally:
        con.unregister("frame_to_insert")


def new_id(prefix: str) -> str:
    """A sortable, unique id such as ``crawl-20261127T101500-3f2a9c``."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return f"{prefix}-{stamp}-{uuid.uuid4().hex[:6]}"
