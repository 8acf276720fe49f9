"""`flask seed-demo` adds the clinic's resources, visit types, closures and some
weeks of bookings, all through the ledger, and adds nothing the second time."""

from datetime import date, timedelta

from sqlalchemy import func, select

from intake.core.types import utcnow
from intake.extensions import db
from intake.notifications.models import Message
from intake.scheduling import queries
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
    # Only 周芳 passes the intake gate and has her collection booked; Anna Smith is
    # left to book her own, and the generated patients do not pass the gate.
    assert [a.patient.email for a in collection] == ["zhou.fang@demo.clinic"]
    from intake.accounts.services import find_by_email
    from intake.eligibility.queries import collection_gate_for

    smith = find_by_email("smith@demo.clinic")
    assert collection_gate_for(course_of(smith), today=date.today()).allowed

    # She waits on the collection waitlist for the weeks of her trips: the
    # manager's overview has a line to show, once however often the seed runs.
    from intake.manager.queries import waitlist_summary
    from intake.scheduling import waitlist_services

    entry = waitlist_services.waiting_entry(smith.patient)
    assert entry is not None and entry.weeks
    assert waitlist_summary(utcnow())["length"] == 1

    # 王丽 was booked by phone inside the patient's notice: her confirmation warns
    # that the visit cannot be changed online (unless the clinic is closed until then).
    wang = find_by_email("patient@demo.clinic")
    (late,) = db.session.execute(
        select(Appointment).where(Appointment.patient_id == wang.patient.id)
    ).scalars().all() or (None,)
    if late is not None:
        assert late.start_at - late.created_at < timedelta(hours=48)
        (message,) = db.session.execute(
            select(Message).where(Message.user_id == wang.id, Message.template == "visit_booked")
        ).scalars()
        assert "无法在网上更改或取消" in message.body  # "cannot be changed online", Chinese
    else:  # only when no consultation time was free in the next 48 hours
        now = utcnow()
        assert not [
            s
            for s in queries.availability("consultation", date.today(), 3, now, for_patient=False)
            if now + timedelta(hours=2) < s < now + timedelta(hours=48)
        ]

    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0 and "scheduling:" not in again.output
    assert {m: _count(m) for m in counts} == counts
