"""Reinfusion dates in a real browser (issue 10, "Done when"): the coordinator
proposes two times; the patient, on a phone and in Chinese, confirms one on
their journey and then sees it locked with only "request a change" offered
(no reschedule or cancel anywhere); the coordinator moves it with a reason
and the lab's agreement, and the patient's inbox tells them. Every page
passes axe."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select

from intake.accounts.roles import Role
from intake.extensions import db
from intake.reinfusion.models import Dose, DoseStatus
from intake.scheduling.models import Appointment
from tests.cultures.conftest import make_batch  # noqa: F401
from tests.e2e.conftest import DESKTOP, assert_accessible, log_in, shoot
from tests.scheduling.conftest import clinic  # noqa: F401


def test_the_patient_confirms_in_chinese_and_the_coordinator_moves_the_locked_date(
    app,
    live_server,
    page: Page,
    browser,
    make_user,
    make_approved_patient,
    make_batch,  # noqa: F811
    clinic,  # noqa: F811
    zh,
):
    user = make_approved_patient(full_name="王丽", locale="zh_Hans")
    patient_email, patient_id = user.email, user.patient.id
    make_batch(patient=user.patient, days_ago=10)
    coordinator = make_user(Role.COORDINATOR, full_name="Chen Mei", locale="en")
    lab = make_user(Role.LAB, full_name="Tanaka Yui", locale="en")
    coordinator_email, lab_name = coordinator.email, lab.full_name

    # --- the coordinator proposes two times (desktop, English)
    desk = browser.new_context(viewport=DESKTOP, locale="en-GB", timezone_id="Asia/Tokyo")
    staff = desk.new_page()
    staff.set_default_timeout(10_000)
    log_in(staff, live_server, coordinator_email)
    staff.get_by_role("link", name="Reinfusion").first.click()
    expect(staff.get_by_role("heading", level=1)).to_have_text("Reinfusion")
    assert_accessible(staff)
    staff.locator("#waiting a.btn").first.click()
    expect(staff.get_by_role("heading", level=1)).to_have_text("Propose reinfusion dates")
    expect(staff.get_by_text("Asia/Tokyo").first).to_be_visible()
    assert_accessible(staff)
    days = staff.locator("#form-propose details")
    assert days.count() >= 2
    days.nth(0).locator('input[name="times"]').first.check()
    days.nth(1).locator("summary").click()
    days.nth(1).locator('input[name="times"]').first.check()
    shoot(staff, "reinfusion-01-propose")
    with staff.expect_navigation():
        staff.locator('#form-propose button[type="submit"]').click()
    expect(staff.locator(".alert-success")).to_be_visible()
    expect(staff.locator("#proposed article")).to_have_count(1)

    # --- the patient, on a phone, in Chinese, chooses a date
    log_in(page, live_server, patient_email)
    page.goto(f"{live_server}/journey")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    choose_title = zh("Choose your reinfusion date")
    expect(page.locator("#reinfusion-choose h2")).to_have_text(choose_title)
    assert_accessible(page)
    page.locator("#choose-date").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("My reinfusion"))
    confirm_buttons = page.locator("#reinfusion-choose form button")
    expect(confirm_buttons).to_have_count(2)
    assert_accessible(page)
    shoot(page, "reinfusion-02-choose-zh")
    with page.expect_navigation():
        confirm_buttons.first.click()

    # --- locked: only "request a change"
    locked = page.locator("#reinfusion-locked")
    expect(locked).to_be_visible()
    expect(locked.get_by_text(zh("Locked"))).to_be_visible()
    expect(page.locator("#request-change")).to_have_text(zh("Request a change"))
    expect(page.locator("#reinfusion-choose")).to_have_count(0)
    assert_accessible(page)
    shoot(page, "reinfusion-03-locked-zh")
    dose = db.session.execute(select(Dose).where(Dose.patient_id == patient_id)).scalar_one()
    assert dose.status == DoseStatus.CONFIRMED and dose.appointment.is_locked
    visit_id, first_start = dose.appointment_id, dose.appointment.start_at

    page.goto(f"{live_server}/journey")
    expect(page.locator("#reinfusion-locked #request-change")).to_be_visible()
    expect(page.locator('main a[href*="/reschedule"], main a[href*="/cancel"]')).to_have_count(0)
    assert_accessible(page)
    page.goto(f"{live_server}/visits")
    expect(page.locator(f'a[href="/visits/{visit_id}/reschedule"]')).to_have_count(0)
    expect(page.locator(f'a[href="/visits/{visit_id}/cancel"]')).to_have_count(0)
    expect(page.locator('[data-locked="1"]')).to_contain_text(zh("Request a change"))
    assert_accessible(page)

    # --- the coordinator moves it, with a reason and the lab's agreement
    staff.goto(f"{live_server}/reinfusion")
    confirmed = staff.locator("#confirmed article")
    expect(confirmed).to_have_count(1)
    confirmed.locator("a.btn").click()
    expect(staff.get_by_role("heading", level=1)).to_have_text("Move a locked reinfusion date")
    assert_accessible(staff)
    staff.locator("#start").select_option(index=1)
    staff.locator("#reason").fill("The patient's flight was changed")
    staff.locator("#lab").select_option(label=lab_name)
    shoot(staff, "reinfusion-04-move")
    with staff.expect_navigation():
        staff.locator('#form-move button[type="submit"]').click()
    expect(staff.locator(".alert-success")).to_be_visible()
    desk.close()
    db.session.expire_all()
    moved = db.session.get(Appointment, visit_id)
    assert moved.start_at != first_start and moved.is_locked

    # --- the patient's inbox tells them
    page.goto(f"{live_server}/messages/")
    subject = zh("New date for your reinfusion")
    message = page.get_by_role("link", name=subject).first
    expect(message).to_be_visible()
    assert_accessible(page)
    message.click()
    expect(page.get_by_text("The patient's flight was changed")).to_be_visible()
    assert_accessible(page)
    shoot(page, "reinfusion-05-inbox-zh")
