"""Demo scheduling data for ``flask seed-demo``: the clinic's resources and visit
types (DOMAIN.md defaults), two closures, and some weeks of bookings around
today. Safe to run again: what exists is left alone."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from intake.accounts import services as accounts
from intake.accounts.models import User
from intake.accounts.roles import Role
from intake.core.errors import DomainError
from intake.core.languages import texts as _t
from intake.core.types import utcnow
from intake.extensions import db
from intake.patients.models import Patient
from intake.scheduling import queries, services
from intake.scheduling.calendar import wall_to_utc
from intake.scheduling.models import (
    Appointment,
    AppointmentStatus,
    Closure,
    Resource,
    ResourceKind,
    VisitMode,
    VisitType,
    VisitTypeSegment,
    format_weekdays,
)
from intake.scheduling.visit_kinds import VisitKind

WEEKDAYS = (0, 1, 2, 3, 4, 5)

# code, kind, names, capacity, capacity setting, per day, pool, working days, user e-mail
RESOURCES = (
    ("procedure-room-1", ResourceKind.ROOM, _t("Procedure room 1", "处置室1", "処置室1"),
     1, None, False, None, None, None),
    ("infusion-chair", ResourceKind.CHAIR, _t("Infusion chairs", "输液椅", "点滴チェア"),
     None, "infusion_chairs", False, None, None, None),
    ("recovery-bed", ResourceKind.BED, _t("Recovery beds", "休息床", "リカバリーベッド"),
     2, None, False, None, None, None),
    ("incubator", ResourceKind.INCUBATOR,
     _t("Incubator places", "培养箱位", "インキュベーター枠"),
     None, "incubator_places", True, None, None, None),
    ("doctor", ResourceKind.STAFF, _t("Doctors", "医生", "医師"),
     1, None, False, None, None, None),
    ("nurse", ResourceKind.STAFF, _t("Nurses", "护士", "看護師"),
     1, None, False, None, None, None),
    ("dr-sato", ResourceKind.STAFF, _t("Dr. Sato Hiroshi", "佐藤宏 医生", "佐藤 宏 医師"),
     1, None, False, "doctor", WEEKDAYS, "doctor@demo.clinic"),
    ("dr-kobayashi", ResourceKind.STAFF,
     _t("Dr. Kobayashi Emi (visiting)", "小林惠美 医生（客座）", "小林 恵美 医師（非常勤）"),
     1, None, False, "doctor", (1, 3, 5), None),
    ("nurse-chen", ResourceKind.STAFF, _t("Nurse Chen Mei", "陈梅 护士", "陳 梅 看護師"),
     1, None, False, "nurse", (0, 1, 2, 3, 4), "coordinator@demo.clinic"),
    ("nurse-ito", ResourceKind.STAFF, _t("Nurse Ito Aya", "伊藤彩 护士", "伊藤 彩 看護師"),
     1, None, False, "nurse", (1, 2, 3, 4, 5), "nurse.new@demo.clinic"),
)  # fmt: skip

# code, kind, names, duration (or setting), modes, patients, desk, segments, day block
VISIT_TYPES = (
    (
        "consultation",
        VisitKind.CONSULTATION,
        _t("Consultation", "面诊", "診察"),
        "consultation_minutes",
        (VisitMode.IN_PERSON, VisitMode.VIDEO),
        True, True,
        (("doctor", 0, None, 1),),
        None,
    ),
    (
        "collection",
        VisitKind.COLLECTION,
        _t("Collection visit (fat tissue and blood)", "采集（脂肪组织和血液）",
           "採取（脂肪組織と採血）"),
        "collection_minutes",
        (),
        True, True,
        (("procedure-room-1", 0, None, 1), ("doctor", 0, None, 1), ("nurse", 0, None, 1)),
        "incubator",
    ),
    (
        "reinfusion-iv",
        VisitKind.REINFUSION_IV,
        _t("Reinfusion: IV drip", "回输：静脉滴注", "投与：点滴"),
        90, (), False, False,
        (("infusion-chair", 0, None, 1),),
        None,
    ),
    (
        "reinfusion-local",
        VisitKind.REINFUSION_LOCAL,
        _t("Reinfusion: local injection", "回输：局部注射", "投与：局所注射"),
        60, (), False, False,
        (("procedure-room-1", 0, None, 1),),
        None,
    ),
    (
        "reinfusion-intrathecal",
        VisitKind.REINFUSION_INTRATHECAL,
        _t("Reinfusion: intrathecal injection", "回输：鞘内注射", "投与：髄腔内注射"),
        120, (), False, False,
        (("procedure-room-1", 0, 60, 1), ("doctor", 0, 60, 1), ("recovery-bed", 60, None, 1)),
        None,
    ),
)  # fmt: skip

EXTRA_PATIENTS = (
    ("张伟", date(1962, 3, 14), "zh_Hans"),
    ("刘洋", date(1971, 8, 2), "zh_Hans"),
    ("陈静", date(1966, 12, 25), "zh_Hans"),
    ("杨敏", date(1958, 6, 9), "zh_Hans"),
    ("赵磊", date(1977, 1, 30), "zh_Hans"),
    ("黄秀英", date(1955, 10, 17), "zh_Hans"),
    ("周杰", date(1969, 4, 21), "zh_Hans"),
    ("吴芳", date(1973, 9, 5), "zh_Hans"),
    ("徐强", date(1960, 2, 11), "zh_Hans"),
    ("孙丽华", date(1964, 7, 28), "zh_Hans"),
    ("马建国", date(1952, 11, 3), "zh_Hans"),
    ("朱慧", date(1980, 5, 16), "zh_Hans"),
    ("佐々木 健一", date(1957, 8, 19), "ja"),
    ("高橋 美咲", date(1970, 3, 3), "ja"),
    ("中村 翔", date(1978, 12, 8), "ja"),
    ("Na Li", date(1968, 1, 22), "en"),
)
PAST_DAYS = 42
FUTURE_DAYS = 42


def _seed_resources(lines: list[str]) -> dict[str, Resource]:
    existing = {r.code: r for r in db.session.execute(select(Resource)).scalars()}
    users = {
        u.email: u
        for u in db.session.execute(select(User).where(User.role != Role.PATIENT)).scalars()
    }
    added = 0
    for position, row in enumerate(RESOURCES):
        code, kind, names, capacity, setting, per_day, pool, weekdays, email = row
        if code in existing:
            continue
        user = users.get(email) if email else None
        if user is not None and any(r.user_id == user.id for r in existing.values()):
            user = None
        resource = Resource(
            code=code,
            kind=kind,
            names=names,
            capacity=capacity,
            capacity_setting=setting,
            is_per_day=per_day,
            pool=existing.get(pool) if pool else None,
            user=user,
            working_weekdays=format_weekdays(weekdays) if weekdays else None,
            position=position,
        )
        db.session.add(resource)
        existing[code] = resource
        added += 1
    if added:
        db.session.flush()
        lines.append(f"scheduling: {added} resources")
    return existing


def _seed_visit_types(lines: list[str], resources: dict[str, Resource]) -> None:
    existing = set(db.session.execute(select(VisitType.code)).scalars())
    added = 0
    for position, row in enumerate(VISIT_TYPES):
        code, kind, names, duration, modes, patients, desk, segments, block = row
        if code in existing:
            continue
        visit_type = VisitType(
            code=code,
            kind=kind,
            names=names,
            duration_minutes=duration if isinstance(duration, int) else None,
            duration_setting=duration if isinstance(duration, str) else None,
            modes=[m.value for m in modes],
            is_patient_bookable=patients,
            is_desk_bookable=desk,
            day_block_resource=resources[block] if block else None,
            position=position,
            segments=[
                VisitTypeSegment(
                    resource=resources[res],
                    offset_minutes=offset,
                    duration_minutes=length,
                    quantity=quantity,
                )
                for res, offset, length, quantity in segments
            ],
        )
        db.session.add(visit_type)
        added += 1
    if added:
        db.session.flush()
        lines.append(f"scheduling: {added} visit types")


def _next_open_weekday(cal: queries.ClinicCalendar, day: date) -> date:
    holidays = cal.holidays(day, day + timedelta(days=30))
    while day.weekday() not in WEEKDAYS or day in holidays or not cal.units_of_day(day):
        day += timedelta(days=1)
    return day


def _seed_closures(lines: list[str], cal: queries.ClinicCalendar, today: date) -> None:
    reasons = set(db.session.execute(select(Closure.reason)).scalars())
    year_end = "Year-end holidays / 年末年始休诊 / 年末年始休診"
    maintenance = "Equipment maintenance (afternoon) / 设备维护 / 機器メンテナンス"
    added = 0
    if year_end not in reasons:
        first = date(today.year, 12, 29)
        if first + timedelta(days=6) < today:
            first = date(today.year + 1, 12, 29)
        db.session.add(
            Closure(
                start_at=cal.day_start(first),
                end_at=cal.day_start(first + timedelta(days=6)),
                reason=year_end,
            )
        )
        added += 1
    if maintenance not in reasons:
        day = _next_open_weekday(cal, today + timedelta(days=10))
        db.session.add(
            Closure(
                start_at=wall_to_utc(day, time(14), cal.tz, as_end=False),
                end_at=wall_to_utc(day, time(18), cal.tz, as_end=True),
                reason=maintenance,
            )
        )
        added += 1
    if added:
        db.session.flush()
        lines.append(f"scheduling: {added} closures")


def _extra_patients(password: str) -> list[Patient]:
    from intake.accounts.demo import split_name

    patients = []
    for n, (name, born, locale) in enumerate(EXTRA_PATIENTS, start=1):
        email = f"demo.patient{n:02d}@demo.clinic"
        user = accounts.find_by_email(email)
        if user is None:
            family, given = split_name(name)
            user = accounts.register_patient(
                email=email,
                password=password,
                family_name=family,
                given_name=given,
                date_of_birth=born,
                phone=f"+86 139 {1000 + n:04d} {2000 + n:04d}"
                if locale == "zh_Hans"
                else f"+81 90 {3000 + n:04d} {4000 + n:04d}",
                locale=locale,
            )
            user.email_verified_at = utcnow()
        patients.append(user.patient)
    return patients


def _pick(rng: random.Random, starts: list[datetime]) -> datetime | None:
    return rng.choice(starts) if starts else None


def _seed_bookings(lines: list[str], cal: queries.ClinicCalendar, password: str) -> None:
    if db.session.execute(select(func.count()).select_from(Appointment)).scalar_one():
        return
    coordinator = (
        db.session.execute(
            select(User).where(User.role == Role.COORDINATOR, User.is_active).order_by(User.id)
        )
        .scalars()
        .first()
    )
    if coordinator is None:
        return
    rng = random.Random(20260601)  # noqa: S311 - demo data, reproducible
    now = utcnow()
    today = cal.today(now)
    extra = _extra_patients(password)
    demo = {
        u.email: u.patient
        for u in db.session.execute(
            select(User).where(User.role == Role.PATIENT, User.email.like("%@demo.clinic"))
        ).scalars()
    }
    past = upcoming = 0

    def free_on(code: str, day: date, as_of: datetime) -> list[datetime]:
        return queries.availability(code, day, 1, as_of, for_patient=False)

    # The last six weeks: consultations (a few missed) and collections, whose
    # incubator places are still held today.
    for offset in range(PAST_DAYS, 0, -1):
        day = today - timedelta(days=offset)
        as_of = cal.day_start(day) - timedelta(days=1)
        for _ in range(rng.randint(2, 4)):
            start = _pick(rng, free_on("consultation", day, as_of))
            if start is None:
                break
            status = (
                AppointmentStatus.NO_SHOW if rng.random() < 0.08 else AppointmentStatus.COMPLETED
            )
            services.record_past_visit(
                rng.choice(extra),
                "consultation",
                start,
                actor=coordinator,
                status=status,
                mode=rng.choice(list(VisitMode)),
                now=now,
                note="demo history",
            )
            past += 1
        if offset % 3 == 0:
            start = _pick(rng, free_on("collection", day, as_of))
            if start is not None:
                services.record_past_visit(
                    rng.choice(extra),
                    "collection",
                    start,
                    actor=coordinator,
                    status=AppointmentStatus.COMPLETED,
                    now=now,
                    note="demo history",
                )
                past += 1
    # The coming six weeks: consultations booked through the front desk.
    booked_patients: set[int] = set()
    for offset in range(1, FUTURE_DAYS + 1):
        day = today + timedelta(days=offset)
        for _ in range(rng.randint(1, 3)):
            candidates = [p for p in extra if p.id not in booked_patients]
            start = _pick(rng, free_on("consultation", day, now))
            if start is None or not candidates:
                break
            patient = rng.choice(candidates)
            services.book_visit(
                patient,
                "consultation",
                start,
                actor=coordinator,
                mode=rng.choice(list(VisitMode)),
                now=now,
                send_confirmation=False,
            )
            booked_patients.add(patient.id)
            upcoming += 1
    # The named demo patients: 李伟 (awaiting review) has her consultation
    # booked; Anna Smith (approved, ready) is left to book her collection
    # herself, so a visitor can try the booking pages. Generated patients that
    # pass the intake gate get a collection.
    for email, mode, days_ahead in (("li.wei@demo.clinic", VisitMode.IN_PERSON, 5),):
        patient = demo.get(email)
        if patient is None:
            continue
        day = _next_open_weekday(cal, today + timedelta(days=days_ahead))
        start = _pick(rng, free_on("consultation", day, now))
        if start is not None:
            services.book_visit(
                patient, "consultation", start, actor=coordinator, mode=mode, now=now
            )
            upcoming += 1
    # 王丽 phoned and the front desk booked her the next free consultation, inside
    # the patient's notice: she cannot change it online, and her confirmation says
    # so with the clinic's phone (CLINIC_PHONE; `make run` sets a demo number).
    patient = demo.get("patient@demo.clinic")
    if patient is not None:
        soon = queries.availability("consultation", today, 7, now, for_patient=False)
        notice = now + cal.min_notice(for_patient=True)
        start = next((s for s in soon if s > now + timedelta(hours=2) and s < notice), None)
        if start is not None:
            services.book_visit(
                patient, "consultation", start, actor=coordinator, mode=VisitMode.IN_PERSON, now=now
            )
            upcoming += 1
    # 周芳 (approved, panel and consent done) has her collection booked about two
    # weeks ahead: her journey shows the visit and the culture place it reserves.
    patient = demo.get("zhou.fang@demo.clinic")
    if patient is not None:
        day = _next_open_weekday(cal, today + timedelta(days=14))
        start = _pick(rng, free_on("collection", day, now))
        if start is not None:
            services.book_visit(patient, "collection", start, actor=coordinator, now=now)
            upcoming += 1
    for patient in extra:
        day = _next_open_weekday(cal, today + timedelta(days=21))
        start = _pick(rng, free_on("collection", day, now))
        if start is None:
            continue
        try:
            with db.session.begin_nested():
                services.book_visit(patient, "collection", start, actor=coordinator, now=now)
        except DomainError:
            continue  # the intake gate is not passed (the usual case in the demo)
        upcoming += 1
    db.session.flush()
    lines.append(
        f"scheduling: {past} past and {upcoming} upcoming visits "
        f"({len(extra)} extra demo patients, password {password})"
    )


def seed_scheduling(*, password: str, with_bookings: bool = True) -> list[str]:
    """Resources, visit types, closures and (optionally) bookings. Idempotent."""
    lines: list[str] = []
    resources = _seed_resources(lines)
    _seed_visit_types(lines, resources)
    cal = queries.clinic_calendar()
    _seed_closures(lines, cal, cal.today(utcnow()))
    if with_bookings:
        _seed_bookings(lines, cal, password)
    return lines


def seed_waitlist() -> list[str]:
    """A travelling patient waits for a collection day in the weeks that fit
    her trips (run after the trips are planned). Idempotent: a patient who
    has ever joined, or whose collection is booked, is left as they are."""
    from intake.scheduling import waitlist_services
    from intake.scheduling.models import WaitlistEntry

    traveller = accounts.find_by_email("smith@demo.clinic")
    if traveller is None or traveller.patient is None:
        return []
    joined = db.session.execute(
        select(func.count())
        .select_from(WaitlistEntry)
        .where(WaitlistEntry.patient_id == traveller.patient.id)
    ).scalar_one()
    if joined:
        return []
    now = utcnow()
    choices = waitlist_services.week_choices(traveller.patient, now)
    fitting = [c.monday.isoformat() for c in choices if c.fits_trips]
    weeks = fitting or [c.monday.isoformat() for c in choices[:2]]
    try:
        waitlist_services.join(
            traveller.patient,
            "collection",
            weeks,
            fit_trips=bool(fitting),
            actor=traveller,
            now=now,
        )
    except DomainError:  # her collection is booked, or she may not book one now
        return []
    db.session.flush()
    which = "that fit her trips" if fitting else "she chose"
    return [
        f"waitlist: {traveller.patient.full_name} waits for a collection day "
        f"in {len(weeks)} week(s) {which}"
    ]
