"""The manager's overview, clinic settings and the audit trail; the lab's reference page."""

from __future__ import annotations

import json
import re
from datetime import date, datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from intake.accounts.roles import Role
from intake.core import settings
from intake.core.access import (
    ACCOUNT_ENTITIES,
    ACCOUNT_EVENTS,
    ACCOUNT_VALUES,
    can_view_clinical_audit,
    role_required,
)
from intake.core.audit_labels import ACTION_LABELS, ENTITY_LABELS, entity_label
from intake.core.settings_schema import BY_KEY, DEFINITIONS, GROUPS, WEEKDAYS
from intake.core.web import MAX_PAGE, query_int, query_text
from intake.core.weekdays import WEEKDAY_LABELS
from intake.eligibility.rules import rule_title
from intake.extensions import db
from intake.manager import queries
from intake.scheduling import waitlist_services
from intake.templating import fmt_date, fmt_datetime

bp = Blueprint("manager", __name__)


@bp.get("/manager")
@role_required(Role.MANAGER)
def home():
    return render_template("manager/home.html", **queries.overview())


@bp.route("/manager/settings", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def settings_page():
    errors: dict[str, str] = {}
    submitted = None
    if request.method == "POST":
        submitted = {d.key: _submitted(d) for d in DEFINITIONS}
        try:
            changed = settings.update_settings(submitted, actor=current_user)
        except settings.SettingsInvalid as exc:
            db.session.rollback()
            errors = exc.errors
            flash(exc.message, "danger")
        else:
            db.session.commit()
            if changed:  # more incubator places, a longer horizon …: days may be free
                waitlist_services.offer_after_commit()
            flash(
                _("Saved %(n)s change(s).", n=len(changed)) if changed else _("Nothing changed."),
                "success",
            )
            return redirect(url_for("manager.settings_page"))
    shown = submitted or settings.raw_values()
    return render_template(
        "manager/settings.html",
        definitions=DEFINITIONS,
        groups=GROUPS,
        shown=shown,
        errors=errors,
        weekday_labels=WEEKDAY_LABELS,
        weekday_names=_weekday_names,
    )


def _submitted(definition) -> str:
    """The typed text; weekdays come as one ticked checkbox each."""
    if definition.kind == WEEKDAYS:
        ticked = (v.strip() for v in request.form.getlist(definition.key))
        return ",".join(v for v in ticked if v)[:500]
    return request.form.get(definition.key, "")[:500]


def _weekday_names(text: str) -> str:
    days = [p.strip() for p in (text or "").split(",")]
    return ", ".join(_(WEEKDAY_LABELS[int(d)]) for d in days if re.fullmatch(r"[0-6]", d))


@bp.get("/audit")
@role_required(Role.MANAGER, Role.ADMIN)
def audit_log():
    filters = {
        "patient_id": query_int("patient_id"),
        "actor_id": query_int("actor_id"),
        "entity_type": query_text("entity_type"),
        "entity_id": query_text("entity_id"),
        "action": query_text("action"),
    }
    clinical = can_view_clinical_audit(current_user)
    page = queries.audit_page(
        **filters,
        page=query_int("page", maximum=MAX_PAGE, default=1),
        only_actions=None if clinical else ACCOUNT_EVENTS,
    )
    people = queries.people_named(
        [e.actor_id for e in page.items] + [e.patient_id for e in page.items]
    )
    actions, entities = ACTION_LABELS, ENTITY_LABELS
    if not clinical:
        actions = {k: v for k, v in actions.items() if k.startswith(ACCOUNT_EVENTS)}
        entities = {k: v for k, v in entities.items() if k in ACCOUNT_ENTITIES}
    return render_template(
        "manager/audit_log.html",
        page=page,
        filters=filters,
        people=people,
        action_choices=_choices(actions, filters["action"]),
        entity_choices=_choices(entities, filters["entity_type"]),
        record_label=_record_label,
        show_value=_show_value,
        shown_values=_all_values if clinical else _account_values,
    )


def _all_values(entry, data):
    return data


def _account_values(entry, data):
    """What the administrator reads of an account entry: what the account
    pages show (no date of birth)."""
    if not data or entry.entity_type != "users":
        return data
    return {key: value for key, value in data.items() if key in ACCOUNT_VALUES}


def _choices(labels: dict[str, str], current: str | None) -> list[tuple[str, str]]:
    """(code, name) sorted by the name in the reader's language; a filter typed
    into the address that is not in the list stays selectable."""
    choices = sorted(((code, _(label)) for code, label in labels.items()), key=lambda c: c[1])
    if current and current not in labels:
        choices.insert(0, (current, current))
    return choices


def _record_label(entry) -> str:
    if entry.entity_type == "settings" and entry.entity_id in BY_KEY:
        return f"{_(entity_label('settings'))}: {_(BY_KEY[entry.entity_id].label)}"
    return f"{_(entity_label(entry.entity_type))} #{entry.entity_id}"


_ISO_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_WEEKDAY_KEYS = {"working_weekdays", "open_weekdays"}


def _show_value(entry, key: str, value) -> str:
    """One before/after value in words: times in the clinic's zone without
    seconds, rule names instead of codes, weekday names instead of digits."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if key == "reasons" and isinstance(value, list):
        return ", ".join(_(rule_title(str(code))) for code in value)
    weekdays = key in _WEEKDAY_KEYS or (
        entry.entity_type == "settings" and entry.entity_id in _WEEKDAY_KEYS
    )
    if weekdays and isinstance(value, str) and re.fullmatch(r"[0-6](,[0-6])*", value):
        return ", ".join(_(WEEKDAY_LABELS[int(d)]) for d in value.split(","))
    if isinstance(value, str):
        try:
            if _ISO_INSTANT.match(value):
                return fmt_datetime(datetime.fromisoformat(value))
            if _ISO_DAY.fullmatch(value):
                return fmt_date(date.fromisoformat(value))
        except ValueError:
            pass
        return value
    return json.dumps(value, ensure_ascii=False)


# The schedule's routes, on this blueprint.
from intake.manager import schedule_views  # noqa: E402

schedule_views.register(bp)
