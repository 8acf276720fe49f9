"""What the course shows: the patient's journey and home page after booking
(the visit and the culture place), the staff record at the same stage, the
worklist lanes, and the culture's incubator place held by the course."""

from __future__ import annotations

from datetime import timedelta

import pytest

from intake.accounts.roles import Role
from intake.core import settings
from intake.core.errors import Conflict
from intake.eligibility import services as intake_services
from intake.eligibility.demo import ELIGIBLE_ANSWERS, answer_pages, submit
from intake.extensions import db
from intake.scheduling import ledger, services
from intake.scheduling.models import AppointmentStatus
from tests.conftest import log_in
from tests.helpers import course_of

TUESDAY = 1


def _queries(statements: list[str]) -> list[str]:
    return [s for s in statements if "FROM settings" not in s]


def _page(client, url) -> str:
    with client.get(url) as r:
        assert r.status_code == 200, (url, r.status_code)
        return r.get_data(as_text=True)


@pytest.fixture
def booked(clinic, coordinator, make_approved_patient):
    """An approved patient whose collection is booked, and the visit."""
    patient = make_approved_patient(locale="zh_Hans")
    day = clinic.day(weekday=TUESDAY, min_days=7)
    visit = services.book_visit(
        patient.patient, "collection", clinic.at(day, "10:00"), actor=coordinator
    )
    db.session.commit()
    return patient, visit, day


def test_journey_and_home_show_the_booked_visit_and_the_culture_place(client, booked, clinic):
    patient, visit, day = booked
    log_in(client, patient)
    last = day + timedelta(days=42)
    for url in ("/journey", "/me"):
        page = _page(client, url)
        assert 'id="booked-collection"' in page and 'id="culture-place"' in page
        assert f"{day.month}月{day.day}日" in page and f"{last.month}月{last.day}日" in page
    journey = _page(client, "/journey")
    assert 'data-step="collection"' in journey
    # Consent and booking steps are done.
    for code in ("consent", "book"):
        step = journey.split(f'data-step-code="{code}"', 1)[1].split("</li>", 1)[0]
        assert "text-bg-success" in step


def test_the_staff_record_shows_the_same_stage(client, booked, login_as):
    patient, visit, day = booked
    login_as(Role.COORDINATOR)
    page = _page(client, f"/patients/{patient.patient.id}")
    assert 'data-stage="collection"' in page
    assert 'id="culture-place"' in page and f"/desk/visits/{visit.id}" in page


def test_the_incubator_place_belongs_to_the_course(booked, clinic, coordinator):
    patient, visit, day = booked
    course = course_of(patient)
    holds = clinic.incubator_holds(course.id)
    assert len(holds) == 43 and all(h.appointment_id is None for h in holds)
    # A failed culture gives its place back early; the visit is untouched.
    freed = ledger.release_culture_place(
        course, from_day=day + timedelta(days=20), actor=coordinator, reason="Contaminated."
    )
    db.session.commit()
    assert freed == 23 and len(clinic.incubator_holds(course.id)) == 20
    assert visit.status == AppointmentStatus.BOOKED and len(clinic.holds(visit)) == 4 * 3
    # A culture at risk keeps it longer, seat by seat under the same constraint.
    added = ledger.extend_culture_place(
        course, through_day=day + timedelta(days=49), actor=coordinator
    )
    db.session.commit()
    assert added == 30 and len(clinic.incubator_holds(course.id)) == 50


def test_extending_when_no_place_is_free_names_the_day_and_changes_nothing(
    booked, clinic, coordinator, manager, make_approved_patient
):
    patient, visit, day = booked
    settings.update_settings({"incubator_places": "1"}, actor=manager)
    other = make_approved_patient()
    after = clinic.day(min_days=(day - clinic.today).days + 43)
    services.book_visit(other.patient, "collection", clinic.at(after, "10:00"), actor=coordinator)
    db.session.commit()
    course = course_of(patient)
    with pytest.raises(Conflict) as caught:
        ledger.extend_culture_place(
            course, through_day=after + timedelta(days=3), actor=coordinator
        )
    db.session.rollback()
    assert after.isoformat() in caught.value.message
    assert len(clinic.incubator_holds(course.id)) == 43


def test_cancelling_the_collection_frees_the_culture_place(booked, clinic, coordinator):
    patient, visit, day = booked
    services.cancel_visit(visit, actor=coordinator, reason="Patient asked.")
    db.session.commit()
    assert clinic.incubator_holds(course_of(patient).id) == []
    assert clinic.holds(visit) == []


def test_moving_the_collection_moves_the_culture_place(booked, clinic, coordinator):
    patient, visit, day = booked
    later = clinic.day(weekday=TUESDAY, min_days=(day - clinic.today).days + 1)
    services.reschedule_visit(visit, clinic.at(later, "10:00"), actor=coordinator)
    db.session.commit()
    holds = clinic.incubator_holds(course_of(patient).id)
    cal = clinic.cal
    assert len(holds) == 43
    assert cal.local_date(holds[0].unit_start) == later
    assert cal.local_date(holds[-1].unit_start) == later + timedelta(days=42)


def test_the_worklist_puts_each_course_in_its_lane(
    client, login_as, make_user, make_approved_patient, make_patient, booked, count_queries
):
    intake_services.ensure_reference_data()
    waiting = make_user(Role.PATIENT, family_name="Waiting", given_name="Review")
    submit(waiting, ELIGIBLE_ANSWERS)
    drafting = make_user(Role.PATIENT, family_name="Still", given_name="Drafting")
    answer_pages(drafting, ELIGIBLE_ANSWERS, pages=1)
    ready = make_approved_patient(family_name="Ready", given_name="Tobook")
    make_patient(with_login=False, family_name="Walk", given_name="In")
    db.session.commit()
    login_as(Role.DOCTOR)
    page = _page(client, "/worklist")

    def lane(code: str) -> str:
        return page.split(f'id="lane-{code}"', 1)[1].split("</section>", 1)[0]

    assert "Review Waiting" in lane("review")
    assert "Tobook Ready" in lane("ready")
    assert booked[0].patient.full_name in lane("booked")
    assert "Drafting Still" in lane("answering") and "In Walk" in lane("answering")
    assert f"/patients/{ready.patient.id}" in lane("ready")
    # The doctor's lanes come first.
    assert page.index('id="lane-review"') < page.index('id="lane-consent"')
    with count_queries() as few:
        _page(client, "/worklist")
    for _ in range(3):
        make_approved_patient()
    with count_queries() as more:
        _page(client, "/worklist")
    # (the settings may come from the cache on one of the two requests; one
    # more counts the follow-up contacts due, pointed to above the lanes, and
    # one reads the patients of the rows shown only)
    assert len(_queries(more)) == len(_queries(few)) <= 12


@pytest.mark.parametrize("role", [Role.PATIENT, Role.LAB, Role.ADMIN])
def test_the_worklist_is_for_clinical_staff(client, login_as, role):
    login_as(role)
    with client.get("/worklist") as r:
        assert r.status_code == 403


def test_a_panel_expiring_before_the_booked_visit_is_flagged(
    client, login_as, booked, clinic, manager
):
    patient, visit, day = booked
    # The panel was taken 7 days ago: with 10 days of validity it ends before the visit.
    settings.update_settings({"panel_validity_days": "10"}, actor=manager)
    db.session.commit()
    login_as(Role.COORDINATOR)
    page = _page(client, "/worklist")
    lane = page.split('id="lane-panel_expiring"', 1)[1].split("</section>", 1)[0]
    assert patient.patient.full_name in lane and "HBsAg" in lane or "HBs" in lane
