"""The match step: assemble reference people from whatever sources are loaded, link listings to
them, classify each listing's certification, and replace the staged tables and the
``verifications`` view.

Reference people come from any subset of the sources — NPPES, Doctors & Clinicians, board
certificates, LEIE exclusions. Rows that carry an NPI are merged by it; board and LEIE rows
without one are tied to a known person by the matcher, and those the matcher cannot tie to
anyone become people of their own (rows naming the same person at the same place together).
Every person lists the ``sources`` that describe it: a listing's ``evidence``.

Order matters: board certificates and LEIE exclusions are tied to people first, so listings are
matched to people whose specialties now include their board certificates.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import duckdb
import pandas as pd

from pipeline.config import CredcheckError
from pipeline.db import schema
from pipeline.db.schema import STAGED, create_tables
from pipeline.db.store import insert_frame, new_id, transaction
from pipeline.match import link
from pipeline.normalize.names import name_key
from pipeline.stage import (
    REFERENCE_PERSON_COLUMNS,
    SOURCES,
    board_people,
    deactivated_npis,
    exclusion_people,
    loaded_sources,
    reference_people,
    staged_listings,
)
from pipeline.verify import VERIFICATIONS_VIEW, certification_reason, classify_certification


@dataclass(frozen=True)
class MatchSummary:
    listings: int
    matched: int
    ambiguous: int
    unmatched: int
    certificates_linked: int
    certificates_total: int
    exclusions_linked: int
    sources: tuple[str, ...] = ()
    people: int = 0


def _link_to_people(
    records: pd.DataFrame,
    people: pd.DataFrame,
    others: pd.DataFrame,
    learned: dict[str, pd.DataFrame],
    name: str,
) -> tuple[pd.Series, pd.Series]:
    """(person_id, identity) of each record: by its own NPI when a person has it, else by the
    matcher against ``others`` (the other sources' people; ``identity`` is the matcher's
    decision, or ``npi`` for a tie by NPI)."""
    by_npi = dict(zip(people["npi"].dropna(), people.loc[people["npi"].notna(), "person_id"]))
    direct = records["npi"].map(by_npi)
    identity = pd.Series("npi", index=records.index, dtype=object).where(direct.notna())
    needs_match = records[direct.isna()]
    if needs_match.empty or others.empty:
        return direct, identity.fillna("unmatched")
    decisions, details = link(needs_match.assign(npi=None), others)
    learned[name] = details.parameters.as_frame()
    matched = decisions["identity"].to_numpy() == "matched"
    person_ids = others["person_id"].to_numpy(dtype=object)
    best = decisions["best_r"].to_numpy()
    linked = [person_ids[b] if ok else None for b, ok in zip(best.tolist(), matched.tolist())]
    direct = direct.fillna(pd.Series(linked, index=needs_match.index, dtype=object))
    identity = identity.fillna(pd.Series(decisions["identity"].to_numpy(), index=needs_match.index))
    return direct, identity


def _group_key(row) -> str:
    """Rows naming the same person at the same place: name keys, middle initial, state."""
    middle = name_key(row.middle)[:1] if isinstance(row.middle, str) else ""
    parts = [name_key(row.first), middle, name_key(row.last), *sorted(row.states)]
    return "|".join(parts)


def _people_from_rows(records: pd.DataFrame, source: str, keys: pd.Series) -> pd.DataFrame:
    """One new person per group of ``records`` (same ``keys``), identified by its content."""
    rows = []
    for key, group in records.groupby(keys, sort=True):
        first = group.iloc[0]
        npi = first["npi"] if isinstance(first["npi"], str) else None
        person_id = npi or f"{source}:{hashlib.sha1(key.encode()).hexdigest()[:12]}"
        rows.append(
            {
                "rec_id": person_id,
                "person_id": person_id,
                "npi": npi,
                "sources": [source],
                "first": first["first"],
                "middle": first["middle"] if isinstance(first["middle"], str) else None,
                "last": first["last"],
                "suffix": first["suffix"] if isinstance(first.get("suffix"), str) else None,
                "credentials": [],
                "alt_lasts": [],
                "states": _union(group["states"]),
                "cities": _union(group["cities"]),
                "specialties": _union(group["specialties"]),
                "physician": _physician(group["physician"]),
                "zips": [],
                "affiliations": [],
                "schools": [],
                "grad_years": [],
                "practice_city": first["city"] if isinstance(first["city"], str) else None,
                "practice_state": first["state"] if isinstance(first["state"], str) else None,
                "gender": None,
                "medical_school": None,
            }
        )
    return pd.DataFrame(rows, columns=REFERENCE_PERSON_COLUMNS)


def _physician(flags: pd.Series) -> bool | None:
    """A group's rows say physician (any of them), not one (one says so, none says physician),
    or nothing."""
    said = [bool(f) for f in flags if not pd.isna(f)]
    return any(said) if said else None


def _union(lists) -> list:
    return list(dict.fromkeys(v for values in lists for v in values))


def _add_records(
    people: pd.DataFrame,
    records: pd.DataFrame,
    source: str,
    learned: dict[str, pd.DataFrame],
    link_name: str,
) -> pd.DataFrame:
    """Tie ``records`` (board or LEIE rows) to people; rows nobody is known by become people.

    Rows of one source that name the same person at the same place are one person (a board
    file has a row per certificate): a row without an NPI takes the NPI of its group's rows.
    Rows with an NPI no person has yet become people keyed by it. Rows still without one are
    linked by the matcher to the people of the *other* sources, and those it finds no one for
    (``unmatched``: not merely ambiguous between two people) become people of their own.
    """
    keys = pd.Series([_group_key(r) for r in records.itertuples()], index=records.index)
    npis_of_key = records.dropna(subset=["npi"]).groupby(keys)["npi"].agg(set)
    one_npi = {k: next(iter(v)) for k, v in npis_of_key.items() if len(v) == 1}
    records["npi"] = records["npi"].fillna(keys.map(one_npi))
    others = people
    known = set(people["npi"].dropna())
    with_new_npi = records[records["npi"].notna() & ~records["npi"].isin(known)]
    if not with_new_npi.empty:
        people = pd.concat(
            [people, _people_from_rows(with_new_npi, source, with_new_npi["npi"])],
            ignore_index=True,
        )
    records["person_id"], identity = _link_to_people(records, people, others, learned, link_name)
    alone = records[records["person_id"].isna() & (identity == "unmatched")]
    if not alone.empty:
        new = _people_from_rows(alone, source, keys[alone.index])
        id_of = dict(zip(sorted(set(keys[alone.index])), new["person_id"]))
        records.loc[alone.index, "person_id"] = keys[alone.index].map(id_of)
        people = pd.concat([people, new], ignore_index=True)
    # The person gains the source, and (boards) the certificate's specialty.
    linked = records.dropna(subset=["person_id"]).groupby("person_id")["specialties"]
    extra = linked.agg(lambda lists: [s for lst in lists for s in lst]).to_dict()
    people["sources"] = [
        sorted(set(srcs) | ({source} if pid in extra else set()), key=SOURCES.index)
        for pid, srcs in zip(people["person_id"], people["sources"])
    ]
    people["specialties"] = [
        list(dict.fromkeys([*specs, *extra.get(pid, [])]))
        for pid, specs in zip(people["person_id"], people["specialties"])
    ]
    return people


def assemble_people(
    con: duckdb.DuckDBPyConnection, learned: dict[str, pd.DataFrame]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(people, certificates, exclusions) from whatever reference sources are loaded."""
    people = reference_people(con)
    certificates = board_people(con)
    if not certificates.empty:
        people = _add_records(people, certificates, "boards", learned, "certificates")
    exclusions = exclusion_people(con)
    if not exclusions.empty:
        people = _add_records(people, exclusions, "leie", learned, "exclusions")
    deactivated = deactivated_npis(con)
    people["npi_deactivated"] = people["npi"].isin(deactivated)
    people = people.reset_index(drop=True)
    for frame in (certificates, exclusions):
        if not frame.empty:  # the NPI of the person each row is tied to
            npi_of = dict(zip(people["person_id"], people["npi"]))
            frame["matched_npi"] = frame["person_id"].map(npi_of)
    return people, certificates, exclusions


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
    sources = loaded_sources(con)
    if not sources:
        raise CredcheckError(
            "no reference records loaded: load at least one of boards, nppes, dac, leie "
            "(`credcheck load KIND FILE`)"
        )
    listings = staged_listings(con)
    if listings.empty:
        raise CredcheckError("no crawled listings: run `credcheck crawl` first")

    run_id = new_id("match")
    learned: dict[str, pd.DataFrame] = {}
    people, certificates, exclusions = assemble_people(con, learned)
    if people.empty:
        raise CredcheckError(
            f"the loaded references ({', '.join(sources)}) name no individual person to match"
        )

    # An NPI shown on a page is evidence, not truth: it is compared like any other field.
    decisions, details = link(listings, people)
    learned["listings"] = details.parameters.as_frame()
    decisions = decisions.rename(columns={"rec_id": "listing_id"})
    matched = (decisions["identity"] == "matched").to_numpy()
    best = decisions["best_r"].to_numpy()
    person = people.iloc[[b if ok else 0 for b, ok in zip(best.tolist(), matched.tolist())]]
    decisions["person_id"] = [
        pid if ok else None for pid, ok in zip(person["person_id"], matched.tolist())
    ]
    decisions["evidence"] = [
        list(srcs) if ok else [] for srcs, ok in zip(person["sources"], matched.tolist())
    ]
    deactivated = set(people.loc[people["npi_deactivated"], "npi"]) | deactivated_npis(con)
    decisions["npi_deactivated"] = [
        bool(ok and npi in deactivated) or shown in deactivated
        for npi, ok, shown in zip(person["npi"], matched.tolist(), listings["npi"])
    ]

    certs_by_person: dict[str, list[tuple[str, str, str | None]]] = {}
    if not certificates.empty:
        for pid, cert, status, board in certificates.dropna(subset=["person_id"])[
            ["person_id", "certificate", "status", "board"]
        ].itertuples(index=False):
            certs_by_person.setdefault(pid, []).append((cert, status, board))
    boards_loaded = "boards" in sources
    physicians = dict(zip(people["person_id"], people["physician"]))
    verdicts = []
    reasons = []
    for identity, claimed, pid in zip(
        decisions["identity"], listings["claimed_canonical"], decisions["person_id"]
    ):
        physician = physicians.get(pid, True)
        physician = True if physician is None or physician != physician else bool(physician)
        verdicts.append(
            classify_certification(
                identity, claimed, certs_by_person.get(pid, []), physician, boards_loaded
            )
        )
        reasons.append(certification_reason(identity, physician, boards_loaded))
    decisions["certification"] = verdicts
    decisions["certification_reason"] = reasons
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
        certificates_linked=int(certificates["person_id"].notna().sum())
        if not certificates.empty
        else 0,
        certificates_total=len(certificates),
        exclusions_linked=int(exclusions["person_id"].notna().sum())
        if not exclusions.empty
        else 0,
        sources=tuple(sources),
        people=len(people),
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
