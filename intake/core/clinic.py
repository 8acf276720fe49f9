"""The clinic's time zone and today's date there (from the app's config)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from intake.core import time
from intake.core.types import utcnow


def clinic_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["CLINIC_TIMEZONE"])


def clinic_today(now: datetime | None = None) -> date:
    return time.clinic_today(now or utcnow(), clinic_tz())
