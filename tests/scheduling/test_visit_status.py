"""The visit's statuses and the patient's change cut-off, as pure rules: every
transition allowed or forbidden, the desk's buttons at each moment, and the
cut-off's boundaries. No app, no database."""

from datetime import UTC, date, datetime, timedelta

import pytest

from intake.scheduling.changes import (
    ChangeWindow,
    change_window,
    patient_can_change,
    patient_cutoff,
)
from intake.scheduling.visit_status import (
    TRANSITIONS,
    AppointmentStatus,
    Refusal,
    allowed_actions,
    is_active,
    refusal,
)

S = AppointmentStatus
BOOKED, ARRIVED, COMPLETED, NO_SHOW, CANCELLED = (
    S.BOOKED,
    S.ARRIVED,
    S.COMPLETED,
    S.NO_SHOW,
    S.CANCELLED,
)

#: Every status change the clinic allows; any pair not listed is forbidden.
ALLOWED = {
    (BOOKED, ARRIVED),
    (BOOKED, NO_SHOW),
    (BOOKED, CANCELLED),
    (ARRIVED, COMPLETED),
    (ARRIVED, CANCELLED),
}


@pytest.mark.parametrize(
    "before, after",
    [(a, b) for a in S for b in S],
    ids=lambda s: s.value,
)
def test_every_transition_is_allowed_or_forbidden(before, after):
    assert (after in TRANSITIONS[before]) == ((before, after) in ALLOWED)


def test_closed_statuses_lead_nowhere_and_are_not_active():
    for status in (COMPLETED, NO_SHOW, CANCELLED):
        assert TRANSITIONS[status] == frozenset() and not is_active(status)
    assert is_active(BOOKED) and is_active(ARRIVED)


START = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)  # 10:00 in Tokyo, Monday 7 December
VISIT_DAY = date(2026, 12, 7)

# status, target, today, now (relative to the start), refusal (None: allowed)
REFUSALS = [
    (BOOKED, ARRIVED, VISIT_DAY, timedelta(hours=-1), None),
    (BOOKED, ARRIVED, VISIT_DAY, timedelta(hours=3), None),  # late, but still the day
    (BOOKED, ARRIVED, date(2026, 12, 6), timedelta(days=-1), Refusal.NOT_THE_DAY),
    (BOOKED, ARRIVED, date(2026, 12, 8), timedelta(days=1), Refusal.NOT_THE_DAY),
    (BOOKED, NO_SHOW, VISIT_DAY, timedelta(0), None),  # from the start time on
    (BOOKED, NO_SHOW, VISIT_DAY, timedelta(minutes=30), None),
    (BOOKED, NO_SHOW, VISIT_DAY, timedelta(seconds=-1), Refusal.NOT_STARTED),
    (BOOKED, NO_SHOW, date(2026, 12, 9), timedelta(days=2), None),  # recorded later
    (BOOKED, COMPLETED, VISIT_DAY, timedelta(hours=1), Refusal.TRANSITION),
    (BOOKED, CANCELLED, VISIT_DAY, timedelta(hours=-1), None),
    (ARRIVED, COMPLETED, VISIT_DAY, timedelta(hours=1), None),
    (ARRIVED, CANCELLED, VISIT_DAY, timedelta(minutes=10), None),
    (ARRIVED, NO_SHOW, VISIT_DAY, timedelta(hours=1), Refusal.TRANSITION),
    (ARRIVED, ARRIVED, VISIT_DAY, timedelta(minutes=10), Refusal.TRANSITION),
    (COMPLETED, COMPLETED, VISIT_DAY, timedelta(hours=2), Refusal.TRANSITION),
    (COMPLETED, CANCELLED, VISIT_DAY, timedelta(hours=2), Refusal.TRANSITION),
    (NO_SHOW, ARRIVED, VISIT_DAY, timedelta(hours=1), Refusal.TRANSITION),
    (CANCELLED, ARRIVED, VISIT_DAY, timedelta(minutes=-10), Refusal.TRANSITION),
    (CANCELLED, BOOKED, VISIT_DAY, timedelta(days=-3), Refusal.TRANSITION),
]


@pytest.mark.parametrize("status, target, today, offset, expected", REFUSALS)
def test_refusal(status, target, today, offset, expected):
    got = refusal(
        status, target, visit_day=VISIT_DAY, today=today, start_at=START, now=START + offset
    )
    assert got == expected


# status, today, now (relative to the start), the desk's buttons in order
DESK = [
    (BOOKED, date(2026, 12, 6), timedelta(days=-1), []),
    (BOOKED, VISIT_DAY, timedelta(hours=-1), ["arrived"]),
    (BOOKED, VISIT_DAY, timedelta(0), ["arrived", "no_show"]),
    (BOOKED, VISIT_DAY, timedelta(hours=2), ["arrived", "no_show"]),
    (BOOKED, date(2026, 12, 8), timedelta(days=1), ["no_show"]),
    (ARRIVED, VISIT_DAY, timedelta(minutes=5), ["completed"]),
    (COMPLETED, VISIT_DAY, timedelta(hours=1), []),
    (NO_SHOW, VISIT_DAY, timedelta(hours=1), []),
    (CANCELLED, VISIT_DAY, timedelta(hours=-1), []),
]


@pytest.mark.parametrize("status, today, offset, expected", DESK)
def test_desk_buttons(status, today, offset, expected):
    got = allowed_actions(
        status, visit_day=VISIT_DAY, today=today, start_at=START, now=START + offset
    )
    assert got == expected


# status, minimum notice (hours), now (hours before the start), may the patient change it?
CUT_OFF = [
    (BOOKED, 48, 72, True),
    (BOOKED, 48, 48.01, True),
    (BOOKED, 48, 48, False),  # the cut-off instant itself is closed
    (BOOKED, 48, 47.99, False),
    (BOOKED, 48, 1, False),
    (BOOKED, 48, -1, False),  # already started
    (BOOKED, 0, 0.01, True),
    (BOOKED, 0, 0, False),
    (BOOKED, 24, 24.5, True),
    (BOOKED, 24, 23.5, False),
    (ARRIVED, 48, 72, False),
    (CANCELLED, 48, 72, False),
    (COMPLETED, 48, 72, False),
    (NO_SHOW, 48, 72, False),
]


@pytest.mark.parametrize("status, notice, hours_before, expected", CUT_OFF)
def test_patient_change_cut_off(status, notice, hours_before, expected):
    now = START - timedelta(hours=hours_before)
    assert patient_can_change(status, START, now, min_notice_hours=notice) is expected
    assert patient_cutoff(START, min_notice_hours=notice) == START - timedelta(hours=notice)


def test_cut_off_needs_an_aware_now():
    with pytest.raises(ValueError, match="naive"):
        patient_can_change(BOOKED, START, datetime(2026, 12, 1, 9, 0), min_notice_hours=48)


# minutes from the cut-off to now (negative: before it), the window
WINDOWS = [
    (-3 * 24 * 60, ChangeWindow.OPEN),
    (-61, ChangeWindow.OPEN),
    (-60, ChangeWindow.CLOSING),  # closes within the hour: warned
    (-30, ChangeWindow.CLOSING),
    (-1, ChangeWindow.CLOSING),
    (0, ChangeWindow.CLOSED),
    (1, ChangeWindow.CLOSED),
    (47 * 60, ChangeWindow.CLOSED),  # booked by the clinic an hour before the visit
]


@pytest.mark.parametrize("minutes, expected", WINDOWS)
def test_change_window_at_booking(minutes, expected):
    cutoff = START - timedelta(hours=48)
    now = cutoff + timedelta(minutes=minutes)
    assert change_window(START, now, min_notice_hours=48) == expected


def test_change_window_margin_is_a_parameter():
    now = START - timedelta(hours=48, minutes=90)
    assert change_window(START, now, min_notice_hours=48) == ChangeWindow.OPEN
    assert change_window(START, now, min_notice_hours=48, margin=timedelta(hours=2)) == (
        ChangeWindow.CLOSING
    )
