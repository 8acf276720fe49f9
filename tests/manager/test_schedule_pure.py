"""The schedule's rules without an app: windows of a view, days in the
clinic's zone, lanes, overlaps, the day grid, closures and holidays, the
incubator count and the CSV export's cells and range."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from intake.manager import schedule as s

TOKYO = ZoneInfo("Asia/Tokyo")
LONDON = ZoneInfo("Europe/London")


def at(day: date, hhmm: str, tz=TOKYO) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=tz).astimezone(UTC)


def visit(n, day, start, end, resources=(1,), tz=TOKYO, status="booked"):
    return s.Visit(
        id=n,
        start_at=at(day, start, tz),
        end_at=at(day, end, tz),
        patient_id=100 + n,
        patient_name=f"P{n}",
        visit_type_id=1,
        status=status,
        resource_ids=tuple(resources),
    )


D = date(2026, 12, 2)  # a Wednesday


@pytest.mark.parametrize(
    ("view", "anchor", "first", "last"),
    [
        (s.View.DAY, D, D, D),
        (s.View.WEEK, D, date(2026, 11, 30), date(2026, 12, 6)),
        (s.View.WEEK, date(2026, 11, 30), date(2026, 11, 30), date(2026, 12, 6)),  # Monday
        (s.View.WEEK, date(2026, 12, 6), date(2026, 11, 30), date(2026, 12, 6)),  # Sunday
        (s.View.MONTH, D, date(2026, 12, 1), date(2026, 12, 31)),
        (s.View.MONTH, date(2028, 2, 10), date(2028, 2, 1), date(2028, 2, 29)),  # leap year
        (s.View.MONTH, date(2027, 2, 28), date(2027, 2, 1), date(2027, 2, 28)),
    ],
)
def test_window(view, anchor, first, last):
    assert s.window(view, anchor) == (first, last)


@pytest.mark.parametrize(
    ("view", "anchor", "direction", "moved"),
    [
        (s.View.DAY, D, 1, date(2026, 12, 3)),
        (s.View.DAY, date(2026, 12, 31), 1, date(2027, 1, 1)),
        (s.View.WEEK, D, -1, date(2026, 11, 25)),
        (s.View.MONTH, date(2026, 1, 31), 1, date(2026, 2, 28)),  # clamped to the month
        (s.View.MONTH, date(2026, 12, 15), 1, date(2027, 1, 15)),
        (s.View.MONTH, date(2026, 1, 15), -1, date(2025, 12, 15)),
        (s.View.DAY, date(2200, 12, 31), 1, None),  # past the years people type
        (s.View.MONTH, date(1900, 1, 1), -1, None),
    ],
)
def test_step(view, anchor, direction, moved):
    assert s.step(view, anchor, direction) == moved


@pytest.mark.parametrize(
    ("text", "view"),
    [("day", s.View.DAY), (" WEEK ", s.View.WEEK), ("month", s.View.MONTH), ("", None),
     (None, None), ("year", None), ("\x00", None)],
)  # fmt: skip
def test_parse_view(text, view):
    assert s.parse_view(text) == view


def test_month_weeks_start_on_monday_and_blank_outside_the_month():
    weeks = s.month_weeks(date(2026, 12, 1), date(2026, 12, 31))
    assert len(weeks) == 5
    assert weeks[0][:1] == [None] and weeks[0][1] == date(2026, 12, 1)  # a Tuesday
    assert weeks[-1][3] == date(2026, 12, 31) and weeks[-1][4:] == [None, None, None]
    assert all(len(w) == 7 for w in weeks)


def test_a_visit_belongs_to_the_clinic_local_day_it_starts_on():
    # 08:30 on 3 December in Tokyo is 23:30 UTC on 2 December.
    early = visit(1, date(2026, 12, 3), "08:30", "09:00")
    assert early.start_at.date() == date(2026, 12, 2)
    assert s.by_day([early], TOKYO) == {date(2026, 12, 3): [early]}
    assert s.local_day(early.start_at, TOKYO) == date(2026, 12, 3)


def test_day_bounds_follow_the_zone_across_a_dst_change():
    # London moves its clocks back on 25 October 2026: that day has 25 hours.
    first, last = s.bounds(date(2026, 10, 25), date(2026, 10, 25), LONDON)
    assert last - first == timedelta(hours=25)
    late = visit(1, date(2026, 10, 25), "23:30", "23:45", tz=LONDON)
    assert s.by_day([late], LONDON) == {date(2026, 10, 25): [late]}
    first, last = s.bounds(date(2026, 12, 1), date(2026, 12, 7), TOKYO)
    assert first == datetime(2026, 11, 30, 15, tzinfo=UTC) and last - first == timedelta(days=7)


def test_a_visit_is_in_the_lane_of_every_resource_it_holds():
    collection = visit(1, D, "10:00", "11:00", resources=(1, 5, 7))
    drip = visit(2, D, "09:00", "10:30", resources=(2,))
    orphan = visit(3, D, "14:00", "15:00", resources=(99,))  # holds no lane shown
    freed = visit(4, D, "15:00", "16:00", resources=(), status="no_show")
    cells = s.by_day_and_lane([orphan, drip, collection, freed], TOKYO, [1, 2, 5, 7])
    assert cells[D, 1] == [collection] and cells[D, 5] == [collection]
    assert cells[D, 7] == [collection]
    assert cells[D, 2] == [drip]
    assert cells[D, s.NO_RESOURCE] == [orphan, freed]


def test_a_visit_holding_a_resource_twice_appears_once_in_its_lane():
    v = visit(1, D, "10:00", "11:00", resources=(1, 1))
    assert s.by_day_and_lane([v], TOKYO, [1]) == {(D, 1): [v]}


@pytest.mark.parametrize(
    ("spans", "columns", "count"),
    [
        ([], [], 0),
        ([("09:00", "10:00")], [0], 1),
        ([("09:00", "10:00"), ("10:00", "11:00")], [0, 0], 1),  # touching: one column
        ([("09:00", "10:00"), ("09:30", "10:30")], [0, 1], 2),
        ([("09:00", "11:00"), ("09:30", "10:00"), ("10:00", "10:30")], [0, 1, 1], 2),
        ([("09:00", "10:00"), ("09:00", "10:00"), ("09:00", "10:00")], [0, 1, 2], 3),
        ([("09:00", "12:00"), ("09:30", "10:00"), ("11:00", "11:30")], [0, 1, 1], 2),
    ],
)
def test_lay_out_overlaps(spans, columns, count):
    visits = [visit(n, D, a, b) for n, (a, b) in enumerate(spans)]
    placed, n = s.lay_out(visits)
    assert [p.column for p in placed] == columns and n == count


def test_the_day_grid_spans_rows_and_sets_overlaps_side_by_side():
    a = visit(1, D, "09:00", "10:00")  # four rows
    b = visit(2, D, "09:30", "10:00")  # beside a
    c = visit(3, D, "10:00", "10:10")  # rounded up to one row
    opening = [(time(9), time(12)), (time(13), time(18))]
    cells = s.by_day_and_lane([a, b, c], TOKYO, [1, 2])
    grid = s.day_grid(D, [1, 2], cells, TOKYO, unit_minutes=15, opening=opening)
    assert grid.times[0] == time(9) and grid.times[-1] == time(17, 45)
    assert len(grid.times) == 36
    assert time(12) in grid.closed_times and time(12, 45) in grid.closed_times
    assert time(13) not in grid.closed_times and time(9) not in grid.closed_times
    assert grid.columns == {1: 2, 2: 1}
    first, second, third = grid.rows[0][1], grid.rows[2][1], grid.rows[4][1]
    assert [(c.visit and c.visit.id, c.rows) for c in first] == [(1, 4), (None, 1)]
    assert [(c.visit and c.visit.id, c.rows) for c in second] == [(2, 2)]  # col 0 covered by a
    assert [(c.visit and c.visit.id, c.rows) for c in third] == [(3, 1), (None, 1)]
    assert grid.rows[1][1] == [s.Cell()]  # a covers column 0; column 1 empty
    assert all(row[2] == [s.Cell()] for row in grid.rows)  # an empty lane


def test_the_day_grid_reaches_visits_outside_the_hours_and_never_loses_one():
    early = visit(1, D, "08:10", "08:20")
    touching = [visit(2, D, "09:00", "09:10"), visit(3, D, "09:10", "09:20")]  # same row
    cells = s.by_day_and_lane([early, *touching], TOKYO, [1])
    grid = s.day_grid(D, [1], cells, TOKYO, unit_minutes=15, opening=[(time(9), time(10))])
    assert grid.times[0] == time(8) and time(8) in grid.closed_times
    shown = [c.visit.id for row in grid.rows for c in row[1] if c.visit]
    assert sorted(shown) == [1, 2, 3]
    assert grid.columns[1] == 2


def test_an_empty_day_without_hours_has_no_rows():
    grid = s.day_grid(D, [1], {}, TOKYO, unit_minutes=15)
    assert grid.times == [] and grid.rows == []


def test_day_infos_mark_closed_weekdays_holidays_and_closures():
    sunday, monday, tuesday, wed = (
        date(2026, 11, 29),
        date(2026, 11, 30),
        date(2026, 12, 1),
        date(2026, 12, 2),
    )
    closures = [
        s.ClosureSpan(at(monday, "00:00"), at(tuesday, "00:00"), "Inventory"),  # whole day
        s.ClosureSpan(at(tuesday, "14:00"), at(tuesday, "16:30"), "Training"),
        s.ClosureSpan(at(wed, "17:00"), at(date(2026, 12, 4), "00:00"), "Move"),
    ]
    infos = s.day_infos(
        [sunday, monday, tuesday, wed, date(2026, 12, 3)],
        TOKYO,
        open_weekdays=range(6),
        holidays={date(2026, 12, 3)},
        closures=closures,
    )
    assert infos[sunday].is_closed and not infos[sunday].is_open_weekday
    assert infos[monday].is_closed and infos[monday].closures[0].whole_day
    assert infos[monday].closures[0].reason == "Inventory"
    training = infos[tuesday].closures[0]
    assert not infos[tuesday].is_closed
    assert (training.whole_day, training.start, training.end) == (False, time(14), time(16, 30))
    move = infos[wed].closures[0]
    assert (move.whole_day, move.start, move.end) == (False, time(17), None)  # until the end
    thursday = infos[date(2026, 12, 3)]
    assert thursday.is_holiday and thursday.is_closed
    assert thursday.closures[0].whole_day  # the closure runs through Thursday


def test_places_by_day_adds_up_the_per_day_holds_in_the_clinic_zone():
    rows = [
        (s.day_start(D, TOKYO), 3),
        (s.day_start(D, TOKYO), 2),
        (s.day_start(D + timedelta(days=1), TOKYO), 1),
    ]
    assert s.places_by_day(rows, TOKYO) == {D: 5, D + timedelta(days=1): 1}


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+81 90", "'+81 90"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("王丽", "王丽"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (42, "42"),
    ],
)
def test_csv_cell_neutralises_formulas(value, cell):
    assert s.csv_cell(value) == cell


@pytest.mark.parametrize(
    ("first", "last", "ok", "errors"),
    [
        ("2026-12-01", "2026-12-31", True, {}),
        ("2026-12-01", "2026-12-01", True, {}),
        ("2026-01-01", "2026-04-03", True, {}),  # 93 days
        ("2026-01-01", "2026-04-04", False, {"to": s.MSG_EXPORT_TOO_LONG}),  # 94
        ("2026-12-02", "2026-12-01", False, {"to": s.MSG_EXPORT_ORDER}),
        ("", "2026-12-01", False, {"from": s.MSG_EXPORT_REQUIRED}),
        (None, None, False, {"from": s.MSG_EXPORT_REQUIRED, "to": s.MSG_EXPORT_REQUIRED}),
        ("2026-13-01", "x", False, {"from": "Enter the date as YYYY-MM-DD.",
                                    "to": "Enter the date as YYYY-MM-DD."}),
        ("0001-01-01", "9999-12-31", False,
         {"from": "Enter a date between the years %(low)s and %(high)s.",
          "to": "Enter a date between the years %(low)s and %(high)s."}),
        ("2026-12-01\x00", "2026-12-02", False,
         {"from": "The value contains a character that is not allowed."}),
    ],
)  # fmt: skip
def test_export_range(first, last, ok, errors):
    result = s.export_range(first, last)
    assert result.ok == ok
    assert {k: m for k, (m, _p) in result.errors.items()} == errors
    if "to" in errors and errors["to"] == s.MSG_EXPORT_TOO_LONG:
        assert result.errors["to"][1] == {"days": 93}
