"""The clinic's set-up (managers): resources, visit types and closures."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from intake.accounts.roles import Role
from intake.core import settings
from intake.core.access import role_required
from intake.core.errors import DomainError
from intake.core.types import utcnow
from intake.core.web import show_domain_error
from intake.core.weekdays import WEEKDAY_LABELS
from intake.extensions import db
from intake.scheduling import clinic_setup, queries, waitlist_services
from intake.scheduling.forms import (
    ClosureForm,
    ConfirmForm,
    ResourceForm,
    VisitTypeForm,
    VisitTypeNewForm,
)
from intake.scheduling.models import (
    MODE_LABELS,
    RESOURCE_KIND_LABELS,
    Closure,
    Resource,
    ResourceKind,
    VisitMode,
    VisitType,
)
from intake.scheduling.views import bp
from intake.scheduling.views._common import _show_error
from intake.scheduling.visit_kinds import KIND_LABELS, VisitKind

# --------------------------------------------------------------------------- managers


def _resource_form_choices(form: ResourceForm, resource: Resource | None) -> None:
    resources = queries.resources_page()
    form.kind.choices = [SelectChoice(k.value, _(RESOURCE_KIND_LABELS[k])) for k in ResourceKind]
    pools = [
        r
        for r in resources
        if r.kind == ResourceKind.STAFF
        and r.pool_id is None
        and (resource is None or r.id != resource.id)
    ]
    form.pool_id.choices = [SelectChoice("", _("None (not a group member)"))] + [
        SelectChoice(str(r.id), r.label) for r in pools
    ]
    linked = {
        r.user_id for r in resources if r.user_id and (resource is None or r.id != resource.id)
    }
    form.user_id.choices = [SelectChoice("", _("None"))] + [
        SelectChoice(str(u.id), f"{u.full_name} ({u.email})")
        for u in queries.staff_users()
        if u.id not in linked
    ]


def _int_or_none(text) -> int | None:
    return int(text) if text not in (None, "") and str(text).isdigit() else None


def _save_resource_from(form: ResourceForm, resource: Resource | None) -> Resource:
    return clinic_setup.save_resource(
        resource,
        actor=current_user,
        code=form.code.data,
        kind=form.kind.data,
        names={"en": form.name_en.data, "zh_Hans": form.name_zh.data, "ja": form.name_ja.data},
        capacity=form.capacity.data,
        is_per_day=form.is_per_day.data,
        pool_id=_int_or_none(form.pool_id.data),
        user_id=_int_or_none(form.user_id.data),
        working_weekdays=form.working_weekdays.data or None,
        is_active=form.is_active.data,
    )


@bp.get("/scheduling/resources")
@role_required(Role.MANAGER)
def resources():
    rows = queries.resources_page()
    values = settings.values()
    return render_template(
        "scheduling/resources.html",
        rows=rows,
        capacity={r.id: queries.capacity_of(r, values) for r in rows},
        members={r.id: [m for m in rows if m.pool_id == r.id] for r in rows},
        kind_labels=RESOURCE_KIND_LABELS,
        weekday_labels=WEEKDAY_LABELS,
    )


@bp.route("/scheduling/resources/new", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def resource_new():
    form = ResourceForm()
    _resource_form_choices(form, None)
    if form.validate_on_submit():
        try:
            resource = _save_resource_from(form, None)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("Added %(name)s.", name=resource.label), "success")
            return redirect(url_for("scheduling.resources"))
    return render_template("scheduling/resource_new.html", form=form)


@bp.route("/scheduling/resources/<int:resource_id>", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def resource_edit(resource_id: int):
    resource = db.get_or_404(Resource, resource_id)
    form = ResourceForm()
    _resource_form_choices(form, resource)
    del form.code, form.kind, form.is_per_day
    if request.method == "GET":
        names = resource.names or {}
        form.name_en.data = names.get("en", "")
        form.name_zh.data = names.get("zh_Hans", "")
        form.name_ja.data = names.get("ja", "")
        form.capacity.data = (
            settings.get(resource.capacity_setting)
            if resource.capacity_setting
            else resource.capacity
        )
        form.pool_id.data = str(resource.pool_id or "")
        form.user_id.data = str(resource.user_id or "")
        form.working_weekdays.data = sorted(resource.weekdays or range(7))
        form.is_active.data = resource.is_active
    if form.validate_on_submit():
        try:
            clinic_setup.save_resource(
                resource,
                actor=current_user,
                names={
                    "en": form.name_en.data,
                    "zh_Hans": form.name_zh.data,
                    "ja": form.name_ja.data,
                },
                capacity=form.capacity.data,
                pool_id=_int_or_none(form.pool_id.data),
                user_id=_int_or_none(form.user_id.data),
                working_weekdays=form.working_weekdays.data or None,
                is_active=form.is_active.data,
            )
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            waitlist_services.offer_after_commit()  # more places may be free now
            flash(_("Saved."), "success")
            return redirect(url_for("scheduling.resources"))
    return render_template(
        "scheduling/resource_edit.html",
        form=form,
        resource=resource,
        kind_labels=RESOURCE_KIND_LABELS,
    )


@bp.get("/scheduling/visit-types")
@role_required(Role.MANAGER)
def visit_types():
    rows = queries.visit_types_page()
    values = settings.values()
    return render_template(
        "scheduling/visit_types.html",
        rows=rows,
        durations={vt.id: queries.duration_of(vt, values) for vt in rows},
        mode_labels=MODE_LABELS,
        kind_labels=KIND_LABELS,
        culture_max_days=values["culture_max_days"],
    )


def _visit_type_form_choices(form: VisitTypeForm) -> None:
    all_resources = queries.resources_page()
    unit_choices = [SelectChoice("", "—")] + [
        SelectChoice(str(r.id), f"{r.label} ({r.code})") for r in all_resources if not r.is_per_day
    ]
    day_choices = [SelectChoice("", _("Nothing"))] + [
        SelectChoice(str(r.id), f"{r.label} ({r.code})") for r in all_resources if r.is_per_day
    ]
    form.modes.choices = [SelectChoice(m.value, _(MODE_LABELS[m])) for m in VisitMode]
    form.day_block_resource_id.choices = day_choices
    for entry in form.segments:
        entry.form.resource_id.choices = unit_choices


def _segments_from(form: VisitTypeForm) -> list[clinic_setup.SegmentInput]:
    return [
        clinic_setup.SegmentInput(
            resource_id=int(entry.form.resource_id.data),
            offset_minutes=entry.form.offset_minutes.data or 0,
            duration_minutes=entry.form.duration_minutes.data or None,
            quantity=entry.form.quantity.data or 1,
        )
        for entry in form.segments
        if entry.form.resource_id.data and not entry.form.remove.data
    ]


def _names_from(form: VisitTypeForm) -> dict:
    return {"en": form.name_en.data, "zh_Hans": form.name_zh.data, "ja": form.name_ja.data}


BLANK_SEGMENT = {"resource_id": "", "offset_minutes": 0, "duration_minutes": None, "quantity": 1}


@bp.route("/scheduling/visit-types/new", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def visit_type_new():
    if request.method == "GET":
        form = VisitTypeNewForm(
            data={"is_desk_bookable": True, "is_active": True, "segments": [BLANK_SEGMENT] * 3}
        )
    else:
        form = VisitTypeNewForm()
    form.kind.choices = [SelectChoice(k.value, _(KIND_LABELS[k])) for k in VisitKind]
    _visit_type_form_choices(form)
    if form.validate_on_submit():
        try:
            vt = clinic_setup.create_visit_type(
                actor=current_user,
                code=form.code.data,
                kind=form.kind.data,
                names=_names_from(form),
                duration_minutes=form.duration_minutes.data,
                modes=form.modes.data,
                is_patient_bookable=form.is_patient_bookable.data,
                is_desk_bookable=form.is_desk_bookable.data,
                is_active=form.is_active.data,
                segments=_segments_from(form),
                day_block_resource_id=_int_or_none(form.day_block_resource_id.data),
                day_block_quantity=form.day_block_quantity.data or 1,
            )
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("Added %(name)s.", name=vt.label), "success")
            return redirect(url_for("scheduling.visit_types"))
    return render_template(
        "scheduling/visit_type_new.html",
        form=form,
        culture_max_days=settings.get("culture_max_days"),
    )


@bp.route("/scheduling/visit-types/<int:visit_type_id>", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def visit_type_edit(visit_type_id: int):
    vt = db.get_or_404(VisitType, visit_type_id)
    if request.method == "GET":
        data = {
            "name_en": vt.names.get("en", ""),
            "name_zh": vt.names.get("zh_Hans", ""),
            "name_ja": vt.names.get("ja", ""),
            "duration_minutes": queries.duration_of(vt, settings.values()),
            "modes": list(vt.modes or []),
            "is_patient_bookable": vt.is_patient_bookable,
            "is_desk_bookable": vt.is_desk_bookable,
            "is_active": vt.is_active,
            "segments": [
                {
                    "resource_id": str(s.resource_id),
                    "offset_minutes": s.offset_minutes,
                    "duration_minutes": s.duration_minutes,
                    "quantity": s.quantity,
                }
                for s in vt.segments
            ]
            + [BLANK_SEGMENT],
            "day_block_resource_id": str(vt.day_block_resource_id or ""),
            "day_block_quantity": vt.day_block_quantity,
        }
        form = VisitTypeForm(data=data)
    else:
        form = VisitTypeForm()
    _visit_type_form_choices(form)
    if form.validate_on_submit():
        try:
            clinic_setup.update_visit_type(
                vt,
                actor=current_user,
                names=_names_from(form),
                duration_minutes=form.duration_minutes.data,
                modes=form.modes.data,
                is_patient_bookable=form.is_patient_bookable.data,
                is_desk_bookable=form.is_desk_bookable.data,
                is_active=form.is_active.data,
                segments=_segments_from(form),
                day_block_resource_id=_int_or_none(form.day_block_resource_id.data),
                day_block_quantity=form.day_block_quantity.data or 1,
            )
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("Saved. New bookings use these settings."), "success")
            return redirect(url_for("scheduling.visit_types"))
    return render_template(
        "scheduling/visit_type_edit.html",
        form=form,
        vt=vt,
        kind_labels=KIND_LABELS,
        culture_max_days=settings.get("culture_max_days"),
    )


@bp.route("/scheduling/closures", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def closures():
    form = ClosureForm()
    cal = queries.clinic_calendar()
    if form.validate_on_submit():
        try:
            start_at, end_at = clinic_setup.closure_span(
                form.first_date.data,
                form.last_date.data,
                form.from_time.data,
                form.to_time.data,
                cal,
            )
            closure, affected = clinic_setup.add_closure(
                actor=current_user, start_at=start_at, end_at=end_at, reason=form.reason.data
            )
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("Closure added: %(reason)s.", reason=closure.reason), "success")
            if affected:
                flash(
                    _(
                        "%(n)s booked visit(s) fall inside this closure. Move or cancel them "
                        "on the day list.",
                        n=len(affected),
                    ),
                    "warning",
                )
            return redirect(url_for("scheduling.closures"))
    return render_template(
        "scheduling/closures.html",
        form=form,
        cal=cal,
        **queries.closures_page(utcnow()),
    )


@bp.post("/scheduling/closures/<int:closure_id>/remove")
@role_required(Role.MANAGER)
def closure_remove(closure_id: int):
    closure = db.get_or_404(Closure, closure_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        clinic_setup.remove_closure(closure, actor=current_user)
    except DomainError as exc:
        _show_error(exc)
    else:
        db.session.commit()
        waitlist_services.offer_after_commit()
        flash(_("Closure removed: the clinic is open again at that time."), "success")
    return redirect(url_for("scheduling.closures"))
