"""What every loader shares: the kind it loads, the file it reads, and progress reporting.

A reference *kind* (``credcheck load KIND PATH``) names the raw table it fills and the function
that fills it; each file family's module (``nppes``, ``dac``, ``leie``, ``boards``) declares its
kinds in ``KINDS``.
"""

from __future__ import annotations

import codecs
import csv
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

Progress = Callable[[str], None]
"""Receives progress lines ("nppes: reading npidata.csv 42% (12s)"); raising cancels the load."""


@dataclass(frozen=True)
class Kind:
    name: str
    table: str
    description: str
    load: Callable[[duckdb.DuckDBPyConnection, Source, Reporter], int]  # returns rows read
    # Checks that reject loaded rows (bad NPIs, duplicates), run once the rows are committed.
    check: Callable[[duckdb.DuckDBPyConnection, Source, Reporter], None] | None = None
    base: str | None = None  # incremental kinds apply on top of this kind's load
    encoding: str | None = None  # None: UTF-8 if the file decodes as UTF-8, else iso-8859-1


@dataclass
class Source:
    path: Path
    encoding: str
    load_id: str
    kind: str
    header: list[str] = field(default_factory=list)
    table: str = ""  # where the rows go (a fresh table for full loads, see load_reference)
    applied: int = 0  # rows merged into an earlier load's rows (supplements)
    removed: int = 0  # rows deleted from ``table`` after insertion (rejects, duplicates)
    mapping: Path | None = None  # another layout's mapping onto the canonical one (boards)
    columns: list[str] = field(default_factory=list)  # the columns a row fills (empty rows)
    notes: dict[str, int] = field(default_factory=dict)  # file-level repairs -> count
    pending_rejects: list[tuple] = field(default_factory=list)  # malformed lines, to record

    def note(self, repair: str, count: int = 1) -> None:
        self.notes[repair] = self.notes.get(repair, 0) + count

    def read_header(self) -> list[str]:
        """The header row; notes a byte-order mark, CRLF line ends and padded header cells."""
        with self.path.open("rb") as fh:
            first = fh.readline()
        self.notes.pop("byte_order_mark", None)
        self.notes.pop("crlf_line_ends", None)
        self.notes.pop("header_cells_trimmed", None)
        if first.startswith(codecs.BOM_UTF8):
            self.note("byte_order_mark")
        if first.endswith(b"\r\n"):
            self.note("crlf_line_ends")
        with self.path.open(
            encoding="utf-8-sig" if self.encoding == "utf-8" else "latin-1", newline=""
        ) as fh:
            self.header = next(csv.reader(fh), [])
        padded = sum(h != h.strip() for h in self.header)
        if padded:
            self.note("header_cells_trimmed", padded)
        return self.header


# DuckDB's memory limit per stage of a load, sized for what the stage holds; beyond it DuckDB
# spills to disk (the temp directory beside the database). Reading streams the file into the
# table: a small limit keeps it flat on any size. Checking builds hash tables over every row
# of the load (reasons, duplicate keys: ~9M entries for the monthly NPPES file), which fail
# rather than spill when squeezed too hard (384 MB did at 9M rows). Peak RSS stays under the
# largest limit plus Python's ~150 MB.
MEMORY_LIMITS = {"read": "384MB", "check": "2GB"}


@contextmanager
def memory_for(con: duckdb.DuckDBPyConnection, stage: str) -> Iterator[None]:
    """DuckDB's memory limit for one stage of a load (``MEMORY_LIMITS``), restored after."""
    old = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    con.execute(f"SET memory_limit = '{MEMORY_LIMITS[stage]}'")
    try:
        yield
    finally:
        # In a failed transaction DuckDB takes no statement: the load's settings are restored
        # after the rollback (load._load_settings).
        with suppress(duckdb.Error):
            con.execute(f"SET memory_limit = '{old}'")


class Reporter:
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
