"""The manager's schedule in a real browser (issue 11): the week view on a
laptop (the grid, every lane, the incubator places, a click through to the
visit), the day view, the phone width (a list per day instead of the grid),
and axe finds nothing serious or critical on any of them."""

# ruff: noqa: F811 - the ``clinic`` fixture is imported, then named by the tests

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect

from intake.accounts.roles import Role
from tests.e2e.conftest import DESKTOP, PHONE, assert_accessible, log_in, shoot
from tests.manager.test_schedule_views import MONDAY, add_visit, hold_places
from tests.scheduling.conftest import clinic  # noqa: F401


def test_the_manager_reads_the_week_on_a_laptop_and_a_phone(
    app, live_server, page: Page, make_user, make_patient, clinic
):
    wang = make_patient(family_name="王", given_name="丽")
    smith = make_patient(family_name="Smith", given_name="Anna")
    wed = MONDAY + timedelta(days=2)
    collection = add_visit(
        clinic, wang, "collection", wed, "10:00", 60, ("procedure-room-1", "dr-sato", "nurse-chen")
    )
    add_visit(clinic, smith, "reinfusion-iv", wed, "10:30", 90, ("infusion-chair",))
    add_visit(clinic, smith, "consultation", wed + timedelta(days=1), "14:00", 30, ("dr-sato",))
    hold_places(clinic, wang, wed, 3)
    collection_id = collection.id
    manager = make_user(Role.MANAGER, full_name="Mori Kenji")

    page.set_viewport_size(DESKTOP)
    log_in(page, live_server, manager.email)
    page.get_by_role("link", name="Schedule").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Schedule")
    page.goto(f"{live_server}/manager/schedule?view=week&date={MONDAY.isoformat()}")
    grid = page.locator('[data-layout="grid"]')
    expect(grid).to_be_visible()
    expect(page.locator('[data-layout="list"]')).to_be_hidden()
    expect(grid.locator(f'[data-visit="{collection_id}"]')).to_have_count(3)
    expect(grid.get_by_text("1 of 40 in use")).to_have_count(3)
    expect(grid.get_by_role("columnheader").nth(3)).to_contain_text("3")
    shoot(page, "manager-schedule-week-laptop")
    assert_accessible(page)

    # Click through to the visit.
    with page.expect_navigation():
        grid.locator(f'[data-visit="{collection_id}"] a').first.click()
    expect(page).to_have_url(f"{live_server}/desk/visits/{collection_id}")
    expect(page.get_by_text("王丽").first).to_be_visible()

    # The day view: a time grid.
    page.goto(f"{live_server}/manager/schedule?view=day&date={wed.isoformat()}")
    expect(page.locator("table.schedule-day")).to_be_visible()
    expect(page.locator('td[rowspan="4"] [data-visit]').first).to_be_visible()
    assert_accessible(page)
    shoot(page, "manager-schedule-day-laptop")

    # The month view.
    page.goto(f"{live_server}/manager/schedule?view=month&date={wed.isoformat()}")
    expect(page.locator("table.schedule-month")).to_be_visible()
    assert_accessible(page)

    # A phone: a list per day, no grid.
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/manager/schedule?view=week&date={MONDAY.isoformat()}")
    listing = page.locator('[data-layout="list"]')
    expect(listing).to_be_visible()
    expect(page.locator('[data-layout="grid"]')).to_be_hidden()
    expect(listing.locator("section")).to_have_count(7)
    expect(listing.locator(f'[data-visit="{collection_id}"]')).to_have_count(1)
    expect(listing.get_by_text("Procedure room 1")).to_be_visible()
    box = listing.bounding_box()
    assert box is not None and box["width"] <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible(page)
    shoot(page, "manager-schedule-week-phone")

    # On paper: the grid again, without the navigation.
    page.emulate_media(media="print")
    expect(page.locator('[data-layout="grid"]')).to_be_visible()
    expect(page.locator("header nav")).to_be_hidden()
    page.emulate_media(media="screen")
