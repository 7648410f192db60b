"""Generate a whole world from a seed and write it out (``python -m pipeline.demo.world``)."""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.db.schema import CERTIFICATION_VALUES
from pipeline.demo.world.catalogue import AS_OF, BOARDS_HEADER, SITES, TRUTH_HEADER, SiteSpec
from pipeline.demo.world.certificates import assign_certificates, expected_certification
from pipeline.demo.world.extracts import (
    board_rows,
    choose_excluded,
    dac_rows,
    insert_malformed_rows,
    leie_rows,
    minimal_csv,
    nppes_individual,
    nppes_organization,
    organization_specs,
    quote_all,
)
from pipeline.demo.world.listings import build_site_listings
from pipeline.demo.world.model import Listing, Person, strip_accents
from pipeline.demo.world.population import (
    assign_mailing_addresses,
    assign_npis,
    build_population,
    choose_members,
    settle_practice_addresses,
    site_locations,
)
from pipeline.demo.world.reference import City, Reference, load_reference

# --------------------------------------------------------------------------------------------
# Orchestration
# --------------------------------------------------------------------------------------------


def stream(seed: int, name: str) -> random.Random:
    """Independent random stream per stage, so changing one stage leaves the others alone."""
    return random.Random(f"credcheck-demo:{seed}:{name}")


def same_name_collisions(people: list[Person]) -> list[dict]:
    """Full names (first + last) shared by NPPES individuals in different states, one listed."""
    groups: dict[tuple[str, str], list[Person]] = {}
    for p in people:
        if p.npi and p.is_physician and p.practice:
            key = (strip_accents(p.first).upper(), strip_accents(p.last).upper())
            groups.setdefault(key, []).append(p)
    out = []
    for (first, last), members in sorted(groups.items()):
        states = sorted({p.practice.state for p in members if p.practice})
        if len(states) > 1 and any(p.sites for p in members):
            out.append(
                {
                    "first": first,
                    "last": last,
                    "states": states,
                    "npis": sorted(p.npi for p in members if p.npi),
                }
            )
    return out


def write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding=encoding, newline="") as fh:
        fh.write(text)


@dataclass
class World:
    """Everything the generator knows, before it is written out."""

    ref: Reference
    people: list[Person]
    orgs: list[tuple[str, str, City, str]]  # name, taxonomy, city, NPI
    listings: list[Listing]
    leie: list[list[str]]
    leie_notes: list[dict]


def build_world(seed: int, n_physicians: int) -> World:
    """Population -> site membership -> addresses -> NPIs -> certificates -> LEIE -> listings.

    Each stage draws from its own stream, so the order of calls below is the only coupling.
    """
    ref = load_reference()
    people = build_population(stream(seed, "people"), ref, n_physicians)
    membership = choose_members(stream(seed, "membership"), ref, people, n_physicians)
    rng = stream(seed, "places")
    locations = {s.site_id: site_locations(rng, ref, s) for s in SITES}
    person_locations = settle_practice_addresses(rng, ref, membership, locations)
    assign_mailing_addresses(stream(seed, "mailing"), people)
    org_specs = organization_specs(ref)
    org_npis = assign_npis(stream(seed, "npi"), people, len(org_specs))
    orgs = [(*spec, npi) for spec, npi in zip(org_specs, org_npis)]

    rng = stream(seed, "boards")
    for person in people:
        if person.is_physician and person.has_nppes:
            person.certs = assign_certificates(rng, person)
            person.board_npi_blank = rng.random() < 0.3
    excluded = choose_excluded(stream(seed, "leie-pick"), people)
    leie, leie_notes = leie_rows(stream(seed, "leie"), ref, excluded, people)

    listings: list[Listing] = []
    for site in SITES:
        listings += build_site_listings(
            stream(seed, f"site:{site.site_id}"),
            ref,
            site,
            membership.by_site[site.site_id],
            person_locations,
            locations[site.site_id],
        )
    return World(ref, people, orgs, listings, leie, leie_notes)


TruthRows = list[tuple[str, int, str]]  # (source, line in its file, the true person's NPI)


def write_boards(
    out_dir: Path, rng: random.Random, world: World, truth: TruthRows
) -> tuple[int, list[dict]]:
    rows, malformed = insert_malformed_rows(rng, board_rows(rng, world.people), world.people)
    write_text(out_dir / "reference/boards.csv", minimal_csv(BOARDS_HEADER, rows))
    truth += [("boards", i + 2, getattr(r, "person_npi", "")) for i, r in enumerate(rows)]
    return len(rows), malformed


def write_npidata(out_dir: Path, rng: random.Random, world: World, truth: TruthRows) -> int:
    header = world.ref.npidata_header
    column = {name: i for i, name in enumerate(header)}
    rows = [nppes_individual(rng, p, column) for p in world.people if p.npi]
    rows += [
        nppes_organization(rng, world.ref, npi, name, taxonomy, city, column)
        for name, taxonomy, city, npi in world.orgs
    ]
    rows.sort(key=lambda r: r[0])
    write_text(out_dir / "reference/npidata.csv", quote_all([header, *rows]), encoding="iso-8859-1")
    truth += [("nppes", i + 2, r[0]) for i, r in enumerate(rows)]
    return len(rows)


def write_dac(out_dir: Path, rng: random.Random, world: World, truth: TruthRows) -> int:
    site_orgs = {site.site_id: world.orgs[i][0] for i, site in enumerate(SITES)}
    rows = dac_rows(rng, world.people, world.ref.dac_header, site_orgs)
    write_text(out_dir / "reference/dac.csv", minimal_csv(world.ref.dac_header, rows))
    npi = world.ref.dac_header.index("NPI")
    truth += [("dac", i + 2, r[npi]) for i, r in enumerate(rows)]
    return len(rows)


def write_leie(out_dir: Path, world: World, truth: TruthRows) -> int:
    """Header and the real sample rows verbatim, then the world's exclusions by name."""
    head = "\n".join((world.ref.leie_header_line, *world.ref.leie_sample_lines)) + "\n"
    rows = sorted(world.leie, key=lambda r: (r[0], r[1], r[8]))
    write_text(out_dir / "reference/leie.csv", head + quote_all(rows))
    first = len(world.ref.leie_sample_lines) + 2
    truth += [("leie", first + i, getattr(r, "person_npi", "")) for i, r in enumerate(rows)]
    return len(world.ref.leie_sample_lines) + len(rows)


def write_site(out_dir: Path, site: SiteSpec, listings: list[Listing]) -> dict:
    content = {
        "site_id": site.site_id,
        "name": site.name,
        "kind": site.kind,
        "shape": site.shape,
        "city": site.city,
        "state": site.state,
        "listings": [x.record for x in listings],
    }
    write_text(
        out_dir / f"sites/{site.site_id}.json",
        json.dumps(content, ensure_ascii=False, indent=1) + "\n",
    )
    return {
        "shape": site.shape,
        "listings": len(listings),
        "physicians": sum(x.record["is_physician"] for x in listings),
        "npi_shown": sum(x.record["npi"] is not None for x in listings),
    }


def truth_rows(listings: list[Listing]) -> list[list[str]]:
    return [
        [
            x.site.site_id,
            x.record["id"],
            x.record["path"],
            x.person.npi or "",
            "true" if x.person.is_physician else "false",
            expected_certification(x.person, x.claims),
        ]
        for x in listings
    ]


def population_counts(world: World) -> dict[str, int]:
    people = world.people
    listed = [p for p in people if p.is_physician and p.sites]
    return {
        "physicians": sum(p.is_physician for p in people),
        "physicians_without_nppes": sum(p.is_physician and not p.has_nppes for p in people),
        "nurse_practitioners": sum(p.role == "np" for p in people),
        "physician_assistants": sum(p.role == "pa" for p in people),
        "researchers": sum(p.role == "researcher" for p in people),
        "organizations": len(world.orgs),
        "physicians_without_board_record": sum(
            p.is_physician and p.has_nppes and not p.certs for p in people
        ),
        "listed_on_two_sites": sum(len(p.sites) > 1 for p in people),
        "planted_namesakes": sum(p.twin_of is not None for p in people),
        "listed_moved": sum(p.moved for p in listed),
        "listed_with_married_name_difference": sum(p.professional_last != p.last for p in listed),
    }


def generate_world(out_dir: Path, seed: int = 7, n_physicians: int = 3000) -> dict:
    """Write a complete demo world under ``out_dir`` and return its manifest.

    The manifest (also written as ``manifest.json``) gives row counts per file, listings per
    site, the truth distribution and the planted difficulties.

    Example:
        >>> import tempfile
        >>> m = generate_world(Path(tempfile.mkdtemp()), seed=7, n_physicians=600)
        >>> sorted(m["sites"]) == ["commonwealth-med", "hill-country-regional", "mercy-general"]
        True
        >>> m["files"]["truth.csv"] == sum(s["listings"] for s in m["sites"].values())
        True
    """
    if n_physicians < 100:
        raise ValueError("n_physicians must be at least 100 to fill three sites")
    out_dir = Path(out_dir)
    world = build_world(seed, n_physicians)
    rng = stream(seed, "write")
    files: dict[str, int] = {}
    reference_truth: TruthRows = []
    files["reference/boards.csv"], malformed = write_boards(out_dir, rng, world, reference_truth)
    files["reference/npidata.csv"] = write_npidata(out_dir, rng, world, reference_truth)
    files["reference/dac.csv"] = write_dac(out_dir, rng, world, reference_truth)
    files["reference/leie.csv"] = write_leie(out_dir, world, reference_truth)
    sites = {}
    for site in SITES:
        sites[site.site_id] = write_site(
            out_dir, site, [x for x in world.listings if x.site is site]
        )
        files[f"sites/{site.site_id}.json"] = sites[site.site_id]["listings"]
    truth = truth_rows(world.listings)
    write_text(out_dir / "truth.csv", minimal_csv(TRUTH_HEADER, truth))
    files["truth.csv"] = len(truth)
    write_text(
        out_dir / "reference_truth.csv",
        minimal_csv(["source", "line_number", "npi"], reference_truth),
    )
    files["reference_truth.csv"] = len(reference_truth)

    manifest = {
        "seed": seed,
        "as_of": AS_OF.isoformat(),
        "n_physicians": n_physicians,
        "files": files,
        "sites": sites,
        "truth_distribution": {v: sum(row[5] == v for row in truth) for v in CERTIFICATION_VALUES},
        "people": population_counts(world),
        "same_name_collisions": same_name_collisions(world.people),
        "boards_malformed_rows": malformed,
        "leie_world_physicians": world.leie_notes,
    }
    write_text(out_dir / "manifest.json", json.dumps(manifest, indent=1) + "\n")
    return {"out_dir": str(out_dir), **manifest}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.demo.world",
        description="Write a seeded, deterministic demo world: reference extracts (boards, "
        "NPPES, DAC, LEIE), three directory sites and truth.csv.",
        epilog="The same seed and size always produce byte-identical files.",
    )
    parser.add_argument("out_dir", type=Path, help="directory to write the world into")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument(
        "--physicians",
        type=int,
        default=3000,
        help="number of physicians in the world (default 3000)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    manifest = generate_world(args.out_dir, seed=args.seed, n_physicians=args.physicians)
    elapsed = time.perf_counter() - started
    for rel, rows in manifest["files"].items():
        print(f"{rel:32} {rows:6d} rows")
    print("truth:", ", ".join(f"{k}={v}" for k, v in manifest["truth_distribution"].items()))
    print(f"wrote {args.out_dir} in {elapsed:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
