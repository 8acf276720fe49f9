"""Deliver pending outbox messages over SMTP, or print them when no SMTP
server is configured (development)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from sqlalchemy import select

from intake.core.types import utcnow
from intake.extensions import db
from intake.notifications.models import DeliveryStatus, Message

MAX_ATTEMPTS = 5


def build_email(message: Message, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email.set_content(message.body)
    if message.attachment_body is not None:
        maintype, _, subtype = (message.attachment_type or "text/plain").partition("/")
        email.add_attachment(
            message.attachment_body.encode(),
            maintype=maintype,
            subtype=subtype.split(";")[0] or "plain",
            filename=message.attachment_name,
        )
    return email


def send_pending(config, *, echo=print, limit: int = 200) -> tuple[int, int]:
    """Send up to ``limit`` pending messages; returns (sent, failed).
    Each message is committed on its own so one failure never resends others."""
    pending = (
        db.session.execute(
            select(Message)
            .where(Message.status == DeliveryStatus.PENDING)
            .order_by(Message.id)
            .limit(limit)
        )
        .scalars()
        .all()
    )
    sent = failed = 0
    smtp = None
    try:
        for message in pending:
            email = build_email(message, config["MAIL_FROM"])
            message.attempts += 1
            try:
                if config.get("SMTP_HOST"):
                    if smtp is None:
                        smtp = _connect(config)
                    smtp.send_message(email)
                else:
                    echo(email.as_string())
            except (OSError, smtplib.SMTPException) as exc:
                message.last_error = str(exc)[:500]
                if message.attempts >= MAX_ATTEMPTS:
                    message.status = DeliveryStatus.FAILED
                failed += 1
                smtp = None
            else:
                message.status = DeliveryStatus.SENT
                message.sent_at = utcnow()
                message.last_error = None
                sent += 1
            db.session.commit()
    finally:
        if smtp is not None:
            smtp.quit()
    return sent, failed


def _connect(config) -> smtplib.SMTP:
    smtp = smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=30)
    if config.get("SMTP_STARTTLS"):
        smtp.starttls()
    if config.get("SMTP_USERNAME"):
        smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
    return smtp
