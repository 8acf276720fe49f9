"""Helpers shared by the intake services: the clinic's today, links for
messages, who-may-act checks and text cleaning."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import gettext as _

from intake.accounts.models import User
from intake.accounts.roles import Role
from intake.core.clinic import clinic_today
from intake.core.errors import DomainError, NotAllowed
from intake.eligibility import queries
from intake.eligibility.question_bank import ROUTES
from intake.eligibility.rules import Reason, rule_title
from intake.extensions import db
from intake.notifications.services import notify
from intake.patients.models import Course, Patient
from intake.patients.services import current_course
from intake.scheduling.visit_kinds import VisitKind

ROUTE_CODES = tuple(route.code for route in ROUTES)
#: ``Questionnaire.current_page`` when the patient has reached "review your answers".
SUMMARY_PAGE = "_summary"
TEXT_LIMIT = 4000


# --------------------------------------------------------------------------- helpers


def link(endpoint: str, **values: Any) -> str:
    """An absolute link for messages; works without a request (CLI, seeding)."""
    path = current_app.url_map.bind("").build(endpoint, values)
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def _require_role(actor: User, *roles: Role, message: str) -> None:
    if actor is None or actor.role not in roles:
        raise NotAllowed(message)


def _is_self(actor: User | None, patient: Patient) -> bool:
    return (
        actor is not None
        and actor.role == Role.PATIENT
        and actor.patient is not None
        and actor.patient.id == patient.id
    )


def _require_self(actor: User, patient: Patient) -> None:
    if not _is_self(actor, patient):
        raise NotAllowed(_("Only the patient can do this."))


def course_of(patient: Patient) -> Course:
    """The course the patient's intake records belong to now."""
    return current_course(patient)


def _check_password(actor: User, password: str) -> None:
    if not password or not actor.check_password(password):
        raise DomainError(
            _("The password is not correct, so nothing was signed. Please try again."),
            field="password",
        )


def _clean_text(value: str | None, *, field: str, required: bool, limit: int = TEXT_LIMIT):
    text = (value or "").strip()
    if required and not text:
        raise DomainError(_("This field is required."), field=field)
    if len(text) > limit:
        raise DomainError(_("Please shorten this text to %(n)s characters.", n=limit), field=field)
    return text or None


def reason_texts(reasons: list[dict], translate=_) -> list[dict]:
    """Stored reasons with their message translated and filled in."""
    shown = []
    for data in reasons or []:
        reason = Reason(
            code=data["code"],
            severity=data["severity"],
            message=data["message"],
            params=data.get("params") or {},
            questions=tuple(data.get("questions") or ()),
        )
        shown.append(
            {**data, "text": reason.text(translate), "title": translate(rule_title(reason.code))}
        )
    return shown


def _ready_to_book(patient: Patient) -> bool:
    return queries.collection_gate_for(course_of(patient), today=clinic_today()).allowed


def _tell_if_now_ready(patient: Patient, was_ready: bool) -> None:
    db.session.flush()
    if not was_ready and _ready_to_book(patient):
        if "scheduling.book" in current_app.view_functions:
            target = link("scheduling.book_kind", kind=VisitKind.COLLECTION.value)
        else:
            target = link("eligibility.journey")
        notify(patient, "eligibility_ready_to_book", link=target)
