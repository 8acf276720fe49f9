"""Free starts of a visit: hours, notice, horizon, capacity of every resource, incubators."""

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from intake.scheduling.availability import (
    DayBlock,
    Refusal,
    Segment,
    Situation,
    VisitType,
    check_start,
    days_for,
    free_starts,
    units_for,
    within,
)
from intake.scheduling.calendar import Closure, OpeningHours, japanese_holidays

TOKYO = ZoneInfo("Asia/Tokyo")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
UNIT = 15
CLINIC_HOURS = OpeningHours.simple(range(6), time(9), time(18), time(12), time(13))
EVERY_DAY = OpeningHours.simple(range(7), time(9), time(18), time(12), time(13))
HOLIDAYS = japanese_holidays([2026, 2027])
CAPACITIES = {
    "consult_room": 2,
    "procedure_room": 1,
    "doctor": 2,
    "nurse": 2,
    "chair": 4,
    "bed": 1,
    "incubator": 40,
}

CONSULTATION = VisitType((Segment(0, 45, "consult_room"), Segment(0, 45, "doctor")))
COLLECTION = VisitType(
    (Segment(0, 60, "procedure_room"), Segment(0, 60, "doctor"), Segment(0, 60, "nurse")),
    (DayBlock.through_day("incubator", 42),),
)
IV_DRIP = VisitType((Segment(0, 90, "chair"),))
INTRATHECAL = VisitType(
    (Segment(0, 60, "procedure_room"), Segment(0, 60, "doctor"), Segment(60, 60, "bed"))
)

MONDAY = date(2026, 6, 1)
SUNDAY = date(2026, 6, 7)


def at(day: date, hhmm: str, tz: ZoneInfo = TOKYO) -> datetime:
    """The UTC instant of local ``hhmm`` on ``day``."""
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=tz).astimezone(UTC)


def settings(day: date, **overrides: Any) -> dict[str, Any]:
    """The default Tokyo clinic, a month before ``day``, patient rules."""
    tz = overrides.get("tz", TOKYO)
    base: dict[str, Any] = {
        "tz": tz,
        "hours": CLINIC_HOURS,
        "closures": (),
        "holiday_dates": HOLIDAYS,
        "unit_minutes": UNIT,
        "capacities": CAPACITIES,
        "holds": {},
        "now": datetime.combine(day - timedelta(days=30), time(0), tzinfo=tz),
        "min_notice": timedelta(hours=48),
        "horizon": timedelta(days=120),
    }
    return base | overrides


def starts_on(visit: VisitType, day: date, **overrides: Any) -> list[str]:
    """Free starts of one local day as local "HH:MM"."""
    config = settings(day, **overrides)
    starts = free_starts(visit, Situation.of(**config), start_date=day, end_date=day)
    return [start.astimezone(config["tz"]).strftime("%H:%M") for start in starts]


def check(visit: VisitType, day: date, hhmm: str, **overrides: Any) -> Refusal | None:
    config = settings(day, **overrides)
    return check_start(at(day, hhmm, config["tz"]), visit, Situation.of(**config))


def held(code: str, day: date, *hhmms: str, seats: int = 1) -> dict[tuple[str, date], int]:
    return {(code, at(day, hhmm)): seats for hhmm in hhmms}


def quarter_hours(first: str, last: str) -> list[str]:
    start = datetime.combine(MONDAY, time.fromisoformat(first))
    end = datetime.combine(MONDAY, time.fromisoformat(last))
    steps = (end - start) // timedelta(minutes=UNIT)
    return [(start + k * timedelta(minutes=UNIT)).strftime("%H:%M") for k in range(steps + 1)]


@pytest.mark.parametrize(
    "visit, expected",
    [
        pytest.param(
            CONSULTATION,
            quarter_hours("09:00", "11:15") + quarter_hours("13:00", "17:15"),
            id="consultation-45",
        ),
        pytest.param(
            COLLECTION,
            quarter_hours("09:00", "11:00") + quarter_hours("13:00", "17:00"),
            id="collection-60",
        ),
        pytest.param(
            IV_DRIP,
            quarter_hours("09:00", "10:30") + quarter_hours("13:00", "16:30"),
            id="iv-drip-90",
        ),
        pytest.param(
            INTRATHECAL,
            quarter_hours("09:00", "10:00") + quarter_hours("13:00", "16:00"),
            id="intrathecal-120",
        ),
    ],
)
def test_default_clinic_day(visit: VisitType, expected: list[str]) -> None:
    assert starts_on(visit, MONDAY) == expected


@pytest.mark.parametrize(
    "hhmm, refusal",
    [
        ("09:00", None),
        ("11:00", None),  # ends 12:00, as lunch begins
        ("11:15", Refusal.OUTSIDE_HOURS),  # would straddle lunch
        ("12:30", Refusal.OUTSIDE_HOURS),
        ("13:00", None),
        ("17:00", None),  # ends at closing time
        ("17:15", Refusal.OUTSIDE_HOURS),
        ("08:45", Refusal.OUTSIDE_HOURS),
        ("10:05", Refusal.NOT_ALIGNED),
    ],
)
def test_collection_start_checks(hhmm: str, refusal: Refusal | None) -> None:
    assert check(COLLECTION, MONDAY, hhmm) == refusal


@pytest.mark.parametrize(
    "day, overrides, refusal",
    [
        (SUNDAY, {}, Refusal.OUTSIDE_HOURS),
        (date(2026, 11, 23), {}, Refusal.HOLIDAY),  # Labour Thanksgiving Day
        (date(2027, 1, 1), {}, Refusal.HOLIDAY),  # New Year's Day
        (date(2026, 11, 23), {"holiday_dates": frozenset()}, None),  # clinic opts out
        (
            MONDAY,
            {"closures": (Closure.whole_days(MONDAY, MONDAY, TOKYO, "audit"),)},
            Refusal.CLOSED,
        ),
    ],
)
def test_closed_days_offer_nothing(
    day: date, overrides: Mapping[str, Any], refusal: Refusal | None
) -> None:
    starts = starts_on(COLLECTION, day, **overrides)
    assert (starts == []) is (refusal is not None)
    assert check(COLLECTION, day, "10:00", **overrides) == refusal


@pytest.mark.parametrize(
    "closed_from, closed_to, expected_morning, expected_afternoon",
    [
        ("10:00", "11:00", ["09:00", "11:00"], quarter_hours("13:00", "17:00")),
        ("09:00", "12:00", [], quarter_hours("13:00", "17:00")),
        ("11:30", "13:30", quarter_hours("09:00", "10:30"), quarter_hours("13:30", "17:00")),
        # an off-grid closure removes starts but does not move the grid
        (
            "15:10",
            "15:20",
            quarter_hours("09:00", "11:00"),
            quarter_hours("13:00", "14:00") + quarter_hours("15:30", "17:00"),
        ),
    ],
)
def test_partial_closures(
    closed_from: str, closed_to: str, expected_morning: list[str], expected_afternoon: list[str]
) -> None:
    closure = Closure(at(MONDAY, closed_from), at(MONDAY, closed_to), "maintenance")
    starts = starts_on(COLLECTION, MONDAY, closures=(closure,))
    assert starts == expected_morning + expected_afternoon


def test_partial_closure_refusal() -> None:
    closure = Closure(at(MONDAY, "10:00"), at(MONDAY, "11:00"), "maintenance")
    assert check(COLLECTION, MONDAY, "09:15", closures=(closure,)) == Refusal.CLOSED


NINE_AM = at(MONDAY, "09:00")


@pytest.mark.parametrize(
    "now, min_notice, first_start, refusal_at_nine",
    [
        pytest.param(NINE_AM - timedelta(hours=48), 48, "09:00", None, id="exactly-48h"),
        pytest.param(
            NINE_AM - timedelta(hours=47, minutes=45), 48, "09:15", Refusal.TOO_SOON, id="47h45"
        ),
        pytest.param(
            NINE_AM - timedelta(hours=47, minutes=59), 48, "09:15", Refusal.TOO_SOON, id="47h59"
        ),
        pytest.param(NINE_AM, 0, "09:00", None, id="staff-no-notice"),
        pytest.param(NINE_AM + timedelta(minutes=1), 0, "09:15", Refusal.TOO_SOON, id="past"),
    ],
)
def test_minimum_notice(
    now: datetime, min_notice: int, first_start: str, refusal_at_nine: Refusal | None
) -> None:
    overrides = {"now": now, "min_notice": timedelta(hours=min_notice)}
    assert starts_on(COLLECTION, MONDAY, **overrides)[0] == first_start
    assert check(COLLECTION, MONDAY, "09:00", **overrides) == refusal_at_nine


@pytest.mark.parametrize(
    "now, expected, refusal_at_nine",
    [
        pytest.param(NINE_AM - timedelta(days=120), ["09:00"], None, id="exactly-120-days"),
        pytest.param(
            NINE_AM - timedelta(days=120, minutes=15),
            [],
            Refusal.BEYOND_HORIZON,
            id="one-unit-more",
        ),
        pytest.param(
            NINE_AM - timedelta(days=120) + timedelta(hours=1),
            quarter_hours("09:00", "10:00"),
            None,
            id="an-hour-later",
        ),
    ],
)
def test_horizon(now: datetime, expected: list[str], refusal_at_nine: Refusal | None) -> None:
    assert starts_on(COLLECTION, MONDAY, now=now) == expected
    assert check(COLLECTION, MONDAY, "09:00", now=now) == refusal_at_nine


@pytest.mark.parametrize(
    "seats_held, offered",
    [(0, True), (3, True), (4, False), (5, False)],  # 5: capacity was lowered after booking
)
def test_last_free_chair(seats_held: int, offered: bool) -> None:
    holds = held("chair", MONDAY, "10:00", "10:15", "10:30", "10:45", "11:00", "11:15", seats=3)
    holds |= held("chair", MONDAY, "10:45", seats=seats_held)
    assert ("10:00" in starts_on(IV_DRIP, MONDAY, holds=holds)) is offered
    assert check(IV_DRIP, MONDAY, "10:00", holds=holds) == (None if offered else Refusal.FULL)


def test_one_full_unit_blocks_every_start_that_covers_it() -> None:
    holds = held("chair", MONDAY, "10:00", seats=4)
    assert starts_on(IV_DRIP, MONDAY, holds=holds)[:2] == ["10:15", "10:30"]


@pytest.mark.parametrize(
    "full_resource, offered",
    [
        (None, True),
        ("procedure_room", False),  # the doctor and nurse are free, the room is not
        ("doctor", False),
        ("nurse", False),
        ("consult_room", True),  # not used by a collection
    ],
)
def test_every_resource_of_the_visit_must_be_free(full_resource: str | None, offered: bool) -> None:
    holds = {} if full_resource is None else held(full_resource, MONDAY, "10:30", seats=2)
    assert ("10:00" in starts_on(COLLECTION, MONDAY, holds=holds)) is offered
    assert check(COLLECTION, MONDAY, "10:00", holds=holds) == (None if offered else Refusal.FULL)


@pytest.mark.parametrize(
    "full_resource, refused",
    [
        ("bed", ["13:00"]),  # the bed is needed 60-120 min after the start
        ("procedure_room", ["13:15", "13:30", "13:45", "14:00"]),  # needed 0-60 min
        ("doctor", []),  # two doctors, only one held
    ],
)
def test_intrathecal_second_hour_needs_the_bed(full_resource: str, refused: list[str]) -> None:
    holds = held(full_resource, MONDAY, "14:00")
    afternoon = quarter_hours("13:00", "16:00")
    expected = [hhmm for hhmm in afternoon if hhmm not in refused]
    assert starts_on(INTRATHECAL, MONDAY, holds=holds)[-len(expected) :] == expected
    for hhmm in refused:
        assert check(INTRATHECAL, MONDAY, hhmm, holds=holds) == Refusal.FULL


def test_intrathecal_refused_when_beds_are_full_though_the_room_is_free() -> None:
    holds = {("bed", at(MONDAY, hhmm)): 1 for hhmm in quarter_hours("09:00", "17:45")}
    assert starts_on(INTRATHECAL, MONDAY, holds=holds) == []


@pytest.mark.parametrize(
    "full_day_offset, places_held, offered",
    [
        (None, 0, True),
        (0, 40, False),  # the collection day itself
        (20, 40, False),
        (42, 40, False),  # day 42 is the last day of the span
        (42, 39, True),  # one place left
        (43, 40, True),  # the day after the span does not matter
        (-1, 40, True),  # nor the day before
    ],
)
def test_incubator_place_for_the_whole_culture(
    full_day_offset: int | None, places_held: int, offered: bool
) -> None:
    holds = (
        {}
        if full_day_offset is None
        else {("incubator", MONDAY + timedelta(days=full_day_offset)): places_held}
    )
    starts = starts_on(COLLECTION, MONDAY, holds=holds)
    assert (starts == quarter_hours("09:00", "11:00") + quarter_hours("13:00", "17:00")) is offered
    assert (starts == []) is not offered
    assert check(COLLECTION, MONDAY, "10:00", holds=holds) == (None if offered else Refusal.FULL)


def test_incubator_full_day_blocks_the_collection_days_whose_span_covers_it() -> None:
    full_day = MONDAY + timedelta(days=50)
    config = settings(MONDAY, holds={("incubator", full_day): 40})
    starts = free_starts(COLLECTION, Situation.of(**config), start_date=MONDAY, end_date=full_day)
    offered_days = sorted({start.astimezone(TOKYO).date() for start in starts})
    # the last collection day whose day 42 falls before the full day
    assert offered_days[-1] == full_day - timedelta(days=43)
    assert offered_days[0] == MONDAY


@pytest.mark.parametrize(
    "tz, before, after, nine_before_utc, nine_after_utc",
    [
        pytest.param(
            BERLIN, date(2026, 3, 28), date(2026, 3, 30), "08:00", "07:00", id="berlin-spring"
        ),
        pytest.param(
            BERLIN, date(2026, 10, 24), date(2026, 10, 26), "07:00", "08:00", id="berlin-fall"
        ),
        pytest.param(
            NEW_YORK, date(2026, 3, 7), date(2026, 3, 9), "14:00", "13:00", id="new-york-spring"
        ),
        pytest.param(
            NEW_YORK, date(2026, 10, 31), date(2026, 11, 2), "13:00", "14:00", id="new-york-fall"
        ),
    ],
)
def test_daylight_saving_transitions(
    tz: ZoneInfo,
    before: date,
    after: date,
    nine_before_utc: str,
    nine_after_utc: str,
) -> None:
    config = settings(before, tz=tz, holiday_dates=frozenset())
    starts = free_starts(COLLECTION, Situation.of(**config), start_date=before, end_date=after)
    by_day: dict[date, list[datetime]] = {}
    for start in starts:
        by_day.setdefault(start.astimezone(tz).date(), []).append(start)
    assert sorted(by_day) == [before, after]  # the Sunday of the change is closed
    assert by_day[before][0] == at(before, nine_before_utc, UTC)
    assert by_day[after][0] == at(after, nine_after_utc, UTC)
    assert len(by_day[before]) == len(by_day[after]) == 26
    assert all(start.astimezone(tz).minute % UNIT == 0 for start in starts)


@pytest.mark.parametrize(
    "tz, day, nine_utc",
    [
        (BERLIN, date(2026, 3, 29), "07:00"),
        (BERLIN, date(2026, 10, 25), "08:00"),
        (NEW_YORK, date(2026, 3, 8), "13:00"),
        (NEW_YORK, date(2026, 11, 1), "14:00"),
    ],
)
def test_clinic_open_on_the_transition_day(tz: ZoneInfo, day: date, nine_utc: str) -> None:
    config = settings(day, tz=tz, hours=EVERY_DAY, holiday_dates=frozenset())
    starts = free_starts(COLLECTION, Situation.of(**config), start_date=day, end_date=day)
    assert starts[0] == at(day, nine_utc, UTC)
    assert [s.astimezone(tz).strftime("%H:%M") for s in starts] == quarter_hours(
        "09:00", "11:00"
    ) + quarter_hours("13:00", "17:00")


def test_window_is_sorted_and_spans_days() -> None:
    config = settings(MONDAY)
    starts = free_starts(CONSULTATION, Situation.of(**config), start_date=MONDAY, end_date=SUNDAY)
    assert starts == sorted(starts)
    assert len(starts) == 6 * 28
    assert (
        free_starts(CONSULTATION, Situation.of(**config), start_date=SUNDAY, end_date=MONDAY) == []
    )


@pytest.mark.parametrize(
    "visit, holds, closures",
    [
        pytest.param(COLLECTION, {}, (), id="empty"),
        pytest.param(
            INTRATHECAL,
            held("bed", MONDAY, "10:30", "14:00", "16:45")
            | held("procedure_room", MONDAY + timedelta(days=1), "09:45", "15:00"),
            (),
            id="intrathecal",
        ),
        pytest.param(
            COLLECTION,
            held("nurse", MONDAY, "09:00", "13:30", seats=2)
            | {("incubator", MONDAY + timedelta(days=44)): 40},
            (Closure(at(MONDAY, "16:05"), at(MONDAY, "16:50"), "drill"),),
            id="collection",
        ),
    ],
)
def test_check_start_agrees_with_free_starts(
    visit: VisitType, holds: dict, closures: tuple[Closure, ...]
) -> None:
    first, last = MONDAY, MONDAY + timedelta(days=2)
    config = settings(MONDAY, holds=holds, closures=closures)
    config["now"] = at(MONDAY, "11:00") - timedelta(hours=48)
    offered = set(free_starts(visit, Situation.of(**config), start_date=first, end_date=last))
    candidates = [
        datetime.combine(first, time(0), tzinfo=TOKYO) + timedelta(minutes=5 * k)
        for k in range(3 * 24 * 12)
    ]
    bookable = {
        start for start in candidates if check_start(start, visit, Situation.of(**config)) is None
    }
    assert bookable == offered


def test_units_for_intrathecal() -> None:
    start = at(MONDAY, "10:00")
    quarter = [start + timedelta(minutes=UNIT * k) for k in range(8)]
    assert units_for(start, INTRATHECAL.segments, UNIT) == sorted(
        [("procedure_room", t) for t in quarter[:4]]
        + [("doctor", t) for t in quarter[:4]]
        + [("bed", t) for t in quarter[4:]]
    )


@pytest.mark.parametrize(
    "segments, expected",
    [
        ((Segment(0, 30, "nurse", quantity=2),), [("nurse", 0)] * 2 + [("nurse", 1)] * 2),
        ((Segment(5, 20, "nurse"),), [("nurse", 0), ("nurse", 1)]),  # rounds outwards
        ((Segment(0, 15, "nurse"), Segment(0, 30, "nurse")), [("nurse", 0)] * 2 + [("nurse", 1)]),
    ],
)
def test_units_for_counts_one_entry_per_seat(
    segments: tuple[Segment, ...], expected: list[tuple[str, int]]
) -> None:
    start = at(MONDAY, "10:00")
    units = units_for(start, segments, UNIT)
    assert [(code, (t - start) // timedelta(minutes=UNIT)) for code, t in units] == expected


def test_units_for_rejects_naive_start() -> None:
    with pytest.raises(ValueError):
        units_for(datetime(2026, 6, 1, 10), CONSULTATION.segments, UNIT)


def test_days_for_collection_covers_day_0_to_42() -> None:
    days = days_for(MONDAY, COLLECTION.day_blocks)
    assert len(days) == 43
    assert days[0] == ("incubator", MONDAY)
    assert days[-1] == ("incubator", MONDAY + timedelta(days=42))


def test_quantity_two_needs_two_free_seats() -> None:
    visit = VisitType((Segment(0, 60, "nurse", quantity=2),))
    assert check(visit, MONDAY, "10:00") is None
    assert check(visit, MONDAY, "10:00", holds=held("nurse", MONDAY, "10:15")) == Refusal.FULL


def test_missing_capacity_means_none() -> None:
    visit = VisitType((Segment(0, 60, "laser"),))
    assert starts_on(visit, MONDAY) == []


@pytest.mark.parametrize(
    "build",
    [
        lambda: Segment(-15, 30, "doctor"),
        lambda: Segment(0, 0, "doctor"),
        lambda: Segment(0, 30, "doctor", quantity=0),
        lambda: DayBlock("incubator", 0),
        lambda: VisitType(()),
    ],
)
def test_invalid_visit_parts(build: Any) -> None:
    with pytest.raises(ValueError):
        build()


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        starts_on(COLLECTION, MONDAY, now=datetime(2026, 5, 1))


def test_an_answer_without_limits_narrowed_to_now_is_the_answer_at_now():
    """What lets an answer be kept: computed with no time limits, then narrowed to
    the notice and horizon of any ``now``, it equals the answer computed at that ``now``."""
    first, last = MONDAY, MONDAY + timedelta(days=20)
    holds = held("doctor", MONDAY, "10:00", "10:15", seats=2) | {
        ("incubator", MONDAY + timedelta(days=5)): 40
    }
    for visit in (CONSULTATION, COLLECTION, INTRATHECAL):
        config = settings(MONDAY, holds=holds)
        unlimited = free_starts(
            visit, Situation.of(**config | {"now": None}), start_date=first, end_date=last
        )
        for now in (
            at(MONDAY, "08:00") - timedelta(days=2),
            at(MONDAY, "11:07"),
            at(SUNDAY, "09:00"),
        ):
            for notice, horizon in (
                (timedelta(hours=48), timedelta(days=10)),
                (timedelta(0), timedelta(days=3)),
            ):
                limited = free_starts(
                    visit,
                    Situation.of(**config | {"now": now, "min_notice": notice, "horizon": horizon}),
                    start_date=first,
                    end_date=last,
                )
                assert limited == within(unlimited, now + notice, now + horizon)


def test_day_blocks_of_one_resource_add_up_over_the_window():
    """Two blocks on the incubators (2 places for 3 days, then 1 more for 5):
    a start needs 3 places on days 0-2 and 1 on days 0-4."""
    visit = VisitType(
        (Segment(0, 60, "procedure_room"),),
        (DayBlock("incubator", 3, 2), DayBlock("incubator", 5, 1)),
    )
    day = MONDAY + timedelta(days=7)
    for taken, blocked in (
        (38, {day - timedelta(days=n) for n in range(3)}),  # 2 left: the 3-place days fail
        (40, {day - timedelta(days=n) for n in range(5)}),  # none left: every covering start
    ):
        config = settings(MONDAY, holds={("incubator", day): taken})
        first, last = MONDAY, MONDAY + timedelta(days=13)
        starts = free_starts(visit, Situation.of(**config), start_date=first, end_date=last)
        days = {s.astimezone(TOKYO).date() for s in starts}
        open_days = {
            first + timedelta(days=n)
            for n in range(14)
            if (first + timedelta(days=n)).weekday() < 6
            and first + timedelta(days=n) not in HOLIDAYS
        }
        assert days == open_days - blocked
        for d in open_days:
            refusal = check_start(at(d, "10:00"), visit, Situation.of(**config))
            assert (refusal == Refusal.FULL) is (d in blocked)
