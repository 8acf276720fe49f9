"""Reads for the scheduling screens, and the loading that availability and
booking share. Each function sends a fixed number of queries, whatever the
number of bookings.

``availability`` reads, in at most four statements: the clinic settings (cached
for the request), the visit type with its segments and resources, the closures
of the window and the hold counts of the window; the pure ``availability``
module then computes the free starts.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, or_, select

from intake.accounts.models import User
from intake.accounts.roles import STAFF_ROLES
from intake.core import settings
from intake.core.clinic import clinic_tz
from intake.core.models import AuditEntry, Setting
from intake.core.settings_schema import BY_KEY, parse
from intake.core.time import clinic_today
from intake.extensions import db
from intake.patients.models import Patient
from intake.patients.search import patient_search_clause
from intake.scheduling import availability as pure
from intake.scheduling import visit_kinds
from intake.scheduling.calendar import (
    Closure as ClosureSpan,
)
from intake.scheduling.calendar import (
    OpeningHours,
    japanese_holidays,
    regular_intervals,
    wall_to_utc,
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

MAX_WINDOW_DAYS = 62


class UnknownVisitType(LookupError):
    """No visit type has this code (or it is switched off)."""


# --------------------------------------------------------------------------- the calendar


@lru_cache(maxsize=16)
def _holidays_of(years: tuple[int, ...]) -> frozenset[date]:
    return frozenset(japanese_holidays(years))


@dataclass(frozen=True)
class ClinicCalendar:
    """The clinic's calendar settings, read once per request."""

    tz: ZoneInfo
    hours: OpeningHours
    unit_minutes: int
    min_notice_hours: int
    horizon_days: int
    culture_max_days: int
    closed_on_holidays: bool

    @property
    def unit(self) -> timedelta:
        return timedelta(minutes=self.unit_minutes)

    @property
    def horizon(self) -> timedelta:
        return timedelta(days=self.horizon_days)

    def min_notice(self, *, for_patient: bool) -> timedelta:
        return timedelta(hours=self.min_notice_hours) if for_patient else timedelta(0)

    def holidays(self, first: date, last: date) -> frozenset[date]:
        if not self.closed_on_holidays:
            return frozenset()
        return _holidays_of(tuple(range(first.year, last.year + 1)))

    def day_start(self, day: date) -> datetime:
        """The UTC instant of local midnight (the key of per-day holds)."""
        return wall_to_utc(day, time(0), self.tz, as_end=False)

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.tz).date()

    def today(self, now: datetime) -> date:
        return clinic_today(now, self.tz)

    def units_of_day(self, day: date) -> list[datetime]:
        """The unit grid of ``day``: from each opening time, every ``unit`` until closing."""
        units = []
        for anchor, close in regular_intervals(day, self.hours, self.tz):
            at = anchor
            while at < close:
                units.append(at)
                at += self.unit
        return units


def clinic_calendar(values: dict | None = None) -> ClinicCalendar:
    values = values if values is not None else settings.values()
    break_start, break_end = values["break_start"], values["break_end"]
    if not break_start < break_end:
        break_start = break_end = None
    hours = OpeningHours.simple(
        values["open_weekdays"], values["open_time"], values["close_time"], break_start, break_end
    )
    return ClinicCalendar(
        tz=clinic_tz(),
        hours=hours,
        unit_minutes=values["slot_minutes"],
        min_notice_hours=values["min_notice_hours"],
        horizon_days=values["horizon_days"],
        culture_max_days=values["culture_max_days"],
        closed_on_holidays=values["closed_on_public_holidays"],
    )


# --------------------------------------------------------------------------- visit plans


def capacity_of(resource: Resource, values: dict) -> int:
    """A resource's capacity: its clinic setting when it has one; 0 when switched off."""
    return _capacity(resource.is_active, resource.capacity, resource.capacity_setting, values)


def _capacity(is_active: bool, capacity: int | None, setting: str | None, values: dict) -> int:
    if not is_active:
        return 0
    if setting:
        return int(values.get(setting, 0) or 0)
    return capacity or 0


def fresh_setting_values(keys: Iterable[str]) -> dict:
    """Clinic settings read from the database now (``settings.values()`` is read
    once per request, before any lock was taken)."""
    keys = sorted(set(keys))
    if not keys:
        return {}
    stored = dict(
        db.session.execute(select(Setting.key, Setting.value).where(Setting.key.in_(keys))).all()
    )
    return {key: parse(BY_KEY[key], stored.get(key, BY_KEY[key].default)) for key in keys}


def lock_capacities(plan: Plan) -> dict[int, int]:
    """Lock the resources a booking takes seats of, then read their capacities
    (resource id → seats). PostgreSQL: ``FOR SHARE``, which bookings share and a
    capacity change (an ``UPDATE`` of the row) waits for, so the capacity read
    here holds until the booking commits. SQLite: the booking has already
    written its appointment row, so it holds the database's one write lock and
    no capacity change can run before it commits."""
    ids = sorted({s.id for need in plan.needs.values() for s in need.seatables})
    return lock_resource_capacities(ids)


def lock_resource_capacities(ids: Iterable[int]) -> dict[int, int]:
    ids = sorted(set(ids))
    if not ids:
        return {}
    rows = db.session.execute(
        select(Resource.id, Resource.is_active, Resource.capacity, Resource.capacity_setting)
        .where(Resource.id.in_(ids))
        .order_by(Resource.id)
        .with_for_update(read=True)
    ).all()
    values = fresh_setting_values(r.capacity_setting for r in rows if r.capacity_setting)
    return {r.id: _capacity(r.is_active, r.capacity, r.capacity_setting, values) for r in rows}


@dataclass(frozen=True)
class Seatable:
    """A resource that carries hold rows (a plain resource, or one pool member)."""

    id: int
    code: str
    capacity: int
    weekdays: frozenset[int] | None


@dataclass(frozen=True)
class Need:
    """A resource code a visit type asks for, and the resources that can serve it."""

    code: str
    resource_id: int
    is_per_day: bool
    capacity: int
    seatables: tuple[Seatable, ...]


@dataclass(frozen=True)
class Plan:
    """What availability and booking need to know about one visit type."""

    visit_type: VisitType
    duration_minutes: int
    pure: pure.VisitType | None  # None when the visit type has no usable segment
    needs: dict[str, Need]
    #: Resource id → the codes whose seat count its holds add to.
    owners: dict[int, tuple[str, ...]]

    @property
    def day_block_days(self) -> int:
        return max((block.days for block in self.pure.day_blocks), default=0) if self.pure else 0


def duration_of(visit_type: VisitType, values: dict) -> int:
    if visit_type.duration_setting:
        return int(values[visit_type.duration_setting])
    return visit_type.duration_minutes or 0


def load_plan(code: str, values: dict | None = None) -> Plan | None:
    """The visit type ``code`` with its segments and every resource that can serve
    them (pool members included), in one statement; None when there is none."""
    values = values if values is not None else settings.values()
    rows = db.session.execute(
        select(VisitType, VisitTypeSegment, Resource)
        .outerjoin(VisitTypeSegment, VisitTypeSegment.visit_type_id == VisitType.id)
        .outerjoin(
            Resource,
            or_(
                Resource.id == VisitTypeSegment.resource_id,
                Resource.pool_id == VisitTypeSegment.resource_id,
                Resource.id == VisitType.day_block_resource_id,
                Resource.pool_id == VisitType.day_block_resource_id,
            ),
        )
        .where(VisitType.code == code)
        .order_by(VisitTypeSegment.offset_minutes, VisitTypeSegment.id, Resource.id)
    ).all()
    if not rows:
        return None
    visit_type = rows[0][0]
    segments = {seg.id: seg for _vt, seg, _r in rows if seg is not None}
    resources = {r.id: r for _vt, _seg, r in rows if r is not None}
    return build_plan(visit_type, list(segments.values()), resources, values)


def build_plan(
    visit_type: VisitType,
    segments: list[VisitTypeSegment],
    resources: dict[int, Resource],
    values: dict,
) -> Plan:
    duration = duration_of(visit_type, values)
    needs: dict[str, Need] = {}

    def need_for(resource_id: int) -> Need | None:
        resource = resources.get(resource_id)
        if resource is None:
            return None
        if resource.code not in needs:
            members = [r for r in resources.values() if r.pool_id == resource.id and r.is_active]
            serving = members if members and resource.is_active else [resource]
            seatables = tuple(
                Seatable(r.id, r.code, capacity_of(r, values), r.weekdays) for r in serving
            )
            needs[resource.code] = Need(
                code=resource.code,
                resource_id=resource.id,
                is_per_day=resource.is_per_day,
                capacity=sum(s.capacity for s in seatables) if resource.is_active else 0,
                seatables=seatables,
            )
        return needs[resource.code]

    pure_segments = []
    for segment in segments:
        need = need_for(segment.resource_id)
        length = segment.duration_minutes or duration - segment.offset_minutes
        if need is None or need.is_per_day or length <= 0:
            continue
        pure_segments.append(
            pure.Segment(segment.offset_minutes, length, need.code, segment.quantity)
        )
    blocks = []
    if visit_type.day_block_resource_id is not None:
        need = need_for(visit_type.day_block_resource_id)
        if need is not None:
            blocks.append(
                pure.DayBlock.through_day(
                    need.code, values["culture_max_days"], visit_type.day_block_quantity
                )
            )
    visit = pure.VisitType(tuple(pure_segments), tuple(blocks)) if pure_segments else None
    owners: dict[int, list[str]] = defaultdict(list)
    for need in needs.values():
        for seatable in need.seatables:
            owners[seatable.id].append(need.code)
        if need.resource_id not in {s.id for s in need.seatables}:
            owners[need.resource_id].append(need.code)  # holds written on the pool itself
    return Plan(
        visit_type=visit_type,
        duration_minutes=duration,
        pure=visit,
        needs=needs,
        owners={rid: tuple(codes) for rid, codes in owners.items()},
    )


# --------------------------------------------------------------------------- the ledger


def load_closures(start_at: datetime, end_at: datetime) -> list[ClosureSpan]:
    rows = db.session.execute(
        select(Closure.start_at, Closure.end_at, Closure.reason)
        .where(Closure.start_at < end_at, Closure.end_at > start_at)
        .order_by(Closure.start_at)
    ).all()
    return [ClosureSpan(start, end, reason) for start, end, reason in rows]


def _hold_window(
    plan: Plan,
    cal: ClinicCalendar,
    first: date,
    last: date,
    exclude_appointment_id=None,
    exclude_course_id=None,
):
    """The hold rows that matter for starts on local days ``first`` … ``last``
    (leaving out those of ``exclude_appointment_id``, a visit being moved, and
    of ``exclude_course_id``, the culture place of a collection being moved)."""
    owners = plan.owners
    per_day_codes = {code for code, need in plan.needs.items() if need.is_per_day}
    unit_ids = sorted(i for i, codes in owners.items() if not set(codes) & per_day_codes)
    day_ids = sorted(i for i, codes in owners.items() if set(codes) & per_day_codes)
    start = cal.day_start(first)
    conditions = []
    if unit_ids:
        conditions.append(
            and_(
                Hold.resource_id.in_(unit_ids),
                Hold.unit_start >= start,
                Hold.unit_start < cal.day_start(last + timedelta(days=1)),
            )
        )
    if day_ids:
        conditions.append(
            and_(
                Hold.resource_id.in_(day_ids),
                Hold.unit_start >= start,
                Hold.unit_start < cal.day_start(last + timedelta(days=plan.day_block_days + 1)),
            )
        )
    if conditions and exclude_appointment_id is not None:
        conditions = [
            and_(
                or_(*conditions),
                or_(Hold.appointment_id.is_(None), Hold.appointment_id != exclude_appointment_id),
            )
        ]
    if conditions and exclude_course_id is not None:
        # An id, or a one-column select of it (no extra statement for the caller).
        if not isinstance(exclude_course_id, Select):
            exclude_course_id = [exclude_course_id]
        conditions = [
            and_(
                or_(*conditions),
                or_(Hold.course_id.is_(None), Hold.course_id.not_in(exclude_course_id)),
            )
        ]
    return conditions


def hold_counts(
    plan: Plan,
    cal: ClinicCalendar,
    first: date,
    last: date,
    rows: Iterable[tuple[int, datetime, int]],
) -> dict[pure.HoldKey, int]:
    """Seats taken, keyed as the pure module wants: ``(code, unit_start)`` for unit
    resources, ``(code, local_date)`` for per-day ones. Staff off duty on a weekday
    count as taken for every unit of that day."""
    owners = plan.owners
    counts: Counter = Counter()
    for resource_id, unit_start, n in rows:
        for code in owners.get(resource_id, ()):
            if plan.needs[code].is_per_day:
                counts[code, cal.local_date(unit_start)] += n
            else:
                counts[code, unit_start] += n
    off_duty = [
        (need.code, seatable)
        for need in plan.needs.values()
        if not need.is_per_day
        for seatable in need.seatables
        if seatable.weekdays is not None and seatable.capacity
    ]
    if off_duty:
        day = first
        while day <= last:
            absent = [(code, s.capacity) for code, s in off_duty if day.weekday() not in s.weekdays]
            if absent:
                for unit in cal.units_of_day(day):
                    for code, capacity in absent:
                        counts[code, unit] += capacity
            day += timedelta(days=1)
    return dict(counts)


def load_hold_counts(
    plan: Plan,
    cal: ClinicCalendar,
    first: date,
    last: date,
    exclude_appointment_id: int | None = None,
    exclude_course_id: int | None = None,
) -> dict[pure.HoldKey, int]:
    """One statement: taken seats per resource and unit for starts on ``first`` … ``last``."""
    conditions = _hold_window(plan, cal, first, last, exclude_appointment_id, exclude_course_id)
    rows = []
    if conditions:
        rows = db.session.execute(
            select(Hold.resource_id, Hold.unit_start, func.count())
            .where(or_(*conditions))
            .group_by(Hold.resource_id, Hold.unit_start)
        ).all()
    return hold_counts(plan, cal, first, last, rows)


def load_taken_seats(
    plan: Plan,
    cal: ClinicCalendar,
    day: date,
    exclude_appointment_id: int | None = None,
    exclude_course_id: int | None = None,
) -> set[tuple[int, datetime, int]]:
    """Every ``(resource_id, unit_start, seat)`` taken that a start on ``day`` could need."""
    conditions = _hold_window(plan, cal, day, day, exclude_appointment_id, exclude_course_id)
    if not conditions:
        return set()
    rows = db.session.execute(
        select(Hold.resource_id, Hold.unit_start, Hold.seat).where(or_(*conditions))
    ).all()
    return {(resource_id, unit_start, seat) for resource_id, unit_start, seat in rows}


# --------------------------------------------------------------------------- availability


def bookable_window(cal: ClinicCalendar, now: datetime) -> tuple[date, date]:
    """The first and last local day on which anything could be booked."""
    return cal.today(now), cal.local_date(now + cal.horizon)


def availability(
    visit_type_code: str,
    start_date: date,
    days: int,
    now: datetime,
    *,
    for_patient: bool,
    exclude_appointment_id: int | None = None,
) -> list[datetime]:
    """Free UTC starts of ``visit_type_code`` on local days ``start_date`` and the
    ``days - 1`` after it. At most four statements. Raises ``UnknownVisitType``.
    ``exclude_appointment_id``: a visit being moved, whose own seats count as free."""
    values = settings.values()
    plan = load_plan(visit_type_code, values)
    if plan is None or not plan.visit_type.is_active:
        raise UnknownVisitType(visit_type_code)
    if plan.pure is None or days <= 0:
        return []
    cal = clinic_calendar(values)
    first_open, last_open = bookable_window(cal, now)
    first = max(start_date, first_open)
    last = min(start_date + timedelta(days=days - 1), last_open)
    if last < first:
        return []
    closures = load_closures(cal.day_start(first), cal.day_start(last + timedelta(days=2)))
    exclude_course_id = None
    if exclude_appointment_id is not None and plan.day_block_days:
        # A collection being moved: its culture's incubator place moves with it.
        # (A subquery, not a statement of its own: the read budget stays at four.)
        exclude_course_id = select(Appointment.course_id).where(
            Appointment.id == exclude_appointment_id
        )
    holds = load_hold_counts(plan, cal, first, last, exclude_appointment_id, exclude_course_id)
    return pure.free_starts(
        plan.pure,
        start_date=first,
        end_date=last,
        tz=cal.tz,
        hours=cal.hours,
        closures=closures,
        holiday_dates=cal.holidays(first, last),
        unit_minutes=cal.unit_minutes,
        capacities={code: need.capacity for code, need in plan.needs.items()},
        holds=holds,
        now=now,
        min_notice=cal.min_notice(for_patient=for_patient),
        horizon=cal.horizon,
    )


def starts_by_day(starts: Iterable[datetime], tz: ZoneInfo) -> dict[date, list[datetime]]:
    grouped: dict[date, list[datetime]] = defaultdict(list)
    for start in starts:
        grouped[start.astimezone(tz).date()].append(start)
    return dict(grouped)


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
