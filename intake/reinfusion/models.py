"""Reinfusion tables.

* ``Dose``: one planned administration of a course's culture batch (dose 1 of
  fresh cells, later doses from cryopreserved aliquots). Its visit, once the
  patient confirms a proposed time, is ``appointment_id``; the visit's
  ``Appointment.locked_at`` is the lock (rule 7) that scheduling enforces.
* ``Proposal``: a time the coordinator offers for a dose (1–3 at once).
* ``ChangeRequest``: a patient asking to move a locked date, with a reason.
* ``Clearance``, ``BedsideCheck``, ``Administration``: the day (rule 8).
* ``FollowUp``: a contact after an administration (1 week, 1, 3, 6 months by
  default), with the patient's answers to the short questionnaire.
* ``AdverseEvent``: an event after a reinfusion, with its reporting deadline.

Nothing here is ever deleted (rule 12): statuses and reasons say what happened.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
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
from intake.cultures.models import Batch
from intake.extensions import db
from intake.patients.models import Course, Patient
from intake.scheduling.models import Appointment, VisitType


class DoseStatus(enum.StrEnum):
    PLANNED = "planned"  # no time offered yet
    PROPOSED = "proposed"  # times offered, the patient has not chosen
    CONFIRMED = "confirmed"  # booked and locked
    ADMINISTERED = "administered"
    CANCELLED = "cancelled"


DOSE_STATUS_LABELS = {
    DoseStatus.PLANNED: N_("Planned"),
    DoseStatus.PROPOSED: N_("Dates proposed"),
    DoseStatus.CONFIRMED: N_("Date confirmed"),
    DoseStatus.ADMINISTERED: N_("Given"),
    DoseStatus.CANCELLED: N_("Cancelled"),
}


class DoseSource(enum.StrEnum):
    FRESH = "fresh"
    CRYOPRESERVED = "cryopreserved"


DOSE_SOURCE_LABELS = {
    DoseSource.FRESH: N_("Fresh cells"),
    DoseSource.CRYOPRESERVED: N_("Cryopreserved aliquot"),
}


class Dose(db.Model):
    __tablename__ = "reinfusion_doses"
    __table_args__ = (
        UniqueConstraint("batch_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("planned_cells >= 1", name="planned_cells_positive"),
        CheckConstraint("interval_days IS NULL OR interval_days >= 1", name="interval_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    course: Mapped[Course] = relationship()
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    patient: Mapped[Patient] = relationship()
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    batch: Mapped[Batch] = relationship()
    #: 1 for the first dose, then 2, 3 … in order.
    number: Mapped[int] = mapped_column(default=1)
    #: The route code (``iv``, ``local``, ``intrathecal``; the indication's routes).
    route: Mapped[str] = mapped_column(String(16))
    planned_cells: Mapped[int] = mapped_column(BigInteger)
    #: Days after the previous dose (None for dose 1).
    interval_days: Mapped[int | None]
    source: Mapped[DoseSource] = mapped_column(
        enum_column(DoseSource, "dose_source"), default=DoseSource.FRESH
    )
    status: Mapped[DoseStatus] = mapped_column(
        enum_column(DoseStatus, "dose_status"), default=DoseStatus.PLANNED, index=True
    )
    #: The booked visit, once the patient confirmed a proposed time.
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"), unique=True)
    appointment: Mapped[Appointment | None] = relationship()
    #: A doctor's reason for a planned dose above the per-administration cap.
    over_cap_reason: Mapped[str | None] = mapped_column(Text)
    confirmed_at: Mapped[datetime | None]
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    planned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    planned_by: Mapped[User | None] = relationship(foreign_keys=[planned_by_id])
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    AUDITED = (
        "number",
        "route",
        "planned_cells",
        "interval_days",
        "source",
        "status",
        "appointment_id",
        "over_cap_reason",
        "confirmed_at",
        "cancelled_at",
        "cancel_reason",
    )

    def __repr__(self) -> str:
        return f"<Dose {self.id} #{self.number} {self.status.value}>"


class ProposalStatus(enum.StrEnum):
    OFFERED = "offered"
    CHOSEN = "chosen"
    #: Replaced by the patient's choice of another time, a new set of
    #: proposals, or cancelled with the dose (a failed batch).
    WITHDRAWN = "withdrawn"


class Proposal(db.Model):
    __tablename__ = "reinfusion_proposals"
    __table_args__ = (Index("ix_reinfusion_proposals_dose_status", "dose_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dose_id: Mapped[int] = mapped_column(ForeignKey("reinfusion_doses.id"))
    dose: Mapped[Dose] = relationship()
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    patient: Mapped[Patient] = relationship()
    visit_type_id: Mapped[int] = mapped_column(ForeignKey("visit_types.id"))
    visit_type: Mapped[VisitType] = relationship()
    start_at: Mapped[datetime]
    status: Mapped[ProposalStatus] = mapped_column(
        enum_column(ProposalStatus, "proposal_status"), default=ProposalStatus.OFFERED
    )
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    proposed_by: Mapped[User | None] = relationship(foreign_keys=[proposed_by_id])
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str | None] = mapped_column(Text)

    AUDITED = ("dose_id", "visit_type_id", "start_at", "status", "close_reason")


class ChangeRequestStatus(enum.StrEnum):
    OPEN = "open"
    MOVED = "moved"  # the date was moved
    DECLINED = "declined"  # kept, with the coordinator's answer


class ChangeRequest(db.Model):
    __tablename__ = "reinfusion_change_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    dose_id: Mapped[int] = mapped_column(ForeignKey("reinfusion_doses.id"), index=True)
    dose: Mapped[Dose] = relationship()
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id"))
    appointment: Mapped[Appointment] = relationship()
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    patient: Mapped[Patient] = relationship()
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[ChangeRequestStatus] = mapped_column(
        enum_column(ChangeRequestStatus, "change_request_status"),
        default=ChangeRequestStatus.OPEN,
        index=True,
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    handled_at: Mapped[datetime | None]
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    handled_by: Mapped[User | None] = relationship(foreign_keys=[handled_by_id])
    answer: Mapped[str | None] = mapped_column(Text)

    AUDITED = ("reason", "status", "handled_at", "answer")


class Decision(enum.StrEnum):
    GO = "go"
    NO_GO = "no_go"


DECISION_LABELS = {Decision.GO: N_("Cleared"), Decision.NO_GO: N_("Not cleared")}


class Clearance(db.Model):
    """The doctor's same-day clearance, signed with their password."""

    __tablename__ = "reinfusion_clearances"

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id"), index=True)
    appointment: Mapped[Appointment] = relationship()
    dose_id: Mapped[int] = mapped_column(ForeignKey("reinfusion_doses.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    doctor: Mapped[User] = relationship()
    systolic: Mapped[int]
    diastolic: Mapped[int]
    pulse: Mapped[int]
    temperature_c: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    spo2: Mapped[int]
    decision: Mapped[Decision] = mapped_column(enum_column(Decision, "clearance_decision"))
    reason: Mapped[str | None] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)

    AUDITED = (
        "systolic",
        "diastolic",
        "pulse",
        "temperature_c",
        "spo2",
        "decision",
        "reason",
        "signed_at",
    )


class BedsideCheck(db.Model):
    """The chain-of-identity check at the bedside: the label read against the
    patient's two identifiers. A mismatch blocks the administration."""

    __tablename__ = "reinfusion_bedside_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id"), index=True)
    dose_id: Mapped[int] = mapped_column(ForeignKey("reinfusion_doses.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    #: What was scanned or typed, as read.
    label_read: Mapped[str] = mapped_column(String(40))
    #: The batch the label names, if it names one.
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    name_read: Mapped[str] = mapped_column(String(200))
    date_of_birth_read: Mapped[date]
    matched: Mapped[bool]
    #: Why not, when it did not match (e.g. ``other_batch``, ``name``, ``birth_date``).
    mismatch: Mapped[str | None] = mapped_column(String(64))
    checked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    checked_by: Mapped[User] = relationship()
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)

    AUDITED = (
        "label_read",
        "batch_id",
        "name_read",
        "date_of_birth_read",
        "matched",
        "mismatch",
        "checked_at",
    )


class Administration(db.Model):
    __tablename__ = "reinfusion_administrations"
    __table_args__ = (
        CheckConstraint("cells_given >= 1", name="cells_given_positive"),
        CheckConstraint("ended_at > started_at", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dose_id: Mapped[int] = mapped_column(ForeignKey("reinfusion_doses.id"), unique=True)
    dose: Mapped[Dose] = relationship()
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id"), unique=True)
    appointment: Mapped[Appointment] = relationship()
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    patient: Mapped[Patient] = relationship()
    clearance_id: Mapped[int] = mapped_column(ForeignKey("reinfusion_clearances.id"))
    bedside_check_id: Mapped[int] = mapped_column(ForeignKey("reinfusion_bedside_checks.id"))
    route: Mapped[str] = mapped_column(String(16))
    cells_given: Mapped[int] = mapped_column(BigInteger)
    over_cap_reason: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    observed_until: Mapped[datetime]
    systolic_after: Mapped[int]
    diastolic_after: Mapped[int]
    pulse_after: Mapped[int]
    temperature_c_after: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    spo2_after: Mapped[int]
    note: Mapped[str | None] = mapped_column(Text)
    given_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    given_by: Mapped[User] = relationship()
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    AUDITED = (
        "route",
        "cells_given",
        "over_cap_reason",
        "started_at",
        "ended_at",
        "observed_until",
        "systolic_after",
        "diastolic_after",
        "pulse_after",
        "temperature_c_after",
        "spo2_after",
        "note",
    )


class FollowUpStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    UNREACHABLE = "unreachable"


class FollowUp(db.Model):
    __tablename__ = "follow_ups"
    __table_args__ = (
        UniqueConstraint("administration_id", "days_after"),
        Index("ix_follow_ups_status_due", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    administration_id: Mapped[int] = mapped_column(ForeignKey("reinfusion_administrations.id"))
    administration: Mapped[Administration] = relationship()
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    patient: Mapped[Patient] = relationship()
    days_after: Mapped[int]
    due_on: Mapped[date]
    status: Mapped[FollowUpStatus] = mapped_column(
        enum_column(FollowUpStatus, "follow_up_status"), default=FollowUpStatus.OPEN
    )
    #: The patient's answers to the short questionnaire, when they gave them.
    answers: Mapped[dict | None] = mapped_column(JSON)
    answered_at: Mapped[datetime | None]
    #: When the patient was told the questionnaire is open (once per contact).
    invited_at: Mapped[datetime | None]
    contacted_at: Mapped[datetime | None]
    contacted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    contacted_by: Mapped[User | None] = relationship()
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    AUDITED = ("days_after", "due_on", "status", "answers", "answered_at", "contacted_at", "note")


class Seriousness(enum.StrEnum):
    DEATH = "death"
    LIFE_THREATENING = "life_threatening"
    HOSPITALISATION = "hospitalisation"
    DISABILITY = "disability"
    OTHER_SERIOUS = "other_serious"
    NOT_SERIOUS = "not_serious"


SERIOUSNESS_LABELS = {
    Seriousness.DEATH: N_("Death"),
    Seriousness.LIFE_THREATENING: N_("Life-threatening"),
    Seriousness.HOSPITALISATION: N_("Hospitalisation or longer stay"),
    Seriousness.DISABILITY: N_("Disability"),
    Seriousness.OTHER_SERIOUS: N_("Other serious event"),
    Seriousness.NOT_SERIOUS: N_("Not serious"),
}


class AdverseEvent(db.Model):
    __tablename__ = "adverse_events"
    __table_args__ = (Index("ix_adverse_events_reported_due", "reported_at", "report_due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    patient: Mapped[Patient] = relationship()
    #: The administration it followed (None when not tied to one dose).
    administration_id: Mapped[int | None] = mapped_column(
        ForeignKey("reinfusion_administrations.id")
    )
    administration: Mapped[Administration | None] = relationship()
    description: Mapped[str] = mapped_column(Text)
    began_on: Mapped[date]
    #: The day the clinic learnt of it: the reporting clock starts here.
    known_on: Mapped[date]
    seriousness: Mapped[Seriousness] = mapped_column(enum_column(Seriousness, "seriousness"))
    #: None: goes in the periodic report.
    report_due_on: Mapped[date | None]
    cpc_told_at: Mapped[datetime | None]
    cpc_told_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reported_at: Mapped[datetime | None]
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    report_reference: Mapped[str | None] = mapped_column(String(120))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    AUDITED = (
        "description",
        "began_on",
        "known_on",
        "seriousness",
        "report_due_on",
        "cpc_told_at",
        "reported_at",
        "report_reference",
    )
