"""What the records confirm about a listing: its ``verifications.certification`` value.

The ``verifications`` view (the README contract) joins each staged listing with its match
decision, the matched person's certificates and exclusions.
"""

from __future__ import annotations

from pipeline.db.schema import CERTIFICATION_VALUES
from pipeline.normalize.specialties import canonical_specialty, claims_match

__all__ = [
    "CERTIFICATION_VALUES",
    "VERIFICATIONS_VIEW",
    "certification_reason",
    "classify_certification",
]

ACTIVE = "active"
LAPSED_STATUSES = {"expired", "lapsed", "inactive"}


def classify_certification(
    identity: str,
    claimed: list[str],
    certificates: list[tuple[str, str, str | None]],
    physician: bool = True,
    boards_loaded: bool = True,
) -> str:
    """The ``verifications.certification`` value of one listing.

    ``claimed`` are canonical specialties; ``certificates`` are (certificate, status, board) of the
    matched person. A subspecialty certificate counts for its parent specialty under the board
    that issued it (``claims_match``): Hospice and Palliative Medicine from the internal medicine
    board supports a claim of Internal Medicine, not of Obstetrics and Gynecology.
    Board certification does not apply to a matched non-physician (nurse practitioner, physician
    assistant): that is ``unknown``, not ``not_certified``. Without board records loaded nothing
    can be said about certification either: ``unknown`` (``certification_reason`` says why).

    >>> certs = [("Cardiovascular Disease", "active", "American Board of Internal Medicine")]
    >>> classify_certification("matched", ["Internal Medicine"], certs)
    'certified'
    """
    if certification_reason(identity, physician, boards_loaded) is not None:
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


def certification_reason(identity: str, physician: bool, boards_loaded: bool) -> str | None:
    """Why a listing's certification is ``unknown`` (None when it is not).

    >>> certification_reason("matched", True, boards_loaded=False)
    'no board-certification records loaded (credcheck load boards FILE)'
    """
    if identity != "matched":
        return f"identity {identity}: no one person to check"
    if not physician:
        return "matched to a non-physician (NP, PA, ...): board certification does not apply"
    if not boards_loaded:
        return "no board-certification records loaded (credcheck load boards FILE)"
    return None


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
       CAST(l.crawled_at AS TIMESTAMP) AS crawled_at,
       CAST(m.evidence AS VARCHAR[]) AS evidence,
       m.npi_deactivated
FROM listings l
JOIN listing_matches m USING (listing_id)
LEFT JOIN (
    SELECT person_id,
           list({'board': board, 'certificate': certificate, 'status': status,
                 'expiration': expiration_date} ORDER BY certificate_type, certificate)
               AS certificates
    FROM certificates WHERE person_id IS NOT NULL GROUP BY person_id
) c ON c.person_id = m.person_id
LEFT JOIN (
    SELECT person_id, bool_or(reinstatement_date IS NULL) AS excluded
    FROM exclusions WHERE person_id IS NOT NULL GROUP BY person_id
) x ON x.person_id = m.person_id
"""


