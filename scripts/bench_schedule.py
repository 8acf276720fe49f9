"""Benchmark: the manager's week view (`GET /manager/schedule?view=week`) with
1,000 visits in the week.

Builds a throw-away SQLite database (file, WAL, as in production) with the demo
clinic's resources and visit types and 1,000 visits spread over Monday to
Saturday of one week (consultations, IV drips, collections, intrathecal
reinfusions: each with the hold rows booking writes for its room, chair, bed,
doctor and nurse), plus 200 cultures holding incubator places through the
week. Then, through the app (a logged-in manager, the real view and
template), it requests:

* the busy week (1,000 visits), and
* the baseline: the same page for an empty week, measured in the same run,

each ``--runs`` times after a warm-up, and reports the median and p90 of the
wall time, the median CPU time (``time.process_time``) per request, the ratio
of the busy week to the baseline, and the SQL statements a request sends.

    .venv/bin/python scripts/bench_schedule.py               # 1,000 visits, 30 runs
    .venv/bin/python scripts/bench_schedule.py --visits 200 --runs 10

Target (issue 11): a fixed number of statements whatever the number of visits.
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import time
from datetime import date, timedelta

from benchlib import bench_app, logged_in, time_page

PASSWORD = "Bench-Mgr-2026"  # noqa: S105 - a throw-away database
WEEK = date(2027, 3, 1)  # a Monday of an ordinary week
KINDS = (
    ("consultation", 30, ("dr-sato",)),
    ("reinfusion-iv", 90, ("infusion-chair",)),
    ("collection", 60, ("procedure-room-1", "dr-sato", "nurse-chen")),
    ("reinfusion-intrathecal", 120, ("procedure-room-1", "dr-kobayashi", "recovery-bed")),
    ("consultation", 30, ("dr-kobayashi",)),
)


def build(visits: int) -> None:
    from sqlalchemy import insert, select

    from intake.accounts.roles import Role
    from intake.accounts.services import create_staff
    from intake.core import settings
    from intake.core.models import Setting
    from intake.extensions import db
    from intake.patients.models import Course, Patient
    from intake.scheduling import queries
    from intake.scheduling.demo import seed_scheduling
    from intake.scheduling.models import (
        Appointment,
        AppointmentStatus,
        Hold,
        Resource,
        VisitType,
    )

    db.create_all()
    settings.seed_defaults()
    seed_scheduling(password=PASSWORD, with_bookings=False)
    manager = create_staff(
        actor=None,
        email="manager@bench.example",
        full_name="Bench Manager",
        role=Role.MANAGER,
        password=PASSWORD,
        locale="en",
    )
    manager.is_password_temporary = False
    db.session.get(Setting, "staff_two_factor_required").value = "0"
    db.session.commit()
    cal = queries.clinic_calendar()
    types = dict(db.session.execute(select(VisitType.code, VisitType.id)).all())
    resources = dict(db.session.execute(select(Resource.code, Resource.id)).all())
    patients = [
        Patient(family_name="Bench", given_name=f"Patient {n}", locale="en") for n in range(400)
    ]
    db.session.add_all(patients)
    db.session.flush()
    courses = [Course(patient=p, number=1) for p in patients]
    db.session.add_all(courses)
    db.session.flush()
    seats: dict = {}
    holds = []
    statuses = (AppointmentStatus.BOOKED,) * 8 + (
        AppointmentStatus.ARRIVED,
        AppointmentStatus.COMPLETED,
    )
    for n in range(visits):
        code, minutes, held = KINDS[n % len(KINDS)]
        day = WEEK + timedelta(days=n % 6)
        start = cal.day_start(day) + timedelta(hours=9, minutes=15 * (n % 32))
        result = db.session.execute(
            insert(Appointment).values(
                patient_id=patients[n % len(patients)].id,
                course_id=courses[n % len(courses)].id,
                visit_type_id=types[code],
                start_at=start,
                end_at=start + timedelta(minutes=minutes),
                status=statuses[n % len(statuses)],
            )
        )
        appointment_id = result.inserted_primary_key[0]
        for resource in held:
            for k in range(0, minutes, 15):
                unit = start + timedelta(minutes=k)
                key = (resources[resource], unit)
                seats[key] = seats.get(key, -1) + 1
                holds.append(
                    {
                        "appointment_id": appointment_id,
                        "resource_id": resources[resource],
                        "unit_start": unit,
                        "seat": seats[key],
                    }
                )
    for n, course in enumerate(courses[:200]):  # cultures holding incubator places
        first = WEEK - timedelta(days=n % 40)
        for k in range(43):
            unit = cal.day_start(first + timedelta(days=k))
            key = (resources["incubator"], unit)
            seats[key] = seats.get(key, -1) + 1
            holds.append(
                {
                    "course_id": course.id,
                    "resource_id": resources["incubator"],
                    "unit_start": unit,
                    "seat": seats[key],
                }
            )
    db.session.execute(insert(Hold), holds)
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    from sqlalchemy import func, select

    from intake.extensions import db
    from intake.scheduling.models import Appointment, Hold

    with bench_app() as app:
        started = time.perf_counter()
        build(args.visits)
        built = time.perf_counter() - started
        count = db.session.execute(select(func.count()).select_from(Appointment)).scalar_one()
        holds = db.session.execute(select(func.count()).select_from(Hold)).scalar_one()
        client = logged_in(app, "manager@bench.example", PASSWORD)
        busy = f"/manager/schedule?view=week&date={WEEK.isoformat()}"
        empty = f"/manager/schedule?view=week&date={(WEEK + timedelta(days=70)).isoformat()}"
        base = time_page(client, empty, args.runs, b'data-layout="grid"')
        full = time_page(client, busy, args.runs, b"data-visit=")
    print(
        f"python {platform.python_version()}, sqlite {sqlite3.sqlite_version}, "
        f"{count} visits in the week, {holds} hold rows (built in {built:.1f} s), "
        f"{args.runs} runs each"
    )
    for name, t in (("empty week (baseline)", base), (f"week with {count} visits", full)):
        print(
            f"{name}: median {t.median_wall:.1f} ms, p90 {t.p90_wall:.1f} ms, "
            f"CPU median {t.median_cpu:.1f} ms, {t.statements} SQL statements a request"
        )
    print(
        f"ratio busy / baseline: {full.median_wall / base.median_wall:.1f}"
        f" (wall), {full.median_cpu / base.median_cpu:.1f} (CPU)"
    )


if __name__ == "__main__":
    main()
