"""What the after-care tests need and other parts build: an administration.

``add_administration`` writes the chain directly (a released batch, dose 1, a
completed reinfusion visit, a go clearance, a matching bedside check and the
administration), so these tests do not depend on the day's services.
``make_administration`` is the fixture form."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from intake.core.types import utcnow
from intake.cultures import coi
from intake.cultures.lifecycle import BatchState
from intake.cultures.models import Batch, TissueUnit
from intake.extensions import db
from intake.patients.services import current_course
from intake.reinfusion.models import (
    Administration,
    BedsideCheck,
    Clearance,
    Decision,
    Dose,
    DoseStatus,
    FollowUp,
)
from intake.scheduling import queries as scheduling_queries
from intake.scheduling.models import Appointment, AppointmentStatus, VisitType


def add_released_batch(patient, *, collected_on: date, tz) -> Batch:
    """A released batch of a completed collection visit on ``collected_on``
    (written directly: no incubator holds)."""
    course = current_course(patient)
    start = datetime.combine(collected_on, time(10, 0), tzinfo=tz).astimezone(UTC)
    visit = Appointment(
        patient=patient,
        course=course,
        visit_type=_visit_type("collection"),
        start_at=start,
        end_at=start + timedelta(hours=1),
        status=AppointmentStatus.COMPLETED,
    )
    number = coi.make("AFT", collected_on.year % 100, 500_000 + patient.id)
    batch = Batch(
        course=course,
        patient=patient,
        appointment=visit,
        coi_site="AFT",
        coi_year=collected_on.year % 100,
        coi_sequence=number.sequence,
        coi=coi.format(number),
        state=BatchState.RELEASED,
        planned_dose_low=100_000_000,
        planned_dose_high=200_000_000,
        collected_on=collected_on,
        collected_by="Dr Sato",
        tissue_amount=3,
        tissue_unit=TissueUnit.PIECES,
        blood_volume_ml=50,
        received_at=start + timedelta(hours=2),
        received_by="Tanaka",
        received_condition="intact",
    )
    db.session.add_all([visit, batch])
    db.session.flush()
    return batch


def given_with_follow_ups(
    patient, *, doctor, days_ago: int = 10
) -> tuple[Administration, FollowUp]:
    """For the security world: an administration ``days_ago`` days back with
    its follow-up contacts; returns it and its first (due) contact."""
    from intake.reinfusion import aftercare_services

    tz = scheduling_queries.clinic_calendar().tz
    today = scheduling_queries.clinic_calendar().today(utcnow())
    batch = add_released_batch(patient, collected_on=today - timedelta(days=days_ago + 30), tz=tz)
    administration = add_administration(
        batch, doctor=doctor, given_on=today - timedelta(days=days_ago), tz=tz
    )
    first = aftercare_services.schedule_follow_ups(administration, actor=None)[0]
    return administration, first


def _visit_type(code: str) -> VisitType:
    return db.session.execute(select(VisitType).where(VisitType.code == code)).scalar_one()


def add_administration(batch, *, doctor, given_on: date, tz) -> Administration:
    """Dose 1 of ``batch`` given on ``given_on`` at 10:00 clinic time."""
    patient, course = batch.patient, batch.course
    start = datetime.combine(given_on, time(10, 0), tzinfo=tz).astimezone(UTC)
    visit_type = _visit_type("reinfusion-iv")
    batch.state = BatchState.ADMINISTERED
    visit = Appointment(
        patient=patient,
        course=course,
        visit_type=visit_type,
        start_at=start,
        end_at=start + timedelta(minutes=90),
        status=AppointmentStatus.COMPLETED,
    )
    dose = Dose(
        course=course,
        patient=patient,
        batch=batch,
        number=1,
        route="iv",
        planned_cells=150_000_000,
        status=DoseStatus.ADMINISTERED,
        appointment=visit,
    )
    db.session.add_all([visit, dose])
    db.session.flush()
    ids = dict(appointment_id=visit.id, dose_id=dose.id, course_id=course.id, patient_id=patient.id)
    clearance = Clearance(
        **ids,
        doctor_id=doctor.id,
        systolic=120,
        diastolic=80,
        pulse=70,
        temperature_c=Decimal("36.5"),
        spo2=98,
        decision=Decision.GO,
        signed_at=start - timedelta(minutes=20),
    )
    check = BedsideCheck(
        **ids,
        label_read=batch.coi,
        batch_id=batch.id,
        name_read=patient.full_name,
        date_of_birth_read=patient.date_of_birth,
        matched=True,
        checked_by_id=doctor.id,
        checked_at=start - timedelta(minutes=5),
    )
    db.session.add_all([clearance, check])
    db.session.flush()
    administration = Administration(
        **ids,
        batch_id=batch.id,
        clearance_id=clearance.id,
        bedside_check_id=check.id,
        route="iv",
        cells_given=150_000_000,
        started_at=start,
        ended_at=start + timedelta(minutes=50),
        observed_until=start + timedelta(minutes=85),
        systolic_after=118,
        diastolic_after=78,
        pulse_after=72,
        temperature_c_after=Decimal("36.6"),
        spo2_after=98,
        given_by_id=doctor.id,
        recorded_at=start + timedelta(minutes=90),
    )
    db.session.add(administration)
    db.session.flush()
    return administration


@pytest.fixture
def make_administration(make_batch, make_user, clinic):
    """An administration ``days_ago`` days back (clinic days) for ``patient``
    (a new patient with a login by default)."""
    from intake.accounts.roles import Role

    def make(*, days_ago: int = 0, patient=None, doctor=None) -> Administration:
        given = clinic.today - timedelta(days=days_ago)
        batch = make_batch(patient=patient, days_ago=days_ago + 30, state=BatchState.RELEASED)
        doctor = doctor or make_user(Role.DOCTOR)
        administration = add_administration(batch, doctor=doctor, given_on=given, tz=clinic.cal.tz)
        db.session.commit()
        return administration

    return make
