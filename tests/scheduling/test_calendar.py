"""The clinic calendar: opening hours, closures, holidays, daylight-saving time."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from intake.scheduling.calendar import (
    Closure,
    OpeningHours,
    japanese_holidays,
    open_intervals,
    wall_to_utc,
)

TOKYO = ZoneInfo("Asia/Tokyo")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")

CLINIC_HOURS = OpeningHours.simple(range(6), time(9), time(18), time(12), time(13))
EVERY_DAY = OpeningHours.simple(range(7), time(9), time(18), time(12), time(13))
NIGHTS = OpeningHours.simple(range(7), time(0), time(6))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def local(day: date, hour: int, minute: int = 0, tz: ZoneInfo = TOKYO) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=tz).astimezone(UTC)


def open_hours(intervals: list[tuple[datetime, datetime]]) -> timedelta:
    return sum((end - start for start, end in intervals), timedelta())


MONDAY = date(2026, 6, 1)


def test_default_tokyo_monday_is_morning_and_afternoon_in_utc() -> None:
    assert open_intervals(MONDAY, CLINIC_HOURS, TOKYO) == [
        (utc(2026, 6, 1, 0), utc(2026, 6, 1, 3)),
        (utc(2026, 6, 1, 4), utc(2026, 6, 1, 9)),
    ]


@pytest.mark.parametrize(
    "day, holiday_dates, expected_hours",
    [
        (date(2026, 6, 1), set(), 8),  # Monday
        (date(2026, 6, 6), set(), 8),  # Saturday
        (date(2026, 6, 7), set(), 0),  # Sunday
        (date(2026, 11, 23), japanese_holidays([2026]), 0),  # Labour Thanksgiving, a Monday
        (date(2027, 1, 1), japanese_holidays([2027]), 0),  # New Year's Day, a Friday
        (date(2026, 11, 24), japanese_holidays([2026]), 8),  # the day after: open
    ],
)
def test_open_days(day: date, holiday_dates: set[date], expected_hours: int) -> None:
    intervals = open_intervals(day, CLINIC_HOURS, TOKYO, holiday_dates=holiday_dates)
    assert open_hours(intervals) == timedelta(hours=expected_hours)


@pytest.mark.parametrize(
    "day, is_holiday",
    [
        (date(2026, 11, 23), True),
        (date(2027, 1, 1), True),
        (date(2026, 5, 6), True),  # substitute holiday
        (date(2026, 11, 24), False),
        (date(2026, 12, 25), False),
    ],
)
def test_japanese_holidays(day: date, is_holiday: bool) -> None:
    assert (day in japanese_holidays([2026, 2027])) is is_holiday


@pytest.mark.parametrize(
    "closure, expected",
    [
        pytest.param(
            Closure.whole_days(MONDAY, MONDAY, TOKYO, "staff training"), [], id="whole-day"
        ),
        pytest.param(
            Closure(local(MONDAY, 10), local(MONDAY, 11), "fire drill"),
            [(9, 10), (11, 12), (13, 18)],
            id="one-morning-hour",
        ),
        pytest.param(
            Closure(local(MONDAY, 11), local(MONDAY, 14), "meeting"),
            [(9, 11), (14, 18)],
            id="across-lunch",
        ),
        pytest.param(
            Closure(local(MONDAY, 16), local(MONDAY + timedelta(days=3), 10), "congress"),
            [(9, 12), (13, 16)],
            id="from-afternoon-on",
        ),
        pytest.param(
            Closure.whole_days(MONDAY + timedelta(days=1), MONDAY + timedelta(days=2), TOKYO),
            [(9, 12), (13, 18)],
            id="other-days",
        ),
    ],
)
def test_closures_are_subtracted(closure: Closure, expected: list[tuple[int, int]]) -> None:
    assert open_intervals(MONDAY, CLINIC_HOURS, TOKYO, [closure]) == [
        (local(MONDAY, start), local(MONDAY, end)) for start, end in expected
    ]


def test_whole_day_closure_is_local_midnight_to_midnight() -> None:
    closure = Closure.whole_days(date(2026, 7, 1), date(2026, 7, 2), TOKYO, "summer")
    assert (closure.start_at, closure.end_at) == (utc(2026, 6, 30, 15), utc(2026, 7, 2, 15))


@pytest.mark.parametrize(
    "tz, day, nine_am_utc",
    [
        # Berlin, spring forward on Sunday 2026-03-29: CET +01 -> CEST +02
        (BERLIN, date(2026, 3, 28), utc(2026, 3, 28, 8)),
        (BERLIN, date(2026, 3, 29), utc(2026, 3, 29, 7)),
        (BERLIN, date(2026, 3, 30), utc(2026, 3, 30, 7)),
        # Berlin, fall back on Sunday 2026-10-25: CEST +02 -> CET +01
        (BERLIN, date(2026, 10, 24), utc(2026, 10, 24, 7)),
        (BERLIN, date(2026, 10, 25), utc(2026, 10, 25, 8)),
        (BERLIN, date(2026, 10, 26), utc(2026, 10, 26, 8)),
        # New York, spring forward on Sunday 2026-03-08: EST -05 -> EDT -04
        (NEW_YORK, date(2026, 3, 7), utc(2026, 3, 7, 14)),
        (NEW_YORK, date(2026, 3, 8), utc(2026, 3, 8, 13)),
        (NEW_YORK, date(2026, 3, 9), utc(2026, 3, 9, 13)),
        # New York, fall back on Sunday 2026-11-01: EDT -04 -> EST -05
        (NEW_YORK, date(2026, 10, 31), utc(2026, 10, 31, 13)),
        (NEW_YORK, date(2026, 11, 1), utc(2026, 11, 1, 14)),
        (NEW_YORK, date(2026, 11, 2), utc(2026, 11, 2, 14)),
    ],
)
def test_daylight_saving_days_keep_wall_clock_hours(
    tz: ZoneInfo, day: date, nine_am_utc: datetime
) -> None:
    intervals = open_intervals(day, EVERY_DAY, tz)
    assert intervals[0][0] == nine_am_utc
    assert intervals[-1][1] == nine_am_utc + timedelta(hours=9)
    assert open_hours(intervals) == timedelta(hours=8)


@pytest.mark.parametrize(
    "tz, day, expected_hours",
    [
        (BERLIN, date(2026, 3, 29), 5),  # 00:00-06:00 loses the skipped hour
        (BERLIN, date(2026, 10, 25), 7),  # ... and keeps the repeated one
        (NEW_YORK, date(2026, 3, 8), 5),
        (NEW_YORK, date(2026, 11, 1), 7),
        (TOKYO, date(2026, 3, 29), 6),  # no daylight-saving time in Japan
    ],
)
def test_hours_across_the_transition_count_real_time(
    tz: ZoneInfo, day: date, expected_hours: int
) -> None:
    assert open_hours(open_intervals(day, NIGHTS, tz)) == timedelta(hours=expected_hours)


@pytest.mark.parametrize(
    "tz, day, at, as_end, expected",
    [
        # 02:30 does not exist: the instant the clock jumps (03:00 CEST / EDT)
        (BERLIN, date(2026, 3, 29), time(2, 30), False, utc(2026, 3, 29, 1)),
        (BERLIN, date(2026, 3, 29), time(2, 30), True, utc(2026, 3, 29, 1)),
        (NEW_YORK, date(2026, 3, 8), time(2, 30), False, utc(2026, 3, 8, 7)),
        # 02:30 happens twice: first one to open, second one to close
        (BERLIN, date(2026, 10, 25), time(2, 30), False, utc(2026, 10, 25, 0, 30)),
        (BERLIN, date(2026, 10, 25), time(2, 30), True, utc(2026, 10, 25, 1, 30)),
        (NEW_YORK, date(2026, 11, 1), time(1, 30), False, utc(2026, 11, 1, 5, 30)),
        (NEW_YORK, date(2026, 11, 1), time(1, 30), True, utc(2026, 11, 1, 6, 30)),
        # ordinary times are unambiguous
        (BERLIN, date(2026, 10, 25), time(4), False, utc(2026, 10, 25, 3)),
        (TOKYO, date(2026, 6, 1), time(9), True, utc(2026, 6, 1, 0)),
    ],
)
def test_wall_to_utc_gaps_and_folds(
    tz: ZoneInfo, day: date, at: time, as_end: bool, expected: datetime
) -> None:
    assert wall_to_utc(day, at, tz, as_end=as_end) == expected


def test_opening_inside_the_gap_starts_at_the_jump() -> None:
    hours = OpeningHours.simple(range(7), time(2, 30), time(4))
    assert open_intervals(date(2026, 3, 29), hours, BERLIN) == [
        (utc(2026, 3, 29, 1), utc(2026, 3, 29, 2))
    ]


@pytest.mark.parametrize(
    "by_weekday",
    [
        pytest.param(((),) * 6, id="six-days"),
        pytest.param(((((time(10), time(9)),),) + ((),) * 6), id="ends-before-start"),
        pytest.param(
            ((((time(9), time(12)), (time(11), time(13))),) + ((),) * 6), id="overlapping"
        ),
        pytest.param(((((time(9, tzinfo=UTC), time(12)),),) + ((),) * 6), id="aware-time"),
    ],
)
def test_invalid_opening_hours(by_weekday: tuple) -> None:
    with pytest.raises(ValueError):
        OpeningHours(by_weekday)


@pytest.mark.parametrize(
    "start, end",
    [
        (datetime(2026, 6, 1, 9), datetime(2026, 6, 1, 10)),  # naive
        (utc(2026, 6, 1, 9), utc(2026, 6, 1, 9)),  # empty
        (utc(2026, 6, 1, 10), utc(2026, 6, 1, 9)),  # backwards
    ],
)
def test_invalid_closures(start: datetime, end: datetime) -> None:
    with pytest.raises(ValueError):
        Closure(start, end, "x")


def test_break_needs_both_ends() -> None:
    with pytest.raises(ValueError):
        OpeningHours.simple(range(6), time(9), time(18), break_start=time(12))
