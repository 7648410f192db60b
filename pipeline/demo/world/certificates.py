"""Board certificates: who holds which, in what status, and the verdict a perfect pipeline
reaches (the rules of truth.csv)."""

from __future__ import annotations

import random
from datetime import date, timedelta

from pipeline.demo.world.catalogue import AOA_BOARD_NAMES, AS_OF, LAPSED_STATUSES, Specialty
from pipeline.demo.world.model import Certificate, Person, add_years, random_date, weighted_choice

# --------------------------------------------------------------------------------------------
# Board certificates
# --------------------------------------------------------------------------------------------

STATUS_WEIGHTS = (
    ("active", 0.85),
    ("expired", 0.07),
    ("lapsed", 0.04),
    ("inactive", 0.02),
    ("suspended", 0.01),
    ("revoked", 0.01),
)
NO_BOARD_RECORD_RATE = 0.10


def certificate_dates(rng: random.Random, status: str, initial: date) -> tuple[date | None, str]:
    """Expiration date and MOC flag consistent with the status as of AS_OF."""
    if status == "active":
        if initial.year < 1990:  # time-unlimited certificates from before recertification
            return None, "not_required"
        if rng.random() < 0.3:  # continuous certification: no printed end date
            return None, "yes"
        expiration = initial
        while expiration <= AS_OF:
            expiration = add_years(expiration, 10)
        return expiration, "yes" if rng.random() < 0.9 else ""
    if status in ("expired", "lapsed"):
        start = max(add_years(initial, 1), AS_OF - timedelta(days=8 * 365))
        return random_date(rng, start, AS_OF - timedelta(days=1)), "no"
    if status == "inactive":
        if rng.random() < 0.5:
            return None, ""
        return random_date(rng, add_years(initial, 1), AS_OF - timedelta(days=1)), "no"
    # suspended / revoked: the printed end date is whatever it was
    return (add_years(initial, 10) if rng.random() < 0.5 else None), ""


def make_certificate(
    rng: random.Random, person: Person, spec: Specialty, initial: date, status: str, use_aoa: bool
) -> Certificate:
    if use_aoa and spec.aoa:
        board, certificate = AOA_BOARD_NAMES[spec.aoa[0]], spec.aoa[1]
    else:
        board, certificate = spec.board, spec.name
    expiration, moc = certificate_dates(rng, status, initial)
    kind = "subspecialty" if spec.parent else "specialty"
    return Certificate(spec, board, certificate, kind, status, initial, expiration, moc)


def assign_certificates(rng: random.Random, person: Person) -> list[Certificate]:
    """Primary certificate, often a subspecialty one; ~10% of physicians hold none."""
    assert person.specialty is not None
    if rng.random() < NO_BOARD_RECORD_RATE:
        return []
    spec = person.specialty
    year = person.grad_year + spec.training_years + rng.choice((0, 0, 1))
    initial = date(year, rng.randrange(6, 12), rng.randrange(1, 29))
    if initial > AS_OF - timedelta(days=30):  # board eligible, not yet certified
        return []
    use_aoa = person.degree == "DO" and spec.aoa is not None and rng.random() < 0.5
    primary = make_certificate(
        rng, person, spec, initial, weighted_choice(rng, STATUS_WEIGHTS), use_aoa
    )
    certs = [primary]
    sub = person.subspecialty
    if sub and rng.random() < 0.8 and (not use_aoa or sub.aoa):
        sub_initial = add_years(initial, rng.choice((2, 3, 3)))
        if sub_initial < AS_OF:
            sub_cert = make_certificate(
                rng, person, sub, sub_initial, weighted_choice(rng, STATUS_WEIGHTS), use_aoa
            )
            certs.append(sub_cert)
            # Many subspecialists let the parent certificate lapse and keep only the sub.
            if sub_cert.status == "active" and primary.status == "active" and rng.random() < 0.3:
                primary.status = "expired"
                primary.expiration, primary.moc = certificate_dates(rng, "expired", initial)
    return certs


def expected_certification(person: Person, claims: frozenset[str]) -> str:
    """The verdict a perfect pipeline reaches for one listing (the rules of truth.csv)."""
    if not person.is_physician or not person.has_nppes:
        return "unknown"
    active = [c for c in person.certs if c.status == "active"]
    if any(c.satisfies(claims) for c in active):
        return "certified"
    if active:
        return "certified_other_specialty"
    if any(c.status in LAPSED_STATUSES and c.satisfies(claims) for c in person.certs):
        return "lapsed"
    return "not_certified"
