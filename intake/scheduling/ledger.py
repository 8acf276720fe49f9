"""The hold ledger, written: one hold row per seat a visit (or a culture's
incubator place) takes, freed when it is cancelled or missed.

No double booking: ``take_seats`` writes one ``Hold`` per seat and relies on the
unique constraint ``(resource_id, unit_start, seat)``. When an insert loses a
race (``IntegrityError``) it rolls back to a savepoint and tries the next free
seat; when none is left the booking fails with ``Conflict`` ("This time was just
taken"). Nothing is checked in Python that the database does not also enforce.

Capacity: seats are chosen below the capacity read *after* the booking has
locked its resources (``lock_capacities``: ``FOR SHARE`` on PostgreSQL; on
SQLite the booking already holds the database's one write lock), and a
capacity change locks the same rows exclusively before it checks that no
future hold would be stranded (``clinic_setup``). So a seat at or above the
capacity is never taken, whatever runs at the same time.

Every write here raises the ledger's version in the same transaction
(``models.LedgerVersion``), so no kept availability answer outlives it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError

from intake.accounts.models import User
from intake.core import audit
from intake.core.errors import Conflict, DomainError
from intake.core.models import Setting
from intake.core.settings_schema import BY_KEY, parse
from intake.extensions import db
from intake.patients.models import Course
from intake.scheduling import availability as pure
from intake.scheduling import context
from intake.scheduling.models import Appointment, Hold, Resource


def taken_message() -> str:
    return _("This time was just taken. Please choose another.")


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


def lock_capacities(plan: context.Plan) -> dict[int, int]:
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
    return {
        r.id: context.resource_capacity(r.is_active, r.capacity, r.capacity_setting, values)
        for r in rows
    }


@dataclass
class SeatChooser:
    """Chooses, for each seat a visit needs, a free ``(resource_id, unit_start, seat)``:
    a working pool member (the same one across the visit when possible), the
    same seat number across days for per-day resources."""

    plan: context.Plan
    cal: context.ClinicCalendar
    taken: set
    #: Resource id → capacity read under the booking's lock (else the plan's).
    capacities: dict[int, int] | None = None

    def __post_init__(self) -> None:
        self.used: dict[str, list[int]] = {}
        self.last_seat: dict[int, int] = {}

    def candidates(self, code: str, key) -> list[tuple[int, datetime, int]]:
        need = self.plan.needs[code]
        if need.is_per_day:
            unit_start, day = self.cal.day_start(key), key
        else:
            unit_start, day = key, self.cal.local_date(key)
        preferred = self.used.get(code, [])
        seatables = sorted(
            need.seatables,
            key=lambda s: (preferred.index(s.id) if s.id in preferred else len(preferred), s.id),
        )
        options = []
        for seatable in seatables:
            if not need.is_per_day and seatable.weekdays is not None:
                if day.weekday() not in seatable.weekdays:
                    continue
            capacity = seatable.capacity
            if self.capacities is not None:
                capacity = min(capacity, self.capacities.get(seatable.id, 0))
            seats = list(range(capacity))
            last = self.last_seat.get(seatable.id)
            if last in seats:
                seats.remove(last)
                seats.insert(0, last)
            options += [(seatable.id, unit_start, seat) for seat in seats]
        return options

    def choose(self, code: str, key) -> tuple[int, datetime, int] | None:
        for option in self.candidates(code, key):
            if option not in self.taken:
                self.take(code, option)
                return option
        return None

    def take(self, code: str, option: tuple[int, datetime, int]) -> None:
        self.taken.add(option)
        used = self.used.setdefault(code, [])
        if option[0] not in used:
            used.append(option[0])
        self.last_seat[option[0]] = option[2]


def seats_needed(plan: context.Plan, cal: context.ClinicCalendar, start_at: datetime) -> list:
    return pure.units_for(start_at, plan.pure.segments, cal.unit_minutes) + pure.days_for(
        cal.local_date(start_at), plan.pure.day_blocks
    )


def is_lock_error(exc: OperationalError) -> bool:
    code = getattr(exc.orig, "sqlstate", None)
    return code in ("40P01", "40001", "55P03") or "database is locked" in str(exc.orig)


def take_seats(
    appointment: Appointment,
    plan: context.Plan,
    cal: context.ClinicCalendar,
    start_at: datetime,
    taken: set,
) -> None:
    """Write one hold per seat the visit needs, or raise ``Conflict``. ``taken`` is
    what the decision saw (``context.load_for_start``); a seat taken since then is
    caught by the database."""
    try:
        db.session.flush()  # the appointment row first: savepoints need an open transaction
    except OperationalError as exc:
        if is_lock_error(exc):  # SQLite: another writer held the lock past busy_timeout
            raise Conflict(taken_message(), field="start", code="locked") from exc
        raise
    day = cal.local_date(start_at)
    needed = seats_needed(plan, cal, start_at)
    # Capacities as they are now, under a lock no capacity change can pass
    # before this transaction ends (see clinic_setup.lock_for_capacity_change).
    capacities = lock_capacities(plan)
    chooser = SeatChooser(plan, cal, set(taken), capacities)
    planned = []
    for code, key in needed:
        option = chooser.choose(code, key)
        if option is None:
            raise Conflict(taken_message(), field="start", code="full")
        planned.append((option, code))

    def owner(code: str) -> dict:
        # An incubator place belongs to the course's culture, the rest to the visit.
        if plan.needs[code].is_per_day:
            return {"appointment_id": None, "course_id": appointment.course_id}
        return {"appointment_id": appointment.id, "course_id": None}

    rows = [
        {**owner(code), "resource_id": rid, "unit_start": unit, "seat": seat}
        for (rid, unit, seat), code in sorted(planned)  # one global order: no deadlock
    ]
    try:
        with db.session.begin_nested():
            db.session.execute(insert(Hold), rows)
        return
    except IntegrityError:
        pass  # someone took one of these seats meanwhile: take the holds one by one
    except OperationalError as exc:
        if is_lock_error(exc):
            raise Conflict(taken_message(), field="start", code="locked") from exc
        raise
    chooser = SeatChooser(plan, cal, context.load_taken_seats(plan, cal, day), capacities)
    for code, key in needed:
        while True:
            option = chooser.choose(code, key)
            if option is None:
                raise Conflict(taken_message(), field="start", code="taken")
            rid, unit, seat = option
            try:
                with db.session.begin_nested():
                    db.session.execute(
                        insert(Hold),
                        [{**owner(code), "resource_id": rid, "unit_start": unit, "seat": seat}],
                    )
                break
            except IntegrityError:
                continue  # this seat went too; the chooser already counts it as taken
            except OperationalError as exc:
                if is_lock_error(exc):
                    raise Conflict(taken_message(), field="start", code="locked") from exc
                raise


def release_seats(appointment: Appointment) -> None:
    """Free the visit's seats and, for a collection, its culture's incubator
    place from the collection day on."""
    db.session.execute(delete(Hold).where(Hold.appointment_id == appointment.id))
    if appointment.visit_type.day_block_resource_id is not None:
        cal = context.clinic_calendar()
        db.session.execute(
            delete(Hold).where(
                Hold.course_id == appointment.course_id,
                Hold.unit_start >= cal.day_start(cal.local_date(appointment.start_at)),
            )
        )


# ------------------------------------------------------------------- the course's culture place


def _culture_holds(course: Course) -> list[Hold]:
    return list(
        db.session.execute(
            select(Hold).where(Hold.course_id == course.id).order_by(Hold.unit_start)
        ).scalars()
    )


def release_culture_place(course: Course, *, from_day, actor: User | None, reason: str) -> int:
    """Give the culture's incubator place back from local day ``from_day`` on
    (a failed or finished culture), without touching any visit. Returns how many
    place-days were freed."""
    cal = context.clinic_calendar()
    freed = db.session.execute(
        delete(Hold).where(Hold.course_id == course.id, Hold.unit_start >= cal.day_start(from_day))
    ).rowcount
    audit.record(
        actor=actor,
        action="scheduling.culture_place_released",
        entity=course,
        after={"from_day": from_day, "days": freed},
        patient=course.patient,
        note=reason,
    )
    db.session.flush()
    return freed


def extend_culture_place(course: Course, *, through_day, actor: User | None) -> int:
    """Keep the culture's incubator place up to local day ``through_day`` (a
    culture at risk needs longer). Each new day takes a seat under the same
    unique constraint as every booking, the same seat number when free; when
    no place is free on a day nothing is extended and ``Conflict`` names it."""
    holds = _culture_holds(course)
    if not holds:
        raise DomainError(_("This course holds no culture place."))
    cal = context.clinic_calendar()
    last = holds[-1]
    resource = db.session.get(Resource, last.resource_id)
    capacity = lock_resource_capacities([resource.id]).get(resource.id, 0)
    day = cal.local_date(last.unit_start) + timedelta(days=1)
    added = 0
    seats_taken: list = []
    while day <= through_day:
        unit = cal.day_start(day)
        seats = [last.seat] + [s for s in range(capacity) if s != last.seat]
        for seat in seats:
            if seat >= capacity:
                continue
            try:
                with db.session.begin_nested():
                    db.session.execute(
                        insert(Hold),
                        [
                            {
                                "appointment_id": None,
                                "course_id": course.id,
                                "resource_id": resource.id,
                                "unit_start": unit,
                                "seat": seat,
                            }
                        ],
                    )
                added += 1
                seats_taken.append((day, seat))
                break
            except IntegrityError:
                continue
        else:
            raise Conflict(
                _("No incubator place is free on %(day)s.", day=day.isoformat()), code="full"
            )
        day += timedelta(days=1)
    # SQLite: the capacity above was read before this transaction wrote; read
    # it again now that the transaction holds the write lock (PostgreSQL: the
    # FOR SHARE lock kept it from changing).
    capacity = lock_resource_capacities([resource.id]).get(resource.id, 0)
    over = [taken_day for taken_day, seat in seats_taken if seat >= capacity]
    if over:
        raise Conflict(
            _("No incubator place is free on %(day)s.", day=over[0].isoformat()), code="full"
        )
    audit.record(
        actor=actor,
        action="scheduling.culture_place_extended",
        entity=course,
        after={"through_day": through_day, "days": added},
        patient=course.patient,
    )
    db.session.flush()
    return added
