"""Reference files in: one loader module per public file family, shared CSV-repair helpers.

- ``load``: ``load_reference(con, kind, path)`` — one file, one transaction, recorded in
  ``load_runs``; the kinds are those the family modules declare;
- ``nppes``, ``dac``, ``leie``, ``boards``: each family's columns (with header variants), repairs,
  rejects and its ``KINDS``;
- ``csvsql``: the DuckDB CSV pass and the SQL that repairs and rejects rows;
- ``base``: ``Kind``, ``Source`` (the file being read) and progress reporting.
"""

from pipeline.sources.load import KINDS, LoadResult, load_reference

__all__ = ["KINDS", "LoadResult", "load_reference"]
