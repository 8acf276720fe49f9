"""No double booking under contention: many threads, each with its own app
context, session and database connection, book the same start at once. The
database's unique constraint on (resource, unit, seat) decides: exactly the
free capacity succeeds; every other thread is told "this time was just taken"
in its own language; nothing half-written is left. Runs on SQLite (file, WAL)
and on PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

import threading
from html import unescape
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import func, select

from intake.accounts.models import User
from intake.accounts.roles import Role
from intake.core.errors import Conflict
from intake.extensions import db
from intake.scheduling import services
from intake.scheduling.models import Appointment, Hold
from tests.conftest import PASSWORD

THREADS = 10
TUESDAY = 1
PO = Path(__file__).resolve().parents[2] / "intake" / "translations"
TAKEN = "This time was just taken. Please choose another."
LANGUAGES = {"zh_Hans": "zh-CN", "ja": "ja", "en": "en"}


def _expected(locale: str) -> str:
    """The catalogue's translation (English until the translator has done it)."""
    with (PO / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        message = read_po(f).get(TAKEN)
    return (message.string if message is not None else "") or TAKEN


def _race(app, attempts):
    """Run each ``attempt(i)`` in its own thread, all released at once."""
    barrier = threading.Barrier(len(attempts))
    outcomes: list = [None] * len(attempts)

    def run(i):
        try:
            outcomes[i] = attempts[i](barrier)
        except BaseException as exc:  # recorded, never lost in the thread
            outcomes[i] = ("error", repr(exc))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(attempts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def _book_in_thread(app, *, patient_id, actor_id, code, start, locale):
    def attempt(barrier):
        headers = {"Accept-Language": LANGUAGES[locale]}
        with app.test_request_context(headers=headers):
            try:
                patient = db.session.get(User, patient_id)
                actor = db.session.get(User, actor_id)
                barrier.wait()
                try:
                    services.book_visit(patient.patient, code, start, actor=actor)
                    db.session.commit()
                    return ("ok", locale)
                except Conflict as exc:
                    db.session.rollback()
                    return ("taken", locale, exc.message)
            finally:
                db.session.remove()

    return attempt


def _counts():
    appointments = db.session.execute(select(func.count()).select_from(Appointment)).scalar_one()
    holds = db.session.execute(select(func.count()).select_from(Hold)).scalar_one()
    orphans = db.session.execute(
        select(func.count())
        .select_from(Appointment)
        .where(~select(Hold.id).where(Hold.appointment_id == Appointment.id).exists())
    ).scalar_one()
    return appointments, holds, orphans


@pytest.mark.parametrize(
    "code, taken_before, free, holds_each",
    [
        # Four infusion chairs, three taken: one left for ten drips.
        pytest.param("reinfusion-iv", 3, 1, 6, id="last-infusion-chair"),
        # Four chairs, two taken: two left.
        pytest.param("reinfusion-iv", 2, 2, 6, id="last-two-chairs"),
        # Tuesday: two doctors, none taken.
        pytest.param("consultation", 0, 2, 3, id="two-doctors"),
        # The only procedure room (with a doctor and a nurse) for a collection.
        pytest.param("reinfusion-intrathecal", 0, 1, 12, id="procedure-room"),
    ],
)
def test_threads_race_for_the_last_seats(
    app, clinic, make_user, make_approved_patient, code, taken_before, free, holds_each
):
    coordinator = make_user(Role.COORDINATOR)
    # Reinfusions need the intake gate: their patients are approved.
    gated = clinic.visit_type(code).requires_intake_gate

    def patient(**fields):
        return make_approved_patient(**fields) if gated else make_user(Role.PATIENT, **fields)

    start = clinic.at(clinic.day(weekday=TUESDAY), "13:00")
    for _ in range(taken_before):
        services.book_visit(patient().patient, code, start, actor=coordinator)
    db.session.commit()
    before = _counts()
    locales = list(LANGUAGES)
    patients = [patient(locale=locales[i % 3]) for i in range(THREADS)]
    attempts = [
        _book_in_thread(
            app,
            patient_id=p.id,
            actor_id=coordinator.id,
            code=code,
            start=start,
            locale=locales[i % 3],
        )
        for i, p in enumerate(patients)
    ]
    outcomes = _race(app, attempts)

    errors = [o for o in outcomes if o[0] == "error"]
    assert errors == []
    wins = [o for o in outcomes if o[0] == "ok"]
    losses = [o for o in outcomes if o[0] == "taken"]
    assert len(wins) == free and len(losses) == THREADS - free
    for _taken, locale, message in losses:
        assert message == _expected(locale)
    appointments, holds, orphans = _counts()
    assert appointments == before[0] + free
    assert holds == before[1] + free * holds_each
    assert orphans == 0
    # No seat above capacity, no seat twice (the constraint), per unit.
    per_unit = db.session.execute(
        select(Hold.resource_id, Hold.unit_start, func.count(), func.max(Hold.seat)).group_by(
            Hold.resource_id, Hold.unit_start
        )
    ).all()
    chairs = clinic.resource("infusion-chair").id
    for resource_id, _unit, count, top_seat in per_unit:
        limit = 4 if resource_id == chairs else 1
        assert count <= limit and top_seat < limit


def test_patients_race_over_http(app, clinic, make_user):
    """Ten logged-in patients press "confirm" on the same Tuesday 10:00
    consultation: the two doctors go to two of them; the others are sent back
    to the day's times with the message; nobody sees an error page."""
    day = clinic.day(weekday=TUESDAY)
    start = f"{day}T10:00:00+09:00"
    clients = []
    for i in range(THREADS):
        patient = make_user(Role.PATIENT, locale=list(LANGUAGES)[i % 3])
        client = app.test_client()
        with client.post("/login", data={"email": patient.email, "password": PASSWORD}) as r:
            assert r.status_code == 302
        clients.append((client, patient.locale))

    def attempt_for(client, locale):
        def attempt(barrier):
            barrier.wait()
            with client.post("/book/consultation", data={"start": start}) as r:
                status, location = r.status_code, r.headers.get("Location", "")
            with client.get(location) as page:
                return (
                    status,
                    location,
                    page.status_code,
                    unescape(page.get_data(as_text=True)),
                    locale,
                )

        return attempt

    outcomes = _race(app, [attempt_for(c, loc) for c, loc in clients])
    assert [o for o in outcomes if o[0] == "error"] == []
    assert all(o[0] == 302 and o[2] == 200 for o in outcomes), [o[:3] for o in outcomes]
    booked = [o for o in outcomes if o[1].endswith("/visits")]
    refused = [o for o in outcomes if "/book/consultation" in o[1]]
    assert len(booked) == 2 and len(refused) == THREADS - 2
    for *_rest, page, locale in refused:
        assert _expected(locale) in page
    appointments, holds, orphans = _counts()
    assert (appointments, holds, orphans) == (2, 6, 0)
