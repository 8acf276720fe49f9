"""Queue a message in the recipient's language; delivery happens later."""

from __future__ import annotations

from flask import current_app, render_template
from flask_babel import force_locale

from intake.extensions import db
from intake.notifications.models import Message


def notify(user, template: str, *, attachment=None, **context) -> Message:
    """Render ``emails/<template>.subject.txt`` and ``emails/<template>.txt``
    in ``user.locale`` and store them in the outbox. ``attachment`` is an
    optional ``(filename, mime_type, text)``. Never sends, never commits."""
    with force_locale(user.locale):
        context = {"user": user, "clinic_name": current_app.config["CLINIC_NAME"], **context}
        subject = render_template(f"emails/{template}.subject.txt", **context).strip()
        body = render_template(f"emails/{template}.txt", **context)
    message = Message(
        user=user,
        template=template,
        locale=user.locale,
        to_address=user.email,
        subject=subject,
        body=body,
    )
    if attachment is not None:
        message.attachment_name, message.attachment_type, message.attachment_body = attachment
    db.session.add(message)
    return message
