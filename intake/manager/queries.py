"""Reads for the manager's screens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select

from intake.accounts.models import User
from intake.core.models import AuditEntry
from intake.core.types import utcnow
from intake.extensions import db
from intake.notifications.models import DeliveryStatus, Message
from intake.patients.models import Course, CourseStatus
from intake.scheduling.models import WaitlistEntry, WaitlistStatus


def waitlist_summary(now: datetime) -> dict:
    """How many patients wait for a freed collection day, and since when the
    oldest wish waits (joined, whole days waiting). One statement."""
    length, oldest = db.session.execute(
        select(func.count(), func.min(WaitlistEntry.joined_at))
        .join(Course, Course.id == WaitlistEntry.course_id)
        .where(WaitlistEntry.status == WaitlistStatus.WAITING, Course.status == CourseStatus.OPEN)
    ).one()
    return {
        "length": length,
        "oldest": oldest,
        "days": (now - oldest).days if oldest is not None else None,
    }


def overview(now: datetime | None = None) -> dict:
    """Active accounts by role (counted from the (is_active, role) index alone),
    the outbox's waiting and failed messages, the latest audit entries, the
    collection waitlist."""
    by_role = dict(
        db.session.execute(
            select(User.role, func.count()).where(User.is_active.is_(True)).group_by(User.role)
        ).all()
    )
    # Only the two statuses shown, found through the status index: the sent
    # messages (nearly the whole table in a clinic in use) are not read.
    shown = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)
    outbox = dict(
        db.session.execute(
            select(Message.status, func.count())
            .where(Message.status.in_(shown))
            .group_by(Message.status)
        ).all()
    )
    recent = (
        db.session.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(10))
        .scalars()
        .all()
    )
    return {
        "by_role": by_role,
        "outbox_pending": outbox.get(DeliveryStatus.PENDING, 0),
        "outbox_failed": outbox.get(DeliveryStatus.FAILED, 0),
        "recent": recent,
        "waitlist": waitlist_summary(now or utcnow()),
    }


def audit_page(
    *,
    patient_id=None,
    actor_id=None,
    entity_type=None,
    entity_id=None,
    action=None,
    page=1,
    only_actions: tuple[str, ...] | None = None,
):
    """A page of the trail, newest first. ``only_actions``: the action
    prefixes the reader may see (None: all)."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if only_actions is not None:
        query = query.where(or_(*(AuditEntry.action.startswith(p) for p in only_actions)))
    if patient_id:
        query = query.where(AuditEntry.patient_id == patient_id)
    if actor_id:
        query = query.where(AuditEntry.actor_id == actor_id)
    if entity_type:
        query = query.where(AuditEntry.entity_type == entity_type)
    if entity_id:
        query = query.where(AuditEntry.entity_id == entity_id)
    if action:
        query = query.where(AuditEntry.action.startswith(action))
    return db.paginate(query, page=page, per_page=50, error_out=False)


def people_named(ids) -> dict[int, User]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {u.id: u for u in db.session.execute(select(User).where(User.id.in_(ids))).scalars()}
