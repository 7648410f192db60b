"""A tiny smoke run of the load benchmark (the real runs are documented in the README)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_load_prints_its_contract_line(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "bench.load", "--rows", "300", "--dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    match = re.fullmatch(
        r"load: rows=300 loaded=(\d+) rejected=(\d+) seconds=(\S+) ceiling_seconds=(\S+)"
        r" ratio=(\S+) peak_rss_mb=(\d+)",
        last,
    )
    assert match, last
    loaded, rejected, seconds, ceiling, ratio, rss = (float(x) for x in match.groups())
    # Every row written is loaded or rejected, and at this size the file has few quirks.
    assert loaded + rejected == 300 and loaded >= 295
    assert seconds > 0 and ceiling > 0 and abs(ratio - ceiling / seconds) < 0.02
    assert 20 < rss < 2000
    assert "nppes: done: read 300 rows" in done.stderr
