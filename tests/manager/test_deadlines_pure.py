"""The deadlines' rules, pure (no app): urgency, the order (most urgent first,
overdue first), the panel's expiry before a visit, which identity mismatches
are still open, the look-back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from intake.manager import deadlines as d
from intake.manager.deadlines import Deadline, IdentityCheck

TODAY = date(2026, 12, 2)


def day(n: int) -> date:
    return TODAY + timedelta(days=n)


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (-30, d.OVERDUE),
        (-1, d.OVERDUE),
        (0, d.TODAY),
        (1, d.SOON),
        (7, d.SOON),  # SOON_DAYS, included
        (8, d.LATER),
        (90, d.LATER),
    ],
)
def test_urgency(offset, expected):
    assert d.SOON_DAYS == 7
    assert d.urgency(day(offset), TODAY) == expected
    assert d.days_left(day(offset), TODAY) == offset


def test_order_most_urgent_first_overdue_first():
    items = [
        Deadline(d.FOLLOW_UP_OVERDUE, day(-1), ("f", 1)),
        Deadline(d.ADVERSE_EVENT, day(5), ("ae", 1)),
        Deadline(d.PANEL_EXPIRING, day(20), ("v", 1)),
        Deadline(d.BATCH_AT_RISK, day(-10), ("b", 1)),
        Deadline(d.ADVERSE_EVENT, day(0), ("ae", 2)),
        Deadline(d.CONSENT_WITHDRAWN, day(-3), ("c", 1)),
    ]
    ordered = d.ordered(items)
    assert [i.due_on for i in ordered] == sorted(i.due_on for i in items)
    assert [d.urgency(i.due_on, TODAY) for i in ordered] == [
        d.OVERDUE,
        d.OVERDUE,
        d.OVERDUE,
        d.TODAY,
        d.SOON,
        d.LATER,
    ]
    assert ordered[0].kind == d.BATCH_AT_RISK  # ten days overdue: the first


def test_same_day_the_patients_safety_first_then_the_key():
    same = day(-2)
    items = [
        Deadline(d.FOLLOW_UP_OVERDUE, same, ("f", 2)),
        Deadline(d.FOLLOW_UP_OVERDUE, same, ("f", 1)),
        Deadline(d.PANEL_EXPIRING, same, ("v", 1)),
        Deadline(d.CONSENT_WITHDRAWN, same, ("c", 1)),
        Deadline(d.BATCH_AT_RISK, same, ("b", 1)),
        Deadline(d.ADVERSE_EVENT, same, ("ae", 1)),
        Deadline(d.IDENTITY_MISMATCH, same, ("m", 1)),
    ]
    assert [(i.kind, i.key) for i in d.ordered(items)] == [
        (d.IDENTITY_MISMATCH, ("m", 1)),
        (d.ADVERSE_EVENT, ("ae", 1)),
        (d.BATCH_AT_RISK, ("b", 1)),
        (d.CONSENT_WITHDRAWN, ("c", 1)),
        (d.PANEL_EXPIRING, ("v", 1)),
        (d.FOLLOW_UP_OVERDUE, ("f", 1)),
        (d.FOLLOW_UP_OVERDUE, ("f", 2)),
    ]


def test_counts():
    items = [
        Deadline(d.ADVERSE_EVENT, day(-1)),
        Deadline(d.ADVERSE_EVENT, day(3)),
        Deadline(d.FOLLOW_UP_OVERDUE, day(0)),
    ]
    assert d.count_by_kind(items) == {
        d.IDENTITY_MISMATCH: 0,
        d.ADVERSE_EVENT: 2,
        d.BATCH_AT_RISK: 0,
        d.CONSENT_WITHDRAWN: 0,
        d.PANEL_EXPIRING: 0,
        d.FOLLOW_UP_OVERDUE: 1,
    }
    assert d.count_by_urgency(items, TODAY) == {d.OVERDUE: 1, d.TODAY: 1, d.SOON: 1, d.LATER: 0}
    assert set(d.KIND_TITLES) == set(d.KIND_ORDER)


@pytest.mark.parametrize(
    ("status", "offset", "overdue"),
    [
        # Overdue from 7 days after its day, as on the follow-up list.
        ("open", -8, True),
        ("open", -7, True),
        ("open", -6, False),
        ("open", -1, False),
        ("open", 0, False),
        ("open", 5, False),
        ("done", -10, False),
        ("unreachable", -10, False),
    ],
)
def test_follow_up_overdue(status, offset, overdue):
    assert d.follow_up_overdue(status, day(offset), TODAY) is overdue


@pytest.mark.parametrize(
    ("offset", "inside"),
    [(0, True), (-30, True), (-31, False), (1, False)],
)
def test_within_lookback(offset, inside):
    assert d.LOOKBACK_DAYS == 30
    assert d.within_lookback(day(offset), TODAY) is inside


def test_batch_due_on_is_the_windows_last_day():
    assert d.batch_due_on(date(2026, 11, 1), 42) == date(2026, 12, 13)
    assert d.batch_due_on(date(2026, 11, 1), 35) == date(2026, 12, 6)


@pytest.mark.parametrize(
    ("tested", "expiring", "lapses"),
    [
        # valid through test day + 90: on the visit day (day 60) a test of day -30 is valid
        ({"HBsAg": day(-30)}, (), None),
        # tested 30 days before the visit minus 90: valid through the visit day exactly
        ({"HBsAg": day(60 - 90)}, (), None),
        # one day older: lapses the day before the visit
        ({"HBsAg": day(60 - 91)}, ("HBsAg",), day(60)),
        (
            {"RPR": day(-40), "HBsAg": day(-35), "anti-HCV": day(0)},
            ("HBsAg", "RPR"),
            day(51),
        ),
        ({"RPR": None}, ("RPR",), None),
    ],
)
def test_panel_expiring_before_the_visit(tested, expiring, lapses):
    assert d.panel_expiring(tested, day(60), 90) == (expiring, lapses)


def _at(hours: int) -> datetime:
    return datetime(2026, 12, 1, tzinfo=UTC) + timedelta(hours=hours)


def test_a_later_match_of_the_same_subject_resolves_a_mismatch():
    checks = [
        IdentityCheck(("batch", 1), _at(1), False, "a"),
        IdentityCheck(("batch", 1), _at(2), True, "b"),
        IdentityCheck(("batch", 2), _at(1), False, "c"),  # never matched: open
        IdentityCheck(("dose", 1), _at(3), True, "d"),
        IdentityCheck(("dose", 1), _at(4), False, "e"),  # after the match: open
        IdentityCheck(("batch", 3), _at(5), False, "f"),
        IdentityCheck(("batch", 3), _at(6), False, "g"),  # both stay
    ]
    assert [c.ref for c in d.unresolved_mismatches(checks)] == ["c", "e", "f", "g"]


def test_a_match_of_another_subject_resolves_nothing():
    checks = [
        IdentityCheck(("batch", 1), _at(1), False, "a"),
        IdentityCheck(("batch", 2), _at(2), True, "b"),
        IdentityCheck(("dose", 1), _at(3), True, "c"),
    ]
    assert [c.ref for c in d.unresolved_mismatches(checks)] == ["a"]
    assert d.unresolved_mismatches([]) == []
