"""Instants are UTC everywhere; people see the clinic's zone, named. Pure."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo


def to_clinic(instant: datetime, tz: ZoneInfo) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("naive datetime")
    return instant.astimezone(tz)


def local_to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def clinic_today(now: datetime, tz: ZoneInfo) -> date:
    return to_clinic(now, tz).date()


def age_on(born: date, on: date) -> int:
    """Completed years on ``on``. A 29 February birthday counts on 1 March."""
    years = on.year - born.year
    if (on.month, on.day) < (born.month, born.day):
        years -= 1
    return years
