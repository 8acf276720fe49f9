"""Patient self-registration: good input creates an audited account and
patient record and e-mails a link that confirms the address and signs in; the
answer never tells whether an e-mail is registered; bad input re-shows the
form with messages beside the fields and saves nothing."""

import re

import pytest
from sqlalchemy import func, select

from intake.accounts.models import User
from intake.core.models import AuditEntry
from intake.extensions import db
from intake.notifications.models import Message
from intake.patients.models import Patient

GOOD = {
    "family_name": "王",
    "given_name": "丽",
    "family_name_latin": "Wang",
    "given_name_latin": "Li",
    "sex": "female",
    "nationality": "CN",
    "email": "wang.li@example.org",
    "phone": "+86 138 0013 8000",
    "date_of_birth": "1968-05-12",
    "locale": "zh_Hans",
    "password": "Sakura-Tree-26",
    "confirm": "Sakura-Tree-26",
}


def _users():
    return db.session.execute(select(func.count()).select_from(User)).scalar_one()


def _link_in(message: Message) -> str:
    return re.search(r"https?://\S+", message.body).group(0).split("://", 1)[1].split("/", 1)[1]


def test_registration_creates_patient_and_audit_row(client):
    with client.post("/register", data=GOOD) as r:
        assert r.status_code == 200
        assert "wang.li@example.org" in r.get_data(as_text=True)
    user = db.session.execute(select(User)).scalar_one()
    assert user.role.value == "patient" and user.locale == "zh_Hans"
    assert user.password_hash != GOOD["password"] and user.check_password(GOOD["password"])
    patient = db.session.execute(select(Patient)).scalar_one()
    assert patient.user_id == user.id and patient.full_name == "王丽"
    assert patient.latin_name == "WANG Li" and patient.record_number
    assert patient.nationality == "CN" and patient.date_of_birth.isoformat() == "1968-05-12"
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "accounts.register")
    ).scalar_one()
    assert entry.actor_id == user.id and entry.patient_id == patient.id
    assert entry.after["email"] == "wang.li@example.org"
    assert "password_hash" not in entry.after
    # Not signed in until the address is confirmed.
    with client.get("/me") as r:
        assert r.status_code == 302
    message = db.session.execute(
        select(Message).where(Message.template == "registration_confirm")
    ).scalar_one()
    with client.get("/" + _link_in(message)) as r:
        assert r.status_code == 302
    with client.get("/me") as r:
        assert "王丽" in r.get_data(as_text=True)
    db.session.refresh(user)
    assert user.email_verified_at is not None


def test_logging_in_before_confirming_sends_a_new_link(client):
    client.post("/register", data={**GOOD, "locale": "en"}).close()
    client.post("/language", data={"locale": "en"}).close()
    data = {"email": GOOD["email"], "password": GOOD["password"]}
    with client.post("/login", data=data) as r:
        assert r.status_code == 200
        assert "confirm your e-mail" in r.get_data(as_text=True)
    sent = db.session.execute(
        select(func.count()).where(Message.template == "registration_confirm")
    ).scalar_one()
    assert sent == 2


def test_a_wrong_confirmation_link_signs_nobody_in(client):
    with client.get("/register/confirm/not-a-token") as r:
        assert r.status_code == 302 and r.headers["Location"] == "/login"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "Enter a valid e-mail address."),
        ({"family_name": ""}, "family_name", "This field is required."),
        ({"date_of_birth": "12/05/1968"}, "date_of_birth", "Not a valid date value."),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth", "Enter a real date of birth."),
        ({"phone": "12"}, "phone", "Enter the phone number with its country code"),
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
    assert 'value="Wang"' in body  # what was typed is kept
    assert _users() == 0


def test_a_registered_email_is_not_revealed_and_its_owner_gets_a_hint(client, make_user):
    owner = make_user(email="wang.li@example.org")
    with client.post("/register", data={**GOOD, "email": "new.person@example.org"}) as r:
        new_body = r.get_data(as_text=True)
    other = client.application.test_client()  # a second visitor, no shared session
    with other.post("/register", data={**GOOD, "email": "Wang.Li@Example.org"}) as r:
        body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "already exists" not in body
    # The same page whatever the address (only the address itself differs).
    assert body.replace("Wang.Li@Example.org", "X") == new_body.replace(
        "new.person@example.org", "X"
    )
    assert _users() == 2  # the owner and the new person; no second account for the owner
    hint = db.session.execute(
        select(Message).where(Message.template == "registration_existing")
    ).scalar_one()
    assert hint.user_id == owner.id and "/password/forgot" in hint.body


def test_registration_is_rate_limited(app):
    from intake import create_app

    limited = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "RATELIMIT_ENABLED": True,
        },
        config_object="config.TestConfig",
    )
    client = limited.test_client()
    codes = []
    for n in range(12):
        data = {**GOOD, "email": f"p{n}@example.org", "confirm": "x"}
        with client.post("/register", data=data) as r:
            codes.append(r.status_code)
    with limited.app_context():
        db.engine.dispose()  # this second app has its own connection pool
    assert codes[:10] == [200] * 10 and codes[10:] == [429, 429]


def test_messages_come_in_the_users_language(client):
    client.post("/language", data={"locale": "zh_Hans"}).close()
    with client.post("/register", data={**GOOD, "confirm": "x"}) as r:
        body = r.get_data(as_text=True)
    assert "The passwords do not match." not in body
    assert 'lang="zh-Hans"' in body
