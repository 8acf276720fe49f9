"""notify() stores a message in the recipient's language; `flask notifications
send` delivers it over SMTP when configured, otherwise prints it."""

import socket
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from intake.accounts.roles import Role
from intake.extensions import db
from intake.notifications.models import DeliveryStatus, Message
from intake.notifications.services import notify

PO = Path(__file__).resolve().parents[2] / "intake" / "translations"


def _translation(locale: str, msgid: str) -> str:
    with (PO / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f)[msgid].string


@pytest.mark.parametrize("locale", ["en", "zh_Hans", "ja"])
def test_message_is_rendered_in_the_recipients_language(app, make_user, locale):
    user = make_user(Role.PATIENT, locale=locale)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        message = notify(user, "password_reset", link="http://x/reset", minutes=60)
    db.session.commit()
    expected = _translation(locale, "Reset your password") or "Reset your password"
    assert message.subject.startswith(expected)
    assert message.locale == locale and message.status == DeliveryStatus.PENDING
    assert "http://x/reset" in message.body


def _queue(make_user, n=2):
    user = make_user(Role.PATIENT)
    for i in range(n):
        db.session.add(
            Message(
                user=user,
                template="t",
                locale="en",
                to_address=user.email,
                subject=f"Hello {i}",
                body=f"Body {i}",
            )
        )
    db.session.commit()
    return user


def test_send_prints_when_no_smtp(runner, make_user):
    _queue(make_user)
    result = runner.invoke(args=["notifications", "send"])
    assert result.exit_code == 0
    assert "Subject: Hello 0" in result.output and "Sent 2, failed 0." in result.output
    statuses = db.session.execute(select(Message.status)).scalars().all()
    assert statuses == [DeliveryStatus.SENT, DeliveryStatus.SENT]
    again = runner.invoke(args=["notifications", "send"])
    assert "Sent 0, failed 0." in again.output  # never sent twice


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_send_over_a_real_smtp_server(app, runner, make_user):
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message as MessageHandler

    received = []

    class Collect(MessageHandler):
        def handle_message(self, message):
            received.append(message)

    port = _free_port()
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False)
        user = _queue(make_user)
        result = runner.invoke(args=["notifications", "send"])
    finally:
        controller.stop()
    assert "Sent 2, failed 0." in result.output
    assert [m["Subject"] for m in received] == ["Hello 0", "Hello 1"]
    assert received[0]["To"] == user.email


def test_smtp_failure_keeps_message_pending_then_failed(app, runner, make_user):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=_free_port(), SMTP_STARTTLS=False)
    _queue(make_user, n=1)
    for _ in range(4):
        runner.invoke(args=["notifications", "send"])
    message = db.session.execute(select(Message)).scalar_one()
    db.session.refresh(message)
    assert message.status == DeliveryStatus.PENDING and message.attempts == 4 and message.last_error
    runner.invoke(args=["notifications", "send"])
    db.session.refresh(message)
    assert message.status == DeliveryStatus.FAILED


def test_inbox_shows_own_messages_and_hides_others(client, login_as, make_user):
    other = _queue(make_user, n=1)
    theirs = db.session.execute(select(Message).where(Message.user_id == other.id)).scalar_one()
    me = login_as(Role.PATIENT)
    mine = Message(
        user=me, template="t", locale="en", to_address=me.email, subject="For me", body="Hi"
    )
    db.session.add(mine)
    db.session.commit()
    with client.get("/messages/") as r:
        body = r.get_data(as_text=True)
        assert "For me" in body and "Hello 0" not in body
    with client.get(f"/messages/{theirs.id}") as r:
        assert r.status_code == 404
    with client.get(f"/messages/{mine.id}") as r:
        assert r.status_code == 200
    db.session.refresh(mine)
    assert mine.read_at is not None
