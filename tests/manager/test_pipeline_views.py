"""The pipeline pages (issue 11, point 2): courses by journey stage, each
number opening its list; the stage of every course read in one statement."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from intake.accounts.roles import Role
from intake.core.types import utcnow
from intake.cultures.lifecycle import BatchState
from intake.cultures.models import Batch
from intake.eligibility.models import Questionnaire, QuestionnaireStatus
from intake.extensions import db
from intake.manager import pipeline as p
from intake.manager import pipeline_queries
from intake.patients.models import CourseStatus
from intake.patients.services import current_course
from intake.reinfusion.models import DoseStatus
from intake.scheduling.models import Appointment, AppointmentStatus
from tests.manager.pipeline_fixtures import Courses
from tests.scheduling.conftest import clinic  # noqa: F401


@pytest.fixture
def courses(clinic):  # noqa: F811
    return Courses(clinic)


def _count(html: str, stage: str) -> int:
    match = re.search(
        rf'data-stage="{stage}".*?class="stage-count[^"]*"[^>]*>(\d+)</a>', html, re.S
    )
    assert match, stage
    return int(match.group(1))


def _week(html: str, week: int) -> int:
    match = re.search(rf'data-week="{week}".*?class="week-count">(\d+)<', html, re.S)
    assert match, week
    return int(match.group(1))


def test_every_stage_counted_and_each_number_opens_its_list(client, login_as, courses):
    made = {stage: courses.at(stage, name=f"Stage-{stage}") for stage in p.STAGES}
    courses.at(p.IN_CULTURE, week=1)
    courses.at(p.IN_CULTURE, week=6)
    courses.at(p.IN_CULTURE, week=9)  # "6+"
    db.session.commit()
    login_as(Role.MANAGER)
    with client.get("/manager/pipeline") as r:
        assert r.status_code == 200
        html = r.get_data(as_text=True)
    for stage in p.STAGES:
        expected = 4 if stage == p.IN_CULTURE else 1
        assert _count(html, stage) == expected, stage
        assert f'href="/manager/pipeline/{stage}"' in html
    assert [_week(html, w) for w in range(1, 7)] == [1, 1, 0, 0, 0, 2]
    assert 'href="/manager/pipeline/in_culture?week=6"' in html
    assert re.search(r'id="pipeline-total">13<', html)

    for stage, course in made.items():
        with client.get(f"/manager/pipeline/{stage}") as r:
            assert r.status_code == 200
            page = r.get_data(as_text=True)
        rows = re.findall(r'data-course="(\d+)"', page)
        if stage == p.IN_CULTURE:
            assert str(course.id) in rows and len(rows) == 4
        else:
            assert rows == [str(course.id)], stage
        # the link goes to the staff patient record
        assert f'href="/patients/{course.patient_id}"' in page
        assert f"Stage-{stage}" in page


def test_in_culture_by_week_list(client, login_as, courses):
    week2 = courses.at(p.IN_CULTURE, week=2)
    late = courses.at(p.IN_CULTURE, week=8)
    db.session.commit()
    login_as(Role.MANAGER)
    with client.get("/manager/pipeline/in_culture?week=2") as r:
        html = r.get_data(as_text=True)
    assert re.findall(r'data-course="(\d+)"', html) == [str(week2.id)]
    assert "Culture day 10 (week 2)" in html
    with client.get("/manager/pipeline/in_culture?week=6") as r:
        html = r.get_data(as_text=True)
    assert re.findall(r'data-course="(\d+)"', html) == [str(late.id)]
    assert "Week 6+" in html
    with client.get("/manager/pipeline/in_culture") as r:  # all weeks, longest first
        html = r.get_data(as_text=True)
    assert re.findall(r'data-course="(\d+)"', html) == [str(late.id), str(week2.id)]


def test_the_list_shows_the_booked_and_confirmed_visits_soonest_first(client, login_as, courses):
    later = courses.at(p.COLLECTION_BOOKED)
    sooner = courses.at(p.COLLECTION_BOOKED)
    # "sooner" is booked before "later", whatever the fixture chose
    first = db.session.query(Appointment).filter_by(course_id=sooner.id).one()
    second = db.session.query(Appointment).filter_by(course_id=later.id).one()
    first.start_at = courses.at_local(courses.today + timedelta(days=5))
    first.end_at = first.start_at + timedelta(hours=1)
    second.start_at = courses.at_local(courses.today + timedelta(days=9))
    second.end_at = second.start_at + timedelta(hours=1)
    db.session.commit()
    login_as(Role.MANAGER)
    with client.get("/manager/pipeline/collection_booked") as r:
        html = r.get_data(as_text=True)
    assert re.findall(r'data-course="(\d+)"', html) == [str(sooner.id), str(later.id)]
    assert "Collection visit" in html and "Asia/Tokyo" in html


def test_courses_outside_the_pipeline_are_not_counted(client, login_as, courses):
    done = courses.at(p.ADMINISTERED)
    done.status = CourseStatus.COMPLETED
    done.closed_at = utcnow()
    old = courses.at(p.HALTED)
    old.closed_at = utcnow() - timedelta(days=p.HALTED_SHOWN_DAYS + 2)
    recent = courses.at(p.HALTED)
    recent.closed_at = utcnow() - timedelta(days=p.HALTED_SHOWN_DAYS - 2)
    declined = courses.at(p.APPROVED)
    questionnaire = db.session.query(Questionnaire).filter_by(course_id=declined.id).one()
    questionnaire.status = QuestionnaireStatus.DECLINED
    db.session.commit()
    placed = {c.course_id: c.stage for c in pipeline_queries.placed_courses(today=courses.today)}
    assert placed == {recent.id: p.HALTED}


def test_a_recollection_after_a_failed_batch(courses):
    course = courses.at(p.APPROVED)
    courses.batch(course, days_ago=20, state=BatchState.FAILED)
    db.session.commit()
    assert _stage_of(course, courses) == p.APPROVED
    courses.visit(course, "collection", courses.today + timedelta(days=7))
    db.session.commit()
    assert _stage_of(course, courses) == p.COLLECTION_BOOKED
    courses.batch(course, days_ago=1, state=BatchState.RECEIVED)
    db.session.query(Appointment).filter_by(
        course_id=course.id, status=AppointmentStatus.BOOKED
    ).update({"status": AppointmentStatus.CANCELLED})
    db.session.commit()
    assert _stage_of(course, courses) == p.IN_CULTURE


def test_a_second_dose_confirmed_after_the_first_was_given(courses):
    course = courses.at(p.IN_FOLLOW_UP)
    assert _stage_of(course, courses) == p.IN_FOLLOW_UP
    batch = db.session.query(Batch).filter_by(course_id=course.id).one()
    courses.dose(course, batch, DoseStatus.CONFIRMED, number=2, days=30)
    db.session.commit()
    assert _stage_of(course, courses) == p.REINFUSION_CONFIRMED


def _stage_of(course, courses):
    db.session.expire_all()
    found = [
        c for c in pipeline_queries.placed_courses(today=courses.today) if c.course_id == course.id
    ]
    return found[0].stage if found else None


def test_unknown_stage_is_404(client, login_as, clinic):  # noqa: F811
    login_as(Role.MANAGER)
    for stage in ("nope", "IN_CULTURE", "in-culture", "in_culture%20", "declined", "completed"):
        with client.get(f"/manager/pipeline/{stage}") as r:
            assert r.status_code == 404, stage


@pytest.mark.parametrize(
    "query",
    [
        "page=abc",
        "page=",
        "page=-3",
        "page=0",
        "page=99999999999999999999",
        "page=1e3",
        "week=9",
        "week=0",
        "week=x",
        "page=2&week=abc",
    ],
)
def test_odd_page_and_week_numbers_are_handled(client, login_as, courses, query):
    courses.at(p.IN_CULTURE, week=3)
    db.session.commit()
    login_as(Role.MANAGER)
    with client.get(f"/manager/pipeline/in_culture?{query}") as r:
        assert r.status_code == 200
        html = r.get_data(as_text=True)
    assert len(re.findall(r'data-course="(\d+)"', html)) == 1


def test_paging_a_long_list(client, login_as, courses):
    made = [courses.at(p.AWAITING_REVIEW) for _ in range(pipeline_queries.PER_PAGE + 3)]
    db.session.commit()
    login_as(Role.MANAGER)
    with client.get("/manager/pipeline/awaiting_review") as r:
        first = r.get_data(as_text=True)
    assert len(re.findall(r'data-course="(\d+)"', first)) == pipeline_queries.PER_PAGE
    assert "/manager/pipeline/awaiting_review?page=2" in first
    assert f"{len(made)} courses" in first
    with client.get("/manager/pipeline/awaiting_review?page=2") as r:
        second = r.get_data(as_text=True)
    assert re.findall(r'data-course="(\d+)"', second) == [str(c.id) for c in made[-3:]]
    with client.get("/manager/pipeline/awaiting_review?page=40") as r:  # past the end: the last
        assert re.findall(r'data-course="(\d+)"', r.get_data(as_text=True)) == [
            str(c.id) for c in made[-3:]
        ]


def test_an_empty_stage(client, login_as, clinic):  # noqa: F811
    login_as(Role.MANAGER)
    with client.get("/manager/pipeline/released") as r:
        assert r.status_code == 200
        assert 'id="stage-empty"' in r.get_data(as_text=True)


def test_admins_read_the_numbers_but_not_who_the_patients_are(client, login_as, courses):
    course = courses.at(p.APPROVED, name="Secretname")
    db.session.commit()
    login_as(Role.ADMIN)
    with client.get("/manager/pipeline") as r:
        assert r.status_code == 200
    with client.get("/manager/pipeline/approved") as r:
        html = r.get_data(as_text=True)
    assert f'data-course="{course.id}"' in html
    assert "Secretname" not in html and "/patients/" not in html


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.DOCTOR, Role.LAB, Role.PATIENT])
def test_other_roles_are_refused(client, login_as, clinic, role):  # noqa: F811
    login_as(role)
    for url in ("/manager/pipeline", "/manager/pipeline/approved", "/manager/deadlines"):
        with client.get(url) as r:
            assert r.status_code == 403, url


def test_reachable_from_the_navigation_and_the_overview(client, login_as, clinic):  # noqa: F811
    login_as(Role.MANAGER)
    with client.get("/manager") as r:
        html = r.get_data(as_text=True)
    assert html.count('href="/manager/pipeline"') >= 2  # the navigation and the card
    assert html.count('href="/manager/deadlines"') >= 2


def test_a_fixed_number_of_statements_whatever_the_number_of_courses(
    client, login_as, courses, count_queries
):
    login_as(Role.MANAGER)
    for stage in p.STAGES:
        courses.at(stage)
    db.session.commit()

    def measure(url):
        db.session.expire_all()
        with count_queries() as statements:
            with client.get(url) as r:
                assert r.status_code == 200
        return len(statements)

    urls = ("/manager/pipeline", "/manager/pipeline/in_culture", "/manager/pipeline/halted")
    small = {url: measure(url) for url in urls}
    for n in range(6):
        for stage in p.STAGES:
            courses.at(stage, week=1 + n)
    db.session.commit()
    large = {url: measure(url) for url in urls}
    assert large == small
    assert all(n <= 5 for n in large.values()), large
    # the stage of every course: the settings and one statement
    db.session.expire_all()
    with count_queries() as statements:
        placed = pipeline_queries.placed_courses(today=courses.today)
    assert len(placed) == 7 * len(p.STAGES)
    assert len(statements) <= 2


def test_a_stages_list_reads_exactly_the_courses_the_counts_place_there(courses):
    """The list narrows its read in SQL to the courses that can be at the
    stage; whatever the mix, it finds the same courses as the full read."""
    for stage in p.STAGES:
        courses.at(stage)
    mixed = courses.at(p.IN_FOLLOW_UP)  # a second dose confirmed: reinfusion confirmed
    batch = db.session.query(Batch).filter_by(course_id=mixed.id).one()
    courses.dose(mixed, batch, DoseStatus.CONFIRMED, number=2, days=12)
    halted = courses.at(p.IN_CULTURE)  # halted in culture: halted
    halted.status = CourseStatus.HALTED
    failed = courses.at(p.COLLECTION_BOOKED)  # a failed batch, then a new booking
    courses.batch(failed, days_ago=20, state=BatchState.FAILED)
    returned = courses.at(p.ANSWERING)
    db.session.query(Questionnaire).filter_by(
        course_id=returned.id
    ).one().status = QuestionnaireStatus.RETURNED
    no_questionnaire = current_course(courses.patient())
    db.session.commit()
    everything = pipeline_queries.placed_courses(today=courses.today)
    assert {c.course_id: c.stage for c in everything}[no_questionnaire.id] == p.ANSWERING
    for stage in p.STAGES:
        narrowed = pipeline_queries.placed_courses(today=courses.today, stage=stage)
        assert sorted(c.course_id for c in narrowed) == sorted(
            c.course_id for c in everything if c.stage == stage
        ), stage
