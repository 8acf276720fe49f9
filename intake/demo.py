"""``flask seed-demo``: a living demo clinic, safe to run again and again.

Each domain seeds its own part (``<domain>/demo.py``); the demo accounts are
in ``intake.accounts.demo``, which the others import (no import circle)."""

from __future__ import annotations

from intake.accounts.demo import PATIENT_PASSWORD, seed_accounts
from intake.core import settings
from intake.core.models import Setting
from intake.cultures.demo import seed_cultures
from intake.eligibility.demo import seed_eligibility
from intake.extensions import db
from intake.reinfusion.demo import seed_reinfusion
from intake.scheduling.demo import seed_scheduling, seed_waitlist

__all__ = ["PATIENT_PASSWORD", "seed"]


def seed() -> list[str]:
    lines = []
    added = settings.seed_defaults()
    if added:
        lines.append(f"settings: {added} defaults stored")
        # So that every demo role can be tried without an authenticator app.
        # Only on the first seed: a manager who switches it on keeps it on.
        db.session.get(Setting, "staff_two_factor_required").value = "0"
        lines.append("settings: two-step login for staff is OFF in the demo (Settings > Security)")
    lines.extend(seed_accounts())
    lines.extend(seed_eligibility())
    lines.extend(seed_scheduling(password=PATIENT_PASSWORD))
    lines.extend(seed_cultures())
    lines.extend(seed_reinfusion())
    lines.extend(seed_waitlist())
    db.session.commit()
    lines.append("demo data ready" if lines else "demo data already present")
    return lines
