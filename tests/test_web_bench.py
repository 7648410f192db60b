"""A tiny smoke run of the web benchmark (the real runs are in docs/benchmarks.md)."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import REPO_ROOT


def test_bench_web_prints_its_contract_line(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "bench.web", "--physicians", "1500", "--queries", "12",
         "--warmup", "3",
         "--db", str(tmp_path / "bench.duckdb")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    last = done.stdout.strip().splitlines()[-1]
    match = re.fullmatch(
        r"web: physicians=1500 search_p95_ms=(\S+) page_p95_ms=(\S+) queries=12 found=(\d+)"
        r" lookup_p95_ms=(\S+) page_data_p95_ms=(\S+) search_ratio=(\S+) page_ratio=(\S+)"
        r" find_p95_ms=(\S+) find_data_p95_ms=(\S+) find_ratio=(\S+)"
        r" discrepancies_first_ms=(\S+)",
        last,
    )
    assert match, last
    search, page, found, lookup, data, search_ratio, page_ratio = map(float, match.groups()[:7])
    find, find_data, find_ratio, discrepancies = map(float, match.groups()[7:])
    assert found >= 10, "the search page lists the person typed"
    assert min(search, page, lookup, data, find, find_data, discrepancies) > 0
    assert abs(search_ratio - search / lookup) <= 0.02 + 0.03 * search_ratio
    assert abs(page_ratio - page / data) <= 0.02 + 0.03 * page_ratio
    assert abs(find_ratio - find / find_data) <= 0.02 + 0.03 * find_ratio
