"""Availability from the database: at most four statements whatever the data
size, and the same answer the booking service gives."""

from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import insert

from intake.accounts.roles import Role
from intake.core.errors import Conflict, DomainError
from intake.core.types import utcnow
from intake.extensions import db
from intake.scheduling import queries, services
from intake.scheduling.models import Appointment, AppointmentStatus, Closure, Hold
from tests.helpers import course_of

MONDAY, TUESDAY = 0, 1


def _fill(clinic, coordinator, make_patient, days: int) -> int:
    """Book many visits through the service, then bulk-add thousands of holds
    (past visits on the same resources) so the tables are no longer small.
    ``make_patient`` makes approved patients: reinfusions need the intake gate."""
    patients = [make_patient() for _ in range(6)]
    booked = 0
    first = clinic.day(min_days=3)
    for n in range(days):
        day = first + timedelta(days=n)
        for k, hhmm in enumerate(("09:00", "10:00", "13:00", "15:00")):
            for code in ("consultation", "reinfusion-iv"):
                try:
                    services.book_visit(
                        patients[(n + k) % 6].patient, code, clinic.at(day, hhmm), actor=coordinator
                    )
                    booked += 1
                except DomainError:  # full, or a holiday
                    db.session.rollback()
    db.session.commit()
    chair = clinic.resource("infusion-chair").id
    doctor = clinic.resource("dr-sato").id
    history = Appointment(
        patient_id=patients[0].patient.id,
        course_id=course_of(patients[0]).id,
        visit_type_id=clinic.visit_type("reinfusion-iv").id,
        start_at=utcnow() - timedelta(days=900),
        end_at=utcnow() - timedelta(days=900) + timedelta(minutes=90),
        status=AppointmentStatus.COMPLETED,
    )
    db.session.add(history)
    db.session.flush()
    base = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(days=800)
    rows = [
        {
            "appointment_id": history.id,
            "resource_id": resource,
            "unit_start": base + timedelta(minutes=15 * k),
            "seat": 0,
        }
        for k in range(4000)
        for resource in (chair, doctor)
    ]
    db.session.execute(insert(Hold), rows)
    db.session.commit()
    return booked


@pytest.mark.parametrize("size", ["small", "large"])
@pytest.mark.parametrize("code", ["consultation", "collection", "reinfusion-intrathecal"])
def test_availability_reads_in_at_most_four_statements(
    clinic, coordinator, make_approved_patient, count_queries, size, code
):
    if size == "large":
        assert _fill(clinic, coordinator, make_approved_patient, days=20) > 100
    now = utcnow()
    g.pop("_clinic_settings", None)  # count the settings read too
    with count_queries() as statements:
        starts = queries.availability(code, clinic.today, 62, now, for_patient=True)
    assert starts
    assert len(statements) <= 4, statements
    g.pop("_clinic_settings", None)
    with count_queries() as again:
        queries.availability(code, clinic.today + timedelta(days=30), 7, now, for_patient=False)
    assert len(again) == len(statements)


def test_unknown_or_inactive_visit_type(clinic, manager):
    with pytest.raises(queries.UnknownVisitType):
        queries.availability("massage", clinic.today, 7, utcnow(), for_patient=True)
    clinic.visit_type("reinfusion-iv").is_active = False
    db.session.commit()
    with pytest.raises(queries.UnknownVisitType):
        queries.availability("reinfusion-iv", clinic.today, 7, utcnow(), for_patient=True)


def test_offered_starts_are_exactly_the_bookable_ones(clinic, coordinator, make_user):
    monday = clinic.day(weekday=MONDAY)
    services.book_visit(
        make_user(Role.PATIENT).patient,
        "consultation",
        clinic.at(monday, "10:00"),
        actor=coordinator,
    )
    db.session.commit()
    now = utcnow()
    local = [
        s.astimezone(clinic.cal.tz).strftime("%H:%M")
        for s in queries.availability("consultation", monday, 1, now, for_patient=False)
    ]
    # One doctor on Mondays, busy 10:00-10:45: 09:30 would run into it.
    assert "09:15" in local and "09:30" not in local and "10:30" not in local
    assert "10:45" in local and "11:15" in local and "11:30" not in local and "13:00" in local
    for hhmm in ("09:30", "10:30"):
        with pytest.raises(Conflict):
            services.book_visit(
                make_user(Role.PATIENT).patient,
                "consultation",
                clinic.at(monday, hhmm),
                actor=coordinator,
            )
        db.session.rollback()
    services.book_visit(
        make_user(Role.PATIENT).patient,
        "consultation",
        clinic.at(monday, "10:45"),
        actor=coordinator,
    )


def test_a_moved_visit_sees_its_own_time_as_free(clinic, coordinator, make_user):
    monday = clinic.day(weekday=MONDAY)
    appointment = services.book_visit(
        make_user(Role.PATIENT).patient,
        "consultation",
        clinic.at(monday, "10:00"),
        actor=coordinator,
    )
    db.session.commit()

    def local(**kwargs):
        return {
            s.astimezone(clinic.cal.tz).strftime("%H:%M")
            for s in queries.availability(
                "consultation", monday, 1, utcnow(), for_patient=False, **kwargs
            )
        }

    assert "10:15" not in local()
    assert {"10:00", "10:15"} <= local(exclude_appointment_id=appointment.id)


def test_closures_and_notice(clinic):
    day = clinic.day(weekday=TUESDAY)
    db.session.add(
        Closure(start_at=clinic.at(day, "13:00"), end_at=clinic.at(day, "18:00"), reason="Training")
    )
    db.session.commit()
    starts = queries.availability("consultation", day, 1, utcnow(), for_patient=True)
    local = [s.astimezone(clinic.cal.tz).strftime("%H:%M") for s in starts]
    assert local[0] == "09:00" and local[-1] == "11:15"
    # The notice hides what is less than 48 hours away from patients, not from staff.
    now = clinic.at(day, "09:00") - timedelta(hours=24)
    assert queries.availability("consultation", day, 1, now, for_patient=True) == []
    assert queries.availability("consultation", day, 1, now, for_patient=False)


def test_collection_days_need_an_incubator_place_for_the_whole_window(
    clinic, coordinator, manager, make_approved_patient
):
    from intake.core import settings

    settings.update_settings({"incubator_places": "1"}, actor=manager)
    db.session.commit()
    day = clinic.day(weekday=TUESDAY)
    services.book_visit(
        make_approved_patient().patient, "collection", clinic.at(day, "10:00"), actor=coordinator
    )
    db.session.commit()
    starts = queries.availability("collection", clinic.today, 62, utcnow(), for_patient=False)
    days = {s.astimezone(clinic.cal.tz).date() for s in starts}
    blocked = {day + timedelta(days=n) for n in range(-42, 43)}
    assert days and not days & blocked
    assert any(d > day + timedelta(days=42) for d in days)


def test_a_moved_collection_sees_its_own_culture_place_as_free(
    clinic, coordinator, manager, make_approved_patient, count_queries
):
    from intake.core import settings

    settings.update_settings({"incubator_places": "1"}, actor=manager)
    db.session.commit()
    day = clinic.day(weekday=TUESDAY)
    collection = services.book_visit(
        make_approved_patient().patient, "collection", clinic.at(day, "10:00"), actor=coordinator
    )
    db.session.commit()
    collection_id = collection.id  # (loaded before counting)
    g.pop("_clinic_settings", None)
    with count_queries() as statements:
        starts = queries.availability(
            "collection",
            clinic.today,
            62,
            utcnow(),
            for_patient=False,
            exclude_appointment_id=collection_id,
        )
    assert len(statements) <= 4, statements
    days = {s.astimezone(clinic.cal.tz).date() for s in starts}
    # The course's own place-days count as free for its collection being moved.
    assert day in days and day + timedelta(days=7) in days


def _desk_day(client, day) -> str:
    with client.get(f"/desk?day={day}") as response:
        assert response.status_code == 200
        return response.get_data(as_text=True)


def test_the_front_desk_day_reads_a_fixed_number_of_statements(
    client, clinic, login_as, make_user, count_queries
):
    """The desk's day list sends as many statements for one visit as for a full day."""
    desk = login_as(Role.COORDINATOR)
    day = clinic.day(weekday=TUESDAY)
    services.book_visit(
        make_user(Role.PATIENT).patient, "consultation", clinic.at(day, "09:00"), actor=desk
    )
    db.session.commit()
    with count_queries() as one:
        _desk_day(client, day)
    booked = 1
    for hhmm in ("10:00", "11:00", "13:00", "14:00", "15:00", "16:00"):
        for code in ("consultation", "reinfusion-iv", "reinfusion-local"):
            try:
                services.book_visit(
                    make_user(Role.PATIENT).patient, code, clinic.at(day, hhmm), actor=desk
                )
                db.session.commit()
                booked += 1
            except DomainError:
                db.session.rollback()
    gone = services.book_visit(
        make_user(Role.PATIENT).patient, "consultation", clinic.at(day, "17:00"), actor=desk
    )
    services.cancel_visit(gone, actor=desk, reason="Flight cancelled")
    db.session.commit()
    assert booked >= 6
    with count_queries() as many:
        page = _desk_day(client, day)
    assert page.count("Consultation") >= 2
    assert len(many) == len(one), many
    assert len(many) <= 8, many
