"""The front desk (coordinators): the day list and actions on one visit."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from intake.accounts.roles import CLINICAL_ROLES, DESK_ROLES
from intake.core import parsing
from intake.core.access import require, role_required
from intake.core.errors import DomainError
from intake.core.text import N_
from intake.core.types import utcnow
from intake.core.web import query_int, safe_next
from intake.extensions import db
from intake.patients import trip_services
from intake.patients.models import Patient
from intake.reinfusion.models import Dose
from intake.scheduling import front_desk, queries, services, visit_status, waitlist_services
from intake.scheduling.forms import BookForm, StaffCancelForm, StatusForm
from intake.scheduling.models import MODE_LABELS, STATUS_LABELS, Appointment, AppointmentStatus
from intake.scheduling.views import bp
from intake.scheduling.views._common import (
    _gate_missing,
    _gate_texts,
    _mode_choices,
    _picker,
    _show_error,
    booked_by_this_form,
    long_day_label,
    parse_start,
    time_label,
    zone_label,
)
from intake.scheduling.visit_kinds import VisitKind, is_reinfusion

STATUS_ACTIONS = {
    "arrived": (front_desk.mark_arrived, N_("Checked in: %(name)s.")),
    "no_show": (front_desk.mark_no_show, N_("Marked as not come: %(name)s.")),
    "completed": (front_desk.mark_completed, N_("Visit completed: %(name)s.")),
}


# --------------------------------------------------------------------------- the front desk


def allowed_actions(appointment: Appointment, cal: queries.ClinicCalendar, now: datetime):
    """The status buttons the desk shows for ``appointment`` now (the rule:
    ``visit_status.allowed_actions``); none for a reader (a manager)."""
    if current_user.role not in DESK_ROLES:
        return ()
    return visit_status.allowed_actions(
        appointment.status,
        visit_day=cal.local_date(appointment.start_at),
        today=cal.today(now),
        start_at=appointment.start_at,
        now=now,
    )


def _desk_row_context() -> dict:
    return {
        "status_labels": STATUS_LABELS,
        "mode_labels": MODE_LABELS,
        "Status": AppointmentStatus,
        "can_book": current_user.role in DESK_ROLES,
    }


@bp.get("/desk")
@role_required(*CLINICAL_ROLES)
def desk():
    now = utcnow()
    cal = queries.clinic_calendar()
    today = cal.today(now)
    try:
        day = parsing.parse_date(request.args.get("day")) or today
    except parsing.ParseError as exc:
        flash(exc.text(_), "warning")
        day = today
    listing = queries.day_list(day, cal)
    return render_template(
        "scheduling/desk.html",
        actions={a.id: allowed_actions(a, cal, now) for a, _p, _vt in listing["rows"]},
        day=day,
        today=today,
        day_title=long_day_label(day),
        previous=(day - timedelta(days=1)).isoformat(),
        following=(day + timedelta(days=1)).isoformat(),
        zone=zone_label(cal, cal.day_start(day) + timedelta(hours=12)),
        time_label=time_label,
        **listing,
        **_desk_row_context(),
    )


def _has_dose(appointment: Appointment) -> bool:
    """Is this visit the reinfusion of a planned dose?"""
    return is_reinfusion(appointment.visit_type.kind) and (
        db.session.execute(select(Dose.id).where(Dose.appointment_id == appointment.id)).first()
        is not None
    )


def _desk_appointment(appointment_id: int) -> Appointment:
    appointment = db.session.get(Appointment, appointment_id)
    require(appointment is not None)
    return appointment


def _render_desk_visit(appointment: Appointment, cancel_form: StaffCancelForm):
    cal = queries.clinic_calendar()
    return render_template(
        "scheduling/desk_visit.html",
        appointment=appointment,
        cancel_form=cancel_form,
        day=cal.local_date(appointment.start_at),
        allowed=allowed_actions(appointment, cal, utcnow()),
        **queries.appointment_page(appointment, cal),
        **_desk_row_context(),
    )


@bp.get("/desk/visits/<int:appointment_id>")
@role_required(*CLINICAL_ROLES)
def desk_visit(appointment_id: int):
    return _render_desk_visit(_desk_appointment(appointment_id), StaffCancelForm())


@bp.post("/desk/visits/<int:appointment_id>/status")
@role_required(*DESK_ROLES)
def desk_status(appointment_id: int):
    appointment = _desk_appointment(appointment_id)
    form = StatusForm()
    if not form.validate_on_submit() or form.action.data not in STATUS_ACTIONS:
        abort(400)
    action, message = STATUS_ACTIONS[form.action.data]
    if form.action.data == "completed" and appointment.visit_type.kind == VisitKind.COLLECTION:
        # What was collected is recorded with it, and makes the culture batch.
        return redirect(url_for("cultures.complete_collection", appointment_id=appointment.id))
    if form.action.data == "completed" and _has_dose(appointment):
        # A reinfusion is completed by recording its administration (rule 8).
        flash(_("Record the administration here: it completes the visit."), "info")
        return redirect(url_for("reinfusion_day.visit", appointment_id=appointment.id))
    try:
        action(appointment, actor=current_user)
    except DomainError as exc:
        _show_error(exc)
    else:
        db.session.commit()
        flash(_(message, name=appointment.patient.full_name), "success")
    day = queries.clinic_calendar().local_date(appointment.start_at).isoformat()
    return redirect(safe_next(form.next.data) or url_for("scheduling.desk", day=day))


@bp.post("/desk/visits/<int:appointment_id>/cancel")
@role_required(*DESK_ROLES)
def desk_cancel(appointment_id: int):
    appointment = _desk_appointment(appointment_id)
    form = StaffCancelForm()
    if form.validate_on_submit():
        try:
            services.cancel_visit(appointment, actor=current_user, reason=form.reason.data)
        except DomainError as exc:
            db.session.rollback()
            form.reason.errors = [*form.reason.errors, exc.message]
        else:
            db.session.commit()
            waitlist_services.offer_after_commit()
            flash(
                _("Cancelled. %(name)s has been told.", name=appointment.patient.full_name),
                "success",
            )
            return redirect(url_for("scheduling.desk_visit", appointment_id=appointment.id))
    return _render_desk_visit(appointment, form)


@bp.route("/desk/visits/<int:appointment_id>/reschedule", methods=["GET", "POST"])
@role_required(*DESK_ROLES)
def desk_reschedule(appointment_id: int):
    appointment = _desk_appointment(appointment_id)
    vt = appointment.visit_type
    form = BookForm()
    has_modes = _mode_choices(form, vt, appointment.mode)
    if request.method == "POST":
        start = parse_start(form.start.data)
        if form.validate_on_submit():
            try:
                services.reschedule_visit(
                    appointment, start, actor=current_user, mode=form.mode.data or None
                )
            except DomainError as exc:
                _show_error(exc)
            else:
                db.session.commit()
                waitlist_services.offer_after_commit()  # the old day may be free now
                flash(
                    _("Moved. %(name)s has been told.", name=appointment.patient.full_name),
                    "success",
                )
                return redirect(url_for("scheduling.desk_visit", appointment_id=appointment.id))
        day = queries.clinic_calendar().local_date(start).isoformat() if start else None
        return redirect(
            url_for("scheduling.desk_reschedule", appointment_id=appointment.id, day=day)
        )
    picker = None
    if appointment.status == AppointmentStatus.BOOKED and not appointment.is_locked:
        picker = _picker(
            vt,
            for_patient=False,
            url=lambda **kw: url_for(
                "scheduling.desk_reschedule", appointment_id=appointment.id, **kw
            ),
            exclude_appointment_id=appointment.id,
        )
    return render_template(
        "scheduling/desk_reschedule.html",
        appointment=appointment,
        vt=vt,
        picker=picker,
        form=form,
        has_modes=has_modes,
    )


@bp.route("/desk/book", methods=["GET", "POST"])
@role_required(*DESK_ROLES)
def desk_book():
    search = request.args.get("q", "").strip()[:100]
    patient_id = query_int("patient_id")
    patient = db.session.get(Patient, patient_id) if patient_id else None
    context = {"search": search, "patient": patient}
    if patient is None:
        context["found"] = queries.find_patients(search) if search else []
        return render_template("scheduling/desk_book.html", **context)
    types = queries.visit_types(desk_bookable=True)
    vt = next((t for t in types if t.code == request.args.get("visit_type")), None)
    context["types"] = types
    if vt is None:
        return render_template("scheduling/desk_book.html", **context)
    context["vt"] = vt
    missing = _gate_missing(patient, vt)
    if missing is not None:
        return render_template("scheduling/desk_book.html", missing=missing, **context)
    form = BookForm()
    context["has_modes"] = _mode_choices(form, vt)
    context["form"] = form
    if request.method == "POST":
        start = parse_start(form.start.data)
        day = queries.clinic_calendar().local_date(start) if start else None
        valid = form.validate_on_submit()
        if valid and _trip_miss_unconfirmed(patient, vt, day):
            return redirect(
                url_for(
                    "scheduling.desk_book",
                    patient_id=patient.id,
                    visit_type=vt.code,
                    start=form.start.data,
                )
            )
        if valid:
            try:
                appointment = services.book_visit(
                    patient,
                    vt.code,
                    start,
                    actor=current_user,
                    mode=form.mode.data or None,
                    request_key=form.request_key.data or None,
                )
            except services.GateClosed as exc:
                db.session.rollback()
                return render_template(
                    "scheduling/desk_book.html",
                    missing=_gate_texts(exc.missing),
                    **context,
                )
            except DomainError as exc:
                db.session.rollback()
                appointment = booked_by_this_form(form)
                if appointment is None:
                    _show_error(exc)
                else:  # sent again: the booking the first send made
                    flash(
                        _(
                            "Booked for %(name)s, who has been sent the details.",
                            name=appointment.patient.full_name,
                        ),
                        "success",
                    )
                    return redirect(url_for("scheduling.desk_visit", appointment_id=appointment.id))
            else:
                db.session.commit()
                waitlist_services.after_booking(patient)
                flash(
                    _(
                        "Booked for %(name)s, who has been sent the details.",
                        name=patient.full_name,
                    ),
                    "success",
                )
                return redirect(url_for("scheduling.desk_visit", appointment_id=appointment.id))
        return redirect(
            url_for(
                "scheduling.desk_book",
                patient_id=patient.id,
                visit_type=vt.code,
                day=day.isoformat() if day else None,
            )
        )
    context["picker"] = _picker(
        vt,
        for_patient=False,
        url=lambda **kw: url_for(
            "scheduling.desk_book", patient_id=patient.id, visit_type=vt.code, **kw
        ),
    )
    context["trips"] = trip_services.booking_marks(
        patient, vt, context["picker"], for_patient=False
    )
    return render_template("scheduling/desk_book.html", **context)


def _trip_miss_unconfirmed(patient: Patient, vt, day) -> bool:
    """A collection on a day that misses the patient's trips waits for "book anyway"."""
    missed = trip_services.unconfirmed_miss(
        patient, vt, day, confirmed=request.form.get(trip_services.BOOK_ANYWAY) == "yes"
    )
    if missed is not None:
        flash(
            _("This day does not fit the patient's trips. Tick “Book this day anyway” to book it."),
            "warning",
        )
    return missed is not None
