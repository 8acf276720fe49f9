"""Weekday names for what staff choose and read (Python's numbering, 0 =
Monday). Pure: the names are English in ``N_``, translated where shown."""

from __future__ import annotations

from intake.core.text import N_

WEEKDAY_LABELS: tuple[str, ...] = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)
