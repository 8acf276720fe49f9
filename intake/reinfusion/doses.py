"""A course of several doses from one culture batch (DOMAIN step 5: "A course
may have several doses from one culture, later doses from cryopreserved
aliquots"). Pure: no Flask, no database, no clock.

A doctor plans N doses (1 to ``MAX_DOSES``), each with its route and cells;
every dose after the first comes ``interval_days`` (1 to
``MAX_INTERVAL_DAYS``) after the previous one. Dose 1 is given from fresh
cells, later doses from cryopreserved aliquots (thawed and released again by
the lab first). The cells of each dose lie within the batch's planned range
(``planned_dose_low`` … ``planned_dose_high``) and at most ``max_dose_cells``
unless the doctor writes a reason.

The plan is positional: entry 1 is dose 1, entry 2 dose 2, … A dose that is
already confirmed, given or cancelled by the clinic keeps its values (the
entry for it is ignored); a dose whose times were proposed keeps its route
(the proposed times are for that route's resources) but may change its cells
and interval. Shortening the plan cancels the planned doses past the new end;
a dose past it whose date is proposed, confirmed or given cannot be removed.

How the batch follows its doses (``cultures.lifecycle``): ``later_doses`` on
the batch counts the doses still to give after the next one, so that
``released -> administered`` is refused while it is above 0. After dose k,
the batch goes to ``cryopreserved`` while doses remain, and to
``administered`` after the last.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from intake.core.text import N_
from intake.reinfusion.day import Problem

#: Most doses one culture is planned for: a clinic-sensible bound (a culture
#: grows enough for a few doses; six covers a monthly course of half a year).
MAX_DOSES = 6
#: Longest gap between two doses: cryopreserved aliquots are kept up to a year.
MAX_INTERVAL_DAYS = 365

FRESH = "fresh"
CRYOPRESERVED = "cryopreserved"
ADMINISTERED = "administered"

PLANNED, PROPOSED, CONFIRMED, GIVEN, CANCELLED = (
    "planned",
    "proposed",
    "confirmed",
    "administered",
    "cancelled",
)
#: Statuses whose dose the plan may still change (a proposed one: not its route).
EDITABLE = frozenset({PLANNED, PROPOSED})
#: Statuses still to be given.
TO_GIVE = frozenset({PLANNED, PROPOSED, CONFIRMED})

MSG_COUNT = N_("Plan from 1 to %(max)s doses.")
MSG_ROUTE = N_("Choose a route the patient's indication allows.")
MSG_ROUTE_FIXED = N_("Times were already proposed for this dose: its route cannot change here.")
MSG_CELLS = N_("Enter the cells, from %(low)s to %(high)s (the batch's planned dose).")
MSG_OVER_CAP = N_(
    "%(cells)s cells is above the limit of %(limit)s cells per administration: "
    "write the doctor's reason for the larger dose."
)
MSG_INTERVAL = N_("Enter the days after the previous dose, 1 to %(max)s.")
MSG_CANNOT_REMOVE = N_(
    "Dose %(number)s has a date proposed, confirmed or given: it cannot be removed from the plan."
)


@dataclass(frozen=True)
class Entry:
    """What the doctor enters for one dose."""

    route: str | None
    cells: int | None
    interval_days: int | None = None


@dataclass(frozen=True)
class Existing:
    """A dose already on record for this batch."""

    number: int
    status: str
    route: str
    cells: int
    interval_days: int | None


def source_for(number: int) -> str:
    """Dose 1 from fresh cells, every later one from a cryopreserved aliquot."""
    if number < 1:
        raise ValueError("doses are numbered from 1")
    return FRESH if number == 1 else CRYOPRESERVED


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def plan_problems(
    entries: Sequence[Entry],
    *,
    existing: Sequence[Existing] = (),
    allowed_routes: Sequence[str],
    planned_low: int,
    planned_high: int,
    max_dose_cells: int,
    reason: str | None = None,
) -> list[Problem]:
    """Every problem with the plan at once; fields are ``route_<n>``,
    ``cells_<n>``, ``interval_<n>`` (n from 1), ``count`` and ``reason``."""
    found: list[Problem] = []
    if not 1 <= len(entries) <= MAX_DOSES:
        return [Problem("count", MSG_COUNT, "count", {"max": MAX_DOSES})]
    by_number = {dose.number: dose for dose in existing}
    over_cap = False
    for number, entry in enumerate(entries, start=1):
        dose = by_number.get(number)
        if dose is not None and dose.status not in EDITABLE and dose.status != CANCELLED:
            continue  # confirmed or given: kept as it is
        if dose is not None and dose.status == PROPOSED:
            if entry.route != dose.route:
                found.append(Problem("route_fixed", MSG_ROUTE_FIXED, f"route_{number}"))
        elif entry.route not in allowed_routes:
            found.append(Problem("route", MSG_ROUTE, f"route_{number}"))
        cells = entry.cells
        if cells is not None and not _is_int(cells):
            raise TypeError("cells is an int")
        if cells is None or not planned_low <= cells <= planned_high:
            params = {"low": planned_low, "high": planned_high}
            found.append(Problem("cells", MSG_CELLS, f"cells_{number}", params))
        elif cells > max_dose_cells:
            over_cap = True
        if number > 1:
            interval = entry.interval_days
            if interval is not None and not _is_int(interval):
                raise TypeError("interval_days is an int")
            if interval is None or not 1 <= interval <= MAX_INTERVAL_DAYS:
                params = {"max": MAX_INTERVAL_DAYS}
                found.append(Problem("interval", MSG_INTERVAL, f"interval_{number}", params))
    if over_cap and not (reason or "").strip():
        biggest = max(e.cells for e in entries if _is_int(e.cells))
        params = {"cells": biggest, "limit": max_dose_cells}
        found.append(Problem("over_cap", MSG_OVER_CAP, "reason", params))
    for dose in existing:
        if dose.number > len(entries) and dose.status in {PROPOSED, CONFIRMED, GIVEN}:
            params = {"number": dose.number}
            found.append(Problem("cannot_remove", MSG_CANNOT_REMOVE, "count", params))
    return found


def planned_dates(
    first_day: date | None, intervals: Sequence[int | None], booked: Sequence[date | None] = ()
) -> list[date | None]:
    """The day of each dose: its booked day when it has one, else the previous
    dose's day plus its interval (None when the previous day is not known).
    ``intervals[0]`` (dose 1's) is not used; ``first_day`` is dose 1's day when
    it is not booked."""
    days: list[date | None] = []
    for index, interval in enumerate(intervals):
        own = booked[index] if index < len(booked) else None
        if own is not None:
            days.append(own)
        elif index == 0:
            days.append(first_day)
        else:
            previous = days[-1]
            days.append(previous + timedelta(days=interval) if previous and interval else None)
    return days


def later_doses(to_give: int) -> int:
    """The batch's ``later_doses``: doses still to give after the next one."""
    if not _is_int(to_give) or to_give < 0:
        raise ValueError("to_give is an int >= 0")
    return max(to_give - 1, 0)


def state_after_dose(remaining: int) -> str:
    """The batch's state once a dose is given, ``remaining`` doses still to
    give after it: the cells left are frozen, or the batch is closed."""
    if not _is_int(remaining) or remaining < 0:
        raise ValueError("remaining is an int >= 0")
    return CRYOPRESERVED if remaining else ADMINISTERED
