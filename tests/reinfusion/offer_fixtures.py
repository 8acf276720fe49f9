"""Fixtures for the proposal and lock tests (a plugin of each test module,
``pytest_plugins``): the seeded clinic, staff, a patient ready for treatment (knee
osteoarthritis: local injection or IV drip) and their culture batch collected
``days_ago`` days back, and helpers to propose and confirm."""

from __future__ import annotations

from datetime import datetime

import pytest

from intake.accounts.roles import Role
from intake.extensions import db
from intake.reinfusion import services
from intake.reinfusion.models import Dose
from tests.cultures.conftest import lab, make_batch  # noqa: F401
from tests.eligibility.conftest import (  # noqa: F401
    coordinator,
    doctor,
    intake,
    make_approved,
    make_ready,
    make_submitted,
)
from tests.scheduling.conftest import clinic, manager  # noqa: F401


class Offer:
    """One patient's batch, and the staff around it."""

    def __init__(self, *, patient_user, batch, staff: dict, seeded):
        self.user = patient_user
        self.patient = patient_user.patient
        self.batch = batch
        self.coordinator = staff["coordinator"]
        self.doctor = staff["doctor"]
        self.lab = staff["lab"]
        self.clinic = seeded

    def valid(self, route: str = "local", dose: Dose | None = None) -> list[datetime]:
        _window, times = services.valid_times(self.batch, dose, route)
        return times

    def propose(self, count: int = 3, route: str = "local", *, actor=None):
        times = self.spread(count, route)
        proposals = services.propose_for_batch(
            self.batch, times, route, actor=actor or self.coordinator
        )
        db.session.commit()
        return proposals

    def spread(self, count: int, route: str = "local") -> list[datetime]:
        """``count`` valid times on different days."""
        by_day: dict = {}
        for start in self.valid(route):
            by_day.setdefault(self.clinic.cal.local_date(start), start)
        days = sorted(by_day)
        assert len(days) >= count, "not enough valid days"
        return [by_day[d] for d in days[:count]]

    def confirm(self, proposal):
        dose = services.confirm(proposal, actor=self.user)
        db.session.commit()
        return dose

    def locked(self):
        """Proposed and confirmed: the dose with its locked visit."""
        proposals = self.propose()
        return self.confirm(proposals[0])


@pytest.fixture
def offer(clinic, make_ready, make_batch, coordinator, doctor, lab, make_user):  # noqa: F811
    """A batch on day 10 of its culture: the window (28-42) is 18-32 days ahead."""

    def make(*, days_ago: int = 10, locale: str = "en", **batch_fields) -> Offer:
        user = make_ready(locale=locale)
        batch = make_batch(days_ago=days_ago, patient=user.patient, **batch_fields)
        return Offer(
            patient_user=user,
            batch=batch,
            staff={"coordinator": coordinator, "doctor": doctor, "lab": lab},
            seeded=clinic,
        )

    return make


@pytest.fixture
def other_patient(make_user):
    return make_user(Role.PATIENT)
