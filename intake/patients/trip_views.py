"""Trips to Japan: the patient's own (``/trips``) and, for coordinators and
doctors, a patient's (``/patients/<id>/trips``). Add, change, cancel."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from intake.accounts.roles import Role
from intake.core.access import require, role_required
from intake.core.errors import DomainError
from intake.core.types import utcnow
from intake.core.web import safe_next, show_domain_error
from intake.extensions import db
from intake.patients import trip_services as services
from intake.patients.models import Patient, Trip
from intake.patients.services import REGISTRARS
from intake.patients.trip_forms import TripForm
from intake.scheduling.queries import clinic_calendar

bp = Blueprint("trips", __name__)


# --------------------------------------------------------------------------- shared


class _Pages:
    """URLs of one patient's trip pages, for the patient or for staff."""

    def __init__(self, patient: Patient, *, for_patient: bool):
        self.patient = patient
        self.for_patient = for_patient
        self.next = safe_next(request.args.get("next"))

    def _args(self, **kw):
        if not self.for_patient:
            kw["patient_id"] = self.patient.id
        if self.next:
            kw["next"] = self.next
        return kw

    def list(self) -> str:
        return url_for("trips.mine" if self.for_patient else "trips.staff", **self._args())

    def edit(self, trip: Trip) -> str:
        endpoint = "trips.edit" if self.for_patient else "trips.staff_edit"
        return url_for(endpoint, **self._args(trip_id=trip.id))

    def cancel(self, trip: Trip) -> str:
        endpoint = "trips.cancel" if self.for_patient else "trips.staff_cancel"
        return url_for(endpoint, **self._args(trip_id=trip.id))


def _render_list(pages: _Pages, form: TripForm, status: int = 200):
    today = clinic_calendar().today(utcnow())
    trips = services.trips_of(pages.patient)
    current = [t for t in trips if t.cancelled_at is None and t.departs_on >= today]
    earlier = [t for t in trips if t not in current]
    return render_template(
        "trips/trips.html",
        pages=pages,
        form=form,
        current=current,
        earlier=earlier,
        today=today,
        range_label=services.range_label,
    ), status


def _list_page(pages: _Pages):
    form = TripForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                trip = services.add_trip(
                    pages.patient,
                    arrives_on=form.arrives_on.data,
                    departs_on=form.departs_on.data,
                    note=form.note.data,
                    actor=current_user,
                )
            except DomainError as exc:
                show_domain_error(form, exc)
            else:
                db.session.commit()
                flash(
                    _(
                        "Trip saved: %(dates)s.",
                        dates=services.range_label(trip.arrives_on, trip.departs_on),
                    ),
                    "success",
                )
                return redirect(pages.list())
        return _render_list(pages, form, 400)
    return _render_list(pages, form)


def _edit_page(pages: _Pages, trip: Trip):
    form = TripForm(obj=trip)
    if request.method == "POST" and form.validate_on_submit():
        try:
            services.change_trip(
                trip,
                arrives_on=form.arrives_on.data,
                departs_on=form.departs_on.data,
                note=form.note.data,
                actor=current_user,
            )
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(
                _(
                    "Trip changed: %(dates)s.",
                    dates=services.range_label(trip.arrives_on, trip.departs_on),
                ),
                "success",
            )
            return redirect(pages.list())
    status = 400 if request.method == "POST" else 200
    return render_template(
        "trips/trip_edit.html",
        pages=pages,
        form=form,
        trip=trip,
        range_label=services.range_label,
    ), status


def _cancel(pages: _Pages, trip: Trip):
    # The CSRF token is checked for every POST before the view (CSRFProtect).
    try:
        services.cancel_trip(trip, actor=current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
        flash(
            _(
                "Trip cancelled: %(dates)s.",
                dates=services.range_label(trip.arrives_on, trip.departs_on),
            ),
            "success",
        )
    return redirect(pages.list())


# --------------------------------------------------------------------------- the patient


def _mine() -> _Pages:
    patient = current_user.patient
    require(patient is not None)
    return _Pages(patient, for_patient=True)


def _own_trip(pages: _Pages, trip_id: int) -> Trip:
    trip = services.trip_of(pages.patient, trip_id)
    require(trip is not None)
    return trip


@bp.route("/trips", methods=["GET", "POST"])
@role_required(Role.PATIENT)
def mine():
    return _list_page(_mine())


@bp.route("/trips/<int:trip_id>/edit", methods=["GET", "POST"])
@role_required(Role.PATIENT)
def edit(trip_id: int):
    pages = _mine()
    return _edit_page(pages, _own_trip(pages, trip_id))


@bp.post("/trips/<int:trip_id>/cancel")
@role_required(Role.PATIENT)
def cancel(trip_id: int):
    pages = _mine()
    return _cancel(pages, _own_trip(pages, trip_id))


# --------------------------------------------------------------------------- staff


def _patients(patient_id: int) -> _Pages:
    return _Pages(db.get_or_404(Patient, patient_id), for_patient=False)


@bp.route("/patients/<int:patient_id>/trips", methods=["GET", "POST"])
@role_required(*REGISTRARS)
def staff(patient_id: int):
    return _list_page(_patients(patient_id))


@bp.route("/patients/<int:patient_id>/trips/<int:trip_id>/edit", methods=["GET", "POST"])
@role_required(*REGISTRARS)
def staff_edit(patient_id: int, trip_id: int):
    pages = _patients(patient_id)
    return _edit_page(pages, _own_trip(pages, trip_id))


@bp.post("/patients/<int:patient_id>/trips/<int:trip_id>/cancel")
@role_required(*REGISTRARS)
def staff_cancel(patient_id: int, trip_id: int):
    pages = _patients(patient_id)
    return _cancel(pages, _own_trip(pages, trip_id))
