"""Integers as spreadsheets and dataframes write them: the same repair as the loaders' SQL
(``pipeline.sources.csvsql.number_sql``), for the files read in Python."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_FLOAT = re.compile(r"[0-9]+\.0*")
_SCIENTIFIC = re.compile(r"[0-9]\.([0-9]+)[eE]\+?([0-9]+)")


def spreadsheet_integer(text: str) -> tuple[str, str | None]:
    """(the integer as text, the repair made or None).

    >>> spreadsheet_integer("1234567893.0"), spreadsheet_integer("6.175550134E+09")
    (('1234567893', 'integer_written_as_float'), ('6175550134', 'scientific_notation'))
    >>> spreadsheet_integer("6.17555E+09"), spreadsheet_integer("Smith")
    (('6.17555E+09', None), ('Smith', None))
    """
    if "." not in text:
        return text, None
    if _FLOAT.fullmatch(text):
        return text.split(".", 1)[0], "integer_written_as_float"
    found = _SCIENTIFIC.fullmatch(text)
    if found and len(found.group(1)) >= int(found.group(2)):  # no digit lost
        try:
            return str(round(Decimal(text))), "scientific_notation"
        except InvalidOperation:
            return text, None
    return text, None
