"""GET /scheduling/availability: public, no personal data, JSON errors."""

import re
from datetime import datetime, timedelta

import pytest

from intake.accounts.roles import Role
from intake.extensions import db
from intake.scheduling import services

TUESDAY = 1


def test_slots_in_the_clinic_zone_with_offset(client, clinic):
    day = clinic.day(weekday=TUESDAY)
    with client.get(f"/scheduling/availability?service=consultation&start={day}&days=1") as r:
        assert r.status_code == 200 and r.is_json
        body = r.get_json()
    assert set(body) == {"service", "timezone", "slots"}
    assert body["service"] == "consultation" and body["timezone"] == "Asia/Tokyo"
    slots = body["slots"]
    assert slots[0] == f"{day}T09:00:00+09:00" and slots[-1] == f"{day}T17:15:00+09:00"
    assert f"{day}T12:00:00+09:00" not in slots and len(slots) == 10 + 18
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:00\+09:00", s) for s in slots)


def test_slots_follow_bookings_without_showing_who(client, clinic, make_user):
    coordinator = make_user(Role.COORDINATOR)
    patient = make_user(Role.PATIENT, given_name="Secret", family_name="Person")
    day = clinic.day(weekday=0)  # Monday: one doctor
    services.book_visit(patient.patient, "consultation", clinic.at(day, "10:00"), actor=coordinator)
    db.session.commit()
    with client.get(f"/scheduling/availability?service=consultation&start={day}&days=1") as r:
        text = r.get_data(as_text=True)
        slots = r.get_json()["slots"]
    assert f"{day}T10:00:00+09:00" not in slots and f"{day}T10:45:00+09:00" in slots
    assert "Secret" not in text and patient.email not in text


def test_sixty_two_days_of_collection(client, clinic):
    with client.get(
        f"/scheduling/availability?service=collection&start={clinic.today}&days=62"
    ) as r:
        slots = r.get_json()["slots"]
    assert r.status_code == 200 and slots
    first = datetime.fromisoformat(slots[0])
    assert first.date() >= clinic.today + timedelta(days=2)  # the patients' 48 hours


@pytest.mark.parametrize(
    "query, message",
    [
        ("service=massage&start={day}&days=7", "Unknown service"),
        ("service=&start={day}&days=7", "Unknown service"),
        ("service=CONSULTATION&start={day}&days=7", "Unknown service"),
        ("service=../etc&start={day}&days=7", "Unknown service"),
        ("start={day}&days=7", "Unknown service"),
        ("service=consultation&start=2026-13-01&days=7", "YYYY-MM-DD"),
        ("service=consultation&start=20261201&days=7", "YYYY-MM-DD"),
        ("service=consultation&start=tomorrow&days=7", "YYYY-MM-DD"),
        ("service=consultation&days=7", "YYYY-MM-DD"),
        ("service=consultation&start=9999-12-31&days=62", "too far"),
        ("service=consultation&start=1999-01-01&days=7", "too far"),
        ("service=consultation&start={day}&days=0", "from 1 to 62"),
        ("service=consultation&start={day}&days=63", "from 1 to 62"),
        ("service=consultation&start={day}&days=-1", "from 1 to 62"),
        ("service=consultation&start={day}&days=1.5", "from 1 to 62"),
        ("service=consultation&start={day}&days=", "from 1 to 62"),
        ("service=consultation&start={day}", "from 1 to 62"),
    ],
)
def test_bad_requests_answer_400_json(client, clinic, query, message):
    with client.get("/scheduling/availability?" + query.format(day=clinic.day())) as r:
        assert r.status_code == 400 and r.is_json
        assert message in r.get_json()["error"]


def test_switched_off_service_is_unknown(client, clinic):
    clinic.visit_type("reinfusion-local").is_active = False
    db.session.commit()
    with client.get(
        f"/scheduling/availability?service=reinfusion-local&start={clinic.day()}&days=3"
    ) as r:
        assert r.status_code == 400


def test_error_in_the_callers_language(client, clinic):
    with client.get(
        "/scheduling/availability?service=nope&start=2026-01-01&days=3",
        headers={"Accept-Language": "zh-CN"},
    ) as r:
        assert r.status_code == 400 and r.get_json()["error"]


def test_only_get(client, clinic):
    with client.post("/scheduling/availability?service=consultation") as r:
        assert r.status_code == 405 and r.is_json
