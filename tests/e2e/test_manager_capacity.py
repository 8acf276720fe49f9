"""The manager reads capacity ahead in a real browser (issue 11, "Done when"):
the charts with their tables on a laptop and on a phone, reached from the
navigation; then makes a calendar feed and revokes it. Every page passes axe
(0 serious or critical); screenshots go to /tmp/e2e-shots."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from playwright.sync_api import Page, expect

from intake.accounts.roles import Role
from intake.extensions import db
from intake.reinfusion.models import Dose, DoseStatus
from intake.scheduling import services
from intake.scheduling.models import Appointment, Closure
from tests.cultures import conftest as culture_fixtures
from tests.e2e.conftest import DESKTOP, PHONE, assert_accessible, log_in, shoot
from tests.scheduling import conftest as scheduling_fixtures

clinic = scheduling_fixtures.clinic
coordinator = scheduling_fixtures.coordinator
make_batch = culture_fixtures.make_batch


def _busy_clinic(clinic, coordinator, make_batch, make_approved_patient):
    """Cultures at several days, a planned route, confirmed reinfusion dates,
    a collection holding an incubator place, and a closure."""
    for n, days_ago in enumerate((5, 9, 12, 16, 19, 21, 24, 26)):
        batch = make_batch(days_ago=days_ago)
        if n % 3 == 1:
            db.session.add(
                Dose(
                    course=batch.course,
                    patient=batch.patient,
                    batch=batch,
                    number=1,
                    route="iv" if n % 2 else "local",
                    planned_cells=100_000_000,
                    status=DoseStatus.PLANNED,
                )
            )
    for n in range(6):
        day = clinic.day(min_days=15 + 2 * n)
        start = datetime.combine(day, time(10), tzinfo=clinic.cal.tz).astimezone(UTC)
        patient = make_approved_patient().patient
        from intake.patients.services import current_course

        db.session.add(
            Appointment(
                patient=patient,
                course=current_course(patient),
                visit_type=clinic.visit_type("reinfusion-iv" if n % 2 else "reinfusion-local"),
                start_at=start,
                end_at=start + timedelta(minutes=90),
            )
        )
    collection_day = clinic.day(min_days=3)
    services.book_visit(
        make_approved_patient().patient,
        "collection",
        clinic.at(collection_day, "10:00"),
        actor=coordinator,
    )
    services.book_visit(
        make_approved_patient().patient,
        "consultation",
        clinic.at(collection_day, "14:00"),
        actor=coordinator,
    )
    closed = clinic.day(min_days=24)
    db.session.add(
        Closure(
            start_at=clinic.cal.day_start(closed),
            end_at=clinic.cal.day_start(closed + timedelta(days=2)),
            reason="Renovation",
        )
    )
    db.session.commit()


def test_the_manager_reads_capacity_ahead_and_manages_a_feed(
    app,
    live_server,
    page: Page,
    make_user,
    make_approved_patient,
    clinic,
    coordinator,
    make_batch,
):
    _busy_clinic(clinic, coordinator, make_batch, make_approved_patient)
    manager = make_user(Role.MANAGER, full_name="Suzuki Ken", locale="en")

    page.set_viewport_size(DESKTOP)
    log_in(page, live_server, manager.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Capacity").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Capacity ahead")
    for chart in ("demand-chair", "demand-room", "places", "usage"):
        expect(page.locator(f'svg[data-chart="{chart}"]')).to_be_visible()
        expect(page.locator(f"#{chart}-table")).to_be_attached()
    assert page.locator('svg[data-chart="places"] rect[data-series="used"]').count() > 0
    assert page.locator('svg[data-chart="demand-room"] [data-capacity]').count() == 1
    expect(page.locator("#closed-days")).to_be_visible()
    shoot(page, "manager-capacity-laptop")
    assert_accessible(page)

    page.set_viewport_size(PHONE)
    page.reload()
    expect(page.locator('svg[data-chart="demand-chair"]')).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, "the page scrolls sideways on a phone"
    svg_box = page.locator('svg[data-chart="places"]').bounding_box()
    assert svg_box and svg_box["width"] <= PHONE["width"]
    shoot(page, "manager-capacity-phone")
    page.locator("figure").first.screenshot(path="/tmp/e2e-shots/manager-capacity-phone-chart.png")
    assert_accessible(page)

    # --- a calendar feed for a doctor, shown once, then revoked
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server}/manager")
    page.get_by_role("link", name="Calendar feeds").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Calendar feeds")
    assert_accessible(page)
    page.get_by_label("Resource or staff member").select_option(label="Dr. Sato Hiroshi (Staff)")
    page.get_by_label("Note (who uses it)").fill("Dr Sato's phone")
    with page.expect_navigation():
        page.get_by_role("button", name="Make the feed").click()
    address = page.get_by_label("Feed address").input_value()
    assert "/feeds/" in address and address.endswith(".ics")
    assert_accessible(page)
    shoot(page, "manager-feed-made")
    feed = page.request.get(address.replace("http://127.0.0.1:5000", live_server))
    assert feed.status == 200 and "BEGIN:VCALENDAR" in feed.text()
    page.get_by_role("link", name="Back to the calendar feeds").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Revoke").click()
    expect(page.locator(".alert-success")).to_contain_text("Feed revoked")
    assert page.request.get(address.replace("http://127.0.0.1:5000", live_server)).status == 404
    shoot(page, "manager-feeds")
