"""Downloads of a course as FHIR: the clinical staff from the patient's
record, the patient from their own page. Another patient's course answers 404."""

from __future__ import annotations

from flask import Blueprint, Response
from flask_login import current_user

from intake.accounts.roles import CLINICAL_ROLES, Role
from intake.core.access import can_view_patient, require, role_required
from intake.core.types import utcnow
from intake.extensions import db
from intake.fhir import services
from intake.patients.models import Course, Patient

bp = Blueprint("fhir", __name__)


def _download(course: Course, channel: str) -> Response:
    bundle = services.export_course(course, actor=current_user, now=utcnow(), channel=channel)
    db.session.commit()
    response = Response(services.as_json(bundle), mimetype=services.MEDIA_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{services.filename(course)}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/patients/<int:patient_id>/courses/<int:course_id>/fhir")
@role_required(*CLINICAL_ROLES)
def staff_download(patient_id: int, course_id: int):
    patient = db.get_or_404(Patient, patient_id)
    require(can_view_patient(current_user, patient))
    course = db.get_or_404(Course, course_id)
    require(course.patient_id == patient.id)
    return _download(course, "record")


@bp.get("/me/courses/<int:course_id>/fhir")
@role_required(Role.PATIENT)
def patient_download(course_id: int):
    course = db.get_or_404(Course, course_id)
    own = getattr(current_user, "patient", None)
    require(own is not None and course.patient_id == own.id)
    return _download(course, "patient")
