"""Client-rendered delivery of a generated site: an app shell, a script bundle, a data endpoint.

A client-rendered ("single-page app") directory answers every HTML route with the same empty
shell: the org's name as title, one mount element, a script bundle, maybe a stylesheet and a
``<noscript>`` notice; always status 200 (the app's catch-all route). The bundle reads
``location.pathname + location.search``, asks the site's data endpoint for that route, and puts
the answer into the document: the page's title into ``document.title``, its head extras (JSON-LD
blocks, canonical / next / prev links, meta tags) into ``document.head``, its ``<body>`` into the
mount element. So the rendered DOM holds what the server-rendered twin of the site serves.

The data endpoint answers a route with the server page's status: 200 for a page, 410 for a gone
one, 404 (never a soft 404: the API knows) for a route the site does not have; an error answer
carries an ``error`` object beside the page content (or, on sites drawn so, the error alone, and
the bundle renders the not-found page it carries itself). A route whose server answer is a
redirect (a folder without its slash, a removed profile) answers 200 with only the target URL
under a redirect key, and the bundle navigates there with ``location.replace``: the rendered page
ends at the target URL, as a followed redirect does.

Every name, path and key is drawn from the generator's own vocabulary (``vocab.py``). Robots.txt,
sitemaps and other non-HTML answers are served as the server-rendered site serves them.
"""

from __future__ import annotations

import base64
import html
import json
import random
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlencode

from pipeline.demo.server import Page
from pipeline.demo.sitegen import vocab
from pipeline.demo.sitegen.markup import BASE, esc

if TYPE_CHECKING:
    from pipeline.demo.sitegen.site import GeneratedSite

HTML = "text/html; charset=utf-8"
JSON = "application/json; charset=utf-8"
JAVASCRIPT = "application/javascript; charset=utf-8"
CSS = "text/css; charset=utf-8"
IMMUTABLE = (("Cache-Control", "public, max-age=31536000, immutable"),)
# encodeURIComponent leaves these unescaped besides letters, digits and "-_.~"
URI_COMPONENT_SAFE = "!*'()"


@dataclass(frozen=True)
class ClientApp:
    """One site's single-page app: drawn once per site (``draw``), pure afterwards."""

    mount: tuple[str, str]  # ("id" | "class", value)
    bundle: str  # the script's path (and query) as the shell names it
    stylesheet: str  # "" when the shell links none
    script_place: str  # head_defer | head_module | body_end
    noscript: str  # "" when the shell has no <noscript>
    loading: str  # the mount's text until the content arrives
    endpoint: tuple[str, str, str]  # vocab.DATA_ENDPOINTS
    keys: dict[str, tuple[str, ...]]  # vocab.PAYLOAD_KEYS
    redirect_key: str
    loader: str  # fetch | xhr
    error_with_page: bool  # an error answer carries the not-found page; else the bundle's own
    ascii_json: bool
    build: str  # the bundle's build id (a comment in it)

    @classmethod
    def draw(cls, rng: random.Random) -> ClientApp:
        def fill(template: str) -> str:
            return template.format(h8=f"{rng.getrandbits(32):08x}",
                                   h16=f"{rng.getrandbits(64):016x}", n=rng.randint(1, 400))

        return cls(
            mount=rng.choice(vocab.MOUNT_POINTS),
            bundle=fill(rng.choice(vocab.BUNDLE_PATHS)),
            stylesheet=fill(rng.choice(vocab.STYLESHEET_PATHS)) if rng.random() < 0.6 else "",
            script_place=rng.choice(("head_defer", "head_module", "body_end")),
            noscript=rng.choice(vocab.NOSCRIPT_TEXTS) if rng.random() < 0.6 else "",
            loading=rng.choice(vocab.LOADING_TEXTS),
            endpoint=rng.choice(vocab.DATA_ENDPOINTS),
            keys=rng.choice(vocab.PAYLOAD_KEYS),
            redirect_key=rng.choice(vocab.REDIRECT_KEYS),
            loader=rng.choice(("fetch", "fetch", "xhr")),
            error_with_page=rng.random() < 0.5,
            ascii_json=rng.random() < 0.5,
            build=f"{rng.getrandbits(48):012x}",
        )

    # -- URLs ------------------------------------------------------------------------------------
    @property
    def mount_selector(self) -> str:
        kind, value = self.mount
        return f"#{value}" if kind == "id" else f".{value}"

    def asset_paths(self) -> list[str]:
        return [self.bundle, *([self.stylesheet] if self.stylesheet else [])]

    def data_path(self, route: str) -> str:
        """The data URL the bundle requests for ``route`` (path + query, as in the address bar);
        the Python twin of the bundle's ``dataUrl``."""
        shape, prefix, extra = self.endpoint
        if shape == "query":
            return f"{prefix}?{extra}={quote(route, safe=URI_COMPONENT_SAFE)}"
        if shape == "file":
            path, sep, query = route.partition("?")
            return prefix + (path + "index" if path.endswith("/") else path) + extra + sep + query
        encoded = base64.urlsafe_b64encode(route.encode()).decode().rstrip("=")
        return prefix + encoded

    def route_of(self, path: str, query: dict[str, list[str]]) -> str | None:
        """The route a data URL asks for (None: not a data URL)."""
        shape, prefix, extra = self.endpoint
        if shape == "query":
            values = query.get(extra)
            return values[0] if path == prefix and values and values[0].startswith("/") else None
        if shape == "file":
            if not (path.startswith(prefix + "/") and path.endswith(extra)):
                return None
            route = path[len(prefix) : len(path) - len(extra)]
            if route.endswith("/index"):
                route = route[: -len("index")]
            flat = [(k, v) for k, values in query.items() for v in values]
            return route + ("?" + urlencode(flat) if flat else "")
        if not path.startswith(prefix) or path == prefix:
            return None
        token = path[len(prefix) :]
        try:
            route = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        return route if route.startswith("/") else None

    # -- answers ---------------------------------------------------------------------------------
    def answer(self, site: GeneratedSite, path: str, query: dict[str, list[str]], base: str
               ) -> Page:
        """The client-rendered site's answer to one request."""
        if path == self.bundle.partition("?")[0]:
            return Page(200, self.bundle_js(site).replace(BASE, base), JAVASCRIPT, IMMUTABLE)
        if self.stylesheet and path == self.stylesheet.partition("?")[0]:
            return Page(200, self.stylesheet_css(), CSS, IMMUTABLE)
        route = self.route_of(path, query)
        if route is not None:
            return self.data_answer(site, route, base)
        page, _known = site.server_answer(path, query, base)
        if page.content_type.startswith("text/html"):
            return Page(200, self.shell(site.org), HTML)
        return page

    def shell(self, org: str) -> str:
        """The document every HTML route answers: no content, no links, no structured data."""
        kind, value = self.mount
        script = (f'<script type="module" src="{esc(self.bundle)}"></script>'
                  if self.script_place == "head_module" else
                  f'<script src="{esc(self.bundle)}"></script>')
        if self.script_place == "head_defer":
            script = f'<script defer src="{esc(self.bundle)}"></script>'
        head_script = script if self.script_place != "body_end" else ""
        body_script = script if self.script_place == "body_end" else ""
        css = f'<link rel="stylesheet" href="{esc(self.stylesheet)}">' if self.stylesheet else ""
        noscript = f"<noscript>{esc(self.noscript)}</noscript>" if self.noscript else ""
        return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
                f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
                f"<title>{esc(org)}</title>\n{css}{head_script}</head>\n"
                f'<body>{noscript}<div {kind}="{esc(value)}">{esc(self.loading)}</div>'
                f"{body_script}</body></html>\n")

    def stylesheet_css(self) -> str:
        return (f"body{{margin:0;font-family:system-ui,sans-serif}}"
                f"{self.mount_selector}{{min-height:100vh}}\n")

    def data_answer(self, site: GeneratedSite, route: str, base: str) -> Page:
        """The data endpoint's answer for ``route``: its server page as JSON (see the module)."""
        path, _, query = route.partition("?")
        page, known = site.server_answer(path, parse_qs(query), base)
        if page.status in (301, 302, 303, 307, 308):
            location = dict(page.headers)["Location"]
            return self._json(200, {self.redirect_key: location})
        is_html = known and page.content_type.startswith("text/html")
        status = page.status if is_html else 404
        payload: dict[str, Any] = {}
        if is_html or self.error_with_page:
            document = page.body if is_html else site.not_found().body.replace(BASE, base)
            title, head, body = split_document(document)
            payload = self.payload(html.unescape(title), head, body)
        if status != 200:
            message = site.soft404[1] if status == 404 else html.unescape(
                split_document(page.body)[0])
            payload["error"] = {"status": status, "message": message}
        return self._json(status, payload)

    def payload(self, title: str, head: str, body: str) -> dict[str, Any]:
        """A page's parts under this site's keys."""
        payload: dict[str, Any] = {}
        for part, value in (("title", title), ("head", head), ("body", body)):
            *outer, last = self.keys[part]
            node = payload
            for key in outer:
                node = node.setdefault(key, {})
            node[last] = value
        return payload

    def parts(self, payload: Any) -> dict[str, Any]:
        """A payload read back as the bundle reads it: title, head, body (None when missing),
        redirect (the Python twin of the bundle's ``render``, for tests without a browser)."""
        def pick(path: tuple[str, ...]) -> Any:
            node = payload
            for key in path:
                node = node.get(key) if isinstance(node, dict) else None
            return node

        redirect = payload.get(self.redirect_key) if isinstance(payload, dict) else None
        return {"redirect": redirect, **{part: pick(self.keys[part])
                                         for part in ("title", "head", "body")}}

    def _json(self, status: int, payload: dict[str, Any]) -> Page:
        text = json.dumps(payload, ensure_ascii=self.ascii_json, separators=(",", ":"))
        return Page(status, text, JSON, (("Cache-Control", "no-cache"),))

    # -- the bundle ------------------------------------------------------------------------------
    def bundle_js(self, site: GeneratedSite) -> str:
        """The site's script: the same text for every route (its not-found page included)."""
        title, _head, body = split_document(site.not_found().body)
        shape, prefix, extra = self.endpoint
        if shape == "query":
            data_url = (f"return {json.dumps(prefix + '?' + extra + '=')} + "
                        "encodeURIComponent(path + search);")
        elif shape == "file":
            data_url = (f'if (path.slice(-1) === "/") path += "index";\n'
                        f"    return {json.dumps(prefix)} + path + {json.dumps(extra)} + search;")
        else:
            data_url = (f"return {json.dumps(prefix)} + btoa(path + search).replace(/\\+/g, "
                        '"-").replace(/\\//g, "_").replace(/=+$/, "");')
        if self.loader == "fetch":
            load = """fetch(dataUrl(location.pathname, location.search), {
      headers: {Accept: "application/json"}, credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (data) { render(data); }, function () { render(null); });
    }, function () { render(null); });"""
        else:
            load = """var xhr = new XMLHttpRequest();
    xhr.open("GET", dataUrl(location.pathname, location.search));
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onload = function () {
      var data = null;
      try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
      render(data);
    };
    xhr.onerror = function () { render(null); };
    xhr.send();"""
        keys = json.dumps({part: list(path) for part, path in self.keys.items()})
        not_found = json.dumps({"title": html.unescape(title), "html": body})
        return f"""/*! {site.org} provider finder, build {self.build} */
(function () {{
  "use strict";
  var MOUNT = {json.dumps(self.mount_selector)};
  var KEYS = {keys};
  var REDIRECT = {json.dumps(self.redirect_key)};
  var NOT_FOUND = {not_found};

  function pick(data, path) {{
    for (var i = 0; i < path.length; i++) {{
      if (data === null || typeof data !== "object") return undefined;
      data = data[path[i]];
    }}
    return data;
  }}

  function dataUrl(path, search) {{
    {data_url}
  }}

  function render(data) {{
    var mount = document.querySelector(MOUNT);
    var target = data && data[REDIRECT];
    if (typeof target === "string") {{ location.replace(target); return; }}
    var body = pick(data, KEYS.body);
    if (typeof body !== "string") {{
      document.title = NOT_FOUND.title;
      mount.innerHTML = NOT_FOUND.html;
      return;
    }}
    var title = pick(data, KEYS.title), head = pick(data, KEYS.head);
    if (typeof title === "string") document.title = title;
    if (typeof head === "string" && head) document.head.insertAdjacentHTML("beforeend", head);
    mount.innerHTML = body;
  }}

  function load() {{
    {load}
  }}

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", load);
  else load();
}})();
"""


def split_document(document: str) -> tuple[str, str, str]:
    """(title as HTML text, head extras, body inner HTML) of one of the site's pages: the head
    extras are everything in <head> but the charset and the title."""
    title = re.search(r"<title>(.*?)</title>", document, re.S)
    head = re.search(r"</title>(.*?)</head>", document, re.S)
    body = re.search(r"<body>(.*)</body>", document, re.S)
    if not (title and head and body):
        raise ValueError("not one of the site's pages")
    return title.group(1), head.group(1).strip(), body.group(1)
