"""The worklist at clinic-group scale: courses that can be in no lane are not
read at all, each lane shows its count and its first rows, and a lane's own
page goes through the rest; the statements and the course rows built per
request stay bounded whatever the number of courses."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from intake.accounts.roles import Role
from intake.core.types import utcnow
from intake.eligibility import services as intake_services
from intake.eligibility.demo import ELIGIBLE_ANSWERS, submit
from intake.eligibility.models import ConsentSignature, Questionnaire, QuestionnaireStatus
from intake.extensions import db
from intake.patients import worklist as lanes
from intake.patients.models import Course, CourseStatus, Patient
from intake.scheduling import services
from intake.scheduling.models import AppointmentStatus
from tests.helpers import course_of

TUESDAY = 1


def _page(client, url) -> str:
    with client.get(url) as r:
        assert r.status_code == 200, (url, r.status_code)
        return r.get_data(as_text=True)


def _counts(page: str) -> dict[str, int]:
    return {lane: int(n) for lane, n in re.findall(r'data-count="(\w+)">(\d+)<', page)}


def _lane(page: str, code: str) -> str:
    return page.split(f'id="lane-{code}"', 1)[1].split("</section>", 1)[0]


def _rows(html: str) -> int:
    return html.count('class="list-group-item')


@contextmanager
def _loaded():
    """How many course and patient objects the request builds."""
    seen = {"course": 0, "patient": 0}

    def course(target, context):
        seen["course"] += 1

    def patient(target, context):
        seen["patient"] += 1

    event.listen(Course, "load", course)
    event.listen(Patient, "load", patient)
    try:
        yield seen
    finally:
        event.remove(Course, "load", course)
        event.remove(Patient, "load", patient)


@pytest.fixture
def walk_ins(make_patient):
    """Patients registered by the desk: each course waits for the answers."""

    def make(n: int) -> list[Patient]:
        made = [make_patient(with_login=False) for _ in range(n)]
        db.session.commit()
        return made

    return make


def _collect(clinic, coordinator, user, *, status=AppointmentStatus.COMPLETED, weeks=1):
    day = clinic.day(weekday=TUESDAY, min_days=7 * weeks)
    visit = services.book_visit(
        user.patient, "collection", clinic.at(day, "10:00"), actor=coordinator
    )
    visit.status = status
    if status == AppointmentStatus.COMPLETED:
        visit.upcoming_kind = None  # a closed visit holds no claim
    db.session.commit()
    return visit


def test_each_lane_shows_its_count_and_its_first_rows(client, login_as, walk_ins, monkeypatch):
    monkeypatch.setattr(lanes, "PAGE", 2)
    walk_ins(5)
    login_as(Role.COORDINATOR)
    page = _page(client, "/worklist")
    assert _counts(page)["answering"] == 5
    answering = _lane(page, "answering")
    assert _rows(answering) == 2
    assert 'href="/worklist?lane=answering&amp;page=1"' in answering
    # An empty lane has no link to its own page.
    assert "/worklist?lane=ready" not in page


def test_a_lanes_own_page_goes_through_the_rest(client, login_as, walk_ins, monkeypatch):
    monkeypatch.setattr(lanes, "PAGE", 2)
    made = walk_ins(5)
    login_as(Role.DOCTOR)
    first = _page(client, "/worklist?lane=answering&page=1")
    assert 'id="lane-answering"' in first and 'id="lane-review"' not in first
    assert _rows(_lane(first, "answering")) == 2
    assert 'rel="next"' in first and 'href="/worklist?lane=answering&amp;page=2"' in first
    assert 'rel="prev"' not in first
    last = _page(client, "/worklist?lane=answering&page=3")
    assert _rows(_lane(last, "answering")) == 1
    assert 'rel="prev"' in last and 'rel="next"' not in last
    # Oldest first, as on the whole list: the last page has the newest course.
    assert f"/patients/{made[-1].id}" in last
    pages = [_page(client, f"/worklist?lane=answering&page={n}") for n in (1, 2, 3)]
    for patient in made:
        assert sum(f'/patients/{patient.id}"' in p for p in pages) == 1


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("lane=nonsense", 404),
        ("lane=answering&page=0", 200),
        ("lane=answering&page=-3", 200),
        ("lane=answering&page=999", 200),
        ("lane=answering&page=abc", 200),
        ("lane=", 404),
        ("page=2", 200),
    ],
)
def test_bad_lane_or_page_values_are_not_an_error(client, login_as, walk_ins, query, status):
    walk_ins(1)
    login_as(Role.COORDINATOR)
    with client.get(f"/worklist?{query}") as r:
        assert r.status_code == status
        if status == 200 and "lane=answering" in query:
            # Clamped to the only page there is.
            assert _rows(_lane(r.get_data(as_text=True), "answering")) == 1


@pytest.mark.parametrize("role", [Role.PATIENT, Role.LAB, Role.ADMIN])
def test_a_lanes_page_is_for_clinical_staff(client, login_as, role):
    login_as(role)
    with client.get("/worklist?lane=review&page=2") as r:
        assert r.status_code == 403


def test_the_rows_built_and_statements_stay_bounded(
    client, login_as, walk_ins, count_queries, monkeypatch
):
    monkeypatch.setattr(lanes, "PAGE", 2)
    walk_ins(3)
    login_as(Role.COORDINATOR)
    _page(client, "/worklist")
    with count_queries() as few:
        _page(client, "/worklist")
    with count_queries() as few_lane:
        _page(client, "/worklist?lane=answering&page=2")
    walk_ins(6)
    with count_queries() as more, _loaded() as built:
        page = _page(client, "/worklist")
    assert _counts(page)["answering"] == 9
    # Only the shown rows become objects: two per lane, one lane here.
    assert built["course"] <= 2 and built["patient"] <= 2
    with count_queries() as more_lane, _loaded() as built:
        _page(client, "/worklist?lane=answering&page=2")
    assert built["course"] <= 2 and built["patient"] <= 2

    def queries(statements):
        return [s for s in statements if "FROM settings" not in s]

    assert len(queries(more)) == len(queries(few)) <= 12
    assert len(queries(more_lane)) == len(queries(few_lane)) <= 12


def test_courses_past_the_collection_or_declined_are_not_read(
    client,
    login_as,
    make_user,
    make_approved_patient,
    make_patient,
    clinic,
    coordinator,
    monkeypatch,
):
    """Filtered in SQL, exactly where ``worklist.place`` gives no lane: they
    never reach the placement in Python."""
    intake_services.ensure_reference_data()
    collected = make_approved_patient(family_name="Collected", given_name="Past")
    _collect(clinic, coordinator, collected)
    declined = make_user(Role.PATIENT, family_name="Declined", given_name="Answers")
    submit(declined, ELIGIBLE_ANSWERS)
    db.session.commit()
    questionnaire = db.session.execute(
        select(Questionnaire).where(Questionnaire.course_id == course_of(declined).id)
    ).scalar_one()
    questionnaire.status = QuestionnaireStatus.DECLINED
    waiting = make_patient(with_login=False)
    db.session.commit()
    placed = []
    known_lane = lanes.known_lane

    def counting(*args, **kwargs):
        placed.append(args)
        return known_lane(*args, **kwargs)

    # Every course read goes through it first.
    monkeypatch.setattr(lanes, "known_lane", counting)
    login_as(Role.COORDINATOR)
    page = _page(client, "/worklist")
    assert "Past Collected" not in page and "Answers Declined" not in page
    assert f"/patients/{waiting.id}" in _lane(page, "answering")
    assert len(placed) == 1


def test_lanes_and_counts_are_unchanged_for_a_mixed_clinic(
    client,
    login_as,
    make_user,
    make_approved_patient,
    make_patient,
    clinic,
    coordinator,
):
    """Every kind of course, including those the SQL filter must keep: a
    halted course past its collection and one whose consent was withdrawn
    after it, which stay in the halted lane."""
    intake_services.ensure_reference_data()
    submit(make_user(Role.PATIENT), ELIGIBLE_ANSWERS)  # review
    make_patient(with_login=False)  # answering
    make_approved_patient()  # ready
    _collect(clinic, coordinator, make_approved_patient(), status=AppointmentStatus.BOOKED, weeks=1)
    _collect(clinic, coordinator, make_approved_patient(), weeks=2)  # past: no lane
    halted = make_approved_patient()
    _collect(clinic, coordinator, halted, weeks=3)
    course_of(halted).status = CourseStatus.HALTED
    withdrawn = make_approved_patient()
    _collect(clinic, coordinator, withdrawn, weeks=4)
    signature = (
        db.session.execute(
            select(ConsentSignature)
            .where(ConsentSignature.course_id == course_of(withdrawn).id)
            .order_by(ConsentSignature.id.desc())
        )
        .scalars()
        .first()
    )
    signature.withdrawn_at = utcnow()
    # Collected, then booked again (as after a failed culture): in the booked
    # lane. (The second visit is booked for another approved patient, who
    # then waits to book, and moved to this course.)
    again = make_approved_patient()
    _collect(clinic, coordinator, again, weeks=5)
    other = make_approved_patient()
    second = _collect(clinic, coordinator, other, status=AppointmentStatus.BOOKED, weeks=6)
    second.course_id, second.patient_id = course_of(again).id, again.patient.id
    db.session.commit()
    login_as(Role.COORDINATOR)
    page = _page(client, "/worklist")
    counts = _counts(page)
    assert counts == {
        lanes.REVIEW: 1,
        lanes.PANEL: 0,
        lanes.PANEL_EXPIRING: 0,
        lanes.CONSENT: 0,
        lanes.READY: 2,
        lanes.BOOKED: 2,
        lanes.ANSWERING: 1,
        lanes.HALTED: 2,
    }
    halted_lane = _lane(page, "halted")
    assert halted.patient.full_name in halted_lane
    assert withdrawn.patient.full_name in halted_lane
    assert again.patient.full_name in _lane(page, "booked")
