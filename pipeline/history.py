"""History across runs: when each listing was seen, what it said, and what changed.

Kept in the work database and published with every run:

- ``listing_history`` — one row per listing ever seen: ``first_seen``, ``last_seen`` (crawl
  times) and ``gone_at`` (set when a *healthy* crawl of its site no longer lists it);
- ``listing_versions`` — what each listing claimed and what the records said, one row per
  distinct state with ``valid_from`` / ``valid_to`` (publish times): "as of date X" is
  ``valid_from <= X AND (valid_to IS NULL OR valid_to > X)``;
- ``changes`` — one row per event between two publishes (``CHANGE_KINDS``).

Everything here is SQL over the work database in one transaction: a crash leaves the previous
history, and the next run computes the same events again.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from pipeline.db.schema import HISTORY, create_tables

# The state of every current listing, from the staged tables and the verifications view.
_CURRENT = """
CREATE OR REPLACE TEMP TABLE history_current AS
SELECT v.listing_id, v.site_id, v.listed_name, v.npi, v.identity, v.certification, v.excluded,
       v.crawled_at,
       list_sort(coalesce(CAST(l.claimed_canonical AS VARCHAR[]), [])) AS specialties,
       list_sort(coalesce(CAST(l.affiliations AS VARCHAR[]), [])) AS affiliations,
       list_sort(list_transform(v.certificates,
           lambda c: {'board': c.board, 'certificate': c.certificate, 'status': c.status}))
           AS certificate_statuses
FROM verifications v JOIN listings l USING (listing_id)
"""


def ensure_history_schema(con: duckdb.DuckDBPyConnection) -> None:
    create_tables(con, (HISTORY,))


# A crawl healthy enough to say "this listing is gone": finished, and no sharp fall in yield or
# field coverage against the previous run (drift).
HEALTHY_CRAWL = "status = 'ok' AND NOT coalesce(drift, false)"


def _event(kind: str, select: str) -> str:
    """INSERT of one kind of event from a SELECT of (listing_id, site_id, npi, old, new, detail)."""
    return f"""
        INSERT INTO changes
        SELECT (SELECT coalesce(max(change_id), 0) FROM changes)
                   + row_number() OVER (ORDER BY e.listing_id, e.detail),
               $publish_id, $now, '{kind}', e.listing_id, e.site_id, e.npi,
               e.old_value, e.new_value, e.detail
        FROM ({select}) e(listing_id, site_id, npi, old_value, new_value, detail)
    """


def _joined(values: str) -> str:
    return f"array_to_string({values}, '; ')"


def record_history(con: duckdb.DuckDBPyConnection, publish_id: str, now: datetime) -> int:
    """Compare the freshly matched state with the last one; record events. Returns how many.

    Call inside a transaction on the work database, after ``run_match``.
    """
    ensure_history_schema(con)
    params = {"publish_id": publish_id, "now": now}
    before = con.execute("SELECT count(*) FROM changes").fetchone()[0]
    con.execute(_CURRENT)
    # Sites whose latest crawl is healthy: a listing missing from it is gone.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE history_healthy_sites AS
            SELECT site_id, started_at FROM (
                SELECT site_id, started_at, {HEALTHY_CRAWL} AS healthy,
                       row_number() OVER (PARTITION BY site_id ORDER BY started_at DESC) AS n
                FROM crawl_runs)
            WHERE n = 1 AND healthy"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE history_open AS
           SELECT * FROM listing_versions WHERE valid_to IS NULL"""
    )

    # New listings, and listings listed again after they were gone.
    con.execute(
        _event(
            "new_listing",
            """SELECT c.listing_id, c.site_id, c.npi, NULL,
                      c.listed_name,
                      CASE WHEN h.listing_id IS NULL THEN 'first seen'
                           ELSE 'listed again (gone since ' || h.gone_at || ')' END
               FROM history_current c LEFT JOIN listing_history h USING (listing_id)
               WHERE h.listing_id IS NULL OR h.gone_at IS NOT NULL""",
        ),
        params,
    )
    con.execute(
        """UPDATE listing_history h SET gone_at = NULL,
               last_seen = greatest(h.last_seen, c.crawled_at)
           FROM history_current c WHERE c.listing_id = h.listing_id"""
    )
    con.execute(
        """INSERT INTO listing_history
           SELECT c.listing_id, c.site_id, c.crawled_at, c.crawled_at, NULL
           FROM history_current c ANTI JOIN listing_history h USING (listing_id)"""
    )

    # Gone: not listed any more, and only after a healthy crawl of its site.
    con.execute(
        _event(
            "listing_gone",
            """SELECT h.listing_id, h.site_id, o.npi, o.listed_name, NULL,
                      'not listed by the healthy crawl of ' || s.started_at
               FROM listing_history h
               JOIN history_healthy_sites s USING (site_id)
               LEFT JOIN history_open o USING (listing_id)
               WHERE h.gone_at IS NULL AND h.last_seen < s.started_at
                 AND h.listing_id NOT IN (SELECT listing_id FROM history_current)""",
        ),
        params,
    )
    con.execute(
        """UPDATE listing_history h SET gone_at = s.started_at
           FROM history_healthy_sites s
           WHERE s.site_id = h.site_id AND h.gone_at IS NULL AND h.last_seen < s.started_at
             AND h.listing_id NOT IN (SELECT listing_id FROM history_current)"""
    )

    # Field changes against the open version of each listing still listed.
    pair = "FROM history_current c JOIN history_open o USING (listing_id)"
    for kind, column in (
        ("specialty_changed", "specialties"),
        ("affiliation_changed", "affiliations"),
    ):
        con.execute(
            _event(
                kind,
                f"""SELECT c.listing_id, c.site_id, c.npi, {_joined("o." + column)},
                           {_joined("c." + column)}, NULL
                    {pair} WHERE o.{column} IS DISTINCT FROM c.{column}""",
            ),
            params,
        )
    con.execute(
        _event(
            "identity_changed",
            f"""SELECT c.listing_id, c.site_id, c.npi,
                       o.identity || coalesce(' ' || o.npi, ''),
                       c.identity || coalesce(' ' || c.npi, ''), NULL
                {pair} WHERE o.npi IS DISTINCT FROM c.npi OR o.identity <> c.identity""",
        ),
        params,
    )
    con.execute(
        _event(
            "certification_changed",
            f"""SELECT c.listing_id, c.site_id, c.npi, o.certification, c.certification, NULL
                {pair} WHERE o.certification IS DISTINCT FROM c.certification""",
        ),
        params,
    )
    con.execute(
        _event(
            "certificate_status_changed",
            """WITH old AS (SELECT o.listing_id, unnest(o.certificate_statuses) AS cert
                             FROM history_open o),
                     new AS (SELECT c.listing_id, c.site_id, c.npi,
                                    unnest(c.certificate_statuses) AS cert
                             FROM history_current c)
                SELECT new.listing_id, new.site_id, new.npi, old.cert.status, new.cert.status,
                       new.cert.certificate || ' (' || coalesce(new.cert.board, '?') || ')'
                FROM new JOIN old ON old.listing_id = new.listing_id
                    AND old.cert.board IS NOT DISTINCT FROM new.cert.board
                    AND old.cert.certificate = new.cert.certificate
                JOIN history_open o ON o.listing_id = new.listing_id
                WHERE o.npi = new.npi AND old.cert.status IS DISTINCT FROM new.cert.status""",
        ),
        params,
    )
    for kind, was, now_is in (
        ("newly_excluded", "false", "true"),
        ("exclusion_lifted", "true", "false"),
    ):
        con.execute(
            _event(
                kind,
                f"""SELECT c.listing_id, c.site_id, c.npi, '{was}', '{now_is}', NULL
                    {pair} WHERE coalesce(o.excluded, false) = {was}
                             AND coalesce(c.excluded, false) = {now_is}""",
            ),
            params,
        )

    # New versions for listings whose state changed (or that are new); close the old ones.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE history_changed AS
           SELECT c.* FROM history_current c LEFT JOIN history_open o USING (listing_id)
           WHERE o.listing_id IS NULL
              OR o.listed_name IS DISTINCT FROM c.listed_name
              OR o.specialties IS DISTINCT FROM c.specialties
              OR o.affiliations IS DISTINCT FROM c.affiliations
              OR o.npi IS DISTINCT FROM c.npi
              OR o.identity IS DISTINCT FROM c.identity
              OR o.certification IS DISTINCT FROM c.certification
              OR o.certificate_statuses IS DISTINCT FROM c.certificate_statuses
              OR o.excluded IS DISTINCT FROM c.excluded"""
    )
    con.execute(
        """UPDATE listing_versions v SET valid_to = $now
           WHERE v.valid_to IS NULL AND (
               v.listing_id IN (SELECT listing_id FROM history_changed)
               OR v.listing_id IN (SELECT listing_id FROM listing_history
                                   WHERE gone_at IS NOT NULL))""",
        {"now": now},
    )
    con.execute(
        """INSERT INTO listing_versions
           SELECT listing_id, site_id, $now, NULL, $publish_id, listed_name, specialties,
                  affiliations, npi, identity, certification, certificate_statuses, excluded
           FROM history_changed""",
        params,
    )
    for table in ("history_current", "history_healthy_sites", "history_open", "history_changed"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return con.execute("SELECT count(*) FROM changes").fetchone()[0] - before
