"""The ``credcheck`` command line.

Exit codes (README "Scheduled runs"): 0 success; 1 a crawl or job finished with failures (what
succeeded was published); 2 a usage or input error (missing file, unknown site, unreachable URL)
— nothing was changed; 3 another credcheck job holds the lock — nothing was done; 130
interrupted.

Writers (``load``, ``crawl``, ``match``, ``run``, ``demo``) take the job lock and work in the
private work database beside the published file; ``match``, ``run`` and ``demo`` then publish
a fresh file atomically. Readers (``lookup``, ``find``, ``explain``, ``serve``) open the
published file read-only.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from pipeline.app.exits import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    STATUS,
    emit_run_record,
    error_message,
    exit_code_for,
    log,
)
from pipeline.app.report import print_frame
from pipeline.app.workspace import Workspace
from pipeline.config import DEFAULT_RUNS_DIR, CredcheckError, resolve_db_path


def _parse_settings(pairs: Sequence[str]) -> dict[str, str]:
    settings = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise CredcheckError(f"-s takes NAME=VALUE, got {pair!r}")
        settings[name.strip()] = value
    return settings


# ------------------------------------------------------------------------------ commands


def cmd_crawl(args) -> int:
    from pipeline.app.chain import run_chain
    from pipeline.crawl.runner import plan_targets, registered_sites

    settings = _parse_settings(args.setting)
    targets = plan_targets(args.site_ids, args.url) or plan_targets(list(registered_sites()), [])
    with Workspace(resolve_db_path(args.db), "crawl") as ws:
        result = run_chain(
            ws, targets, runs_dir=Path(args.runs_dir), settings=settings, incremental=not args.full
        )
    if not result.sites_ok:
        return EXIT_USAGE if args.url and not args.site_ids else EXIT_FAILED
    print("stored in the work database; `credcheck match` publishes", file=sys.stderr)
    return EXIT_FAILED if result.sites_failed else EXIT_OK


def cmd_discover(args) -> int:
    """Learn how a directory is laid out (zero-config, a preview crawl) and print it."""
    import json
    import tempfile

    from pipeline.app.report import rendering
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
    report["rendering"] = rendering(outcome.stats)
    if args.format == "json":
        print(json.dumps(report, indent=1, default=str))
    elif args.format == "toml":
        print(report["registry_entry"], end="")
    else:
        print(format_text(report), end="")
    if not report["samples"]:
        why = f" ({outcome.error})" if outcome.error else ""
        print(f"credcheck: error: no profiles or listings found from {args.url}{why}",
              file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def cmd_load(args) -> int:
    from pipeline.sources import load_reference

    path = Path(args.path)
    if not path.is_file():
        raise CredcheckError(f"{args.kind}: no such file: {path}")
    with Workspace(resolve_db_path(args.db), "load") as ws, ws.work() as con:
        result = load_reference(
            con,
            args.kind,
            path,
            progress=lambda line: print(line, file=sys.stderr, flush=True),
            mapping=Path(args.mapping) if args.mapping else None,
        )
    if result.unchanged:
        print(f"{args.kind}: {path} is already loaded (sha256 {result.sha256[:12]}); nothing to do")
    else:
        print(
            f"{args.kind}: read {result.rows_read} rows, loaded {result.rows_loaded}, "
            f"rejected {result.rows_rejected} (see table rejects) from {path}"
        )
    return EXIT_OK


def cmd_match(args) -> int:
    from pipeline.app.report import print_match_summary, print_publish
    from pipeline.publish import publish
    from pipeline.resolve import run_match

    published = resolve_db_path(args.db)
    with Workspace(published, "match") as ws, ws.work() as con:
        print_match_summary(run_match(con))
        print_publish(publish(con, published, command="match"))
    return EXIT_OK


def cmd_run(args) -> int:
    """The scheduled job; always ends with one JSON line describing the run."""
    from pipeline.app.chain import ChainResult, run_chain
    from pipeline.crawl.runner import plan_targets, registered_sites
    from pipeline.crawl.scrapyd import node_urls

    published = resolve_db_path(args.db)
    runs_dir = Path(args.runs_dir)
    started = datetime.now(UTC)
    record: dict = {
        "event": "credcheck.run",
        "db": str(published),
        "started_at": started.isoformat(timespec="seconds"),
    }
    result = ChainResult()
    try:
        nodes = node_urls(args.scrapyd) if args.scrapyd else None
        with Workspace(published, "run") as ws:
            targets = plan_targets(list(registered_sites()), [])
            result = run_chain(
                ws,
                targets,
                runs_dir=runs_dir,
                settings=_parse_settings(args.setting),
                publish_as="run",
                announce=lambda step: log(f"credcheck run: {step}"),
                scrapyd=nodes,
                scrapyd_timeout=args.scrapyd_timeout,
            )
        code = EXIT_FAILED if result.sites_failed else EXIT_OK
        if result.sites_failed:
            failed = result.sites_failed
            log(f"credcheck: error: {len(failed)} site(s) failed: {', '.join(failed)}", error=True)
    except (Exception, KeyboardInterrupt) as exc:  # the JSON line must still say what happened
        code = exit_code_for(exc)
        message = error_message(exc)
        if message:
            print(message, file=sys.stderr)
        if not isinstance(exc, KeyboardInterrupt):
            record["error"] = message.removeprefix("credcheck: error: ") if message else str(exc)
    if result.outcomes:
        record["sites_ok"], record["sites_failed"] = result.sites_ok, result.sites_failed
    if result.nodes is not None:
        record["nodes"] = result.nodes
    if result.published:
        record.update(
            publish_id=result.published.publish_id,
            listings=result.published.listings,
            matched=result.published.matched,
            physicians=result.published.physicians,
            changes=result.published.changes,
        )
    finished = datetime.now(UTC)
    status = STATUS[code]
    if code == EXIT_FAILED and result.published:
        status = "partial"  # what succeeded was published
    record.update(
        finished_at=finished.isoformat(timespec="seconds"),
        seconds=round((finished - started).total_seconds(), 1),
        exit_code=code,
        status=status,
    )
    emit_run_record(record, runs_dir)
    return code


def cmd_lookup(args) -> int:
    from pipeline.db.store import open_db
    from pipeline.lookup import lookup

    started = time.perf_counter()
    with open_db(resolve_db_path(args.db), read_only=True) as con:
        result = lookup(
            con,
            args.name,
            state=args.state,
            specialty=args.specialty,
            institution=args.institution,
            limit=args.limit,
        )
    print_frame(result, args.format, empty="no matching physicians")
    if args.format == "table":
        print(f"({len(result)} shown, {1000 * (time.perf_counter() - started):.0f} ms)")
    return EXIT_OK


def cmd_find(args) -> int:
    from pipeline.db.store import open_db
    from pipeline.lookup import find

    with open_db(resolve_db_path(args.db), read_only=True) as con:
        result = find(
            con, args.specialty, state=args.state, institution=args.institution, limit=args.limit
        )
    print_frame(result, args.format, empty="no matching physicians")
    return EXIT_OK


def cmd_explain(args) -> int:
    from pipeline.db.store import open_db
    from pipeline.match.explain import explain

    with open_db(resolve_db_path(args.db), read_only=True) as con:
        print(explain(con, args.listing_id))
    return EXIT_OK


def cmd_serve(args) -> int:
    from pipeline.web import serve

    db = resolve_db_path(args.db)
    if not db.exists():
        print(
            f"credcheck: warning: no database at {db} yet; pages answer 503 until a run "
            "publishes one",
            file=sys.stderr,
        )
    print(f"credcheck: serving {db} read-only at http://{args.host}:{args.port}/", flush=True)
    serve(db, host=args.host, port=args.port, access_log=not args.no_access_log)
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
    p.add_argument(
        "--mapping",
        metavar="MAP.toml",
        help="boards only: map another layout (column names, status vocabulary, date formats, "
        "several certificates per row) onto the canonical board CSV; see "
        "docs/examples/board_mapping.toml",
    )

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
        "2 usage or input error, 3 another job holds the lock (nothing done), 130 interrupted. "
        "All sites are crawled at once, one crawl process per core, each site at its own "
        "polite pace; with --scrapyd, on Scrapyd nodes instead.",
    )
    add_crawl_options(p)
    p.add_argument(
        "--scrapyd",
        action="append",
        default=[],
        metavar="URL|TARGET",
        help="crawl on this Scrapyd node (repeatable): a URL, a [deploy:TARGET] of scrapy.cfg, "
        "or 'all' of them; the sites are shared among the nodes, a site never split, and a "
        "dead node's sites go to the others (README: Crawling on Scrapyd nodes)",
    )
    p.add_argument(
        "--scrapyd-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="a Scrapyd node silent this long is dead; its sites go to the others (default: 30)",
    )

    p = add("lookup", "find a physician by name and show what the records confirm", cmd_lookup)
    p.add_argument(
        "name", metavar="NAME", help="the name as you would type it, e.g. 'Dr. Bob Smith'"
    )
    p.add_argument("--state", help="two-letter state, e.g. MA")
    p.add_argument("--specialty", help="specialty, e.g. cardiology")
    p.add_argument("--institution", help="hospital or school name (or site id)")
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

    p = add(
        "serve",
        "a read-only web app over the published database",
        cmd_serve,
        "Serve search, physician pages with their evidence, verified specialists (with CSV "
        "export), discrepancies, changes and JSON endpoints (docs/web.md) over the published "
        "file, read-only. A run that publishes a new file is served from the next request on.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    p.add_argument("--no-access-log", action="store_true", help="do not log each request")

    p = add("sites", "list the site registry", cmd_sites)
    add_format(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CredcheckError, KeyboardInterrupt, BrokenPipeError) as exc:
        message = error_message(exc)
        if message:
            print(message, file=sys.stderr)
        return exit_code_for(exc)


if __name__ == "__main__":
    sys.exit(main())
