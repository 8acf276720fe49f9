"""Reads for the intake screens and the booking gate: a fixed number of queries
each, whatever the amount of data."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from intake.core import settings
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
from intake.patients.models import Course

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


def all_panel_items() -> list[PanelItemDefinition]:
    """Every panel test the clinic has defined, retired ones included, in order.
    Until the clinic stores its own list, the default list of DOMAIN.md (rows not
    stored, without ids)."""
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
    return rows


def panel_items() -> list[PanelItemDefinition]:
    """The configured panel, in order: the tests not retired. Until the clinic
    stores its own list the default list of DOMAIN.md applies, so the gate never
    passes an empty panel."""
    return [row for row in all_panel_items() if row.is_active]


# --------------------------------------------------------------------------- per patient


def current_questionnaire(course_id: int) -> Questionnaire | None:
    """The course's questionnaire (one at a time; a declined one ends the course)."""
    return db.session.execute(
        select(Questionnaire)
        .where(Questionnaire.course_id == course_id)
        .order_by(Questionnaire.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def latest_panel_results(course_id: int) -> dict[str, PanelResult]:
    """The newest result per panel item in the course: later rows replace earlier ones."""
    newest = (
        select(func.max(PanelResult.id))
        .where(PanelResult.course_id == course_id)
        .group_by(PanelResult.item_code)
    )
    rows = db.session.execute(select(PanelResult).where(PanelResult.id.in_(newest))).scalars()
    return {row.item_code: row for row in rows}


def latest_signatures(course_id: int) -> dict[ConsentKind, ConsentSignature]:
    """The course's newest signature of each consent kind (withdrawn or not)."""
    rows = db.session.execute(
        select(ConsentSignature)
        .where(ConsentSignature.course_id == course_id)
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
    visit_date: date | None = None,
    consent_outdated: bool = False,
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
        visit_date=visit_date,
        consent_outdated=consent_outdated,
    )


def collection_gate_for(course: Course, *, today: date, visit_date: date | None = None):
    """May the course's collection (or reinfusion) visit be booked on ``today``
    for ``visit_date``? The panel must still be valid on the visit day. Five
    queries: the questionnaire, the newest panel results, the configured panel,
    the settings and the consent signatures."""
    signatures = latest_signatures(course.id)
    return gate_from(
        current_questionnaire(course.id),
        latest_panel_results(course.id),
        panel_items(),
        signatures,
        validity_days=settings.get("panel_validity_days"),
        today=today,
        visit_date=visit_date,
        consent_outdated=outdated_consent(course.id, signatures),
    )


# --------------------------------------------------------------------------- the journey


def latest_reviews(questionnaire_id: int) -> list[Review]:
    return list(
        db.session.execute(
            select(Review).where(Review.questionnaire_id == questionnaire_id).order_by(Review.id)
        ).scalars()
    )


def outdated_consent(course_id: int, signatures: dict[ConsentKind, ConsentSignature]) -> bool:
    """Must the treatment consent be signed again? Yes when a version that
    changes the meaning was published, in the language signed, after the one
    signed, and the course has not reached its collection (booked or done).
    Always one statement, whatever the data."""
    from intake.scheduling.models import Appointment, AppointmentStatus, VisitType

    treatment = signatures.get(ConsentKind.TREATMENT)
    signed = treatment is not None and not treatment.is_withdrawn
    newest = (
        select(func.max(ConsentDocument.version))
        .where(
            ConsentDocument.kind == ConsentKind.TREATMENT,
            ConsentDocument.locale == (treatment.locale if signed else ""),
            ConsentDocument.changes_meaning,
        )
        .scalar_subquery()
    )
    collected = (
        select(Appointment.id)
        .join(VisitType, Appointment.visit_type_id == VisitType.id)
        .where(
            Appointment.course_id == course_id,
            VisitType.day_block_resource_id.is_not(None),
            Appointment.status.in_(
                (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED, AppointmentStatus.COMPLETED)
            ),
        )
        .exists()
    )
    version, has_collection = db.session.execute(select(newest, collected)).one()
    return signed and version is not None and treatment.version < version and not has_collection


def _culture_facts(course: Course, collection, today: date) -> dict:
    """The batch grown from the course's latest collection, as plain facts
    (one query): state, today's culture day, the window, and how its
    reinfusion doses and follow-up contacts stand."""
    from intake.cultures.models import Batch
    from intake.reinfusion.models import Dose, DoseStatus, FollowUp, FollowUpStatus

    if collection is None:
        return {}

    def doses(*statuses):
        return (
            select(func.count(Dose.id))
            .where(Dose.batch_id == Batch.id, Dose.status.in_(statuses))
            .scalar_subquery()
        )

    def follow_ups(*statuses):
        return (
            select(func.count(FollowUp.id))
            .where(FollowUp.course_id == Batch.course_id, FollowUp.status.in_(statuses))
            .scalar_subquery()
        )

    row = db.session.execute(
        select(
            Batch,
            doses(DoseStatus.CONFIRMED),
            doses(DoseStatus.ADMINISTERED),
            doses(DoseStatus.PLANNED, DoseStatus.PROPOSED, DoseStatus.CONFIRMED),
            follow_ups(*FollowUpStatus),
            follow_ups(FollowUpStatus.OPEN),
        )
        .where(Batch.course_id == course.id)
        .order_by(Batch.id.desc())
        .limit(1)
    ).first()
    if row is None or row[0].appointment_id != collection.id:
        return {}
    batch, confirmed, given, to_give, all_follow_ups, open_follow_ups = row
    return {
        "batch_state": batch.state.value,
        "culture_day": max(0, (today - batch.collected_on).days),
        "culture_window": (settings.get("culture_min_days"), settings.get("culture_max_days")),
        "doses_confirmed": confirmed,
        "doses_given": given,
        "doses_to_give": to_give,
        "follow_ups": all_follow_ups,
        "open_follow_ups": open_follow_ups,
    }


def course_journey(course: Course, *, today: date, now=None) -> dict:
    """Where one course stands, for the patient's pages and the staff record
    alike: a fixed number of queries whatever the data."""
    from intake.core.types import utcnow
    from intake.patients import journey as pure_journey
    from intake.scheduling import queries as scheduling_queries

    questionnaire = current_questionnaire(course.id)
    reviews = latest_reviews(questionnaire.id) if questionnaire is not None else []
    open_review = next((r for r in reviews if r.decision is None), None)
    decided = [r for r in reviews if r.decision is not None]
    items = panel_items()
    results = latest_panel_results(course.id)
    signatures = latest_signatures(course.id)
    collection = scheduling_queries.course_collection(course.id)
    cal = scheduling_queries.clinic_calendar()
    place = scheduling_queries.culture_place(course.id, cal)
    resign = collection is None and outdated_consent(course.id, signatures)
    gate = gate_from(
        questionnaire,
        results,
        items,
        signatures,
        validity_days=settings.get("panel_validity_days"),
        today=today,
        consent_outdated=resign,
    )
    treatment = signatures.get(ConsentKind.TREATMENT)
    cross_border = signatures.get(ConsentKind.CROSS_BORDER)
    consultation = next(
        (r.consultation_date for r in reversed(reviews) if r.consultation_date), None
    )
    facts = pure_journey.CourseFacts(
        course_status=course.status.value,
        questionnaire_status=questionnaire.status.value if questionnaire else None,
        has_open_review=open_review is not None,
        consultation_date=consultation,
        gate_codes=gate.codes,
        treatment_consent_signed=treatment is not None
        and not treatment.is_withdrawn
        and not resign,
        cross_border_consent_signed=cross_border is not None and not cross_border.is_withdrawn,
        collection_status=collection.status.value if collection else None,
        collection_date=cal.local_date(collection.start_at) if collection else None,
        culture_place=place,
        **_culture_facts(course, collection, today),
    )
    journey = pure_journey.journey(facts, today=today)
    return {
        "course": course,
        "questionnaire": questionnaire,
        "last_decision": decided[-1] if decided else None,
        "journey": journey,
        "gate": gate,
        "panel_items": items,
        "results": results,
        "signatures": signatures,
        "collection": collection,
        "culture_place": place,
        "consent_outdated": resign,
        "now": now or utcnow(),
    }


def patient_journey(patient, *, today: date) -> dict:
    from intake.patients.services import current_course

    return course_journey(current_course(patient), today=today)


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
    course_id = questionnaire.course_id
    reviews = latest_reviews(questionnaire.id)
    clinic_indications = indications(active_only=False)
    items = panel_items()
    results = latest_panel_results(course_id)
    signatures = latest_signatures(course_id)
    orders = list(
        db.session.execute(
            select(PanelOrder)
            .options(joinedload(PanelOrder.ordered_by))
            .where(PanelOrder.course_id == course_id)
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
        consent_outdated=outdated_consent(course_id, signatures),
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


def panel_page(patient, *, today: date) -> dict:
    """Configured items, every result of the current course entered (newest
    first) and the orders. Results of retired tests stay listed, named, but no
    longer count."""
    from intake.patients.services import current_course

    course = current_course(patient)
    defined = all_panel_items()
    items = [item for item in defined if item.is_active]
    history = list(
        db.session.execute(
            select(PanelResult)
            .options(joinedload(PanelResult.entered_by))
            .where(PanelResult.course_id == course.id)
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
            .where(PanelOrder.course_id == course.id)
            .order_by(PanelOrder.id.desc())
        ).scalars()
    )
    signatures = latest_signatures(course.id)
    questionnaire = current_questionnaire(course.id)
    gate = gate_from(
        questionnaire,
        latest,
        items,
        signatures,
        validity_days=settings.get("panel_validity_days"),
        today=today,
        consent_outdated=outdated_consent(course.id, signatures),
    )
    return {
        "panel_items": items,
        "retired_items": [i for i in defined if not i.is_active and i.code in latest],
        "item_by_code": {item.code: item for item in defined},
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
