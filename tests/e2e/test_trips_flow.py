"""Trips in a real browser, on a phone and in Chinese: an approved patient
who travels records two trips from the journey page, opens the collection
booking and sees the days marked against them, picks a day that misses them
and is warned (booking it needs "book anyway"), then books a day that fits.
A coordinator records a patient's trip and sees the marks at the desk.
Every page passes axe."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import select

from intake.accounts.roles import Role
from intake.core import settings
from intake.core.types import utcnow
from intake.extensions import db
from intake.patients.models import Trip
from intake.scheduling import queries
from intake.scheduling.demo import seed_scheduling
from intake.scheduling.models import Appointment
from tests.conftest import PASSWORD
from tests.e2e.conftest import DESKTOP, assert_accessible, log_in, shoot


def _offered_collection_days():
    now = utcnow()
    cal = queries.clinic_calendar()
    starts = queries.availability("collection", cal.today(now), 28, now, for_patient=True)
    return sorted(queries.starts_by_day(starts, cal.tz))


def _add_trip(page: Page, first, last, note: str) -> None:
    page.locator("#arrives_on").fill(first.isoformat())
    page.locator("#departs_on").fill(last.isoformat())
    page.locator("#note").fill(note)
    page.locator("main form button[type=submit]").last.click()


def test_a_travelling_patient_books_a_collection_that_fits_her_trip(
    app, live_server, page: Page, make_approved_patient, zh
):
    settings.seed_defaults()
    seed_scheduling(password=PASSWORD, with_bookings=False)
    db.session.commit()
    patient = make_approved_patient(full_name="林芳", locale="zh_Hans")
    email, patient_id = patient.email, patient.patient.id
    days = _offered_collection_days()
    first = days[0]
    miss = next(d for d in days if d > first + timedelta(days=14))

    log_in(page, live_server, email)
    page.goto(f"{live_server}/journey")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    page.locator('main a[href="/trips"]').click()
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("My trips to Japan"))
    expect(page.locator("#planned-trips")).to_have_text(zh("No trips planned."))
    assert_accessible(page)

    # A departure before the arrival: told beside the field, what was typed kept.
    _add_trip(page, first + timedelta(days=30), first + timedelta(days=20), "CA925")
    expect(page.locator("#departs_on-error")).to_have_text(
        zh("The departure must be on or after the arrival.")
    )
    expect(page.locator("#note")).to_have_value("CA925")
    assert_accessible(page)

    # Two trips: the cells of the first offered day are ready during the first.
    _add_trip(page, first + timedelta(days=28), first + timedelta(days=42), "CA925")
    expect(page.locator(".alert-success")).to_be_visible()
    _add_trip(page, first + timedelta(days=120), first + timedelta(days=130), "MU523")
    expect(page.locator("#planned-trips li")).to_have_count(2)
    assert_accessible(page)
    shoot(page, "trips-01-two-trips-zh")
    trips = db.session.execute(select(Trip).where(Trip.patient_id == patient_id)).scalars().all()
    assert len(trips) == 2

    # The collection booking marks the days.
    page.goto(f"{live_server}/book/collection")
    expect(page.locator("#trips-link")).to_contain_text(
        zh("Days are marked against your planned trips to Japan.")
    )
    fits = page.locator(f'main a[href="/book/collection?day={first}"] [data-fit="fits"]')
    expect(fits).to_contain_text(zh("Fits your trip %(dates)s").split("%")[0].strip())
    misses = page.locator(f'main a[href="/book/collection?day={miss}"] [data-fit="misses"]')
    expect(misses).to_be_visible()
    assert_accessible(page)
    shoot(page, "trips-02-days-marked-zh")

    # A day that misses: the confirmation warns and asks.
    page.locator(f'main a[href="/book/collection?day={miss}"]').click()
    page.locator('main a[href*="/book/collection?start="]').first.click()
    warning = page.locator("#trip-warning")
    expect(warning).to_contain_text(zh("This day does not fit the planned trips"))
    expect(page.get_by_label(zh("Book this day anyway"))).not_to_be_checked()
    assert_accessible(page)
    shoot(page, "trips-03-warning-zh")
    page.locator('main form button[type="submit"]').click()
    expect(page.locator(".alert-warning").first).to_contain_text(
        zh("This day does not fit your trips. Tick “Book this day anyway” to book it.")
    )
    expect(page.locator("#trip-warning")).to_be_visible()
    assert db.session.execute(select(Appointment)).first() is None

    # Another day, one that fits: booked at once.
    page.goto(f"{live_server}/book/collection?day={first}")
    page.locator('main a[href*="/book/collection?start="]').first.click()
    expect(page.locator("#trip-warning")).to_have_count(0)
    expect(page.locator("main [data-fit=fits]")).to_be_visible()
    assert_accessible(page)
    page.locator('main form button[type="submit"]').click()
    expect(page).to_have_url(f"{live_server}/visits")
    db.session.expire_all()
    appointment = db.session.execute(select(Appointment)).scalar_one()
    assert queries.clinic_calendar().local_date(appointment.start_at) == first


def test_the_coordinator_records_a_trip_and_sees_the_marks_at_the_desk(
    app, live_server, page: Page, make_user, make_approved_patient
):
    settings.seed_defaults()
    seed_scheduling(password=PASSWORD, with_bookings=False)
    db.session.commit()
    patient = make_approved_patient(full_name="Anna Smith", locale="en")
    coordinator = make_user(Role.COORDINATOR, locale="en")
    patient_id, email = patient.patient.id, coordinator.email
    first = _offered_collection_days()[0]

    page.set_viewport_size(DESKTOP)
    log_in(page, live_server, email)
    page.goto(f"{live_server}/patients/{patient_id}")
    page.locator(f'main a[href="/patients/{patient_id}/trips"]').click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Anna Smith")
    assert_accessible(page)
    _add_trip(page, first + timedelta(days=30), first + timedelta(days=40), "Phoned in")
    expect(page.locator("#planned-trips li")).to_have_count(1)
    page.locator("#planned-trips a").first.click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(page)

    page.goto(f"{live_server}/desk/book?patient_id={patient_id}&visit_type=collection")
    expect(page.locator("#trips-link")).to_contain_text("patient's planned trips")
    marked = page.locator(f'main a[href*="day={first}"] [data-fit="fits"]')
    expect(marked).to_contain_text("Fits the patient's trip")
    assert_accessible(page)
    shoot(page, "trips-04-desk-marks")
