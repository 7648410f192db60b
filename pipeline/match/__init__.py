"""Record linkage: blocking, comparisons declared as data, a Fellegi-Sunter model, one decision.

Both sides are *person frames* (``PERSON_COLUMNS``, optionally ``OPTIONAL_COLUMNS``). The same
engine links directory listings, board certificates without an NPI and LEIE exclusions to NPPES
people. One module per verb:

- ``people``: encode frames as integer-coded numpy arrays (derivations once per distinct value);
- ``blocking``: compound keys joined in DuckDB -> candidate pairs, with a recall report;
- ``comparisons``: each comparison's levels (label, m, u, threshold) and its level function;
- ``model``: u from random pairs, m by EM on the blocked pairs, term-frequency adjustment; a
  fitted model saved and loaded as JSON;
- ``decide``: the decision rule (thresholds, calibration) — linking and ``explain`` share it;
- ``link``: the path from two frames to one decision per left record;
- ``explain``, ``evaluate``: why a listing matched; scores against a ground truth.
"""

from pipeline.match.blocking import KEY_KINDS, MAX_BLOCK_SIZE
from pipeline.match.comparisons import COMPARISONS
from pipeline.match.link import LinkDetails, link
from pipeline.match.model import Parameters
from pipeline.match.people import OPTIONAL_COLUMNS, PERSON_COLUMNS, as_text, as_texts

__all__ = [
    "COMPARISONS",
    "KEY_KINDS",
    "MAX_BLOCK_SIZE",
    "OPTIONAL_COLUMNS",
    "PERSON_COLUMNS",
    "LinkDetails",
    "Parameters",
    "as_text",
    "as_texts",
    "link",
]
