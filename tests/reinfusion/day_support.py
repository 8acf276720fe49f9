"""Fixtures for the reinfusion day's tests: a confirmed, locked reinfusion
visit of a released batch, built directly (no proposals code): an approved
patient, a released batch (``tests/cultures/conftest.py``'s ``make_batch``), a
confirmed ``Dose`` and its visit, booked through the scheduling engine on an
open day ahead (``on_day``) or written for today (``today=True``: today may be
a Sunday or a holiday, which the engine would refuse)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest

from intake.accounts.roles import Role
from intake.core.types import utcnow
from intake.cultures.lifecycle import BatchState
from intake.cultures.models import Batch
from intake.extensions import db
from intake.reinfusion.models import Dose, DoseSource, DoseStatus
from intake.scheduling import services as scheduling
from intake.scheduling.models import Appointment, AppointmentStatus
from tests.cultures.conftest import lab, make_batch  # noqa: F401
from tests.helpers import course_of
from tests.scheduling.conftest import Clinic, clinic, coordinator, manager  # noqa: F401

DOB = date(1968, 5, 17)
CELLS = 100_000_000


@dataclass
class DayVisit:
    appointment: Appointment
    dose: Dose
    batch: Batch
    day: date
    clinic: Clinic

    @property
    def patient(self):
        return self.appointment.patient

    def at(self, hhmm: str) -> datetime:
        return self.clinic.at(self.day, hhmm)


@pytest.fixture
def doctor(make_user):
    return make_user(Role.DOCTOR)


@pytest.fixture
def day_patient(make_approved_patient):
    return make_approved_patient(
        family_name="王",
        given_name="丽",
        family_name_latin="Wang",
        given_name_latin="Li",
        date_of_birth=DOB,
    ).patient


@pytest.fixture
def make_day_visit(clinic, make_batch, coordinator, day_patient):  # noqa: F811
    def make(
        *,
        today: bool = False,
        on_day: date | None = None,
        batch: Batch | None = None,
        number: int = 1,
        route: str = "iv",
        cells: int = CELLS,
        interval_days: int | None = None,
    ) -> DayVisit:
        batch = batch or make_batch(patient=day_patient, state=BatchState.RELEASED, days_ago=30)
        code = {"iv": "reinfusion-iv", "local": "reinfusion-local"}.get(
            route, "reinfusion-intrathecal"
        )
        if today:
            now = utcnow().replace(second=0, microsecond=0)
            start = now - timedelta(hours=3)
            if clinic.cal.local_date(start) != clinic.cal.local_date(now):
                start = clinic.cal.day_start(clinic.cal.local_date(now))
            visit_type = clinic.visit_type(code)
            appointment = Appointment(
                patient=day_patient,
                course=course_of(day_patient),
                visit_type=visit_type,
                start_at=start,
                end_at=start + timedelta(minutes=90),
                status=AppointmentStatus.BOOKED,
                booked_by=coordinator,
            )
            db.session.add(appointment)
            day = clinic.cal.local_date(start)
        else:
            day = on_day or clinic.day(min_days=4)
            start = clinic.at(day, "10:00")
            appointment = scheduling.book_visit(
                day_patient,
                code,
                start,
                actor=coordinator,
                now=start - timedelta(days=2),
                send_confirmation=False,
            )
        appointment.locked_at = utcnow()
        dose = db.session.query(Dose).filter_by(batch_id=batch.id, number=number).one_or_none()
        if dose is None:
            dose = Dose(
                course_id=batch.course_id,
                patient_id=batch.patient_id,
                batch=batch,
                number=number,
                route=route,
                planned_cells=cells,
                interval_days=interval_days,
                source=DoseSource.FRESH if number == 1 else DoseSource.CRYOPRESERVED,
            )
            db.session.add(dose)
        dose.status = DoseStatus.CONFIRMED
        dose.appointment = appointment
        db.session.commit()
        return DayVisit(appointment, dose, batch, day, clinic)

    return make
