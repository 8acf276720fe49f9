"""Reading and changing the clinic's settings (one query per request)."""

from __future__ import annotations

from flask import g
from flask_babel import gettext as _
from sqlalchemy import select

from intake.core import audit
from intake.core.errors import DomainError
from intake.core.models import Setting
from intake.core.settings_schema import BY_KEY, DEFINITIONS, SettingValueError, cross_check, parse
from intake.extensions import db

# Domains register checks that depend on their own data, e.g. scheduling
# refuses a new booking unit while visits are booked on the current grid.
# A guard gets (current values, new values) and returns {key: message}.
_change_guards: list = []


def change_guard(fn):
    _change_guards.append(fn)
    return fn


def raw_values() -> dict[str, str]:
    stored = dict(db.session.execute(select(Setting.key, Setting.value)).all())
    return {d.key: stored.get(d.key, d.default) for d in DEFINITIONS}


def values() -> dict:
    cached = g.get("_clinic_settings")
    if cached is None:
        cached = {
            d.key: parse(d, raw) for d, raw in zip(DEFINITIONS, raw_values().values(), strict=True)
        }
        g._clinic_settings = cached
    return cached


def get(key: str):
    return values()[key]


def seed_defaults() -> int:
    """Insert a row for every setting that has none. Returns how many."""
    existing = set(db.session.execute(select(Setting.key)).scalars())
    added = 0
    for d in DEFINITIONS:
        if d.key not in existing:
            db.session.add(Setting(key=d.key, value=d.default))
            added += 1
    return added


class SettingsInvalid(DomainError):
    def __init__(self, errors: dict[str, str]):
        super().__init__(_("Please correct the highlighted settings."))
        self.errors = errors


def update_settings(raw: dict[str, str], *, actor) -> list[str]:
    """Validate every submitted value, then save the changed ones with an
    audit row each. Nothing is saved when any value is wrong."""
    errors: dict[str, str] = {}
    parsed = {}
    current = raw_values()
    for d in DEFINITIONS:
        text = raw.get(d.key, current[d.key])
        try:
            parsed[d.key] = parse(d, text)
        except SettingValueError as exc:
            errors[d.key] = _(exc.message, **exc.params)
    if not errors:
        for key, message, n in cross_check(parsed):
            errors[key] = _(message, n=n)
    if not errors:
        for guard in _change_guards:
            errors.update(guard(values(), parsed))
    if errors:
        raise SettingsInvalid(errors)
    stored = {s.key: s for s in db.session.execute(select(Setting)).scalars()}
    changed = []
    for d in DEFINITIONS:
        new_text = raw.get(d.key, current[d.key]).strip()
        if new_text == current[d.key]:
            continue
        row = stored.get(d.key) or Setting(key=d.key, value=d.default)
        before = row.value
        row.value = new_text
        row.updated_by_id = actor.id
        db.session.add(row)
        audit.record(
            actor=actor,
            action="settings.change",
            entity=_SettingRef(d.key),
            before={"value": before},
            after={"value": new_text},
        )
        changed.append(d.key)
    g.pop("_clinic_settings", None)
    return changed


class _SettingRef:
    """Lets the audit trail name a setting by its key."""

    __tablename__ = "settings"

    def __init__(self, key: str):
        self.id = key


__all__ = ["BY_KEY", "get", "values", "update_settings", "seed_defaults", "SettingsInvalid"]
