"""Exit codes of every command, the one map from exceptions to them, and the run log.

Codes (README "Scheduled runs"): 0 done; 1 some work failed (e.g. one site's crawl; the rest
was published) or the job failed unexpectedly; 2 a usage or input error, nothing changed; 3
another credcheck job holds the lock, nothing done; 130 interrupted, the last published state
stands.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from pipeline.config import CredcheckError

EXIT_OK = 0  # done; the published file is the new state
EXIT_FAILED = 1  # done, but some work failed (e.g. one site's crawl); the rest was published
EXIT_USAGE = 2  # usage or input error; nothing was changed (CredcheckError.exit_code)
EXIT_LOCKED = 3  # another credcheck job holds the lock; nothing was done
EXIT_INTERRUPTED = 130  # interrupted (Ctrl-C / SIGINT); the last published state stands


class JobLocked(CredcheckError):
    """Another job holds the lock of this database."""

    exit_code = EXIT_LOCKED


def exit_code_for(exc: BaseException) -> int:
    """The exit code of a command that stopped with ``exc``.

    >>> exit_code_for(JobLocked("busy")), exit_code_for(CredcheckError("no file"))
    (3, 2)
    >>> exit_code_for(KeyboardInterrupt()), exit_code_for(ValueError())
    (130, 1)
    """
    if isinstance(exc, CredcheckError):
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, BrokenPipeError):  # the reader of our output went away (| head)
        return EXIT_OK
    return EXIT_FAILED


def error_message(exc: BaseException) -> str | None:
    """The one line a command prints on stderr when it stops with ``exc`` (None: print nothing)."""
    if isinstance(exc, CredcheckError):
        return f"credcheck: error: {exc}"
    if isinstance(exc, KeyboardInterrupt):
        return "credcheck: interrupted; the last published state stands"
    if isinstance(exc, BrokenPipeError):
        return None
    return f"credcheck: error: {type(exc).__name__}: {exc}"


# The run record's status for each exit code (a failure that still published is "partial").
STATUS = {
    EXIT_OK: "ok",
    EXIT_FAILED: "failed",
    EXIT_USAGE: "error",
    EXIT_LOCKED: "locked",
    EXIT_INTERRUPTED: "interrupted",
}


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
