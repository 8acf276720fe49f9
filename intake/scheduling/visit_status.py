"""The visit's life at the front desk: which status may follow which, and which
status buttons are open at a given moment. Pure: no Flask, no database; the
moment (``now``, ``today``) is passed in.

A desk action is named by the status it leads to (``"arrived"``,
``"no_show"``, ``"completed"``). Besides the transition table, two actions
depend on the clock:

* check-in (``arrived``) only on the visit's day (clinic-local);
* "did not come" (``no_show``) only from the visit's start time on.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from intake.core.text import N_


class AppointmentStatus(enum.StrEnum):
    BOOKED = "booked"
    ARRIVED = "arrived"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


STATUS_LABELS = {
    AppointmentStatus.BOOKED: N_("Booked"),
    AppointmentStatus.ARRIVED: N_("Arrived"),
    AppointmentStatus.COMPLETED: N_("Completed"),
    AppointmentStatus.NO_SHOW: N_("Did not come"),
    AppointmentStatus.CANCELLED: N_("Cancelled"),
}

#: The appointment's life: which status may follow which.
TRANSITIONS: dict[AppointmentStatus, frozenset[AppointmentStatus]] = {
    AppointmentStatus.BOOKED: frozenset(
        {AppointmentStatus.ARRIVED, AppointmentStatus.NO_SHOW, AppointmentStatus.CANCELLED}
    ),
    AppointmentStatus.ARRIVED: frozenset(
        {AppointmentStatus.COMPLETED, AppointmentStatus.CANCELLED}
    ),
    AppointmentStatus.COMPLETED: frozenset(),
    AppointmentStatus.NO_SHOW: frozenset(),
    AppointmentStatus.CANCELLED: frozenset(),
}

#: Statuses in which the visit still holds its resources and can change.
ACTIVE = frozenset({AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED})

#: The front desk's status buttons, in the order they are shown.
DESK_ACTIONS = (AppointmentStatus.ARRIVED, AppointmentStatus.NO_SHOW, AppointmentStatus.COMPLETED)


class Refusal(enum.StrEnum):
    TRANSITION = "transition"  # this status cannot follow the current one
    NOT_THE_DAY = "not_the_day"  # check-in only on the visit's day
    NOT_STARTED = "not_started"  # "did not come" only once the visit has started


def is_active(status: AppointmentStatus) -> bool:
    return status in ACTIVE


def refusal(
    status: AppointmentStatus,
    target: AppointmentStatus,
    *,
    visit_day: date,
    today: date,
    start_at: datetime,
    now: datetime,
) -> Refusal | None:
    """Why ``status`` may not become ``target`` at ``now`` (None: it may)."""
    if target not in TRANSITIONS[status]:
        return Refusal.TRANSITION
    if target == AppointmentStatus.ARRIVED and visit_day != today:
        return Refusal.NOT_THE_DAY
    if target == AppointmentStatus.NO_SHOW and now < start_at:
        return Refusal.NOT_STARTED
    return None


def allowed_actions(
    status: AppointmentStatus,
    *,
    visit_day: date,
    today: date,
    start_at: datetime,
    now: datetime,
) -> list[str]:
    """The desk's status buttons open now (each named by the status it sets)."""
    return [
        target.value
        for target in DESK_ACTIONS
        if refusal(status, target, visit_day=visit_day, today=today, start_at=start_at, now=now)
        is None
    ]
