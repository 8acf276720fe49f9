"""The pipeline's stage placed in SQL (one CASE over the course's facts) is
the pure ``pipeline.stage``, line by line: the precedence table of
``test_pipeline_pure`` evaluated by the database (SQLite and PostgreSQL),
with a missing fact both as zero and as the NULL an outer join gives; then
the counts and the paged lists on a clinic, against the pure placement."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Integer, String, literal, select

from intake.cultures.lifecycle import BatchState
from intake.cultures.models import Batch
from intake.eligibility.models import Questionnaire, QuestionnaireStatus
from intake.extensions import db
from intake.manager import pipeline as p
from intake.manager import pipeline_queries
from intake.patients.models import CourseStatus
from intake.patients.services import current_course
from intake.reinfusion.models import DoseStatus
from tests.manager.pipeline_fixtures import Courses
from tests.manager.test_pipeline_pure import CASES
from tests.scheduling.conftest import clinic  # noqa: F401

EXTRA = [
    # counts at their boundaries: zero is "none", one is "some"
    (p.CourseFacts(questionnaire_status="approved", confirmed_doses=0), p.APPROVED),
    (p.CourseFacts(batch_state="released", confirmed_doses=2), p.REINFUSION_CONFIRMED),
    (
        p.CourseFacts(batch_state="released", administered_doses=2, open_follow_ups=0),
        p.ADMINISTERED,
    ),
    (p.CourseFacts(batch_state="failed", administered_doses=1, open_follow_ups=1), p.IN_FOLLOW_UP),
    (p.CourseFacts(batch_state="failed"), p.ANSWERING),
    (p.CourseFacts(batch_state="discarded", questionnaire_status="submitted"), p.AWAITING_REVIEW),
    (p.CourseFacts(questionnaire_status="declined", confirmed_doses=1), None),
    (p.CourseFacts(course_status="completed", collection_active=True), None),
]


def _facts(facts: p.CourseFacts, *, zero_as_null: bool) -> dict:
    def count(n: int):
        return literal(None, Integer()) if zero_as_null and not n else literal(n, Integer())

    return {
        "course_status": literal(facts.course_status, String()),
        "q_status": literal(facts.questionnaire_status, String()),
        "active": count(int(facts.collection_active)),
        "batch_state": literal(facts.batch_state, String()),
        "confirmed": count(facts.confirmed_doses),
        "given": count(facts.administered_doses),
        "open": count(facts.open_follow_ups),
    }


@pytest.mark.parametrize("zero_as_null", [False, True])
@pytest.mark.parametrize(("facts", "expected"), CASES + EXTRA)
def test_the_sql_stage_is_the_pure_stage(app, facts, expected, zero_as_null):
    assert p.stage(facts) == expected
    statement = select(pipeline_queries.stage_case(_facts(facts, zero_as_null=zero_as_null)))
    assert db.session.scalar(statement) == expected


def test_the_sql_stage_reaches_every_stage():
    assert {expected for _f, expected in CASES + EXTRA} >= set(p.STAGES)


def test_week_bounds_hold_exactly_the_days_of_their_week():
    today = date(2026, 12, 2)
    for days in range(-10, 80):
        collected = today - timedelta(days=days)
        for week in range(1, p.CULTURE_WEEKS + 1):
            earliest, latest = p.week_bounds(week, today)
            inside = (earliest is None or collected >= earliest) and (
                latest is None or collected <= latest
            )
            assert inside == (p.culture_week(collected, today) == week), (days, week)


@pytest.fixture
def mixed(clinic):  # noqa: F811
    courses = Courses(clinic)
    for week in (1, 2, 6):
        for stage in p.STAGES:
            courses.at(stage, week=week)
    second = courses.at(p.IN_FOLLOW_UP)  # a second dose confirmed: reinfusion confirmed
    batch = db.session.query(Batch).filter_by(course_id=second.id).one()
    courses.dose(second, batch, DoseStatus.CONFIRMED, number=2, days=12)
    courses.at(p.IN_CULTURE).status = CourseStatus.HALTED  # halted in culture
    failed = courses.at(p.COLLECTION_BOOKED)  # a failed batch, then a new booking
    courses.batch(failed, days_ago=20, state=BatchState.FAILED)
    returned = courses.at(p.ANSWERING)
    db.session.query(Questionnaire).filter_by(
        course_id=returned.id
    ).one().status = QuestionnaireStatus.RETURNED
    current_course(courses.patient())  # no questionnaire: answering
    completed = courses.at(p.ADMINISTERED)
    completed.status = CourseStatus.COMPLETED  # out of the pipeline
    db.session.commit()
    return courses


def test_the_sql_counts_are_the_pure_counts(mixed):
    pure = p.count((c.stage, c.week) for c in pipeline_queries.placed_courses(today=mixed.today))
    counts = pipeline_queries.overview(today=mixed.today)
    assert counts == pure
    assert counts.by_week[1] and counts.by_week[2] and counts.by_week[6]


def _pure_list(stage, today, week=None):
    rows = pipeline_queries.placed_courses(today=today, stage=stage)
    if week is not None:
        rows = [c for c in rows if c.week == week]
    pipeline_queries._sort(rows, stage)
    return [c.course_id for c in rows]


@pytest.mark.parametrize("per_page", [2, 50])
def test_the_sql_lists_are_the_pure_lists_page_by_page(mixed, monkeypatch, per_page):
    monkeypatch.setattr(pipeline_queries, "PER_PAGE", per_page)
    lists = [(stage, None) for stage in p.STAGES]
    lists += [(p.IN_CULTURE, w) for w in range(1, p.CULTURE_WEEKS + 1)]
    for stage, week in lists:
        expected = _pure_list(stage, mixed.today, week)
        got, n = [], 1
        while True:
            data = pipeline_queries.stage_list(stage, today=mixed.today, page=n, week=week)
            page = data["page"]
            assert page.total == len(expected)
            assert len(page.items) <= per_page
            got += [row.course.id for row in page.items]
            if not page.has_next:
                break
            n += 1
        assert got == expected, (stage, week)
        past = pipeline_queries.stage_list(stage, today=mixed.today, page=10**9, week=week)
        assert past["page"].page == page.page  # past the last page: the last
