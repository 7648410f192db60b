"""``credcheck demo``: the whole path on the embedded, seeded demo world.

The demo starts a fresh work database beside the target, and publishes like a scheduled run: a
new file renamed over the target at the end, so an interrupted demo never leaves a half-written
database behind and a reader of the old file is never disturbed.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from pipeline.app.chain import run_chain
from pipeline.app.exits import EXIT_FAILED, EXIT_OK
from pipeline.app.report import print_frame
from pipeline.app.workspace import Workspace
from pipeline.config import DATA_DIR
from pipeline.crawl.runner import plan_targets
from pipeline.db.store import open_db
from pipeline.demo.server import serve_sites
from pipeline.demo.world import generate_world
from pipeline.lookup import lookup
from pipeline.match.evaluate import score_identities
from pipeline.sources import load_reference

DEFAULT_WORLD_DIR = DATA_DIR / "demo" / "world"

# The registry platform that reads each fixture site shape.
PLATFORM_FOR_SHAPE = {
    "jsonld_sitemap": ("schemaorg_sitemap", "/robots.txt"),
    "html_directory": ("html_directory", "/find-a-doctor"),
    "faculty_directory": ("faculty_directory", "/faculty"),
}

# Crawling our own loopback server: no need to be gentle with it.
LOOPBACK_SETTINGS = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
}

REFERENCE_FILES = {
    "nppes": "npidata.csv",
    "dac": "dac.csv",
    "boards": "boards.csv",
    "leie": "leie.csv",
}


def write_demo_registry(path: Path, sites: dict[str, dict], base_urls: dict[str, str]) -> None:
    """A site registry naming the live loopback URLs of the demo sites."""
    lines = ["# Demo sites served on 127.0.0.1 by `credcheck demo` (ports change every run).", ""]
    for site_id, site in sites.items():
        platform, start_path = PLATFORM_FOR_SHAPE[site["shape"]]
        lines += [
            f"[sites.{site_id}]",
            f'name = "{site["name"]}"',
            f'platform = "{platform}"',
            f'start_urls = ["{base_urls[site_id]}{start_path}"]',
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")


def _section(title: str) -> None:
    print(f"\n== {title}")


def run_demo(
    db_path: Path, seed: int = 7, physicians: int = 3000, world_dir: Path | None = None
) -> int:
    started = time.monotonic()
    world_dir = world_dir or DEFAULT_WORLD_DIR
    with Workspace(db_path, "demo") as ws:
        _section(f"demo world (seed {seed}, {physicians} physicians) -> {world_dir}")
        generate_world(world_dir, seed=seed, n_physicians=physicians)
        site_files = sorted((world_dir / "sites").glob("*.json"))
        sites = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in site_files}
        print(
            f"generated {len(sites)} sites and reference files in "
            f"{time.monotonic() - started:.1f}s"
        )

        ws.start_afresh()  # a fresh world: the work database starts from nothing
        _section("loading reference files")
        with ws.work() as con:
            for kind, filename in REFERENCE_FILES.items():
                result = load_reference(con, kind, world_dir / "reference" / filename)
                print(
                    f"{kind:7s} {result.rows_loaded:6d} rows loaded, "
                    f"{result.rows_rejected} rejected"
                )

        _section("crawling the demo sites on 127.0.0.1")
        with serve_sites(site_files) as base_urls:
            registry = world_dir / "sites.toml"
            write_demo_registry(registry, sites, base_urls)
            os.environ["CREDCHECK_SITES"] = str(registry)
            chain = run_chain(
                ws,
                plan_targets(list(sites), []),
                runs_dir=world_dir / "runs",
                settings=LOOPBACK_SETTINGS,
                incremental=False,
                publish_as="demo",
                stop_unless_all_crawled=True,
                announce=lambda step: _section(step) if step == "matching" else None,
            )
        if chain.published is None:
            return EXIT_FAILED

    with open_db(db_path, read_only=True) as con:
        _summarise(con, world_dir)
    _section(f"done in {time.monotonic() - started:.1f}s; database: {db_path}")
    print(f"try: credcheck lookup 'Smith' --db {db_path}")
    print(f"     credcheck find --specialty cardiology --db {db_path}")
    return EXIT_OK


def _summarise(con, world_dir: Path) -> None:
    """Listings per site, certification counts, the score against the truth, two lookups."""

    _section("listings per site")
    print_frame(
        con.execute(
            """SELECT site_id, count(*) AS listings,
                  count(*) FILTER (identity = 'matched') AS matched,
                  count(*) FILTER (identity = 'ambiguous') AS ambiguous,
                  count(*) FILTER (identity = 'unmatched') AS unmatched,
                  count(*) FILTER (excluded) AS excluded
           FROM verifications GROUP BY site_id ORDER BY site_id"""
        ).df(),
        "table",
    )

    _section("certification")
    print_frame(
        con.execute(
            """SELECT certification, count(*) AS listings FROM verifications
           GROUP BY certification ORDER BY listings DESC"""
        ).df(),
        "table",
    )

    truth = world_dir / "truth.csv"
    if truth.exists():
        _section("against the demo ground truth")
        print(score_identities(con, truth))

    # Two lookups typed the way people type: "dr." and lower case, with a state filter.
    examples = con.execute(
        """SELECT 'dr. ' || lower(p.first || ' ' || p.last), p.practice_state
           FROM verifications v JOIN reference_people p USING (npi)
           WHERE v.certification IN ('certified', 'lapsed')
           QUALIFY row_number() OVER (PARTITION BY v.certification ORDER BY v.listing_id) = 1
           ORDER BY v.certification"""
    ).fetchall()
    for name, state in examples:
        _section(f"credcheck lookup {name!r} --state {state}")
        print_frame(lookup(con, name, state=state, limit=3), "table")

