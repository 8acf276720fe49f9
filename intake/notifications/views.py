"""A person's inbox: every message the clinic sent them."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from intake.core.access import can_view_message, require
from intake.core.types import utcnow
from intake.core.web import MAX_PAGE, query_int
from intake.extensions import db
from intake.notifications.models import Message

bp = Blueprint("notifications", __name__, url_prefix="/messages")


@bp.get("/")
@login_required
def inbox():
    query = select(Message).where(Message.user_id == current_user.id).order_by(Message.id.desc())
    page = db.paginate(
        query, page=query_int("page", maximum=MAX_PAGE, default=1), per_page=20, error_out=False
    )
    return render_template("notifications/inbox.html", page=page)


@bp.get("/<int:message_id>")
@login_required
def message(message_id: int):
    msg = db.session.get(Message, message_id)
    require(msg is not None and can_view_message(current_user, msg))
    if msg.read_at is None:
        msg.read_at = utcnow()
        db.session.commit()
    return render_template("notifications/message.html", message=msg)
