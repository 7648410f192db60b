"""Tests for the demo-world generator (pipeline/demo/world/): contracts, determinism, realism."""

from __future__ import annotations

import csv
import io
import json
import random
import re
import subprocess
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from pipeline.config import REFERENCE_DIR
from pipeline.demo import world
from pipeline.demo.world import (
    AS_OF,
    CERTIFICATION_VALUES,
    SPECIALTY_BY_NAME,
    SUBSPECIALTIES,
    Certificate,
    Person,
    expected_certification,
    generate_world,
)
from pipeline.normalize.npi import is_valid_npi, npi_check_digit
from pipeline.sources.boards import BOARD_STATUSES

REPO = Path(__file__).resolve().parents[1]
SITE_IDS = ("mercy-general", "hill-country-regional", "commonwealth-med")
LISTING_KEYS = {
    "id",
    "path",
    "display_name",
    "prefix",
    "given_name",
    "additional_name",
    "family_name",
    "degrees",
    "specialties",
    "board_certifications",
    "npi",
    "gender",
    "languages",
    "accepting_new_patients",
    "education",
    "locations",
    "affiliations",
    "title",
    "department",
    "is_physician",
}
SITE_KEYS = {"site_id", "name", "kind", "shape", "city", "state", "listings"}
LOCATION_KEYS = {"name", "street", "city", "state", "zip", "phone"}
PATH_PATTERNS = {
    "jsonld_sitemap": re.compile(r"^/doctors/[a-z0-9]+(?:-[a-z0-9]+)*-(\d+)$"),
    "html_directory": re.compile(r"^/physician-directory/(\d+)$"),
    "faculty_directory": re.compile(r"^/faculty/([a-z0-9]+(?:-[a-z0-9]+)*)$"),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, float]:
    out = tmp_path_factory.mktemp("world7")
    started = time.perf_counter()
    manifest = generate_world(out, seed=7, n_physicians=3000)
    return out, manifest, time.perf_counter() - started


@pytest.fixture(scope="module")
def out(built: tuple[Path, dict, float]) -> Path:
    return built[0]


@pytest.fixture(scope="module")
def manifest(built: tuple[Path, dict, float]) -> dict:
    return built[1]


@pytest.fixture(scope="module")
def sites(out: Path) -> dict[str, dict]:
    return {sid: json.loads((out / f"sites/{sid}.json").read_text("utf-8")) for sid in SITE_IDS}


@pytest.fixture(scope="module")
def truth(out: Path) -> list[dict[str, str]]:
    with open(out / "truth.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def npidata(out: Path) -> list[list[str]]:
    with open(out / "reference/npidata.csv", newline="", encoding="iso-8859-1") as fh:
        return list(csv.reader(fh))


@pytest.fixture(scope="module")
def boards(out: Path) -> list[dict[str, str]]:
    with open(out / "reference/boards.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def first_line(path: Path) -> bytes:
    return path.read_bytes().split(b"\n", 1)[0]


# ---- determinism and speed -----------------------------------------------------------------


def test_generation_is_fast(built: tuple[Path, dict, float]) -> None:
    assert built[2] < 10.0


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    generate_world(tmp_path / "a", seed=11, n_physicians=600)
    generate_world(tmp_path / "b", seed=11, n_physicians=600)
    a, b = tree_bytes(tmp_path / "a"), tree_bytes(tmp_path / "b")
    assert sorted(a) == sorted(b)
    assert [name for name in a if a[name] != b[name]] == []


def test_different_seed_gives_different_world(tmp_path: Path) -> None:
    generate_world(tmp_path / "a", seed=11, n_physicians=600)
    generate_world(tmp_path / "b", seed=12, n_physicians=600)
    a, b = tree_bytes(tmp_path / "a"), tree_bytes(tmp_path / "b")
    for name in (
        "truth.csv",
        "reference/boards.csv",
        "reference/npidata.csv",
        "sites/mercy-general.json",
    ):
        assert a[name] != b[name], name


def test_deterministic_across_hash_seeds(tmp_path: Path) -> None:
    """Set iteration order changes with PYTHONHASHSEED; the output must not."""
    for hash_seed in ("1", "2"):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pipeline.demo.world",
                str(tmp_path / hash_seed),
                "--seed",
                "3",
                "--physicians",
                "300",
            ],
            check=True,
            cwd=REPO,
            capture_output=True,
            env={"PYTHONHASHSEED": hash_seed, "PATH": "/usr/bin:/bin"},
        )
    assert tree_bytes(tmp_path / "1") == tree_bytes(tmp_path / "2")


def test_cli_help_describes_arguments() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.demo.world", "--help"],
        check=True,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    for word in ("out_dir", "--seed", "--physicians", "byte-identical"):
        assert word in result.stdout


def test_manifest_lists_files_with_row_counts(out: Path, manifest: dict) -> None:
    on_disk = json.loads((out / "manifest.json").read_text("utf-8"))
    assert on_disk["files"] == manifest["files"]
    for rel, rows in manifest["files"].items():
        assert (out / rel).is_file()
        if rel.endswith(".csv"):
            with open(out / rel, newline="", encoding="iso-8859-1") as fh:
                assert sum(1 for _ in csv.reader(fh)) - 1 == rows, rel


# ---- reference file layouts ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "reference"),
    [
        ("reference/npidata.csv", "cms/nppes/npidata_pfile_header.csv"),
        ("reference/dac.csv", "cms/dac/DAC_NationalDownloadableFile_header_current.csv"),
        ("reference/leie.csv", "oig/UPDATED_header.csv"),
    ],
)
def test_headers_equal_the_shared_reference(out: Path, written: str, reference: str) -> None:
    assert first_line(out / written) == first_line(REFERENCE_DIR / reference)


def test_npidata_has_330_quoted_columns(out: Path, npidata: list[list[str]]) -> None:
    assert len(npidata[0]) == 330
    assert all(len(row) == 330 for row in npidata)
    for line in (out / "reference/npidata.csv").read_bytes().splitlines()[:200]:
        assert line.startswith(b'"') and line.endswith(b'"')
        assert line.count(b'","') == 329


def test_npidata_is_latin1_with_accented_names(out: Path, npidata: list[list[str]]) -> None:
    raw = (out / "reference/npidata.csv").read_bytes()
    accented = [row for row in npidata[1:] if any(ord(c) > 127 for c in row[5] + row[6])]
    assert accented, "expected names such as JOSÉ or GARCÍA"
    name = next(c for c in accented[0][5] + accented[0][6] if ord(c) > 127)
    assert name.encode("iso-8859-1") in raw
    assert name.encode("utf-8") not in raw
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")


def test_npidata_individuals_organizations_and_non_physicians(npidata: list[list[str]]) -> None:
    header = npidata[0]
    col = {name: i for i, name in enumerate(header)}
    rows = npidata[1:]
    kinds = Counter(row[col["Entity Type Code"]] for row in rows)
    assert kinds["1"] > 3000 and 3 <= kinds["2"] <= 30
    taxonomies = Counter(row[col["Healthcare Provider Taxonomy Code_1"]] for row in rows)
    assert taxonomies["363A00000X"] > 0  # physician assistants
    assert any(code.startswith("363L") for code in taxonomies)  # nurse practitioners
    credentials = {row[col["Provider Credential Text"]] for row in rows}
    assert {"M.D.", "MD", "D.O."} <= credentials
    assert sum(bool(row[col["Provider Other Last Name"]]) for row in rows) > 20
    date_cols = ("Provider Enumeration Date", "Last Update Date", "Certification Date")
    for row in rows:
        for name in date_cols:
            assert re.fullmatch(r"\d\d/\d\d/\d{4}", row[col[name]]), (name, row[col[name]])
        if row[col["Entity Type Code"]] == "1":
            switches = [
                row[col[f"Healthcare Provider Primary Taxonomy Switch_{i}"]] for i in range(1, 16)
            ]
            assert switches.count("Y") == 1
            assert row[col["Provider License Number State Code_1"]]


def test_physician_taxonomies_come_from_nucc(npidata: list[list[str]]) -> None:
    with open(REPO / "data/demo/nucc_taxonomy_251_subset.csv", encoding="utf-8") as fh:
        codes = {row["Code"] for row in csv.DictReader(fh)}
    col = npidata[0].index("Healthcare Provider Taxonomy Code_1")
    assert {row[col] for row in npidata[1:]} <= codes


def test_all_npis_are_luhn_valid(
    out: Path,
    npidata: list[list[str]],
    boards: list[dict[str, str]],
    truth: list[dict[str, str]],
    sites: dict[str, dict],
) -> None:
    assert npi_check_digit("123456789") == 3 and is_valid_npi("1234567893")
    npis = [row[0] for row in npidata[1:]]
    assert len(npis) == len(set(npis))
    npis += [r["npi"] for r in boards if r["npi"]]
    npis += [r["npi"] for r in truth if r["npi"]]
    npis += [x["npi"] for s in sites.values() for x in s["listings"] if x["npi"]]
    with open(out / "reference/dac.csv", newline="", encoding="utf-8") as fh:
        npis += [r["NPI"] for r in csv.DictReader(fh)]
    with open(out / "reference/leie.csv", newline="", encoding="utf-8") as fh:
        npis += [r["NPI"] for r in csv.DictReader(fh) if r["NPI"] != "0000000000"]
    assert [n for n in npis if not is_valid_npi(n)] == []


def test_boards_csv_contract(out: Path, boards: list[dict[str, str]], manifest: dict) -> None:
    assert first_line(out / "reference/boards.csv") == (
        b"npi,first_name,middle_name,last_name,suffix,board,certificate,certificate_type,status,"
        b"initial_certification_date,expiration_date,moc,city,state"
    )
    malformed_lines = {m["line"] for m in manifest["boards_malformed_rows"]}
    assert 3 <= len(malformed_lines) < 0.01 * len(boards)
    assert {m["problem"] for m in manifest["boards_malformed_rows"]} >= {
        "bad_date",
        "unknown_status",
        "empty_last_name",
    }
    bad = set()
    for line, row in enumerate(boards, start=2):
        try:
            assert row["last_name"]
            assert row["status"] in BOARD_STATUSES
            date.fromisoformat(row["initial_certification_date"])
            assert re.fullmatch(r"\d{4}-\d\d-\d\d", row["initial_certification_date"])
            if row["expiration_date"]:
                date.fromisoformat(row["expiration_date"])
        except (AssertionError, ValueError):
            bad.add(line)
            continue
        assert row["certificate_type"] in ("specialty", "subspecialty")
        assert row["moc"] in ("yes", "no", "not_required", "")
        assert row["npi"] == "" or len(row["npi"]) == 10
        if row["status"] == "active" and row["expiration_date"]:
            assert date.fromisoformat(row["expiration_date"]) > AS_OF
    assert bad == malformed_lines
    blank = sum(not r["npi"] for r in boards) / len(boards)
    assert 0.2 < blank < 0.4
    statuses = Counter(r["status"] for r in boards)
    assert statuses["active"] > 0.75 * len(boards)
    assert all(statuses[s] > 0 for s in BOARD_STATUSES)
    assert any(r["board"].startswith("American Osteopathic Board") for r in boards)
    cardiology = [r for r in boards if r["certificate"] == "Cardiovascular Disease"]
    assert cardiology and all(r["certificate_type"] == "subspecialty" for r in cardiology)


def test_boards_certificates_exist_in_reference_lists(boards: list[dict[str, str]]) -> None:
    with open(REPO / "data/demo/abms_board_certificates_2016.csv", encoding="utf-8") as fh:
        abms = {(r["board"], r["certificate_name"]) for r in csv.DictReader(fh)}
    with open(REPO / "data/demo/aoa_board_certificates_partial.csv", encoding="utf-8") as fh:
        aoa = {r["certificate_name"] for r in csv.DictReader(fh)}
    for row in boards:
        if row["board"].startswith("American Osteopathic"):
            assert row["certificate"] in aoa
        else:
            assert (row["board"], row["certificate"]) in abms


def test_dac_subset_with_some_clinicians_on_two_rows(out: Path, npidata: list[list[str]]) -> None:
    with open(out / "reference/dac.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    per_npi = Counter(r["NPI"] for r in rows)
    physicians = [
        r
        for r in rows
        if r["Cred"] in ("MD", "DO", "")
        and r["pri_spec"] not in ("NURSE PRACTITIONER", "PHYSICIAN ASSISTANT")
    ]
    individuals = sum(row[1] == "1" for row in npidata[1:])
    assert 0.6 < len(per_npi) / individuals < 0.8
    assert sum(n == 2 for n in per_npi.values()) > 100
    specs = {r["pri_spec"] for r in physicians}
    assert {
        "CARDIOVASCULAR DISEASE (CARDIOLOGY)",
        "INTERNAL MEDICINE",
        "OBSTETRICS/GYNECOLOGY",
    } <= specs
    assert {r["Cred"] for r in rows} >= {"MD", "DO"}
    assert all(r["Grd_yr"].isdigit() for r in physicians if r["Med_sch"])


def test_leie_layout_samples_and_world_physicians(out: Path, manifest: dict) -> None:
    lines = (out / "reference/leie.csv").read_text("utf-8").splitlines()
    sample = (REFERENCE_DIR / "oig/UPDATED_first_rows_sample.csv").read_text("utf-8")
    assert lines[1:6] == sample.splitlines()[1:]
    rows = list(csv.DictReader(io.StringIO("\n".join(lines))))
    assert len(rows) >= 25
    for line in lines[1:]:
        assert line.startswith('"') and line.endswith('"') and line.count('","') == 17
    for row in rows:
        for name in ("EXCLDATE", "REINDATE", "WAIVERDATE"):
            assert re.fullmatch(r"\d{8}", row[name])
        assert re.fullmatch(r"\d{10}", row["NPI"])
    individuals = [r for r in rows if r["LASTNAME"]]
    assert len(individuals) >= 20
    assert sum(r["REINDATE"] != "00000000" for r in individuals) >= 2
    world_doctors = manifest["leie_world_physicians"]
    assert len(world_doctors) >= 10
    assert any(d["npi_in_leie"] for d in world_doctors)
    assert any(not d["npi_in_leie"] for d in world_doctors)
    assert any(d["listed"] for d in world_doctors)
    shown = {r["NPI"] for r in individuals}
    for doctor in world_doctors:
        assert (doctor["npi"] in shown) == doctor["npi_in_leie"]


# ---- sites and truth -----------------------------------------------------------------------


def test_site_json_follows_the_content_model(sites: dict[str, dict]) -> None:
    shapes = {s["shape"] for s in sites.values()}
    assert shapes == {"jsonld_sitemap", "html_directory", "faculty_directory"}
    for site in sites.values():
        assert set(site) == SITE_KEYS
        assert site["kind"] == (
            "medical_school" if site["shape"] == "faculty_directory" else "hospital"
        )
        assert 300 <= len(site["listings"]) <= 600
        pattern = PATH_PATTERNS[site["shape"]]
        ids = [x["id"] for x in site["listings"]]
        assert len(ids) == len(set(ids))
        for listing in site["listings"]:
            assert set(listing) == LISTING_KEYS, set(listing) ^ LISTING_KEYS
            match = pattern.fullmatch(listing["path"])
            assert match and match.group(1) == listing["id"], listing["path"]
            assert listing["display_name"] and listing["family_name"]
            assert isinstance(listing["is_physician"], bool)
            assert all(set(loc) == LOCATION_KEYS for loc in listing["locations"])
            assert listing["locations"]
            assert all(set(e) == {"type", "name", "year"} for e in listing["education"])
            assert all(
                e["type"] in ("medical_school", "residency", "fellowship", "other")
                for e in listing["education"]
            )
            assert all(set(c) == {"board", "certificate"} for c in listing["board_certifications"])
            if listing["is_physician"]:
                assert listing["specialties"]


def test_hospitals_are_in_different_states(sites: dict[str, dict]) -> None:
    hospitals = [s for s in sites.values() if s["kind"] == "hospital"]
    assert len(hospitals) == 2
    assert hospitals[0]["state"] != hospitals[1]["state"]
    assert hospitals[0]["city"] != hospitals[1]["city"]


def test_npi_shown_only_on_the_jsonld_site(sites: dict[str, dict]) -> None:
    for site in sites.values():
        shown = sum(x["npi"] is not None for x in site["listings"]) / len(site["listings"])
        if site["shape"] == "jsonld_sitemap":
            assert 0.23 < shown < 0.27
        else:
            assert shown == 0


def test_truth_covers_every_listing_once(
    sites: dict[str, dict], truth: list[dict[str, str]]
) -> None:
    listed = {(sid, x["id"], x["path"]) for sid, s in sites.items() for x in s["listings"]}
    keys = [(r["site_id"], r["listing_ref"], r["path"]) for r in truth]
    assert len(keys) == len(set(keys)) == len(listed)
    assert set(keys) == listed
    assert list(truth[0]) == [
        "site_id",
        "listing_ref",
        "path",
        "npi",
        "is_physician",
        "expected_certification",
    ]
    by_key = {(r["site_id"], r["listing_ref"]): r for r in truth}
    for sid, site in sites.items():
        for listing in site["listings"]:
            row = by_key[(sid, listing["id"])]
            assert row["is_physician"] == ("true" if listing["is_physician"] else "false")
            if listing["npi"]:
                assert listing["npi"] == row["npi"]


def test_truth_npis_exist_in_nppes(truth: list[dict[str, str]], npidata: list[list[str]]) -> None:
    nppes = {row[0] for row in npidata[1:]}
    assert {r["npi"] for r in truth if r["npi"]} <= nppes
    missing = [r for r in truth if r["is_physician"] == "true" and not r["npi"]]
    assert 0.015 < len(missing) / len(truth) < 0.05  # listed physicians absent from NPPES
    assert all(r["expected_certification"] == "unknown" for r in missing)


def test_every_certification_category_is_represented(
    truth: list[dict[str, str]], manifest: dict
) -> None:
    counts = Counter(r["expected_certification"] for r in truth)
    assert set(counts) == set(CERTIFICATION_VALUES)
    assert all(counts[value] >= 20 for value in CERTIFICATION_VALUES), counts
    assert counts["certified"] > len(truth) / 2
    assert manifest["truth_distribution"] == dict(counts)
    for row in truth:
        if row["is_physician"] == "false":
            assert row["expected_certification"] == "unknown"


def test_faculty_site_mixes_physicians_and_researchers(
    sites: dict[str, dict], truth: list[dict[str, str]]
) -> None:
    listings = sites["commonwealth-med"]["listings"]
    researchers = [x for x in listings if not x["is_physician"]]
    physicians = [x for x in listings if x["is_physician"]]
    assert len(researchers) > 50 and len(physicians) > 150
    assert all(x["title"] and x["department"] for x in listings)
    assert all("PhD" in x["degrees"] and x["npi"] is None for x in researchers)
    assert any(x["title"].endswith("of Pharmacology") for x in researchers)
    assert any(re.search(r"Professor of Medicine \(.+\)", x["title"]) for x in physicians)
    ids = {x["id"] for x in researchers}
    assert all(
        r["npi"] == ""
        for r in truth
        if r["site_id"] == "commonwealth-med" and r["listing_ref"] in ids
    )


def test_some_physicians_are_on_two_sites(truth: list[dict[str, str]]) -> None:
    sites_per_npi: dict[str, set[str]] = {}
    for row in truth:
        if row["npi"]:
            sites_per_npi.setdefault(row["npi"], set()).add(row["site_id"])
    shared = [npi for npi, s in sites_per_npi.items() if len(s) > 1]
    assert len(shared) >= 50


def test_same_name_collisions_across_states(
    npidata: list[list[str]], truth: list[dict[str, str]], manifest: dict
) -> None:
    col = {name: i for i, name in enumerate(npidata[0])}
    listed = {r["npi"] for r in truth if r["npi"] and r["is_physician"] == "true"}
    by_name: dict[tuple[str, str], list[list[str]]] = {}
    for row in npidata[1:]:
        if row[col["Entity Type Code"]] == "1":
            key = (
                world.strip_accents(row[col["Provider First Name"]]).upper(),
                world.strip_accents(row[col["Provider Last Name (Legal Name)"]]).upper(),
            )
            by_name.setdefault(key, []).append(row)
    state_col = col["Provider Business Practice Location Address State Name"]
    collisions = [
        rows
        for rows in by_name.values()
        if len({r[state_col] for r in rows}) > 1 and any(r[0] in listed for r in rows)
    ]
    assert len(collisions) >= 20
    assert len(manifest["same_name_collisions"]) >= 20


def test_listing_noise_is_present(
    sites: dict[str, dict], truth: list[dict[str, str]], npidata: list[list[str]]
) -> None:
    col = {name: i for i, name in enumerate(npidata[0])}
    nppes = {row[0]: row for row in npidata[1:]}
    by_key = {(r["site_id"], r["listing_ref"]): r["npi"] for r in truth}
    noise = Counter()
    for sid, site in sites.items():
        for x in site["listings"]:
            noise["dr"] += x["prefix"] == "Dr."
            noise["honor"] += any(d.startswith("FA") for d in x["degrees"])
            noise["accented"] += any(ord(c) > 127 for c in x["family_name"])
            noise["synonym"] += bool(
                {
                    "Cardiology",
                    "OB/GYN",
                    "ENT",
                    "Peds",
                    "Family Practice",
                    "Obstetrics & Gynecology",
                }
                & set(x["specialties"])
            )
            npi = by_key[(sid, x["id"])]
            if not npi:
                continue
            row = nppes[npi]
            legal_last = world.strip_accents(row[col["Provider Last Name (Legal Name)"]]).upper()
            other_last = world.strip_accents(row[col["Provider Other Last Name"]]).upper()
            first = world.strip_accents(row[col["Provider First Name"]]).upper()
            shown_last = world.strip_accents(x["family_name"]).upper()
            noise["married"] += bool(other_last) and shown_last == other_last != legal_last
            noise["nickname"] += world.strip_accents(x["given_name"]).upper() != first
            city = row[col["Provider Business Practice Location Address City Name"]]
            noise["moved"] += all(loc["city"].upper() != city for loc in x["locations"])
    for kind in ("dr", "honor", "accented", "synonym", "married", "nickname", "moved"):
        assert noise[kind] >= 10, (kind, noise)
    n_listings = sum(len(s["listings"]) for s in sites.values())
    assert 0.05 < noise["moved"] / n_listings < 0.2


# ---- the truth rules -----------------------------------------------------------------------


def sub(name: str, parent: str) -> world.Specialty:
    return next(s for s in SUBSPECIALTIES if s.name == name and s.parent == parent)


def cert(spec: world.Specialty, status: str) -> Certificate:
    return Certificate(
        spec,
        spec.board,
        spec.name,
        "subspecialty" if spec.parent else "specialty",
        status,
        date(2010, 7, 1),
        None,
        "",
    )


def physician(*certs: Certificate, has_nppes: bool = True, role: str = "physician") -> Person:
    person = Person(1, role, "female", "Jane", "", "Doe", "", has_nppes=has_nppes)
    person.certs = list(certs)
    return person


IM = SPECIALTY_BY_NAME["Internal Medicine"]
CVD = sub("Cardiovascular Disease", "Internal Medicine")


@pytest.mark.parametrize(
    ("certs", "claims", "expected"),
    [
        ((cert(CVD, "active"),), {"Cardiovascular Disease"}, "certified"),
        ((cert(CVD, "active"),), {"Internal Medicine"}, "certified"),  # sub counts for parent
        ((cert(IM, "active"),), {"Cardiovascular Disease"}, "certified_other_specialty"),
        ((cert(IM, "expired"), cert(CVD, "active")), {"Cardiovascular Disease"}, "certified"),
        ((cert(IM, "expired"),), {"Internal Medicine"}, "lapsed"),
        ((cert(CVD, "lapsed"),), {"Internal Medicine"}, "lapsed"),
        ((cert(IM, "inactive"),), {"Internal Medicine"}, "lapsed"),
        ((cert(IM, "revoked"),), {"Internal Medicine"}, "not_certified"),
        ((cert(IM, "expired"),), {"Pediatrics"}, "not_certified"),
        ((), {"Internal Medicine"}, "not_certified"),
    ],
)
def test_expected_certification_rules(
    certs: tuple[Certificate, ...], claims: set[str], expected: str
) -> None:
    assert expected_certification(physician(*certs), frozenset(claims)) == expected


def test_unknown_identity_is_unknown() -> None:
    active = cert(IM, "active")
    claims = frozenset({"Internal Medicine"})
    assert expected_certification(physician(active, has_nppes=False), claims) == "unknown"
    assert expected_certification(physician(active, role="np"), claims) == "unknown"


def test_every_directory_label_maps_to_one_canonical_name() -> None:
    assert world.LABEL_CANONICAL["Cardiology"] == "Cardiovascular Disease"
    assert world.LABEL_CANONICAL["OB/GYN"] == "Obstetrics and Gynecology"
    assert world.LABEL_CANONICAL["ENT"] == "Otolaryngology"
    assert world.LABEL_CANONICAL["Peds"] == "Pediatrics"
    assert world.LABEL_CANONICAL["Family Practice"] == "Family Medicine"
    owners: dict[str, set[str]] = {}
    for spec in world.PRIMARY_SPECIALTIES + SUBSPECIALTIES:
        for label in spec.labels:
            owners.setdefault(label, set()).add(spec.name)
    assert all(len(names) == 1 for names in owners.values()), owners


# ---- small helpers -------------------------------------------------------------------------


def test_typo_is_one_edit_and_keeps_the_initial() -> None:
    rng = random.Random(5)
    for name in ("Johnson", "Nguyen", "Fitzgerald", "Peña"):
        typo = world.introduce_typo(rng, name)
        assert typo != name and typo[0] == name[0]
        assert len(name) - len(typo) in (0, 1)
        assert sorted(typo) == sorted(name) or len(typo) == len(name) - 1
    assert world.introduce_typo(rng, "Li") == "Li"


def test_names_and_slugs() -> None:
    assert world.title_surname("MCDONALD") == "McDonald"
    assert world.title_surname("OBRIEN") == "O'Brien"
    assert world.slugify("José Q. Núñez-García") == "jose-q-nunez-garcia"
    assert (
        world.display_name("Dr.", "John", "A.", "Smith", "Jr.", ["MD"], False, False)
        == "Dr. John A. Smith Jr."
    )
    assert (
        world.display_name(None, "Jane", None, "Doe", "", ["MD", "FACC"], False, True)
        == "Jane Doe, MD, FACC"
    )
    assert (
        world.display_name(None, "Jane", "Q.", "Doe", "", ["MD"], True, True) == "Doe, Jane Q., MD"
    )


def test_nicknames_come_from_the_nickname_list() -> None:
    ref = world.load_reference()
    rng = random.Random(3)
    drawn = {world.pick_nickname(rng, ref, "Robert", "male") for _ in range(50)}
    assert "Bob" in drawn
    assert {n.lower() for n in drawn if n} <= set(ref.nicknames["robert"])
    assert world.pick_nickname(rng, ref, "Xyzzy", "male") is None
