"""The clinic's adjustable defaults (DOMAIN.md), as data. Pure.

Every number the clinic lives by is one of these; code reads them through
``intake.core.settings.get`` and never hard-codes them. A manager edits them
on the settings page; ``parse`` validates what they type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from decimal import Decimal, InvalidOperation

from intake.core.text import N_

INT, DECIMAL, BOOL, TIME, TEXT, INT_LIST, WEEKDAYS, SITE_CODE = (
    "int",
    "decimal",
    "bool",
    "time",
    "text",
    "int_list",
    "weekdays",
    "site_code",
)


@dataclass(frozen=True)
class SettingDef:
    key: str
    group: str
    kind: str
    default: str
    label: str
    minimum: int | None = None
    maximum: int | None = None


GROUPS = {
    "eligibility": N_("Eligibility"),
    "panel": N_("Infectious panel"),
    "calendar": N_("Clinic calendar"),
    "capacity": N_("Capacity"),
    "culture": N_("Culture and release"),
    "reinfusion": N_("Reinfusion"),
    "safety": N_("Safety reporting"),
    "records": N_("Records"),
    "security": N_("Security"),
}

DEFINITIONS: tuple[SettingDef, ...] = (
    SettingDef("age_min", "eligibility", INT, "20", N_("Minimum age (years)"), 0, 120),
    SettingDef("age_max", "eligibility", INT, "80", N_("Maximum age (years)"), 0, 120),
    SettingDef(
        "malignancy_exclusion_years",
        "eligibility",
        INT,
        "5",
        N_("Cancer treated or active within (years) excludes"),
        0,
        50,
    ),
    SettingDef(
        "recent_cardiac_event_months",
        "eligibility",
        INT,
        "6",
        N_("Heart attack or stroke within (months) needs doctor review"),
        0,
        120,
    ),
    SettingDef(
        "panel_validity_days", "panel", INT, "90", N_("Panel result valid for (days)"), 1, 730
    ),
    SettingDef("open_weekdays", "calendar", WEEKDAYS, "0,1,2,3,4,5", N_("Open weekdays")),
    SettingDef("open_time", "calendar", TIME, "09:00", N_("Opening time")),
    SettingDef("close_time", "calendar", TIME, "18:00", N_("Closing time")),
    SettingDef("break_start", "calendar", TIME, "12:00", N_("Lunch break starts")),
    SettingDef("break_end", "calendar", TIME, "13:00", N_("Lunch break ends")),
    SettingDef(
        "closed_on_public_holidays", "calendar", BOOL, "1", N_("Closed on Japanese public holidays")
    ),
    SettingDef("slot_minutes", "calendar", INT, "15", N_("Booking unit (minutes)"), 5, 120),
    SettingDef(
        "min_notice_hours", "calendar", INT, "48", N_("Minimum notice for patients (hours)"), 0, 720
    ),
    SettingDef("horizon_days", "calendar", INT, "120", N_("Booking horizon (days)"), 1, 730),
    SettingDef(
        "waitlist_offer_hours",
        "calendar",
        INT,
        "24",
        N_("Waitlist: time to accept a freed day (hours)"),
        1,
        336,
    ),
    SettingDef(
        "consultation_minutes", "calendar", INT, "45", N_("Consultation length (minutes)"), 15, 240
    ),
    SettingDef(
        "collection_minutes",
        "calendar",
        INT,
        "60",
        N_("Collection visit length (minutes)"),
        15,
        240,
    ),
    SettingDef("incubator_places", "capacity", INT, "40", N_("Incubator places"), 0, 10000),
    SettingDef("infusion_chairs", "capacity", INT, "4", N_("Infusion chairs"), 0, 100),
    SettingDef("culture_min_days", "culture", INT, "28", N_("Culture window starts (day)"), 1, 365),
    SettingDef("culture_max_days", "culture", INT, "42", N_("Culture window ends (day)"), 1, 365),
    SettingDef(
        "endotoxin_max_eu_per_ml", "culture", DECIMAL, "0.5", N_("Endotoxin limit (EU/mL, below)")
    ),
    SettingDef(
        "viability_min_percent", "culture", INT, "70", N_("Minimum viability (per cent)"), 0, 100
    ),
    SettingDef(
        "max_dose_cells",
        "culture",
        INT,
        "200000000",
        N_("Maximum cells per administration"),
        1,
        None,
    ),
    SettingDef(
        "planned_dose_min_cells",
        "culture",
        INT,
        "100000000",
        N_("Planned dose: fewest cells per administration"),
        1,
        None,
    ),
    SettingDef(
        "coi_site_code",
        "culture",
        SITE_CODE,
        "TKY",
        N_("Site code of chain-of-identity numbers (2 to 5 capital letters)"),
    ),
    SettingDef(
        "reinfusion_lock_min_days",
        "reinfusion",
        INT,
        "14",
        N_("Reinfusion date fixed at least (days ahead)"),
        0,
        120,
    ),
    SettingDef(
        "observation_minutes",
        "reinfusion",
        INT,
        "30",
        N_("Observation after administration (minutes)"),
        0,
        240,
    ),
    SettingDef(
        "follow_up_days",
        "reinfusion",
        INT_LIST,
        "7,30,90,180",
        N_("Follow-up contacts (days after)"),
    ),
    SettingDef(
        "ae_report_days_fatal",
        "safety",
        INT,
        "7",
        N_("Death or life-threatening event: report within (days)"),
        1,
        90,
    ),
    SettingDef(
        "ae_report_days_serious",
        "safety",
        INT,
        "15",
        N_("Other serious event: report within (days)"),
        1,
        90,
    ),
    SettingDef(
        "retention_years", "records", INT, "10", N_("Keep records at least (years)"), 10, 100
    ),
    SettingDef("password_min_length", "security", INT, "8", N_("Minimum password length"), 8, 128),
    SettingDef(
        "staff_two_factor_required",
        "security",
        BOOL,
        "1",
        N_("Staff log in with a second factor (authenticator app code)"),
    ),
)

BY_KEY = {d.key: d for d in DEFINITIONS}

_TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_SITE_CODE_RE = re.compile(r"[A-Z]{2,5}", re.ASCII)


class SettingValueError(ValueError):
    def __init__(self, message: str, **params):
        super().__init__(message)
        self.message = message
        self.params = params


def parse(definition: SettingDef, raw: str):
    """Turn the stored/typed text into a value, or raise SettingValueError."""
    text = (raw or "").strip()
    kind = definition.kind
    if kind == INT:
        if not re.fullmatch(r"-?\d+", text):
            raise SettingValueError(N_("Enter a whole number."))
        value = int(text)
        if definition.minimum is not None and value < definition.minimum:
            raise SettingValueError(N_("Must be at least %(n)s."), n=definition.minimum)
        if definition.maximum is not None and value > definition.maximum:
            raise SettingValueError(N_("Must be at most %(n)s."), n=definition.maximum)
        return value
    if kind == DECIMAL:
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise SettingValueError(N_("Enter a number, e.g. 0.5.")) from None
        if not value.is_finite() or value < 0:
            raise SettingValueError(N_("Enter a number, e.g. 0.5."))
        return value
    if kind == BOOL:
        if text not in ("0", "1"):
            raise SettingValueError(N_("Choose yes or no."))
        return text == "1"
    if kind == TIME:
        match = _TIME_RE.match(text)
        if not match:
            raise SettingValueError(N_("Enter a time as HH:MM, e.g. 09:00."))
        return time(int(match.group(1)), int(match.group(2)))
    if kind in (INT_LIST, WEEKDAYS):
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if kind == WEEKDAYS and not parts:
            raise SettingValueError(N_("Choose at least one weekday."))
        if not parts or not all(re.fullmatch(r"\d+", p) for p in parts):
            raise SettingValueError(N_("Enter whole numbers separated by commas."))
        values = sorted({int(p) for p in parts})
        if kind == WEEKDAYS and values[-1] > 6:
            raise SettingValueError(N_("Weekdays are 0 (Monday) to 6 (Sunday)."))
        return tuple(values)
    if kind == SITE_CODE:
        if not _SITE_CODE_RE.fullmatch(text):
            raise SettingValueError(N_("Enter 2 to 5 capital letters A to Z, e.g. TKY."))
        return text
    return text


# Rules between settings, one row each: (key the message sits next to, holds
# when the values are consistent, message). Checked in order; a key shows its
# first problem.
ORDER_RULES: tuple[tuple[str, object, str], ...] = (
    ("age_max", lambda v: v["age_min"] <= v["age_max"], N_("Must not be below the minimum age.")),
    (
        "close_time",
        lambda v: v["open_time"] < v["close_time"],
        N_("Must be after the opening time."),
    ),
    (
        "break_start",
        lambda v: v["open_time"] < v["break_start"] < v["close_time"],
        N_("The break must lie between opening and closing time."),
    ),
    (
        "break_end",
        lambda v: v["open_time"] < v["break_end"] < v["close_time"],
        N_("The break must lie between opening and closing time."),
    ),
    (
        "break_end",
        lambda v: v["break_start"] <= v["break_end"],
        N_("The break must not end before it starts."),
    ),
    (
        "culture_max_days",
        lambda v: v["culture_min_days"] <= v["culture_max_days"],
        N_("Must not be before the window start."),
    ),
    (
        "planned_dose_min_cells",
        lambda v: v["planned_dose_min_cells"] <= v["max_dose_cells"],
        N_("Must not be above the maximum cells per administration."),
    ),
)

# Bookings hold whole units counted from the opening time.
ON_BOOKING_UNIT = ("open_time", "break_start", "break_end", "close_time")


def cross_check(values: dict) -> list[tuple[str, str, int | None]]:
    """Rules between settings: (key, message, %(n)s parameter) for each
    problem, at most one per key."""
    problems: dict[str, tuple[str, str, int | None]] = {}
    for key, holds, message in ORDER_RULES:
        if key not in problems and not holds(values):
            problems[key] = (key, message, None)
    unit = values["slot_minutes"]
    for key in ON_BOOKING_UNIT:
        t = values[key]
        if key not in problems and (t.hour * 60 + t.minute) % unit:
            problems[key] = (key, N_("Must fall on the booking unit (every %(n)s minutes)."), unit)
    return list(problems.values())


def defaults() -> dict:
    return {d.key: parse(d, d.default) for d in DEFINITIONS}
