"""The manager's schedule: which visits fall on which clinic-local day and in
which resource lane, how overlapping visits of one lane sit side by side, the
time grid of a day, closures and public holidays, the incubator places used
each day, and the CSV export's cells. Pure: plain rows in, plain rows out; the
clinic's time zone is a parameter and nothing here reads the clock.

A visit appears in the lane of every resource it holds (a collection: the
room, a doctor and a nurse). Incubator places are per-day holds owned by a
course's culture; they are one count per day ("used of total"), not a lane.
"""

from __future__ import annotations

import calendar
import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from intake.core import parsing
from intake.core.text import N_


class View(enum.StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


VIEW_LABELS = {View.DAY: N_("Day"), View.WEEK: N_("Week"), View.MONTH: N_("Month")}

#: The longest range the CSV export reads at once (about three months).
MAX_EXPORT_DAYS = 93
#: Visits a month-view day shows before "N more".
MONTH_DAY_VISITS = 4
#: Lane of visits that hold no resource (e.g. visits whose holds were freed).
NO_RESOURCE = 0

MSG_EXPORT_ORDER = N_("The last day must not be before the first day.")
MSG_EXPORT_TOO_LONG = N_("Choose at most %(days)s days at a time.")
MSG_EXPORT_REQUIRED = N_("Enter a date.")


# --------------------------------------------------------------------------- input rows


@dataclass(frozen=True)
class Visit:
    """One visit as the schedule shows it (instants are aware, UTC)."""

    id: int
    start_at: datetime
    end_at: datetime
    patient_id: int
    patient_name: str
    visit_type_id: int
    status: str
    resource_ids: tuple[int, ...] = ()
    mode: str | None = None


@dataclass(frozen=True)
class Lane:
    """A resource that carries visits (a room, the chairs, a bed, one doctor …)."""

    id: int
    label: str
    kind: str
    capacity: int = 1
    group: str = ""  # the staff pool's name for its members


@dataclass(frozen=True)
class ClosureSpan:
    start_at: datetime
    end_at: datetime
    reason: str = ""


# --------------------------------------------------------------------------- dates


def parse_view(text: str | None) -> View | None:
    """``day``, ``week`` or ``month``; None for anything else."""
    try:
        return View((text or "").strip().lower())
    except ValueError:
        return None


def window(view: View, anchor: date) -> tuple[date, date]:
    """The first and last day a view shows around ``anchor``: the day; the
    week Monday to Sunday; the calendar month."""
    if view == View.DAY:
        return anchor, anchor
    if view == View.WEEK:
        monday = anchor - timedelta(days=anchor.weekday())
        return monday, monday + timedelta(days=6)
    last = calendar.monthrange(anchor.year, anchor.month)[1]
    return anchor.replace(day=1), anchor.replace(day=last)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def step(view: View, anchor: date, direction: int) -> date | None:
    """The anchor of the previous (-1) or next (+1) page; None past the years
    people type (``parsing``'s range)."""
    try:
        if view == View.DAY:
            moved = anchor + timedelta(days=direction)
        elif view == View.WEEK:
            moved = anchor + timedelta(days=7 * direction)
        else:
            moved = _add_months(anchor, direction)
        return parsing.check_date(moved)
    except (OverflowError, ValueError):
        return None


def days_of(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def month_weeks(first: date, last: date) -> list[list[date | None]]:
    """The calendar grid of a month: weeks Monday to Sunday, None outside it."""
    weeks: list[list[date | None]] = []
    day = first - timedelta(days=first.weekday())
    while day <= last:
        weeks.append(
            [d if first <= d <= last else None for d in days_of(day, day + timedelta(days=6))]
        )
        day += timedelta(days=7)
    return weeks


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant of the clinic's midnight starting ``day``."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def bounds(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC instants from the clinic's midnight of ``first`` to that after ``last``."""
    return day_start(first, tz), day_start(last + timedelta(days=1), tz)


def local_day(instant: datetime, tz: ZoneInfo) -> date:
    return instant.astimezone(tz).date()


# --------------------------------------------------------------------------- days


@dataclass(frozen=True)
class DayClosure:
    """A closure as seen on one day: whole day, or from … until (local times)."""

    reason: str
    whole_day: bool
    start: time | None = None
    end: time | None = None


@dataclass(frozen=True)
class DayInfo:
    day: date
    is_open_weekday: bool
    is_holiday: bool
    closures: tuple[DayClosure, ...] = ()

    @property
    def is_closed(self) -> bool:
        """No visits expected: not an opening day, a public holiday, or closed all day."""
        return (
            not self.is_open_weekday or self.is_holiday or any(c.whole_day for c in self.closures)
        )


def day_infos(
    days: Sequence[date],
    tz: ZoneInfo,
    *,
    open_weekdays: Iterable[int],
    holidays: Iterable[date] = (),
    closures: Iterable[ClosureSpan] = (),
) -> dict[date, DayInfo]:
    """Each day's markers: open weekday, public holiday, closures overlapping it."""
    open_days, holiday_set = set(open_weekdays), set(holidays)
    closures = list(closures)
    infos = {}
    for day in days:
        start, end = bounds(day, day, tz)
        seen = []
        for closure in closures:
            if not (closure.start_at < end and start < closure.end_at):
                continue
            whole = closure.start_at <= start and closure.end_at >= end
            seen.append(
                DayClosure(
                    reason=closure.reason,
                    whole_day=whole,
                    start=None if whole else max(closure.start_at, start).astimezone(tz).time(),
                    end=None
                    if whole or closure.end_at >= end
                    else closure.end_at.astimezone(tz).time(),
                )
            )
        infos[day] = DayInfo(
            day=day,
            is_open_weekday=day.weekday() in open_days,
            is_holiday=day in holiday_set,
            closures=tuple(seen),
        )
    return infos


# --------------------------------------------------------------------------- lanes


def sort_visits(visits: Iterable[Visit]) -> list[Visit]:
    return sorted(visits, key=lambda v: (v.start_at, v.end_at, v.id))


def by_day(visits: Iterable[Visit], tz: ZoneInfo) -> dict[date, list[Visit]]:
    """Visits by the clinic-local day they start on, each day in time order."""
    days: dict[date, list[Visit]] = defaultdict(list)
    for visit in sort_visits(visits):
        days[local_day(visit.start_at, tz)].append(visit)
    return dict(days)


def by_day_and_lane(
    visits: Iterable[Visit], tz: ZoneInfo, lane_ids: Iterable[int]
) -> dict[tuple[date, int], list[Visit]]:
    """(day, lane id) → visits in time order. A visit is in the lane of every
    resource it holds that is a lane; one holding none of them goes to the
    ``NO_RESOURCE`` lane."""
    lanes = set(lane_ids)
    cells: dict[tuple[date, int], list[Visit]] = defaultdict(list)
    for visit in sort_visits(visits):
        day = local_day(visit.start_at, tz)
        mine = [rid for rid in dict.fromkeys(visit.resource_ids) if rid in lanes]
        for rid in mine or [NO_RESOURCE]:
            cells[day, rid].append(visit)
    return dict(cells)


@dataclass(frozen=True)
class Placed:
    visit: Visit
    column: int


def lay_out(visits: Iterable[Visit]) -> tuple[list[Placed], int]:
    """Overlapping visits of one lane side by side: each visit gets the first
    column free at its start (visits that only touch, one ending as the next
    starts, share a column). Returns the placements and the number of columns."""
    ends: list[datetime] = []  # the end of the last visit in each column
    placed = []
    for visit in sort_visits(visits):
        for column, end in enumerate(ends):
            if end <= visit.start_at:
                ends[column] = visit.end_at
                break
        else:
            column = len(ends)
            ends.append(visit.end_at)
        placed.append(Placed(visit, column))
    return placed, len(ends)


# --------------------------------------------------------------------------- the day grid


@dataclass(frozen=True)
class Cell:
    """One cell of the day grid: a visit starting here (spanning ``rows``) or
    empty. Rows covered by a visit above have no cell at all (HTML rowspan)."""

    visit: Visit | None = None
    rows: int = 1


@dataclass
class DayGrid:
    times: list[time]
    #: lane id → number of side-by-side columns (at least 1)
    columns: dict[int, int]
    #: one row per time: lane id → the cells of its columns in that row
    rows: list[dict[int, list[Cell]]] = field(default_factory=list)
    #: times of the rows that fall outside the opening hours (breaks, early, late)
    closed_times: frozenset[time] = frozenset()


def _minutes(at: time) -> int:
    return at.hour * 60 + at.minute


def _time_of(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


def day_grid(
    day: date,
    lanes: Sequence[int],
    cells: dict[tuple[date, int], list[Visit]],
    tz: ZoneInfo,
    *,
    unit_minutes: int,
    opening: Sequence[tuple[time, time]] = (),
) -> DayGrid:
    """The time grid of one day: a row every ``unit_minutes`` from the first
    opening (or earlier visit) to the last closing (or later visit); a visit
    spans the rows it covers (its start rounded down and its end up to the
    grid); visits of one lane that share a row sit in side-by-side columns."""
    unit = max(1, unit_minutes)
    spans = [(_minutes(a), _minutes(b)) for a, b in opening]
    for lane in lanes:
        spans.extend(_visit_minutes(v, day, tz) for v in cells.get((day, lane), []))
    if not spans:
        return DayGrid(times=[], columns={lane: 1 for lane in lanes})
    first = min(s for s, _e in spans) // unit * unit
    last = -(-max(e for _s, e in spans) // unit) * unit
    count = max(1, (last - first) // unit)
    times = [_time_of(first + n * unit) for n in range(count)]
    closed = frozenset(
        t for t in times if not any(_minutes(a) <= _minutes(t) < _minutes(b) for a, b in opening)
    )
    starts: dict[tuple[int, int, int], Cell] = {}
    covered: dict[tuple[int, int], set[int]] = defaultdict(set)
    columns: dict[int, int] = {}
    for lane in lanes:
        ends: list[int] = []  # the first free row of each column
        for visit in sort_visits(cells.get((day, lane), [])):
            start, end = _visit_minutes(visit, day, tz)
            row = (start - first) // unit
            rows = max(1, -(-(end - first) // unit) - row)
            for column, free in enumerate(ends):  # noqa: B007 - used after the loop
                if free <= row:
                    break
            else:
                column = len(ends)
                ends.append(0)
            ends[column] = row + rows
            starts[lane, column, row] = Cell(visit, rows)
            covered[lane, column].update(range(row, row + rows))
        columns[lane] = max(1, len(ends))
    grid = DayGrid(times=times, columns=columns, closed_times=closed)
    for index in range(count):
        line: dict[int, list[Cell]] = {}
        for lane in lanes:
            out = []
            for column in range(columns[lane]):
                cell = starts.get((lane, column, index))
                if cell is not None:
                    out.append(cell)
                elif index not in covered[lane, column]:
                    out.append(Cell())
            line[lane] = out
        grid.rows.append(line)
    return grid


def _visit_minutes(visit: Visit, day: date, tz: ZoneInfo) -> tuple[int, int]:
    """The visit's local start and end on ``day`` in minutes after midnight
    (a visit running past midnight ends at 24:00 on this day's grid)."""
    start_local = visit.start_at.astimezone(tz)
    end_local = visit.end_at.astimezone(tz)
    start = _minutes(start_local.time()) if start_local.date() == day else 0
    end = _minutes(end_local.time()) if end_local.date() == day else 24 * 60
    return start, max(end, start + 1)


# --------------------------------------------------------------------------- incubator places


def places_by_day(rows: Iterable[tuple[datetime, int]], tz: ZoneInfo) -> dict[date, int]:
    """(unit_start, places held) rows of per-day holds → places used per local day."""
    used: dict[date, int] = defaultdict(int)
    for unit_start, n in rows:
        used[local_day(unit_start, tz)] += n
    return dict(used)


# --------------------------------------------------------------------------- the CSV export


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A CSV cell a spreadsheet will not run: text starting with = + - @ (or a
    tab or carriage return) gets a leading apostrophe, so it stays text."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


@dataclass(frozen=True)
class ExportRange:
    first: date | None = None
    last: date | None = None
    #: field name ("from" or "to") → (message, params); empty when the range is good
    errors: dict[str, tuple[str, dict]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors and self.first is not None and self.last is not None


def export_range(
    first_text: str | None, last_text: str | None, *, max_days: int = MAX_EXPORT_DAYS
) -> ExportRange:
    """Read the export's first and last day: both required, in order, at most
    ``max_days`` days. Messages are ``N_`` texts with their parameters."""
    errors: dict[str, tuple[str, dict]] = {}
    values: dict[str, date | None] = {}
    for name, text in (("from", first_text), ("to", last_text)):
        try:
            values[name] = parsing.parse_date(text)
        except parsing.ParseError as exc:
            values[name] = None
            errors[name] = (exc.message, exc.params)
            continue
        if values[name] is None:
            errors[name] = (MSG_EXPORT_REQUIRED, {})
    first, last = values["from"], values["to"]
    if not errors and first is not None and last is not None:
        if last < first:
            errors["to"] = (MSG_EXPORT_ORDER, {})
        elif (last - first).days + 1 > max_days:
            errors["to"] = (MSG_EXPORT_TOO_LONG, {"days": max_days})
    return ExportRange(first, last, errors)
