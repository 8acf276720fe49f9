"""Accounts in a real browser: register, confirm the address from the e-mailed
link, switch language, log out and in, form errors, and a staff member's forced
first password change."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from intake.accounts.roles import Role
from intake.accounts.two_factor import code_at
from intake.core.types import utcnow
from intake.extensions import db
from intake.notifications.models import Message
from intake.patients.models import Patient
from tests.conftest import PASSWORD
from tests.e2e.conftest import DESKTOP, assert_accessible, shoot

NEW_PATIENT = {
    "family_name": "Example",
    "given_name": "Mei Lin",
    "full_name": "Mei Lin Example",  # given name first for names in Latin letters
    "date_of_birth": "1980-05-17",
    "email": "mei.lin@example.org",
    "phone": "+86 138 1234 5678",
    "password": "Blue-Lantern-Harbour-73",
}


def open_menu(page: Page) -> None:
    """On a phone the header (language, log out) sits behind the "Menu" toggler."""
    toggler = page.locator("button.navbar-toggler")
    if not toggler.is_visible():  # wide screen: the header is already open
        return
    if toggler.get_attribute("aria-expanded") != "true":
        toggler.click()
    # "show" is set once Bootstrap's collapse transition has ended.
    expect(page.locator("#nav-main")).to_have_class(re.compile(r"\bshow\b"))


def confirmation_path(email: str) -> str:
    """The path of the link in the "confirm your address" e-mail (the outbox
    builds it on PUBLIC_BASE_URL, not on the live server's address)."""
    db.session.remove()  # see what the server committed
    bodies = db.session.execute(
        select(Message.body)
        .where(Message.template == "registration_confirm", Message.to_address == email)
        .order_by(Message.id.desc())
    ).scalars()
    link = re.search(r"https?://\S+/register/confirm/\S+", next(bodies)).group(0)
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def expect_chinese(page: Page, zh) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator("#lang-select")).to_have_value("zh_Hans")
    my_page = zh("My page")
    if my_page:  # the translator's own words, whatever they chose
        expect(page).to_have_title(re.compile("^" + re.escape(my_page)))
        expect(page.locator("nav a.nav-link[aria-current=page]")).to_have_text(my_page)


def test_patient_registers_switches_to_chinese_and_it_is_remembered(
    live_server, page: Page, context, zh
):
    # Register on a phone.
    page.goto(f"{live_server}/register")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Create an account")
    assert_accessible(page)
    shoot(page, "01-register-phone")

    page.get_by_label("Family name", exact=True).fill(NEW_PATIENT["family_name"])
    page.get_by_label("Given name", exact=True).fill(NEW_PATIENT["given_name"])
    page.get_by_label("Sex").select_option("female")
    page.get_by_label("Nationality").select_option("SG")
    page.get_by_label("Date of birth").fill(NEW_PATIENT["date_of_birth"])
    page.get_by_label("E-mail").fill(NEW_PATIENT["email"])
    page.get_by_label("Phone").fill(NEW_PATIENT["phone"])
    page.get_by_label("Preferred language").select_option("en")
    page.get_by_label("Password", exact=True).fill(NEW_PATIENT["password"])
    page.get_by_label("Repeat the password").fill(NEW_PATIENT["password"])
    page.get_by_role("button", name="Create account").click()

    # Not signed in yet: the address is confirmed first, from the e-mail.
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
    expect(page.locator("main")).to_contain_text(NEW_PATIENT["email"])
    assert_accessible(page)
    shoot(page, "01b-register-check-your-email")
    page.goto(f"{live_server}/me")
    expect(page).to_have_url(re.compile(re.escape(f"{live_server}/login")))

    # The link in the e-mail confirms the address and signs in: their own page, in English.
    page.goto(live_server + confirmation_path(NEW_PATIENT["email"]))
    expect(page).to_have_url(f"{live_server}/me")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {NEW_PATIENT['full_name']}")
    expect(page.get_by_role("status").first).to_contain_text("Welcome")
    db.session.remove()
    record = db.session.execute(
        select(Patient).where(Patient.email == NEW_PATIENT["email"])
    ).scalar_one()
    assert (record.family_name, record.given_name) == ("Example", "Mei Lin")
    assert (record.sex.value, record.nationality) == ("female", "SG")
    assert record.user.email_verified_at is not None
    assert_accessible(page)
    shoot(page, "02-me-en")

    # Switch the header language to Chinese: the select submits itself.
    open_menu(page)
    with page.expect_navigation():
        page.locator("#lang-select").select_option("zh_Hans")
    expect(page).to_have_url(re.compile(re.escape(f"{live_server}/me") + r"\??$"))
    expect_chinese(page, zh)
    hello = zh("Hello, %(name)s")
    if hello:
        expect(page.get_by_role("heading", level=1)).to_have_text(
            hello.replace("%(name)s", NEW_PATIENT["full_name"])
        )
    assert_accessible(page)
    shoot(page, "03-me-zh")

    # The phone menu, opened: Chinese navigation, language and log out.
    open_menu(page)
    assert_accessible(page)
    shoot(page, "03b-me-zh-menu-open")

    # Log out from the header; the login page keeps the browser's language.
    page.locator("form[action$='/logout'] button[type=submit]").click()
    expect(page).to_have_url(f"{live_server}/login")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    logged_out = zh("You have logged out.")
    if logged_out:
        expect(page.get_by_role("status").first).to_have_text(logged_out)
    assert_accessible(page)
    shoot(page, "04-login-zh-after-logout")

    # A fresh browser session (no cookie): the login page is in English again...
    context.clear_cookies()
    page.goto(f"{live_server}/login")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert_accessible(page)
    shoot(page, "05-login-en-fresh-session")

    # ...and logging in brings back the patient's own language.
    page.get_by_label("E-mail").fill(NEW_PATIENT["email"])
    page.get_by_label("Password").fill(NEW_PATIENT["password"])
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(f"{live_server}/me")
    expect_chinese(page, zh)
    assert_accessible(page)
    shoot(page, "06-me-zh-after-login")


def test_bad_registration_keeps_values_and_explains_each_field(live_server, page: Page):
    page.goto(f"{live_server}/register")
    page.get_by_label("Family name", exact=True).fill("Example")
    page.get_by_label("Given name", exact=True).fill("Taro")
    page.get_by_label("Date of birth").fill("1975-02-03")
    page.get_by_label("E-mail").fill("not-an-email")
    page.get_by_label("Phone").fill("+81 90 1234 5678")
    page.get_by_label("Preferred language").select_option("ja")
    page.get_by_label("Password", exact=True).fill("Blue-Lantern-Harbour-73")
    page.get_by_label("Repeat the password").fill("Blue-Lantern-Harbour-74")
    page.get_by_role("button", name="Create account").click()

    # Same form again (no redirect), typed values kept, passwords not echoed back.
    expect(page).to_have_url(f"{live_server}/register")
    expect(page.get_by_role("heading", level=1)).to_have_text("Create an account")
    expect(page.locator("#family_name")).to_have_value("Example")
    expect(page.locator("#given_name")).to_have_value("Taro")
    expect(page.locator("#date_of_birth")).to_have_value("1975-02-03")
    expect(page.locator("#email")).to_have_value("not-an-email")
    expect(page.locator("#phone")).to_have_value("+81 90 1234 5678")
    expect(page.locator("#locale")).to_have_value("ja")
    expect(page.locator("#password")).to_have_value("")
    expect(page.locator("#confirm")).to_have_value("")

    # A message under each wrong field, tied to it for screen readers.
    for field, message in (
        ("email", "Enter a valid e-mail address."),
        ("confirm", "The passwords do not match."),
    ):
        feedback = page.locator(f"#{field}-error.invalid-feedback")
        expect(feedback).to_be_visible()
        expect(feedback).to_have_text(message)
        control = page.locator(f"#{field}")
        expect(control).to_have_attribute("aria-invalid", "true")
        expect(control).to_have_attribute("aria-describedby", re.compile(rf"\b{field}-error\b"))
        expect(control).to_have_class(re.compile(r"\bis-invalid\b"))
    for field in ("family_name", "given_name", "date_of_birth", "phone"):
        expect(page.locator(f"#{field}-error")).to_have_count(0)
        expect(page.locator(f"#{field}")).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator(".invalid-feedback")).to_have_count(2)

    assert_accessible(page)
    shoot(page, "07-register-errors-phone")


@pytest.mark.browser_context_args(viewport=DESKTOP, is_mobile=False, has_touch=False)
def test_staff_with_initial_password_must_change_it_first(live_server, page: Page, make_user):
    coordinator = make_user(Role.COORDINATOR, is_password_temporary=True)
    email = coordinator.email

    page.goto(f"{live_server}/login")
    assert_accessible(page)
    shoot(page, "08-staff-login-desktop")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main button[type=submit]").click()

    # Staff type the code from their authenticator app next.
    expect(page).to_have_url(f"{live_server}/login/code")
    assert_accessible(page)
    page.get_by_label("6-digit code").fill(code_at(coordinator.totp_secret, utcnow()))
    page.locator("main button[type=submit]").click()

    # Forced to the change-password page, and kept there.
    expect(page).to_have_url(f"{live_server}/password/change")
    expect(page.get_by_role("heading", level=1)).to_have_text("Change your password")
    expect(page.get_by_role("status")).to_contain_text("initial password")
    assert_accessible(page)
    shoot(page, "09-staff-forced-password-change")
    page.goto(f"{live_server}/patients")
    expect(page).to_have_url(f"{live_server}/password/change")

    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("Quiet-Orchard-Lamp-58")
    page.get_by_label("Repeat the new password").fill("Quiet-Orchard-Lamp-58")
    page.get_by_role("button", name="Save the new password").click()

    # A coordinator's home: the worklist, with the navigation of a coordinator.
    expect(page).to_have_url(f"{live_server}/worklist")
    expect(page.get_by_role("heading", level=1)).to_have_text("Worklist")
    expect(page.get_by_role("status").first).to_have_text("Your password was changed.")
    expect(page.locator("nav a.nav-link[aria-current=page]")).to_have_text("Worklist")
    assert_accessible(page)
    shoot(page, "10-staff-worklist")

    # The patient list is open to them now.
    page.locator("nav a.nav-link", has_text="Patients").click()
    expect(page).to_have_url(f"{live_server}/patients")
    expect(page.get_by_role("heading", level=1)).to_have_text("Patients")
    expect(page.locator("nav a.nav-link[aria-current=page]")).to_have_text("Patients")
    assert_accessible(page)
    shoot(page, "10b-staff-patient-list")
