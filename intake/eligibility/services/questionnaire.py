"""The patient's questionnaire: drafting, saving pages and submitting."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _

from intake.accounts.models import User
from intake.core import audit, settings
from intake.core.errors import DomainError
from intake.core.types import utcnow
from intake.eligibility import queries
from intake.eligibility.models import Outcome, Questionnaire, QuestionnaireStatus
from intake.eligibility.question_bank import (
    MSG_REQUIRED,
    is_answered,
    validate_answers,
    visible_questions,
)
from intake.eligibility.question_bank import QuestionSet as QuestionSetData
from intake.eligibility.rules import DEFAULT_THRESHOLDS, evaluate
from intake.eligibility.services._common import (
    SUMMARY_PAGE,
    _require_self,
    clinic_today,
    course_of,
    link,
    reason_texts,
)
from intake.eligibility.services.reference import _active_question_set, questionnaire_data
from intake.extensions import db
from intake.notifications.services import notify
from intake.patients.models import Patient
from intake.patients.services import start_new_course


class AnswersInvalid(DomainError):
    """Several answers on a page are wrong; ``errors`` maps question code to message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(_("Please check the highlighted answers."))
        self.errors = errors


# --------------------------------------------------------------------------- questionnaire


def editable_questionnaire(patient: Patient, *, create: bool) -> Questionnaire | None:
    """The draft (or returned) questionnaire, a new draft when ``create`` and
    none is open, or None. Refuses while answers are with the doctor. After a
    decline, answering again starts a new course."""
    course = course_of(patient)
    current = queries.current_questionnaire(course.id)
    if current is not None and current.is_editable:
        return current
    if current is not None and current.status != QuestionnaireStatus.DECLINED:
        raise DomainError(
            _("Your answers have already been sent to the doctor, so they cannot be changed now.")
        )
    if not create:
        return None
    if not course.is_open:
        course = start_new_course(patient, actor=patient.user)
    questionnaire = Questionnaire(
        patient_id=patient.id,
        course=course,
        question_set=_active_question_set(),
        status=QuestionnaireStatus.DRAFT,
        answers={},
    )
    db.session.add(questionnaire)
    db.session.flush()
    audit.record(
        actor=patient.user,
        action="eligibility.questionnaire_start",
        entity=questionnaire,
        after={"question_set_version": questionnaire.question_set.version},
        patient=patient,
    )
    return questionnaire


def save_page(
    patient: Patient,
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


def _assess(questionnaire: Questionnaire, patient: Patient, consultation_date: date) -> None:
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
    patient: Patient, *, actor: User, consultation_date: date | None = None
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
