"""Benchmark: `credcheck load nppes` of an N-row npidata file, against DuckDB's bare read_csv.

    python -m bench.load --rows 1000000 [--dir /tmp/credcheck-bench] [--quirks 0.001]

1. writes (or reuses) a realistic N-row npidata file (``pipeline.demo.nppes_file``: 330 columns,
   iso-8859-1, every field quoted);
2. runs the real CLI, ``credcheck load nppes FILE``, in a child process with a fresh database,
   timing it and taking the child's peak RSS from ``wait4``;
3. in another child, times DuckDB's bare ``read_csv`` of the same file into a table (all
   columns, types sniffed): the ceiling a loader built on DuckDB's reader can approach.

The last line is
``load: rows=N loaded=L rejected=R seconds=S ceiling_seconds=C ratio=C/S peak_rss_mb=M``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pipeline.demo.nppes_file import Quirks, write_nppes_file

CEILING = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
started = time.perf_counter()
con.execute(
    "CREATE TABLE ceiling AS SELECT * FROM read_csv(?, header = true, encoding = 'latin-1')",
    [sys.argv[2]],
)
con.close()
print(time.perf_counter() - started)
"""


def run_child(argv: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, stdout) of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, env=env, text=True)
    assert child.stdout is not None
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"bench.load: {' '.join(argv)} exited with {child.returncode}")
    return seconds, usage.ru_maxrss / 1024, out  # ru_maxrss is in KB on Linux


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "credcheck-bench",
        help="where the generated file is kept (reused when present) and the databases go",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quirks", type=float, default=0.001, help="rate of each file quirk")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    args = parser.parse_args(argv)

    args.dir.mkdir(parents=True, exist_ok=True)
    npidata = args.dir / f"npidata_{args.rows}_s{args.seed}_q{args.quirks}.csv"
    if not npidata.exists():
        started = time.perf_counter()
        partial = npidata.with_suffix(".partial")
        write_nppes_file(partial, args.rows, seed=args.seed, quirks=Quirks.all(args.quirks))
        partial.rename(npidata)
        print(f"generated {npidata} in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    size_mb = npidata.stat().st_size / 1e6

    work = Path(tempfile.mkdtemp(prefix="run-", dir=args.dir))
    try:
        env = dict(os.environ, CREDCHECK_DB=str(work / "credcheck.duckdb"))
        seconds, peak_mb, out = run_child(
            [sys.executable, "-m", "pipeline.cli", "load", "nppes", str(npidata)], env
        )
        print(out.strip(), file=sys.stderr)
        loaded, rejected = (
            int(x) for x in re.search(r"loaded (\d+), rejected (\d+)", out).groups()
        )
        _ceiling_wall, ceiling_rss, ceiling_out = run_child(
            [sys.executable, "-c", CEILING, str(work / "ceiling.duckdb"), str(npidata)]
        )
        ceiling = float(ceiling_out.strip().splitlines()[-1])
        print(
            f"file {size_mb:,.0f} MB; credcheck load nppes {seconds:.1f}s (peak RSS "
            f"{peak_mb:,.0f} MB); bare read_csv {ceiling:.1f}s (peak RSS {ceiling_rss:,.0f} MB)",
            file=sys.stderr,
        )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(
        f"load: rows={args.rows} loaded={loaded} rejected={rejected} seconds={seconds:.2f} "
        f"ceiling_seconds={ceiling:.2f} "
        f"ratio={ceiling / seconds:.2f} peak_rss_mb={peak_mb:.0f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
