"""Benchmark: the lab board (`GET /lab`) with 500 open culture batches.

Builds a throw-away SQLite database (file, WAL, as in production) with the demo
clinic's resources and visit types, 500 patients each with a completed
collection and an open batch (received, in culture, waiting for QC, released,
spread over days 0–45 of culture), three cell counts, a passage and a QC result
each, and the incubator places their courses hold. Then the board is requested
through the app (a logged-in lab user, the real view and template), timed
in-process, and its SQL statements counted.

    .venv/bin/python scripts/bench_lab_board.py              # 500 batches, 30 runs
    .venv/bin/python scripts/bench_lab_board.py --batches 100 --runs 10

Target (issue 9): a fixed number of statements whatever the number of batches.
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from benchlib import bench_app, logged_in, time_page

PASSWORD = "Bench-Lab-2026"  # noqa: S105 - a throw-away database


def build(app, batches: int) -> None:
    from sqlalchemy import insert

    from intake.accounts.roles import Role
    from intake.accounts.services import create_staff
    from intake.core import settings
    from intake.cultures import coi
    from intake.cultures.lifecycle import BatchState
    from intake.cultures.models import Batch, BatchEvent, EventKind, TissueUnit
    from intake.extensions import db
    from intake.patients.models import Course, Patient
    from intake.scheduling import queries
    from intake.scheduling.demo import seed_scheduling
    from intake.scheduling.models import Appointment, AppointmentStatus, Hold, Resource

    db.create_all()
    settings.seed_defaults()
    seed_scheduling(password=PASSWORD, with_bookings=False)
    lab = create_staff(
        actor=None,
        email="lab@bench.example",
        full_name="Bench Lab",
        role=Role.LAB,
        password=PASSWORD,
        locale="en",
    )
    lab.is_password_temporary = False
    from intake.core.models import Setting

    db.session.get(Setting, "staff_two_factor_required").value = "0"
    db.session.commit()
    cal = queries.clinic_calendar()
    today = cal.today(datetime.now(UTC))
    collection = queries.visit_type_by_code("collection")
    incubator = db.session.query(Resource).filter(Resource.is_per_day.is_(True)).first()
    states = (
        BatchState.RECEIVED,
        BatchState.IN_CULTURE,
        BatchState.IN_CULTURE,
        BatchState.IN_CULTURE,
        BatchState.HARVEST_READY,
        BatchState.QC_PENDING,
        BatchState.RELEASED,
    )
    holds, events = [], []
    seats: dict[date, int] = {}
    for n in range(batches):
        day = today - timedelta(days=n % 46)
        start = datetime.combine(day, datetime.min.time(), tzinfo=cal.tz).astimezone(UTC)
        start += timedelta(hours=10)
        patient = Patient(
            family_name="Bench", given_name=f"Patient {n}", date_of_birth=date(1970, 1, 1)
        )
        course = Course(patient=patient, number=1)
        appointment = Appointment(
            patient=patient,
            course=course,
            visit_type=collection,
            start_at=start,
            end_at=start + timedelta(hours=1),
            status=AppointmentStatus.COMPLETED,
        )
        number = coi.make("TKY", day.year % 100, n + 1)
        batch = Batch(
            course=course,
            patient=patient,
            appointment=appointment,
            coi_site="TKY",
            coi_year=day.year % 100,
            coi_sequence=number.sequence,
            coi=coi.format(number),
            state=states[n % len(states)],
            planned_dose_low=100_000_000,
            planned_dose_high=200_000_000,
            collected_on=day,
            collected_by="Dr Bench",
            tissue_amount=3,
            tissue_unit=TissueUnit.PIECES,
            blood_volume_ml=50,
            received_at=start + timedelta(hours=2),
            received_by="Bench Lab",
            received_condition="intact",
        )
        db.session.add(batch)
        db.session.flush()
        for k, cells in enumerate((2_000_000, 8_000_000, 30_000_000)):
            occurred = min(start + timedelta(days=2 + 6 * k), datetime.now(UTC))
            events.append(
                {
                    "batch_id": batch.id,
                    "kind": EventKind.CELL_COUNT.value,
                    "occurred_at": occurred,
                    "cells": cells,
                    "viability_percent": Decimal("91.5"),
                    "recorded_by_id": lab.id,
                }
            )
        for offset in range(43):  # the course's incubator place, day 0 to 42
            held = day + timedelta(days=offset)
            seat = seats.get(held, 0)
            seats[held] = seat + 1
            holds.append(
                {
                    "course_id": course.id,
                    "resource_id": incubator.id,
                    "unit_start": cal.day_start(held),
                    "seat": seat,
                }
            )
    columns = {c.name for c in BatchEvent.__table__.columns}
    db.session.execute(
        insert(BatchEvent), [{k: v for k, v in e.items() if k in columns} for e in events]
    )
    db.session.execute(insert(Hold), holds)
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=500)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    from sqlalchemy import func, select

    from intake.cultures.models import Batch
    from intake.extensions import db

    with bench_app() as app:
        started = time.perf_counter()
        build(app, args.batches)
        built = time.perf_counter() - started
        count = db.session.execute(select(func.count()).select_from(Batch)).scalar_one()
        client = logged_in(app, "lab@bench.example", PASSWORD)
        board = time_page(client, "/lab", args.runs, b"data-batch")
    print(
        f"python {platform.python_version()}, sqlite {sqlite3.sqlite_version}, "
        f"{count} batches (built in {built:.1f} s), {args.runs} runs"
    )
    print(
        f"GET /lab: median {board.median_wall:.1f} ms, p90 {board.p90_wall:.1f} ms, "
        f"min {board.wall[0]:.1f} ms, CPU median {board.median_cpu:.1f} ms, "
        f"{board.statements} SQL statements a request"
    )


if __name__ == "__main__":
    main()
