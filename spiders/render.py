"""Client-rendered directories: an "app shell" is rendered in headless chromium before anyone
reads it.

Many directories answer every route with the same near-empty document (a mount element and a
script bundle) and fill it in the browser from a JSON call. Read as served, such a page holds no
person and no link. ``RenderAppShellMiddleware`` recognises a shell by its content
(``is_app_shell``: no readable text, no links, a script to run) and has the page fetched again
through scrapy-playwright in a headless chromium; the spider then reads the DOM the page's own
scripts built, with every extractor and recogniser as usual. Server-rendered pages are never
sent to the browser, whatever their URL.

Politeness holds for rendered pages too:
- the page goes through the site's download slot like any request (its delay, its pauses,
  robots.txt, our User-Agent);
- the browser's own requests for it (``block_subrequest``) carry our User-Agent, fetch only
  documents, scripts and data (never images, fonts, media or stylesheets) and never a URL its
  host's robots.txt forbids (a script or data call on another host, a CDN or the directory
  vendor's API: that host's robots.txt is read first, once);
- one chromium serves every crawler of a process (``SharedChromium``; a fleet crawls hundreds
  of sites in one process), started on the first shell, not with the crawl.

Without a browser (``RENDER_BROWSER`` empty: none found) a shell is counted
(``credcheck/render/no_browser``) and a warning per site says what to install.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from time import monotonic
from typing import Any
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

from lxml import html as lxml_html
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse, Response

from spiders.platforms.base import netloc_of

logger = logging.getLogger(__name__)

RENDERED = "credcheck_rendered"  # request meta: this request is the page's rendering
# Resource types a rendered page may load: what builds its DOM. The rest is looks.
RENDER_RESOURCE_TYPES = frozenset({"document", "script", "xhr", "fetch"})
# A shell says next to nothing ("Loading..."): fewer readable characters than a name with its
# specialty and office...
SHELL_MAX_TEXT = 40
# ... and links to next to nothing (a logo's home link, a skip link).
SHELL_MAX_LINKS = 2
_INVISIBLE = " or ".join(f"ancestor::{tag}" for tag in ("script", "style", "noscript", "template"))


def find_browser() -> str:
    """The chromium to render with: ``$CREDCHECK_CHROMIUM`` (a path or a command) or Debian's
    ``chromium`` on PATH; "" when there is none."""
    return shutil.which(os.environ.get("CREDCHECK_CHROMIUM") or "chromium") or ""


def is_app_shell(response: Response) -> bool:
    """A client-rendered page as served: HTML with no readable text and no links, that runs a
    script (a bundle, or inline code) to build itself. Pure; never raises on any bytes."""
    if not isinstance(response, HtmlResponse) or response.status != 200:
        return False
    return is_shell_document(response.body)


def is_shell_document(document: bytes | str) -> bool:
    """``is_app_shell`` of a document's text (a page as served, or as a browser has it now)."""
    if not document:
        return False
    try:
        root = lxml_html.document_fromstring(document)
    except (ValueError, lxml_html.etree.ParserError):
        return False
    scripts = root.xpath("//script[@src or string-length(normalize-space(.)) > 40]"
                         "[not(@type) or contains(@type, 'javascript') or @type = 'module']")
    if not scripts:
        return False
    if len(root.xpath("//body//a[@href]")) > SHELL_MAX_LINKS:
        return False
    text = " ".join(" ".join(root.xpath(f"//body//text()[not({_INVISIBLE})]")).split())
    return len(text) <= SHELL_MAX_TEXT


class RenderAppShellMiddleware:
    """Fetch an app shell again, rendered (see the module docstring).

    Settings: ``RENDER_APP_SHELLS`` (default True), ``RENDER_BROWSER`` (the chromium; "" for
    none), ``RENDER_QUIET`` (seconds without a request in flight that end a rendering; see
    ``settle``).
    """

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.browser = crawler.settings.get("RENDER_BROWSER") or ""
        self.quiet = crawler.settings.getfloat("RENDER_QUIET", 0.25)
        self.timeout = crawler.settings.getfloat("DOWNLOAD_TIMEOUT", 30.0)
        self.warned: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RenderAppShellMiddleware:
        if not crawler.settings.getbool("RENDER_APP_SHELLS", True):
            raise NotConfigured
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get(RENDERED):
            if is_app_shell(response):  # its scripts built nothing in time (or nothing at all)
                self.stats.inc_value("credcheck/render/still_empty")
                logger.info("rendered %s (status %s): still an empty shell", response.url,
                            response.status)
            return _without_validators(response)
        if not is_app_shell(response):
            return response
        netloc = netloc_of(response.url)
        if not self.browser:
            self.stats.inc_value("credcheck/render/no_browser")
            if netloc not in self.warned:
                self.warned.add(netloc)
                logger.warning(
                    "%s builds its pages with JavaScript (%s is an empty app shell) and no "
                    "browser is installed to render them: install chromium (Debian: apt-get "
                    "install chromium) or set CREDCHECK_CHROMIUM to a chromium binary",
                    netloc, response.url)
            return response
        self.stats.inc_value("credcheck/render/app_shells")
        from scrapy_playwright.page import PageMethod  # Playwright loads on the first shell only

        meta = {
            **request.meta,
            RENDERED: True,
            "playwright": True,
            "playwright_page_init_callback": track_requests,
            "playwright_page_methods": [PageMethod(settle, self.quiet, self.timeout)],
        }
        headers = request.headers.copy()
        for name in (b"If-None-Match", b"If-Modified-Since"):
            headers.pop(name, None)  # the shell's validators say nothing about its content
        return request.replace(url=response.url, meta=meta, headers=headers, dont_filter=True)


# Requests in flight per rendered page (``track_requests``), read by ``settle``.
_IN_FLIGHT: WeakKeyDictionary = WeakKeyDictionary()


async def track_requests(page: Any, request: Request) -> None:
    """``playwright_page_init_callback``: count the page's requests in flight from its start."""
    state = _IN_FLIGHT[page] = {"in_flight": 0, "changed": monotonic()}

    def started(_: Any) -> None:
        state["in_flight"] += 1
        state["changed"] = monotonic()

    def ended(_: Any) -> None:
        state["in_flight"] -= 1
        state["changed"] = monotonic()

    page.on("request", started)
    page.on("requestfinished", ended)
    page.on("requestfailed", ended)


EMPTY_PATIENCE = 16  # times RENDER_QUIET a page still empty after settling may wait more (4 s)


async def _still_a_shell(page: Any) -> bool:
    try:
        return is_shell_document(await page.content())
    except Exception:  # navigating: not settled, not empty either
        return False


# Resolves once the document has not changed for ``quiet`` ms of the page's own clock: a busy
# machine that holds the page's scripts back holds this timer back too.
_DOM_QUIET = """quiet => new Promise(resolve => {
  let timer = setTimeout(resolve, quiet);
  new MutationObserver(() => { clearTimeout(timer); timer = setTimeout(resolve, quiet); })
    .observe(document, {subtree: true, childList: true, characterData: true});
})"""


async def settle(page: Any, quiet: float, timeout: float) -> None:
    """Wait until the page has had no request in flight for ``quiet`` seconds and then its
    document has not changed for ``quiet / 2`` (its data calls answered and drawn), at most
    ``timeout``. Playwright's "networkidle" is the network half with a fixed 0.5 s. A page that
    is still an empty shell then gets up to ``EMPTY_PATIENCE`` times ``quiet`` more, in
    doubling waits: a busy machine may hold its scripts back, or they may be about to send
    the browser elsewhere (a redirect written in JavaScript)."""
    state = _IN_FLIGHT.get(page)
    deadline = monotonic() + timeout
    patience = quiet * EMPTY_PATIENCE
    while state is not None and monotonic() < deadline:
        if state["in_flight"] > 0 or monotonic() - state["changed"] < quiet:
            await asyncio.sleep(quiet / 5)
            continue
        if patience > 0 and await _still_a_shell(page):
            wait = min(patience, max(quiet, quiet * EMPTY_PATIENCE - patience))
            patience -= wait
            await asyncio.sleep(wait)
            continue
        try:
            await asyncio.wait_for(page.evaluate(_DOM_QUIET, quiet * 500),
                                   max(deadline - monotonic(), 0.01))
        except TimeoutError:
            return
        except Exception:  # the page navigated meanwhile (a script's redirect): settle again
            if page.is_closed():
                return
            await asyncio.sleep(quiet / 5)
            continue
        if state["in_flight"] <= 0:
            return


def _without_validators(response: Response) -> Response:
    """A rendered page's ETag and Last-Modified are the shell's, the same for every route and
    unchanged when the data changes: dropped, so a re-crawl renders it again."""
    headers = response.headers.copy()
    for name in (b"ETag", b"Last-Modified"):
        headers.pop(name, None)
    return response.replace(headers=headers)


# robots.txt rules by host:port, as ``allowed(url) -> bool``: the crawled sites' (handed over
# by the robots middleware, spiders.compat) and those of other hosts a rendered page calls
# (read once, through the browser, on the first call).
_ROBOTS: dict[str, Any] = {}
_ROBOTS_READING: dict[str, asyncio.Task] = {}
_USER_AGENT = {"value": ""}


def remember_robots(netloc: str, parser: Any, user_agent: str) -> None:
    """Called by the robots middleware with each crawled site's parsed robots.txt."""
    _USER_AGENT["value"] = user_agent
    _ROBOTS[netloc] = (lambda url: parser.allowed(url, user_agent)) if parser else None


async def block_subrequest(request: Any) -> bool:
    """``PLAYWRIGHT_ABORT_REQUEST``: True for a browser request a rendering must not make (see
    the module docstring). ``request`` is a Playwright request."""
    if request.resource_type not in RENDER_RESOURCE_TYPES:
        return True
    netloc = netloc_of(request.url)
    if netloc not in _ROBOTS:
        reading = _ROBOTS_READING.get(netloc)
        if reading is None:
            reading = _ROBOTS_READING[netloc] = asyncio.ensure_future(
                _read_robots(request.frame.page.context, request.url))
        _ROBOTS[netloc] = await reading
    allowed = _ROBOTS[netloc]
    return allowed is not None and not allowed(request.url)


async def _read_robots(context: Any, url: str) -> Any:
    """Another host's robots.txt, as RFC 9309 reads it: 4xx no rules (None), 5xx or no answer
    all forbidden."""
    from protego import Protego

    parts = urlsplit(url)
    agent = _USER_AGENT["value"]
    try:
        answer = await context.request.get(f"{parts.scheme}://{parts.netloc}/robots.txt",
                                           headers={"User-Agent": agent}, timeout=10_000)
        status, body = answer.status, await answer.text()
    except Exception as exc:  # any failure to read it forbids, per RFC 9309
        logger.info("robots.txt of %s unreadable (%s): its URLs are not rendered", parts.netloc,
                    exc.__class__.__name__)
        return lambda _url: False
    if status >= 500:
        return lambda _url: False
    if status >= 400:
        return None
    rules = Protego.parse(body)
    return lambda page_url: rules.can_fetch(page_url, agent)


class _SharedBrowser:
    """One launched chromium, shared; ``close`` by a crawler only lets go of it."""

    def __init__(self, browser: Any, owner: SharedChromium) -> None:
        self._browser, self._owner = browser, owner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)

    async def close(self, **_: Any) -> None:
        await self._owner.release()


class SharedChromium:
    """``PLAYWRIGHT_BROWSER_PROVIDER``: one Playwright driver and one chromium per process,
    started on the first page to render and stopped when the last crawler using it closes.
    scrapy-playwright's own provider starts a driver for every crawler when its engine starts."""

    _lock: asyncio.Lock | None = None
    _playwright: Any = None
    _manager: Any = None
    _browser: Any = None
    _users = 0

    def __init__(self, config: Any) -> None:
        self.config = config

    async def start(self) -> None:
        """Nothing until a page needs rendering."""

    async def launch_browser(self) -> Any:
        cls = type(self)
        if cls._lock is None:
            cls._lock = asyncio.Lock()
        async with cls._lock:
            if cls._browser is None or not cls._browser.is_connected():
                from playwright.async_api import async_playwright

                if cls._playwright is None:
                    cls._manager = async_playwright()
                    cls._playwright = await cls._manager.start()
                options = dict(self.config.launch_options)
                logger.info("Launching chromium for client-rendered pages: %s",
                            options.get("executable_path") or "Playwright's own")
                cls._browser = await cls._playwright.chromium.launch(**options)
            cls._users += 1
            return _SharedBrowser(cls._browser, self)

    async def launch_persistent_context(self, context_kwargs: dict) -> Any:
        from scrapy.exceptions import NotSupported

        raise NotSupported("credcheck renders in fresh contexts only")

    async def release(self) -> None:
        cls = type(self)
        cls._users -= 1
        if cls._users > 0:
            return
        browser, playwright = cls._browser, cls._playwright
        cls._browser = cls._playwright = cls._manager = None
        if browser is not None:
            await browser.close()
        if playwright is not None:
            await playwright.stop()

    async def close(self) -> None:
        """The browser goes with its last user (``release``)."""

