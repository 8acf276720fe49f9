"""Which start times of a visit are free. Pure: everything, ``now`` included, is passed in.

Time is cut into units (``unit_minutes``, default 15) for rooms, chairs and staff,
and into local calendar days for per-day resources (incubator places). A visit
holds every resource of each of its segments for every unit the segment touches
(see ``units_for``) and every day of its day blocks (see ``days_for``); the
booking service writes one hold row per seat from those two lists.

``holds`` maps what is already taken to a seat count, in one mapping:

* ``(resource_code, unit_start)`` for unit resources, ``unit_start`` a UTC-aware
  datetime on the unit grid;
* ``(resource_code, local_date)`` for per-day resources (a ``date``, not a datetime).

The unit grid starts at each regular opening interval's opening time (09:00,
13:00 …) and steps by ``unit_minutes`` in real time; closures only remove
starts, they never move the grid, so every booking of a day uses the same unit
starts and the ledger's unique ``(resource, unit_start, seat)`` stays meaningful.
A resource missing from ``capacities`` has capacity 0.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from intake.scheduling.calendar import (
    Closure,
    Interval,
    OpeningHours,
    regular_intervals,
    subtract_closures,
)

HoldKey = tuple[str, date]  # (code, UTC unit start datetime) or (code, local date)


@dataclass(frozen=True)
class Segment:
    """The visit uses ``quantity`` of ``resource_code`` from offset for duration minutes."""

    offset_minutes: int
    duration_minutes: int
    resource_code: str
    quantity: int = 1

    def __post_init__(self) -> None:
        if self.offset_minutes < 0 or self.duration_minutes <= 0 or self.quantity <= 0:
            raise ValueError(f"invalid segment {self}")

    @property
    def end_minutes(self) -> int:
        return self.offset_minutes + self.duration_minutes


@dataclass(frozen=True)
class DayBlock:
    """``quantity`` of a per-day resource on ``days`` calendar days, the visit day counting as 1.

    The visit day is day 0, so ``days=43`` covers day 0 to day 42 inclusive: the
    default collection holds one incubator place "from the collection day to
    day 42" (the end of the 28-42 day culture window). Use ``through_day``.
    """

    resource_code: str
    days: int
    quantity: int = 1

    def __post_init__(self) -> None:
        if self.days <= 0 or self.quantity <= 0:
            raise ValueError(f"invalid day block {self}")

    @classmethod
    def through_day(cls, resource_code: str, last_day: int, quantity: int = 1) -> DayBlock:
        """Held from the visit day (day 0) to ``last_day`` inclusive."""
        return cls(resource_code, last_day + 1, quantity)


@dataclass(frozen=True)
class VisitType:
    segments: tuple[Segment, ...]
    day_blocks: tuple[DayBlock, ...] = ()

    def __post_init__(self) -> None:
        if not self.segments:
            raise ValueError("a visit type needs at least one segment")

    @property
    def span_minutes(self) -> int:
        """From the start of the visit to the end of its last segment."""
        return max(segment.end_minutes for segment in self.segments)


class Refusal(StrEnum):
    """Why a start is not bookable, in the order ``check_start`` tests them."""

    HOLIDAY = "holiday"
    OUTSIDE_HOURS = "outside_hours"
    NOT_ALIGNED = "not_aligned"
    CLOSED = "closed"
    TOO_SOON = "too_soon"
    BEYOND_HORIZON = "beyond_horizon"
    FULL = "full"


def units_for(
    start: datetime, segments: Sequence[Segment], unit_minutes: int
) -> list[tuple[str, datetime]]:
    """One ``(resource_code, unit_start)`` per seat to hold, sorted; UTC unit starts.

    A segment touches every unit overlapping its span (offsets that are not a
    multiple of the unit round outwards). An entry appears once per seat, so a
    segment of quantity 2 (or two overlapping segments of one resource) lists
    that unit twice.
    """
    start = _utc(start)
    unit = timedelta(minutes=unit_minutes)
    seats = [
        (segment.resource_code, start + k * unit)
        for segment in segments
        for k in range(*_unit_range(segment, unit_minutes))
        for _ in range(segment.quantity)
    ]
    return sorted(seats)


def days_for(start_local_date: date, day_blocks: Sequence[DayBlock]) -> list[tuple[str, date]]:
    """One ``(resource_code, local_date)`` per place to hold, sorted."""
    places = [
        (block.resource_code, start_local_date + timedelta(days=n))
        for block in day_blocks
        for n in range(block.days)
        for _ in range(block.quantity)
    ]
    return sorted(places)


def free_starts(
    visit: VisitType,
    *,
    start_date: date,
    end_date: date,
    tz: ZoneInfo,
    hours: OpeningHours,
    closures: Sequence[Closure] = (),
    holiday_dates: AbstractSet[date] = frozenset(),
    unit_minutes: int,
    capacities: Mapping[str, int],
    holds: Mapping[HoldKey, int],
    now: datetime,
    min_notice: timedelta,
    horizon: timedelta,
) -> list[datetime]:
    """Sorted UTC starts of ``visit`` on local days ``start_date`` … ``end_date`` inclusive.

    A start is free when the whole visit lies inside one open interval, it is on
    the unit grid, ``now + min_notice <= start <= now + horizon``, every unit of
    every segment has ``quantity`` free seats and every day of every day block has
    ``quantity`` free places. Holds are looked up, never scanned, so the cost
    grows with the window, not with the number of bookings.
    """
    unit = timedelta(minutes=unit_minutes)
    span = timedelta(minutes=visit.span_minutes)
    earliest, latest = _utc(now) + min_notice, _utc(now) + horizon
    runs = _demand_runs(visit.segments, unit_minutes)
    ordered_closures = sorted(closures, key=lambda closure: closure.start_at)
    starts: list[datetime] = []
    day = start_date
    while day <= end_date:
        if day not in holiday_dates and _days_free(day, visit.day_blocks, capacities, holds):
            for anchor, close in regular_intervals(day, hours, tz):
                for piece in subtract_closures([(anchor, close)], ordered_closures):
                    window = _index_window(anchor, piece, span, unit, earliest, latest)
                    if window is not None:
                        starts += _fitting_starts(anchor, unit, window, runs, capacities, holds)
        day += timedelta(days=1)
    return starts


def check_start(
    start: datetime,
    visit: VisitType,
    *,
    tz: ZoneInfo,
    hours: OpeningHours,
    closures: Sequence[Closure] = (),
    holiday_dates: AbstractSet[date] = frozenset(),
    unit_minutes: int,
    capacities: Mapping[str, int],
    holds: Mapping[HoldKey, int],
    now: datetime,
    min_notice: timedelta,
    horizon: timedelta,
) -> Refusal | None:
    """``None`` if ``start`` is bookable (exactly when ``free_starts`` offers it), else why not."""
    start = _utc(start)
    end = start + timedelta(minutes=visit.span_minutes)
    day = start.astimezone(tz).date()
    if day in holiday_dates:
        return Refusal.HOLIDAY
    anchor = _containing_anchor(regular_intervals(day, hours, tz), start, end)
    if anchor is None:
        return Refusal.OUTSIDE_HOURS
    if (start - anchor) % timedelta(minutes=unit_minutes):
        return Refusal.NOT_ALIGNED
    if any(closure.overlaps(start, end) for closure in closures):
        return Refusal.CLOSED
    if start < _utc(now) + min_notice:
        return Refusal.TOO_SOON
    if start > _utc(now) + horizon:
        return Refusal.BEYOND_HORIZON
    needed: Counter[HoldKey] = Counter(units_for(start, visit.segments, unit_minutes))
    needed.update(days_for(day, visit.day_blocks))
    if any(_free(code, key, capacities, holds) < n for (code, key), n in needed.items()):
        return Refusal.FULL
    return None


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("naive datetime")
    return instant.astimezone(UTC)


def _free(code: str, key: date, capacities: Mapping[str, int], holds: Mapping[HoldKey, int]) -> int:
    return capacities.get(code, 0) - holds.get((code, key), 0)


def _unit_range(segment: Segment, unit_minutes: int) -> tuple[int, int]:
    """Unit indices ``[first, end)`` (from the visit start) that the segment touches."""
    return segment.offset_minutes // unit_minutes, -(-segment.end_minutes // unit_minutes)


def _demand_runs(segments: Sequence[Segment], unit_minutes: int) -> list[tuple[str, int, int, int]]:
    """``(code, quantity, first_unit, end_unit)`` runs of equal demand, from the visit start."""
    demand: Counter[tuple[str, int]] = Counter()
    for segment in segments:
        for k in range(*_unit_range(segment, unit_minutes)):
            demand[segment.resource_code, k] += segment.quantity
    runs: list[tuple[str, int, int, int]] = []
    for (code, k), quantity in sorted(demand.items()):
        if runs and runs[-1][0] == code and runs[-1][1] == quantity and runs[-1][3] == k:
            runs[-1] = (code, quantity, runs[-1][2], k + 1)
        else:
            runs.append((code, quantity, k, k + 1))
    return runs


def _days_free(
    day: date,
    day_blocks: Sequence[DayBlock],
    capacities: Mapping[str, int],
    holds: Mapping[HoldKey, int],
) -> bool:
    needed = Counter(days_for(day, day_blocks))
    return all(_free(code, on, capacities, holds) >= n for (code, on), n in needed.items())


def _index_window(
    anchor: datetime,
    piece: Interval,
    span: timedelta,
    unit: timedelta,
    earliest: datetime,
    latest: datetime,
) -> tuple[int, int] | None:
    """Grid indices ``[first, last]`` of starts whose visit fits ``piece`` and the limits."""
    low = max(piece[0], earliest)
    high = min(piece[1] - span, latest)
    if high < low:
        return None
    first = -((anchor - low) // unit)  # ceiling
    last = (high - anchor) // unit
    return (first, last) if first <= last else None


def _fitting_starts(
    anchor: datetime,
    unit: timedelta,
    window: tuple[int, int],
    runs: Sequence[tuple[str, int, int, int]],
    capacities: Mapping[str, int],
    holds: Mapping[HoldKey, int],
) -> list[datetime]:
    """Grid starts in ``window`` where every run of demand has enough free seats."""
    first, last = window
    reach = max(run[3] for run in runs)
    unit_starts = [anchor + j * unit for j in range(first, last + reach)]
    free = {
        code: [capacities.get(code, 0) - holds.get((code, at), 0) for at in unit_starts]
        for code in {run[0] for run in runs}
    }
    ok = [True] * (last - first + 1)
    for code, quantity, k_first, k_end in runs:
        short = _prefix_count([seats < quantity for seats in free[code]])
        for i in range(len(ok)):
            if ok[i] and short[i + k_end] != short[i + k_first]:
                ok[i] = False
    return [unit_starts[i] for i, fits in enumerate(ok) if fits]


def _prefix_count(flags: Sequence[bool]) -> list[int]:
    counts = [0]
    for flag in flags:
        counts.append(counts[-1] + flag)
    return counts


def _containing_anchor(
    regular: Sequence[Interval], start: datetime, end: datetime
) -> datetime | None:
    """The opening time of the regular interval holding ``[start, end)``, if any."""
    for anchor, close in regular:
        if anchor <= start and end <= close:
            return anchor
    return None
