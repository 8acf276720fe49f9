"""The schedule across resources (day, week, month) and its CSV export.

Who reads it: managers, and the coordinators and doctors who run the days
(they already see every visit on the desk's day list). The administrator,
who may not open a patient's record, does not. The export, a file of
patient names leaving the app, is the manager's, and leaves an audit row.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from babel.dates import get_day_names
from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from intake.accounts.roles import Role
from intake.core import audit, parsing
from intake.core.access import role_required
from intake.core.types import utcnow
from intake.extensions import db
from intake.manager import schedule as pure
from intake.manager import schedule_queries
from intake.scheduling.models import MODE_LABELS, RESOURCE_KIND_LABELS, STATUS_LABELS, VisitMode
from intake.scheduling.views._common import day_label, long_day_label, time_label, zone_label

SCHEDULE_READERS = (Role.MANAGER, Role.COORDINATOR, Role.DOCTOR)
EXPORTERS = (Role.MANAGER,)


def register(bp) -> None:
    """Add the schedule's routes to the manager's blueprint (``manager.views``
    calls this, so this module need not import it)."""
    bp.add_url_rule("/manager/schedule", view_func=schedule, methods=["GET"])
    bp.add_url_rule("/manager/schedule/export", view_func=schedule_export, methods=["GET"])
    bp.add_url_rule("/manager/schedule.csv", view_func=schedule_csv, methods=["GET"])


@dataclass(frozen=True)
class ScheduleExport:
    """What the audit row of an export names: the range of days."""

    id: str
    __tablename__ = "schedule_exports"


def _id_arg(name: str) -> tuple[int | None, bool]:
    """An id from the query string: (id or None, whether something unreadable came)."""
    try:
        return parsing.parse_int(request.args.get(name), minimum=1, maximum=parsing.ID_MAX), False
    except parsing.ParseError:
        return None, True


def _read_filters(today: date):
    view = pure.parse_view(request.args.get("view"))
    if view is None:
        if request.args.get("view"):
            flash(_("Choose the day, week or month view; the week is shown."), "warning")
        view = pure.View.WEEK
    try:
        anchor = parsing.parse_date(request.args.get("date")) or today
    except parsing.ParseError as exc:
        flash(
            _("The date could not be read, so today is shown. %(reason)s", reason=exc.text(_)),
            "warning",
        )
        anchor = today
    resource_id, bad_resource = _id_arg("resource")
    visit_type_id, bad_type = _id_arg("visit_type")
    return view, anchor, resource_id, bad_resource, visit_type_id, bad_type


@role_required(*SCHEDULE_READERS)
def schedule():
    now = utcnow()
    data_today = schedule_queries.scheduling.clinic_calendar().today(now)
    view, anchor, resource_id, bad_resource, visit_type_id, bad_type = _read_filters(data_today)
    first, last = pure.window(view, anchor)
    data = schedule_queries.schedule(first, last)
    cal = data.cal
    by_id = data.resource_by_id
    types = data.visit_type_by_id

    if bad_resource or (resource_id is not None and resource_id not in by_id):
        flash(_("That resource is not in the list; every resource is shown."), "warning")
        resource_id = None
    if bad_type or (visit_type_id is not None and visit_type_id not in types):
        flash(_("That visit type is not in the list; every visit type is shown."), "warning")
        visit_type_id = None

    lanes, places, visits = data.lanes, data.places, data.visits
    if visit_type_id is not None:
        visits = [v for v in visits if v.visit_type_id == visit_type_id]
    if resource_id is not None:
        chosen = by_id[resource_id]
        wanted = {resource_id} | {r.id for r in data.resources if r.pool_id == resource_id}
        lanes = [lane for lane in lanes if lane.id in wanted]
        places = [p for p in places if p.resource.id == resource_id]
        lane_ids = {lane.id for lane in lanes}
        visits = [v for v in visits if lane_ids & set(v.resource_ids)]
        if chosen.is_per_day:
            visits = []
    lane_ids = [lane.id for lane in lanes]
    cells = pure.by_day_and_lane(visits, cal.tz, lane_ids)
    shown_lanes = list(lanes)
    if any(key[1] == pure.NO_RESOURCE for key in cells):
        shown_lanes.append(
            pure.Lane(id=pure.NO_RESOURCE, label=_("No resource held"), kind="", capacity=0)
        )
    days = pure.days_of(first, last)

    def link(**changes) -> str:
        args = {
            "view": view.value,
            "date": anchor.isoformat(),
            "resource": resource_id,
            "visit_type": visit_type_id,
        }
        args.update(changes)
        return url_for("manager.schedule", **{k: v for k, v in args.items() if v is not None})

    previous, following = pure.step(view, anchor, -1), pure.step(view, anchor, 1)
    grid = None
    if view == pure.View.DAY:
        grid = pure.day_grid(
            anchor,
            [lane.id for lane in shown_lanes],
            cells,
            cal.tz,
            unit_minutes=cal.unit_minutes,
            opening=[] if data.days[anchor].is_closed else list(cal.hours.on(anchor)),
        )
    chip_labels = _chip_labels(visits, types)
    lane_names = {lane.id: lane.label for lane in shown_lanes}
    for r in data.resources:
        lane_names.setdefault(r.id, r.label)
    return render_template(
        "manager/schedule.html",
        view=view,
        views=[(v, _(pure.VIEW_LABELS[v])) for v in pure.View],
        anchor=anchor,
        today=data_today,
        first=first,
        last=last,
        days=days,
        day_info=data.days,
        title=_title(view, first, last),
        lanes=shown_lanes,
        cells=cells,
        all_visits=visits,
        chip_labels=chip_labels,
        by_day=pure.by_day(visits, cal.tz),
        places=places,
        grid=grid,
        weeks=pure.month_weeks(first, last) if view == pure.View.MONTH else [],
        month_day_visits=pure.MONTH_DAY_VISITS,
        weekday_names=[get_day_names("abbreviated", locale=get_locale())[n] for n in range(7)],
        resources=data.resources,
        visit_types=data.visit_types,
        resource_id=resource_id,
        visit_type_id=visit_type_id,
        type_label=lambda vid: types[vid].label if vid in types else "",
        lane_names=lane_names,
        kind_labels=RESOURCE_KIND_LABELS,
        status_labels=STATUS_LABELS,
        mode_labels=MODE_LABELS,
        time_label=time_label,
        local_time=lambda t: t.strftime("%H:%M"),
        day_label=day_label,
        long_day_label=long_day_label,
        zone=zone_label(cal, cal.day_start(anchor) + timedelta(hours=12)),
        link=link,
        previous=link(date=previous.isoformat()) if previous else None,
        following=link(date=following.isoformat()) if following else None,
        can_export=current_user.role in EXPORTERS,
        visit_count=len(visits),
    )


STATUS_BADGES = {
    "booked": "text-bg-primary",
    "arrived": "text-bg-info",
    "completed": "text-bg-success",
    "no_show": "text-bg-warning",
    "cancelled": "text-bg-secondary",
}


def _chip_labels(visits: list[pure.Visit], types: dict) -> dict[int, dict[str, str]]:
    """Each visit's words, worked out once: its times (each distinct time
    formatted once), the link to the visit, the visit type and the status."""
    times: dict[datetime, str] = {}

    def label(instant: datetime) -> str:
        if instant not in times:
            times[instant] = time_label(instant)
        return times[instant]

    href = url_for("scheduling.desk_visit", appointment_id=0)[: -len("0")]
    type_names = {vid: t.label for vid, t in types.items()}
    video = _(MODE_LABELS[VisitMode.VIDEO])
    statuses = {str(code): _(text) for code, text in STATUS_LABELS.items()}
    return {
        v.id: {
            "times": f"{label(v.start_at)}–{label(v.end_at)}",
            "href": f"{href}{v.id}",
            "type": type_names.get(v.visit_type_id, "")
            + (f" · {video}" if v.mode == "video" else ""),
            "status": statuses.get(v.status, v.status),
            "badge": STATUS_BADGES.get(v.status, "text-bg-secondary"),
        }
        for v in visits
    }


def _title(view: pure.View, first: date, last: date) -> str:
    if view == pure.View.DAY:
        return long_day_label(first)
    if view == pure.View.WEEK:
        return _("%(first)s to %(last)s", first=day_label(first), last=long_day_label(last))
    return format_date(first, "MMMM y")


# --------------------------------------------------------------------------- the export


@role_required(*EXPORTERS)
def schedule_export():
    """The export's form; with ``from``/``to`` given (sent back by the CSV
    route when they were wrong), their messages beside the fields."""
    typed = {"from": request.args.get("from", "")[:40], "to": request.args.get("to", "")[:40]}
    errors = {}
    if "from" in request.args or "to" in request.args:
        result = pure.export_range(typed["from"], typed["to"])
        errors = {name: _(message) % params if params else _(message)
                  for name, (message, params) in result.errors.items()}  # fmt: skip
    typed = {k: v.replace("\x00", "") for k, v in typed.items()}
    return render_template(
        "manager/schedule_export.html",
        typed=typed,
        errors=errors,
        max_days=pure.MAX_EXPORT_DAYS,
        zone=schedule_queries.scheduling.clinic_calendar().tz.key,
    ), (400 if errors else 200)


@role_required(*EXPORTERS)
def schedule_csv():
    first_text, last_text = request.args.get("from"), request.args.get("to")
    result = pure.export_range(first_text, last_text)
    if not result.ok:
        return redirect(
            url_for(
                "manager.schedule_export",
                **{"from": (first_text or "")[:40], "to": (last_text or "")[:40]},
            )
        )
    data = schedule_queries.schedule(result.first, result.last, include_cancelled=True)
    body = _csv(data)
    audit.record(
        actor=current_user,
        action="manager.schedule_export",
        entity=ScheduleExport(id=f"{result.first.isoformat()}/{result.last.isoformat()}"),
        after={
            "from": result.first.isoformat(),
            "to": result.last.isoformat(),
            "visits": len(data.visits),
        },
    )
    db.session.commit()
    name = f"schedule-{result.first.isoformat()}-{result.last.isoformat()}.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _csv(data: schedule_queries.ScheduleData) -> str:
    """The visits of the range, one a line, in the reader's language; UTF-8
    with a byte-order mark so that spreadsheets read the names right."""
    tz = data.cal.tz
    names = {r.id: r.label for r in data.resources}
    types = data.visit_type_by_id
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            _("Date"),
            _("Start"),
            _("End"),
            _("Time zone"),
            _("Patient"),
            _("Name in Latin letters"),
            _("Record number"),
            _("Visit type"),
            _("Mode"),
            _("Status"),
            _("Resources"),
            _("Visit number"),
        ]
    )
    for v in pure.sort_visits(data.visits):
        start, end = v.start_at.astimezone(tz), v.end_at.astimezone(tz)
        record, latin = data.extra.get(v.id, ("", ""))
        vt = types.get(v.visit_type_id)
        writer.writerow(
            [
                pure.csv_cell(value)
                for value in (
                    start.date().isoformat(),
                    start.strftime("%H:%M"),
                    end.strftime("%H:%M"),
                    _zone_name(start, tz.key),
                    v.patient_name,
                    latin,
                    record,
                    vt.label if vt else "",
                    _(MODE_LABELS[v.mode]) if v.mode in MODE_LABELS else "",
                    _(STATUS_LABELS[v.status]) if v.status in STATUS_LABELS else v.status,
                    "; ".join(names.get(rid, str(rid)) for rid in v.resource_ids),
                    v.id,
                )
            ]
        )
    return out.getvalue()


def _zone_name(local: datetime, key: str) -> str:
    return f"{local.tzname()}, {key}"
