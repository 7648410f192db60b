"""The workspace of a job: where the work database and lock live, the lock, and connections.

A published file ``data/credcheck.duckdb`` has two private companions beside it:

- ``credcheck.work.duckdb`` — the work database (raw, staged, history); only jobs open it;
- ``credcheck.duckdb.lock`` — an ``fcntl.flock`` lock held by the one job that may write.

Readers (lookups, notebooks, SQL) open only the published file, read-only; a job replaces it
with ``os.replace``, so readers never block a job and never see half of one.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipeline.app.exits import JobLocked


def work_db_path(published: Path) -> Path:
    """The private work database beside a published file, unless ``$CREDCHECK_WORK_DB`` names one.

    >>> work_db_path(Path("data/credcheck.duckdb"))
    PosixPath('data/credcheck.work.duckdb')
    """
    env_value = os.environ.get("CREDCHECK_WORK_DB")
    if env_value:
        return Path(env_value)
    if published.suffix:
        return published.with_name(f"{published.stem}.work{published.suffix}")
    return published.with_name(published.name + ".work")


def open_work_db(published: Path) -> duckdb.DuckDBPyConnection:
    """The private work database of a published file, for writing (hold the job lock).

    A database from before the work/published split (raw tables in the published file, no work
    database yet) becomes the work database's start.
    """
    from pipeline.db.store import open_db

    work = work_db_path(published)
    if not work.exists() and published.exists():
        try:
            old = duckdb.connect(str(published), read_only=True)
            tables = {
                t for (t,) in old.execute("SELECT table_name FROM duckdb_tables()").fetchall()
            }
            old.close()
        except duckdb.Error:
            tables = set()
        if "raw_listings" in tables and "lookup_keys" not in tables:
            shutil.copyfile(published, work)
    return open_db(work)


def lock_path(published: Path) -> Path:
    return published.with_name(published.name + ".lock")


@contextmanager
def job_lock(published: Path, command: str) -> Iterator[None]:
    """Hold the job lock of ``published`` or raise :class:`JobLocked` at once (never wait).

    The kernel drops an ``flock`` when its process dies, even by ``kill -9``: a crashed job never
    leaves a stale lock behind. The file keeps the holder's pid and command for the message.
    """
    path = lock_path(published)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown"
            raise JobLocked(
                f"another credcheck job is running on {published} ({holder}); "
                f"this one exits without doing anything (lock: {path})"
            ) from None
        os.ftruncate(fd, 0)
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        os.pwrite(fd, f"pid {os.getpid()} `credcheck {command}` since {stamp}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


class Workspace:
    """One job's hold on a published file: its lock, and work connections that always close.

        with Workspace(published, "run") as ws, ws.work() as con:
            ...

    Entering takes the lock (or raises :class:`JobLocked` at once); leaving releases it, and
    each ``work()`` connection is closed when its block ends, whatever happens inside.
    """

    def __init__(self, published: Path, command: str) -> None:
        self.published = Path(published)
        self.command = command
        self._stack = ExitStack()

    def __enter__(self) -> Workspace:
        self._stack.enter_context(job_lock(self.published, self.command))
        return self

    def __exit__(self, *exc_info) -> None:
        self._stack.close()

    @property
    def work_path(self) -> Path:
        return work_db_path(self.published)

    def has_data(self) -> bool:
        """Whether anything was stored before (a published file or a work database)."""
        return self.published.exists() or self.work_path.exists()

    def start_afresh(self) -> None:
        """Forget the work database (the demo starts a new world from nothing)."""
        self.work_path.unlink(missing_ok=True)
        Path(str(self.work_path) + ".wal").unlink(missing_ok=True)

    @contextmanager
    def work(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The work database, open for the block; closed even when the block fails."""
        con = open_work_db(self.published)
        try:
            yield con
        finally:
            con.close()
