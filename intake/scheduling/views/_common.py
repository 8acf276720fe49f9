"""Helpers shared by the scheduling screens: parsing days and times, labels,
the time picker and access to one visit."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

from babel.dates import format_skeleton
from flask import current_app, flash, request
from flask_babel import format_time, get_locale, get_timezone
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from intake.core import parsing, settings
from intake.core.access import can_view_patient, require
from intake.core.errors import DomainError
from intake.core.types import utcnow
from intake.extensions import db
from intake.patients.models import Patient
from intake.patients.services import current_course
from intake.scheduling import changes, ledger, queries
from intake.scheduling.forms import BookForm
from intake.scheduling.models import MODE_LABELS, Appointment, VisitMode, VisitType

PICKER_DAYS = 28


# --------------------------------------------------------------------------- helpers


def parse_day(text: str | None) -> date | None:
    """A YYYY-MM-DD day in the sensible range, or None (blank or unreadable)."""
    try:
        return parsing.parse_date(text)
    except parsing.ParseError:
        return None


def parse_start(text: str | None) -> datetime | None:
    """An ISO 8601 instant with its offset (e.g. 2026-12-01T09:00:00+09:00), or None."""
    try:
        return parsing.parse_instant(text)
    except parsing.ParseError:
        return None


def day_label(day: date) -> str:
    return format_skeleton("MMMEd", day, locale=get_locale())


def long_day_label(day: date) -> str:
    return format_skeleton("yMMMMEd", day, locale=get_locale())


def time_label(instant: datetime) -> str:
    """The clinic-time "short" time of ``instant`` in the user's language; the
    front desk shows two per visit, so each is formatted once per process."""
    return _time_label(instant, str(get_locale()), str(get_timezone()))


@lru_cache(maxsize=4096)
def _time_label(instant: datetime, _locale: str, _zone: str) -> str:
    return format_time(instant, "short")  # the locale and zone of the key: the current ones


def zone_label(cal: queries.ClinicCalendar, instant: datetime) -> str:
    return f"{instant.astimezone(cal.tz).tzname()}, {cal.tz.key}"


def _mode_choices(form: BookForm, visit_type: VisitType, current: VisitMode | None = None):
    modes = [VisitMode(m) for m in visit_type.modes or ()]
    form.mode.choices = [SelectChoice(m.value, _(MODE_LABELS[m])) for m in modes]
    if request.method == "GET" and modes:
        form.mode.data = (current or modes[0]).value
    return len(modes) > 1


def _show_error(exc: DomainError) -> None:
    db.session.rollback()
    flash(exc.message, "danger")


def booked_by_this_form(form: BookForm) -> Appointment | None:
    """The booking an earlier send of this very form made (its ``request_key``),
    when the current user made it: a retry, a double click, or a worker that
    died after its commit. Read after the failed attempt was rolled back, so
    a send that raced this one and committed first is seen."""
    key = form.request_key.data
    if not key:
        return None
    appointment = queries.appointment_by_request_key(key)
    if appointment is None or appointment.booked_by_id != current_user.id:
        return None
    return appointment


def _picker(
    visit_type: VisitType,
    *,
    for_patient: bool,
    url,
    exclude_appointment_id: int | None = None,
) -> dict:
    """The three steps of choosing a time, driven by the query string: no
    ``day`` → free days of a four-week page (``from``); ``day`` → its free
    times; ``start`` → the confirmation."""
    now = utcnow()
    cal = queries.clinic_calendar()
    first_open, last_open = queries.bookable_window(cal, now)
    args = request.args

    def free(first: date, days: int) -> list[datetime]:
        return queries.availability(
            visit_type.code,
            first,
            days,
            now,
            for_patient=for_patient,
            exclude_appointment_id=exclude_appointment_id,
        )

    state = {"url": url, "step": "days", "zone": zone_label(cal, now), "cal": cal}
    start = parse_start(args.get("start"))
    day = parse_day(args.get("day"))
    if start is not None:
        day = cal.local_date(start)
        if start in free(day, 1):
            values = settings.values()
            state.update(
                step="confirm",
                # A patient booking close to the change cut-off is warned first.
                change_window=changes.change_window(
                    start, now, min_notice_hours=values["min_notice_hours"]
                ).value
                if for_patient
                else None,
                change_cutoff=changes.patient_cutoff(
                    start, min_notice_hours=values["min_notice_hours"]
                ),
                notice_hours=values["min_notice_hours"],
                phone=current_app.config.get("CLINIC_PHONE"),
                start=start,
                start_iso=start.astimezone(cal.tz).isoformat(),
                day=day,
                day_label=long_day_label(day),
                time_label=time_label(start),
                end_label=time_label(
                    start + timedelta(minutes=queries.duration_of(visit_type, settings.values()))
                ),
                zone=zone_label(cal, start),
            )
            return state
        flash(ledger.taken_message(), "warning")
    elif args.get("start") or (args.get("day") and day is None):
        flash(_("Please choose a day and a time from the list."), "warning")
    if day is not None and first_open <= day <= last_open:
        times = free(day, 1)
        state.update(
            step="times",
            day=day,
            day_label=long_day_label(day),
            times=[(t.astimezone(cal.tz).isoformat(), time_label(t)) for t in times],
            zone=zone_label(cal, cal.day_start(day) + timedelta(hours=12)),
        )
        return state
    page_start = parse_day(args.get("from")) or first_open
    page_start = min(max(page_start, first_open), last_open)
    page_end = min(page_start + timedelta(days=PICKER_DAYS - 1), last_open)
    by_day = queries.starts_by_day(free(page_start, (page_end - page_start).days + 1), cal.tz)
    state.update(
        days=[(d, d.isoformat(), day_label(d), len(by_day[d])) for d in sorted(by_day)],
        range_label=_(
            "%(first)s to %(last)s", first=day_label(page_start), last=day_label(page_end)
        ),
        earlier=(page_start - timedelta(days=PICKER_DAYS)).isoformat()
        if page_start > first_open
        else None,
        later=(page_end + timedelta(days=1)).isoformat() if page_end < last_open else None,
    )
    return state


def _own_appointment(appointment_id: int) -> Appointment:
    appointment = db.session.get(Appointment, appointment_id)
    own = current_user.patient
    require(appointment is not None and own is not None and appointment.patient_id == own.id)
    return appointment


def _can_see(appointment: Appointment) -> bool:
    return can_view_patient(current_user, appointment.patient)


def _gate_missing(patient: Patient, visit_type: VisitType) -> list[str] | None:
    """What the intake gate still lacks, or None when the visit needs no gate or it is open."""
    if not visit_type.requires_intake_gate:
        return None
    from intake.eligibility.queries import collection_gate_for

    cal = queries.clinic_calendar()
    gate = collection_gate_for(current_course(patient), today=cal.today(utcnow()))
    return None if gate.allowed else _gate_texts(gate.missing)


def _gate_texts(missing) -> list[str]:
    """The gate's missing items in the reader's language, tests by their names."""
    lang = str(get_locale())
    return [item.text(_, lang=lang) for item in missing]
