"""`credcheck serve` over HTTP: a real server on loopback against the demo database.

The names typed here are made by this test — its own nickname pairs and typos, a seed drawn at
run time and printed on failure — not taken from the tables the lookup code reads.
"""

from __future__ import annotations

import csv
import io
import os
import random
import re
import shutil
import urllib.parse

import duckdb
import pytest

from tests.web_support import REPO_ROOT, get, served

# Formal first name -> what people call them (the test's own list, not the project's table).
NICKNAMES = {
    "robert": "Bob", "william": "Bill", "james": "Jim", "john": "Jack", "michael": "Mike",
    "david": "Dave", "joseph": "Joe", "thomas": "Tom", "christopher": "Chris", "richard": "Rick",
    "daniel": "Dan", "matthew": "Matt", "anthony": "Tony", "steven": "Steve", "edward": "Ed",
    "andrew": "Andy", "elizabeth": "Liz", "katherine": "Kate", "jennifer": "Jen",
    "margaret": "Peggy", "patricia": "Patty", "susan": "Sue", "rebecca": "Becky",
    "deborah": "Debbie", "benjamin": "Ben", "samuel": "Sam", "nicholas": "Nick",
    "timothy": "Tim", "gregory": "Greg", "kenneth": "Ken", "ronald": "Ron", "alexander": "Alex",
}  # fmt: skip
CARDIOLOGY_CERTIFICATES = {
    "Cardiovascular Disease", "Cardiology", "Interventional Cardiology", "Clinical Cardiac Electrophysiology",
    "Advanced Heart Failure and Transplant Cardiology", "Adult Congenital Heart Disease",
}  # fmt: skip


def typo(word: str, rng: random.Random) -> str:
    """One slip inside a word: a letter dropped, doubled, changed, or two swapped."""
    i = rng.randrange(1, len(word) - 2)
    kind = rng.choice(("drop", "double", "change", "swap"))
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    other = rng.choice([c for c in "aeioulnrst" if c != word[i].lower()])
    return word[:i] + other + word[i + 1 :]


def api(base: str, path: str, **params):
    answer = get(f"{base}{path}?{urllib.parse.urlencode(params)}")
    assert answer.status == 200, (path, params, answer.status, answer.text[:500])
    return answer.json()


@pytest.fixture(scope="module")
def site(demo_db, tmp_path_factory):
    with served(demo_db, tmp_path_factory.mktemp("web")) as base:
        yield base


@pytest.fixture(scope="module")
def db(demo_db):
    con = duckdb.connect(str(demo_db), read_only=True)
    yield con
    con.close()


def nickname_people(db, rng: random.Random, count: int) -> list[tuple[str, str, str, str]]:
    """(npi, formal first, last, site) of physicians a nickname of ours fits, surname >= 5."""
    rows = db.execute(
        """SELECT npi, first, last, sites[1] FROM physicians
           WHERE lower(first) IN (SELECT unnest(?)) AND length(last) >= 5
             AND NOT contains(last, ' ') AND NOT contains(last, '-')
           ORDER BY npi""",
        [list(NICKNAMES)],
    ).fetchall()
    assert len(rows) >= count, "the demo world has too few people our nicknames fit"
    return rng.sample(rows, count)


def test_search_forgives_nicknames_typos_titles_and_order(site, db):
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    misses = []
    for npi, first, last, _ in nickname_people(db, rng, 8):
        nick, slipped = NICKNAMES[first.lower()], typo(last.title(), rng)
        for typed in (
            f"Dr. {nick} {slipped}, MD",
            f"{slipped.upper()}, {nick}",
            f"{first.lower()} {slipped.lower()}",
        ):
            found = api(site, "/api/search", q=typed)["results"]
            if npi not in [r["npi"] for r in found]:
                misses.append((typed, npi, [r["name"] for r in found][:5]))
    assert not misses, f"seed {seed}: not found: {misses}"


def test_search_filters_by_state_specialty_and_institution(site, db):
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    npi, first, last, listed_by = nickname_people(db, rng, 1)[0]
    states, specialties = db.execute(
        "SELECT states, specialties FROM physicians WHERE npi = ?", [npi]
    ).fetchone()
    typed = f"{NICKNAMES[first.lower()]} {last}"
    # Right state, specialty and site: still found; every result really is in that state.
    found = api(site, "/api/search", q=typed, state=states[0], institution=listed_by)["results"]
    assert npi in [r["npi"] for r in found], f"seed {seed}"
    for row in found:
        assert states[0] in row["states"], (seed, row)
    if specialties:
        found = api(site, "/api/search", q=typed, specialty=specialties[0])["results"]
        assert npi in [r["npi"] for r in found], f"seed {seed}"
    # A state and a site that do not list the person: filtered out.
    other_state = next(
        s
        for (s,) in db.execute("SELECT DISTINCT practice_state FROM physicians").fetchall()
        if s and s not in states
    )
    assert npi not in [
        r["npi"] for r in api(site, "/api/search", q=typed, state=other_state)["results"]
    ]
    sites = db.execute("SELECT sites FROM physicians WHERE npi = ?", [npi]).fetchone()[0]
    affiliations = db.execute(
        "SELECT affiliations FROM physicians WHERE npi = ?", [npi]
    ).fetchone()[0]
    elsewhere = "Zebulon Quixote Infirmary"
    assert not any(elsewhere.lower() in x.lower() for x in [*sites, *(affiliations or [])])
    assert npi not in [
        r["npi"] for r in api(site, "/api/search", q=typed, institution=elsewhere)["results"]
    ]
    # Unknown filters are a clear 400, not an empty page.
    bad = get(f"{site}/api/search?q={urllib.parse.quote(typed)}&state=ZZ")
    assert bad.status == 400 and "unknown state" in bad.json()["error"]
    page = get(f"{site}/?q={urllib.parse.quote(typed)}&specialty=basket+weaving")
    assert page.status == 400 and "unknown specialty" in page.text


def test_physician_evidence_with_sources(site, db, demo_world):
    npi = db.execute(
        "SELECT npi FROM physicians WHERE len(listings) >= 2 AND len(certificates) >= 1 "
        "ORDER BY npi LIMIT 1"
    ).fetchone()[0]
    page = api(site, f"/api/physician/{npi}")
    expected_urls = {
        url for (url,) in db.execute(
            "SELECT l.source_url FROM listings l JOIN listing_matches m USING (listing_id) WHERE m.npi = ?",
            [npi],
        ).fetchall()
    }  # fmt: skip
    assert {entry["source_url"] for entry in page["listings"]} == expected_urls
    for entry in page["listings"]:
        assert entry["identity"] == "matched" and entry["match_score"] > 0.5
        assert entry["explanation"]["summary"][0].startswith("decision: matched")
        assert entry["explanation"]["comparisons"], "the explain view's comparisons"
        assert entry["raw"]["provenance"], "where each field came from"
        assert entry["raw"]["fetched_at"]
        assert all(c["verdict"] or c["meaning"] for c in entry["claims"])
    certificates = db.execute(
        "SELECT certificate, status FROM certificates WHERE matched_npi = ? ORDER BY ALL", [npi]
    ).fetchall()
    assert sorted((c["certificate"], c["status"]) for c in page["certificates"]) == certificates
    # Each certificate names its line in the boards file, and carries that line's dates and MOC.
    lines = (demo_world / "reference" / "boards.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    for cert in page["certificates"]:
        row = dict(zip(header, next(csv.reader([lines[cert["line_number"] - 1]]))))
        assert (row["npi"], row["certificate"], row["moc"]) == (
            npi,
            cert["certificate"],
            cert["moc"],
        )
        assert cert["initial_certification_date"].startswith(row["initial_certification_date"])
    assert page["sources"]["boards"]["file"] == "boards.csv"
    html = get(f"{site}/physician/{npi}").text
    for url in expected_urls:
        assert f'href="{url}"' in html
    assert get(f"{site}/physician/0000000000").status == 404
    assert get(f"{site}/api/physician/12345").status == 404


def test_unresolved_listing_page_explains_why(site, db):
    listing_id = db.execute(
        "SELECT listing_id FROM listing_matches WHERE identity = 'unmatched' AND comparisons "
        "IS NOT NULL ORDER BY listing_id LIMIT 1"
    ).fetchone()[0]
    found = api(site, "/api/listing", id=listing_id)
    assert found["listing"]["identity"] == "unmatched"
    assert found["listing"]["explanation"]["would_change"]
    html = get(f"{site}/listing?{urllib.parse.urlencode({'id': listing_id})}").text
    assert "Not matched to an NPI" in html and "What would change the decision" in html


def test_find_matches_active_certificates_and_exports_csv(site, db):
    found = api(site, "/api/find", specialty="cardiology", state="MA", limit=100000)["results"]
    assert found
    for row in found:
        states, certificates = db.execute(
            "SELECT states, certificates FROM physicians WHERE npi = ?", [row["npi"]]
        ).fetchone()
        assert "MA" in states
        assert any(
            c["status"] == "active" and c["certificate"] in CARDIOLOGY_CERTIFICATES
            for c in certificates
        ), row
    # Every actively certified cardiologist in MA is there (the records, read independently).
    expected = {
        npi for (npi,) in db.execute(
            """SELECT DISTINCT p.npi FROM physicians p, unnest(p.certificates) AS u(c)
               WHERE c.status = 'active' AND c.certificate IN (SELECT unnest(?))
                 AND list_contains(p.states, 'MA')""",
            [sorted(CARDIOLOGY_CERTIFICATES)],
        ).fetchall()
    }  # fmt: skip
    assert {r["npi"] for r in found} == expected
    answer = get(f"{site}/find.csv?specialty=cardiology&state=MA")
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert {r["npi"] for r in rows} == expected
    assert set(rows[0]) >= {"name", "npi", "state", "certification", "certificates"}
    assert get(f"{site}/api/find?specialty=cardiology&limit=3").json()["results"].__len__() == 3


def test_discrepancies_and_changes(site, db):
    found = api(site, "/api/discrepancies", limit=100000)
    expected_excluded = {
        lid for (lid,) in db.execute(
            "SELECT listing_id FROM verifications WHERE identity = 'matched' AND excluded"
        ).fetchall()
    }  # fmt: skip
    got = {r["listing_id"] for r in found["rows"] if r["kind"] == "excluded"}
    assert got == expected_excluded and got
    lapsed = {r["listing_id"] for r in found["rows"] if r["kind"] == "lapsed"}
    assert lapsed == {
        lid for (lid,) in db.execute(
            "SELECT listing_id FROM verifications WHERE identity = 'matched' "
            "AND certification = 'lapsed'"
        ).fetchall()
    }  # fmt: skip
    only = api(site, "/api/discrepancies", kind="lapsed", limit=5)
    assert len(only["rows"]) == 5 and {r["kind"] for r in only["rows"]} == {"lapsed"}
    assert only["page"]["next"] == 5
    assert get(f"{site}/api/discrepancies?kind=nonsense").status == 400

    changes = api(site, "/api/changes", limit=100000)
    latest = db.execute(
        "SELECT publish_id FROM publish_runs ORDER BY published_at DESC LIMIT 1"
    ).fetchone()[0]
    assert changes["run"]["publish_id"] == latest
    assert (
        changes["total"]
        == db.execute("SELECT count(*) FROM changes WHERE publish_id = ?", [latest]).fetchone()[0]
    )
    assert "new_listing" in changes["counts"]
    assert get(f"{site}/changes?kind=new_listing").status == 200


def test_hostile_input_is_text_and_nothing_writes(site, db):
    attack = "<script>alert(1)</script>"
    page = get(f"{site}/?{urllib.parse.urlencode({'q': attack})}")
    assert page.status == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none'
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert page.headers["x-content-type-options"] == "nosniff"
    injection = "'; DROP TABLE physicians; --"
    assert api(site, "/api/search", q=injection)["results"] == []
    assert (
        get(f"{site}/api/status").json()["physicians"]
        == db.execute("SELECT count(*) FROM physicians").fetchone()[0]
    )
    assert get(f"{site}/api/search?q={'a' * 500}").status == 400
    for method in ("POST", "PUT", "DELETE"):
        assert get(f"{site}/api/search?q=x", method=method).status == 405
    assert get(f"{site}/static/../app.py").status == 404
    listing = get(f"{site}/listing?{urllib.parse.urlencode({'id': attack})}")
    assert listing.status == 404 and "<script>" not in listing.text


def test_links_to_crawled_urls_are_http_only():
    from pipeline.web.app import _environment

    macros = _environment().get_template("macros.html").module
    assert 'href="https://a.example/x?b=1&amp;c=2"' in str(
        macros.source_link("https://a.example/x?b=1&c=2", "page")
    )
    hostile = str(macros.source_link("javascript:alert(1)", "page"))
    assert "href" not in hostile and "javascript:alert(1)" in hostile


def test_json_endpoints_in_docs_answer(site):
    text = (REPO_ROOT / "docs" / "web.md").read_text(encoding="utf-8")
    examples = re.findall(r"^GET (/api/\S+)$", text, flags=re.M)
    assert len(examples) >= 7
    for path in examples:
        answer = get(site + path.replace("{npi}", "1234567893"))
        assert answer.status in (200, 404), (path, answer.status)
        assert answer.headers["content-type"] == "application/json", path
        answer.json()


def test_waits_for_a_database_then_serves_it(demo_db, tmp_path):
    path = tmp_path / "published" / "credcheck.duckdb"
    path.parent.mkdir()
    with served(path, tmp_path) as base:
        assert get(base + "/api/status").status == 503
        page = get(base + "/")
        assert page.status == 503 and "no published database" in page.text
        shutil.copy(demo_db, tmp_path / "incoming.duckdb")
        os.replace(tmp_path / "incoming.duckdb", path)
        status = get(base + "/api/status")
        assert status.status == 200 and status.json()["physicians"] > 0


def test_a_claimed_certificate_the_boards_do_not_hold_is_a_discrepancy():
    """The 'certificate not found' rule on a hand-made file: same specialty under another
    name is found, another specialty or an unknown certificate is not; a person known without
    an NPI (board records only) is judged by their own certificates."""
    import json

    from pipeline.discrepancies import build_discrepancies
    from pipeline.web import queries

    con = duckdb.connect()
    con.execute(
        """CREATE TABLE verifications AS SELECT * FROM (VALUES
             ('s:1', 's', 'Ann One', '1000000001', ['Cardiology'], 'certified', false, 0.99,
              'https://s.example/1', 'matched'),
             ('s:2', 's', 'Bo Two', '1000000002', ['Dermatology'], 'certified_other_specialty',
              false, 0.98, 'https://s.example/2', 'matched'),
             ('s:3', 's', 'Cy Three', NULL, ['Surgery'], 'certified', false, 0.97,
              'https://s.example/3', 'matched'))
           AS t(listing_id, site_id, listed_name, npi, claimed_specialties, certification,
                excluded, match_score, source_url, identity)"""
    )
    con.execute(
        """ALTER TABLE verifications ADD COLUMN certificates
           STRUCT(board VARCHAR, certificate VARCHAR, status VARCHAR, expiration TIMESTAMP)[]"""
    )
    con.execute(
        """CREATE TABLE listing_matches AS SELECT * FROM (VALUES
             ('s:1', '1000000001'), ('s:2', '1000000002'), ('s:3', 'boards:0123456789ab'))
           AS t(listing_id, person_id)"""
    )
    con.execute(
        """CREATE TABLE certificates AS SELECT * FROM (VALUES
             ('1000000001', '1000000001', 'Cardiovascular Disease'),
             ('1000000002', '1000000002', 'Internal Medicine'),
             (NULL, 'boards:0123456789ab', 'Surgery')) AS t(matched_npi, person_id, certificate)"""
    )
    con.execute(
        "CREATE TABLE physicians AS SELECT m.person_id, v.certificates, CAST([] AS "
        "STRUCT(exclusion_type VARCHAR, exclusion_date DATE)[]) AS exclusions "
        "FROM verifications v JOIN listing_matches m USING (listing_id)"
    )
    claims = {
        "1": ["Cardiology"],  # the same specialty as the certificate held: found
        "2": ["Dermatology"],  # another specialty: not found
        "3": ["Surgery", "Board of Basket Weaving"],  # one held, one no board knows
    }
    con.execute(
        "CREATE TABLE raw_listings (site_id VARCHAR, ref VARCHAR, source_url VARCHAR, item JSON)"
    )
    for ref, names in claims.items():
        item = {"board_certifications": [{"board": None, "certificate": n} for n in names]}
        con.execute(
            "INSERT INTO raw_listings VALUES ('s', ?, ?, ?)",
            [ref, f"https://s.example/{ref}", json.dumps(item)],
        )
    build_discrepancies(con)
    found = queries.discrepancies(con, kind="certificate_not_found")
    assert {r["listing_id"]: r["certificates_not_found"] for r in found["rows"]} == {
        "s:2": ["Dermatology"],
        "s:3": ["Board of Basket Weaving"],
    }
    other = queries.discrepancies(con, kind="certified_other_specialty")["rows"]
    assert [r["listing_id"] for r in other] == ["s:2"]
    assert queries.discrepancy_counts(con, "discrepancies") == [
        {"site_id": "s", "excluded": 0, "lapsed": 0, "not_certified": 0,
         "certified_other_specialty": 1, "certificate_not_found": 2}
    ]  # fmt: skip
