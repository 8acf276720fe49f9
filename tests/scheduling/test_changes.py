"""Rescheduling, cancelling (patients until the notice cut-off, staff with a
reason) and the visit's statuses at the front desk."""

from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from intake.accounts.roles import Role
from intake.core.errors import Conflict, DomainError, NotAllowed
from intake.core.models import AuditEntry
from intake.extensions import db
from intake.notifications.models import Message
from intake.scheduling import front_desk, services
from intake.scheduling.models import Appointment, AppointmentStatus, Hold, VisitMode

MONDAY, TUESDAY = 0, 1


def _audit(action):
    return db.session.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars().all()


def _messages(template):
    return db.session.execute(select(Message).where(Message.template == template)).scalars().all()


@pytest.fixture
def booked(clinic, make_user):
    """A patient's consultation on a Monday at 10:00, booked 5 days ahead."""
    patient = make_user(Role.PATIENT, locale="ja")
    start = clinic.at(clinic.day(weekday=MONDAY), "10:00")
    appointment = services.book_visit(
        patient.patient, "consultation", start, actor=patient, now=start - timedelta(days=5)
    )
    db.session.commit()
    return appointment


def test_patient_cancels_before_the_cut_off(clinic, booked):
    patient = booked.patient.user
    services.cancel_visit(
        booked, actor=patient, reason="", now=booked.start_at - timedelta(hours=49)
    )
    db.session.commit()
    assert booked.status == AppointmentStatus.CANCELLED
    assert booked.cancelled_by_id == patient.id and booked.cancel_reason is None
    assert clinic.holds(booked) == []
    assert db.session.get(Appointment, booked.id) is not None  # the row stays
    (entry,) = _audit("scheduling.cancel")
    assert entry.before == {"status": "booked"} and entry.after["status"] == "cancelled"
    (message,) = _messages("visit_cancelled")
    event = Calendar.from_ical(message.attachment_body).walk("VEVENT")[0]
    assert str(event["status"]) == "CANCELLED" and int(event["sequence"]) == 1
    # The freed time can be booked again.
    again = services.book_visit(
        patient.patient,
        "consultation",
        booked.start_at,
        actor=patient,
        now=booked.start_at - timedelta(hours=49),
    )
    assert len(clinic.holds(again)) == 3


@pytest.mark.parametrize(
    "hours_before, allowed",
    [(72, True), (48.01, True), (48, False), (47, False), (1, False)],
)
def test_patient_cut_off_is_the_minimum_notice(booked, hours_before, allowed):
    now = booked.start_at - timedelta(hours=hours_before)
    if allowed:
        services.cancel_visit(booked, actor=booked.patient.user, now=now)
        assert booked.status == AppointmentStatus.CANCELLED
    else:
        with pytest.raises(DomainError, match="Please call the clinic"):
            services.cancel_visit(booked, actor=booked.patient.user, now=now)
        assert booked.status == AppointmentStatus.BOOKED
        assert not db.session.dirty


def test_staff_cancel_any_time_but_with_a_reason(clinic, booked, coordinator):
    late = booked.start_at - timedelta(hours=1)
    with pytest.raises(DomainError, match="Give the reason"):
        services.cancel_visit(booked, actor=coordinator, reason="  ", now=late)
    services.cancel_visit(booked, actor=coordinator, reason="Doctor ill", now=late)
    db.session.commit()
    assert booked.cancel_reason == "Doctor ill" and booked.cancelled_by_id == coordinator.id
    (message,) = _messages("visit_cancelled")
    assert "Doctor ill" in message.body
    with pytest.raises(DomainError, match="already closed"):
        services.cancel_visit(booked, actor=coordinator, reason="again")


def test_someone_elses_visit_cannot_be_changed(booked, make_user):
    other = make_user(Role.PATIENT)
    for change in (
        lambda: services.cancel_visit(booked, actor=other),
        lambda: services.reschedule_visit(booked, booked.start_at, actor=other),
    ):
        with pytest.raises(NotAllowed):
            change()
    assert booked.status == AppointmentStatus.BOOKED


def test_reschedule_moves_the_holds_and_tells_the_patient(clinic, booked):
    patient = booked.patient.user
    booked.reminded_at = booked.start_at - timedelta(hours=20)
    old_start = booked.start_at
    new_start = clinic.at(clinic.day(weekday=TUESDAY, min_days=6), "14:00")
    services.reschedule_visit(
        booked, new_start, actor=patient, mode="video", now=old_start - timedelta(days=3)
    )
    db.session.commit()
    assert booked.start_at == new_start and booked.end_at == new_start + timedelta(minutes=45)
    assert booked.mode == VisitMode.VIDEO and booked.sequence == 1 and booked.reminded_at is None
    assert sorted(h.unit_start for h in clinic.holds(booked)) == [
        new_start + timedelta(minutes=15 * k) for k in range(3)
    ]
    (entry,) = _audit("scheduling.reschedule")
    assert entry.before["start_at"] == old_start.isoformat()
    assert entry.after["start_at"] == new_start.isoformat()
    (message,) = _messages("visit_rescheduled")
    assert message.locale == "ja"
    event = Calendar.from_ical(message.attachment_body).walk("VEVENT")[0]
    assert event.decoded("dtstart") == new_start and int(event["sequence"]) == 1


def test_a_visit_can_move_over_its_own_time(clinic, booked):
    """Monday has one doctor: moving 15 minutes later overlaps only itself."""
    later = booked.start_at + timedelta(minutes=15)
    services.reschedule_visit(
        booked, later, actor=booked.patient.user, now=later - timedelta(days=3)
    )
    assert sorted(h.unit_start for h in clinic.holds(booked))[0] == later
    assert len(clinic.holds(booked)) == 3


def test_a_failed_reschedule_keeps_the_old_time(clinic, booked, coordinator, make_user):
    blocker = services.book_visit(
        make_user(Role.PATIENT).patient,
        "consultation",
        booked.start_at + timedelta(hours=4),
        actor=coordinator,
    )
    db.session.commit()
    with pytest.raises(Conflict):
        services.reschedule_visit(booked, blocker.start_at, actor=coordinator)
    db.session.rollback()
    db.session.refresh(booked)
    assert len(clinic.holds(booked)) == 3 and booked.sequence == 0
    with pytest.raises(DomainError, match="already at this time"):
        services.reschedule_visit(booked, booked.start_at, actor=coordinator)


def test_patient_reschedule_after_the_cut_off_is_refused(clinic, booked):
    with pytest.raises(DomainError, match="Please call the clinic"):
        services.reschedule_visit(
            booked,
            booked.start_at + timedelta(days=1),
            actor=booked.patient.user,
            now=booked.start_at - timedelta(hours=47),
        )


def test_new_patient_time_must_respect_the_notice(clinic, booked):
    now = booked.start_at - timedelta(days=4)
    soon = clinic.at(clinic.cal.local_date(now + timedelta(hours=30)), "10:00")
    with pytest.raises(DomainError):
        services.reschedule_visit(booked, soon, actor=booked.patient.user, now=now)


# (status before, action, when relative to the start, allowed, status after, holds kept)
TRANSITIONS = [
    ("booked", "arrive", timedelta(hours=-1), True, "arrived", True),
    ("booked", "arrive", timedelta(days=-1), False, "booked", True),
    ("booked", "no_show", timedelta(minutes=30), True, "no_show", False),
    ("booked", "no_show", timedelta(minutes=-5), False, "booked", True),
    ("booked", "complete", timedelta(hours=1), False, "booked", True),
    ("arrived", "complete", timedelta(hours=1), True, "completed", True),
    ("arrived", "no_show", timedelta(hours=1), False, "arrived", True),
    ("arrived", "arrive", timedelta(minutes=10), False, "arrived", True),
    ("completed", "complete", timedelta(hours=2), False, "completed", True),
    ("cancelled", "arrive", timedelta(minutes=-10), False, "cancelled", False),
]
ACTIONS = {
    "arrive": front_desk.mark_arrived,
    "no_show": front_desk.mark_no_show,
    "complete": front_desk.mark_completed,
}


@pytest.mark.parametrize("before, action, offset, allowed, after, keeps_holds", TRANSITIONS)
def test_front_desk_statuses(
    booked, coordinator, before, action, offset, allowed, after, keeps_holds
):
    start = booked.start_at
    if before in ("arrived", "completed"):
        front_desk.mark_arrived(booked, actor=coordinator, now=start - timedelta(minutes=20))
    if before == "completed":
        front_desk.mark_completed(booked, actor=coordinator, now=start + timedelta(hours=1))
    if before == "cancelled":
        services.cancel_visit(booked, actor=coordinator, reason="test")
    db.session.commit()
    if allowed:
        ACTIONS[action](booked, actor=coordinator, now=start + offset)
        db.session.commit()
        (entry,) = [e for e in _audit(f"scheduling.{action}") if e.after == {"status": after}]
        assert entry.before == {"status": before} and entry.actor_id == coordinator.id
    else:
        with pytest.raises(DomainError):
            ACTIONS[action](booked, actor=coordinator, now=start + offset)
        db.session.rollback()
    assert booked.status == AppointmentStatus(after)
    assert (
        bool(db.session.execute(select(Hold).where(Hold.appointment_id == booked.id)).first())
        == keeps_holds
    )


def test_patients_cannot_set_statuses(booked):
    with pytest.raises(NotAllowed):
        front_desk.mark_arrived(booked, actor=booked.patient.user, now=booked.start_at)
