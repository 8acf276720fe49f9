"""Reading culture batches for a screen: one function per screen, a fixed
number of queries whatever the number of batches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased, joinedload

from intake.accounts.models import User
from intake.core import settings
from intake.core.models import AuditEntry
from intake.cultures import coi, growth, lifecycle
from intake.cultures.lifecycle import BatchState, Finding, QcItem
from intake.cultures.models import Batch, BatchEvent, EventKind
from intake.extensions import db
from intake.manager import pipeline
from intake.patients.models import Patient
from intake.scheduling import queries as scheduling_queries
from intake.scheduling.models import Appointment, AppointmentStatus, VisitType
from intake.scheduling.visit_kinds import VisitKind

OPEN_STATES = tuple(lifecycle.OPEN)
#: Long-lived stock, not the day's work: a count on the board, its own list.
STOCK_STATES = (BatchState.CRYOPRESERVED,)
#: The board's daily work: every open batch but the stock.
DAILY_STATES = tuple(s for s in OPEN_STATES if s not in STOCK_STATES)
#: Batch rows drawn on one page of the board.
BOARD_PER_PAGE = 100


def _not_replaced():
    """The event has no correction."""
    correction = aliased(BatchEvent)
    return ~exists().where(correction.corrects_id == BatchEvent.id)


def window(values: dict) -> tuple[int, int]:
    return values["culture_min_days"], values["culture_max_days"]


def planned_cells(batch: Batch) -> int:
    """Cells the culture must reach: the fewest of every planned dose."""
    return batch.planned_dose_low * (1 + batch.later_doses)


@dataclass(frozen=True)
class BoardRow:
    batch: Batch
    patient: Patient
    day: int
    outlook: growth.GrowthOutlook
    last_event: BatchEvent | None

    @property
    def percent(self) -> int:
        """How far through the window's end the culture is, 0-100."""
        return max(0, min(100, round(100 * self.day / max(self.end, 1))))

    end: int = 42


def _outlook(batch: Batch, counts, today_day: int, span, qc_failed: bool) -> growth.GrowthOutlook:
    return growth.outlook(
        counts,
        planned_dose=planned_cells(batch),
        today_day=today_day,
        window=span,
        released=batch.state in lifecycle.RELEASED_STATES,
        qc_failed=qc_failed,
    )


def board_states(state: str | None) -> tuple[BatchState, ...] | None:
    """The states one board shows: the daily work without ``state``, else that
    one open state; None for a state the board does not show."""
    if not state:
        return DAILY_STATES
    if state in {s.value for s in OPEN_STATES}:
        return (BatchState(state),)
    return None


def lab_board(
    *,
    today: date,
    state: str | None = None,
    sort: str = "day",
    page: int = 1,
    states: tuple[BatchState, ...] | None = None,
    at_risk_rows: bool = False,
) -> dict:
    """The lab's board: the open batches of ``state`` (by default the daily
    work: every open one but the frozen stock, counted apart) with their
    patient, culture day, growth outlook and last event, a page of them; the
    day's expected tissue; with ``at_risk_rows``, every batch at risk,
    whatever the page. ``states`` reads those states instead (every open one,
    for the deadlines). Every batch's outlook is worked out from plain
    columns; only the rows shown are read as objects. Six queries (with the
    settings), whatever the number of batches."""
    values = settings.values()
    cal = scheduling_queries.clinic_calendar(values)
    span = window(values)
    wanted = states or board_states(state) or DAILY_STATES
    stock = select(func.count()).select_from(Batch).where(Batch.state.in_(STOCK_STATES))
    order = (
        (Batch.collected_on, Batch.id) if sort == "-day" else (Batch.collected_on.desc(), Batch.id)
    )
    facts = db.session.execute(
        select(
            Batch.id,
            Batch.collected_on,
            Batch.state,
            Batch.planned_dose_low,
            Batch.later_doses,
            Batch.received_at,
            stock.scalar_subquery().label("frozen"),
        )
        .where(Batch.state.in_(wanted))
        .order_by(*order)
    ).all()
    frozen = facts[0].frozen if facts else db.session.scalar(stock)
    in_board = and_(BatchEvent.batch_id == Batch.id, Batch.state.in_(wanted))
    counts: dict[int, list[tuple[int, int]]] = {}
    collected = {row.id: row.collected_on for row in facts}
    for batch_id, occurred_at, cells in db.session.execute(
        select(BatchEvent.batch_id, BatchEvent.occurred_at, BatchEvent.cells)
        .join(Batch, in_board)
        .where(BatchEvent.kind == EventKind.CELL_COUNT, _not_replaced())
    ).all():
        day = growth.culture_day(collected[batch_id], cal.local_date(occurred_at))
        if 0 <= day <= growth.MAX_DAY and cells:
            counts.setdefault(batch_id, []).append((day, cells))
    failed_qc = set(
        db.session.execute(
            select(BatchEvent.batch_id)
            .join(Batch, in_board)
            .where(
                BatchEvent.kind == EventKind.QC_RESULT,
                BatchEvent.qc_passed.is_(False),
                _not_replaced(),
            )
            .distinct()
        ).scalars()
    )
    placed = []  # (facts, culture day, outlook) of every batch, in the board's order
    for row in facts:
        day = growth.culture_day(row.collected_on, today)
        outlook = _outlook(row, counts.get(row.id, []), max(day, 0), span, row.id in failed_qc)
        placed.append((row, day, outlook))
    shown = pipeline.paginate(placed, page, BOARD_PER_PAGE)
    expected = [p for p in placed if p[0].received_at is None]
    risky = [p for p in placed if p[2].at_risk]
    wanted_ids = {p[0].id for p in (*shown.items, *expected, *(risky if at_risk_rows else ()))}
    loaded = {}
    if wanted_ids:
        newest = (
            select(func.max(BatchEvent.id))
            .where(BatchEvent.batch_id == Batch.id)
            .correlate(Batch)
            .scalar_subquery()
        )
        loaded = {
            batch.id: (batch, patient, last)
            for batch, patient, last in db.session.execute(
                select(Batch, Patient, BatchEvent)
                .join(Patient, Batch.patient_id == Patient.id)
                .outerjoin(BatchEvent, BatchEvent.id == newest)
                .where(Batch.id.in_(sorted(wanted_ids)))
            ).all()
        }

    def rows(chosen) -> list[BoardRow]:
        board = []
        for row, day, outlook in chosen:
            if row.id in loaded:
                batch, patient, last = loaded[row.id]
                board.append(BoardRow(batch, patient, day, outlook, last, span[1]))
        return board

    items = rows(shown.items)
    return {
        "rows": items,
        "page": pipeline.Page(items, shown.page, shown.per_page, shown.total),
        "total": len(placed),
        "frozen": frozen if wanted == DAILY_STATES else None,
        "expected": rows(expected),
        "collections_today": collections_on(today, cal),
        "window": span,
        "at_risk": len(risky),
        "at_risk_rows": rows(risky) if at_risk_rows else None,
    }


def collections_on(day: date, cal) -> list[tuple[Appointment, Patient]]:
    """Collection visits booked or under way on ``day``: tissue still to come."""
    start, end = cal.day_start(day), cal.day_start(day + timedelta(days=1))
    return list(
        db.session.execute(
            select(Appointment, Patient)
            .join(Patient, Appointment.patient_id == Patient.id)
            .join(VisitType, Appointment.visit_type_id == VisitType.id)
            .where(
                VisitType.kind == VisitKind.COLLECTION,
                Appointment.start_at >= start,
                Appointment.start_at < end,
                Appointment.status.in_((AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED)),
            )
            .order_by(Appointment.start_at)
        ).all()
    )


def batch_page(batch: Batch, *, today: date) -> dict:
    """The batch's timeline (every event, corrections named), what counts now,
    the growth outlook and the lifecycle's options."""
    values = settings.values()
    cal = scheduling_queries.clinic_calendar(values)
    span = window(values)
    events = list(
        db.session.execute(
            select(BatchEvent)
            .where(BatchEvent.batch_id == batch.id)
            .options(joinedload(BatchEvent.recorded_by))
            .order_by(BatchEvent.occurred_at, BatchEvent.id)
        ).scalars()
    )
    replaced_by = {e.corrects_id: e for e in events if e.corrects_id is not None}
    current = [e for e in events if e.id not in replaced_by]
    counts = [
        (growth.culture_day(batch.collected_on, cal.local_date(e.occurred_at)), e.cells)
        for e in current
        if e.kind == EventKind.CELL_COUNT and e.cells
    ]
    counts = [(d, c) for d, c in counts if 0 <= d <= growth.MAX_DAY]
    qc_failed = any(e.kind == EventKind.QC_RESULT and e.qc_passed is False for e in current)
    day = growth.culture_day(batch.collected_on, today)
    context = transition_context(batch, current)
    checks = identity_checks(batch)
    timeline = sorted(
        [*events, *checks],
        key=lambda e: (e.occurred_at, isinstance(e, IdentityCheck), e.id),
        reverse=True,
    )
    return {
        "events": list(reversed(events)),
        "timeline": timeline,
        "replaced_by": replaced_by,
        "day": day,
        "window": span,
        "outlook": _outlook(batch, counts, max(day, 0), span, qc_failed),
        "options": lifecycle.options(batch.state, context),
        "passage_next": 1
        + max((e.passage_number for e in current if e.passage_number is not None), default=-1),
    }


@dataclass(frozen=True)
class IdentityCheck:
    """One identity check of the batch, read from its audit row."""

    id: int
    occurred_at: datetime
    checked_by: str
    matched: bool
    name: str
    date_of_birth: str

    identity_check = True


def identity_checks(batch: Batch) -> list[IdentityCheck]:
    """The batch's identity checks, oldest first (one query)."""
    rows = db.session.execute(
        select(AuditEntry, User)
        .outerjoin(User, AuditEntry.actor_id == User.id)
        .where(
            AuditEntry.action == "cultures.identity_check",
            AuditEntry.entity_type == Batch.__tablename__,
            AuditEntry.entity_id == str(batch.id),
        )
        .order_by(AuditEntry.id)
    ).all()
    return [
        IdentityCheck(
            id=row.id,
            occurred_at=row.created_at,
            checked_by=user.full_name if user is not None else row.actor_label,
            matched=(row.after or {}).get("result") == "match",
            name=(row.after or {}).get("name") or "",
            date_of_birth=(row.after or {}).get("date_of_birth") or "",
        )
        for row, user in rows
    ]


def batch_by_number(number: coi.CoiNumber) -> Batch | None:
    """The batch with this chain-of-identity number, if any (one query)."""
    return db.session.execute(
        select(Batch).where(Batch.coi == coi.format(number))
    ).scalar_one_or_none()


def qc_value(item: QcItem, text: str):
    if item in (QcItem.STERILITY, QcItem.MYCOPLASMA):
        return Finding(text)
    if item == QcItem.CELL_COUNT:
        return int(text)
    return Decimal(text)


def transition_context(batch: Batch, events: list[BatchEvent], reason: str | None = None):
    """What the lifecycle's guards need: the latest valid result of each QC
    test (the newest by time), the thresholds, the dose plan."""
    qc: dict = {}
    for event in sorted(events, key=lambda e: (e.occurred_at, e.id)):
        if event.kind == EventKind.QC_RESULT and event.qc_item:
            item = QcItem(event.qc_item)
            qc[item] = qc_value(item, event.qc_value)
    return lifecycle.TransitionContext(
        qc=qc,
        thresholds=settings.values(),
        planned_dose=lifecycle.DoseRange(batch.planned_dose_low, batch.planned_dose_high),
        reason=reason,
        later_doses=batch.later_doses,
    )


def course_culture(course_id: int) -> Batch | None:
    """The course's latest batch (one query), for the patient's journey."""
    return db.session.execute(
        select(Batch).where(Batch.course_id == course_id).order_by(Batch.id.desc()).limit(1)
    ).scalar_one_or_none()


@dataclass(frozen=True)
class OccupancyDay:
    day: date
    used: int
    capacity: int

    @property
    def free(self) -> int:
        return max(self.capacity - self.used, 0)

    @property
    def share(self) -> float:
        """Used as a share of capacity, 0–1, for drawing (never a stored figure)."""
        return min(self.used / self.capacity, 1.0) if self.capacity else 1.0


def incubator_occupancy(*, today: date, days: int = 42) -> list[OccupancyDay]:
    """Incubator places used and free on each of the next ``days`` days, read
    from the hold ledger (the places the courses' cultures hold). Two
    statements: the per-day resources and the day counts."""
    from intake.scheduling.models import Hold, Resource

    values = settings.values()
    cal = scheduling_queries.clinic_calendar(values)
    resources = list(
        db.session.execute(select(Resource).where(Resource.is_per_day.is_(True))).scalars()
    )
    capacity = sum(scheduling_queries.capacity_of(r, values) for r in resources)
    start, end = cal.day_start(today), cal.day_start(today + timedelta(days=days))
    used: dict[date, int] = {}
    if resources:
        for unit_start, count in db.session.execute(
            select(Hold.unit_start, func.count())
            .where(
                Hold.resource_id.in_([r.id for r in resources]),
                Hold.unit_start >= start,
                Hold.unit_start < end,
            )
            .group_by(Hold.unit_start)
        ).all():
            day = cal.local_date(unit_start)
            used[day] = used.get(day, 0) + count
    return [
        OccupancyDay(today + timedelta(days=n), used.get(today + timedelta(days=n), 0), capacity)
        for n in range(days)
    ]
