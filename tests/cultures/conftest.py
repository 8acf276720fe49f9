"""Fixtures for the culture tests that need the app: the seeded clinic, lab
and desk users, and ``make_batch`` (a batch of a completed collection visit
``days_ago`` days back, written directly: no incubator holds)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from intake.accounts.roles import Role
from intake.core.types import utcnow
from intake.cultures import coi
from intake.cultures.lifecycle import BatchState
from intake.cultures.models import Batch, BatchEvent, EventKind, TissueUnit
from intake.extensions import db
from intake.patients.services import current_course
from intake.scheduling.models import Appointment, AppointmentStatus
from tests.scheduling.conftest import Clinic, clinic, coordinator, manager  # noqa: F401


@pytest.fixture
def lab(make_user):
    return make_user(Role.LAB)


@pytest.fixture
def make_batch(clinic, make_patient):  # noqa: F811
    counter = iter(range(1, 10**6))

    def make(
        *,
        days_ago: int = 10,
        state: BatchState = BatchState.IN_CULTURE,
        received: bool = True,
        patient=None,
        counts: tuple[tuple[int, int], ...] = (),
        **overrides,
    ) -> Batch:
        patient = patient or make_patient(with_login=False, family_name="王", given_name="丽")
        course = current_course(patient)
        cal = clinic.cal
        day = clinic.today - timedelta(days=days_ago)
        start = datetime.combine(day, time(10, 0), tzinfo=cal.tz).astimezone(UTC)
        appointment = Appointment(
            patient=patient,
            course=course,
            visit_type=clinic.visit_type("collection"),
            start_at=start,
            end_at=start + timedelta(hours=1),
            status=AppointmentStatus.COMPLETED,
        )
        n = next(counter)
        number = coi.make("TKY", day.year % 100, 900_000 + n)
        fields = dict(
            course=course,
            patient=patient,
            appointment=appointment,
            coi_site="TKY",
            coi_year=day.year % 100,
            coi_sequence=number.sequence,
            coi=coi.format(number),
            state=state,
            planned_dose_low=100_000_000,
            planned_dose_high=200_000_000,
            collected_on=day,
            collected_by="Dr Sato",
            tissue_amount=3,
            tissue_unit=TissueUnit.PIECES,
            blood_volume_ml=50,
            received_at=start + timedelta(hours=2) if received else None,
            received_by="Tanaka" if received else None,
            received_condition="intact" if received else None,
        )
        fields.update(overrides)
        batch = Batch(**fields)
        db.session.add(batch)
        for count_day, cells in counts:
            db.session.add(
                BatchEvent(
                    batch=batch,
                    kind=EventKind.CELL_COUNT,
                    occurred_at=min(start + timedelta(days=count_day, hours=1), utcnow()),
                    cells=cells,
                    viability_percent=Decimal("92"),
                )
            )
        db.session.commit()
        return batch

    make.today = clinic.today
    return make
