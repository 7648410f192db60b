"""A tiny smoke run of the crawl benchmark (the real one is `python -m bench.crawl`)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_bench_crawl_prints_its_summary_line_last():
    proc = subprocess.run(
        [sys.executable, "-m", "bench.crawl", "--profiles", "60", "--rounds", "2"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    last = proc.stdout.strip().splitlines()[-1]
    match = re.fullmatch(
        r"crawl: pages=60 items=60 responses=(\d+) pages_per_s=([\d.]+)"
        r" ceiling_pages_per_s=([\d.]+) ratio=([\d.]+) peak_rss_mb=(\d+)",
        last,
    )
    assert match, last
    assert [line.split(":")[0] for line in proc.stdout.splitlines()[:-1]] == ["round 1", "round 2"]
    # robots.txt, the sitemap index, its pages and doctors sitemaps, and 60 profiles
    assert int(match.group(1)) >= 60 + 3
    assert float(match.group(2)) > 0 and 0 < int(match.group(5)) < 500
    assert "warning" not in proc.stderr  # every profile extracted


def test_bench_crawl_breakdown_times_the_real_spider_without_its_parser():
    proc = subprocess.run(
        [sys.executable, "-m", "bench.crawl", "--profiles", "40", "--rounds", "1", "--breakdown"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "round 1", "round 1 breakdown", "breakdown", "crawl"
    ]  # fmt: skip
    figures = dict(re.findall(r"(\w+)=([\d.]+)", lines[-2]))
    assert list(figures) == ["bare", "discovery", "discovery_items", "real"]
    assert all(float(ms) > 0 for ms in figures.values())
    # each parser-less crawl emitted what it should: nothing, then one listing per profile
    assert "warning" not in proc.stderr
