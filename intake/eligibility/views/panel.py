"""Infectious panel results."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from intake.accounts.roles import Role
from intake.core import settings
from intake.core.access import role_required
from intake.core.errors import DomainError
from intake.core.web import show_domain_error
from intake.eligibility import queries, services
from intake.eligibility.forms import PanelResultForm
from intake.eligibility.models import ConsentKind
from intake.eligibility.views import bp
from intake.eligibility.views._common import (
    PANEL_EDITORS,
    STAFF_VIEWERS,
    _missing_texts,
    _patient_or_404,
    lang,
)
from intake.extensions import db

# --------------------------------------------------------------------------- panel results


def _result_form(panel_items, formdata=None) -> PanelResultForm:
    form = PanelResultForm(formdata=formdata)
    form.item_code.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(item.code, item.label(lang())) for item in panel_items
    ]
    return form


@bp.route("/panel/<int:patient_id>", methods=["GET", "POST"])
@role_required(Role.PATIENT, *STAFF_VIEWERS)
def panel(patient_id: int):
    patient = _patient_or_404(patient_id)
    can_edit = current_user.role in PANEL_EDITORS
    posted = request.method == "POST" and can_edit
    form = _result_form(queries.panel_items(), formdata=request.form if posted else None)
    if request.method == "POST":
        if not can_edit:
            abort(403)
        if form.validate():
            try:
                services.enter_panel_result(
                    patient,
                    actor=current_user,
                    item_code=form.item_code.data,
                    test_date=form.test_date.data,
                    result=form.result.data,
                    acceptable=services.ACCEPTABLE_VALUES.get(form.acceptable.data),
                    note=form.note.data,
                )
            except DomainError as exc:
                show_domain_error(form, exc)
            else:
                db.session.commit()
                flash(_("Result saved."), "success")
                return redirect(url_for("eligibility.panel", patient_id=patient.id))
    data = queries.panel_page(patient, today=services.clinic_today())
    return render_template(
        "eligibility/panel.html",
        patient=patient,
        form=form,
        can_edit=can_edit,
        **data,
        panel_missing=_missing_texts(data["gate"], prefix="panel_"),
        lang=lang(),
        validity_days=settings.get("panel_validity_days"),
        ConsentKind=ConsentKind,
    )
