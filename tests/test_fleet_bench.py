"""A tiny smoke run of the fleet benchmark (the real one is `python -m bench.fleet`)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_bench_fleet_prints_its_summary_line_last():
    proc = subprocess.run(
        [sys.executable, "-m", "bench.fleet", "--sites", "3", "--profiles", "2", "--delay", "0.1",
         "--faults"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    *_, sites, manners, last = proc.stdout.strip().splitlines()
    assert sites == "sites: ok=3 failed=0 listings expected=6 found=6 lost=0 duplicated=0"
    assert manners.startswith("politeness: delay=0.1 closest_gap_s=")
    match = re.fullmatch(
        r"fleet: sites=3 pages=(\d+) seconds=([\d.]+) floor_seconds=([\d.]+) ratio=([\d.]+)"
        r" peak_rss_mb=(\d+)",
        last,
    )
    assert match, last
    pages, seconds, floor, ratio, rss = match.groups()
    assert int(pages) >= 3 * (2 + 2)  # robots.txt and a listing or sitemap, and the profiles
    assert 0 < float(floor) <= float(seconds) and float(ratio) <= 1
    assert 30 < int(rss) < 1000
