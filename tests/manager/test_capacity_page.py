"""The capacity page on a seeded clinic: demand from culture windows and
confirmed reinfusion dates, chair and room capacity, incubator places and
utilisation, in a fixed number of statements, for managers (and admins)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from fractions import Fraction

import pytest

from intake.accounts.roles import Role
from intake.cultures.lifecycle import BatchState
from intake.extensions import db
from intake.manager import capacity as pure
from intake.manager import capacity_queries
from intake.reinfusion.models import Dose, DoseStatus
from intake.scheduling import services
from intake.scheduling.models import Appointment, AppointmentStatus, Closure
from tests.cultures import conftest as culture_fixtures
from tests.scheduling import conftest as scheduling_fixtures

clinic = scheduling_fixtures.clinic
coordinator = scheduling_fixtures.coordinator
make_batch = culture_fixtures.make_batch


def _dose(batch, status=DoseStatus.PLANNED, route="iv", appointment=None, number=1):
    dose = Dose(
        course=batch.course,
        patient=batch.patient,
        batch=batch,
        number=number,
        route=route,
        planned_cells=100_000_000,
        status=status,
        appointment=appointment,
    )
    db.session.add(dose)
    db.session.commit()
    return dose


def _reinfusion(clinic, patient, day, *, code="reinfusion-iv", status=AppointmentStatus.BOOKED):
    start = datetime.combine(day, time(10), tzinfo=clinic.cal.tz).astimezone(UTC)
    from intake.patients.services import current_course

    visit = Appointment(
        patient=patient,
        course=current_course(patient),
        visit_type=clinic.visit_type(code),
        start_at=start,
        end_at=start + timedelta(minutes=90),
        status=status,
    )
    db.session.add(visit)
    db.session.commit()
    return visit


def _week_of(data, day):
    return pure.week_index(day, data.weeks[0])


def test_demand_from_windows_and_confirmed_dates(clinic, make_batch):
    today = clinic.today
    make_batch(days_ago=20)  # no dose yet: the route is not chosen
    local = make_batch(days_ago=21)
    _dose(local, route="local")
    dated = make_batch(days_ago=22, state=BatchState.RELEASED)
    visit_day = clinic.day(min_days=16)
    visit = _reinfusion(clinic, dated.patient, visit_day)
    _dose(dated, status=DoseStatus.CONFIRMED, appointment=visit)
    make_batch(days_ago=18, state=BatchState.FAILED)  # no longer needs a date
    _reinfusion(clinic, dated.patient, visit_day, status=AppointmentStatus.CANCELLED)
    _reinfusion(clinic, local.patient, visit_day, code="reinfusion-intrathecal")

    data = capacity_queries.capacity_page(today)
    weeks = data.demand.weeks
    assert sum(w.undecided for w in weeks) == 1  # one visit, spread
    assert sum(w.expected["room"] for w in weeks) == 1
    assert sum(w.expected["chair"] for w in weeks) == 0  # the dated one is confirmed
    index = _week_of(data, visit_day)
    assert [w.confirmed["chair"] for w in weeks][index] == 1  # the cancelled one is not
    assert [w.confirmed["room"] for w in weeks][index] == 1  # intrathecal takes the room
    earliest = today + timedelta(days=14)  # reinfusion_lock_min_days
    first_week_with_demand = min(n for n, w in enumerate(weeks) if w.undecided)
    assert data.weeks[first_week_with_demand] + timedelta(days=6) >= earliest
    assert data.demand.cannot_be_dated == 0


def test_a_culture_past_its_window_cannot_be_dated(clinic, make_batch):
    make_batch(days_ago=40)  # window ends in 2 days, dates need 14 days' notice
    data = capacity_queries.capacity_page(clinic.today)
    assert data.demand.cannot_be_dated == 1
    assert sum(w.undecided for w in data.demand.weeks) == 0


def test_capacity_follows_the_chairs_the_room_and_the_closures(clinic):
    today = clinic.today
    data = capacity_queries.capacity_page(today)
    assert data.groups == {
        "chair": capacity_queries.GroupPlan(seats=4, visit_minutes=90),
        "room": capacity_queries.GroupPlan(seats=1, visit_minutes=60),
    }
    days = pure.ClinicDays(
        hours=clinic.cal.hours,
        tz=clinic.cal.tz,
        holidays=clinic.cal.holidays(data.weeks[0], data.weeks[-1] + timedelta(days=7)),
    )
    for n, week in enumerate(data.weeks):
        open_days = sum(days.is_open(d) for d in pure.days_of(week))
        # 09-12 and 13-18: 2 + 3 IV drips per chair, 3 + 5 room hours.
        assert data.demand.weeks[n].capacity["chair"] == open_days * 5 * 4
        assert data.demand.weeks[n].capacity["room"] == open_days * 8
    closed_week = data.weeks[3]
    db.session.add(
        Closure(
            start_at=clinic.cal.day_start(closed_week),
            end_at=clinic.cal.day_start(closed_week + timedelta(days=7)),
            reason="Renovation",
        )
    )
    db.session.commit()
    data = capacity_queries.capacity_page(today)
    assert data.demand.weeks[3].capacity == {"chair": 0, "room": 0}
    room = next(u for r, u in data.usage if r.label.startswith("Procedure room"))
    assert room[3].percent is None  # nothing available in a closed week
    incubator = next(u for r, u in data.usage if r.is_per_day)
    assert incubator[3].available == 7 * 40  # cultures grow on closed days too


def test_incubator_places_and_utilisation_from_the_ledger(
    clinic, coordinator, make_approved_patient
):
    patient = make_approved_patient().patient
    day = clinic.day(min_days=3)
    collection = services.book_visit(
        patient, "collection", clinic.at(day, "10:00"), actor=coordinator
    )
    consultation = services.book_visit(
        make_approved_patient().patient, "consultation", clinic.at(day, "14:00"), actor=coordinator
    )
    db.session.commit()
    data = capacity_queries.capacity_page(clinic.today)
    used = dict(data.places)
    assert used[day] == 1 and used[day - timedelta(days=1)] == 0
    last = data.weeks[-1] + timedelta(days=6)
    assert all(
        used[day + timedelta(days=n)] == 1 for n in range(43) if day + timedelta(days=n) <= last
    )
    assert data.places_capacity == 40
    index = _week_of(data, day)
    by_label = {r.label: usages for r, usages in data.usage}
    assert "Doctors" not in by_label  # a staff group with members: its members are shown
    room = by_label["Procedure room 1"][index]
    assert room.held == len(clinic.holds(collection)) // 3  # room, doctor, nurse
    doctors = [u[index].held for r, u in data.usage if r.label.startswith("Dr.")]
    assert sum(doctors) == room.held + len(clinic.holds(consultation))
    assert 0 < by_label["Procedure room 1"][index].percent <= 100


def test_a_fixed_number_of_statements(client, login_as, clinic, make_batch, count_queries):
    login_as(Role.MANAGER)

    def measure():
        db.session.expire_all()
        with count_queries() as statements:
            with client.get("/manager/capacity") as r:
                assert r.status_code == 200
        return len(statements)

    small = measure()
    for n in range(30):
        batch = make_batch(days_ago=n % 30)
        if n % 3 == 0:
            _dose(batch, route="local")
        _reinfusion(clinic, batch.patient, clinic.day(min_days=5 + n))
    assert measure() == small
    db.session.expire_all()
    with count_queries() as statements:
        capacity_queries.capacity_page(clinic.today)
    assert len(statements) <= 7


@pytest.mark.parametrize("role, status", [(Role.MANAGER, 200), (Role.ADMIN, 200)])
def test_the_page_draws_three_charts_each_with_its_table(
    client, login_as, clinic, make_batch, role, status
):
    make_batch(days_ago=20)
    login_as(role)
    with client.get("/manager/capacity") as r:
        page = r.get_data(as_text=True)
    assert r.status_code == status
    for chart in ("demand-chair", "demand-room", "places", "usage"):
        assert f'data-chart="{chart}"' in page
        assert f'id="{chart}-table"' in page
    assert 'data-capacity="1"' in page and 'data-series="undecided"' in page
    assert "style=" not in page  # the CSP forbids inline styles


def test_other_staff_may_not_see_it(client, login_as, clinic):
    login_as(Role.COORDINATOR)
    with client.get("/manager/capacity") as r:
        assert r.status_code == 403


def test_the_page_names_holidays_and_closures(client, login_as, clinic):
    login_as(Role.MANAGER)
    day = clinic.day(min_days=9)
    start = clinic.cal.day_start(day)
    db.session.add(Closure(start_at=start, end_at=start + timedelta(days=1), reason="Inventory"))
    db.session.commit()
    with client.get("/manager/capacity") as r:
        page = r.get_data(as_text=True)
    assert 'id="closed-days"' in page
    from intake.manager.capacity_views import _day_label

    with client.application.test_request_context():
        assert _day_label(day) in page.split('id="closed-days"')[1].split("</p>")[0]


def test_show_numbers():
    from intake.manager.capacity_views import show

    assert [show(0), show(3), show(Fraction(1, 2)), show(Fraction(4, 11))] == [
        "0",
        "3",
        "0.5",
        "0.4",
    ]
