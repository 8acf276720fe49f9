"""Benchmark: availability of `collection` for 60 days with 20,000 existing bookings.

Builds a throw-away SQLite database (file, WAL, as in production) with the demo
clinic's resources and visit types, then 20,000 bookings spread over the last
two and a half years and the coming 120 days. Each booking's hold rows are the
ones the booking service writes (same plan, same seat chooser, same ledger
rows), inserted in bulk so the build takes seconds rather than minutes.

Then ``queries.availability("collection", today, 60, now, for_patient=True)`` is
timed in-process, each run as a fresh request would see it (new session, the
settings cache empty), and its SQL statements are counted.

    make bench                       # or: .venv/bin/python scripts/bench_availability.py
    .venv/bin/python scripts/bench_availability.py --bookings 2000 --runs 50

Targets (issue 4): median <= 25 ms, <= 4 statements whatever the data size.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# (visit type, attempts per open day): a busy clinic, reinfusions by IV drip mostly.
MIX = (
    ("consultation", 9),
    ("reinfusion-iv", 14),
    ("reinfusion-local", 3),
    ("reinfusion-intrathecal", 2),
    ("collection", 2),
)
PAST_DAYS = 900
FUTURE_DAYS = 120


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def build(bookings: int, rng: random.Random) -> dict:
    """Fill the database; returns what was made."""
    from sqlalchemy import insert

    from intake.accounts.models import User
    from intake.accounts.roles import Role
    from intake.core import settings
    from intake.core.types import utcnow
    from intake.extensions import db
    from intake.scheduling import availability as pure
    from intake.scheduling import ledger, queries
    from intake.scheduling.demo import seed_scheduling
    from intake.scheduling.models import Appointment, AppointmentStatus, Hold

    settings.seed_defaults()
    seed_scheduling(password="Bench-Only-1", with_bookings=False)  # noqa: S106
    db.session.commit()
    db.session.execute(
        insert(User),
        [
            {
                "email": f"bench{n}@example.org",
                "password_hash": "!",
                "full_name": f"Bench Patient {n}",
                "role": Role.PATIENT,
                "locale": "zh_Hans",
                "session_nonce": f"{n:016x}",
            }
            for n in range(1, 501)
        ],
    )
    db.session.commit()
    from intake.patients.models import Course, Patient

    patients = [
        Patient(family_name="Bench", given_name=f"Patient {n}", locale="zh_Hans")
        for n in range(1, 501)
    ]
    db.session.add_all(patients)
    db.session.flush()
    courses = [Course(patient=p, number=1) for p in patients]
    db.session.add_all(courses)
    db.session.commit()
    course_of = {c.patient_id: c.id for c in courses}
    patient_ids = [p.id for p in patients]

    values = settings.values()
    cal = queries.clinic_calendar(values)
    now = utcnow()
    today = cal.today(now)
    plans = {code: queries.load_plan(code, values) for code, _n in MIX}
    type_ids = {code: plan.visit_type.id for code, plan in plans.items()}
    closures = queries.load_closures(
        cal.day_start(today - timedelta(days=PAST_DAYS)),
        cal.day_start(today + timedelta(days=FUTURE_DAYS + 1)),
    )
    taken: set = set()
    appointments: list[dict] = []
    holds: list[dict] = []
    made = Counter()
    days = [today - timedelta(days=n) for n in range(PAST_DAYS, 0, -1)]
    days += [today + timedelta(days=n) for n in range(0, FUTURE_DAYS)]
    starts: dict = {}

    def structural_starts(code: str, day) -> list:
        """Starts that fit the hours, holidays and closures (capacity aside)."""
        if (code, day) not in starts:
            plan = plans[code]
            starts[code, day] = pure.free_starts(
                plan.pure,
                pure.Situation(
                    tz=cal.tz,
                    hours=cal.hours,
                    unit_minutes=cal.unit_minutes,
                    capacities={c: n.capacity for c, n in plan.needs.items()},
                    holds={},
                    closures=tuple(closures),
                    holiday_dates=cal.holidays(day, day),
                ),
                start_date=day,
                end_date=day,
            )
        return starts[code, day]

    def book_one(code: str, day) -> bool:
        plan = plans[code]
        choices = structural_starts(code, day)
        if not choices:
            return False
        start = rng.choice(choices)
        roll = rng.random()
        if start < now:
            status = (
                AppointmentStatus.CANCELLED
                if roll < 0.07
                else AppointmentStatus.NO_SHOW
                if roll < 0.10
                else AppointmentStatus.COMPLETED
            )
        else:
            status = AppointmentStatus.CANCELLED if roll < 0.05 else AppointmentStatus.BOOKED
        planned = []
        if status not in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW):
            chooser = ledger.SeatChooser(plan, cal, taken)
            for need_code, key in ledger.seats_needed(plan, cal, start):
                option = chooser.choose(need_code, key)
                if option is None:  # a seat is missing: give back what this visit took
                    taken.difference_update(planned)
                    return False
                planned.append(option)
        appointment_id = len(appointments) + 1
        patient_id = rng.choice(patient_ids)
        appointments.append(
            {
                "id": appointment_id,
                "patient_id": patient_id,
                "course_id": course_of[patient_id],
                "visit_type_id": type_ids[code],
                "start_at": start,
                "end_at": start + timedelta(minutes=plan.duration_minutes),
                "status": status,
                "created_at": start - timedelta(days=rng.randint(3, 60)),
                "updated_at": start,
                "sequence": 0,
            }
        )
        holds.extend(
            {"appointment_id": appointment_id, "resource_id": r, "unit_start": u, "seat": s}
            for r, u, s in planned
        )
        made[code] += 1
        return True

    # Passes over the calendar, a few bookings per day each time, until the
    # target is reached: the clinic fills up evenly rather than day by day.
    attempts = [code for code, n in MIX for _ in range(n)]
    while len(appointments) < bookings:
        before = len(appointments)
        for day in days:
            rng.shuffle(attempts)
            booked_today = 0
            for code in attempts:
                if booked_today >= 8 or len(appointments) >= bookings:
                    break
                booked_today += book_one(code, day)
        if len(appointments) == before:
            raise SystemExit(f"the clinic is full at {before} bookings")
    for chunk in range(0, len(appointments), 5000):
        db.session.execute(insert(Appointment), appointments[chunk : chunk + 5000])
    for chunk in range(0, len(holds), 20000):
        db.session.execute(insert(Hold), holds[chunk : chunk + 20000])
    db.session.commit()
    future = sum(1 for a in appointments if a["start_at"] >= now)
    return {
        "bookings": len(appointments),
        "holds": len(holds),
        "future": future,
        "by_type": dict(made),
    }


def measure(runs: int, code: str, days: int, *, kept: bool) -> dict:
    """``kept``: the answer may come from the kept answers (the ledger unchanged
    since the first run); else they are emptied before each run (every run computes)."""
    from flask import current_app, g
    from sqlalchemy import event

    from intake.core.types import utcnow
    from intake.extensions import db
    from intake.scheduling import queries

    timings, cpu, counts, slots = [], [], [], 0
    for _ in range(runs + 1):
        db.session.remove()
        g.pop("_clinic_settings", None)
        if not kept:
            current_app.extensions.pop("scheduling_availability", None)
        statements: list[str] = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)  # noqa: B023 - removed right after the run

        event.listen(db.engine, "before_cursor_execute", count)
        now = utcnow()
        started, cpu_started = time.perf_counter(), time.process_time()
        result = queries.availability(
            code, queries.clinic_calendar().today(now), days, now, for_patient=True
        )
        elapsed = time.perf_counter() - started
        cpu.append((time.process_time() - cpu_started) * 1000)
        event.remove(db.engine, "before_cursor_execute", count)
        timings.append(elapsed * 1000)
        counts.append(len(statements))
        slots = len(result)
    warm = timings[1:]  # the first run fills the holiday cache and the pool
    return {
        "median": statistics.median(warm),
        "p90": sorted(warm)[int(len(warm) * 0.9) - 1],
        "min": min(warm),
        "cpu": statistics.median(cpu[1:]),
        "first": timings[0],
        "statements": max(counts),
        "slots": slots,
    }


def measure_desk(app, runs: int) -> tuple:
    """The front desk's day list (``/desk``) of the busiest coming day, as the
    demo coordinator sees it: a whole request, CPU and statements."""
    from benchlib import logged_in, time_page
    from sqlalchemy import func, select

    from intake.accounts.models import User
    from intake.accounts.roles import Role
    from intake.core.models import Setting
    from intake.core.types import utcnow
    from intake.extensions import db
    from intake.scheduling import queries
    from intake.scheduling.models import Appointment

    db.session.get(Setting, "staff_two_factor_required").value = "0"
    coordinator = User(
        email="coordinator@bench.example",
        full_name="Bench Coordinator",
        role=Role.COORDINATOR,
        locale="en",
    )
    coordinator.set_password("Bench-Only-1")
    db.session.add(coordinator)
    db.session.commit()
    cal = queries.clinic_calendar()
    now = utcnow()
    starts = db.session.execute(
        select(Appointment.start_at).where(
            Appointment.start_at >= now, Appointment.start_at < now + timedelta(days=30)
        )
    ).scalars()
    # The busiest of the coming 30 days (today, empty, when none is booked).
    busiest, visits = (
        Counter(cal.local_date(s) for s in starts).most_common(1) or [(cal.today(now), 0)]
    )[0]
    db.session.remove()
    client = logged_in(app, "coordinator@bench.example", "Bench-Only-1")
    timing = time_page(client, f"/desk?day={busiest}", runs, b"desk")
    total = db.session.execute(select(func.count()).select_from(Appointment)).scalar_one()
    return busiest, visits, total, timing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bookings", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()
    if args.runs < 30:
        parser.error("use at least 30 runs")

    from intake import create_app
    from intake.extensions import db

    with tempfile.TemporaryDirectory() as folder:
        uri = f"sqlite:///{os.path.join(folder, 'bench.db')}"
        app = create_app({"SQLALCHEMY_DATABASE_URI": uri}, config_object="config.TestConfig")
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            made = build(args.bookings, random.Random(args.seed))
            built = time.perf_counter() - started
            results = {
                (code, kept): measure(args.runs, code, args.days, kept=kept)
                for code in ("collection", "consultation")
                for kept in (False, True)
            }
            desk = measure_desk(app, args.runs)
            db.session.remove()
            db.engine.dispose()

    print(
        f"machine: {os.cpu_count()} cores, {cpu_model()}, {platform.system()} {platform.release()}"
    )
    print(
        f"python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"database built in {built:.1f} s"
    )
    print(
        f"data: {made['bookings']:,} bookings ({made['future']:,} upcoming), "
        f"{made['holds']:,} hold rows; by type: {made['by_type']}"
    )
    for (code, kept), r in results.items():
        print(
            f"{code}{' (kept answer)' if kept else ''}, {args.days} days, {args.runs} runs: "
            f"median {r['median']:.1f} ms, "
            f"p90 {r['p90']:.1f} ms, min {r['min']:.1f} ms (first run {r['first']:.1f} ms), "
            f"CPU median {r['cpu']:.1f} ms; "
            f"{r['statements']} SQL statements; {r['slots']} free starts"
        )
    day, visits, total, timing = desk
    print(
        f"front desk /desk?day={day} ({visits} visits that day, {total:,} in all), "
        f"{args.runs} runs: CPU median {timing.median_cpu:.1f} ms, "
        f"wall median {timing.median_wall:.1f} ms; {timing.statements} SQL statements"
    )
    computed = results["collection", False]
    ok = computed["median"] <= 25 and computed["statements"] <= 4
    print("target (median <= 25 ms, <= 4 statements):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
