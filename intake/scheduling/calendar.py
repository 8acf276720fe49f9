"""The clinic calendar: when the clinic is open, as UTC instants. Pure.

Opening hours are local wall-clock times per weekday; closures are UTC instants;
public holidays are local dates. ``open_intervals`` turns one local day into the
UTC intervals during which the clinic is open.

Daylight-saving time: an interval ``[start, end)`` covers every instant at which
the clinic's wall clock reads a time in ``[start, end)``. So a 09:00-18:00 day is
nine wall-clock hours whatever the offset, and on a transition day the UTC
instants shift with the offset. The two odd cases, which only matter for hours
near the transition (usually 01:00-03:00):

* a local time that does not exist (the clock jumps over it, spring forward)
  resolves to the instant of the jump, for both an opening and a closing time;
* a local time that happens twice (the clock falls back) resolves to its first
  occurrence (``fold=0``) as an opening time and to its second (``fold=1``) as a
  closing time, so the interval keeps the repeated hour.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

Interval = tuple[datetime, datetime]
LocalInterval = tuple[time, time]


@dataclass(frozen=True)
class OpeningHours:
    """Local opening intervals for each weekday, 0 = Monday … 6 = Sunday."""

    by_weekday: tuple[tuple[LocalInterval, ...], ...]

    def __post_init__(self) -> None:
        if len(self.by_weekday) != 7:
            raise ValueError("opening hours need exactly 7 weekdays")
        for intervals in self.by_weekday:
            _check_local_intervals(intervals)

    @classmethod
    def simple(
        cls,
        weekdays: Iterable[int],
        open_at: time,
        close_at: time,
        break_start: time | None = None,
        break_end: time | None = None,
    ) -> OpeningHours:
        """The same hours on each of ``weekdays``, with an optional break (lunch)."""
        if (break_start is None) != (break_end is None):
            raise ValueError("a break needs both a start and an end")
        if break_start is None or break_end is None:
            day: tuple[LocalInterval, ...] = ((open_at, close_at),)
        else:
            day = ((open_at, break_start), (break_end, close_at))
        open_days = set(weekdays)
        return cls(tuple(day if weekday in open_days else () for weekday in range(7)))

    def on(self, day: date) -> tuple[LocalInterval, ...]:
        return self.by_weekday[day.weekday()]


@dataclass(frozen=True)
class Closure:
    """The clinic is closed from ``start_at`` to ``end_at`` (UTC-aware instants)."""

    start_at: datetime
    end_at: datetime
    reason: str = ""

    def __post_init__(self) -> None:
        if self.start_at.tzinfo is None or self.end_at.tzinfo is None:
            raise ValueError("closure instants must be timezone-aware")
        if self.end_at <= self.start_at:
            raise ValueError("a closure must end after it starts")

    @classmethod
    def whole_days(cls, first: date, last: date, tz: ZoneInfo, reason: str = "") -> Closure:
        """Closed from local midnight of ``first`` to local midnight after ``last``."""
        start_at = wall_to_utc(first, time(0), tz, as_end=False)
        end_at = wall_to_utc(last + timedelta(days=1), time(0), tz, as_end=False)
        return cls(start_at, end_at, reason)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start_at < end and start < self.end_at


def japanese_holidays(years: Iterable[int]) -> set[date]:
    """Japanese public holidays (including substitute holidays) of ``years``."""
    return set(holidays.country_holidays("JP", years=sorted(set(years))).keys())


def wall_to_utc(day: date, at: time, tz: ZoneInfo, *, as_end: bool) -> datetime:
    """The UTC instant of local ``day`` ``at`` (see the module doc for DST gaps and folds)."""
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    second = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    if first == second:
        return first
    if first < second:  # the wall clock shows this time twice
        return second if as_end else first
    return _jump_instant(second, first, tz)  # the wall clock skips this time


def regular_intervals(day: date, hours: OpeningHours, tz: ZoneInfo) -> list[Interval]:
    """The UTC intervals of ``day``'s opening hours, ignoring holidays and closures."""
    return list(_regular_intervals(day, hours, tz))


@lru_cache(maxsize=4096)
def _regular_intervals(day: date, hours: OpeningHours, tz: ZoneInfo) -> tuple[Interval, ...]:
    intervals = (
        (wall_to_utc(day, start, tz, as_end=False), wall_to_utc(day, end, tz, as_end=True))
        for start, end in hours.on(day)
    )
    return tuple((start, end) for start, end in intervals if start < end)


def subtract_closures(intervals: Iterable[Interval], closures: Sequence[Closure]) -> list[Interval]:
    """``intervals`` minus every closure; pieces stay in order."""
    pieces = list(intervals)
    for closure in closures:
        pieces = [part for piece in pieces for part in _minus(piece, closure)]
    return pieces


def open_intervals(
    day: date,
    hours: OpeningHours,
    tz: ZoneInfo,
    closures: Sequence[Closure] = (),
    holiday_dates: AbstractSet[date] = frozenset(),
) -> list[Interval]:
    """UTC-aware intervals during which the clinic is open on local ``day``."""
    if day in holiday_dates:
        return []
    return subtract_closures(regular_intervals(day, hours, tz), closures)


def _minus(piece: Interval, closure: Closure) -> list[Interval]:
    start, end = piece
    if not closure.overlaps(start, end):
        return [piece]
    parts = [(start, closure.start_at), (closure.end_at, end)]
    return [(a, b) for a, b in parts if a < b]


def _jump_instant(before: datetime, after: datetime, tz: ZoneInfo) -> datetime:
    """The first whole second in ``(before, after]`` already at ``after``'s UTC offset."""
    target = after.astimezone(tz).utcoffset()
    base = before.replace(microsecond=0)
    low, high = 0, int((after - base).total_seconds()) + 1
    while high - low > 1:
        middle = (low + high) // 2
        if (base + timedelta(seconds=middle)).astimezone(tz).utcoffset() == target:
            high = middle
        else:
            low = middle
    return base + timedelta(seconds=high)


def _check_local_intervals(intervals: tuple[LocalInterval, ...]) -> None:
    previous_end: time | None = None
    for start, end in intervals:
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError("opening hours are naive local times")
        if end <= start:
            raise ValueError(f"opening interval {start}-{end} must end after it starts")
        if previous_end is not None and start < previous_end:
            raise ValueError("opening intervals must be sorted and must not overlap")
        previous_end = end
