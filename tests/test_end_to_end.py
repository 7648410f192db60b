"""The whole path on the demo world: load -> crawl -> match, scored against the ground truth."""

from __future__ import annotations

import duckdb

from pipeline.match.evaluate import score_identities


def test_identity_precision_and_recall_against_ground_truth(demo_db, demo_world):
    con = duckdb.connect(str(demo_db), read_only=True)
    score = score_identities(con, demo_world / "truth.csv")
    print(score)
    assert score.crawled == score.truth_listings, "every listed profile is crawled once"
    assert score.precision >= 0.95
    assert score.recall >= 0.95
    assert score.certification_agreement >= 0.90


def test_verifications_view_follows_the_contract(demo_db):
    con = duckdb.connect(str(demo_db), read_only=True)
    columns = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'verifications' ORDER BY ordinal_position"
        ).fetchall()
    )
    assert list(columns) == [
        "listing_id",
        "site_id",
        "source_url",
        "listed_name",
        "claimed_specialties",
        "npi",
        "identity",
        "match_score",
        "certification",
        "certificates",
        "excluded",
        "crawled_at",
        "evidence",
        "npi_deactivated",
    ]
    assert columns["evidence"] == "VARCHAR[]"
    assert columns["npi_deactivated"] == "BOOLEAN"
    assert columns["claimed_specialties"] == "VARCHAR[]"
    assert columns["match_score"] == "DOUBLE"
    assert columns["excluded"] == "BOOLEAN"
    assert columns["crawled_at"] == "TIMESTAMP"
    assert columns["certificates"].startswith("STRUCT(board VARCHAR, certificate VARCHAR")
    values = con.execute(
        """SELECT bool_and(identity IN ('matched', 'ambiguous', 'unmatched')),
                  bool_and(certification IN ('certified', 'certified_other_specialty', 'lapsed',
                                             'not_certified', 'unknown')),
                  bool_and(match_score BETWEEN 0 AND 1),
                  bool_and(identity = 'matched' OR npi IS NULL),
                  bool_and((len(evidence) > 0) = (identity = 'matched')),
                  bool_and(list_has_all(['nppes', 'dac', 'boards', 'leie'], evidence)),
                  count(*) FILTER (identity = 'matched' AND npi IS NULL) = 0,
                  bool_and(certification = 'unknown' OR identity = 'matched'),
                  count(DISTINCT listing_id) = count(*),
                  count(*) FILTER (excluded) > 0
           FROM verifications"""
    ).fetchone()
    assert all(values), values


def test_each_site_run_is_recorded_with_provenance(demo_db, demo_sites):
    con = duckdb.connect(str(demo_db), read_only=True)
    runs = con.execute(
        "SELECT site_id, status, items, pages FROM crawl_runs ORDER BY site_id"
    ).fetchall()
    assert [r[0] for r in runs] == sorted(demo_sites["sites"])
    assert all(status == "ok" and items > 0 and pages >= items for _, status, items, pages in runs)
    missing = con.execute(
        """SELECT count(*) FROM raw_listings
           WHERE source_url IS NULL OR fetched_at IS NULL OR content_hash IS NULL
              OR extractor IS NULL"""
    ).fetchone()[0]
    assert missing == 0
    per_site = dict(con.execute("SELECT site_id, count(*) FROM raw_listings GROUP BY 1").fetchall())
    for site_id, site in demo_sites["sites"].items():
        assert per_site[site_id] == len(site["listings"])


def test_listings_of_one_person_on_two_sites_resolve_to_the_same_npi(demo_db, demo_world):
    import pandas as pd

    truth = pd.read_csv(demo_world / "truth.csv", dtype=str, keep_default_na=False)
    shared = truth[truth["npi"] != ""].groupby("npi")["site_id"].nunique()
    assert (shared > 1).sum() >= 5, "the demo world lists some physicians on two sites"
    con = duckdb.connect(str(demo_db), read_only=True)
    split = con.execute(
        """SELECT count(*) FROM (
               SELECT npi FROM verifications WHERE identity = 'matched'
               GROUP BY npi HAVING count(DISTINCT site_id) > 1)"""
    ).fetchone()[0]
    assert split >= 0.9 * (shared > 1).sum()


def test_identity_f1_is_at_least_099(demo_db, demo_world):
    con = duckdb.connect(str(demo_db), read_only=True)
    score = score_identities(con, demo_world / "truth.csv")
    assert score.f1 >= 0.99, str(score)
    assert score.precision >= 0.99 and score.recall >= 0.99, str(score)


def test_explain_shows_why_a_listing_matched_and_the_runner_up(demo_db):
    from tests.conftest import run_cli

    con = duckdb.connect(str(demo_db), read_only=True)
    listing_id = con.execute(
        """SELECT listing_id FROM listing_matches
           WHERE identity = 'matched' AND runner_up_npi IS NOT NULL
           ORDER BY listing_id LIMIT 1"""
    ).fetchone()[0]
    out = run_cli("explain", listing_id, "--db", str(demo_db)).stdout
    assert f"listing {listing_id}" in out
    assert "decision: matched" in out and "runner-up: NPI" in out
    for comparison in ("surname", "first_name", "location", "specialty", "education", "npi"):
        assert comparison in out
    assert "what would change the decision:" in out
    # The stored weights add up to the match weight (SQL, as the explain module documents).
    total, stored = con.execute(
        """SELECT sum(CAST(c.value->>'weight' AS DOUBLE))
                    + CAST(any_value(comparisons->>'prior') AS DOUBLE),
                  CAST(any_value(comparisons->>'match_weight') AS DOUBLE)
           FROM listing_matches, json_each(comparisons->'comparisons') c
           WHERE listing_id = ?""",
        [listing_id],
    ).fetchone()
    assert abs(total - stored) < 0.05
    missing = run_cli("explain", "no-such:listing", "--db", str(demo_db), check=False)
    assert missing.returncode == 2 and "no listing" in missing.stderr


def test_match_scores_are_calibrated_on_the_demo(demo_db, demo_world):
    """Listings scored p are right about p of the time (Brier score of the best candidates)."""
    from urllib.parse import urlsplit

    import pandas as pd

    con = duckdb.connect(str(demo_db), read_only=True)
    scored = con.execute(
        """SELECT l.site_id, l.source_url, m.candidate_npi, m.match_score
           FROM listing_matches m JOIN listings l USING (listing_id)
           WHERE m.candidate_npi IS NOT NULL"""
    ).df()
    scored["path"] = [urlsplit(u).path for u in scored["source_url"]]
    truth = pd.read_csv(demo_world / "truth.csv", dtype=str, keep_default_na=False)
    joined = scored.merge(truth, on=["site_id", "path"])
    right = (joined["candidate_npi"] == joined["npi"]).astype(float)
    assert ((joined["match_score"] - right) ** 2).mean() < 0.01
    confident = joined["match_score"] >= 0.9
    assert right[confident].mean() >= 0.99
