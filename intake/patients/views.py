"""The patient's own page, and the staff's patient list and record."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from intake.accounts.models import User
from intake.accounts.roles import CLINICAL_ROLES, Role
from intake.core.access import can_view_patient, require, role_required
from intake.core.types import utcnow
from intake.extensions import db
from intake.patients import queries

bp = Blueprint("patients", __name__)


@bp.get("/me")
@role_required(Role.PATIENT)
def home():
    return render_template("patients/home.html", **queries.patient_home(current_user))


@bp.get("/patients")
@role_required(*CLINICAL_ROLES)
def staff_home():
    search = request.args.get("q", "").strip()[:100]
    page = queries.patient_list(search, request.args.get("page", 1, type=int))
    return render_template("patients/staff_home.html", page=page, search=search)


@bp.get("/patients/<int:patient_id>")
@role_required(*CLINICAL_ROLES)
def record(patient_id: int):
    patient = db.get_or_404(User, patient_id)
    require(patient.role == Role.PATIENT and can_view_patient(current_user, patient))
    return render_template(
        "patients/record.html", patient=patient, **queries.patient_record(patient, now=utcnow())
    )
