"""Booking pages (patients), the front desk (coordinators), the clinic's set-up
(managers) and the public availability endpoint.

Each handler: load → check access → validate the form → one service call →
commit → redirect; on ``DomainError``: roll back and show the message.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from babel.dates import format_skeleton
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_time, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from intake.accounts.models import User
from intake.accounts.roles import CLINICAL_ROLES, Role
from intake.core import settings
from intake.core.access import require, role_required
from intake.core.errors import DomainError
from intake.core.text import N_
from intake.core.types import utcnow
from intake.core.web import safe_next, show_domain_error
from intake.errors import error_page
from intake.extensions import db, limiter
from intake.scheduling import clinic_setup, ics, queries, services
from intake.scheduling.forms import (
    WEEKDAY_LABELS,
    BookForm,
    ClosureForm,
    ConfirmForm,
    PatientCancelForm,
    ResourceForm,
    StaffCancelForm,
    StatusForm,
    VisitTypeForm,
)
from intake.scheduling.models import (
    MODE_LABELS,
    RESOURCE_KIND_LABELS,
    STATUS_LABELS,
    Appointment,
    AppointmentStatus,
    Closure,
    Resource,
    ResourceKind,
    VisitMode,
    VisitType,
)

bp = Blueprint("scheduling", __name__)

PICKER_DAYS = 28
DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SERVICE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
STATUS_ACTIONS = {
    "arrived": (services.mark_arrived, N_("Checked in: %(name)s.")),
    "no_show": (services.mark_no_show, N_("Marked as not come: %(name)s.")),
    "completed": (services.mark_completed, N_("Visit completed: %(name)s.")),
}


# --------------------------------------------------------------------------- helpers


# Dates outside these years are typing errors, and would overflow date arithmetic.
YEARS = range(2000, 3000)


def parse_day(text: str | None) -> date | None:
    """A YYYY-MM-DD day, or None."""
    if not text or not DAY_RE.match(text):
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if day.year in YEARS else None


def parse_start(text: str | None) -> datetime | None:
    """An ISO 8601 instant with its offset (e.g. 2026-12-01T09:00:00+09:00), or None."""
    if not text or len(text) > 40:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None and value.year in YEARS else None


def day_label(day: date) -> str:
    return format_skeleton("MMMEd", day, locale=get_locale())


def long_day_label(day: date) -> str:
    return format_skeleton("yMMMMEd", day, locale=get_locale())


def time_label(instant: datetime) -> str:
    return format_time(instant, "short")


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
            state.update(
                step="confirm",
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
        flash(services.taken_message(), "warning")
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
    require(appointment is not None and appointment.patient_id == current_user.id)
    return appointment


def _can_see(appointment: Appointment) -> bool:
    if current_user.role == Role.PATIENT:
        return appointment.patient_id == current_user.id
    return current_user.role in CLINICAL_ROLES


def _gate_missing(patient: User, visit_type: VisitType) -> list[str] | None:
    """What the intake gate still lacks, or None when the visit needs no gate or it is open."""
    if not visit_type.requires_intake_gate:
        return None
    from flask_babel import gettext

    from intake.eligibility.queries import collection_gate_for

    cal = queries.clinic_calendar()
    gate = collection_gate_for(patient, today=cal.today(utcnow()))
    return None if gate.allowed else [item.text(gettext) for item in gate.missing]


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
        start = date.fromisoformat(start_text) if DAY_RE.match(start_text) else None
    except ValueError:
        start = None
    if start is None:
        return error_page(400, _("Give the start as a date: YYYY-MM-DD."))
    if not days_text.isdigit() or not 1 <= int(days_text) <= queries.MAX_WINDOW_DAYS:
        return error_page(
            400, _("Give days as a whole number from 1 to %(n)s.", n=queries.MAX_WINDOW_DAYS)
        )
    now = utcnow()
    cal = queries.clinic_calendar()
    today = cal.today(now)
    if not today - timedelta(days=366) <= start <= today + timedelta(days=2 * 366):
        return error_page(400, _("The start date is too far from today."))
    try:
        slots = queries.availability(code, start, int(days_text), now, for_patient=True)
    except queries.UnknownVisitType:
        return error_page(400, _("Unknown service: give a visit type code, e.g. consultation."))
    return jsonify(
        service=code,
        timezone=cal.tz.key,
        slots=[slot.astimezone(cal.tz).isoformat() for slot in slots],
    )


# --------------------------------------------------------------------------- patients


@bp.route("/book/<visit_type>", methods=["GET", "POST"])
@role_required(Role.PATIENT)
def book(visit_type: str):
    vt = queries.visit_type_by_code(visit_type)
    if vt is None or not vt.is_active or not vt.is_patient_bookable:
        return error_page(404, _("This visit cannot be booked online. Please contact the clinic."))
    missing = _gate_missing(current_user, vt)
    if missing is not None:
        return render_template("scheduling/book.html", vt=vt, missing=missing)
    existing = queries.upcoming_of_type(current_user, vt.id, utcnow())
    if existing is not None:
        return render_template("scheduling/book.html", vt=vt, existing=existing)
    form = BookForm()
    has_modes = _mode_choices(form, vt)
    if request.method == "POST":
        start = parse_start(form.start.data)
        if form.validate_on_submit():
            try:
                services.book_visit(
                    current_user, vt.code, start, actor=current_user, mode=form.mode.data or None
                )
            except services.GateClosed as exc:
                db.session.rollback()
                return render_template(
                    "scheduling/book.html",
                    vt=vt,
                    missing=[item.text(_) for item in exc.missing],
                )
            except DomainError as exc:
                _show_error(exc)
            else:
                db.session.commit()
                flash(_("Booked. We have sent you a confirmation with a calendar file."), "success")
                return redirect(url_for("scheduling.my_visits"))
        else:
            flash(_("Please choose a day and a time from the list."), "warning")
        day = queries.clinic_calendar().local_date(start).isoformat() if start else None
        return redirect(url_for("scheduling.book", visit_type=vt.code, day=day))
    picker = _picker(
        vt,
        for_patient=True,
        url=lambda **kw: url_for("scheduling.book", visit_type=vt.code, **kw),
    )
    values = settings.values()
    return render_template(
        "scheduling/book.html",
        vt=vt,
        picker=picker,
        form=form,
        has_modes=has_modes,
        duration=queries.duration_of(vt, values),
        culture_max_days=values["culture_max_days"],
        notice_hours=values["min_notice_hours"],
    )


@bp.get("/visits")
@role_required(Role.PATIENT)
def my_visits():
    now = utcnow()
    data = queries.my_visits(current_user, now)
    values = settings.values()
    return render_template(
        "scheduling/my_visits.html",
        **data,
        can_change={a.id: services.patient_can_change(a, now) for a in data["upcoming"]},
        cutoff={a.id: services.patient_cutoff(a, values) for a in data["upcoming"]},
        bookable=queries.visit_types(patient_bookable=True),
        booked_type_ids={a.visit_type_id for a in data["upcoming"]},
        status_labels=STATUS_LABELS,
        mode_labels=MODE_LABELS,
        notice_hours=values["min_notice_hours"],
    )


@bp.get("/visits/<int:appointment_id>.ics")
@login_required
def visit_ics(appointment_id: int):
    appointment = db.session.get(Appointment, appointment_id)
    require(appointment is not None and _can_see(appointment))
    locale = (
        appointment.patient.locale
        if current_user.id == appointment.patient_id
        else str(get_locale())
    )
    body = ics.build(appointment, locale=locale, link=services._public_url("scheduling.my_visits"))
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{ics.filename_for(appointment)}"'},
    )


@bp.route("/visits/<int:appointment_id>/cancel", methods=["GET", "POST"])
@role_required(Role.PATIENT)
def visit_cancel(appointment_id: int):
    appointment = _own_appointment(appointment_id)
    can_change = services.patient_can_change(appointment, utcnow())
    form = PatientCancelForm()
    if can_change and form.validate_on_submit():
        try:
            services.cancel_visit(appointment, actor=current_user, reason=form.reason.data)
        except DomainError as exc:
            _show_error(exc)
        else:
            db.session.commit()
            flash(_("Your visit is cancelled."), "success")
        return redirect(url_for("scheduling.my_visits"))
    return render_template(
        "scheduling/visit_cancel.html",
        appointment=appointment,
        form=form,
        can_change=can_change,
        notice_hours=settings.get("min_notice_hours"),
    )


@bp.route("/visits/<int:appointment_id>/reschedule", methods=["GET", "POST"])
@role_required(Role.PATIENT)
def visit_reschedule(appointment_id: int):
    appointment = _own_appointment(appointment_id)
    can_change = services.patient_can_change(appointment, utcnow())
    vt = appointment.visit_type
    form = BookForm()
    has_modes = _mode_choices(form, vt, appointment.mode)
    if request.method == "POST" and can_change:
        start = parse_start(form.start.data)
        if form.validate_on_submit():
            try:
                services.reschedule_visit(
                    appointment, start, actor=current_user, mode=form.mode.data or None
                )
            except services.GateClosed as exc:
                _show_error(exc)
            except DomainError as exc:
                _show_error(exc)
            else:
                db.session.commit()
                flash(_("Your visit has its new time. We have sent you the details."), "success")
                return redirect(url_for("scheduling.my_visits"))
        day = queries.clinic_calendar().local_date(start).isoformat() if start else None
        return redirect(
            url_for("scheduling.visit_reschedule", appointment_id=appointment.id, day=day)
        )
    picker = None
    if can_change:
        picker = _picker(
            vt,
            for_patient=True,
            url=lambda **kw: url_for(
                "scheduling.visit_reschedule", appointment_id=appointment.id, **kw
            ),
            exclude_appointment_id=appointment.id,
        )
    return render_template(
        "scheduling/visit_reschedule.html",
        appointment=appointment,
        vt=vt,
        picker=picker,
        form=form,
        has_modes=has_modes,
        can_change=can_change,
        notice_hours=settings.get("min_notice_hours"),
    )


# --------------------------------------------------------------------------- the front desk


def allowed_actions(appointment: Appointment, cal: queries.ClinicCalendar, now: datetime):
    """The status buttons the desk shows for ``appointment`` now."""
    actions = []
    if appointment.status == AppointmentStatus.BOOKED:
        if cal.local_date(appointment.start_at) == cal.today(now):
            actions.append("arrived")
        if now >= appointment.start_at:
            actions.append("no_show")
    elif appointment.status == AppointmentStatus.ARRIVED:
        actions.append("completed")
    return actions


def _desk_row_context() -> dict:
    return {
        "status_labels": STATUS_LABELS,
        "mode_labels": MODE_LABELS,
        "Status": AppointmentStatus,
    }


@bp.get("/desk")
@role_required(*CLINICAL_ROLES)
def desk():
    now = utcnow()
    cal = queries.clinic_calendar()
    today = cal.today(now)
    day = parse_day(request.args.get("day"))
    if request.args.get("day") and day is None:
        flash(_("Enter the day as YYYY-MM-DD."), "warning")
    day = day or today
    listing = queries.day_list(day, cal)
    return render_template(
        "scheduling/desk.html",
        actions={a.id: allowed_actions(a, cal, now) for a, _p, _vt in listing["rows"]},
        day=day,
        today=today,
        day_title=long_day_label(day),
        previous=(day - timedelta(days=1)).isoformat(),
        following=(day + timedelta(days=1)).isoformat(),
        zone=zone_label(cal, cal.day_start(day) + timedelta(hours=12)),
        time_label=time_label,
        **listing,
        **_desk_row_context(),
    )


def _desk_appointment(appointment_id: int) -> Appointment:
    appointment = db.session.get(Appointment, appointment_id)
    require(appointment is not None)
    return appointment


def _render_desk_visit(appointment: Appointment, cancel_form: StaffCancelForm):
    cal = queries.clinic_calendar()
    return render_template(
        "scheduling/desk_visit.html",
        appointment=appointment,
        cancel_form=cancel_form,
        day=cal.local_date(appointment.start_at),
        allowed=allowed_actions(appointment, cal, utcnow()),
        **queries.appointment_page(appointment, cal),
        **_desk_row_context(),
    )


@bp.get("/desk/visits/<int:appointment_id>")
@role_required(*CLINICAL_ROLES)
def desk_visit(appointment_id: int):
    return _render_desk_visit(_desk_appointment(appointment_id), StaffCancelForm())


@bp.post("/desk/visits/<int:appointment_id>/status")
@role_required(*CLINICAL_ROLES)
def desk_status(appointment_id: int):
    appointment = _desk_appointment(appointment_id)
    form = StatusForm()
    if not form.validate_on_submit() or form.action.data not in STATUS_ACTIONS:
        abort(400)
    action, message = STATUS_ACTIONS[form.action.data]
    try:
        action(appointment, actor=current_user)
    except DomainError as exc:
        _show_error(exc)
    else:
        db.session.commit()
        flash(_(message, name=appointment.patient.full_name), "success")
    day = queries.clinic_calendar().local_date(appointment.start_at).isoformat()
    return redirect(safe_next(form.next.data) or url_for("scheduling.desk", day=day))


@bp.post("/desk/visits/<int:appointment_id>/cancel")
@role_required(*CLINICAL_ROLES)
def desk_cancel(appointment_id: int):
    appointment = _desk_appointment(appointment_id)
    form = StaffCancelForm()
    if form.validate_on_submit():
        try:
            services.cancel_visit(appointment, actor=current_user, reason=form.reason.data)
        except DomainError as exc:
            db.session.rollback()
            form.reason.errors = [*form.reason.errors, exc.message]
        else:
            db.session.commit()
            flash(
                _("Cancelled. %(name)s has been told.", name=appointment.patient.full_name),
                "success",
            )
            return redirect(url_for("scheduling.desk_visit", appointment_id=appointment.id))
    return _render_desk_visit(appointment, form)


@bp.route("/desk/visits/<int:appointment_id>/reschedule", methods=["GET", "POST"])
@role_required(*CLINICAL_ROLES)
def desk_reschedule(appointment_id: int):
    appointment = _desk_appointment(appointment_id)
    vt = appointment.visit_type
    form = BookForm()
    has_modes = _mode_choices(form, vt, appointment.mode)
    if request.method == "POST":
        start = parse_start(form.start.data)
        if form.validate_on_submit():
            try:
                services.reschedule_visit(
                    appointment, start, actor=current_user, mode=form.mode.data or None
                )
            except DomainError as exc:
                _show_error(exc)
            else:
                db.session.commit()
                flash(
                    _("Moved. %(name)s has been told.", name=appointment.patient.full_name),
                    "success",
                )
                return redirect(url_for("scheduling.desk_visit", appointment_id=appointment.id))
        day = queries.clinic_calendar().local_date(start).isoformat() if start else None
        return redirect(
            url_for("scheduling.desk_reschedule", appointment_id=appointment.id, day=day)
        )
    picker = None
    if appointment.status == AppointmentStatus.BOOKED:
        picker = _picker(
            vt,
            for_patient=False,
            url=lambda **kw: url_for(
                "scheduling.desk_reschedule", appointment_id=appointment.id, **kw
            ),
            exclude_appointment_id=appointment.id,
        )
    return render_template(
        "scheduling/desk_reschedule.html",
        appointment=appointment,
        vt=vt,
        picker=picker,
        form=form,
        has_modes=has_modes,
    )


@bp.route("/desk/book", methods=["GET", "POST"])
@role_required(*CLINICAL_ROLES)
def desk_book():
    search = request.args.get("q", "").strip()[:100]
    patient_id = request.args.get("patient_id", type=int)
    patient = db.session.get(User, patient_id) if patient_id else None
    if patient is not None and patient.role != Role.PATIENT:
        patient = None
    context = {"search": search, "patient": patient}
    if patient is None:
        context["found"] = queries.find_patients(search) if search else []
        return render_template("scheduling/desk_book.html", **context)
    types = queries.visit_types(desk_bookable=True)
    vt = next((t for t in types if t.code == request.args.get("visit_type")), None)
    context["types"] = types
    if vt is None:
        return render_template("scheduling/desk_book.html", **context)
    context["vt"] = vt
    missing = _gate_missing(patient, vt)
    if missing is not None:
        return render_template("scheduling/desk_book.html", missing=missing, **context)
    form = BookForm()
    context["has_modes"] = _mode_choices(form, vt)
    context["form"] = form
    if request.method == "POST":
        start = parse_start(form.start.data)
        if form.validate_on_submit():
            try:
                appointment = services.book_visit(
                    patient, vt.code, start, actor=current_user, mode=form.mode.data or None
                )
            except services.GateClosed as exc:
                db.session.rollback()
                return render_template(
                    "scheduling/desk_book.html",
                    missing=[item.text(_) for item in exc.missing],
                    **context,
                )
            except DomainError as exc:
                _show_error(exc)
            else:
                db.session.commit()
                flash(
                    _(
                        "Booked for %(name)s, who has been sent the details.",
                        name=patient.full_name,
                    ),
                    "success",
                )
                return redirect(url_for("scheduling.desk_visit", appointment_id=appointment.id))
        day = queries.clinic_calendar().local_date(start).isoformat() if start else None
        return redirect(
            url_for("scheduling.desk_book", patient_id=patient.id, visit_type=vt.code, day=day)
        )
    context["picker"] = _picker(
        vt,
        for_patient=False,
        url=lambda **kw: url_for(
            "scheduling.desk_book", patient_id=patient.id, visit_type=vt.code, **kw
        ),
    )
    return render_template("scheduling/desk_book.html", **context)


# --------------------------------------------------------------------------- managers


def _resource_form_choices(form: ResourceForm, resource: Resource | None) -> None:
    resources = queries.resources_page()
    form.kind.choices = [SelectChoice(k.value, _(RESOURCE_KIND_LABELS[k])) for k in ResourceKind]
    pools = [
        r
        for r in resources
        if r.kind == ResourceKind.STAFF
        and r.pool_id is None
        and (resource is None or r.id != resource.id)
    ]
    form.pool_id.choices = [SelectChoice("", _("None (not a group member)"))] + [
        SelectChoice(str(r.id), r.label) for r in pools
    ]
    linked = {
        r.user_id for r in resources if r.user_id and (resource is None or r.id != resource.id)
    }
    form.user_id.choices = [SelectChoice("", _("None"))] + [
        SelectChoice(str(u.id), f"{u.full_name} ({u.email})")
        for u in queries.staff_users()
        if u.id not in linked
    ]


def _int_or_none(text) -> int | None:
    return int(text) if text not in (None, "") and str(text).isdigit() else None


def _save_resource_from(form: ResourceForm, resource: Resource | None) -> Resource:
    return clinic_setup.save_resource(
        resource,
        actor=current_user,
        code=form.code.data,
        kind=form.kind.data,
        names={"en": form.name_en.data, "zh_Hans": form.name_zh.data, "ja": form.name_ja.data},
        capacity=form.capacity.data,
        is_per_day=form.is_per_day.data,
        pool_id=_int_or_none(form.pool_id.data),
        user_id=_int_or_none(form.user_id.data),
        working_weekdays=[int(d) for d in form.working_weekdays.data or []] or None,
        is_active=form.is_active.data,
    )


@bp.get("/scheduling/resources")
@role_required(Role.MANAGER)
def resources():
    rows = queries.resources_page()
    values = settings.values()
    return render_template(
        "scheduling/resources.html",
        rows=rows,
        capacity={r.id: queries.capacity_of(r, values) for r in rows},
        members={r.id: [m for m in rows if m.pool_id == r.id] for r in rows},
        kind_labels=RESOURCE_KIND_LABELS,
        weekday_labels=WEEKDAY_LABELS,
    )


@bp.route("/scheduling/resources/new", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def resource_new():
    form = ResourceForm()
    _resource_form_choices(form, None)
    if form.validate_on_submit():
        try:
            resource = _save_resource_from(form, None)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("Added %(name)s.", name=resource.label), "success")
            return redirect(url_for("scheduling.resources"))
    return render_template("scheduling/resource_new.html", form=form)


@bp.route("/scheduling/resources/<int:resource_id>", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def resource_edit(resource_id: int):
    resource = db.get_or_404(Resource, resource_id)
    form = ResourceForm()
    _resource_form_choices(form, resource)
    del form.code, form.kind, form.is_per_day
    if request.method == "GET":
        names = resource.names or {}
        form.name_en.data = names.get("en", "")
        form.name_zh.data = names.get("zh_Hans", "")
        form.name_ja.data = names.get("ja", "")
        form.capacity.data = (
            settings.get(resource.capacity_setting)
            if resource.capacity_setting
            else resource.capacity
        )
        form.pool_id.data = str(resource.pool_id or "")
        form.user_id.data = str(resource.user_id or "")
        form.working_weekdays.data = [str(d) for d in sorted(resource.weekdays or range(7))]
        form.is_active.data = resource.is_active
    if form.validate_on_submit():
        try:
            clinic_setup.save_resource(
                resource,
                actor=current_user,
                names={
                    "en": form.name_en.data,
                    "zh_Hans": form.name_zh.data,
                    "ja": form.name_ja.data,
                },
                capacity=form.capacity.data,
                pool_id=_int_or_none(form.pool_id.data),
                user_id=_int_or_none(form.user_id.data),
                working_weekdays=[int(d) for d in form.working_weekdays.data or []] or None,
                is_active=form.is_active.data,
            )
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("scheduling.resources"))
    return render_template(
        "scheduling/resource_edit.html",
        form=form,
        resource=resource,
        kind_labels=RESOURCE_KIND_LABELS,
    )


@bp.get("/scheduling/visit-types")
@role_required(Role.MANAGER)
def visit_types():
    rows = queries.visit_types_page()
    values = settings.values()
    return render_template(
        "scheduling/visit_types.html",
        rows=rows,
        durations={vt.id: queries.duration_of(vt, values) for vt in rows},
        mode_labels=MODE_LABELS,
        culture_max_days=values["culture_max_days"],
    )


@bp.route("/scheduling/visit-types/<int:visit_type_id>", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def visit_type_edit(visit_type_id: int):
    vt = db.get_or_404(VisitType, visit_type_id)
    all_resources = queries.resources_page()
    unit_choices = [SelectChoice("", "—")] + [
        SelectChoice(str(r.id), f"{r.label} ({r.code})") for r in all_resources if not r.is_per_day
    ]
    day_choices = [SelectChoice("", _("Nothing"))] + [
        SelectChoice(str(r.id), f"{r.label} ({r.code})") for r in all_resources if r.is_per_day
    ]
    if request.method == "GET":
        data = {
            "name_en": vt.names.get("en", ""),
            "name_zh": vt.names.get("zh_Hans", ""),
            "name_ja": vt.names.get("ja", ""),
            "duration_minutes": queries.duration_of(vt, settings.values()),
            "modes": list(vt.modes or []),
            "requires_intake_gate": vt.requires_intake_gate,
            "is_patient_bookable": vt.is_patient_bookable,
            "is_desk_bookable": vt.is_desk_bookable,
            "is_active": vt.is_active,
            "segments": [
                {
                    "resource_id": str(s.resource_id),
                    "offset_minutes": s.offset_minutes,
                    "duration_minutes": s.duration_minutes,
                    "quantity": s.quantity,
                }
                for s in vt.segments
            ]
            + [{"resource_id": "", "offset_minutes": 0, "duration_minutes": None, "quantity": 1}],
            "day_block_resource_id": str(vt.day_block_resource_id or ""),
            "day_block_quantity": vt.day_block_quantity,
        }
        form = VisitTypeForm(data=data)
    else:
        form = VisitTypeForm()
    form.modes.choices = [SelectChoice(m.value, _(MODE_LABELS[m])) for m in VisitMode]
    form.day_block_resource_id.choices = day_choices
    for entry in form.segments:
        entry.form.resource_id.choices = unit_choices
    if form.validate_on_submit():
        segments = [
            clinic_setup.SegmentInput(
                resource_id=int(entry.form.resource_id.data),
                offset_minutes=entry.form.offset_minutes.data or 0,
                duration_minutes=entry.form.duration_minutes.data or None,
                quantity=entry.form.quantity.data or 1,
            )
            for entry in form.segments
            if entry.form.resource_id.data and not entry.form.remove.data
        ]
        try:
            clinic_setup.update_visit_type(
                vt,
                actor=current_user,
                names={
                    "en": form.name_en.data,
                    "zh_Hans": form.name_zh.data,
                    "ja": form.name_ja.data,
                },
                duration_minutes=form.duration_minutes.data,
                modes=form.modes.data,
                requires_intake_gate=form.requires_intake_gate.data,
                is_patient_bookable=form.is_patient_bookable.data,
                is_desk_bookable=form.is_desk_bookable.data,
                is_active=form.is_active.data,
                segments=segments,
                day_block_resource_id=_int_or_none(form.day_block_resource_id.data),
                day_block_quantity=form.day_block_quantity.data or 1,
            )
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("Saved. New bookings use these settings."), "success")
            return redirect(url_for("scheduling.visit_types"))
    return render_template(
        "scheduling/visit_type_edit.html",
        form=form,
        vt=vt,
        culture_max_days=settings.get("culture_max_days"),
    )


@bp.route("/scheduling/closures", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def closures():
    form = ClosureForm()
    cal = queries.clinic_calendar()
    if form.validate_on_submit():
        try:
            start_at, end_at = clinic_setup.closure_span(
                form.first_date.data,
                form.last_date.data,
                form.from_time.data,
                form.to_time.data,
                cal,
            )
            closure, affected = clinic_setup.add_closure(
                actor=current_user, start_at=start_at, end_at=end_at, reason=form.reason.data
            )
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("Closure added: %(reason)s.", reason=closure.reason), "success")
            if affected:
                flash(
                    _(
                        "%(n)s booked visit(s) fall inside this closure. Move or cancel them "
                        "on the day list.",
                        n=len(affected),
                    ),
                    "warning",
                )
            return redirect(url_for("scheduling.closures"))
    return render_template(
        "scheduling/closures.html",
        form=form,
        cal=cal,
        **queries.closures_page(utcnow()),
    )


@bp.post("/scheduling/closures/<int:closure_id>/remove")
@role_required(Role.MANAGER)
def closure_remove(closure_id: int):
    closure = db.get_or_404(Closure, closure_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        clinic_setup.remove_closure(closure, actor=current_user)
    except DomainError as exc:
        _show_error(exc)
    else:
        db.session.commit()
        flash(_("Closure removed: the clinic is open again at that time."), "success")
    return redirect(url_for("scheduling.closures"))
