"""A travelling patient's trips and the culture window. Pure: no Flask, no
database, no clock (``today`` is passed in).

A patient who lives abroad plans **trips** to Japan: an arrival and a
departure day. The collection day decides when the cells are ready: the
culture window is collection + ``min_days`` … collection + ``max_days``
(clinic settings ``culture_min_days`` and ``culture_max_days``), both ends
included. A collection day *fits* a trip when at least one window day on
which the clinic is open (``is_open``: open weekday, not a public holiday,
not closed) falls inside a trip.

Convention: the arrival day and the departure day both count as days in
Japan (the reinfusion can be booked in the morning of the departure day or
the afternoon of the arrival day; the clinic tells the patient the time).

Verdicts, per collection day:

* ``FITS``: a trip meets the window on an open day (``Fit.trip``, the first
  such trip, and ``Fit.days``, its open window days);
* ``MISSES``: a *later* trip is planned (one arriving after the collection
  day) but no trip meets the window on an open day: the booking warns;
* ``NO_TRIP``: no later trip yet (none planned, or all over, or only the trip
  the patient is on for the collection itself): nothing is marked, no warning.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from intake.scheduling.calendar import Closure, OpeningHours, open_intervals

#: How far ahead a trip may be planned (its departure), in days.
TRIP_HORIZON_DAYS = 730


@dataclass(frozen=True, order=True)
class Trip:
    """A stay in Japan, arrival and departure days both included."""

    arrives_on: date
    departs_on: date

    def __post_init__(self) -> None:
        if self.departs_on < self.arrives_on:
            raise ValueError("a trip departs on or after its arrival")

    def contains(self, day: date) -> bool:
        return self.arrives_on <= day <= self.departs_on

    def overlaps(self, other: Trip) -> bool:
        return self.arrives_on <= other.departs_on and other.arrives_on <= self.departs_on


class Verdict(enum.StrEnum):
    FITS = "fits"
    MISSES = "misses"
    NO_TRIP = "no_trip"


@dataclass(frozen=True)
class Fit:
    """What one collection day means for the patient's trips."""

    verdict: Verdict
    collection_day: date
    #: The culture window: first and last day (cells ready).
    window: tuple[date, date]
    #: The first trip meeting the window on an open day (FITS only).
    trip: Trip | None = None
    #: That trip's open window days (FITS only).
    days: tuple[date, ...] = ()

    @property
    def warns(self) -> bool:
        return self.verdict == Verdict.MISSES


def window_days(collection_day: date, *, min_days: int, max_days: int) -> list[date]:
    """Every day of the culture window, collection + ``min_days`` … + ``max_days``."""
    if min_days < 0 or max_days < min_days:
        raise ValueError("the culture window needs 0 <= min_days <= max_days")
    return [collection_day + timedelta(days=n) for n in range(min_days, max_days + 1)]


def open_window_days(
    collection_day: date, *, min_days: int, max_days: int, is_open: Callable[[date], bool]
) -> list[date]:
    """The window days on which the clinic is open (a reinfusion could be given)."""
    return [
        day
        for day in window_days(collection_day, min_days=min_days, max_days=max_days)
        if is_open(day)
    ]


def in_order(trips: Iterable[Trip]) -> list[Trip]:
    """The trips in order of arrival."""
    return sorted(trips)


def trips_meeting(days: Iterable[date], trips: Iterable[Trip]) -> list[tuple[Trip, list[date]]]:
    """Each trip that contains at least one of ``days``, with those days, by arrival."""
    days = sorted(days)
    met = []
    for trip in in_order(trips):
        inside = [day for day in days if trip.contains(day)]
        if inside:
            met.append((trip, inside))
    return met


def later_trips(collection_day: date, trips: Iterable[Trip]) -> list[Trip]:
    """Trips arriving after the collection day (the trip for the reinfusion)."""
    return [trip for trip in in_order(trips) if trip.arrives_on > collection_day]


def fit(
    collection_day: date,
    trips: Iterable[Trip],
    *,
    min_days: int,
    max_days: int,
    is_open: Callable[[date], bool],
) -> Fit:
    """The verdict for collecting on ``collection_day`` (see the module doc)."""
    trips = in_order(trips)
    all_days = window_days(collection_day, min_days=min_days, max_days=max_days)
    window = (all_days[0], all_days[-1])
    open_days = [day for day in all_days if is_open(day)]
    met = trips_meeting(open_days, trips)
    if met:
        trip, days = met[0]
        return Fit(Verdict.FITS, collection_day, window, trip, tuple(days))
    if later_trips(collection_day, trips):
        return Fit(Verdict.MISSES, collection_day, window)
    return Fit(Verdict.NO_TRIP, collection_day, window)


def fits_by_day(
    collection_days: Iterable[date],
    trips: Iterable[Trip],
    *,
    min_days: int,
    max_days: int,
    is_open: Callable[[date], bool],
) -> dict[date, Fit]:
    """``fit`` for each candidate collection day."""
    trips = in_order(trips)
    return {
        day: fit(day, trips, min_days=min_days, max_days=max_days, is_open=is_open)
        for day in collection_days
    }


def needs_confirmation(result: Fit | None, *, confirmed: bool) -> bool:
    """A booking on a day that MISSES the patient's trips waits for an explicit
    "book anyway"; every other day books straight away."""
    return result is not None and result.warns and not confirmed


def open_day_predicate(
    hours: OpeningHours,
    tz: ZoneInfo,
    closures: Sequence[Closure] = (),
    holiday_dates: Iterable[date] = (),
) -> Callable[[date], bool]:
    """``is_open(day)`` from the clinic calendar: open hours that day, not a
    public holiday, not closed all day."""
    holidays = frozenset(holiday_dates)

    def is_open(day: date) -> bool:
        return bool(open_intervals(day, hours, tz, closures, holidays))

    return is_open


# --------------------------------------------------------------------------- reinfusion proposals


def prefer_in_trips(trips: Iterable[Trip]) -> Callable[[date], bool]:
    """A predicate on a clinic-local day: True inside one of ``trips``."""
    trips = in_order(trips)

    def prefer(day: date) -> bool:
        return any(trip.contains(day) for trip in trips)

    return prefer


def order_times(times: Iterable[datetime], trips: Iterable[Trip], tz: ZoneInfo) -> list[datetime]:
    """Times (aware instants) with those inside a trip (their clinic-local day)
    first, each group in time order. Without trips: time order."""
    prefer = prefer_in_trips(trips)
    return sorted(times, key=lambda t: (not prefer(t.astimezone(tz).date()), t))


def proposal_days_preferred(window_days: Iterable[date], trips: Iterable[Trip]) -> list[date]:
    """The days of ``window_days`` inside a trip, in order (empty: no trip meets)."""
    prefer = prefer_in_trips(trips)
    return sorted(day for day in window_days if prefer(day))


# --------------------------------------------------------------------------- checking a trip


class Problem(enum.StrEnum):
    DEPARTS_BEFORE_ARRIVAL = "departs_before_arrival"
    IN_THE_PAST = "in_the_past"
    TOO_FAR = "too_far"
    OVERLAPS = "overlaps"


def trip_problems(
    arrives_on: date,
    departs_on: date,
    *,
    today: date,
    others: Iterable[Trip] = (),
    horizon_days: int = TRIP_HORIZON_DAYS,
) -> list[tuple[str, Problem]]:
    """What is wrong with a trip from ``arrives_on`` to ``departs_on``, as
    ``(field, problem)`` pairs (empty: fine). ``others``: the patient's other
    trips (not cancelled, not this one). A trip already under way is fine; one
    entirely in the past is not; the departure must be within ``horizon_days``."""
    if departs_on < arrives_on:
        return [("departs_on", Problem.DEPARTS_BEFORE_ARRIVAL)]
    problems: list[tuple[str, Problem]] = []
    if departs_on < today:
        problems.append(("departs_on", Problem.IN_THE_PAST))
    if departs_on > today + timedelta(days=horizon_days):
        problems.append(("departs_on", Problem.TOO_FAR))
    trip = Trip(arrives_on, departs_on)
    if any(trip.overlaps(other) for other in others):
        problems.append(("arrives_on", Problem.OVERLAPS))
    return problems
