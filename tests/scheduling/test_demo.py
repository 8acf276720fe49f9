"""`flask seed-demo` adds the clinic's resources, visit types, closures and some
weeks of bookings, all through the ledger, and adds nothing the second time."""

from datetime import date

from sqlalchemy import func, select

from intake.extensions import db
from intake.scheduling.models import (
    Appointment,
    AppointmentStatus,
    Closure,
    Hold,
    Resource,
    VisitType,
)
from tests.helpers import course_of


def _count(model):
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_seed_demo_twice(runner):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "scheduling: 10 resources" in first.output
    assert "scheduling: 5 visit types" in first.output
    counts = {m: _count(m) for m in (Resource, VisitType, Closure, Appointment, Hold)}
    assert counts[Closure] == 2 and counts[Appointment] > 60 and counts[Hold] > 300

    statuses = dict(
        db.session.execute(
            select(Appointment.status, func.count()).group_by(Appointment.status)
        ).all()
    )
    assert statuses[AppointmentStatus.COMPLETED] > 30 and statuses[AppointmentStatus.BOOKED] > 10
    # Every visit that still holds resources has its holds; none holds past capacity.
    holding = (AppointmentStatus.BOOKED, AppointmentStatus.COMPLETED)
    without = db.session.execute(
        select(func.count())
        .select_from(Appointment)
        .where(
            Appointment.status.in_(holding),
            ~select(Hold.id).where(Hold.appointment_id == Appointment.id).exists(),
        )
    ).scalar_one()
    assert without == 0
    resources = {r.id: r for r in db.session.execute(select(Resource)).scalars()}
    for resource_id, top_seat in db.session.execute(
        select(Hold.resource_id, func.max(Hold.seat)).group_by(Hold.resource_id)
    ):
        resource = resources[resource_id]
        limit = resource.capacity if resource.capacity_setting is None else 40
        assert top_seat < limit, resource.code
    # The approved demo patient (Anna Smith) is left to book her collection
    # herself: the gate is open and nothing is booked for her yet.
    collection = (
        db.session.execute(
            select(Appointment)
            .join(VisitType)
            .where(VisitType.code == "collection", Appointment.status == AppointmentStatus.BOOKED)
        )
        .scalars()
        .all()
    )
    assert [a.patient.email for a in collection] == []
    from intake.accounts.services import find_by_email
    from intake.eligibility.queries import collection_gate_for

    smith = find_by_email("smith@demo.clinic")
    assert collection_gate_for(course_of(smith), today=date.today()).allowed

    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0 and "scheduling:" not in again.output
    assert {m: _count(m) for m in counts} == counts
