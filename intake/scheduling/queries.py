"""Reads for the scheduling screens: lists, the front desk, a visit's page.
Each function sends a fixed number of queries, whatever the number of bookings.

Availability and the clinic calendar are loaded in ``context`` (everything a
scheduling decision needs, in one path); the names other domains read through
this module (``clinic_calendar``, ``availability`` …) are imported here from
there.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, or_, select

from intake.accounts.models import User
from intake.accounts.roles import STAFF_ROLES
from intake.core.models import AuditEntry
from intake.extensions import db
from intake.patients.models import Patient
from intake.patients.search import patient_search_clause
from intake.scheduling import visit_kinds
from intake.scheduling.context import (  # noqa: F401 - read by other domains through queries
    MAX_WINDOW_DAYS,
    ClinicCalendar,
    Plan,
    UnknownVisitType,
    availability,
    bookable_window,
    capacity_of,
    clinic_calendar,
    duration_of,
    load_closures,
    load_plan,
    starts_by_day,
)
from intake.scheduling.models import (
    Appointment,
    AppointmentStatus,
    Closure,
    Hold,
    Resource,
    VisitType,
    VisitTypeSegment,
)
from intake.scheduling.visit_kinds import VisitKind

# --------------------------------------------------------------------------- screens


def visit_type_by_code(code: str) -> VisitType | None:
    return db.session.execute(select(VisitType).where(VisitType.code == code)).scalar_one_or_none()


def visit_types(*, patient_bookable: bool = False, desk_bookable: bool = False) -> list[VisitType]:
    query = select(VisitType).where(VisitType.is_active).order_by(VisitType.position, VisitType.id)
    if patient_bookable:
        query = query.where(VisitType.is_patient_bookable)
    if desk_bookable:
        query = query.where(VisitType.is_desk_bookable)
    return list(db.session.execute(query).scalars())


def my_visits(patient: Patient, now: datetime) -> dict:
    """The patient's visits: upcoming (still to come) and past or cancelled. One query."""
    rows = (
        db.session.execute(
            select(Appointment)
            .join(Appointment.visit_type)
            .where(Appointment.patient_id == patient.id)
            .order_by(Appointment.start_at)
            .options(_with_visit_type())
        )
        .scalars()
        .all()
    )
    upcoming = [a for a in rows if a.is_active and a.end_at > now]
    history = [a for a in reversed(rows) if a not in upcoming][:50]
    return {"upcoming": upcoming, "history": history}


def upcoming_of_kind(
    patient: Patient, visit_type: VisitType, now: datetime, *, course_id: int | None = None
) -> Appointment | None:
    """The patient's (or the course's) next visit that rules out booking
    ``visit_type`` again: the one holding the claim on its kind when the kind
    allows one upcoming visit (``visit_kinds.one_upcoming``, the claim the
    unique index decides on), else a booked visit of the same type."""
    query = select(Appointment).where(
        Appointment.patient_id == patient.id,
        Appointment.end_at > now,
    )
    if course_id is not None:
        query = query.where(Appointment.course_id == course_id)
    if visit_kinds.one_upcoming(visit_type.kind):
        query = query.where(Appointment.upcoming_kind == visit_type.kind)
    else:
        query = query.where(
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.visit_type_id == visit_type.id,
        )
    return db.session.execute(query.order_by(Appointment.start_at).limit(1)).scalar_one_or_none()


def appointment_by_request_key(key: str) -> Appointment | None:
    """The visit a booking form with this idempotency key made, if any."""
    return db.session.execute(
        select(Appointment).where(Appointment.request_key == key)
    ).scalar_one_or_none()


def visit_type_of_kind(kind: str) -> VisitType | None:
    """The first offered, online-bookable visit type of ``kind`` (None if none)."""
    try:
        kind = VisitKind(kind)
    except ValueError:
        return None
    return db.session.execute(
        select(VisitType)
        .where(VisitType.kind == kind, VisitType.is_active, VisitType.is_patient_bookable)
        .order_by(VisitType.position, VisitType.id)
        .limit(1)
    ).scalar_one_or_none()


def _with_visit_type():
    from sqlalchemy.orm import contains_eager

    return contains_eager(Appointment.visit_type)


def day_list(day: date, cal: ClinicCalendar) -> dict:
    """The front desk's list for one local day: every appointment with its patient,
    visit type and the resources it holds. Two queries."""
    start, end = cal.day_start(day), cal.day_start(day + timedelta(days=1))
    rows = db.session.execute(
        select(Appointment, Patient, VisitType)
        .join(Patient, Appointment.patient_id == Patient.id)
        .join(VisitType, Appointment.visit_type_id == VisitType.id)
        .where(Appointment.start_at >= start, Appointment.start_at < end)
        .order_by(Appointment.start_at, Appointment.id)
    ).all()
    ids = [appointment.id for appointment, _p, _vt in rows]
    held = resources_held(ids, start, end)
    active = [r for r in rows if r[0].status != AppointmentStatus.CANCELLED]
    cancelled = [r for r in rows if r[0].status == AppointmentStatus.CANCELLED]
    return {"rows": active, "cancelled": cancelled, "held": held}


def resources_held(
    appointment_ids: list[int], start: datetime, end: datetime
) -> dict[int, list[Resource]]:
    """Appointment id → the unit resources it holds between ``start`` and ``end``."""
    if not appointment_ids:
        return {}
    pairs = (
        select(Hold.appointment_id, Hold.resource_id)
        .where(
            Hold.appointment_id.in_(appointment_ids),
            Hold.unit_start >= start,
            Hold.unit_start < end,
        )
        .distinct()
        .subquery()
    )
    rows = db.session.execute(
        select(pairs.c.appointment_id, Resource)
        .join(Resource, Resource.id == pairs.c.resource_id)
        .where(Resource.is_per_day.is_(False))
        .order_by(pairs.c.appointment_id, Resource.kind, Resource.id)
    ).all()
    held: dict[int, list[Resource]] = defaultdict(list)
    for appointment_id, resource in rows:
        held[appointment_id].append(resource)
    return dict(held)


def appointment_page(appointment: Appointment, cal: ClinicCalendar) -> dict:
    """One appointment for the desk: the resources it holds and its audit history."""
    held = resources_held(
        [appointment.id],
        cal.day_start(cal.local_date(appointment.start_at)),
        cal.day_start(cal.local_date(appointment.start_at) + timedelta(days=1)),
    ).get(appointment.id, [])
    per_day = db.session.execute(
        select(Resource, func.count(Hold.id), func.min(Hold.unit_start), func.max(Hold.unit_start))
        .join(Hold, Hold.resource_id == Resource.id)
        .where(
            or_(
                Hold.appointment_id == appointment.id,
                and_(
                    Hold.course_id == appointment.course_id,
                    appointment.visit_type.day_block_resource_id is not None,
                    Hold.unit_start >= cal.day_start(cal.local_date(appointment.start_at)),
                ),
            ),
            Resource.is_per_day.is_(True),
        )
        .group_by(Resource.id)
    ).all()
    history = (
        db.session.execute(
            select(AuditEntry)
            .where(
                AuditEntry.entity_type == Appointment.__tablename__,
                AuditEntry.entity_id == str(appointment.id),
            )
            .order_by(AuditEntry.id)
        )
        .scalars()
        .all()
    )
    day_holds = [
        (resource, n, cal.local_date(first), cal.local_date(last))
        for resource, n, first, last in per_day
    ]
    return {"held": held, "day_holds": day_holds, "history": history}


def resources_page() -> list[Resource]:
    return list(
        db.session.execute(
            select(Resource).order_by(Resource.kind, Resource.position, Resource.id)
        ).scalars()
    )


def staff_users() -> list[User]:
    return list(
        db.session.execute(
            select(User).where(User.role.in_(STAFF_ROLES), User.is_active).order_by(User.full_name)
        ).scalars()
    )


def visit_types_page() -> list[VisitType]:
    from sqlalchemy.orm import selectinload

    return list(
        db.session.execute(
            select(VisitType)
            .order_by(VisitType.position, VisitType.id)
            .options(selectinload(VisitType.segments).joinedload(VisitTypeSegment.resource))
        ).scalars()
    )


def closures_page(now: datetime) -> dict:
    """Closures that have not ended yet, and the last ten that have."""
    upcoming = (
        db.session.execute(select(Closure).where(Closure.end_at > now).order_by(Closure.start_at))
        .scalars()
        .all()
    )
    past = (
        db.session.execute(
            select(Closure).where(Closure.end_at <= now).order_by(Closure.start_at.desc()).limit(10)
        )
        .scalars()
        .all()
    )
    return {"upcoming": upcoming, "past": past}


def appointments_during(start_at: datetime, end_at: datetime) -> list[Appointment]:
    """Visits still to happen that overlap ``[start_at, end_at)``."""
    return list(
        db.session.execute(
            select(Appointment)
            .where(
                Appointment.status.in_((AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED)),
                Appointment.start_at < end_at,
                Appointment.end_at > start_at,
            )
            .order_by(Appointment.start_at)
        )
        .scalars()
        .all()
    )


def find_patients(search: str, limit: int = 20) -> list[Patient]:
    return list(
        db.session.execute(
            select(Patient)
            .where(patient_search_clause(search))
            .order_by(Patient.family_name, Patient.given_name)
            .limit(limit)
        ).scalars()
    )


def culture_place(course_id: int, cal: ClinicCalendar) -> tuple[date, date] | None:
    """First and last clinic-local day of the incubator place the course's
    culture holds (one query), or None."""
    first, last = db.session.execute(
        select(func.min(Hold.unit_start), func.max(Hold.unit_start)).where(
            Hold.course_id == course_id
        )
    ).one()
    if first is None:
        return None
    return cal.local_date(first), cal.local_date(last)


def course_collection(course_id: int) -> Appointment | None:
    """The course's latest collection visit (the visit that starts a culture)
    that is booked, under way or done."""
    return db.session.execute(
        select(Appointment)
        .join(Appointment.visit_type)
        .where(
            Appointment.course_id == course_id,
            VisitType.day_block_resource_id.is_not(None),
            Appointment.status.in_(
                (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED, AppointmentStatus.COMPLETED)
            ),
        )
        .options(_with_visit_type())
        .order_by(Appointment.start_at.desc())
        .limit(1)
    ).scalar_one_or_none()
