"""When a patient may still change or cancel a visit online. Pure: no Flask,
no database; ``now`` is passed in.

The patient's cut-off is the visit's start minus the minimum notice for
patient bookings (clinic setting ``min_notice_hours``). Before that instant the
patient may move or cancel a booked visit online; from it on (the instant
itself included) only the clinic can, so the patient is asked to call.

A booking made just before the cut-off (or by the clinic after it) would be
unchangeable a moment later: ``change_window`` tells the confirmation to warn.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from intake.scheduling.visit_status import AppointmentStatus


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value


def patient_cutoff(start_at: datetime, *, min_notice_hours: int) -> datetime:
    """After this instant the patient can no longer change the visit online."""
    return _aware(start_at) - timedelta(hours=min_notice_hours)


def patient_can_change(
    status: AppointmentStatus, start_at: datetime, now: datetime, *, min_notice_hours: int
) -> bool:
    return status == AppointmentStatus.BOOKED and _aware(now) < patient_cutoff(
        start_at, min_notice_hours=min_notice_hours
    )


#: A visit whose online changes close within this time of booking is booked with
#: a warning (the patient could not change it a moment later).
LATE_BOOKING_MARGIN = timedelta(hours=1)


class ChangeWindow(enum.StrEnum):
    OPEN = "open"  # the patient can change it online for a while yet
    CLOSING = "closing"  # online changes close within the margin
    CLOSED = "closed"  # already past the cut-off: only the clinic can change it


def change_window(
    start_at: datetime,
    now: datetime,
    *,
    min_notice_hours: int,
    margin: timedelta = LATE_BOOKING_MARGIN,
) -> ChangeWindow:
    """How long the patient can still change a visit online, seen at ``now``
    (when it is booked or moved): the booking confirmation warns unless OPEN."""
    cutoff = patient_cutoff(start_at, min_notice_hours=min_notice_hours)
    if _aware(now) >= cutoff:
        return ChangeWindow.CLOSED
    if cutoff - now <= margin:
        return ChangeWindow.CLOSING
    return ChangeWindow.OPEN
