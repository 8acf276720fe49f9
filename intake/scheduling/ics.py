"""The calendar file (.ics, RFC 5545) of an appointment, in the patient's language.

One UID per appointment, so a rescheduled or cancelled visit replaces the earlier
event in the patient's calendar (SEQUENCE grows with each change). Times are UTC
(``DTSTART:20261201T000000Z``): every calendar shows them in its own zone.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Alarm, Calendar, Event

from intake.core.types import utcnow
from intake.scheduling.models import Appointment, AppointmentStatus, VisitMode
from intake.templating import fmt_datetime

MIME_TYPE = "text/calendar; charset=utf-8; method=PUBLISH"
PRODID = "-//Intake clinic software//Scheduling//EN"


def clinic_location() -> str:
    config = current_app.config
    address = config.get("CLINIC_ADDRESS")
    return f"{config['CLINIC_NAME']}, {address}" if address else config["CLINIC_NAME"]


def uid_for(appointment: Appointment) -> str:
    host = urlsplit(current_app.config["PUBLIC_BASE_URL"]).hostname or "clinic.invalid"
    return f"appointment-{appointment.id}@{host}"


def new_calendar() -> Calendar:
    """An empty VCALENDAR with the clinic's PRODID (one per file or feed)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    return calendar


def filename_for(appointment: Appointment) -> str:
    return f"visit-{appointment.id}.ics"


def build(appointment: Appointment, *, locale: str, link: str | None = None) -> str:
    """The .ics text of ``appointment`` with its summary and notes in ``locale``."""
    clinic_name = current_app.config["CLINIC_NAME"]
    visit_name = appointment.visit_type.name_in(locale)
    cancelled = appointment.status == AppointmentStatus.CANCELLED
    with force_locale(locale):
        if appointment.mode == VisitMode.VIDEO:
            location = _("Video call (the clinic sends you the link)")
        else:
            location = clinic_location()
        summary = f"{visit_name} · {clinic_name}"
        if cancelled:
            summary = _("Cancelled: %(visit)s", visit=summary)
        lines = [
            _("%(visit)s at %(clinic)s.", visit=visit_name, clinic=clinic_name),
            _("Time: %(when)s", when=fmt_datetime(appointment.start_at)),
        ]
        if not cancelled:
            lines.append(_("Please arrive 10 minutes early and bring your passport."))
        if link:
            lines.append(_("See or change your visits: %(link)s", link=link))
        alarm_text = _("Tomorrow: %(visit)s", visit=visit_name)

    calendar = new_calendar()

    event = Event()
    event.add("uid", uid_for(appointment))
    event.add("dtstamp", utcnow())
    event.add("sequence", appointment.sequence)
    event.add("dtstart", appointment.start_at.astimezone(UTC))
    event.add("dtend", appointment.end_at.astimezone(UTC))
    event.add("summary", summary)
    event.add("location", location)
    event.add("description", "\n".join(lines))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    if link:
        event.add("url", link)
    if not cancelled:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", alarm_text)
        alarm.add("trigger", -timedelta(days=1))
        event.add_component(alarm)
    calendar.add_component(event)
    return calendar.to_ical().decode("utf-8")


def attachment(appointment: Appointment, *, locale: str, link: str | None = None):
    """``(filename, mime type, text)`` for ``notify(attachment=...)``."""
    return filename_for(appointment), MIME_TYPE, build(appointment, locale=locale, link=link)
