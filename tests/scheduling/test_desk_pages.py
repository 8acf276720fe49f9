"""The front desk: the day list, a visit's page, statuses, cancel with a reason,
moving a visit and booking for a patient."""

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select

from intake.accounts.roles import Role
from intake.core.models import AuditEntry
from intake.core.types import utcnow
from intake.extensions import db
from intake.scheduling import services
from intake.scheduling.models import Appointment, AppointmentStatus
from tests.helpers import course_of

TUESDAY = 1


def get(client, url, status=200):
    with client.get(url) as r:
        assert r.status_code == status, (url, r.status_code, r.get_data(as_text=True)[:300])
        return unescape(r.get_data(as_text=True))


def post(client, url, data, status=302):
    with client.post(url, data=data) as r:
        assert r.status_code == status, (url, r.status_code, r.get_data(as_text=True)[:300])
        return r.headers.get("Location", ""), unescape(r.get_data(as_text=True))


@pytest.fixture
def desk(client, login_as):
    return login_as(Role.COORDINATOR)


def _today_visit(clinic, patient, staff):
    """A visit today, soon (entered directly: today may be a Sunday)."""
    now = utcnow().replace(second=0, microsecond=0)
    start = now + timedelta(hours=1)
    if clinic.cal.local_date(start) != clinic.cal.local_date(now):
        start = now - timedelta(minutes=10)  # just before midnight: stay on today
    appointment = Appointment(
        patient=patient.patient,
        course=course_of(patient),
        visit_type=clinic.visit_type("consultation"),
        start_at=start,
        end_at=start + timedelta(minutes=45),
        booked_by=staff,
    )
    db.session.add(appointment)
    db.session.commit()
    return appointment


def test_day_list_shows_the_days_visits(client, clinic, desk, make_user):
    day = clinic.day(weekday=TUESDAY)
    patient = make_user(Role.PATIENT, family_name="王", given_name="丽")
    cancelled_patient = make_user(Role.PATIENT, given_name="Cancelled", family_name="Person")
    services.book_visit(
        patient.patient, "consultation", clinic.at(day, "10:00"), actor=desk, mode="video"
    )
    gone = services.book_visit(
        cancelled_patient.patient, "consultation", clinic.at(day, "14:00"), actor=desk
    )
    services.cancel_visit(gone, actor=desk, reason="Flight cancelled")
    db.session.commit()
    page = get(client, f"/desk?day={day}")
    assert "王丽" in page and "Consultation" in page and "Video call" in page
    assert "Cancelled Person" in page and "Flight cancelled" in page
    assert "Asia/Tokyo" in page and "Doctors" not in page  # the doctor held, by name
    assert "Dr. " in page
    other = get(client, f"/desk?day={day + timedelta(days=1)}")
    assert "王丽" not in other and "No visits on this day." in other


@pytest.mark.parametrize("day", ["2026-02-30", "tomorrow", "", "1-1-1", "0001-01-01", "9999-12-31"])
def test_day_list_with_a_bad_day_shows_today(client, clinic, desk, day):
    assert "Day list" in get(client, f"/desk?day={day}")


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("1800-01-01", "Enter a date between the years 1900 and 2200."),
        ("2999-01-01", "Enter a date between the years 1900 and 2200."),
        ("0001-01-01", "Enter a date between the years 1900 and 2200."),
        ("2026-02-30", "Enter the date as YYYY-MM-DD."),
    ],
)
def test_day_list_says_why_a_day_is_refused(client, clinic, desk, day, message):
    page = get(client, f"/desk?day={day}")
    assert message in page
    assert clinic.today.isoformat() in page  # and shows today instead


@pytest.mark.parametrize("day", ["1900-01-01", "2200-12-31"])
def test_day_list_at_the_edges_of_the_range(client, clinic, desk, day):
    page = get(client, f"/desk?day={day}")
    assert "No visits on this day." in page and "Enter a date" not in page


def test_check_in_and_complete(client, clinic, desk, make_user):
    appointment = _today_visit(
        clinic, make_user(Role.PATIENT, given_name="Li", family_name="Wei"), desk
    )
    page = get(client, "/desk")
    assert "Li Wei" in page and "Check in" in page
    post(client, f"/desk/visits/{appointment.id}/status", {"action": "arrived", "next": "/desk"})
    db.session.refresh(appointment)
    assert appointment.status == AppointmentStatus.ARRIVED
    assert "Checked in: Li Wei." in get(client, "/desk")
    location, _ = post(
        client, f"/desk/visits/{appointment.id}/status", {"action": "completed", "next": "//evil"}
    )
    assert location.startswith("/desk") and "evil" not in location
    db.session.refresh(appointment)
    assert appointment.status == AppointmentStatus.COMPLETED
    # A completed visit cannot become a no-show; an unknown action is a bad request.
    post(client, f"/desk/visits/{appointment.id}/status", {"action": "no_show"})
    page = get(client, "/desk")
    assert "cannot change to that status" in page or "only after its start time" in page
    post(client, f"/desk/visits/{appointment.id}/status", {"action": "delete"}, status=400)
    actions = (
        db.session.execute(
            select(AuditEntry.action).where(
                AuditEntry.entity_type == "appointments",
                AuditEntry.entity_id == str(appointment.id),
            )
        )
        .scalars()
        .all()
    )
    assert actions == ["scheduling.arrive", "scheduling.complete"]


def test_cancel_needs_a_reason(client, clinic, desk, make_user):
    patient = make_user(Role.PATIENT)
    appointment = services.book_visit(
        patient.patient, "consultation", clinic.at(clinic.day(), "10:00"), actor=desk
    )
    db.session.commit()
    page = get(client, f"/desk/visits/{appointment.id}")
    assert patient.full_name in page and "History" in page and "scheduling.book" in page
    _, body = post(client, f"/desk/visits/{appointment.id}/cancel", {"reason": ""}, status=200)
    assert "This field is required." in body
    assert db.session.get(Appointment, appointment.id).status == AppointmentStatus.BOOKED
    post(client, f"/desk/visits/{appointment.id}/cancel", {"reason": "Doctor ill"})
    db.session.refresh(appointment)
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.cancel_reason == "Doctor ill"
    assert clinic.holds(appointment) == []


def test_move_a_visit(client, clinic, desk, make_user):
    day = clinic.day(weekday=TUESDAY)
    appointment = services.book_visit(
        make_user(Role.PATIENT).patient, "consultation", clinic.at(day, "10:00"), actor=desk
    )
    db.session.commit()
    page = get(client, f"/desk/visits/{appointment.id}/reschedule?day={day}")
    link = re.search(r'/desk/visits/\d+/reschedule\?start=[^"]+T15:00[^"]*', page).group(0)
    confirm = get(client, link)
    start = re.search(r'name="start" value="([^"]+)"', confirm).group(1)
    post(client, f"/desk/visits/{appointment.id}/reschedule", {"start": start, "mode": "video"})
    db.session.refresh(appointment)
    assert appointment.start_at == clinic.at(day, "15:00")


def test_book_for_a_patient(client, clinic, desk, make_user):
    patient = make_user(Role.PATIENT, given_name="Yamada", family_name="Hanako")
    assert "Yamada Hanako" in get(client, "/desk/book?q=yamada")
    choose = get(client, f"/desk/book?patient_id={patient.id}")
    # No reinfusion visit type is offered (the navigation may name the reinfusion pages).
    assert "Consultation" in choose and "Reinfusion:" not in choose
    day = clinic.day(weekday=TUESDAY)
    times = get(client, f"/desk/book?patient_id={patient.id}&visit_type=consultation&day={day}")
    assert "2. Choose a time" in times
    start = f"{day}T11:00:00+09:00"
    location, _ = post(
        client,
        f"/desk/book?patient_id={patient.id}&visit_type=consultation",
        {"start": start, "mode": "in_person"},
    )
    appointment = db.session.execute(select(Appointment)).scalar_one()
    assert location.endswith(f"/desk/visits/{appointment.id}")
    assert appointment.patient_id == patient.id and appointment.booked_by_id == desk.id


def test_collection_for_a_patient_without_the_gate(client, clinic, desk, make_user):
    patient = make_user(Role.PATIENT)
    page = get(client, f"/desk/book?patient_id={patient.id}&visit_type=collection")
    assert "cannot be booked for this patient yet" in page
    assert "consent for the treatment has not been signed" in page


def test_collection_gate_names_the_tests_in_the_staff_language(client, clinic, login_as, make_user):
    login_as(Role.COORDINATOR, locale="zh_Hans")
    patient = make_user(Role.PATIENT)
    page = get(client, f"/desk/book?patient_id={patient.id}&visit_type=collection")
    assert "乙肝表面抗原（HBsAg）" in page and "HBsAg 的检测结果" not in page


def test_staff_only(client, clinic, login_as):
    login_as(Role.PATIENT)
    for url in ("/desk", "/desk/book", "/desk/visits/1"):
        get(client, url, status=403)


def test_unknown_visit_answers_404(client, clinic, desk):
    get(client, "/desk/visits/12345", status=404)
    post(client, "/desk/visits/12345/status", {"action": "arrived"}, status=404)
