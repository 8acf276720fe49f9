"""One course's records, read from the database into a ``CourseRecord``.

Every query is bounded by the course (its id, or its batches' ids): a fixed
number of statements whatever the course holds, and nothing of another
patient can enter the record.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from intake.cultures.models import Batch, BatchEvent
from intake.eligibility.models import (
    ConsentDocument,
    ConsentSignature,
    PanelItemDefinition,
    PanelResult,
    Questionnaire,
    QuestionSet,
)
from intake.extensions import db
from intake.fhir.record import (
    AdministrationData,
    AdverseEventData,
    BatchData,
    BatchEventData,
    ConsentData,
    CourseData,
    CourseRecord,
    FollowUpData,
    PanelResultData,
    PatientData,
    QuestionnaireData,
    VisitData,
    VitalsData,
)
from intake.patients.models import Course, Patient
from intake.reinfusion.models import Administration, AdverseEvent, Clearance, Dose, FollowUp
from intake.scheduling.models import Appointment, VisitType, localized


def _value(member) -> str | None:
    return None if member is None else getattr(member, "value", member)


def _patient(patient: Patient) -> PatientData:
    return PatientData(
        id=patient.id,
        family_name=patient.family_name,
        given_name=patient.given_name or "",
        family_name_latin=patient.family_name_latin,
        given_name_latin=patient.given_name_latin,
        record_number=patient.record_number,
        date_of_birth=patient.date_of_birth,
        sex=_value(patient.sex),
        nationality=patient.nationality,
        phone=patient.phone,
        email=patient.email,
        locale=patient.locale or "en",
    )


def _all(statement) -> list:
    return list(db.session.execute(statement).all())


def _scalars(statement) -> list:
    return list(db.session.execute(statement).scalars())


def course_record(course: Course) -> CourseRecord:
    """Everything the FHIR export shows of ``course``."""
    patient = db.session.get(Patient, course.patient_id)
    visits = [
        VisitData(
            id=visit.id,
            kind=_value(visit_type.kind),
            type_code=visit_type.code,
            type_name=localized(visit_type.names, "en") or visit_type.code,
            start_at=visit.start_at,
            end_at=visit.end_at,
            status=_value(visit.status),
            cancel_reason=visit.cancel_reason,
        )
        for visit, visit_type in _all(
            select(Appointment, VisitType)
            .join(VisitType, VisitType.id == Appointment.visit_type_id)
            .where(Appointment.course_id == course.id)
            .order_by(Appointment.start_at, Appointment.id)
        )
    ]
    questionnaires = []
    question_sets = {}
    for questionnaire, question_set in _all(
        select(Questionnaire, QuestionSet)
        .join(QuestionSet, QuestionSet.id == Questionnaire.question_set_id)
        .where(Questionnaire.course_id == course.id)
        .order_by(Questionnaire.id)
    ):
        question_sets[question_set.version] = question_set.data()
        questionnaires.append(
            QuestionnaireData(
                id=questionnaire.id,
                version=question_set.version,
                status=_value(questionnaire.status),
                answers=dict(questionnaire.answers or {}),
                updated_at=questionnaire.updated_at,
                submitted_at=questionnaire.submitted_at,
            )
        )
    consents = [
        ConsentData(
            id=signature.id,
            kind=_value(signature.kind),
            version=signature.version,
            locale=signature.locale,
            title=title,
            signer_name=signature.signer_name,
            meaning=signature.meaning,
            signed_at=signature.signed_at,
            text_sha256=signature.text_sha256,
            withdrawn_at=signature.withdrawn_at,
            withdrawal_reason=signature.withdrawal_reason,
        )
        for signature, title in _all(
            select(ConsentSignature, ConsentDocument.title)
            .join(ConsentDocument, ConsentDocument.id == ConsentSignature.document_id)
            .where(ConsentSignature.course_id == course.id)
            .order_by(ConsentSignature.signed_at, ConsentSignature.id)
        )
    ]
    names = {item.code: item.label("en") for item in _scalars(select(PanelItemDefinition))}
    panel_results = [
        PanelResultData(
            id=result.id,
            item_code=result.item_code,
            item_name=names.get(result.item_code, result.item_code),
            test_date=result.test_date,
            result=result.result,
            entered_at=result.entered_at,
            acceptable=result.acceptable,
            note=result.note,
            replaces_id=result.replaces_id,
        )
        for result in _scalars(
            select(PanelResult)
            .where(PanelResult.course_id == course.id)
            .order_by(PanelResult.test_date, PanelResult.id)
        )
    ]
    batches = _scalars(select(Batch).where(Batch.course_id == course.id).order_by(Batch.id))
    events = _scalars(
        select(BatchEvent)
        .where(BatchEvent.batch_id.in_([batch.id for batch in batches]))
        .order_by(BatchEvent.occurred_at, BatchEvent.id)
    )
    corrected = {event.corrects_id for event in events if event.corrects_id is not None}
    batch_events: dict[int, list[BatchEventData]] = {batch.id: [] for batch in batches}
    for event in events:
        if event.id in corrected:
            continue  # a correction replaces it
        batch_events[event.batch_id].append(
            BatchEventData(
                id=event.id,
                kind=_value(event.kind),
                occurred_at=event.occurred_at,
                cells=event.cells,
                viability_percent=event.viability_percent,
                qc_item=event.qc_item,
                qc_value=event.qc_value,
                qc_passed=event.qc_passed,
                passage_number=event.passage_number,
                person=event.person,
                to_place=event.to_place,
                note=event.note,
            )
        )
    administrations = _all(
        select(Administration, Dose.number)
        .join(Dose, Dose.id == Administration.dose_id)
        .where(Administration.course_id == course.id)
        .order_by(Administration.started_at, Administration.id)
    )
    by_clearance = {a.clearance_id: a.id for a, _n in administrations}
    vitals = []
    for clearance in _scalars(
        select(Clearance).where(Clearance.course_id == course.id).order_by(Clearance.id)
    ):
        vitals.append(
            VitalsData(
                key=f"c{clearance.id}",
                context="clearance",
                taken_at=clearance.signed_at,
                systolic=clearance.systolic,
                diastolic=clearance.diastolic,
                pulse=clearance.pulse,
                temperature_c=clearance.temperature_c,
                spo2=clearance.spo2,
                administration_id=by_clearance.get(clearance.id),
            )
        )
    for administration, _number in administrations:
        vitals.append(
            VitalsData(
                key=f"a{administration.id}",
                context="after",
                taken_at=administration.observed_until,
                systolic=administration.systolic_after,
                diastolic=administration.diastolic_after,
                pulse=administration.pulse_after,
                temperature_c=administration.temperature_c_after,
                spo2=administration.spo2_after,
                administration_id=administration.id,
            )
        )
    follow_ups = [
        FollowUpData(
            id=follow_up.id,
            administration_id=follow_up.administration_id,
            days_after=follow_up.days_after,
            answers=dict(follow_up.answers or {}),
            answered_at=follow_up.answered_at,
        )
        for follow_up in _scalars(
            select(FollowUp)
            .where(FollowUp.course_id == course.id, FollowUp.answered_at.is_not(None))
            .order_by(FollowUp.days_after, FollowUp.id)
        )
    ]
    adverse_events = [
        AdverseEventData(
            id=event.id,
            description=event.description,
            began_on=event.began_on,
            known_on=event.known_on,
            seriousness=_value(event.seriousness),
            recorded_at=event.created_at,
            administration_id=event.administration_id,
        )
        for event in _scalars(
            select(AdverseEvent)
            .where(AdverseEvent.course_id == course.id)
            .order_by(AdverseEvent.id)
        )
    ]
    return CourseRecord(
        base_url=current_app.config["PUBLIC_BASE_URL"],
        clinic_name=current_app.config["CLINIC_NAME"],
        patient=_patient(patient),
        course=CourseData(
            id=course.id,
            number=course.number,
            status=_value(course.status),
            opened_at=course.opened_at,
            closed_at=course.closed_at,
        ),
        visits=tuple(visits),
        question_sets=question_sets,
        questionnaires=tuple(questionnaires),
        consents=tuple(consents),
        panel_results=tuple(panel_results),
        vitals=tuple(vitals),
        batches=tuple(
            BatchData(
                id=batch.id,
                coi=batch.coi,
                state=_value(batch.state),
                collected_on=batch.collected_on,
                collected_by=batch.collected_by,
                tissue_amount=batch.tissue_amount,
                tissue_unit=_value(batch.tissue_unit),
                blood_volume_ml=batch.blood_volume_ml,
                collection_visit_id=batch.appointment_id,
                received_at=batch.received_at,
                events=tuple(batch_events[batch.id]),
            )
            for batch in batches
        ),
        administrations=tuple(
            AdministrationData(
                id=administration.id,
                dose_number=number,
                batch_id=administration.batch_id,
                visit_id=administration.appointment_id,
                route=administration.route,
                cells_given=administration.cells_given,
                started_at=administration.started_at,
                ended_at=administration.ended_at,
                note=administration.note,
            )
            for administration, number in administrations
        ),
        follow_ups=tuple(follow_ups),
        adverse_events=tuple(adverse_events),
    )
