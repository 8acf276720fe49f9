"""Patient self-registration: good input creates an audited account, bad
input re-shows the form with messages beside the fields and saves nothing."""

import pytest
from sqlalchemy import func, select

from intake.accounts.models import User
from intake.core.models import AuditEntry
from intake.extensions import db

GOOD = {
    "full_name": "王丽",
    "email": "wang.li@example.org",
    "phone": "+86 138 0013 8000",
    "date_of_birth": "1968-05-12",
    "locale": "zh_Hans",
    "password": "Sakura-Tree-26",
    "confirm": "Sakura-Tree-26",
}


def _users():
    return db.session.execute(select(func.count()).select_from(User)).scalar_one()


def test_registration_creates_patient_and_audit_row(client):
    with client.post("/register", data=GOOD) as r:
        assert r.status_code == 302
        assert r.headers["Location"] == "/me"
    user = db.session.execute(select(User)).scalar_one()
    assert user.role.value == "patient" and user.locale == "zh_Hans"
    assert user.password_hash != GOOD["password"] and user.check_password(GOOD["password"])
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "accounts.register")
    ).scalar_one()
    assert entry.actor_id == user.id and entry.patient_id == user.id
    assert entry.after["email"] == "wang.li@example.org"
    assert "password_hash" not in entry.after
    with client.get("/me") as r:
        assert "王丽" in r.get_data(as_text=True)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "Enter a valid e-mail address."),
        ({"full_name": ""}, "full_name", "This field is required."),
        ({"date_of_birth": "12/05/1968"}, "date_of_birth", "Not a valid date value."),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth", "Enter your real date of birth."),
        ({"phone": "12"}, "phone", "Enter a phone number."),
        ({"confirm": "Other-Pass-26"}, "confirm", "The passwords do not match."),
        ({"password": "short", "confirm": "short"}, "password", "Use at least 8 characters."),
        (
            {"password": "alllowercase", "confirm": "alllowercase"},
            "password",
            "Mix at least three kinds",
        ),
        ({"locale": "fr"}, "locale", "Not a valid choice."),
    ],
)
def test_bad_input_is_shown_beside_the_field_and_nothing_saved(client, changes, field, message):
    data = {**GOOD, **changes}
    with client.post("/register", data=data) as r:
        assert r.status_code == 200
        body = r.get_data(as_text=True)
    assert f'id="{field}-error"' in body
    error_html = body.split(f'id="{field}-error"', 1)[1].split("</div>", 1)[0]
    assert message in error_html
    assert 'value="王丽"' in body or field == "full_name"  # what was typed is kept
    assert _users() == 0


def test_duplicate_email_is_refused_without_a_second_account(client, make_user):
    make_user(email="wang.li@example.org")
    with client.post("/register", data={**GOOD, "email": "Wang.Li@Example.org"}) as r:
        body = r.get_data(as_text=True)
    assert "An account with this e-mail already exists" in body
    assert _users() == 1


def test_messages_come_in_the_users_language(client):
    client.post("/language", data={"locale": "zh_Hans"}).close()
    with client.post("/register", data={**GOOD, "confirm": "x"}) as r:
        body = r.get_data(as_text=True)
    assert "The passwords do not match." not in body
    assert 'lang="zh-Hans"' in body
