"""The manager's deadlines: what is due, by when, most urgent first. Pure.

Six kinds of item (DOMAIN rule 11 and issue 11):

* ``adverse_event``: an adverse-event report not yet sent; due on its
  ``report_due_on`` (7 or 15 days after the clinic learnt of it);
* ``batch_at_risk``: a culture batch the lab board flags at risk (behind plan,
  past the window unreleased, a failed QC result); due on the window's last
  day (collection + ``culture_max_days``);
* ``follow_up_overdue``: a follow-up contact still open after its day; due
  on that day;
* ``panel_expiring``: an infectious-panel result no longer valid on the day of
  a booked collection or reinfusion visit; due on the visit's day (the test
  must be repeated before it);
* ``consent_withdrawn``: a consent withdrawn in the last ``LOOKBACK_DAYS``
  days (visits cancelled, the lab to stop the culture); due on the day of
  the withdrawal;
* ``identity_mismatch``: a chain-of-identity check (the lab's, or at the
  bedside) that did not match and has not been followed by a matching check
  of the same batch or dose, in the last ``LOOKBACK_DAYS`` days; due on the
  day of the check.

Order: by due day, earliest first, so the most overdue come first and
overdue items before those due today or later; on the same day by kind
(``KIND_ORDER``: patient safety first), then by the item's key.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from intake.core.text import N_
from intake.reinfusion import aftercare

ADVERSE_EVENT = "adverse_event"
BATCH_AT_RISK = "batch_at_risk"
FOLLOW_UP_OVERDUE = "follow_up_overdue"
PANEL_EXPIRING = "panel_expiring"
CONSENT_WITHDRAWN = "consent_withdrawn"
IDENTITY_MISMATCH = "identity_mismatch"

#: Same-day ties: the most serious for the patient first.
KIND_ORDER = (
    IDENTITY_MISMATCH,
    ADVERSE_EVENT,
    BATCH_AT_RISK,
    CONSENT_WITHDRAWN,
    PANEL_EXPIRING,
    FOLLOW_UP_OVERDUE,
)

KIND_TITLES = {
    ADVERSE_EVENT: N_("Adverse-event report due"),
    BATCH_AT_RISK: N_("Batch at risk"),
    FOLLOW_UP_OVERDUE: N_("Follow-up overdue"),
    PANEL_EXPIRING: N_("Panel expires before a booked visit"),
    CONSENT_WITHDRAWN: N_("Consent withdrawn"),
    IDENTITY_MISMATCH: N_("Identity mismatch"),
}

#: Withdrawals and identity mismatches stay on the list this many days.
LOOKBACK_DAYS = 30
#: "Due soon": within this many days from today.
SOON_DAYS = 7

OVERDUE = "overdue"
TODAY = "today"
SOON = "soon"
LATER = "later"

URGENCY_TITLES = {
    OVERDUE: N_("Overdue"),
    TODAY: N_("Due today"),
    SOON: N_("Due soon"),
    LATER: N_("Later"),
}


@dataclass(frozen=True)
class Deadline:
    kind: str
    due_on: date
    #: Tells two items of a kind apart and orders them (e.g. ("batch", 12)).
    key: tuple = ()
    patient_id: int | None = None
    #: What the page shows beside the item (names, numbers, dates).
    details: Mapping[str, Any] = field(default_factory=dict)


def urgency(due_on: date, today: date) -> str:
    if due_on < today:
        return OVERDUE
    if due_on == today:
        return TODAY
    if due_on <= today + timedelta(days=SOON_DAYS):
        return SOON
    return LATER


def days_left(due_on: date, today: date) -> int:
    """Days until due: negative when overdue."""
    return (due_on - today).days


def _rank(kind: str) -> int:
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


def ordered(items: Iterable[Deadline]) -> list[Deadline]:
    """Most urgent first (see the module's order)."""
    return sorted(items, key=lambda d: (d.due_on, _rank(d.kind), d.key))


def count_by_kind(items: Iterable[Deadline]) -> dict[str, int]:
    counts = dict.fromkeys(KIND_ORDER, 0)
    for item in items:
        counts[item.kind] = counts.get(item.kind, 0) + 1
    return counts


def count_by_urgency(items: Iterable[Deadline], today: date) -> dict[str, int]:
    counts = dict.fromkeys((OVERDUE, TODAY, SOON, LATER), 0)
    for item in items:
        counts[urgency(item.due_on, today)] += 1
    return counts


def within_lookback(day: date, today: date, days: int = LOOKBACK_DAYS) -> bool:
    """``day`` is one of the last ``days`` days (today is day 0)."""
    return today - timedelta(days=days) <= day <= today


def follow_up_overdue_on(due_on: date) -> date:
    """The day an open follow-up contact becomes overdue: the same grace as the
    coordinators' follow-up list (``aftercare.FOLLOW_UP_GRACE_DAYS``)."""
    return due_on + timedelta(days=aftercare.FOLLOW_UP_GRACE_DAYS)


def follow_up_overdue(status: str, due_on: date, today: date) -> bool:
    """An open follow-up past its grace (the follow-up list calls it overdue);
    one still inside its grace is the coordinators' ordinary work."""
    return status == "open" and today >= follow_up_overdue_on(due_on)


def batch_due_on(collected_on: date, culture_max_days: int) -> date:
    """The last day of the batch's reinfusion window."""
    return collected_on + timedelta(days=culture_max_days)


def panel_expiring(
    test_dates: Mapping[str, date | None], visit_day: date, validity_days: int
) -> tuple[tuple[str, ...], date | None]:
    """The panel tests (code → test day) not valid on ``visit_day`` (a result
    is valid through ``validity_days`` after its test day, as in
    ``eligibility.gate``), and the first day one of them is no longer valid
    (None when none of them has a test day)."""
    expiring = tuple(
        code
        for code, tested in sorted(test_dates.items())
        if tested is None or tested + timedelta(days=validity_days) < visit_day
    )
    dated = [d for d in (test_dates[c] for c in expiring) if d is not None]
    return expiring, (min(dated) + timedelta(days=validity_days + 1) if dated else None)


@dataclass(frozen=True)
class IdentityCheck:
    """One identity check: what it checked (``subject``: the batch for the
    lab's check, the dose for the bedside one), when, and its result."""

    subject: Hashable
    checked_at: datetime
    matched: bool
    ref: Hashable = None


def unresolved_mismatches(checks: Iterable[IdentityCheck]) -> list[IdentityCheck]:
    """The mismatches not followed by a matching check of the same subject
    (a later mismatch stays: each one is investigated). Oldest first."""
    checks = sorted(checks, key=lambda c: (c.checked_at, str(c.ref)))
    last_match: dict[Hashable, datetime] = {}
    for check in checks:
        if check.matched:
            last_match[check.subject] = max(
                check.checked_at, last_match.get(check.subject, check.checked_at)
            )
    return [
        c
        for c in checks
        if not c.matched and not (c.subject in last_match and last_match[c.subject] > c.checked_at)
    ]
