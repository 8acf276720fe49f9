"""``flask seed-demo``'s step 5: a patient at each point of the reinfusion.

Everything goes through the services, as the staff and the patients would
have done it, on the day they would have done it (each service is given that
day's ``now``), so timelines, locks and audit rows read true:

* dates proposed, waiting for the patient to choose (the demo's on-track
  culture, a recollection after the failed one);
* a date confirmed and locked (a released batch, the date eight days ahead);
* the day itself: a released batch, the patient checked in and cleared by the
  doctor, the bedside identity check and the administration left to do;
* cells given nine days ago, a second dose planned from a cryopreserved
  aliquot, the one-week follow-up answered, and an adverse event whose report
  is due;
* a travelling patient (ready to book her collection) with two planned trips.

Safe to run again: nothing is added once a dose exists.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from intake.accounts import services as accounts
from intake.accounts.demo import PATIENT_PASSWORD, staff_login
from intake.accounts.models import User
from intake.accounts.roles import Role
from intake.core.types import utcnow
from intake.cultures import demo as cultures_demo
from intake.cultures import services as cultures
from intake.cultures.lifecycle import BatchState
from intake.cultures.models import Batch, EventKind, TissueUnit
from intake.cultures.queries import planned_cells
from intake.eligibility import queries as eligibility_queries
from intake.eligibility import services as eligibility_reference
from intake.eligibility.demo import ELIGIBLE_ANSWERS, approve, enter_panel, sign_all, submit
from intake.extensions import db
from intake.patients import trip_services
from intake.patients.services import current_course
from intake.reinfusion import aftercare_services, day_services, services
from intake.reinfusion.models import Administration, Dose, FollowUp
from intake.scheduling import front_desk as scheduling_desk
from intake.scheduling import queries as scheduling_queries
from intake.scheduling import services as scheduling_services
from intake.scheduling.models import Appointment, AppointmentStatus
from intake.scheduling.visit_kinds import VisitKind

ROUTE = "local"  # knee osteoarthritis, the demo's indication: local injection


def _staff(role: Role) -> User | None:
    email = staff_login(role)[0]
    return accounts.find_by_email(email)


def _ready(user: User, staff: dict) -> None:
    """The demo's history patients had their visits recorded without the intake
    steps; the reinfusion gate needs them (approved review, panel, consent)."""
    course = current_course(user.patient)
    if eligibility_queries.current_questionnaire(course.id) is not None:
        return
    eligibility_reference.ensure_reference_data()
    submit(user, ELIGIBLE_ANSWERS)
    approve(
        user,
        doctor=staff["doctor"],
        doctor_password=staff["doctor_password"],
        indication="knee_oa",
        route=ROUTE,
    )
    # Tested before the collection, still valid on the reinfusion day.
    enter_panel(user, actor=staff["doctor"], days_ago=60)
    sign_all(user, password=PATIENT_PASSWORD)


def _batches(state: BatchState) -> list[Batch]:
    return list(
        db.session.execute(
            select(Batch).where(Batch.state == state).order_by(Batch.collected_on)
        ).scalars()
    )


def _spare_collections() -> list[Appointment]:
    """Completed collection visits with no batch yet, each its course's latest
    collection (the one the patient's journey follows), the oldest first."""
    spare = cultures_demo._collections_without_batch()  # the newest first
    latest: dict[int, Appointment] = {}
    for appointment in spare:
        latest.setdefault(appointment.course_id, appointment)
    batched = set(db.session.execute(select(Batch.course_id)).scalars())
    return [a for a in reversed(spare) if latest[a.course_id] is a and a.course_id not in batched]


def _aged(spare: list[Appointment], low: int, high: int | None, staff: dict, now: datetime) -> None:
    """Make sure ``spare`` holds a collection done ``low`` … ``high`` days ago:
    the demo's history is drawn at random, so on some dates none is that old;
    then one is recorded for a demo patient who has had no collection yet."""
    if any(_age(a, now) >= low and (high is None or _age(a, now) <= high) for a in spare):
        return
    collected = set(
        db.session.execute(
            select(Appointment.patient_id).where(
                Appointment.visit_type.has(kind=VisitKind.COLLECTION)
            )
        ).scalars()
    )
    patient = next(
        (
            user.patient
            for user in db.session.execute(
                select(User)
                .where(User.email.like("demo.patient%@demo.clinic"))
                .order_by(User.email.desc())
            ).scalars()
            if user.patient is not None and user.patient.id not in collected
        ),
        None,
    )
    if patient is None:
        return
    cal = scheduling_queries.clinic_calendar()
    today = cal.today(now)
    target = low + 1 if high is None else (low + high) // 2
    last = target + 10 if high is None else high
    for days_ago in [target, *range(low, last + 2)]:
        day = today - timedelta(days=days_ago)
        starts = [
            start
            for start in scheduling_queries.availability(
                "collection", day, 1, cal.day_start(day) - timedelta(days=1), for_patient=False
            )
            if low <= (now - start).days <= (last if high is None else high)
        ]
        if starts:
            spare.append(
                scheduling_services.record_past_visit(
                    patient,
                    "collection",
                    starts[0],
                    actor=staff["coordinator"],
                    status=AppointmentStatus.COMPLETED,
                    now=now,
                    note="demo history",
                )
            )
            return


def _age(appointment: Appointment, now: datetime) -> int:
    return (now - appointment.start_at).days


def _released_batch(appointment: Appointment, staff: dict, now: datetime) -> Batch:
    """A culture grown and released on day 25, as the lab would have recorded it."""
    lab, desk = staff["lab"], staff["coordinator"]
    batch = cultures.record_past_collection(
        appointment,
        collected_by="Dr Sato",
        tissue_amount=3,
        tissue_unit=TissueUnit.PIECES,
        blood_volume_ml=50,
        actor=desk,
        now=now,
    )
    cultures_demo._grow(batch, appointment, cultures_demo.GROWN, lab=lab, now=now)
    released_at = appointment.start_at + timedelta(days=25, hours=2)
    for target in (BatchState.HARVEST_READY, BatchState.QC_PENDING):
        cultures.transition_batch(batch, target, actor=lab, now=released_at)
    for item, value in cultures_demo.PASSING_QC:
        cultures.record_event(
            batch,
            EventKind.QC_RESULT,
            actor=lab,
            occurred_at=released_at,
            qc_item=item,
            qc_value=value,
            now=released_at,
        )
    cultures.transition_batch(batch, BatchState.RELEASED, actor=lab, now=released_at)
    return batch


def _lock_date(batch: Batch, user: User, staff: dict, *, proposed_at: datetime, day) -> Dose:
    """Times proposed on ``proposed_at`` (the earliest open one on ``day`` or
    later first), the first confirmed by the patient at once: booked and locked."""
    cal = scheduling_queries.clinic_calendar()
    _window, times = services.valid_times(batch, None, ROUTE, now=proposed_at)
    later = [t for t in times if cal.local_date(t) >= day]
    if not later:
        raise LookupError("no open time")
    by_day: dict = {}
    for start in later:
        by_day.setdefault(cal.local_date(start), start)
    chosen = [by_day[d] for d in sorted(by_day)[:2]]
    proposals = services.propose_for_batch(
        batch, chosen, ROUTE, actor=staff["coordinator"], now=proposed_at
    )
    return services.confirm(proposals[0], actor=user, now=proposed_at + timedelta(hours=5))


def _vitals(systolic: int = 128) -> dict:
    return {
        "systolic": systolic,
        "diastolic": 78,
        "pulse": 72,
        "temperature_c": Decimal("36.6"),
        "spo2": 98,
    }


def _clear(visit: Appointment, staff: dict, at: datetime) -> None:
    scheduling_desk.mark_arrived(visit, actor=staff["coordinator"], now=at)
    day_services.record_clearance(
        visit,
        **_vitals(),
        decision="go",
        reason=None,
        password=staff["doctor_password"],
        actor=staff["doctor"],
        now=at + timedelta(minutes=10),
    )


def _arrival_today(visit: Appointment, now: datetime) -> datetime:
    """When the patient of the day arrived: half an hour before the visit, or
    now if that is later, but never so late that the clearance ten minutes on
    falls on the next clinic day (a seed run just before local midnight)."""
    cal = scheduling_queries.clinic_calendar()
    at = max(now, visit.start_at - timedelta(minutes=30))
    if cal.local_date(at + timedelta(minutes=15)) != cal.local_date(visit.start_at):
        at = visit.start_at - timedelta(minutes=30)
    return at


def _give(dose: Dose, staff: dict) -> None:
    """The whole day of a dose in the past: check-in, clearance, bedside check,
    administration and observation."""
    visit = dose.appointment
    at = visit.start_at
    patient = dose.patient
    _clear(visit, staff, at)
    day_services.record_bedside_check(
        visit,
        label_text=dose.batch.coi,
        name=patient.full_name,
        date_of_birth=patient.date_of_birth,
        actor=staff["doctor"],
        now=at + timedelta(minutes=15),
    )
    started = at + timedelta(minutes=20)
    day_services.record_administration(
        visit,
        route=dose.route,
        cells_given=dose.planned_cells,
        started_at=started,
        ended_at=started + timedelta(minutes=15),
        observed_until=started + timedelta(minutes=50),
        systolic_after=124,
        diastolic_after=76,
        pulse_after=70,
        temperature_c_after=Decimal("36.7"),
        spo2_after=98,
        note="Tolerated well; no reaction during observation.",
        actor=staff["doctor"],
        now=started + timedelta(minutes=55),
    )


def seed_reinfusion() -> list[str]:
    if db.session.execute(select(func.count()).select_from(Dose)).scalar_one():
        return []
    staff = {role.value: _staff(role) for role in (Role.COORDINATOR, Role.DOCTOR, Role.LAB)}
    if None in staff.values():
        return []
    staff["doctor_password"] = staff_login(Role.DOCTOR)[1]
    now = utcnow()
    cal = scheduling_queries.clinic_calendar()
    today = cal.today(now)
    made: list[str] = []

    # Dates proposed: the on-track culture (a recollection after a failure).
    for batch in _batches(BatchState.IN_CULTURE):
        if services.queries.batch_at_risk(batch, today=today):
            continue
        user = batch.patient.user
        _ready(user, staff)
        _window, times = services.valid_times(batch, None, ROUTE, now=now)
        by_day: dict = {}
        for start in times:
            by_day.setdefault(cal.local_date(start), start)
        if by_day:
            chosen = [by_day[d] for d in sorted(by_day)[:: max(1, len(by_day) // 3)][:3]]
            services.propose_for_batch(batch, chosen, ROUTE, actor=staff["coordinator"], now=now)
            made.append(f"{len(chosen)} dates proposed to {batch.patient.full_name}")
        break

    spare = _spare_collections()

    # Cells given nine days ago (dose 1 of 2), the follow-up answered, an
    # adverse event reported to the clinic yesterday.
    _aged(spare, 38, None, staff, now)
    for appointment in spare:
        if (now - appointment.start_at).days < 38:
            continue
        spare.remove(appointment)
        user = appointment.patient.user
        _ready(user, staff)
        batch = _released_batch(appointment, staff, now)
        given_day = cal.local_date(appointment.start_at) + timedelta(days=30)
        try:
            dose = _lock_date(
                batch,
                user,
                staff,
                proposed_at=appointment.start_at + timedelta(days=12),
                day=given_day,
            )
        except LookupError:
            continue
        cells = planned_cells(batch)
        day_services.plan_doses(
            batch,
            doses=[(ROUTE, cells, None), (ROUTE, cells, 30)],
            actor=staff["doctor"],
            now=appointment.start_at + timedelta(days=20),
        )
        _give(dose, staff)
        given_on = cal.local_date(dose.appointment.start_at)
        contacts = list(
            db.session.execute(
                select(FollowUp)
                .where(FollowUp.administration_id == _administration(dose).id)
                .order_by(FollowUp.days_after)
            ).scalars()
        )
        first = next((c for c in contacts if c.due_on <= today), None)
        if first is not None:
            aftercare_services.answer_follow_up(
                first,
                {"feeling": "better", "symptoms": ["site"], "doctor_visit": "no"},
                actor=user,
                now=datetime.combine(first.due_on, time(11), tzinfo=cal.tz),
            )
        aftercare_services.record_adverse_event(
            dose.patient,
            administration=_administration(dose),
            description="Fainted at home two days after the injection; kept overnight in "
            "hospital for observation, discharged the next morning.",
            began_on=given_on + timedelta(days=2),
            known_on=today - timedelta(days=1),
            seriousness="hospitalisation",
            actor=staff["doctor"],
            now=now,
        )
        made.append(
            f"{batch.patient.full_name}: dose 1 of 2 given, follow-up answered, "
            "adverse event to report"
        )
        break

    # The day: a released batch, the visit today, checked in and cleared.
    _aged(spare, 29, 40, staff, now)
    for appointment in spare:
        if (now - appointment.start_at).days < 29:
            continue
        spare.remove(appointment)
        user = appointment.patient.user
        _ready(user, staff)
        batch = _released_batch(appointment, staff, now)
        try:
            dose = _lock_date(batch, user, staff, proposed_at=now - timedelta(days=16), day=today)
        except LookupError:
            continue
        visit = dose.appointment
        if cal.local_date(visit.start_at) == today:
            _clear(visit, staff, _arrival_today(visit, now))
            made.append(f"{batch.patient.full_name} checked in and cleared for today")
        else:
            made.append(f"{batch.patient.full_name}'s reinfusion on the next open day")
        break

    # A date confirmed and locked: a released batch, dates proposed two
    # weeks ago, the patient's choice eight days from now.
    _aged(spare, 26, 34, staff, now)
    for appointment in spare:
        if not 26 <= (now - appointment.start_at).days <= 34:
            continue
        spare.remove(appointment)
        user = appointment.patient.user
        _ready(user, staff)
        batch = _released_batch(appointment, staff, now)
        try:
            _lock_date(
                batch,
                user,
                staff,
                proposed_at=now - timedelta(days=14),
                day=today + timedelta(days=8),
            )
        except LookupError:
            continue
        made.append(f"{batch.patient.full_name}'s date confirmed and locked")
        break

    # A travelling patient: two trips planned, the collection still to book.
    traveller = accounts.find_by_email("smith@demo.clinic")
    if traveller is not None and not trip_services.planned(traveller.patient):
        for arrives, departs in ((10, 17), (45, 55)):
            trip_services.add_trip(
                traveller.patient,
                arrives_on=today + timedelta(days=arrives),
                departs_on=today + timedelta(days=departs),
                note="Flights booked" if arrives == 10 else "Return trip for the reinfusion",
                actor=traveller,
                now=now,
            )
        made.append(f"{traveller.patient.full_name} plans two trips")

    db.session.flush()
    return ["reinfusion: " + line for line in made]


def _administration(dose: Dose) -> Administration:
    return db.session.execute(
        select(Administration).where(Administration.dose_id == dose.id)
    ).scalar_one()
