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

from intake.cultures.lifecycle import BatchState
from intake.extensions import db
from intake.reinfusion.models import (
    Administration,
    BedsideCheck,
    Clearance,
    Decision,
    Dose,
    DoseStatus,
)
from intake.scheduling.models import Appointment, AppointmentStatus, VisitType


def add_administration(batch, *, doctor, given_on: date, tz) -> Administration:
    """Dose 1 of ``batch`` given on ``given_on`` at 10:00 clinic time."""
    patient, course = batch.patient, batch.course
    start = datetime.combine(given_on, time(10, 0), tzinfo=tz).astimezone(UTC)
    visit_type = db.session.execute(
        select(VisitType).where(VisitType.code == "reinfusion-iv")
    ).scalar_one()
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
