"""Fixture web server: serves demo directory sites (docs/design.md section 2) on loopback.

Each site gets its own ``ThreadingHTTPServer`` on 127.0.0.1, so each one is a separate
host:port, as separate hospitals are separate hosts on the web. Pages are rendered per the site's
``shape`` and imitate the shapes real hospital and faculty directories take, including
their awkward parts: JSON-LD in many placements plus a malformed block, a robots-disallowed
search page, soft 404s, paginated listings, microdata faculty profiles mixing researchers with
clinicians.

    with serve_sites([Path("sites/mercy-general.json")]) as urls:
        urls["mercy-general"]  # -> "http://127.0.0.1:40123"

By hand: ``python -m pipeline.demo.server world/sites/*.json [--port-base 8100]``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pipeline.demo.faults import Faults
from pipeline.demo.platforms import PLATFORM_SHAPES
from pipeline.demo.shapes import SHAPES
from pipeline.demo.site import TEXT, Page, Request, Site

logger = logging.getLogger(__name__)


def all_shapes() -> dict[str, type[Site]]:
    """SHAPES plus the vendor platforms (search APIs, WebForms, faculty systems), which render
    the same content their way."""
    return SHAPES | PLATFORM_SHAPES


def load_site(source: Path | dict, shape: str | None = None) -> Site:
    """A site from its content file (or the content itself), rendered in its own ``shape`` or,
    when given, in another one: the same directory on another platform, for tests."""
    data = source if isinstance(source, dict) else json.loads(Path(source).read_text("utf-8"))
    if shape:
        data = {**data, "shape": shape}
    try:
        return all_shapes()[data["shape"]](data)
    except KeyError:
        raise ValueError(f"{source}: unknown site shape {data.get('shape')!r}") from None


def http_date(iso_day: str) -> str:
    return format_datetime(datetime.fromisoformat(iso_day).replace(tzinfo=UTC), usegmt=True)


def not_modified(request: Request, etag: str, last_modified: str | None) -> bool:
    """RFC 9110 13.1: If-None-Match wins over If-Modified-Since."""
    if match := request.header("If-None-Match"):
        return etag in [t.strip() for t in match.split(",")] or match.strip() == "*"
    since = request.header("If-Modified-Since")
    if since and last_modified:
        try:
            changed = datetime.fromisoformat(last_modified).replace(tzinfo=UTC)
            return parsedate_to_datetime(since) >= changed
        except (TypeError, ValueError):
            return False
    return False


# Linux's SO_TIMESTAMPNS (Python has no name for it): the kernel stamps each packet on arrival.
SO_TIMESTAMPNS = 35


def arrival_time(connection: socket.socket) -> float:
    """When the next request's first bytes reached this host, waiting for them: the kernel's
    receive timestamp, so the log tells when the crawler sent a request, not when a thread of a
    busy server got round to reading it (a politeness check compares gaps of a few hundred
    milliseconds). The time of reading when the kernel gives none (or at end of stream)."""
    try:
        _, ancillary, _, _ = connection.recvmsg(1, socket.CMSG_SPACE(16), socket.MSG_PEEK)
    except OSError:
        return time.time()
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
            seconds, nanoseconds = struct.unpack("qq", data[:16])
            return seconds + nanoseconds / 1e9
    return time.time()


class ArrivalStampedHandler(BaseHTTPRequestHandler):
    """A request handler that knows when the request it answers reached this host
    (``arrived``, seconds since the epoch), for request logs that politeness is judged from."""

    arrived = 0.0

    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)

    def handle_one_request(self) -> None:
        self.arrived = arrival_time(self.connection)
        super().handle_one_request()


def make_handler(
    site: Site, access_log: list[dict] | None, faults: Any = None, latency: float = 0.0
) -> type[ArrivalStampedHandler]:
    class Handler(ArrivalStampedHandler):
        protocol_version = "HTTP/1.1"
        server_version = "credcheck-fixture/0.1"
        # Headers and body go out in two writes; with Nagle on, the client's delayed ACK would
        # hold every keep-alive response back ~40 ms.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self.respond(send_body=True)

        def do_HEAD(self) -> None:
            self.respond(send_body=False)

        def do_POST(self) -> None:
            self.respond(send_body=True)

        def respond(self, send_body: bool) -> None:
            url = urlsplit(self.path)
            host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(
                self.command,
                {k.lower(): v for k, v in self.headers.items()},
                self.rfile.read(length) if length else b"",
            )
            fault = faults.fault_for(url.path, site) if faults else None
            try:
                if fault:
                    page = faults.page(fault, url.path, site, f"http://{host}", request)
                else:
                    page = site.handle(url.path, parse_qs(url.query), f"http://{host}", request)
            except Exception:  # a fixture bug should show as a 500, not kill the thread
                logger.exception("fixture server error on %s", self.path)
                page = Page(500, "Internal Server Error", TEXT)
            body = page.body if isinstance(page.body, bytes) else page.body.encode("utf-8")
            headers = list(page.headers)
            status = page.status
            if status == 200 and self.command in ("GET", "HEAD"):
                # Validators for conditional re-crawls: a strong ETag over the body, and the
                # profile's change date when the page has one.
                etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
                headers.append(("ETag", etag))
                if page.last_modified:
                    headers.append(("Last-Modified", http_date(page.last_modified)))
                if not_modified(request, etag, page.last_modified):
                    status, body = 304, b""
            # Logged before answering, so a client that has its response finds it logged.
            if access_log is not None:
                access_log.append(
                    {
                        "site_id": site.site_id,
                        "method": self.command,
                        "path": self.path,
                        "status": status,
                        "user_agent": self.headers.get("User-Agent", ""),
                        "time": self.arrived,
                        "fault": fault,
                        "if_none_match": request.header("If-None-Match"),
                    }
                )
            if latency:
                time.sleep(latency)
            if fault and faults.misbehave(fault, self, page, body):
                return
            self.send_response(status)
            if status != 304:
                self.send_header("Content-Type", page.content_type)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body:
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("%s %s", site.site_id, format % args)

    return Handler


class FixtureServer(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self) -> None:
        with contextlib.suppress(OSError):  # accepted connections inherit it
            self.socket.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        super().server_bind()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A crawler that hangs up (a cancelled 50 MB download, a timeout) is not a server bug.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class SiteUrls(dict):
    """{site_id: base_url}, with the live ``Site`` objects in ``.sites``."""

    sites: dict[str, Site]


@contextmanager
def serve_sites(
    site_json_paths: list[Path | dict],
    *,
    host: str = "127.0.0.1",
    port_base: int | None = None,
    access_log: list[dict] | None = None,
    shape: str | None = None,
    faults: bool | Callable[[Site], Any] = False,
    latency: float = 0.0,
) -> Iterator[SiteUrls]:
    """Serve each site on its own port; yield {site_id: base_url}; shut all down on exit.

    ``port_base`` gives site i the port port_base + i (default: free ports). Requests are
    appended to ``access_log`` (site_id, method, path, status, user_agent) when it is given.
    ``shape`` renders every site in that shape; ``faults`` turns on the fault mode
    (pipeline.demo.faults): some pages misbehave the ways real servers do; or it makes each
    site's fault plan (e.g. ``lambda site: RateLimits(site, crawl_delay=2)``). ``latency`` delays
    every answer by that many seconds (a busy server, for throttling tests).
    """
    sites = [load_site(p, shape) for p in site_json_paths]
    urls = SiteUrls()
    urls.sites = {}
    with ExitStack() as stack:
        for i, site in enumerate(sites):
            if site.site_id in urls:
                raise ValueError(f"duplicate site_id {site.site_id!r}")
            port = 0 if port_base is None else port_base + i
            plan = faults(site) if callable(faults) else Faults(site) if faults else None
            server = FixtureServer((host, port), make_handler(site, access_log, plan, latency))
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.1},  # quick shutdown; tests start many servers
                name=f"fixture-{site.site_id}",
                daemon=True,
            )
            thread.start()
            stack.callback(_stop, server, thread)
            urls[site.site_id] = "http://{}:{}".format(*server.server_address[:2])
            urls.sites[site.site_id] = site
        yield urls


def _stop(server: ThreadingHTTPServer, thread: threading.Thread) -> None:
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve demo directory sites on 127.0.0.1.")
    parser.add_argument("sites", nargs="+", type=Path, help="sites/<site_id>.json files")
    parser.add_argument(
        "--port-base", type=int, default=None, help="serve site i on port N+i (default: free ports)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with serve_sites(args.sites, port_base=args.port_base) as urls:
        for site_id, url in urls.items():
            print(f"{site_id}\t{url}/", flush=True)
        print("Serving; press Ctrl-C to stop.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
