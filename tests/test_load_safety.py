"""Safe loads: a load that fails half-way (cancelled, or its process killed) leaves the previous
reference intact and queryable; re-loading a file is a no-op; every load is recorded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.db.store import open_db
from pipeline.demo.nppes_file import Quirks, write_nppes_file
from pipeline.sources import load_reference

ROOT = Path(__file__).resolve().parents[1]


class Cancelled(Exception):
    pass


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A small 'previous' npidata file and a larger one to fail half-way through."""
    folder = tmp_path_factory.mktemp("nppes")
    small = folder / "npidata_small.csv"
    write_nppes_file(small, 300, seed=1)
    big = folder / "npidata_big.csv"  # ~46 MB: DuckDB reads it in several buffers, in parallel
    stats = write_nppes_file(big, 40_000, seed=2, first_npi=500_000_000, quirks=Quirks.all(0.002))
    return small, big, stats


def reference_state(con) -> tuple:
    return (
        con.execute("SELECT count(*), min(npi), max(npi) FROM ref_nppes").fetchone(),
        con.execute("SELECT load_id, kind, rows_loaded FROM load_runs ORDER BY 1").fetchall(),
        con.execute("SELECT count(*) FROM rejects").fetchone(),
    )


def test_a_load_cancelled_half_way_leaves_the_previous_reference(tmp_path, files):
    small, big, stats = files
    con = open_db(tmp_path / "ref.duckdb")
    load_reference(con, "nppes", small)
    before = reference_state(con)
    messages: list[str] = []

    def progress(message: str) -> None:
        messages.append(message)
        # Cancel once the big file is being read (or, if the read was too quick to be polled,
        # at the next step, after all its rows were inserted): either way half-way.
        if "reading" in message or "checking NPIs" in message:
            raise Cancelled(message)

    with pytest.raises(Cancelled):
        load_reference(con, "nppes", big, progress=progress, progress_every=0.05)
    assert any("reading" in m or "checking NPIs" in m for m in messages)
    assert reference_state(con) == before
    # The connection is usable and the next load works.
    bad = stats.quirks["bad_npi"] + stats.quirks["duplicate"]
    assert load_reference(con, "nppes", big).rows_loaded == 40_000 - bad
    # Loading it again: the file is hashed while it is read, and the read is stopped as soon as
    # the hash says it was loaded already (long before the checks).
    after = reference_state(con)
    messages.clear()
    again = load_reference(con, "nppes", big, progress=messages.append, progress_every=0.05)
    assert again.unchanged and not any("checking NPIs" in m for m in messages), messages
    assert reference_state(con) == after
    assert not con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE '%__loading'"
    ).fetchone()[0]
    con.close()


def test_a_killed_load_process_leaves_the_previous_reference(tmp_path, files):
    small, big, _stats = files
    db = tmp_path / "ref.duckdb"
    con = open_db(db)
    load_reference(con, "nppes", small)
    before = reference_state(con)
    con.close()

    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from pipeline.sources import load_reference\n"
        "from pipeline.db.store import open_db\n"
        "con = open_db(Path(sys.argv[1]))\n"
        "load_reference(con, 'nppes', Path(sys.argv[2]), progress_every=0.05,\n"
        "               progress=lambda m: print(m, flush=True))\n"
        "print('finished', flush=True)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(db), str(big)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    seen = []
    for line in child.stdout:
        seen.append(line)
        if "reading" in line or "checking NPIs" in line:
            os.kill(child.pid, signal.SIGKILL)  # no cleanup, no rollback: the process is gone
            break
    child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL, seen
    assert not any("finished" in line for line in seen)

    con = open_db(db)  # the write-ahead log is replayed: only committed work survives
    assert reference_state(con) == before
    assert con.execute("SELECT count(*) FROM ref_nppes WHERE entity_type = '1'").fetchone()[0] > 0
    con.close()


def test_reloading_is_a_no_op_and_each_load_is_recorded(tmp_path, files):
    small, _, _ = files
    con = open_db(tmp_path / "ref.duckdb")
    started = time.time()
    first = load_reference(con, "nppes", small)
    again = load_reference(con, "nppes", small)
    assert again.unchanged and again.load_id == first.load_id
    assert (again.rows_read, again.rows_loaded) == (first.rows_read, first.rows_loaded)
    run = con.execute(
        "SELECT kind, path, sha256, rows_read, rows_loaded, rows_rejected, started_at, "
        "finished_at FROM load_runs"
    ).fetchall()
    assert len(run) == 1
    kind, path, sha, read, loaded, rejected, began, ended = run[0]
    assert (kind, path, read, loaded, rejected) == ("nppes", str(small.resolve()), 300, 300, 0)
    assert len(sha) == 64 and began <= ended
    assert began.timestamp() >= started - 3600 * 24  # a sane UTC timestamp
    con.close()


def test_progress_reports_the_steps_of_a_load(tmp_path, files):
    _, big, _ = files
    con = open_db(tmp_path / "ref.duckdb")
    messages: list[str] = []
    result = load_reference(con, "nppes", big, progress=messages.append, progress_every=0.05)
    assert messages[0].startswith("nppes: checking npidata_big.csv (")
    assert any(m.startswith("nppes: checking NPIs and duplicates") for m in messages)
    assert messages[-1].startswith(
        f"nppes: done: read 40,000 rows, loaded {result.rows_loaded:,}, "
        f"rejected {result.rows_rejected:,}"
    )
    # Line numbers come from the order DuckDB's parallel reader inserts rows in: every reject
    # names the physical line that holds its NPI.
    lines = big.read_text(encoding="iso-8859-1").splitlines()
    rejects = con.execute("SELECT line_number, raw_row FROM rejects").fetchall()
    assert len(rejects) == result.rows_rejected > 50
    for line_number, raw in rejects:
        assert lines[line_number - 1].startswith(f'"{raw.split(",")[0]}"'), (line_number, raw)
    con.close()


@pytest.mark.skipif(sys.platform != "linux", reason="signals")
def test_cli_load_prints_progress_to_stderr(tmp_path, files):
    small, _, _ = files
    env = dict(os.environ, CREDCHECK_DB=str(tmp_path / "credcheck.duckdb"))
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "load", "nppes", str(small)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "nppes: done: read 300 rows" in done.stderr
    assert "read 300 rows, loaded 300" in done.stdout
