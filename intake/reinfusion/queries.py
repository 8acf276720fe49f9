"""Reading reinfusion doses, proposals and change requests for a screen: one
function per screen, a fixed number of queries whatever the data size."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from intake.accounts.models import User
from intake.accounts.roles import Role
from intake.core import settings
from intake.cultures import queries as culture_queries
from intake.cultures.models import Batch
from intake.eligibility.models import Decision, Indication, Review
from intake.extensions import db
from intake.patients.models import Course, Patient
from intake.reinfusion import rules
from intake.reinfusion.models import (
    ChangeRequest,
    ChangeRequestStatus,
    Dose,
    DoseStatus,
    Proposal,
    ProposalStatus,
)
from intake.scheduling.models import Appointment, VisitType
from intake.scheduling.visit_status import AppointmentStatus

ACTIVE_VISIT = (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED)


# --------------------------------------------------------------------------- reference


def course_indication(course_id: int) -> tuple[Indication | None, str | None]:
    """The indication a doctor approved for the course, and the planned route
    (one query)."""
    row = db.session.execute(
        select(Indication, Review.planned_route)
        .join(Indication, Indication.code == Review.indication_code)
        .where(Review.course_id == course_id, Review.decision == Decision.APPROVED)
        .order_by(Review.signed_at.desc(), Review.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None, None
    return row[0], row[1]


def route_options(course_id: int) -> tuple[tuple[str, ...], str | None]:
    """The routes the course's indication allows, and the doctor's planned one."""
    indication, planned = course_indication(course_id)
    routes = rules.allowed_routes(indication.routes if indication else ())
    return routes, planned if planned in routes else (routes[0] if routes else None)


def visit_type_for_route(route: str) -> VisitType | None:
    """The active visit type of the route's kind (the first by position)."""
    kind = rules.route_kind(route)
    if kind is None:
        return None
    return db.session.execute(
        select(VisitType)
        .where(VisitType.kind == kind, VisitType.is_active)
        .order_by(VisitType.position, VisitType.id)
        .limit(1)
    ).scalar_one_or_none()


def lab_users() -> list[User]:
    """Active lab technicians, who may agree to a moved date."""
    return list(
        db.session.execute(
            select(User).where(User.role == Role.LAB, User.is_active).order_by(User.full_name)
        ).scalars()
    )


def coordinators() -> list[User]:
    return list(
        db.session.execute(
            select(User).where(User.role == Role.COORDINATOR, User.is_active).order_by(User.id)
        ).scalars()
    )


def first_dose(batch_id: int) -> Dose | None:
    return db.session.execute(
        select(Dose).where(Dose.batch_id == batch_id, Dose.number == 1)
    ).scalar_one_or_none()


def previous_dose(dose: Dose) -> Dose | None:
    return db.session.execute(
        select(Dose).where(Dose.batch_id == dose.batch_id, Dose.number == dose.number - 1)
    ).scalar_one_or_none()


def offered(dose_id: int) -> list[Proposal]:
    return list(
        db.session.execute(
            select(Proposal)
            .where(Proposal.dose_id == dose_id, Proposal.status == ProposalStatus.OFFERED)
            .order_by(Proposal.start_at)
        ).scalars()
    )


def open_request(dose_id: int) -> ChangeRequest | None:
    return db.session.execute(
        select(ChangeRequest)
        .where(ChangeRequest.dose_id == dose_id, ChangeRequest.status == ChangeRequestStatus.OPEN)
        .limit(1)
    ).scalar_one_or_none()


def batch_at_risk(batch: Batch, *, today: date) -> bool:
    """The lab's judgement of the batch (growth behind plan, past the window
    unreleased, a failed QC result)."""
    return culture_queries.batch_page(batch, today=today)["outlook"].at_risk


# --------------------------------------------------------------------------- for other screens


def course_doses(course_id: int) -> list[Dose]:
    """The course's doses in order, with their visits (one query)."""
    return list(
        db.session.execute(
            select(Dose)
            .where(Dose.course_id == course_id)
            .options(joinedload(Dose.appointment))
            .order_by(Dose.batch_id, Dose.number)
        ).scalars()
    )


def open_change_requests() -> list[ChangeRequest]:
    """Every change request still to answer, oldest first, with its patient,
    dose and visit (one query)."""
    return list(
        db.session.execute(
            select(ChangeRequest)
            .where(ChangeRequest.status == ChangeRequestStatus.OPEN)
            .options(
                joinedload(ChangeRequest.patient),
                joinedload(ChangeRequest.appointment),
                joinedload(ChangeRequest.dose),
            )
            .order_by(ChangeRequest.created_at, ChangeRequest.id)
        ).scalars()
    )


def batches_needing_proposals(today: date) -> list[tuple[Batch, Patient]]:
    """Batches still growing or kept, whose first dose has no date proposed or
    confirmed yet (no dose, or one only planned), with the window's end not
    passed. Oldest collection first. One query (growth risk is the lab's,
    shown on the propose page)."""
    values = settings.values()
    first = select(Dose.batch_id).where(
        Dose.number == 1,
        Dose.status.in_((DoseStatus.PROPOSED, DoseStatus.CONFIRMED, DoseStatus.ADMINISTERED)),
    )
    rows = db.session.execute(
        select(Batch, Patient)
        .join(Patient, Batch.patient_id == Patient.id)
        .where(
            Batch.state.in_(tuple(rules.ON_TRACK_STATES)),
            Batch.id.not_in(first),
        )
        .order_by(Batch.collected_on, Batch.id)
    ).all()
    last_day = values["culture_max_days"]
    return [(b, p) for b, p in rows if (today - b.collected_on).days <= last_day]


@dataclass
class DoseRow:
    dose: Dose
    patient: Patient
    proposals: list[Proposal] = field(default_factory=list)
    request: ChangeRequest | None = None


def reinfusion_overview(today: date) -> dict:
    """The coordinators' reinfusion page: batches waiting for proposals, doses
    with times proposed or a confirmed date (upcoming), open change requests.
    Four queries."""
    doses = list(
        db.session.execute(
            select(Dose)
            .join(Patient, Dose.patient_id == Patient.id)
            .outerjoin(Appointment, Dose.appointment_id == Appointment.id)
            .where(
                Dose.status.in_((DoseStatus.PROPOSED, DoseStatus.CONFIRMED)),
            )
            .options(joinedload(Dose.patient), joinedload(Dose.appointment), joinedload(Dose.batch))
            .order_by(Appointment.start_at.is_(None).desc(), Appointment.start_at, Dose.id)
        ).scalars()
    )
    proposals: dict[int, list[Proposal]] = {}
    ids = [d.id for d in doses]
    if ids:
        for proposal in db.session.execute(
            select(Proposal)
            .where(Proposal.dose_id.in_(ids), Proposal.status == ProposalStatus.OFFERED)
            .order_by(Proposal.start_at)
        ).scalars():
            proposals.setdefault(proposal.dose_id, []).append(proposal)
    open_requests = open_change_requests()
    by_dose = {r.dose_id: r for r in open_requests}
    rows = [
        DoseRow(d, d.patient, proposals.get(d.id, []), by_dose.get(d.id))
        for d in doses
        if d.status == DoseStatus.PROPOSED
        or (d.appointment is not None and d.appointment.status in ACTIVE_VISIT)
    ]
    return {
        "waiting": batches_needing_proposals(today),
        "proposed": [r for r in rows if r.dose.status == DoseStatus.PROPOSED],
        "confirmed": [r for r in rows if r.dose.status == DoseStatus.CONFIRMED],
        "requests": open_requests,
    }


# --------------------------------------------------------------------------- the patient's side


@dataclass
class PatientReinfusion:
    """What the patient sees of their course's reinfusion: a dose with times
    to choose from, or a confirmed (locked) date."""

    dose: Dose
    proposals: list[Proposal]
    appointment: Appointment | None
    request: ChangeRequest | None

    @property
    def is_confirmed(self) -> bool:
        return (
            self.dose.status == DoseStatus.CONFIRMED
            and self.appointment is not None
            and self.appointment.status in ACTIVE_VISIT
        )

    @property
    def may_request_change(self) -> bool:
        return self.is_confirmed and rules.may_request_change(
            is_locked=self.appointment.is_locked,
            is_active=self.appointment.status == AppointmentStatus.BOOKED,
            has_open_request=self.request is not None,
        )


def patient_reinfusions(course: Course) -> list[PatientReinfusion]:
    """The course's doses the patient acts on: times offered, or a date
    confirmed and still to come. Three queries."""
    doses = [
        d
        for d in course_doses(course.id)
        if d.status == DoseStatus.PROPOSED
        or (
            d.status == DoseStatus.CONFIRMED
            and d.appointment is not None
            and d.appointment.status in ACTIVE_VISIT
        )
    ]
    if not doses:
        return []
    ids = [d.id for d in doses]
    proposals: dict[int, list[Proposal]] = {}
    for proposal in db.session.execute(
        select(Proposal)
        .where(Proposal.dose_id.in_(ids), Proposal.status == ProposalStatus.OFFERED)
        .options(joinedload(Proposal.visit_type))
        .order_by(Proposal.start_at)
    ).scalars():
        proposals.setdefault(proposal.dose_id, []).append(proposal)
    open_by_dose = {
        r.dose_id: r
        for r in db.session.execute(
            select(ChangeRequest).where(
                ChangeRequest.dose_id.in_(ids), ChangeRequest.status == ChangeRequestStatus.OPEN
            )
        ).scalars()
    }
    return [
        PatientReinfusion(d, proposals.get(d.id, []), d.appointment, open_by_dose.get(d.id))
        for d in doses
    ]
