"""Verify with whatever references a user has: each subset of the reference files, end to end
on the demo world (load what the combination has -> the crawled listings -> match -> publish),
scored against the world's truth as far as that subset can tell (``score_identities``'s
``sources``); and NPPES deactivated NPIs, loaded and flagged.

The listings come from the demo database the CLI built (tests/conftest.py ``demo_db``): its
work database, with every reference file removed, is the crawl each combination starts from.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from pipeline.match.evaluate import score_identities
from pipeline.match.explain import explain
from pipeline.publish import publish
from pipeline.resolve import run_match
from pipeline.sources import load_reference
from pipeline.web import queries
from pipeline.web.app import person_href

FILES = {"nppes": "npidata.csv", "dac": "dac.csv", "boards": "boards.csv", "leie": "leie.csv"}
REFERENCE_TABLES = (
    "ref_nppes", "ref_nppes_other_names", "ref_nppes_locations", "ref_dac",
    "ref_dac_affiliations", "ref_boards", "ref_leie", "load_runs", "rejects", "load_repairs",
)  # fmt: skip
NO_BOARDS = "no board-certification records loaded"


@pytest.fixture(scope="module")
def crawled_only(demo_db, tmp_path_factory) -> Path:
    """A work database holding the demo crawl and no reference records."""
    path = tmp_path_factory.mktemp("crawled") / "credcheck.work.duckdb"
    shutil.copy(demo_db.with_name("credcheck.work.duckdb"), path)
    with duckdb.connect(str(path)) as con:
        for table in REFERENCE_TABLES:
            con.execute(f"DELETE FROM {table}")
    return path


def run_combination(crawled_only: Path, out: Path, files: dict[str, Path]) -> Path:
    """Load ``files`` ({kind: path}) into a copy of the crawl, match and publish."""
    work = out / "credcheck.work.duckdb"
    shutil.copy(crawled_only, work)
    with duckdb.connect(str(work)) as con:
        for kind, path in files.items():
            load_reference(con, kind, path)
        run_match(con)
        publish(con, out / "credcheck.duckdb", command="match")
    return out / "credcheck.duckdb"


@pytest.mark.parametrize(
    ("sources", "min_f1", "min_agreement"),
    [
        # Boards alone: about 3% of listed physicians go by another surname than their board
        # record (married names), which nothing in a board file bridges: they stay unmatched.
        (("boards",), 0.98, 0.97),
        (("nppes",), 0.99, 0.999),
        (("dac",), 0.97, 0.999),
    ],
)
def test_each_reference_alone_verifies(sources, min_f1, min_agreement, crawled_only, demo_world,
                                       tmp_path):  # fmt: skip
    reference = demo_world / "reference"
    db = run_combination(crawled_only, tmp_path, {k: reference / FILES[k] for k in sources})
    with duckdb.connect(str(db), read_only=True) as con:
        score = score_identities(con, demo_world / "truth.csv", sources=list(sources))
        print(sources, score)
        assert score.crawled == score.truth_listings
        assert score.precision >= 0.99 and score.f1 >= min_f1, score
        assert score.certification_agreement >= min_agreement, score
        evidence = con.execute(
            "SELECT DISTINCT evidence FROM verifications WHERE identity = 'matched'"
        ).fetchall()
        assert evidence == [(list(sources),)]
        reasons = con.execute(
            """SELECT certification, certification_reason, count(*) FROM physicians
               GROUP BY ALL ORDER BY ALL"""
        ).fetchall()
        if "boards" in sources:
            assert {c for c, _, _ in reasons} >= {"certified", "lapsed", "not_certified"}
            assert all(NO_BOARDS not in (r or "") for _, r, _ in reasons)
            # A person the boards know without an NPI has a page (by person_id) with their
            # certificates, and their listings link to it.
            person_id, listing_id = con.execute(
                """SELECT person_id, listing_id FROM listing_matches
                   WHERE identity = 'matched' AND npi IS NULL ORDER BY ALL LIMIT 1"""
            ).fetchone()
            assert person_href(person_id) == f"/physician/{person_id}"
            page = queries.physician_page(con, person_id)
            assert page["person"]["npi"] is None and page["certificates"]
            assert listing_id in [entry["listing_id"] for entry in page["listings"]]
            listing = queries.listing_page(con, listing_id)
            assert listing["certificates"] == page["certificates"]
        else:
            # Without board records certification cannot be checked: unknown, and it says why.
            assert {c for c, _, _ in reasons} == {"unknown"}
            assert any(NO_BOARDS in (r or "") for _, r, _ in reasons)
            listing_id = con.execute(
                "SELECT listing_id FROM verifications WHERE identity = 'matched' LIMIT 1"
            ).fetchone()[0]
            assert NO_BOARDS in explain(con, listing_id)


def test_the_exclusion_list_alone_flags_only_excluded_people(crawled_only, demo_world, tmp_path):
    db = run_combination(crawled_only, tmp_path, {"leie": demo_world / "reference/leie.csv"})
    manifest = json.loads((demo_world / "manifest.json").read_text())
    excluded_listed = {
        d["npi"] for d in manifest["leie_world_physicians"] if d["listed"] and not d["reinstated"]
    }
    with duckdb.connect(str(db), read_only=True) as con:
        score = score_identities(con, demo_world / "truth.csv", sources=["leie"])
        print(("leie",), score)
        assert score.predicted_matches > 0 and score.precision == 1.0, score
        flagged = con.execute(
            """SELECT v.listing_id FROM verifications v WHERE v.excluded"""
        ).fetchall()
        assert 0 < len(flagged) <= score.correct_matches
        assert con.execute(
            "SELECT count(*) FROM verifications WHERE identity = 'matched' AND evidence <> ['leie']"
        ).fetchone()[0] == 0
    truth = list(csv.DictReader((demo_world / "truth.csv").open(encoding="utf-8")))
    assert {t["npi"] for t in truth} & excluded_listed, "the world lists excluded physicians"


def _deactivate(npidata: Path, out: Path, npis: set[str]) -> None:
    """A copy of an npidata file where ``npis`` are deactivated: only NPI and date remain."""
    with npidata.open(encoding="iso-8859-1", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    npi, date = header.index("NPI"), header.index("NPI Deactivation Date")
    for i, row in enumerate(rows):
        if row[npi] in npis:
            rows[i] = [""] * len(header)
            rows[i][npi], rows[i][date] = row[npi], "05/23/2024"
    with out.open("w", encoding="iso-8859-1", newline="") as fh:
        csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows([header, *rows])


def test_deactivated_npis_are_loaded_and_a_listing_showing_one_is_flagged(
    crawled_only, demo_world, tmp_path
):
    sites = [json.loads(p.read_text()) for p in sorted((demo_world / "sites").glob("*.json"))]
    shown = sorted({x["npi"] for s in sites for x in s["listings"] if x["npi"]})
    deactivated = set(shown[:3])
    npidata = tmp_path / "npidata.csv"
    _deactivate(demo_world / "reference/npidata.csv", npidata, deactivated)
    with duckdb.connect(str(tmp_path / "load.duckdb")) as con:
        result = load_reference(con, "nppes", npidata)
        assert result.rows_rejected == 0
        kept = con.execute(
            "SELECT npi, entity_type, last_name, deactivation_date FROM ref_nppes "
            "WHERE deactivation_date IS NOT NULL ORDER BY npi"
        ).fetchall()
    assert [k[0] for k in kept] == sorted(deactivated)
    assert all(k[1] is None and k[2] is None for k in kept)

    reference = demo_world / "reference"
    db = run_combination(
        crawled_only, tmp_path,
        {"nppes": npidata, "dac": reference / "dac.csv", "boards": reference / "boards.csv"},
    )  # fmt: skip
    with duckdb.connect(str(db), read_only=True) as con:
        flagged = con.execute(
            """SELECT l.npi, v.identity, v.npi FROM verifications v
               JOIN listings l USING (listing_id) WHERE v.npi_deactivated ORDER BY ALL"""
        ).fetchall()
        assert {shown_npi for shown_npi, _, _ in flagged} == deactivated
        # Still known to Doctors & Clinicians or the boards (by NPI or by name): matched, flagged.
        assert all(npi in deactivated | {None} for _, identity, npi in flagged if identity == "matched")
        people = con.execute(
            "SELECT count(*) FROM physicians WHERE npi_deactivated"
        ).fetchone()[0]
        assert people >= 1
