"""The collection waitlist in a real browser: every collection day is full
(one incubator place, held by another patient's collection); an approved
patient, on a phone, switches to Chinese, sees no free day, joins the
waitlist for the week that suits them; the other patient's collection is
cancelled, which offers the freed day; the waiting patient finds the offer
in their inbox, in Chinese, follows its link and accepts: the collection is
booked. Every page passes axe."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from intake.accounts.models import User
from intake.core import settings
from intake.extensions import db
from intake.notifications.models import Message
from intake.scheduling import services, waitlist_services
from intake.scheduling import waitlist as rules
from intake.scheduling.models import Appointment, AppointmentStatus, WaitlistOffer
from tests.e2e.conftest import assert_accessible, log_in, shoot
from tests.e2e.test_accounts_flow import open_menu
from tests.scheduling.conftest import clinic, coordinator, manager  # noqa: F401

TUESDAY = 1


def _text(zh, msgid: str) -> str:
    translated = zh(msgid)
    assert translated, f"no Chinese for {msgid!r}"
    return translated


def test_a_patient_waits_in_chinese_and_accepts_a_freed_day(
    app,
    live_server,
    page: Page,
    clinic,  # noqa: F811
    manager,  # noqa: F811
    coordinator,  # noqa: F811
    make_approved_patient,
    zh,
):
    settings.update_settings({"incubator_places": "1", "horizon_days": "30"}, actor=manager)
    db.session.commit()
    holder = make_approved_patient()
    day = clinic.day(weekday=TUESDAY)
    held = services.book_visit(
        holder.patient, "collection", clinic.at(day, "10:00"), actor=coordinator
    )
    db.session.commit()
    held_id, coordinator_id = held.id, coordinator.id
    week = rules.week_of(day)
    waiting = make_approved_patient(full_name="李明", locale="en")
    waiting_id, waiting_email = waiting.id, waiting.email

    # --- the waiting patient, on a phone, switches to Chinese
    log_in(page, live_server, waiting_email)
    page.goto(f"{live_server}/visits")
    open_menu(page)
    with page.expect_navigation():
        page.locator("#lang-select").select_option("zh_Hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")

    # --- no free collection day: the booking page leads to the waitlist
    page.goto(f"{live_server}/book/collection")
    full = page.locator("#waitlist-full")
    expect(full).to_be_visible()
    expect(full).to_contain_text(
        _text(zh, "All collection days are full for now, as far ahead as bookings open.")
    )
    expect(page.locator('main a[href*="/book/collection?day="]')).to_have_count(0)
    assert_accessible(page)
    shoot(page, "waitlist-01-full-zh")
    full.get_by_role("link", name=_text(zh, "Join the waitlist")).click()

    # --- the join page: the weeks, one chosen
    expect(page).to_have_url(f"{live_server}/waitlist/join/collection")
    expect(page.get_by_role("heading", level=1)).to_have_text(_text(zh, "Join the waitlist"))
    assert_accessible(page)
    # Sent without a week: the message beside the weeks, in Chinese.
    page.locator('main form button[type="submit"]').click()
    expect(page.locator("#weeks-error")).to_contain_text(
        _text(zh, "Choose at least one of the weeks listed.")
    )
    assert_accessible(page)
    page.locator(f"#week-{week.isoformat()}").check()
    shoot(page, "waitlist-02-join-zh")
    page.locator('main form button[type="submit"]').click()

    expect(page).to_have_url(f"{live_server}/waitlist")
    expect(page.locator("[data-position]")).to_have_attribute("data-position", "1")
    assert_accessible(page)
    shoot(page, "waitlist-03-waiting-zh")

    # --- the other patient's collection is cancelled: the day is offered
    db.session.remove()
    visit = db.session.get(Appointment, held_id)
    desk = db.session.get(User, coordinator_id)
    services.cancel_visit(visit, actor=desk, reason="The patient cannot travel")
    db.session.commit()
    assert waitlist_services.offer_after_commit() == 1
    offer = db.session.execute(select(WaitlistOffer)).scalar_one()
    offer_day = offer.day
    assert rules.week_of(offer_day) == week

    # --- the inbox has the offer, in Chinese; its link leads to the waitlist page
    page.goto(f"{live_server}/messages")
    subject = _text(zh, "A collection day is free for you")
    item = page.locator("main .list-group a", has_text=subject)
    expect(item).to_have_count(1)
    assert_accessible(page)
    shoot(page, "waitlist-04-inbox-zh")
    item.click()
    body = page.locator(".message-body")
    expect(body).to_contain_text(
        _text(
            zh, "A place has freed on a day in the weeks you asked for. It is offered to you first:"
        )
    )
    assert_accessible(page)
    link = re.search(r"https?://\S+/waitlist\b", body.inner_text()).group(0)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    page.goto(f"{live_server}{path}")

    offer_card = page.locator("[data-offer]")
    expect(offer_card).to_be_visible()
    expect(offer_card).to_contain_text(_text(zh, "A day is free for you"))
    assert_accessible(page)
    shoot(page, "waitlist-05-offer-zh")
    offer_card.get_by_role("button", name=_text(zh, "Accept this day")).click()

    # --- booked: "My visits" shows the collection
    expect(page).to_have_url(f"{live_server}/visits")
    expect(page.locator("main article h3")).to_contain_text("采集")
    assert_accessible(page)
    shoot(page, "waitlist-06-booked-zh")
    db.session.remove()
    (booked,) = db.session.execute(
        select(Appointment).where(
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.patient.has(user_id=waiting_id),
        )
    ).scalars()
    assert clinic.cal.local_date(booked.start_at) == offer_day
    confirmation = db.session.execute(
        select(Message).where(Message.user_id == waiting_id, Message.template == "visit_booked")
    ).scalar_one()
    assert confirmation.locale == "zh_Hans"
