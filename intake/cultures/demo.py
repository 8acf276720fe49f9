"""``flask seed-demo``'s culture batches: the lab's board in every state.

The demo's past collection visits (``scheduling.demo``) become batches through
the services, as the lab would record them: received, passaged, counted,
QC-tested and moved through their lifecycle. Safe to run again: nothing is
added when a batch exists."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from intake.accounts.models import User
from intake.accounts.roles import Role
from intake.core.types import utcnow
from intake.cultures import services
from intake.cultures.lifecycle import BatchState
from intake.cultures.models import Batch, EventKind, TissueUnit
from intake.extensions import db
from intake.scheduling.models import Appointment, AppointmentStatus, VisitType
from intake.scheduling.visit_kinds import VisitKind

#: Cell counts, (culture day, cells), of each kind of demo batch: on track
#: (dose expected inside the window), behind plan (at risk), grown to the dose.
ON_TRACK = ((3, 1_000_000), (7, 2_000_000), (11, 4_200_000))
BEHIND = ((3, 1_000_000), (10, 1_600_000), (17, 2_400_000))
GROWN = ((3, 1_000_000), (10, 20_000_000), (17, 90_000_000), (24, 150_000_000))
PASSING_QC = (
    ("sterility", "negative"),
    ("mycoplasma", "negative"),
    ("endotoxin", "0.1"),
    ("viability", "92"),
    ("cell_count", "150000000"),
)


def _first(role: Role) -> User | None:
    return (
        db.session.execute(select(User).where(User.role == role, User.is_active).order_by(User.id))
        .scalars()
        .first()
    )


def _collections_without_batch() -> list[Appointment]:
    """Completed collection visits with no batch, the newest first."""
    return list(
        db.session.execute(
            select(Appointment)
            .join(VisitType, Appointment.visit_type_id == VisitType.id)
            .where(
                VisitType.kind == VisitKind.COLLECTION,
                Appointment.status == AppointmentStatus.COMPLETED,
                ~select(Batch.id).where(Batch.appointment_id == Appointment.id).exists(),
            )
            .order_by(Appointment.start_at.desc())
        ).scalars()
    )


def _at(appointment: Appointment, day: int, now: datetime, hours: int = 2) -> datetime:
    return min(appointment.start_at + timedelta(days=day, hours=hours), now)


def _grow(batch, appointment, counts, *, lab: User, now: datetime) -> None:
    services.receive_batch(
        batch,
        received_by=lab.full_name,
        received_at=_at(appointment, 0, now),
        condition="Tissue intact in cold transport medium; serum clear.",
        actor=lab,
        now=now,
    )
    services.transition_batch(batch, BatchState.IN_CULTURE, actor=lab, now=now)
    for passage, (day, cells) in enumerate(counts):
        when = _at(appointment, day, now, hours=3)
        if when >= now:
            break
        services.record_event(
            batch, EventKind.PASSAGE, actor=lab, occurred_at=when, passage_number=passage, now=now
        )
        services.record_event(
            batch,
            EventKind.CELL_COUNT,
            actor=lab,
            occurred_at=when,
            cells=cells,
            viability_percent=Decimal("93.5"),
            now=now,
        )


def seed_cultures() -> list[str]:
    """Batches for the demo's past collections: one expected in the lab, one
    in culture on track, one at risk (growth behind plan), one failed, one
    waiting for QC and one released. Idempotent."""
    if db.session.execute(select(func.count()).select_from(Batch)).scalar_one():
        return []
    lab, desk = _first(Role.LAB), _first(Role.COORDINATOR)
    if lab is None or desk is None:
        return []
    now = utcnow()
    plans = ["expected", "on_track", "at_risk", "failed", "qc_pending", "released"]
    made: dict[str, str] = {}
    for appointment in _collections_without_batch():
        if not plans:
            break
        day = (now - appointment.start_at).days
        plan = plans[0]
        # A batch's story needs its days: released ones at least day 25.
        if plan in ("qc_pending", "released") and day < 25:
            continue
        if plan in ("at_risk", "failed") and day < 18:
            continue
        if plan == "on_track" and day < 11:
            continue
        plans.pop(0)
        batch = services.record_past_collection(
            appointment,
            collected_by="Dr Sato",
            tissue_amount=3,
            tissue_unit=TissueUnit.PIECES,
            blood_volume_ml=50,
            actor=desk,
            now=now,
        )
        if plan == "expected":
            made[plan] = batch.coi
            continue
        counts = {"on_track": ON_TRACK, "at_risk": BEHIND, "failed": BEHIND}.get(plan, GROWN)
        _grow(batch, appointment, counts, lab=lab, now=now)
        if plan == "failed":
            services.transition_batch(
                batch,
                BatchState.FAILED,
                actor=lab,
                reason="Contamination seen on day 17 (turbid medium); sterility positive.",
                now=now,
            )
        elif plan in ("qc_pending", "released"):
            services.transition_batch(batch, BatchState.HARVEST_READY, actor=lab, now=now)
            services.transition_batch(batch, BatchState.QC_PENDING, actor=lab, now=now)
            if plan == "released":
                for item, value in PASSING_QC:
                    services.record_event(
                        batch,
                        EventKind.QC_RESULT,
                        actor=lab,
                        occurred_at=_at(appointment, 25, now),
                        qc_item=item,
                        qc_value=value,
                        now=now,
                    )
                services.transition_batch(batch, BatchState.RELEASED, actor=lab, now=now)
        made[plan] = batch.coi
    db.session.flush()
    if not made:
        return []
    return [
        "cultures: "
        + str(len(made))
        + " batches ("
        + ", ".join(f"{plan} {number}" for plan, number in made.items())
        + ")"
    ]
