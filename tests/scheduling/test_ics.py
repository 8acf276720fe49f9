"""The .ics file: one event per appointment, UTC times, the patient's language."""

from datetime import UTC, timedelta

import pytest
from icalendar import Calendar

from intake.accounts.roles import Role
from intake.scheduling import ics, services

TUESDAY = 1


@pytest.mark.parametrize(
    "locale, summary, note",
    [
        ("zh_Hans", "面诊", "Sakura Regenerative Clinic"),
        ("ja", "診察", "Sakura Regenerative Clinic"),
        ("en", "Consultation", "bring your passport"),
    ],
)
def test_calendar_file(clinic, coordinator, make_user, locale, summary, note):
    patient = make_user(Role.PATIENT, locale=locale)
    start = clinic.at(clinic.day(weekday=TUESDAY), "09:30")
    appointment = services.book_visit(patient.patient, "consultation", start, actor=coordinator)
    text = ics.build(appointment, locale=locale, link="http://127.0.0.1:5000/visits")

    assert "DTSTART:" in text and text.count("BEGIN:VEVENT") == 1
    dtstart = next(line for line in text.splitlines() if line.startswith("DTSTART"))
    assert dtstart.endswith("Z"), dtstart  # UTC
    calendar = Calendar.from_ical(text)
    assert str(calendar["version"]) == "2.0" and str(calendar["method"]) == "PUBLISH"
    (event,) = calendar.walk("VEVENT")
    assert str(event["uid"]) == f"appointment-{appointment.id}@127.0.0.1"
    assert event.decoded("dtstart") == start
    assert event.decoded("dtend") == start + timedelta(minutes=45)
    assert str(event["summary"]).startswith(summary)
    assert str(event["location"]).startswith("Sakura Regenerative Clinic")
    assert str(event["status"]) == "CONFIRMED" and int(event["sequence"]) == 0
    assert note in str(event["description"]) or note in str(event["summary"])
    assert str(event["url"]) == "http://127.0.0.1:5000/visits"
    (alarm,) = event.walk("VALARM")
    assert alarm.decoded("trigger") == -timedelta(days=1)


def test_a_start_in_the_clinic_offset_is_stored_and_mailed_in_utc(clinic, coordinator, make_user):
    """Forms send "2026-12-01T10:00:00+09:00"; the row and the file hold UTC."""
    local = clinic.at(clinic.day(weekday=TUESDAY), "10:00").astimezone(clinic.cal.tz)
    appointment = services.book_visit(
        make_user(Role.PATIENT).patient, "consultation", local, actor=coordinator
    )
    assert appointment.start_at.utcoffset() == timedelta(0)
    text = ics.build(appointment, locale="en")
    assert f"DTSTART:{local.astimezone(UTC):%Y%m%dT%H%M%S}Z" in text
    assert "TZID" not in text


def test_video_visits_have_no_street_address(clinic, coordinator, make_user):
    patient = make_user(Role.PATIENT)
    start = clinic.at(clinic.day(weekday=TUESDAY), "09:30")
    appointment = services.book_visit(
        patient.patient, "consultation", start, actor=coordinator, mode="video"
    )
    event = Calendar.from_ical(ics.build(appointment, locale="en")).walk("VEVENT")[0]
    assert str(event["location"]).startswith("Video call")
