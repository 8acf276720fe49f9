"""A clinic group's database, built fast, for the page benchmarks.

``seed(target, scale=1.0)`` migrates an empty database (``flask db upgrade``:
the real schema), seeds the demo clinic (its staff, settings, resources and
the demo patients, whose journeys are the richest), then adds in bulk, at
``scale=1``:

* 20,000 patients, each with a login and one course, spread over the
  pipeline: answering, awaiting the doctor's review, approved, collection
  booked, declined, halted, in culture, released, reinfusion confirmed,
  administered (in follow-up or completed);
* three years of visits (consultations, collections, reinfusions) with the
  hold rows booking writes: the booking service's own plan and seat chooser
  choose every seat, so no two visits share one (the clinic group has more
  incubator places and infusion chairs than the demo clinic);
* 5,000 culture batches in every lifecycle state with their lab records
  (receipt, cell counts, passages, QC results, state changes), doses,
  clearances, bedside checks, administrations and follow-ups;
* 100,000 audit rows and 40,000 outbox messages.

Every row goes in with multi-row inserts; nothing is hashed but the demo
staff's passwords. The bench patient (a rich journey: two doses, a follow-up,
an adverse event) is the demo's ``demo.patient16@demo.clinic``.

    PYTHONPATH=. .venv/bin/python scripts/bigclinic.py /tmp/clinic.db
    PYTHONPATH=. .venv/bin/python scripts/bigclinic.py /tmp/small.db --scale 0.05
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PATIENTS = 20_000
BATCHES = 5_000
AUDIT_ROWS = 100_000
MESSAGES = 40_000
PAST_DAYS = 3 * 365
#: A clinic group: more incubator places and infusion chairs than the demo
#: clinic, three procedure rooms, more recovery beds, doctors and nurses.
CAPACITY = {"incubator_places": "400", "infusion_chairs": "12"}
ROOMS = {"procedure-room-1": 3, "recovery-bed": 4}
EXTRA_STAFF = {"doctor": 6, "nurse": 4}

#: The demo accounts the benchmark logs in as (README, ``intake.accounts.demo``).
BENCH_PATIENT = ("demo.patient16@demo.clinic", "Sakura-Demo-26")
STAFF = {
    "coordinator": ("coordinator@demo.clinic", "Sakura-Coord-26"),
    "doctor": ("doctor@demo.clinic", "Sakura-Dr-26"),
    "lab": ("lab@demo.clinic", "Sakura-Cpc-26"),
    "manager": ("manager@demo.clinic", "Sakura-Mgr-26"),
}

# Courses without a batch, by weight.
EARLY_STAGES = (
    ("answering", 30),
    ("awaiting_review", 10),
    ("approved", 18),
    ("collection_booked", 8),
    ("declined", 20),
    ("halted", 14),
)
FAMILY = ("Wang", "Li", "Zhang", "Liu", "Chen", "Yamada", "Sato", "Suzuki", "Smith", "Tanaka")
GIVEN = ("Wei", "Fang", "Min", "Jie", "Hanako", "Taro", "Anna", "Yuki", "Lei", "Mei")
LOCALES = ("zh_Hans", "zh_Hans", "ja", "en")
TEMPLATES = (
    "booking_confirmed",
    "booking_reminder",
    "booking_cancelled",
    "reinfusion_confirmed",
    "reinfusion_moved",
    "follow_up_invite",
)
AUDIT_ACTIONS = (
    ("patients", "eligibility.questionnaire_save"),
    ("patients", "eligibility.questionnaire_submit"),
    ("patients", "accounts.login"),
    ("appointments", "scheduling.book"),
    ("appointments", "scheduling.remind"),
    ("appointments", "scheduling.arrive"),
    ("appointments", "scheduling.complete"),
    ("batches", "cultures.record"),
    ("batches", "cultures.transition"),
    ("batches", "cultures.receive"),
)


def pages() -> list[tuple[str, str | None, str]]:
    """The key pages: (name, who asks (a key of ``STAFF``, "patient" or None
    for anyone), URL), read from the seeded database (inside an app context):
    the batch page shows the lab's newest batch in culture, the manager's week
    is the current one."""
    from sqlalchemy import select

    from intake.core.types import utcnow
    from intake.cultures.lifecycle import BatchState
    from intake.cultures.models import Batch
    from intake.extensions import db
    from intake.scheduling import queries

    today = queries.clinic_calendar().today(utcnow())
    batch_id = db.session.execute(
        select(Batch.id)
        .where(Batch.state == BatchState.IN_CULTURE)
        .order_by(Batch.collected_on, Batch.id)
        .limit(1)
    ).scalar_one()
    start = today.isoformat()
    return [
        ("journey", "patient", "/journey"),
        ("me", "patient", "/me"),
        (
            "availability_collection",
            None,
            f"/scheduling/availability?service=collection&start={start}&days=60",
        ),
        (
            "availability_consultation",
            None,
            f"/scheduling/availability?service=consultation&start={start}&days=60",
        ),
        ("desk", "coordinator", "/desk"),
        ("worklist", "doctor", "/worklist"),
        ("reviews", "doctor", "/reviews"),
        ("lab", "lab", "/lab"),
        ("batch", "lab", f"/lab/batches/{batch_id}"),
        ("manager_week", "manager", f"/manager/schedule?view=week&date={start}"),
        ("pipeline", "manager", "/manager/pipeline"),
    ]


def login(role: str | None) -> tuple[str, str] | None:
    """The e-mail and password of who asks for a page (None: anyone)."""
    if role is None:
        return None
    return BENCH_PATIENT if role == "patient" else STAFF[role]


def database_url(target: str) -> str:
    """A URL as is; a path becomes a SQLite URL."""
    if "://" in target:
        return target
    return f"sqlite:///{Path(target).resolve()}"


def make_app(url: str, **overrides):
    from intake import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, **overrides}, config_object="config.Config")


class Rows:
    """Rows per model with their ids, numbered after the ones already stored."""

    def __init__(self, start_ids: dict) -> None:
        self.rows: dict = {}
        self.ids = dict(start_ids)

    def add(self, model, **values) -> int:
        self.ids[model] = self.ids.get(model, 0) + 1
        self.rows.setdefault(model, []).append({"id": self.ids[model], **values})
        return self.ids[model]

    def count(self, model) -> int:
        return len(self.rows.get(model, ()))


def seed(target: str, scale: float = 1.0, *, rng_seed: int = 7, log=print) -> dict:
    """Builds the big clinic in ``target`` (an empty database: a path or URL)."""
    from flask import g
    from flask_migrate import upgrade

    from intake import demo
    from intake.extensions import db

    started = time.perf_counter()
    url = database_url(target)
    app = make_app(url, PASSWORD_HASH_METHOD="pbkdf2:sha256:1000")  # noqa: S106
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        log(f"schema ready ({time.perf_counter() - started:.1f} s)")
        demo.seed()
        from intake.core.models import Setting

        for key, value in CAPACITY.items():
            db.session.get(Setting, key).value = value
        _grow_clinic()
        db.session.commit()
        g.pop("_clinic_settings", None)
        log(f"demo clinic seeded ({time.perf_counter() - started:.1f} s)")
        made = _bulk(scale, random.Random(rng_seed), log)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    made["seconds"] = round(time.perf_counter() - started, 1)
    log(f"big clinic ready in {made['seconds']} s: {made}")
    return made


def _grow_clinic() -> None:
    """The clinic group's extra rooms and staff (pool members working Monday
    to Saturday)."""
    from sqlalchemy import select

    from intake.extensions import db
    from intake.scheduling.models import Resource, ResourceKind, format_weekdays

    resources = {r.code: r for r in db.session.execute(select(Resource)).scalars()}
    for code, capacity in ROOMS.items():
        resources[code].capacity = capacity
    for pool, count in EXTRA_STAFF.items():
        for n in range(1, count + 1):
            label = f"{pool.title()} {n} (group)"
            db.session.add(
                Resource(
                    code=f"{pool}-group-{n}",
                    kind=ResourceKind.STAFF,
                    names={"en": label, "zh_Hans": label, "ja": label},
                    capacity=1,
                    pool=resources[pool],
                    working_weekdays=format_weekdays((0, 1, 2, 3, 4, 5)),
                    position=100 + n,
                )
            )
    db.session.flush()


def _bulk(scale: float, rng: random.Random, log) -> dict:  # noqa: C901 - one linear build
    from sqlalchemy import func, insert, select, text

    from intake.accounts.models import User
    from intake.accounts.roles import Role
    from intake.core import settings
    from intake.core.models import AuditEntry
    from intake.core.types import utcnow
    from intake.cultures import coi
    from intake.cultures.lifecycle import BatchState
    from intake.cultures.models import Batch, BatchEvent, EventKind, TissueUnit
    from intake.eligibility.models import (
        Outcome,
        Questionnaire,
        QuestionnaireStatus,
        QuestionSet,
    )
    from intake.extensions import db
    from intake.notifications.models import DeliveryStatus, Message
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
    from intake.scheduling import availability as pure
    from intake.scheduling import ledger, queries
    from intake.scheduling.models import Appointment, AppointmentStatus, Hold

    n_patients = max(20, round(PATIENTS * scale))
    n_batches = max(10, round(BATCHES * scale))
    n_audit = max(100, round(AUDIT_ROWS * scale))
    n_messages = max(40, round(MESSAGES * scale))

    models = (
        User,
        Patient,
        Course,
        Questionnaire,
        Appointment,
        Hold,
        Batch,
        BatchEvent,
        Dose,
        Clearance,
        BedsideCheck,
        Administration,
        FollowUp,
        AuditEntry,
        Message,
    )
    rows = Rows({m: db.session.execute(select(func.max(m.id))).scalar_one() or 0 for m in models})
    staff: dict = {}
    for role, user_id in db.session.execute(
        select(User.role, User.id).where(User.role != Role.PATIENT).order_by(User.id)
    ):
        staff.setdefault(role, user_id)
    doctor_id = staff[Role.DOCTOR]
    lab_id = staff[Role.LAB]
    staff_ids = list(db.session.execute(select(User.id).where(User.role != Role.PATIENT)).scalars())
    question_set_id = db.session.execute(
        select(QuestionSet.id).where(QuestionSet.is_active.is_(True))
    ).scalar_one()

    values = settings.values()
    cal = queries.clinic_calendar(values)
    now = utcnow()
    today = cal.today(now)
    codes = ("consultation", "collection", "reinfusion-iv")
    plans = {code: queries.load_plan(code, values) for code in codes}
    closures = queries.load_closures(
        cal.day_start(today - timedelta(days=PAST_DAYS + 10)),
        cal.day_start(today + timedelta(days=200)),
    )
    taken: set = {
        tuple(row)
        for row in db.session.execute(select(Hold.resource_id, Hold.unit_start, Hold.seat))
    }
    structural: dict = {}
    no_seat = Counter()
    kinds = {code: plan.visit_type.kind for code, plan in plans.items()}
    claims = {"consultation", "collection"}

    def starts_on(code: str, day: date) -> list:
        if (code, day) not in structural:
            plan = plans[code]
            structural[code, day] = pure.free_starts(
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
        return structural[code, day]

    def visit(code, patient_id, course_id, day, *, status=None, tries=21):
        """A visit of ``code`` on ``day`` (or the next days with a free seat),
        with its holds; returns (appointment id, its local day)."""
        plan = plans[code]
        for offset in range(tries):
            when = day + timedelta(days=offset)
            choices = starts_on(code, when)
            if not choices:
                continue
            for start in rng.sample(choices, min(6, len(choices))):
                chooser = ledger.SeatChooser(plan, cal, taken)
                planned = []
                for need_code, key in ledger.seats_needed(plan, cal, start):
                    option = chooser.choose(need_code, key)
                    if option is None:
                        taken.difference_update(planned)
                        planned = None
                        break
                    planned.append((need_code, option))
                if planned is not None:
                    break
            else:
                continue
            if status is None:
                if start + timedelta(minutes=plan.duration_minutes) < now:
                    status = AppointmentStatus.COMPLETED
                elif start <= now:
                    status = AppointmentStatus.ARRIVED
                else:
                    status = AppointmentStatus.BOOKED
            active = status in (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED)
            appointment_id = rows.add(
                Appointment,
                patient_id=patient_id,
                course_id=course_id,
                visit_type_id=plan.visit_type.id,
                start_at=start,
                end_at=start + timedelta(minutes=plan.duration_minutes),
                status=status,
                booked_by_id=None,
                created_at=start - timedelta(days=rng.randint(3, 40)),
                updated_at=min(start, now),
                status_changed_at=min(start, now) if not active else None,
                sequence=0,
                upcoming_kind=kinds[code] if active and code in claims else None,
            )
            for need_code, (resource_id, unit_start, seat) in planned:
                per_day = plan.needs[need_code].is_per_day
                rows.add(
                    Hold,
                    appointment_id=None if per_day else appointment_id,
                    course_id=course_id if per_day else None,
                    resource_id=resource_id,
                    unit_start=unit_start,
                    seat=seat,
                )
            return appointment_id, when, start
        no_seat[code] += 1
        return None, day, None

    def at(day: date, hour: int = 10) -> datetime:
        local = datetime.combine(day, datetime.min.time(), tzinfo=cal.tz)
        return (local + timedelta(hours=hour)).astimezone(UTC)

    # ----------------------------------------------------------------- patients
    stage_pool = [name for name, weight in EARLY_STAGES for _ in range(weight)]
    courses = []  # (patient id, user id, course index, stage, locale)
    for n in range(n_patients):
        locale = LOCALES[n % len(LOCALES)]
        family, given = FAMILY[n % len(FAMILY)], GIVEN[(n // 10) % len(GIVEN)]
        user_id = rows.add(
            User,
            email=f"p{n:06d}@bigclinic.example",
            password_hash="!",  # noqa: S106 - no password: these patients never log in
            full_name=f"{given} {family} {n}",
            role=Role.PATIENT,
            locale=locale,
            is_active=True,
            is_password_temporary=False,
            session_nonce=f"{n:032x}",
            failed_logins=0,
            created_at=now - timedelta(days=rng.randint(1, PAST_DAYS)),
            updated_at=now,
        )
        patient_id = rows.add(
            Patient,
            record_number=f"G{n + 1:07d}",
            family_name=family,
            given_name=f"{given} {n}",
            date_of_birth=date(1945 + n % 50, 1 + n % 12, 1 + n % 28),
            phone=f"+86 138 {n:08d}",
            phone_digits=f"86138{n:08d}",
            email=f"p{n:06d}@bigclinic.example",
            locale=locale,
            user_id=user_id,
            created_at=now - timedelta(days=rng.randint(1, PAST_DAYS)),
            updated_at=now,
        )
        stage = "cultured" if n < n_batches else rng.choice(stage_pool)
        courses.append((patient_id, user_id, stage, locale))
    log(f"{len(courses)} patients planned")

    # --------------------------------------------------------------- the courses
    coi_sequences: Counter = Counter()
    batch_ids = []
    state_count = Counter()

    def questionnaire(patient_id, course_id, status, submitted):
        rows.add(
            Questionnaire,
            patient_id=patient_id,
            course_id=course_id,
            question_set_id=question_set_id,
            status=status,
            answers={},
            current_page=None,
            created_at=submitted - timedelta(days=3),
            updated_at=submitted,
            submitted_at=None if status == QuestionnaireStatus.DRAFT else submitted,
            outcome=None
            if status == QuestionnaireStatus.DRAFT
            else (Outcome.NEEDS_REVIEW if rng.random() < 0.4 else Outcome.ELIGIBLE),
            reasons=[],
        )

    for n, (patient_id, _user_id, stage, _locale) in enumerate(courses):
        if stage == "cultured":
            # The newest tenth are in the lab now; the rest spread over three years.
            if n >= n_batches * 0.9:
                collected = today - timedelta(
                    days=int(49 * (n - n_batches * 0.9) / (n_batches * 0.1))
                )
            else:
                collected = today - timedelta(days=50 + int((PAST_DAYS - 60) * n / n_batches))
        else:
            collected = None
        back = {
            "answering": (1, 60),
            "awaiting_review": (8, 60),
            "approved": (10, 200),
            "collection_booked": (10, 120),
        }.get(stage, (30, PAST_DAYS))
        opened = (
            at(collected - timedelta(days=40))
            if collected
            else now - timedelta(days=rng.randint(*back))
        )
        status = {
            "declined": CourseStatus.DECLINED,
            "halted": CourseStatus.HALTED,
        }.get(stage, CourseStatus.OPEN)
        closed_at = opened + timedelta(days=20) if status != CourseStatus.OPEN else None
        course_id = rows.add(
            Course,
            patient_id=patient_id,
            number=1,
            status=status,
            opened_at=opened,
            closed_at=closed_at,
            close_reason="closed" if closed_at else None,
        )
        course_row = rows.rows[Course][-1]
        q_status = {
            "answering": QuestionnaireStatus.DRAFT,
            "awaiting_review": QuestionnaireStatus.SUBMITTED,
            "declined": QuestionnaireStatus.DECLINED,
        }.get(stage, QuestionnaireStatus.APPROVED)
        if stage == "awaiting_review":
            submitted = now - timedelta(hours=rng.randint(1, 24 * 30))
        else:
            submitted = opened + timedelta(days=2)
        questionnaire(patient_id, course_id, q_status, min(submitted, now))
        if stage == "answering":
            continue
        if stage == "awaiting_review":
            visit("consultation", patient_id, course_id, today + timedelta(days=rng.randint(0, 60)))
            continue
        consult_day = cal.local_date(opened) + timedelta(days=7)
        if consult_day < today:
            visit("consultation", patient_id, course_id, consult_day)
        if stage == "collection_booked":
            visit("collection", patient_id, course_id, today + timedelta(days=rng.randint(3, 90)))
        if stage != "cultured":
            continue

        # ------------------------------------------------------- a culture batch
        appointment_id, collected, start = visit("collection", patient_id, course_id, collected)
        if appointment_id is None:  # no seat in three weeks: recorded without its holds
            start = at(collected)
            appointment_id = rows.add(
                Appointment,
                patient_id=patient_id,
                course_id=course_id,
                visit_type_id=plans["collection"].visit_type.id,
                start_at=start,
                end_at=start + timedelta(hours=1),
                status=AppointmentStatus.COMPLETED,
                created_at=start - timedelta(days=14),
                updated_at=start,
                status_changed_at=start,
                sequence=0,
            )
        if collected > today:  # pushed past today by full days: the lab has not received it
            collected = today
        age = (today - collected).days
        if age <= 49:
            state = (
                BatchState.RECEIVED
                if age < 1
                else BatchState.IN_CULTURE
                if age < 28
                else BatchState.HARVEST_READY
                if age < 35
                else BatchState.QC_PENDING
                if age < 40
                else BatchState.RELEASED
            )
        else:
            roll = rng.random()
            state = (
                BatchState.FAILED
                if roll < 0.08
                else BatchState.DISCARDED
                if roll < 0.12
                else BatchState.CRYOPRESERVED
                if roll < 0.18
                else BatchState.ADMINISTERED
            )
        state_count[state] += 1
        year = collected.year % 100
        coi_sequences[year] += 1
        number = coi.make("GRP", year, coi_sequences[year])
        received = at(collected, 14)
        batch_id = rows.add(
            Batch,
            course_id=course_id,
            patient_id=patient_id,
            appointment_id=appointment_id,
            coi_site="GRP",
            coi_year=year,
            coi_sequence=number.sequence,
            coi=coi.format(number),
            state=state,
            planned_dose_low=100_000_000,
            planned_dose_high=200_000_000,
            later_doses=0,
            collected_on=collected,
            collected_by="Dr Sato",
            tissue_amount=3,
            tissue_unit=TissueUnit.PIECES,
            blood_volume_ml=50,
            received_at=received,
            received_by="Lab",
            received_condition="intact",
            state_reason="contamination" if state == BatchState.FAILED else None,
            created_at=start,
            created_by_id=doctor_id,
            updated_at=min(received + timedelta(days=age), now),
        )
        batch_ids.append((batch_id, patient_id))
        event = {"batch_id": batch_id, "recorded_by_id": lab_id}
        rows.add(BatchEvent, kind=EventKind.RECEIPT, occurred_at=received, person="Lab", **event)
        previous = "received"
        for k, (day, cells) in enumerate(((2, 2_000_000), (9, 8_000_000), (16, 30_000_000))):
            if age < day:
                break
            occurred = received + timedelta(days=day)
            if k == 0:
                rows.add(
                    BatchEvent,
                    kind=EventKind.TRANSITION,
                    occurred_at=occurred,
                    from_state="received",
                    to_state="in_culture",
                    **event,
                )
                previous = "in_culture"
            rows.add(
                BatchEvent,
                kind=EventKind.PASSAGE,
                occurred_at=occurred,
                passage_number=k + 1,
                **event,
            )
            rows.add(
                BatchEvent,
                kind=EventKind.CELL_COUNT,
                occurred_at=occurred + timedelta(hours=1),
                cells=cells,
                viability_percent=Decimal("91.5"),
                **event,
            )
        if age >= 35 and state != BatchState.FAILED:
            for item in ("sterility", "endotoxin", "mycoplasma"):
                rows.add(
                    BatchEvent,
                    kind=EventKind.QC_RESULT,
                    occurred_at=received + timedelta(days=36),
                    qc_item=item,
                    qc_value="0.1" if item == "endotoxin" else "negative",
                    qc_passed=True,
                    **event,
                )
        if state.value != previous:
            rows.add(
                BatchEvent,
                kind=EventKind.TRANSITION,
                occurred_at=min(received + timedelta(days=min(age, 40)), now),
                from_state=previous,
                to_state=state.value,
                **event,
            )
        if state == BatchState.RELEASED and n % 2:
            # Released, the reinfusion confirmed and booked.
            booked, _day, _start = visit(
                "reinfusion-iv", patient_id, course_id, today + timedelta(days=rng.randint(3, 30))
            )
            if booked is not None:
                rows.add(
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
        if state != BatchState.ADMINISTERED:
            continue
        done, given_day, start = visit(
            "reinfusion-iv", patient_id, course_id, collected + timedelta(days=35)
        )
        if done is None or given_day >= today:
            continue
        dose_id = rows.add(
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
        clearance = rows.add(
            Clearance,
            appointment_id=done,
            dose_id=dose_id,
            doctor_id=doctor_id,
            systolic=120,
            diastolic=80,
            pulse=70,
            temperature_c=Decimal("36.5"),
            spo2=98,
            decision=Decision.GO,
            **common,
        )
        check = rows.add(
            BedsideCheck,
            appointment_id=done,
            dose_id=dose_id,
            label_read=coi.format(number),
            batch_id=batch_id,
            name_read="Bench",
            date_of_birth_read=date(1970, 1, 1),
            matched=True,
            checked_by_id=doctor_id,
            **common,
        )
        given = rows.add(
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
            given_by_id=doctor_id,
            **common,
        )
        for days_after in (7, 30, 90, 180):
            due = given_day + timedelta(days=days_after)
            done_already = due < today - timedelta(days=14)
            rows.add(
                FollowUp,
                administration_id=given,
                days_after=days_after,
                due_on=due,
                status=FollowUpStatus.DONE if done_already else FollowUpStatus.OPEN,
                **common,
            )
        if done_already:  # the last follow-up is done: the course is completed
            course_row.update(status=CourseStatus.COMPLETED, closed_at=at(due))
    log(
        f"courses planned: {rows.count(Appointment)} visits, {rows.count(Hold)} holds, "
        f"{rows.count(Batch)} batches; no seat in three weeks: {dict(no_seat)}"
    )

    # ------------------------------------------------------ audit and the outbox
    actor_labels = {uid: f"staff {uid}" for uid in staff_ids}
    appointment_rows = rows.rows[Appointment]
    for k in range(n_audit):
        entity_type, action = AUDIT_ACTIONS[k % len(AUDIT_ACTIONS)]
        if entity_type == "batches":
            entity_id, patient_id = batch_ids[k % len(batch_ids)]
        elif entity_type == "appointments":
            row = appointment_rows[k % len(appointment_rows)]
            entity_id, patient_id = row["id"], row["patient_id"]
        else:
            patient_id = courses[k % len(courses)][0]
            entity_id = patient_id
        actor = staff_ids[k % len(staff_ids)]
        rows.add(
            AuditEntry,
            created_at=now - timedelta(minutes=k * PAST_DAYS * 1440 // n_audit + 1),
            actor_id=actor,
            actor_label=actor_labels[actor],
            action=action,
            entity_type=entity_type,
            entity_id=str(entity_id),
            patient_id=patient_id,
            before={"status": "booked"},
            after={"status": "completed"},
            ip_address="10.0.0.1",
        )
    for k in range(n_messages):
        patient_id, user_id, _stage, locale = courses[k % len(courses)]
        roll = rng.random()
        created = now - timedelta(minutes=k * PAST_DAYS * 1440 // n_messages + 1)
        status = (
            DeliveryStatus.PENDING
            if roll < 0.02
            else DeliveryStatus.FAILED
            if roll < 0.04
            else DeliveryStatus.SENT
        )
        rows.add(
            Message,
            user_id=user_id,
            patient_id=patient_id,
            template=TEMPLATES[k % len(TEMPLATES)],
            locale=locale,
            to_address=f"p{(k % len(courses)):06d}@bigclinic.example",
            subject="Your visit at the clinic",
            body="Dear patient,\n\nyour visit is booked.\n\nThe clinic",
            status=status,
            attempts=1 if status != DeliveryStatus.PENDING else 0,
            last_error="connection refused" if status == DeliveryStatus.FAILED else None,
            created_at=created,
            sent_at=created + timedelta(minutes=1) if status == DeliveryStatus.SENT else None,
            read_at=created + timedelta(hours=3)
            if status == DeliveryStatus.SENT and roll < 0.5
            else None,
        )

    # ------------------------------------------------------------------- insert
    for model in models:
        values_list = rows.rows.get(model, [])
        chunk = 5000
        for first in range(0, len(values_list), chunk):
            db.session.execute(insert(model), values_list[first : first + chunk])
    if db.engine.dialect.name == "postgresql":  # the ids were given: move the sequences on
        for model in models:
            table = model.__tablename__
            db.session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT max(id) FROM {table}))"
                )
            )
    made = {model.__tablename__: rows.count(model) for model in models}
    made["batch_states"] = {s.value: c for s, c in sorted(state_count.items())}
    made["no_seat"] = dict(no_seat)
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", help="a new SQLite file, or a database URL (empty)")
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    if "://" not in args.target and os.path.exists(args.target):
        parser.error(f"{args.target} exists: give a new file")
    seed(args.target, args.scale)


if __name__ == "__main__":
    main()
