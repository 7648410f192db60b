"""Benchmark: ``credcheck lookup`` on a published file with a million resolved physicians.

    python -m bench.lookup [--physicians 1000000] [--queries 300] [--db PATH]

Synthesizes the published tables that lookup reads (``physicians``, ``lookup_entries``,
``lookup_keys``) directly in DuckDB — names drawn from the 2000 census surname and first-name
lists (so "Smith" is as common as it is in the US) plus a long tail of made-up surnames — then
times ``lookup()`` on noisy names (typos, nicknames, "Dr." and degrees, "LAST, First", case)
against an exact-equality SQL query on the same database, in the same run. The last line is

    lookup: physicians=N queries=Q top10=K p50_ms=A p95_ms=B exact_p50_ms=C
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pipeline.config import DATA_DIR
from pipeline.lookup import LOOKUP_ENTRIES_FROM_PHYSICIANS, build_lookup_tables, lookup

DEMO_DATA = DATA_DIR / "demo"
STATES = ["MA", "TX", "CA", "NY", "FL", "IL", "PA", "OH", "GA", "NC", "MI", "WA", "AZ", "CO"]
SPECIALTIES = [
    ("Internal Medicine", "American Board of Internal Medicine", "Internal Medicine"),
    ("Cardiology", "American Board of Internal Medicine", "Cardiovascular Disease"),
    ("Family Medicine", "American Board of Family Medicine", "Family Medicine"),
    ("Pediatrics", "American Board of Pediatrics", "Pediatrics"),
    ("Dermatology", "American Board of Dermatology", "Dermatology"),
    ("OB/GYN", "American Board of Obstetrics and Gynecology", "Obstetrics and Gynecology"),
    ("Emergency Medicine", "American Board of Emergency Medicine", "Emergency Medicine"),
    ("Neurology", "American Board of Psychiatry and Neurology", "Neurology"),
]
SYLLABLES = [
    "al", "an", "ar", "ba", "bel", "ber", "bo", "bran", "ca", "car", "chen", "da", "del", "din",
    "do", "el", "en", "er", "fa", "fer", "ga", "gar", "go", "ha", "han", "hol", "ka", "kel",
    "ko", "la", "lan", "le", "li", "lo", "ma", "man", "mar", "mo", "na", "nel", "no", "o", "pa",
    "per", "ra", "ran", "ri", "ro", "sa", "san", "sel", "so", "ta", "ten", "to", "va", "ver",
    "vi", "wa", "win", "ya", "zo",
]  # fmt: skip


def _census_first() -> tuple[list[str], np.ndarray]:
    names, weights = [], []
    for sex in ("male", "female"):
        for line in (DEMO_DATA / f"dist.{sex}.first").read_text("ascii").splitlines():
            parts = line.split()
            names.append(parts[0].title())
            weights.append(float(parts[1]))
    w = np.array(weights)
    return names, w / w.sum()


def _census_surnames() -> tuple[list[str], np.ndarray]:
    with (DEMO_DATA / "census_2000_surnames_top5000.csv").open(encoding="ascii") as fh:
        rows = list(csv.DictReader(fh))
    w = np.array([float(r["count"]) for r in rows])
    return [r["name"].title() for r in rows], w / w.sum()


def _nicknames() -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    with (DEMO_DATA / "nicknames.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["relationship"] == "has_nickname":
                table.setdefault(row["name1"], []).append(row["name2"])
    return table


def synthesize(con: duckdb.DuckDBPyConnection, n: int, seed: int = 42) -> None:
    """Create physicians, lookup_entries and lookup_keys for ``n`` resolved physicians."""
    rng = np.random.default_rng(seed)
    firsts, first_w = _census_first()
    census, census_w = _census_surnames()
    # 55% of surnames from the census top 5000 by frequency, the rest a long tail.
    syllables = np.array(SYLLABLES, dtype=object)
    picks = syllables[rng.integers(0, len(SYLLABLES), size=(250_000, 3))]
    three = rng.random(250_000) < 0.4
    tail_names = sorted({(a + b + (c if t else "")).title() for (a, b, c), t in zip(picks, three)})
    from_census = rng.random(n) < 0.55
    last = np.where(
        from_census,
        np.array(census, dtype=object)[rng.choice(len(census), size=n, p=census_w)],
        np.array(tail_names, dtype=object)[rng.integers(0, len(tail_names), size=n)],
    )
    first = np.array(firsts, dtype=object)[rng.choice(len(firsts), size=n, p=first_w)]
    middle = np.array([*"ABCDEFGHJKLMNPRSTW", None, None, None], dtype=object)[
        rng.integers(0, 21, size=n)
    ]
    frame = pd.DataFrame(
        {
            "npi": [str(1_000_000_000 + i) for i in range(n)],
            "first": first,
            "middle": middle,
            "last": last,
            "practice_state": np.array(STATES, dtype=object)[rng.integers(0, len(STATES), n)],
            "specialty": rng.integers(0, len(SPECIALTIES), n),
            "status": np.array(["active"] * 8 + ["lapsed", "expired"], dtype=object)[
                rng.integers(0, 10, n)
            ],
            "excluded": rng.random(n) < 0.002,
            "site": np.array([f"site-{i:02d}" for i in range(40)], dtype=object)[
                rng.integers(0, 40, n)
            ],
        }
    )
    specialties = pd.DataFrame(SPECIALTIES, columns=["claimed", "board", "certificate"])
    specialties["specialty"] = range(len(specialties))
    con.register("bench_people", frame)
    con.register("bench_specialties", specialties)
    con.execute(
        """CREATE TABLE physicians AS
           SELECT p.npi, p.npi AS person_id,
                  concat_ws(' ', p.first, p.middle, p.last) AS name,
                  p.first, p.middle, p.last, NULL::VARCHAR AS suffix,
                  ['MD'] AS credentials, true AS physician, NULL::VARCHAR AS gender,
                  NULL::VARCHAR AS practice_city, p.practice_state,
                  [p.practice_state] AS states,
                  [s.certificate] AS specialties,
                  [s.claimed] AS claimed_specialties,
                  CASE WHEN p.status = 'active' THEN 'certified' ELSE 'lapsed' END
                      AS certification,
                  [p.site] AS sites,
                  [{'board': s.board, 'certificate': s.certificate,
                    'certificate_type': 'specialty', 'status': p.status,
                    'expiration': NULL::DATE}] AS certificates,
                  p.excluded
           FROM bench_people p JOIN bench_specialties s USING (specialty)
           ORDER BY p.npi"""
    )
    build_lookup_tables(
        con,
        LOOKUP_ENTRIES_FROM_PHYSICIANS,
        frame[["npi", "first", "last"]].rename(columns={"npi": "person_key"}),
    )
    con.unregister("bench_people")
    con.unregister("bench_specialties")
    con.execute("CHECKPOINT")


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 2)
    kind = rng.choice(("swap", "drop", "double", "change"))
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice("aeiourstn") + word[i + 1 :]


def noisy_queries(
    con: duckdb.DuckDBPyConnection, count: int, seed: int = 7
) -> list[tuple[str, str, str, str]]:
    """(typed, npi, first, last) of random physicians, typed the way people type names."""
    rng = random.Random(seed)
    nicknames = _nicknames()
    total = con.execute("SELECT count(*) FROM physicians").fetchone()[0]
    picks = sorted(rng.sample(range(total), min(count, total)))
    rows = con.execute(
        "SELECT npi, first, middle, last FROM physicians WHERE npi IN (SELECT unnest(?))",
        [[str(1_000_000_000 + i) for i in picks]],
    ).fetchall()
    rng.shuffle(rows)
    queries = []
    for npi, first, middle, last in rows:
        typed_first = first
        if rng.random() < 0.3 and nicknames.get(first.lower()):
            typed_first = rng.choice(nicknames[first.lower()]).title()
        typed_last = _typo(last, rng) if rng.random() < 0.6 else last
        parts = [typed_first, *([middle] if middle and rng.random() < 0.2 else []), typed_last]
        typed = " ".join(parts)
        if rng.random() < 0.2:
            typed = f"{typed_last.upper()}, {typed_first}"
        if rng.random() < 0.4:
            typed = "Dr. " + typed
        if rng.random() < 0.3:
            typed += rng.choice([", MD", " M.D.", ", DO", " MD FACC"])
        if rng.random() < 0.3:
            typed = typed.lower()
        queries.append((typed, npi, first, last))
    return queries


def _ms(seconds: list[float], q: float) -> float:
    return 1000 * float(np.quantile(seconds, q))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--physicians", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--db", type=Path, help="keep the synthesized database here")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-lookup-") as tmp:
        db = args.db or Path(tmp) / "bench.duckdb"
        db.unlink(missing_ok=True)
        started = time.perf_counter()
        build = duckdb.connect(str(db))
        synthesize(build, args.physicians)
        keys = build.execute("SELECT count(*) FROM lookup_keys").fetchone()[0]
        build.close()
        print(
            f"synthesized {args.physicians} physicians ({keys} lookup keys) in "
            f"{time.perf_counter() - started:.1f}s -> {db}",
            flush=True,
        )

        con = duckdb.connect(str(db), read_only=True)
        queries = noisy_queries(con, args.queries)
        for typed, *_ in queries[:5]:  # warm caches (nickname table, file pages)
            lookup(con, typed)
        fuzzy, exact, found = [], [], 0
        for typed, npi, first, last in queries:
            t0 = time.perf_counter()
            result = lookup(con, typed, limit=10)
            fuzzy.append(time.perf_counter() - t0)
            found += npi in set(result["npi"])
            t0 = time.perf_counter()
            con.execute(
                "SELECT npi, name, practice_state, certification FROM physicians "
                "WHERE last = ? AND first = ?",
                [last, first],
            ).fetchall()
            exact.append(time.perf_counter() - t0)
        con.close()

    print(f"examples: {', '.join(repr(q[0]) for q in queries[:4])}")
    print(
        f"the physician typed was among the top 10 for {found}/{len(queries)} noisy names; "
        f"lookup max {1000 * max(fuzzy):.1f} ms, mean {1000 * statistics.mean(fuzzy):.1f} ms"
    )
    print(
        f"lookup: physicians={args.physicians} queries={len(queries)} top10={found} "
        f"p50_ms={_ms(fuzzy, 0.5):.1f} "
        f"p95_ms={_ms(fuzzy, 0.95):.1f} exact_p50_ms={_ms(exact, 0.5):.1f}"
    )


if __name__ == "__main__":
    main()
