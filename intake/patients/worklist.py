"""The staff worklist: which lane each open course is in, pure.

Lanes follow the journey (``intake.patients.journey``) but answer the staff's
question, "what is waiting for us?". A course is in exactly one lane; the
lanes are listed in the order the work happens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from intake.core.text import N_
from intake.patients import journey as pure_journey

ANSWERING = "answering"
REVIEW = "review"
PANEL = "panel"
PANEL_EXPIRING = "panel_expiring"
CONSENT = "consent"
READY = "ready"
BOOKED = "booked"
HALTED = "halted"

LANES = (REVIEW, PANEL, PANEL_EXPIRING, CONSENT, READY, BOOKED, ANSWERING, HALTED)

LANE_TITLES = {
    ANSWERING: N_("Answering the questions"),
    REVIEW: N_("Answers waiting for a doctor's review"),
    PANEL: N_("Panel incomplete or waiting for a doctor's assessment"),
    PANEL_EXPIRING: N_("Panel expires before the booked visit"),
    CONSENT: N_("Consent to sign"),
    READY: N_("Ready to book the collection"),
    BOOKED: N_("Collection booked"),
    HALTED: N_("Halted: consent withdrawn"),
}

#: Rows shown per lane: on the whole list, the first of each lane; on a
#: lane's own page, one page of it.
PAGE = 25

#: Whose work each lane mostly is (the page shows these first for that role).
FOR_DOCTOR = (REVIEW, PANEL)
FOR_COORDINATOR = (PANEL_EXPIRING, CONSENT, READY, BOOKED, PANEL)


@dataclass(frozen=True)
class Placement:
    lane: str
    #: Gate codes that explain the lane (e.g. which panel tests are missing).
    reasons: tuple[str, ...] = ()


def place(journey: pure_journey.Journey, *, expiring_codes: Sequence[str] = ()) -> Placement | None:
    """The lane of one course, or None when it needs nothing from the staff
    (declined, completed, or past the collection)."""
    facts = journey.facts
    codes = tuple(facts.gate_codes)
    current = journey.current
    if current == pure_journey.HALTED:
        return Placement(HALTED)
    if current in (pure_journey.DECLINED, pure_journey.COMPLETED):
        return None
    if facts.collection_status in pure_journey.ACTIVE_VISIT:
        if expiring_codes:
            return Placement(PANEL_EXPIRING, tuple(expiring_codes))
        return Placement(BOOKED)
    if facts.collection_status == "completed":
        return None
    if current == pure_journey.ANSWER:
        return Placement(ANSWERING)
    if facts.questionnaire_status == "submitted":
        return Placement(REVIEW)
    panel = tuple(c for c in codes if c.startswith("panel_"))
    if panel:
        return Placement(PANEL, panel)
    consent = tuple(c for c in codes if c.startswith(("consent_", "cross_border_")))
    if consent:
        return Placement(CONSENT, consent)
    if facts.questionnaire_status == "approved" and not codes:
        return Placement(READY)
    return Placement(REVIEW)


def expiring_before(
    results: dict[str, date | None], visit_day: date, validity_days: int
) -> tuple[str, ...]:
    """Panel tests (code → test date) no longer valid on ``visit_day``."""
    from datetime import timedelta

    return tuple(
        code
        for code, tested in sorted(results.items())
        if tested is None or tested + timedelta(days=validity_days) < visit_day
    )


def page_of(total: int, page: int, size: int) -> tuple[int, int]:
    """The page to show (clamped to 1..pages) and the number of pages, for
    ``total`` rows by ``size``: always at least one page."""
    pages = max(1, -(-total // max(size, 1)))
    return min(max(page, 1), pages), pages


def known_lane(
    course_status: str,
    questionnaire_status: str | None,
    *,
    has_collection: bool,
    consent_withdrawn: bool,
) -> Placement | None:
    """The lane of a course when its few facts settle it without the gate
    and the journey (the same as ``place`` would give), else None: a halted
    course (its questionnaire not declined) is halted; an open course whose
    answers are not sent, with no collection visit and no consent withdrawn,
    is answering."""
    if questionnaire_status == "declined":
        return None
    if course_status == "halted":
        return Placement(HALTED)
    if (
        course_status == "open"
        and questionnaire_status not in pure_journey.SUBMITTED_STATES
        and not has_collection
        and not consent_withdrawn
    ):
        return Placement(ANSWERING)
    return None
