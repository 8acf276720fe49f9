"""Growth projection of a culture batch: the doubling time from the cell
counts recorded so far, the day the planned dose is expected, and whether the
batch is at risk. Pure: no Flask, no database, no clock (today's culture day,
the state and the QC flag are passed in).

Counts are ``(day, cells)`` pairs: ``day`` is the culture day (whole days since
the collection, ``culture_day``), ``cells`` the batch's whole population as an
int (every flask together, so a passage that splits the cells does not look
like a fall). Computation uses floats internally; what comes out is exact
enough to show and compare: the doubling time as a ``Decimal`` in hours to one
decimal, the projected day as an int.

* **Doubling time**: least squares of ln(cells) over day, over every count;
  at least two counts on different days are needed.
* **Projection**: from the latest count (the geometric mean when several were
  made that day), forward at the fitted rate, to the first whole day on which
  the planned dose is reached (rounded up: "about day 31" means by day 31).
* **Status**: ``on_track`` when the projected day is inside the window (28-42
  by default, both days included), ``ahead`` before it opens, ``behind`` after
  it closes (or not within ``HORIZON_DAYS``), ``no_growth`` when the counts are
  not rising, ``dose_reached`` when the latest count is at or above the dose,
  ``not_enough_data`` otherwise.
* **At risk** (DOMAIN.md and issue 9): the projection passes the window's end
  (behind or no growth); today is past the window's end and the batch is not
  released; a QC result has failed. A released batch is no longer judged on
  growth or the calendar; a failed QC result counts whatever the state.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from intake.core.text import N_

DEFAULT_WINDOW = (28, 42)
#: A projection further than this past the latest count is "not in sight".
HORIZON_DAYS = 365
#: The latest culture day a count may carry (ten years: cells kept frozen).
MAX_DAY = 3660


class GrowthStatus(StrEnum):
    NOT_ENOUGH_DATA = "not_enough_data"
    NO_GROWTH = "no_growth"
    AHEAD = "ahead"
    ON_TRACK = "on_track"
    BEHIND = "behind"
    DOSE_REACHED = "dose_reached"


class RiskCode(StrEnum):
    PROJECTION_PAST_WINDOW = "projection_past_window"
    PAST_WINDOW_UNRELEASED = "past_window_unreleased"
    QC_FAILED = "qc_failed"


MSG_STATUS = {
    GrowthStatus.NOT_ENOUGH_DATA: N_(
        "Not enough data yet: two cell counts on different days are needed."
    ),
    GrowthStatus.NO_GROWTH: N_("Behind plan: the cell counts are not rising."),
    GrowthStatus.AHEAD: N_(
        "Ahead of plan: dose expected about day %(day)s, before the window opens on day %(start)s."
    ),
    GrowthStatus.ON_TRACK: N_("On track: dose expected about day %(day)s."),
    GrowthStatus.BEHIND: N_(
        "Behind plan: dose expected about day %(day)s, after the window ends on day %(end)s."
    ),
    GrowthStatus.DOSE_REACHED: N_("The planned dose was reached on day %(day)s."),
}
MSG_BEHIND_OUT_OF_SIGHT = N_(
    "Behind plan: at this rate the dose would not be reached within %(horizon)s days."
)
MSG_RISK = {
    RiskCode.PROJECTION_PAST_WINDOW: N_(
        "The dose is not expected before the window ends on day %(end)s."
    ),
    RiskCode.PAST_WINDOW_UNRELEASED: N_(
        "Day %(day)s: past the end of the window (day %(end)s) and not released."
    ),
    RiskCode.QC_FAILED: N_("A QC result has failed."),
}


def _fill(message: str, params: Mapping[str, Any], translate: Callable[[str], str] | None):
    return (translate(message) if translate else message) % dict(params)


@dataclass(frozen=True)
class Risk:
    code: RiskCode
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def text(self, translate: Callable[[str], str] | None = None) -> str:
        return _fill(self.message, self.params, translate)


@dataclass(frozen=True)
class GrowthOutlook:
    status: GrowthStatus
    #: English, wrapped in ``N_``; ``%(name)s`` placeholders filled from ``params``.
    message: str
    params: Mapping[str, Any]
    #: Hours to double, one decimal; None without two counts on different days
    #: or without growth.
    doubling_hours: Decimal | None
    #: The culture day the dose is (expected to be) reached; None when not in sight.
    projected_day: int | None
    #: The day of the latest count the projection starts from (None: no counts).
    last_count_day: int | None
    risks: tuple[Risk, ...] = ()

    @property
    def at_risk(self) -> bool:
        return bool(self.risks)

    def text(self, translate: Callable[[str], str] | None = None) -> str:
        return _fill(self.message, self.params, translate)


def culture_day(collected_on: date, today: date) -> int:
    """Whole days since the collection: 0 on the collection day."""
    return (today - collected_on).days


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _checked(counts: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    checked = []
    for day, cells in counts:
        if not (_is_int(day) and _is_int(cells)):
            raise TypeError("counts are (day, cells) pairs of ints")
        if not 0 <= day <= MAX_DAY or cells < 1:
            raise ValueError(f"a count's day must be 0 to {MAX_DAY} and its cells >= 1")
        checked.append((day, cells))
    return sorted(checked)


def _slope_per_day(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of ln(cells) over day (two distinct days at least)."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in points)
    return sxy / sxx


def _by_day(counts: list[tuple[int, int]]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for day, cells in counts:
        found.setdefault(day, []).append(cells)
    return found


def _log_mean(cells: list[int]) -> float:
    """ln of the day's count: the geometric mean when a day has several."""
    return sum(math.log(c) for c in cells) / len(cells)


def _reached(cells: list[int], dose: int) -> bool:
    """The day's (geometric mean) count is at least ``dose``, exactly: in
    integers, so one cell short of a large dose is short."""
    return math.prod(cells) >= dose ** len(cells)


def _hours(slope: float) -> Decimal:
    return Decimal(24 * math.log(2) / slope).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def outlook(
    counts: Iterable[tuple[int, int]],
    *,
    planned_dose: int,
    today_day: int,
    window: tuple[int, int] = DEFAULT_WINDOW,
    released: bool = False,
    qc_failed: bool = False,
) -> GrowthOutlook:
    """The batch's growth outlook on culture day ``today_day``.

    ``planned_dose``: the cells the culture must reach (all doses from it).
    ``window``: first and last culture day for a reinfusion, both included.
    ``released``: the batch is released (or later: cryopreserved, administered).
    ``qc_failed``: a QC result of the batch has failed.
    """
    if not _is_int(planned_dose) or planned_dose < 1:
        raise ValueError("planned_dose must be a positive int")
    if not _is_int(today_day):
        raise TypeError("today_day must be an int")
    start, end = window
    if not (_is_int(start) and _is_int(end)) or not 0 <= start <= end:
        raise ValueError("window is (start, end) culture days, 0 <= start <= end")

    counts = _checked(counts)
    by_day = _by_day(counts)
    days = sorted(by_day)
    slope = _slope_per_day([(d, math.log(c)) for d, c in counts]) if len(days) >= 2 else None
    doubling = _hours(slope) if slope is not None and slope > 0 else None
    last_day = days[-1] if days else None
    target = math.log(planned_dose)

    projected: int | None = None
    params: dict[str, Any] = {}
    message: str | None = None
    if last_day is not None and _reached(by_day[last_day], planned_dose):
        status = GrowthStatus.DOSE_REACHED
        projected = next(d for d in days if _reached(by_day[d], planned_dose))
    elif slope is None:
        status = GrowthStatus.NOT_ENOUGH_DATA
    elif slope <= 0:
        status = GrowthStatus.NO_GROWTH
    else:
        assert last_day is not None  # slope needs two days
        reach = last_day + (target - _log_mean(by_day[last_day])) / slope
        if reach > last_day + HORIZON_DAYS:
            status = GrowthStatus.BEHIND
            message, params = MSG_BEHIND_OUT_OF_SIGHT, {"horizon": HORIZON_DAYS}
        else:
            projected = math.ceil(round(reach, 3))  # float noise must not add a day
            if projected < start:
                status = GrowthStatus.AHEAD
            elif projected <= end:
                status = GrowthStatus.ON_TRACK
            else:
                status = GrowthStatus.BEHIND
    if message is None:
        message = MSG_STATUS[status]
        params = {"day": projected, "start": start, "end": end} if projected is not None else {}

    risks: list[Risk] = []
    if not released:
        if status in (GrowthStatus.BEHIND, GrowthStatus.NO_GROWTH):
            code = RiskCode.PROJECTION_PAST_WINDOW
            risks.append(Risk(code, MSG_RISK[code], {"end": end}))
        if today_day > end:
            code = RiskCode.PAST_WINDOW_UNRELEASED
            risks.append(Risk(code, MSG_RISK[code], {"day": today_day, "end": end}))
    if qc_failed:
        risks.append(Risk(RiskCode.QC_FAILED, MSG_RISK[RiskCode.QC_FAILED]))

    return GrowthOutlook(
        status=status,
        message=message,
        params=params,
        doubling_hours=doubling,
        projected_day=projected,
        last_count_day=last_day,
        risks=tuple(risks),
    )
