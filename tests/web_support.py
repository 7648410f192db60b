"""A real `credcheck serve` on a loopback port, plain HTTP calls, and a real headless Chromium.

The browser is Debian's ``chromium`` driven by Playwright (``executable_path``; Playwright never
downloads a browser here). Without it the browser tests are skipped with the reason — unless
``CREDCHECK_REQUIRE_BROWSER=1`` (set by ``.ci/run``), where a missing browser fails them.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from spiders.render import find_browser

REPO_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(os.environ.get("CREDCHECK_ARTIFACTS") or REPO_ROOT / "tests" / "artifacts") / "web"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self):
        return json.loads(self.body)


def get(url: str, timeout: float = 30, method: str = "GET") -> Answer:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Answer(response.status, {k.lower(): v for k, v in response.headers.items()},
                          response.read())  # fmt: skip
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())


@contextmanager
def served(db: Path, log_dir: Path):
    """`credcheck serve --db DB` in a child process; yields its base URL once it answers."""
    port = free_port()
    log = (log_dir / f"serve-{port}.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "serve", "--db", str(db), "--port", str(port),
         "--no-access-log"],
        cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"credcheck serve exited {proc.returncode}: {log.name}")
            try:
                get(base + "/api/status", timeout=5)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise AssertionError(f"credcheck serve did not answer: {log.name}") from None
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def chromium_path() -> str | None:
    """Debian's chromium (or ``$CREDCHECK_CHROMIUM``), if it is there: the crawler's own rule."""
    return find_browser() or None


def require_chromium() -> str:
    """The browser's path; a skip with the reason without it (a failure in CI)."""
    required = os.environ.get("CREDCHECK_REQUIRE_BROWSER") == "1"
    path = chromium_path()
    reason = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reason = "playwright is not installed (pip install -e '.[dev]')"
    if reason is None and not path:
        reason = "no chromium on PATH (Debian: apt-get install chromium; .ci/run installs it)"
    if reason:
        if required:
            pytest.fail(f"CREDCHECK_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    return path


@contextmanager
def chromium():
    """A headless Chromium (Playwright) with a fresh profile."""
    path = require_chromium()
    from playwright.sync_api import sync_playwright

    with (
        tempfile.TemporaryDirectory(prefix="credcheck-chromium-") as profile,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch_persistent_context(
            profile,
            executable_path=path,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900},
            accept_downloads=True,
        )
        try:
            yield browser
        finally:
            browser.close()


def screenshot(page, name: str, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
