"""Reads for the capacity page: a fixed number of statements whatever the
number of visits, holds or cultures (settings, closures, resources, the
reinfusion visit types, the hold counts, the reinfusion visits and the
cultures not yet dated); the pure ``capacity`` module does the rest."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased

from intake.core import settings
from intake.cultures.lifecycle import BatchState
from intake.cultures.models import Batch
from intake.extensions import db
from intake.manager import capacity as pure
from intake.reinfusion.models import Dose, DoseStatus
from intake.scheduling import queries as scheduling_queries
from intake.scheduling.models import (
    Appointment,
    AppointmentStatus,
    Hold,
    Resource,
    ResourceKind,
    VisitType,
    VisitTypeSegment,
)
from intake.scheduling.visit_kinds import VisitKind

REINFUSION_KINDS = (
    VisitKind.REINFUSION_IV,
    VisitKind.REINFUSION_LOCAL,
    VisitKind.REINFUSION_INTRATHECAL,
)
ROUTE_KINDS = {
    "iv": VisitKind.REINFUSION_IV,
    "local": VisitKind.REINFUSION_LOCAL,
    "intrathecal": VisitKind.REINFUSION_INTRATHECAL,
}
#: A culture that may still be given back: growing, waiting for QC or released.
UNDATED_STATES = (
    BatchState.RECEIVED,
    BatchState.IN_CULTURE,
    BatchState.HARVEST_READY,
    BatchState.QC_PENDING,
    BatchState.RELEASED,
)
#: Reinfusion visits that count as demand (a missed or cancelled one does not).
COUNTED = (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED, AppointmentStatus.COMPLETED)


@dataclass(frozen=True)
class GroupPlan:
    """What one resource group offers reinfusion: its seats and the shortest
    time a reinfusion visit keeps one."""

    seats: int
    visit_minutes: int


@dataclass
class CapacityData:
    today: date
    weeks: list[date]
    demand: pure.Demand
    groups: dict[str, GroupPlan]
    places: list[tuple[date, int]]
    places_capacity: int
    usage: list[tuple[pure.UtilisationResource, list[pure.Usage]]]
    closed_days: frozenset[date]


def _group_plans(rows, values) -> tuple[dict[str, GroupPlan], dict[VisitKind, str]]:
    """From the reinfusion visit types' segments: each group's seats and visit
    length, and the group each reinfusion kind takes (its chair or room)."""
    seats: dict[str, dict[int, int]] = defaultdict(dict)
    minutes: dict[str, int] = {}
    kind_group: dict[VisitKind, str] = {}
    for visit_type, segment, resource in rows:
        if resource.kind not in (ResourceKind.CHAIR, ResourceKind.ROOM):
            continue
        group = resource.kind.value
        duration = scheduling_queries.duration_of(visit_type, values)
        length = segment.duration_minutes or duration - segment.offset_minutes
        if length <= 0:
            continue
        kind_group.setdefault(visit_type.kind, group)
        seats[group][resource.id] = scheduling_queries.capacity_of(resource, values)
        minutes[group] = min(minutes.get(group, length), length)
    plans = {
        group: GroupPlan(sum(seats[group].values()), minutes[group])
        for group in pure.GROUPS
        if group in minutes
    }
    return plans, kind_group


def capacity_page(today: date) -> CapacityData:
    values = settings.values()
    cal = scheduling_queries.clinic_calendar(values)
    weeks = pure.week_starts(today)
    first, last = weeks[0], weeks[-1] + timedelta(days=6)
    start_at, end_at = cal.day_start(first), cal.day_start(last + timedelta(days=1))
    # The windows may reach past the eighth week: open days up to their end.
    horizon = last + timedelta(days=values["culture_max_days"])
    closures = tuple(scheduling_queries.load_closures(start_at, cal.day_start(horizon)))
    days = pure.ClinicDays(
        hours=cal.hours,
        tz=cal.tz,
        closures=closures,
        holidays=cal.holidays(first, horizon),
        unit_minutes=cal.unit_minutes,
    )

    resources = list(
        db.session.execute(
            select(Resource).where(Resource.is_active.is_(True)).order_by(Resource.position)
        ).scalars()
    )
    segment_rows = db.session.execute(
        select(VisitType, VisitTypeSegment, Resource)
        .join(VisitTypeSegment, VisitTypeSegment.visit_type_id == VisitType.id)
        .join(Resource, Resource.id == VisitTypeSegment.resource_id)
        .where(VisitType.kind.in_(REINFUSION_KINDS), VisitType.is_active.is_(True))
        .order_by(VisitType.position, VisitTypeSegment.offset_minutes, VisitTypeSegment.id)
    ).all()
    plans, kind_group = _group_plans(segment_rows, values)

    hold_rows = db.session.execute(
        select(Hold.resource_id, Hold.unit_start, func.count())
        .where(Hold.unit_start >= start_at, Hold.unit_start < end_at)
        .group_by(Hold.resource_id, Hold.unit_start)
    ).all()
    per_day = [(rid, cal.local_date(unit_start), n) for rid, unit_start, n in hold_rows]

    visits = db.session.execute(
        select(Appointment.start_at, VisitType.kind)
        .join(VisitType, Appointment.visit_type_id == VisitType.id)
        .where(
            VisitType.kind.in_(REINFUSION_KINDS),
            Appointment.status.in_(COUNTED),
            Appointment.start_at >= start_at,
            Appointment.start_at < end_at,
        )
    ).all()
    confirmed = [
        (cal.local_date(at), kind_group.get(kind, pure.ROUTE_GROUPS.get(_route_of(kind), "")))
        for at, kind in visits
    ]

    other = aliased(Dose)
    dated = exists().where(
        other.batch_id == Batch.id,
        other.status.in_((DoseStatus.CONFIRMED, DoseStatus.ADMINISTERED)),
    )
    first_dose = and_(
        Dose.batch_id == Batch.id, Dose.number == 1, Dose.status != DoseStatus.CANCELLED
    )
    cultures = db.session.execute(
        select(Batch.collected_on, Dose.route)
        .outerjoin(Dose, first_dose)
        .where(Batch.state.in_(UNDATED_STATES), ~dated)
    ).all()
    min_days, max_days = values["culture_min_days"], values["culture_max_days"]
    windows = [
        pure.window_of(collected_on, min_days, max_days, _group_of(route, kind_group))
        for collected_on, route in cultures
    ]

    capacity = {
        group: [
            pure.weekly_visit_capacity(days, week, plan.visit_minutes, plan.seats) for week in weeks
        ]
        for group, plan in plans.items()
    }
    demand = pure.weekly_demand(
        today=today,
        windows=windows,
        confirmed=confirmed,
        open_days=days.open_days(first, horizon),
        lock_min_days=values["reinfusion_lock_min_days"],
        capacity=capacity,
    )

    per_day_ids = {r.id for r in resources if r.is_per_day}
    places = pure.daily_places(
        ((day, n) for rid, day, n in per_day if rid in per_day_ids), first, 7 * pure.WEEKS
    )
    places_capacity = sum(
        scheduling_queries.capacity_of(r, values) for r in resources if r.is_per_day
    )
    pools = {r.pool_id for r in resources if r.pool_id is not None}
    shown = [
        pure.UtilisationResource(
            id=r.id,
            label=r.label,
            capacity=scheduling_queries.capacity_of(r, values),
            is_per_day=r.is_per_day,
            weekdays=r.weekdays,
        )
        for r in resources
        if r.id not in pools  # a staff group with members: its members are shown
    ]
    usage = pure.utilisation(shown, pure.held_by_week(per_day, first), days, weeks)
    closed = frozenset(
        first + timedelta(days=n)
        for n in range(7 * pure.WEEKS)
        if not days.is_open(first + timedelta(days=n))
    )
    return CapacityData(
        today=today,
        weeks=weeks,
        demand=demand,
        groups=plans,
        places=places,
        places_capacity=places_capacity,
        usage=usage,
        closed_days=closed,
    )


def _route_of(kind: VisitKind) -> str:
    return next((route for route, k in ROUTE_KINDS.items() if k == kind), "")


def _group_of(route: str | None, kind_group: dict[VisitKind, str]) -> str | None:
    """The group a dose's route takes (None: no route planned yet)."""
    if not route:
        return None
    kind = ROUTE_KINDS.get(route)
    return (kind_group.get(kind) if kind is not None else None) or pure.ROUTE_GROUPS.get(route)
