"""The lab in a real browser (issue 9, "Done when"): a lab user receives the
tissue, starts the culture, records a passage, a cell count and a passing QC
set, opens the printable label, releases the batch; the patient's journey
page, in Chinese, then shows that the cells are ready. Every page passes axe."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect

from intake.accounts.roles import Role
from intake.core.types import utcnow
from intake.cultures.lifecycle import BatchState
from intake.cultures.models import Batch
from intake.extensions import db
from tests.cultures.conftest import make_batch  # noqa: F401
from tests.e2e.conftest import DESKTOP, assert_accessible, log_in, shoot
from tests.scheduling.conftest import clinic  # noqa: F401

QC_SET = (
    ("sterility", "negative"),
    ("mycoplasma", "negative"),
    ("endotoxin", "0.1"),
    ("viability", "92"),
    ("cell_count", "150000000"),
)


def _record(page: Page, kind: str, when: str, **fields) -> None:
    """Open the entry's form on the batch page, fill it and save."""
    box = page.locator(f"#form-{kind}")
    if box.get_attribute("open") is None:
        box.locator("summary").click()
    box.locator('[name="occurred_at"]').fill(when)
    for name, value in fields.items():
        field = box.locator(f'[name="{name}"]')
        if name == "qc_item":
            field.select_option(value)
        else:
            field.fill(value)
    with page.expect_navigation():
        box.locator('button[type="submit"]').click()
    expect(page.locator(".alert-success")).to_be_visible()


def _step(page: Page, target: str) -> None:
    with page.expect_navigation():
        page.locator(f'#steps [data-target="{target}"] button[type="submit"]').click()
    expect(page.locator(".alert-success")).to_be_visible()


def test_the_lab_grows_labels_and_releases_a_batch_and_the_patient_sees_it_ready(
    app,
    live_server,
    page: Page,
    make_user,
    make_approved_patient,
    make_batch,  # noqa: F811
    clinic,  # noqa: F811
    zh,  # noqa: F811
):
    page.set_viewport_size(DESKTOP)
    user = make_approved_patient(locale="zh_Hans")
    patient_email = user.email
    batch = make_batch(patient=user.patient, days_ago=30, received=False, state=BatchState.RECEIVED)
    batch_id, number, start = batch.id, batch.coi, batch.appointment.start_at
    lab = make_user(Role.LAB, full_name="Tanaka Yui", locale="en")
    tz = clinic.cal.tz

    def local(days: int, hours: int = 2) -> str:
        instant = min(start + timedelta(days=days, hours=hours), utcnow() - timedelta(hours=1))
        return instant.astimezone(tz).strftime("%Y-%m-%dT%H:%M")

    # --- the lab receives the tissue and serum
    log_in(page, live_server, lab.email)
    page.goto(f"{live_server}/lab/batches/{batch_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)
    assert_accessible(page)
    form = page.locator("#form-receive")
    form.locator('[name="received_by"]').fill("Tanaka Yui")
    form.locator('[name="occurred_at"]').fill(local(0))
    form.locator('[name="condition"]').fill("Tissue intact, serum clear, 4 °C")
    with page.expect_navigation():
        form.locator('button[type="submit"]').click()
    expect(page.locator('#timeline [data-kind="receipt"]')).to_have_count(1)

    # --- the culture: started, a passage, a count
    _step(page, "in_culture")
    _record(page, "passage", local(3), passage_number="1")
    _record(page, "cell_count", local(20), cells="150000000", viability_percent="92")
    expect(page.locator("#timeline")).to_contain_text("150,000,000 cells")
    assert_accessible(page)
    _step(page, "harvest_ready")
    _step(page, "qc_pending")

    # --- a passing QC set: the release button opens
    for item, value in QC_SET:
        _record(page, "qc_result", local(25), qc_item=item, qc_value=value)
    expect(page.locator('#timeline [data-kind="qc_result"]')).to_have_count(5)
    expect(page.locator('#steps [data-target="released"] button[type="submit"]')).to_be_enabled()
    shoot(page, "lab-01-batch-qc-passed")

    # --- the label: the number, its QR code, both identifiers
    with page.expect_navigation():
        page.locator("#label-link").click()
    expect(page.locator(".label-coi")).to_have_text(number)
    expect(page.locator(".label-qr svg")).to_be_visible()
    expect(page.locator(".label-dob")).to_contain_text("1970-01-01")
    assert_accessible(page)
    shoot(page, "lab-02-label-62mm")
    page.emulate_media(media="print")
    expect(page.locator(".label-toolbar")).to_be_hidden()
    page.emulate_media(media="screen")
    page.get_by_role("link", name="A4 sheet of labels").click()
    expect(page.locator(".label")).to_have_count(14)
    assert_accessible(page)
    page.go_back()
    page.go_back()

    # --- release
    expect(page).to_have_url(f"{live_server}/lab/batches/{batch_id}")
    _step(page, "released")
    expect(page.locator("#state")).to_have_text("Released")
    assert_accessible(page)
    db.session.expire_all()
    assert db.session.get(Batch, batch_id).state == BatchState.RELEASED

    # --- the patient, in Chinese: the cells are ready
    page.context.clear_cookies()
    log_in(page, live_server, patient_email)
    page.goto(f"{live_server}/journey")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    ready = zh("Your cells are ready.")
    assert ready
    expect(page.locator("#your-cells")).to_contain_text(ready)
    expect(page.locator("main")).not_to_contain_text(number)
    assert_accessible(page)
    shoot(page, "lab-03-journey-ready-zh")
