"""The repository stands on its own: a fresh clone, with nothing beside it, collects every test.

Collection imports every test module, and with it every data file a module reads at import; a
file that lives only outside the repository (a sibling folder, a machine path) fails here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.config import REPO_ROOT

# Prints where `pipeline` was imported from, then collects the suite; run inside the clone.
COLLECT = (
    "import sys, pytest, pipeline; print('pipeline from', pipeline.__file__); "
    "sys.exit(pytest.main(['--collect-only', '-q', '-p', 'no:cacheprovider']))"
)


def test_a_fresh_clone_collects_every_test_module(tmp_path: Path) -> None:
    if not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout: nothing to clone")
    empty = tmp_path / "empty"
    empty.mkdir()
    clone = empty / "credcheck"
    subprocess.run(
        ["git", "clone", "--quiet", "--no-hardlinks", str(REPO_ROOT), str(clone)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert sorted(p.name for p in empty.iterdir()) == ["credcheck"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CREDCHECK_", "PYTHONPATH"))}
    proc = subprocess.run(
        [sys.executable, "-c", COLLECT],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    # The clone's code was collected, not the checkout this test runs from.
    assert f"pipeline from {clone / 'pipeline' / '__init__.py'}" in output
    collected_files = {line.split("::", 1)[0] for line in proc.stdout.splitlines() if "::" in line}
    test_files = {f"tests/{p.name}" for p in (clone / "tests").glob("test_*.py")}
    assert {f for f in collected_files if f.startswith("tests/")} == test_files
    # The packages' docstring examples are collected too (--doctest-modules).
    assert "pipeline/match/decide.py" in collected_files
