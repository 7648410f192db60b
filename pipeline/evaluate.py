"""Score published identities and certifications against a ground-truth file.

The truth file (written by the demo world generator) has one row per listing:
``site_id,listing_ref,path,npi,is_physician,expected_certification``. Listings are joined by
site and URL path, so the score does not depend on which port a fixture site was served on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import pandas as pd


@dataclass(frozen=True)
class IdentityScore:
    truth_listings: int
    crawled: int
    predicted_matches: int
    true_matches: int
    correct_matches: int
    certification_agreement: float

    @property
    def precision(self) -> float:
        return self.correct_matches / self.predicted_matches if self.predicted_matches else 0.0

    @property
    def recall(self) -> float:
        return self.correct_matches / self.true_matches if self.true_matches else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __str__(self) -> str:
        return (
            f"identity precision={self.precision:.4f} recall={self.recall:.4f} f1={self.f1:.4f} "
            f"(matched {self.predicted_matches}, correct {self.correct_matches}, "
            f"true {self.true_matches}); crawled {self.crawled}/{self.truth_listings} listings; "
            f"certification agreement={self.certification_agreement:.4f}"
        )


def score_identities(con: duckdb.DuckDBPyConnection, truth_csv: Path) -> IdentityScore:
    truth = pd.read_csv(truth_csv, dtype=str, keep_default_na=False)
    published = con.execute(
        "SELECT site_id, source_url, npi, identity, certification FROM verifications"
    ).df()
    published["path"] = [urlsplit(u).path for u in published["source_url"]]
    joined = truth.merge(published, on=["site_id", "path"], how="left", suffixes=("_true", ""))
    predicted = joined["identity"] == "matched"
    has_truth = joined["npi_true"] != ""
    correct = predicted & (joined["npi"] == joined["npi_true"])
    crawled = joined["identity"].notna()
    agreement = (
        (
            joined.loc[crawled, "certification"] == joined.loc[crawled, "expected_certification"]
        ).mean()
        if crawled.any()
        else 0.0
    )
    return IdentityScore(
        truth_listings=len(truth),
        crawled=int(crawled.sum()),
        predicted_matches=int(predicted.sum()),
        true_matches=int(has_truth.sum()),
        correct_matches=int(correct.sum()),
        certification_agreement=float(agreement),
    )
