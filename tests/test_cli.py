"""The credcheck command line, run as a user runs it (child processes, a real DuckDB file)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import socket

import duckdb
import pytest

from tests.conftest import run_cli


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def db_copy(demo_db, tmp_path):
    """A private copy of the demo database that a test may try to damage."""
    path = tmp_path / "copy.duckdb"
    shutil.copy(demo_db, path)
    return path


@pytest.fixture(scope="module")
def a_certified_physician(demo_db):
    """A matched, certified listing whose person is the only one with that name."""
    con = duckdb.connect(str(demo_db), read_only=True)
    row = con.execute(
        """SELECT v.npi, p.first, p.last, p.practice_state, v.claimed_specialties[1]
           FROM verifications v JOIN reference_people p USING (npi)
           WHERE v.certification = 'certified' AND length(p.last) >= 6
             AND (SELECT count(*) FROM reference_people q
                  WHERE q.last = p.last AND q.first = p.first) = 1
           ORDER BY v.listing_id LIMIT 1"""
    ).fetchone()
    con.close()
    return dict(zip(["npi", "first", "last", "state", "specialty"], row))


def test_help_explains_every_command():
    top = run_cli("--help").stdout
    for command in ("demo", "crawl", "load", "match", "run", "lookup", "find", "sites"):
        assert command in top
        sub = run_cli(command, "--help").stdout
        assert "--db" in sub
    assert "NAME=VALUE" in run_cli("crawl", "--help").stdout
    assert (
        "{boards,nppes,nppes-weekly,nppes-othername,nppes-pl,dac,dac-affiliations,leie,"
        "leie-supplement}" in run_cli("load", "--help").stdout
    )


def test_lookup_forgives_titles_degrees_case_and_typos(demo_db, a_certified_physician):
    p = a_certified_physician
    last = p["last"].title()
    typo = last[:2] + last[3] + last[2] + last[4:]  # two letters swapped
    for typed in (
        f"Dr. {p['first'].title()} {last}, MD",
        f"{p['first'].lower()} {typo}",
        f"{last.upper()}, {p['first']}",
    ):
        out = run_cli("lookup", typed, "--format", "json", "--db", str(demo_db)).stdout
        results = json.loads(out)
        assert results and results[0]["npi"] == p["npi"], typed


def test_lookup_filters_and_output_formats(demo_db, a_certified_physician):
    p = a_certified_physician
    name = f"{p['first']} {p['last']}"
    same_state = json.loads(
        run_cli(
            "lookup", name, "--state", p["state"], "--format", "json", "--db", str(demo_db)
        ).stdout
    )
    assert same_state[0]["npi"] == p["npi"]
    other = "AK" if p["state"] != "AK" else "HI"
    elsewhere = json.loads(
        run_cli("lookup", name, "--state", other, "--format", "json", "--db", str(demo_db)).stdout
    )
    assert p["npi"] not in [r["npi"] for r in elsewhere]
    rows = list(
        csv.DictReader(
            io.StringIO(run_cli("lookup", name, "--format", "csv", "--db", str(demo_db)).stdout)
        )
    )
    assert rows[0]["npi"] == p["npi"] and rows[0]["certification"] == "certified"
    table = run_cli("lookup", name, "--db", str(demo_db)).stdout
    assert p["npi"] in table and "certification" in table


def test_hostile_names_are_just_names(db_copy):
    out = run_cli("lookup", "'; DROP TABLE verifications; --", "--db", str(db_copy))
    assert out.returncode == 0
    con = duckdb.connect(str(db_copy), read_only=True)
    assert con.execute("SELECT count(*) FROM verifications").fetchone()[0] > 0


def test_find_lists_only_verified_certifications_in_the_specialty(demo_db):
    results = json.loads(
        run_cli(
            "find", "--specialty", "cardiology", "--format", "json", "--db", str(demo_db)
        ).stdout
    )
    assert len(results) >= 5
    for row in results:
        assert row["identity"] == "matched"
        assert any(
            "Cardiovascular Disease (active)" in c or "Cardiology" in c or "Cardiac" in c
            for c in row["certificates"]
        ), row
    state = results[0]["state"]
    in_state = json.loads(
        run_cli(
            "find",
            "--specialty",
            "Cardiology",
            "--state",
            state,
            "--format",
            "json",
            "--db",
            str(demo_db),
        ).stdout
    )
    assert in_state and len(in_state) <= len(results)
    obgyn = json.loads(
        run_cli("find", "--specialty", "OB/GYN", "--format", "json", "--db", str(demo_db)).stdout
    )
    assert obgyn and all("Obstetrics and Gynecology" in " ".join(r["certificates"]) for r in obgyn)


def test_find_rejects_an_unknown_specialty_with_a_hint(demo_db):
    proc = run_cli("find", "--specialty", "xyzzy", "--db", str(demo_db), check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("credcheck: error: unknown specialty 'xyzzy'")


def test_missing_reference_file_is_one_clear_error_and_changes_nothing(db_copy, tmp_path):
    before = sha256(db_copy)
    proc = run_cli("load", "nppes", str(tmp_path / "nope.csv"), "--db", str(db_copy), check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "no such file" in proc.stderr
    assert sha256(db_copy) == before


def test_unreachable_url_is_one_clear_error_and_changes_nothing(db_copy, tmp_path):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    before = sha256(db_copy)
    proc = run_cli(
        "crawl",
        "--url",
        f"http://127.0.0.1:{port}/find-a-doctor",
        "-s",
        "RETRY_TIMES=0",
        "--runs-dir",
        str(tmp_path),
        "--db",
        str(db_copy),
        check=False,
    )
    assert proc.returncode == 2
    assert "could not fetch" in proc.stderr
    assert sha256(db_copy) == before


def test_lookup_without_a_database_says_what_to_do(tmp_path):
    proc = run_cli("lookup", "Smith", "--db", str(tmp_path / "none.duckdb"), check=False)
    assert proc.returncode == 2
    assert "credcheck demo" in proc.stderr


def test_zero_config_crawl_of_a_start_url(demo_sites, tmp_path):
    db = tmp_path / "zero.duckdb"
    base = demo_sites["base_urls"]
    site_id = next(
        s for s, site in demo_sites["sites"].items() if site["shape"] == "html_directory"
    )
    url = f"{base[site_id]}/find-a-doctor"
    out = run_cli(
        "crawl",
        "--url",
        url,
        "-s",
        "DOWNLOAD_DELAY=0",
        "-s",
        "AUTOTHROTTLE_ENABLED=False",
        "--runs-dir",
        str(tmp_path),
        "--db",
        str(db),
    )
    assert "listings from" in out.stdout
    # A crawl stores into the private work database; only `match` or `run` publish.
    assert not db.exists()
    con = duckdb.connect(str(tmp_path / "zero.work.duckdb"), read_only=True)
    count = con.execute("SELECT count(*) FROM raw_listings WHERE extractor <> 'card'").fetchone()[0]
    assert count == len(demo_sites["sites"][site_id]["listings"])
    # The two dead profile links of the results pages: their cards are the listings.
    cards = con.execute("SELECT item->>'$.extras.card' FROM raw_listings WHERE extractor = 'card'")
    assert [row[0] for row in cards.fetchall()] == ["profile link led to a gone page"] * 2


def test_demo_runs_the_whole_path_on_another_seed(tmp_path):
    from pipeline.match.evaluate import ASSERTION_SEEDS

    db = tmp_path / "demo.duckdb"
    out = run_cli(
        "demo",
        "--physicians",
        "1500",
        "--seed",
        str(ASSERTION_SEEDS[1]),
        "--db",
        str(db),
        "--world",
        str(tmp_path / "world"),
    ).stdout
    for heading in (
        "listings per site",
        "certification",
        "against the demo ground truth",
        "credcheck lookup",
    ):
        assert f"== {heading}" in out
    score_line = next(line for line in out.splitlines() if line.startswith("identity precision="))
    fields = dict(part.split("=") for part in score_line.split()[:4] if "=" in part)
    # The second seed of the end-to-end check (tests/test_end_to_end.py runs seed 7); both are
    # assertion seeds, never used to fit the calibration (pipeline.match.evaluate).
    assert float(fields["f1"]) >= 0.99, score_line
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM verifications").fetchone()[0] > 100
    assert not list(tmp_path.glob(".demo.duckdb.publishing-*"))
    assert (tmp_path / "demo.work.duckdb").exists()


def test_lookup_benchmark_smoke_run(tmp_path):
    """A tiny run of `python -m bench.lookup` (the real one synthesizes 1,000,000 physicians)."""
    import re
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT

    proc = subprocess.run(
        [sys.executable, "-m", "bench.lookup", "--physicians", "3000", "--queries", "20"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    last = proc.stdout.strip().splitlines()[-1]
    summary = re.fullmatch(
        r"lookup: physicians=3000 queries=20 top10=(\d+) p50_ms=[\d.]+ p95_ms=[\d.]+"
        r" exact_p50_ms=[\d.]+",
        last,
    )
    assert summary, last
    found = re.search(r"top 10 for (\d+)/20", proc.stdout)
    assert found and int(found.group(1)) >= 18, proc.stdout
    assert summary.group(1) == found.group(1)
