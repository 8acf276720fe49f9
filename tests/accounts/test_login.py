"""Login: the generic failure message, inactive accounts, rate limit, sessions."""

import pytest
from sqlalchemy import select

from intake.accounts.roles import Role
from intake.core.models import AuditEntry
from intake.extensions import db
from tests.conftest import log_in

GENERIC = "The e-mail or password is not correct."


@pytest.mark.parametrize("case", ["unknown_email", "wrong_password", "inactive"])
def test_failure_message_never_tells_whether_the_account_exists(client, make_user, case):
    user = make_user(Role.PATIENT, is_active=(case != "inactive"))
    email = "nobody@example.org" if case == "unknown_email" else user.email
    password = "Wrong-Pass-1" if case == "wrong_password" else "Correct-Horse-9"
    with client.post("/login", data={"email": email, "password": password}) as r:
        assert r.status_code == 200
        body = r.get_data(as_text=True)
        assert GENERIC in body
        assert "exist" not in body.lower()
    with client.get("/me") as r:
        assert r.status_code == 302


def test_failure_keeps_the_email_typed(client):
    with client.post("/login", data={"email": "typed@example.org", "password": "x"}) as r:
        assert 'value="typed@example.org"' in r.get_data(as_text=True)


def test_email_is_case_insensitive(client, make_user):
    user = make_user(Role.PATIENT)
    with client.post(
        "/login", data={"email": user.email.upper(), "password": "Correct-Horse-9"}
    ) as r:
        assert r.status_code == 302


def test_login_and_failed_login_are_audited(client, make_user):
    user = make_user(Role.DOCTOR)
    client.post("/login", data={"email": user.email, "password": "nope"}).close()
    log_in(client, user)
    actions = (
        db.session.execute(
            select(AuditEntry.action)
            .where(AuditEntry.entity_id == str(user.id))
            .order_by(AuditEntry.id)
        )
        .scalars()
        .all()
    )
    assert actions == ["accounts.login_failed", "accounts.login"]


def test_login_attempts_are_rate_limited(app):
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
    for _ in range(12):
        with client.post("/login", data={"email": "a@example.org", "password": "x"}) as r:
            codes.append(r.status_code)
            last = r.get_data(as_text=True)
    with limited.app_context():
        db.engine.dispose()  # this second app has its own connection pool
    assert codes[:10] == [200] * 10
    assert codes[10:] == [429, 429]
    assert "Too many attempts" in last


def test_password_change_ends_other_sessions(app, make_user):
    user = make_user(Role.PATIENT)
    first, second = app.test_client(), app.test_client()
    for c in (first, second):
        c.post("/login", data={"email": user.email, "password": "Correct-Horse-9"}).close()
    with first.post(
        "/password/change",
        data={
            "current_password": "Correct-Horse-9",
            "password": "Brand-New-77",
            "confirm": "Brand-New-77",
        },
    ) as r:
        assert r.status_code == 302
    with first.get("/me") as r:
        assert r.status_code == 200  # the session that changed it stays in
    with second.get("/me") as r:
        assert r.status_code == 302  # the other one is logged out


def test_deactivated_user_is_logged_out(client, login_as):
    user = login_as(Role.COORDINATOR)
    user.is_active = False
    db.session.commit()
    with client.get("/patients") as r:
        assert r.status_code == 302


def test_logout_requires_post(client, login_as):
    login_as(Role.PATIENT)
    with client.get("/logout") as r:
        assert r.status_code == 405
    with client.post("/logout") as r:
        assert r.status_code == 302
    with client.get("/me") as r:
        assert r.status_code == 302


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (
            {"current_password": "Correct-Horse-9", "password": "weak", "confirm": "other"},
            {"password": "Use at least 8 characters.", "confirm": "The passwords do not match."},
        ),
        (
            {"current_password": "Wrong-Horse-1", "password": "weak", "confirm": "weak"},
            {
                "current_password": "Your current password is not correct.",
                "password": "Use at least 8 characters.",
            },
        ),
        (
            {"current_password": "Wrong-Horse-1", "password": "Brand-New-77", "confirm": "x"},
            {
                "current_password": "Your current password is not correct.",
                "confirm": "The passwords do not match.",
            },
        ),
    ],
)
def test_password_change_names_every_problem_at_once(client, login_as, data, errors):
    user = login_as(Role.PATIENT)
    with client.post("/password/change", data=data) as r:
        body = r.get_data(as_text=True)
    assert r.status_code == 200
    for field, message in errors.items():
        assert message in body.split(f'id="{field}-error"', 1)[1].split("</div>", 1)[0]
    db.session.refresh(user)
    assert user.check_password("Correct-Horse-9")
