"""The patient's pages: booking, my visits, the calendar file, cancelling
and rescheduling."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from intake.accounts.roles import Role
from intake.core import settings
from intake.core.access import require, role_required
from intake.core.errors import DomainError
from intake.core.types import utcnow
from intake.errors import error_page
from intake.extensions import db
from intake.patients import trip_services
from intake.scheduling import ics, queries, services, waitlist_services
from intake.scheduling.forms import BookForm, PatientCancelForm
from intake.scheduling.models import MODE_LABELS, STATUS_LABELS, Appointment
from intake.scheduling.views import bp
from intake.scheduling.views._common import (
    _can_see,
    _gate_missing,
    _gate_texts,
    _mode_choices,
    _own_appointment,
    _picker,
    _show_error,
    booked_by_this_form,
    parse_start,
)
from intake.scheduling.visit_kinds import VisitKind, one_upcoming

# --------------------------------------------------------------------------- patients


@bp.get("/book/kind/<kind>")
@role_required(Role.PATIENT)
def book_kind(kind: str):
    """Book a visit named by its kind (e.g. "book your collection" in messages)."""
    vt = queries.visit_type_of_kind(kind)
    if vt is None:
        return error_page(404, _("This visit cannot be booked online. Please contact the clinic."))
    return redirect(url_for("scheduling.book", visit_type=vt.code))


def _booked():
    flash(_("Booked. We have sent you a confirmation with a calendar file."), "success")
    return redirect(url_for("scheduling.my_visits"))


@bp.route("/book/<visit_type>", methods=["GET", "POST"])
@role_required(Role.PATIENT)
def book(visit_type: str):
    vt = queries.visit_type_by_code(visit_type)
    if vt is None or not vt.is_active or not vt.is_patient_bookable:
        return error_page(404, _("This visit cannot be booked online. Please contact the clinic."))
    missing = _gate_missing(current_user.patient, vt)
    if missing is not None:
        return render_template("scheduling/book.html", vt=vt, missing=missing)
    # A form sent again (its request_key) is answered below, like the first send.
    if request.method == "GET":
        existing = queries.upcoming_of_kind(current_user.patient, vt, utcnow())
        if existing is not None:
            return render_template("scheduling/book.html", vt=vt, existing=existing)
    form = BookForm()
    has_modes = _mode_choices(form, vt)
    if request.method == "POST":
        start = parse_start(form.start.data)
        day = queries.clinic_calendar().local_date(start) if start else None
        valid = form.validate_on_submit()
        if valid and _trip_miss_unconfirmed(vt, day):
            return redirect(url_for("scheduling.book", visit_type=vt.code, start=form.start.data))
        if valid:
            try:
                services.book_visit(
                    current_user.patient,
                    vt.code,
                    start,
                    actor=current_user,
                    mode=form.mode.data or None,
                    request_key=form.request_key.data or None,
                )
            except services.GateClosed as exc:
                db.session.rollback()
                return render_template(
                    "scheduling/book.html",
                    vt=vt,
                    missing=_gate_texts(exc.missing),
                )
            except DomainError as exc:
                db.session.rollback()
                if booked_by_this_form(form) is None:
                    _show_error(exc)
                else:  # sent again: the answer the first send had
                    return _booked()
            else:
                db.session.commit()
                waitlist_services.after_booking(current_user.patient)
                return _booked()
        else:
            flash(_("Please choose a day and a time from the list."), "warning")
        return redirect(
            url_for("scheduling.book", visit_type=vt.code, day=day.isoformat() if day else None)
        )
    picker = _picker(
        vt,
        for_patient=True,
        url=lambda **kw: url_for("scheduling.book", visit_type=vt.code, **kw),
    )
    values = settings.values()
    waitlist_link, no_free_day = _waitlist_offer(vt, picker, values)
    return render_template(
        "scheduling/book.html",
        vt=vt,
        picker=picker,
        waitlist_link=waitlist_link,
        no_free_day=no_free_day,
        trips=trip_services.booking_marks(current_user.patient, vt, picker, for_patient=True),
        form=form,
        has_modes=has_modes,
        duration=queries.duration_of(vt, values),
        culture_max_days=values["culture_max_days"],
        notice_hours=values["min_notice_hours"],
    )


def _waitlist_offer(vt, picker: dict, values: dict) -> tuple[str | None, bool]:
    """For a collection: the link to join the waitlist (None when the patient
    is already waiting: the link goes to their place), and whether no day at
    all is free in the booking horizon (asked on the list of days only)."""
    if vt.kind != VisitKind.COLLECTION:
        return None, False
    if waitlist_services.waiting_entry(current_user.patient) is not None:
        return url_for("scheduling.waitlist_page"), False
    no_free_day = picker["step"] == "days" and not waitlist_services.free_places(
        vt.code, utcnow(), values
    )
    return url_for("scheduling.waitlist_join", visit_type=vt.code), no_free_day


def _trip_miss_unconfirmed(vt, day) -> bool:
    """A collection on a day that misses the patient's trips waits for "book anyway"."""
    missed = trip_services.unconfirmed_miss(
        current_user.patient,
        vt,
        day,
        confirmed=request.form.get(trip_services.BOOK_ANYWAY) == "yes",
    )
    if missed is not None:
        flash(
            _("This day does not fit your trips. Tick “Book this day anyway” to book it."),
            "warning",
        )
    return missed is not None


@bp.get("/visits")
@role_required(Role.PATIENT)
def my_visits():
    now = utcnow()
    data = queries.my_visits(current_user.patient, now)
    values = settings.values()
    bookable = queries.visit_types(patient_bookable=True)
    booked_kinds = {a.visit_type.kind for a in data["upcoming"]}
    booked_types = {a.visit_type_id for a in data["upcoming"]}
    return render_template(
        "scheduling/my_visits.html",
        **data,
        can_change={a.id: services.patient_can_change(a, now, values) for a in data["upcoming"]},
        cutoff={a.id: services.patient_cutoff(a, values) for a in data["upcoming"]},
        windows={a.id: services.change_window(a, now, values).value for a in data["upcoming"]},
        bookable=bookable,
        # Not offered again: one upcoming visit per kind (or per type), as book_visit checks.
        booked_type_ids={
            vt.id
            for vt in bookable
            if vt.id in booked_types or (one_upcoming(vt.kind) and vt.kind in booked_kinds)
        },
        status_labels=STATUS_LABELS,
        mode_labels=MODE_LABELS,
        notice_hours=values["min_notice_hours"],
        on_waitlist=waitlist_services.waiting_entry(current_user.patient) is not None,
    )


@bp.get("/visits/<int:appointment_id>.ics")
@login_required
def visit_ics(appointment_id: int):
    appointment = db.session.get(Appointment, appointment_id)
    require(appointment is not None and _can_see(appointment))
    locale = (
        appointment.patient.locale
        if current_user.patient is not None and current_user.patient.id == appointment.patient_id
        else str(get_locale())
    )
    body = ics.build(appointment, locale=locale, link=services._public_url("scheduling.my_visits"))
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{ics.filename_for(appointment)}"'},
    )


@bp.route("/visits/<int:appointment_id>/cancel", methods=["GET", "POST"])
@role_required(Role.PATIENT)
def visit_cancel(appointment_id: int):
    appointment = _own_appointment(appointment_id)
    can_change = services.patient_can_change(appointment, utcnow())
    form = PatientCancelForm()
    if can_change and form.validate_on_submit():
        try:
            services.cancel_visit(appointment, actor=current_user, reason=form.reason.data)
        except DomainError as exc:
            _show_error(exc)
        else:
            db.session.commit()
            flash(_("Your visit is cancelled."), "success")
            waitlist_services.offer_after_commit()
        return redirect(url_for("scheduling.my_visits"))
    return render_template(
        "scheduling/visit_cancel.html",
        appointment=appointment,
        form=form,
        can_change=can_change,
        notice_hours=settings.get("min_notice_hours"),
    )


@bp.route("/visits/<int:appointment_id>/reschedule", methods=["GET", "POST"])
@role_required(Role.PATIENT)
def visit_reschedule(appointment_id: int):
    appointment = _own_appointment(appointment_id)
    can_change = services.patient_can_change(appointment, utcnow())
    vt = appointment.visit_type
    form = BookForm()
    has_modes = _mode_choices(form, vt, appointment.mode)
    if request.method == "POST" and can_change:
        start = parse_start(form.start.data)
        if form.validate_on_submit():
            try:
                services.reschedule_visit(
                    appointment, start, actor=current_user, mode=form.mode.data or None
                )
            except services.GateClosed as exc:
                _show_error(exc)
            except DomainError as exc:
                _show_error(exc)
            else:
                db.session.commit()
                waitlist_services.offer_after_commit()  # the old day may be free now
                flash(_("Your visit has its new time. We have sent you the details."), "success")
                return redirect(url_for("scheduling.my_visits"))
        day = queries.clinic_calendar().local_date(start).isoformat() if start else None
        return redirect(
            url_for("scheduling.visit_reschedule", appointment_id=appointment.id, day=day)
        )
    picker = None
    if can_change:
        picker = _picker(
            vt,
            for_patient=True,
            url=lambda **kw: url_for(
                "scheduling.visit_reschedule", appointment_id=appointment.id, **kw
            ),
            exclude_appointment_id=appointment.id,
        )
    return render_template(
        "scheduling/visit_reschedule.html",
        appointment=appointment,
        vt=vt,
        picker=picker,
        form=form,
        has_modes=has_modes,
        can_change=can_change,
        notice_hours=settings.get("min_notice_hours"),
    )
