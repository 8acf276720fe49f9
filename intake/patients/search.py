"""Finding patients by what the desk types: a name in either script, the
record number, the e-mail or the phone's digits. Typed text is taken
literally (``%`` and ``_`` match only themselves)."""

from __future__ import annotations

from sqlalchemy import func, or_

from intake.patients.models import Patient
from intake.patients.services import phone_digits


def _like_escape(text: str) -> str:
    """A search term taken literally: ``%`` and ``_`` match only themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def patient_search_clause(search: str):
    """Name (own script or Latin), record number, e-mail or phone digits."""
    term = _like_escape(" ".join(search.split()).lower())
    like = f"%{term}%"
    clauses = [
        func.lower(Patient.family_name + " " + Patient.given_name).like(like, escape="\\"),
        func.lower(Patient.family_name + Patient.given_name).like(like, escape="\\"),
        func.lower(
            func.coalesce(Patient.given_name_latin, "")
            + " "
            + func.coalesce(Patient.family_name_latin, "")
        ).like(like, escape="\\"),
        func.lower(
            func.coalesce(Patient.family_name_latin, "")
            + " "
            + func.coalesce(Patient.given_name_latin, "")
        ).like(like, escape="\\"),
        func.lower(func.coalesce(Patient.email, "")).like(like, escape="\\"),
        func.lower(func.coalesce(Patient.record_number, "")).like(like, escape="\\"),
    ]
    digits = phone_digits(search)
    if digits and len(digits) >= 4:
        clauses.append(Patient.phone_digits.like(f"%{digits}%"))
    return or_(*clauses)
