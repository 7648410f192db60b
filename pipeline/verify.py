"""Normalize, link and publish: from raw tables to the ``verifications`` view.

Order matters: board certificates and LEIE exclusions are first tied to NPPES people (by NPI
when they carry a valid one, otherwise by the matcher), then listings are matched to people
whose specialties now include their board certificates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb
import pandas as pd

from pipeline.config import CredcheckError
from pipeline.db.store import new_id, transaction
from pipeline.match import link
from pipeline.normalize.specialties import canonical_specialty, claims_match
from pipeline.stage import board_people, exclusion_people, reference_people, staged_listings

ACTIVE = "active"
LAPSED_STATUSES = {"expired", "lapsed", "inactive"}
CERTIFICATION_VALUES = (
    "certified",
    "certified_other_specialty",
    "lapsed",
    "not_certified",
    "unknown",
)


def classify_certification(
    identity: str,
    claimed: list[str],
    certificates: list[tuple[str, str, str | None]],
    physician: bool = True,
) -> str:
    """The ``verifications.certification`` value of one listing.

    ``claimed`` are canonical specialties; ``certificates`` are (certificate, status, board) of the
    matched person. A subspecialty certificate counts for its parent specialty under the board
    that issued it (``claims_match``): Hospice and Palliative Medicine from the internal medicine
    board supports a claim of Internal Medicine, not of Obstetrics and Gynecology.
    Board certification does not apply to a matched non-physician (nurse practitioner, physician
    assistant): that is ``unknown``, not ``not_certified``.

    >>> certs = [("Cardiovascular Disease", "active", "American Board of Internal Medicine")]
    >>> classify_certification("matched", ["Internal Medicine"], certs)
    'certified'
    """
    if identity != "matched" or not physician:
        return "unknown"

    def matches_claim(certificate: str, board: str | None) -> bool:
        canonical = canonical_specialty(certificate) or certificate
        return any(claims_match(claim, canonical, board=board) for claim in claimed)

    active = [(c, board) for c, status, board in certificates if status == ACTIVE]
    if any(matches_claim(c, board) for c, board in active):
        return "certified"
    if active:
        return "certified_other_specialty"
    if any(
        status in LAPSED_STATUSES and matches_claim(c, board) for c, status, board in certificates
    ):
        return "lapsed"
    return "not_certified"


@dataclass(frozen=True)
class MatchSummary:
    listings: int
    matched: int
    ambiguous: int
    unmatched: int
    certificates_linked: int
    certificates_total: int
    exclusions_linked: int


def _link_to_people(
    records: pd.DataFrame, people: pd.DataFrame, learned: dict[str, pd.DataFrame], name: str
) -> pd.Series:
    """NPI of each record: its own when it names a known person, else the matcher's decision."""
    known = set(people["npi"])
    direct = records["npi"].where(records["npi"].isin(known))
    needs_match = records[direct.isna()]
    if needs_match.empty:
        return direct
    decisions, details = link(needs_match.assign(npi=None), people)
    learned[name] = details.parameters.as_frame()
    matched = pd.Series(
        decisions["npi"].where(decisions["identity"] == "matched").to_numpy(),
        index=needs_match.index,
    )
    return direct.fillna(matched)


MATCH_PARAMETERS_DDL = """
CREATE TABLE IF NOT EXISTS match_parameters (
    run_id VARCHAR,            -- one matching run; listing_matches.comparisons->>'run_id'
    created_at TIMESTAMP,
    link VARCHAR,              -- listings | certificates | exclusions (each -> NPPES people)
    comparison VARCHAR,        -- a comparison, or 'prior'
    level INTEGER,
    level_name VARCHAR,
    m DOUBLE,                  -- P(level | same person), by EM on broad-rule pairs
    u DOUBLE,                  -- P(level | different people), from random pairs
    weight DOUBLE,             -- log2(m / u); the prior's is log2(lambda / (1 - lambda))
    term_frequency_adjusted BOOLEAN
)"""


def store_parameters(
    con: duckdb.DuckDBPyConnection, run_id: str, learned: dict[str, pd.DataFrame]
) -> None:
    """Append the parameters each link learned to ``match_parameters`` (one run = one run_id)."""
    if not learned:
        return
    created = pd.Timestamp.now(tz="UTC").tz_localize(None)
    frame = pd.concat(
        [f.assign(link=name) for name, f in learned.items()], ignore_index=True
    ).assign(run_id=run_id, created_at=created)
    columns = [
        "run_id",
        "created_at",
        "link",
        "comparison",
        "level",
        "level_name",
        "m",
        "u",
        "weight",
        "term_frequency_adjusted",
    ]
    with transaction(con):
        con.execute(MATCH_PARAMETERS_DDL)
        con.register("parameters_to_store", frame[columns])
        con.execute("INSERT INTO match_parameters SELECT * FROM parameters_to_store")
        con.unregister("parameters_to_store")


def run_match(con: duckdb.DuckDBPyConnection) -> MatchSummary:
    """Rebuild staged tables and matches from raw, and publish ``verifications`` atomically."""
    people = reference_people(con)
    if people.empty:
        raise CredcheckError("no NPPES reference loaded: run `credcheck load nppes FILE` first")
    listings = staged_listings(con)
    if listings.empty:
        raise CredcheckError("no crawled listings: run `credcheck crawl` first")

    run_id = new_id("match")
    learned: dict[str, pd.DataFrame] = {}
    certificates = board_people(con)
    if not certificates.empty:
        certificates["matched_npi"] = _link_to_people(certificates, people, learned, "certificates")
        extra = certificates.dropna(subset=["matched_npi"]).groupby("matched_npi")["specialties"]
        extra_specialties = extra.agg(lambda lists: [s for lst in lists for s in lst]).to_dict()
        people["specialties"] = [
            list(dict.fromkeys([*specs, *extra_specialties.get(npi, [])]))
            for npi, specs in zip(people["npi"], people["specialties"])
        ]
    exclusions = exclusion_people(con)
    if not exclusions.empty:
        exclusions["matched_npi"] = _link_to_people(exclusions, people, learned, "exclusions")

    # An NPI shown on a page is evidence, not truth: it is compared like any other field.
    decisions, details = link(listings, people)
    learned["listings"] = details.parameters.as_frame()
    decisions = decisions.rename(columns={"rec_id": "listing_id"})

    certs_by_npi: dict[str, list[tuple[str, str, str | None]]] = {}
    if not certificates.empty:
        for npi, cert, status, board in certificates.dropna(subset=["matched_npi"])[
            ["matched_npi", "certificate", "status", "board"]
        ].itertuples(index=False):
            certs_by_npi.setdefault(npi, []).append((cert, status, board))
    physicians = dict(zip(people["npi"], people["physician"]))
    decisions["certification"] = [
        classify_certification(
            identity, claimed, certs_by_npi.get(npi, []), physicians.get(npi, True)
        )
        for identity, claimed, npi in zip(
            decisions["identity"], listings["claimed_canonical"], decisions["npi"]
        )
    ]
    decisions["comparisons"] = [
        json.dumps({"run_id": run_id, **c}, default=float) if c is not None else None
        for c in decisions["comparisons"]
    ]
    store_parameters(con, run_id, learned)
    _publish(con, listings, people, certificates, exclusions, decisions)
    counts = decisions["identity"].value_counts()
    return MatchSummary(
        listings=len(decisions),
        matched=int(counts.get("matched", 0)),
        ambiguous=int(counts.get("ambiguous", 0)),
        unmatched=int(counts.get("unmatched", 0)),
        certificates_linked=int(certificates["matched_npi"].notna().sum())
        if not certificates.empty
        else 0,
        certificates_total=len(certificates),
        exclusions_linked=int(exclusions["matched_npi"].notna().sum())
        if not exclusions.empty
        else 0,
    )


LISTING_COLUMNS = [
    "listing_id",
    "site_id",
    "source_url",
    "listed_name",
    "claimed_specialties",
    "claimed_canonical",
    "first",
    "middle",
    "last",
    "suffix",
    "credentials",
    "states",
    "cities",
    "specialties",
    "npi",
    "physician",
    "affiliations",
    "crawled_at",
]
PEOPLE_COLUMNS = [
    "npi",
    "first",
    "middle",
    "last",
    "suffix",
    "credentials",
    "alt_lasts",
    "states",
    "cities",
    "specialties",
    "physician",
    "practice_city",
    "practice_state",
    "gender",
    "medical_school",
]
CERTIFICATE_COLUMNS = [
    "line_number",
    "matched_npi",
    "first",
    "middle",
    "last",
    "board",
    "certificate",
    "certificate_type",
    "status",
    "expiration_date",
    "city",
    "state",
]
EXCLUSION_COLUMNS = [
    "matched_npi",
    "first",
    "middle",
    "last",
    "city",
    "state",
    "exclusion_type",
    "exclusion_date",
    "reinstatement_date",
]

VERIFICATIONS_VIEW = """
CREATE OR REPLACE VIEW verifications AS
SELECT l.listing_id,
       l.site_id,
       l.source_url,
       l.listed_name,
       CAST(l.claimed_specialties AS VARCHAR[]) AS claimed_specialties,
       m.npi,
       m.identity,
       CAST(m.match_score AS DOUBLE) AS match_score,
       m.certification,
       coalesce(c.certificates, []) AS certificates,
       coalesce(x.excluded, false) AS excluded,
       CAST(l.crawled_at AS TIMESTAMP) AS crawled_at
FROM listings l
JOIN listing_matches m USING (listing_id)
LEFT JOIN (
    SELECT matched_npi AS npi,
           list({'board': board, 'certificate': certificate, 'status': status,
                 'expiration': expiration_date} ORDER BY certificate_type, certificate)
               AS certificates
    FROM certificates WHERE matched_npi IS NOT NULL GROUP BY matched_npi
) c ON c.npi = m.npi
LEFT JOIN (
    SELECT matched_npi AS npi, bool_or(reinstatement_date IS NULL) AS excluded
    FROM exclusions WHERE matched_npi IS NOT NULL GROUP BY matched_npi
) x ON x.npi = m.npi
"""


def _publish(con, listings, people, certificates, exclusions, decisions) -> None:
    frames = {
        "listings": listings[LISTING_COLUMNS],
        "reference_people": people[PEOPLE_COLUMNS],
        "certificates": certificates.reindex(columns=CERTIFICATE_COLUMNS),
        "exclusions": exclusions.reindex(columns=EXCLUSION_COLUMNS),
        "listing_matches": decisions[
            [
                "listing_id",
                "npi",
                "identity",
                "match_score",
                "certification",
                "candidate_npi",
                "runner_up_npi",
                "runner_up_score",
                "comparisons",
            ]
        ],
    }
    with transaction(con):
        for table, frame in frames.items():
            con.register("frame_to_publish", frame)
            con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM frame_to_publish")
            con.unregister("frame_to_publish")
        con.execute(VERIFICATIONS_VIEW)
