"""Real Scrapyd daemons on loopback, for the fleet tests and ``bench.fleet --scrapyd-nodes``.

    with scrapyd_nodes(3, root, env={"CREDCHECK_SITES": str(registry)}) as nodes:
        deploy(nodes, root / "project")          # scrapyd-deploy -a, as README shows
        nodes[0].kill()                          # the node and its crawls die at once

Each daemon runs in its own directory and process group (``kill`` is a machine dying: its
running crawls go with it), keeps items (``items_dir``, which the coordinator reads) and runs
``max_proc`` crawls at a time.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import REPO_ROOT

BIN = Path(sys.executable).parent


@dataclass
class LocalNode:
    url: str
    home: Path
    proc: subprocess.Popen

    def kill(self) -> None:
        """SIGKILL to the daemon and every crawl it started."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def running(self, project: str = "credcheck") -> list[dict]:
        url = f"{self.url}listjobs.json?project={project}"
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())["running"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(home: Path, env: dict[str, str], max_proc: int) -> LocalNode:
    port = free_port()
    home.mkdir(parents=True, exist_ok=True)
    (home / "scrapyd.conf").write_text(
        f"[scrapyd]\nbind_address = 127.0.0.1\nhttp_port = {port}\neggs_dir = eggs\n"
        f"logs_dir = logs\nitems_dir = items\ndbs_dir = dbs\nmax_proc = {max_proc}\n"
        "poll_interval = 0.2\nfinished_to_keep = 1000\n"
    )
    proc = subprocess.Popen(
        [str(BIN / "scrapyd")], cwd=home, env={**os.environ, **env},
        stdout=(home / "scrapyd.out").open("w"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    return LocalNode(f"http://127.0.0.1:{port}/", home, proc)


def _wait_up(node: LocalNode, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(node.url + "daemonstatus.json", timeout=5):
                return
        except OSError:
            if node.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((node.home / "scrapyd.out").read_text()) from None
            time.sleep(0.2)


@contextmanager
def scrapyd_nodes(
    n: int, root: Path, *, env: dict[str, str] | None = None, max_proc: int = 1
) -> Iterator[list[LocalNode]]:
    nodes = [_start(root / f"node{i}", env or {}, max_proc) for i in range(n)]
    try:
        for node in nodes:
            _wait_up(node)
        yield nodes
    finally:
        for node in nodes:
            if node.proc.poll() is None:
                os.killpg(node.proc.pid, signal.SIGTERM)
                try:
                    node.proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    node.kill()


def deploy(nodes: list[LocalNode], project: Path, env: dict[str, str] | None = None) -> str:
    """Deploy the Scrapy project to every node the way README shows: one ``[deploy:NAME]``
    target per node in scrapy.cfg, then ``scrapyd-deploy -a``. Returns its output."""
    shutil.copytree(
        REPO_ROOT / "spiders", project / "spiders", ignore=shutil.ignore_patterns("__pycache__")
    )
    (project / "scrapy.cfg").write_text(
        "[settings]\ndefault = spiders.settings\n"
        + "".join(
            f"[deploy:node{i}]\nurl = {node.url}\nproject = credcheck\n"
            for i, node in enumerate(nodes)
        )
    )
    done = subprocess.run(
        [str(BIN / "scrapyd-deploy"), "-a"], cwd=project, capture_output=True, text=True,
        env={**os.environ, **(env or {})}, timeout=600, check=False,
    )  # fmt: skip
    if done.returncode != 0 or done.stdout.count('"status": "ok"') != len(nodes):
        raise RuntimeError(f"scrapyd-deploy failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout
