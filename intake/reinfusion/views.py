"""Reinfusion dates: the coordinators' and doctors' pages (the overview, the
propose page, the move of a locked date, change requests) and the patient's
(choose a proposed date, see it locked, request a change).

Each handler: load → check access → validate the form → one service call →
commit → redirect; on ``DomainError``: roll back and show the message beside
its field."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from intake.accounts.roles import Role
from intake.core import parsing, settings
from intake.core.access import require, role_required
from intake.core.errors import DomainError, NotAllowed
from intake.core.types import utcnow
from intake.core.web import show_domain_error
from intake.cultures.models import Batch
from intake.extensions import db
from intake.patients import trip_services
from intake.patients.services import current_course
from intake.reinfusion import queries, rules, services
from intake.reinfusion import trips as trip_rules
from intake.reinfusion.forms import (
    ChangeRequestForm,
    ConfirmForm,
    DeclineForm,
    MoveForm,
    ProposeForm,
)
from intake.reinfusion.models import (
    DOSE_STATUS_LABELS,
    ChangeRequest,
    ChangeRequestStatus,
    Dose,
    DoseStatus,
    Proposal,
)
from intake.scheduling import queries as scheduling_queries

bp = Blueprint("reinfusion", __name__)

STAFF = (Role.COORDINATOR, Role.DOCTOR)


def _parse_start(text: str | None) -> datetime | None:
    try:
        return parsing.parse_instant(text)
    except parsing.ParseError:
        return None


def _iso(cal, start: datetime) -> str:
    return start.astimezone(cal.tz).isoformat()


def _by_day(cal, starts: list[datetime]) -> list[tuple[date, list[datetime]]]:
    grouped: dict[date, list[datetime]] = defaultdict(list)
    for start in starts:
        grouped[cal.local_date(start)].append(start)
    return list(grouped.items())


def _zone(cal, instant: datetime | None = None) -> str:
    instant = instant or utcnow()
    return f"{instant.astimezone(cal.tz).tzname()}, {cal.tz.key}"


@bp.app_context_processor
def _reinfusion_globals():
    def course_reinfusions(course) -> list:
        """The course's reinfusion dates to choose, or the confirmed (locked)
        one: for the patient's journey page, read only where it is shown."""
        return queries.patient_reinfusions(course)

    return {"course_reinfusions": course_reinfusions}


# --------------------------------------------------------------------------- staff


@bp.get("/reinfusion")
@role_required(*STAFF)
def overview():
    now = utcnow()
    cal = scheduling_queries.clinic_calendar()
    return render_template(
        "reinfusion/overview.html",
        **queries.reinfusion_overview(cal.today(now)),
        today=cal.today(now),
        window=(settings.get("culture_min_days"), settings.get("culture_max_days")),
        status_labels=DOSE_STATUS_LABELS,
        route_name=services.route_name,
    )


def _propose_page(batch: Batch, dose: Dose | None, form: ProposeForm, action: str):
    now = utcnow()
    values = settings.values()
    cal = scheduling_queries.clinic_calendar(values)
    routes, planned = queries.route_options(batch.course_id)
    form.route.choices = [SelectChoice(r, services.route_name(r)) for r in routes]
    route = form.route.data if form.route.data in routes else None
    if route is None:
        route = request.args.get("route") if request.args.get("route") in routes else None
    route = route or (dose.route if dose is not None and dose.route in routes else planned)
    if request.method == "GET":
        form.route.data = route
    problem = None
    window, times = None, []
    # Days inside the patient's planned trips come first and are marked.
    trips = trip_services.planned(batch.patient)
    in_trip = trip_rules.prefer_in_trips(trips)
    try:
        services.check_on_track(batch, today=cal.today(now))
        if dose is not None and not rules.can_propose(dose.status.value):
            problem = _("Dates can no longer be proposed for this dose.")
        elif route is not None:
            window, times = services.valid_times(
                batch, dose, route, now=now, prefer=in_trip if trips else None
            )
    except DomainError as exc:
        problem = exc.message
    chosen = set(form.times.data or [])
    return render_template(
        "reinfusion/propose.html",
        batch=batch,
        dose=dose,
        form=form,
        action=action,
        routes=routes,
        route=route,
        window=window,
        days=_by_day(cal, times),
        iso=lambda s: _iso(cal, s),
        chosen=chosen,
        problem=problem,
        culture_day=(cal.today(now) - batch.collected_on).days,
        lock_min_days=values["reinfusion_lock_min_days"],
        earliest=rules.lock_minimum(now, cal.tz, lock_min_days=values["reinfusion_lock_min_days"]),
        offered=queries.offered(dose.id) if dose is not None else [],
        zone=_zone(cal),
        trips=trips,
        in_trip=in_trip,
        max_times=rules.MAX_PROPOSALS,
        route_name=services.route_name,
    )


def _times_from(form: ProposeForm) -> tuple[list[datetime], bool]:
    raw = [t for t in (form.times.data or []) if t]
    parsed = [_parse_start(t) for t in raw]
    return [p for p in parsed if p is not None], any(p is None for p in parsed)


def _submit_proposals(form: ProposeForm, call) -> bool:
    if not form.validate_on_submit():
        return False
    times, unreadable = _times_from(form)
    if unreadable:
        form.times.errors = [*form.times.errors, _("Choose times from the list.")]
        return False
    try:
        call(times, form.route.data)
    except NotAllowed:
        abort(403)
    except DomainError as exc:
        show_domain_error(form, exc)
        return False
    db.session.commit()
    flash(_("The times are offered. The patient has been told."), "success")
    return True


@bp.route("/reinfusion/batches/<int:batch_id>/propose", methods=["GET", "POST"])
@role_required(*STAFF)
def propose(batch_id: int):
    batch = db.session.get(Batch, batch_id)
    require(batch is not None)
    dose = queries.first_dose(batch.id)
    if dose is not None:
        return redirect(url_for("reinfusion.propose_dose", dose_id=dose.id), code=307)
    form = ProposeForm()
    if request.method == "POST" and _submit_proposals(
        form,
        lambda times, route: services.propose_for_batch(batch, times, route, actor=current_user),
    ):
        return redirect(url_for("reinfusion.overview"))
    return _propose_page(batch, None, form, url_for("reinfusion.propose", batch_id=batch.id))


@bp.route("/reinfusion/doses/<int:dose_id>/propose", methods=["GET", "POST"])
@role_required(*STAFF)
def propose_dose(dose_id: int):
    dose = db.session.get(Dose, dose_id)
    require(dose is not None)
    if dose.status == DoseStatus.CONFIRMED and request.method == "GET":
        return redirect(url_for("reinfusion.move", dose_id=dose.id))
    form = ProposeForm()
    if request.method == "POST" and _submit_proposals(
        form, lambda times, route: services.propose(dose, times, route, actor=current_user)
    ):
        return redirect(url_for("reinfusion.overview"))
    return _propose_page(
        dose.batch, dose, form, url_for("reinfusion.propose_dose", dose_id=dose.id)
    )


def _request_of(dose: Dose, text: str | None) -> ChangeRequest | None:
    try:
        request_id = parsing.parse_int(text, minimum=1, maximum=parsing.ID_MAX)
    except parsing.ParseError:
        return None
    if request_id is None:
        return None
    change = db.session.get(ChangeRequest, request_id)
    if change is None or change.dose_id != dose.id:
        return None
    return change


@bp.route("/reinfusion/doses/<int:dose_id>/move", methods=["GET", "POST"])
@role_required(*STAFF)
def move(dose_id: int):
    dose = db.session.get(Dose, dose_id)
    require(dose is not None)
    now = utcnow()
    cal = scheduling_queries.clinic_calendar()
    form = MoveForm()
    labs = queries.lab_users()
    form.lab.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(str(u.id), u.full_name) for u in labs
    ]
    change = _request_of(dose, form.request_id.data or request.args.get("request"))
    if request.method == "GET" and change is not None:
        form.request_id.data = str(change.id)
    appointment = dose.appointment
    movable = (
        appointment is not None and appointment.is_locked and appointment.status.value == "booked"
    )
    window, times = None, []
    if movable:
        try:
            trips = trip_services.planned(dose.patient)
            window, times = services.valid_times(
                dose.batch,
                dose,
                dose.route,
                now=now,
                for_move=appointment,
                prefer=trip_rules.prefer_in_trips(trips) if trips else None,
            )
        except DomainError as exc:
            flash(exc.message, "warning")
    form.start.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(_iso(cal, t), f"{cal.local_date(t).isoformat()} {t.astimezone(cal.tz):%H:%M}")
        for t in times
        if t != appointment.start_at
    ]
    if request.method == "POST" and movable and form.validate_on_submit():
        try:
            lab_id = parsing.parse_int(form.lab.data, minimum=1, maximum=parsing.ID_MAX)
        except parsing.ParseError:
            lab_id = None
        try:
            services.move_locked(
                dose,
                _parse_start(form.start.data),
                reason=form.reason.data,
                lab_user_id=lab_id,
                actor=current_user,
                change_request=change,
            )
        except NotAllowed:
            abort(403)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(
                _("Moved. %(name)s has been told.", name=dose.patient.full_name),
                "success",
            )
            return redirect(url_for("reinfusion.overview"))
    return render_template(
        "reinfusion/move.html",
        dose=dose,
        appointment=appointment,
        movable=movable,
        form=form,
        window=window,
        change=change,
        zone=_zone(cal, appointment.start_at if appointment else None),
        has_labs=bool(labs),
        route_name=services.route_name,
    )


@bp.get("/reinfusion/requests")
@role_required(*STAFF)
def change_requests():
    return render_template(
        "reinfusion/change_requests.html", requests=queries.open_change_requests()
    )


@bp.route("/reinfusion/requests/<int:request_id>", methods=["GET", "POST"])
@role_required(*STAFF)
def change_request(request_id: int):
    change = db.session.get(ChangeRequest, request_id)
    require(change is not None)
    form = DeclineForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            services.decline_change(change, form.answer.data, actor=current_user)
        except NotAllowed:
            abort(403)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("Answered. The patient has been told."), "success")
            return redirect(url_for("reinfusion.change_requests"))
    return render_template(
        "reinfusion/change_request.html",
        change=change,
        form=form,
        is_open=change.status == ChangeRequestStatus.OPEN,
    )


# --------------------------------------------------------------------------- the patient


def _my_dose(dose_id: int) -> Dose:
    dose = db.session.get(Dose, dose_id)
    require(dose is not None and dose.patient_id == current_user.patient.id)
    return dose


@bp.get("/my-reinfusion")
@role_required(Role.PATIENT)
def mine():
    patient = current_user.patient
    items = queries.patient_reinfusions(current_course(patient))
    return render_template(
        "reinfusion/mine.html",
        items=items,
        confirm_form=ConfirmForm(),
        route_name=services.route_name,
        lock_min_days=settings.get("reinfusion_lock_min_days"),
    )


@bp.post("/my-reinfusion/proposals/<int:proposal_id>/confirm")
@role_required(Role.PATIENT)
def confirm(proposal_id: int):
    proposal = db.session.get(Proposal, proposal_id)
    require(proposal is not None and proposal.patient_id == current_user.patient.id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash(_("Please try again."), "warning")
        return redirect(url_for("reinfusion.mine"))
    try:
        services.confirm(proposal, actor=current_user)
    except NotAllowed:
        abort(404)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "warning")
    else:
        db.session.commit()
        flash(
            _("Your reinfusion date is confirmed and fixed. We have sent you the details."),
            "success",
        )
    return redirect(url_for("reinfusion.mine"))


@bp.route("/my-reinfusion/doses/<int:dose_id>/change", methods=["GET", "POST"])
@role_required(Role.PATIENT)
def request_change(dose_id: int):
    dose = _my_dose(dose_id)
    form = ChangeRequestForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            services.request_change(dose, form.reason.data, actor=current_user)
        except NotAllowed:
            abort(404)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(
                _("Your request has been sent. The clinic will answer you by message."),
                "success",
            )
            return redirect(url_for("reinfusion.mine"))
    return render_template(
        "reinfusion/request_change.html",
        dose=dose,
        appointment=dose.appointment,
        form=form,
        open_request=queries.open_request(dose.id),
    )
