"""The patient's own page, and the staff's patient list, registration and record."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from intake.accounts import services as account_services
from intake.accounts.roles import CLINICAL_ROLES, DESK_ROLES, Role
from intake.core.access import can_view_patient, require, role_required
from intake.core.errors import DomainError
from intake.core.types import utcnow
from intake.core.web import MAX_PAGE, query_int, query_text, show_domain_error
from intake.eligibility.queries import panel_items
from intake.extensions import db
from intake.patients import queries, services
from intake.patients.forms import InviteForm, PatientRegistrationForm
from intake.patients.models import COURSE_STATUS_LABELS, SEX_LABELS, Patient

bp = Blueprint("patients", __name__)


@bp.get("/me")
@role_required(Role.PATIENT)
def home():
    return render_template("patients/home.html", **queries.patient_home(current_user, now=utcnow()))


@bp.get("/patients")
@role_required(*CLINICAL_ROLES)
def staff_home():
    search = query_text("q", max_length=100) or ""
    page = queries.patient_list(search, query_int("page", maximum=MAX_PAGE, default=1))
    return render_template(
        "patients/staff_home.html",
        page=page,
        search=search,
        can_register=current_user.role in services.REGISTRARS,
    )


@bp.route("/patients/new", methods=["GET", "POST"])
@role_required(*services.REGISTRARS)
def register():
    """A coordinator registers a patient who phones or walks in. Records that
    may be the same person are shown; saving anyway needs a confirmation."""
    form = PatientRegistrationForm()
    duplicates: list[Patient] = []
    if form.validate_on_submit():
        duplicates = queries.possible_duplicates(
            family_name=form.family_name.data,
            given_name=form.given_name.data,
            date_of_birth=form.date_of_birth.data,
            phone=form.phone.data,
        )
        if duplicates and request.form.get("not_duplicate") != "yes":
            flash(
                _(
                    "This may be a patient who is already registered. Check the records "
                    "below; register a new record only if it is a different person."
                ),
                "warning",
            )
        else:
            try:
                patient = services.register_patient_by_staff(
                    actor=current_user,
                    family_name=form.family_name.data,
                    given_name=form.given_name.data,
                    family_name_latin=form.family_name_latin.data,
                    given_name_latin=form.given_name_latin.data,
                    date_of_birth=form.date_of_birth.data,
                    sex=form.sex.data or None,
                    nationality=form.nationality.data or None,
                    phone=form.phone.data,
                    email=form.email.data,
                    locale=form.locale.data,
                )
            except DomainError as exc:
                show_domain_error(form, exc)
            else:
                db.session.commit()
                flash(_("%(name)s is registered.", name=patient.full_name), "success")
                return redirect(url_for("patients.record", patient_id=patient.id))
    return render_template("patients/register.html", form=form, duplicates=duplicates)


def _record_context(patient: Patient) -> dict:
    data = queries.patient_record(patient, now=utcnow())
    lang = str(get_locale())
    data["gate_texts"] = [item.text(_, lang=lang) for item in data["intake"]["gate"].missing]
    return data


def _patient_or_404(patient_id: int) -> Patient:
    patient = db.get_or_404(Patient, patient_id)
    require(can_view_patient(current_user, patient))
    return patient


@bp.get("/patients/<int:patient_id>")
@role_required(*CLINICAL_ROLES)
def record(patient_id: int):
    patient = _patient_or_404(patient_id)
    invite = InviteForm()
    if patient.email and not invite.email.data:
        invite.email.data = patient.email
    return render_template(
        "patients/record.html",
        patient=patient,
        invite_form=invite,
        can_register=current_user.role in services.REGISTRARS,
        can_book=current_user.role in DESK_ROLES,
        sex_labels=SEX_LABELS,
        course_status_labels=COURSE_STATUS_LABELS,
        **_record_context(patient),
    )


@bp.post("/patients/<int:patient_id>/invite")
@role_required(*services.REGISTRARS)
def invite(patient_id: int):
    patient = _patient_or_404(patient_id)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            account_services.invite_patient(patient, email=form.email.data, actor=current_user)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(
                _(
                    "An invitation to choose a password was sent to %(email)s.",
                    email=form.email.data,
                ),
                "success",
            )
            return redirect(url_for("patients.record", patient_id=patient.id))
    return render_template(
        "patients/record.html",
        patient=patient,
        invite_form=form,
        can_register=True,
        can_book=True,
        sex_labels=SEX_LABELS,
        course_status_labels=COURSE_STATUS_LABELS,
        **_record_context(patient),
    ), 400


@bp.post("/patients/<int:patient_id>/courses")
@role_required(*services.REGISTRARS)
def new_course(patient_id: int):
    patient = _patient_or_404(patient_id)
    try:
        services.start_new_course(patient, actor=current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
        flash(_("A new treatment course is open."), "success")
    return redirect(url_for("patients.record", patient_id=patient.id))


@bp.get("/worklist")
@role_required(*CLINICAL_ROLES)
def worklist():
    """The coordinator's and the doctor's landing page: every course by what
    it waits for, each row opening the patient's record. Each lane shows its
    count and its first rows; ``?lane=<code>&page=<n>`` pages through one
    lane (an unknown lane is not found, the page is clamped)."""
    from intake.patients import worklist as lanes

    lane = request.args.get("lane")
    if lane is not None and lane not in lanes.LANES:
        abort(404)
    page = query_int("page", maximum=MAX_PAGE, default=1) or 1
    data = queries.worklist(now=utcnow(), lane=lane, page=page)
    lang = str(get_locale())
    names = {item.code: item.label(lang) for item in panel_items()}
    problems = {
        "panel_missing": _("not recorded"),
        "panel_pending": _("waiting for a doctor's assessment"),
        "panel_expired": _("expired"),
        "panel_unacceptable": _("not acceptable"),
        "panel_date_invalid": _("no valid test date"),
    }
    for rows in data["lanes"].values():
        for row in rows:
            groups: dict[str, list[str]] = {}
            for code in row["reasons"]:
                kind, _sep, item = code.partition(":")
                if row["collection"] is not None and not item:  # expiring before the visit
                    kind, item = "panel_expired", code
                if kind in problems:
                    groups.setdefault(problems[kind], []).append(names.get(item, item))
            row["reason_groups"] = groups
    first = lanes.FOR_DOCTOR if current_user.role == Role.DOCTOR else lanes.FOR_COORDINATOR
    order = [*first, *(code for code in lanes.LANES if code not in first)]
    return render_template(
        "patients/worklist.html",
        order=order if lane is None else [lane],
        lane_page=lane is not None,
        titles=lanes.LANE_TITLES,
        **data,
    )
