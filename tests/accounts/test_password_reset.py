"""Reset by an e-mailed, expiring, single-use token."""

import re
from datetime import timedelta

from sqlalchemy import select

from intake.accounts.models import PasswordResetToken
from intake.accounts.roles import Role
from intake.core.models import AuditEntry
from intake.extensions import db
from intake.notifications.models import Message

NEW = {"password": "Fresh-Start-88", "confirm": "Fresh-Start-88"}


def _request_link(client, email) -> str:
    with client.post("/password/forgot", data={"email": email}) as r:
        assert r.status_code == 302
    message = db.session.execute(select(Message).order_by(Message.id.desc())).scalars().first()
    return re.search(r"http\S+/password/reset/\S+", message.body).group(0).split("5000", 1)[1]


def test_token_works_once(client, make_user):
    user = make_user(Role.PATIENT, locale="ja")
    path = _request_link(client, user.email)
    message = db.session.execute(select(Message)).scalar_one()
    assert message.to_address == user.email and message.locale == "ja"
    with client.get(path) as r:
        assert r.status_code == 200
    with client.post(path, data=NEW) as r:
        assert r.status_code == 302
    db.session.refresh(user)
    assert user.check_password("Fresh-Start-88")
    with client.post(path, data={"password": "Again-Other-99", "confirm": "Again-Other-99"}) as r:
        assert r.status_code == 410
    with client.get(path) as r:
        assert r.status_code == 410
    db.session.refresh(user)
    assert user.check_password("Fresh-Start-88")
    actions = (
        db.session.execute(
            select(AuditEntry.action)
            .where(AuditEntry.action.like("accounts.%"))
            .order_by(AuditEntry.id)
        )
        .scalars()
        .all()
    )
    assert actions == ["accounts.password_reset_requested", "accounts.password_reset"]


def test_token_expires(client, make_user):
    user = make_user(Role.PATIENT)
    path = _request_link(client, user.email)
    token = db.session.execute(select(PasswordResetToken)).scalar_one()
    token.expires_at = token.created_at - timedelta(seconds=1)
    db.session.commit()
    with client.post(path, data=NEW) as r:
        assert r.status_code == 410
        assert "no longer valid" in r.get_data(as_text=True)
    db.session.refresh(user)
    assert user.check_password("Correct-Horse-9")


def test_unknown_address_gets_the_same_answer_and_no_message(client, make_user):
    user = make_user(Role.PATIENT)
    answers = []
    for email in (user.email, "nobody@example.org"):
        with client.post("/password/forgot", data={"email": email}, follow_redirects=True) as r:
            answers.append(re.sub(r"\s+", " ", r.get_data(as_text=True)))
    assert answers[0] == answers[1]
    assert db.session.execute(select(Message.to_address)).scalars().all() == [user.email]


def test_only_the_hash_is_stored(client, make_user):
    user = make_user(Role.PATIENT)
    path = _request_link(client, user.email)
    token = path.rsplit("/", 1)[1]
    row = db.session.execute(select(PasswordResetToken)).scalar_one()
    assert token not in row.token_hash and len(row.token_hash) == 64


def test_weak_new_password_is_refused_and_token_stays_usable(client, make_user):
    user = make_user(Role.PATIENT)
    path = _request_link(client, user.email)
    with client.post(path, data={"password": "weak", "confirm": "weak"}) as r:
        assert r.status_code == 200
        assert "Use at least 8 characters." in r.get_data(as_text=True)
    with client.post(path, data=NEW) as r:
        assert r.status_code == 302


def test_weak_and_mismatched_new_password_are_both_named(client, make_user):
    user = make_user(Role.PATIENT)
    path = _request_link(client, user.email)
    with client.post(path, data={"password": "weak", "confirm": "other"}) as r:
        body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "Use at least 8 characters." in body.split('id="password-error"', 1)[1]
    assert "The passwords do not match." in body.split('id="confirm-error"', 1)[1]
    with client.post(path, data=NEW) as r:  # nothing was used up
        assert r.status_code == 302
