"""Benchmark: `credcheck serve` over HTTP on a published file with a million physicians.

    python -m bench.web [--physicians 1000000] [--queries 300] [--db PATH]

Builds the file ``bench.lookup`` builds (``physicians``, ``lookup_entries``, ``lookup_keys`` for N
resolved physicians, census name frequencies), then adds the rest of what a run publishes and a
physician page reads, at the same scale: a listing per physician (15% listed twice), each
listing's match with its per-comparison JSON, the crawled item with its provenance, board
certificates with their file lines, NPPES people, exclusions, a first run's change events and
the run records — each table in an order unrelated to the keys the pages look up by, with the
indexes a publish creates (``publish.LOOKUP_INDEXES``) and the tables it derives for find and
the discrepancies (``specialists``, ``discrepancies``: the time each takes is printed).

Then starts the real server (`credcheck serve`, a child process) and times, over HTTP on one
keep-alive connection, the search page for 300 noisy names (typos, nicknames, "Dr.", degrees,
"LAST, First" — bench.lookup's) and the physician page of each person typed. The baseline,
in the same run and alternating with it person by person: the same work in-process with no
HTTP and no HTML — ``lookup()`` for the search, ``physician_page()`` (the page's queries) for
the page. Both first warm up on 50 other people. Then the verified-specialists page
(``/find``) for each specialty of the file alone, in a state and at an institution, after one
untimed round, against ``find()`` in-process for the same rows; and the first request of the
discrepancies page (the list the publish step wrote), then its next page. The last line is

    web: physicians=N search_p95_ms=S page_p95_ms=P queries=Q found=F lookup_p95_ms=A \
page_data_p95_ms=B search_ratio=S/A page_ratio=P/B find_p95_ms=F find_data_p95_ms=G \
find_ratio=F/G discrepancies_first_ms=D

(``found``: searches whose page listed the person typed.) Target: every p95 <= 100 ms.
"""

from __future__ import annotations

import argparse
import http.client
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import duckdb
import numpy as np

from bench.lookup import SPECIALTIES, STATES, noisy_queries, synthesize
from pipeline.config import REPO_ROOT
from pipeline.discrepancies import build_discrepancies
from pipeline.lookup import build_specialist_table, find, lookup
from pipeline.publish import create_lookup_indexes
from pipeline.verify import VERIFICATIONS_VIEW
from pipeline.web.app import FIND_PAGE, SEARCH_LIMIT
from pipeline.web.queries import physician_page

MARKER = "bench_web_complete"
TIMED = ("search", "lookup", "page", "data", "find", "find_data", "discrepancies_first",
         "discrepancies_next")  # fmt: skip
WARMUP = 50
RUN_AT = "TIMESTAMP '2026-11-27 02:15:00'"

# A listing's match, as the matcher stores it (per-comparison levels and weights, bits).
COMPARISONS = """'{"run_id": "match-bench", "prior": -9.276, "match_weight": ' || w ||
', "npi_decisive": ' || CASE WHEN npi_shown IS NULL THEN 'false' ELSE 'true' END ||
', "comparisons": {"surname": {"level": "exact (term-frequency adjusted)", "weight": ' ||
round(4 + (h % 90) / 10, 3) || '}, "first_name": {"level": "exact (term-frequency adjusted)",
"weight": ' || round(3 + (h % 70) / 10, 3) || '}, "middle_initial": {"level": "missing",
"weight": 0.0}, "location": {"level": "same state and city or ZIP", "weight": 2.994},
"specialty": {"level": "agree through the crosswalk", "weight": 3.051}, "education":
{"level": "missing", "weight": 0.0}, "npi": {"level": "' ||
CASE WHEN npi_shown IS NULL THEN 'missing", "weight": 0.0' ELSE 'equal", "weight": 19.922' END ||
'}, "degree": {"level": "both physicians or both not", "weight": 0.257}}, "runner_up": {"npi": "'
|| runner || '", "match_weight": -30.5, "comparisons": {"surname": {"level": "different",
"weight": -9.897}, "first_name": {"level": "different", "weight": -10.62}, "middle_initial":
{"level": "missing", "weight": 0.0}, "location": {"level": "same state and city or ZIP",
"weight": 2.994}, "specialty": {"level": "disagree", "weight": -6.627}, "education": {"level":
"missing", "weight": 0.0}, "npi": {"level": "missing", "weight": 0.0}, "degree": {"level":
"both physicians or both not", "weight": 0.257}}}, "thresholds": {"match_probability": 0.9,
"calibration_slope": 1.112, "calibration_shift_bits": 0.208, "ambiguous_probability": 0.5,
"min_margin_bits": 3.0}}'"""

# The crawled item behind a listing (the spider's contract, docs/design.md), with provenance.
ITEM = """to_json({
    'site_id': site_id, 'source_url': source_url, 'fetched_at': '2026-11-27T01:10:00+00:00',
    'content_hash': md5(listing_id), 'extractor': 'jsonld', 'ref': ref, 'name': listed_name,
    'given_name': first, 'additional_name': middle, 'family_name': last,
    'honorific_prefix': 'Dr.', 'honorific_suffix': 'MD', 'degrees': ['MD'],
    'job_title': 'Attending Physician', 'department': claimed_specialties[1],
    'specialties': claimed_specialties,
    'board_certifications': [{'board': board, 'certificate': certificate}],
    'npi': npi_shown, 'gender': NULL, 'languages': ['English'], 'accepting_new_patients': true,
    'education': [{'type': 'medical_school', 'name': 'State University School of Medicine',
                   'year': 1990 + h % 25},
                  {'type': 'residency', 'name': 'City Hospital (' || claimed_specialties[1] || ')',
                   'year': 1994 + h % 25}],
    'locations': [{'name': site_id || ' main campus', 'street': (h % 9000) || ' Main St',
                   'city': 'Springfield', 'state': states[1], 'zip': '0' || (1000 + h % 8999),
                   'phone': '(555) 555-' || lpad(CAST(h % 10000 AS VARCHAR), 4, '0')}],
    'affiliations': affiliations,
    'extras': {'provenance': [
        {'url': source_url, 'fetched_at': '2026-11-27T01:10:00+00:00', 'extractor': 'jsonld',
         'fields': ['name', 'given_name', 'family_name', 'degrees', 'specialties',
                    'board_certifications', 'npi', 'education', 'affiliations']},
        {'url': source_url, 'fetched_at': '2026-11-27T01:10:00+00:00', 'extractor': 'html',
         'fields': ['locations', 'languages', 'accepting_new_patients']}],
      'is_physician': true}})"""


def complete(con: duckdb.DuckDBPyConnection) -> None:
    """Add the published tables a physician page reads to bench.lookup's file."""
    con.execute(
        """CREATE TEMP TABLE bench_keys AS
           SELECT npi, site_id, site_id || ':' || npi || suffix AS listing_id, npi || suffix AS ref,
                  hash(npi || suffix) AS h
           FROM (SELECT npi, sites[1] AS site_id, '' AS suffix FROM physicians
                 UNION ALL
                 SELECT npi, 'site-' || lpad(CAST((CAST(right(sites[1], 2) AS INT) + 1
                        + hash(npi) % 39) % 40 AS VARCHAR), 2, '0'), '-2'
                 FROM physicians WHERE hash(npi) % 100 < 15)"""
    )
    con.execute(
        f"""CREATE TABLE listings AS
            SELECT k.listing_id, k.site_id,
                   'https://' || k.site_id || '.example.org/doctors/' || lower(p.first) || '-'
                       || lower(replace(p.last, ' ', '-')) || '-' || k.ref AS source_url,
                   p.name || ', MD' AS listed_name, p.claimed_specialties,
                   p.specialties AS claimed_canonical, p.first, p.middle, p.last,
                   NULL::VARCHAR AS suffix, ['MD'] AS credentials, p.states,
                   ['springfield'] AS cities, p.specialties,
                   CASE WHEN k.h % 4 = 0 THEN p.npi END AS npi, true AS physician,
                   [k.site_id || ' Medical Center'] AS affiliations,
                   {RUN_AT} - INTERVAL 1 HOUR AS crawled_at,
                   {RUN_AT} - INTERVAL 1 HOUR AS first_seen,
                   {RUN_AT} - INTERVAL 1 HOUR AS last_seen
            FROM bench_keys k JOIN physicians p USING (npi)
            ORDER BY k.h"""
    )
    con.execute(
        f"""CREATE TABLE listing_matches AS
            SELECT listing_id, npi, 'matched' AS identity, 0.999 AS match_score, certification,
                   npi AS candidate_npi, runner AS runner_up_npi, 0.0 AS runner_up_score,
                   {COMPARISONS} AS comparisons, npi AS person_id,
                   ['nppes', 'dac', 'boards'] AS evidence, false AS npi_deactivated,
                   NULL::VARCHAR AS certification_reason
            FROM (SELECT k.listing_id, k.npi, k.h, p.certification, l.npi AS npi_shown,
                         round(20 + (k.h % 200) / 10, 3) AS w,
                         CAST(1000000000 + (k.h % (SELECT count(*) FROM physicians)) AS VARCHAR)
                             AS runner
                  FROM bench_keys k JOIN physicians p USING (npi)
                  JOIN listings l USING (listing_id))
            ORDER BY hash(listing_id)"""
    )
    con.execute(
        f"""CREATE TABLE raw_listings AS
            SELECT 'crawl-bench-' || site_id AS run_id, site_id, ref, source_url,
                   crawled_at AS fetched_at, md5(listing_id) AS content_hash,
                   'jsonld' AS extractor, CAST({ITEM} AS JSON) AS item, 'new' AS change,
                   NULL::VARCHAR AS carried_from
            FROM (SELECT l.*, k.ref, k.h, c.board, c.certificate, l.npi AS npi_shown
                  FROM listings l JOIN bench_keys k USING (listing_id)
                  JOIN (SELECT npi, certificates[1].board AS board,
                               certificates[1].certificate AS certificate
                        FROM physicians) c ON c.npi = k.npi)
            ORDER BY hash(source_url)"""
    )
    con.execute(
        """CREATE TABLE certificates AS
           SELECT row_number() OVER (ORDER BY hash(npi)) + 1 AS line_number, npi AS matched_npi,
                  npi AS person_id, first, middle, last, c.board, c.certificate,
                  c.certificate_type, c.status,
                  CAST(DATE '1990-01-01' + CAST(hash(npi) % 9000 AS INT) AS TIMESTAMP)
                      AS initial_certification_date,
                  CAST(DATE '2027-06-30' + CAST(hash(npi) % 1500 AS INT) AS TIMESTAMP)
                      AS expiration_date,
                  CASE WHEN hash(npi) % 3 = 0 THEN 'no' ELSE 'yes' END AS moc,
                  'Springfield' AS city, practice_state AS state
           FROM (SELECT npi, first, middle, last, practice_state, unnest(certificates) AS c
                 FROM physicians)
           ORDER BY line_number"""
    )
    con.execute(
        """CREATE TABLE reference_people AS
           SELECT npi, npi AS person_id, ['nppes', 'dac', 'boards'] AS sources,
                  false AS npi_deactivated,
                  upper(first) AS first, upper(middle) AS middle, upper(last) AS last,
                  NULL::VARCHAR AS suffix, credentials, CAST([] AS VARCHAR[]) AS alt_lasts,
                  states, ['springfield'] AS cities, specialties, true AS physician,
                  'SPRINGFIELD' AS practice_city, practice_state, gender,
                  'State University School of Medicine' AS medical_school
           FROM physicians ORDER BY hash(npi || 'nppes')"""
    )
    con.execute(
        """CREATE TABLE exclusions AS
           SELECT npi AS matched_npi, npi AS person_id, upper(first) AS first,
                  upper(middle) AS middle,
                  upper(last) AS last, 'SPRINGFIELD' AS city, practice_state AS state,
                  '1128b4' AS exclusion_type, TIMESTAMP '2024-01-01' AS exclusion_date,
                  NULL::TIMESTAMP AS reinstatement_date
           FROM physicians WHERE excluded"""
    )
    con.execute(
        f"""CREATE TABLE changes AS
            SELECT row_number() OVER (ORDER BY listing_id) AS change_id,
                   'publish-bench' AS publish_id, {RUN_AT} AS changed_at,
                   'new_listing' AS kind, listing_id, site_id, npi, NULL::VARCHAR AS old_value,
                   listed_name AS new_value, 'first seen' AS detail
            FROM (SELECT l.listing_id, l.site_id, m.npi, l.listed_name
                  FROM listings l JOIN listing_matches m USING (listing_id))
            ORDER BY change_id"""
    )
    con.execute(
        f"""CREATE TABLE publish_runs AS
            SELECT 'publish-bench' AS publish_id, 'run' AS command, {RUN_AT} AS started_at,
                   {RUN_AT} + INTERVAL 5 MINUTE AS published_at,
                   (SELECT count(*) FROM listings) AS listings,
                   (SELECT count(*) FROM listings) AS matched,
                   (SELECT count(*) FROM physicians) AS physicians,
                   (SELECT count(*) FROM changes) AS changes,
                   ['crawl-bench'] AS crawl_run_ids"""
    )
    con.execute(
        f"""CREATE TABLE load_runs AS
            SELECT 'load-bench-' || kind AS load_id, kind, '/srv/ref/' || kind || '.csv' AS path,
                   md5(kind) AS sha256, 0::BIGINT AS rows_read, 0::BIGINT AS rows_loaded,
                   0::BIGINT AS rows_rejected, {RUN_AT} AS started_at, {RUN_AT} AS finished_at
            FROM (VALUES ('nppes'), ('dac'), ('boards'), ('leie')) AS t(kind)"""
    )
    # The physician row as a publish writes it: listings, affiliations, education, exclusions.
    con.execute(
        """CREATE TABLE physicians_full AS
           SELECT p.*, a.listings, a.affiliations,
                  [{'type': 'medical_school', 'name': 'State University School of Medicine',
                    'year': NULL::VARCHAR, 'source': 'dac'}] AS education,
                  list_transform(list_filter(p.certificates, lambda c: c.status = 'active'),
                                 lambda c: c.certificate) AS active_certificates,
                  CASE WHEN p.excluded THEN [{'exclusion_type': '1128b4',
                       'exclusion_date': DATE '2024-01-01',
                       'reinstatement_date': NULL::DATE}] ELSE [] END AS exclusions,
                  a.first_seen, a.last_seen
           FROM physicians p JOIN (
               SELECT k.npi,
                      list({'listing_id': l.listing_id, 'site_id': l.site_id,
                            'source_url': l.source_url, 'listed_name': l.listed_name,
                            'claimed_specialties': l.claimed_specialties,
                            'certification': m.certification, 'first_seen': l.first_seen,
                            'last_seen': l.last_seen} ORDER BY l.listing_id) AS listings,
                      list_distinct(flatten(list(l.affiliations))) AS affiliations,
                      min(l.first_seen) AS first_seen, max(l.last_seen) AS last_seen
               FROM bench_keys k JOIN listings l USING (listing_id)
               JOIN listing_matches m USING (listing_id)
               GROUP BY k.npi) a USING (npi)
           ORDER BY p.npi"""
    )
    con.execute("DROP TABLE physicians")
    con.execute("ALTER TABLE physicians_full RENAME TO physicians")
    con.execute(VERIFICATIONS_VIEW)
    for build_table in (build_specialist_table, build_discrepancies):  # as a publish does
        started = time.perf_counter()
        build_table(con)
        print(f"{build_table.__name__}: {time.perf_counter() - started:.1f}s", flush=True)
    create_lookup_indexes(con)
    con.execute(f"CREATE TABLE {MARKER} AS SELECT 1 AS done")
    con.execute("CHECKPOINT")


def build(db: Path, physicians: int) -> None:
    started = time.perf_counter()
    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db), config={"memory_limit": "4GB"})
    try:
        synthesize(con, physicians)
        complete(con)
        listings = con.execute("SELECT count(*) FROM listings").fetchone()[0]
    finally:
        con.close()
    print(
        f"built {physicians} physicians, {listings} listings in "
        f"{time.perf_counter() - started:.1f}s -> {db} ({db.stat().st_size / 1e9:.2f} GB)",
        flush=True,
    )


def _is_complete(db: Path, physicians: int) -> bool:
    if not db.exists():
        return False
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        return (
            {MARKER, "specialists", "discrepancies"} <= tables
            and con.execute("SELECT count(*) FROM physicians").fetchone()[0] == physicians
        )
    finally:
        con.close()


class Server:
    """`credcheck serve` in a child process, and one keep-alive HTTP connection to it."""

    def __init__(self, db: Path, log: Path):
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "serve", "--db", str(db),
             "--port", str(self.port), "--no-access-log"],
            cwd=REPO_ROOT, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while True:
            try:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
                self.get("/api/status")
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"credcheck serve did not start; see {log}") from None
                time.sleep(0.2)

    def get(self, path: str) -> bytes:
        self.conn.request("GET", path)
        response = self.conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"GET {path}: {response.status} {body[:300]!r}")
        return body

    def close(self) -> None:
        self.conn.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def _search_path(typed: str) -> str:
    return "/?" + urllib.parse.urlencode({"q": typed})


def _ms(seconds: list[float], q: float) -> float:
    return 1000 * float(np.quantile(seconds, q))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--physicians", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument(
        "--warmup", type=int, default=WARMUP, help=f"people read first, untimed (default {WARMUP})"
    )
    parser.add_argument(
        "--db", type=Path, help="keep the built file here (reused when it is already complete)"
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        db = args.db or Path(tmp) / "bench.duckdb"
        if _is_complete(db, args.physicians):
            print(f"reusing {db}", flush=True)
        else:
            build(db, args.physicians)

        con = duckdb.connect(str(db), read_only=True)
        people = noisy_queries(con, args.queries + args.warmup)
        warmup, queries = people[: args.warmup], people[args.warmup :]
        server = Server(db, Path(tmp) / "serve.log")
        timings: dict[str, list[float]] = {k: [] for k in TIMED}
        found = 0
        try:
            # Both sides warm up on other people (templates, caches, the indexes' top levels).
            for typed, npi, *_ in warmup:
                lookup(con, typed, limit=SEARCH_LIMIT)
                physician_page(con, npi)
                server.get(_search_path(typed))
                server.get(f"/physician/{npi}")
            # Then each person through both, alternating which goes first: the same machine
            # load for both, and neither always reads file pages the other just cached.
            for i, (typed, npi, *_) in enumerate(queries):
                steps = [
                    ("lookup", lambda t=typed: lookup(con, t, limit=SEARCH_LIMIT)),
                    ("search", lambda t=typed: server.get(_search_path(t))),
                    ("data", lambda n=npi: physician_page(con, n)),
                    ("page", lambda n=npi: server.get(f"/physician/{n}")),
                ]
                if i % 2:
                    steps = [steps[1], steps[0], steps[3], steps[2]]
                for name, call in steps:
                    t0 = time.perf_counter()
                    result = call()
                    timings[name].append(time.perf_counter() - t0)
                    if name == "search":
                        found += f'href="/physician/{npi}"'.encode() in result
            # /find: each specialty alone, in a state, and at an institution; the baseline is
            # find() in-process for the page's rows (one more than shown, to know of a next page).
            finds = [
                (label, state, institution)
                for i, (label, _, _) in enumerate(SPECIALTIES)
                for state, institution in (
                    (None, None),
                    (STATES[i % len(STATES)], None),
                    (None, f"site-{7 * i % 40:02d} Medical Center"),
                )
            ]
            for rounds in ("warmup", "timed", "timed"):
                for label, state, institution in finds:
                    path = "/find?" + urllib.parse.urlencode(
                        {k: v for k, v in (("specialty", label), ("state", state),
                                           ("institution", institution)) if v}
                    )  # fmt: skip
                    steps = [
                        ("find", lambda p=path: server.get(p)),
                        ("find_data", lambda t=label, s=state, i=institution: find(
                            con, t, state=s, institution=i, limit=FIND_PAGE + 1)),
                    ]  # fmt: skip
                    for name, call in steps if len(timings["find"]) % 2 else steps[::-1]:
                        t0 = time.perf_counter()
                        call()
                        if rounds == "timed":
                            timings[name].append(time.perf_counter() - t0)
            # The discrepancies page: the first request of a file, then the next page.
            for name in ("discrepancies_first", "discrepancies_next"):
                t0 = time.perf_counter()
                server.get("/discrepancies" + ("?offset=100" if name.endswith("next") else ""))
                timings[name].append(time.perf_counter() - t0)
        finally:
            server.close()
            con.close()
    search_s, page_s = timings["search"], timings["page"]
    lookup_s, page_data_s = timings["lookup"], timings["data"]

    search_p95, page_p95 = _ms(search_s, 0.95), _ms(page_s, 0.95)
    lookup_p95, data_p95 = _ms(lookup_s, 0.95), _ms(page_data_s, 0.95)
    print(f"the person typed was on the search page for {found}/{len(queries)} noisy names")
    print(
        f"search page over HTTP: p50 {_ms(search_s, 0.5):.1f} ms, p95 {search_p95:.1f} ms; "
        f"lookup() in-process: p50 {_ms(lookup_s, 0.5):.1f} ms, p95 {lookup_p95:.1f} ms"
    )
    print(
        f"physician page over HTTP: p50 {_ms(page_s, 0.5):.1f} ms, p95 {page_p95:.1f} ms; "
        f"physician_page() in-process: p50 {_ms(page_data_s, 0.5):.1f} ms, "
        f"p95 {data_p95:.1f} ms"
    )
    find_p95, find_data_p95 = _ms(timings["find"], 0.95), _ms(timings["find_data"], 0.95)
    print(
        f"find page over HTTP ({len(timings['find'])} requests: {len(SPECIALTIES)} specialties "
        f"alone, in a state, at an institution): p50 {_ms(timings['find'], 0.5):.1f} ms, "
        f"p95 {find_p95:.1f} ms; find() in-process: p50 {_ms(timings['find_data'], 0.5):.1f} "
        f"ms, p95 {find_data_p95:.1f} ms"
    )
    first_ms = 1000 * timings["discrepancies_first"][0]
    print(
        f"discrepancies page: first request of the file {first_ms:.1f} ms, "
        f"the next page {1000 * timings['discrepancies_next'][0]:.1f} ms"
    )
    print(
        f"web: physicians={args.physicians} search_p95_ms={search_p95:.1f} "
        f"page_p95_ms={page_p95:.1f} queries={len(queries)} found={found} "
        f"lookup_p95_ms={lookup_p95:.1f} page_data_p95_ms={data_p95:.1f} "
        f"search_ratio={search_p95 / lookup_p95:.2f} page_ratio={page_p95 / data_p95:.2f} "
        f"find_p95_ms={find_p95:.1f} find_data_p95_ms={find_data_p95:.1f} "
        f"find_ratio={find_p95 / find_data_p95:.2f} discrepancies_first_ms={first_ms:.1f}"
    )


if __name__ == "__main__":
    main()
