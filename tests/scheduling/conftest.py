"""Fixtures for the scheduling tests that need the app: a seeded clinic (the
demo resources and visit types, no bookings, no closures) and helpers to name
days and times in the clinic's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import delete, func, select

from intake.accounts.roles import Role
from intake.core import settings
from intake.core.types import utcnow
from intake.extensions import db
from intake.scheduling import queries
from intake.scheduling.demo import seed_scheduling
from intake.scheduling.models import (
    Appointment,
    Closure,
    Hold,
    LedgerVersion,
    Resource,
    VisitType,
)
from tests.conftest import PASSWORD


class Clinic:
    """The seeded clinic: Mon-Sat 09:00-18:00, lunch 12-13, Asia/Tokyo."""

    def __init__(self):
        self.cal = queries.clinic_calendar()

    @property
    def today(self) -> date:
        return self.cal.today(utcnow())

    def day(self, weekday: int | None = None, min_days: int = 4) -> date:
        """The first open, non-holiday day at least ``min_days`` ahead (on ``weekday``)."""
        day = self.today + timedelta(days=min_days)
        holidays = self.cal.holidays(day, day + timedelta(days=60))
        for _ in range(60):
            if not (
                day in holidays
                or not self.cal.units_of_day(day)
                or (weekday is not None and day.weekday() != weekday)
            ):
                return day
            day += timedelta(days=1)
        raise AssertionError("no open day in the next 60 days")

    def weekday(self, weekday: int, min_days: int = 4) -> date:
        """The first ``weekday`` at least ``min_days`` ahead, open or not."""
        day = self.today + timedelta(days=min_days)
        return day + timedelta(days=(weekday - day.weekday()) % 7)

    def at(self, day: date, hhmm: str) -> datetime:
        local = datetime.combine(day, time.fromisoformat(hhmm), tzinfo=self.cal.tz)
        return local.astimezone(UTC)

    def resource(self, code: str) -> Resource:
        return db.session.execute(select(Resource).where(Resource.code == code)).scalar_one()

    def visit_type(self, code: str) -> VisitType:
        return db.session.execute(select(VisitType).where(VisitType.code == code)).scalar_one()

    def count(self, model) -> int:
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()

    def holds(self, appointment: Appointment) -> list[Hold]:
        """The visit's own holds (rooms, chairs, beds, staff)."""
        return list(
            db.session.execute(
                select(Hold).where(Hold.appointment_id == appointment.id).order_by(Hold.id)
            ).scalars()
        )

    def incubator_holds(self, course_id: int) -> list[Hold]:
        """The incubator place-days a course's culture holds, day by day."""
        return list(
            db.session.execute(
                select(Hold).where(Hold.course_id == course_id).order_by(Hold.unit_start, Hold.id)
            ).scalars()
        )


@pytest.fixture
def clinic(app):
    settings.seed_defaults()
    seed_scheduling(password=PASSWORD, with_bookings=False)
    db.session.execute(delete(Closure))  # tests add the closures they need
    if db.session.get(LedgerVersion, 1) is None:  # PostgreSQL: emptied by TRUNCATE
        db.session.add(LedgerVersion(id=1, version=0))
    db.session.commit()
    return Clinic()


@pytest.fixture
def coordinator(make_user):
    return make_user(Role.COORDINATOR)


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER)
