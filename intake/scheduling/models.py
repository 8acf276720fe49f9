"""Scheduling tables: resources, visit types, closures, appointments and the hold ledger.

The hold ledger (DESIGN.md, "No double booking, on any database"): a booking writes
one ``Hold`` row per seat it occupies, and the unique constraint on
``(resource_id, unit_start, seat)`` is what prevents two bookings from taking the
same seat, on SQLite and PostgreSQL alike, with no lock and no check-then-insert
window. Cancelling deletes the holds and keeps the appointment row.

``Hold.unit_start`` is:

* for unit resources (rooms, chairs, beds, staff): the UTC start of a booking unit
  on the clinic's grid (``slot_minutes`` from each opening time);
* for per-day resources (incubator places): the clinic-local midnight of the day
  the place is held, converted to UTC (``calendar.wall_to_utc(day, 00:00)``). One
  column and one unique constraint therefore cover both kinds.

Staff: a resource may be a *pool* (``doctor``, ``nurse``) whose *members* are
individual staff resources (``pool_id`` set, usually capacity 1, linked to a user
account and with working weekdays). A visit type that needs "a doctor" names the
pool; the booking holds a seat of one working member. A pool without members
uses its own capacity.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from itertools import chain

from flask_babel import get_locale
from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from intake.accounts.models import User
from intake.core.db import enum_column
from intake.core.languages import LANGUAGES
from intake.core.text import N_
from intake.core.types import utcnow
from intake.extensions import db
from intake.patients.models import Course, Patient
from intake.scheduling import visit_kinds, visit_status
from intake.scheduling.visit_kinds import VisitKind
from intake.scheduling.visit_status import (  # noqa: F401 - STATUS_LABELS: re-exported
    STATUS_LABELS,
    AppointmentStatus,
)

LOCALES = LANGUAGES  # the names of resources and visit types, per language


class ResourceKind(enum.StrEnum):
    ROOM = "room"
    CHAIR = "chair"
    BED = "bed"
    STAFF = "staff"
    INCUBATOR = "incubator"


RESOURCE_KIND_LABELS = {
    ResourceKind.ROOM: N_("Room"),
    ResourceKind.CHAIR: N_("Chair"),
    ResourceKind.BED: N_("Bed"),
    ResourceKind.STAFF: N_("Staff"),
    ResourceKind.INCUBATOR: N_("Incubator"),
}


class VisitMode(enum.StrEnum):
    IN_PERSON = "in_person"
    VIDEO = "video"


MODE_LABELS = {VisitMode.IN_PERSON: N_("In person"), VisitMode.VIDEO: N_("Video call")}


def localized(names: dict | None, locale: str | None = None) -> str:
    """The name in ``locale`` (default: the current one), else English, else any."""
    names = names or {}
    if locale is None:
        locale = str(get_locale() or "en")
    return names.get(locale) or names.get("en") or next(iter(names.values()), "")


def parse_weekdays(text: str | None) -> frozenset[int] | None:
    """``"0,1,2"`` → {0, 1, 2}; ``None`` or blank means every day."""
    if not text or not text.strip():
        return None
    return frozenset(int(part) for part in text.split(",") if part.strip())


def format_weekdays(days) -> str | None:
    return ",".join(str(d) for d in sorted(set(days))) if days is not None else None


class Resource(db.Model):
    __tablename__ = "resources"
    __table_args__ = (
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
        CheckConstraint(
            "capacity IS NOT NULL OR capacity_setting IS NOT NULL", name="capacity_given"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[ResourceKind] = mapped_column(enum_column(ResourceKind, "resource_kind"))
    names: Mapped[dict] = mapped_column(JSON, default=dict)
    # How many visits it serves at once (places per day for a per-day resource).
    capacity: Mapped[int | None]
    # When set, the capacity is this clinic setting (e.g. incubator_places).
    capacity_setting: Mapped[str | None] = mapped_column(String(64))
    is_per_day: Mapped[bool] = mapped_column(default=False)
    pool_id: Mapped[int | None] = mapped_column(ForeignKey("resources.id"), index=True)
    pool: Mapped[Resource | None] = relationship(remote_side=[id], back_populates="members")
    members: Mapped[list[Resource]] = relationship(back_populates="pool", order_by="Resource.id")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    user: Mapped[User | None] = relationship()
    # "0,1,2,3,4" (0 = Monday); None = every day the clinic is open.
    working_weekdays: Mapped[str | None] = mapped_column(String(20))
    is_active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    AUDITED = (
        "code",
        "kind",
        "names",
        "capacity",
        "capacity_setting",
        "is_per_day",
        "pool_id",
        "user_id",
        "working_weekdays",
        "is_active",
    )

    @property
    def weekdays(self) -> frozenset[int] | None:
        return parse_weekdays(self.working_weekdays)

    @property
    def label(self) -> str:
        return localized(self.names) or self.code

    def __repr__(self) -> str:
        return f"<Resource {self.code}>"


class VisitType(db.Model):
    __tablename__ = "visit_types"
    __table_args__ = (
        CheckConstraint(
            "duration_minutes IS NULL OR duration_minutes > 0", name="duration_positive"
        ),
        CheckConstraint("day_block_quantity > 0", name="day_block_quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    # What the visit is for; the rules (the intake gate …) follow the kind.
    kind: Mapped[VisitKind] = mapped_column(enum_column(VisitKind, "visit_kind"))
    names: Mapped[dict] = mapped_column(JSON, default=dict)
    # The visit's length; when duration_setting names a clinic setting
    # (consultation_minutes, collection_minutes) the setting is the length.
    duration_minutes: Mapped[int | None]
    duration_setting: Mapped[str | None] = mapped_column(String(64))
    # Allowed modes, e.g. ["in_person", "video"]; empty = no choice (in person).
    modes: Mapped[list] = mapped_column(JSON, default=list)
    is_patient_bookable: Mapped[bool] = mapped_column(default=False)
    is_desk_bookable: Mapped[bool] = mapped_column(default=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    # A per-day resource held from the visit day through day culture_max_days.
    day_block_resource_id: Mapped[int | None] = mapped_column(ForeignKey("resources.id"))
    day_block_resource: Mapped[Resource | None] = relationship()
    day_block_quantity: Mapped[int] = mapped_column(default=1)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    segments: Mapped[list[VisitTypeSegment]] = relationship(
        back_populates="visit_type",
        cascade="all, delete-orphan",
        order_by="(VisitTypeSegment.offset_minutes, VisitTypeSegment.id)",
    )

    AUDITED = (
        "kind",
        "names",
        "duration_minutes",
        "modes",
        "is_patient_bookable",
        "is_desk_bookable",
        "is_active",
        "day_block_resource_id",
        "day_block_quantity",
    )

    @property
    def label(self) -> str:
        return localized(self.names) or self.code

    @property
    def requires_intake_gate(self) -> bool:
        """A property of the kind (collection, reinfusion), not a setting to forget."""
        return visit_kinds.requires_intake_gate(self.kind)

    def name_in(self, locale: str) -> str:
        return localized(self.names, locale) or self.code

    def __repr__(self) -> str:
        return f"<VisitType {self.code}>"


class VisitTypeSegment(db.Model):
    """The visit uses ``quantity`` of ``resource`` from ``offset_minutes`` for
    ``duration_minutes`` (None: until the end of the visit)."""

    __tablename__ = "visit_type_segments"
    __table_args__ = (
        CheckConstraint("offset_minutes >= 0", name="offset_not_negative"),
        CheckConstraint(
            "duration_minutes IS NULL OR duration_minutes > 0", name="duration_positive"
        ),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_type_id: Mapped[int] = mapped_column(ForeignKey("visit_types.id"), index=True)
    visit_type: Mapped[VisitType] = relationship(back_populates="segments")
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"))
    resource: Mapped[Resource] = relationship()
    offset_minutes: Mapped[int] = mapped_column(default=0)
    duration_minutes: Mapped[int | None]
    quantity: Mapped[int] = mapped_column(default=1)


class Closure(db.Model):
    """The clinic is closed from ``start_at`` to ``end_at`` (whole days or hours)."""

    __tablename__ = "closures"
    __table_args__ = (
        CheckConstraint("end_at > start_at", name="ends_after_start"),
        Index("ix_closures_window", "start_at", "end_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by: Mapped[User | None] = relationship()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    AUDITED = ("start_at", "end_at", "reason")


class Appointment(db.Model):
    """A booked visit. Never deleted: cancelling keeps the row, its status and reason.

    ``upcoming_kind`` is the visit's claim to be its course's one upcoming visit
    of a kind (``visit_kinds.one_upcoming``: the consultation, the collection).
    It is set at booking, whoever books, and cleared when the visit is
    cancelled, missed or completed, or (at the next booking of the kind) once
    its time is over. The partial unique index makes "one upcoming visit of a
    kind per course" a database guarantee: of two bookings racing, one insert
    wins and the other gets an ``IntegrityError``; the check constraint keeps a
    closed visit from holding a claim.

    ``request_key`` is the idempotency key of the booking form that made the
    visit (a random token made when the form was shown): a retry of the same
    form finds this visit instead of booking a second one or showing an error.
    """

    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint("end_at > start_at", name="ends_after_start"),
        CheckConstraint(
            "upcoming_kind IS NULL OR status IN ('booked', 'arrived')",
            name="claim_only_while_active",
        ),
        Index("ix_appointments_patient_start", "patient_id", "start_at"),
        Index(
            "uq_appointments_one_upcoming_kind_per_course",
            "course_id",
            "upcoming_kind",
            unique=True,
            sqlite_where=text("upcoming_kind IS NOT NULL"),
            postgresql_where=text("upcoming_kind IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    patient: Mapped[Patient] = relationship(foreign_keys=[patient_id])
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    course: Mapped[Course] = relationship()
    visit_type_id: Mapped[int] = mapped_column(ForeignKey("visit_types.id"))
    visit_type: Mapped[VisitType] = relationship()
    start_at: Mapped[datetime] = mapped_column(index=True)
    end_at: Mapped[datetime]
    status: Mapped[AppointmentStatus] = mapped_column(
        enum_column(AppointmentStatus, "appointment_status"),
        default=AppointmentStatus.BOOKED,
        index=True,
    )
    mode: Mapped[VisitMode | None] = mapped_column(enum_column(VisitMode, "visit_mode"))
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    booked_by: Mapped[User | None] = relationship(foreign_keys=[booked_by_id])
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    status_changed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    reminded_at: Mapped[datetime | None]
    # Bumped on every change the patient's calendar must follow (.ics SEQUENCE).
    sequence: Mapped[int] = mapped_column(default=0)
    upcoming_kind: Mapped[VisitKind | None] = mapped_column(enum_column(VisitKind, "upcoming_kind"))
    request_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Set when the patient confirmed a reinfusion date (DOMAIN rule 7): from
    # then on only a coordinator or doctor moves it, with a reason and the
    # lab's agreement (``intake.reinfusion``); every other path refuses.
    locked_at: Mapped[datetime | None]
    locked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    AUDITED = (
        "visit_type_id",
        "start_at",
        "end_at",
        "status",
        "mode",
        "cancel_reason",
        "locked_at",
    )

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None

    @property
    def is_active(self) -> bool:
        return visit_status.is_active(self.status)

    def __repr__(self) -> str:
        return f"<Appointment {self.id} {self.status.value}>"


class Hold(db.Model):
    """One seat of one resource in one unit (or one day), owned by what needs it:
    the visit for rooms, chairs, beds and staff; the course's culture for an
    incubator place (so a culture can give its place back early, or keep it
    longer, without touching the collection visit)."""

    __tablename__ = "holds"
    __table_args__ = (
        UniqueConstraint("resource_id", "unit_start", "seat"),
        CheckConstraint("seat >= 0", name="seat_not_negative"),
        CheckConstraint("(appointment_id IS NULL) <> (course_id IS NULL)", name="one_owner"),
        Index("ix_holds_course_unit", "course_id", "unit_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"), index=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"))
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"))
    unit_start: Mapped[datetime]
    seat: Mapped[int]


class LedgerVersion(db.Model):
    """One row: a number every change to what availability depends on raises,
    in the same transaction (holds, closures, resources, visit types, settings).
    Availability answers are reused only under the number they were computed
    at, so every process sharing the database sees a change in its next answer."""

    __tablename__ = "ledger_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


event.listen(
    LedgerVersion.__table__,
    "after_create",
    DDL("INSERT INTO ledger_versions (id, version) VALUES (1, 0)"),
)

#: The tables whose rows availability reads; writing any of them raises the version.
LEDGER_TABLES = frozenset(
    {"holds", "closures", "resources", "visit_types", "visit_type_segments", "settings"}
)
_CHANGED = "scheduling_ledger_changed"


def has_ledger_changes(session) -> bool:
    """Has this transaction written what availability reads (not committed yet)?
    Its answers then differ from every other process's: they are not kept."""
    return bool(session.info.get(_CHANGED))


@event.listens_for(Session, "before_flush")
def _note_changed_rows(session, _context, _instances) -> None:
    for obj in chain(session.new, session.dirty, session.deleted):
        if getattr(obj, "__tablename__", None) in LEDGER_TABLES:
            session.info[_CHANGED] = True
            return


@event.listens_for(Session, "do_orm_execute")
def _note_changing_statements(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in LEDGER_TABLES:
            state.session.info[_CHANGED] = True


@event.listens_for(Session, "before_commit")
def _raise_ledger_version(session) -> None:
    """Last thing before the commit, so the row lock is held for an instant.
    A savepoint's commit is not the transaction's: the version waits for it."""
    if session.in_nested_transaction():
        return
    session.flush()
    if session.info.pop(_CHANGED, False):
        session.execute(
            update(LedgerVersion)
            .where(LedgerVersion.id == 1)
            .values(version=LedgerVersion.version + 1)
            .execution_options(synchronize_session=False)
        )


@event.listens_for(Session, "after_soft_rollback")
def _forget_changes(session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # a savepoint rolled back: the rest still counts
        session.info.pop(_CHANGED, None)


# --------------------------------------------------------------------------- the waitlist


class WaitlistStatus(enum.StrEnum):
    WAITING = "waiting"
    BOOKED = "booked"
    LEFT = "left"


class OfferStatus(enum.StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    TAKEN = "taken"
    # The course stopped (consent withdrawn, treatment declined) while waiting.
    WITHDRAWN = "withdrawn"


class WaitlistEntry(db.Model):
    """A patient waiting for a freed collection day in the weeks that suit
    them (``weeks``: ISO dates of their Mondays). One waiting entry per course:
    the partial unique index decides two joins racing."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (
        Index(
            "uq_waitlist_entries_one_waiting_per_course",
            "course_id",
            unique=True,
            sqlite_where=text("status = 'waiting'"),
            postgresql_where=text("status = 'waiting'"),
        ),
        Index("ix_waitlist_entries_status_joined", "status", "joined_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    course: Mapped[Course] = relationship()
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    patient: Mapped[Patient] = relationship()
    visit_type_id: Mapped[int] = mapped_column(ForeignKey("visit_types.id"))
    visit_type: Mapped[VisitType] = relationship()
    weeks: Mapped[list] = mapped_column(JSON, default=list)
    fit_trips: Mapped[bool] = mapped_column(default=False)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[WaitlistStatus] = mapped_column(
        enum_column(WaitlistStatus, "waitlist_status"), default=WaitlistStatus.WAITING
    )
    ended_at: Mapped[datetime | None]
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"))
    appointment: Mapped[Appointment | None] = relationship()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    offers: Mapped[list[WaitlistOffer]] = relationship(
        back_populates="entry", order_by="WaitlistOffer.id"
    )

    AUDITED = ("weeks", "fit_trips", "status", "appointment_id")


class WaitlistOffer(db.Model):
    """A freed collection day offered to a waiting patient until
    ``expires_at``. One open offer per entry (partial unique index); accepting
    is one conditional UPDATE (open → accepted, not yet expired) whose row
    count decides, then the booking through the hold ledger."""

    __tablename__ = "waitlist_offers"
    __table_args__ = (
        Index(
            "uq_waitlist_offers_one_open_per_entry",
            "entry_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_waitlist_offers_status_expires", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("waitlist_entries.id"), index=True)
    entry: Mapped[WaitlistEntry] = relationship(back_populates="offers")
    day: Mapped[date]
    offered_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    status: Mapped[OfferStatus] = mapped_column(
        enum_column(OfferStatus, "waitlist_offer_status"), default=OfferStatus.OPEN
    )
    decided_at: Mapped[datetime | None]
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"))

    AUDITED = ("day", "expires_at", "status", "appointment_id")
