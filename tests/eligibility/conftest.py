"""Fixtures for the intake tests: reference data, staff, and patients at each step."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from intake.accounts.roles import Role
from intake.core.models import AuditEntry
from intake.eligibility import queries, services
from intake.eligibility.demo import (
    ELIGIBLE_ANSWERS,
    answer_pages,
    approve,
    enter_panel,
    sign_all,
)
from intake.extensions import db
from tests.conftest import PASSWORD
from tests.helpers import course_of


@pytest.fixture
def intake(app):
    """The default question set, indications, panel items and consent texts."""
    services.ensure_reference_data()
    db.session.commit()


@pytest.fixture
def doctor(make_user):
    return make_user(Role.DOCTOR, full_name="Dr. Sato Hiroshi")


@pytest.fixture
def coordinator(make_user):
    return make_user(Role.COORDINATOR, full_name="Chen Mei")


@pytest.fixture
def make_submitted(intake, make_user):
    """A patient whose answers have been sent to the doctor."""

    def make(answers=None, **overrides):
        patient = make_user(Role.PATIENT, **overrides)
        answer_pages(patient, answers or ELIGIBLE_ANSWERS)
        services.submit_questionnaire(patient.patient, actor=patient)
        db.session.commit()
        return patient

    return make


@pytest.fixture
def make_approved(make_submitted, doctor):
    """Approved by the doctor (knee osteoarthritis, local injection), panel ordered."""

    def make(answers=None, **overrides):
        patient = make_submitted(answers, **overrides)
        approve(
            patient, doctor=doctor, doctor_password=PASSWORD, indication="knee_oa", route="local"
        )
        db.session.commit()
        return patient

    return make


@pytest.fixture
def make_ready(make_approved, doctor):
    """Approved, complete panel and both consents signed: may book the collection."""

    def make(**overrides):
        patient = make_approved(**overrides)
        enter_panel(patient, actor=doctor)
        sign_all(patient, password=PASSWORD)
        db.session.commit()
        return patient

    return make


@pytest.fixture
def audit_rows():
    def rows(action: str, **filters):
        query = select(AuditEntry).where(AuditEntry.action == action)
        for name, value in filters.items():
            query = query.where(getattr(AuditEntry, name) == value)
        return list(db.session.execute(query.order_by(AuditEntry.id)).scalars())

    return rows


def current(patient):
    return queries.current_questionnaire(course_of(patient).id)


def error_beside(body: str, field_id: str) -> str:
    """The text of the error shown next to the field with this id."""
    marker = f'id="{field_id}-error"'
    assert marker in body, f"no error beside {field_id}"
    return body.split(marker, 1)[1].split("</div>", 1)[0]
