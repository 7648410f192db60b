"""Crawl on a fleet of Scrapyd nodes: ``credcheck run --scrapyd URL [--scrapyd URL ...]``.

Each site is one Scrapyd job (``scrapy crawl SITE`` on one node): a site is never split across
nodes, since its politeness lives in one crawler. The sites are shared among the nodes by the
pages each had last run (heaviest first to the least loaded); every node runs its queue with its
own ``max_proc``. The coordinator schedules each site's job, polls the nodes' ``listjobs.json``
and collects each finished job into a local run folder, the same files a local crawl leaves
(pipeline.crawl.runner): the items from the job's ``items_url`` (the node keeps items:
``items_dir`` in its scrapyd.conf), the stats and the URLs found unchanged from the one line
``credcheck-stats: {...}`` that spiders.extensions.RunStatsExtension logs at the end
(``CREDCHECK_STATS_LOG``), read from the job's ``log_url``. The chain then ingests them exactly
as it ingests a local crawl.

A node that has not answered for ``node_timeout`` seconds is dead: its unfinished sites are
scheduled again on the living nodes. A job that ended without its stats line (killed, crashed)
is scheduled again on another node, up to ``max_attempts`` times. A site's result is read only
from the job it is assigned to at that moment, so a node that comes back and finishes an old
job is ignored: nothing is lost, nothing is ingested twice.

Not done on Scrapyd (local crawls do both): conditional re-crawls (the nodes do not see the last
run's ETags, so they fetch every page; ingest still tells unchanged listings by content hash)
and resuming an interrupted site (a re-queued site starts over).
"""

from __future__ import annotations

import configparser
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import REPO_ROOT, CredcheckError
from pipeline.crawl.runner import CrawlOutcome, CrawlTarget, SiteJob, collect_site
from pipeline.db.store import new_id

PROJECT = "credcheck"
STATS_MARKER = "credcheck-stats: "


def node_urls(values: list[str], config: Path = REPO_ROOT / "scrapy.cfg") -> list[str]:
    """Scrapyd URLs from ``--scrapyd`` values: a URL, or a ``[deploy:NAME]`` target of
    scrapy.cfg (the file ``scrapyd-deploy`` deploys to the same nodes from), or ``all`` of them.
    """
    parser = configparser.ConfigParser()
    parser.read(config)
    targets = {
        name.split(":", 1)[1]: parser[name]["url"]
        for name in parser.sections()
        if name.startswith("deploy:") and "url" in parser[name]
    }
    urls: list[str] = []
    for value in values:
        if value.startswith(("http://", "https://")):
            urls.append(value)
        elif value == "all" and targets:
            urls += targets.values()
        elif value in targets:
            urls.append(targets[value])
        else:
            known = ", ".join(sorted(targets)) or "none"
            raise CredcheckError(
                f"--scrapyd {value!r}: not a URL nor a [deploy:NAME] target of {config} "
                f"(targets: {known})"
            )
    return list(dict.fromkeys(url.rstrip("/") + "/" for url in urls))


@dataclass
class Node:
    url: str
    alive: bool = True
    last_answer: float = field(default_factory=time.monotonic)
    scheduled: int = 0  # jobs scheduled here
    finished: int = 0  # sites whose result came from here
    failed: int = 0  # jobs that ended without their stats
    requeued: int = 0  # sites moved away from here
    load: int = 0  # pages (by last run) of the sites it has now
    error: str | None = None

    def report(self) -> dict:
        return {
            "alive": self.alive, "jobs": self.scheduled, "sites_crawled": self.finished,
            "jobs_failed": self.failed, "sites_requeued": self.requeued, "error": self.error,
        }  # fmt: skip


@dataclass
class Assignment:
    job: SiteJob
    weight: int
    node: Node | None = None
    jobid: str = ""
    attempts: int = 0
    tried: list[str] = field(default_factory=list)
    missing_polls: int = 0
    outcome: CrawlOutcome | None = None


class ScrapydFleet:
    def __init__(
        self,
        urls: list[str],
        *,
        settings: dict[str, str] | None = None,
        poll: float = 1.0,
        node_timeout: float = 15.0,
        max_attempts: int = 3,
        log: Callable[[str], None] = lambda line: None,
    ):
        if not urls:
            raise CredcheckError("no Scrapyd node given")
        self.nodes = [Node(url) for url in urls]
        self.settings = dict(settings or {})
        self.poll = poll
        self.node_timeout = node_timeout
        self.max_attempts = max_attempts
        self.log = log

    # -- HTTP ----------------------------------------------------------------------------------
    def _call(self, node: Node, path: str, data: dict | None = None, raw: bool = False):
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        url = urllib.parse.urljoin(node.url, path)
        with urllib.request.urlopen(url, data=body, timeout=10) as response:
            content = response.read()
        node.last_answer = time.monotonic()
        if raw:
            return content
        answer = json.loads(content)
        if answer.get("status") == "error":
            raise CredcheckError(f"Scrapyd {node.url}{path}: {answer.get('message')}")
        return answer

    def _check(self, node: Node, spiders: set[str]) -> None:
        try:
            known = set(self._call(node, f"listspiders.json?project={PROJECT}")["spiders"])
        except (OSError, ValueError, CredcheckError) as exc:
            node.alive, node.error = False, f"not reachable or no project {PROJECT!r}: {exc}"
            return
        if missing := spiders - known:
            node.alive = False
            node.error = (
                f"does not know site(s) {', '.join(sorted(missing)[:5])}: deploy the project "
                "(scrapyd-deploy) with the same registry"
            )

    # -- the crawl ------------------------------------------------------------------------------
    def crawl(
        self,
        targets: list[CrawlTarget],
        *,
        runs_dir: Path,
        progress: Callable[[CrawlOutcome], None] = lambda outcome: None,
        weights: dict[str, int] | None = None,
    ) -> list[CrawlOutcome]:
        weights = weights or {}
        for node in self.nodes:
            self._check(node, {t.spider for t in targets})
        if not self.alive:
            raise CredcheckError(
                "no usable Scrapyd node: " + "; ".join(f"{n.url} {n.error}" for n in self.nodes)
            )
        work = []
        for target in sorted(targets, key=lambda t: -weights.get(t.site_id, 0)):
            run_id = new_id("crawl")
            run_dir = runs_dir / run_id
            run_dir.mkdir(parents=True, exist_ok=True)
            job = SiteJob(target, run_id, run_dir, run_dir / "no-jobdir", resumed=False)
            work.append(Assignment(job, weights.get(target.site_id, 0) + 1))
        self._work = work
        for assignment in work:
            self._schedule(assignment)
        self.log(
            f"crawling {len(work)} site(s) on {len(self.alive)} Scrapyd node(s): "
            + ", ".join(f"{n.url} ({n.scheduled})" for n in self.nodes if n.alive)
        )
        while pending := [a for a in work if a.outcome is None]:
            time.sleep(self.poll)
            self._poll(pending, progress)
        by_site = {a.job.target.site_id: a.outcome for a in work}
        return [by_site[t.site_id] for t in targets]  # type: ignore[misc]

    @property
    def alive(self) -> list[Node]:
        return [n for n in self.nodes if n.alive]

    def _schedule(self, a: Assignment, avoid: Node | None = None) -> None:
        """Schedule the site's job on the least loaded living node (not ``avoid`` if another
        lives); a site out of attempts or of nodes fails."""
        while True:
            nodes = [n for n in self.alive if n is not avoid] or self.alive
            if not nodes or a.attempts >= self.max_attempts:
                why = "no Scrapyd node left" if not nodes else f"{a.attempts} attempts failed"
                self._fail(a, f"{why} (tried: {', '.join(a.tried) or 'none'})")
                return
            node = min(nodes, key=lambda n: n.load)
            a.attempts += 1
            a.jobid = f"{a.job.run_id}-{a.attempts}"
            target = a.job.target
            settings = {**self.settings, "CREDCHECK_STATS_LOG": "True"}
            try:
                self._call(node, "schedule.json", {
                    "project": PROJECT, "spider": target.spider, "jobid": a.jobid,
                    "setting": [f"{k}={v}" for k, v in settings.items()],
                    **target.spider_args,
                })  # fmt: skip
            except (OSError, ValueError, CredcheckError) as exc:
                self._dead(node, f"could not schedule: {exc}")
                continue
            a.node, a.missing_polls = node, 0
            a.tried.append(node.url)
            node.scheduled += 1
            node.load += a.weight
            return

    def _poll(self, pending: list[Assignment], progress: Callable[[CrawlOutcome], None]) -> None:
        for node in self.alive:
            mine = [a for a in pending if a.node is node and a.outcome is None]
            if not mine:
                continue
            try:
                jobs = self._call(node, f"listjobs.json?project={PROJECT}")
            except (OSError, ValueError, CredcheckError) as exc:
                if time.monotonic() - node.last_answer > self.node_timeout:
                    self._dead(node, f"no answer for {self.node_timeout:.0f} s: {exc}")
                continue
            finished = {j["id"]: j for j in jobs.get("finished", [])}
            active = {j["id"] for kind in ("pending", "running") for j in jobs.get(kind, [])}
            for a in mine:
                if a.jobid in finished:
                    self._collect(a, finished[a.jobid], progress)
                elif a.jobid not in active:
                    # Finished and already rotated out of listjobs (finished_to_keep), or lost.
                    a.missing_polls += 1
                    if a.missing_polls >= 3:
                        self._collect(a, {}, progress)

    def _dead(self, node: Node, why: str) -> None:
        if not node.alive:
            return
        node.alive, node.error = False, why
        self.log(f"Scrapyd node {node.url} is gone ({why}); its sites go to the others")
        # Every site it had and has not delivered goes elsewhere (its jobs there are ignored).
        for a in [a for a in self._work if a.node is node and a.outcome is None]:
            node.requeued += 1
            node.load -= a.weight
            self._schedule(a, avoid=node)

    def _collect(self, a: Assignment, info: dict, progress: Callable[[CrawlOutcome], None]) -> None:
        node, target = a.node, a.job.target
        assert node is not None
        if info and not info.get("items_url"):
            self._dead(node, "keeps no items: set items_dir in its scrapyd.conf")
            return
        spider, job = urllib.parse.quote(target.spider), urllib.parse.quote(a.jobid)
        log_url = info.get("log_url") or f"/logs/{PROJECT}/{spider}/{job}.log"
        items_url = info.get("items_url") or f"/items/{PROJECT}/{spider}/{job}.jl"
        try:
            log_text = self._call(node, log_url, raw=True).decode("utf-8", "replace")
            record = _stats_record(log_text)
            items = self._call(node, items_url, raw=True) if record else b""
        except urllib.error.HTTPError:  # no log or no items: the job did not end well
            record, items, log_text = None, b"", ""
        except (OSError, ValueError) as exc:
            if time.monotonic() - node.last_answer > self.node_timeout:
                self._dead(node, str(exc))
            return
        run_dir = a.job.run_dir
        (run_dir / "crawl.log").write_text(log_text, encoding="utf-8")
        if record is None:  # killed or crashed: its partial items are not used
            node.failed += 1
            node.load -= a.weight
            self.log(f"site {target.site_id}: job {a.jobid} on {node.url} ended without stats")
            self._schedule(a, avoid=node)
            return
        (run_dir / "items.jsonl").write_bytes(items)
        (run_dir / "stats.json").write_text(json.dumps(record["stats"]))
        (run_dir / "unchanged.json").write_text(json.dumps(record.get("unchanged", [])))
        a.outcome = collect_site(a.job, record["stats"].get("finish_reason", "finished"))
        node.finished += 1
        progress(a.outcome)

    def _fail(self, a: Assignment, why: str) -> None:
        a.outcome = collect_site(a.job, None, why)
        a.outcome.error = f"not crawled on Scrapyd: {why}"

    def report(self) -> dict[str, dict]:
        return {node.url: node.report() for node in self.nodes}


def _stats_record(log_text: str) -> dict | None:
    """The job's ``credcheck-stats`` line (the last one), or None: the job did not end well."""
    at = log_text.rfind(STATS_MARKER)
    if at < 0:
        return None
    line = log_text[at + len(STATS_MARKER) :].split("\n", 1)[0]
    try:
        return json.loads(line)
    except ValueError:
        return None
