"""The culture window against a travelling patient's trips: which collection
days fit a later trip on an open reinfusion day, which miss, which have no
trip to compare with; the proposal helpers; checking a trip. Pure tables."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from intake.reinfusion import trips as rules
from intake.reinfusion.trips import Fit, Problem, Trip, Verdict
from intake.scheduling.calendar import Closure, OpeningHours, japanese_holidays

TOKYO = ZoneInfo("Asia/Tokyo")
# A Wednesday: its day 41 and day 42 are a Tuesday and a Wednesday.
D = date(2027, 1, 6)


def day(n: int) -> date:
    return D + timedelta(days=n)


def mon_to_sat(d: date) -> bool:
    return d.weekday() < 6


def verdict(trips, *, min_days=28, max_days=42, is_open=mon_to_sat, collection=D) -> Fit:
    return rules.fit(collection, trips, min_days=min_days, max_days=max_days, is_open=is_open)


@pytest.mark.parametrize(
    "trips, expected, trip, days",
    [
        # A trip that starts on day 41 fits through days 41 and 42.
        ([(41, 50)], Verdict.FITS, (41, 50), (41, 42)),
        # One that starts the day after the window's last day misses.
        ([(43, 50)], Verdict.MISSES, None, ()),
        # The window's first day, departure day counts (both ends are days in Japan).
        ([(20, 28)], Verdict.FITS, (20, 28), (28,)),
        # A trip inside the window: its open days only (day 32 is a Sunday).
        ([(31, 33)], Verdict.FITS, (31, 33), (31, 33)),
        # A one-day trip on the window's last day.
        ([(42, 42)], Verdict.FITS, (42, 42), (42,)),
        # A trip that ends before the window opens, arriving after the collection: misses.
        ([(10, 27)], Verdict.MISSES, None, ()),
        # No later trip yet: nothing to compare, no warning.
        ([], Verdict.NO_TRIP, None, ()),
        # A trip that ended before the collection counts for nothing.
        ([(-30, -5)], Verdict.NO_TRIP, None, ()),
        # The trip the patient is on for the collection itself is not a later trip.
        ([(-3, 4)], Verdict.NO_TRIP, None, ()),
        # ... unless it lasts into the window: a long stay fits.
        ([(-3, 30)], Verdict.FITS, (-3, 30), (28, 29, 30)),
        # Two trips: the first misses, the second fits; the fit names the second.
        ([(5, 10), (40, 45)], Verdict.FITS, (40, 45), (40, 41, 42)),
        # Two trips both meeting the window: the earlier one is named.
        ([(45, 60), (29, 31), (5, 8)], Verdict.FITS, (29, 31), (29, 30, 31)),
        # Two later trips, neither in the window: misses.
        ([(5, 10), (50, 60)], Verdict.MISSES, None, ()),
    ],
)
def test_fit_table(trips, expected, trip, days):
    result = verdict([Trip(day(a), day(b)) for a, b in trips])
    assert result.verdict == expected
    assert result.window == (day(28), day(42))
    assert result.trip == (Trip(day(trip[0]), day(trip[1])) if trip else None)
    assert result.days == tuple(day(n) for n in days)
    assert result.warns == (expected == Verdict.MISSES)


def test_a_trip_covering_only_closed_days_misses():
    """Days 41 and 42 are closed (a closure): a trip on them alone misses."""
    closed = {day(41), day(42)}
    result = verdict([Trip(day(41), day(45))], is_open=lambda d: mon_to_sat(d) and d not in closed)
    assert result.verdict == Verdict.MISSES


def test_a_trip_on_a_sunday_only_misses():
    sunday = next(day(n) for n in range(28, 43) if day(n).weekday() == 6)
    assert verdict([Trip(sunday, sunday)]).verdict == Verdict.MISSES


GOLDEN_WEEK_2027 = japanese_holidays([2027])
HOURS = OpeningHours.simple(range(6), time(9), time(18), time(12), time(13))
CLINIC_OPEN = rules.open_day_predicate(HOURS, TOKYO, (), GOLDEN_WEEK_2027)
# Collected on 24 March 2027: cells ready 21 April … 5 May, across Golden Week
# (29 April, 3, 4 and 5 May are public holidays; 2 May is a Sunday).
GW_COLLECTION = date(2027, 3, 24)


@pytest.mark.parametrize(
    "arrives, departs, expected, days",
    [
        # Only holidays: 3, 4, 5 May. Nothing open: misses.
        (date(2027, 5, 3), date(2027, 5, 5), Verdict.MISSES, ()),
        # 29 April (holiday) and 2 May (Sunday) around two open days.
        (date(2027, 4, 29), date(2027, 5, 2), Verdict.FITS, (date(2027, 4, 30), date(2027, 5, 1))),
        # After the window: misses.
        (date(2027, 5, 6), date(2027, 5, 20), Verdict.MISSES, ()),
        # Before Golden Week.
        (
            date(2027, 4, 20),
            date(2027, 4, 22),
            Verdict.FITS,
            (date(2027, 4, 21), date(2027, 4, 22)),
        ),
    ],
)
def test_a_window_across_golden_week(arrives, departs, expected, days):
    result = verdict([Trip(arrives, departs)], is_open=CLINIC_OPEN, collection=GW_COLLECTION)
    assert result.window == (date(2027, 4, 21), date(2027, 5, 5))
    assert result.verdict == expected
    assert result.days == days


def test_golden_week_closed_by_a_closure_as_well():
    """A clinic that closes 29 April - 5 May as a whole week (a closure)."""
    week = Closure.whole_days(date(2027, 4, 29), date(2027, 5, 5), TOKYO)
    is_open = rules.open_day_predicate(HOURS, TOKYO, [week], GOLDEN_WEEK_2027)
    trip = Trip(date(2027, 4, 29), date(2027, 5, 10))
    assert verdict([trip], is_open=is_open, collection=GW_COLLECTION).verdict == Verdict.MISSES
    assert verdict([trip], is_open=CLINIC_OPEN, collection=GW_COLLECTION).verdict == Verdict.FITS


@pytest.mark.parametrize(
    "min_days, max_days, trip, expected",
    [
        # The window follows the settings: 21 … 35.
        (21, 35, (41, 50), Verdict.MISSES),
        (21, 35, (35, 40), Verdict.FITS),
        (21, 35, (36, 40), Verdict.MISSES),
        (21, 35, (15, 21), Verdict.FITS),
        (21, 35, (15, 20), Verdict.MISSES),
        # A one-day window.
        (30, 30, (30, 30), Verdict.FITS),
        (30, 30, (31, 31), Verdict.MISSES),
    ],
)
def test_the_window_follows_the_settings(min_days, max_days, trip, expected):
    result = verdict([Trip(day(trip[0]), day(trip[1]))], min_days=min_days, max_days=max_days)
    assert result.window == (day(min_days), day(max_days))
    assert result.verdict == expected


def test_window_days_and_open_days():
    assert rules.window_days(D, min_days=28, max_days=42) == [day(n) for n in range(28, 43)]
    open_days = rules.open_window_days(D, min_days=28, max_days=42, is_open=mon_to_sat)
    assert len(open_days) == 13 and all(d.weekday() < 6 for d in open_days)
    with pytest.raises(ValueError):
        rules.window_days(D, min_days=10, max_days=9)


def test_fits_by_day_marks_each_candidate():
    trips = [Trip(day(41), day(42))]
    marks = rules.fits_by_day(
        [D, D + timedelta(days=1), D + timedelta(days=15)],
        trips,
        min_days=28,
        max_days=42,
        is_open=mon_to_sat,
    )
    assert marks[D].verdict == Verdict.FITS
    assert marks[D + timedelta(days=1)].verdict == Verdict.FITS  # days 40, 41 of it
    # Collected 15 days later, the window opens after the trip, which still
    # lies after the collection: the day misses.
    assert marks[D + timedelta(days=15)].verdict == Verdict.MISSES


@pytest.mark.parametrize(
    "found, confirmed, asks",
    [
        (None, False, False),
        (Verdict.NO_TRIP, False, False),
        (Verdict.FITS, False, False),
        (Verdict.MISSES, False, True),
        (Verdict.MISSES, True, False),
    ],
)
def test_needs_confirmation(found, confirmed, asks):
    result = None if found is None else Fit(found, D, (day(28), day(42)))
    assert rules.needs_confirmation(result, confirmed=confirmed) is asks


def test_a_trip_departs_on_or_after_arrival():
    with pytest.raises(ValueError):
        Trip(date(2027, 1, 2), date(2027, 1, 1))
    assert Trip(date(2027, 1, 1), date(2027, 1, 1)).contains(date(2027, 1, 1))


# --------------------------------------------------------------------------- proposals


def test_prefer_in_trips():
    prefer = rules.prefer_in_trips([Trip(day(40), day(45)), Trip(day(50), day(50))])
    assert [n for n in range(38, 52) if prefer(day(n))] == [40, 41, 42, 43, 44, 45, 50]
    assert not rules.prefer_in_trips([])(day(40))


def _at(d: date, hour: int) -> datetime:
    return datetime.combine(d, time(hour), tzinfo=TOKYO).astimezone(UTC)


def test_order_times_puts_times_inside_a_trip_first():
    times = [_at(day(n), h) for n in (38, 41, 42, 44) for h in (9, 14)]
    ordered = rules.order_times(reversed(times), [Trip(day(41), day(42))], TOKYO)
    assert ordered == [
        _at(day(41), 9),
        _at(day(41), 14),
        _at(day(42), 9),
        _at(day(42), 14),
        _at(day(38), 9),
        _at(day(38), 14),
        _at(day(44), 9),
        _at(day(44), 14),
    ]
    assert rules.order_times(reversed(times), [], TOKYO) == times


def test_order_times_uses_the_clinic_day():
    """09:00 in Tokyo on day 41 is the evening before in UTC: still inside the trip."""
    early = _at(day(41), 8)
    assert early.date() == day(40)
    assert rules.order_times([_at(day(40), 10), early], [Trip(day(41), day(41))], TOKYO) == [
        early,
        _at(day(40), 10),
    ]


def test_proposal_days_preferred():
    window = [day(n) for n in range(28, 43)]
    assert rules.proposal_days_preferred(window, [Trip(day(41), day(60))]) == [day(41), day(42)]
    assert rules.proposal_days_preferred(window, [Trip(day(43), day(60))]) == []
    assert rules.proposal_days_preferred(window, []) == []


# --------------------------------------------------------------------------- checking a trip

TODAY = date(2027, 1, 6)


@pytest.mark.parametrize(
    "span, others, problems",
    [
        ((10, 20), [], []),
        ((10, 10), [], []),  # a day trip
        ((-5, 3), [], []),  # under way
        ((-5, 0), [], []),  # departs today
        ((-5, -1), [], [("departs_on", Problem.IN_THE_PAST)]),
        ((10, 9), [], [("departs_on", Problem.DEPARTS_BEFORE_ARRIVAL)]),
        ((700, 730), [], []),
        ((700, 731), [], [("departs_on", Problem.TOO_FAR)]),
        ((10, 20), [(20, 25)], [("arrives_on", Problem.OVERLAPS)]),
        ((10, 20), [(1, 10)], [("arrives_on", Problem.OVERLAPS)]),
        ((10, 20), [(12, 13)], [("arrives_on", Problem.OVERLAPS)]),
        ((10, 20), [(1, 9), (21, 30)], []),
        (
            (-9, -2),
            [(-5, -4)],
            [("departs_on", Problem.IN_THE_PAST), ("arrives_on", Problem.OVERLAPS)],
        ),
    ],
)
def test_trip_problems(span, others, problems):
    def d(n):
        return TODAY + timedelta(days=n)

    found = rules.trip_problems(
        d(span[0]),
        d(span[1]),
        today=TODAY,
        others=[Trip(d(a), d(b)) for a, b in others],
    )
    assert found == problems
