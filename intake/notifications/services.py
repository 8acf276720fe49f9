"""Queue a message in the recipient's language; delivery happens later."""

from __future__ import annotations

from flask import current_app, render_template
from flask_babel import force_locale

from intake.extensions import db
from intake.notifications.models import Message


def notify(recipient, template: str, *, attachment=None, **context) -> Message | None:
    """Render ``emails/<template>.subject.txt`` and ``emails/<template>.txt``
    in the recipient's language and store them in the outbox. ``recipient`` is
    a staff ``User`` or a ``Patient`` (shown in their inbox when they have a
    login, e-mailed when they have an address; a patient with neither is told
    by the clinic in person, and nothing is queued). ``attachment`` is an
    optional ``(filename, mime_type, text)``. Never sends, never commits."""
    from intake.patients.models import Patient

    if isinstance(recipient, Patient):
        user, patient_id = recipient.user, recipient.id
        address = recipient.email or (user.email if user is not None else None)
    else:
        user, patient_id, address = recipient, None, recipient.email
        if getattr(recipient, "patient", None) is not None:
            patient_id = recipient.patient.id
    if user is None and not address:
        return None
    with force_locale(recipient.locale):
        context = {
            "user": recipient,
            "clinic_name": current_app.config["CLINIC_NAME"],
            **context,
        }
        subject = render_template(f"emails/{template}.subject.txt", **context).strip()
        body = render_template(f"emails/{template}.txt", **context)
    message = Message(
        user=user,
        patient_id=patient_id,
        template=template,
        locale=recipient.locale,
        to_address=address or "",
        subject=subject,
        body=body,
    )
    if attachment is not None:
        message.attachment_name, message.attachment_type, message.attachment_body = attachment
    db.session.add(message)
    return message
