"""Reads for the pipeline: the stage of every open (or recently halted)
course, whatever their number, in one statement.

The facts of every course come from a single SELECT: the courses, left-joined
to grouped subqueries (the latest questionnaire, the active collection
visits, the latest culture batch, the doses confirmed and given, the open
follow-ups), so the database does the aggregation and the number of
statements never grows with the data. The pure ``pipeline.stage`` then places
each course. A stage's list reads the same facts, then the page's courses and
patients (one more statement).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import repeat

from sqlalchemy import String, and_, case, func, null, or_, select, type_coerce
from sqlalchemy.orm import aliased

from intake.core import settings
from intake.cultures.lifecycle import BatchState
from intake.cultures.models import Batch
from intake.eligibility.models import Questionnaire, QuestionnaireStatus
from intake.extensions import db
from intake.manager import pipeline
from intake.patients.models import Course, CourseStatus, Patient
from intake.reinfusion.models import Dose, DoseStatus, FollowUp, FollowUpStatus
from intake.scheduling import queries as scheduling_queries
from intake.scheduling.models import Appointment, AppointmentStatus, VisitType

PER_PAGE = 50


@dataclass(frozen=True)
class Placed:
    """One course's stage, with what its list shows and sorts by."""

    course_id: int
    patient_id: int
    stage: str | None
    week: int | None
    culture_day: int | None
    opened_at: datetime
    closed_at: datetime | None
    #: The booked collection visit's start (collection booked).
    collection_at: datetime | None
    #: The first confirmed dose's visit (reinfusion confirmed).
    reinfusion_at: datetime | None
    batch_id: int | None
    batch_state: str | None


def _facts_statement(halted_since: datetime, *, detail: bool, stage: str | None = None):
    """The single SELECT of every course's facts."""
    latest_q = (
        select(Questionnaire.course_id, func.max(Questionnaire.id).label("qid"))
        .group_by(Questionnaire.course_id)
        .subquery("latest_q")
    )
    questionnaire = aliased(Questionnaire, name="q")
    visit = aliased(Appointment, name="collection_visit")
    kind = aliased(VisitType, name="collection_type")
    collections = (
        select(
            visit.course_id,
            func.count().label("active"),
            func.min(visit.start_at).label("next_at"),
        )
        .join(kind, visit.visit_type_id == kind.id)
        .where(
            kind.day_block_resource_id.is_not(None),
            visit.status.in_((AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED)),
        )
        .group_by(visit.course_id)
        .subquery("collections")
    )
    latest_b = (
        select(Batch.course_id, func.max(Batch.id).label("bid"))
        .group_by(Batch.course_id)
        .subquery("latest_b")
    )
    batch = aliased(Batch, name="b")
    dose_visit = aliased(Appointment, name="dose_visit")
    confirmed = Dose.status == DoseStatus.CONFIRMED
    doses = (
        select(
            Dose.course_id,
            func.sum(case((confirmed, 1), else_=0)).label("confirmed"),
            func.sum(case((Dose.status == DoseStatus.ADMINISTERED, 1), else_=0)).label("given"),
            func.min(case((confirmed, dose_visit.start_at), else_=None)).label("confirmed_at"),
        )
        .outerjoin(dose_visit, Dose.appointment_id == dose_visit.id)
        .where(Dose.status.in_((DoseStatus.CONFIRMED, DoseStatus.ADMINISTERED)))
        .group_by(Dose.course_id)
        .subquery("doses")
    )
    follow_ups = (
        select(FollowUp.course_id, func.count().label("open"))
        .where(FollowUp.status == FollowUpStatus.OPEN)
        .group_by(FollowUp.course_id)
        .subquery("follow_ups")
    )
    facts = (
        Course.id,
        type_coerce(Course.status, String).label("course_status"),
        Course.closed_at,
        type_coerce(questionnaire.status, String).label("q_status"),
        collections.c.active,
        type_coerce(batch.state, String).label("batch_state"),
        batch.collected_on,
        doses.c.confirmed,
        doses.c.given,
        follow_ups.c.open,
    )
    details = (
        (
            Course.patient_id,
            Course.opened_at,
            collections.c.next_at,
            batch.id.label("batch_id"),
            doses.c.confirmed_at,
        )
        if detail
        else ()
    )
    statement = (
        select(*facts, *details)
        .outerjoin(latest_q, latest_q.c.course_id == Course.id)
        .outerjoin(questionnaire, questionnaire.id == latest_q.c.qid)
        .outerjoin(collections, collections.c.course_id == Course.id)
        .outerjoin(latest_b, latest_b.c.course_id == Course.id)
        .outerjoin(batch, batch.id == latest_b.c.bid)
        .outerjoin(doses, doses.c.course_id == Course.id)
        .outerjoin(follow_ups, follow_ups.c.course_id == Course.id)
        .where(
            or_(
                Course.status == CourseStatus.OPEN,
                and_(
                    Course.status == CourseStatus.HALTED,
                    or_(Course.closed_at.is_(None), Course.closed_at >= halted_since),
                ),
            )
        )
    )
    if stage is None:
        return statement
    # A stage's list reads only the courses that can be at that stage: a
    # necessary condition of each stage under ``pipeline.stage``'s precedence
    # (the pure function still decides every row it reads).
    given = or_(doses.c.given > 0, batch.state == BatchState.ADMINISTERED)
    necessary = {
        pipeline.HALTED: Course.status == CourseStatus.HALTED,
        pipeline.ANSWERING: or_(
            latest_q.c.qid.is_(None),
            _has_questionnaire(QuestionnaireStatus.DRAFT, QuestionnaireStatus.RETURNED),
        ),
        pipeline.AWAITING_REVIEW: _has_questionnaire(QuestionnaireStatus.SUBMITTED),
        pipeline.APPROVED: _has_questionnaire(QuestionnaireStatus.APPROVED),
        pipeline.COLLECTION_BOOKED: collections.c.active > 0,
        pipeline.IN_CULTURE: batch.state.in_(sorted(pipeline.CULTURE_STATES)),
        pipeline.RELEASED: batch.state.in_(sorted(pipeline.RELEASED_STATES)),
        pipeline.REINFUSION_CONFIRMED: doses.c.confirmed > 0,
        pipeline.ADMINISTERED: given,
        pipeline.IN_FOLLOW_UP: and_(given, follow_ups.c.open > 0),
    }[stage]
    if stage != pipeline.HALTED:
        necessary = and_(Course.status == CourseStatus.OPEN, necessary)
    return statement.where(necessary)


def _has_questionnaire(*statuses: QuestionnaireStatus):
    """The course has a questionnaire in one of ``statuses`` (a superset of
    "its latest one is": filtering on the joined latest questionnaire's
    status lets SQLite probe it first, once per course)."""
    return Course.id.in_(select(Questionnaire.course_id).where(Questionnaire.status.in_(statuses)))


def _placements(today: date, *, detail: bool, stage: str | None = None):
    """(row, stage, culture day) of every course in the pipeline. Two
    statements: the settings (cached for the request) and the facts. Stored
    enum values are read as text (no enum object per row: 5,000 rows)."""
    cal = scheduling_queries.clinic_calendar(settings.values())
    halted_since = cal.day_start(today - timedelta(days=pipeline.HALTED_SHOWN_DAYS))
    statement = _facts_statement(halted_since, detail=detail, stage=stage)
    for row in db.session.execute(statement).all():
        (_id, status, closed_at, q_status, active, batch_state, collected_on) = row[:7]
        confirmed, given, open_follow_ups = row[7:10]
        if status != "open":
            closed_on = cal.local_date(closed_at) if closed_at is not None else None
            if not pipeline.is_shown(status, closed_on, today):
                continue
        code = pipeline.stage(
            pipeline.CourseFacts(
                course_status=status,
                questionnaire_status=q_status,
                collection_active=bool(active),
                batch_state=batch_state,
                collected_on=collected_on,
                confirmed_doses=int(confirmed or 0),
                administered_doses=int(given or 0),
                open_follow_ups=int(open_follow_ups or 0),
            )
        )
        if code is None:
            continue
        day = None
        if code == pipeline.IN_CULTURE and collected_on is not None:
            day = pipeline.culture_day(collected_on, today)
        yield row, code, day


def _week(day: int | None) -> int | None:
    return None if day is None else pipeline.week_of_day(day)


def placed_courses(*, today: date, stage: str | None = None) -> list[Placed]:
    """Every course in the pipeline (or at ``stage``) with its stage and what
    its list shows (courses the pipeline does not show are left out)."""
    placed = []
    for row, code, day in _placements(today, detail=True, stage=stage):
        if stage is not None and code != stage:
            continue
        course_id, batch_state = row[0], row[5]
        patient_id, opened_at, next_at, batch_id, confirmed_at = row[10:]
        placed.append(
            Placed(
                course_id=course_id,
                patient_id=patient_id,
                stage=code,
                week=_week(day),
                culture_day=day,
                opened_at=opened_at,
                closed_at=row[2],
                collection_at=next_at,
                reinfusion_at=confirmed_at,
                batch_id=batch_id,
                batch_state=batch_state,
            )
        )
    return placed


def stage_case(f):
    """``pipeline.stage`` as one SQL CASE over a course's facts (``f``: the
    columns ``course_status``, ``q_status``, ``active``, ``batch_state``,
    ``confirmed``, ``given``, ``open``; a count may be NULL, as an outer join
    leaves it): the same precedence, line by line, and the stage's code or
    NULL when the course is not in the pipeline. ``test_pipeline_sql`` proves
    it equal to the pure function on the precedence table, on every database."""

    def some(column):
        return func.coalesce(column, 0) > 0

    given = or_(some(f["given"]), f["batch_state"] == "administered")
    return case(
        (f["course_status"] == "halted", pipeline.HALTED),
        (
            or_(
                f["course_status"].in_(sorted(pipeline.CLOSED_STATUSES)),
                f["q_status"] == "declined",
            ),
            null(),
        ),
        (some(f["confirmed"]), pipeline.REINFUSION_CONFIRMED),
        (and_(given, some(f["open"])), pipeline.IN_FOLLOW_UP),
        (given, pipeline.ADMINISTERED),
        (f["batch_state"].in_(sorted(pipeline.RELEASED_STATES)), pipeline.RELEASED),
        (f["batch_state"].in_(sorted(pipeline.CULTURE_STATES)), pipeline.IN_CULTURE),
        (func.coalesce(f["active"], 0) != 0, pipeline.COLLECTION_BOOKED),
        (f["q_status"] == "approved", pipeline.APPROVED),
        (f["q_status"] == "submitted", pipeline.AWAITING_REVIEW),
        else_=pipeline.ANSWERING,
    )


def _staged(today: date, *, detail: bool, stage: str | None = None):
    """Every shown course's facts with its stage (``stage``, NULL when not in
    the pipeline) and, in culture, its collection day (``culture_on``): a
    subquery, so that the stage is grouped and filtered by name. The halted
    courses shown are chosen by the facts' WHERE (``pipeline.is_shown``: the
    clinic day it stopped, within ``HALTED_SHOWN_DAYS``). With ``stage``, only
    the courses that can be at that stage are read (``_facts_statement``)."""
    cal = scheduling_queries.clinic_calendar(settings.values())
    halted_since = cal.day_start(today - timedelta(days=pipeline.HALTED_SHOWN_DAYS))
    facts = _facts_statement(halted_since, detail=detail, stage=stage).subquery("facts")
    code = stage_case(facts.c)
    return select(
        facts,
        code.label("stage"),
        case((code == pipeline.IN_CULTURE, facts.c.collected_on)).label("culture_on"),
    ).subquery("staged")


def overview(*, today: date) -> pipeline.Counts:
    """The number of courses at each stage and in culture by week, counted by
    the database: one row per stage (and per collection day in culture), two
    statements (with the settings) whatever the number of courses."""
    staged = _staged(today, detail=False)
    grouped = db.session.execute(
        select(staged.c.stage, staged.c.culture_on, func.count())
        .where(staged.c.stage.is_not(None))
        .group_by(staged.c.stage, staged.c.culture_on)
    ).all()
    return pipeline.count(
        placed
        for code, collected_on, n in grouped
        for placed in repeat(
            (code, None if collected_on is None else pipeline.culture_week(collected_on, today)),
            n,
        )
    )


def _order(staged, stage: str) -> tuple:
    """``_sort``'s order in SQL (none last, then the course id)."""
    c = staged.c

    def soonest(column):
        return (case((column.is_(None), 1), else_=0), column, c.id)

    if stage == pipeline.IN_CULTURE:
        return (c.collected_on, c.id)
    if stage == pipeline.COLLECTION_BOOKED:
        return soonest(c.next_at)
    if stage == pipeline.REINFUSION_CONFIRMED:
        return soonest(c.confirmed_at)
    if stage == pipeline.HALTED:
        unknown = c.closed_at.is_(None)
        return (
            case((unknown, 1), else_=0),
            c.closed_at.desc(),
            case((unknown, c.id), else_=-c.id),
        )
    return soonest(c.opened_at)


def _naive(value: datetime | None) -> datetime:
    """UTC instants compared without their zone; none sorts last."""
    return datetime.max if value is None else value.replace(tzinfo=None)


def _sort(rows: list[Placed], stage: str) -> None:
    if stage == pipeline.IN_CULTURE:
        rows.sort(key=lambda p: (-(p.culture_day or 0), p.course_id))
    elif stage == pipeline.COLLECTION_BOOKED:
        rows.sort(key=lambda p: (_naive(p.collection_at), p.course_id))
    elif stage == pipeline.REINFUSION_CONFIRMED:
        rows.sort(key=lambda p: (_naive(p.reinfusion_at), p.course_id))
    elif stage == pipeline.HALTED:
        stopped = sorted(
            (p for p in rows if p.closed_at is not None),
            key=lambda p: (_naive(p.closed_at), p.course_id),
            reverse=True,
        )
        rows[:] = stopped + sorted(
            (p for p in rows if p.closed_at is None), key=lambda p: p.course_id
        )
    else:
        rows.sort(key=lambda p: (_naive(p.opened_at), p.course_id))


@dataclass(frozen=True)
class ListRow:
    placed: Placed
    course: Course
    patient: Patient


def stage_list(stage: str, *, today: date, page: int, week: int | None = None) -> dict:
    """One stage's courses (in culture: of one week when ``week`` is given),
    a page of them with their patients: longest in culture first, the
    soonest visit first for booked collections and confirmed reinfusions, the
    latest halt first, else the oldest course first. The database places,
    counts (a window over the same read), sorts and pages; then the page's
    courses and patients: three statements with the settings (a page past
    the last adds the count and its re-read)."""
    staged = _staged(today, detail=True, stage=stage)
    c = staged.c
    where = [c.stage == stage]
    if week is not None:
        earliest, latest = pipeline.week_bounds(week, today)
        if earliest is not None:
            where.append(c.collected_on >= earliest)
        if latest is not None:
            where.append(c.collected_on <= latest)
    columns = (
        c.id,
        c.patient_id,
        c.collected_on,
        c.opened_at,
        c.closed_at,
        c.next_at,
        c.confirmed_at,
        c.batch_id,
        c.batch_state,
        func.count().over().label("total"),
    )

    def read(number: int):
        return db.session.execute(
            select(*columns)
            .where(*where)
            .order_by(*_order(staged, stage))
            .limit(PER_PAGE)
            .offset((number - 1) * PER_PAGE)
        ).all()

    number = max(page, 1)
    rows = read(number)
    if rows:
        total = rows[0].total
    else:  # past the last page (or none): count, then show the last one
        total = db.session.scalar(select(func.count()).select_from(staged).where(*where))
        if total and number > 1:
            rows = read(pipeline.paginate(range(total), number, PER_PAGE).page)
    shown = pipeline.paginate(range(total), number, PER_PAGE)
    loaded = {}
    if rows:
        loaded = {
            course.id: (course, patient)
            for course, patient in db.session.execute(
                select(Course, Patient)
                .join(Patient, Course.patient_id == Patient.id)
                .where(Course.id.in_([row.id for row in rows]))
            ).all()
        }
    items = []
    for row in rows:
        (course_id, patient_id, collected_on, opened_at, closed_at) = row[:5]
        (next_at, confirmed_at, batch_id, batch_state, _total) = row[5:]
        if course_id not in loaded:
            continue
        day = None
        if stage == pipeline.IN_CULTURE and collected_on is not None:
            day = pipeline.culture_day(collected_on, today)
        placed = Placed(
            course_id=course_id,
            patient_id=patient_id,
            stage=stage,
            week=_week(day),
            culture_day=day,
            opened_at=opened_at,
            closed_at=closed_at,
            collection_at=next_at,
            reinfusion_at=confirmed_at,
            batch_id=batch_id,
            batch_state=batch_state,
        )
        items.append(ListRow(placed, *loaded[course_id]))
    return {
        "page": pipeline.Page(items, shown.page, shown.per_page, shown.total),
        "week": week,
    }
