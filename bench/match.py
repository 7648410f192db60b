"""Benchmark: credcheck's matcher vs Splink 5 on the same labelled physician-shaped world.

    python -m bench.match --listings 200000 --reference 1000000
    python -m bench.match --febrl          # FEBRL 4 (5,000 x 5,000) sanity check

The world comes from ``pipeline.demo.linkage_world`` (seeded). Each system runs in its own
child process on the same Parquet files, so each one's peak RSS is its own; "seconds" is the
wall time from frames in memory to one decision per listing (training included), excluding
reading the files. Both resolve each listing to at most one reference person.

Splink 5.0 configuration (DuckDB backend), as its documentation recommends:

- comparisons: first name = NameComparison (exact, Jaro-Winkler 0.92/0.88/0.7) with
  term-frequency adjustment; surname = the same levels plus "equals the other's former/other
  surname", TF-adjusted; middle initial exact; location as ONE comparison (ZIP, else city and
  state, else state, else different); specialty exact; medical school and year (both, school,
  else); NPI exact; physician flag exact;
- prediction blocking: first+surname, surname+state, NPI, first initial+surname prefix+ZIP,
  surname+ZIP, first name+middle initial+ZIP, surname = the other's former/other surname
  (plain first name+ZIP made 20 GB of pairs at 200k x 1M);
- training: prior from deterministic rules (first+surname+ZIP, NPI; recall 0.7); u by random
  sampling (max_pairs 5e6, seed 1); m by EM on two broad rules, surname and first name+state;
- decision: each listing's best pair with match probability >= 0.9 (credcheck's threshold).

The last line is
``match: listings=N reference=M f1=A splink_f1=B seconds=S splink_seconds=T peak_rss_mb=R
splink_peak_rss_mb=Q``.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.config import REFERENCE_DIR

FEBRL_DIR = REFERENCE_DIR / "febrl"  # gzipped copies; see data/reference/SOURCES.md
MATCH_PROBABILITY = 0.9
DUCKDB_MEMORY = "3GB"  # both systems' DuckDB connections get the same cap


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ------------------------------------------------------------------------------ data


def _write_world(directory: Path, n_listings: int, n_reference: int, seed: int) -> None:
    from pipeline.demo.linkage_world import generate

    listings, reference, truth = generate(n_listings, n_reference, seed)
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


def run_credcheck(directory: Path) -> dict:
    from pipeline.match import link

    listings = pd.read_parquet(directory / "listings.parquet")
    reference = pd.read_parquet(directory / "reference.parquet")
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")
    start = time.perf_counter()
    decisions, details = link(listings, reference, con=con)
    seconds = time.perf_counter() - start
    ref_ids = reference["rec_id"].to_numpy(dtype=object)
    matched = decisions["identity"].to_numpy() == "matched"
    pairs = pd.DataFrame(
        {
            "listing": decisions["rec_id"].to_numpy(dtype=object)[matched],
            "reference": ref_ids[decisions["best_r"].to_numpy()[matched]],
        }
    )
    pairs.to_parquet(directory / "credcheck_pairs.parquet")
    from pipeline.match.blocking import blocking_report

    truth = pd.read_parquet(directory / "truth.parquet")
    lpos = pd.Series(np.arange(len(listings)), index=listings["rec_id"])
    rpos = pd.Series(np.arange(len(reference)), index=reference["rec_id"])
    report = blocking_report(
        details.candidates,
        lpos[truth["listing"]].to_numpy(),
        rpos[truth["reference"]].to_numpy(),
    )
    return {
        "seconds": seconds,
        "peak_rss_mb": _peak_rss_mb(),
        "timings": details.timings,
        "blocking": report.to_dict("records"),
        "ambiguous": int((decisions["identity"] == "ambiguous").sum()),
    }


def _splink_physician_settings():
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    def level(sql: str, label: str, **extra) -> dict:
        return {"sql_condition": sql, "label_for_charts": label, **extra}

    surname = cl.CustomComparison(
        output_column_name="surname",
        comparison_levels=[
            level("surname_l IS NULL OR surname_r IS NULL", "null", is_null_level=True),
            level(
                "surname_l = surname_r",
                "exact",
                tf_adjustment_column="surname",
                tf_adjustment_weight=1.0,
            ),
            level("surname_l = alt_surname_r OR alt_surname_l = surname_r", "other surname"),
            level("jaro_winkler_similarity(surname_l, surname_r) >= 0.92", "jw 0.92"),
            level("jaro_winkler_similarity(surname_l, surname_r) >= 0.88", "jw 0.88"),
            level("jaro_winkler_similarity(surname_l, surname_r) >= 0.7", "jw 0.7"),
            level("ELSE", "else"),
        ],
    )
    location = cl.CustomComparison(
        output_column_name="location",
        comparison_levels=[
            level("state_l IS NULL OR state_r IS NULL", "null", is_null_level=True),
            level("zip_l = zip_r", "same zip"),
            level("city_l = city_r AND state_l = state_r", "same city"),
            level("state_l = state_r", "same state"),
            level("ELSE", "else"),
        ],
    )
    education = cl.CustomComparison(
        output_column_name="education",
        comparison_levels=[
            level("school_l IS NULL OR school_r IS NULL", "null", is_null_level=True),
            level("school_l = school_r AND grad_year_l = grad_year_r", "school and year"),
            level("school_l = school_r", "school"),
            level("ELSE", "else"),
        ],
    )
    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        comparisons=[
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            surname,
            cl.ExactMatch("middle_initial"),
            location,
            cl.ExactMatch("specialty"),
            education,
            cl.ExactMatch("npi"),
            cl.ExactMatch("physician"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "surname"),
            block_on("surname", "state"),
            block_on("npi"),
            block_on("substr(first_name, 1, 1)", "substr(surname, 1, 3)", "zip"),
            block_on("surname", "zip"),
            block_on("first_name", "middle_initial", "zip"),
            "l.surname = r.alt_surname",
            "l.alt_surname = r.surname",
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    ), [
        [block_on("first_name", "surname", "zip"), block_on("npi")],
        [block_on("surname"), block_on("first_name", "state")],
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


def _splink_frame(frame: pd.DataFrame) -> pd.DataFrame:
    from pipeline.normalize.names import name_key

    def key(series: pd.Series) -> pd.Series:
        codes, uniques = pd.factorize(series)
        mapped = np.array([name_key(u) or None for u in uniques] + [None], dtype=object)
        return pd.Series(mapped[codes], index=series.index)

    def first_of(series: pd.Series) -> pd.Series:
        return series.map(lambda v: v[0] if isinstance(v, (list, np.ndarray)) and len(v) else v)

    out = pd.DataFrame(
        {
            "unique_id": frame["rec_id"],
            "first_name": key(frame["first"]),
            "surname": key(frame["last"]),
            "alt_surname": key(first_of(frame["alt_lasts"])),
            "middle_initial": key(frame["middle"]).str[:1],
            "state": first_of(frame["states"]),
            "city": key(first_of(frame["cities"])),
            "zip": first_of(frame["zips"]),
            "specialty": first_of(frame["specialties"]),
            "school": first_of(frame["schools"]),
            "grad_year": first_of(frame["grad_years"]).replace(0, None),
            "npi": frame["npi"],
            "physician": frame["physician"].map(lambda v: None if v is None else str(bool(v))),
        }
    )
    for extra in ("soc_sec_id", "street_number", "address_1", "date_of_birth"):
        if extra in frame:
            out[extra] = frame[extra]
    return out


def run_splink(directory: Path, febrl: bool = False) -> dict:
    import duckdb
    from splink import DuckDBAPI, Linker

    listings = pd.read_parquet(directory / "listings.parquet")
    reference = pd.read_parquet(directory / "reference.parquet")
    start = time.perf_counter()
    left, right = _splink_frame(listings), _splink_frame(reference)
    del listings, reference
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")
    db_api = DuckDBAPI(connection=con)
    settings, (prior_rules, em_rules) = (
        _splink_febrl_settings() if febrl else _splink_physician_settings()
    )
    linker = Linker(
        [
            db_api.register(left, table_name="listings"),
            db_api.register(right, table_name="reference"),
        ],
        settings,
        log_level=logging.WARNING,
    )
    linker.training.estimate_probability_two_random_records_match(prior_rules, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=1)
    for rule in em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    best = con.execute(
        f"""SELECT unique_id_l AS listing, unique_id_r AS reference
            FROM {predictions.physical_name}
            WHERE match_probability >= {MATCH_PROBABILITY}
            QUALIFY row_number() OVER (
                PARTITION BY unique_id_l ORDER BY match_weight DESC) = 1"""
    ).df()
    seconds = time.perf_counter() - start
    best.to_parquet(directory / "splink_pairs.parquet")
    return {"seconds": seconds, "peak_rss_mb": _peak_rss_mb()}


# ------------------------------------------------------------------------------ scoring


def score(directory: Path, system: str) -> dict:
    truth = pd.read_parquet(directory / "truth.parquet")
    pairs = pd.read_parquet(directory / f"{system}_pairs.parquet")
    truth_map = dict(zip(truth["listing"], truth["reference"]))
    correct = sum(truth_map.get(a) == b for a, b in zip(pairs["listing"], pairs["reference"]))
    precision = correct / len(pairs) if len(pairs) else 0.0
    recall = correct / len(truth) if len(truth) else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "predicted": len(pairs)}


def _child(system: str, directory: Path, febrl: bool) -> dict:
    command = [sys.executable, "-m", "bench.match", "--child", system, "--data", str(directory)]
    if febrl:
        command.append("--febrl")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"{system} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.match", description=__doc__)
    parser.add_argument("--listings", type=int, default=20_000)
    parser.add_argument("--reference", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--febrl", action="store_true", help="FEBRL 4 instead of the world")
    parser.add_argument("--skip-splink", action="store_true")
    parser.add_argument("--child", choices=("credcheck", "splink"), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        if args.child == "credcheck":
            result = run_credcheck(args.data)
        else:
            result = run_splink(args.data, febrl=args.febrl)
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
        print(f"world: {n_l} listings, {n_r} reference in {time.perf_counter() - clock:.1f}s")
        ours = _child("credcheck", directory, args.febrl)
        ours.update(score(directory, "credcheck"))
        print(f"credcheck timings: {ours['timings']}; ambiguous: {ours['ambiguous']}")
        print(pd.DataFrame(ours["blocking"]).to_string(index=False))
        print(
            f"credcheck: precision={ours['precision']:.4f} recall={ours['recall']:.4f} "
            f"f1={ours['f1']:.4f} seconds={ours['seconds']:.1f} "
            f"peak_rss_mb={ours['peak_rss_mb']:.0f}"
        )
        theirs = {"f1": float("nan"), "seconds": float("nan"), "peak_rss_mb": float("nan")}
        if not args.skip_splink:
            theirs = _child("splink", directory, args.febrl)
            theirs.update(score(directory, "splink"))
            print(
                f"splink:    precision={theirs['precision']:.4f} "
                f"recall={theirs['recall']:.4f} f1={theirs['f1']:.4f} "
                f"seconds={theirs['seconds']:.1f} peak_rss_mb={theirs['peak_rss_mb']:.0f}"
            )
        print(
            f"match: listings={n_l} reference={n_r} f1={ours['f1']:.4f} "
            f"splink_f1={theirs['f1']:.4f} seconds={ours['seconds']:.1f} "
            f"splink_seconds={theirs['seconds']:.1f} peak_rss_mb={ours['peak_rss_mb']:.0f} "
            f"splink_peak_rss_mb={theirs['peak_rss_mb']:.0f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
