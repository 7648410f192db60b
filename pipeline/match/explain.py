"""Why did a listing match (or not)? Reads one ``listing_matches`` row and says so.

Every decision stores its best candidate's per-comparison levels and weights, the runner-up's,
the prior and the thresholds (``listing_matches.comparisons``, JSON). The match weight is the
prior plus the sum of the comparison weights (bits); its calibrated probability and the decision
come from ``pipeline.match.decide``, the rule linking used, with the stored thresholds. In SQL:

    SELECT c.key AS comparison, c.value->>'level' AS level,
           CAST(c.value->>'weight' AS DOUBLE) AS weight
    FROM listing_matches, json_each(comparisons->'comparisons') c
    WHERE listing_id = 'mercy-general:10482';
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import duckdb
import pandas as pd

from pipeline.config import CredcheckError
from pipeline.match.decide import Thresholds, identity, weight_for

_ROW = """
SELECT l.listing_id, l.listed_name, l.source_url, m.identity, m.match_score, m.candidate_npi,
       m.runner_up_npi, m.runner_up_score, m.comparisons, m.certification,
       m.certification_reason, m.evidence, m.npi_deactivated, m.person_id
FROM listings l JOIN listing_matches m USING (listing_id)
WHERE l.listing_id = ?
"""


def _thresholds(details: dict) -> Thresholds:
    """The thresholds a stored decision was made with (one stored without calibration had none)."""
    return Thresholds.stored({"calibration_slope": 1.0, "calibration_shift_bits": 0.0,
                              **details["thresholds"]})  # fmt: skip


def what_would_change(details: dict) -> list[str]:
    """Counterfactuals: single pieces of evidence whose absence or presence flips the decision."""
    t = _thresholds(details)
    weight = details["match_weight"]
    runner = details["runner_up"]["match_weight"] if details.get("runner_up") else None
    others = details.get("other_candidates_bits")
    decisive = details.get("npi_decisive", False)
    now = identity(weight, runner, decisive, t, others)
    lines = []
    for name, part in details["comparisons"].items():
        w = part["weight"]
        if w == 0:
            continue
        still_decisive = decisive and name != "npi"
        flipped = identity(weight - w, runner, still_decisive, t, others)
        if flipped != now:
            lines.append(
                f"without the {name} evidence ({part['level']}, {w:+.1f} bits) "
                f"it would be {flipped}"
            )
    if now != "matched":
        need = weight_for(t.match_probability, t, runner, others) - weight
        missing = [n for n, p in details["comparisons"].items() if p["level"] == "missing"]
        hint = f"; not compared (missing on one side): {', '.join(missing)}" if missing else ""
        lines.append(f"it would match with {max(need, 0):.1f} more bits of evidence{hint}")
    if not lines:
        lines.append("no single comparison would change it")
    return lines


def explanation_frame(details: dict) -> pd.DataFrame:
    """One row per comparison: the best candidate's level and weight, and the runner-up's."""
    runner = (details.get("runner_up") or {}).get("comparisons") or {}
    rows = [
        {
            "comparison": "prior (any two records)",
            "best": "",
            "weight": details["prior"],
            "runner_up": "",
            "runner_up_weight": details["prior"] if runner else math.nan,
        }
    ]
    for name, part in details["comparisons"].items():
        other = runner.get(name, {})
        rows.append(
            {
                "comparison": name,
                "best": part["level"],
                "weight": part["weight"],
                "runner_up": other.get("level", ""),
                "runner_up_weight": other.get("weight", math.nan),
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Explanation:
    """One listing's decision in words: what was decided, the comparisons, what would change it.

    ``summary`` is the listing and the decision in sentences; ``comparisons`` has one row per
    comparison (``explanation_frame``; None when no candidate was compared); ``would_change``
    lists the counterfactuals.
    """

    listing_id: str
    listed_name: str
    source_url: str
    summary: list[str]
    comparisons: pd.DataFrame | None
    would_change: list[str]

    def text(self) -> str:
        out = [f"listing {self.listing_id}: {self.listed_name}", f"  {self.source_url}"]
        out.extend(self.summary)
        if self.comparisons is not None:
            out += ["", self.comparisons.to_string(index=False, na_rep=""), ""]
            out.append("what would change the decision:")
            out.extend(f"  - {line}" for line in self.would_change)
        return "\n".join(out)


# The listing and decision columns an explanation reads (``_ROW`` selects them in this order).
DECISION_COLUMNS = (
    "listing_id",
    "listed_name",
    "source_url",
    "identity",
    "match_score",
    "candidate_npi",
    "runner_up_npi",
    "runner_up_score",
    "comparisons",
    "certification",
    "certification_reason",
    "evidence",
    "npi_deactivated",
    "person_id",
)


def reference_label(
    first: str | None, middle: str | None, last: str | None, city: str | None, state: str | None
) -> str:
    """How an explanation names a candidate: " (NAME, CITY ST)" from the NPPES record."""
    name = " ".join(part for part in (first, middle, last) if part)
    return f" ({name}, {city or '?'} {state or ''})".rstrip()


def reference_names(con: duckdb.DuckDBPyConnection, npis: list[str | None]) -> dict[str, str]:
    """``reference_label`` of each NPI found among the NPPES people."""
    wanted = sorted({npi for npi in npis if npi})
    if not wanted:
        return {}
    rows = con.execute(
        "SELECT npi, first, middle, last, practice_city, practice_state "
        f"FROM reference_people WHERE npi IN ({', '.join('?' * len(wanted))})",
        wanted,
    ).fetchall()
    return {npi: reference_label(*rest) for npi, *rest in rows}


def explanation(con: duckdb.DuckDBPyConnection, listing_id: str) -> Explanation:
    """The account of one listing's decision, in parts (``explain`` prints it as text).

    Raises ``CredcheckError`` when the listing is unknown or nothing is published yet.
    """
    try:
        row = con.execute(_ROW, [listing_id]).fetchone()
    except duckdb.CatalogException as exc:
        raise CredcheckError("no published matches yet: run `credcheck match`") from exc
    if row is None:
        raise CredcheckError(f"no listing {listing_id!r} (ids look like 'site_id:ref')")
    decision = dict(zip(DECISION_COLUMNS, row))
    names = reference_names(con, [decision["candidate_npi"], decision["runner_up_npi"]])
    return explanation_of(decision, names)


def explanation_of(decision: dict, names: dict[str, str]) -> Explanation:
    """The explanation of one decision row (``DECISION_COLUMNS``), candidates named by ``names``
    (``reference_names``): for callers that already read the rows of many listings."""
    lid, name, url = decision["listing_id"], decision["listed_name"], decision["source_url"]
    verdict = _verdict(decision)
    if not decision["comparisons"]:
        return Explanation(
            lid,
            name,
            url,
            ["unmatched: no reference person shares a blocking key with this listing", *verdict],
            None,
            [],
        )
    details = json.loads(decision["comparisons"])
    candidate, runner_npi = decision["candidate_npi"], decision["runner_up_npi"]
    out = [
        f"decision: {decision['identity']}; best candidate NPI {candidate}"
        f"{names.get(candidate, '')}: probability {decision['match_score']:.4f}, "
        f"weight {details['match_weight']:+.1f} bits"
        + (" (an NPI shown on the page decides it)" if details.get("npi_decisive") else "")
    ]
    if details.get("runner_up"):
        margin = details["match_weight"] - details["runner_up"]["match_weight"]
        out.append(
            f"runner-up: NPI {runner_npi}{names.get(runner_npi, '')}: probability "
            f"{decision['runner_up_score']:.4f}, weight "
            f"{details['runner_up']['match_weight']:+.1f} bits; margin {margin:.1f} bits"
        )
    else:
        out.append("runner-up: none (no other candidate shares a blocking key)")
    t = _thresholds(details)
    out.append(
        "rule: matched when the best candidate's probability (its odds against every "
        f"candidate's and none) is >= {t.match_probability}, or a valid NPI on the page agrees "
        "and neither name disagrees; ambiguous when two candidates are credible "
        f"(runner-up >= {t.credible_probability}, the two >= {t.ambiguous_probability})"
    )
    out += verdict
    return Explanation(lid, name, url, out, explanation_frame(details), what_would_change(details))


def _verdict(decision: dict) -> list[str]:
    """The certification verdict and why it is unknown; who matched and on what evidence."""
    out = []
    if decision.get("certification"):
        reason = decision.get("certification_reason")
        because = f" ({reason})" if reason else ""
        out.append(f"certification: {decision['certification']}{because}")
    deactivated = decision.get("npi_deactivated")
    if decision.get("identity") == "matched" and decision.get("person_id"):
        evidence = ", ".join(decision.get("evidence") or []) or "none"
        out.append(
            f"matched person: {decision['person_id']}; evidence: {evidence}"
            + ("; its NPI is deactivated in NPPES" if deactivated else "")
        )
    elif deactivated:
        out.append("the NPI shown on the page is deactivated in NPPES")
    return out


def explain(con: duckdb.DuckDBPyConnection, listing_id: str) -> str:
    """A readable account of one listing's decision.

    Raises ``CredcheckError`` when the listing is unknown or nothing is published yet.
    """
    return explanation(con, listing_id).text()
