"""The FHIR download in a real browser, on a phone, in Chinese: the patient
finds it on their own page, the doctor on the patient's record; the file
arrives as a FHIR bundle of the course. Every page passes axe."""

from __future__ import annotations

import json

from playwright.sync_api import Page, expect

from intake.accounts.roles import Role
from tests.e2e.conftest import assert_accessible, log_in, shoot
from tests.fhir.conftest import seed_course  # noqa: F401
from tests.scheduling.conftest import clinic  # noqa: F401


def test_the_patient_and_the_doctor_download_the_course_in_chinese(
    app,
    live_server,
    page: Page,
    seed_course,  # noqa: F811
    make_user,
    zh,
):
    seeded = seed_course(locale="zh_Hans", family_name="王", given_name="丽")
    course_id, patient_id, coi = seeded.course.id, seeded.patient.id, seeded.batch.coi
    patient_email = seeded.patient.user.email
    doctor_email = make_user(Role.DOCTOR, locale="zh_Hans").email

    log_in(page, live_server, patient_email)
    page.goto(f"{live_server}/me")
    link = page.get_by_role("link", name=zh("Download course %(n)s (FHIR)").replace("%(n)s", "1"))
    expect(link).to_be_visible()
    expect(page.locator("#records-h")).to_have_text(zh("My treatment records"))
    assert_accessible(page)
    shoot(page, "fhir-patient-page-zh")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == f"course-{course_id}-fhir.json"
    bundle = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert bundle["type"] == "collection" and coi in json.dumps(bundle, ensure_ascii=False)
    page.context.clear_cookies()

    log_in(page, live_server, doctor_email)
    page.goto(f"{live_server}/patients/{patient_id}")
    link = page.get_by_role("link", name=zh("Download as FHIR (JSON)"))
    expect(link).to_be_visible()
    assert_accessible(page)
    shoot(page, "fhir-record-page-zh")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == f"course-{course_id}-fhir.json"
