"""Capacity ahead (``/manager/capacity``): reinfusion demand per week against
the chairs and the procedure room, incubator places per day, and each
resource's utilisation per week, as SVG charts drawn here, each with its table."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from babel.dates import format_skeleton
from flask import Blueprint, render_template
from flask_babel import get_locale
from flask_babel import gettext as _

from intake.accounts.roles import Role
from intake.core import settings
from intake.core.access import role_required
from intake.core.types import utcnow
from intake.core.weekdays import WEEKDAY_LABELS
from intake.manager import capacity as pure
from intake.manager import capacity_queries
from intake.scheduling import queries as scheduling_queries

bp = Blueprint("capacity", __name__)

SERIES_COLOURS = {
    "confirmed": "#0b5d57",
    "expected": "#5c9e97",
    "undecided": "#8a939b",
    "used": "#0b5d57",
}
BAND_COLOURS = {
    "none": ("#f1f3f5", "#495057"),
    "low": ("#e3f1ef", "#212529"),
    "mid": ("#9fd0c8", "#212529"),
    "high": ("#0b5d57", "#ffffff"),
    "over": ("#b02a37", "#ffffff"),
}


def show(value) -> str:
    """A count as read on the page: whole numbers plain, shares to one decimal."""
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.1f}"


def _day_label(day: date) -> str:
    return format_skeleton("MMMd", day, locale=str(get_locale()))


def _group_titles() -> dict[str, tuple[str, str]]:
    return {
        pure.CHAIRS: (
            _("Reinfusion demand on the infusion chairs (IV drip)"),
            _("Chair capacity for reinfusion"),
        ),
        pure.ROOMS: (
            _("Reinfusion demand on the procedure room (local and intrathecal injections)"),
            _("Room capacity for reinfusion"),
        ),
    }


@bp.get("/manager/capacity")
@role_required(Role.MANAGER, Role.ADMIN)
def page():
    cal = scheduling_queries.clinic_calendar()
    today = cal.today(utcnow())
    data = capacity_queries.capacity_page(today)
    week_labels = [_day_label(w) for w in data.weeks]
    titles = _group_titles()
    demand_charts = []
    for group, plan in data.groups.items():
        rows = data.demand.weeks
        chart = pure.bar_chart(
            [
                [
                    ("confirmed", w.confirmed[group]),
                    ("expected", w.expected[group]),
                    ("undecided", w.undecided),
                ]
                for w in rows
            ],
            week_labels,
            capacity=[w.capacity[group] for w in rows],
            width=560,
            height=280,
        )
        demand_charts.append(
            {
                "id": f"demand-{group}",
                "title": titles[group][0],
                "capacity_name": titles[group][1],
                "plan": plan,
                "chart": chart,
                "rows": [(label, w, group) for label, w in zip(week_labels, rows, strict=True)],
            }
        )
    places_chart = pure.bar_chart(
        [[("used", used)] for _day, used in data.places],
        [_day_label(day) for day, _used in data.places],
        capacity=[data.places_capacity] * len(data.places),
        width=640,
        height=260,
        label_every=7,
    )
    place_weeks = [(week_labels[n], data.places[7 * n : 7 * n + 7]) for n in range(len(data.weeks))]
    heat = pure.heatmap(
        [(resource.label, [u.percent for u in usages]) for resource, usages in data.usage],
        week_labels,
        label_width=230,
        cell_width=62,
    )
    regular_closed = {d for d in range(7) if not cal.hours.by_weekday[d]}
    special_closed = sorted(d for d in data.closed_days if d.weekday() not in regular_closed)
    return render_template(
        "manager/capacity.html",
        data=data,
        today=today,
        week_labels=week_labels,
        demand_charts=demand_charts,
        places_chart=places_chart,
        place_weeks=place_weeks,
        heat=heat,
        special_closed=special_closed,
        weekday_labels=WEEKDAY_LABELS,
        show=show,
        day_label=_day_label,
        colours=SERIES_COLOURS,
        band_colours=BAND_COLOURS,
        settings_values=settings.values(),
    )
