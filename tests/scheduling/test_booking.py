"""book_visit: what it writes (appointment, one hold per seat, audit, message)
and every way it refuses, writing nothing."""

from datetime import datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from intake.accounts.roles import Role
from intake.core import settings
from intake.core.errors import Conflict, DomainError
from intake.core.models import AuditEntry
from intake.core.types import utcnow
from intake.extensions import db
from intake.notifications.models import Message
from intake.scheduling import clinic_setup, services
from intake.scheduling.models import Appointment, AppointmentStatus, Closure, Hold, VisitMode

MONDAY, TUESDAY, SUNDAY = 0, 1, 6


def _scheduling_audit():
    return (
        db.session.execute(
            select(AuditEntry).where(AuditEntry.action.like("scheduling.%")).order_by(AuditEntry.id)
        )
        .scalars()
        .all()
    )


def test_staff_books_a_consultation(clinic, coordinator, make_user):
    patient = make_user(Role.PATIENT, locale="zh_Hans")
    day = clinic.day(weekday=TUESDAY)
    start = clinic.at(day, "10:00")
    appointment = services.book_visit(
        patient.patient, "consultation", start, actor=coordinator, mode="video"
    )
    db.session.commit()

    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.end_at - appointment.start_at == timedelta(minutes=45)
    assert appointment.mode == VisitMode.VIDEO and appointment.booked_by_id == coordinator.id
    holds = clinic.holds(appointment)
    # 45 minutes = three 15-minute units of one doctor, the same one throughout.
    assert [h.unit_start for h in holds] == [start + timedelta(minutes=15 * k) for k in range(3)]
    assert len({h.resource_id for h in holds}) == 1
    assert db.session.get(type(clinic.resource("dr-sato")), holds[0].resource_id).pool_id == (
        clinic.resource("doctor").id
    )

    (entry,) = _scheduling_audit()
    assert entry.action == "scheduling.book" and entry.patient_id == patient.id
    assert entry.actor_id == coordinator.id and entry.after["visit_type"] == "consultation"

    (message,) = db.session.execute(select(Message)).scalars()
    assert message.template == "visit_booked" and message.locale == "zh_Hans"
    assert message.attachment_name == f"visit-{appointment.id}.ics"
    assert message.attachment_type.startswith("text/calendar")
    event = Calendar.from_ical(message.attachment_body).walk("VEVENT")[0]
    assert event.decoded("dtstart") == start
    assert str(event["summary"]).startswith("面诊")


def test_collection_holds_room_doctor_nurse_and_an_incubator_place_to_day_42(
    clinic, coordinator, make_approved_patient
):
    patient = make_approved_patient()
    day = clinic.day(weekday=TUESDAY)
    start = clinic.at(day, "13:00")
    appointment = services.book_visit(patient.patient, "collection", start, actor=coordinator)
    db.session.commit()

    by_code = {}
    for hold in clinic.holds(appointment):
        code = db.session.get(type(clinic.resource("incubator")), hold.resource_id).code
        by_code.setdefault(code, []).append(hold)
    room = by_code.pop("procedure-room-1")
    assert "incubator" not in by_code  # the place belongs to the course's culture
    incubator = clinic.incubator_holds(appointment.course_id)
    assert {h.resource_id for h in incubator} == {clinic.resource("incubator").id}
    assert all(h.appointment_id is None for h in incubator)
    assert len(room) == 4
    doctors = [h for code, hs in by_code.items() if code.startswith("dr-") for h in hs]
    nurses = [h for code, hs in by_code.items() if code.startswith("nurse-") for h in hs]
    assert len(doctors) == 4 and len({h.resource_id for h in doctors}) == 1
    assert len(nurses) == 4 and len({h.resource_id for h in nurses}) == 1
    # One place per local day, day 0 to day 42, keyed by the local midnight in UTC.
    assert len(incubator) == 43
    assert [h.unit_start for h in incubator] == [
        clinic.cal.day_start(day + timedelta(days=n)) for n in range(43)
    ]
    assert {h.seat for h in incubator} == {0}


def test_intrathecal_reinfusion_moves_from_the_procedure_room_to_a_bed(
    clinic, coordinator, make_approved_patient
):
    patient = make_approved_patient()  # reinfusions need the intake gate
    start = clinic.at(clinic.day(weekday=TUESDAY), "13:00")
    appointment = services.book_visit(
        patient.patient, "reinfusion-intrathecal", start, actor=coordinator
    )
    bed = clinic.resource("recovery-bed").id
    room = clinic.resource("procedure-room-1").id
    holds = clinic.holds(appointment)
    assert appointment.end_at - start == timedelta(minutes=120)
    assert sorted(h.unit_start for h in holds if h.resource_id == room) == [
        start + timedelta(minutes=15 * k) for k in range(4)
    ]
    assert sorted(h.unit_start for h in holds if h.resource_id == bed) == [
        start + timedelta(minutes=60 + 15 * k) for k in range(4)
    ]


def _add_closure(clinic, day, start, end):
    db.session.add(
        Closure(start_at=clinic.at(day, start), end_at=clinic.at(day, end), reason="Training")
    )
    db.session.commit()


def _next_weekday_holiday(clinic):
    first = clinic.today + timedelta(days=3)
    last = clinic.today + timedelta(days=110)
    days = sorted(d for d in clinic.cal.holidays(first, last) if first <= d <= last)
    return next(d for d in days if d.weekday() != SUNDAY)


# (case id, visit type, how to find the start, actor, extra keyword arguments, message)
REFUSALS = [
    ("past", "consultation", lambda c: c.at(c.today - timedelta(days=2), "10:00"), "staff", {},
     "That time has already passed."),
    ("sunday", "consultation", lambda c: c.at(c.weekday(SUNDAY), "10:00"), "staff", {},
     "outside the clinic's opening hours"),
    ("public-holiday", "consultation", lambda c: c.at(_next_weekday_holiday(c), "10:00"), "staff",
     {}, "public holiday"),
    ("lunch-break", "consultation", lambda c: c.at(c.day(), "12:15"), "staff", {},
     "outside the clinic's opening hours"),
    ("straddles-lunch", "consultation", lambda c: c.at(c.day(), "11:30"), "staff", {},
     "outside the clinic's opening hours"),
    ("after-closing", "consultation", lambda c: c.at(c.day(), "17:30"), "staff", {},
     "outside the clinic's opening hours"),
    ("before-opening", "consultation", lambda c: c.at(c.day(), "08:45"), "staff", {},
     "outside the clinic's opening hours"),
    ("off-the-grid", "consultation", lambda c: c.at(c.day(), "10:05"), "staff", {},
     "Please choose one of the offered start times."),
    ("closure", "consultation", lambda c: c.at(c.day(weekday=TUESDAY), "14:00"), "staff",
     {"closure": ("13:00", "18:00")}, "The clinic is closed at that time."),
    ("patient-notice", "consultation", lambda c: c.at(c.day(), "10:00"), "patient",
     {"now_before": timedelta(hours=30)}, "at least 48 hours ahead"),
    ("beyond-horizon", "consultation", lambda c: c.at(c.day(), "10:00"), "staff",
     {"now_before": timedelta(days=121)}, "up to 120 days ahead"),
    ("unknown-visit-type", "massage", lambda c: c.at(c.day(), "10:00"), "staff", {},
     "There is no such visit type."),
    ("naive-time", "consultation", lambda c: c.at(c.day(), "10:00").replace(tzinfo=None),
     "staff", {}, "Please choose one of the offered start times."),
    ("year-one", "consultation", lambda c: datetime(1, 1, 1, tzinfo=c.cal.tz), "staff", {},
     "Please choose one of the offered start times."),
    ("bad-mode", "consultation", lambda c: c.at(c.day(), "10:00"), "staff", {"mode": "phone"},
     "Choose how the visit takes place."),
    ("patient-books-reinfusion", "reinfusion-iv", lambda c: c.at(c.day(), "10:00"), "patient", {},
     "cannot be booked online"),
    ("patient-books-for-someone-else", "consultation", lambda c: c.at(c.day(), "10:00"),
     "other-patient", {}, "only book visits for yourself"),
    ("lab-books", "consultation", lambda c: c.at(c.day(), "10:00"), "lab", {},
     "Only clinic staff"),
    ("collection-without-gate", "collection", lambda c: c.at(c.day(), "10:00"), "staff", {},
     "once everything below is ready"),
]  # fmt: skip


@pytest.mark.parametrize(
    "code, start_of, actor_kind, extra, message",
    [pytest.param(*case[1:], id=case[0]) for case in REFUSALS],
)
def test_refusals_write_nothing(
    clinic, coordinator, make_user, code, start_of, actor_kind, extra, message
):
    patient = make_user(Role.PATIENT)
    actor = {
        "staff": coordinator,
        "patient": patient,
        "other-patient": make_user(Role.PATIENT),
        "lab": make_user(Role.LAB),
    }[actor_kind]
    start = start_of(clinic)
    if "closure" in extra:
        _add_closure(clinic, clinic.day(weekday=TUESDAY), *extra["closure"])
    kwargs = {"mode": extra["mode"]} if "mode" in extra else {}
    if "now_before" in extra:
        kwargs["now"] = start - extra["now_before"]
    with pytest.raises(DomainError) as caught:
        services.book_visit(patient.patient, code, start, actor=actor, **kwargs)
    assert message in caught.value.message
    # Nothing was added to the session, let alone written.
    assert not db.session.new and not db.session.dirty
    assert clinic.count(Appointment) == 0 and clinic.count(Hold) == 0
    assert clinic.count(Message) == 0 and _scheduling_audit() == []


def test_patient_notice_does_not_bind_staff(clinic, coordinator, make_user):
    patient = make_user(Role.PATIENT)
    start = clinic.at(clinic.day(), "10:00")
    services.book_visit(
        patient.patient, "consultation", start, actor=coordinator, now=start - timedelta(hours=2)
    )
    assert clinic.count(Appointment) == 1


def test_patient_books_for_themself_with_notice(clinic, make_user):
    patient = make_user(Role.PATIENT)
    start = clinic.at(clinic.day(), "10:00")
    appointment = services.book_visit(
        patient.patient, "consultation", start, actor=patient, now=start - timedelta(hours=49)
    )
    assert appointment.booked_by_id == patient.id and appointment.mode == VisitMode.IN_PERSON


def test_a_patient_holds_one_upcoming_visit_of_a_type(clinic, make_user):
    patient = make_user(Role.PATIENT)
    day = clinic.day()
    services.book_visit(patient.patient, "consultation", clinic.at(day, "10:00"), actor=patient)
    with pytest.raises(DomainError, match="already have this visit booked"):
        services.book_visit(patient.patient, "consultation", clinic.at(day, "14:00"), actor=patient)
    assert clinic.count(Appointment) == 1


def test_last_doctor_on_a_monday_then_two_on_a_tuesday(clinic, coordinator, make_user):
    """Dr Kobayashi works Tue/Thu/Sat: one doctor on Mondays, two on Tuesdays."""
    patients = [make_user(Role.PATIENT) for _ in range(3)]
    # A course holds one upcoming consultation: Tuesday's visits are other patients'.
    tuesday_patients = [make_user(Role.PATIENT) for _ in range(3)]
    monday = clinic.at(clinic.day(weekday=MONDAY), "10:00")
    services.book_visit(patients[0].patient, "consultation", monday, actor=coordinator)
    with pytest.raises(Conflict, match="This time was just taken"):
        services.book_visit(patients[1].patient, "consultation", monday, actor=coordinator)
    # Overlapping starts count too: 10:30 still needs the 10:30 unit.
    with pytest.raises(Conflict):
        services.book_visit(
            patients[1].patient, "consultation", monday + timedelta(minutes=30), actor=coordinator
        )
    services.book_visit(
        patients[1].patient, "consultation", monday + timedelta(minutes=45), actor=coordinator
    )

    tuesday = clinic.at(clinic.day(weekday=TUESDAY), "10:00")
    first, second = (
        services.book_visit(p.patient, "consultation", tuesday, actor=coordinator)
        for p in tuesday_patients[:2]
    )
    with pytest.raises(Conflict):
        services.book_visit(tuesday_patients[2].patient, "consultation", tuesday, actor=coordinator)
    doctors = {h.resource_id for a in (first, second) for h in clinic.holds(a)}
    assert doctors == {clinic.resource("dr-sato").id, clinic.resource("dr-kobayashi").id}


def test_a_working_day_change_moves_capacity(clinic, coordinator, manager, make_user):
    kobayashi = clinic.resource("dr-kobayashi")
    clinic_setup.save_resource(
        kobayashi,
        actor=manager,
        names=kobayashi.names,
        capacity=1,
        pool_id=kobayashi.pool_id,
        working_weekdays=[0, 1, 2, 3, 4, 5],
    )
    db.session.commit()
    monday = clinic.at(clinic.day(weekday=MONDAY), "10:00")
    for _ in range(2):
        services.book_visit(
            make_user(Role.PATIENT).patient, "consultation", monday, actor=coordinator
        )
    assert clinic.count(Appointment) == 2


def test_incubator_places_are_counted_per_day_over_the_culture_window(
    clinic, coordinator, manager, make_approved_patient
):
    settings.update_settings({"incubator_places": "1"}, actor=manager)
    db.session.commit()
    first, second, third = (make_approved_patient() for _ in range(3))
    day = clinic.day(weekday=TUESDAY)
    services.book_visit(first.patient, "collection", clinic.at(day, "10:00"), actor=coordinator)
    db.session.commit()
    # Day 10 of the first culture: the only place is taken until day 42.
    within = clinic.day(min_days=(day - clinic.today).days + 10)
    with pytest.raises(Conflict):
        services.book_visit(
            second.patient, "collection", clinic.at(within, "10:00"), actor=coordinator
        )
    db.session.rollback()
    after = clinic.day(min_days=(day - clinic.today).days + 43)
    services.book_visit(third.patient, "collection", clinic.at(after, "10:00"), actor=coordinator)
    assert clinic.count(Appointment) == 2


def test_an_inactive_resource_has_no_capacity(clinic, coordinator, manager, make_approved_patient):
    room = clinic.resource("procedure-room-1")
    clinic_setup.save_resource(room, actor=manager, names=room.names, capacity=1, is_active=False)
    db.session.commit()
    with pytest.raises(Conflict):
        services.book_visit(
            make_approved_patient().patient,
            "reinfusion-local",
            clinic.at(clinic.day(), "10:00"),
            actor=coordinator,
        )


def test_booking_time_is_now_by_default(clinic, coordinator, make_user):
    appointment = services.book_visit(
        make_user(Role.PATIENT).patient,
        "consultation",
        clinic.at(clinic.day(), "09:00"),
        actor=coordinator,
    )
    assert abs(appointment.status_changed_at - utcnow()) < timedelta(minutes=1)


def test_booking_unit_cannot_change_while_visits_are_booked(
    clinic, client, login_as, make_approved_patient
):
    from intake.core.models import Setting

    patient = make_approved_patient()
    services.book_visit(
        patient.patient, "consultation", clinic.at(clinic.day(), "10:00"), actor=patient
    )
    db.session.commit()
    login_as(Role.MANAGER)
    with client.post("/manager/settings", data=settings.raw_values() | {"slot_minutes": "30"}) as r:
        assert "Visits are booked on the current booking unit." in r.get_data(as_text=True)
    assert db.session.get(Setting, "slot_minutes").value == "15"
