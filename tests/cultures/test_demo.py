"""`flask seed-demo` gives the lab batches in several states, through the
services, and adds none the second time."""

from sqlalchemy import func, select

from intake.cultures import queries
from intake.cultures.lifecycle import BatchState
from intake.cultures.models import Batch, BatchEvent, EventKind
from intake.extensions import db
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

    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert "cultures:" not in second.output
    assert _count(Batch) == len(batches) and _count(BatchEvent) == events
