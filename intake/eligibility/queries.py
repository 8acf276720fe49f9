"""Reads for the intake screens and the booking gate: a fixed number of queries
each, whatever the amount of data."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from intake.accounts.models import User
from intake.core import settings
from intake.core.text import N_
from intake.eligibility.gate import DEFAULT_PANEL_ITEMS, GateResult, collection_gate
from intake.eligibility.models import (
    ConsentDocument,
    ConsentKind,
    ConsentSignature,
    Indication,
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
    INDICATION_OTHER,
    Choice,
)
from intake.eligibility.question_bank import QuestionSet as QuestionSetData
from intake.extensions import db

# --------------------------------------------------------------------------- reference data


def active_question_set() -> QuestionSet | None:
    return (
        db.session.execute(
            select(QuestionSet).where(QuestionSet.is_active).order_by(QuestionSet.version.desc())
        )
        .scalars()
        .first()
    )


def indications(*, active_only: bool = True) -> list[Indication]:
    query = select(Indication).order_by(Indication.sort_order, Indication.id)
    if active_only:
        query = query.where(Indication.is_active)
    return list(db.session.execute(query).scalars())


def question_set_data(
    row: QuestionSet | None, clinic_indications: list[Indication], answered: str | None = None
) -> QuestionSetData:
    """The stored question set (or version 1), whose indication question lists
    the clinic's current indications (plus the one already answered)."""
    data = row.data() if row is not None else DEFAULT_QUESTION_SET
    offered = [i for i in clinic_indications if i.is_active or i.code == answered]
    if not offered:
        return data
    choices = tuple(Choice(i.code, dict(i.names)) for i in offered)
    pages = []
    for page in data.pages:
        questions = []
        for question in page.questions:
            if question.code == "indication":
                other = tuple(c for c in question.choices if c.code == INDICATION_OTHER)
                question = replace(question, choices=choices + other)
            questions.append(question)
        pages.append(replace(page, questions=tuple(questions)))
    return replace(data, pages=tuple(pages))


def panel_items() -> list[PanelItemDefinition]:
    """The configured panel, in order. Until the clinic stores its own list the
    default list of DOMAIN.md applies, so the gate never passes an empty panel."""
    rows = list(
        db.session.execute(
            select(PanelItemDefinition).order_by(
                PanelItemDefinition.sort_order, PanelItemDefinition.id
            )
        ).scalars()
    )
    if not rows:
        return [
            PanelItemDefinition(
                code=item.code, names=dict(item.names), sort_order=n, is_active=True
            )
            for n, item in enumerate(DEFAULT_PANEL_ITEMS)
        ]
    return [row for row in rows if row.is_active]


# --------------------------------------------------------------------------- per patient


def current_questionnaire(patient_id: int) -> Questionnaire | None:
    """The patient's latest questionnaire (one at a time; a new one only after a decline)."""
    return db.session.execute(
        select(Questionnaire)
        .where(Questionnaire.patient_id == patient_id)
        .order_by(Questionnaire.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def latest_panel_results(patient_id: int) -> dict[str, PanelResult]:
    """The newest result per panel item: later rows replace earlier ones."""
    newest = (
        select(func.max(PanelResult.id))
        .where(PanelResult.patient_id == patient_id)
        .group_by(PanelResult.item_code)
    )
    rows = db.session.execute(select(PanelResult).where(PanelResult.id.in_(newest))).scalars()
    return {row.item_code: row for row in rows}


def latest_signatures(patient_id: int) -> dict[ConsentKind, ConsentSignature]:
    """The newest signature of each consent kind (withdrawn or not)."""
    rows = db.session.execute(
        select(ConsentSignature)
        .where(ConsentSignature.patient_id == patient_id)
        .order_by(ConsentSignature.id)
    ).scalars()
    return {row.kind: row for row in rows}


def gate_from(
    questionnaire: Questionnaire | None,
    results: dict[str, PanelResult],
    items: list[PanelItemDefinition],
    signatures: dict[ConsentKind, ConsentSignature],
    *,
    validity_days: int,
    today: date,
) -> GateResult:
    treatment = signatures.get(ConsentKind.TREATMENT)
    cross_border = signatures.get(ConsentKind.CROSS_BORDER)
    return collection_gate(
        review_status=questionnaire.status.value if questionnaire is not None else None,
        panel_results=results,
        panel_items=items,
        panel_validity_days=validity_days,
        consent_signed=treatment is not None and not treatment.is_withdrawn,
        consent_withdrawn=any(s is not None and s.is_withdrawn for s in (treatment, cross_border)),
        cross_border_consent_signed=cross_border is not None and not cross_border.is_withdrawn,
        today=today,
    )


def collection_gate_for(patient, *, today: date) -> GateResult:
    """May ``patient`` book the collection visit on ``today``? Five queries:
    the questionnaire, the newest panel results, the configured panel, the
    settings and the consent signatures."""
    return gate_from(
        current_questionnaire(patient.id),
        latest_panel_results(patient.id),
        panel_items(),
        latest_signatures(patient.id),
        validity_days=settings.get("panel_validity_days"),
        today=today,
    )


# --------------------------------------------------------------------------- the journey

ANSWER, REVIEW, CONSULTATION, PANEL, APPROVAL, CONSENT, BOOK = (
    "answer",
    "review",
    "consultation",
    "panel",
    "approval",
    "consent",
    "book",
)
STEP_TITLES = {
    ANSWER: N_("Answer the health questions"),
    REVIEW: N_("A doctor reviews your answers"),
    CONSULTATION: N_("Attend your consultation"),
    PANEL: N_("Blood test results"),
    APPROVAL: N_("The doctor's approval"),
    CONSENT: N_("Sign the consent"),
    BOOK: N_("Book your collection visit"),
}
DECLINED = "declined"
HALTED = "halted"


@dataclass(frozen=True)
class Step:
    code: str
    title: str
    is_done: bool
    is_current: bool


@dataclass(frozen=True)
class Journey:
    #: A step code, or ``declined`` / ``halted`` when the journey stopped.
    current: str
    steps: tuple[Step, ...]
    gate: GateResult


def journey_of(
    questionnaire: Questionnaire | None,
    open_review: Review | None,
    gate: GateResult,
    *,
    today: date,
) -> Journey:
    """Where the patient is. Pure: takes what ``patient_journey`` loaded."""
    status = questionnaire.status if questionnaire is not None else None
    approved = status == QuestionnaireStatus.APPROVED
    missing = gate.codes
    done = {
        ANSWER: status
        in (
            QuestionnaireStatus.SUBMITTED,
            QuestionnaireStatus.APPROVED,
            QuestionnaireStatus.DECLINED,
        ),
        REVIEW: approved or status == QuestionnaireStatus.DECLINED or open_review is not None,
        CONSULTATION: approved
        or (
            open_review is not None
            and open_review.consultation_date is not None
            and open_review.consultation_date <= today
        ),
        PANEL: not any(code.startswith("panel_") for code in missing),
        APPROVAL: approved,
        CONSENT: not any(code.startswith(("consent_", "cross_border_")) for code in missing),
        BOOK: False,
    }
    order = (ANSWER, REVIEW, CONSULTATION, PANEL, APPROVAL, CONSENT, BOOK)
    current = next(code for code in order if not done[code])
    if status == QuestionnaireStatus.DECLINED:
        current = DECLINED
    elif "consent_withdrawn" in missing:
        current = HALTED
    steps = tuple(Step(code, STEP_TITLES[code], done[code], code == current) for code in order)
    return Journey(current=current, steps=steps, gate=gate)


def latest_reviews(questionnaire_id: int) -> list[Review]:
    return list(
        db.session.execute(
            select(Review).where(Review.questionnaire_id == questionnaire_id).order_by(Review.id)
        ).scalars()
    )


def patient_journey(patient: User, *, today: date) -> dict:
    questionnaire = current_questionnaire(patient.id)
    reviews = latest_reviews(questionnaire.id) if questionnaire is not None else []
    open_review = next((r for r in reviews if r.decision is None), None)
    decided = [r for r in reviews if r.decision is not None]
    items = panel_items()
    results = latest_panel_results(patient.id)
    signatures = latest_signatures(patient.id)
    gate = gate_from(
        questionnaire,
        results,
        items,
        signatures,
        validity_days=settings.get("panel_validity_days"),
        today=today,
    )
    return {
        "questionnaire": questionnaire,
        "last_decision": decided[-1] if decided else None,
        "journey": journey_of(questionnaire, open_review, gate, today=today),
        "panel_items": items,
        "results": results,
        "signatures": signatures,
    }


# --------------------------------------------------------------------------- staff screens


def review_queue(page: int, per_page: int = 50):
    """Submitted questionnaires, oldest first, with their patients."""
    query = (
        select(Questionnaire)
        .options(joinedload(Questionnaire.patient))
        .where(Questionnaire.status == QuestionnaireStatus.SUBMITTED)
        .order_by(Questionnaire.submitted_at, Questionnaire.id)
    )
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def queue_extras(patient_ids: list[int], questionnaire_ids: list[int]) -> dict:
    """Open reviews and withdrawn consents for the patients shown (two queries)."""
    open_reviews = {}
    withdrawn: set[int] = set()
    if questionnaire_ids:
        open_reviews = {
            r.questionnaire_id: r
            for r in db.session.execute(
                select(Review).where(
                    Review.questionnaire_id.in_(questionnaire_ids), Review.decision.is_(None)
                )
            ).scalars()
        }
    if patient_ids:
        withdrawn = set(
            db.session.execute(
                select(ConsentSignature.patient_id).where(
                    ConsentSignature.patient_id.in_(patient_ids),
                    ConsentSignature.withdrawn_at.is_not(None),
                )
            ).scalars()
        )
    return {"open_reviews": open_reviews, "withdrawn": withdrawn}


def recent_decisions(limit: int = 20) -> list[Review]:
    return list(
        db.session.execute(
            select(Review)
            .options(joinedload(Review.patient))
            .where(Review.decision.is_not(None))
            .order_by(Review.signed_at.desc(), Review.id.desc())
            .limit(limit)
        ).scalars()
    )


def questionnaire_with_patient(questionnaire_id: int) -> Questionnaire | None:
    return db.session.execute(
        select(Questionnaire)
        .options(joinedload(Questionnaire.patient), joinedload(Questionnaire.question_set))
        .where(Questionnaire.id == questionnaire_id)
    ).scalar_one_or_none()


def review_page(questionnaire: Questionnaire, *, today: date) -> dict:
    """Everything the doctor needs on one page: a fixed number of queries."""
    patient_id = questionnaire.patient_id
    reviews = latest_reviews(questionnaire.id)
    clinic_indications = indications(active_only=False)
    items = panel_items()
    results = latest_panel_results(patient_id)
    signatures = latest_signatures(patient_id)
    orders = list(
        db.session.execute(
            select(PanelOrder)
            .options(joinedload(PanelOrder.ordered_by))
            .where(PanelOrder.patient_id == patient_id)
            .order_by(PanelOrder.id.desc())
        ).scalars()
    )
    gate = gate_from(
        questionnaire,
        results,
        items,
        signatures,
        validity_days=settings.get("panel_validity_days"),
        today=today,
    )
    return {
        "reviews": reviews,
        "open_review": next((r for r in reviews if r.decision is None), None),
        "indications": clinic_indications,
        "panel_items": items,
        "results": results,
        "signatures": signatures,
        "orders": orders,
        "gate": gate,
        "question_set": question_set_data(
            questionnaire.question_set,
            clinic_indications,
            answered=questionnaire.answers.get("indication"),
        ),
    }


def panel_page(patient: User, *, today: date) -> dict:
    """Configured items, every result entered (newest first) and the orders."""
    items = panel_items()
    history = list(
        db.session.execute(
            select(PanelResult)
            .options(joinedload(PanelResult.entered_by))
            .where(PanelResult.patient_id == patient.id)
            .order_by(PanelResult.id.desc())
        ).scalars()
    )
    latest: dict[str, PanelResult] = {}
    for row in history:
        latest.setdefault(row.item_code, row)
    orders = list(
        db.session.execute(
            select(PanelOrder)
            .options(joinedload(PanelOrder.ordered_by))
            .where(PanelOrder.patient_id == patient.id)
            .order_by(PanelOrder.id.desc())
        ).scalars()
    )
    signatures = latest_signatures(patient.id)
    questionnaire = current_questionnaire(patient.id)
    gate = gate_from(
        questionnaire,
        latest,
        items,
        signatures,
        validity_days=settings.get("panel_validity_days"),
        today=today,
    )
    return {
        "panel_items": items,
        "history": history,
        "latest": latest,
        "orders": orders,
        "signatures": signatures,
        "questionnaire": questionnaire,
        "gate": gate,
    }


def current_documents(kind: ConsentKind) -> dict[str, ConsentDocument]:
    """The current version of a consent, by language."""
    rows = db.session.execute(
        select(ConsentDocument).where(ConsentDocument.kind == kind, ConsentDocument.is_current)
    ).scalars()
    return {row.locale: row for row in rows}


def document_for(kind: ConsentKind, locale: str) -> ConsentDocument | None:
    """The current document in ``locale``, else in English, else any language."""
    documents = current_documents(kind)
    return documents.get(locale) or documents.get("en") or next(iter(documents.values()), None)


def consent_documents() -> list[ConsentDocument]:
    return list(
        db.session.execute(
            select(ConsentDocument).order_by(
                ConsentDocument.kind, ConsentDocument.locale, ConsentDocument.version.desc()
            )
        ).scalars()
    )


def signature_with_document(signature_id: int) -> ConsentSignature | None:
    return db.session.execute(
        select(ConsentSignature)
        .options(joinedload(ConsentSignature.document), joinedload(ConsentSignature.patient))
        .where(ConsentSignature.id == signature_id)
    ).scalar_one_or_none()


def signature_history(patient_id: int) -> list[ConsentSignature]:
    return list(
        db.session.execute(
            select(ConsentSignature)
            .where(ConsentSignature.patient_id == patient_id)
            .order_by(ConsentSignature.id.desc())
        ).scalars()
    )


def last_decision_for(questionnaire_id: int) -> Review | None:
    return db.session.execute(
        select(Review)
        .where(Review.questionnaire_id == questionnaire_id, Review.decision.is_not(None))
        .order_by(Review.id.desc())
        .limit(1)
    ).scalar_one_or_none()
