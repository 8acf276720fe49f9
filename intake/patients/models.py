"""The patient record and the treatment course.

A ``Patient`` is a clinical record, not a login: a coordinator can register a
patient who books by phone, and link (invite) a login account later. Every
clinical row (questionnaire, review, panel, consent, visit, hold of a culture
place …) points at the patient and at the ``Course`` it belongs to: one
episode of treatment, from the first answer to the last follow-up. A
recollection after a failed culture stays in its course; a new treatment later
is a new course. At most one course per patient is open at a time, a database
guarantee (a partial unique index), not a check in Python.
"""

from __future__ import annotations

import enum
import unicodedata
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake.accounts.models import User
from intake.core.db import enum_column
from intake.core.text import N_
from intake.core.types import utcnow
from intake.extensions import db


class Sex(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


SEX_LABELS = {
    Sex.FEMALE: N_("Female"),
    Sex.MALE: N_("Male"),
    Sex.OTHER: N_("Other"),
    Sex.UNKNOWN: N_("Not stated"),
}


class CourseStatus(enum.StrEnum):
    OPEN = "open"  # in progress: intake, collection, culture, reinfusion, follow-up
    HALTED = "halted"  # consent withdrawn: nothing further is booked
    DECLINED = "declined"  # the doctor declined the treatment
    COMPLETED = "completed"  # the last follow-up is done


COURSE_STATUS_LABELS = {
    CourseStatus.OPEN: N_("Ongoing"),
    CourseStatus.HALTED: N_("Halted (consent withdrawn)"),
    CourseStatus.DECLINED: N_("Declined"),
    CourseStatus.COMPLETED: N_("Completed"),
}


def _is_cjk(value: str) -> bool:
    return any(unicodedata.east_asian_width(ch) in ("W", "F") for ch in value)


def display_name(family: str | None, given: str | None) -> str:
    """Family name first for East Asian names (王丽, 山田 花子), given name first
    for names in Latin letters (Anna Smith)."""
    family, given = (family or "").strip(), (given or "").strip()
    if not family or not given:
        return family or given
    if _is_cjk(family + given):
        # Chinese names are written together (王丽); Japanese ones keep a space (山田 花子).
        if any("\u3040" <= ch <= "\u30ff" for ch in family + given) or len(family) >= 2:
            return f"{family} {given}"
        return f"{family}{given}"
    return f"{given} {family}"


class Patient(db.Model):
    __tablename__ = "patients"
    __table_args__ = (
        Index("ix_patients_identity", "date_of_birth", "family_name"),
        Index("ix_patients_phone_digits", "phone_digits"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_number: Mapped[str | None] = mapped_column(String(20), unique=True)
    family_name: Mapped[str] = mapped_column(String(100))
    given_name: Mapped[str] = mapped_column(String(100), default="")
    family_name_latin: Mapped[str | None] = mapped_column(String(100))
    given_name_latin: Mapped[str | None] = mapped_column(String(100))
    date_of_birth: Mapped[date | None]
    sex: Mapped[Sex | None] = mapped_column(enum_column(Sex, "patient_sex"))
    nationality: Mapped[str | None] = mapped_column(String(2))
    phone: Mapped[str | None] = mapped_column(String(40))
    # The phone's digits only, to find possible duplicates whatever the spacing.
    phone_digits: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(16), default="en")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    user: Mapped[User | None] = relationship(
        foreign_keys=[user_id], backref=db.backref("patient", uselist=False)
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    AUDITED = (
        "record_number",
        "family_name",
        "given_name",
        "family_name_latin",
        "given_name_latin",
        "date_of_birth",
        "sex",
        "nationality",
        "phone",
        "email",
        "locale",
        "user_id",
    )

    @property
    def full_name(self) -> str:
        return display_name(self.family_name, self.given_name)

    @property
    def latin_name(self) -> str:
        family = (self.family_name_latin or "").upper()
        return f"{family} {self.given_name_latin or ''}".strip()

    @property
    def has_login(self) -> bool:
        return self.user_id is not None

    @property
    def is_active(self) -> bool:
        return self.user is None or self.user.is_active

    @property
    def audit_label(self) -> str:
        return f"{self.full_name} ({self.record_number or self.id})"

    def __repr__(self) -> str:
        return f"<Patient {self.id} {self.record_number}>"


class Course(db.Model):
    """One patient's episode of treatment."""

    __tablename__ = "courses"
    __table_args__ = (
        UniqueConstraint("patient_id", "number"),
        # The worklist: open and halted courses, oldest first.
        Index("ix_courses_status_opened_at", "status", "opened_at", "id"),
        # At most one open course per patient, on any database.
        Index(
            "uq_courses_one_open_per_patient",
            "patient_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    patient: Mapped[Patient] = relationship()
    number: Mapped[int] = mapped_column(default=1)
    status: Mapped[CourseStatus] = mapped_column(
        enum_column(CourseStatus, "course_status"), default=CourseStatus.OPEN, index=True
    )
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str | None] = mapped_column(Text)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    AUDITED = ("number", "status", "closed_at", "close_reason")

    @property
    def is_open(self) -> bool:
        return self.status == CourseStatus.OPEN

    def __repr__(self) -> str:
        return f"<Course {self.id} {self.patient_id}#{self.number} {self.status.value}>"


class Trip(db.Model):
    """A stay in Japan the patient plans (arrival and departure days, both
    spent at the clinic's city). Cancelling keeps the row."""

    __tablename__ = "trips"
    __table_args__ = (
        CheckConstraint("departs_on >= arrives_on", name="departs_after_arrival"),
        Index("ix_trips_patient_arrives", "patient_id", "arrives_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    patient: Mapped[Patient] = relationship()
    arrives_on: Mapped[date]
    departs_on: Mapped[date]
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None]

    AUDITED = ("arrives_on", "departs_on", "note", "cancelled_at")
