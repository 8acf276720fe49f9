# ruff: noqa: F811  (fixtures are imported from day_support, not a conftest shared with other work)
"""The reinfusion day in a real browser, at phone width (issue 10, point 3):
the coordinator checks the patient in at the desk from the day's list; the
doctor signs the clearance with the vital signs and their password; the
bedside identity check first reads another patient's label (MISMATCH: the
administration stays blocked), then the right one (MATCH); the doctor
records the administration and the visit is done. Every page passes axe."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect

from intake.accounts.roles import Role
from intake.core.types import utcnow
from intake.cultures.lifecycle import BatchState
from intake.extensions import db
from intake.reinfusion.models import Administration, DoseStatus
from tests.e2e.conftest import assert_accessible, log_in, shoot
from tests.reinfusion.day_support import (  # noqa: F401
    CELLS,
    DOB,
    clinic,
    coordinator,
    day_patient,
    lab,
    make_batch,
    make_day_visit,
    manager,
)


def _submit(page: Page, form: str) -> None:
    with page.expect_navigation():
        page.locator(f"#{form} button[type=submit]").click()


def test_check_in_clearance_bedside_check_and_administration(
    app, live_server, page: Page, make_user, make_patient, make_day_visit, make_batch, clinic
):
    visit = make_day_visit(today=True)
    other = make_batch(patient=make_patient(with_login=False), state=BatchState.RELEASED)
    other_coi, right_coi = other.coi, visit.batch.coi
    appointment_id, dose_id = visit.appointment.id, visit.dose.id
    name = visit.patient.full_name
    desk = make_user(Role.COORDINATOR, full_name="Suzuki Aya")
    doctor = make_user(Role.DOCTOR, full_name="Dr Mori")
    manager = make_user(Role.MANAGER)
    url = f"{live_server}/reinfusion/visits/{appointment_id}"

    # --- the desk: today's reinfusions, then check-in at the desk
    log_in(page, live_server, desk.email)
    page.goto(f"{live_server}/reinfusion/today")
    expect(page.get_by_role("heading", level=1)).to_have_text("Reinfusions today")
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("link", name=name).click()
    expect(page.locator("#blockers")).to_contain_text("The patient has not been checked in.")
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Check in at the desk").click()
    with page.expect_navigation():
        page.locator("form button", has_text="Check in").first.click()
    page.goto(url)
    expect(page.locator("#checkin-status")).to_have_text("Arrived")
    page.context.clear_cookies()

    # --- the doctor's clearance: a pressure out of range first, then signed
    log_in(page, live_server, doctor.email)
    page.goto(url)
    expect(page.locator("#form-administration button[type=submit]")).to_be_disabled()
    form = page.locator("#form-clearance")
    for field, value in (
        ("systolic", "400"),
        ("diastolic", "78"),
        ("pulse", "72"),
        ("temperature_c", "36.6"),
        ("spo2", "98"),
    ):
        form.locator(f'[name="{field}"]').fill(value)
    form.get_by_label("Cleared: go ahead today").check()
    form.locator('[name="password"]').fill("Correct-Horse-9")
    _submit(page, "form-clearance")
    expect(page.locator("#systolic-error")).to_have_text(
        "Enter the systolic blood pressure, 60 to 260 mmHg."
    )
    assert_accessible(page)
    form = page.locator("#form-clearance")
    form.locator('[name="systolic"]').fill("124")
    form.locator('[name="password"]').fill("Correct-Horse-9")
    _submit(page, "form-clearance")
    expect(page.locator("#clearance-result")).to_have_text("Cleared")

    # --- the bedside check: another patient's label blocks and alerts
    bedside = page.locator("#form-bedside")
    bedside.locator('[name="label"]').fill(other_coi)
    bedside.locator('[name="name"]').fill("Wang Li")
    bedside.locator('[name="date_of_birth"]').fill(DOB.isoformat())
    _submit(page, "form-bedside")
    expect(page.locator("#bedside-result")).to_have_attribute("data-result", "mismatch")
    expect(page.locator("#blockers")).to_contain_text("did not match")
    expect(page.locator("#form-administration button[type=submit]")).to_be_disabled()
    shoot(page, "reinfusion-day-mismatch")
    assert_accessible(page)
    # ... then the right label
    bedside = page.locator("#form-bedside")
    bedside.locator('[name="label"]').fill(right_coi)
    bedside.locator('[name="name"]').fill("王丽")
    bedside.locator('[name="date_of_birth"]').fill(DOB.isoformat())
    _submit(page, "form-bedside")
    expect(page.locator("#bedside-result")).to_have_attribute("data-result", "match")
    expect(page.locator("#blockers")).to_have_count(0)

    # --- the administration
    tz = clinic.cal.tz
    now = utcnow()

    def local(minutes: int) -> str:
        return (now - timedelta(minutes=minutes)).astimezone(tz).strftime("%Y-%m-%dT%H:%M")

    form = page.locator("#form-administration")
    form.locator('[name="cells_given"]').fill(str(CELLS))
    form.locator('[name="started_at"]').fill(local(100))
    form.locator('[name="ended_at"]').fill(local(60))
    form.locator('[name="observed_until"]').fill(local(25))
    for field, value in (
        ("systolic_after", "118"),
        ("diastolic_after", "76"),
        ("pulse_after", "70"),
        ("temperature_c_after", "36.7"),
        ("spo2_after", "98"),
    ):
        form.locator(f'[name="{field}"]').fill(value)
    _submit(page, "form-administration")
    expect(page.locator("main > .alert-success")).to_contain_text("The administration is recorded.")
    expect(page.locator("#administration-result")).to_have_text("Given")
    shoot(page, "reinfusion-day-given")
    assert_accessible(page)

    administration = db.session.query(Administration).one()
    assert administration.dose_id == dose_id and administration.cells_given == CELLS
    assert administration.dose.status == DoseStatus.ADMINISTERED
    assert administration.dose.batch.state == BatchState.ADMINISTERED
    assert manager.id  # alerted with the lab on the mismatch (checked in the service tests)
