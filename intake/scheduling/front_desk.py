"""The front desk's status changes of a visit: checked in, not come, completed,
when the pure ``visit_status`` rules allow them now. A visit not come frees
its seats (and a collection's incubator place) through the ``ledger``.
(Booking, moving and cancelling are in ``services``.)"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _

from intake.accounts.models import User
from intake.core import audit
from intake.core.errors import DomainError
from intake.extensions import db
from intake.scheduling import context, ledger, visit_status
from intake.scheduling.models import Appointment, AppointmentStatus
from intake.scheduling.services import _now, _require_staff, _snapshot


def _transition(
    appointment: Appointment,
    new_status: AppointmentStatus,
    *,
    actor: User,
    action: str,
    now: datetime,
) -> Appointment:
    """A front-desk status change, if ``visit_status`` allows it now."""
    _require_staff(actor)
    cal = context.clinic_calendar()
    refusal = visit_status.refusal(
        appointment.status,
        new_status,
        visit_day=cal.local_date(appointment.start_at),
        today=cal.today(now),
        start_at=appointment.start_at,
        now=now,
    )
    if refusal == visit_status.Refusal.NOT_THE_DAY:
        raise DomainError(
            _("A patient can be checked in only on the day of the visit."), code=refusal.value
        )
    if refusal == visit_status.Refusal.NOT_STARTED:
        raise DomainError(
            _("A visit can be marked as missed only after its start time."), code=refusal.value
        )
    if refusal is not None:
        raise DomainError(_("This visit cannot change to that status now."), code=refusal.value)
    before = _snapshot(appointment)
    appointment.status = new_status
    if not visit_status.is_active(new_status):
        appointment.upcoming_kind = None  # missed or done: no longer upcoming
    appointment.status_changed_at = now
    audit.record(
        actor=actor,
        action=action,
        entity=appointment,
        before={"status": before["status"]},
        after={"status": new_status.value},
        patient=appointment.patient,
    )
    db.session.flush()
    return appointment


def mark_arrived(appointment: Appointment, *, actor: User, now: datetime | None = None):
    """The patient is at the front desk (on the day of the visit)."""
    return _transition(
        appointment,
        AppointmentStatus.ARRIVED,
        actor=actor,
        action="scheduling.arrive",
        now=_now(now),
    )


def mark_no_show(appointment: Appointment, *, actor: User, now: datetime | None = None):
    """The patient did not come: the visit's seats (and incubator place) are freed."""
    result = _transition(
        appointment,
        AppointmentStatus.NO_SHOW,
        actor=actor,
        action="scheduling.no_show",
        now=_now(now),
    )
    ledger.release_seats(appointment)
    return result


def mark_completed(appointment: Appointment, *, actor: User, now: datetime | None = None):
    return _transition(
        appointment,
        AppointmentStatus.COMPLETED,
        actor=actor,
        action="scheduling.complete",
        now=_now(now),
    )
