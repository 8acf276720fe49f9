"""The public availability endpoint."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import jsonify, request
from flask_babel import gettext as _

from intake.core import parsing
from intake.core.types import utcnow
from intake.errors import error_page
from intake.extensions import limiter
from intake.scheduling import queries
from intake.scheduling.views import bp

SERVICE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


# --------------------------------------------------------------------------- public endpoint


@bp.get("/scheduling/availability")
@limiter.limit("120 per minute")
def availability_api():
    """Free start times of a service, for anyone: no personal data."""
    code = request.args.get("service", "").strip()
    start_text = request.args.get("start", "").strip()
    days_text = request.args.get("days", "").strip()
    if not SERVICE_RE.match(code):
        return error_page(400, _("Unknown service: give a visit type code, e.g. consultation."))
    try:
        start = parsing.parse_date(start_text)
    except parsing.ParseError as exc:
        if exc.message == parsing.MSG_DATE_RANGE:
            return error_page(400, _("The start date is too far from today."))
        start = None
    if start is None:
        return error_page(400, _("Give the start as a date: YYYY-MM-DD."))
    try:
        days = parsing.parse_int(days_text, minimum=1, maximum=queries.MAX_WINDOW_DAYS)
    except parsing.ParseError:
        days = None
    if days is None:
        return error_page(
            400, _("Give days as a whole number from 1 to %(n)s.", n=queries.MAX_WINDOW_DAYS)
        )
    now = utcnow()
    cal = queries.clinic_calendar()
    today = cal.today(now)
    if not today - timedelta(days=366) <= start <= today + timedelta(days=2 * 366):
        return error_page(400, _("The start date is too far from today."))
    try:
        slots = queries.availability(code, start, days, now, for_patient=True)
    except queries.UnknownVisitType:
        return error_page(400, _("Unknown service: give a visit type code, e.g. consultation."))
    return jsonify(
        service=code,
        timezone=cal.tz.key,
        slots=[slot.astimezone(cal.tz).isoformat() for slot in slots],
    )
