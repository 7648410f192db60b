"""The match step: link every staged source to NPPES people, classify each listing's
certification, and replace the staged tables and the ``verifications`` view.

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
from pipeline.db import schema
from pipeline.db.schema import STAGED, create_tables
from pipeline.db.store import insert_frame, new_id, transaction
from pipeline.match import link
from pipeline.stage import board_people, exclusion_people, reference_people, staged_listings
from pipeline.verify import VERIFICATIONS_VIEW, classify_certification


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
    with transaction(con):
        create_tables(con, (STAGED,))
        insert_frame(con, "match_parameters", frame)


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
    # The matcher explains each decision as a JSON object (text); the run id goes first.
    run = '{"run_id": ' + json.dumps(run_id) + ", "
    decisions["comparisons"] = [
        run + c[1:] if isinstance(c, str) else None for c in decisions["comparisons"]
    ]
    store_parameters(con, run_id, learned)
    _write_staged(con, listings, people, certificates, exclusions, decisions)
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


def _write_staged(con, listings, people, certificates, exclusions, decisions) -> None:
    """Replace the staged tables (typed as ``pipeline.db.schema`` declares) and the view."""
    frames = {
        "listings": listings,
        "reference_people": people,
        "certificates": certificates,
        "exclusions": exclusions,
        "listing_matches": decisions,
    }
    with transaction(con):
        for table, frame in frames.items():
            con.execute(f"DROP TABLE IF EXISTS {table}")
            con.execute(schema.TABLES[table].ddl())
            insert_frame(con, table, frame)
        con.execute(VERIFICATIONS_VIEW)
