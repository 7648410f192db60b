"""The Scrapy project deploys to a real Scrapyd and crawls a fixture site there.

Starts `scrapyd` on 127.0.0.1 (a free port, a temporary directory), deploys the project with
`scrapyd-deploy` through scrapy.cfg, schedules a crawl of a demo site served on loopback and
reads the items Scrapyd stored.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.skipif(
    not (BIN / "scrapyd").exists() or not (BIN / "scrapyd-deploy").exists(),
    reason="scrapyd and scrapyd-client are dev dependencies (pip install -e '.[dev]')",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(url: str, data: dict | list | None = None) -> dict:
    body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
    with urllib.request.urlopen(url, data=body, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture
def scrapyd(tmp_path, history_db):
    """A Scrapyd daemon in a temporary directory, told where the demo site registry is."""
    port = free_port()
    home = tmp_path / "scrapyd"
    home.mkdir()
    (home / "scrapyd.conf").write_text(
        "\n".join(
            [
                "[scrapyd]",
                "bind_address = 127.0.0.1",
                f"http_port = {port}",
                "eggs_dir = eggs",
                "logs_dir = logs",
                "items_dir = items",
                "dbs_dir = dbs",
                "max_proc = 2",
                "poll_interval = 0.5",
                "",
            ]
        )
    )
    env = {**os.environ, "CREDCHECK_SITES": str(history_db["registry"])}
    proc = subprocess.Popen(
        [str(BIN / "scrapyd")],
        cwd=home,
        env=env,
        stdout=(home / "scrapyd.out").open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 30
    while True:
        try:
            call(url + "daemonstatus.json")
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError((home / "scrapyd.out").read_text()) from None
            time.sleep(0.2)
    try:
        yield {"url": url, "home": home}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_deploy_schedule_and_items_land(scrapyd, history_db, tmp_path):
    # Deploy from a clean copy of the Scrapy project: scrapyd-deploy writes a setup.py there.
    project = tmp_path / "project"
    shutil.copytree(
        REPO_ROOT / "spiders", project / "spiders", ignore=shutil.ignore_patterns("__pycache__")
    )
    config = (REPO_ROOT / "scrapy.cfg").read_text()
    assert "project = credcheck" in config
    (project / "scrapy.cfg").write_text(
        config.replace("url = http://localhost:6800/", f"url = {scrapyd['url']}")
    )
    deploy = subprocess.run(
        [str(BIN / "scrapyd-deploy")],
        cwd=project,
        env={**os.environ, "CREDCHECK_SITES": str(history_db["registry"])},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    assert '"status": "ok"' in deploy.stdout, deploy.stdout + deploy.stderr

    site = json.loads(
        (history_db["world"] / "sites" / f"{history_db['planted']['site_id']}.json").read_text()
    )
    spiders = call(scrapyd["url"] + "listspiders.json?project=credcheck")["spiders"]
    assert site["site_id"] in spiders and "directory" in spiders

    job = call(
        scrapyd["url"] + "schedule.json",
        {
            "project": "credcheck",
            "spider": site["site_id"],
            "setting": ["DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False"],
        },
    )
    assert job["status"] == "ok", job
    deadline = time.monotonic() + 180
    while True:
        jobs = call(scrapyd["url"] + "listjobs.json?project=credcheck")
        if any(j["id"] == job["jobid"] for j in jobs["finished"]):
            break
        assert time.monotonic() < deadline, jobs
        time.sleep(0.5)

    feed = scrapyd["home"] / "items" / "credcheck" / site["site_id"] / f"{job['jobid']}.jl"
    items = [json.loads(line) for line in feed.read_text(encoding="utf-8").splitlines() if line]
    assert len(items) == len(site["listings"])
    assert {item["site_id"] for item in items} == {site["site_id"]}
    assert all(item["source_url"] and item["content_hash"] and item["name"] for item in items)
