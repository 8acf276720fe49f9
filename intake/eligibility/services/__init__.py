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
from intake.eligibility.services.consent import (
    consent_meaning,
    sign_consent,
    text_fingerprint,
    withdraw_consent,
)
from intake.eligibility.services.panel import (
    ACCEPTABLE_VALUES,
    create_panel_item,
    enter_panel_result,
    move_panel_item,
    order_panel,
    update_panel_item,
)
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
    store_default_panel_items,
    update_indication,
)
from intake.eligibility.services.review import (
    check_decision,
    correct_answer,
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
    "correct_answer",
    "create_indication",
    "create_panel_item",
    "decide_review",
    "editable_questionnaire",
    "ensure_reference_data",
    "enter_panel_result",
    "incomplete_pages",
    "link",
    "move_panel_item",
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
    "store_default_panel_items",
    "submit_questionnaire",
    "text_fingerprint",
    "update_indication",
    "update_panel_item",
    "withdraw_consent",
]
