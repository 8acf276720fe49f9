"""Small helpers shared by tests."""

from __future__ import annotations


def course_of(patient):
    """The current course of a patient record or of a patient's login."""
    from intake.patients.services import current_course

    return current_course(getattr(patient, "patient", None) or patient)
