"""Growth projection as a pure rule: known doubling times give the right day,
flat or falling counts, too few counts, the dose already reached, the
window's end at its boundary, and the at-risk rules. No app."""

from datetime import date
from decimal import Decimal

import pytest

from intake.cultures.growth import (
    HORIZON_DAYS,
    GrowthStatus,
    RiskCode,
    culture_day,
    outlook,
)

G = GrowthStatus


def series(doubling_hours: int, days: list[int], first: int = 1_000_000) -> list[tuple[int, int]]:
    """Exact exponential counts with the given doubling time, from ``first``
    cells on the first day listed (rounded to whole cells)."""
    d0 = days[0]
    return [(d, round(first * 2 ** ((d - d0) * 24 / doubling_hours))) for d in days]


def codes(result) -> list[str]:
    return [risk.code.value for risk in result.risks]


@pytest.mark.parametrize(
    ("hours", "days", "dose", "expected_day"),
    [
        # 24 h: counts on days 5, 7, 9 from 1e6 (1.6e7 on day 9); 2^7 * 1e6 on day 12.
        (24, [5, 7, 9], 128_000_000, 12),
        # 36 h: 1e6 on day 10 doubles every 1.5 days; 2^12 (4.096e9) on day 28.
        (36, [10, 13, 16, 19], 4_096_000_000, 28),
        # 48 h: 1e6 on day 6; 2^16 = 65 536 times that on day 38.
        (48, [6, 10, 14, 18, 22], 65_536_000_000, 38),
        # 48 h, a dose between two doublings (2^15.25): day 36.5, rounded up to 37.
        (48, [6, 10, 14], 39_000_000_000, 37),
        # one cell above 2^15 * 1e6 is still day 36: float noise never adds a day.
        (48, [6, 10, 14], 32_768_000_001, 36),
    ],
)
def test_known_doubling_times(hours, days, dose, expected_day):
    result = outlook(series(hours, days), planned_dose=dose, today_day=days[-1])
    assert result.doubling_hours == Decimal(hours).quantize(Decimal("0.1"))
    assert result.projected_day == expected_day
    assert result.last_count_day == days[-1]


@pytest.mark.parametrize(
    ("expected_day", "status", "risks"),
    [
        (26, G.AHEAD, []),
        (27, G.AHEAD, []),
        (28, G.ON_TRACK, []),
        (31, G.ON_TRACK, []),
        (42, G.ON_TRACK, []),  # the window's last day is inside it
        (43, G.BEHIND, ["projection_past_window"]),
        (60, G.BEHIND, ["projection_past_window"]),
    ],
)
def test_status_by_projected_day(expected_day, status, risks):
    """48 h doubling from 1e6 on day 10: the dose 2^k * 1e6 is reached on day 10 + 2k."""
    counts = series(48, [2, 6, 10], first=1_000_000 // 16)
    doublings = (expected_day - 10) / 2
    dose = round(1_000_000 * 2**doublings)
    result = outlook(counts, planned_dose=dose, today_day=10)
    assert (result.status, result.projected_day) == (status, expected_day)
    assert codes(result) == risks
    assert result.at_risk == bool(risks)


def test_messages():
    counts = series(48, [2, 6, 10], first=1_000_000 // 16)
    on_track = outlook(counts, planned_dose=2**21 * 1_000_000 // 2**10, today_day=10)
    assert on_track.text() == "On track: dose expected about day 32."
    behind = outlook(counts, planned_dose=2**20 * 1_000_000, today_day=10)
    assert behind.text() == (
        "Behind plan: dose expected about day 50, after the window ends on day 42."
    )
    assert [r.text() for r in behind.risks] == [
        "The dose is not expected before the window ends on day 42."
    ]
    ahead = outlook(counts, planned_dose=4_000_000, today_day=10)
    assert ahead.text() == (
        "Ahead of plan: dose expected about day 14, before the window opens on day 28."
    )


def test_the_window_is_passed_in():
    counts = series(48, [2, 6, 10], first=1_000_000 // 16)
    dose = 2**12 * 1_000_000  # day 34
    assert outlook(counts, planned_dose=dose, today_day=10).status == G.ON_TRACK
    short = outlook(counts, planned_dose=dose, today_day=10, window=(21, 30))
    assert (short.status, codes(short)) == (G.BEHIND, ["projection_past_window"])
    assert short.text().endswith("after the window ends on day 30.")


@pytest.mark.parametrize(
    "counts",
    [
        [(5, 1_000_000), (9, 1_000_000), (12, 1_000_000)],  # flat
        [(5, 4_000_000), (9, 2_000_000), (12, 1_000_000)],  # falling
        [(5, 2_000_000), (5, 2_000_000), (9, 1_000_000)],  # falling, two counts on one day
    ],
)
def test_no_growth(counts):
    result = outlook(counts, planned_dose=100_000_000, today_day=12)
    assert result.status == G.NO_GROWTH
    assert (result.doubling_hours, result.projected_day) == (None, None)
    assert codes(result) == ["projection_past_window"]
    assert result.text() == "Behind plan: the cell counts are not rising."


def test_growth_too_slow_to_see_the_dose():
    counts = [(5, 1_000_000), (15, 1_000_001)]
    result = outlook(counts, planned_dose=100_000_000, today_day=15)
    assert (result.status, result.projected_day) == (G.BEHIND, None)
    assert result.text() == (
        f"Behind plan: at this rate the dose would not be reached within {HORIZON_DAYS} days."
    )
    assert result.doubling_hours > 10**6
    assert codes(result) == ["projection_past_window"]


@pytest.mark.parametrize(
    "counts",
    [
        [],
        [(7, 3_000_000)],
        [(7, 3_000_000), (7, 3_500_000)],  # two counts, but one day
    ],
)
def test_not_enough_data(counts):
    result = outlook(counts, planned_dose=100_000_000, today_day=7)
    assert result.status == G.NOT_ENOUGH_DATA
    assert (result.doubling_hours, result.projected_day, result.risks) == (None, None, ())
    assert result.text() == "Not enough data yet: two cell counts on different days are needed."


def test_dose_already_reached():
    counts = series(24, [20, 22, 24, 26])  # 1e6, 4e6, 1.6e7, 6.4e7
    result = outlook(counts, planned_dose=16_000_000, today_day=27)
    assert (result.status, result.projected_day) == (G.DOSE_REACHED, 24)
    assert result.doubling_hours == Decimal("24.0")
    assert result.text() == "The planned dose was reached on day 24."
    assert result.risks == ()


def test_dose_reached_exactly_with_one_count():
    result = outlook([(30, 100_000_000)], planned_dose=100_000_000, today_day=30)
    assert (result.status, result.projected_day, result.doubling_hours) == (
        G.DOSE_REACHED,
        30,
        None,
    )


def test_dose_reached_is_judged_on_the_latest_count():
    """An earlier count above the dose does not count when the latest is below it."""
    counts = [(20, 10_000_000), (25, 120_000_000), (28, 90_000_000)]
    result = outlook(counts, planned_dose=100_000_000, today_day=28)
    # not reached: the fit over all three rises, and projects from day 28's 9e7
    assert (result.status, result.projected_day) == (G.ON_TRACK, 29)


def test_projection_starts_from_the_latest_count():
    """The fit gives the rate; the latest count is where the projection starts."""
    counts = [(10, 1_000_000), (12, 2_000_000), (14, 4_000_000)]  # 48 h
    behind_the_fit = counts + [(16, 4_000_000)]  # no growth in the last two days
    result = outlook(behind_the_fit, planned_dose=64_000_000, today_day=16)
    assert (
        result.projected_day > outlook(counts, planned_dose=64_000_000, today_day=14).projected_day
    )


def test_several_counts_on_the_latest_day_are_averaged():
    counts = [(10, 1_000_000), (12, 2_000_000), (14, 2_000_000), (14, 8_000_000)]
    result = outlook(counts, planned_dose=64_000_000, today_day=14)
    # geometric mean on day 14 = 4e6; 4 more doublings at the fitted rate
    assert result.status == G.AHEAD
    assert result.projected_day == 22


# --- at risk -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today_day", "released", "expected"),
    [
        (41, False, []),
        (42, False, []),  # day 42 itself is still in the window
        (43, False, ["past_window_unreleased"]),
        (60, False, ["past_window_unreleased"]),
        (43, True, []),
    ],
)
def test_past_the_window_unreleased(today_day, released, expected):
    counts = series(48, [20, 24, 28])  # 1e6, 4e6, 1.6e7
    result = outlook(counts, planned_dose=4_000_000, today_day=today_day, released=released)
    assert result.status == G.DOSE_REACHED
    assert codes(result) == expected


def test_past_the_window_message():
    result = outlook([], planned_dose=1, today_day=43)
    assert [r.text() for r in result.risks] == [
        "Day 43: past the end of the window (day 42) and not released."
    ]


def test_qc_failure_is_a_risk_whatever_the_growth_or_state():
    counts = series(24, [10, 12, 14])
    for released in (False, True):
        result = outlook(
            counts, planned_dose=100_000_000, today_day=14, released=released, qc_failed=True
        )
        assert (result.status, result.projected_day) == (G.AHEAD, 17)
        assert codes(result) == ["qc_failed"]
        assert result.risks[0].text() == "A QC result has failed."


def test_every_risk_at_once():
    counts = [(30, 1_000_000), (40, 1_000_000)]
    result = outlook(counts, planned_dose=10**8, today_day=45, qc_failed=True)
    assert codes(result) == [code.value for code in RiskCode]


def test_a_released_batch_is_not_judged_on_growth():
    counts = [(30, 1_000_000), (40, 1_000_000)]
    result = outlook(counts, planned_dose=10**8, today_day=45, released=True)
    assert result.status == G.NO_GROWTH
    assert result.risks == ()


# --- input ---------------------------------------------------------------------------


def test_culture_day():
    assert culture_day(date(2026, 3, 1), date(2026, 3, 1)) == 0
    assert culture_day(date(2026, 3, 1), date(2026, 4, 12)) == 42


def test_counts_in_any_order():
    counts = series(36, [10, 13, 16, 19])
    forward = outlook(counts, planned_dose=4_096_000_000, today_day=19)
    assert outlook(reversed(counts), planned_dose=4_096_000_000, today_day=19) == forward


@pytest.mark.parametrize(
    "counts",
    [
        [(1, 1.5e6), (3, 3_000_000)],  # a float count: never
        [(1.0, 1_000_000), (3, 3_000_000)],
        [(True, 1_000_000), (3, 3_000_000)],
        [(1, Decimal(1_000_000)), (3, 3_000_000)],
    ],
)
def test_counts_must_be_ints(counts):
    with pytest.raises(TypeError):
        outlook(counts, planned_dose=10**8, today_day=3)


@pytest.mark.parametrize(
    "counts", [[(1, 0), (3, 3)], [(1, -5), (3, 3)], [(-1, 5), (3, 3)], [(1, 5), (10**9, 6)]]
)
def test_counts_must_be_positive_on_a_culture_day(counts):
    with pytest.raises(ValueError):
        outlook(counts, planned_dose=10**8, today_day=3)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"planned_dose": 0},
        {"planned_dose": 1e8},
        {"window": (42, 28)},
        {"window": (-1, 42)},
        {"window": (28.0, 42)},
    ],
)
def test_bad_parameters(kwargs):
    with pytest.raises(ValueError):
        outlook([], **{"planned_dose": 10**8, "today_day": 3, **kwargs})


def test_huge_counts_are_fine():
    counts = [(1, 10**40), (3, 4 * 10**40)]
    result = outlook(counts, planned_dose=16 * 10**40, today_day=3)
    assert (result.doubling_hours, result.projected_day) == (Decimal("24.0"), 5)


def test_one_cell_short_of_a_large_dose_is_short():
    counts = [(1, 10**40), (3, 4 * 10**40)]
    assert outlook(counts, planned_dose=4 * 10**40, today_day=3).status == G.DOSE_REACHED
    short = outlook(counts, planned_dose=4 * 10**40 + 1, today_day=3)
    assert (short.status, short.projected_day) == (G.AHEAD, 3)
