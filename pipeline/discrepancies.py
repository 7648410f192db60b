"""Discrepancies: matched listings whose claims the public records do not support.

The one home of the rule. A publish writes its answer into the published file as the table
``discrepancies`` (``build_discrepancies``), which the web page, the analyst notebook
(notebooks/discrepancies.ipynb) and anyone's SQL read; the web app builds the same table in
memory for a file published before the table existed.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from pipeline.db.schema import DISCREPANCY_KINDS
from pipeline.normalize.specialties import canonical_specialty

__all__ = ["DISCREPANCY_KINDS", "TABLE", "build_discrepancies"]

TABLE = "discrepancies"

_LISTING_ID = "r.site_id || ':' || coalesce(r.ref, r.source_url)"


def build_discrepancies(con: duckdb.DuckDBPyConnection, table: str = TABLE) -> None:
    """Every matched listing whose claims the records do not support, with its evidence, as
    ``table``: one row per (listing, kind), most serious kind first, then by site and name.

    A listing's person is its match's ``person_id`` (an NPI, or a board or LEIE identity for
    someone known without one). A claimed board certificate is "not found" when no certificate
    of the person has the same canonical specialty. Canonical names come from the vocabulary in
    Python, once per distinct certificate name; the rest is SQL. Each crawled item's JSON is
    parsed once (the certificates it names), and the person's certificates and exclusions come
    from ``physicians``, where the publish step has already gathered them.
    """
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE discrepancy_claims AS
            SELECT {_LISTING_ID} AS listing_id, list_filter(
                       json_extract_string(r.item, '$.board_certifications[*].certificate'),
                       lambda c: c IS NOT NULL) AS claimed_certificates
            FROM raw_listings r"""
    )
    try:
        names = [
            name
            for (name,) in con.execute(
                """SELECT DISTINCT name FROM (
                       SELECT unnest(claimed_certificates) AS name FROM discrepancy_claims
                       UNION ALL SELECT certificate FROM certificates)
                   WHERE name IS NOT NULL"""
            ).fetchall()
        ]
        keys = pd.DataFrame(
            {"name": names, "key": [canonical_specialty(n) or n.strip().lower() for n in names]},
            columns=["name", "key"],
            dtype="string",
        )
        con.register("certificate_keys", keys)
        try:
            con.execute(_DISCREPANCIES.format(table=table, order=list(DISCREPANCY_KINDS)))
        finally:
            con.unregister("certificate_keys")
    finally:
        con.execute("DROP TABLE IF EXISTS temp.discrepancy_claims")


_DISCREPANCIES = """
CREATE OR REPLACE TABLE {table} AS
WITH v AS MATERIALIZED (
    SELECT v.listing_id, v.site_id, v.listed_name, v.npi, m.person_id, v.claimed_specialties,
           v.certification, v.excluded, v.match_score, v.source_url
    FROM verifications v JOIN listing_matches m USING (listing_id)
    WHERE v.identity = 'matched'
),
claims AS (SELECT * FROM discrepancy_claims WHERE len(claimed_certificates) > 0),
held AS (
    SELECT c.person_id, list(DISTINCT k.key) AS keys
    FROM certificates c JOIN certificate_keys k ON k.name = c.certificate
    WHERE c.person_id IS NOT NULL GROUP BY c.person_id
),
not_found AS (
    SELECT x.listing_id, list_sort(list(DISTINCT x.name)) AS names
    FROM (SELECT cl.listing_id, v.person_id, unnest(cl.claimed_certificates) AS name
          FROM claims cl JOIN v USING (listing_id)) x
    LEFT JOIN certificate_keys k ON k.name = x.name
    LEFT JOIN held h ON h.person_id = x.person_id
    WHERE NOT list_contains(coalesce(h.keys, []), coalesce(k.key, lower(x.name)))
    GROUP BY x.listing_id
),
base AS MATERIALIZED (
    SELECT v.*,
           list_transform(p.certificates, lambda c: c.certificate || ' ('
               || coalesce(c.board, 'board unknown') || '): ' || c.status
               || coalesce(', expires ' || CAST(CAST(c.expiration AS DATE) AS VARCHAR), ''))
               AS certificate_evidence,
           list_transform(p.exclusions, lambda x: x.exclusion_type || ' since '
               || CAST(x.exclusion_date AS VARCHAR)) AS exclusion_evidence,
           coalesce(cl.claimed_certificates, []) AS claimed_certificates,
           coalesce(nf.names, []) AS certificates_not_found
    FROM v LEFT JOIN physicians p USING (person_id)
    LEFT JOIN claims cl USING (listing_id)
    LEFT JOIN not_found nf USING (listing_id)
    WHERE v.excluded OR nf.listing_id IS NOT NULL
       OR v.certification IN ('lapsed', 'not_certified', 'certified_other_specialty')
)
SELECT * FROM (
    SELECT *, 'excluded' AS kind FROM base WHERE excluded
    UNION ALL
    SELECT *, certification FROM base
    WHERE certification IN ('lapsed', 'not_certified', 'certified_other_specialty')
    UNION ALL
    SELECT *, 'certificate_not_found' FROM base WHERE len(certificates_not_found) > 0
)
ORDER BY list_position({order}, kind), site_id, listed_name, listing_id
"""
