"""The deadlines page (issue 11, point 4): adverse-event reports due,
batches at risk, follow-ups overdue, panels expiring before a booked visit,
withdrawn consents and identity mismatches, each with its due date, most
urgent first."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from intake.accounts.roles import Role
from intake.cultures import services as culture_services
from intake.cultures.models import Batch
from intake.extensions import db
from intake.manager import deadlines as d
from intake.manager import deadlines_queries
from intake.manager import pipeline as p
from intake.reinfusion.models import Administration, Dose, DoseStatus, FollowUpStatus
from intake.scheduling.models import AppointmentStatus
from tests.manager.pipeline_fixtures import Courses
from tests.scheduling.conftest import clinic  # noqa: F401


@pytest.fixture
def courses(clinic):  # noqa: F811
    return Courses(clinic)


def _items(html: str) -> list[tuple[str, str, str]]:
    return re.findall(
        r'class="list-group-item deadline" data-kind="([a-z_]+)" data-urgency="([a-z]+)" '
        r'data-due="([0-9-]+)"',
        html,
    )


def _kinds(today) -> dict[str, list]:
    found: dict[str, list] = {}
    for item in deadlines_queries.deadline_items(today=today)["items"]:
        found.setdefault(item.kind, []).append(item)
    return found


def test_adverse_event_reports_due(courses):
    course = courses.at(p.IN_FOLLOW_UP)
    due = courses.adverse_event(course, due_in=3)
    told = courses.adverse_event(course, due_in=-1, cpc_told=True)
    courses.adverse_event(course, due_in=2, reported=True)  # reported: done
    courses.adverse_event(course, due_in=None)  # the periodic report: no deadline
    db.session.commit()
    items = _kinds(courses.today)[d.ADVERSE_EVENT]
    assert [i.key for i in items] == [("adverse_event", told.id), ("adverse_event", due.id)]
    assert items[0].due_on == courses.today - timedelta(days=1)
    assert items[1].details["cpc_told"] is False


def test_batches_at_risk_due_on_the_windows_last_day(courses):
    late = courses.at(p.IN_CULTURE, week=7)  # day 45: past the window, not released
    courses.at(p.IN_CULTURE, week=2)  # no counts yet, inside the window: not at risk
    courses.at(p.RELEASED)  # released: never at risk on the calendar
    db.session.commit()
    items = _kinds(courses.today)[d.BATCH_AT_RISK]
    assert len(items) == 1
    batch = db.session.get(Batch, items[0].details["batch_id"])
    assert batch.course_id == late.id
    assert items[0].due_on == batch.collected_on + timedelta(days=42)
    assert d.urgency(items[0].due_on, courses.today) == d.OVERDUE


def test_follow_ups_overdue(courses):
    course = courses.at(p.ADMINISTERED)
    given = db.session.query(Administration).one()
    overdue = courses.follow_up(course, given, due_in=-10)
    courses.follow_up(course, given, due_in=-3)  # inside its 7 days' grace: not yet overdue
    courses.follow_up(course, given, due_in=-5, status=FollowUpStatus.DONE)
    courses.follow_up(course, given, due_in=-9, status=FollowUpStatus.UNREACHABLE)
    db.session.commit()
    items = _kinds(courses.today)[d.FOLLOW_UP_OVERDUE]
    assert [i.key for i in items] == [("follow_up", overdue.id)]
    assert items[0].due_on == courses.today - timedelta(days=3)


def test_panels_expiring_before_a_booked_visit(courses, clinic):  # noqa: F811
    validity = 90
    expiring = courses.at(p.APPROVED)
    courses.panel(expiring, days_ago=80)  # valid through day +10, the visit is on day +20
    visit = courses.visit(expiring, "collection", courses.today + timedelta(days=20))
    fine = courses.at(p.APPROVED)
    courses.panel(fine, days_ago=10)
    courses.visit(fine, "collection", courses.today + timedelta(days=20))
    # a reinfusion visit is checked too; a cancelled visit is not
    reinfusion = courses.at(p.RELEASED)
    courses.panel(reinfusion, days_ago=100)
    batch = db.session.query(Batch).filter_by(course_id=reinfusion.id).one()
    dose = courses.dose(reinfusion, batch, DoseStatus.CONFIRMED, days=6)
    cancelled = courses.at(p.APPROVED)
    courses.panel(cancelled, days_ago=85)
    courses.visit(
        cancelled, "collection", courses.today + timedelta(days=20)
    ).status = AppointmentStatus.CANCELLED
    db.session.commit()
    items = _kinds(courses.today)[d.PANEL_EXPIRING]
    assert [i.key for i in items] == [("visit", dose.appointment_id), ("visit", visit.id)]
    assert items[1].due_on == courses.today + timedelta(days=20)
    assert items[1].details["lapses_on"] == courses.today - timedelta(days=80) + timedelta(
        days=validity + 1
    )
    assert "HBsAg" in items[1].details["tests"]


def test_withdrawn_consents_of_the_last_30_days(courses):
    recent = courses.at(p.HALTED)
    signature = courses.withdrawn_consent(recent, days_ago=2)
    old = courses.at(p.HALTED)
    courses.withdrawn_consent(old, days_ago=d.LOOKBACK_DAYS + 2)
    db.session.commit()
    items = _kinds(courses.today)[d.CONSENT_WITHDRAWN]
    assert [i.key for i in items] == [("signature", signature.id)]


def test_identity_mismatches_open_until_a_later_match(courses, make_user):
    lab = make_user(Role.LAB)
    course = courses.at(p.IN_CULTURE)
    batch = db.session.query(Batch).filter_by(course_id=course.id).one()
    culture_services.check_identity(
        batch, name="Someone Else", date_of_birth=date(1980, 2, 2), actor=lab
    )
    db.session.commit()
    items = _kinds(courses.today)[d.IDENTITY_MISMATCH]
    assert len(items) == 1 and items[0].details["where"] == "lab"
    assert items[0].patient_id == course.patient_id
    assert items[0].due_on == courses.today
    patient = batch.patient
    culture_services.check_identity(
        batch, name=patient.full_name, date_of_birth=patient.date_of_birth, actor=lab
    )
    db.session.commit()
    assert d.IDENTITY_MISMATCH not in _kinds(courses.today)

    # at the bedside: matched false, then nothing after
    given = courses.at(p.REINFUSION_CONFIRMED)
    dose = db.session.query(Dose).filter_by(course_id=given.id).one()
    check = courses.bedside_check(given, dose, matched=False)
    db.session.commit()
    items = _kinds(courses.today)[d.IDENTITY_MISMATCH]
    assert [i.key for i in items] == [("bedside", check.id)]
    assert items[0].details["why"] == "other_batch"


def test_the_page_most_urgent_first_with_links_to_the_record(client, login_as, courses):
    course = courses.at(p.IN_FOLLOW_UP, name="Deadlinename")
    courses.adverse_event(course, due_in=5)
    given = db.session.query(Administration).one()
    courses.follow_up(course, given, due_in=-11)  # overdue since 4 days ago
    courses.at(p.IN_CULTURE, week=7)  # at risk, overdue since day 42
    halted = courses.at(p.HALTED)
    courses.withdrawn_consent(halted, days_ago=0)
    db.session.commit()
    login_as(Role.MANAGER)
    with client.get("/manager/deadlines") as r:
        assert r.status_code == 200
        html = r.get_data(as_text=True)
    items = _items(html)
    kinds = [k for k, _u, _d in items]
    dues = [due for _k, _u, due in items]
    assert dues == sorted(dues)
    assert kinds == [
        d.FOLLOW_UP_OVERDUE,  # four days overdue
        d.BATCH_AT_RISK,  # day 45 of 42: three days overdue
        d.CONSENT_WITHDRAWN,  # today
        d.ADVERSE_EVENT,  # in five days
    ]
    assert [u for _k, u, _d in items] == [d.OVERDUE, d.OVERDUE, d.TODAY, d.SOON]
    assert "4 days overdue" in html and "in 5 days" in html and "Due today" in html
    assert f'href="/patients/{course.patient_id}"' in html
    assert "Deadlinename" in html
    assert "The CPC has not been told yet." in html
    assert re.search(r'data-urgency="overdue"[^>]*><th[^>]*>Overdue</th><td[^>]*>2<', html)
    assert "past the end of the window" in html  # the lab board's own words for the risk


def test_nothing_due(client, login_as, clinic):  # noqa: F811
    login_as(Role.MANAGER)
    with client.get("/manager/deadlines") as r:
        assert r.status_code == 200
        assert 'id="deadlines-empty"' in r.get_data(as_text=True)


@pytest.mark.parametrize("page", ["abc", "", "-1", "0", "99999999999999999999", "7"])
def test_odd_page_numbers(client, login_as, courses, page):
    course = courses.at(p.IN_FOLLOW_UP)
    courses.adverse_event(course, due_in=1)
    db.session.commit()
    login_as(Role.MANAGER)
    with client.get(f"/manager/deadlines?page={page}") as r:
        assert r.status_code == 200
        assert len(_items(r.get_data(as_text=True))) == 1


def test_admins_see_the_deadlines_without_names(client, login_as, courses):
    course = courses.at(p.IN_FOLLOW_UP, name="Hiddenname")
    courses.adverse_event(course, due_in=1)
    db.session.commit()
    login_as(Role.ADMIN)
    with client.get("/manager/deadlines") as r:
        html = r.get_data(as_text=True)
    assert len(_items(html)) == 1
    assert "Hiddenname" not in html and "/patients/" not in html
    assert "Fever" not in html  # the event's description is clinical


def test_a_fixed_number_of_statements(client, login_as, courses, count_queries, make_user):
    login_as(Role.MANAGER)

    def world():
        course = courses.at(p.IN_FOLLOW_UP)
        courses.adverse_event(course, due_in=2)
        courses.at(p.IN_CULTURE, week=7)
        booked = courses.at(p.APPROVED)
        courses.panel(booked, days_ago=85)
        courses.visit(booked, "collection", courses.today + timedelta(days=10 + next(counter)))
        courses.withdrawn_consent(courses.at(p.HALTED), days_ago=1)
        db.session.commit()

    counter = iter(range(100))

    def measure():
        db.session.expire_all()
        with count_queries() as statements:
            with client.get("/manager/deadlines") as r:
                assert r.status_code == 200
        return len(statements)

    world()
    small = measure()
    for _ in range(5):
        world()
    assert measure() == small


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("zh_Hans", ("截止事项", "已逾期", "疗程进度", "培养第")),
        ("ja", ("期限", "日超過", "コースの進捗", "培養")),
    ],
)
def test_the_pages_in_chinese_and_japanese(client, login_as, courses, locale, words):
    course = courses.at(p.IN_FOLLOW_UP)
    courses.adverse_event(course, due_in=-2)
    courses.at(p.IN_CULTURE, week=7)
    db.session.commit()
    login_as(Role.MANAGER, locale=locale)
    pages = []
    for url in ("/manager/deadlines", "/manager/pipeline", "/manager/pipeline/in_culture"):
        with client.get(url) as r:
            assert r.status_code == 200, url
            pages.append(r.get_data(as_text=True))
    text = "".join(pages)
    for word in words:
        assert word in text, word
