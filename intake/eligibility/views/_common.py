"""Helpers shared by the intake screens, and the blueprint's filter,
context processor and error handler."""

from __future__ import annotations

from datetime import date

from flask import abort, current_app, url_for
from flask_babel import format_date, format_timedelta, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from intake.accounts.roles import CLINICAL_ROLES, Role
from intake.core.access import can_view_patient, require
from intake.core.errors import NotAllowed
from intake.core.languages import supported
from intake.core.types import utcnow
from intake.eligibility import queries, services
from intake.eligibility.models import ConsentKind
from intake.eligibility.question_bank import (
    CHOICE,
    DATE,
    NUMBER,
    TEXT,
    UNIT_YEAR,
    YES,
    YES_NO,
    answer_text,
    is_answered,
)
from intake.eligibility.views import bp
from intake.errors import error_page
from intake.extensions import db
from intake.patients import journey as pure_journey
from intake.patients.models import Patient
from intake.scheduling.visit_kinds import VisitKind

SUMMARY_PAGE = services.SUMMARY_PAGE
STAFF_VIEWERS = CLINICAL_ROLES  # coordinator, doctor, manager
PANEL_EDITORS = (Role.COORDINATOR, Role.DOCTOR)


# --------------------------------------------------------------------------- helpers


def lang() -> str:
    return supported(str(get_locale()))


def kind_title(kind: ConsentKind) -> str:
    return {
        ConsentKind.TREATMENT: _("Consent to the treatment"),
        ConsentKind.CROSS_BORDER: _("Consent to sending data abroad"),
    }[kind]


def show_answer(question, value) -> str:
    """An answer as the reader's language shows it."""
    if not is_answered(value):
        return ""
    if question.kind == TEXT:
        return str(value).strip()  # the patient's own words, unnormalised
    text = answer_text(value)
    if question.kind == YES_NO:
        return _("Yes") if text.lower() == YES else _("No")
    if question.kind == CHOICE:
        choice = next((c for c in question.choices if c.code == text), None)
        return choice.label(lang()) if choice else text
    if question.kind == DATE:
        try:
            return format_date(date.fromisoformat(text), "medium")
        except ValueError:
            return text
    if question.kind == NUMBER and question.unit and question.unit != UNIT_YEAR:
        return f"{text} {question.unit}"
    return text


def book_url() -> str | None:
    """The scheduling screen that books the collection visit, once it exists."""
    if "scheduling.book" in current_app.view_functions:
        return url_for("scheduling.book_kind", kind=VisitKind.COLLECTION.value)
    return None


def _patient_or_404(patient_id: int) -> Patient:
    patient = db.get_or_404(Patient, patient_id)
    require(can_view_patient(current_user, patient))
    return patient


def my_course():
    from intake.patients.services import current_course

    return current_course(me())


def me() -> Patient:
    """The patient record of the logged-in patient."""
    patient = current_user.patient
    if patient is None:
        abort(404)
    return patient


def _kind_or_404(kind: str) -> ConsentKind:
    try:
        return ConsentKind(kind)
    except ValueError:
        abort(404)


def _missing_texts(gate, *, prefix: str = "") -> list[str]:
    """The gate's missing items in the reader's language, tests named in full."""
    return [m.text(_, lang=lang()) for m in gate.missing if m.code.startswith(prefix)]


def _route_name(code: str | None) -> str:
    return services.route_label(code, lang())


def _waiting(since) -> str:
    return format_timedelta(utcnow() - since, threshold=1.0, add_direction=False) if since else ""


@bp.app_template_filter("consent_blocks")
def consent_blocks(text: str) -> list[tuple[str, object]]:
    """A consent body as headings (``## ``), lists (``- ``) and paragraphs."""
    blocks: list[tuple[str, object]] = []
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("## "):
            blocks.append(("heading", line[3:]))
        elif line.startswith("- "):
            if blocks and blocks[-1][0] == "list":
                blocks[-1][1].append(line[2:])
            else:
                blocks.append(("list", [line[2:]]))
        else:
            blocks.append(("paragraph", line))
    return blocks


@bp.app_context_processor
def _eligibility_globals():
    def next_step(journey=None):
        """The patient's current journey step, for the card on their home page;
        from ``journey`` when the page has already worked it out."""
        if not current_user.is_authenticated or current_user.role != Role.PATIENT:
            return None
        if current_user.patient is None:
            return None
        if journey is None:
            data = queries.patient_journey(current_user.patient, today=services.clinic_today())
            journey = data["journey"]
        code = journey.current
        return {"code": code, "text": _step_action(code)}

    return {"eligibility_next_step": next_step}


def _step_action(code: str) -> str:
    return {
        pure_journey.ANSWER: _("Answer the health questions."),
        pure_journey.REVIEW: _("A doctor is reviewing your answers."),
        pure_journey.CONSULTATION: _("Attend your consultation."),
        pure_journey.PANEL: _("Your blood test results are pending."),
        pure_journey.APPROVAL: _("The doctor is making a decision."),
        pure_journey.CONSENT: _("Please read and sign the consent."),
        pure_journey.BOOK: _("Book your collection visit."),
        pure_journey.COLLECTION: _("Come to your collection visit."),
        pure_journey.CULTURE: _("Your cells are growing in the lab."),
        pure_journey.REINFUSION_DATE: _("Confirm your reinfusion date."),
        pure_journey.REINFUSION: _("Come to your reinfusion: your cells are given back."),
        pure_journey.FOLLOW_UP: _("Tell us how you are: the follow-up after your treatment."),
        pure_journey.DECLINED: _("We are sorry: the treatment is not possible for you now."),
        pure_journey.HALTED: _("Your journey has stopped because you withdrew your consent."),
        pure_journey.COMPLETED: _("Your treatment course is complete."),
    }[code]


@bp.errorhandler(NotAllowed)
def _not_allowed(exc):
    db.session.rollback()
    return error_page(403)


def _signature_limit() -> str:
    """Signing re-checks a password: limited like logging in."""
    return current_app.config["LOGIN_RATE_LIMIT"]
