"""The reinfusion day over HTTP: today's reinfusion visits, one visit's
checklist (check-in, clearance, bedside identity check, administration) and a
batch's dose plan.

Doctors clear, administer and plan; a doctor or a nurse (coordinator) checks
the identity at the bedside; coordinators and managers read. Each handler:
load → check access → validate the form → one service call → commit →
redirect; on ``DomainError``: roll back and show the message beside its field.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from intake.accounts.roles import CLINICAL_ROLES, Role
from intake.core import parsing, settings
from intake.core.access import require, role_required
from intake.core.errors import DomainError, FormErrors, NotAllowed
from intake.core.types import utcnow
from intake.core.web import show_domain_error
from intake.cultures.lifecycle import STATE_LABELS
from intake.cultures.models import Batch
from intake.eligibility.question_bank import ROUTES
from intake.extensions import db
from intake.reinfusion import day, doses
from intake.reinfusion import day_services as services
from intake.reinfusion.day_forms import AdministrationForm, BedsideForm, ClearanceForm, DosePlanForm
from intake.reinfusion.models import (
    DECISION_LABELS,
    DOSE_SOURCE_LABELS,
    DOSE_STATUS_LABELS,
    Administration,
    Dose,
    DoseStatus,
)
from intake.scheduling import queries as scheduling_queries
from intake.scheduling.models import STATUS_LABELS, Appointment, AppointmentStatus
from intake.scheduling.visit_kinds import is_reinfusion

bp = Blueprint("reinfusion_day", __name__, url_prefix="/reinfusion")


def _cal():
    return scheduling_queries.clinic_calendar()


# --------------------------------------------------------------------------- today


@bp.get("/today")
@role_required(*CLINICAL_ROLES)
def today():
    now = utcnow()
    return render_template(
        "reinfusion/day/today.html",
        rows=services.todays_visits(now),
        day=_cal().today(now),
        status_labels=STATUS_LABELS,
        dose_status_labels=DOSE_STATUS_LABELS,
        route_label=services.route_label,
    )


# --------------------------------------------------------------------------- one visit


def _visit(appointment_id: int) -> tuple[Appointment, Dose]:
    appointment = db.session.get(Appointment, appointment_id)
    require(appointment is not None and is_reinfusion(appointment.visit_type.kind))
    dose = services.dose_for_visit(appointment)
    require(dose is not None)
    return appointment, dose


def _route_choices(form: AdministrationForm) -> None:
    form.route.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(route.code, services.route_label(route.code)) for route in ROUTES
    ]


def _render_visit(
    appointment: Appointment,
    dose: Dose,
    *,
    clearance_form=None,
    bedside_form=None,
    administration_form=None,
    status=200,
):
    now = utcnow()
    cal = _cal()
    facts = services.day_facts(appointment, dose, now)
    blockers = [p.text(_) for p in day.readiness(facts)]
    if administration_form is None:
        administration_form = AdministrationForm(formdata=None)
        administration_form.route.data = dose.route
    _route_choices(administration_form)
    administration = db.session.execute(
        select(Administration).where(Administration.appointment_id == appointment.id)
    ).scalar_one_or_none()
    role = current_user.role
    return (
        render_template(
            "reinfusion/day/visit.html",
            appointment=appointment,
            dose=dose,
            batch=dose.batch,
            patient=appointment.patient,
            visit_day=cal.local_date(appointment.start_at),
            is_today=facts.visit_day == facts.today,
            clearance=services.latest_clearance(appointment),
            bedside=services.latest_bedside_check(appointment),
            administration=administration,
            blockers=blockers,
            clearance_form=clearance_form or ClearanceForm(formdata=None),
            bedside_form=bedside_form or BedsideForm(formdata=None),
            administration_form=administration_form,
            can_clear=role == Role.DOCTOR,
            can_check=role in services.BEDSIDE_ROLES,
            observation_minutes=settings.get("observation_minutes"),
            max_dose_cells=settings.get("max_dose_cells"),
            status_labels=STATUS_LABELS,
            state_labels=STATE_LABELS,
            decision_labels=DECISION_LABELS,
            dose_status_labels=DOSE_STATUS_LABELS,
            dose_source_labels=DOSE_SOURCE_LABELS,
            route_label=services.route_label,
            Status=AppointmentStatus,
            DoseStatus=DoseStatus,
        ),
        status,
    )


@bp.get("/visits/<int:appointment_id>")
@role_required(*CLINICAL_ROLES)
def visit(appointment_id: int):
    appointment, dose = _visit(appointment_id)
    return _render_visit(appointment, dose)


def _done(appointment: Appointment, message: str):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("reinfusion_day.visit", appointment_id=appointment.id))


@bp.post("/visits/<int:appointment_id>/clearance")
@role_required(Role.DOCTOR)
def clearance(appointment_id: int):
    appointment, dose = _visit(appointment_id)
    form = ClearanceForm()
    if form.validate_on_submit():
        try:
            record = services.record_clearance(
                appointment,
                systolic=form.systolic.data,
                diastolic=form.diastolic.data,
                pulse=form.pulse.data,
                temperature_c=form.temperature_c.data,
                spo2=form.spo2.data,
                decision=form.decision.data,
                reason=form.reason.data,
                password=form.password.data,
                actor=current_user,
                now=utcnow(),
            )
        except NotAllowed:
            abort(403)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            return _done(appointment, _(DECISION_LABELS[record.decision]) + ".")
    return _render_visit(appointment, dose, clearance_form=form, status=422)


@bp.post("/visits/<int:appointment_id>/bedside")
@role_required(Role.DOCTOR, Role.COORDINATOR)
def bedside(appointment_id: int):
    appointment, dose = _visit(appointment_id)
    form = BedsideForm()
    if form.validate_on_submit():
        try:
            check = services.record_bedside_check(
                appointment,
                label_text=form.label.data,
                name=form.name.data,
                date_of_birth=form.date_of_birth.data,
                actor=current_user,
                now=utcnow(),
            )
        except NotAllowed:
            abort(403)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            if check.matched:
                flash(_("MATCH: the label and the patient agree with the batch."), "success")
            else:
                flash(
                    _(
                        "MISMATCH: do not give these cells. The managers and the lab "
                        "have been alerted."
                    ),
                    "danger",
                )
            return redirect(url_for("reinfusion_day.visit", appointment_id=appointment.id))
    return _render_visit(appointment, dose, bedside_form=form, status=422)


@bp.post("/visits/<int:appointment_id>/administration")
@role_required(Role.DOCTOR)
def administration(appointment_id: int):
    appointment, dose = _visit(appointment_id)
    form = AdministrationForm()
    _route_choices(form)
    tz = _cal().tz
    if form.validate_on_submit():
        try:
            services.record_administration(
                appointment,
                route=form.route.data,
                cells_given=form.cells_given.data,
                started_at=form.started_at.aware(tz),
                ended_at=form.ended_at.aware(tz),
                observed_until=form.observed_until.aware(tz),
                systolic_after=form.systolic_after.data,
                diastolic_after=form.diastolic_after.data,
                pulse_after=form.pulse_after.data,
                temperature_c_after=form.temperature_c_after.data,
                spo2_after=form.spo2_after.data,
                over_cap_reason=form.over_cap_reason.data,
                note=form.note.data,
                actor=current_user,
                now=utcnow(),
            )
        except NotAllowed:
            abort(403)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            return _done(appointment, _("The administration is recorded. The visit is completed."))
    return _render_visit(appointment, dose, administration_form=form, status=422)


# --------------------------------------------------------------------------- the dose plan


def _batch(batch_id: int) -> Batch:
    batch = db.session.get(Batch, batch_id)
    require(batch is not None)
    return batch


def _rows(batch: Batch, existing: list[Dose], form_data=None) -> list[dict]:
    """One row per possible dose, with what the form shows and whether the
    doctor may still change it."""
    by_number = {d.number: d for d in existing}
    rows = []
    for number in range(1, doses.MAX_DOSES + 1):
        dose = by_number.get(number)
        fixed = dose is not None and dose.status.value not in (*doses.EDITABLE, doses.CANCELLED)
        if form_data is not None and not fixed:
            route = form_data.get(f"route_{number}", "")
            cells = form_data.get(f"cells_{number}", "")
            interval = form_data.get(f"interval_{number}", "")
        elif dose is not None and dose.status != DoseStatus.CANCELLED:
            route, cells, interval = dose.route, dose.planned_cells, dose.interval_days or ""
        else:
            route, cells, interval = "", "", ""
        rows.append(
            {
                "number": number,
                "dose": dose,
                "fixed": fixed,
                "route_fixed": dose is not None and dose.status == DoseStatus.PROPOSED,
                "route": route,
                "cells": cells,
                "interval": interval,
            }
        )
    return rows


def _render_plan(batch: Batch, form: DosePlanForm, *, errors=None, form_data=None, status=200):
    existing = services.batch_doses(batch)
    active = [d for d in existing if d.status != DoseStatus.CANCELLED]
    if form_data is None:
        form.count.data = max((d.number for d in active), default=1)
    booked = [
        _cal().local_date(d.appointment.start_at) if d.appointment is not None else None
        for d in active
    ]
    dates = doses.planned_dates(None, [d.interval_days for d in active], booked)
    return (
        render_template(
            "reinfusion/day/doses.html",
            batch=batch,
            patient=batch.patient,
            form=form,
            rows=_rows(batch, existing, form_data),
            active=list(zip(active, dates, strict=True)),
            errors=errors or {},
            routes=[
                (code, services.route_label(code)) for code in services.allowed_routes(batch.course)
            ],
            can_plan=current_user.role == Role.DOCTOR,
            max_dose_cells=settings.get("max_dose_cells"),
            max_interval=doses.MAX_INTERVAL_DAYS,
            state_labels=STATE_LABELS,
            dose_status_labels=DOSE_STATUS_LABELS,
            dose_source_labels=DOSE_SOURCE_LABELS,
            route_label=services.route_label,
        ),
        status,
    )


@bp.get("/batches/<int:batch_id>/doses")
@role_required(*CLINICAL_ROLES)
def doses_page(batch_id: int):
    return _render_plan(_batch(batch_id), DosePlanForm(formdata=None))


def _read_int(data, name: str, errors: dict, maximum: int = parsing.INT_MAX) -> int | None:
    try:
        return parsing.parse_int(data.get(name), minimum=parsing.INT_MIN, maximum=maximum)
    except parsing.ParseError as exc:
        errors.setdefault(name, []).append(exc.text(_))
        return None


@bp.post("/batches/<int:batch_id>/doses")
@role_required(Role.DOCTOR)
def plan(batch_id: int):
    batch = _batch(batch_id)
    form = DosePlanForm()
    data = request.form
    errors: dict[str, list[str]] = {}
    if form.validate_on_submit():
        count = form.count.data
        planned = []
        for number in range(1, count + 1):
            planned.append(
                services.PlannedDose(
                    (data.get(f"route_{number}") or "").strip() or None,
                    _read_int(data, f"cells_{number}", errors),
                    _read_int(data, f"interval_{number}", errors) if number > 1 else None,
                )
            )
        if not errors:
            try:
                services.plan_doses(
                    batch, doses=planned, reason=form.reason.data, actor=current_user
                )
            except NotAllowed:
                abort(403)
            except DomainError as exc:
                db.session.rollback()
                for error in exc.errors if isinstance(exc, FormErrors) else [exc]:
                    if error.field == "reason":
                        form.reason.errors = [*form.reason.errors, error.message]
                    elif error.field == "count":
                        form.count.errors = [*form.count.errors, error.message]
                    else:
                        errors.setdefault(error.field or "", []).append(error.message)
            else:
                db.session.commit()
                flash(_("The dose plan is saved."), "success")
                return redirect(url_for("reinfusion_day.doses_page", batch_id=batch.id))
    return _render_plan(batch, form, errors=errors, form_data=data, status=422)
