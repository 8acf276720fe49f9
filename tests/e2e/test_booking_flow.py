"""Booking in a real browser: an approved patient, on a phone and in Chinese,
books the collection visit (day → time → confirm), receives the confirmation
with its .ics file (in the outbox, and by the download link), sees the visit
and the reserved culture place on the journey page and on "My page", and the
coordinator's day list shows the visit. Every page passes axe."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from babel.dates import format_date, format_time
from icalendar import Calendar
from playwright.sync_api import Page, expect
from sqlalchemy import select

from intake.accounts.roles import Role
from intake.core import settings
from intake.extensions import db
from intake.notifications.models import Message
from intake.scheduling.demo import seed_scheduling
from intake.scheduling.models import Appointment, Hold
from tests.conftest import PASSWORD
from tests.e2e.conftest import assert_accessible, log_in

SHOTS = Path("/tmp/booking-shots")
PHONE_SHOTS = Path("/tmp/shots")  # the booked visit on the patient's own pages


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_approved_patient_books_the_collection_in_chinese(
    app, live_server, page: Page, browser, make_user, make_approved_patient, zh
):
    settings.seed_defaults()
    seed_scheduling(password=PASSWORD, with_bookings=False)
    db.session.commit()
    patient = make_approved_patient(full_name="王丽", locale="zh_Hans")
    coordinator = make_user(Role.COORDINATOR, full_name="Chen Mei", locale="en")
    patient_id, patient_email, coordinator_email = patient.id, patient.email, coordinator.email

    # --- the patient, on a phone, in Chinese
    log_in(page, live_server, patient_email)
    page.goto(f"{live_server}/visits")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    assert_accessible(page)
    page.locator('a[href="/book/collection"]').click()

    expect(page).to_have_url(f"{live_server}/book/collection")
    expect(page.get_by_role("heading", level=1)).to_contain_text("采集")
    expect(page.get_by_text("Asia/Tokyo").first).to_be_visible()
    days = page.locator('main a[href*="/book/collection?day="]')
    expect(days.first).to_be_visible()
    assert_accessible(page)
    shot(page, "01-book-collection-days-zh")
    days.first.click()

    times = page.locator('main a[href*="/book/collection?start="]')
    expect(times.first).to_be_visible()
    assert_accessible(page)
    shot(page, "02-book-collection-times-zh")
    times.first.click()

    confirm = page.locator('main form button[type="submit"]')
    expect(confirm).to_be_visible()
    start_value = page.locator('input[name="start"]').get_attribute("value")
    assert start_value.endswith("+09:00")
    assert_accessible(page)
    shot(page, "03-book-collection-confirm-zh")
    confirm.click()

    # --- back on "My visits": the booking and its calendar file
    expect(page).to_have_url(f"{live_server}/visits")
    expect(page.locator("main article")).to_have_count(1)
    expect(page.locator("main article h3")).to_contain_text("采集")
    assert_accessible(page)
    shot(page, "04-my-visits-zh")

    db.session.remove()
    appointment = db.session.execute(select(Appointment)).scalar_one()
    assert appointment.patient_id == patient_id and appointment.visit_type.code == "collection"
    assert appointment.start_at == datetime.fromisoformat(start_value)

    with page.expect_download() as download_info:
        page.locator(f'a[href="/visits/{appointment.id}.ics"]').click()
    download = download_info.value
    assert download.suggested_filename == f"visit-{appointment.id}.ics"
    downloaded = Calendar.from_ical(Path(download.path()).read_bytes()).walk("VEVENT")[0]
    assert str(downloaded["summary"]).startswith("采集")
    assert downloaded.decoded("dtstart") == appointment.start_at

    message = db.session.execute(
        select(Message).where(Message.user_id == patient_id, Message.template == "visit_booked")
    ).scalar_one()
    assert message.locale == "zh_Hans" and message.attachment_name.endswith(".ics")
    mailed = Calendar.from_ical(message.attachment_body).walk("VEVENT")[0]
    assert str(mailed["uid"]) == str(downloaded["uid"])
    assert mailed.decoded("dtstart") == appointment.start_at

    # --- the journey page and "My page" show the visit and the culture place
    zone = app_zone(app)
    local_start = appointment.start_at.astimezone(zone)
    visit_day = format_date(local_start.date(), "medium", locale="zh_Hans")
    visit_time = format_time(local_start, "short", locale="zh_Hans")
    held_days = sorted(
        {
            unit_start.astimezone(zone).date()
            for unit_start in db.session.execute(
                select(Hold.unit_start).where(
                    Hold.course_id == appointment.course_id, Hold.appointment_id.is_(None)
                )
            ).scalars()
        }
    )
    assert held_days and held_days[0] == local_start.date()
    # One place every day from the collection day on (the culture's weeks in the lab).
    assert held_days == [held_days[0] + timedelta(days=n) for n in range(len(held_days))]
    assert len(held_days) > 1
    first, last = (
        format_date(day, "medium", locale="zh_Hans") for day in (held_days[0], held_days[-1])
    )
    reserved = zh("Your culture place is reserved from %(first)s to %(last)s.") or (
        "Your culture place is reserved from %(first)s to %(last)s."
    )
    reserved = reserved.replace("%(first)s", first).replace("%(last)s", last)
    booked = zh("Your collection visit is booked") or "Your collection visit is booked"
    for path, name in (
        ("/journey", "journey-booked-collection-zh"),
        ("/me", "me-booked-collection-zh"),
    ):
        page.goto(f"{live_server}{path}")
        expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
        card = page.locator("#booked-collection")
        expect(card).to_be_visible()
        expect(card.locator("#collection-h")).to_have_text(booked)
        expect(card).to_contain_text(visit_day)
        expect(card).to_contain_text(visit_time)
        expect(card).to_contain_text("采集")
        expect(page.locator("#culture-place")).to_have_text(reserved)
        assert_accessible(page)
        PHONE_SHOTS.mkdir(parents=True, exist_ok=True)
        assert page.viewport_size["width"] == 390  # a phone
        page.screenshot(path=str(PHONE_SHOTS / f"{name}.png"), full_page=True)

    # --- the coordinator's day list, on a phone too
    desk = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
        device_scale_factor=2, locale="en-GB", timezone_id="Asia/Tokyo",
        reduced_motion="reduce",
    )  # fmt: skip
    desk_page = desk.new_page()
    try:
        log_in(desk_page, live_server, coordinator_email)
        day = appointment.start_at.astimezone(app_zone(app)).date()
        desk_page.goto(f"{live_server}/desk?day={day.isoformat()}")
        row = desk_page.locator("main li.list-group-item", has_text="王丽")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("Collection visit")
        expect(row).to_contain_text("Procedure room 1")
        assert_accessible(desk_page)
        shot(desk_page, "05-day-list-coordinator")
        row.get_by_role("link", name="王丽").click()
        expect(desk_page.get_by_role("heading", level=1)).to_contain_text("Collection visit")
        expect(desk_page.get_by_text("Incubator places")).to_be_visible()
        assert_accessible(desk_page)
        shot(desk_page, "06-visit-coordinator")
    finally:
        desk.close()


def app_zone(app):
    from zoneinfo import ZoneInfo

    return ZoneInfo(app.config["CLINIC_TIMEZONE"])


def test_collection_not_yet_possible_is_explained_kindly(app, live_server, page: Page, make_user):
    settings.seed_defaults()
    seed_scheduling(password=PASSWORD, with_bookings=False)
    db.session.commit()
    patient = make_user(Role.PATIENT, full_name="李伟", locale="zh_Hans")
    email = patient.email
    log_in(page, live_server, email)
    page.goto(f"{live_server}/book/collection")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    missing = page.locator("main .alert ul li")
    expect(missing.first).to_be_visible()
    assert missing.count() >= 3  # review, panel items, consent
    expect(page.locator('main a[href*="/book/collection?day="]')).to_have_count(0)
    assert_accessible(page)
    shot(page, "07-collection-not-yet-zh")


def test_scheduling_staff_pages_are_accessible(
    app, live_server, page: Page, make_user, make_approved_patient
):
    settings.seed_defaults()
    seed_scheduling(password=PASSWORD, with_bookings=False)
    db.session.commit()
    patient = make_approved_patient(full_name="Anna Smith")
    manager = make_user(Role.MANAGER, locale="en")
    coordinator = make_user(Role.COORDINATOR, locale="en")
    patient_id, email, desk_email = patient.id, manager.email, coordinator.email
    db.session.remove()
    # The manager sets the clinic up; booking is the front desk's (issue 11).
    log_in(page, live_server, email)
    setup_pages = [
        "/scheduling/resources",
        "/scheduling/resources/new",
        "/scheduling/resources/1",
        "/scheduling/visit-types",
        "/scheduling/visit-types/2",
        "/scheduling/closures",
        "/desk",
    ]
    desk_pages = [
        "/desk",
        "/desk/book?q=anna",
        f"/desk/book?patient_id={patient_id}",
        f"/desk/book?patient_id={patient_id}&visit_type=collection",
    ]
    for path in setup_pages:
        page.goto(f"{live_server}{path}")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert_accessible(page)
    page.context.clear_cookies()  # a fresh session for the front desk
    log_in(page, live_server, desk_email)
    for path in desk_pages:
        page.goto(f"{live_server}{path}")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert_accessible(page)
    page.locator('main a[href*="visit_type=collection&day="]').first.click()
    page.locator('main a[href*="start="]').first.click()
    assert_accessible(page)
    page.locator('main form button[type="submit"]').click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Collection visit")
    assert_accessible(page)
    shot(page, "08-desk-visit-booked-by-staff")
