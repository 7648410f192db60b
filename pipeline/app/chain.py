"""The one chain of steps every job runs: crawl -> ingest -> match -> publish.

``credcheck crawl`` stops after ingest; ``credcheck run`` and ``credcheck demo`` go on to match
and publish. Each step reads what the previous one stored, so a job that stops part-way leaves
the work database consistent and the published file untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.app.report import crawl_progress, print_match_summary, print_publish
from pipeline.app.workspace import Workspace
from pipeline.crawl.ingest import ingest_outcomes, previous_pages_for
from pipeline.crawl.runner import DISCOVERY_KEY, CrawlOutcome, CrawlTarget, crawl_sites
from pipeline.crawl.scrapyd import ScrapydFleet
from pipeline.publish import PublishResult, publish
from pipeline.resolve import MatchSummary, run_match


@dataclass
class ChainResult:
    outcomes: list[CrawlOutcome] = field(default_factory=list)
    nodes: dict[str, dict] | None = None  # a crawl on Scrapyd nodes: what each node did
    summary: MatchSummary | None = None
    published: PublishResult | None = None

    @property
    def sites_ok(self) -> list[str]:
        return [o.target.site_id for o in self.outcomes if o.ok]

    @property
    def sites_failed(self) -> list[str]:
        return [o.target.site_id for o in self.outcomes if not o.ok]


def run_chain(
    ws: Workspace,
    targets: list[CrawlTarget],
    *,
    runs_dir: Path,
    settings: dict[str, str],
    incremental: bool = True,
    publish_as: str | None = None,
    stop_unless_all_crawled: bool = False,
    announce: Callable[[str], None] = lambda step: None,
    scrapyd: list[str] | None = None,
    scrapyd_timeout: float = 30.0,
) -> ChainResult:
    """Crawl ``targets`` and ingest what was crawled; then, with ``publish_as`` (the command
    recorded in ``publish_runs``), match and publish.

    ``incremental``: ask again with the last crawl's ETag / Last-Modified per page (a full crawl
    still starts from the URL templates a zero-config crawl learned). A site whose
    crawl failed keeps its previous listings (a scheduled run still publishes the others). When
    no site was crawled, a crawl alone does not even open the database; with
    ``stop_unless_all_crawled`` nothing is stored unless every site was crawled. ``scrapyd``:
    Scrapyd node URLs to crawl on instead of local processes (pipeline.crawl.scrapyd).
    """
    result = ChainResult()
    previous = {}
    weights = {}
    if ws.has_data():
        with ws.work() as con:
            previous = previous_pages_for(con, targets)
        weights = {site: len(pages) for site, pages in previous.items()}
        if not incremental:  # every page again, but still from the URL templates learned
            previous = {site: {DISCOVERY_KEY: pages[DISCOVERY_KEY]} if DISCOVERY_KEY in pages
                        else {} for site, pages in previous.items()}  # fmt: skip
    if scrapyd:
        fleet = ScrapydFleet(
            scrapyd, settings=settings, log=announce, node_timeout=scrapyd_timeout
        )
        result.outcomes = fleet.crawl(
            targets, runs_dir=runs_dir, progress=crawl_progress, weights=weights
        )
        result.nodes = fleet.report()
    else:
        result.outcomes = crawl_sites(
            targets, runs_dir=runs_dir, settings=settings, progress=crawl_progress,
            previous=previous, announce=announce, weights=weights,
        )  # fmt: skip
    if (stop_unless_all_crawled and result.sites_failed) or (
        publish_as is None and not result.sites_ok
    ):
        return result
    with ws.work() as con:
        announce("ingesting crawls into the work database")
        ingest_outcomes(con, result.outcomes)
        if publish_as is None:
            return result
        announce("matching")
        result.summary = run_match(con)
        print_match_summary(result.summary)
        announce("publishing")
        result.published = publish(con, ws.published, command=publish_as)
    print_publish(result.published)
    return result
