"""Analyst notebooks run top to bottom against a real demo database.

The database is the small demo world after two scheduled runs with changes planted between
them (tests/conftest.py ``history_db``), so the changes notebook has something to show.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_the_three_analyst_notebooks_exist():
    assert {p.stem for p in NOTEBOOKS} >= {
        "verification_overview",
        "discrepancies",
        "changes_since_last_run",
    }


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, history_db, monkeypatch):
    monkeypatch.setenv("CREDCHECK_DB", str(history_db["db"]))
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "the notebook draws a chart"
    text = "\n".join(str(o.get("text") or o.get("data", {}).get("text/plain", "")) for o in outputs)
    if path.stem == "changes_since_last_run":
        for kind in ("listing_gone", "newly_excluded", "certificate_status_changed"):
            assert kind in text, f"the planted {kind} event is shown"
    if path.stem == "discrepancies":
        assert "excluded:" in text and "lapsed:" in text
