"""Serve generated sites by hand: ``python -m pipeline.demo.sitegen SEED [SEED ...]``."""

from __future__ import annotations

import argparse
import time

from pipeline.demo.sitegen import GeneratedSite, serve_generated_sites


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.demo.sitegen",
        description="Serve random directory sites on 127.0.0.1 (one per seed) until Ctrl-C.",
    )
    parser.add_argument("seeds", nargs="+", type=int, help="one site per seed")
    parser.add_argument("--people", type=int, help="people per site (default: random)")
    args = parser.parse_args(argv)
    sites = [GeneratedSite(seed, people=args.people) for seed in args.seeds]
    with serve_generated_sites(sites) as served:
        for s in served:
            print(f"seed {s.site.seed}\t{'  '.join(s.start_urls)}")
            print("  " + ", ".join(f"{k}={v}" for k, v in s.site.options.items()), flush=True)
        print("Serving; press Ctrl-C to stop.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
