"""One upcoming visit of a kind per course (``visit_kinds.one_upcoming``: the
consultation, the collection) is a database guarantee, like the seat ledger:
many requests of one patient at once, at different times, leave exactly one
booked visit of the kind. Runs on SQLite (file, WAL) and on PostgreSQL
(TEST_DATABASE_URL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from intake.accounts.models import User
from intake.accounts.roles import Role
from intake.core.errors import DomainError
from intake.extensions import db
from intake.scheduling import front_desk, services
from intake.scheduling.models import Appointment, AppointmentStatus, Hold
from tests.scheduling.test_race import _race

THREADS = 10
ALREADY = "already"


def _book_in_thread(app, *, user_id, actor_id, code, start):
    def attempt(barrier):
        with app.test_request_context():
            try:
                user = db.session.get(User, user_id)
                actor = db.session.get(User, actor_id)
                barrier.wait()
                try:
                    appointment = services.book_visit(user.patient, code, start, actor=actor)
                    db.session.commit()
                    return ("ok", appointment.id)
                except DomainError as exc:
                    db.session.rollback()
                    return (exc.code, exc.message)
            finally:
                db.session.remove()

    return attempt


def _starts(clinic, code):
    """``THREADS`` different starts: consultations through one day, collections
    (one procedure room) on different days."""
    if code == "consultation":
        day = clinic.day(weekday=1)
        times = ["09:00", "09:45", "10:30", "11:15", "13:00", "13:45", "14:30", "15:15"]
        times += ["16:00", "16:45"]
        return [clinic.at(day, hhmm) for hhmm in times[:THREADS]]
    days, day = [], clinic.day()
    while len(days) < THREADS:
        days.append(clinic.at(day, "10:00"))
        day = clinic.day(min_days=(day - clinic.today).days + 1)
    return days


def _active() -> list[Appointment]:
    return list(
        db.session.execute(
            select(Appointment).where(
                Appointment.status.in_([AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED])
            )
        ).scalars()
    )


@pytest.mark.parametrize("by", ["patient", "staff"])
@pytest.mark.parametrize("code", ["consultation", "collection"])
def test_one_course_racing_itself_books_one_visit_of_the_kind(
    app, clinic, make_user, make_approved_patient, code, by
):
    """Ten requests for one course at ten different times: one visit is booked,
    the nine others are told it is already booked (or the time was taken while
    the winner wrote); nothing half-written is left."""
    user = make_approved_patient() if code == "collection" else make_user(Role.PATIENT)
    actor = user if by == "patient" else make_user(Role.COORDINATOR)
    db.session.commit()
    attempts = [
        _book_in_thread(app, user_id=user.id, actor_id=actor.id, code=code, start=start)
        for start in _starts(clinic, code)
    ]
    outcomes = _race(app, attempts)

    assert [o for o in outcomes if o[0] == "error"] == []
    wins = [o for o in outcomes if o[0] == "ok"]
    assert len(wins) == 1, outcomes
    assert {o[0] for o in outcomes if o[0] != "ok"} <= {"already_booked", "locked", "taken"}
    (appointment,) = _active()
    assert appointment.id == wins[0][1]
    holds = db.session.execute(select(func.count()).select_from(Hold)).scalar_one()
    own = db.session.execute(
        select(func.count()).select_from(Hold).where(Hold.appointment_id == appointment.id)
    ).scalar_one()
    culture = holds - own
    assert own > 0 and culture == (43 if code == "collection" else 0)


def test_staff_are_bound_too(clinic, coordinator, make_user):
    """A course has one upcoming consultation whoever books it: the desk moves
    the booked one instead of adding a second."""
    patient = make_user(Role.PATIENT)
    day = clinic.day(weekday=1)
    services.book_visit(patient.patient, "consultation", clinic.at(day, "10:00"), actor=patient)
    db.session.commit()
    with pytest.raises(DomainError, match="already has") as caught:
        services.book_visit(
            patient.patient, "consultation", clinic.at(day, "14:00"), actor=coordinator
        )
    assert caught.value.code == "already_booked"
    db.session.rollback()
    assert clinic.count(Appointment) == 1


def test_a_closed_or_past_visit_no_longer_counts(clinic, coordinator, make_user):
    """Cancelled, missed and completed visits free the kind; so does a visit
    whose time is over even if the desk never closed it."""
    patient = make_user(Role.PATIENT)
    day = clinic.day(weekday=1)
    first = services.book_visit(
        patient.patient, "consultation", clinic.at(day, "09:00"), actor=coordinator
    )
    services.cancel_visit(first, actor=coordinator, reason="moved by phone")
    second = services.book_visit(
        patient.patient, "consultation", clinic.at(day, "10:00"), actor=coordinator
    )
    after = second.end_at + timedelta(minutes=1)
    front_desk.mark_no_show(second, actor=coordinator, now=after)
    third = services.book_visit(
        patient.patient, "consultation", clinic.at(day, "11:00"), actor=coordinator
    )
    db.session.commit()
    # The third visit is over and still "booked" (nobody marked it): a new one may be booked.
    later = third.end_at + timedelta(minutes=1)
    fourth = services.book_visit(
        patient.patient,
        "consultation",
        clinic.at(day, "16:00"),
        actor=coordinator,
        now=later,
    )
    db.session.commit()
    assert fourth.upcoming_kind == "consultation"
    assert [a.upcoming_kind for a in (first, second, third)] == [None, None, None]
    front_desk.mark_arrived(fourth, actor=coordinator, now=fourth.start_at)
    front_desk.mark_completed(fourth, actor=coordinator, now=fourth.end_at)
    db.session.commit()
    assert fourth.upcoming_kind is None


def test_kinds_with_several_visits_take_no_claim(clinic, coordinator, make_approved_patient):
    patient = make_approved_patient()
    day = clinic.day(weekday=1)
    visits = [
        services.book_visit(patient.patient, "reinfusion-iv", clinic.at(day, t), actor=coordinator)
        for t in ("09:00", "13:00")
    ]
    db.session.commit()
    assert [v.upcoming_kind for v in visits] == [None, None]
