"""Changing intake records. Every function checks who acts, applies the rules,
writes, leaves an audit row, queues the patient's messages and flushes; the
view commits.

The functions live in submodules by subject; every public name is re-exported
here, so callers keep using ``services.<name>``."""

from intake.eligibility.services._common import (
    ROUTE_CODES,
    SUMMARY_PAGE,
    TEXT_LIMIT,
    clinic_today,
    link,
    reason_texts,
)
from intake.eligibility.services.consent import consent_meaning, sign_consent, withdraw_consent
from intake.eligibility.services.panel import ACCEPTABLE_VALUES, enter_panel_result, order_panel
from intake.eligibility.services.questionnaire import (
    AnswersInvalid,
    editable_questionnaire,
    incomplete_pages,
    neighbour_page,
    save_page,
    submit_questionnaire,
)
from intake.eligibility.services.reference import (
    create_indication,
    ensure_reference_data,
    publish_consent_document,
    questionnaire_data,
    route_label,
    update_indication,
)
from intake.eligibility.services.review import (
    check_decision,
    decide_review,
    open_review,
    outcome_label,
    review_meaning,
    save_review_notes,
)

__all__ = [
    "ACCEPTABLE_VALUES",
    "ROUTE_CODES",
    "SUMMARY_PAGE",
    "TEXT_LIMIT",
    "AnswersInvalid",
    "check_decision",
    "clinic_today",
    "consent_meaning",
    "create_indication",
    "decide_review",
    "editable_questionnaire",
    "ensure_reference_data",
    "enter_panel_result",
    "incomplete_pages",
    "link",
    "neighbour_page",
    "open_review",
    "order_panel",
    "outcome_label",
    "publish_consent_document",
    "questionnaire_data",
    "reason_texts",
    "review_meaning",
    "route_label",
    "save_page",
    "save_review_notes",
    "sign_consent",
    "submit_questionnaire",
    "update_indication",
    "withdraw_consent",
]
