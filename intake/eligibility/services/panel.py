"""The infectious panel: ordering it, entering results, and the tests it is made of."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

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
from intake.eligibility.question_bank import LANGUAGES
from intake.eligibility.services._common import (
    _clean_text,
    _ready_to_book,
    _require_role,
    _tell_if_now_ready,
    clinic_today,
    course_of,
    link,
)
from intake.eligibility.services.reference import store_default_panel_items
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


# --------------------------------------------------------------------------- the panel's tests

PANEL_CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9+./-]{0,31}")
PANEL_ORDER_LIMIT = 10000


def _require_panel_editor(actor: User) -> None:
    _require_role(
        actor,
        Role.DOCTOR,
        Role.MANAGER,
        message=_("Only a doctor or a manager can change the panel's tests."),
    )


def _panel_item_names(names: Mapping[str, str]) -> dict[str, str]:
    cleaned = {}
    for lang in LANGUAGES:
        text = _clean_text(names.get(lang), field=f"name_{lang}", required=True, limit=200)
        if "\x00" in text:
            raise DomainError(_("A name cannot contain control characters."), field=f"name_{lang}")
        cleaned[lang] = text
    return cleaned


def _panel_sort_order(value) -> int:
    if not isinstance(value, int) or not 0 <= value <= PANEL_ORDER_LIMIT:
        raise DomainError(
            _("Enter a number from 0 to %(n)s.", n=PANEL_ORDER_LIMIT), field="sort_order"
        )
    return value


def create_panel_item(
    *, actor: User, code: str, names: Mapping[str, str], sort_order: int
) -> PanelItemDefinition:
    """Add a test to the infectious panel. From now on a panel is complete only
    with a valid, acceptable result for it too."""
    _require_panel_editor(actor)
    code = (code or "").strip()
    if not code:
        raise DomainError(_("This field is required."), field="code")
    if not PANEL_CODE_RE.fullmatch(code):
        raise DomainError(
            _("Use up to 32 letters, digits, hyphens, dots, slashes or plus signs, e.g. anti-HEV."),
            field="code",
        )
    clean_names = _panel_item_names(names)
    order = _panel_sort_order(sort_order)
    store_default_panel_items()
    taken = {item.code.lower() for item in queries.all_panel_items()}
    if code.lower() in taken:
        raise DomainError(_("This test is already in the panel."), field="code")
    item = PanelItemDefinition(code=code, names=clean_names, sort_order=order, is_active=True)
    try:
        with db.session.begin_nested():  # the unique code decides a race
            db.session.add(item)
            db.session.flush()
    except IntegrityError:
        raise DomainError(_("This test is already in the panel."), field="code") from None
    audit.record(
        actor=actor,
        action="eligibility.panel_item_create",
        entity=item,
        after=audit.snapshot(item, PanelItemDefinition.AUDITED),
    )
    return item


def update_panel_item(
    item: PanelItemDefinition,
    *,
    actor: User,
    names: Mapping[str, str],
    sort_order: int,
    is_active: bool,
) -> PanelItemDefinition:
    """Rename, reorder, retire (``is_active`` False) or bring back a test. Its code
    stays: results refer to it. A retired test no longer counts for a complete
    panel; its results stay on record and on the patient's panel page."""
    _require_panel_editor(actor)
    clean_names = _panel_item_names(names)
    order = _panel_sort_order(sort_order)
    if item.is_active and not is_active:
        others = [i for i in queries.panel_items() if i.id != item.id]
        if not others:
            raise DomainError(
                _("The panel needs at least one test: add another before retiring this one."),
                field="is_active",
            )
    before = audit.snapshot(item, PanelItemDefinition.AUDITED)
    item.names = clean_names
    item.sort_order = order
    item.is_active = bool(is_active)
    db.session.flush()
    old, new = audit.changes(before, audit.snapshot(item, PanelItemDefinition.AUDITED))
    if new:
        audit.record(
            actor=actor,
            action="eligibility.panel_item_update",
            entity=item,
            before=old,
            after=new,
        )
    return item


def move_panel_item(
    item: PanelItemDefinition, *, actor: User, direction: str
) -> PanelItemDefinition:
    """Move a test one place up or down the list; the list is numbered again
    (0, 10, 20 …) so the order is unambiguous."""
    _require_panel_editor(actor)
    if direction not in ("up", "down"):
        raise DomainError(_("Choose up or down."), field="direction")
    rows = queries.all_panel_items()
    before = [row.code for row in rows]
    index = next(n for n, row in enumerate(rows) if row.id == item.id)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(rows):
        return item  # already first (or last)
    rows[index], rows[other] = rows[other], rows[index]
    step = 10 if len(rows) * 10 <= PANEL_ORDER_LIMIT else 1
    for n, row in enumerate(rows):
        row.sort_order = n * step
    db.session.flush()
    audit.record(
        actor=actor,
        action="eligibility.panel_item_move",
        entity=item,
        before={"order": before},
        after={"order": [row.code for row in rows]},
    )
    return item
