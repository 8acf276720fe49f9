"""The doctor's review: notes, re-assessment and the signed decision."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _

from intake.accounts.models import User
from intake.accounts.roles import Role
from intake.core import audit, settings
from intake.core.errors import DomainError, Problems
from intake.core.types import utcnow
from intake.eligibility import queries
from intake.eligibility.models import Decision, Outcome, Questionnaire, QuestionnaireStatus, Review
from intake.eligibility.question_bank import validate_answers
from intake.eligibility.services._common import (
    _check_password,
    _clean_text,
    _require_role,
    clinic_today,
    link,
    reason_texts,
)
from intake.eligibility.services.questionnaire import _assess
from intake.eligibility.services.reference import _indication, questionnaire_data, route_label
from intake.extensions import db
from intake.notifications.services import notify
from intake.patients.models import CourseStatus
from intake.patients.services import close_course

# --------------------------------------------------------------------------- doctor review


def _require_doctor(actor: User) -> None:
    _require_role(actor, Role.DOCTOR, message=_("Only a doctor can review eligibility."))


def _require_submitted(questionnaire: Questionnaire) -> None:
    if questionnaire.status != QuestionnaireStatus.SUBMITTED:
        raise DomainError(_("This questionnaire is not waiting for a review any more."))


def _pending_review(questionnaire: Questionnaire) -> Review | None:
    return next((r for r in queries.latest_reviews(questionnaire.id) if r.decision is None), None)


def open_review(questionnaire: Questionnaire, *, actor: User) -> Review:
    review = _pending_review(questionnaire)
    if review is None:
        review = Review(
            questionnaire=questionnaire,
            patient_id=questionnaire.patient_id,
            course_id=questionnaire.course_id,
            doctor_id=actor.id,
        )
        db.session.add(review)
    return review


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


def _is_override(questionnaire: Questionnaire, decision: Decision | None) -> bool:
    """Approving what the rules sent to the doctor (never a hard exclusion)."""
    return decision == Decision.APPROVED and questionnaire.outcome == Outcome.NEEDS_REVIEW


def check_decision(
    questionnaire: Questionnaire,
    *,
    actor: User,
    decision: Decision | str | None,
    reason: str | None,
    password: str | None,
    override_reason: str | None = None,
) -> None:
    """Every problem with this signed decision at once (``FormErrors`` for
    several), writing nothing: the decision, the reason, the override's
    reason, the indication and route, and the doctor's password."""
    _require_doctor(actor)
    _require_submitted(questionnaire)
    problems = Problems()
    try:
        decision = Decision(decision)
    except ValueError:
        problems.add(_("Choose a decision."), field="decision")
        decision = None
    problems.check(_clean_text, reason, field="reason", required=True)
    override_text = problems.check(
        _clean_text, override_reason, field="override_reason", required=False
    )
    if _is_override(questionnaire, decision) and not override_text:
        problems.add(
            _(
                "The rules found this patient %(outcome)s. To approve anyway, write why.",
                outcome=outcome_label(questionnaire.outcome),
            ),
            field="override_reason",
        )
    if decision == Decision.APPROVED and questionnaire.outcome == Outcome.INELIGIBLE:
        # DOMAIN rule 1: a hard exclusion is never overridden by approval.
        problems.add(
            _(
                "A hard exclusion cannot be approved. If an answer was wrong, correct it "
                "with the patient: the rules then run again."
            ),
            field="decision",
        )
    pending = _pending_review(questionnaire)
    indication = _indication(pending.indication_code) if pending else None
    if decision == Decision.APPROVED and (indication is None or not pending.planned_route):
        problems.add(
            _("Record the indication and the planned route in the notes before approving."),
            field="decision",
        )
    if decision == Decision.APPROVED and (
        pending is None
        or pending.consultation_date is None
        or pending.consultation_date > clinic_today()
    ):
        problems.add(
            _("Record the consultation date in the notes before approving."), field="decision"
        )
    problems.check(_check_password, actor, password)
    problems.raise_if_any()


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
    is an override and needs a written reason. Every problem is reported at
    once (``check_decision``)."""
    check_decision(
        questionnaire,
        actor=actor,
        decision=decision,
        reason=reason,
        password=password,
        override_reason=override_reason,
    )
    decision = Decision(decision)
    reason_text = _clean_text(reason, field="reason", required=True)
    review = open_review(questionnaire, actor=actor)
    patient = questionnaire.patient
    is_override = _is_override(questionnaire, decision)
    override_text = _clean_text(override_reason, field="override_reason", required=False)
    indication = _indication(review.indication_code)
    if (
        decision == Decision.APPROVED
        and questionnaire.consultation_date != review.consultation_date
    ):
        # Age and every rule are taken on the consultation day.
        _assess(questionnaire, patient, review.consultation_date)
        if questionnaire.outcome == Outcome.INELIGIBLE:
            raise DomainError(
                _(
                    "On the consultation day the rules find this patient ineligible: "
                    "a hard exclusion cannot be approved."
                ),
                field="decision",
            )
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
    if decision == Decision.DECLINED:
        close_course(questionnaire.course, CourseStatus.DECLINED, actor=actor, reason=reason_text)
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


def correct_answer(
    questionnaire: Questionnaire,
    *,
    actor: User,
    question_code: str,
    value,
    reason: str,
) -> Questionnaire:
    """The doctor corrects one answer with the patient (DOMAIN rule 1: a wrong
    answer is corrected, never overridden). The new value is checked like the
    patient's own answer, the rules run again on the consultation day, and the
    audit row keeps the old and new answer, the outcome before and after, and
    the reason."""
    _require_doctor(actor)
    _require_submitted(questionnaire)
    reason_text = _clean_text(reason, field="reason", required=True)
    data = questionnaire_data(questionnaire)
    page = next((p for p in data.pages if any(q.code == question_code for q in p.questions)), None)
    if page is None:
        raise DomainError(_("This question is not in the questionnaire."), field="value")
    previous = dict(questionnaire.answers)
    own = {q.code for q in page.questions}
    raw = {code: previous[code] for code in own if code in previous}
    raw[question_code] = value
    clean, errors = validate_answers(data, page.code, raw, today=clinic_today(), previous=previous)
    if question_code in errors:
        raise DomainError(_(errors[question_code]), field="value")
    if clean.get(question_code) == previous.get(question_code):
        raise DomainError(_("This is already the answer."), field="value")
    before = {
        "answer": previous.get(question_code),
        "outcome": questionnaire.outcome.value if questionnaire.outcome else None,
        "reasons": [r["code"] for r in questionnaire.reasons or []],
    }
    questionnaire.answers = {**{k: v for k, v in previous.items() if k not in own}, **clean}
    _assess(
        questionnaire,
        questionnaire.patient,
        questionnaire.consultation_date or clinic_today(),
    )
    audit.record(
        actor=actor,
        action="eligibility.answer_corrected",
        entity=questionnaire,
        before=before,
        after={
            "answer": clean.get(question_code),
            "outcome": questionnaire.outcome.value if questionnaire.outcome else None,
            "reasons": [r["code"] for r in questionnaire.reasons],
        },
        patient=questionnaire.patient,
        note=f"{question_code}: {reason_text}",
    )
    db.session.flush()
    return questionnaire
