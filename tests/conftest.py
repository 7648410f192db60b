"""Shared fixtures: the demo world, its sites on loopback, and a database built by the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO_SEED = 7
DEMO_PHYSICIANS = 3000
LOOPBACK = [
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "AUTOTHROTTLE_ENABLED=False",
    "-s",
    "CONCURRENT_REQUESTS_PER_DOMAIN=16",
]


def run_cli(*args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Run the real ``credcheck`` entry point in a child process."""
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"credcheck {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


@pytest.fixture(scope="session")
def demo_world(tmp_path_factory) -> Path:
    from pipeline.demo.world import generate_world

    world = tmp_path_factory.mktemp("world")
    generate_world(world, seed=DEMO_SEED, n_physicians=DEMO_PHYSICIANS)
    return world


@pytest.fixture(scope="session")
def demo_sites(demo_world, tmp_path_factory):
    """The demo sites served on 127.0.0.1, and a registry file naming them."""
    import json

    from pipeline.demo.run import write_demo_registry
    from pipeline.demo.server import serve_sites

    site_files = sorted((demo_world / "sites").glob("*.json"))
    sites = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in site_files}
    with serve_sites(site_files) as base_urls:
        registry = tmp_path_factory.mktemp("registry") / "sites.toml"
        write_demo_registry(registry, sites, base_urls)
        yield {"base_urls": base_urls, "registry": registry, "sites": sites}


@pytest.fixture(scope="session")
def demo_db(demo_world, demo_sites, tmp_path_factory) -> Path:
    """A database built the way a user would: load, crawl, match — each a CLI call."""
    db = tmp_path_factory.mktemp("db") / "credcheck.duckdb"
    env = {"CREDCHECK_DB": str(db), "CREDCHECK_SITES": str(demo_sites["registry"])}
    reference = demo_world / "reference"
    for kind, name in (
        ("nppes", "npidata.csv"),
        ("dac", "dac.csv"),
        ("boards", "boards.csv"),
        ("leie", "leie.csv"),
    ):
        run_cli("load", kind, str(reference / name), env=env)
    runs = tmp_path_factory.mktemp("runs")
    run_cli("crawl", *LOOPBACK, "--runs-dir", str(runs), env=env)
    run_cli("match", env=env)
    return db
