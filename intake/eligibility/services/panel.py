"""The infectious panel: ordering it and entering results."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _

from intake.accounts.models import User
from intake.accounts.roles import Role
from intake.core import audit
from intake.core.errors import DomainError
from intake.eligibility import queries
from intake.eligibility.models import (
    PanelItemDefinition,
    PanelOrder,
    PanelResult,
    Questionnaire,
    QuestionnaireStatus,
)
from intake.eligibility.services._common import (
    course_of,
    _clean_text,
    _ready_to_book,
    _require_role,
    _tell_if_now_ready,
    clinic_today,
    link,
)
from intake.eligibility.services.review import _require_doctor
from intake.extensions import db
from intake.notifications.services import notify
from intake.patients.models import Patient

# --------------------------------------------------------------------------- the panel


def _configured_items() -> dict[str, PanelItemDefinition]:
    return {item.code: item for item in queries.panel_items()}


def order_panel(
    questionnaire: Questionnaire,
    *,
    actor: User,
    items: list[str] | None = None,
    note: str | None = None,
) -> PanelOrder:
    """The doctor orders the infectious panel (every configured test unless
    ``items`` names some)."""
    _require_doctor(actor)
    if questionnaire.status not in (QuestionnaireStatus.SUBMITTED, QuestionnaireStatus.APPROVED):
        raise DomainError(_("The panel can be ordered once the answers have been sent."))
    configured = _configured_items()
    chosen = list(items) if items else list(configured)
    unknown = [code for code in chosen if code not in configured]
    if unknown or not chosen:
        raise DomainError(_("Choose tests from the clinic's panel list."), field="items")
    order = PanelOrder(
        patient_id=questionnaire.patient_id,
        course_id=questionnaire.course_id,
        questionnaire_id=questionnaire.id,
        ordered_by_id=actor.id,
        items=[code for code in configured if code in chosen],
        note=_clean_text(note, field="note", required=False),
    )
    db.session.add(order)
    db.session.flush()
    patient = questionnaire.patient
    audit.record(
        actor=actor,
        action="eligibility.panel_order",
        entity=order,
        after={"items": order.items, "note": order.note},
        patient=patient,
    )
    notify(
        patient,
        "eligibility_panel_ordered",
        tests=[configured[code].label(patient.locale) for code in order.items],
        link=link("eligibility.journey"),
    )
    return order


ACCEPTABLE_VALUES = {"yes": True, "no": False, "pending": None}


def enter_panel_result(
    patient: Patient,
    *,
    actor: User,
    item_code: str,
    test_date: date | None,
    result: str,
    acceptable: bool | None,
    note: str | None = None,
) -> PanelResult:
    """Record one test result. Results are never overwritten: a new entry for
    the same test replaces the earlier one from now on and points at it."""
    _require_role(
        actor,
        Role.COORDINATOR,
        Role.DOCTOR,
        message=_("Only a coordinator or a doctor can enter test results."),
    )
    if not isinstance(patient, Patient):
        raise DomainError(_("Test results belong to a patient."))
    configured = _configured_items()
    if item_code not in configured:
        raise DomainError(_("Choose a test from the clinic's panel list."), field="item_code")
    if test_date is None:
        raise DomainError(_("Enter the date the blood was taken."), field="test_date")
    if test_date > clinic_today():
        raise DomainError(_("The test date cannot be in the future."), field="test_date")
    born = patient.date_of_birth
    if (born and test_date < born) or test_date.year < 1900:
        raise DomainError(_("Please check the test date."), field="test_date")
    result_text = _clean_text(result, field="result", required=True, limit=200)
    note_text = _clean_text(note, field="note", required=False)
    if acceptable is not None and actor.role != Role.DOCTOR:
        # Only a doctor judges a result; the coordinator records it as waiting.
        raise DomainError(
            _("Only a doctor can accept or refuse a test result. Leave it as waiting."),
            field="acceptable",
        )
    was_ready = _ready_to_book(patient)
    course = course_of(patient)
    previous = queries.latest_panel_results(course.id).get(item_code)
    row = PanelResult(
        patient_id=patient.id,
        course=course,
        item_code=item_code,
        test_date=test_date,
        result=result_text,
        acceptable=acceptable,
        note=note_text,
        replaces_id=previous.id if previous else None,
        entered_by_id=actor.id,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        actor=actor,
        action="eligibility.panel_result",
        entity=row,
        before=audit.snapshot(previous, PanelResult.AUDITED) if previous else None,
        after=audit.snapshot(row, PanelResult.AUDITED),
        patient=patient,
    )
    _tell_if_now_ready(patient, was_ready)
    return row
