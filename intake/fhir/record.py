"""One course as plain, frozen data: what the FHIR export reads. Pure.

``intake.fhir.collect`` fills a ``CourseRecord`` from the database; the
mapping (``intake.fhir.resources``) never touches the database, so it is
tested with records made by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from intake.eligibility.question_bank import QuestionSet


@dataclass(frozen=True)
class PatientData:
    id: int
    family_name: str
    given_name: str = ""
    family_name_latin: str | None = None
    given_name_latin: str | None = None
    record_number: str | None = None
    date_of_birth: date | None = None
    sex: str | None = None
    nationality: str | None = None
    phone: str | None = None
    email: str | None = None
    locale: str = "en"


@dataclass(frozen=True)
class CourseData:
    id: int
    number: int
    status: str
    opened_at: datetime
    closed_at: datetime | None = None


@dataclass(frozen=True)
class VisitData:
    id: int
    kind: str
    type_code: str
    type_name: str
    start_at: datetime
    end_at: datetime
    status: str
    cancel_reason: str | None = None


@dataclass(frozen=True)
class QuestionnaireData:
    id: int
    version: int
    status: str
    answers: Mapping[str, object]
    updated_at: datetime
    submitted_at: datetime | None = None


@dataclass(frozen=True)
class ConsentData:
    id: int
    kind: str
    version: int
    locale: str
    title: str
    signer_name: str
    meaning: str
    signed_at: datetime
    text_sha256: str | None = None
    withdrawn_at: datetime | None = None
    withdrawal_reason: str | None = None


@dataclass(frozen=True)
class PanelResultData:
    id: int
    item_code: str
    item_name: str
    test_date: date
    result: str
    entered_at: datetime
    acceptable: bool | None = None
    note: str | None = None
    replaces_id: int | None = None


@dataclass(frozen=True)
class VitalsData:
    """One set of vital signs: the doctor's clearance (``clearance``) or after
    the administration's observation (``after``)."""

    key: str
    context: str
    taken_at: datetime
    systolic: int
    diastolic: int
    pulse: int
    temperature_c: Decimal
    spo2: int
    administration_id: int | None = None


@dataclass(frozen=True)
class BatchEventData:
    id: int
    kind: str
    occurred_at: datetime
    cells: int | None = None
    viability_percent: Decimal | None = None
    qc_item: str | None = None
    qc_value: str | None = None
    qc_passed: bool | None = None
    passage_number: int | None = None
    person: str | None = None
    to_place: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class BatchData:
    id: int
    coi: str
    state: str
    collected_on: date
    collected_by: str
    tissue_amount: int
    tissue_unit: str
    blood_volume_ml: int
    collection_visit_id: int
    received_at: datetime | None = None
    events: tuple[BatchEventData, ...] = ()


@dataclass(frozen=True)
class AdministrationData:
    id: int
    dose_number: int
    batch_id: int
    visit_id: int
    route: str
    cells_given: int
    started_at: datetime
    ended_at: datetime
    note: str | None = None


@dataclass(frozen=True)
class FollowUpData:
    """A contact after an administration, with the patient's answers to the
    short questionnaire when they gave them."""

    id: int
    administration_id: int
    days_after: int
    answers: Mapping[str, object]
    answered_at: datetime


@dataclass(frozen=True)
class AdverseEventData:
    id: int
    description: str
    began_on: date
    known_on: date
    seriousness: str
    recorded_at: datetime
    administration_id: int | None = None


@dataclass(frozen=True)
class CourseRecord:
    """Everything of one course that the export shows, and nothing else."""

    base_url: str
    clinic_name: str
    patient: PatientData
    course: CourseData
    visits: tuple[VisitData, ...] = ()
    question_sets: Mapping[int, QuestionSet] = field(default_factory=dict)
    questionnaires: tuple[QuestionnaireData, ...] = ()
    consents: tuple[ConsentData, ...] = ()
    panel_results: tuple[PanelResultData, ...] = ()
    vitals: tuple[VitalsData, ...] = ()
    batches: tuple[BatchData, ...] = ()
    administrations: tuple[AdministrationData, ...] = ()
    follow_ups: tuple[FollowUpData, ...] = ()
    adverse_events: tuple[AdverseEventData, ...] = ()
