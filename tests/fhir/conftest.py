"""A completed course to export: the intake through the services (answers,
the doctor's approval, the panel, both consents), one more cross-border
signature that was withdrawn, a collection, a batch grown with counts,
passages and QC and released, an administration with the clearance and
after-vitals, its follow-up contacts, an adverse event, and the course closed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest

from intake.accounts.roles import Role
from intake.cultures.models import BatchEvent, EventKind
from intake.eligibility.models import ConsentKind, ConsentSignature
from intake.extensions import db
from intake.patients.models import Course, CourseStatus, Patient
from intake.reinfusion import aftercare_services
from intake.reinfusion.models import AdverseEvent, Seriousness
from tests.helpers import course_of
from tests.reinfusion.aftercare_fixtures import add_administration, add_released_batch
from tests.scheduling.conftest import clinic  # noqa: F401


@dataclass
class Seeded:
    patient: Patient
    course: Course
    doctor: object
    batch: object
    administration: object


def seed_completed_course(patient_user, doctor, clinic) -> Seeded:  # noqa: F811
    patient = patient_user.patient
    course = course_of(patient)
    tz = clinic.cal.tz
    collected_on = clinic.today - timedelta(days=80)
    batch = add_released_batch(patient, collected_on=collected_on, tz=tz)
    start = batch.received_at
    for day, kind, fields in (
        (3, EventKind.PASSAGE, {"passage_number": 1}),
        (5, EventKind.MEDIUM_CHANGE, {}),
        (10, EventKind.CELL_COUNT, {"cells": 60_000_000, "viability_percent": Decimal("93.5")}),
        (20, EventKind.CELL_COUNT, {"cells": 180_000_000, "viability_percent": Decimal("91")}),
        (
            21,
            EventKind.QC_RESULT,
            {"qc_item": "sterility", "qc_value": "negative", "qc_passed": True},
        ),
        (21, EventKind.QC_RESULT, {"qc_item": "endotoxin", "qc_value": "0.1", "qc_passed": True}),
    ):
        db.session.add(
            BatchEvent(batch=batch, kind=kind, occurred_at=start + timedelta(days=day), **fields)
        )
    administration = add_administration(
        batch, doctor=doctor, given_on=collected_on + timedelta(days=30), tz=tz
    )
    week = aftercare_services.schedule_follow_ups(administration, actor=None)[0]
    week.answers = {
        "feeling": "better",
        "symptoms": ["fever", "other"],
        "symptoms_other": "Tired for a day.",
        "doctor_visit": "no",
    }
    week.answered_at = administration.recorded_at + timedelta(days=8)
    signed = db.session.query(ConsentSignature).filter_by(course_id=course.id).first()
    db.session.add(
        ConsentSignature(
            patient_id=patient.id,
            course_id=course.id,
            document_id=signed.document_id,
            kind=ConsentKind.CROSS_BORDER,
            version=signed.version,
            locale=signed.locale,
            signer_name=signed.signer_name,
            meaning="I consent to my data being sent abroad.",
            text_sha256="0" * 64,
            signed_at=signed.signed_at - timedelta(days=2),
            withdrawn_at=signed.signed_at - timedelta(days=1),
            withdrawal_reason="Signed the wrong language version.",
        )
    )
    db.session.add(
        AdverseEvent(
            course_id=course.id,
            patient_id=patient.id,
            administration_id=administration.id,
            description="Mild fever the evening after the infusion.",
            began_on=collected_on + timedelta(days=30),
            known_on=collected_on + timedelta(days=31),
            seriousness=Seriousness.NOT_SERIOUS,
            recorded_by_id=doctor.id,
        )
    )
    course.status = CourseStatus.COMPLETED
    course.closed_at = administration.recorded_at + timedelta(days=60)
    db.session.commit()
    return Seeded(patient, course, doctor, batch, administration)


@pytest.fixture
def seed_course(make_approved_patient, make_user, clinic):  # noqa: F811
    """``seed_course(**patient_fields)`` → a ``Seeded`` completed course."""

    def make(**fields) -> Seeded:
        patient_user = make_approved_patient(**fields)
        return seed_completed_course(patient_user, make_user(Role.DOCTOR), clinic)

    return make
