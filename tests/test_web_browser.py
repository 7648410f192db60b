"""`credcheck serve` in a real headless Chromium: what a person does, by mouse and by keyboard.

Screenshots of the main pages go to tests/artifacts/web/ (gitignored). The last test publishes a
new state with `credcheck match` while a browser and 50 HTTP clients use the server.
"""

from __future__ import annotations

import csv
import io
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse

import duckdb
import pytest

from tests.conftest import REPO_ROOT, run_cli
from tests.test_web import NICKNAMES, nickname_people, typo
from tests.web_support import chromium, get, require_chromium, screenshot, served

FOCUSABLE = "a[href], input, select, button, summary, textarea, [tabindex]:not([tabindex='-1'])"
# WCAG relative luminance and contrast of every element's own text against its background.
CONTRAST_JS = """() => {
  const lum = (rgb) => {
    const [r, g, b] = rgb.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const parse = (c) => { const m = c.match(/[\\d.]+/g).map(Number); return {rgb: m.slice(0, 3), a: m.length > 3 ? m[3] : 1}; };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = parse(getComputedStyle(el).backgroundColor);
      if (c.a > 0.5) return c.rgb;
    }
    return [255, 255, 255];
  };
  const worst = [];
  for (const el of document.body.querySelectorAll('*')) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || el.closest('.visually-hidden, .skip')) continue;
    const fg = lum(parse(style.color).rgb), bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    if (ratio < 4.5) worst.push(el.tagName + '.' + el.className + ': ' + ratio.toFixed(2));
  }
  return worst;
}"""


# Browser first in every test's arguments: without chromium a test skips before the demo
# database is built.
@pytest.fixture(scope="module", autouse=True)
def _browser_present():
    """Without chromium every test here skips before the demo database is built."""
    require_chromium()


@pytest.fixture(scope="module")
def site(demo_db, tmp_path_factory):
    with served(demo_db, tmp_path_factory.mktemp("web-browser")) as base:
        yield base


@pytest.fixture(scope="module")
def db(demo_db):
    con = duckdb.connect(str(demo_db), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def browser():
    with chromium() as context:
        yield context


@pytest.fixture
def page(browser):
    tab = browser.new_page()
    dialogs = []
    tab.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    tab.dialogs = dialogs
    yield tab
    tab.close()


def test_search_by_nickname_and_typo_then_the_evidence(page, site, db):
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    npi, first, last, _ = nickname_people(db, rng, 1)[0]
    typed = f"Dr. {NICKNAMES[first.lower()]} {typo(last.title(), rng)}"
    page.goto(site + "/")
    page.get_by_label("Name", exact=True).fill(typed)
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"\?q="))
    link = page.locator(f"ol.results a[href='/physician/{npi}']")
    assert link.count() == 1, f"seed {seed}: {typed!r} did not find NPI {npi}"
    screenshot(page, "search")
    link.click()
    page.wait_for_url(f"**/physician/{npi}")
    assert page.locator("h1").inner_text().lower().startswith(first.lower()[:1])
    for heading in ("Identity", "Board certificates", "OIG exclusions", "History"):
        assert page.get_by_role("heading", name=re.compile(heading)).count() >= 1
    urls = [
        u for (u,) in db.execute(
            "SELECT l.source_url FROM listings l JOIN listing_matches m USING (listing_id) "
            "WHERE m.npi = ?", [npi],
        ).fetchall()
    ]  # fmt: skip
    for url in urls:  # every listing's page is linked
        assert page.locator(f"a.source[href='{url}']").count() >= 1
    assert page.locator(".listing .badge.identity-matched").count() == len(urls)
    # The explain view opens by keyboard-free click here; its weights are shown.
    page.locator("details > summary", has_text="Why").first.click()
    assert page.locator("table.comparisons").first.is_visible()
    assert page.locator("table.comparisons tbody tr").first.inner_text()
    screenshot(page, "physician")


def test_find_filters_and_csv_download(page, site, tmp_path):
    page.goto(site + "/find")
    page.get_by_label("Specialty", exact=True).fill("cardiology")
    page.get_by_label("State", exact=True).select_option("MA")
    page.get_by_role("button", name="List them").click()
    page.wait_for_url(re.compile(r"specialty=cardiology"))
    query = urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)
    assert query["state"] == ["MA"]
    expected = get(f"{site}/api/find?specialty=cardiology&state=MA&limit=100000").json()["results"]
    rows = page.locator("table.results-table tbody tr")
    assert rows.count() == len(expected) > 0
    assert set(page.locator("table.results-table td[data-label='State']").all_inner_texts()) <= {
        r["state"] for r in expected
    }
    screenshot(page, "find")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download all as CSV").click()
    download = download_info.value
    assert download.suggested_filename == "credcheck-cardiology.csv"
    saved = tmp_path / "find.csv"
    download.save_as(saved)
    exported = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert [r["npi"] for r in exported] == [r["npi"] for r in expected]


def _tab_through(page, limit: int) -> list[str]:
    """Press Tab from the top of the page; the focused elements' ids, in order, until it wraps."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.evaluate(
        f"""() => document.querySelectorAll("{FOCUSABLE}")
                .forEach((el, i) => el.setAttribute('data-tab-id', String(i)))"""
    )
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        tab_id = page.evaluate("document.activeElement.getAttribute('data-tab-id')")
        if tab_id is None or (seen and tab_id == seen[0]):
            break
        seen.append(tab_id)
    return seen


@pytest.mark.parametrize(
    "path",
    ["/?q=smith", "/physician/{npi}", "/find?specialty=cardiology&state=MA", "/discrepancies",
     "/changes?kind=new_listing"],
)  # fmt: skip
def test_keyboard_reaches_every_control_in_order(page, site, db, path):
    npi = db.execute("SELECT npi FROM physicians WHERE len(listings) >= 2 LIMIT 1").fetchone()[0]
    page.goto(site + path.format(npi=npi))
    controls = page.locator(FOCUSABLE)
    visible = [i for i in range(controls.count()) if controls.nth(i).is_visible()]
    order = _tab_through(page, len(visible) + 10)
    assert order == [str(i) for i in visible], "Tab visits every visible control in page order"
    first = controls.nth(visible[0])
    assert first.inner_text() == "Skip to content"


def test_keyboard_only_search_to_physician_page(page, site, db):
    page.goto(site + "/")
    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # the first control of the content: the name field
    assert page.evaluate("document.activeElement.id") == "q"
    last = db.execute("SELECT last FROM physicians ORDER BY npi LIMIT 1").fetchone()[0]
    page.keyboard.type(last.title())
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"\?q="))
    # Tab to the first result link and follow it with Enter.
    for _ in range(60):
        page.keyboard.press("Tab")
        href = page.evaluate("document.activeElement.getAttribute('href') || ''")
        if href.startswith(("/physician/", "/listing?")):
            break
    else:
        pytest.fail("Tab never reached a result link")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/(physician/\d{10}|listing\?)"))
    assert page.locator("h1").inner_text()


def test_script_in_a_query_is_shown_as_text(page, site):
    attack = "<script>alert(1)</script>"
    page.goto(site + "/")
    page.get_by_label("Name", exact=True).fill(attack)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"\?q="))
    assert attack in page.locator("#results-heading").inner_text()
    assert page.get_by_label("Name", exact=True).input_value() == attack
    assert page.evaluate("document.scripts.length") == 0
    assert page.dialogs == []
    page.goto(site + "/find?" + urllib.parse.urlencode({"specialty": attack}))
    assert attack in page.get_by_role("alert").inner_text()
    assert page.evaluate("document.scripts.length") == 0 and page.dialogs == []


def test_readable_on_a_phone_with_enough_contrast(browser, site, db):
    npi = db.execute(
        "SELECT npi FROM physicians WHERE excluded OR certification = 'lapsed' LIMIT 1"
    ).fetchone()[0]
    paths = {
        "search": "/?q=smith",
        "physician": f"/physician/{npi}",
        "find": "/find?specialty=cardiology",
        "discrepancies": "/discrepancies",
        "changes": "/changes",
    }
    desktop = browser.new_page()
    phone = browser.new_page()
    phone.set_viewport_size({"width": 375, "height": 740})
    try:
        for name, path in paths.items():
            for tab in (desktop, phone):
                tab.goto(site + path)
                assert tab.evaluate(CONTRAST_JS) == [], (name, tab.viewport_size)
            width = phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert width[0] <= width[1], f"{name} scrolls sideways on a phone: {width}"
            if name in ("discrepancies", "changes"):
                screenshot(desktop, name)
            screenshot(phone, f"{name}-phone", full_page=False)
    finally:
        desktop.close()
        phone.close()


# ------------------------------------------------------------------------------ the swap


def _one_active_certificate(db, boards_csv) -> tuple[str, list[dict]]:
    """A certified physician whose certification rests on one board row of the boards file."""
    rows = list(csv.DictReader(boards_csv.open(encoding="utf-8")))
    by_npi: dict[str, list[dict]] = {}
    for row in rows:
        by_npi.setdefault(row["npi"], []).append(row)
    for (npi,) in db.execute(
        "SELECT npi FROM physicians WHERE certification = 'certified' AND len(certificates) = 1 "
        "AND NOT excluded ORDER BY npi"
    ).fetchall():
        if len(by_npi.get(npi, [])) == 1 and by_npi[npi][0]["status"] == "active":
            return npi, rows
    raise AssertionError("no physician certified by exactly one board row")


def test_publish_while_a_browser_and_50_clients_read(browser, demo_db, demo_world, tmp_path):
    here = tmp_path / "data"
    here.mkdir()
    published = here / "credcheck.duckdb"
    shutil.copy(demo_db, published)
    shutil.copy(demo_db.with_name("credcheck.work.duckdb"), here / "credcheck.work.duckdb")
    env = {"CREDCHECK_DB": str(published)}
    with duckdb.connect(str(published), read_only=True) as con:
        npi, boards = _one_active_certificate(con, demo_world / "reference" / "boards.csv")
        old_id = con.execute(
            "SELECT publish_id FROM publish_runs ORDER BY published_at DESC LIMIT 1"
        ).fetchone()[0]
        last = con.execute("SELECT last FROM physicians WHERE npi = ?", [npi]).fetchone()[0]
    # The world changes: that certificate lapses. Loading it touches only the work database.
    for row in boards:
        if row["npi"] == npi:
            row["status"] = "lapsed"
    changed = tmp_path / "boards.csv"
    with changed.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(boards[0]))
        writer.writeheader()
        writer.writerows(boards)
    run_cli("load", "boards", str(changed), env=env)

    with served(published, tmp_path) as base:
        assert get(f"{base}/api/status").json()["publish_id"] == old_id
        urls = [
            f"{base}/api/physician/{npi}",
            f"{base}/physician/{npi}",
            f"{base}/?q={urllib.parse.quote(last)}",
            f"{base}/api/search?q={urllib.parse.quote(last)}",
            f"{base}/find?specialty=internal+medicine",
            f"{base}/api/status",
        ]
        results: list[tuple[str, int, str | None, str]] = []
        failures: list[str] = []
        stop = threading.Event()

        def client(k: int) -> None:
            i = k
            while not stop.is_set():
                url = urls[i % len(urls)]
                i += 1
                try:
                    answer = get(url, timeout=60)
                except Exception as exc:  # a refused or dropped connection is a failure
                    failures.append(f"{url}: {type(exc).__name__}: {exc}")
                    continue
                body = answer.text
                complete = body.rstrip().endswith("</html>") if "/api/" not in url else True
                if "/api/" in url:
                    try:
                        data = answer.json()
                    except ValueError:
                        complete = False
                if answer.status != 200 or not complete:
                    failures.append(f"{url}: {answer.status} {body[:200]}")
                    continue
                publish_id = answer.headers.get("x-credcheck-publish-id")
                certification = data["person"]["certification"] if "/api/physician/" in url else ""
                results.append((url, answer.status, publish_id, certification))
                stop.wait(0.05)  # a person's pace, not a load test: the run must get the CPU too

        threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(50)]
        tab = browser.new_page()
        seen_by_browser = []
        try:
            tab.goto(f"{base}/physician/{npi}")
            assert tab.locator("h1 + .badges .badge").first.inner_text() == "Certified"
            for t in threads:
                t.start()
            match = subprocess.Popen(
                [sys.executable, "-m", "pipeline.cli", "match"],
                cwd=REPO_ROOT,
                env={**os.environ, **env},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            started = time.monotonic()
            while match.poll() is None:  # the browser keeps reading while the run publishes
                response = tab.goto(f"{base}/physician/{npi}")
                assert response.status == 200
                seen_by_browser.append(tab.locator("code.publish-id").inner_text())
                tab.wait_for_timeout(200)
            output = match.stdout.read()
            print(
                f"credcheck match took {time.monotonic() - started:.1f}s under load; "
                f"{len(results)} answers so far"
            )
            assert match.returncode == 0, output
            new_id = re.search(r"\((publish-[^,]+),", output).group(1)
            assert new_id != old_id
            # The next page shows the new state.
            tab.goto(f"{base}/physician/{npi}")
            assert tab.locator("code.publish-id").inner_text() == new_id
            assert tab.locator("h1 + .badges .badge").first.inner_text() == "Lapsed"
            screenshot(tab, "physician-after-publish")
            status = get(f"{base}/api/status").json()
            assert status["publish_id"] == new_id
            time.sleep(1.0)  # the clients read the new state for a moment too
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=60)
            tab.close()

    assert not failures, failures[:10]
    assert len(results) >= 200, len(results)
    ids = {publish_id for _, _, publish_id, _ in results}
    assert ids == {old_id, new_id}, ids
    # Never half a run: each physician answer is the old state with the old id, or the new with the new.
    pairs = {(p, c) for url, _, p, c in results if "/api/physician/" in url}
    assert pairs <= {(old_id, "certified"), (new_id, "lapsed")}, pairs
    assert (new_id, "lapsed") in pairs
    assert set(seen_by_browser) <= {old_id, new_id}
