"""Scheduled jobs: where the work database and lock live, the lock itself, and the run log.

A published file ``data/credcheck.duckdb`` has two private companions beside it:

- ``credcheck.work.duckdb`` — the work database (raw, staged, history); only jobs open it;
- ``credcheck.duckdb.lock`` — an ``fcntl.flock`` lock held by the one job that may write.

Readers (lookups, notebooks, SQL) open only the published file, read-only; a job replaces it
with ``os.replace``, so readers never block a job and never see half of one.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipeline.config import CredcheckError

# Exit codes of every command (documented in README "Scheduled runs").
EXIT_OK = 0  # done; the published file is the new state
EXIT_FAILED = 1  # done, but some work failed (e.g. one site's crawl); the rest was published
EXIT_USAGE = 2  # usage or input error; nothing was changed
EXIT_LOCKED = 3  # another credcheck job holds the lock; nothing was done
EXIT_INTERRUPTED = 130  # interrupted (Ctrl-C / SIGINT); the last published state stands


class JobLocked(CredcheckError):
    """Another job holds the lock of this database."""

    exit_code = EXIT_LOCKED


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


def log(message: str, *, error: bool = False) -> None:
    """One readable, timestamped log line (stderr for errors, stdout otherwise)."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(f"{stamp} {message}", file=sys.stderr if error else sys.stdout, flush=True)


def emit_run_record(record: dict, runs_dir: Path | None) -> None:
    """The machine-readable summary of a run: one JSON line on stdout, appended to runs.jsonl."""
    line = json.dumps(record, default=str, sort_keys=True)
    print(line, flush=True)
    if runs_dir is not None:
        try:
            runs_dir.mkdir(parents=True, exist_ok=True)
            with (runs_dir / "runs.jsonl").open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
        except OSError as exc:  # a full disk must not hide the exit code
            print(f"credcheck: warning: cannot append to runs.jsonl: {exc}", file=sys.stderr)
