"""Fit the matcher's probability calibration on demo worlds of the *fitting* seeds.

    python -m bench.calibrate                  # the fitting seeds, 3,000 physicians each
    python -m bench.calibrate --seeds 101 102 --physicians 1500

Each seed runs the whole demo path (``credcheck demo``: generate, serve, crawl, load, match) in
a child process; then the best candidate of every listing gives (match weight, is it the true
person) and ``pipeline.match.evaluate.fit_calibration`` fits ``CALIBRATION_SLOPE`` and
``CALIBRATION_SHIFT_BITS`` (pipeline/match) on all of them together. The tests assert quality on
other seeds only (``pipeline.match.evaluate.ASSERTION_SEEDS``): this refuses those.

The last line is ``calibration: seeds=... slope=A shift_bits=B brier=C listings=N``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import numpy as np
import pandas as pd

from pipeline.match.evaluate import ASSERTION_SEEDS, FITTING_SEEDS, fit_calibration


def best_candidates(db: Path, truth_csv: Path) -> pd.DataFrame:
    """One row per listing with a candidate: its match weight and whether it is the truth."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        scored = con.execute(
            """SELECT l.site_id, l.source_url, m.candidate_npi,
                      CAST(m.comparisons->>'match_weight' AS DOUBLE) AS weight
               FROM listing_matches m JOIN listings l USING (listing_id)
               WHERE m.candidate_npi IS NOT NULL"""
        ).df()
    finally:
        con.close()
    scored["path"] = [urlsplit(u).path for u in scored["source_url"]]
    truth = pd.read_csv(truth_csv, dtype=str, keep_default_na=False)
    joined = scored.merge(truth, on=["site_id", "path"])
    joined["correct"] = joined["candidate_npi"] == joined["npi"]
    return joined[["weight", "correct"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.calibrate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=list(FITTING_SEEDS),
        help=f"demo world seeds to fit on (default {' '.join(map(str, FITTING_SEEDS))})",
    )
    parser.add_argument("--physicians", type=int, default=3000, help="per world (default 3000)")
    args = parser.parse_args(argv)
    reserved = sorted(set(args.seeds) & set(ASSERTION_SEEDS))
    if reserved:
        parser.error(f"seeds {reserved} are assertion seeds: never fit on them")

    frames = []
    with tempfile.TemporaryDirectory(prefix="calibrate-") as tmp:
        for seed in args.seeds:
            world, db = Path(tmp) / f"world{seed}", Path(tmp) / f"demo{seed}.duckdb"
            command = [sys.executable, "-m", "pipeline.cli", "demo", "--seed", str(seed)]
            command += ["--physicians", str(args.physicians), "--db", str(db)]
            command += ["--world", str(world)]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                sys.stderr.write(done.stderr)
                raise SystemExit(f"demo on seed {seed} failed (exit {done.returncode})")
            score = next(x for x in done.stdout.splitlines() if x.startswith("identity "))
            print(f"seed {seed}: {score}", flush=True)
            frames.append(best_candidates(db, world / "truth.csv"))
    data = pd.concat(frames, ignore_index=True)
    slope, shift = fit_calibration(data["weight"], data["correct"])
    p = 1.0 / (1.0 + np.power(2.0, -np.clip(slope * data["weight"] + shift, -1000, 1000)))
    brier = float(((p - data["correct"].astype(float)) ** 2).mean())
    seeds = ",".join(map(str, args.seeds))
    print(
        f"calibration: seeds={seeds} slope={slope:.3f} shift_bits={shift:.3f} "
        f"brier={brier:.5f} listings={len(data)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
