"""Changing intake records. Every function checks who acts, applies the rules,
writes, leaves an audit row, queues the patient's messages and flushes; the
view commits."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from intake.accounts.models import User
from intake.accounts.roles import Role
from intake.core import audit, settings
from intake.core.errors import DomainError, NotAllowed
from intake.core.time import clinic_today as _clinic_today
from intake.core.types import utcnow
from intake.eligibility import consent_texts, queries
from intake.eligibility.gate import DEFAULT_PANEL_ITEMS
from intake.eligibility.models import (
    ConsentDocument,
    ConsentKind,
    ConsentSignature,
    Decision,
    Indication,
    Outcome,
    PanelItemDefinition,
    PanelOrder,
    PanelResult,
    Questionnaire,
    QuestionnaireStatus,
    QuestionSet,
    Review,
)
from intake.eligibility.question_bank import (
    DEFAULT_QUESTION_SET,
    INDICATIONS,
    LANGUAGES,
    MSG_REQUIRED,
    ROUTES,
    is_answered,
    validate_answers,
    visible_questions,
)
from intake.eligibility.question_bank import QuestionSet as QuestionSetData
from intake.eligibility.rules import DEFAULT_THRESHOLDS, Reason, evaluate
from intake.extensions import db
from intake.notifications.services import notify

ROUTE_CODES = tuple(route.code for route in ROUTES)
#: ``Questionnaire.current_page`` when the patient has reached "review your answers".
SUMMARY_PAGE = "_summary"
TEXT_LIMIT = 4000


class AnswersInvalid(DomainError):
    """Several answers on a page are wrong; ``errors`` maps question code to message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(_("Please check the highlighted answers."))
        self.errors = errors


# --------------------------------------------------------------------------- helpers


def clinic_today() -> date:
    return _clinic_today(utcnow(), ZoneInfo(current_app.config["CLINIC_TIMEZONE"]))


def link(endpoint: str, **values: Any) -> str:
    """An absolute link for messages; works without a request (CLI, seeding)."""
    path = current_app.url_map.bind("").build(endpoint, values)
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def _require_role(actor: User, *roles: Role, message: str) -> None:
    if actor is None or actor.role not in roles:
        raise NotAllowed(message)


def _require_self(actor: User, patient: User) -> None:
    if actor is None or actor.id != patient.id or patient.role != Role.PATIENT:
        raise NotAllowed(_("Only the patient can do this."))


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
        shown.append({**data, "text": reason.text(translate)})
    return shown


def _ready_to_book(patient: User) -> bool:
    return queries.collection_gate_for(patient, today=clinic_today()).allowed


def _tell_if_now_ready(patient: User, was_ready: bool) -> None:
    db.session.flush()
    if not was_ready and _ready_to_book(patient):
        if "scheduling.book" in current_app.view_functions:
            target = link("scheduling.book", visit_type="collection")
        else:
            target = link("eligibility.journey")
        notify(patient, "eligibility_ready_to_book", link=target)


# --------------------------------------------------------------------------- reference data


def ensure_reference_data(*, actor: User | None = None) -> list[str]:
    """Store question set 1, the indications, the panel items and version 1 of
    each consent document when the clinic has none yet. Idempotent."""
    added: list[str] = []
    if queries.active_question_set() is None:
        db.session.add(_question_set_row(DEFAULT_QUESTION_SET))
        added.append(f"question set version {DEFAULT_QUESTION_SET.version}")
    if not queries.indications(active_only=False):
        for n, item in enumerate(INDICATIONS):
            db.session.add(
                Indication(
                    code=item.code, names=dict(item.names), routes=list(item.routes), sort_order=n
                )
            )
        added.append(f"{len(INDICATIONS)} indications")
    if db.session.execute(select(PanelItemDefinition.id).limit(1)).first() is None:
        for n, item in enumerate(DEFAULT_PANEL_ITEMS):
            db.session.add(
                PanelItemDefinition(code=item.code, names=dict(item.names), sort_order=n)
            )
        added.append(f"{len(DEFAULT_PANEL_ITEMS)} panel items")
    existing = {(d.kind.value, d.locale) for d in queries.consent_documents()}
    for (kind, locale), (title, body) in consent_texts.DOCUMENTS.items():
        if (kind, locale) not in existing:
            publish_consent_document(
                actor=actor, kind=ConsentKind(kind), locale=locale, title=title, body=body
            )
            added.append(f"consent {kind} {locale} v1")
    db.session.flush()
    return added


def _question_set_row(data: QuestionSetData) -> QuestionSet:
    return QuestionSet(version=data.version, definition=data.to_dict(), is_active=True)


def _active_question_set() -> QuestionSet:
    row = queries.active_question_set()
    if row is None:
        row = _question_set_row(DEFAULT_QUESTION_SET)
        db.session.add(row)
        db.session.flush()
    return row


def questionnaire_data(questionnaire: Questionnaire | None) -> QuestionSetData:
    row = questionnaire.question_set if questionnaire is not None else queries.active_question_set()
    answered = questionnaire.answers.get("indication") if questionnaire is not None else None
    return queries.question_set_data(row, queries.indications(active_only=False), answered)


# --------------------------------------------------------------------------- questionnaire


def editable_questionnaire(patient: User, *, create: bool) -> Questionnaire | None:
    """The draft (or returned) questionnaire, a new draft when ``create`` and
    none is open, or None. Refuses while answers are with the doctor."""
    current = queries.current_questionnaire(patient.id)
    if current is not None and current.is_editable:
        return current
    if current is not None and current.status != QuestionnaireStatus.DECLINED:
        raise DomainError(
            _("Your answers have already been sent to the doctor, so they cannot be changed now.")
        )
    if not create:
        return None
    questionnaire = Questionnaire(
        patient_id=patient.id,
        question_set=_active_question_set(),
        status=QuestionnaireStatus.DRAFT,
        answers={},
    )
    db.session.add(questionnaire)
    db.session.flush()
    audit.record(
        actor=patient,
        action="eligibility.questionnaire_start",
        entity=questionnaire,
        after={"question_set_version": questionnaire.question_set.version},
        patient=patient,
    )
    return questionnaire


def save_page(
    patient: User,
    page_code: str,
    raw: Mapping[str, Any],
    *,
    actor: User,
    direction: str = "next",
) -> Questionnaire:
    """Check one page's answers and keep them in the draft, remembering the page
    to come back to. Going ``next`` needs every required answer on the page;
    going ``back`` or saving to finish later (``stay``) keeps what is there,
    and only wrong answers are errors. Nothing is saved when any answer is wrong."""
    _require_self(actor, patient)
    current = editable_questionnaire(patient, create=False)
    data = questionnaire_data(current)
    try:
        page = data.page(page_code)
    except KeyError:
        raise DomainError(_("This page of the questionnaire does not exist.")) from None
    previous = dict(current.answers) if current is not None else {}
    clean, errors = validate_answers(data, page_code, raw, today=clinic_today(), previous=previous)
    if direction != "next":
        errors = {code: msg for code, msg in errors.items() if msg != MSG_REQUIRED}
    if errors:
        raise AnswersInvalid({code: _(msg) for code, msg in errors.items()})
    questionnaire = current or editable_questionnaire(patient, create=True)
    own = {q.code for q in page.questions}
    before = {k: v for k, v in previous.items() if k in own}
    questionnaire.answers = {**{k: v for k, v in previous.items() if k not in own}, **clean}
    old_page = questionnaire.current_page
    if direction == "stay":
        questionnaire.current_page = page_code
    else:
        step = 1 if direction == "next" else -1
        target = neighbour_page(data, questionnaire.answers, page_code, step)
        questionnaire.current_page = target or (SUMMARY_PAGE if step == 1 else page_code)
    old, new = audit.changes(before, clean)
    removed = {k: before[k] for k in before if k not in clean}
    if new or removed or old_page != questionnaire.current_page:
        audit.record(
            actor=actor,
            action="eligibility.questionnaire_save",
            entity=questionnaire,
            before={**old, **removed},
            after=new,
            patient=patient,
            note=f"page {page_code}",
        )
    db.session.flush()
    return questionnaire


def neighbour_page(
    data: QuestionSetData, answers: Mapping[str, Any], page_code: str, step: int
) -> str | None:
    """The next (``step`` 1) or previous (-1) page that has a question to ask."""
    codes = [page.code for page in data.pages]
    index = codes.index(page_code) + step
    while 0 <= index < len(codes):
        if visible_questions(data, answers, codes[index]):
            return codes[index]
        index += step
    return None


def incomplete_pages(data: QuestionSetData, answers: Mapping[str, Any], today: date) -> list:
    """Pages that still have a missing or wrong answer."""
    return [
        page
        for page in data.pages
        if validate_answers(data, page.code, answers, today=today, previous=answers)[1]
    ]


def _assess(questionnaire: Questionnaire, patient: User, consultation_date: date) -> None:
    if patient.date_of_birth is None:
        raise DomainError(
            _(
                "We need your date of birth before a doctor can review your answers. "
                "Please contact the clinic."
            )
        )
    thresholds = {key: settings.get(key) for key in DEFAULT_THRESHOLDS}
    assessment = evaluate(
        questionnaire.answers, patient.date_of_birth, consultation_date, thresholds
    )
    questionnaire.outcome = Outcome(assessment.outcome)
    questionnaire.reasons = [
        {
            "code": r.code,
            "severity": r.severity,
            "message": r.message,
            "params": dict(r.params),
            "questions": list(r.questions),
        }
        for r in assessment.reasons
    ]
    questionnaire.consultation_date = consultation_date
    questionnaire.assessed_age = assessment.age


def submit_questionnaire(
    patient: User, *, actor: User, consultation_date: date | None = None
) -> Questionnaire:
    """Send the answers to the doctor with the rules' assessment. The age is
    taken on the consultation date: today in the clinic unless it is known."""
    _require_self(actor, patient)
    questionnaire = editable_questionnaire(patient, create=False)
    if questionnaire is None:
        raise DomainError(_("Please answer the questions first."))
    data = questionnaire_data(questionnaire)
    today = clinic_today()
    missing = incomplete_pages(data, questionnaire.answers, today)
    if missing:
        names = ", ".join(page.label(patient.locale) for page in missing)
        raise DomainError(
            _("Some questions still need an answer, on: %(pages)s.", pages=names),
            code="incomplete",
        )
    before = audit.snapshot(questionnaire, Questionnaire.AUDITED)
    shown = visible_questions(data, questionnaire.answers)
    questionnaire.answers = {
        q.code: questionnaire.answers[q.code]
        for q in shown
        if is_answered(questionnaire.answers.get(q.code))
    }
    _assess(questionnaire, patient, consultation_date or today)
    questionnaire.status = QuestionnaireStatus.SUBMITTED
    questionnaire.submitted_at = utcnow()
    questionnaire.current_page = None
    audit.record(
        actor=actor,
        action="eligibility.questionnaire_submit",
        entity=questionnaire,
        before=before,
        after={
            **audit.snapshot(questionnaire, Questionnaire.AUDITED),
            "answers": questionnaire.answers,
            "reasons": [r["code"] for r in questionnaire.reasons],
        },
        patient=patient,
    )
    with force_locale(patient.locale):
        reasons = reason_texts(questionnaire.reasons)
    notify(
        patient,
        "eligibility_submitted",
        outcome=questionnaire.outcome.value,
        reasons=reasons,
        link=link("eligibility.journey"),
    )
    db.session.flush()
    return questionnaire


# --------------------------------------------------------------------------- doctor review


def _require_doctor(actor: User) -> None:
    _require_role(actor, Role.DOCTOR, message=_("Only a doctor can review eligibility."))


def _require_submitted(questionnaire: Questionnaire) -> None:
    if questionnaire.status != QuestionnaireStatus.SUBMITTED:
        raise DomainError(_("This questionnaire is not waiting for a review any more."))


def open_review(questionnaire: Questionnaire, *, actor: User) -> Review:
    review = next((r for r in queries.latest_reviews(questionnaire.id) if r.decision is None), None)
    if review is None:
        review = Review(
            questionnaire=questionnaire, patient_id=questionnaire.patient_id, doctor_id=actor.id
        )
        db.session.add(review)
    return review


def _indication(code: str | None) -> Indication | None:
    if not code:
        return None
    return next((i for i in queries.indications(active_only=False) if i.code == code), None)


def route_label(code: str | None, lang: str) -> str:
    route = next((r for r in ROUTES if r.code == code), None)
    if route is None:
        return code or ""
    return route.names.get(lang) or route.names["en"]


def save_review_notes(
    questionnaire: Questionnaire,
    *,
    actor: User,
    history_notes: str | None,
    consultation_date: date | None,
    indication_code: str | None,
    planned_route: str | None,
) -> Review:
    """The doctor's consultation notes, indication and planned route. A new
    consultation date re-runs the rules (age is taken on that day)."""
    _require_doctor(actor)
    _require_submitted(questionnaire)
    notes = _clean_text(history_notes, field="history_notes", required=False, limit=20000)
    indication = _indication(indication_code)
    if indication_code and (indication is None or not indication.is_active):
        raise DomainError(_("Choose one of the clinic's indications."), field="indication_code")
    if planned_route:
        if indication is None:
            raise DomainError(_("Choose the indication first."), field="planned_route")
        if planned_route not in indication.routes:
            lang = actor.locale
            allowed = ", ".join(route_label(code, lang) for code in indication.routes)
            raise DomainError(
                _(
                    "For %(indication)s the clinic's plan allows: %(routes)s.",
                    indication=indication.label(lang),
                    routes=allowed,
                ),
                field="planned_route",
            )
    if consultation_date is not None:
        submitted_day = questionnaire.submitted_at.date() if questionnaire.submitted_at else None
        horizon = clinic_today() + timedelta(days=settings.get("horizon_days"))
        if (submitted_day and consultation_date < submitted_day - timedelta(days=1)) or (
            consultation_date > horizon
        ):
            raise DomainError(
                _(
                    "Enter the day of the consultation: not before the answers were sent and "
                    "within the booking horizon."
                ),
                field="consultation_date",
            )
    review = open_review(questionnaire, actor=actor)
    before = audit.snapshot(review, Review.NOTES) if review.id else {}
    review.history_notes = notes
    review.consultation_date = consultation_date
    review.indication_code = indication.code if indication else None
    review.planned_route = planned_route or None
    review.doctor_id = actor.id
    db.session.flush()
    old, new = audit.changes(before, audit.snapshot(review, Review.NOTES))
    if new or not before:
        audit.record(
            actor=actor,
            action="eligibility.review_notes",
            entity=review,
            before=old,
            after=new,
            patient=questionnaire.patient,
        )
    if consultation_date is not None and consultation_date != questionnaire.consultation_date:
        assessed = audit.snapshot(questionnaire, ("outcome", "consultation_date", "assessed_age"))
        _assess(questionnaire, questionnaire.patient, consultation_date)
        audit.record(
            actor=actor,
            action="eligibility.reassess",
            entity=questionnaire,
            before=assessed,
            after={
                **audit.snapshot(questionnaire, ("outcome", "consultation_date", "assessed_age")),
                "reasons": [r["code"] for r in questionnaire.reasons],
            },
            patient=questionnaire.patient,
        )
    db.session.flush()
    return review


def review_meaning(
    decision: Decision, *, doctor: User, patient: User, indication: str = "", route: str = ""
) -> str:
    """What the doctor's signature means, in the language they sign in."""
    if decision == Decision.APPROVED:
        return _(
            "I, %(doctor)s, approve %(patient)s as eligible for treatment with their own "
            "adipose-derived stem cells for %(indication)s, by %(route)s.",
            doctor=doctor.full_name,
            patient=patient.full_name,
            indication=indication,
            route=route,
        )
    if decision == Decision.DECLINED:
        return _(
            "I, %(doctor)s, decline the treatment for %(patient)s for the reason given.",
            doctor=doctor.full_name,
            patient=patient.full_name,
        )
    return _(
        "I, %(doctor)s, ask %(patient)s for more information before deciding.",
        doctor=doctor.full_name,
        patient=patient.full_name,
    )


def decide_review(
    questionnaire: Questionnaire,
    *,
    actor: User,
    decision: Decision,
    reason: str,
    password: str,
    override_reason: str | None = None,
) -> Review:
    """Approve, decline or ask for more information, signed with the doctor's
    password. Approving against the rules' ``ineligible`` or ``needs_review``
    is an override and needs a written reason."""
    _require_doctor(actor)
    _require_submitted(questionnaire)
    try:
        decision = Decision(decision)
    except ValueError:
        raise DomainError(_("Choose a decision."), field="decision") from None
    reason_text = _clean_text(reason, field="reason", required=True)
    review = open_review(questionnaire, actor=actor)
    patient = questionnaire.patient
    is_override = decision == Decision.APPROVED and questionnaire.outcome in (
        Outcome.INELIGIBLE,
        Outcome.NEEDS_REVIEW,
    )
    override_text = _clean_text(override_reason, field="override_reason", required=False)
    if is_override and not override_text:
        raise DomainError(
            _(
                "The rules found this patient %(outcome)s. To approve anyway, write why.",
                outcome=outcome_label(questionnaire.outcome),
            ),
            field="override_reason",
        )
    indication = _indication(review.indication_code)
    if decision == Decision.APPROVED and (indication is None or not review.planned_route):
        raise DomainError(
            _("Record the indication and the planned route in the notes before approving."),
            field="decision",
        )
    _check_password(actor, password)
    lang = actor.locale
    before = audit.snapshot(review, Review.AUDITED) if review.id else {}
    review.decision = decision
    review.reason = reason_text
    review.is_override = is_override
    review.override_reason = override_text if is_override else None
    review.doctor_id = actor.id
    review.signed_at = utcnow()
    review.signer_name = actor.full_name
    review.signature_meaning = review_meaning(
        decision,
        doctor=actor,
        patient=patient,
        indication=indication.label(lang) if indication else "",
        route=route_label(review.planned_route, lang),
    )
    old_status = questionnaire.status
    questionnaire.status = {
        Decision.APPROVED: QuestionnaireStatus.APPROVED,
        Decision.DECLINED: QuestionnaireStatus.DECLINED,
        Decision.MORE_INFO: QuestionnaireStatus.RETURNED,
    }[decision]
    db.session.flush()
    audit.record(
        actor=actor,
        action="eligibility.review_decision",
        entity=review,
        before={**before, "questionnaire_status": old_status.value},
        after={
            **audit.snapshot(review, Review.AUDITED),
            "questionnaire_status": questionnaire.status.value,
            "rules_outcome": questionnaire.outcome.value if questionnaire.outcome else None,
        },
        patient=patient,
        note=review.signature_meaning,
    )
    _tell_patient_of_decision(patient, questionnaire, review, indication)
    db.session.flush()
    return review


def outcome_label(outcome: Outcome | None) -> str:
    return {
        Outcome.ELIGIBLE: _("eligible"),
        Outcome.NEEDS_REVIEW: _("in need of a doctor's review"),
        Outcome.INELIGIBLE: _("not eligible"),
    }.get(outcome, "")


def _tell_patient_of_decision(patient, questionnaire, review, indication) -> None:
    journey = link("eligibility.journey")
    if review.decision == Decision.APPROVED:
        notify(
            patient,
            "eligibility_approved",
            indication=indication.label(patient.locale) if indication else "",
            route=route_label(review.planned_route, patient.locale),
            link=journey,
            consent_link=link("eligibility.consent"),
        )
    elif review.decision == Decision.DECLINED:
        with force_locale(patient.locale):
            reasons = reason_texts(questionnaire.reasons)
        notify(
            patient,
            "eligibility_declined",
            reasons=[r for r in reasons if r["severity"] == "exclude"],
            doctor_reason=review.reason,
            link=journey,
        )
    else:
        notify(
            patient,
            "eligibility_more_info",
            doctor_reason=review.reason,
            link=link("eligibility.questionnaire"),
        )


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
    patient: User,
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
    if patient.role != Role.PATIENT:
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
    was_ready = _ready_to_book(patient)
    previous = queries.latest_panel_results(patient.id).get(item_code)
    row = PanelResult(
        patient_id=patient.id,
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


# --------------------------------------------------------------------------- consent


def publish_consent_document(
    *, actor: User | None, kind: ConsentKind, locale: str, title: str, body: str
) -> ConsentDocument:
    """A new version of a consent in one language; the previous one stops
    being current (signatures of it stay valid and keep pointing at it)."""
    if actor is not None:
        _require_role(actor, Role.MANAGER, message=_("Only a manager can publish consent texts."))
    if locale not in LANGUAGES:
        raise DomainError(_("Choose a language."), field="locale")
    title_text = _clean_text(title, field="title", required=True, limit=300)
    body_text = _clean_text(body, field="body", required=True, limit=100000)
    documents = [d for d in queries.consent_documents() if d.kind == kind and d.locale == locale]
    version = max((d.version for d in documents), default=0) + 1
    for document in documents:
        document.is_current = False
    document = ConsentDocument(
        kind=kind,
        version=version,
        locale=locale,
        title=title_text,
        body=body_text,
        is_current=True,
        published_by_id=actor.id if actor else None,
    )
    db.session.add(document)
    db.session.flush()
    audit.record(
        actor=actor,
        action="eligibility.consent_publish",
        entity=document,
        after={"kind": kind.value, "version": version, "locale": locale, "title": title_text},
    )
    return document


def consent_meaning(document: ConsentDocument, signer_name: str) -> str:
    """What signing means, in the document's language."""
    with force_locale(document.locale):
        if document.kind == ConsentKind.TREATMENT:
            return _(
                "I, %(name)s, have read and understood “%(title)s” (version %(version)s), "
                "have been able to ask questions, and I consent to the treatment it describes.",
                name=signer_name,
                title=document.title,
                version=document.version,
            )
        return _(
            "I, %(name)s, have read “%(title)s” (version %(version)s) and I consent to my "
            "personal data being sent abroad as it describes.",
            name=signer_name,
            title=document.title,
            version=document.version,
        )


def sign_consent(
    patient: User,
    document: ConsentDocument,
    *,
    actor: User,
    password: str,
    ip_address: str | None = None,
) -> ConsentSignature:
    """The patient signs the current version they read, by re-entering their
    password. Records who, when, which version and language, and the meaning."""
    _require_self(actor, patient)
    questionnaire = queries.current_questionnaire(patient.id)
    if questionnaire is None or questionnaire.status not in (
        QuestionnaireStatus.SUBMITTED,
        QuestionnaireStatus.RETURNED,
        QuestionnaireStatus.APPROVED,
    ):
        raise DomainError(_("Consent can be signed once your answers have been sent."))
    if not document.is_current:
        raise DomainError(
            _("A newer version of this document has been published. Please read it again.")
        )
    current = queries.latest_signatures(patient.id).get(document.kind)
    if current is not None and not current.is_withdrawn and current.version == document.version:
        raise DomainError(_("You have already signed this document."))
    _check_password(actor, password)
    was_ready = _ready_to_book(patient)
    signature = ConsentSignature(
        patient_id=patient.id,
        document=document,
        kind=document.kind,
        version=document.version,
        locale=document.locale,
        signer_name=patient.full_name,
        meaning=consent_meaning(document, patient.full_name),
        signed_at=utcnow(),
        ip_address=ip_address,
    )
    db.session.add(signature)
    db.session.flush()
    audit.record(
        actor=actor,
        action="eligibility.consent_sign",
        entity=signature,
        after=audit.snapshot(signature, ConsentSignature.AUDITED),
        patient=patient,
        note=signature.meaning,
    )
    copy = f"{document.title}\n\n{document.body}\n\n{signature.meaning}\n"
    notify(
        patient,
        "eligibility_consent_signed",
        title=document.title,
        version=document.version,
        signed_at=signature.signed_at,
        link=link("eligibility.consent"),
        attachment=(
            f"consent-{document.kind.value}-v{document.version}-{document.locale}.txt",
            "text/plain",
            copy,
        ),
    )
    _tell_if_now_ready(patient, was_ready)
    return signature


def withdraw_consent(
    patient: User, kind: ConsentKind, *, actor: User, reason: str | None = None
) -> ConsentSignature:
    """Withdraw a signed consent at any time; the journey halts. The patient
    withdraws themself; a coordinator or doctor may record a withdrawal the
    patient told them about, with a reason."""
    if actor is not None and actor.id == patient.id:
        _require_self(actor, patient)
        reason_text = _clean_text(reason, field="reason", required=False)
    else:
        _require_role(
            actor,
            Role.COORDINATOR,
            Role.DOCTOR,
            message=_("Only the patient, a coordinator or a doctor can withdraw consent."),
        )
        reason_text = _clean_text(reason, field="reason", required=True)
    signature = queries.latest_signatures(patient.id).get(kind)
    if signature is None or signature.is_withdrawn:
        raise DomainError(_("There is no signed consent to withdraw."))
    before = audit.snapshot(signature, ConsentSignature.AUDITED)
    signature.withdrawn_at = utcnow()
    signature.withdrawal_reason = reason_text
    signature.withdrawn_by_id = actor.id
    db.session.flush()
    audit.record(
        actor=actor,
        action="eligibility.consent_withdraw",
        entity=signature,
        before=before,
        after=audit.snapshot(signature, ConsentSignature.AUDITED),
        patient=patient,
    )
    notify(
        patient,
        "eligibility_consent_withdrawn",
        kind=kind.value,
        withdrawn_at=signature.withdrawn_at,
        link=link("eligibility.consent"),
    )
    return signature


# --------------------------------------------------------------------------- indications

_CODE_RE = re.compile(r"[a-z][a-z0-9_]{1,63}")


def _indication_fields(names: Mapping[str, str], routes: list[str]) -> tuple[dict, list]:
    clean_names = {}
    for lang in LANGUAGES:
        clean_names[lang] = _clean_text(
            names.get(lang), field=f"name_{lang}", required=True, limit=200
        )
    unknown = [r for r in routes if r not in ROUTE_CODES]
    if unknown or not routes:
        raise DomainError(_("Choose at least one route of administration."), field="routes")
    return clean_names, [code for code in ROUTE_CODES if code in routes]


def create_indication(
    *, actor: User, code: str, names: Mapping[str, str], routes: list[str], sort_order: int = 0
) -> Indication:
    _require_role(actor, Role.MANAGER, message=_("Only a manager can change indications."))
    code = (code or "").strip().lower()
    if not _CODE_RE.fullmatch(code):
        raise DomainError(
            _("Use 2 to 64 lower-case letters, digits or underscores, starting with a letter."),
            field="code",
        )
    if _indication(code) is not None:
        raise DomainError(_("This code is already used."), field="code")
    clean_names, clean_routes = _indication_fields(names, routes)
    indication = Indication(
        code=code, names=clean_names, routes=clean_routes, sort_order=sort_order, is_active=True
    )
    db.session.add(indication)
    db.session.flush()
    audit.record(
        actor=actor,
        action="eligibility.indication_create",
        entity=indication,
        after=audit.snapshot(indication, Indication.AUDITED),
    )
    return indication


def update_indication(
    indication: Indication,
    *,
    actor: User,
    names: Mapping[str, str],
    routes: list[str],
    is_active: bool,
    sort_order: int,
) -> Indication:
    _require_role(actor, Role.MANAGER, message=_("Only a manager can change indications."))
    clean_names, clean_routes = _indication_fields(names, routes)
    before = audit.snapshot(indication, Indication.AUDITED)
    indication.names = clean_names
    indication.routes = clean_routes
    indication.is_active = is_active
    indication.sort_order = sort_order
    old, new = audit.changes(before, audit.snapshot(indication, Indication.AUDITED))
    if new:
        audit.record(
            actor=actor,
            action="eligibility.indication_update",
            entity=indication,
            before=old,
            after=new,
        )
    db.session.flush()
    return indication
