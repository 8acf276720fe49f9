"""The manager's set-up of the calendar: resources (capacity, staff groups and
working days), visit types (length, the resources each part needs) and
closures (whole days or hours, with a reason).

Like every service: applies the rules, writes, leaves an audit row, flushes;
the view commits. Capacities and lengths that are clinic settings
(``incubator_places``, ``consultation_minutes`` …) are changed through
``settings.update_settings`` so there is one value, audited once.

A capacity change never leaves more holds than seats (DESIGN.md, "No double
booking"). It first locks the resource rows exclusively (an ``UPDATE``: on
PostgreSQL it waits for every booking holding them ``FOR SHARE``, see
``ledger.lock_capacities``, and holds off new ones; on SQLite it takes the
database's one write lock), then looks at the holds from today on: a day with
more holds than the new capacity refuses the change, naming the days; holds
on seat numbers at or above it, on days where they still fit, move down to
free seats of the same unit, so no seat at or above the capacity stays taken.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from intake.accounts.models import User
from intake.accounts.roles import STAFF_ROLES, Role
from intake.core import audit, settings
from intake.core.errors import DomainError, NotAllowed
from intake.core.types import utcnow
from intake.extensions import db
from intake.scheduling import ledger, queries
from intake.scheduling.calendar import wall_to_utc
from intake.scheduling.models import (
    LOCALES,
    Appointment,
    Closure,
    Hold,
    Resource,
    ResourceKind,
    VisitMode,
    VisitType,
    VisitTypeSegment,
    format_weekdays,
)
from intake.scheduling.visit_kinds import VisitKind

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
MAX_CLOSURE_DAYS = 366
# A closure further ahead is a typing error (e.g. 2999 for 2029).
MAX_CLOSURE_YEARS_AHEAD = 5


def _require_manager(actor: User | None) -> None:
    if actor is None or actor.role != Role.MANAGER:
        raise NotAllowed(_("Only a manager can change this."))


NAME_FIELDS = {"en": "name_en", "zh_Hans": "name_zh", "ja": "name_ja"}


def _names(names: dict) -> dict:
    cleaned = {loc: (names.get(loc) or "").strip()[:120] for loc in LOCALES}
    for loc, text in cleaned.items():
        if "\x00" in text:
            raise DomainError(
                _("A name cannot contain control characters."), field=NAME_FIELDS.get(loc)
            )
    if not cleaned["en"]:
        raise DomainError(_("Enter at least the English name."), field="name_en")
    return {loc: text for loc, text in cleaned.items() if text}


# --------------------------------------------------------------------------- capacity

SHOWN_DAYS = 6


def lock_for_capacity_change(resource_ids) -> None:
    """Lock the resource rows against bookings until the transaction ends: an
    ``UPDATE`` that changes nothing takes the row lock on PostgreSQL (waiting
    for bookings that hold the rows ``FOR SHARE``) and the write lock on SQLite."""
    ids = sorted(set(resource_ids))
    if ids:
        db.session.execute(
            update(Resource)
            .where(Resource.id.in_(ids))
            .values(updated_at=Resource.updated_at)
            .execution_options(synchronize_session=False)
        )


def _days_text(days: list[date]) -> str:
    shown = ", ".join(day.isoformat() for day in days[:SHOWN_DAYS])
    if len(days) <= SHOWN_DAYS:
        return shown
    more = len(days) - SHOWN_DAYS
    return ngettext(
        "%(days)s and %(num)s more day", "%(days)s and %(num)s more days", more, days=shown
    )


def keep_held_seats(capacities: dict[int, int], *, now: datetime | None = None) -> None:
    """Under the new ``capacities`` (resource id → seats), with the rows locked
    (``lock_for_capacity_change``): raise ``DomainError`` naming the days from
    today on where more seats are held than the capacity; elsewhere move holds
    on a seat at or above the capacity down to a free seat of the same unit."""
    if not capacities:
        return
    now = now or utcnow()
    cal = queries.clinic_calendar()
    rows = db.session.execute(
        select(Hold.id, Hold.resource_id, Hold.unit_start, Hold.seat, Resource.is_per_day)
        .join(Resource, Resource.id == Hold.resource_id)
        .where(
            Hold.resource_id.in_(sorted(capacities)),
            Hold.unit_start >= cal.day_start(cal.today(now)),
        )
        .order_by(Hold.resource_id, Hold.unit_start, Hold.seat)
    ).all()
    units: dict[tuple, list] = defaultdict(list)
    for row in rows:
        if not row.is_per_day and row.unit_start + cal.unit <= now:
            continue  # a unit already over today
        units[(row.resource_id, row.unit_start)].append(row)
    over: set[date] = set()
    moves: list[tuple[int, int]] = []
    for (resource_id, unit_start), held in units.items():
        capacity = capacities[resource_id]
        if len(held) > capacity:
            over.add(cal.local_date(unit_start))
            continue
        free = iter(sorted(set(range(capacity)) - {h.seat for h in held}))
        moves += [(h.id, next(free)) for h in held if h.seat >= capacity]
    if over:
        days = sorted(over)
        raise DomainError(
            ngettext(
                "More seats are held than the new capacity on %(num)s day: %(days)s. Move or "
                "cancel visits on that day first.",
                "More seats are held than the new capacity on %(num)s days: %(days)s. Move or "
                "cancel visits on those days first.",
                len(days),
                days=_days_text(days),
            ),
            field="capacity",
            code="capacity_held",
        )
    for hold_id, seat in moves:
        db.session.execute(
            update(Hold)
            .where(Hold.id == hold_id)
            .values(seat=seat)
            .execution_options(synchronize_session=False)
        )


@settings.change_guard
def _capacity_settings_keep_held_seats(current: dict, new: dict) -> dict[str, str]:
    """A capacity kept as a clinic setting (``incubator_places``, ``infusion_chairs``)
    is checked like a resource's own: the resources it counts for are locked,
    then their holds must fit under the new value."""
    users = db.session.execute(
        select(Resource.id, Resource.capacity_setting).where(
            Resource.capacity_setting.is_not(None), Resource.is_active
        )
    ).all()
    stored = ledger.fresh_setting_values(key for _id, key in users)
    by_key: dict[str, list[int]] = defaultdict(list)
    for resource_id, key in users:
        if key in new and new[key] != stored[key]:
            by_key[key].append(resource_id)
    if not by_key:
        return {}
    lock_for_capacity_change(rid for ids in by_key.values() for rid in ids)
    errors = {}
    for key, ids in sorted(by_key.items()):
        try:
            keep_held_seats({rid: int(new[key] or 0) for rid in ids})
        except DomainError as exc:
            errors[key] = exc.message
    return errors


def _set_capacity_setting(key: str, value: int, *, actor: User) -> None:
    try:
        settings.update_settings({key: str(value)}, actor=actor)
    except settings.SettingsInvalid as exc:
        raise DomainError(exc.errors.get(key, exc.message), field="capacity") from exc


def save_resource(
    resource: Resource | None,
    *,
    actor: User,
    code: str | None = None,
    kind: ResourceKind | str | None = None,
    names: dict,
    capacity: int | None,
    is_per_day: bool = False,
    pool_id: int | None = None,
    user_id: int | None = None,
    working_weekdays=None,
    is_active: bool = True,
) -> Resource:
    """Create (``resource`` None) or change a resource. The code and kind are fixed
    once created; capacities stored as clinic settings are changed there."""
    _require_manager(actor)
    creating = resource is None
    if creating:
        code = (code or "").strip().lower()
        if not CODE_RE.match(code):
            raise DomainError(
                _("Use 2-40 lower-case letters, digits and hyphens, e.g. chair-5."), field="code"
            )
        if db.session.execute(select(Resource.id).where(Resource.code == code)).first():
            raise DomainError(_("Another resource already has this code."), field="code")
        try:
            kind = ResourceKind(kind)
        except ValueError:
            raise DomainError(_("Choose a kind."), field="kind") from None
        resource = Resource(code=code, kind=kind, is_per_day=bool(is_per_day))
        before = {}
    else:
        before = audit.snapshot(resource, Resource.AUDITED)
    if resource.is_per_day and (pool_id or user_id):
        raise DomainError(_("A per-day resource cannot be a staff member."), field="pool_id")
    if capacity is None or capacity < 0 or capacity > 10000:
        raise DomainError(_("Enter a capacity from 0 to 10000."), field="capacity")
    if pool_id is not None:
        pool = db.session.get(Resource, pool_id)
        if (
            pool is None
            or pool.id == resource.id
            or pool.pool_id is not None
            or pool.kind != ResourceKind.STAFF
            or resource.kind != ResourceKind.STAFF
        ):
            raise DomainError(_("Choose a staff group for this staff member."), field="pool_id")
        if (
            not creating
            and db.session.execute(
                select(Resource.id).where(Resource.pool_id == resource.id)
            ).first()
        ):
            raise DomainError(_("A staff group cannot belong to another group."), field="pool_id")
    if user_id is not None:
        user = db.session.get(User, user_id)
        if user is None or user.role not in STAFF_ROLES or resource.kind != ResourceKind.STAFF:
            raise DomainError(_("Link a staff account to a staff resource only."), field="user_id")
        others = select(Resource.id).where(Resource.user_id == user_id)
        if not creating:
            others = others.where(Resource.id != resource.id)
        if db.session.execute(others).first():
            raise DomainError(_("This staff account is already linked."), field="user_id")
    weekdays = None
    if working_weekdays is not None:
        days = {int(d) for d in working_weekdays}
        if not days <= set(range(7)):
            raise DomainError(_("Weekdays are 0 (Monday) to 6 (Sunday)."), field="working_weekdays")
        weekdays = format_weekdays(days) if days != set(range(7)) else None
    seats_change = not creating and (
        resource.is_active != bool(is_active)
        or (not resource.capacity_setting and resource.capacity != capacity)
    )
    resource.names = _names(names)
    resource.pool_id = pool_id
    resource.user_id = user_id
    resource.working_weekdays = weekdays if resource.kind == ResourceKind.STAFF else None
    resource.is_active = bool(is_active)
    if resource.capacity_setting:
        if capacity != settings.get(resource.capacity_setting):
            _set_capacity_setting(resource.capacity_setting, capacity, actor=actor)
    else:
        resource.capacity = capacity
    db.session.add(resource)
    db.session.flush()
    if seats_change:
        # The capacity now in force, read under the lock, must keep every seat
        # held from today on.
        lock_for_capacity_change([resource.id])
        keep_held_seats(ledger.lock_resource_capacities([resource.id]))
    after = audit.snapshot(resource, Resource.AUDITED)
    old, new = audit.changes(before, after)
    if new:
        audit.record(
            actor=actor,
            action="scheduling.resource_create" if creating else "scheduling.resource_update",
            entity=resource,
            before=old or None,
            after=new,
        )
    return resource


@dataclass(frozen=True)
class SegmentInput:
    resource_id: int
    offset_minutes: int
    duration_minutes: int | None  # None: until the end of the visit
    quantity: int = 1


def _check_visit_type(
    *,
    duration_minutes: int,
    modes,
    segments: list[SegmentInput],
    day_block_resource_id: int | None,
    day_block_quantity: int,
) -> list[str]:
    """Raise unless the length, modes and parts fit together; return the modes."""
    if duration_minutes is None or not 5 <= duration_minutes <= 600:
        raise DomainError(_("Enter a length from 5 to 600 minutes."), field="duration_minutes")
    try:
        chosen_modes = [VisitMode(m).value for m in modes or ()]
    except ValueError:
        raise DomainError(_("Choose how the visit takes place."), field="modes") from None
    if not segments:
        raise DomainError(_("A visit needs at least one resource."), field="segments")
    resources = {
        r.id: r
        for r in db.session.execute(
            select(Resource).where(
                Resource.id.in_([s.resource_id for s in segments] + [day_block_resource_id or 0])
            )
        ).scalars()
    }
    span = 0
    for segment in segments:
        resource = resources.get(segment.resource_id)
        if resource is None or resource.is_per_day:
            raise DomainError(_("Choose a room, chair, bed or staff resource."), field="segments")
        length = segment.duration_minutes or duration_minutes - segment.offset_minutes
        if segment.offset_minutes < 0 or length <= 0:
            raise DomainError(_("Each part must start within the visit."), field="segments")
        if segment.offset_minutes + length > duration_minutes:
            raise DomainError(_("Each part must end within the visit."), field="segments")
        if not 1 <= segment.quantity <= 20:
            raise DomainError(_("Enter a quantity from 1 to 20."), field="segments")
        span = max(span, segment.offset_minutes + length)
    if span != duration_minutes:
        raise DomainError(
            _("The last part must end when the visit ends (or run until the end)."),
            field="segments",
        )
    if day_block_resource_id is not None:
        block = resources.get(day_block_resource_id)
        if block is None or not block.is_per_day:
            raise DomainError(_("Choose a per-day resource."), field="day_block_resource_id")
        if not 1 <= day_block_quantity <= 20:
            raise DomainError(_("Enter a quantity from 1 to 20."), field="day_block_quantity")
    return chosen_modes


def _describe_visit_type(visit_type: VisitType) -> dict:
    data = audit.snapshot(visit_type, VisitType.AUDITED)
    data["duration_minutes"] = queries.duration_of(visit_type, settings.values())
    data["segments"] = [
        [s.resource_id, s.offset_minutes, s.duration_minutes, s.quantity]
        for s in visit_type.segments
    ]
    return data


def _segment_rows(segments: list[SegmentInput]) -> list[VisitTypeSegment]:
    return [
        VisitTypeSegment(
            resource_id=s.resource_id,
            offset_minutes=s.offset_minutes,
            duration_minutes=s.duration_minutes,
            quantity=s.quantity,
        )
        for s in sorted(segments, key=lambda s: (s.offset_minutes, s.resource_id))
    ]


def create_visit_type(
    *,
    actor: User,
    code: str,
    kind: VisitKind | str,
    names: dict,
    duration_minutes: int,
    modes,
    is_patient_bookable: bool,
    is_desk_bookable: bool,
    is_active: bool = True,
    segments: list[SegmentInput],
    day_block_resource_id: int | None,
    day_block_quantity: int = 1,
) -> VisitType:
    """Add a visit type of one of the kinds the clinic knows (``VisitKind``). The
    rules of the kind (the intake gate …) apply to it from the start; its code and
    kind are fixed once created."""
    _require_manager(actor)
    code = (code or "").strip().lower()
    if not CODE_RE.match(code):
        raise DomainError(
            _("Use 2-40 lower-case letters, digits and hyphens, e.g. consultation-long."),
            field="code",
        )
    try:
        kind = VisitKind(kind)
    except ValueError:
        raise DomainError(_("Choose the kind of visit."), field="kind") from None
    clean_names = _names(names)
    chosen_modes = _check_visit_type(
        duration_minutes=duration_minutes,
        modes=modes,
        segments=segments,
        day_block_resource_id=day_block_resource_id,
        day_block_quantity=day_block_quantity,
    )
    if db.session.execute(select(VisitType.id).where(VisitType.code == code)).first():
        raise DomainError(_("Another visit type already has this code."), field="code")
    position = db.session.execute(select(func.max(VisitType.position))).scalar_one()
    visit_type = VisitType(
        code=code,
        kind=kind,
        names=clean_names,
        duration_minutes=duration_minutes,
        modes=chosen_modes,
        is_patient_bookable=bool(is_patient_bookable),
        is_desk_bookable=bool(is_desk_bookable),
        is_active=bool(is_active),
        day_block_resource_id=day_block_resource_id,
        day_block_quantity=day_block_quantity if day_block_resource_id else 1,
        position=(position or 0) + 1,
        segments=_segment_rows(segments),
    )
    try:
        with db.session.begin_nested():  # the unique code decides a race between two managers
            db.session.add(visit_type)
            db.session.flush()
    except IntegrityError:
        raise DomainError(_("Another visit type already has this code."), field="code") from None
    audit.record(
        actor=actor,
        action="scheduling.visit_type_create",
        entity=visit_type,
        after={"code": visit_type.code, **_describe_visit_type(visit_type)},
    )
    return visit_type


def update_visit_type(
    visit_type: VisitType,
    *,
    actor: User,
    names: dict,
    duration_minutes: int,
    modes,
    is_patient_bookable: bool,
    is_desk_bookable: bool,
    is_active: bool,
    segments: list[SegmentInput],
    day_block_resource_id: int | None,
    day_block_quantity: int = 1,
) -> VisitType:
    """Change a visit type: names, length, modes, who may book it and the
    resources each part of it needs. Existing bookings keep their holds."""
    _require_manager(actor)
    chosen_modes = _check_visit_type(
        duration_minutes=duration_minutes,
        modes=modes,
        segments=segments,
        day_block_resource_id=day_block_resource_id,
        day_block_quantity=day_block_quantity,
    )
    before = _describe_visit_type(visit_type)
    if visit_type.duration_setting:
        if duration_minutes != settings.get(visit_type.duration_setting):
            try:
                settings.update_settings(
                    {visit_type.duration_setting: str(duration_minutes)}, actor=actor
                )
            except settings.SettingsInvalid as exc:
                raise DomainError(
                    exc.errors.get(visit_type.duration_setting, exc.message),
                    field="duration_minutes",
                ) from exc
    else:
        visit_type.duration_minutes = duration_minutes
    visit_type.names = _names(names)
    visit_type.modes = chosen_modes
    visit_type.is_patient_bookable = bool(is_patient_bookable)
    visit_type.is_desk_bookable = bool(is_desk_bookable)
    visit_type.is_active = bool(is_active)
    visit_type.day_block_resource_id = day_block_resource_id
    visit_type.day_block_quantity = day_block_quantity if day_block_resource_id else 1
    visit_type.segments = _segment_rows(segments)
    db.session.flush()
    old, new = audit.changes(before, _describe_visit_type(visit_type))
    if new:
        audit.record(
            actor=actor,
            action="scheduling.visit_type_update",
            entity=visit_type,
            before=old,
            after=new,
        )
    return visit_type


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def closure_span(
    first: date,
    last: date | None,
    from_time: time | None,
    to_time: time | None,
    cal: queries.ClinicCalendar,
    now: datetime | None = None,
) -> tuple[datetime, datetime]:
    """Whole days ``first`` … ``last`` (both times None), or hours on ``first``.
    Neither day may lie more than ``MAX_CLOSURE_YEARS_AHEAD`` years ahead."""
    limit = _years_after(cal.today(now or utcnow()), MAX_CLOSURE_YEARS_AHEAD)
    for name, day in (("first_date", first), ("last_date", last)):
        if day is not None and day > limit:
            raise DomainError(
                _(
                    "A closure can be entered at most %(n)s years ahead.",
                    n=MAX_CLOSURE_YEARS_AHEAD,
                ),
                field=name,
            )
    if from_time is None and to_time is None:
        last = last or first
        if last < first:
            raise DomainError(_("The last day must not be before the first."), field="last_date")
        return (
            wall_to_utc(first, time(0), cal.tz, as_end=False),
            wall_to_utc(last + timedelta(days=1), time(0), cal.tz, as_end=False),
        )
    if from_time is None or to_time is None:
        raise DomainError(_("Give both times, or neither for whole days."), field="from_time")
    if to_time <= from_time:
        raise DomainError(_("The closure must end after it starts."), field="to_time")
    return (
        wall_to_utc(first, from_time, cal.tz, as_end=False),
        wall_to_utc(first, to_time, cal.tz, as_end=True),
    )


def add_closure(
    *,
    actor: User,
    start_at: datetime,
    end_at: datetime,
    reason: str,
    now: datetime | None = None,
) -> tuple[Closure, list[Appointment]]:
    """Close the clinic from ``start_at`` to ``end_at``. Returns the closure and the
    booked visits inside it, which staff must move (nothing is moved silently)."""
    _require_manager(actor)
    now = now or utcnow()
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give the reason (patients and staff see it)."), field="reason")
    if len(reason) > 200:
        raise DomainError(_("Keep the reason under 200 characters."), field="reason")
    if end_at <= start_at:
        raise DomainError(_("The closure must end after it starts."), field="to_time")
    if end_at <= now:
        raise DomainError(_("The closure is already over."), field="first_date")
    if end_at - start_at > timedelta(days=MAX_CLOSURE_DAYS):
        raise DomainError(
            _("A closure can last at most %(n)s days.", n=MAX_CLOSURE_DAYS), field="last_date"
        )
    overlap = db.session.execute(
        select(func.count())
        .select_from(Closure)
        .where(Closure.start_at < end_at, Closure.end_at > start_at)
    ).scalar_one()
    if overlap:
        raise DomainError(_("This overlaps a closure already entered."), field="first_date")
    closure = Closure(start_at=start_at, end_at=end_at, reason=reason, created_by_id=actor.id)
    db.session.add(closure)
    audit.record(
        actor=actor,
        action="scheduling.closure_add",
        entity=closure,
        after=audit.snapshot(closure, Closure.AUDITED),
    )
    return closure, queries.appointments_during(start_at, end_at)


def remove_closure(closure: Closure, *, actor: User) -> None:
    """Reopen: the closure row goes (it is calendar set-up, not a clinical record);
    the audit trail keeps what it was."""
    _require_manager(actor)
    audit.record(
        actor=actor,
        action="scheduling.closure_remove",
        entity=closure,
        before=audit.snapshot(closure, Closure.AUDITED),
    )
    db.session.delete(closure)
    db.session.flush()
