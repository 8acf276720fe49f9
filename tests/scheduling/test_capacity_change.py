"""A capacity change never leaves more holds than seats (DESIGN.md, "No double
booking"): a change that would strand held seats is refused, naming the days;
seats held at or above a lowered capacity, on days where the holds still fit,
move down; and under concurrency a booking never takes a seat at or above the
capacity in force, whichever of the booking and the change goes first. Runs on
SQLite (file, WAL) and on PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

import threading
import time
from html import unescape

import pytest
from sqlalchemy import func, select

from intake.accounts.models import User
from intake.accounts.roles import Role
from intake.core import settings
from intake.core.errors import Conflict, DomainError
from intake.extensions import db
from intake.scheduling import clinic_setup, ledger, services
from intake.scheduling.models import Appointment, Hold, Resource
from intake.scheduling.visit_kinds import VisitKind
from tests.scheduling.test_race import _race

TUESDAY = 1
# A visit of one resource, for each way a capacity is kept: the recovery beds
# keep their own; the infusion chairs follow the clinic setting infusion_chairs.
PATHS = {
    "own": ("recovery-bed", "bed-rest"),
    "setting": ("infusion-chair", "chair-rest"),
}


def _visit_type(clinic, manager, path: str) -> str:
    resource_code, code = PATHS[path]
    clinic_setup.create_visit_type(
        actor=manager,
        code=code,
        kind=VisitKind.OTHER,
        names={"en": code},
        duration_minutes=60,
        modes=[],
        is_patient_bookable=False,
        is_desk_bookable=True,
        segments=[clinic_setup.SegmentInput(clinic.resource(resource_code).id, 0, None)],
        day_block_resource_id=None,
    )
    db.session.commit()
    return code


def _set_capacity(clinic, manager, path: str, seats: int) -> None:
    """What the manager's resource form does."""
    resource = clinic.resource(PATHS[path][0])
    clinic_setup.save_resource(
        resource,
        actor=manager,
        names=resource.names,
        capacity=seats,
        pool_id=resource.pool_id,
        working_weekdays=None,
        is_active=resource.is_active,
    )


def _capacity(clinic, path: str) -> int:
    resource = clinic.resource(PATHS[path][0])
    db.session.refresh(resource)
    if resource.capacity_setting:
        settings_now = settings.raw_values()
        return int(settings_now[resource.capacity_setting])
    return resource.capacity


def _per_unit(resource_id: int) -> list[tuple]:
    return db.session.execute(
        select(Hold.unit_start, func.count(), func.max(Hold.seat))
        .where(Hold.resource_id == resource_id)
        .group_by(Hold.unit_start)
    ).all()


def _assert_within_capacity(clinic, path: str) -> None:
    db.session.expire_all()
    capacity = _capacity(clinic, path)
    for unit, count, top in _per_unit(clinic.resource(PATHS[path][0]).id):
        assert count <= capacity and top < capacity, (unit, count, top, capacity)


def _book(clinic, code, start, coordinator, make_user, n: int) -> list[Appointment]:
    booked = [
        services.book_visit(make_user(Role.PATIENT).patient, code, start, actor=coordinator)
        for _ in range(n)
    ]
    db.session.commit()
    return booked


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("path", list(PATHS))
def test_lowering_a_capacity_under_held_seats_is_refused_naming_the_days(
    clinic, manager, coordinator, make_user, path
):
    code = _visit_type(clinic, manager, path)
    _set_capacity(clinic, manager, path, 5)
    db.session.commit()
    busy, quiet = clinic.day(weekday=TUESDAY), clinic.day(weekday=TUESDAY, min_days=11)
    _book(clinic, code, clinic.at(busy, "10:00"), coordinator, make_user, 4)
    _book(clinic, code, clinic.at(quiet, "10:00"), coordinator, make_user, 2)

    with pytest.raises(DomainError) as refused:
        _set_capacity(clinic, manager, path, 3)
    db.session.rollback()
    assert refused.value.field == "capacity"
    assert busy.isoformat() in refused.value.message
    assert quiet.isoformat() not in refused.value.message
    assert _capacity(clinic, path) == 5

    _set_capacity(clinic, manager, path, 4)  # the busy day still fits
    db.session.commit()
    _assert_within_capacity(clinic, path)


def test_an_incubator_setting_under_held_places_is_refused(
    clinic, manager, coordinator, make_approved_patient
):
    """The issue's case: incubator places lowered under the places cultures hold."""
    settings.update_settings({"incubator_places": "3"}, actor=manager)
    db.session.commit()
    day = clinic.day(weekday=TUESDAY)
    for hhmm in ("09:00", "11:00", "14:00"):
        services.book_visit(
            make_approved_patient().patient, "collection", clinic.at(day, hhmm), actor=coordinator
        )
    db.session.commit()
    with pytest.raises(settings.SettingsInvalid) as refused:
        settings.update_settings({"incubator_places": "2"}, actor=manager)
    db.session.rollback()
    message = refused.value.errors["incubator_places"]
    assert "43 days" in message and day.isoformat() in message
    assert settings.get("incubator_places") == 3
    # The resource form says the same beside its capacity field.
    incubator = clinic.resource("incubator")
    with pytest.raises(DomainError) as refused:
        clinic_setup.save_resource(
            incubator, actor=manager, names=incubator.names, capacity=2, is_per_day=True
        )
    db.session.rollback()
    assert refused.value.field == "capacity" and day.isoformat() in refused.value.message


def test_switching_off_a_resource_with_visits_ahead_is_refused(
    clinic, manager, coordinator, make_user
):
    code = _visit_type(clinic, manager, "own")
    day = clinic.day(weekday=TUESDAY)
    _book(clinic, code, clinic.at(day, "10:00"), coordinator, make_user, 1)
    bed = clinic.resource("recovery-bed")
    with pytest.raises(DomainError, match=day.isoformat()):
        clinic_setup.save_resource(
            bed, actor=manager, names=bed.names, capacity=bed.capacity, is_active=False
        )


def test_seats_above_a_lower_capacity_move_down(clinic, manager, coordinator, make_user):
    """Four beds, seats 0-3 held, the visit on seat 1 cancelled: lowering to
    three moves the visit on seat 3 to seat 1, and the freed seat can be booked."""
    code = _visit_type(clinic, manager, "own")
    _set_capacity(clinic, manager, "own", 4)
    start = clinic.at(clinic.day(weekday=TUESDAY), "10:00")
    visits = _book(clinic, code, start, coordinator, make_user, 4)
    seat_of = {v.id: clinic.holds(v)[0].seat for v in visits}  # the same seat all hour
    assert sorted(seat_of.values()) == [0, 1, 2, 3]
    by_seat = {seat: vid for vid, seat in seat_of.items()}
    services.cancel_visit(db.session.get(Appointment, by_seat[1]), actor=coordinator, reason="x")
    db.session.commit()

    _set_capacity(clinic, manager, "own", 3)
    db.session.commit()
    moved = db.session.get(Appointment, by_seat[3])
    assert {h.seat for h in clinic.holds(moved)} == {1}
    _assert_within_capacity(clinic, "own")
    with pytest.raises(Conflict):
        _book(clinic, code, start, coordinator, make_user, 1)


def test_the_manager_reads_the_refusal_beside_the_field_in_their_language(
    client, clinic, manager, coordinator, make_user, login_as
):
    code = _visit_type(clinic, manager, "own")
    day = clinic.day(weekday=TUESDAY)
    _book(clinic, code, clinic.at(day, "10:00"), coordinator, make_user, 2)
    login_as(Role.MANAGER, locale="ja")
    bed = clinic.resource("recovery-bed")
    data = {
        "name_en": bed.names["en"],
        "name_zh": bed.names.get("zh_Hans", ""),
        "name_ja": bed.names.get("ja", ""),
        "capacity": "1",
        "pool_id": "",
        "user_id": "",
        "working_weekdays": [str(d) for d in range(7)],
        "is_active": "y",
    }
    with client.post(f"/scheduling/resources/{bed.id}", data=data) as r:
        assert r.status_code == 200
        page = unescape(r.get_data(as_text=True))
    assert day.isoformat() in page
    assert "新しい定員" in page  # the message in Japanese
    db.session.refresh(bed)
    assert bed.capacity == 2


# --------------------------------------------------------------------------- concurrency


def _booker(app, *, patient_id, actor_id, code, start):
    def attempt(barrier=None):
        with app.test_request_context():
            try:
                patient = db.session.get(User, patient_id)
                actor = db.session.get(User, actor_id)
                if barrier is not None:
                    barrier.wait()
                try:
                    services.book_visit(patient.patient, code, start, actor=actor)
                    db.session.commit()
                    return ("ok",)
                except Conflict as exc:
                    db.session.rollback()
                    return ("taken", exc.code)
            finally:
                db.session.remove()

    return attempt


def _lowerer(app, *, manager_id, path, seats):
    resource_code = PATHS[path][0]

    def attempt(barrier=None):
        with app.test_request_context():
            try:
                manager = db.session.get(User, manager_id)
                resource = db.session.execute(
                    select(Resource).where(Resource.code == resource_code)
                ).scalar_one()
                if barrier is not None:
                    barrier.wait()
                try:
                    clinic_setup.save_resource(
                        resource,
                        actor=manager,
                        names=resource.names,
                        capacity=seats,
                        pool_id=resource.pool_id,
                        is_active=True,
                    )
                    db.session.commit()
                    return ("lowered",)
                except DomainError as exc:
                    db.session.rollback()
                    assert "More seats are held" in exc.message, exc.message
                    return ("refused",)
            finally:
                db.session.remove()

    return attempt


def _pause_after(monkeypatch, name: str, module=services):
    """Stop the next booking right after ``<module>.<name>`` returns, until released."""
    reached, release = threading.Event(), threading.Event()
    original = getattr(module, name)

    def paused(*args, **kwargs):
        result = original(*args, **kwargs)
        if not reached.is_set():
            reached.set()
            assert release.wait(30)
        return result

    monkeypatch.setattr(module, name, paused)
    return reached, release


@pytest.mark.parametrize("path", list(PATHS))
def test_a_capacity_lowered_after_a_booking_checked_it(
    app, clinic, manager, coordinator, make_user, monkeypatch, path
):
    """The booking has seen six seats, three free; the manager lowers the
    capacity to three (the three holds fit) and commits; the booking goes on:
    it must not take seat 3."""
    code = _visit_type(clinic, manager, path)
    _set_capacity(clinic, manager, path, 6)
    start = clinic.at(clinic.day(weekday=TUESDAY), "10:00")
    _book(clinic, code, start, coordinator, make_user, 3)
    patient = make_user(Role.PATIENT)
    db.session.commit()
    reached, release = _pause_after(monkeypatch, "_check_start")
    outcome = []
    attempt = _booker(app, patient_id=patient.id, actor_id=coordinator.id, code=code, start=start)
    booker = threading.Thread(target=lambda: outcome.append(attempt()))
    booker.start()
    assert reached.wait(30)
    _set_capacity(clinic, manager, path, 3)
    db.session.commit()
    release.set()
    booker.join(30)
    assert outcome == [("taken", "full")]
    _assert_within_capacity(clinic, path)


@pytest.mark.parametrize("path", list(PATHS))
def test_a_capacity_lowered_while_a_booking_writes(
    app, clinic, manager, coordinator, make_user, monkeypatch, path
):
    """The booking has written its hold on seat 3 of six and not yet committed;
    the manager lowers the capacity to three meanwhile: the change waits for
    the booking, then sees four holds and is refused."""
    code = _visit_type(clinic, manager, path)
    _set_capacity(clinic, manager, path, 6)
    start = clinic.at(clinic.day(weekday=TUESDAY), "10:00")
    _book(clinic, code, start, coordinator, make_user, 3)
    patient = make_user(Role.PATIENT)
    db.session.commit()
    reached, release = _pause_after(monkeypatch, "take_seats", ledger)
    outcomes: dict = {}
    book = _booker(app, patient_id=patient.id, actor_id=coordinator.id, code=code, start=start)
    lower = _lowerer(app, manager_id=manager.id, path=path, seats=3)
    booker = threading.Thread(target=lambda: outcomes.setdefault("booking", book()))
    booker.start()
    assert reached.wait(30)
    change = threading.Thread(target=lambda: outcomes.setdefault("change", lower()))
    change.start()
    time.sleep(0.5)  # the change now waits for the booking's lock
    release.set()
    booker.join(30)
    change.join(30)
    assert outcomes == {"booking": ("ok",), "change": ("refused",)}
    assert _capacity(clinic, path) == 6
    _assert_within_capacity(clinic, path)


@pytest.mark.parametrize("path", list(PATHS))
def test_bookings_race_a_capacity_change(app, clinic, manager, coordinator, make_user, path):
    """Ten bookings of the same hour and a manager lowering its capacity from
    six to three, all released at once: whatever wins, no unit ends with more
    holds than the capacity in force, or a seat at or above it."""
    code = _visit_type(clinic, manager, path)
    _set_capacity(clinic, manager, path, 6)
    start = clinic.at(clinic.day(weekday=TUESDAY), "10:00")
    _book(clinic, code, start, coordinator, make_user, 1)
    patients = [make_user(Role.PATIENT) for _ in range(10)]
    db.session.commit()
    attempts = [
        _booker(app, patient_id=p.id, actor_id=coordinator.id, code=code, start=start)
        for p in patients
    ]
    attempts.insert(5, _lowerer(app, manager_id=manager.id, path=path, seats=3))
    outcomes = _race(app, attempts)
    assert [o for o in outcomes if o[0] == "error"] == []
    change = outcomes[5]
    booked = sum(1 for o in outcomes if o == ("ok",))
    assert change in (("lowered",), ("refused",))
    assert 1 + booked <= (3 if change == ("lowered",) else 6)
    _assert_within_capacity(clinic, path)
