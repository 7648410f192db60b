"""The read-only web app over the published file: pages for people, JSON for programs.

Every page reads one snapshot of the published file (``PublishedDatabase``) through the
project's own questions — ``search``/``lookup`` and ``find`` (pipeline.lookup), ``explanation``
(pipeline.explain) — and the page queries in ``queries``. Only GET exists: there is no write path.
User text arrives as query parameters, reaches SQL only as parameters, and is shown through
Jinja2's autoescaping; the Content-Security-Policy allows no script at all.
"""

from __future__ import annotations

import math
import re
from contextlib import asynccontextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import numpy as np
import pandas as pd
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from pipeline.app.report import frame_csv
from pipeline.config import CredcheckError
from pipeline.discrepancies import DISCREPANCY_KINDS, build_discrepancies
from pipeline.lookup import find, search
from pipeline.normalize.specialties import known_specialties
from pipeline.web import queries
from pipeline.web.database import DatabaseUnavailable, PublishedDatabase

HERE = Path(__file__).resolve().parent
MAX_TEXT = 200  # longest query text accepted: a name, a specialty, an institution
SEARCH_LIMIT = 10  # as `credcheck lookup`: a person reads the first few
FIND_PAGE = 200
FIND_CSV_MAX = 1_000_000
LIST_PAGE = 100
NPI = re.compile(r"\d{10}")
# A person known only from board or LEIE rows without an NPI (reference_people.person_id).
PERSON_WITHOUT_NPI = re.compile(r"(boards|leie):[0-9a-f]{12}")
IN_MEMORY_DISCREPANCIES = "memory.main.discrepancies"  # for a file published without the table

SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        b"base-uri 'none'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]

CERTIFICATION_LABELS = {
    "certified": "Certified",
    "certified_other_specialty": "Certified, other specialty",
    "lapsed": "Lapsed",
    "not_certified": "Not certified",
    "unknown": "Unknown",
}


# ------------------------------------------------------------------------------ values


def jsonable(value: Any) -> Any:
    """DuckDB, pandas and numpy values as plain JSON values (dates as ISO strings)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonable(v) for v in value]
    if isinstance(value, pd.Timestamp | datetime | date):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [jsonable(row) for row in frame.to_dict(orient="records")]


def safe_url(url: Any) -> str | None:
    """A crawled URL fit for a link: http(s) only (a page could carry ``javascript:``)."""
    if isinstance(url, str) and url.lower().startswith(("http://", "https://")):
        return url
    return None


def when(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, datetime):
        if value.time() == datetime.min.time():
            return value.date().isoformat()  # a date stored as a timestamp
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def person_href(person_key: str | None, npi: str | None = None) -> str:
    """A resolved person's page (by NPI, or by person_id for one known without an NPI), else
    the listing's page (``person_key`` "listing:…" for a listing not resolved)."""
    if npi:
        return f"/physician/{npi}"
    if person_key and not person_key.startswith("listing:"):
        return f"/physician/{quote(person_key, safe=':')}"
    return "/listing?" + _urlencode({"id": (person_key or "").removeprefix("listing:")})


def _urlencode(params: dict[str, Any]) -> str:
    from urllib.parse import urlencode

    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pipeline.web", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(when=when, safe_url=safe_url, urlencode=_urlencode)
    env.globals.update(
        certification_labels=CERTIFICATION_LABELS,
        person_href=person_href,
        discrepancy_kinds=DISCREPANCY_KINDS,
    )
    return env


# ------------------------------------------------------------------------------ parameters


def text_param(request: Request, name: str) -> str | None:
    value = request.query_params.get(name, "").strip()
    if len(value) > MAX_TEXT:
        raise CredcheckError(f"{name} is too long (at most {MAX_TEXT} characters)")
    return value or None


def int_param(request: Request, name: str, default: int, highest: int) -> int:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= highest:
        raise CredcheckError(f"{name} must be a whole number from 1 to {highest}")
    return int(raw)


def _offset(request: Request) -> int:
    raw = request.query_params.get("offset", "").strip()
    if raw in ("", "0"):
        return 0
    return int_param(request, "offset", 0, 100_000_000)


def _page(offset: int, limit: int, total: int) -> dict[str, int | None]:
    """Offsets of the previous and next page of a list (None at either end)."""
    return {
        "offset": offset,
        "limit": limit,
        "previous": max(offset - limit, 0) if offset > 0 else None,
        "next": offset + limit if offset + limit < total else None,
    }


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


# ------------------------------------------------------------------------------ the app


class SecurityHeaders:
    """Adds the security headers to every response (pure ASGI: no per-request task)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(db_path: Path | str) -> Starlette:
    """The web app over the published file at ``db_path`` (it may not exist yet)."""
    database = PublishedDatabase(Path(db_path))
    templates = Jinja2Templates(env=_environment())
    specialties = sorted(known_specialties())

    def page(request: Request, template: str, snapshot, context: dict, status: int = 200):
        status_info = snapshot.cached("status", lambda: None) if snapshot else None
        response = templates.TemplateResponse(
            request,
            template,
            {
                "status": status_info,
                "specialties": specialties,
                "error": None,
                "params": {},
                **context,
            },
            status_code=status,
        )
        return _stamped(response, snapshot)

    def _stamped(response: Response, snapshot) -> Response:
        status_info = snapshot.cached("status", lambda: None) if snapshot else None
        if status_info and status_info.get("publish_id"):
            response.headers["x-credcheck-publish-id"] = status_info["publish_id"]
        response.headers.setdefault("cache-control", "no-store")
        return response

    def api(snapshot, payload: Any, status: int = 200) -> Response:
        response = JSONResponse(jsonable(payload), status_code=status)
        return _stamped(response, snapshot)

    def reading(handler):
        """Run ``handler(request, snapshot, con)`` on one snapshot; errors as pages or JSON."""

        def endpoint(request: Request) -> Response:
            try:
                with database.reading() as (snapshot, con):
                    snapshot.cached("status", lambda: queries.database_status(con))
                    try:
                        return handler(request, snapshot, con)
                    except CredcheckError as exc:
                        if wants_json(request):
                            return api(snapshot, {"error": str(exc)}, 400)
                        return page(
                            request,
                            handler.template,
                            snapshot,
                            {
                                **handler.empty(snapshot, con),
                                "params": dict(request.query_params),
                                "error": str(exc),
                            },
                            400,
                        )
            except DatabaseUnavailable as exc:
                if wants_json(request):
                    return JSONResponse({"error": str(exc)}, status_code=503)
                return page(request, "error.html", None, {"message": str(exc)}, 503)

        endpoint.__name__ = handler.__name__
        return endpoint

    def view(template: str, empty=lambda snapshot, con: {}):
        def decorate(handler):
            handler.template = template
            handler.empty = empty
            return reading(handler)

        return decorate

    def tables(snapshot, con) -> frozenset[str]:
        return snapshot.cached("tables", lambda: queries.published_tables(con))

    def choices(snapshot, con) -> dict:
        return snapshot.cached("choices", lambda: queries.filter_choices(con))

    # -------------------------------------------------------------------- search

    def _search(request: Request, con) -> tuple[dict, pd.DataFrame | None]:
        params = {
            "q": text_param(request, "q"),
            "state": text_param(request, "state"),
            "specialty": text_param(request, "specialty"),
            "institution": text_param(request, "institution"),
        }
        limit = int_param(request, "limit", SEARCH_LIMIT, 100)
        if limit != SEARCH_LIMIT:
            params["limit"] = limit
        if not params["q"]:
            return params, None
        found = search(
            con,
            params["q"],
            state=params["state"],
            specialty=params["specialty"],
            institution=params["institution"],
            limit=limit,
        )
        return params, found

    def search_empty(snapshot, con) -> dict:
        return {"results": None, "choices": choices(snapshot, con), "params": {}}

    @view("search.html", search_empty)
    def search_page(request, snapshot, con):
        params, found = _search(request, con)
        return page(
            request,
            "search.html",
            snapshot,
            {
                "results": None if found is None else found.to_dict(orient="records"),
                "choices": choices(snapshot, con),
                "params": params,
            },
        )

    @view("search.html")
    def search_api(request, snapshot, con):
        params, found = _search(request, con)
        if found is None:
            raise CredcheckError("give a name: /api/search?q=Jane+Doe")
        return api(snapshot, {"query": params, "results": frame_records(found)})

    # -------------------------------------------------------------------- one person

    def _npi(request: Request) -> str:
        """The NPI in the path, or the person_id of a person known without one."""
        npi = request.path_params["npi"]
        if not (NPI.fullmatch(npi) or PERSON_WITHOUT_NPI.fullmatch(npi)):
            raise HTTPException(404, "an NPI is ten digits")
        return npi

    @view("physician.html")
    def physician_view(request, snapshot, con):
        found = queries.physician_page(con, _npi(request), tables(snapshot, con))
        if found is None:
            raise HTTPException(404, "no physician with this NPI in the published file")
        found["sources"] = snapshot.cached("sources", lambda: queries.reference_sources(con))
        return page(request, "physician.html", snapshot, found)

    @view("physician.html")
    def physician_api(request, snapshot, con):
        found = queries.physician_page(con, _npi(request), tables(snapshot, con))
        if found is None:
            raise HTTPException(404, "no physician with this NPI in the published file")
        found["sources"] = snapshot.cached("sources", lambda: queries.reference_sources(con))
        return api(snapshot, found)

    def _listing(request: Request, snapshot, con) -> dict:
        listing_id = text_param(request, "id")
        if not listing_id:
            raise CredcheckError("give a listing id: ?id=site_id:ref")
        found = queries.listing_page(con, listing_id, tables(snapshot, con))
        if found is None:
            raise HTTPException(404, "no listing with this id in the published file")
        return found

    @view("listing.html")
    def listing_view(request, snapshot, con):
        found = _listing(request, snapshot, con)
        if found["listing"].get("npi"):
            found["sources"] = snapshot.cached("sources", lambda: queries.reference_sources(con))
        else:
            found["sources"] = {}
        return page(request, "listing.html", snapshot, found)

    @view("listing.html")
    def listing_api(request, snapshot, con):
        return api(snapshot, _listing(request, snapshot, con))

    # -------------------------------------------------------------------- find

    def _find(request: Request, con, limit: int) -> tuple[dict, pd.DataFrame | None]:
        params = {
            "specialty": text_param(request, "specialty"),
            "state": text_param(request, "state"),
            "institution": text_param(request, "institution"),
        }
        if not params["specialty"]:
            return params, None
        found = find(
            con,
            params["specialty"],
            state=params["state"],
            institution=params["institution"],
            limit=limit,
        )
        return params, found

    def find_empty(snapshot, con) -> dict:
        return {"results": None, "more": False, "choices": choices(snapshot, con), "params": {}}

    @view("find.html", find_empty)
    def find_page(request, snapshot, con):
        limit = int_param(request, "limit", FIND_PAGE, 5000)
        params, found = _find(request, con, limit + 1)
        return page(
            request,
            "find.html",
            snapshot,
            {
                "results": None if found is None else found.head(limit).to_dict(orient="records"),
                "more": found is not None and len(found) > limit,
                "choices": choices(snapshot, con),
                "params": params,
            },
        )

    @view("find.html", find_empty)
    def find_api(request, snapshot, con):
        limit = int_param(request, "limit", FIND_PAGE, FIND_CSV_MAX)
        params, found = _find(request, con, limit)
        if found is None:
            raise CredcheckError("give a specialty: /api/find?specialty=cardiology")
        return api(snapshot, {"query": params, "results": frame_records(found)})

    @view("find.html", find_empty)
    def find_csv(request, snapshot, con):
        params, found = _find(request, con, FIND_CSV_MAX)
        if found is None:
            raise CredcheckError("give a specialty to export: /find.csv?specialty=cardiology")
        name = re.sub(r"[^a-z0-9]+", "-", params["specialty"].lower()).strip("-") or "find"
        response = Response(
            frame_csv(found),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="credcheck-{name}.csv"'},
        )
        return _stamped(response, snapshot)

    # -------------------------------------------------------------------- lists

    def _discrepancies(request: Request, snapshot, con) -> dict:
        kind = text_param(request, "kind")
        site = text_param(request, "site")
        if kind and kind not in DISCREPANCY_KINDS:
            raise CredcheckError(f"unknown kind {kind!r}; one of {', '.join(DISCREPANCY_KINDS)}")
        limit = int_param(request, "limit", LIST_PAGE, 100_000)
        offset = _offset(request)
        table = discrepancy_table(snapshot, con)
        found = queries.discrepancies(con, table, kind=kind, site=site, limit=limit, offset=offset)
        return {
            "params": {"kind": kind, "site": site},
            "page": _page(offset, limit, found["total"]),
            "counts": snapshot.cached(
                "discrepancy counts", lambda: queries.discrepancy_counts(con, table)
            ),
            **found,
        }

    def discrepancy_table(snapshot, con) -> str:
        """The published ``discrepancies``; for an older file, the same built once in memory."""
        if "discrepancies" in tables(snapshot, con):
            return "discrepancies"
        snapshot.cached("discrepancies", lambda: build_discrepancies(con, IN_MEMORY_DISCREPANCIES))
        return IN_MEMORY_DISCREPANCIES

    def lists_empty(snapshot, con) -> dict:
        return {
            "params": {},
            "counts": [],
            "total": 0,
            "rows": [],
            "runs": [],
            "run": None,
            "page": _page(0, LIST_PAGE, 0),
            "kinds": [],
            "sites": [],
        }

    @view("discrepancies.html", lists_empty)
    def discrepancies_page(request, snapshot, con):
        return page(request, "discrepancies.html", snapshot, _discrepancies(request, snapshot, con))

    @view("discrepancies.html", lists_empty)
    def discrepancies_api(request, snapshot, con):
        return api(snapshot, _discrepancies(request, snapshot, con))

    def _changes(request: Request, snapshot, con) -> dict:
        runs = snapshot.cached("runs", lambda: queries.publish_runs(con))
        wanted = text_param(request, "run")
        kind = text_param(request, "kind")
        site = text_param(request, "site")
        limit = int_param(request, "limit", LIST_PAGE, 100_000)
        offset = _offset(request)
        if wanted and wanted not in {r["publish_id"] for r in runs}:
            raise CredcheckError(f"no published run {wanted!r}")
        run = next((r for r in runs if r["publish_id"] == wanted), runs[0] if runs else None)
        found = {"counts": {}, "sites": [], "total": 0, "rows": []}
        if run:
            found = snapshot.cached(
                f"changes:{run['publish_id']}",
                lambda: queries.run_change_counts(con, run["publish_id"]),
            )
            found = {
                **found,
                **queries.run_changes(
                    con,
                    run["publish_id"],
                    tables(snapshot, con),
                    kind=kind,
                    site=site,
                    limit=limit,
                    offset=offset,
                ),
            }
        return {
            "params": {"run": run["publish_id"] if run else None, "kind": kind, "site": site},
            "run": run,
            "runs": runs,
            "kinds": list(found["counts"]),
            "page": _page(offset, limit, found["total"]),
            **found,
        }

    @view("changes.html", lists_empty)
    def changes_page(request, snapshot, con):
        return page(request, "changes.html", snapshot, _changes(request, snapshot, con))

    @view("changes.html", lists_empty)
    def changes_api(request, snapshot, con):
        return api(snapshot, _changes(request, snapshot, con))

    @view("api.html")
    def api_docs(request, snapshot, con):
        return page(request, "api.html", snapshot, {})

    @view("api.html")
    def status_api(request, snapshot, con):
        return api(snapshot, snapshot.cached("status", lambda: queries.database_status(con)))

    async def not_found(request: Request, exc: HTTPException) -> Response:
        if wants_json(request):
            return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
        response = templates.TemplateResponse(
            request,
            "error.html",
            {"status": None, "message": exc.detail, "query": {}, "specialties": []},
            status_code=exc.status_code,
        )
        return response

    routes = [
        Route("/", search_page),
        Route("/physician/{npi}", physician_view),
        Route("/listing", listing_view),
        Route("/find", find_page),
        Route("/find.csv", find_csv),
        Route("/discrepancies", discrepancies_page),
        Route("/changes", changes_page),
        Route("/api", api_docs),
        Route("/api/status", status_api),
        Route("/api/search", search_api),
        Route("/api/physician/{npi}", physician_api),
        Route("/api/listing", listing_api),
        Route("/api/find", find_api),
        Route("/api/discrepancies", discrepancies_api),
        Route("/api/changes", changes_api),
        Mount("/static", StaticFiles(packages=[("pipeline.web", "static")]), name="static"),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: not_found},
        lifespan=_closing(database),
    )
    app.state.database = database
    app.add_middleware(SecurityHeaders)
    return app


def _closing(database: PublishedDatabase):
    @asynccontextmanager
    async def lifespan(app):
        try:
            yield
        finally:
            database.close()

    return lifespan
