"""After the reinfusion in a real browser: a patient opens the follow-up
questions from the journey and answers them in Chinese on a phone; the
coordinator sees the answers flagged; a doctor records a life-threatening
adverse event and the manager's list shows it due in 7 days; the lab
confirms telling the CPC. Every page passes axe."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from intake.accounts.roles import Role
from intake.extensions import db
from intake.reinfusion import aftercare_services
from tests.cultures.conftest import make_batch  # noqa: F401
from tests.e2e.conftest import DESKTOP, assert_accessible, log_in, shoot
from tests.reinfusion.aftercare_fixtures import make_administration  # noqa: F401
from tests.scheduling.conftest import clinic  # noqa: F401


def _log_out(page: Page) -> None:
    """A new person at the browser (the phone's menu hides the log-out button)."""
    page.context.clear_cookies()


def test_follow_up_in_chinese_and_a_life_threatening_event_due_in_7_days(
    app,
    live_server,
    page: Page,
    make_user,
    make_administration,  # noqa: F811
    clinic,  # noqa: F811
    zh,
):
    user = make_user(Role.PATIENT, locale="zh_Hans", family_name="王", given_name="丽")
    administration = make_administration(days_ago=9, patient=user.patient)
    week = aftercare_services.schedule_follow_ups(administration, actor=None)[0]
    db.session.commit()
    week_id, patient_id, patient_email = week.id, user.patient.id, user.email
    coordinator = make_user(Role.COORDINATOR, full_name="Sato Mika")
    doctor = make_user(Role.DOCTOR, full_name="Dr Ito")
    manager = make_user(Role.MANAGER, full_name="Kato Ken")
    lab = make_user(Role.LAB, full_name="Tanaka Yui")
    emails = {u.role: u.email for u in (coordinator, doctor, manager, lab)}

    # --- the patient, on a phone, in Chinese
    log_in(page, live_server, patient_email)
    page.goto(f"{live_server}/journey")
    panel = page.locator("#follow-up-panel")
    expect(panel).to_contain_text(zh("How are you feeling?"))
    assert_accessible(page)
    with page.expect_navigation():
        panel.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(rf"/follow-ups/{week_id}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("How are you feeling?"))
    assert_accessible(page)
    # sent without the required answers: told beside each question
    with page.expect_navigation():
        page.get_by_role("button", name=zh("Send my answers")).click()
    expect(page.locator("#q-feeling-error")).to_be_visible()
    expect(page.locator("#q-doctor_visit-error")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("差一些").check()
    page.get_by_label("发烧").check()
    page.locator("#q-doctor_visit").get_by_label("是").check()
    page.locator("#q-doctor_visit_detail").fill("在当地医院住院两天")
    shoot(page, "aftercare-questions-zh")
    with page.expect_navigation():
        page.get_by_role("button", name=zh("Send my answers")).click()
    expect(page.locator(".alert-success")).to_contain_text(
        zh("Thank you. Your answers have been sent to the clinic.")
    )
    expect(page.locator("main")).to_contain_text("在当地医院住院两天")
    expect(page.locator("main form")).to_have_count(0)
    assert_accessible(page)
    _log_out(page)

    # --- the coordinator sees the answers flagged
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server, emails[Role.COORDINATOR])
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reinfusion").click()
    page.get_by_role("navigation", name="Reinfusion").get_by_role(
        "link", name="Follow-ups", exact=True
    ).click()
    row = page.locator(f"#follow-up-{week_id}")
    expect(row).to_contain_text("May be an adverse event")
    expect(row).to_contain_text("Saw a doctor or was admitted to hospital")
    assert_accessible(page)
    _log_out(page)

    # --- the doctor records a life-threatening event from the record
    log_in(page, live_server, emails[Role.DOCTOR])
    page.goto(f"{live_server}/patients/{patient_id}")
    with page.expect_navigation():
        page.get_by_role("link", name="Record an adverse event").click()
    assert_accessible(page)
    today = clinic.today.isoformat()
    page.get_by_label("What happened").fill("Admitted with high fever and hypotension")
    page.get_by_label("Began on").fill(today)
    page.get_by_label("The clinic learnt of it on").fill(today)
    page.get_by_label("Seriousness").select_option("life_threatening")
    with page.expect_navigation():
        page.get_by_role("button", name="Record the event").click()
    expect(page.locator(".alert-success")).to_contain_text("Report it by")
    expect(page.locator("#aftercare-panel")).to_contain_text("Life-threatening")
    _log_out(page)

    # --- the manager's list: due in 7 days
    log_in(page, live_server, emails[Role.MANAGER])
    page.goto(f"{live_server}/manager")
    expect(page.locator("#ae-reports")).to_contain_text("1 report open")
    with page.expect_navigation():
        page.locator("#ae-reports").get_by_role("link", name="Adverse events").click()
    event = page.locator("#open-events li").first
    expect(event).to_contain_text("Admitted with high fever and hypotension")
    expect(event).to_contain_text("Due in 7 days")
    expect(event).to_contain_text("CPC not yet told")
    shoot(page, "aftercare-manager-events")
    assert_accessible(page)
    _log_out(page)

    # --- the lab confirms telling the CPC
    log_in(page, live_server, emails[Role.LAB])
    page.get_by_role("link", name="Events to tell the CPC").click()
    expect(page.locator("#cpc-events")).to_contain_text("Admitted with high fever")
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("button", name="The CPC has been told").click()
    expect(page.locator("main")).to_contain_text("Nothing to tell the CPC.")
    assert_accessible(page)
