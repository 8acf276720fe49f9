"""Reads for the manager's schedule and its CSV export: a fixed number of
statements whatever the number of visits (DESIGN.md, ``queries.py``).

``schedule()`` sends at most five: the clinic settings (cached for the
request), the resources with the incubator places held each day, the visit
types, the visits with their patients and the resources they hold, and the
closures. Public holidays come from the ``holidays`` package, not the
database. The pure ``intake.manager.schedule`` module lays the rows out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select

from intake.core import settings
from intake.extensions import db
from intake.manager import schedule as pure
from intake.patients.models import Patient, display_name
from intake.scheduling import queries as scheduling
from intake.scheduling.models import (
    Appointment,
    AppointmentStatus,
    Hold,
    Resource,
    ResourceKind,
    VisitType,
)

KIND_ORDER = {
    ResourceKind.ROOM: 0,
    ResourceKind.CHAIR: 1,
    ResourceKind.BED: 2,
    ResourceKind.STAFF: 3,
    ResourceKind.INCUBATOR: 4,
}


@dataclass(frozen=True)
class Places:
    """A per-day resource (the incubator places): its capacity and the places
    used on each day of the window."""

    resource: Resource
    capacity: int
    used: dict[date, int]


@dataclass
class ScheduleData:
    first: date
    last: date
    cal: scheduling.ClinicCalendar
    resources: list[Resource]
    visit_types: list[VisitType]
    visits: list[pure.Visit]
    lanes: list[pure.Lane]
    places: list[Places]
    days: dict[date, pure.DayInfo]
    #: visit id → (record number, name in Latin letters), for the export
    extra: dict[int, tuple[str, str]] = field(default_factory=dict)

    @property
    def resource_by_id(self) -> dict[int, Resource]:
        return {r.id: r for r in self.resources}

    @property
    def visit_type_by_id(self) -> dict[int, VisitType]:
        return {t.id: t for t in self.visit_types}


def _sort_key(resource: Resource, by_id: dict[int, Resource]):
    pool = by_id.get(resource.pool_id) if resource.pool_id else None
    anchor = pool or resource
    return (
        KIND_ORDER.get(resource.kind, 9),
        anchor.position,
        anchor.id,
        resource.pool_id is not None,
        resource.position,
        resource.id,
    )


def schedule(
    first: date,
    last: date,
    *,
    include_cancelled: bool = False,
) -> ScheduleData:
    """Everything the schedule of local days ``first`` … ``last`` shows."""
    values = settings.values()
    cal = scheduling.clinic_calendar(values)
    start, end = cal.day_start(first), cal.day_start(last + timedelta(days=1))

    used = (
        select(Hold.resource_id, Hold.unit_start, func.count().label("n"))
        .where(
            Hold.resource_id.in_(select(Resource.id).where(Resource.is_per_day.is_(True))),
            Hold.unit_start >= start,
            Hold.unit_start < end,
        )
        .group_by(Hold.resource_id, Hold.unit_start)
        .subquery()
    )
    rows = db.session.execute(
        select(Resource, used.c.unit_start, used.c.n)
        .outerjoin(used, used.c.resource_id == Resource.id)
        .order_by(Resource.id)
    ).all()
    resources: dict[int, Resource] = {}
    per_day: dict[int, list] = defaultdict(list)
    for resource, unit_start, n in rows:
        resources[resource.id] = resource
        if unit_start is not None:
            per_day[resource.id].append((unit_start, n))

    visit_types = list(
        db.session.execute(select(VisitType).order_by(VisitType.position, VisitType.id)).scalars()
    )

    in_window = (Appointment.start_at >= start, Appointment.start_at < end)
    query = (
        select(
            Appointment.id,
            Appointment.start_at,
            Appointment.end_at,
            Appointment.status,
            Appointment.mode,
            Appointment.visit_type_id,
            Appointment.patient_id,
            Patient.family_name,
            Patient.given_name,
            Patient.family_name_latin,
            Patient.given_name_latin,
            Patient.record_number,
            Hold.resource_id,
        )
        .join(Patient, Patient.id == Appointment.patient_id)
        # Each visit with each resource it holds once (its holds, one a unit, by
        # the visit's index); a visit holding none comes once with None.
        .outerjoin(Hold, Hold.appointment_id == Appointment.id)
        .where(*in_window)
        .distinct()
        .order_by(Appointment.start_at, Appointment.id, Hold.resource_id)
    )
    if not include_cancelled:
        query = query.where(Appointment.status != AppointmentStatus.CANCELLED)
    held: dict[int, list[int]] = defaultdict(list)
    heads: dict[int, tuple] = {}
    for row in db.session.execute(query):
        heads.setdefault(row.id, row)
        if row.resource_id is not None:
            held[row.id].append(row.resource_id)
    visits, extra = [], {}
    for vid, row in heads.items():
        visits.append(
            pure.Visit(
                id=vid,
                start_at=row.start_at,
                end_at=row.end_at,
                patient_id=row.patient_id,
                patient_name=display_name(row.family_name, row.given_name),
                visit_type_id=row.visit_type_id,
                status=row.status.value,
                resource_ids=tuple(held.get(vid, ())),
                mode=row.mode.value if row.mode else None,
            )
        )
        latin = f"{(row.family_name_latin or '').upper()} {row.given_name_latin or ''}".strip()
        extra[vid] = (row.record_number or "", latin)

    closures = [
        pure.ClosureSpan(c.start_at, c.end_at, c.reason)
        for c in scheduling.load_closures(start, end)
    ]
    days = pure.day_infos(
        pure.days_of(first, last),
        cal.tz,
        open_weekdays=[d for d in range(7) if cal.hours.by_weekday[d]],
        holidays=cal.holidays(first, last),
        closures=closures,
    )

    ordered = sorted(resources.values(), key=lambda r: _sort_key(r, resources))
    held_ids = {rid for v in visits for rid in v.resource_ids}
    pools_with_members = {r.pool_id for r in ordered if r.pool_id and r.is_active}
    lanes = [
        pure.Lane(
            id=r.id,
            label=r.label,
            kind=r.kind.value,
            capacity=scheduling.capacity_of(r, values),
            group=resources[r.pool_id].label if r.pool_id in resources else "",
        )
        for r in ordered
        if not r.is_per_day
        and (r.id not in pools_with_members or r.id in held_ids)
        and (r.is_active or r.id in held_ids)
    ]
    places = [
        Places(
            resource=r,
            capacity=scheduling.capacity_of(r, values),
            used=pure.places_by_day(per_day.get(r.id, ()), cal.tz),
        )
        for r in ordered
        if r.is_per_day and (r.is_active or per_day.get(r.id))
    ]
    return ScheduleData(
        first=first,
        last=last,
        cal=cal,
        resources=ordered,
        visit_types=visit_types,
        visits=visits,
        lanes=lanes,
        places=places,
        days=days,
        extra=extra,
    )
