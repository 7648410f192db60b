"""The ``credcheck`` command line.

Exit codes (README "Scheduled runs"): 0 success; 1 a crawl or job finished with failures (what
succeeded was published); 2 a usage or input error (missing file, unknown site, unreachable URL)
— nothing was changed; 3 another credcheck job holds the lock — nothing was done; 130
interrupted.

Writers (``load``, ``crawl``, ``match``, ``run``, ``demo``) take the job lock and work in the
private work database beside the published file; ``match``, ``run`` and ``demo`` then publish
a fresh file atomically. Readers (``lookup``, ``find``) open the published file read-only.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from pipeline.app.report import crawl_progress, print_frame, print_match_summary, print_publish
from pipeline.app.workspace import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_USAGE,
    JobLocked,
    emit_run_record,
    job_lock,
    log,
)
from pipeline.config import DEFAULT_RUNS_DIR, CredcheckError, resolve_db_path


def _parse_settings(pairs: Sequence[str]) -> dict[str, str]:
    settings = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise CredcheckError(f"-s takes NAME=VALUE, got {pair!r}")
        settings[name.strip()] = value
    return settings


def _open_work(published: Path):
    from pipeline.app.workspace import open_work_db

    return open_work_db(published)


# ------------------------------------------------------------------------------ commands


def cmd_crawl(args) -> int:
    from pipeline.app.workspace import work_db_path
    from pipeline.crawl.ingest import ingest_outcomes, previous_pages_for
    from pipeline.crawl.runner import crawl_sites, plan_targets, registered_sites

    settings = _parse_settings(args.setting)
    targets = plan_targets(args.site_ids, args.url)
    if not targets:
        targets = plan_targets(list(registered_sites()), [])
    published = resolve_db_path(args.db)
    with job_lock(published, "crawl"):
        previous = {}
        if not args.full and (published.exists() or work_db_path(published).exists()):
            # Incremental, as `credcheck run`: ask again with the last crawl's ETag/Last-Modified.
            con = _open_work(published)
            previous = previous_pages_for(con, targets)
            con.close()
        outcomes = crawl_sites(
            targets,
            runs_dir=Path(args.runs_dir),
            settings=settings,
            progress=crawl_progress,
            previous=previous,
        )
        if all(not o.ok for o in outcomes):
            # Nothing was crawled, so the database is not even opened.
            return EXIT_USAGE if args.url and not args.site_ids else EXIT_FAILED
        con = _open_work(published)
        ingest_outcomes(con, outcomes)
        con.close()
    print("stored in the work database; `credcheck match` publishes", file=sys.stderr)
    return EXIT_OK if all(o.ok for o in outcomes) else EXIT_FAILED


def cmd_discover(args) -> int:
    """Learn how a directory is laid out (zero-config, a preview crawl) and print it."""
    import json
    import tempfile

    from pipeline.crawl import ZERO_CONFIG_SPIDER, CrawlTarget, crawl_site, site_id_for_url
    from spiders.discovery.report import format_text

    site_id = site_id_for_url(args.url)
    spider_args = {"url": args.url, "site_id": site_id, "mode": "discover",
                   "sample_budget": str(args.budget)}  # fmt: skip
    print(f"discovering {args.url} (robots.txt obeyed, polite pace) ...", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="credcheck-discover-") as runs:
        target = CrawlTarget(site_id, ZERO_CONFIG_SPIDER, spider_args, args.url)
        outcome = crawl_site(target, Path(runs), _parse_settings(args.setting))
    report = outcome.discovery
    if report is None:
        raise CredcheckError(f"could not discover {args.url}: {outcome.error}")
    if args.format == "json":
        print(json.dumps(report, indent=1, default=str))
    elif args.format == "toml":
        print(report["registry_entry"], end="")
    else:
        print(format_text(report), end="")
    if not report["samples"]:
        print(f"credcheck: error: no profiles or listings found from {args.url}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def cmd_load(args) -> int:
    from pipeline.sources import load_reference

    path = Path(args.path)
    if not path.is_file():
        raise CredcheckError(f"{args.kind}: no such file: {path}")
    published = resolve_db_path(args.db)
    with job_lock(published, "load"):
        con = _open_work(published)
        result = load_reference(
            con, args.kind, path, progress=lambda line: print(line, file=sys.stderr, flush=True)
        )
        con.close()
    if result.unchanged:
        print(f"{args.kind}: {path} is already loaded (sha256 {result.sha256[:12]}); nothing to do")
    else:
        print(
            f"{args.kind}: read {result.rows_read} rows, loaded {result.rows_loaded}, "
            f"rejected {result.rows_rejected} (see table rejects) from {path}"
        )
    return EXIT_OK


def cmd_match(args) -> int:
    from pipeline.publish import publish
    from pipeline.resolve import run_match

    published = resolve_db_path(args.db)
    with job_lock(published, "match"):
        con = _open_work(published)
        print_match_summary(run_match(con))
        print_publish(publish(con, published, command="match"))
        con.close()
    return EXIT_OK


def cmd_run(args) -> int:
    """The scheduled job; always ends with one JSON line describing the run."""
    from pipeline.crawl.ingest import ingest_outcomes, previous_pages_for
    from pipeline.crawl.runner import crawl_sites, plan_targets, registered_sites
    from pipeline.publish import publish
    from pipeline.resolve import run_match

    published = resolve_db_path(args.db)
    runs_dir = Path(args.runs_dir)
    started = datetime.now(UTC)
    record: dict = {
        "event": "credcheck.run",
        "db": str(published),
        "started_at": started.isoformat(timespec="seconds"),
    }
    code = EXIT_OK
    try:
        with job_lock(published, "run"):
            targets = plan_targets(list(registered_sites()), [])
            # Incremental: the last run's ETag/Last-Modified per page, for conditional requests.
            con = _open_work(published)
            previous = previous_pages_for(con, targets)
            con.close()
            log(f"credcheck run: crawling {len(targets)} site(s)")
            outcomes = crawl_sites(
                targets,
                runs_dir=runs_dir,
                settings=_parse_settings(args.setting),
                progress=crawl_progress,
                previous=previous,
            )
            failed = [o.target.site_id for o in outcomes if not o.ok]
            record["sites_ok"] = [o.target.site_id for o in outcomes if o.ok]
            record["sites_failed"] = failed
            log("credcheck run: ingesting crawls into the work database")
            con = _open_work(published)
            ingest_outcomes(con, outcomes)
            log("credcheck run: matching")
            summary = run_match(con)
            print_match_summary(summary)
            log("credcheck run: publishing")
            result = publish(con, published, command="run")
            con.close()
            print_publish(result)
            record.update(
                publish_id=result.publish_id,
                listings=result.listings,
                matched=result.matched,
                physicians=result.physicians,
                changes=result.changes,
            )
            if failed:
                log(
                    f"credcheck: error: {len(failed)} site(s) failed: {', '.join(failed)}",
                    error=True,
                )
                code = EXIT_FAILED
    except JobLocked as exc:
        print(f"credcheck: error: {exc}", file=sys.stderr)
        code, record["error"] = EXIT_LOCKED, str(exc)
    except CredcheckError as exc:
        print(f"credcheck: error: {exc}", file=sys.stderr)
        code, record["error"] = EXIT_USAGE, str(exc)
    except KeyboardInterrupt:
        print("credcheck: interrupted; the last published state stands", file=sys.stderr)
        code = EXIT_INTERRUPTED
    except Exception as exc:  # the JSON line must still say what happened
        print(f"credcheck: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        code, record["error"] = EXIT_FAILED, f"{type(exc).__name__}: {exc}"
    finished = datetime.now(UTC)
    record.update(
        finished_at=finished.isoformat(timespec="seconds"),
        seconds=round((finished - started).total_seconds(), 1),
        exit_code=code,
        status={
            EXIT_OK: "ok",
            EXIT_FAILED: "partial" if record.get("publish_id") else "failed",
            EXIT_USAGE: "error",
            EXIT_LOCKED: "locked",
            EXIT_INTERRUPTED: "interrupted",
        }[code],
    )
    emit_run_record(record, runs_dir)
    return code


def cmd_lookup(args) -> int:
    from pipeline.db.store import open_db
    from pipeline.lookup import lookup

    con = open_db(resolve_db_path(args.db), read_only=True)
    started = time.perf_counter()
    result = lookup(con, args.name, state=args.state, specialty=args.specialty, limit=args.limit)
    print_frame(result, args.format, empty="no matching physicians")
    if args.format == "table":
        print(f"({len(result)} shown, {1000 * (time.perf_counter() - started):.0f} ms)")
    return EXIT_OK


def cmd_find(args) -> int:
    from pipeline.db.store import open_db
    from pipeline.lookup import find

    con = open_db(resolve_db_path(args.db), read_only=True)
    result = find(
        con, args.specialty, state=args.state, institution=args.institution, limit=args.limit
    )
    print_frame(result, args.format, empty="no matching physicians")
    return EXIT_OK


def cmd_explain(args) -> int:
    from pipeline.db.store import open_db
    from pipeline.match.explain import explain

    con = open_db(resolve_db_path(args.db), read_only=True)
    print(explain(con, args.listing_id))
    return EXIT_OK


def cmd_sites(args) -> int:
    from pipeline.crawl.runner import registered_sites
    from spiders.registry import registry_path

    rows = [
        {
            "site_id": s.site_id,
            "name": s.name,
            "platform": s.platform,
            "start_urls": list(s.start_urls),
        }
        for s in registered_sites().values()
    ]
    print(f"registry: {registry_path()}", file=sys.stderr)
    print_frame(pd.DataFrame(rows), args.format)
    return EXIT_OK


def cmd_demo(args) -> int:
    from pipeline.demo.run import run_demo

    return run_demo(
        db_path=resolve_db_path(args.db),
        seed=args.seed,
        physicians=args.physicians,
        world_dir=Path(args.world) if args.world else None,
    )


# ------------------------------------------------------------------------------ parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="credcheck",
        description="Verify physicians' credentials: crawl public directories, match listings "
        "to NPPES, board and OIG records, and query the results in one DuckDB file.",
        epilog="Database: --db PATH, else $CREDCHECK_DB, else data/credcheck.duckdb. "
        "Exit codes: 0 ok, 1 some work failed, 2 usage or input error, 3 another job holds "
        "the lock, 130 interrupted.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_text: str, func, description: str | None = None):
        p = sub.add_parser(name, help=help_text, description=description or help_text)
        p.add_argument(
            "--db",
            metavar="PATH",
            help="DuckDB file (default: $CREDCHECK_DB or data/credcheck.duckdb)",
        )
        p.set_defaults(func=func)
        return p

    def add_crawl_options(p):
        p.add_argument(
            "-s",
            "--setting",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="override a Scrapy setting for this run, e.g. -s DOWNLOAD_DELAY=0",
        )
        p.add_argument(
            "--runs-dir",
            default=str(DEFAULT_RUNS_DIR),
            metavar="DIR",
            help="where each run's feed, stats and log go (default: data/runs)",
        )

    def add_format(p):
        p.add_argument(
            "--format",
            choices=("table", "json", "csv"),
            default="table",
            help="output format (default: table)",
        )

    p = add(
        "demo",
        "serve the embedded demo sites, crawl, load, match and summarise",
        cmd_demo,
        "Generate the seeded demo world, serve its directory sites on 127.0.0.1, crawl them, "
        "load the demo reference files, match, publish, and print a summary with two "
        "example lookups.",
    )
    p.add_argument("--seed", type=int, default=7, help="demo world seed (default: 7)")
    p.add_argument(
        "--physicians", type=int, default=3000, help="physicians in the demo world (default: 3000)"
    )
    p.add_argument(
        "--world", metavar="DIR", help="where to write the demo world (default: data/demo/world)"
    )

    p = add(
        "crawl",
        "crawl registered sites or any start URL",
        cmd_crawl,
        "Crawl registered sites by id (all of them when none is named), or any start URL "
        "with zero configuration, and store the listings.",
    )
    p.add_argument("site_ids", nargs="*", metavar="SITE_ID", help="registry site ids")
    p.add_argument(
        "--url",
        action="append",
        default=[],
        metavar="URL",
        help="zero-config start URL (repeatable)",
    )
    p.add_argument(
        "--full",
        action="store_true",
        help="fetch every page again; by default pages unchanged since the last crawl "
        "(ETag / Last-Modified answered 304) are not downloaded",
    )
    add_crawl_options(p)

    from pipeline.sources.load import KIND_SPECS, KINDS

    p = add(
        "discover",
        "learn a directory's layout from any URL and print a sites.toml entry",
        cmd_discover,
        "Zero-config discovery without storing anything: from a start URL (home page, "
        "directory page or results page) and the site's sitemaps, find the directory entry, "
        "learn which URL templates hold profiles and listings by sampling a few pages of each, "
        "and print the templates with their sampled yield, the pagination, a ready-to-paste "
        "sites.toml entry and five sample listings. Exit 2 when nothing was found.",
    )
    p.add_argument("url", metavar="URL", help="any page of the directory's site")
    p.add_argument(
        "--format",
        choices=("text", "toml", "json"),
        default="text",
        help="text: everything, readable (default); toml: the sites.toml entry only; "
        "json: everything, as data",
    )
    p.add_argument(
        "--budget",
        type=int,
        default=40,
        metavar="N",
        help="most pages sampled to judge URL templates (default: 40)",
    )
    p.add_argument(
        "-s",
        "--setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a Scrapy setting, e.g. -s DOWNLOAD_DELAY=0 (for a local test site)",
    )

    p = add(
        "load",
        "load a reference file (boards, nppes, dac, leie and their companion files)",
        cmd_load,
        "Load one reference file; the previous reference of that kind is replaced "
        "atomically, malformed rows go to the rejects table.",
    )
    p.add_argument(
        "kind",
        choices=KINDS,
        help="; ".join(f"{k.name}: {k.description}" for k in KIND_SPECS.values()),
    )
    p.add_argument("path", metavar="PATH", help="the file to load")

    add(
        "match",
        "normalize, match and publish verifications",
        cmd_match,
        "Rebuild normalized listings and reference people from raw tables, match them, and "
        "publish the verifications view.",
    )

    p = add(
        "run",
        "the scheduled job: crawl registered sites, match, publish",
        cmd_run,
        "Crawl every registered site, match and publish a fresh database file atomically; "
        "safe under cron. Logs readable lines, then one JSON line (also appended to "
        "RUNS_DIR/runs.jsonl). Exit codes: 0 ok, 1 some site failed (the rest is published), "
        "2 usage or input error, 3 another job holds the lock (nothing done), 130 interrupted.",
    )
    add_crawl_options(p)

    p = add("lookup", "find a physician by name and show what the records confirm", cmd_lookup)
    p.add_argument(
        "name", metavar="NAME", help="the name as you would type it, e.g. 'Dr. Bob Smith'"
    )
    p.add_argument("--state", help="two-letter state, e.g. MA")
    p.add_argument("--specialty", help="specialty, e.g. cardiology")
    p.add_argument("--limit", type=int, default=10, help="most rows to show (default: 10)")
    add_format(p)

    p = add("find", "list physicians with verified board certification in a specialty", cmd_find)
    p.add_argument("--specialty", required=True, help="specialty, e.g. cardiology or OB/GYN")
    p.add_argument("--state", help="two-letter state, e.g. MA")
    p.add_argument("--institution", help="hospital or school name (or site id)")
    p.add_argument("--limit", type=int, default=100, help="most rows to show (default: 100)")
    add_format(p)

    p = add("explain", "why a listing matched: comparisons, weights, runner-up", cmd_explain)
    p.add_argument("listing_id", metavar="LISTING_ID", help="e.g. mercy-general:10482")

    p = add("sites", "list the site registry", cmd_sites)
    add_format(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except JobLocked as exc:
        print(f"credcheck: error: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except CredcheckError as exc:
        print(f"credcheck: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("credcheck: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
