"""Intake records: questionnaires, doctor reviews, the infectious panel, consent.

Clinical rows are never deleted: a panel correction adds a row that points at
the one it corrects, a withdrawn consent keeps its signature with the date of
withdrawal, and a decided review is never edited again.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake.accounts.models import User
from intake.core.db import enum_column
from intake.core.languages import DEFAULT_LANGUAGE, pick
from intake.core.types import utcnow
from intake.eligibility.question_bank import QuestionSet as QuestionSetData
from intake.eligibility.question_bank import QuestionSetInvalid, load_question_set
from intake.extensions import db
from intake.patients.models import Course, Patient


class QuestionnaireStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"  # the doctor asked for more information
    APPROVED = "approved"
    DECLINED = "declined"


class Outcome(enum.StrEnum):
    ELIGIBLE = "eligible"
    NEEDS_REVIEW = "needs_review"
    INELIGIBLE = "ineligible"


class Decision(enum.StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"
    MORE_INFO = "more_info"


class ConsentKind(enum.StrEnum):
    TREATMENT = "treatment"
    CROSS_BORDER = "cross_border"


class QuestionSet(db.Model):
    """One version of the questionnaire, stored as the JSON of ``question_bank``."""

    __tablename__ = "question_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    definition: Mapped[dict]
    is_active: Mapped[bool] = mapped_column(default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def data(self) -> QuestionSetData:
        """The stored definition, checked: a malformed or inconsistent one
        (or one whose version is not the row's) raises ``QuestionSetInvalid``
        naming every problem."""
        try:
            data = load_question_set(self.definition)
        except QuestionSetInvalid as exc:
            raise QuestionSetInvalid(self.version, exc.problems) from exc
        if data.version != self.version:
            problem = f"the definition says version {data.version}"
            raise QuestionSetInvalid(self.version, (problem,))
        return data


class Questionnaire(db.Model):
    __tablename__ = "questionnaires"
    __table_args__ = (Index("ix_questionnaires_status_submitted_at", "status", "submitted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    patient: Mapped[Patient] = relationship()
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    course: Mapped[Course] = relationship()
    question_set_id: Mapped[int] = mapped_column(ForeignKey("question_sets.id"))
    question_set: Mapped[QuestionSet] = relationship()
    status: Mapped[QuestionnaireStatus] = mapped_column(
        enum_column(QuestionnaireStatus, "questionnaire_status"),
        default=QuestionnaireStatus.DRAFT,
    )
    answers: Mapped[dict] = mapped_column(default=dict)
    current_page: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None]
    # The rules' assessment at submission (or when the consultation date was set).
    outcome: Mapped[Outcome | None] = mapped_column(enum_column(Outcome, "assessment_outcome"))
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    consultation_date: Mapped[date | None]
    assessed_age: Mapped[int | None]

    AUDITED = ("status", "current_page", "outcome", "consultation_date", "assessed_age")

    @property
    def is_editable(self) -> bool:
        return self.status in (QuestionnaireStatus.DRAFT, QuestionnaireStatus.RETURNED)


class Indication(db.Model):
    """A condition the clinic treats, with the routes its filed plan allows."""

    __tablename__ = "indications"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    names: Mapped[dict]
    routes: Mapped[list[str]] = mapped_column(JSON, default=list)
    sort_order: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    AUDITED = ("code", "names", "routes", "sort_order", "is_active")

    def label(self, lang: str = DEFAULT_LANGUAGE) -> str:
        return pick(self.names, lang)


class Review(db.Model):
    """A doctor's review of one submission. Notes may be saved many times;
    once ``decision`` is signed the row is final."""

    __tablename__ = "reviews"
    # The queue's recent decisions: newest signed first.
    __table_args__ = (Index("ix_reviews_signed_at", "signed_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id"), index=True)
    questionnaire: Mapped[Questionnaire] = relationship()
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    patient: Mapped[Patient] = relationship(foreign_keys=[patient_id])
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    course: Mapped[Course] = relationship()
    doctor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    doctor: Mapped[User | None] = relationship(foreign_keys=[doctor_id])
    history_notes: Mapped[str | None] = mapped_column(Text)
    consultation_date: Mapped[date | None]
    indication_code: Mapped[str | None] = mapped_column(String(64))
    planned_route: Mapped[str | None] = mapped_column(String(32))
    decision: Mapped[Decision | None] = mapped_column(enum_column(Decision, "review_decision"))
    reason: Mapped[str | None] = mapped_column(Text)
    is_override: Mapped[bool] = mapped_column(default=False)
    override_reason: Mapped[str | None] = mapped_column(Text)
    signed_at: Mapped[datetime | None]
    signer_name: Mapped[str | None] = mapped_column(String(200))
    signature_meaning: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    NOTES = ("history_notes", "consultation_date", "indication_code", "planned_route")
    AUDITED = (
        *NOTES,
        "decision",
        "reason",
        "is_override",
        "override_reason",
        "signed_at",
        "signer_name",
        "signature_meaning",
    )


class PanelItemDefinition(db.Model):
    """One test of the pre-operative infectious panel (the list is configurable)."""

    __tablename__ = "panel_item_definitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    names: Mapped[dict]
    sort_order: Mapped[int] = mapped_column(default=0)
    # False: retired; no longer part of the panel, still named on old results.
    is_active: Mapped[bool] = mapped_column(default=True)

    AUDITED = ("code", "names", "sort_order", "is_active")

    def label(self, lang: str = DEFAULT_LANGUAGE) -> str:
        return pick(self.names, lang)


class PanelOrder(db.Model):
    __tablename__ = "panel_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    course: Mapped[Course] = relationship()
    questionnaire_id: Mapped[int | None] = mapped_column(ForeignKey("questionnaires.id"))
    ordered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    ordered_by: Mapped[User] = relationship(foreign_keys=[ordered_by_id])
    ordered_at: Mapped[datetime] = mapped_column(default=utcnow)
    items: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(Text)


class PanelResult(db.Model):
    """A result is never overwritten: the newest row per item counts."""

    __tablename__ = "panel_results"
    __table_args__ = (Index("ix_panel_results_patient_item", "patient_id", "item_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    course: Mapped[Course] = relationship()
    item_code: Mapped[str] = mapped_column(String(32))
    test_date: Mapped[date]
    result: Mapped[str] = mapped_column(String(200))
    # None: waiting for a doctor's assessment.
    acceptable: Mapped[bool | None]
    note: Mapped[str | None] = mapped_column(Text)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("panel_results.id"))
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    entered_by: Mapped[User] = relationship(foreign_keys=[entered_by_id])
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)

    AUDITED = ("item_code", "test_date", "result", "acceptable", "note", "replaces_id")


class ConsentDocument(db.Model):
    """One version of a consent text in one language."""

    __tablename__ = "consent_documents"
    __table_args__ = (UniqueConstraint("kind", "version", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ConsentKind] = mapped_column(enum_column(ConsentKind, "consent_kind"))
    version: Mapped[int]
    locale: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    is_current: Mapped[bool] = mapped_column(default=True)
    # This version changes what the patient agrees to: patients whose course has
    # not reached collection sign it again before booking.
    changes_meaning: Mapped[bool] = mapped_column(default=False)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ConsentSignature(db.Model):
    """Who signed which version, in which language, meaning what, and when.
    Withdrawal keeps the row and records when and why."""

    __tablename__ = "consent_signatures"
    __table_args__ = (Index("ix_consent_signatures_patient_kind", "patient_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    patient: Mapped[Patient] = relationship(foreign_keys=[patient_id])
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    course: Mapped[Course] = relationship()
    document_id: Mapped[int] = mapped_column(ForeignKey("consent_documents.id"))
    document: Mapped[ConsentDocument] = relationship()
    kind: Mapped[ConsentKind] = mapped_column(enum_column(ConsentKind, "signature_consent_kind"))
    version: Mapped[int]
    locale: Mapped[str] = mapped_column(String(16))
    signer_name: Mapped[str] = mapped_column(String(200))
    meaning: Mapped[str] = mapped_column(Text)
    # SHA-256 of the exact text shown (title, blank line, body), shown on the signature page.
    text_sha256: Mapped[str | None] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    ip_address: Mapped[str | None] = mapped_column(String(64))
    withdrawn_at: Mapped[datetime | None]
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    AUDITED = (
        "kind",
        "version",
        "locale",
        "signer_name",
        "meaning",
        "text_sha256",
        "signed_at",
        "ip_address",
        "withdrawn_at",
        "withdrawal_reason",
    )

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None
