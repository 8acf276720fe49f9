"""When a patient may still change or cancel a visit online. Pure: no Flask,
no database; ``now`` is passed in.

The patient's cut-off is the visit's start minus the minimum notice for
patient bookings (clinic setting ``min_notice_hours``). Before that instant the
patient may move or cancel a booked visit online; from it on (the instant
itself included) only the clinic can, so the patient is asked to call.
"""

from __future__ import annotations

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
