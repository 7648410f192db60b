"""Locate and read the vocabulary files in ``data/vocab``.

This module is the only place that knows where the vocabularies live. Every reader is cached,
so a vocabulary file is parsed once per process however many strings are normalized.
"""

from __future__ import annotations

import csv
import os
from functools import cache
from pathlib import Path

__all__ = ["read_rows", "vocab_dir", "vocab_path"]

# The repository's data/vocab folder: pipeline/normalize/vocab.py -> parents[2] is the repo root.
_DEFAULT_DIR = Path(__file__).resolve().parents[2] / "data" / "vocab"


def vocab_dir() -> Path:
    """The folder holding the vocabularies (``$CREDCHECK_VOCAB_DIR`` overrides it).

    >>> vocab_dir().name
    'vocab'
    """
    override = os.environ.get("CREDCHECK_VOCAB_DIR")
    return Path(override) if override else _DEFAULT_DIR


def vocab_path(name: str) -> Path:
    """Path of one vocabulary file; raises FileNotFoundError naming the folder searched.

    >>> vocab_path("degrees.csv").name
    'degrees.csv'
    """
    path = vocab_dir() / name
    if not path.is_file():
        raise FileNotFoundError(f"vocabulary file {name!r} not found in {path.parent}")
    return path


@cache
def read_rows(name: str) -> tuple[dict[str, str], ...]:
    """All rows of a UTF-8 CSV vocabulary as dicts (empty cells are ``""``, never None).

    >>> read_rows("degrees.csv")[0]["code"]
    'MD'
    """
    with vocab_path(name).open(newline="", encoding="utf-8-sig") as handle:
        return tuple(
            {key: (value or "").strip() for key, value in row.items() if key is not None}
            for row in csv.DictReader(handle)
        )
