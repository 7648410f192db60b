"""Benchmark: credcheck's matcher vs a strong Splink 5 on the same labelled physician-shaped world.

    python -m bench.match --listings 200000 --reference 1000000 [--seed 1] [--skip-splink]
    python -m bench.match --febrl          # FEBRL 4 (5,000 x 5,000) sanity check

The world comes from ``pipeline.demo.linkage_world`` (seeded; its noise is drawn from the
generator's own tables, not the matcher's) and goes through the same staging for both systems
(canonical specialty and school names, ``linkage_world.staged``). Each system runs in its own
child process on the same Parquet files. "seconds" is the wall time from frames in memory to one
decision per listing (training included), excluding reading the files.

Memory, the same rule for both: each system's DuckDB connection gets the same ``memory_limit``
(``--duckdb-memory``, default 3GB; DuckDB spills beyond it), and "peak RSS" is the child
process's maximum resident set as the kernel reports it to the parent (``os.wait4`` rusage):
everything the process held — DuckDB, numpy, pandas, Python — not only what DuckDB counts.

Splink 5 (DuckDB backend), configured as an expert user would (the strong anchor):

- derived columns: names lower-cased, accents folded, dots and apostrophes dropped;
  ``first_keys`` = the first name plus the formal names it may abbreviate, ``first_related`` =
  the name plus its nicknames and formal names both ways (the ``nicknames`` package);
  ``surname_keys`` = surname, the registry's other/former surname, and the parts of compound or
  hyphenated surnames; ``surname_key_dels`` = each surname key and every one-character deletion
  of it; first and surname initials; middle name and initial; ZIP, state, specialty, school,
  year, NPI, physician flag;
- prediction blocking, 10 rules (6 with ``arrays_to_explode``): NPI; any first key x any
  surname key; surname key + ZIP; first key x surname-key deletion; first key + ZIP; surname +
  state + first initial; first name = the other's surname with the initials agreeing (against
  the surname, and against the other surname: two rules); surname-key deletion + ZIP; surname
  key + first initial anywhere;
- comparisons: first name — exact (TF) / initial only / nickname or formal / Damerau-Levenshtein
  <= 1 / equals the other side's surname (swap) / else; surname — exact (TF) / any shared surname
  key / DL <= 1 against surname or other surname / equals the other side's first name / else;
  middle — full name (TF) / initial (TF) / else; location — same ZIP (TF) / same state / else;
  specialty exact (TF); school and year / year +-1 / school / (a school missing) year /
  year +-1 / other year / else; sex — the stated one (NPPES) else the one the first name tells
  (``gender-guesser``, as credcheck reads it) same / different; NPI exact; physician flag;
- training: prior by deterministic rules (first + surname + ZIP, NPI; recall 0.7); u by random
  sampling (1e7 pairs, seed 1); m by EM on two blocks, first + surname and NPI (``max_pairs``
  5e6 each; EM cannot train a comparison whose columns its block uses, so the two blocks train
  each other's);
- decision: each listing's best pair with match probability >= 0.5 (a user without labels).
  The figure at p >= 0.01 (which was best on labelled worlds) is printed too.

Both resolve each listing to at most one reference person. The output gives both systems'
precision, recall, F1, seconds and peak RSS, credcheck's blocking report, recall per kind of
noise for both, and last the line
``match: listings=N reference=M true=T blocked_pairs=P f1=A splink_f1=B seconds=S
splink_seconds=T peak_rss_mb=R splink_peak_rss_mb=Q``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.config import REFERENCE_DIR

FEBRL_DIR = REFERENCE_DIR / "febrl"  # gzipped copies; see data/reference/SOURCES.md
BLOCKING_REPORT_MAX_LISTINGS = 200_000
DUCKDB_MEMORY = "3GB"  # both systems' DuckDB connections get the same cap
SPLINK_THRESHOLD = 0.5  # the probability a user without labels would take as "a match"
SPLINK_LOWEST_THRESHOLD = 0.01  # predictions kept for the after-the-fact comparison


# ------------------------------------------------------------------------------ data


def _write_world(directory: Path, n_listings: int, n_reference: int, seed: int) -> None:
    from pipeline.demo.linkage_world import generate, staged

    listings, reference, truth = generate(n_listings, n_reference, seed)
    listings, reference = staged(listings), staged(reference)
    listings.to_parquet(directory / "listings.parquet")
    reference.to_parquet(directory / "reference.parquet")
    truth.to_parquet(directory / "truth.parquet")


def _write_febrl(directory: Path) -> None:
    """FEBRL 4 as person frames: a and b share ids "rec-N-org" / "rec-N-dup-0"."""
    for side in ("a", "b"):
        raw = pd.read_csv(FEBRL_DIR / f"dataset4{side}.csv.gz", dtype=str, skipinitialspace=True)
        raw.columns = [c.strip() for c in raw.columns]
        frame = pd.DataFrame(
            {
                "rec_id": raw["rec_id"].str.strip(),
                "first": raw["given_name"],
                "middle": None,
                "last": raw["surname"],
                "alt_lasts": None,
                "states": raw["state"],
                "cities": raw["suburb"],
                "zips": raw["postcode"],
                "affiliations": (raw["street_number"].fillna("") + " " + raw["address_1"]),
                "specialties": None,
                "npi": None,
                "physician": None,
                # No date-of-birth comparison in a physician matcher: the date stands in
                # as an exact "school", the SSN is not used.
                "schools": raw["date_of_birth"],
                "grad_years": None,
                "soc_sec_id": raw["soc_sec_id"],
                "street_number": raw["street_number"],
                "address_1": raw["address_1"],
                "date_of_birth": raw["date_of_birth"],
            }
        )
        name = "listings" if side == "a" else "reference"
        frame.to_parquet(directory / f"{name}.parquet")
    a = pd.read_parquet(directory / "listings.parquet")["rec_id"]
    b = set(pd.read_parquet(directory / "reference.parquet")["rec_id"])
    truth = pd.DataFrame({"listing": a, "reference": a.str.replace("-org", "-dup-0")})
    truth[truth["reference"].isin(b)].to_parquet(directory / "truth.parquet")


# ------------------------------------------------------------------------------ systems


def run_credcheck(directory: Path, memory: str = "3GB") -> dict:
    import duckdb

    from pipeline.match import link

    def ids(name: str) -> pd.Series:
        return pd.read_parquet(directory / f"{name}.parquet", columns=["rec_id"])["rec_id"]

    listing_ids, ref_ids = ids("listings"), ids("reference").to_numpy(dtype=object)
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{memory}'")
    start = time.perf_counter()
    # Every candidate pair is kept for the blocking report up to 200,000 listings; beyond, only
    # the count (a national link keeps one chunk's pairs at a time).
    keep = len(listing_ids) <= BLOCKING_REPORT_MAX_LISTINGS
    # The frames are read inside the timed link and handed over, as a national job would:
    # the link keeps their encoding, not the frames.
    decisions, details = link(
        pd.read_parquet(directory / "listings.parquet"),
        pd.read_parquet(directory / "reference.parquet"),
        con=con,
        keep_candidates=keep,
    )
    seconds = time.perf_counter() - start
    matched = decisions["identity"].to_numpy() == "matched"
    pairs = pd.DataFrame(
        {
            "listing": decisions["rec_id"].to_numpy(dtype=object)[matched],
            "reference": ref_ids[decisions["best_r"].to_numpy()[matched]],
        }
    )
    pairs.to_parquet(directory / "credcheck_pairs.parquet")
    from pipeline.match.blocking import blocking_report

    report = pd.DataFrame([{"key": "all", "pairs": details.pairs, "recall": float("nan")}])
    if details.candidates is not None:
        truth = pd.read_parquet(directory / "truth.parquet")
        lpos = pd.Series(np.arange(len(listing_ids)), index=listing_ids)
        rpos = pd.Series(np.arange(len(ref_ids)), index=ref_ids)
        report = blocking_report(
            details.candidates,
            lpos[truth["listing"]].to_numpy(),
            rpos[truth["reference"]].to_numpy(),
        )
    return {
        "seconds": seconds,
        "timings": details.timings,
        "cpu_timings": details.cpu_timings,
        "blocking": report.to_dict("records"),
        "ambiguous": int((decisions["identity"] == "ambiguous").sum()),
    }


def _splink_physician_settings():
    """The strong configuration (see the module docstring): settings, prior rules, EM rules."""
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on
    from splink.blocking_rule_library import CustomRule

    def level(sql: str, label: str, **extra) -> dict:
        return {"sql_condition": sql, "label_for_charts": label, **extra}

    def tf(column: str) -> dict:
        return {"tf_adjustment_column": column, "tf_adjustment_weight": 1.0}

    first_name = cl.CustomComparison(
        output_column_name="first_name",
        comparison_levels=[
            level("first_name_l IS NULL OR first_name_r IS NULL", "null", is_null_level=True),
            level("first_name_l = first_name_r", "exact", **tf("first_name")),
            level(
                "(length(first_name_l) = 1 OR length(first_name_r) = 1)"
                " AND first_initial_l = first_initial_r",
                "initial only",
            ),
            level("list_has_any(first_related_l, first_related_r)", "nickname or formal"),
            level("damerau_levenshtein(first_name_l, first_name_r) <= 1", "DL <= 1"),
            level("first_name_l = surname_r OR first_name_r = surname_l", "swapped"),
            level("ELSE", "else"),
        ],
    )
    surname = cl.CustomComparison(
        output_column_name="surname",
        comparison_levels=[
            level("surname_l IS NULL OR surname_r IS NULL", "null", is_null_level=True),
            level("surname_l = surname_r", "exact", **tf("surname")),
            level("list_has_any(surname_keys_l, surname_keys_r)", "shared surname key"),
            level(
                "damerau_levenshtein(surname_l, surname_r) <= 1"
                " OR damerau_levenshtein(surname_l, coalesce(alt_surname_r, '')) <= 1"
                " OR damerau_levenshtein(coalesce(alt_surname_l, ''), surname_r) <= 1",
                "DL <= 1 (surname or other surname)",
            ),
            level("surname_l = first_name_r OR surname_r = first_name_l", "swapped"),
            level("ELSE", "else"),
        ],
    )
    middle = cl.CustomComparison(
        output_column_name="middle",
        comparison_levels=[
            level(
                "middle_initial_l IS NULL OR middle_initial_r IS NULL", "null", is_null_level=True
            ),
            level("middle_l = middle_r", "full name", **tf("middle")),
            level("middle_initial_l = middle_initial_r", "initial", **tf("middle_initial")),
            level("ELSE", "else"),
        ],
    )
    location = cl.CustomComparison(
        output_column_name="location",
        comparison_levels=[
            level("state_l IS NULL OR state_r IS NULL", "null", is_null_level=True),
            level("zip_l = zip_r", "same ZIP", **tf("zip")),
            level("state_l = state_r", "same state"),
            level("ELSE", "else"),
        ],
    )
    no_school = "(school_l IS NULL OR school_r IS NULL)"
    education = cl.CustomComparison(
        output_column_name="education",
        comparison_levels=[
            level(
                f"{no_school} AND (grad_year_l IS NULL OR grad_year_r IS NULL)",
                "null",
                is_null_level=True,
            ),
            level("school_l = school_r AND grad_year_l = grad_year_r", "school and year"),
            level("school_l = school_r AND abs(grad_year_l - grad_year_r) <= 1", "year +-1"),
            level("school_l = school_r", "school"),
            level(f"{no_school} AND grad_year_l = grad_year_r", "year, a school unknown"),
            level(f"{no_school} AND abs(grad_year_l - grad_year_r) <= 1", "year +-1, no school"),
            level(f"{no_school}", "other year, a school unknown"),
            level("ELSE", "else"),
        ],
    )
    sex = cl.CustomComparison(
        output_column_name="sex",
        comparison_levels=[
            level("sex_l IS NULL OR sex_r IS NULL", "null", is_null_level=True),
            level("sex_l = sex_r", "same"),
            level("ELSE", "different"),
        ],
    )
    swap = "l.first_name = r.{col} AND l.surname_initial = r.first_initial"
    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        comparisons=[
            first_name,
            surname,
            middle,
            location,
            cl.ExactMatch("specialty").configure(term_frequency_adjustments=True),
            education,
            sex,
            cl.ExactMatch("npi"),
            cl.ExactMatch("physician"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("npi"),
            block_on(
                "first_keys", "surname_keys", arrays_to_explode=["first_keys", "surname_keys"]
            ),
            block_on("surname_keys", "zip", arrays_to_explode=["surname_keys"]),
            block_on(
                "first_keys",
                "surname_key_dels",
                arrays_to_explode=["first_keys", "surname_key_dels"],
            ),
            block_on("first_keys", "zip", arrays_to_explode=["first_keys"]),
            block_on("surname", "state", "first_initial"),
            CustomRule(swap.format(col="surname")),
            CustomRule(swap.format(col="alt_surname")),
            block_on("surname_key_dels", "zip", arrays_to_explode=["surname_key_dels"]),
            block_on("surname_keys", "first_initial", arrays_to_explode=["surname_keys"]),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    ), [
        [block_on("first_name", "surname", "zip"), block_on("npi")],
        [block_on("first_name", "surname"), block_on("npi")],
    ]


def _splink_febrl_settings():
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        comparisons=[
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.LevenshteinAtThresholds("date_of_birth", [1, 2]),
            cl.ExactMatch("soc_sec_id"),
            cl.LevenshteinAtThresholds("address_1", [1, 2]).configure(
                term_frequency_adjustments=True
            ),
            cl.ExactMatch("street_number"),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
            cl.ExactMatch("zip").configure(term_frequency_adjustments=True),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("first_name"),
            block_on("surname"),
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
            block_on("zip"),
        ],
        retain_intermediate_calculation_columns=False,
    ), [
        [block_on("first_name", "surname", "date_of_birth")],
        [block_on("date_of_birth"), block_on("surname")],
    ]


def _splink_name(text) -> str | None:
    """Lower case, accents folded, dots and apostrophes dropped (the anchor's own normaliser)."""
    from unidecode import unidecode

    if not isinstance(text, str):
        return None
    out = " ".join(unidecode(text).lower().replace(".", " ").replace("'", "").split())
    return out or None


def _splink_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Person frame -> the strong anchor's input: normalised names plus derived key arrays."""
    from nicknames import NickNamer

    from pipeline.normalize.gender import name_sex, sex_code

    namer = NickNamer()

    def per_distinct(series: pd.Series, fn) -> list:
        codes, uniques = pd.factorize(series)
        mapped = [fn(u) for u in uniques] + [fn(None)]
        return [mapped[c] for c in codes]

    def first_of(series: pd.Series) -> pd.Series:
        return series.map(lambda v: v[0] if isinstance(v, (list, np.ndarray)) and len(v) else v)

    def first_keys(name):
        return sorted({name} | namer.canonicals_of(name)) if name else None

    def first_related(name):
        if not name:
            return None
        return sorted({name} | namer.nicknames_of(name) | namer.canonicals_of(name))

    def parts(name):
        return [p for p in name.replace("-", " ").split() if len(p) > 1] if name else []

    first = per_distinct(frame["first"], _splink_name)
    surname = per_distinct(frame["last"], _splink_name)
    alt = per_distinct(first_of(frame["alt_lasts"]), _splink_name)
    surname_keys = [
        sorted({k for name in (s, a) if name for k in (name, *parts(name))}) or None
        for s, a in zip(surname, alt)
    ]
    deletions: dict[str, list[str]] = {}

    def dels(keys):
        if not keys:
            return None
        out: set[str] = set()
        for key in keys:
            got = deletions.get(key)
            if got is None:
                got = deletions[key] = [key] + [key[:i] + key[i + 1 :] for i in range(len(key))]
            out.update(got)
        return sorted(out)

    middle = per_distinct(frame["middle"], _splink_name)
    # The sex a source states, else the one the first name tells (the same reading as ours).
    sexes = {1: "M", 2: "F"}
    stated = frame["gender"] if "gender" in frame else pd.Series([None] * len(frame))
    stated_sex = per_distinct(stated, lambda v: sexes.get(sex_code(v)))
    sex_of_name = per_distinct(pd.Series(first), lambda name: sexes.get(name_sex(name or "")))
    out = pd.DataFrame(
        {
            "unique_id": frame["rec_id"],
            "first_name": first,
            "first_keys": per_distinct(pd.Series(first), first_keys),
            "first_related": per_distinct(pd.Series(first), first_related),
            "first_initial": [f[0] if f else None for f in first],
            "surname": surname,
            "alt_surname": alt,
            "surname_keys": surname_keys,
            "surname_key_dels": [dels(k) for k in surname_keys],
            "surname_initial": [s[0] if s else None for s in surname],
            "middle": [m if m and len(m) > 1 else None for m in middle],
            "middle_initial": [m[0] if m else None for m in middle],
            "state": first_of(frame["states"]),
            "city": per_distinct(first_of(frame["cities"]), _splink_name),
            "zip": first_of(frame["zips"]),
            "specialty": first_of(frame["specialties"]),
            "school": first_of(frame["schools"]),
            "grad_year": first_of(frame["grad_years"]).replace(0, None),
            "npi": frame["npi"],
            "physician": frame["physician"].map(lambda v: None if v is None else str(bool(v))),
            "sex": [stated or read for stated, read in zip(stated_sex, sex_of_name)],
        }
    )
    for extra in ("soc_sec_id", "street_number", "address_1", "date_of_birth"):
        if extra in frame:
            out[extra] = frame[extra]
    return out


def run_splink(directory: Path, febrl: bool = False, memory: str = "3GB") -> dict:
    import duckdb
    import pyarrow as pa
    from splink import DuckDBAPI, Linker

    listings = pd.read_parquet(directory / "listings.parquet")
    reference = pd.read_parquet(directory / "reference.parquet")
    start = time.perf_counter()
    clock = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str) -> None:
        nonlocal clock
        timings[name] = round(time.perf_counter() - clock, 1)
        clock = time.perf_counter()

    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{memory}'")
    con.execute("SET enable_progress_bar = false")
    for name, frame in (("listings", listings), ("reference", reference)):
        prepared = _splink_frame(frame)
        con.register("prepared", pa.Table.from_pandas(prepared, preserve_index=False))
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM prepared")
        con.unregister("prepared")
        del prepared
    del listings, reference
    lap("prepare")
    db_api = DuckDBAPI(connection=con)
    settings, (prior_rules, em_rules) = (
        _splink_febrl_settings() if febrl else _splink_physician_settings()
    )
    linker = Linker(
        [
            db_api.register("listings", table_name="listings_in"),
            db_api.register("reference", table_name="reference_in"),
        ],
        settings,
        log_level=logging.WARNING,
    )
    linker.training.estimate_probability_two_random_records_match(prior_rules, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
    lap("prior and u")
    for rule in em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(rule, max_pairs=5e6)
    lap("em")
    predictions = linker.inference.predict(threshold_match_probability=SPLINK_LOWEST_THRESHOLD)
    lap("predict")
    pairs = con.execute(f"""SELECT count(*) FROM {predictions.physical_name}""").fetchone()[0]
    best = con.execute(
        f"""SELECT unique_id_l AS listing, unique_id_r AS reference, match_probability
            FROM {predictions.physical_name}
            QUALIFY row_number() OVER (
                PARTITION BY unique_id_l ORDER BY match_weight DESC, unique_id_r) = 1"""
    ).df()
    seconds = time.perf_counter() - start
    lap("decide")
    best.to_parquet(directory / "splink_pairs.parquet")
    return {"seconds": seconds, "timings": timings, "scored_pairs": int(pairs)}


# ------------------------------------------------------------------------------ scoring


def score(directory: Path, system: str, threshold: float | None = None) -> dict:
    """Precision, recall, F1 of a system's pairs; recall per kind of noise of the true pairs.

    ``threshold``: keep only pairs whose ``match_probability`` reaches it (Splink's output).
    """
    truth = pd.read_parquet(directory / "truth.parquet")
    pairs = pd.read_parquet(directory / f"{system}_pairs.parquet")
    if threshold is not None:
        pairs = pairs[pairs["match_probability"] >= threshold]
    found = pd.Series(pairs["reference"].to_numpy(), index=pairs["listing"].to_numpy())
    right = truth["reference"].to_numpy() == found.reindex(truth["listing"]).to_numpy()
    correct = int(right.sum())
    precision = correct / len(pairs) if len(pairs) else 0.0
    recall = correct / len(truth) if len(truth) else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    per_kind = {}
    if "noise" in truth:
        kinds = truth["noise"].str.split(";").explode()
        kinds = kinds[kinds != ""]
        hit = pd.Series(right, index=truth.index).loc[kinds.index]
        table = hit.groupby(kinds.to_numpy()).agg(["mean", "size"])
        per_kind = {k: (float(r["mean"]), int(r["size"])) for k, r in table.iterrows()}
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "predicted": len(pairs),
        "per_kind": per_kind,
    }


def _child(system: str, directory: Path, febrl: bool, memory: str) -> dict:
    """Run one system in its own process; its peak RSS is the child's maximum resident set.

    The child's progress (its log on stderr) passes through; its result is its last stdout line.
    """
    command = [sys.executable, "-m", "bench.match", "--child", system, "--data", str(directory)]
    command += ["--duckdb-memory", memory] + (["--febrl"] if febrl else [])
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(command, stdout=out, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{system} failed (exit {proc.returncode})")
        result = json.loads(out.read().strip().splitlines()[-1])
    result["peak_rss_mb"] = usage.ru_maxrss / 1024  # Linux: kilobytes
    return result


def _line(name: str, r: dict) -> str:
    return (
        f"{name:<10} precision={r['precision']:.4f} recall={r['recall']:.4f} f1={r['f1']:.4f} "
        f"seconds={r['seconds']:.1f} peak_rss_mb={r['peak_rss_mb']:.0f}"
    )


def _per_kind_table(results: dict[str, dict]) -> str:
    kinds = sorted({k for r in results.values() for k in r.get("per_kind", {})})
    if not kinds:
        return ""
    rows = []
    for kind in kinds:
        row = {"noise": kind}
        for name, r in results.items():
            recall, size = r["per_kind"].get(kind, (float("nan"), 0))
            row["true pairs"] = size
            row[f"{name} recall"] = round(recall, 4)
        rows.append(row)
    return pd.DataFrame(rows).to_string(index=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.match",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--listings", type=int, default=20_000, help="listings (default 20000)")
    parser.add_argument(
        "--reference", type=int, default=100_000, help="reference people (default 100000)"
    )
    parser.add_argument("--seed", type=int, default=1, help="world seed (default 1)")
    parser.add_argument("--febrl", action="store_true", help="FEBRL 4 instead of the world")
    parser.add_argument("--skip-splink", action="store_true", help="run credcheck only")
    parser.add_argument(
        "--duckdb-memory",
        default=DUCKDB_MEMORY,
        help=f"memory_limit of each system's DuckDB connection (default {DUCKDB_MEMORY})",
    )
    parser.add_argument("--child", choices=("credcheck", "splink"), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        # Progress of long links on stderr: the matcher's log, not the libraries'.
        logging.basicConfig(format=f"  [{args.child} %(asctime)s] %(message)s", datefmt="%H:%M:%S")
        logging.getLogger("pipeline").setLevel(logging.INFO)
        if args.child == "credcheck":
            result = run_credcheck(args.data, args.duckdb_memory)
        else:
            result = run_splink(args.data, febrl=args.febrl, memory=args.duckdb_memory)
        print(json.dumps(result))
        return 0

    with tempfile.TemporaryDirectory(prefix="bench-match-") as tmp:
        directory = Path(tmp)
        clock = time.perf_counter()
        if args.febrl:
            _write_febrl(directory)
            n_l = len(pd.read_parquet(directory / "listings.parquet"))
            n_r = len(pd.read_parquet(directory / "reference.parquet"))
        else:
            _write_world(directory, args.listings, args.reference, args.seed)
            n_l, n_r = args.listings, args.reference
        n_true = len(pd.read_parquet(directory / "truth.parquet"))
        print(
            f"world: {n_l} listings, {n_r} reference, {n_true} true pairs "
            f"in {time.perf_counter() - clock:.1f}s",
            flush=True,
        )
        ours = _child("credcheck", directory, args.febrl, args.duckdb_memory)
        ours.update(score(directory, "credcheck"))
        print(f"credcheck timings: {ours['timings']}; ambiguous: {ours['ambiguous']}")
        print(f"credcheck CPU seconds: {ours['cpu_timings']}")
        print(pd.DataFrame(ours["blocking"]).to_string(index=False))
        print(_line("credcheck", ours), flush=True)
        results = {"credcheck": ours}
        theirs = {"f1": float("nan"), "seconds": float("nan"), "peak_rss_mb": float("nan")}
        if not args.skip_splink:
            theirs = _child("splink", directory, args.febrl, args.duckdb_memory)
            theirs.update(score(directory, "splink", threshold=SPLINK_THRESHOLD))
            low = score(directory, "splink", threshold=SPLINK_LOWEST_THRESHOLD)
            print(
                f"splink timings: {theirs['timings']}; pairs scored >= "
                f"{SPLINK_LOWEST_THRESHOLD}: {theirs['scored_pairs']}"
            )
            print(_line("splink", theirs))
            print(
                f"splink at p >= {SPLINK_LOWEST_THRESHOLD} (a threshold chosen with labels): "
                f"precision={low['precision']:.4f} recall={low['recall']:.4f} f1={low['f1']:.4f}"
            )
            results["splink"] = theirs
        table = _per_kind_table(results)
        if table:
            print("recall of true pairs by kind of noise (a pair may carry several):")
            print(table)
        pair_counts = "".join(
            f" {k}_pairs={v['pairs']}" for k, v in [("blocked", ours["blocking"][-1])]
        )
        print(
            f"match: listings={n_l} reference={n_r} true={n_true}{pair_counts} "
            f"f1={ours['f1']:.4f} splink_f1={theirs['f1']:.4f} seconds={ours['seconds']:.1f} "
            f"splink_seconds={theirs['seconds']:.1f} peak_rss_mb={ours['peak_rss_mb']:.0f} "
            f"splink_peak_rss_mb={theirs['peak_rss_mb']:.0f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
