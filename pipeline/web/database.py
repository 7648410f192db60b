"""The published file as a long-running reader sees it: a new connection after each swap.

A run publishes by renaming a fresh file over the published one (``os.replace``). A connection
keeps reading the file it opened — the old one, unlinked but whole — so a server that opened the
file once would serve the first state forever. Each request therefore looks at the path (inode,
size, mtime: one ``stat``) and, when a new file is there, attaches it read-only as a new snapshot;
requests already running finish on the snapshot they started with, which is closed once the last
of them is done. A request reads one snapshot from start to end: never half a run.

Each snapshot is its own in-memory DuckDB instance with the file ATTACHed read-only:
``duckdb.connect(path)`` hands back the cached instance of a path while one is open, which would
be the old file again.
"""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from pipeline.config import CredcheckError

ALIAS = "published"
MEMORY_LIMIT = "2GB"


def _spill_directory() -> Path:
    return Path(tempfile.gettempdir()) / f"credcheck-serve-{os.getpid()}"


log = logging.getLogger("credcheck.web")


class DatabaseUnavailable(CredcheckError):
    """No published file at the path (yet), or it cannot be read."""


class Snapshot:
    """One published file, open read-only, with the answers computed once for it."""

    _numbers = itertools.count(1)

    def __init__(self, path: Path, identity: tuple[int, ...]):
        self.identity = identity
        self.number = next(self._numbers)
        self.users = 0
        self.retired = False
        self._cache: dict[str, Any] = {}
        self._cache_lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        # A bounded buffer pool: the server shares the machine (it spills past the limit).
        self._con = duckdb.connect(
            ":memory:",
            config={"memory_limit": MEMORY_LIMIT, "temp_directory": str(_spill_directory())},
        )
        try:
            quoted = str(path).replace("'", "''")
            self._con.execute(f"ATTACH '{quoted}' AS {ALIAS} (READ_ONLY)")
        except duckdb.Error as exc:
            self._con.close()
            raise DatabaseUnavailable(f"cannot open {path} read-only: {exc}") from exc

    def cursor(self) -> duckdb.DuckDBPyConnection:
        cursor = self._con.cursor()
        cursor.execute(f"USE {ALIAS}")
        return cursor

    def cached(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per snapshot (lists of states, the run's status, …).

        One lock per key: a slow answer (discrepancies at scale) delays only the requests
        that need it.
        """
        with self._cache_lock:
            if key in self._cache:
                return self._cache[key]
            lock = self._key_locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._cache:
                self._cache[key] = compute()
            return self._cache[key]

    def close(self) -> None:
        self._con.close()


class PublishedDatabase:
    """Hands each request a cursor on the current published file."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._current: Snapshot | None = None

    def _identity(self) -> tuple[int, ...]:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise DatabaseUnavailable(
                f"no published database at {self.path}: run `credcheck demo` or "
                "`credcheck run` first"
            ) from None
        return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)

    def _acquire(self) -> Snapshot:
        identity = self._identity()
        with self._lock:
            current = self._current
            if current is None or current.identity != identity:
                # A file swapped in after the stat is seen by the next request.
                try:
                    fresh = Snapshot(self.path, identity)
                except DatabaseUnavailable as exc:
                    if current is None:
                        raise
                    # Not a file a run published (those open): keep the last good one.
                    log.warning("%s; still serving the previous file", exc)
                    current.users += 1
                    return current
                if current is not None:
                    current.retired = True
                    if current.users == 0:
                        current.close()
                self._current = current = fresh
            current.users += 1
            return current

    def _release(self, snapshot: Snapshot) -> None:
        with self._lock:
            snapshot.users -= 1
            if snapshot.retired and snapshot.users == 0:
                snapshot.close()

    @contextmanager
    def reading(self) -> Iterator[tuple[Snapshot, duckdb.DuckDBPyConnection]]:
        """The current snapshot and a cursor on it, for one request."""
        snapshot = self._acquire()
        try:
            cursor = snapshot.cursor()
            try:
                yield snapshot, cursor
            finally:
                cursor.close()
        finally:
            self._release(snapshot)

    def close(self) -> None:
        with self._lock:
            if self._current is not None:
                self._current.retired = True
                if self._current.users == 0:
                    self._current.close()
                self._current = None
        shutil.rmtree(_spill_directory(), ignore_errors=True)
