"""The manager's pipeline and deadlines in a real browser (issue 11, "Done
when"): from the overview, the pipeline's numbers, a stage's list and the
patient record it links to, then the deadlines; at phone width and on a
laptop. Every page passes axe (no serious or critical violation)."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from intake.accounts.roles import Role
from intake.extensions import db
from intake.manager import pipeline as p
from tests.e2e.conftest import DESKTOP, assert_accessible, log_in, shoot
from tests.manager.pipeline_fixtures import Courses
from tests.scheduling.conftest import clinic  # noqa: F401


def _world(clinic):  # noqa: F811
    courses = Courses(clinic)
    for stage in p.STAGES:
        courses.at(stage, name="山田")
    for week in (1, 3, 3, 5, 7):
        courses.at(p.IN_CULTURE, week=week, name="王")
    first = courses.at(p.IN_FOLLOW_UP, name="Smith")
    courses.adverse_event(first, due_in=4)
    booked = courses.at(p.APPROVED, name="佐藤")
    courses.panel(booked, days_ago=85)
    courses.visit(booked, "collection", courses.today + timedelta(days=20))
    courses.withdrawn_consent(courses.at(p.HALTED, name="Chen"), days_ago=1)
    db.session.commit()
    return courses


def test_the_manager_reads_the_pipeline_and_the_deadlines(
    app,
    live_server,
    page: Page,
    make_user,
    clinic,  # noqa: F811
):
    _world(clinic)
    manager = make_user(Role.MANAGER, full_name="Kobayashi Mei", locale="en")
    log_in(page, live_server, manager.email)

    # --- phone width: from the overview to the pipeline
    page.goto(f"{live_server}/manager")
    with page.expect_navigation():
        page.locator("#pipeline-h a").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pipeline")
    expect(page.locator('[data-stage="in_culture"] .stage-count')).to_have_text("6")
    expect(page.locator('[data-week="3"] .week-count')).to_have_text("2")
    assert_accessible(page)
    shoot(page, "manager-01-pipeline-phone")

    # --- a number opens its list; the list links to the patient record
    with page.expect_navigation():
        page.locator('[data-week="3"] a').click()
    expect(page).to_have_url(re.compile(r"/manager/pipeline/in_culture\?week=3$"))
    expect(page.locator("#stage-list tbody tr")).to_have_count(2)
    assert_accessible(page)
    shoot(page, "manager-02-in-culture-week-3-phone")
    with page.expect_navigation():
        page.locator("#stage-list tbody tr a").first.click()
    expect(page).to_have_url(re.compile(r"/patients/\d+$"))

    # --- the deadlines, most urgent first
    page.goto(f"{live_server}/manager/deadlines")
    items = page.locator("#deadlines .deadline")
    expect(items.first).to_have_attribute("data-urgency", "overdue")
    dues = [items.nth(i).get_attribute("data-due") for i in range(items.count())]
    assert dues == sorted(dues)
    kinds = {items.nth(i).get_attribute("data-kind") for i in range(items.count())}
    assert {"adverse_event", "batch_at_risk", "panel_expiring", "consent_withdrawn"} <= kinds
    assert_accessible(page)
    shoot(page, "manager-03-deadlines-phone")

    # --- on a laptop
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server}/manager/pipeline")
    expect(page.locator("#pipeline-total")).to_have_text(str(len(p.STAGES) + 5 + 3))
    shoot(page, "manager-04-pipeline-laptop")
    assert_accessible(page)
    page.goto(f"{live_server}/manager/pipeline/collection_booked")
    assert_accessible(page)
    shoot(page, "manager-05-collection-booked-laptop")
    page.goto(f"{live_server}/manager/deadlines")
    assert_accessible(page)
    shoot(page, "manager-06-deadlines-laptop")
