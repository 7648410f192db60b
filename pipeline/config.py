"""Where things live: the repository's data folder and the database path rules."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / "data"
# Public files as published (headers, samples, FEBRL): what real inputs look like.
REFERENCE_DIR = DATA_DIR / "reference"
DEFAULT_DB = DATA_DIR / "credcheck.duckdb"
DEFAULT_RUNS_DIR = DATA_DIR / "runs"


class CredcheckError(Exception):
    """An error a user can act on; the CLI prints it as one line and exits non-zero."""

    exit_code = 2  # usage or input error (pipeline.app.exits.EXIT_USAGE)


def resolve_db_path(cli_value: str | os.PathLike | None = None) -> Path:
    """The database file: ``--db`` wins, then ``CREDCHECK_DB``, then ``data/credcheck.duckdb``.

    >>> resolve_db_path("/tmp/x.duckdb")
    PosixPath('/tmp/x.duckdb')
    """
    if cli_value:
        return Path(cli_value)
    env_value = os.environ.get("CREDCHECK_DB")
    return Path(env_value) if env_value else DEFAULT_DB
