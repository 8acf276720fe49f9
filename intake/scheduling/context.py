"""Everything a scheduling decision needs, loaded once: the clinic calendar,
the visit type's plan (segments, resources, capacities), the closures and the
taken seats of a window, gathered in one ``availability.Situation`` that the
pure ``availability`` module decides on.

Two callers, one path:

* ``availability`` (the free starts of a window, for a screen): at most four
  statements (the clinic settings, the visit type with its plan and the
  ledger's version, the closures, the hold counts). The answer is kept per
  visit type and window under the ledger's version (``models.LedgerVersion``,
  raised in the same transaction by every write to holds, closures, resources,
  visit types and settings) and the settings, so a repeated question costs two
  statements and any change shows in the very next answer, in every process.
* ``load_for_start`` (one start, for a booking): always fresh from the
  database, never from the kept answers; it also returns the taken seats the
  ledger chooses among.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Integer, Select, and_, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from intake.core import settings
from intake.core.clinic import clinic_tz
from intake.core.time import clinic_today
from intake.extensions import db
from intake.scheduling import availability as pure
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
    Closure,
    Hold,
    LedgerVersion,
    Resource,
    VisitType,
    VisitTypeSegment,
    has_ledger_changes,
)

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

    def unit_keys_of_day(self, day: date) -> list[int]:
        """``units_of_day`` as ``availability.unit_key`` whole numbers."""
        keys: list[int] = []
        for anchor, close in regular_intervals(day, self.hours, self.tz):
            first = pure.unit_key(anchor)
            count = -(-(close - anchor) // self.unit)
            keys += range(first, first + count * self.unit_minutes, self.unit_minutes)
        return keys


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
    return resource_capacity(
        resource.is_active, resource.capacity, resource.capacity_setting, values
    )


def resource_capacity(
    is_active: bool, capacity: int | None, setting: str | None, values: dict
) -> int:
    if not is_active:
        return 0
    if setting:
        return int(values.get(setting, 0) or 0)
    return capacity or 0


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


def _plan_statement(code: str) -> Select:
    return (
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
    )


def _plan_of(rows, values: dict) -> Plan | None:
    if not rows:
        return None
    visit_type = rows[0][0]
    segments = {row[1].id: row[1] for row in rows if row[1] is not None}
    resources = {row[2].id: row[2] for row in rows if row[2] is not None}
    return build_plan(visit_type, list(segments.values()), resources, values)


def load_plan(code: str, values: dict | None = None) -> Plan | None:
    """The visit type ``code`` with its segments and every resource that can serve
    them (pool members included), in one statement; None when there is none."""
    values = values if values is not None else settings.values()
    return _plan_of(db.session.execute(_plan_statement(code)).all(), values)


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


# --------------------------------------------------------------------------- the ledger, read


def load_closures(start_at: datetime, end_at: datetime) -> list[ClosureSpan]:
    rows = db.session.execute(
        select(Closure.start_at, Closure.end_at, Closure.reason)
        .where(Closure.start_at < end_at, Closure.end_at > start_at)
        .order_by(Closure.start_at)
    ).all()
    return [ClosureSpan(start, end, reason) for start, end, reason in rows]


class unit_minutes_of(FunctionElement):  # noqa: N801 - reads as a SQL function
    """A timestamp column as whole minutes since 1970-01-01 UTC (``pure.unit_key``),
    computed by the database, so the rows come back as plain integers."""

    type = Integer()
    inherit_cache = True


@compiles(unit_minutes_of, "sqlite")
def _unit_minutes_sqlite(element, compiler, **kw):
    column = compiler.process(element.clauses, **kw)
    return f"(CAST(strftime('%s', {column}) AS INTEGER) / 60)"


@compiles(unit_minutes_of)
def _unit_minutes_default(element, compiler, **kw):
    column = compiler.process(element.clauses, **kw)
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column}) / 60) AS BIGINT)"


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
    rows: Iterable[tuple[int, int, int]],
) -> dict[pure.HoldKey, int]:
    """Seats taken, keyed as the pure module wants (whole numbers): ``(code,
    unit_key)`` for unit resources, ``(code, day_key)`` for per-day ones, from
    ``(resource_id, unit_key, n)`` rows. Staff off duty on a weekday count as
    taken for every unit of that day."""
    owners = plan.owners
    per_day = {code for code, need in plan.needs.items() if need.is_per_day}
    day_of: dict[int, int] = {}
    counts: Counter = Counter()
    for resource_id, minute, n in rows:
        for code in owners.get(resource_id, ()):
            if code in per_day:
                key = day_of.get(minute)
                if key is None:
                    key = day_of[minute] = pure.day_key(cal.local_date(pure.unit_at(minute)))
                counts[code, key] += n
            else:
                counts[code, minute] += n
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
                for minute in cal.unit_keys_of_day(day):
                    for code, capacity in absent:
                        counts[code, minute] += capacity
            day += timedelta(days=1)
    return dict(counts)


def load_hold_counts(
    plan: Plan,
    cal: ClinicCalendar,
    first: date,
    last: date,
    exclude_appointment_id: int | None = None,
    exclude_course_id=None,
) -> dict[pure.HoldKey, int]:
    """One statement: taken seats per resource and unit for starts on ``first`` … ``last``,
    read as plain integers (no datetime is built per row)."""
    conditions = _hold_window(plan, cal, first, last, exclude_appointment_id, exclude_course_id)
    rows = []
    if conditions:
        minute = unit_minutes_of(Hold.unit_start)
        # Core, on the session's connection: plain tuples, no ORM row handling.
        rows = (
            db.session.connection()
            .execute(
                select(Hold.resource_id, minute, func.count())
                .where(or_(*conditions))
                .group_by(Hold.resource_id, Hold.unit_start)
            )
            .all()
        )
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


# --------------------------------------------------------------------------- the situation


def situation(
    plan: Plan,
    cal: ClinicCalendar,
    first: date,
    last: date,
    *,
    closures: list[ClosureSpan],
    holds: dict[pure.HoldKey, int],
) -> pure.Situation:
    """The pure module's one input for starts on ``first`` … ``last`` (no time limits)."""
    return pure.Situation(
        tz=cal.tz,
        hours=cal.hours,
        unit_minutes=cal.unit_minutes,
        capacities={code: need.capacity for code, need in plan.needs.items()},
        holds=holds,
        closures=tuple(closures),
        holiday_dates=cal.holidays(first, last),
    )


def limits(cal: ClinicCalendar, now: datetime, *, for_patient: bool) -> tuple[datetime, datetime]:
    """The earliest and latest start bookable at ``now``."""
    return now + cal.min_notice(for_patient=for_patient), now + cal.horizon


@dataclass(frozen=True)
class StartContext:
    """What deciding and booking one start needs, read once from the database."""

    plan: Plan
    cal: ClinicCalendar
    situation: pure.Situation
    #: ``(resource_id, unit_start, seat)`` already taken (a visit being moved: without its own).
    taken: set


def load_for_start(
    plan: Plan,
    cal: ClinicCalendar,
    start_at: datetime,
    now: datetime,
    *,
    for_patient: bool,
    exclude_appointment_id: int | None = None,
    exclude_course_id: int | None = None,
) -> StartContext:
    """Fresh from the database (two statements): the closures around the visit and
    the seats taken that a start on its day could need."""
    day = cal.local_date(start_at)
    end_at = start_at + timedelta(minutes=plan.duration_minutes)
    closures = load_closures(start_at, end_at)
    taken = load_taken_seats(plan, cal, day, exclude_appointment_id, exclude_course_id)
    counts = hold_counts(
        plan, cal, day, day, ((rid, pure.unit_key(unit), 1) for rid, unit, _seat in taken)
    )
    earliest, latest = limits(cal, now, for_patient=for_patient)
    decided = situation(plan, cal, day, day, closures=closures, holds=counts)
    return StartContext(plan, cal, decided.limited(earliest, latest), taken)


# --------------------------------------------------------------------------- availability


class UnknownVisitType(LookupError):
    """No visit type has this code (or it is switched off)."""


MAX_WINDOW_DAYS = 62
_KEPT_ANSWERS = 256
_kept_lock = threading.Lock()


def _kept() -> OrderedDict:
    return current_app.extensions.setdefault("scheduling_availability", OrderedDict())


def _settings_key(values: dict) -> str:
    return repr(sorted(values.items()))


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
    ``days - 1`` after it. At most four statements (two when the answer is kept).
    Raises ``UnknownVisitType``. ``exclude_appointment_id``: a visit being moved,
    whose own seats count as free."""
    values = settings.values()
    # The plan's rows and the ledger's version, read in one statement.
    version_now = select(LedgerVersion.version).where(LedgerVersion.id == 1).scalar_subquery()
    rows = db.session.execute(_plan_statement(visit_type_code).add_columns(version_now)).all()
    if not rows or not rows[0][0].is_active:
        raise UnknownVisitType(visit_type_code)
    # A transaction that has written holds, closures … sees its own uncommitted
    # rows (the plan's statement flushed them): its answer is neither kept nor
    # taken from the kept ones.
    version = None if has_ledger_changes(db.session) else rows[0][3]
    if days <= 0:
        return []
    cal = clinic_calendar(values)
    first_open, last_open = bookable_window(cal, now)
    first = max(start_date, first_open)
    last = min(start_date + timedelta(days=days - 1), last_open)
    if last < first:
        return []
    earliest, latest = limits(cal, now, for_patient=for_patient)
    key = (version, _settings_key(values), visit_type_code, first, last, exclude_appointment_id)
    kept = _kept()
    with _kept_lock:
        starts = kept.get(key) if version is not None else None
        if starts is not None:
            kept.move_to_end(key)
    if starts is None:
        plan = _plan_of(rows, values)
        starts = _free_starts(plan, cal, first, last, exclude_appointment_id) if plan.pure else ()
        if version is not None:
            with _kept_lock:
                kept[key] = starts
                while len(kept) > _KEPT_ANSWERS:
                    kept.popitem(last=False)
    return pure.within(starts, earliest, latest)


def _free_starts(
    plan: Plan, cal: ClinicCalendar, first: date, last: date, exclude_appointment_id: int | None
) -> tuple[datetime, ...]:
    """Every free start of the window, whatever the time now (two statements)."""
    closures = load_closures(cal.day_start(first), cal.day_start(last + timedelta(days=2)))
    exclude_course_id = None
    if exclude_appointment_id is not None and plan.day_block_days:
        # A collection being moved: its culture's incubator place moves with it.
        # (A subquery, not a statement of its own: the read budget stays at four.)
        exclude_course_id = select(Appointment.course_id).where(
            Appointment.id == exclude_appointment_id
        )
    holds = load_hold_counts(plan, cal, first, last, exclude_appointment_id, exclude_course_id)
    decided = situation(plan, cal, first, last, closures=closures, holds=holds)
    return tuple(pure.free_starts(plan.pure, decided, start_date=first, end_date=last))


def starts_by_day(starts: Iterable[datetime], tz: ZoneInfo) -> dict[date, list[datetime]]:
    grouped: dict[date, list[datetime]] = defaultdict(list)
    for start in starts:
        grouped[start.astimezone(tz).date()].append(start)
    return dict(grouped)
