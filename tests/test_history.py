"""History across runs: two real `credcheck run`s over a world that changed in between."""

from __future__ import annotations

import duckdb
import pytest

from tests.conftest import last_json_line, run_cli


@pytest.fixture(scope="module")
def con(history_db):
    connection = duckdb.connect(str(history_db["db"]), read_only=True)
    yield connection
    connection.close()


def events(con, kind: str) -> dict[str, tuple]:
    rows = con.execute(
        "SELECT listing_id, npi, old_value, new_value, detail FROM changes WHERE kind = ? "
        "AND publish_id = (SELECT max(publish_id) FROM publish_runs)",
        [kind],
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


def world_listings(world) -> int:
    """Listings the generator put on the world's sites (distinct ids per site)."""
    import json

    return sum(
        len({x["id"] for x in json.loads(p.read_text(encoding="utf-8"))["listings"]})
        for p in (world / "sites").glob("*.json")
    )


def test_each_run_ends_with_one_json_line(history_db, con):
    first, second = (
        last_json_line(history_db["first"].stdout),
        last_json_line(history_db["second"].stdout),
    )
    for record in (first, second):
        assert record["event"] == "credcheck.run"
        assert record["exit_code"] == 0 and record["status"] == "ok"
        assert record["publish_id"].startswith("publish-")
        assert not record["sites_failed"]
    planted = history_db["planted"]
    assert second["listings"] == world_listings(history_db["world"])
    assert first["listings"] == second["listings"] - 1 + len(planted["gone"])
    assert first["changes"] == first["listings"], "the first run sees every listing as new"
    recorded = con.execute(
        "SELECT count(*) FROM changes WHERE publish_id = ?", [second["publish_id"]]
    ).fetchone()[0]
    # At least the planted events: one new, the gone, a specialty, an affiliation, a lapsed
    # certificate (status and certification) and an exclusion.
    assert second["changes"] == recorded >= 1 + len(planted["gone"]) + 5
    lines = (history_db["runs"] / "runs.jsonl").read_text().splitlines()
    assert len(lines) == 2
    assert "credcheck run: publishing" in history_db["second"].stdout


def test_new_and_gone_listings(con, history_db):
    planted = history_db["planted"]
    assert set(events(con, "new_listing")) == {planted["added"]}
    gone = events(con, "listing_gone")
    assert set(gone) == set(planted["gone"])
    assert all(npi for npi, *_ in gone.values()), "a gone listing keeps the NPI it had"
    rows = dict(
        con.execute(
            "SELECT listing_id, gone_at IS NOT NULL FROM listing_history WHERE site_id = ?",
            [planted["site_id"]],
        ).fetchall()
    )
    assert {lid for lid, is_gone in rows.items() if is_gone} == set(planted["gone"])
    listed = {r[0] for r in con.execute("SELECT listing_id FROM verifications").fetchall()}
    assert planted["added"] in listed and not listed & set(planted["gone"])


def test_specialty_affiliation_certification_and_exclusion_changes(con, history_db):
    planted = history_db["planted"]
    specialty = events(con, "specialty_changed")
    assert set(specialty) == {planted["respecialized"]}
    assert specialty[planted["respecialized"]][2] == planted["new_specialty"]
    affiliation = events(con, "affiliation_changed")
    assert set(affiliation) == {planted["reaffiliated"]}
    assert "Northbridge Medical Center" in affiliation[planted["reaffiliated"]][2]

    status = events(con, "certificate_status_changed")
    assert {npi for npi, *_ in status.values()} == {planted["lapsed_npi"]}
    assert {(old, new) for _, old, new, _ in status.values()} == {("active", "lapsed")}
    certification = events(con, "certification_changed")
    lapsed = [v for v in certification.values() if v[0] == planted["lapsed_npi"]]
    assert lapsed and all(v[1:3] == ("certified", "lapsed") for v in lapsed)

    excluded = events(con, "newly_excluded")
    assert {npi for npi, *_ in excluded.values()} == {planted["excluded_npi"]}
    assert not events(con, "exclusion_lifted")


def test_first_seen_last_seen_and_as_of_queries(con, history_db):
    planted = history_db["planted"]
    runs = con.execute(
        "SELECT publish_id, started_at, published_at FROM publish_runs ORDER BY started_at"
    ).fetchall()
    assert len(runs) == 2 and all(published for _, _, published in runs)
    first_run, second_run = runs[0][1], runs[1][1]
    seen = con.execute(
        """SELECT count(*) FILTER (first_seen < ?), count(*) FILTER (last_seen > ?), count(*)
           FROM listings""",
        [first_run, first_run],
    ).fetchone()
    assert seen[0] == seen[2] - 1, "every listing but the added one was first seen in run 1"
    assert seen[1] == seen[2], "every current listing was seen again in run 2"

    # The documented "as of" query: the listing's specialties between the runs, and now.
    as_of = """SELECT specialties FROM listing_versions WHERE listing_id = ?
               AND valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)"""
    between = first_run + (second_run - first_run) / 2
    before = con.execute(as_of, [planted["respecialized"], between, between]).fetchone()[0]
    now = con.execute(as_of, [planted["respecialized"], second_run, second_run]).fetchone()[0]
    assert now == [planted["new_specialty"]] and before != now
    listed_then = con.execute(
        """SELECT count(*) FROM listing_versions
           WHERE valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)""",
        [between, between],
    ).fetchone()[0]
    assert listed_then == seen[2] - 1 + len(planted["gone"])


def test_physicians_gather_listings_certificates_and_exclusions(con, history_db):
    planted = history_db["planted"]
    assert con.execute("SELECT count(*) = count(DISTINCT npi) FROM physicians").fetchone()[0]
    matched = con.execute(
        "SELECT count(DISTINCT npi) FROM verifications WHERE identity = 'matched'"
    ).fetchone()[0]
    assert con.execute("SELECT count(*) FROM physicians").fetchone()[0] == matched
    row = con.execute(
        """SELECT excluded, len(exclusions), len(listings), listings[1].first_seen IS NOT NULL
           FROM physicians WHERE npi = ?""",
        [planted["excluded_npi"]],
    ).fetchone()
    listed = con.execute(
        "SELECT count(*) FROM verifications WHERE npi = ? AND identity = 'matched'",
        [planted["excluded_npi"]],
    ).fetchone()[0]
    assert listed >= 1
    assert row == (True, 1, listed, True)
    lapsed = con.execute(
        "SELECT certification, active_certificates FROM physicians WHERE npi = ?",
        [planted["lapsed_npi"]],
    ).fetchone()
    assert lapsed == ("lapsed", [])
    with_education = con.execute(
        "SELECT count(*) FILTER (len(education) > 0) / count(*) FROM physicians"
    ).fetchone()[0]
    assert with_education > 0.5


def test_a_rerun_without_changes_records_none(history_db, tmp_path):
    """`credcheck match` on the same inputs publishes again and finds nothing new."""
    import shutil

    db = tmp_path / "credcheck.duckdb"
    shutil.copy(history_db["db"], db)
    shutil.copy(history_db["work"], tmp_path / "credcheck.work.duckdb")
    out = run_cli("match", "--db", str(db)).stdout
    assert "0 changes since the previous run" in out
