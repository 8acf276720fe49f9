"""Reads for the patient screens (a fixed number of queries each)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select

from intake.accounts.models import User
from intake.accounts.roles import Role
from intake.core.clinic import clinic_today
from intake.core.models import AuditEntry
from intake.eligibility.queries import patient_journey
from intake.extensions import db
from intake.notifications.models import Message
from intake.scheduling.queries import my_visits


def patient_list(search: str | None, page: int):
    query = select(User).where(User.role == Role.PATIENT).order_by(User.created_at.desc())
    if search:
        like = f"%{search.strip().lower()}%"
        query = query.where(
            or_(
                func.lower(User.full_name).like(like),
                func.lower(User.email).like(like),
                User.phone.like(like),
            )
        )
    return db.paginate(query, page=page, per_page=25, error_out=False)


def patient_home(user: User) -> dict:
    unread = db.session.execute(
        select(func.count())
        .select_from(Message)
        .where(Message.user_id == user.id, Message.read_at.is_(None))
    ).scalar_one()
    return {"unread": unread}


def patient_record(patient: User, *, now: datetime) -> dict:
    """Everything the desk needs on one page: where the patient is in the
    journey, what still blocks the collection visit, their visits, and the
    latest changes to their records."""
    journey = patient_journey(patient, today=clinic_today(now))
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
    return {"recent": recent, "intake": journey, "visits": my_visits(patient, now)}
