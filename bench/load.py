"""Benchmark: `credcheck load nppes` of an N-row npidata file, against DuckDB's bare read of it.

    python -m bench.load --rows 1000000 [--dir /tmp/credcheck-bench] [--quirks 0.001] [--repeat 2]

1. writes (or reuses) a realistic N-row npidata file (``pipeline.demo.nppes_file``: 330 columns,
   iso-8859-1, every field quoted);
2. reads the whole file once, untimed, deciding its encoding the way the loader does (UTF-8 if
   it decodes, else iso-8859-1): both contenders then start with the same page cache;
3. runs, in alternating order (loader, ceiling, ceiling, loader, ... for ``--repeat`` rounds),
   each in a child process timed from start to exit, with its CPU seconds and peak RSS from
   ``wait4``:
   - the real CLI, ``credcheck load nppes FILE``, into a fresh database;
   - the ceiling: DuckDB's bare ``read_csv`` of the same file into a table of a fresh database,
     configured as a careful DuckDB user would for this job — the same columns the loader reads
     (``columns_used``: ~90 of 330), the same types (all VARCHAR, nothing sniffed: the dialect,
     header and types given), the same encoding, DuckDB's default threads, and the same memory
     rule (the loader's read-stage limit, ``MEMORY_LIMITS["read"]``). No repairs, no checks,
     no hashing: what any loader built on DuckDB's reader must at least spend.

The ratio is the ceiling's mean time over the loader's: 1.0 means the loader costs no more than
the bare read. The last line is
``load: rows=N loaded=L rejected=R seconds=S ceiling_seconds=C ratio=C/S peak_rss_mb=M``.
"""

from __future__ import annotations

import argparse
import codecs
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
import sys
import duckdb
from pathlib import Path
from pipeline.sources import nppes
from pipeline.sources.base import MEMORY_LIMITS, Source
from pipeline.sources.csvsql import columns_used, ident, read_csv_sql

db, path, encoding = sys.argv[1:4]
source = Source(Path(path), encoding, "ceiling", "nppes")
select, _ = nppes._nppes_select(source)
columns = ", ".join(ident(c) for c in columns_used(source, select))
con = duckdb.connect(db)
con.execute(f"SET memory_limit = '{MEMORY_LIMITS['read']}'")
con.execute(f"CREATE TABLE ceiling AS SELECT {columns} FROM {read_csv_sql(source)}")
print(con.execute("SELECT count(*) FROM ceiling").fetchone()[0])
con.close()
"""


def run_child(argv: list[str], env: dict | None = None) -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds, peak RSS in MB, stdout) of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, env=env, text=True)
    assert child.stdout is not None
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"bench.load: {' '.join(argv)} exited with {child.returncode}")
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, cpu, usage.ru_maxrss / 1024, out  # ru_maxrss is in KB on Linux


def read_once(path: Path) -> str:
    """Read the whole file (warming the page cache alike for both) and tell its encoding."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 24), b""):
            if utf8:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    utf8 = False
    return "utf-8" if utf8 else "latin-1"


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


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
    parser.add_argument(
        "--repeat", type=int, default=2, help="rounds; the order alternates between rounds"
    )
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
    encoding = read_once(npidata)
    print(f"file {size_mb:,.0f} MB ({encoding}); load average {load_average()}", file=sys.stderr)

    work = Path(tempfile.mkdtemp(prefix="run-", dir=args.dir))
    runs: dict[str, list[tuple[float, float, float]]] = {"loader": [], "ceiling": []}
    loaded = rejected = 0
    try:
        for round_no in range(args.repeat):
            order = ("loader", "ceiling") if round_no % 2 == 0 else ("ceiling", "loader")
            for who in order:
                run_dir = work / f"{who}-{round_no}"
                run_dir.mkdir()
                if who == "loader":
                    env = dict(os.environ, CREDCHECK_DB=str(run_dir / "credcheck.duckdb"))
                    argv = [sys.executable, "-m", "pipeline.cli", "load", "nppes", str(npidata)]
                    seconds, cpu, rss, out = run_child(argv, env)
                    loaded, rejected = (
                        int(x) for x in re.search(r"loaded (\d+), rejected (\d+)", out).groups()
                    )
                else:
                    argv = [sys.executable, "-c", CEILING, str(run_dir / "ceiling.duckdb"),
                            str(npidata), encoding]  # fmt: skip
                    seconds, cpu, rss, _ = run_child(argv)
                runs[who].append((seconds, cpu, rss))
                print(
                    f"round {round_no + 1} {who}: {seconds:.1f}s ({cpu:.1f} CPU s), "
                    f"peak RSS {rss:,.0f} MB "
                    f"(load average {load_average()})",
                    file=sys.stderr,
                )
                if not args.keep:
                    shutil.rmtree(run_dir, ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    def mean(who: str, i: int) -> float:
        return sum(run[i] for run in runs[who]) / len(runs[who])

    seconds, ceiling = mean("loader", 0), mean("ceiling", 0)
    peak_mb = max(r for _, _, r in runs["loader"])
    print(
        f"file {size_mb:,.0f} MB; credcheck load nppes {seconds:.1f}s mean (peak RSS "
        f"{peak_mb:,.0f} MB); bare read_csv {ceiling:.1f}s mean (peak RSS "
        f"{max(r for _, _, r in runs['ceiling']):,.0f} MB); CPU seconds (all threads, what "
        f"other jobs on the machine do not change much): {mean('loader', 1):.1f} against "
        f"{mean('ceiling', 1):.1f}, ratio {mean('ceiling', 1) / mean('loader', 1):.2f}",
        file=sys.stderr,
    )
    print(
        f"load: rows={args.rows} loaded={loaded} rejected={rejected} seconds={seconds:.2f} "
        f"ceiling_seconds={ceiling:.2f} "
        f"ratio={ceiling / seconds:.2f} peak_rss_mb={peak_mb:.0f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
