"""The lab board's incubator occupancy: places used and free per day for the
next six weeks, from the hold ledger."""

from __future__ import annotations

from datetime import timedelta

from intake.accounts.roles import Role
from intake.core import settings
from intake.cultures import queries
from intake.extensions import db
from intake.scheduling import services

TUESDAY = 1


def test_occupancy_counts_the_cultures_places_per_day(
    clinic, coordinator, manager, make_approved_patient
):
    settings.update_settings({"incubator_places": "2"}, actor=manager)
    day = clinic.day(weekday=TUESDAY, min_days=3)
    for hour in ("10:00", "13:00"):
        patient = make_approved_patient()
        services.book_visit(patient.patient, "collection", clinic.at(day, hour), actor=coordinator)
    db.session.commit()
    days = queries.incubator_occupancy(today=clinic.today)
    assert len(days) == 42 and days[0].day == clinic.today
    by_day = {d.day: d for d in days}
    before = by_day[day - timedelta(days=1)]
    assert (before.used, before.free, before.capacity) == (0, 2, 2)
    on = by_day[day]
    assert (on.used, on.free, on.share) == (2, 0, 1.0)


def test_the_board_draws_the_occupancy_with_a_table_behind_it(client, clinic, login_as):
    login_as(Role.LAB)
    with client.get("/lab") as r:
        body = r.get_data(as_text=True)
    assert r.status_code == 200
    section = body.split('id="occupancy"', 1)[1].split("</section>", 1)[0]
    assert section.count("<rect") == 2 * 42 and "<table" in section
