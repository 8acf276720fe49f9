"""The reinfusion day (DOMAIN step 5, rule 8): vital signs, the guard on the
administration, the observation after it. Pure: no Flask, no database, no
clock; the facts, ``today`` and ``now`` are passed in.

**Vital signs** are refused outside physiological ranges (what a living adult
at a clinic visit can show; anything past them is a typing error, not a
finding). A value inside the range that is clinically worrying is the
doctor's judgement (a no-go with a reason), not the software's:

==============================  ===============  ================================
sign                            accepted         unit
==============================  ===============  ================================
systolic blood pressure         60 – 260         mmHg
diastolic blood pressure        30 – 160         mmHg, and below the systolic
pulse                           30 – 220         beats per minute
temperature                     34.0 – 42.5      °C, one decimal
oxygen saturation (SpO2)        50 – 100         %
==============================  ===============  ================================

**The administration guard** returns every refusal at once, so the page can
show all that is missing beside the disabled button:

* the batch is ``released`` (for a later dose: the thawed aliquot released
  again, ``cryopreserved -> released``, see ``cultures.lifecycle``);
* the dose's date is confirmed, not already given, and no earlier dose of the
  batch is still to give;
* the visit is today (clinic-local) and the patient is checked in (arrived);
* the latest bedside identity check of this visit was made today and matched;
* the latest clearance of this visit was signed today, by a doctor, and is a go;

and then, for what the doctor enters:

* the route is the dose's planned route;
* the cells given are at least 1 and at most ``max_dose_cells`` unless the
  doctor writes why more were given;
* the end is after the start; the observation lasted at least
  ``observation_minutes`` (a setting) after the end, with the vital signs
  taken then; the observation has ended (not in the future).

The record is written after the fact, so the order of the recorded times
against the clearance's signature is not checked: the guard makes sure the
clearance and the match exist before the administration can be recorded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from intake.core.text import N_

# ------------------------------------------------------------------ vital signs


@dataclass(frozen=True)
class Range:
    low: int | Decimal
    high: int | Decimal
    unit: str


SYSTOLIC = Range(60, 260, "mmHg")
DIASTOLIC = Range(30, 160, "mmHg")
PULSE = Range(30, 220, "/min")
TEMPERATURE = Range(Decimal("34.0"), Decimal("42.5"), "°C")
SPO2 = Range(50, 100, "%")

RANGES: dict[str, Range] = {
    "systolic": SYSTOLIC,
    "diastolic": DIASTOLIC,
    "pulse": PULSE,
    "temperature_c": TEMPERATURE,
    "spo2": SPO2,
}

MSG_VITAL = {
    "systolic": N_("Enter the systolic blood pressure, %(low)s to %(high)s mmHg."),
    "diastolic": N_("Enter the diastolic blood pressure, %(low)s to %(high)s mmHg."),
    "pulse": N_("Enter the pulse, %(low)s to %(high)s beats per minute."),
    "temperature_c": N_("Enter the temperature, %(low)s to %(high)s °C."),
    "spo2": N_("Enter the oxygen saturation (SpO2), %(low)s to %(high)s %%."),
}
MSG_DIASTOLIC_ABOVE = N_("The diastolic pressure must be below the systolic pressure.")
MSG_TEMPERATURE_PLACES = N_("Enter the temperature with at most one decimal, e.g. 36.6.")


@dataclass(frozen=True)
class Problem:
    """One refusal: ``field`` names the form field (None: the whole record)."""

    code: str
    #: English, wrapped in ``N_``; ``%(name)s`` filled from ``params``.
    message: str
    field: str | None = None
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def text(self, translate: Callable[[str], str] | None = None) -> str:
        message = translate(self.message) if translate else self.message
        return message % dict(self.params) if self.params else message


@dataclass(frozen=True)
class Vitals:
    systolic: int | None
    diastolic: int | None
    pulse: int | None
    temperature_c: Decimal | None
    spo2: int | None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def vital_problems(vitals: Vitals, *, suffix: str = "") -> list[Problem]:
    """Every vital sign missing or outside its range; ``suffix`` is added to
    the field names (``systolic_after`` for the vitals after observation)."""
    found: list[Problem] = []
    for name, limits in RANGES.items():
        value = getattr(vitals, name)
        where = name + suffix
        params = {"low": limits.low, "high": limits.high}
        if name == "temperature_c":
            if value is not None and not isinstance(value, Decimal):
                raise TypeError("the temperature is a Decimal, never a float")
            if value is None or not value.is_finite() or not limits.low <= value <= limits.high:
                found.append(Problem("vital_range", MSG_VITAL[name], where, params))
            elif value != value.quantize(Decimal("0.1")):
                found.append(Problem("vital_places", MSG_TEMPERATURE_PLACES, where))
            continue
        if value is not None and not _is_int(value):
            raise TypeError(f"{name} is an int")
        if value is None or not limits.low <= value <= limits.high:
            found.append(Problem("vital_range", MSG_VITAL[name], where, params))
    bad = {p.field for p in found}
    if (
        "systolic" + suffix not in bad
        and "diastolic" + suffix not in bad
        and vitals.diastolic >= vitals.systolic
    ):
        found.append(Problem("diastolic_above", MSG_DIASTOLIC_ABOVE, "diastolic" + suffix))
    return found


# ------------------------------------------------------------------ clearance

MSG_NO_GO_REASON = N_("Say why the patient is not cleared today.")


def clearance_problems(vitals: Vitals, *, go: bool, reason: str | None) -> list[Problem]:
    """The vital signs, and a reason for a no-go (a go may carry a note)."""
    found = vital_problems(vitals)
    if not go and not (reason or "").strip():
        found.append(Problem("reason_required", MSG_NO_GO_REASON, "reason"))
    return found


# ------------------------------------------------------------------ the administration guard

RELEASED = "released"
CONFIRMED = "confirmed"
ADMINISTERED = "administered"
ARRIVED = "arrived"
GO = "go"

MSG_NOT_RELEASED = N_("The batch is not released by QC (it is %(state)s).")
MSG_DOSE_GIVEN = N_("This dose has already been given.")
MSG_DOSE_NOT_CONFIRMED = N_("This dose's date has not been confirmed.")
MSG_EARLIER_DOSE = N_("An earlier dose of this batch has not been given yet.")
MSG_NOT_TODAY = N_("This visit is not today.")
MSG_NOT_ARRIVED = N_("The patient has not been checked in.")
MSG_NO_BEDSIDE = N_("No bedside identity check has been made today.")
MSG_BEDSIDE_MISMATCH = N_(
    "The last bedside identity check did not match: the cells must not be given."
)
MSG_NO_CLEARANCE = N_("No doctor has cleared the patient today.")
MSG_NO_GO = N_("The doctor did not clear the patient today.")
MSG_CLEARANCE_NOT_DOCTOR = N_("The clearance must be signed by a doctor.")

MSG_ROUTE = N_("The route must be the dose's planned route: %(route)s.")
MSG_CELLS = N_("Enter the cells given, a whole number above 0.")
MSG_OVER_CAP = N_(
    "%(cells)s cells is above the limit of %(limit)s cells per administration: "
    "write the doctor's reason for the larger dose."
)
MSG_START = N_("Enter when the administration started.")
MSG_END = N_("Enter when the administration ended, after the start.")
MSG_OBSERVED = N_(
    "The observation must last at least %(minutes)s minutes after the end of the administration."
)
MSG_OBSERVED_FUTURE = N_("The observation cannot end in the future.")


@dataclass(frozen=True)
class Check:
    """A clearance or bedside check as the guard needs it: its clinic-local day
    and result (``go`` / ``matched``), and for a clearance whether a doctor
    signed it."""

    day: date
    ok: bool
    by_doctor: bool = True


@dataclass(frozen=True)
class DayFacts:
    today: date
    visit_day: date
    appointment_status: str
    batch_state: str
    dose_status: str
    dose_route: str
    #: Doses of the same batch numbered before this one, neither given nor cancelled.
    earlier_doses_pending: int = 0
    #: The latest clearance and bedside check of this visit (None: none yet).
    clearance: Check | None = None
    bedside: Check | None = None


@dataclass(frozen=True)
class AdministrationEntry:
    route: str | None
    cells_given: int | None
    started_at: datetime | None
    ended_at: datetime | None
    observed_until: datetime | None
    vitals_after: Vitals
    over_cap_reason: str | None = None


def readiness(facts: DayFacts) -> list[Problem]:
    """What blocks the administration before anything is entered: release,
    check-in, a matching bedside check and a go today (empty: ready)."""
    found: list[Problem] = []
    if facts.batch_state != RELEASED:
        found.append(Problem("not_released", MSG_NOT_RELEASED, None, {"state": facts.batch_state}))
    if facts.dose_status == ADMINISTERED:
        found.append(Problem("dose_given", MSG_DOSE_GIVEN))
    elif facts.dose_status != CONFIRMED:
        found.append(Problem("dose_not_confirmed", MSG_DOSE_NOT_CONFIRMED))
    if facts.earlier_doses_pending:
        found.append(Problem("earlier_dose", MSG_EARLIER_DOSE))
    if facts.visit_day != facts.today:
        found.append(Problem("not_today", MSG_NOT_TODAY))
    elif facts.appointment_status != ARRIVED:
        found.append(Problem("not_arrived", MSG_NOT_ARRIVED))
    bedside = facts.bedside
    if bedside is None or bedside.day != facts.today:
        found.append(Problem("no_bedside", MSG_NO_BEDSIDE))
    elif not bedside.ok:
        found.append(Problem("bedside_mismatch", MSG_BEDSIDE_MISMATCH))
    clearance = facts.clearance
    if clearance is None or clearance.day != facts.today:
        found.append(Problem("no_clearance", MSG_NO_CLEARANCE))
    elif not clearance.by_doctor:
        found.append(Problem("clearance_not_doctor", MSG_CLEARANCE_NOT_DOCTOR))
    elif not clearance.ok:
        found.append(Problem("no_go", MSG_NO_GO))
    return found


def entry_problems(
    entry: AdministrationEntry,
    *,
    dose_route: str,
    route_label: str | None = None,
    now: datetime,
    observation_minutes: int,
    max_dose_cells: int,
) -> list[Problem]:
    """What is wrong with what the doctor entered (empty: nothing)."""
    found: list[Problem] = []
    if entry.route != dose_route:
        found.append(Problem("route", MSG_ROUTE, "route", {"route": route_label or dose_route}))
    cells = entry.cells_given
    if cells is not None and not _is_int(cells):
        raise TypeError("cells_given is an int")
    if cells is None or cells < 1:
        found.append(Problem("cells", MSG_CELLS, "cells_given"))
    elif cells > max_dose_cells and not (entry.over_cap_reason or "").strip():
        params = {"cells": cells, "limit": max_dose_cells}
        found.append(Problem("over_cap", MSG_OVER_CAP, "over_cap_reason", params))
    start, end, observed = entry.started_at, entry.ended_at, entry.observed_until
    for moment in (start, end, observed, now):
        if moment is not None and moment.tzinfo is None:
            raise ValueError("naive datetime")
    if start is None:
        found.append(Problem("start", MSG_START, "started_at"))
    if end is None or (start is not None and end <= start):
        found.append(Problem("end", MSG_END, "ended_at"))
    minutes = {"minutes": observation_minutes}
    if observed is None:
        found.append(Problem("observation", MSG_OBSERVED, "observed_until", minutes))
    elif observed > now:
        found.append(Problem("observation_future", MSG_OBSERVED_FUTURE, "observed_until"))
    elif end is not None and observed - end < timedelta(minutes=observation_minutes):
        found.append(Problem("observation", MSG_OBSERVED, "observed_until", minutes))
    found += vital_problems(entry.vitals_after, suffix="_after")
    return found


def administration_problems(
    facts: DayFacts,
    entry: AdministrationEntry,
    *,
    now: datetime,
    observation_minutes: int,
    max_dose_cells: int,
    route_label: str | None = None,
) -> list[Problem]:
    """Every reason the administration may not be recorded (empty: it may)."""
    return readiness(facts) + entry_problems(
        entry,
        dose_route=facts.dose_route,
        route_label=route_label,
        now=now,
        observation_minutes=observation_minutes,
        max_dose_cells=max_dose_cells,
    )
