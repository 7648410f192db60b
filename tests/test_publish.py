"""Publishing: a documented schema, atomic swaps, kill -9, readers and overlapping runs.

Real `credcheck run` processes against the small two-run demo world (tests/conftest.py
``history_db``), killed with SIGKILL at several points; a real reader process holding the
published file open; a real second run started while the first holds the lock.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from tests.conftest import LOOPBACK, REPO_ROOT, Run, last_json_line, run_cli, sha256

EXIT_LOCKED = 3


def published_state(db: Path) -> tuple[str, int]:
    """(latest publish id, listings) as a new reader sees them."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            """SELECT (SELECT max(publish_id) FROM publish_runs WHERE published_at IS NOT NULL),
                      (SELECT count(*) FROM verifications)"""
        ).fetchone()
    finally:
        con.close()


def test_every_published_object_and_column_is_documented(demo_db):
    from pipeline.db.docs import undocumented

    con = duckdb.connect(str(demo_db), read_only=True)
    assert undocumented(con) == [], "add the comments in pipeline/db/schema.py"
    names = {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    assert {"verifications", "physicians", "crawl_runs", "load_runs", "changes"} <= names


def test_docs_schema_md_is_generated_from_the_database(demo_db):
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline.db.docs", "--db", str(demo_db), "--check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    text = (REPO_ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    assert "## physicians" in text and "## changes" in text


def assert_an_overlapping_run_exits_at_once(first: Run, env: dict, runs: Path) -> None:
    """While ``first`` holds the lock, a second run (and any writer) exits at once with code 3."""
    started = time.monotonic()
    second = run_cli("run", *LOOPBACK, "--runs-dir", str(runs), env=env, check=False)
    assert second.returncode == EXIT_LOCKED, second.stdout + second.stderr
    assert time.monotonic() - started < 20
    assert "another credcheck job is running" in second.stderr
    assert f"pid {first.proc.pid}" in second.stderr
    record = last_json_line(second.stdout)
    assert record["status"] == "locked" and record["exit_code"] == EXIT_LOCKED
    assert run_cli("match", env=env, check=False).returncode == EXIT_LOCKED


def test_kill_9_at_any_point_leaves_the_last_published_state(copy_of_history):
    """Also: a second run overlapping the first exits at once with its own exit code."""
    db, env, runs = copy_of_history["db"], copy_of_history["env"], copy_of_history["runs"]
    before_hash, before = sha256(db), published_state(db)

    # A run slowed down by a polite delay surely still holds the lock when a second one starts.
    slow = Run(env, runs, extra=("-s", "DOWNLOAD_DELAY=0.5"))
    slow.wait_for("credcheck run: crawling")
    assert_an_overlapping_run_exits_at_once(slow, env, runs)
    slow.kill()
    assert sha256(db) == before_hash, "killed while crawling: the published file changed"

    # Killed while crawling, while ingesting, while matching, and while writing the new file.
    # Each kill lands right after the step's log line: later, a fast machine may already be done.
    for marker in ("crawled ", "credcheck run: ingesting", "credcheck run: matching"):
        run = Run(env, runs)
        run.wait_for(marker)
        run.kill()
        assert sha256(db) == before_hash, f"killed after {marker!r}: the published file changed"
    run = Run(env, runs)
    run.wait_for("credcheck run: publishing")
    deadline = time.monotonic() + 60
    while not list(db.parent.glob(f".{db.name}.publishing-*")) and time.monotonic() < deadline:
        time.sleep(0.005)
    run.kill()
    assert list(db.parent.glob(f".{db.name}.publishing-*")), "killed while writing the new file"
    assert sha256(db) == before_hash, "a kill during publishing leaves the old file"
    assert published_state(db) == before

    # The next run succeeds, cleans up, and publishes a new state of the same world.
    finished = Run(env, runs)
    assert finished.finish() == 0, "".join(finished.lines)
    after = published_state(db)
    assert after[0] > before[0] and after[1] == before[1]
    assert not list(db.parent.glob(f".{db.name}.publishing-*"))
    record = json.loads(finished.lines[-1])
    assert record["status"] == "ok" and record["publish_id"] == after[0]


READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
query = "SELECT max(publish_id), count(*) FROM publish_runs"
print("before", *con.execute(query).fetchone(), flush=True)
sys.stdin.readline()          # hold the file open until the test says so
print("after", *con.execute(query).fetchone(), flush=True)
"""


def test_a_reader_holding_the_file_does_not_disturb_a_run(copy_of_history):
    db, env, runs = copy_of_history["db"], copy_of_history["env"], copy_of_history["runs"]
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first_line = reader.stdout.readline().split()
        assert first_line[0] == "before"
        run = run_cli("run", *LOOPBACK, "--runs-dir", str(runs), env=env, check=False)
        assert run.returncode == 0, run.stdout + run.stderr
        out, _ = reader.communicate("go\n", timeout=60)
    finally:
        reader.kill() if reader.poll() is None else None
    assert reader.returncode == 0
    # The reader kept its snapshot; a new reader sees the new run.
    assert out.split() == ["after", *first_line[1:]]
    assert published_state(db)[0] == last_json_line(run.stdout)["publish_id"] > first_line[1]
