"""Trips: who may record them, the checks (all at once, nothing half-saved),
cancelling keeps the row, every write audited; and the verdicts the
collection booking reads (settings and closures taken into account)."""

from datetime import UTC, datetime, time, timedelta

import pytest
from flask import g
from sqlalchemy import func, select

from intake.accounts.roles import Role
from intake.core import settings
from intake.core.errors import DomainError, FormErrors, NotAllowed
from intake.core.models import AuditEntry, Setting
from intake.core.types import utcnow
from intake.extensions import db
from intake.patients import trip_services as trips
from intake.patients.models import Trip
from intake.reinfusion.trips import Verdict
from intake.scheduling.models import Closure


def _audit(action):
    return list(
        db.session.execute(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        ).scalars()
    )


def _count_trips():
    return db.session.execute(select(func.count()).select_from(Trip)).scalar_one()


@pytest.fixture
def patient(clinic, make_user):
    return make_user(Role.PATIENT)


def test_the_patient_adds_a_trip_audited(clinic, patient):
    today = clinic.today
    trip = trips.add_trip(
        patient.patient,
        arrives_on=today + timedelta(days=40),
        departs_on=today + timedelta(days=50),
        note="  Hotel   Okura ",
        actor=patient,
    )
    db.session.commit()
    assert trip.note == "Hotel Okura" and trip.created_by_id == patient.id
    [entry] = _audit("patients.trip_add")
    assert entry.patient_id == patient.patient.id and entry.actor_id == patient.id
    assert entry.after["arrives_on"] == (today + timedelta(days=40)).isoformat()


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.DOCTOR])
def test_coordinators_and_doctors_add_trips_for_a_patient(clinic, patient, make_user, role):
    staff = make_user(role)
    trip = trips.add_trip(
        patient.patient,
        arrives_on=clinic.today,
        departs_on=clinic.today,
        actor=staff,
    )
    assert trip.patient_id == patient.patient.id
    assert _audit("patients.trip_add")[0].actor_id == staff.id


@pytest.mark.parametrize("role", [Role.MANAGER, Role.LAB, Role.ADMIN])
def test_other_staff_may_not(clinic, patient, make_user, role):
    with pytest.raises(NotAllowed):
        trips.add_trip(
            patient.patient,
            arrives_on=clinic.today,
            departs_on=clinic.today,
            actor=make_user(role),
        )


def test_another_patient_may_not(clinic, patient, make_user):
    other = make_user(Role.PATIENT)
    with pytest.raises(NotAllowed):
        trips.add_trip(
            patient.patient, arrives_on=clinic.today, departs_on=clinic.today, actor=other
        )


def test_every_problem_at_once_and_nothing_saved(clinic, patient):
    today = clinic.today
    trips.add_trip(
        patient.patient,
        arrives_on=today + timedelta(days=10),
        departs_on=today + timedelta(days=20),
        actor=patient,
    )
    db.session.commit()
    with pytest.raises(FormErrors) as caught:
        trips.add_trip(
            patient.patient,
            arrives_on=today + timedelta(days=15),
            departs_on=today + timedelta(days=800),
            note="x" * 201,
            actor=patient,
        )
    db.session.rollback()
    fields = sorted(e.field for e in caught.value.errors)
    assert fields == ["arrives_on", "departs_on", "note"]
    assert _count_trips() == 1
    assert len(_audit("patients.trip_add")) == 1


@pytest.mark.parametrize(
    "arrives, departs, field, words",
    [
        (10, 9, "departs_on", "on or after the arrival"),
        (-10, -1, "departs_on", "over"),
        (10, 731, "departs_on", "2 years"),
        (None, 5, "arrives_on", "arrive"),
        (5, None, "departs_on", "leave"),
    ],
)
def test_bad_trips(clinic, patient, arrives, departs, field, words):
    def day(n):
        return None if n is None else clinic.today + timedelta(days=n)

    with pytest.raises(DomainError) as caught:
        trips.add_trip(
            patient.patient, arrives_on=day(arrives), departs_on=day(departs), actor=patient
        )
    assert caught.value.field == field and words in caught.value.message
    db.session.rollback()
    assert _count_trips() == 0


def test_a_cancelled_trip_does_not_block_another(clinic, patient):
    today = clinic.today
    first = trips.add_trip(
        patient.patient,
        arrives_on=today + timedelta(days=10),
        departs_on=today + timedelta(days=20),
        actor=patient,
    )
    trips.cancel_trip(first, actor=patient)
    trips.add_trip(
        patient.patient,
        arrives_on=today + timedelta(days=12),
        departs_on=today + timedelta(days=18),
        actor=patient,
    )
    db.session.commit()
    assert _count_trips() == 2
    assert [t.departs_on for t in trips.planned(patient.patient)] == [today + timedelta(days=18)]


def test_change_records_before_and_after(clinic, patient):
    today = clinic.today
    trip = trips.add_trip(
        patient.patient,
        arrives_on=today + timedelta(days=10),
        departs_on=today + timedelta(days=20),
        actor=patient,
    )
    # Moving it over its own old dates is no overlap.
    trips.change_trip(
        trip,
        arrives_on=today + timedelta(days=12),
        departs_on=today + timedelta(days=20),
        actor=patient,
    )
    db.session.commit()
    [entry] = _audit("patients.trip_change")
    assert entry.before == {"arrives_on": (today + timedelta(days=10)).isoformat()}
    assert entry.after == {"arrives_on": (today + timedelta(days=12)).isoformat()}
    # No change, no row.
    trips.change_trip(trip, arrives_on=trip.arrives_on, departs_on=trip.departs_on, actor=patient)
    assert len(_audit("patients.trip_change")) == 1


def test_cancel_keeps_the_row_and_cannot_be_repeated(clinic, patient):
    trip = trips.add_trip(
        patient.patient, arrives_on=clinic.today, departs_on=clinic.today, actor=patient
    )
    trips.cancel_trip(trip, actor=patient)
    db.session.commit()
    assert db.session.get(Trip, trip.id).cancelled_at is not None
    [entry] = _audit("patients.trip_cancel")
    assert entry.before["cancelled_at"] is None and entry.after["cancelled_at"]
    with pytest.raises(DomainError, match="cancelled"):
        trips.cancel_trip(trip, actor=patient)
    db.session.rollback()
    with pytest.raises(DomainError, match="cancelled"):
        trips.change_trip(
            db.session.get(Trip, trip.id),
            arrives_on=clinic.today,
            departs_on=clinic.today,
            actor=patient,
        )


def test_a_trip_that_is_over_cannot_be_changed(clinic, patient):
    trip = trips.add_trip(
        patient.patient, arrives_on=clinic.today, departs_on=clinic.today, actor=patient
    )
    db.session.commit()
    later = utcnow() + timedelta(days=3)
    with pytest.raises(DomainError, match="over"):
        trips.cancel_trip(trip, actor=patient, now=later)


# --------------------------------------------------------------------------- the booking's verdicts


def test_no_trips_no_verdicts(clinic, patient):
    assert trips.collection_fits(patient.patient, [clinic.day()]) is None
    assert trips.collection_fit(patient.patient, clinic.day()) is None


def _trip(patient, first, last):
    trip = trips.add_trip(patient.patient, arrives_on=first, departs_on=last, actor=patient)
    db.session.commit()
    return trip


def test_verdicts_follow_the_window_settings(clinic, patient):
    day = clinic.day(min_days=4)
    _trip(patient, day + timedelta(days=36), day + timedelta(days=40))
    assert trips.collection_fit(patient.patient, day).verdict == Verdict.FITS
    db.session.get(Setting, "culture_min_days").value = "21"
    db.session.get(Setting, "culture_max_days").value = "35"
    db.session.commit()
    g.pop("_clinic_settings", None)  # the settings are read once per request
    result = trips.collection_fit(patient.patient, day)
    assert result.window == (day + timedelta(days=21), day + timedelta(days=35))
    assert result.verdict == Verdict.MISSES


def test_a_closure_over_the_trip_makes_it_miss(clinic, patient):
    day = clinic.day(min_days=4)
    first = clinic.day(min_days=(day - clinic.today).days + 36)  # an open day in the window
    _trip(patient, first, first)
    assert trips.collection_fit(patient.patient, day).verdict == Verdict.FITS
    tz = clinic.cal.tz
    db.session.add(
        Closure(
            start_at=datetime.combine(first, time(0), tzinfo=tz).astimezone(UTC),
            end_at=datetime.combine(first + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC),
            reason="Staff training",
        )
    )
    db.session.commit()
    assert trips.collection_fit(patient.patient, day).verdict == Verdict.MISSES


def test_fits_for_many_days_take_two_statements(clinic, patient, count_queries):
    day = clinic.day(min_days=4)
    _trip(patient, day + timedelta(days=30), day + timedelta(days=40))
    settings.values()  # cached for the request
    record = patient.patient
    assert record.id  # loaded before counting
    days = [day + timedelta(days=n) for n in range(28)]
    with count_queries() as statements:
        fits = trips.collection_fits(record, days)
    assert len(fits) == 28
    assert len(statements) == 2, statements
