"""Culture batches and their day-by-day record.

A ``Batch`` is the culture grown from one collection visit of a course; it is
made when the desk marks the collection completed, before the tissue reaches
the lab (``received_at`` empty: expected). Its chain-of-identity number is
stored in parts (site, year, sequence, unique together: the database decides
the sequence, never a Python check) and formatted (``coi``, unique).

A ``BatchEvent`` is one entry of the batch's timeline: custody (receipt, a
handover or storage move) and culture (passage, medium change, cell count and
viability, observation, QC result, state change). Events are never changed: a
correction is a new event of the same kind whose ``corrects_id`` names the
corrected one, which then no longer counts.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake.accounts.models import User
from intake.core.db import enum_column
from intake.core.text import N_
from intake.core.types import utcnow
from intake.cultures.lifecycle import BatchState
from intake.extensions import db
from intake.patients.models import Course, Patient
from intake.scheduling.models import Appointment


class TissueUnit(enum.StrEnum):
    MG = "mg"
    PIECES = "pieces"


TISSUE_UNIT_LABELS = {TissueUnit.MG: N_("mg"), TissueUnit.PIECES: N_("pieces")}


class EventKind(enum.StrEnum):
    RECEIPT = "receipt"
    CUSTODY = "custody"
    PASSAGE = "passage"
    MEDIUM_CHANGE = "medium_change"
    CELL_COUNT = "cell_count"
    OBSERVATION = "observation"
    QC_RESULT = "qc_result"
    TRANSITION = "transition"


EVENT_LABELS = {
    EventKind.RECEIPT: N_("Received in the lab"),
    EventKind.CUSTODY: N_("Handover or storage move"),
    EventKind.PASSAGE: N_("Passage"),
    EventKind.MEDIUM_CHANGE: N_("Medium change"),
    EventKind.CELL_COUNT: N_("Cell count"),
    EventKind.OBSERVATION: N_("Observation"),
    EventKind.QC_RESULT: N_("QC result"),
    EventKind.TRANSITION: N_("State change"),
}

#: Kinds a technician may correct (a state change is undone by another step).
CORRECTABLE = frozenset(EventKind) - {EventKind.TRANSITION, EventKind.RECEIPT}


class Batch(db.Model):
    __tablename__ = "batches"
    __table_args__ = (
        UniqueConstraint("coi_site", "coi_year", "coi_sequence"),
        CheckConstraint("planned_dose_low >= 1", name="dose_low_positive"),
        CheckConstraint("planned_dose_high >= planned_dose_low", name="dose_range"),
        CheckConstraint("later_doses >= 0", name="later_doses_not_negative"),
        Index("ix_batches_state", "state"),
        # The lab board: open batches by collection day.
        Index("ix_batches_state_collected_on", "state", "collected_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    course: Mapped[Course] = relationship()
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    patient: Mapped[Patient] = relationship()
    # One batch per collection visit, on any database.
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id"), unique=True)
    appointment: Mapped[Appointment] = relationship()
    coi_site: Mapped[str] = mapped_column(String(5))
    coi_year: Mapped[int]
    coi_sequence: Mapped[int]
    #: As printed: ``TKY26000123 O``.
    coi: Mapped[str] = mapped_column(String(20), unique=True)
    state: Mapped[BatchState] = mapped_column(
        enum_column(BatchState, "batch_state"), default=BatchState.RECEIVED
    )
    planned_dose_low: Mapped[int] = mapped_column(BigInteger)
    planned_dose_high: Mapped[int] = mapped_column(BigInteger)
    later_doses: Mapped[int] = mapped_column(default=0)
    collected_on: Mapped[date]
    collected_by: Mapped[str] = mapped_column(String(120))
    tissue_amount: Mapped[int]
    tissue_unit: Mapped[TissueUnit] = mapped_column(enum_column(TissueUnit, "tissue_unit"))
    blood_volume_ml: Mapped[int]
    received_at: Mapped[datetime | None]
    received_by: Mapped[str | None] = mapped_column(String(120))
    received_condition: Mapped[str | None] = mapped_column(Text)
    state_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    AUDITED = (
        "coi",
        "state",
        "planned_dose_low",
        "planned_dose_high",
        "later_doses",
        "collected_on",
        "collected_by",
        "tissue_amount",
        "tissue_unit",
        "blood_volume_ml",
        "received_at",
        "received_by",
        "received_condition",
        "state_reason",
    )

    @property
    def is_expected(self) -> bool:
        """Collected but not yet received in the lab."""
        return self.received_at is None

    def __repr__(self) -> str:
        return f"<Batch {self.id} {self.coi} {self.state.value}>"


class BatchEvent(db.Model):
    __tablename__ = "batch_events"
    __table_args__ = (
        Index("ix_batch_events_batch_kind", "batch_id", "kind"),
        CheckConstraint("cells IS NULL OR cells >= 1", name="cells_positive"),
        CheckConstraint(
            "viability_percent IS NULL OR (viability_percent >= 0 AND viability_percent <= 100)",
            name="viability_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    batch: Mapped[Batch] = relationship()
    kind: Mapped[EventKind] = mapped_column(enum_column(EventKind, "batch_event_kind"))
    #: When it happened (the technician's time), and when it was entered.
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_by: Mapped[User | None] = relationship()
    # A correction names the event it replaces; one correction per event.
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("batch_events.id"), unique=True)
    #: Who held or handled the material (custody), or who did the work.
    person: Mapped[str | None] = mapped_column(String(120))
    from_place: Mapped[str | None] = mapped_column(String(120))
    to_place: Mapped[str | None] = mapped_column(String(120))
    passage_number: Mapped[int | None]
    cells: Mapped[int | None] = mapped_column(BigInteger)
    viability_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    qc_item: Mapped[str | None] = mapped_column(String(32))
    #: ``negative``/``positive`` for sterility and mycoplasma, else the number.
    qc_value: Mapped[str | None] = mapped_column(String(40))
    qc_passed: Mapped[bool | None]
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)

    AUDITED = (
        "kind",
        "occurred_at",
        "corrects_id",
        "person",
        "from_place",
        "to_place",
        "passage_number",
        "cells",
        "viability_percent",
        "qc_item",
        "qc_value",
        "qc_passed",
        "from_state",
        "to_state",
        "note",
    )

    def __repr__(self) -> str:
        return f"<BatchEvent {self.id} {self.kind.value}>"
