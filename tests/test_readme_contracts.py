"""README's promises, one test each: exit codes of a scheduled run, what lookup forgives, what
find filters. Lookups run in-process on the demo database (the CLI's own code path); runs are
real `credcheck run` processes on a copy of the two-run history database."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import time

import duckdb
import pytest

from pipeline.demo.world import SUBSPECIALTIES
from pipeline.lookup import find, lookup, one_deletion_keys_sql, surname_keys
from tests.conftest import LOOPBACK, Run, last_json_line, run_cli, sha256

# ---- lookup ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def published(demo_db):
    con = duckdb.connect(str(demo_db), read_only=True)
    yield con
    con.close()


def unique_physician(con, where: str = "true") -> dict:
    """A published physician nobody else shares first and last name with."""
    row = con.execute(
        f"""SELECT npi, first, middle, last FROM physicians p
            WHERE {where} AND length(last) >= 7 AND regexp_full_match(last, '[A-Z]+')
              AND (SELECT count(*) FROM physicians q WHERE q.last = p.last) = 1
            ORDER BY npi LIMIT 1"""
    ).fetchone()
    assert row, where
    return dict(zip(("npi", "first", "middle", "last"), row))


def top_npi(con, typed: str) -> str | None:
    result = lookup(con, typed, limit=3)
    return result["npi"].iloc[0] if len(result) else None


@pytest.mark.parametrize(
    ("kind", "typo"),
    [
        ("dropped", lambda s: s[:3] + s[4:]),
        ("doubled", lambda s: s[:3] + s[3] + s[3:]),
        ("changed", lambda s: s[:3] + ("X" if s[3] != "X" else "Y") + s[4:]),
        ("swapped", lambda s: s[:2] + s[3] + s[2] + s[4:]),
    ],
)
def test_lookup_finds_a_surname_with_one_typo_of_each_kind(published, kind, typo):
    # Letters 3 and 4 differ, so swapping or doubling them is a typo, not the same name.
    p = unique_physician(published, "substr(last, 3, 1) <> substr(last, 4, 1)")
    typed = f"{p['first'].title()} {typo(p['last'].title())}"
    assert typed.split()[-1].upper() != p["last"], kind
    assert top_npi(published, typed) == p["npi"], typed


def test_surname_keys_agree_with_the_published_keys_on_random_names():
    """A query's surname variants (Python) are those the publish step files (SQL)."""
    import random

    seed = random.randrange(2**32)
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz" * 3 + "éøñü'-"
    names = ["", "a", "abc", "abcd", "x" * 70, "de la cruz", "van  der berg", "o'neil"] + [
        " ".join(
            "".join(rng.choice(letters) for _ in range(rng.randint(1, 14)))
            for _ in range(rng.choice((1, 1, 1, 2, 3)))
        )
        for _ in range(300)
    ]
    con = duckdb.connect()
    con.execute("CREATE TABLE n (person_key VARCHAR, first_key VARCHAR, last_key VARCHAR)")
    con.executemany("INSERT INTO n VALUES (?, 'j', ?)", [[str(i), n] for i, n in enumerate(names)])
    published: dict[str, set[str]] = {}
    for key, person_key in con.execute(
        f"SELECT key, person_key FROM ({one_deletion_keys_sql('n')})"
    ).fetchall():
        published.setdefault(person_key, set()).add(key.removesuffix("|j"))
    for i, name in enumerate(names):
        assert set(surname_keys(name)) == published.get(str(i), set()), (seed, name)


def test_lookup_bob_finds_robert(published):
    p = unique_physician(published, "first = 'ROBERT'")
    assert top_npi(published, f"Dr. Bob {p['last'].title()}") == p["npi"]


def test_lookup_ignores_a_missing_or_extra_middle_name(published):
    with_middle = unique_physician(published, "length(middle) > 1")
    typed = f"{with_middle['first']} {with_middle['last']}"  # the middle name left out
    assert top_npi(published, typed) == with_middle["npi"]
    without = unique_physician(published, "middle IS NULL")
    typed = f"{without['first']} Alexander {without['last']}"  # a middle name added
    assert top_npi(published, typed) == without["npi"]


def test_a_hostile_name_matches_nobody_and_changes_nothing(db_copy):
    con = duckdb.connect(str(db_copy), read_only=True)
    before = con.execute("SELECT count(*) FROM verifications").fetchone()[0]
    con.close()
    out = run_cli(
        "lookup", "'; DROP TABLE verifications; --", "--format", "json", "--db", str(db_copy)
    )
    assert json.loads(out.stdout) == []
    con = duckdb.connect(str(db_copy), read_only=True)
    assert con.execute("SELECT count(*) FROM verifications").fetchone()[0] == before


@pytest.fixture
def db_copy(demo_db, tmp_path):
    path = tmp_path / "copy.duckdb"
    shutil.copy(demo_db, path)
    return path


# ---- find --------------------------------------------------------------------------------------


def active_certificates(con) -> dict[str, set[tuple[str, str]]]:
    """{npi: {(board, certificate)}} of the active certificates tied to each physician."""
    out: dict[str, set[tuple[str, str]]] = {}
    for npi, board, certificate in con.execute(
        "SELECT matched_npi, board, certificate FROM certificates "
        "WHERE status = 'active' AND matched_npi IS NOT NULL"
    ).fetchall():
        out.setdefault(npi, set()).add((board, certificate))
    return out


def test_find_rows_are_matched_physicians_with_an_active_certificate_in_the_state(published):
    rows = find(published, "cardiology", state="MA", limit=10**6)
    assert len(rows) >= 5
    states = dict(published.execute("SELECT npi, states FROM physicians").fetchall())
    active = active_certificates(published)
    for row in rows.itertuples():
        assert row.identity == "matched"
        assert "MA" in states[row.npi], row
        shown_active = [c for c in row.certificates if c.endswith("(active)")]
        assert shown_active, row
        assert {c.removesuffix(" (active)") for c in shown_active} == {
            certificate for _, certificate in active[row.npi]
        }


def test_find_counts_a_subspecialty_for_its_parent(published):
    """A physician whose only active certificates are internal medicine subspecialties (as the
    demo world's catalogue defines them) is found under Internal Medicine."""
    im_subspecialties = {
        s.name
        for s in SUBSPECIALTIES
        if s.parent == "Internal Medicine" and s.board == "American Board of Internal Medicine"
    }
    listed = {npi for (npi,) in published.execute("SELECT npi FROM physicians").fetchall()}
    only_sub = sorted(
        npi
        for npi, certs in active_certificates(published).items()
        if npi in listed
        and {c for _, c in certs} <= im_subspecialties
        and any(b == "American Board of Internal Medicine" for b, _ in certs)
    )
    assert only_sub, "the demo world has internal medicine subspecialists"
    found = set(find(published, "Internal Medicine", limit=10**6)["npi"])
    assert set(only_sub) <= found
    # ... and not for another specialty.
    assert not set(only_sub) & set(find(published, "Pediatrics", limit=10**6)["npi"])


def test_find_institution_keeps_exactly_the_physicians_listed_there(published):
    everywhere = find(published, "Internal Medicine", limit=10**6)
    site_id = "commonwealth-med"
    at_site = find(published, "Internal Medicine", institution=site_id, limit=10**6)
    expected = {r.npi for r in everywhere.itertuples() if site_id in r.sites}
    assert expected and set(at_site["npi"]) == expected
    assert len(at_site) < len(everywhere)


# ---- scheduled runs ----------------------------------------------------------------------------


def broken_registry(history: dict, tmp_path, site_id: str):
    """The history registry with one site's start URL on a port nothing listens on."""
    text = history["registry"].read_text(encoding="utf-8")
    block = re.search(rf"\[sites\.{re.escape(site_id)}\]\n(?:[^\n]+\n)*", text).group(0)
    broken = re.sub(r"http://127\.0\.0\.1:\d+", "http://127.0.0.1:9", block)
    assert broken != block
    path = tmp_path / "sites.toml"
    path.write_text(text.replace(block, broken), encoding="utf-8")
    return path


def published_listings(db, site_id: str) -> set[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "SELECT listing_id FROM verifications WHERE site_id = ?", [site_id]
        ).fetchall()
    finally:
        con.close()
    return {r[0] for r in rows}


def test_a_failed_site_exits_1_partial_and_keeps_its_listings_and_none_goes(
    copy_of_history, history_db, tmp_path
):
    db, runs = copy_of_history["db"], copy_of_history["runs"]
    failing = history_db["planted"]["site_id"]
    before = published_listings(db, failing)
    assert len(before) > 10
    registry = broken_registry(history_db, tmp_path, failing)
    env = {**copy_of_history["env"], "CREDCHECK_SITES": str(registry)}
    proc = run_cli("run", *LOOPBACK, "--runs-dir", str(runs), env=env, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    record = last_json_line(proc.stdout)
    assert (record["status"], record["exit_code"]) == ("partial", 1)
    assert record["sites_failed"] == [failing]
    assert len(record["sites_ok"]) == 2 and failing not in record["sites_ok"]
    assert published_listings(db, failing) == before, "the failed site keeps its listings"
    con = duckdb.connect(str(db), read_only=True)
    gone = con.execute(
        "SELECT count(*) FROM changes WHERE kind = 'listing_gone' AND publish_id = ?",
        [record["publish_id"]],
    ).fetchone()[0]
    con.close()
    assert gone == 0, "a failed crawl never makes listings gone"


def test_an_interrupted_run_exits_130_and_leaves_the_published_file(copy_of_history):
    db, env, runs = copy_of_history["db"], copy_of_history["env"], copy_of_history["runs"]
    before = sha256(db)
    run = Run(env, runs, extra=("-s", "DOWNLOAD_DELAY=0.5"))
    run.wait_for("credcheck run: crawling")
    time.sleep(0.5)
    os.killpg(run.proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
    assert run.finish(timeout=120) == 130, "".join(run.lines)
    record = json.loads(run.lines[-1])
    assert (record["status"], record["exit_code"]) == ("interrupted", 130)
    assert "publish_id" not in record
    assert sha256(db) == before
