"""Changing patient records and courses. Every function checks who acts,
writes, leaves an audit row and flushes; the view commits."""

from __future__ import annotations

import re
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from intake.accounts.models import User
from intake.accounts.roles import Role
from intake.core import audit
from intake.core.errors import DomainError, NotAllowed
from intake.core.languages import LANGUAGES as LANGUAGE_CODES
from intake.core.types import utcnow
from intake.extensions import db
from intake.patients.models import Course, CourseStatus, Patient, Sex

#: Who may register patients and open or close their courses.
REGISTRARS = (Role.COORDINATOR, Role.DOCTOR)


def phone_digits(phone: str | None) -> str | None:
    digits = re.sub(r"\D", "", phone or "")
    return digits or None


def _snapshot(patient: Patient) -> dict:
    return audit.snapshot(patient, Patient.AUDITED)


def _clean(value: str | None, *, field: str, required: bool, limit: int = 100) -> str | None:
    text = " ".join((value or "").split())
    if required and not text:
        raise DomainError(_("This field is required."), field=field)
    if len(text) > limit:
        raise DomainError(_("Please shorten this text to %(n)s characters.", n=limit), field=field)
    return text or None


def _require_registrar(actor: User | None) -> None:
    if actor is None or actor.role not in REGISTRARS:
        raise NotAllowed(_("Only a coordinator or a doctor can do this."))


def create_patient(
    *,
    family_name: str,
    given_name: str,
    date_of_birth: date | None,
    locale: str,
    actor: User | None,
    family_name_latin: str | None = None,
    given_name_latin: str | None = None,
    sex: Sex | str | None = None,
    nationality: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    user: User | None = None,
    patient_id: int | None = None,
) -> Patient:
    """A new patient record and its first course. ``user`` links a login (a
    patient registering themself); staff register patients without one.
    ``patient_id`` keeps a number given elsewhere (an import)."""
    family = _clean(family_name, field="family_name", required=True)
    given = _clean(given_name, field="given_name", required=False) or ""
    family_latin = _clean(family_name_latin, field="family_name_latin", required=False)
    given_latin = _clean(given_name_latin, field="given_name_latin", required=False)
    if family_latin is None and family.isascii():
        family_latin, given_latin = family, given or None
    if locale not in LANGUAGE_CODES:
        raise DomainError(_("Choose a language."), field="locale")
    nationality = (nationality or "").strip().upper() or None
    if nationality is not None and not re.fullmatch(r"[A-Z]{2}", nationality):
        raise DomainError(_("Choose a country."), field="nationality")
    patient = Patient(
        id=patient_id,
        family_name=family,
        given_name=given,
        family_name_latin=family_latin,
        given_name_latin=given_latin,
        date_of_birth=date_of_birth,
        sex=Sex(sex) if sex else None,
        nationality=nationality,
        phone=(phone or "").strip() or None,
        phone_digits=phone_digits(phone),
        email=(email or "").strip().lower() or None,
        locale=locale,
        user=user,
        created_by_id=actor.id if actor is not None else None,
    )
    db.session.add(patient)
    db.session.flush()
    patient.record_number = f"P{patient.id:06d}"
    course = Course(patient=patient, number=1, opened_by_id=actor.id if actor else None)
    db.session.add(course)
    db.session.flush()
    audit.record(
        actor=actor or user,
        action="patients.register",
        entity=patient,
        after=_snapshot(patient),
        patient=patient,
    )
    return patient


def register_patient_by_staff(*, actor: User, **fields) -> Patient:
    """A coordinator registers a patient who books by phone or walks in."""
    _require_registrar(actor)
    if fields.get("date_of_birth") is None:
        raise DomainError(_("Enter the date of birth."), field="date_of_birth")
    return create_patient(actor=actor, **fields)


def link_login(patient: Patient, user: User, *, actor: User | None) -> None:
    """Link a login account to a patient record (an accepted invitation)."""
    if patient.user_id is not None:
        raise DomainError(_("This patient already has a login."), field="email")
    patient.user = user
    db.session.flush()
    from intake.notifications.models import Message

    db.session.execute(
        Message.__table__.update()
        .where(Message.patient_id == patient.id, Message.user_id.is_(None))
        .values(user_id=user.id)
    )
    audit.record(
        actor=actor or user,
        action="patients.link_login",
        entity=patient,
        after={"user_id": user.id},
        patient=patient,
    )


# --------------------------------------------------------------------------- courses


def current_course(patient: Patient) -> Course:
    """The patient's open course, else their latest one."""
    course = (
        db.session.execute(
            select(Course).where(Course.patient_id == patient.id).order_by(Course.number.desc())
        )
        .scalars()
        .first()
    )
    if course is None:  # a record made before courses existed
        course = Course(patient=patient, number=1)
        db.session.add(course)
        db.session.flush()
    return course


def open_course(patient: Patient) -> Course | None:
    return db.session.execute(
        select(Course).where(Course.patient_id == patient.id, Course.status == CourseStatus.OPEN)
    ).scalar_one_or_none()


def start_new_course(patient: Patient, *, actor: User | None, now: datetime | None = None):
    """A new treatment: allowed once the previous course has ended. The partial
    unique index guarantees one open course per patient, whoever races."""
    if open_course(patient) is not None:
        raise DomainError(
            _("This patient's current treatment course is still in progress."), code="open"
        )
    number = (
        db.session.execute(
            select(func.max(Course.number)).where(Course.patient_id == patient.id)
        ).scalar_one()
        or 0
    ) + 1
    course = Course(
        patient=patient,
        number=number,
        opened_at=now or utcnow(),
        opened_by_id=actor.id if actor is not None else None,
    )
    db.session.add(course)
    db.session.flush()
    audit.record(
        actor=actor,
        action="patients.course_started",
        entity=course,
        after=audit.snapshot(course, Course.AUDITED),
        patient=patient,
    )
    return course


def close_course(
    course: Course,
    status: CourseStatus,
    *,
    actor: User | None,
    reason: str,
    now: datetime | None = None,
) -> None:
    """End a course: halted (consent withdrawn), declined or completed."""
    if status == CourseStatus.OPEN or not course.is_open:
        return
    before = audit.snapshot(course, Course.AUDITED)
    course.status = status
    course.closed_at = now or utcnow()
    course.close_reason = reason
    old, new = audit.changes(before, audit.snapshot(course, Course.AUDITED))
    audit.record(
        actor=actor,
        action="patients.course_closed",
        entity=course,
        before=old,
        after=new,
        patient=course.patient,
    )
    db.session.flush()
