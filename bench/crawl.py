"""Crawl benchmark: the real spiders with full extraction vs a bare Scrapy spider that fetches the
same pages and parses nothing (the engine's ceiling on this machine), in the same run.

    python -m bench.crawl [--profiles 20000] [--concurrency 16] [--rounds 3] [--breakdown]

A fixture site of ``--profiles`` JSON-LD profile pages (robots.txt -> sitemap index -> child
sitemaps -> profiles; cloned from the test fixture's listings) is served on 127.0.0.1. Each crawl
runs in its own child process with politeness delays off (it is our own loopback server) and the
same concurrency and engine settings (spiders/settings.py; the bare spider keeps the engine
tuning of spiders/engine.py and drops every credcheck middleware, pipeline and extension).

The two crawls alternate for ``--rounds`` rounds (bare, real, bare, real ...): on a shared
virtual machine the CPU's speed drifts by tens of percent over minutes, and one pair of crawls
measures the drift as much as the crawler. Each round prints its own figures; the last line is

    crawl: pages=N items=I responses=Q pages_per_s=X ceiling_pages_per_s=Y ratio=R peak_rss_mb=M

where pages counts profile pages, X and Y are the median profile pages per second of the real
and the bare crawls (wall time of the whole crawl, sitemaps included), R is the median of the
rounds' ratios X/Y, and M is the real crawl's largest peak resident memory.

``--breakdown`` says where the real crawl's time goes: each round also runs the real spider
(same registry entry, middlewares, pipelines, exporter) with its parser taken out, once
parsing nothing (the cost of sitemap discovery: every profile URL is a request yielded from a
callback) and once re-emitting the listing it parsed from the first profile for every page
(Scrapy's cost per item, without extraction). Their CPU milliseconds per profile page, with the
bare and real crawls', come in a ``breakdown:`` line just before the last line.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = REPO_ROOT / "tests" / "fixtures" / "sites" / "mercy-general.json"
SETTINGS = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "LOG_LEVEL": "WARNING",
    "TELNETCONSOLE_ENABLED": "False",
}


def bench_site(profiles: int) -> dict:
    """A site content dict with ``profiles`` listings, cloned from the fixture's."""
    template = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    listings = []
    for n in range(profiles):
        listing = copy.deepcopy(template["listings"][n % len(template["listings"])])
        ref = str(100000 + n)
        listing["id"] = ref
        slug = re.sub(r"[^a-z]+", "-", listing["family_name"].lower()).strip("-")
        listing["path"] = f"/doctors/{slug}-{ref}"
        listings.append(listing)
    return {**template, "site_id": "bench-hospital", "listings": listings}


# The ceiling: fetch exactly the pages the real crawl fetches, parse nothing.
BARE_SPIDER = """
import re
import scrapy

class BareSpider(scrapy.Spider):
    name = "bare"
    custom_settings = {"ITEM_PIPELINES": {}, "SPIDER_MIDDLEWARES": {}, "DOWNLOADER_MIDDLEWARES": {},
                       "EXTENSIONS": {"spiders.engine.GarbageCollectionTuning": 0}}

    def __init__(self, url_file, **kw):
        super().__init__(**kw)
        self.url_file = url_file

    async def start(self):
        for url in open(self.url_file).read().split():
            yield scrapy.Request(url, callback=self.ignore)

    def ignore(self, response):
        return None
"""


# The real spider minus its parser, for --breakdown (see the module docstring).
DISCOVERY_SPIDER = """
from spiders.items import ListingItem
from spiders.platforms.schemaorg_sitemap import SchemaOrgSitemapSpider

class DiscoverySpider(SchemaOrgSitemapSpider):
    name = "discovery"

    def __init__(self, robots_url, emit="nothing", **kw):
        super().__init__(start_urls=[robots_url], site_id="bench-hospital", **kw)
        self.emit, self.listing = emit, None

    def parse_profile(self, response):
        if self.emit == "nothing":
            return
        if self.listing is None:  # parsed once; pipelines replace values, never mutate them
            self.listing = dict(next(iter(super().parse_profile(response))))
        yield ListingItem(self.listing, source_url=response.url, ref=self.ref_for(response.url))
"""
# The crawls of a --breakdown round, in the order they run.
CRAWLS = ("bare", "discovery", "discovery_items", "real")


SCRAPY = [sys.executable, "-m", "scrapy"]


def lines_in(path: Path) -> int:
    with path.open() as file:
        return sum(1 for _ in file)


def run(command: list[str], env: dict) -> tuple[float, float, float]:
    """Run a crawl child; (wall seconds, CPU seconds, peak RSS in MB) from its own rusage."""
    with tempfile.TemporaryFile(mode="w+") as stderr:
        started = time.perf_counter()
        proc = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stderr=stderr)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            stderr.seek(0)
            raise SystemExit(f"crawl failed ({proc.returncode}):\n{stderr.read()[-3000:]}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def settings_args(settings: dict[str, str]) -> list[str]:
    return [arg for name, value in settings.items() for arg in ("-s", f"{name}={value}")]


def main(argv: list[str] | None = None) -> None:
    from pipeline.demo.server import serve_sites

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profiles", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of bare-then-real crawls (median)"
    )
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="also crawl with the real spider's parser taken out (discovery only; discovery "
        "plus a ready-made listing per page) and print CPU ms per page for each",
    )
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.profiles < 1:
        parser.error("--rounds and --profiles must be at least 1")
    settings = {**SETTINGS, "CONCURRENT_REQUESTS": str(args.concurrency),
                "CONCURRENT_REQUESTS_PER_DOMAIN": str(args.concurrency)}  # fmt: skip
    site = bench_site(args.profiles)
    with (
        tempfile.TemporaryDirectory(prefix="bench-crawl-") as tmp_name,
        serve_sites([site]) as urls,
    ):
        tmp = Path(tmp_name)
        base = urls["bench-hospital"]
        registry = tmp / "sites.toml"
        registry.write_text(
            '[sites.bench-hospital]\nname = "Bench Hospital"\nplatform = "schemaorg_sitemap"\n'
            f'start_urls = ["{base}/robots.txt"]\n'
        )
        env = {**os.environ, "CREDCHECK_SITES": str(registry),
               "SCRAPY_SETTINGS_MODULE": "spiders.settings"}  # fmt: skip
        # The same pages: robots.txt, the sitemap index, its child sitemaps, every profile.
        chunks = len(urls.sites["bench-hospital"].chunks())
        pages = [f"{base}/robots.txt", f"{base}/sitemap_index.xml", f"{base}/sitemaps/pages.xml"]
        pages += [f"{base}/sitemaps/doctors-{n}.xml" for n in range(1, chunks + 1)]
        pages += [base + listing["path"] for listing in site["listings"]]
        (tmp / "urls.txt").write_text("\n".join(pages))
        (tmp / "bare.py").write_text(BARE_SPIDER)
        (tmp / "discovery.py").write_text(DISCOVERY_SPIDER)

        breakdown_from = f"{base}/robots.txt" if args.breakdown else None
        rounds = [
            crawl_round(tmp, env, settings, args.profiles, n, breakdown_from=breakdown_from)
            for n in range(args.rounds)
        ]
    n = args.profiles
    real = statistics.median(n / r["real_seconds"] for r in rounds)
    ceiling = statistics.median(n / r["bare_seconds"] for r in rounds)
    ratio = statistics.median(r["bare_seconds"] / r["real_seconds"] for r in rounds)
    peak_mb = max(r["peak_mb"] for r in rounds)
    # The worst round's counts: a crawler that drops pages must not look faster.
    items = min(r["items"] for r in rounds)
    responses = min(r["responses"] for r in rounds)
    if args.breakdown:
        cpu_ms = {
            name: statistics.median(r["cpu_seconds"][name] for r in rounds) / n * 1000
            for name in CRAWLS
        }
        print("breakdown: cpu_ms_per_page " + " ".join(f"{k}={v:.2f}" for k, v in cpu_ms.items()))
    print(
        f"crawl: pages={n} items={items} responses={responses} pages_per_s={real:.1f} "
        f"ceiling_pages_per_s={ceiling:.1f} "
        f"ratio={ratio:.2f} peak_rss_mb={peak_mb:.0f}"
    )


def crawl_round(
    tmp: Path,
    env: dict,
    settings: dict[str, str],
    n: int,
    number: int,
    *,
    breakdown_from: str | None = None,
) -> dict:
    """One round: the bare crawl, the parser-less ones (with ``breakdown_from``, the robots.txt
    URL they start from), then the real one; prints and returns the round's figures."""
    bare_seconds, bare_cpu, _ = run(
        [*SCRAPY, "runspider", str(tmp / "bare.py"),
         "-a", f"url_file={tmp / 'urls.txt'}", *settings_args(settings)],
        env,
    )  # fmt: skip
    cpu_seconds = {"bare": bare_cpu}
    if breakdown_from:
        for name, emit in (("discovery", "nothing"), ("discovery_items", "listing")):
            _, cpu_seconds[name], _ = run(
                [*SCRAPY, "runspider", str(tmp / "discovery.py"),
                 "-a", f"robots_url={breakdown_from}", "-a", f"emit={emit}",
                 "-O", str(tmp / f"{name}.jsonl"), *settings_args(settings)],
                env,
            )  # fmt: skip
            emitted = lines_in(tmp / f"{name}.jsonl")
            if emitted != (n if emit == "listing" else 0):
                print(f"warning: the {name} crawl emitted {emitted} items", file=sys.stderr)
    feed, stats_path = tmp / f"items-{number}.jsonl", tmp / f"stats-{number}.json"
    real_seconds, real_cpu, peak_mb = run(
        [*SCRAPY, "crawl", "bench-hospital", "-O", str(feed),
         "-s", f"CREDCHECK_STATS_PATH={stats_path}", *settings_args(settings)],
        env,
    )  # fmt: skip
    cpu_seconds["real"] = real_cpu
    stats = json.loads(stats_path.read_text())
    items = lines_in(feed)
    if items != n:
        print(f"warning: {items} items extracted from {n} profiles", file=sys.stderr)
    print(
        f"round {number + 1}: real crawl {real_seconds:.1f}s wall, {real_cpu:.1f}s CPU "
        f"({stats.get('response_received_count')} responses, {items} items); bare crawl "
        f"{bare_seconds:.1f}s wall, {bare_cpu:.1f}s CPU; ratio {bare_seconds / real_seconds:.2f} "
        f"(CPU time {bare_cpu / real_cpu:.2f}); real peak RSS {peak_mb:.0f} MB",
        flush=True,
    )
    if breakdown_from:
        print(
            f"round {number + 1} breakdown: CPU ms per profile page "
            + ", ".join(f"{k} {v / n * 1000:.2f}" for k, v in cpu_seconds.items()),
            flush=True,
        )
    return {"real_seconds": real_seconds, "bare_seconds": bare_seconds, "peak_mb": peak_mb,
            "cpu_seconds": cpu_seconds, "items": items,
            "responses": int(stats.get("response_received_count") or 0)}  # fmt: skip


if __name__ == "__main__":
    main()
