"""Which start times of a visit are free. Pure: everything, ``now`` included, is passed in.

Time is cut into units (``unit_minutes``, default 15) for rooms, chairs and staff,
and into local calendar days for per-day resources (incubator places). A visit
holds every resource of each of its segments for every unit the segment touches
(see ``units_for``) and every day of its day blocks (see ``days_for``); the
booking service writes one hold row per seat from those two lists.

What is already taken comes in one ``Situation`` (the calendar, the limits,
the capacities and the taken seats), as a mapping to a seat count keyed by
whole numbers, so looking a seat up costs no datetime arithmetic:

* ``(resource_code, unit_key(unit_start))`` for unit resources (minutes since
  1970-01-01 UTC of the unit start);
* ``(resource_code, day_key(local_date))`` for per-day resources (the date's ordinal).

The unit grid starts at each regular opening interval's opening time (09:00,
13:00 …) and steps by ``unit_minutes`` in real time; closures only remove
starts, they never move the grid, so every booking of a day uses the same unit
starts and the ledger's unique ``(resource, unit_start, seat)`` stays meaningful.
A resource missing from ``capacities`` has capacity 0.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo

from intake.scheduling.calendar import (
    Closure,
    Interval,
    OpeningHours,
    regular_intervals,
    subtract_closures,
)

HoldKey = tuple[str, int]  # (code, unit_key of a UTC unit start) or (code, day_key of a date)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def unit_key(instant: datetime) -> int:
    """A unit start as a whole number: minutes since 1970-01-01 UTC."""
    return int(instant.timestamp()) // 60


def unit_at(key: int) -> datetime:
    return _EPOCH + timedelta(minutes=key)


def day_key(day: date) -> int:
    """A local date as a whole number (its ordinal)."""
    return day.toordinal()


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


@dataclass(frozen=True)
class Situation:
    """Everything a decision about starts needs besides the visit type, loaded once.

    ``holds`` maps ``(resource_code, key)`` to the seats taken: ``key`` is
    ``unit_key(unit_start)`` for unit resources and ``day_key(local_date)`` for
    per-day ones. Starts before ``earliest`` or after ``latest`` are refused
    (``None``: no limit), so an answer computed without limits can be narrowed
    to any ``now`` afterwards.
    """

    tz: ZoneInfo
    hours: OpeningHours
    unit_minutes: int
    capacities: Mapping[str, int]
    holds: Mapping[HoldKey, int]
    closures: Sequence[Closure] = ()
    holiday_dates: AbstractSet[date] = frozenset()
    earliest: datetime | None = None
    latest: datetime | None = None

    @classmethod
    def of(
        cls,
        *,
        holds: Mapping[tuple[str, date], int] = MappingProxyType({}),
        now: datetime | None = None,
        min_notice: timedelta = timedelta(0),
        horizon: timedelta | None = None,
        **fields,
    ) -> Situation:
        """From holds keyed by UTC unit start (a datetime) or local date, and limits
        given as ``now`` + notice and horizon."""
        return cls(
            holds={(code, _key(at)): n for (code, at), n in holds.items()},
            earliest=None if now is None else _utc(now) + min_notice,
            latest=None if now is None or horizon is None else _utc(now) + horizon,
            **fields,
        )

    def limited(self, earliest: datetime | None, latest: datetime | None) -> Situation:
        return replace(self, earliest=earliest, latest=latest)


def within(starts: Iterable[datetime], earliest: datetime, latest: datetime) -> list[datetime]:
    """``starts`` narrowed to ``earliest`` … ``latest`` (the limits of one ``now``)."""
    return [start for start in starts if earliest <= start <= latest]


def _key(at: date) -> int:
    return unit_key(at) if isinstance(at, datetime) else day_key(at)


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
    visit: VisitType, situation: Situation, *, start_date: date, end_date: date
) -> list[datetime]:
    """Sorted UTC starts of ``visit`` on local days ``start_date`` … ``end_date`` inclusive.

    A start is free when the whole visit lies inside one open interval, it is on
    the unit grid, ``earliest <= start <= latest``, every unit of every segment
    has ``quantity`` free seats and every day of every day block has
    ``quantity`` free places. Holds are looked up, never scanned, so the cost
    grows with the window, not with the number of bookings; the day blocks are
    checked with one sliding window over the days, not day by day.
    """
    s = situation
    unit = timedelta(minutes=s.unit_minutes)
    span = timedelta(minutes=visit.span_minutes)
    runs = _demand_runs(visit.segments, s.unit_minutes)
    ordered_closures = sorted(s.closures, key=lambda closure: closure.start_at)
    days_ok = _days_free_from(start_date, end_date, visit.day_blocks, s.capacities, s.holds)
    starts: list[datetime] = []
    for n, fits in enumerate(days_ok):
        day = start_date + timedelta(days=n)
        if not fits or day in s.holiday_dates:
            continue
        for anchor, close in regular_intervals(day, s.hours, s.tz):
            for piece in subtract_closures([(anchor, close)], ordered_closures):
                window = _index_window(anchor, piece, span, unit, s.earliest, s.latest)
                if window is not None:
                    starts += _fitting_starts(
                        anchor, s.unit_minutes, window, runs, s.capacities, s.holds
                    )
    return starts


def check_start(start: datetime, visit: VisitType, situation: Situation) -> Refusal | None:
    """``None`` if ``start`` is bookable (exactly when ``free_starts`` offers it), else why not."""
    s = situation
    start = _utc(start)
    end = start + timedelta(minutes=visit.span_minutes)
    day = start.astimezone(s.tz).date()
    if day in s.holiday_dates:
        return Refusal.HOLIDAY
    anchor = _containing_anchor(regular_intervals(day, s.hours, s.tz), start, end)
    if anchor is None:
        return Refusal.OUTSIDE_HOURS
    if (start - anchor) % timedelta(minutes=s.unit_minutes):
        return Refusal.NOT_ALIGNED
    if any(closure.overlaps(start, end) for closure in s.closures):
        return Refusal.CLOSED
    if s.earliest is not None and start < s.earliest:
        return Refusal.TOO_SOON
    if s.latest is not None and start > s.latest:
        return Refusal.BEYOND_HORIZON
    needed: Counter[HoldKey] = Counter(
        (code, unit_key(at)) for code, at in units_for(start, visit.segments, s.unit_minutes)
    )
    needed.update((code, day_key(on)) for code, on in days_for(day, visit.day_blocks))
    if any(_free(code, key, s.capacities, s.holds) < n for (code, key), n in needed.items()):
        return Refusal.FULL
    return None


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("naive datetime")
    return instant.astimezone(UTC)


def _free(code: str, key: int, capacities: Mapping[str, int], holds: Mapping[HoldKey, int]) -> int:
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


def _days_free_from(
    first: date,
    last: date,
    day_blocks: Sequence[DayBlock],
    capacities: Mapping[str, int],
    holds: Mapping[HoldKey, int],
) -> list[bool]:
    """For each day ``first`` … ``last``: has every day block enough free places
    on each of its days? One pass over the days per block (a sliding window)."""
    count = (last - first).days + 1
    if count <= 0:
        return []
    ok = [True] * count
    demand: Counter[tuple[str, int]] = Counter()
    for block in day_blocks:  # blocks of one resource add up, day by day
        for n in range(block.days):
            demand[block.resource_code, n] += block.quantity
    reach = max((n for _code, n in demand), default=-1) + 1
    base = day_key(first)
    for code in {code for code, _n in demand}:
        free = [
            capacities.get(code, 0) - holds.get((code, base + i), 0) for i in range(count + reach)
        ]
        runs = _runs_of({n: q for (c, n), q in demand.items() if c == code})
        for quantity, k_first, k_end in runs:
            short = _prefix_count([seats < quantity for seats in free])
            for i in range(count):
                if ok[i] and short[i + k_end] != short[i + k_first]:
                    ok[i] = False
    return ok


def _runs_of(demand: Mapping[int, int]) -> list[tuple[int, int, int]]:
    """``(quantity, first, end)`` runs of equal demand over consecutive offsets."""
    runs: list[tuple[int, int, int]] = []
    for k, quantity in sorted(demand.items()):
        if runs and runs[-1][0] == quantity and runs[-1][2] == k:
            runs[-1] = (quantity, runs[-1][1], k + 1)
        else:
            runs.append((quantity, k, k + 1))
    return runs


def _index_window(
    anchor: datetime,
    piece: Interval,
    span: timedelta,
    unit: timedelta,
    earliest: datetime | None,
    latest: datetime | None,
) -> tuple[int, int] | None:
    """Grid indices ``[first, last]`` of starts whose visit fits ``piece`` and the limits."""
    low = piece[0] if earliest is None else max(piece[0], earliest)
    high = piece[1] - span if latest is None else min(piece[1] - span, latest)
    if high < low:
        return None
    first = -((anchor - low) // unit)  # ceiling
    last = (high - anchor) // unit
    return (first, last) if first <= last else None


def _fitting_starts(
    anchor: datetime,
    unit_minutes: int,
    window: tuple[int, int],
    runs: Sequence[tuple[str, int, int, int]],
    capacities: Mapping[str, int],
    holds: Mapping[HoldKey, int],
) -> list[datetime]:
    """Grid starts in ``window`` where every run of demand has enough free seats."""
    first, last = window
    reach = max(run[3] for run in runs)
    base = unit_key(anchor)
    keys = [base + j * unit_minutes for j in range(first, last + reach)]
    free = {
        code: [capacities.get(code, 0) - holds.get((code, key), 0) for key in keys]
        for code in {run[0] for run in runs}
    }
    ok = [True] * (last - first + 1)
    for code, quantity, k_first, k_end in runs:
        short = _prefix_count([seats < quantity for seats in free[code]])
        for i in range(len(ok)):
            if ok[i] and short[i + k_end] != short[i + k_first]:
                ok[i] = False
    unit = timedelta(minutes=unit_minutes)
    return [anchor + (first + i) * unit for i, fits in enumerate(ok) if fits]


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
