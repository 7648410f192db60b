"""Fleet benchmark: hundreds of directory sites crawled at once, each at its own polite pace,
against the floor that politeness alone forces.

    python -m bench.fleet --sites 200 --profiles 30 --delay 1 [--faults] [--scrapyd-nodes N]

``--sites`` distinct fixture sites (pipeline.demo.fleet: the three classic directory shapes in
turn, ``--profiles`` listings each) are served on loopback, one port each, and crawled with the
project's default politeness at ``--delay`` (DOWNLOAD_DELAY and AutoThrottle's start delay;
AutoThrottle on, robots.txt obeyed) by the many-sites engine (pipeline.crawl.runner: one crawl
process per core), or, with ``--scrapyd-nodes N``, by N real Scrapyd daemons on loopback
(pipeline.crawl.scrapyd; deployed with scrapyd-deploy, 6 crawls at a time each). ``--faults``
makes 13% of profile pages answer 429/503 with Retry-After (1-3 s) the first time and 3% answer
503 without it (pipeline.demo.faults.RateLimits).

The floor comes from the server's request log: for each site, the sum over its consecutive
requests of the wait it asked for (the delay, or a Retry-After), i.e. what even an infinitely
fast crawler must spend on it; the slowest site's floor is the fleet's. Printed, then last:

    sites: ok=K failed=F listings expected=E found=N lost=L duplicated=D
    politeness: delay=1.0 closest_gap_s=G closest_two_gaps_s=H retry_after_pauses=P
        shortest_pause_kept_s=K
    fleet: sites=200 pages=P seconds=S floor_seconds=F ratio=R peak_rss_mb=M

where pages counts the requests the sites answered, S is the crawl's wall time (processes
started, sites closed, feeds read; node start-up and deployment excluded), R = F / S, and M the
peak of the crawl processes' resident memory summed (sampled every 0.2 s from /proc). Targets:
ratio >= 0.8 at 200 sites (>= 0.7 with --faults), peak RSS <= 1.5 GB; nothing lost or duplicated
(the exit code is 1 otherwise).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from pipeline.crawl.runner import CrawlTarget, crawl_sites
from pipeline.crawl.scrapyd import ScrapydFleet
from pipeline.demo.faults import RateLimits
from pipeline.demo.fleet import fleet_sites, politeness
from pipeline.demo.nodes import deploy, scrapyd_nodes
from pipeline.demo.run import write_demo_registry
from pipeline.demo.server import serve_sites


class RssSampler(threading.Thread):
    """Peak of the summed resident memory of the processes whose command line names ``mark``
    and one of ``programs``."""

    def __init__(self, mark: str, programs: tuple[str, ...]):
        super().__init__(daemon=True)
        self.mark, self.programs = mark.encode(), tuple(p.encode() for p in programs)
        self.peak_kb = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.2):
            total = 0
            for proc in Path("/proc").iterdir():
                try:
                    cmdline = (proc / "cmdline").read_bytes()
                    if self.mark in cmdline and any(p in cmdline for p in self.programs):
                        status = (proc / "status").read_text()
                        total += int(status.split("VmRSS:")[1].split()[0])
                except (OSError, IndexError, ValueError):
                    continue
            self.peak_kb = max(self.peak_kb, total)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fleet", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--profiles", type=int, default=30, help="listings per site")
    parser.add_argument("--delay", type=float, default=1.0, help="DOWNLOAD_DELAY (seconds)")
    parser.add_argument("--faults", action="store_true", help="Retry-After and 503 answers")
    parser.add_argument("--scrapyd-nodes", type=int, default=0, metavar="N")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    sites = fleet_sites(args.sites, args.profiles, seed=args.seed)
    log: list[dict] = []
    faults = (lambda site: RateLimits(site, seed=args.seed)) if args.faults else False
    settings = {
        "DOWNLOAD_DELAY": str(args.delay),
        "AUTOTHROTTLE_START_DELAY": str(args.delay),
        "LOG_LEVEL": "INFO",
    }
    targets = [CrawlTarget(s["site_id"], s["site_id"], {}, None) for s in sites]
    with tempfile.TemporaryDirectory(prefix="credcheck-bench-fleet-") as tmp:
        root = Path(tmp)
        with serve_sites(sites, access_log=log, faults=faults) as urls:
            registry = root / "sites.toml"
            write_demo_registry(registry, {s["site_id"]: s for s in sites}, urls)
            os.environ["CREDCHECK_SITES"] = str(registry)
            if args.scrapyd_nodes:
                env = {"CREDCHECK_SITES": str(registry)}
                with scrapyd_nodes(
                    args.scrapyd_nodes, root / "nodes", env=env, max_proc=6
                ) as nodes:
                    deploy(nodes, root / "project", env)
                    sampler = RssSampler(str(root), ("scrapyd.runner",))
                    sampler.start()
                    started = time.monotonic()
                    fleet = ScrapydFleet(
                        [n.url for n in nodes], settings=settings, log=print, poll=0.5
                    )
                    outcomes = fleet.crawl(targets, runs_dir=root / "runs")
                    seconds = time.monotonic() - started
                    for url, report in fleet.report().items():
                        print(f"node {url}: {report}")
            else:
                sampler = RssSampler(str(root), ("spiders.fleet",))
                sampler.start()
                started = time.monotonic()
                outcomes = crawl_sites(
                    targets, runs_dir=root / "runs", settings=settings, announce=print
                )
                seconds = time.monotonic() - started
            sampler.stopped.set()
            sampler.join()
            expected = found = lost = duplicated = 0
            for site, outcome in zip(sites, outcomes, strict=True):
                refs = [item["ref"] for item in outcome.items]
                wanted = {listing["id"] for listing in site["listings"]}
                expected += len(wanted)
                found += len(set(refs) & wanted)
                lost += len(wanted - set(refs))
                duplicated += len(refs) - len(set(refs))
    seen = politeness(log, args.delay)
    failed = [o.target.site_id for o in outcomes if not o.ok]
    pauses = [pause for site in seen.values() for pause in site.pauses]
    floor = max(site.floor for site in seen.values())
    print(
        f"sites: ok={len(outcomes) - len(failed)} failed={len(failed)} listings "
        f"expected={expected} found={found} lost={lost} duplicated={duplicated}"
    )
    print(
        f"politeness: delay={args.delay} "
        f"closest_gap_s={min(site.closest for site in seen.values()):.3f} "
        f"closest_two_gaps_s={min(site.closest_pair for site in seen.values()):.3f} "
        f"retry_after_pauses={len(pauses)} shortest_pause_kept_s="
        f"{min((waited - asked for asked, waited in pauses), default=0.0):+.3f}"
    )
    print(
        f"fleet: sites={len(sites)} pages={len(log)} seconds={seconds:.1f} "
        f"floor_seconds={floor:.1f} ratio={floor / seconds:.2f} "
        f"peak_rss_mb={sampler.peak_kb // 1024}"
    )
    return 1 if lost or duplicated or failed else 0


if __name__ == "__main__":
    sys.exit(main())
