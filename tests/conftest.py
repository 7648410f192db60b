"""Shared fixtures: the demo world, its sites on loopback, and a database built by the CLI."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO_SEED = 7  # an assertion seed (pipeline.match.evaluate.ASSERTION_SEEDS): never fitted on
DEMO_PHYSICIANS = 3000
LOOPBACK = [
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "AUTOTHROTTLE_ENABLED=False",
    "-s",
    "CONCURRENT_REQUESTS_PER_DOMAIN=16",
]


def run_cli(*args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Run the real ``credcheck`` entry point in a child process."""
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"credcheck {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


@pytest.fixture(scope="session")
def demo_world(tmp_path_factory) -> Path:
    from pipeline.demo.world import generate_world

    world = tmp_path_factory.mktemp("world")
    generate_world(world, seed=DEMO_SEED, n_physicians=DEMO_PHYSICIANS)
    return world


@pytest.fixture(scope="session")
def demo_sites(demo_world, tmp_path_factory):
    """The demo sites served on 127.0.0.1, and a registry file naming them."""
    import json

    from pipeline.demo.run import write_demo_registry
    from pipeline.demo.server import serve_sites

    site_files = sorted((demo_world / "sites").glob("*.json"))
    sites = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in site_files}
    with serve_sites(site_files) as base_urls:
        registry = tmp_path_factory.mktemp("registry") / "sites.toml"
        write_demo_registry(registry, sites, base_urls)
        yield {"base_urls": base_urls, "registry": registry, "sites": sites}


@pytest.fixture(scope="session")
def demo_db(demo_world, demo_sites, tmp_path_factory) -> Path:
    """A database built the way a user would: load, crawl, match — each a CLI call."""
    db = tmp_path_factory.mktemp("db") / "credcheck.duckdb"
    env = {"CREDCHECK_DB": str(db), "CREDCHECK_SITES": str(demo_sites["registry"])}
    reference = demo_world / "reference"
    for kind, name in (
        ("nppes", "npidata.csv"),
        ("dac", "dac.csv"),
        ("boards", "boards.csv"),
        ("leie", "leie.csv"),
    ):
        run_cli("load", kind, str(reference / name), env=env)
    runs = tmp_path_factory.mktemp("runs")
    run_cli("crawl", *LOOPBACK, "--runs-dir", str(runs), env=env)
    run_cli("match", env=env)
    return db


# ------------------------------------------------------------------------------ two runs

HISTORY_SEED = 5
HISTORY_PHYSICIANS = 300


def last_json_line(stdout: str) -> dict:
    """The machine-readable record `credcheck run` prints as its last line."""
    import json

    return json.loads(stdout.strip().splitlines()[-1])


def _plant_changes(world: Path) -> dict:
    """Change a copy of the demo world the way the world changes between two nightly runs."""
    import csv
    import json

    sites = {
        p.stem: json.loads(p.read_text(encoding="utf-8")) for p in (world / "sites").glob("*.json")
    }
    hospital = next(s for s in sites.values() if s["shape"] == "jsonld_sitemap")
    listings = hospital["listings"]
    site_id = hospital["site_id"]
    gone = [listings[i]["id"] for i in (1, 2, 3)]
    respecialized, reaffiliated, copied = listings[5], listings[6], listings[7]
    new_specialty = (
        "Dermatology" if "Dermatology" not in respecialized["specialties"] else "Urology"
    )
    respecialized["specialties"] = [new_specialty]
    reaffiliated["affiliations"] = [*reaffiliated["affiliations"], "Northbridge Medical Center"]
    added = json.loads(json.dumps(copied))
    added["id"] = "9" + copied["id"]
    added["path"] = copied["path"].replace(f"-{copied['id']}", f"-{added['id']}")
    hospital["listings"] = [x for x in listings if x["id"] not in gone] + [added]
    (world / "sites" / f"{site_id}.json").write_text(json.dumps(hospital), encoding="utf-8")

    # Two certified physicians of another site: one lets a certificate lapse, one is excluded.
    truth = list(csv.DictReader((world / "truth.csv").open(encoding="utf-8")))
    boards_path = world / "reference" / "boards.csv"
    boards = list(csv.DictReader(boards_path.open(encoding="utf-8")))
    certified = [
        t["npi"]
        for t in truth
        if t["site_id"] != site_id and t["expected_certification"] == "certified" and t["npi"]
    ]
    with_one_board_row = [n for n in certified if sum(b["npi"] == n for b in boards) == 1]
    lapsing, excluding = with_one_board_row[0], with_one_board_row[1]
    for row in boards:
        if row["npi"] == lapsing:
            row["status"] = "lapsed"
    with boards_path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(boards[0]))
        writer.writeheader()
        writer.writerows(boards)
    person = next(b for b in boards if b["npi"] == excluding)
    leie = world / "reference" / "leie.csv"
    fields = {
        "LASTNAME": person["last_name"].upper(), "FIRSTNAME": person["first_name"].upper(),
        "MIDNAME": "", "BUSNAME": "", "GENERAL": "IND- LIC HC SERV PRO", "SPECIALTY": "",
        "UPIN": "", "NPI": excluding, "DOB": "", "ADDRESS": "1 MAIN ST",
        "CITY": person["city"].upper(), "STATE": person["state"], "ZIP": "",
        "EXCLTYPE": "1128b4", "EXCLDATE": "20260101", "REINDATE": "00000000",
        "WAIVERDATE": "00000000", "WVRSTATE": "",
    }  # fmt: skip
    with leie.open("a", encoding="utf-8", newline="") as fh:
        csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\n").writerow(list(fields.values()))
    return {
        "site_id": site_id,
        "gone": [f"{site_id}:{ref}" for ref in gone],
        "added": f"{site_id}:{added['id']}",
        "respecialized": f"{site_id}:{respecialized['id']}",
        "new_specialty": new_specialty,
        "reaffiliated": f"{site_id}:{reaffiliated['id']}",
        "lapsed_npi": lapsing,
        "excluded_npi": excluding,
    }


@pytest.fixture(scope="session")
def history_db(tmp_path_factory):
    """A small demo world run twice by `credcheck run`, with changes planted between the runs.

    Yields {db, work, registry, runs, env, planted, first, second} while the changed world's
    sites are still served, so later tests can run `credcheck run` on copies of the database.
    """
    import json
    import shutil

    from pipeline.demo.run import write_demo_registry
    from pipeline.demo.server import serve_sites
    from pipeline.demo.world import generate_world

    base = tmp_path_factory.mktemp("history")
    world = base / "world"
    generate_world(world, seed=HISTORY_SEED, n_physicians=HISTORY_PHYSICIANS)
    db, runs, registry = base / "db" / "credcheck.duckdb", base / "runs", base / "sites.toml"
    env = {"CREDCHECK_DB": str(db), "CREDCHECK_SITES": str(registry)}

    def serve_and_run(world_dir: Path, kinds: tuple[str, ...]):
        for kind in kinds:
            name = {"nppes": "npidata.csv", "dac": "dac.csv", "boards": "boards.csv",
                    "leie": "leie.csv"}[kind]  # fmt: skip
            run_cli("load", kind, str(world_dir / "reference" / name), env=env)
        site_files = sorted((world_dir / "sites").glob("*.json"))
        sites = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in site_files}
        server = serve_sites(site_files)
        base_urls = server.__enter__()
        write_demo_registry(registry, sites, base_urls)
        proc = run_cli("run", *LOOPBACK, "--runs-dir", str(runs), env=env)
        return server, proc

    server, first = serve_and_run(world, ("nppes", "dac", "boards", "leie"))
    server.__exit__(None, None, None)
    changed = base / "world2"
    shutil.copytree(world, changed)
    planted = _plant_changes(changed)
    server, second = serve_and_run(changed, ("boards", "leie"))
    try:
        yield {
            "db": db,
            "work": db.with_name("credcheck.work.duckdb"),
            "registry": registry,
            "runs": runs,
            "env": env,
            "planted": planted,
            "world": changed,
            "first": first,
            "second": second,
        }
    finally:
        server.__exit__(None, None, None)


@pytest.fixture
def con(tmp_path):
    """A fresh database file with the schema, open for writing."""
    from pipeline.db.store import open_db

    connection = open_db(tmp_path / "ref.duckdb")
    yield connection
    connection.close()


def npi(n: int) -> str:
    """The n-th valid (Luhn-checked) NPI of a test: 100000000+n with its check digit."""
    from pipeline.normalize.npi import npi_check_digit

    nine = f"{100000000 + n}"
    return nine + str(npi_check_digit(nine))


@pytest.fixture
def copy_of_history(history_db, tmp_path) -> dict:
    """A private copy of the two-run database (published + work), served by the same sites."""
    db = tmp_path / "credcheck.duckdb"
    shutil.copy(history_db["db"], db)
    shutil.copy(history_db["work"], tmp_path / "credcheck.work.duckdb")
    return {
        "db": db,
        "env": {"CREDCHECK_DB": str(db), "CREDCHECK_SITES": str(history_db["registry"])},
        "runs": tmp_path / "runs",
    }


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Run:
    """`credcheck run` in its own process group, its output collected line by line."""

    def __init__(self, env: dict, runs_dir: Path, extra: tuple[str, ...] = ()):
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pipeline.cli",
                "run",
                *LOOPBACK,
                *extra,
                "--runs-dir",
                str(runs_dir),
            ],
            cwd=REPO_ROOT,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # kill -9 takes the Scrapy children down with it
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait_for(self, marker: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not any(marker in line for line in self.lines):
            if self.proc.poll() is not None and not self.reader.is_alive():
                raise AssertionError(
                    f"run ended ({self.proc.returncode}) before {marker!r}:\n{''.join(self.lines)}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"no {marker!r} within {timeout}s:\n{''.join(self.lines)}")
            time.sleep(0.01)

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.reader.join(timeout=10)

    def finish(self, timeout: float = 300) -> int:
        code = self.proc.wait(timeout=timeout)
        self.reader.join(timeout=10)
        return code


# ---- markers: `make test-fast` runs what needs no child process --------------------------------

# A property test drawing this many examples or more is a fuzzing run, not a quick check.
SLOW_EXAMPLES = 1000
# Fixtures that crawl, serve sites or build a database through the CLI in child processes.
CRAWL_FIXTURES = {"demo_sites", "demo_db", "history_db", "copy_of_history", "sites"}
# What a test body calls when it starts a child process (a crawl, the CLI, a benchmark, git).
CHILD_PROCESS_CALLS = ("run_cli(", "subprocess.", "crawl(", "crawl_site", "crawl_sites", "Popen")


def _source(obj) -> str:
    """An object's source, or "" when Python cannot show it (built at run time, wrapped)."""
    import inspect

    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        return ""


def _starts_a_child(source: str, helpers: set[str] = frozenset()) -> bool:
    return any(call in source for call in CHILD_PROCESS_CALLS) or any(
        f"{name}(" in source for name in helpers
    )


def pytest_collection_modifyitems(items) -> None:
    """Mark every test that starts a child process ``crawl``, and every property test drawing
    ``SLOW_EXAMPLES`` or more ``slow`` (``make test-fast`` skips both).

    A test is marked when it uses a fixture that crawls, or when its body, or a function of its
    module it calls, starts a child process: new tests are sorted without a list to keep.
    """
    import inspect

    helpers_of: dict[str, set[str]] = {}

    def helpers(module) -> set[str]:
        """The functions of a module that start a child process."""
        if module.__name__ not in helpers_of:
            helpers_of[module.__name__] = {
                name
                for name, obj in vars(module).items()
                if inspect.isfunction(obj)
                and obj.__module__ == module.__name__
                and _starts_a_child(_source(obj))
            }
        return helpers_of[module.__name__]

    def starts_a_child(function) -> bool:
        module = inspect.getmodule(function)
        return _starts_a_child(_source(function), helpers(module) if module else set())

    for item in items:
        function = getattr(item, "function", None)
        if function is None:  # doctests run in-process
            continue
        fixture_defs = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
        fixtures = [d.func for name in item.fixturenames for d in fixture_defs.get(name, ())]
        if (
            CRAWL_FIXTURES & set(item.fixturenames)
            or starts_a_child(function)
            or any(starts_a_child(f) for f in fixtures if inspect.isfunction(f))
        ):
            item.add_marker(pytest.mark.crawl)
        drawn = getattr(function, "_hypothesis_internal_use_settings", None)
        if drawn is not None and drawn.max_examples >= SLOW_EXAMPLES:
            item.add_marker(pytest.mark.slow)
