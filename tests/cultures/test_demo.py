"""`flask seed-demo` gives the lab batches in several states and patients at
each step of the reinfusion, through the services, and adds none the second
time."""

from sqlalchemy import func, select

from intake.cultures import queries
from intake.cultures.lifecycle import BatchState
from intake.cultures.models import Batch, BatchEvent, EventKind
from intake.extensions import db
from intake.patients.models import Trip
from intake.reinfusion.models import (
    AdverseEvent,
    BedsideCheck,
    Clearance,
    Dose,
    DoseStatus,
    FollowUp,
    Proposal,
    ProposalStatus,
)
from intake.scheduling import queries as scheduling_queries


def _count(model):
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_seed_demo_makes_batches_in_several_states_once(runner):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "cultures: 6 batches" in first.output
    batches = list(db.session.execute(select(Batch).order_by(Batch.id)).scalars())
    states = {b.state for b in batches}
    assert {BatchState.RECEIVED, BatchState.IN_CULTURE, BatchState.FAILED} <= states
    assert {BatchState.QC_PENDING, BatchState.RELEASED} <= states
    assert any(b.received_at is None for b in batches)  # expected in the lab
    failed = next(b for b in batches if b.state == BatchState.FAILED)
    assert failed.state_reason
    today = scheduling_queries.clinic_calendar().today(__import__("intake").core.types.utcnow())
    board = queries.lab_board(today=today)
    in_culture = [r for r in board["rows"] if r.batch.state == BatchState.IN_CULTURE]
    assert any(not r.outlook.at_risk and r.outlook.projected_day for r in in_culture)
    assert any(r.outlook.at_risk for r in in_culture)
    counts = db.session.execute(
        select(func.count()).select_from(BatchEvent).where(BatchEvent.kind == EventKind.CELL_COUNT)
    ).scalar_one()
    assert counts >= 10
    events = _count(BatchEvent)
    _reinfusion_steps_are_seeded(first.output)
    doses, trips = _count(Dose), _count(Trip)

    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert "cultures:" not in second.output
    assert _count(Batch) == len(batches) and _count(BatchEvent) == events
    assert "reinfusion:" not in second.output
    assert (_count(Dose), _count(Trip)) == (doses, trips)


def _reinfusion_steps_are_seeded(output: str) -> None:
    """Issue 10, point 9: patients at each step of the reinfusion, one with a
    confirmed, locked date, one travelling with two trips."""
    assert "reinfusion:" in output
    doses = list(db.session.execute(select(Dose).order_by(Dose.id)).scalars())
    by_status = {d.status for d in doses}
    assert {DoseStatus.PROPOSED, DoseStatus.CONFIRMED, DoseStatus.ADMINISTERED} <= by_status
    assert DoseStatus.PLANNED in by_status  # the second dose, from a frozen aliquot
    locked = [d for d in doses if d.status == DoseStatus.CONFIRMED]
    assert locked and all(d.appointment.is_locked for d in locked)
    offered = db.session.execute(
        select(func.count()).select_from(Proposal).where(Proposal.status == ProposalStatus.OFFERED)
    ).scalar_one()
    assert offered >= 1
    given = next(d for d in doses if d.status == DoseStatus.ADMINISTERED)
    # Dose 2 is the next one to give (later_doses counts the doses after it).
    assert given.batch.state == BatchState.CRYOPRESERVED and given.batch.later_doses == 0
    follow_ups = list(
        db.session.execute(
            select(FollowUp).where(FollowUp.patient_id == given.patient_id)
        ).scalars()
    )
    assert len(follow_ups) == 4 and any(f.answered_at for f in follow_ups)
    event = db.session.execute(select(AdverseEvent)).scalar_one()
    assert event.report_due_on is not None and event.reported_at is None
    trips = db.session.execute(
        select(Trip.patient_id, func.count()).group_by(Trip.patient_id)
    ).all()
    assert any(n == 2 for _patient, n in trips)
    assert _count(Clearance) >= 2 and _count(BedsideCheck) >= 1
