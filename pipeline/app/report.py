"""How results are shown to people: tables, JSON, CSV, progress lines."""

from __future__ import annotations

import sys

import pandas as pd
from tabulate import tabulate


def print_frame(frame: pd.DataFrame, fmt: str, empty: str = "no rows") -> None:
    """Print a result as a table (lists one item per line), JSON records or CSV."""
    if fmt == "json":
        print(frame.to_json(orient="records", indent=2, force_ascii=False))
    elif fmt == "csv":
        print(frame_csv(frame), end="")
    elif frame.empty:
        print(empty)
    else:
        flat = frame.map(lambda v: "\n".join(map(str, v)) if isinstance(v, list) else v)
        print(tabulate(flat, headers="keys", tablefmt="simple_grid", showindex=False))


def frame_csv(frame: pd.DataFrame) -> str:
    """A result as CSV, list values joined by "; " (what `--format csv` prints)."""
    flat = frame.map(lambda v: "; ".join(map(str, v)) if isinstance(v, list) else v)
    return flat.to_csv(index=False)


def crawl_progress(outcome) -> None:
    target = outcome.target
    if outcome.ok:
        pages = outcome.stats.get("response_received_count", 0)
        print(
            f"crawled {target.site_id}: {outcome.item_count} listings from {pages} pages"
            f"{rendered_note(outcome.stats)} in {outcome.seconds:.1f}s "
            f"(log: {outcome.run_dir / 'crawl.log'})",
            flush=True,
        )
    else:
        print(
            f"credcheck: error: crawl of {target.site_id} failed: {outcome.error}", file=sys.stderr
        )


def rendering(stats: dict) -> dict[str, int]:
    """A site's client-rendered pages (spiders.render): rendered in a browser, the requests the
    browser made for them (scripts, data; aborted ones not counted), and shells left unread
    for want of a browser."""
    asked = (stats.get("playwright/request_count", 0)
             - stats.get("playwright/request_count/aborted", 0)
             - stats.get("playwright/request_count/navigation", 0))  # fmt: skip
    return {
        "pages": stats.get("credcheck/render/app_shells", 0),
        "browser_requests": max(asked, 0),
        "without_browser": stats.get("credcheck/render/no_browser", 0),
    }


def rendered_note(stats: dict) -> str:
    """" (N rendered in a browser, which asked M more)", or "" for a server-rendered site."""
    counts = rendering(stats)
    if not counts["pages"]:
        return ""
    pages, asked = counts["pages"], counts["browser_requests"]
    return f" ({pages} rendered in a browser, which asked {asked} more)"


def print_match_summary(summary) -> None:
    print(
        f"matched {summary.matched} of {summary.listings} listings "
        f"({summary.ambiguous} ambiguous, {summary.unmatched} unmatched); "
        f"board certificates tied to NPIs: {summary.certificates_linked}/"
        f"{summary.certificates_total}; exclusions tied to NPIs: {summary.exclusions_linked}"
    )


def print_publish(result) -> None:
    print(
        f"published {result.path}: {result.listings} listings, {result.physicians} physicians, "
        f"{result.changes} changes since the previous run ({result.publish_id}, "
        f"{result.seconds:.1f}s)",
        flush=True,
    )
