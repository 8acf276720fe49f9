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
from intake.eligibility.forms import (
    PanelItemForm,
    PanelItemMoveForm,
    PanelResultForm,
    acceptable_choices,
)
from intake.eligibility.models import ConsentKind, PanelItemDefinition
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
    if current_user.role != Role.DOCTOR:
        # Only a doctor judges a result: the coordinator records it as waiting.
        form.acceptable.choices = [c for c in acceptable_choices() if c.value == "pending"]
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


# --------------------------------------------------------------------------- the panel's tests

PANEL_ITEM_EDITORS = (Role.DOCTOR, Role.MANAGER)


def _panel_item_names(form: PanelItemForm) -> dict[str, str]:
    return {"en": form.name_en.data, "zh_Hans": form.name_zh_Hans.data, "ja": form.name_ja.data}


@bp.route("/panel-items", methods=["GET", "POST"])
@role_required(*PANEL_ITEM_EDITORS)
def panel_items():
    form = PanelItemForm(formdata=request.form if request.method == "POST" else None)
    items = queries.all_panel_items()
    if request.method == "GET":
        form.sort_order.data = max((i.sort_order for i in items), default=0) + 10
    if request.method == "POST" and form.validate():
        try:
            item = services.create_panel_item(
                actor=current_user,
                code=form.code.data,
                names=_panel_item_names(form),
                sort_order=form.sort_order.data,
            )
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("Test added to the panel: %(name)s.", name=item.label(lang())), "success")
            return redirect(url_for("eligibility.panel_items"))
    return render_template(
        "eligibility/panel_items.html",
        items=items,
        form=form,
        lang=lang(),
        validity_days=settings.get("panel_validity_days"),
    )


@bp.route("/panel-items/<int:item_id>", methods=["GET", "POST"])
@role_required(*PANEL_ITEM_EDITORS)
def panel_item_edit(item_id: int):
    item = db.get_or_404(PanelItemDefinition, item_id)
    form = PanelItemForm(formdata=request.form if request.method == "POST" else None)
    del form.code
    if request.method == "GET":
        form.name_en.data = item.names.get("en", "")
        form.name_zh_Hans.data = item.names.get("zh_Hans", "")
        form.name_ja.data = item.names.get("ja", "")
        form.sort_order.data = item.sort_order
        form.is_active.data = item.is_active
    if request.method == "POST" and form.validate():
        try:
            services.update_panel_item(
                item,
                actor=current_user,
                names=_panel_item_names(form),
                sort_order=form.sort_order.data,
                is_active=form.is_active.data,
            )
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("eligibility.panel_items"))
    return render_template("eligibility/panel_item_edit.html", item=item, form=form, lang=lang())


@bp.post("/panel-items/<int:item_id>/move")
@role_required(*PANEL_ITEM_EDITORS)
def panel_item_move(item_id: int):
    item = db.get_or_404(PanelItemDefinition, item_id)
    form = PanelItemMoveForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.move_panel_item(item, actor=current_user, direction=form.direction.data)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
    return redirect(url_for("eligibility.panel_items"))
