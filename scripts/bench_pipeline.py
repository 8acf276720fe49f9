"""Benchmark: the manager's pipeline (`GET /manager/pipeline`) with 5,000 courses.

Builds a throw-away SQLite database (file, WAL, as in production) with the demo
clinic's resources and visit types and 5,000 patients, each with one course
spread evenly over the pipeline's stages: answering, awaiting review,
approved, collection booked, in culture (days 0-48, every week), released,
reinfusion confirmed, administered, in follow-up, halted. Each course has the
rows that put it there (questionnaire, collection visit, batch, doses, the
administration with its clearance and bedside check, follow-ups), written in
bulk. Then the pages are requested through the app (a logged-in manager, the
real views and templates), timed in-process (wall and CPU time), and their
SQL statements counted. The baseline is the manager's overview (`GET
/manager`, three small counts), measured in the same run, so the ratio says
how much the pipeline costs over a plain page on this machine.

    .venv/bin/python scripts/bench_pipeline.py               # 5,000 courses, 30 runs
    .venv/bin/python scripts/bench_pipeline.py --courses 500 --runs 10

Target (issue 11): a fixed number of statements (at most 5) whatever the
number of courses, and a measured time per request.
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from benchlib import bench_app, logged_in, time_page

PASSWORD = "Bench-Pipeline-2026"  # noqa: S105 - a throw-away database


def build(courses: int) -> None:
    from sqlalchemy import insert

    from intake.accounts.roles import Role
    from intake.accounts.services import create_staff
    from intake.core import settings
    from intake.core.models import Setting
    from intake.cultures import coi
    from intake.cultures.lifecycle import BatchState
    from intake.cultures.models import Batch, TissueUnit
    from intake.eligibility.models import Questionnaire, QuestionnaireStatus, QuestionSet
    from intake.extensions import db
    from intake.manager import pipeline as p
    from intake.patients.models import Course, CourseStatus, Patient
    from intake.reinfusion.models import (
        Administration,
        BedsideCheck,
        Clearance,
        Decision,
        Dose,
        DoseStatus,
        FollowUp,
        FollowUpStatus,
    )
    from intake.scheduling import queries
    from intake.scheduling.demo import seed_scheduling
    from intake.scheduling.models import Appointment, AppointmentStatus

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
    question_set = QuestionSet(version=1, definition={}, is_active=True)
    db.session.add(question_set)
    db.session.commit()
    cal = queries.clinic_calendar()
    now = datetime.now(UTC)
    today = cal.today(now)
    collection = queries.visit_type_by_code("collection")
    reinfusion = queries.visit_type_by_code("reinfusion-iv")

    def at(day: date) -> datetime:
        local = datetime.combine(day, datetime.min.time(), tzinfo=cal.tz) + timedelta(hours=10)
        return local.astimezone(UTC)

    rows: dict[type, list[dict]] = {
        m: []
        for m in (
            Patient,
            Course,
            Questionnaire,
            Appointment,
            Batch,
            Dose,
            Clearance,
            BedsideCheck,
            Administration,
            FollowUp,
        )
    }
    ids = dict.fromkeys(rows, 0)

    def add(model, **values) -> int:
        ids[model] += 1
        rows[model].append({"id": ids[model], **values})
        return ids[model]

    def visit(patient_id, course_id, visit_type, day, status):
        start = at(day)
        return add(
            Appointment,
            patient_id=patient_id,
            course_id=course_id,
            visit_type_id=visit_type.id,
            start_at=start,
            end_at=start + timedelta(hours=1),
            status=status,
        )

    for n in range(courses):
        stage = p.STAGES[n % len(p.STAGES)]
        patient_id = add(
            Patient,
            record_number=f"B{n + 1:07d}",
            family_name="Bench",
            given_name=f"Patient {n}",
            date_of_birth=date(1970, 1, 1),
            locale="en",
        )
        halted = stage == p.HALTED
        course_id = add(
            Course,
            patient_id=patient_id,
            number=1,
            status=CourseStatus.HALTED if halted else CourseStatus.OPEN,
            opened_at=now - timedelta(days=60 + n % 30),
            closed_at=now - timedelta(days=n % 120) if halted else None,
        )
        status = {
            p.ANSWERING: QuestionnaireStatus.DRAFT,
            p.AWAITING_REVIEW: QuestionnaireStatus.SUBMITTED,
        }.get(stage, QuestionnaireStatus.APPROVED)
        add(
            Questionnaire,
            patient_id=patient_id,
            course_id=course_id,
            question_set_id=question_set.id,
            status=status,
            answers={},
            reasons=[],
        )
        if stage == p.COLLECTION_BOOKED:
            visit(patient_id, course_id, collection, today + timedelta(days=3 + n % 60), "booked")
        if stage in (p.ANSWERING, p.AWAITING_REVIEW, p.APPROVED, p.COLLECTION_BOOKED, p.HALTED):
            continue
        days_ago = {p.IN_CULTURE: n % 49, p.RELEASED: 30, p.REINFUSION_CONFIRMED: 32}.get(stage, 60)
        day = today - timedelta(days=days_ago)
        appointment = visit(patient_id, course_id, collection, day, AppointmentStatus.COMPLETED)
        state = {
            p.IN_CULTURE: (BatchState.RECEIVED, BatchState.IN_CULTURE, BatchState.QC_PENDING)[
                n % 3
            ],
            p.RELEASED: BatchState.RELEASED,
            p.REINFUSION_CONFIRMED: BatchState.RELEASED,
        }.get(stage, BatchState.ADMINISTERED)
        number = coi.make("BEN", day.year % 100, n + 1)
        batch_id = add(
            Batch,
            course_id=course_id,
            patient_id=patient_id,
            appointment_id=appointment,
            coi_site="BEN",
            coi_year=day.year % 100,
            coi_sequence=number.sequence,
            coi=coi.format(number),
            state=state,
            planned_dose_low=100_000_000,
            planned_dose_high=200_000_000,
            later_doses=0,
            collected_on=day,
            collected_by="Dr Bench",
            tissue_amount=3,
            tissue_unit=TissueUnit.PIECES,
            blood_volume_ml=50,
            received_at=at(day) + timedelta(hours=2),
        )
        if stage == p.REINFUSION_CONFIRMED:
            booked = visit(patient_id, course_id, reinfusion, today + timedelta(days=10), "booked")
            add(
                Dose,
                course_id=course_id,
                patient_id=patient_id,
                batch_id=batch_id,
                number=1,
                route="iv",
                planned_cells=100_000_000,
                status=DoseStatus.CONFIRMED,
                appointment_id=booked,
            )
        if stage in (p.ADMINISTERED, p.IN_FOLLOW_UP):
            given_day = today - timedelta(days=20)
            done = visit(patient_id, course_id, reinfusion, given_day, AppointmentStatus.COMPLETED)
            dose_id = add(
                Dose,
                course_id=course_id,
                patient_id=patient_id,
                batch_id=batch_id,
                number=1,
                route="iv",
                planned_cells=100_000_000,
                status=DoseStatus.ADMINISTERED,
                appointment_id=done,
            )
            common = {"course_id": course_id, "patient_id": patient_id}
            clearance = add(
                Clearance,
                appointment_id=done,
                dose_id=dose_id,
                doctor_id=manager.id,
                systolic=120,
                diastolic=80,
                pulse=70,
                temperature_c=Decimal("36.5"),
                spo2=98,
                decision=Decision.GO,
                **common,
            )
            check = add(
                BedsideCheck,
                appointment_id=done,
                dose_id=dose_id,
                label_read=coi.format(number),
                batch_id=batch_id,
                name_read="Bench",
                date_of_birth_read=date(1970, 1, 1),
                matched=True,
                checked_by_id=manager.id,
                **common,
            )
            start = at(given_day)
            given = add(
                Administration,
                dose_id=dose_id,
                appointment_id=done,
                batch_id=batch_id,
                clearance_id=clearance,
                bedside_check_id=check,
                route="iv",
                cells_given=100_000_000,
                started_at=start,
                ended_at=start + timedelta(hours=1),
                observed_until=start + timedelta(hours=2),
                systolic_after=120,
                diastolic_after=80,
                pulse_after=70,
                temperature_c_after=Decimal("36.6"),
                spo2_after=98,
                given_by_id=manager.id,
                **common,
            )
            for days_after in (7, 30, 90, 180):
                done_already = stage == p.ADMINISTERED or days_after == 7
                add(
                    FollowUp,
                    administration_id=given,
                    days_after=days_after,
                    due_on=given_day + timedelta(days=days_after),
                    status=FollowUpStatus.DONE if done_already else FollowUpStatus.OPEN,
                    **common,
                )
    for model, values in rows.items():
        if values:
            db.session.execute(insert(model), values)
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--courses", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    from sqlalchemy import func, select

    from intake.extensions import db
    from intake.patients.models import Course

    with bench_app() as app:
        started = time.perf_counter()
        build(args.courses)
        built = time.perf_counter() - started
        count = db.session.execute(select(func.count()).select_from(Course)).scalar_one()
        client = logged_in(app, "manager@bench.example", PASSWORD)
        pages = (
            ("/manager", b"Overview"),
            ("/manager/pipeline", b"pipeline-total"),
            ("/manager/pipeline/in_culture", b"stage-list"),
            ("/manager/pipeline/awaiting_review?page=5", b"stage-list"),
        )
        results = {url: time_page(client, url, args.runs, marker) for url, marker in pages}
    print(
        f"python {platform.python_version()}, sqlite {sqlite3.sqlite_version}, "
        f"{count} courses (built in {built:.1f} s), {args.runs} runs each"
    )
    base = results["/manager"]
    print("| request | median (wall) | median CPU | CPU ratio to /manager | SQL statements |")
    print("|---|---|---|---|---|")
    for url, t in results.items():
        print(
            f"| `GET {url}` | {t.median_wall:.1f} ms | {t.median_cpu:.1f} ms | "
            f"{t.median_cpu / base.median_cpu:.1f} × | {t.statements} |"
        )


if __name__ == "__main__":
    main()
