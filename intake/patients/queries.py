"""Reads for the patient screens (a fixed number of queries each)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import and_, func, or_, select

from intake.accounts.models import User
from intake.core.clinic import clinic_today
from intake.core.models import AuditEntry
from intake.eligibility.queries import course_journey
from intake.extensions import db
from intake.notifications.models import Message
from intake.patients.models import Course, Patient
from intake.patients.services import current_course, phone_digits
from intake.scheduling.queries import my_visits


def _like_escape(text: str) -> str:
    """A search term taken literally: ``%`` and ``_`` match only themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def patient_search_clause(search: str):
    """Name (own script or Latin), record number, e-mail or phone digits."""
    term = _like_escape(" ".join(search.split()).lower())
    like = f"%{term}%"
    clauses = [
        func.lower(Patient.family_name + " " + Patient.given_name).like(like, escape="\\"),
        func.lower(Patient.family_name + Patient.given_name).like(like, escape="\\"),
        func.lower(
            func.coalesce(Patient.given_name_latin, "")
            + " "
            + func.coalesce(Patient.family_name_latin, "")
        ).like(like, escape="\\"),
        func.lower(
            func.coalesce(Patient.family_name_latin, "")
            + " "
            + func.coalesce(Patient.given_name_latin, "")
        ).like(like, escape="\\"),
        func.lower(func.coalesce(Patient.email, "")).like(like, escape="\\"),
        func.lower(func.coalesce(Patient.record_number, "")).like(like, escape="\\"),
    ]
    digits = phone_digits(search)
    if digits and len(digits) >= 4:
        clauses.append(Patient.phone_digits.like(f"%{digits}%"))
    return or_(*clauses)


def patient_list(search: str | None, page: int):
    query = select(Patient).order_by(Patient.created_at.desc(), Patient.id.desc())
    if search:
        query = query.where(patient_search_clause(search))
    return db.paginate(query, page=page, per_page=25, error_out=False)


def possible_duplicates(
    *, family_name: str, given_name: str, date_of_birth: date | None, phone: str | None
) -> list[Patient]:
    """Records that may be the same person: the same name and date of birth,
    or the same phone number (digits compared). Shown to staff, never merged."""
    family = " ".join((family_name or "").split()).lower()
    given = " ".join((given_name or "").split()).lower()
    clauses = []
    if family and date_of_birth is not None:
        clauses.append(
            and_(
                Patient.date_of_birth == date_of_birth,
                or_(
                    and_(
                        func.lower(Patient.family_name) == family,
                        func.lower(Patient.given_name) == given,
                    ),
                    and_(
                        func.lower(func.coalesce(Patient.family_name_latin, "")) == family,
                        func.lower(func.coalesce(Patient.given_name_latin, "")) == given,
                    ),
                ),
            )
        )
    digits = phone_digits(phone)
    if digits and len(digits) >= 6:
        clauses.append(Patient.phone_digits == digits)
    if not clauses:
        return []
    return list(
        db.session.execute(select(Patient).where(or_(*clauses)).order_by(Patient.id).limit(10))
        .scalars()
        .all()
    )


def patient_home(user: User, *, now: datetime) -> dict:
    unread = db.session.execute(
        select(func.count())
        .select_from(Message)
        .where(Message.user_id == user.id, Message.read_at.is_(None))
    ).scalar_one()
    patient = user.patient
    data = {"unread": unread, "patient": patient}
    if patient is not None:
        course = current_course(patient)
        data["intake"] = course_journey(course, today=clinic_today(now), now=now)
        data["visits"] = my_visits(patient, now)
    return data


def courses_of(patient: Patient) -> list[Course]:
    return list(
        db.session.execute(
            select(Course).where(Course.patient_id == patient.id).order_by(Course.number.desc())
        ).scalars()
    )


def patient_record(patient: Patient, *, now: datetime) -> dict:
    """Everything the desk needs on one page: where the course stands (the same
    journey the patient sees), what still blocks the collection visit, their
    visits, their courses and the latest changes to their records."""
    course = current_course(patient)
    journey = course_journey(course, today=clinic_today(now), now=now)
    recent = (
        db.session.execute(
            select(AuditEntry)
            .where(AuditEntry.patient_id == patient.id)
            .order_by(AuditEntry.id.desc())
            .limit(20)
        )
        .scalars()
        .all()
    )
    return {
        "recent": recent,
        "intake": journey,
        "visits": my_visits(patient, now),
        "courses": courses_of(patient),
        "course": course,
    }
