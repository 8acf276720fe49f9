"""The manager's overview, clinic settings and the audit trail; the lab's reference page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from intake.accounts.roles import Role
from intake.core import settings
from intake.core.access import role_required
from intake.core.settings_schema import DEFINITIONS, GROUPS
from intake.core.web import MAX_PAGE, query_int, query_text
from intake.extensions import db
from intake.manager import queries

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
        submitted = {d.key: request.form.get(d.key, "")[:500] for d in DEFINITIONS}
        try:
            changed = settings.update_settings(submitted, actor=current_user)
        except settings.SettingsInvalid as exc:
            db.session.rollback()
            errors = exc.errors
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash(
                _("Saved %(n)s change(s).", n=len(changed)) if changed else _("Nothing changed."),
                "success",
            )
            return redirect(url_for("manager.settings_page"))
    shown = submitted or settings.raw_values()
    return render_template(
        "manager/settings.html", definitions=DEFINITIONS, groups=GROUPS, shown=shown, errors=errors
    )


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
    page = queries.audit_page(**filters, page=query_int("page", maximum=MAX_PAGE, default=1))
    people = queries.people_named(
        [e.actor_id for e in page.items] + [e.patient_id for e in page.items]
    )
    return render_template("manager/audit_log.html", page=page, filters=filters, people=people)


@bp.get("/lab")
@role_required(Role.LAB, Role.MANAGER)
def lab_home():
    return render_template("manager/lab_home.html", values=settings.values())
