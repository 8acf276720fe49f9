"""A visit booked just before the patient's change cut-off (or by the clinic
after it) cannot be changed online a moment later: the confirmation page, the
message after booking and the e-mail say so, with the clinic's phone."""

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select

from intake.accounts.roles import Role
from intake.core import settings
from intake.core.types import utcnow
from intake.extensions import db
from intake.notifications.models import Message
from intake.scheduling import services

TUESDAY = 1
PHONE = "+81 3 1234 5678"
CLOSING = "online changes to this visit close at"
CLOSED = "cannot be changed or cancelled online"
USUAL = "You can change or cancel online until 48 hours before the visit."


def _mail(patient) -> str:
    (message,) = db.session.execute(
        select(Message).where(Message.user_id == patient.id, Message.template == "visit_booked")
    ).scalars()
    return message.body


@pytest.fixture
def phone(app):
    app.config["CLINIC_PHONE"] = PHONE


# booked by, hours before the visit it is booked, what the e-mail says
CASES = [
    ("patient", 72, USUAL),
    ("patient", 49.1, USUAL),
    ("patient", 48.9, CLOSING),
    ("patient", 48, CLOSED),  # at the cut-off itself
    ("staff", 48.5, CLOSING),
    ("staff", 24, CLOSED),
    ("staff", 1, CLOSED),
]


@pytest.mark.parametrize("by, hours, expected", CASES)
def test_the_booking_email_warns_near_the_cut_off(
    clinic, phone, make_user, coordinator, by, hours, expected
):
    patient = make_user(Role.PATIENT)
    start = clinic.at(clinic.day(weekday=TUESDAY), "10:00")
    actor = patient if by == "patient" else coordinator
    services.book_visit(
        patient.patient, "consultation", start, actor=actor, now=start - timedelta(hours=hours)
    )
    body = _mail(patient)
    assert expected in body
    for other in {USUAL, CLOSING, CLOSED} - {expected}:
        assert other not in body
    assert (PHONE in body) is (expected != USUAL)


def test_without_a_configured_phone_it_still_says_call(clinic, make_user, coordinator):
    patient = make_user(Role.PATIENT)
    start = clinic.at(clinic.day(weekday=TUESDAY), "10:00")
    services.book_visit(
        patient.patient, "consultation", start, actor=coordinator, now=start - timedelta(hours=3)
    )
    assert "please call the clinic." in _mail(patient)


def test_the_warning_in_the_patients_language(clinic, phone, make_user):
    patient = make_user(Role.PATIENT, locale="zh_Hans")
    start = clinic.at(clinic.day(weekday=TUESDAY), "10:00")
    services.book_visit(
        patient.patient,
        "consultation",
        start,
        actor=patient,
        now=start - timedelta(hours=48, minutes=30),
    )
    body = _mail(patient)
    assert "网上" in body and PHONE in body


def _late_start(clinic):
    """A free 10:xx start two or more days ahead whose distance from now is a
    whole number of hours plus 5 to 60 minutes."""
    day = clinic.day(min_days=2)
    now = utcnow()
    for hhmm in ("10:00", "10:15", "10:30", "10:45"):
        start = clinic.at(day, hhmm)
        extra = (start - now) % timedelta(hours=1)
        if timedelta(minutes=5) <= extra < timedelta(minutes=60):
            return start, int((start - now) // timedelta(hours=1))
    raise AssertionError("no start found")


def test_confirmation_page_and_message_warn_and_show_the_phone(
    clinic, phone, client, login_as, manager
):
    start, hours = _late_start(clinic)
    settings.update_settings({"min_notice_hours": str(hours)}, actor=manager)
    db.session.commit()
    patient = login_as(Role.PATIENT)
    iso = start.astimezone(clinic.cal.tz).isoformat()
    with client.get("/book/consultation", query_string={"start": iso}) as r:
        page = unescape(r.get_data(as_text=True))
    assert 'name="start"' in page  # the confirmation step
    warning = page.split('id="late-booking"', 1)[1].split("</div>", 1)[0]
    assert CLOSING in warning and PHONE in warning
    assert re.search(r'href="tel:\+81312345678"', warning)
    with client.post("/book/consultation", data={"start": iso, "mode": "in_person"}) as r:
        assert r.status_code == 302 and r.headers["Location"].endswith("/visits")
    with client.get("/visits") as r:
        visits = unescape(r.get_data(as_text=True))
    assert CLOSING in visits and PHONE in visits
    assert CLOSING in _mail(patient)


def test_no_warning_when_there_is_time(clinic, phone, client, login_as):
    login_as(Role.PATIENT)
    start = clinic.at(clinic.day(weekday=TUESDAY, min_days=6), "10:00")
    iso = start.astimezone(clinic.cal.tz).isoformat()
    with client.get("/book/consultation", query_string={"start": iso}) as r:
        page = r.get_data(as_text=True)
    assert 'name="start"' in page and 'id="late-booking"' not in page
