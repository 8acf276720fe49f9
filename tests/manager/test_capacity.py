"""The capacity rules, without an app: weekly demand from culture windows and
confirmed dates, visits that fit, utilisation, and the chart geometry."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from intake.manager import capacity as c
from intake.scheduling.calendar import Closure, OpeningHours

TOKYO = ZoneInfo("Asia/Tokyo")
# Mon-Sat 09:00-18:00 with lunch 12-13: 8 open hours a day.
HOURS = OpeningHours.simple(range(6), time(9), time(18), time(12), time(13))
TODAY = date(2027, 3, 3)  # a Wednesday
MONDAY = date(2027, 3, 1)
DAYS = c.ClinicDays(hours=HOURS, tz=TOKYO)


def _open(first: date, last: date, days: c.ClinicDays = DAYS) -> frozenset[date]:
    return days.open_days(first, last)


# --------------------------------------------------------------------------- weeks


@pytest.mark.parametrize(
    "today, first",
    [
        (date(2027, 3, 1), date(2027, 3, 1)),  # a Monday starts its own week
        (date(2027, 3, 3), date(2027, 3, 1)),
        (date(2027, 3, 7), date(2027, 3, 1)),  # a Sunday ends it
        (date(2027, 3, 8), date(2027, 3, 8)),
    ],
)
def test_eight_weeks_from_the_monday_of_this_week(today, first):
    starts = c.week_starts(today)
    assert starts[0] == first and len(starts) == 8
    assert all(b - a == timedelta(days=7) for a, b in zip(starts, starts[1:], strict=False))


@pytest.mark.parametrize(
    "day, index",
    [
        (MONDAY - timedelta(days=1), None),
        (MONDAY, 0),
        (MONDAY + timedelta(days=6), 0),
        (MONDAY + timedelta(days=7), 1),
        (MONDAY + timedelta(days=55), 7),
        (MONDAY + timedelta(days=56), None),
    ],
)
def test_week_index_boundaries(day, index):
    assert c.week_index(day, MONDAY) == index


# --------------------------------------------------------------------------- spreading a window


@pytest.mark.parametrize(
    "first, last, earliest, expected_days",
    [
        # Mon 15 … Sat 20 March: six open days, a sixth each.
        (date(2027, 3, 15), date(2027, 3, 20), TODAY, 6),
        # Sunday 21 is closed: still six.
        (date(2027, 3, 15), date(2027, 3, 21), TODAY, 6),
        # The earliest possible day cuts the start: Thu 18 … Sat 20.
        (date(2027, 3, 15), date(2027, 3, 20), date(2027, 3, 18), 3),
        # One day left.
        (date(2027, 3, 15), date(2027, 3, 20), date(2027, 3, 20), 1),
        # Nothing left: the window has passed the earliest possible day.
        (date(2027, 3, 15), date(2027, 3, 20), date(2027, 3, 21), 0),
        # Only a Sunday: closed.
        (date(2027, 3, 21), date(2027, 3, 21), TODAY, 0),
    ],
)
def test_a_window_is_spread_over_its_possible_open_days(first, last, earliest, expected_days):
    shares = c.spread(
        c.Window(first, last), earliest=earliest, open_days=_open(TODAY, date(2027, 6, 1))
    )
    assert len(shares) == expected_days
    if expected_days:
        assert sum(shares.values()) == 1
        assert set(shares.values()) == {Fraction(1, expected_days)}
        assert min(shares) >= max(first, earliest) and max(shares) <= last


def test_windows_and_confirmed_dates_per_week():
    # A culture collected on 1 Feb: window 1 Mar (day 28) … 15 Mar (day 42);
    # 14 days' notice from Wed 3 March → from Wed 17 March: nothing left.
    late = c.window_of(date(2027, 2, 1), 28, 42, "chair")
    # Collected 15 Feb: window 15 Mar … 29 Mar; possible from 17 Mar: Wed 17 …
    # Mon 29 = 11 open days (17,18,19,20, 22..27, 29): 4 in week 3, 6 in week 4, 1 in week 5.
    mid = c.window_of(date(2027, 2, 15), 28, 42, None)
    confirmed = [
        (date(2027, 3, 2), "chair"),  # this week (already past: still counted)
        (date(2027, 3, 9), "room"),
        (date(2027, 3, 9), "room"),
        (date(2027, 5, 1), "chair"),  # after the eighth week: not shown
        (date(2027, 3, 10), "bed"),  # not a group of the charts
    ]
    demand = c.weekly_demand(
        today=TODAY,
        windows=[late, mid],
        confirmed=confirmed,
        open_days=_open(TODAY, date(2027, 6, 1)),
        lock_min_days=14,
        capacity={"chair": [30] * 8, "room": [0] * 8},
    )
    weeks = demand.weeks
    assert demand.cannot_be_dated == 1
    assert [w.confirmed["chair"] for w in weeks] == [1, 0, 0, 0, 0, 0, 0, 0]
    assert [w.confirmed["room"] for w in weeks] == [0, 2, 0, 0, 0, 0, 0, 0]
    assert [w.undecided for w in weeks] == [
        0,
        0,
        Fraction(4, 11),
        Fraction(6, 11),
        Fraction(1, 11),
        0,
        0,
        0,
    ]
    assert all(w.expected == {"chair": 0, "room": 0} for w in weeks)
    # The room has no capacity: any demand is over it; an empty week is not.
    assert weeks[1].over("room") and not weeks[0].over("room")
    assert weeks[2].total("chair") == Fraction(4, 11) and not weeks[2].over("chair")
    assert not weeks[6].over("chair") and weeks[6].total("chair") == 0  # an empty week


def test_a_closed_week_gets_no_expected_demand_and_no_capacity():
    # Golden-week style closure: Mon 22 … Sun 28 March closed as a whole.
    closure = Closure.whole_days(date(2027, 3, 22), date(2027, 3, 28), TOKYO)
    days = c.ClinicDays(hours=HOURS, tz=TOKYO, closures=(closure,))
    window = c.Window(date(2027, 3, 20), date(2027, 3, 29), "room")  # Sat 20, Mon 29 open
    demand = c.weekly_demand(
        today=TODAY,
        windows=[window],
        confirmed=[],
        open_days=_open(TODAY, date(2027, 6, 1), days),
        lock_min_days=14,
    )
    assert [w.expected["room"] for w in demand.weeks][2:5] == [
        Fraction(1, 2),
        0,
        Fraction(1, 2),
    ]
    assert c.weekly_visit_capacity(days, date(2027, 3, 22), 60, 1) == 0
    assert c.weekly_visit_capacity(days, date(2027, 3, 15), 60, 1) == 6 * 8


def test_a_public_holiday_takes_its_day_out():
    holiday = date(2027, 3, 22)  # say the equinox holiday falls on a Monday
    days = c.ClinicDays(hours=HOURS, tz=TOKYO, holidays=frozenset({holiday}))
    assert not days.is_open(holiday) and days.open_units(holiday) == []
    assert c.weekly_visit_capacity(days, date(2027, 3, 22), 60, 1) == 5 * 8


@pytest.mark.parametrize(
    "minutes, seats, expected",
    [
        (90, 4, 4 * (2 + 3)),  # 3 h morning → 2, 5 h afternoon → 3, per chair
        (60, 1, 8),
        (60, 0, 0),  # capacity 0
        (0, 3, 0),  # no length: nothing fits
        (600, 2, 0),  # longer than any interval
    ],
)
def test_visits_that_fit_in_a_day(minutes, seats, expected):
    intervals = DAYS.open_intervals(date(2027, 3, 15))
    assert c.visits_that_fit(intervals, minutes, seats) == expected


# --------------------------------------------------------------------------- utilisation


@pytest.mark.parametrize(
    "held, available, percent",
    [
        (0, 0, None),  # nothing available (closed week, capacity 0)
        (5, 0, None),
        (0, 10, 0),
        (1, 3, 33),
        (1, 200, 1),  # 0.5 % rounds half up
        (1, 201, 0),
        (10, 10, 100),
        (12, 10, 120),  # booked before a closure: shown above 100
    ],
)
def test_usage_percent(held, available, percent):
    assert c.Usage(held, available).percent == percent


def test_available_units_by_kind_of_resource():
    week = date(2027, 3, 15)
    room = c.UtilisationResource(1, "Room", capacity=1)
    chairs = c.UtilisationResource(2, "Chairs", capacity=4)
    doctor = c.UtilisationResource(3, "Dr", capacity=1, weekdays=frozenset({1, 3, 5}))
    places = c.UtilisationResource(4, "Incubator", capacity=40, is_per_day=True)
    empty = c.UtilisationResource(5, "Off", capacity=0)
    per_day_units = 8 * 4  # 8 open hours of 15-minute units
    assert c.available_units(room, DAYS, week) == 6 * per_day_units
    assert c.available_units(chairs, DAYS, week) == 4 * 6 * per_day_units
    assert c.available_units(doctor, DAYS, week) == 3 * per_day_units
    assert c.available_units(places, DAYS, week) == 7 * 40  # every day
    assert c.available_units(empty, DAYS, week) == 0
    closed = c.ClinicDays(
        hours=HOURS,
        tz=TOKYO,
        closures=(Closure.whole_days(week, week + timedelta(days=6), TOKYO),),
    )
    assert c.available_units(room, closed, week) == 0
    assert c.available_units(places, closed, week) == 7 * 40


def test_a_closure_of_some_hours_removes_those_units():
    day = date(2027, 3, 16)
    start = datetime.combine(day, time(13), tzinfo=TOKYO).astimezone(UTC)
    afternoon = Closure(start, start + timedelta(hours=5))
    days = c.ClinicDays(hours=HOURS, tz=TOKYO, closures=(afternoon,))
    assert len(days.open_units(day)) == 3 * 4


def test_utilisation_rows_per_resource_and_week():
    weeks = c.week_starts(TODAY, 2)
    room = c.UtilisationResource(1, "Room", capacity=1)
    held = c.held_by_week(
        [(1, date(2027, 3, 2), 48), (1, date(2027, 3, 9), 96), (1, date(2027, 4, 30), 5)],
        weeks[0],
        2,
    )
    ((resource, usages),) = c.utilisation([room], held, DAYS, weeks)
    assert resource is room
    assert [u.percent for u in usages] == [25, 50]


def test_daily_places_fill_missing_days_with_zero():
    rows = [(MONDAY, 3), (MONDAY, 2), (MONDAY + timedelta(days=2), 7)]
    assert c.daily_places(rows, MONDAY, 3) == [
        (MONDAY, 5),
        (MONDAY + timedelta(days=1), 0),
        (MONDAY + timedelta(days=2), 7),
    ]


# --------------------------------------------------------------------------- chart geometry


@pytest.mark.parametrize(
    "value, top",
    [
        (0, 1),
        (1, 1),
        (Fraction(3, 2), 2),
        (Fraction(11, 5), 3),
        (6, 6),
        (7, 8),
        (10, 10),
        (11, 15),
        (42, 50),
        (120, 150),
        (48, 50),
    ],
)
def test_a_round_top_for_the_axis(value, top):
    assert c.nice_top(value) == top
    assert top % c.nice_step(top) == 0


def test_bars_stack_bottom_up_with_a_capacity_line():
    chart = c.bar_chart(
        [[("confirmed", 2), ("expected", Fraction(1, 2))], [], [("confirmed", 10)]],
        ["A", "B", "C"],
        capacity=[4, 4, None],
        width=340,
        height=240,
        margin=(20, 20, 20, 20),
    )
    # Plot 300 × 200; top value 10 → 20 px per visit.
    assert (chart.left, chart.top, chart.right, chart.bottom) == (20, 20, 320, 220)
    assert chart.top_value == 10
    first, second, third = chart.rects
    assert (first.series, first.y, first.height) == ("confirmed", 180.0, 40.0)
    assert (second.series, second.y, second.height) == ("expected", 170.0, 10.0)
    assert second.x == first.x and third.index == 2 and third.height == 200.0
    assert [r.index for r in chart.rects] == [0, 0, 2]  # an empty week draws nothing
    # The line: 4 visits → y 140 over the first two slots, none over the third.
    assert chart.capacity_path == "M 20.0 140.0 H 120.0 V 140.0 H 220.0"
    assert chart.over == []
    assert [t.value for t in chart.ticks] == [0, 2, 4, 6, 8, 10]
    assert [x.text for x in chart.x_labels] == ["A", "B", "C"]


def test_capacity_zero_puts_any_demand_over_it():
    chart = c.bar_chart([[("confirmed", 1)], [("confirmed", 0)]], ["A", "B"], capacity=[0, 0])
    assert chart.over == [0]
    assert chart.top_value == 1 and [t.value for t in chart.ticks] == [0, 1]
    assert chart.capacity_path.startswith("M ") and " V " in chart.capacity_path


def test_every_seventh_label_for_daily_bars():
    chart = c.bar_chart([[("used", 1)]] * 14, [str(n) for n in range(14)], label_every=7)
    assert [x.text for x in chart.x_labels] == ["0", "7"]


def test_labels_must_match_bars():
    with pytest.raises(ValueError):
        c.bar_chart([[("used", 1)]], ["a", "b"])


@pytest.mark.parametrize(
    "percent, band",
    [(None, "none"), (0, "low"), (49, "low"), (50, "mid"), (84, "mid"), (85, "high"),
     (100, "high"), (101, "over")],
)  # fmt: skip
def test_bands(percent, band):
    assert c.band(percent) == band


def test_heatmap_cells():
    heat = c.heatmap(
        [("Room", [10, None]), ("Chairs", [90, 120])],
        ["W1", "W2"],
        label_width=100,
        cell_width=50,
        cell_height=20,
        header=10,
    )
    assert (heat.width, heat.height) == (200, 50)
    assert [cell.band for cell in heat.cells] == ["low", "none", "high", "over"]
    assert (heat.cells[3].x, heat.cells[3].y) == (151, 31)
    assert heat.column_labels == [(125.0, "W1"), (175.0, "W2")]
