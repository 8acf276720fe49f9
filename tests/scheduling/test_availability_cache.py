"""Availability answers may be reused, but never stale: a booking, a
cancellation, a closure or a settings change is visible in the very next
answer, on this app instance and on a second one sharing the database (another
gunicorn worker, another app server). Each request below starts with an empty
settings cache (``g``), as a real request does."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import insert

from intake import create_app
from intake.core import settings
from intake.core.errors import Conflict
from intake.core.types import utcnow
from intake.extensions import db
from intake.scheduling import clinic_setup, ledger, queries, services
from intake.scheduling.models import Closure, Hold

TUESDAY = 1


def _answer(code: str, day, *, days: int = 1, for_patient: bool = False) -> list:
    """One availability request, as a new request sees it."""
    g.pop("_clinic_settings", None)
    return queries.availability(code, day, days, utcnow(), for_patient=for_patient)


@pytest.fixture
def second(app):
    """Another app on the same database, with its own process-wide state (its own
    kept answers), alive for the whole test like another gunicorn worker."""
    other = create_app(
        {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]},
        config_object="config.TestConfig",
    )
    yield other
    with other.app_context():
        db.engine.dispose()


@contextmanager
def _second_instance(other):
    with other.app_context():
        try:
            yield other
        finally:
            db.session.remove()


def _fill(start, coordinator, make_user) -> list:
    """Book consultations at ``start`` until no doctor is left; the last one made."""
    made = []
    while True:
        try:
            made.append(
                services.book_visit(make_user().patient, "consultation", start, actor=coordinator)
            )
            db.session.commit()
        except Conflict:
            db.session.rollback()
            assert made
            return made


def _on_second(other, code, day, **kwargs) -> list:
    with _second_instance(other):
        return _answer(code, day, **kwargs)


def test_a_booking_and_a_cancellation_show_in_the_next_answer(clinic, coordinator, make_user):
    day = clinic.day(weekday=TUESDAY)
    first = _answer("consultation", day)
    assert _answer("consultation", day) == first  # asked twice, same answer
    *_others, appointment = _fill(first[0], coordinator, make_user)
    after_booking = _answer("consultation", day)
    assert first[0] not in after_booking
    services.cancel_visit(appointment, actor=coordinator, reason="Flight cancelled")
    db.session.commit()
    assert _answer("consultation", day) == first


def test_a_closure_and_its_removal_show_in_the_next_answer(clinic, manager):
    day = clinic.day(weekday=TUESDAY)
    first = _answer("consultation", day)
    closure, _visits = clinic_setup.add_closure(
        actor=manager,
        start_at=clinic.at(day, "09:00"),
        end_at=clinic.at(day, "12:00"),
        reason="Training",
    )
    db.session.commit()
    closed = _answer("consultation", day)
    assert closed and min(closed) >= clinic.at(day, "13:00")
    clinic_setup.remove_closure(closure, actor=manager)
    db.session.commit()
    assert _answer("consultation", day) == first


def test_a_settings_change_shows_in_the_next_answer(clinic, manager):
    day = clinic.day(weekday=TUESDAY)
    assert clinic.at(day, "09:00") in _answer("consultation", day)
    settings.update_settings({"open_time": "10:00"}, actor=manager)
    db.session.commit()
    later = _answer("consultation", day)
    assert later and min(later) == clinic.at(day, "10:00")


def test_a_second_instance_sees_a_booking_made_on_the_first(
    second, clinic, coordinator, make_user, count_queries
):
    day = clinic.day(weekday=TUESDAY)
    first = _on_second(second, "consultation", day)
    with _second_instance(second), count_queries() as repeated:
        assert _answer("consultation", day) == first  # the second keeps its answer too
    assert len(repeated) == 2, repeated
    assert first == _answer("consultation", day)  # both instances have answered once
    *_others, appointment = _fill(first[0], coordinator, make_user)
    assert first[0] not in _on_second(second, "consultation", day)
    services.cancel_visit(appointment, actor=coordinator, reason="Flight cancelled")
    db.session.commit()
    assert _on_second(second, "consultation", day) == first


def test_the_first_instance_sees_a_booking_made_on_a_second(second, clinic, coordinator, make_user):
    day = clinic.day(weekday=TUESDAY)
    first = _answer("consultation", day)
    *_others, last = _fill(first[0], coordinator, make_user)
    patient_id, coordinator_id, last_id = make_user().patient.id, coordinator.id, last.id
    services.cancel_visit(last, actor=coordinator, reason="Flight cancelled")
    db.session.commit()
    assert first[0] in _answer("consultation", day)
    with _second_instance(second):
        from intake.accounts.models import User
        from intake.patients.models import Patient

        services.book_visit(
            db.session.get(Patient, patient_id),
            "consultation",
            first[0],
            actor=db.session.get(User, coordinator_id),
        )
        db.session.commit()
    assert last_id
    assert first[0] not in _answer("consultation", day)


def test_a_second_instance_sees_a_closure_and_a_settings_change(second, clinic, manager):
    day = clinic.day(weekday=TUESDAY)
    first = _on_second(second, "consultation", day)
    clinic_setup.add_closure(
        actor=manager,
        start_at=clinic.at(day, "09:00"),
        end_at=clinic.at(day, "12:00"),
        reason="Training",
    )
    db.session.commit()
    closed = _on_second(second, "consultation", day)
    assert closed and closed != first and min(closed) >= clinic.at(day, "13:00")
    settings.update_settings({"close_time": "16:00"}, actor=manager)
    db.session.commit()
    shorter = _on_second(second, "consultation", day)
    assert shorter and max(shorter) < clinic.at(day, "16:00") < max(closed)


def test_a_collection_frees_its_incubator_days_for_the_next_answer(
    clinic, coordinator, manager, make_approved_patient
):
    settings.update_settings({"incubator_places": "1"}, actor=manager)
    db.session.commit()
    day = clinic.day(weekday=TUESDAY)
    before = _answer("collection", clinic.today, days=62)
    collection = services.book_visit(
        make_approved_patient().patient, "collection", clinic.at(day, "10:00"), actor=coordinator
    )
    db.session.commit()
    booked = _answer("collection", clinic.today, days=62)
    assert not {s.astimezone(clinic.cal.tz).date() for s in booked} & {
        day + timedelta(days=n) for n in range(-42, 43)
    }
    # The culture ends early: its place is given back from the day after tomorrow.
    ledger.release_culture_place(
        collection.course, from_day=day, actor=coordinator, reason="Failed"
    )
    db.session.commit()
    assert len(_answer("collection", clinic.today, days=62)) > len(booked)
    assert before


def test_a_repeated_question_costs_two_statements(clinic, count_queries):
    day = clinic.day(weekday=TUESDAY)
    g.pop("_clinic_settings", None)
    with count_queries() as first:
        answer = queries.availability("collection", clinic.today, 62, utcnow(), for_patient=True)
    g.pop("_clinic_settings", None)
    with count_queries() as again:
        assert (
            queries.availability("collection", clinic.today, 62, utcnow(), for_patient=True)
            == answer
        )
    assert answer and len(first) == 4 and len(again) == 2, (first, again)
    assert _answer("consultation", day)


def test_a_booking_decides_on_the_ledger_not_on_a_kept_answer(clinic, coordinator, make_user):
    """A seat written behind the application's back (no version raised) leaves
    the kept answer stale; the booking still reads the ledger and refuses."""
    day = clinic.day(weekday=TUESDAY)
    start = _answer("consultation", day)[0]
    *_others, last = _fill(start, coordinator, make_user)
    holds = [(h.resource_id, h.unit_start, h.seat) for h in clinic.holds(last)]
    patient = make_user().patient
    services.cancel_visit(last, actor=coordinator, reason="Flight cancelled")
    db.session.commit()
    assert start in _answer("consultation", day)
    with db.engine.begin() as conn:  # not through the session: no version raised
        conn.execute(
            insert(Hold),
            [
                {"appointment_id": last.id, "resource_id": r, "unit_start": u, "seat": s}
                for r, u, s in holds
            ],
        )
    assert start in _answer("consultation", day)  # the kept answer, stale by design here
    with pytest.raises(Conflict):
        services.book_visit(patient, "consultation", start, actor=coordinator)
    db.session.rollback()


def test_a_resource_switched_off_shows_in_the_next_answer_on_both_instances(second, clinic):
    day = clinic.day(weekday=TUESDAY)
    assert _answer("consultation", day) and _on_second(second, "consultation", day)
    clinic.resource("doctor").is_active = False  # the doctors' pool
    db.session.commit()
    assert _answer("consultation", day) == []
    assert _on_second(second, "consultation", day) == []
    clinic.resource("doctor").is_active = True
    db.session.commit()
    assert _answer("consultation", day) and _on_second(second, "consultation", day)


def test_a_transaction_rolled_back_leaves_kept_answers_usable(clinic, count_queries):
    day = clinic.day(weekday=TUESDAY)
    first = _answer("consultation", day)
    db.session.add(
        Closure(start_at=clinic.at(day, "09:00"), end_at=clinic.at(day, "18:00"), reason="x")
    )
    db.session.flush()
    db.session.rollback()
    g.pop("_clinic_settings", None)
    with count_queries() as statements:
        assert _answer("consultation", day) == first
    assert len(statements) == 2, statements


def test_a_transaction_sees_its_own_booking_and_keeps_no_answer_of_it(
    clinic, coordinator, make_user
):
    """Booked but not committed: this transaction's answer has the start taken;
    rolled back, the next answer has it free again (nothing kept from before)."""
    day = clinic.day(weekday=TUESDAY)
    first = _answer("consultation", day)
    patients = [make_user().patient for _ in range(3)]
    db.session.commit()
    for patient in patients:
        try:
            services.book_visit(patient, "consultation", first[0], actor=coordinator)
        except Conflict:
            break
    assert first[0] not in _answer("consultation", day)
    db.session.rollback()
    assert _answer("consultation", day) == first
