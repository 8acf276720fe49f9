"""The week view reads a fixed number of statements (at most five for its
data) whatever the number of visits: 1,000 visits in a week cost what 3 do."""

# ruff: noqa: F811 - the ``clinic`` fixture is imported, then named by the tests

from __future__ import annotations

from datetime import timedelta

from flask import g
from sqlalchemy import insert, select

from intake.accounts.roles import Role
from intake.extensions import db
from intake.manager import schedule as pure
from intake.manager import schedule_queries
from intake.patients.models import Course, Patient
from intake.scheduling.models import Appointment, AppointmentStatus, Hold
from tests.manager.test_schedule_views import MONDAY, add_visit, hold_places
from tests.scheduling.conftest import clinic  # noqa: F401

# visit type, minutes, resources it holds
KINDS = (
    ("consultation", 30, ("dr-sato",)),
    ("reinfusion-iv", 90, ("infusion-chair",)),
    ("collection", 60, ("procedure-room-1", "dr-sato", "nurse-chen")),
    ("reinfusion-intrathecal", 120, ("procedure-room-1", "dr-kobayashi", "recovery-bed")),
)


def add_many(clinic, count: int) -> None:
    """``count`` visits spread over Monday to Saturday of the week, in bulk."""
    patients = [
        Patient(family_name="Bulk", given_name=f"Patient {n}", locale="en") for n in range(50)
    ]
    db.session.add_all(patients)
    db.session.flush()
    courses = [Course(patient=p, number=1) for p in patients]
    db.session.add_all(courses)
    db.session.flush()
    types = {code: clinic.visit_type(code).id for code, _m, _r in KINDS}
    resources = {code: clinic.resource(code).id for _c, _m, rs in KINDS for code in rs}
    seats: dict = {}
    holds = []
    for n in range(count):
        code, minutes, held = KINDS[n % len(KINDS)]
        day = MONDAY + timedelta(days=n % 6)
        start = clinic.at(day, "09:00") + timedelta(minutes=15 * (n % 30))
        patient = patients[n % len(patients)]
        result = db.session.execute(
            insert(Appointment).values(
                patient_id=patient.id,
                course_id=courses[n % len(courses)].id,
                visit_type_id=types[code],
                start_at=start,
                end_at=start + timedelta(minutes=minutes),
                status=AppointmentStatus.BOOKED,
            )
        )
        appointment_id = result.inserted_primary_key[0]
        for resource in held:
            for k in range(0, minutes, 15):
                unit = start + timedelta(minutes=k)
                key = (resources[resource], unit)
                seats[key] = seats.get(key, -1) + 1
                holds.append(
                    {
                        "appointment_id": appointment_id,
                        "resource_id": resources[resource],
                        "unit_start": unit,
                        "seat": seats[key],
                    }
                )
    db.session.execute(insert(Hold), holds)
    db.session.commit()


def test_the_week_reads_at_most_five_statements_whatever_the_visits(
    client,
    login_as,
    clinic,
    make_patient,
    count_queries,
):
    login_as(Role.MANAGER)
    patient = make_patient()
    add_visit(clinic, patient, "consultation", MONDAY, "10:00", 30, ("dr-sato",))
    hold_places(clinic, patient, MONDAY, 5)
    url = f"/manager/schedule?view=week&date={MONDAY.isoformat()}"

    def request_statements() -> int:
        with count_queries() as statements:
            with client.get(url) as r:
                assert r.status_code == 200
        return len(statements)

    def data_statements() -> tuple[int, int]:
        db.session.expire_all()
        g.pop("_clinic_settings", None)  # as a new request: settings not read yet
        first, last = pure.window(pure.View.WEEK, MONDAY)
        with count_queries() as statements:
            data = schedule_queries.schedule(first, last)
        return len(statements), len(data.visits)

    request_statements()  # the first request after logging in also stamps the session
    small_request = request_statements()
    small_data, small_visits = data_statements()
    add_many(clinic, 1000)
    large_request = request_statements()
    large_data, large_visits = data_statements()
    assert (small_visits, large_visits) == (1, 1001)
    assert large_data == small_data <= 5
    assert large_request == small_request <= 6  # the data's five and the session's user
    # The other views read the same way.
    for view in ("day", "month"):
        with count_queries() as statements:
            with client.get(f"/manager/schedule?view={view}&date={MONDAY.isoformat()}") as r:
                assert r.status_code == 200
        assert len(statements) == small_request


def test_the_1000_visit_week_shows_every_visit(client, login_as, clinic):
    add_many(clinic, 1000)
    login_as(Role.MANAGER)
    with client.get(f"/manager/schedule?view=week&date={MONDAY.isoformat()}") as r:
        body = r.get_data(as_text=True)
    listing = body.split('data-layout="list"', 1)[1]
    assert listing.count("data-visit=") == 1000
    ids = set(db.session.execute(select(Appointment.id)).scalars())
    assert len(ids) == 1000


def test_the_schedule_data_names_lanes_places_and_days(clinic, make_patient):
    patient = make_patient()
    add_visit(clinic, patient, "collection", MONDAY, "10:00", 60,
              ("procedure-room-1", "dr-sato", "nurse-chen"))  # fmt: skip
    hold_places(clinic, patient, MONDAY, 2)
    data = schedule_queries.schedule(MONDAY, MONDAY + timedelta(days=6))
    codes = [next(r.code for r in data.resources if r.id == lane.id) for lane in data.lanes]
    # Rooms, chairs, beds, then each pool's members (not the pools, which have members).
    assert codes == [
        "procedure-room-1",
        "infusion-chair",
        "recovery-bed",
        "dr-sato",
        "dr-kobayashi",
        "nurse-chen",
        "nurse-ito",
    ]
    assert [lane.group for lane in data.lanes][3:] == ["Doctors", "Doctors", "Nurses", "Nurses"]
    assert next(lane for lane in data.lanes if lane.id == data.lanes[1].id).capacity == 4
    (places,) = data.places
    assert places.capacity == 40
    assert places.used == {MONDAY: 1, MONDAY + timedelta(days=1): 1}
    (visit,) = data.visits
    assert len(visit.resource_ids) == 3 and visit.patient_name == patient.full_name
    assert data.days[MONDAY + timedelta(days=6)].is_closed  # Sunday
