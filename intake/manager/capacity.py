"""Capacity ahead: reinfusion demand per week, incubator places per day and
each resource's utilisation per week, and the geometry of the charts that
show them. Pure: no Flask, no database, no clock (``today`` is passed in).

**The weeks.** Eight weeks from the Monday of the current week (clinic days).

**Reinfusion demand** has two sources:

* *Confirmed dates*: every reinfusion visit (booked, arrived or completed)
  counts 1 in the week of its day, on the resource group its visit type uses.
* *Cultures not yet dated*: a batch still growing or released, with no dose
  confirmed or given, will need one reinfusion visit somewhere in its window
  (``collected_on + culture_min_days`` … ``collected_on + culture_max_days``).
  The rule: that one visit is **spread evenly over the open days of the window
  that are still possible** — days from ``max(window start, today +
  reinfusion_lock_min_days)`` (a date is fixed at least that many days ahead,
  DOMAIN rule 7) to the window's end, on which the clinic opens (not a
  weekday it is closed, a public holiday or a whole-day closure). A week then
  counts the share of the window's possible days it holds (a window of 10
  possible days with 4 in a week adds 0.4 to that week). A window with no
  possible day left is not spread: it is counted as *cannot be dated in its
  window* (the lab board's "at risk"). A closed week therefore gets no
  expected demand, and demand a week cannot take moves to its neighbours.
* The resource group follows the route: an IV drip takes a chair; a local or
  intrathecal injection the procedure room. A culture whose route is not yet
  planned (no dose yet) is shown as "route not chosen yet" on both charts,
  since it may need either.

**Capacity for reinfusion** (the line on the demand chart): how many visits
of the group's length fit into the week's opening hours, seat by seat:
``sum over open intervals of floor(interval minutes / visit minutes) × seats``.
It ignores other visits using the same room (the utilisation chart shows
those).

**Utilisation** of a resource in a week: held units ÷ available units, where
a unit is one booking unit (``slot_minutes``) of one seat during opening
hours (closures and holidays removed, and for staff only on their working
weekdays); for a per-day resource (incubator places) a unit is one place on
one day, every day of the week (cultures grow on closed days too). No
available unit (a closed week, capacity 0): no figure.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from intake.scheduling.calendar import (
    Closure,
    OpeningHours,
    open_intervals,
    regular_intervals,
)

WEEKS = 8
Number = int | Fraction

# Resource groups a reinfusion visit takes (the demand charts).
CHAIRS = "chair"
ROOMS = "room"
GROUPS = (CHAIRS, ROOMS)
# The route codes of a dose (``Dose.route``) and the group each needs.
ROUTE_GROUPS = {"iv": CHAIRS, "local": ROOMS, "intrathecal": ROOMS}


# --------------------------------------------------------------------------- weeks and days


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_starts(today: date, weeks: int = WEEKS) -> list[date]:
    first = monday_of(today)
    return [first + timedelta(weeks=n) for n in range(weeks)]


def days_of(week_start: date) -> list[date]:
    return [week_start + timedelta(days=n) for n in range(7)]


def week_index(day: date, first_week: date, weeks: int = WEEKS) -> int | None:
    index = (day - first_week).days // 7
    return index if 0 <= index < weeks else None


@dataclass(frozen=True)
class ClinicDays:
    """The clinic's opening, as the pure calendar needs it."""

    hours: OpeningHours
    tz: ZoneInfo
    closures: tuple[Closure, ...] = ()
    holidays: frozenset[date] = frozenset()
    unit_minutes: int = 15

    def open_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        return open_intervals(day, self.hours, self.tz, self.closures, self.holidays)

    def is_open(self, day: date) -> bool:
        return bool(self.open_intervals(day))

    def open_days(self, first: date, last: date) -> frozenset[date]:
        days, day = set(), first
        while day <= last:
            if self.is_open(day):
                days.add(day)
            day += timedelta(days=1)
        return frozenset(days)

    def open_units(self, day: date) -> list[datetime]:
        """The booking units of ``day`` (on the grid from each opening time)
        that no closure touches; none on a holiday."""
        if day in self.holidays:
            return []
        unit = timedelta(minutes=self.unit_minutes)
        units = []
        for start, end in regular_intervals(day, self.hours, self.tz):
            at = start
            while at + unit <= end:
                if not any(c.overlaps(at, at + unit) for c in self.closures):
                    units.append(at)
                at += unit
        return units


# --------------------------------------------------------------------------- demand


@dataclass(frozen=True)
class Window:
    """A culture not yet dated: its reinfusion window and the group its route
    needs (None: the route is not chosen yet)."""

    first: date
    last: date
    group: str | None = None


def window_of(collected_on: date, min_days: int, max_days: int, group: str | None) -> Window:
    return Window(
        collected_on + timedelta(days=min_days), collected_on + timedelta(days=max_days), group
    )


def spread(window: Window, *, earliest: date, open_days: AbstractSet[date]) -> dict[date, Fraction]:
    """One visit spread evenly over the window's possible open days (empty
    when none is left)."""
    day = max(window.first, earliest)
    days = []
    while day <= window.last:
        if day in open_days:
            days.append(day)
        day += timedelta(days=1)
    if not days:
        return {}
    share = Fraction(1, len(days))
    return dict.fromkeys(days, share)


@dataclass
class WeekDemand:
    start: date
    confirmed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GROUPS, 0))
    expected: dict[str, Fraction] = field(
        default_factory=lambda: dict.fromkeys(GROUPS, Fraction(0))
    )
    undecided: Fraction = Fraction(0)
    capacity: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GROUPS, 0))

    def total(self, group: str) -> Fraction:
        """What may fall on ``group`` this week (undecided routes included)."""
        return self.confirmed[group] + self.expected[group] + self.undecided

    def over(self, group: str) -> bool:
        return self.total(group) > self.capacity[group]


@dataclass(frozen=True)
class Demand:
    weeks: list[WeekDemand]
    #: Cultures whose window has no possible day left.
    cannot_be_dated: int


def weekly_demand(
    *,
    today: date,
    windows: Iterable[Window],
    confirmed: Iterable[tuple[date, str]],
    open_days: AbstractSet[date],
    lock_min_days: int,
    capacity: Mapping[str, Sequence[int]] | None = None,
    weeks: int = WEEKS,
) -> Demand:
    """Demand per week and group (see the module doc for the rule);
    ``capacity``: visits per week for each group, one number per week."""
    starts = week_starts(today, weeks)
    rows = [WeekDemand(start) for start in starts]
    for n, row in enumerate(rows):
        for group in GROUPS:
            row.capacity[group] = (capacity or {}).get(group, [0] * weeks)[n]
    for day, group in confirmed:
        index = week_index(day, starts[0], weeks)
        if index is not None and group in GROUPS:
            rows[index].confirmed[group] += 1
    earliest = today + timedelta(days=lock_min_days)
    lost = 0
    for window in windows:
        shares = spread(window, earliest=earliest, open_days=open_days)
        if not shares:
            lost += 1
            continue
        for day, share in shares.items():
            index = week_index(day, starts[0], weeks)
            if index is None:
                continue
            if window.group in GROUPS:
                rows[index].expected[window.group] += share
            else:
                rows[index].undecided += share
    return Demand(rows, lost)


def visits_that_fit(
    intervals: Iterable[tuple[datetime, datetime]], visit_minutes: int, seats: int
) -> int:
    """Visits of ``visit_minutes`` that fit into ``intervals`` on ``seats`` seats."""
    if visit_minutes <= 0 or seats <= 0:
        return 0
    per_seat = sum(
        int((end - start).total_seconds() // 60) // visit_minutes for start, end in intervals
    )
    return per_seat * seats


def weekly_visit_capacity(
    days: ClinicDays, week_start: date, visit_minutes: int, seats: int
) -> int:
    return sum(
        visits_that_fit(days.open_intervals(day), visit_minutes, seats)
        for day in days_of(week_start)
    )


# --------------------------------------------------------------------------- utilisation


@dataclass(frozen=True)
class UtilisationResource:
    """One resource whose seats carry holds."""

    id: int
    label: str
    capacity: int
    is_per_day: bool = False
    weekdays: frozenset[int] | None = None  # staff: working weekdays (None: every open day)


@dataclass(frozen=True)
class Usage:
    held: int
    available: int

    @property
    def percent(self) -> int | None:
        """Whole percent, half up; None when nothing was available."""
        if self.available <= 0:
            return None
        return int(Fraction(self.held * 100, self.available) + Fraction(1, 2))


def available_units(resource: UtilisationResource, days: ClinicDays, week_start: date) -> int:
    if resource.capacity <= 0:
        return 0
    if resource.is_per_day:
        return 7 * resource.capacity
    units = 0
    for day in days_of(week_start):
        if resource.weekdays is not None and day.weekday() not in resource.weekdays:
            continue
        units += len(days.open_units(day))
    return units * resource.capacity


def utilisation(
    resources: Sequence[UtilisationResource],
    held: Mapping[tuple[int, int], int],
    days: ClinicDays,
    week_starts_: Sequence[date],
) -> list[tuple[UtilisationResource, list[Usage]]]:
    """``held``: (resource id, week index) → hold rows (seat-units) in that week."""
    return [
        (
            resource,
            [
                Usage(held.get((resource.id, n), 0), available_units(resource, days, start))
                for n, start in enumerate(week_starts_)
            ],
        )
        for resource in resources
    ]


def held_by_week(
    rows: Iterable[tuple[int, date, int]], first_week: date, weeks: int = WEEKS
) -> dict[tuple[int, int], int]:
    """(resource id, local day, holds) → (resource id, week index) → holds."""
    out: dict[tuple[int, int], int] = defaultdict(int)
    for resource_id, day, count in rows:
        index = week_index(day, first_week, weeks)
        if index is not None:
            out[resource_id, index] += count
    return dict(out)


def daily_places(
    rows: Iterable[tuple[date, int]], first_day: date, days: int = 7 * WEEKS
) -> list[tuple[date, int]]:
    """Incubator places used per day, ``days`` days from ``first_day``."""
    used: dict[date, int] = defaultdict(int)
    for day, count in rows:
        used[day] += count
    return [
        (first_day + timedelta(days=n), used[first_day + timedelta(days=n)]) for n in range(days)
    ]


# --------------------------------------------------------------------------- chart geometry


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    series: str
    value: Number
    index: int


@dataclass(frozen=True)
class Tick:
    y: float
    value: Number


@dataclass(frozen=True)
class XLabel:
    x: float
    text: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    rects: list[Rect]
    ticks: list[Tick]
    x_labels: list[XLabel]
    #: An SVG path ("M x y H x V y …") of the capacity step line, or "".
    capacity_path: str
    top_value: Number
    #: Indices of the bars above the capacity line.
    over: list[int]


def nice_step(value: Number, ticks: int = 5) -> int:
    """A round step (1, 2 or 5 × 10^k, at least 1) for about ``ticks`` steps up to ``value``."""
    raw = Fraction(value) / ticks
    magnitude = 1
    while magnitude * 10 <= raw:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= raw:
            return step * magnitude
    raise AssertionError("unreachable")  # pragma: no cover


def nice_top(value: Number) -> int:
    """The axis top: the smallest multiple of ``nice_step`` at or above ``value`` (≥ 1)."""
    if value <= 0:
        return 1
    step = nice_step(value)
    return max(-(-Fraction(value) // step) * step, 1)


def _r(value: float) -> float:
    return round(value, 2)


def bar_chart(
    stacks: Sequence[Sequence[tuple[str, Number]]],
    labels: Sequence[str],
    *,
    capacity: Sequence[Number | None] | None = None,
    width: int = 640,
    height: int = 260,
    label_every: int = 1,
    margin: tuple[int, int, int, int] = (12, 12, 36, 44),  # top, right, bottom, left
) -> BarChart:
    """Stacked bars (one stack of ``(series, value)`` per slot, bottom first),
    an optional capacity step line, a y axis from 0 to a round top and x
    labels (every ``label_every``-th slot)."""
    if len(labels) != len(stacks):
        raise ValueError("one label per bar")
    top_m, right_m, bottom_m, left_m = margin
    left, top, right, bottom = left_m, top_m, width - right_m, height - bottom_m
    caps = list(capacity) if capacity is not None else [None] * len(stacks)
    totals = [sum((v for _s, v in stack), Fraction(0)) for stack in stacks]
    highest = max([*totals, *(c for c in caps if c is not None), 0])
    top_value = nice_top(highest)
    plot_h = bottom - top
    slot = (right - left) / len(stacks) if stacks else 0
    bar_w = slot * 0.7

    def y_of(value: Number) -> float:
        return bottom - float(Fraction(value) / top_value) * plot_h

    rects: list[Rect] = []
    for index, stack in enumerate(stacks):
        base = Fraction(0)
        x = left + slot * index + (slot - bar_w) / 2
        for series, value in stack:
            if value <= 0:
                continue
            y_top, y_base = y_of(base + value), y_of(base)
            rects.append(
                Rect(_r(x), _r(y_top), _r(bar_w), _r(y_base - y_top), series, value, index)
            )
            base += value
    step = nice_step(top_value)
    ticks, value = [], Fraction(0)
    while value <= top_value:
        ticks.append(Tick(_r(y_of(value)), value))
        value += step
    x_labels = [
        XLabel(_r(left + slot * i + slot / 2), text)
        for i, text in enumerate(labels)
        if i % max(label_every, 1) == 0
    ]
    path, drawing = [], False
    for index, cap in enumerate(caps):
        if cap is None:
            drawing = False
            continue
        x0, x1, y = _r(left + slot * index), _r(left + slot * (index + 1)), _r(y_of(cap))
        path.append(f"V {y} H {x1}" if drawing else f"M {x0} {y} H {x1}")
        drawing = True
    over = [i for i, (t, c) in enumerate(zip(totals, caps, strict=True)) if c is not None and t > c]
    return BarChart(
        width,
        height,
        left,
        top,
        right,
        bottom,
        rects,
        ticks,
        x_labels,
        " ".join(path),
        top_value,
        over,
    )


@dataclass(frozen=True)
class Cell:
    x: float
    y: float
    width: float
    height: float
    band: str
    percent: int | None


@dataclass(frozen=True)
class Heatmap:
    width: int
    height: int
    row_labels: list[tuple[float, str]]
    column_labels: list[tuple[float, str]]
    cells: list[Cell]


def band(percent: int | None) -> str:
    """The colour band of a utilisation figure."""
    if percent is None:
        return "none"
    if percent > 100:
        return "over"
    if percent >= 85:
        return "high"
    if percent >= 50:
        return "mid"
    return "low"


def heatmap(
    rows: Sequence[tuple[str, Sequence[int | None]]],
    columns: Sequence[str],
    *,
    label_width: int = 150,
    cell_width: int = 58,
    cell_height: int = 28,
    header: int = 24,
) -> Heatmap:
    """A grid: one row per resource, one column per week, each cell the percent."""
    cells, row_labels = [], []
    for r, (label, values) in enumerate(rows):
        y = header + r * cell_height
        row_labels.append((_r(y + cell_height / 2), label))
        for c, percent in enumerate(values):
            x = label_width + c * cell_width
            cells.append(
                Cell(x + 1, y + 1, cell_width - 2, cell_height - 2, band(percent), percent)
            )
    column_labels = [
        (_r(label_width + c * cell_width + cell_width / 2), text) for c, text in enumerate(columns)
    ]
    width = label_width + cell_width * len(columns)
    return Heatmap(width, header + cell_height * len(rows), row_labels, column_labels, cells)
