"""What the web pages show that ``lookup``, ``find`` and ``explain`` do not already answer.

The physician page gathers one person's evidence from the published tables (each fact with its
source); the discrepancies page reads the published ``discrepancies`` (pipeline.discrepancies)
and the changes page ``changes``, as the analyst notebooks do. Every value from a user reaches
SQL as a query parameter.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb

from pipeline.discrepancies import DISCREPANCY_KINDS
from pipeline.match.explain import explanation_of, reference_label, reference_names
from pipeline.normalize.specialties import canonical_specialty
from pipeline.verify import classify_certification

# A claimed specialty judged alone against the person's certificates (classify_certification).
CLAIM_VERDICTS = {
    "certified": "supported by an active certificate",
    "certified_other_specialty": "not supported: active certificates are in other specialties",
    "lapsed": "not supported: the certificate in it has lapsed or expired",
    "not_certified": "not supported: no certificate in it",
    "unknown": "board certification does not apply (not a physician)",
}

def records(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The rows of the last query as dicts (DuckDB's Python values: lists, dicts, datetimes)."""
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _placeholders(values: list) -> str:
    return ", ".join("?" * len(values))


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
            "AND table_name = ?",
            [name],
        ).fetchone()[0]
    )


# ------------------------------------------------------------------------------ the file


def database_status(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The run that published the file and what it holds."""
    status: dict[str, Any] = {"publish_id": None, "published_at": None, "command": None}
    if has_table(con, "publish_runs"):
        rows = records(
            con.execute(
                "SELECT publish_id, command, published_at, listings, matched, physicians, "
                "changes FROM publish_runs WHERE published_at IS NOT NULL "
                "ORDER BY published_at DESC LIMIT 1"
            )
        )
        if rows:
            status.update(rows[0])
    status["physicians"] = con.execute("SELECT count(*) FROM physicians").fetchone()[0]
    if status.get("listings") is None and has_table(con, "listings"):
        status["listings"] = con.execute("SELECT count(*) FROM listings").fetchone()[0]
    return status


def filter_choices(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """States and sites present in the file, for the search forms."""
    states = [
        s
        for (s,) in con.execute(
            "SELECT DISTINCT unnest(states) AS s FROM physicians ORDER BY s"
        ).fetchall()
        if s
    ]
    sites = [
        s
        for (s,) in con.execute(
            "SELECT DISTINCT unnest(sites) AS s FROM physicians ORDER BY s"
        ).fetchall()
        if s
    ]
    return {"states": states, "sites": sites}


def reference_sources(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """The latest load of each reference kind: which file, when (the source of a record)."""
    if not has_table(con, "load_runs"):
        return {}
    rows = records(
        con.execute(
            """SELECT kind, path, sha256, finished_at FROM load_runs
               QUALIFY row_number() OVER (PARTITION BY kind ORDER BY finished_at DESC) = 1"""
        )
    )
    for row in rows:
        row["file"] = str(row["path"]).replace("\\", "/").rsplit("/", 1)[-1]
    return {row["kind"]: row for row in rows}


# ------------------------------------------------------------------------------ one person


def _claim_verdicts(
    claimed: list[str], certificates: list[dict[str, Any]], physician: bool
) -> list[dict[str, Any]]:
    held = [(c["certificate"], c["status"], c["board"]) for c in certificates if c["certificate"]]
    verdicts = []
    for label in claimed:
        canonical = canonical_specialty(label)
        if not canonical:
            verdicts.append(
                {
                    "claimed": label,
                    "canonical": None,
                    "verdict": None,
                    "meaning": "not a board specialty",
                }
            )
            continue
        verdict = classify_certification("matched", [canonical], held, physician=physician)
        verdicts.append(
            {
                "claimed": label,
                "canonical": canonical,
                "verdict": verdict,
                "meaning": CLAIM_VERDICTS[verdict],
            }
        )
    return verdicts


def _raw_item(fetched_at: Any, extractor: Any, item: Any) -> dict[str, Any] | None:
    """What the crawled page showed, and where each field came from (the spider's item)."""
    if item is None:
        return None
    data = json.loads(item) if isinstance(item, str) else item
    if not isinstance(data, dict):
        return None
    extras = data.get("extras") if isinstance(data.get("extras"), dict) else {}

    def dicts(value: Any) -> list[dict]:
        return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []

    def strings(value: Any) -> list:
        return value if isinstance(value, list) else []

    return {
        "fetched_at": fetched_at,
        "extractor": extractor,
        "job_title": data.get("job_title"),
        "degrees": strings(data.get("degrees")),
        "npi_shown": data.get("npi"),
        "board_certifications": dicts(data.get("board_certifications")),
        "education": dicts(data.get("education")),
        "locations": dicts(data.get("locations")),
        "languages": strings(data.get("languages")),
        "provenance": dicts(extras.get("provenance")),
    }


def _listing_rows(
    con: duckdb.DuckDBPyConnection, listing_ids: list[str], tables: frozenset[str]
) -> list[dict[str, Any]]:
    """Each listing with its match decision and the crawled item behind it.

    Three filtered scans, joined here: DuckDB reads a wide column (the item JSON, the
    comparisons) only where the key matched, which a join in SQL would not guarantee.
    """
    if not listing_ids:
        return []
    ids = _placeholders(listing_ids)
    listings = records(
        con.execute(
            f"""SELECT listing_id, site_id, source_url, listed_name, claimed_specialties,
                       credentials, states, cities, affiliations, npi AS npi_shown, physician,
                       crawled_at, first_seen, last_seen
                FROM listings WHERE listing_id IN ({ids}) ORDER BY listing_id""",
            listing_ids,
        )
    )
    decisions = {
        row["listing_id"]: row
        for row in records(
            con.execute(
                "SELECT listing_id, npi, person_id, identity, match_score, certification, "
                "candidate_npi, runner_up_npi, runner_up_score, comparisons "
                f"FROM listing_matches WHERE listing_id IN ({ids})",
                listing_ids,
            )
        )
    }
    items: dict[str, dict[str, Any] | None] = {}
    urls = sorted({row["source_url"] for row in listings if row["source_url"]})
    if "raw_listings" in tables and urls:
        for site_id, ref, url, fetched_at, extractor, item in con.execute(
            "SELECT site_id, ref, source_url, fetched_at, extractor, item FROM raw_listings "
            f"WHERE source_url IN ({_placeholders(urls)})",
            urls,
        ).fetchall():
            items[f"{site_id}:{ref or url}"] = _raw_item(fetched_at, extractor, item)
    found = []
    for row in listings:
        decision = decisions.get(row["listing_id"])
        if decision is None:
            continue
        found.append({**row, **decision, "raw": items.get(row["listing_id"])})
    return found


def _certificate_rows(con: duckdb.DuckDBPyConnection, person_id: str) -> list[dict[str, Any]]:
    """Board certificates tied to the person, with the boards-file line each came from."""
    rows = records(
        con.execute(
            "SELECT * FROM certificates WHERE person_id = ? "
            "ORDER BY certificate_type, certificate",
            [person_id],
        )
    )
    for row in rows:
        row.setdefault("moc", None)
        row.setdefault("initial_certification_date", None)
    return rows


def _changes(
    con: duckdb.DuckDBPyConnection,
    npi: str | None,
    listing_ids: list[str],
    tables: frozenset[str],
    limit: int = 200,
) -> list[dict[str, Any]]:
    if "changes" not in tables or not (npi or listing_ids):
        return []
    # Two single-key queries, not an OR (nor a UNION): each is answered from its index.
    found: dict[int, dict[str, Any]] = {}
    columns = "change_id, changed_at, kind, listing_id, site_id, npi, old_value, new_value, detail"
    if npi:
        rows = con.execute(f"SELECT {columns} FROM changes WHERE npi = ?", [npi])
        found.update((row["change_id"], row) for row in records(rows))
    if listing_ids:
        rows = con.execute(
            f"SELECT {columns} FROM changes WHERE listing_id IN ({_placeholders(listing_ids)})",
            listing_ids,
        )
        found.update((row["change_id"], row) for row in records(rows))
    return [found[k] for k in sorted(found, reverse=True)[:limit]]


def _people(con: duckdb.DuckDBPyConnection, npis: list[str]) -> dict[str, dict[str, Any]]:
    """NPPES people by NPI: the person's own record and the candidates their listings met."""
    wanted = sorted({n for n in npis if n})
    if not wanted:
        return {}
    rows = con.execute(
        "SELECT npi, first, middle, last, suffix, alt_lasts, practice_city, practice_state "
        f"FROM reference_people WHERE npi IN ({_placeholders(wanted)})",
        wanted,
    )
    return {row["npi"]: row for row in records(rows)}


def _with_evidence(
    listings: list[dict[str, Any]],
    certificates: list[dict[str, Any]],
    physician: bool,
    names: dict[str, str],
) -> list[dict[str, Any]]:
    """Each listing's claims judged against the certificates, and its decision in words."""
    for entry in listings:
        entry["claims"] = _claim_verdicts(
            list(entry.get("claimed_specialties") or []), certificates, physician
        )
        found = explanation_of(entry, names)
        entry["explanation"] = {
            "summary": found.summary,
            "comparisons": []
            if found.comparisons is None
            else found.comparisons.to_dict(orient="records"),
            "would_change": found.would_change,
        }
        del entry["comparisons"]
    return listings


def published_tables(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """Names of the tables and views in the file (older files lack some)."""
    return frozenset(
        name
        for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "UNION ALL SELECT view_name FROM duckdb_views() "
            "WHERE database_name = current_database()"
        ).fetchall()
    )


def physician_page(
    con: duckdb.DuckDBPyConnection, npi: str, tables: frozenset[str] | None = None
) -> dict[str, Any] | None:
    """Everything the published file says about one person, each fact with its source.

    ``npi``: the person's NPI, or the ``person_id`` of a person known without one (board or
    LEIE rows only); a person's ``person_id`` is its NPI when it has one.
    """
    tables = published_tables(con) if tables is None else tables
    rows = records(con.execute("SELECT * FROM physicians WHERE person_id = ?", [npi]))
    if not rows:
        return None
    person = rows[0]
    npi = person["npi"]  # None for a person known without one
    listing_ids = [entry["listing_id"] for entry in person.get("listings") or []]
    listings = _listing_rows(con, listing_ids, tables)
    people = _people(
        con, [npi, *(e[k] for e in listings for k in ("candidate_npi", "runner_up_npi"))]
    )
    certificates = _certificate_rows(con, person["person_id"])
    _with_evidence(listings, certificates, bool(person.get("physician", True)), _names(people))
    nppes = people.get(npi, {})
    variants = []
    for name in [
        person.get("name"),
        *(
            " ".join(p for p in (nppes.get("first"), other) if p)
            for other in nppes.get("alt_lasts") or []
        ),
        *(entry["listed_name"] for entry in listings),
    ]:
        if name and name not in variants:
            variants.append(name)
    affiliations = [
        {
            "name": name,
            "sites": sorted({e["site_id"] for e in listings if name in (e["affiliations"] or [])}),
        }
        for name in person.get("affiliations") or []
    ]
    return {
        "person": person,
        "name_variants": variants,
        "affiliations": affiliations,
        "nppes": nppes,
        "certificates": certificates,
        "listings": listings,
        "changes": _changes(con, npi, listing_ids, tables),
    }


def _names(people: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {
        npi: reference_label(
            row["first"], row["middle"], row["last"], row["practice_city"], row["practice_state"]
        )
        for npi, row in people.items()
    }


def listing_page(
    con: duckdb.DuckDBPyConnection, listing_id: str, tables: frozenset[str] | None = None
) -> dict[str, Any] | None:
    """One listing: what the page claimed, the match decision in words, its history."""
    tables = published_tables(con) if tables is None else tables
    rows = _listing_rows(con, [listing_id], tables)
    if not rows:
        return None
    listing = rows[0]
    matched = listing.get("identity") == "matched" and listing.get("person_id")
    certificates = _certificate_rows(con, listing["person_id"]) if matched else []
    names = reference_names(con, [listing["candidate_npi"], listing["runner_up_npi"]])
    _with_evidence([listing], certificates, listing.get("physician") is not False, names)
    return {
        "listing": listing,
        "certificates": certificates,
        "changes": _changes(con, None, [listing_id], tables),
    }


# ------------------------------------------------------------------------------ lists


def _where(filters: dict[str, str | None]) -> tuple[str, list]:
    """``WHERE column = ?`` for each filter given (column names are ours, values parameters)."""
    given = {column: value for column, value in filters.items() if value}
    clause = " AND ".join(f"{column} = ?" for column in given)
    return (f"WHERE {clause}" if clause else ""), list(given.values())


def discrepancy_counts(con: duckdb.DuckDBPyConnection, table: str) -> list[dict[str, Any]]:
    """How many discrepancies of each kind each site has."""
    counts: dict[str, dict[str, int]] = {}
    for site_id, kind_name, n in con.execute(
        f"SELECT site_id, kind, count(*) FROM {table} GROUP BY ALL ORDER BY ALL"
    ).fetchall():
        counts.setdefault(site_id, dict.fromkeys(DISCREPANCY_KINDS, 0))[kind_name] = n
    return [{"site_id": s, **n} for s, n in counts.items()]


def discrepancies(
    con: duckdb.DuckDBPyConnection,
    table: str = "discrepancies",
    *,
    kind: str | None = None,
    site: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """One page of the discrepancies in ``table`` (``pipeline.discrepancies``), with the total."""
    where, params = _where({"kind": kind, "site_id": site})
    total = con.execute(f"SELECT count(*) FROM {table} {where}", params).fetchone()[0]
    rows = records(
        con.execute(
            f"SELECT * FROM {table} {where} ORDER BY rowid LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
    )
    return {"total": total, "rows": rows}


def publish_runs(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Runs that published this file, newest first."""
    if not has_table(con, "publish_runs"):
        return []
    return records(
        con.execute(
            "SELECT publish_id, command, published_at, listings, physicians, changes "
            "FROM publish_runs WHERE published_at IS NOT NULL ORDER BY published_at DESC"
        )
    )


def run_changes(
    con: duckdb.DuckDBPyConnection,
    publish_id: str,
    tables: frozenset[str],
    *,
    kind: str | None = None,
    site: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """One page of the events a run recorded, with the listing's name as it stood then."""
    where, params = _where({"publish_id": publish_id, "kind": kind, "site_id": site})
    total = con.execute(f"SELECT count(*) FROM changes {where}", params).fetchone()[0]
    rows = records(
        con.execute(
            "SELECT change_id, changed_at, kind, listing_id, site_id, npi, old_value, new_value, "
            f"detail FROM changes {where} ORDER BY kind, site_id, listing_id, change_id "
            "LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
    )
    names: dict[int, str] = {}
    ids = sorted({r["listing_id"] for r in rows if r["listing_id"]})
    if ids and "listing_versions" in tables:
        # The name as it stood when the run recorded the event (a listing gone has no other).
        names = dict(
            con.execute(
                f"""SELECT c.change_id, v.listed_name
                    FROM changes c JOIN listing_versions v
                      ON v.listing_id = c.listing_id AND v.valid_from <= c.changed_at
                     AND (v.valid_to IS NULL OR v.valid_to >= c.changed_at)
                    WHERE c.publish_id = ? AND c.listing_id IN ({_placeholders(ids)})
                    QUALIFY row_number() OVER (PARTITION BY c.change_id
                                               ORDER BY v.valid_from DESC) = 1""",
                [publish_id, *ids],
            ).fetchall()
        )
    for row in rows:
        row["listed_name"] = names.get(row["change_id"])
    return {"total": total, "rows": rows}


def run_change_counts(con: duckdb.DuckDBPyConnection, publish_id: str) -> dict[str, Any]:
    """How many events of each kind a run recorded, and the sites they concern."""
    counts = dict(
        con.execute(
            "SELECT kind, count(*) FROM changes WHERE publish_id = ? GROUP BY ALL ORDER BY ALL",
            [publish_id],
        ).fetchall()
    )
    sites = [
        s
        for (s,) in con.execute(
            "SELECT DISTINCT site_id FROM changes WHERE publish_id = ? ORDER BY ALL", [publish_id]
        ).fetchall()
        if s
    ]
    return {"counts": counts, "sites": sites}
