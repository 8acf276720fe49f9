"""The patient's pages: book (day → time → confirm), My visits, the .ics
download, reschedule and cancel; someone else's visit answers 404; bad input
never answers 500."""

import re
from datetime import datetime, timedelta
from html import unescape

import pytest
from icalendar import Calendar
from sqlalchemy import select

from intake.accounts.roles import Role
from intake.core.types import utcnow
from intake.extensions import db
from intake.notifications.models import Message
from intake.scheduling import services
from intake.scheduling.models import Appointment, AppointmentStatus, Hold
from tests.conftest import PASSWORD
from tests.helpers import course_of

TUESDAY = 1


def get(client, url, status=200):
    with client.get(url) as r:
        assert r.status_code == status, (url, r.status_code, r.get_data(as_text=True)[:500])
        return unescape(r.get_data(as_text=True))


def post(client, url, data, status=302):
    with client.post(url, data=data) as r:
        assert r.status_code == status, (url, r.status_code, r.get_data(as_text=True)[:500])
        return r.headers.get("Location", ""), unescape(r.get_data(as_text=True))


def first_link(html, pattern):
    match = re.search(pattern, html)
    assert match, pattern
    return match.group(0)


def test_patient_books_in_three_steps(client, clinic, login_as):
    patient = login_as(Role.PATIENT, locale="en")
    days = get(client, "/book/consultation")
    assert "1. Choose a day" in days and "Asia/Tokyo" in days
    day = clinic.day(weekday=TUESDAY)
    assert f"/book/consultation?day={day}" in days or f"day={day}" in days

    times = get(client, f"/book/consultation?day={day}")
    assert "2. Choose a time" in times
    link = first_link(times, r"/book/consultation\?start=[^\"]+")
    confirm = get(client, link)
    assert "3. Check and confirm" in confirm and "Video call" in confirm
    start = re.search(r'name="start" value="([^"]+)"', confirm).group(1)

    location, _ = post(client, "/book/consultation", {"start": start, "mode": "in_person"})
    assert location.endswith("/visits")
    appointment = db.session.execute(select(Appointment)).scalar_one()
    assert appointment.patient_id == patient.id
    assert appointment.start_at == datetime.fromisoformat(start)
    assert start.endswith("+09:00")
    visits = get(client, "/visits")
    assert "Booked. We have sent you a confirmation" in visits
    assert "Consultation" in visits and f"/visits/{appointment.id}.ics" in visits
    assert db.session.execute(select(Message.template)).scalar_one() == "visit_booked"
    # Booked: the page now offers to move it instead of a second one.
    assert "You already have this visit booked" in get(client, "/book/consultation")


def test_ics_download_own_only(client, clinic, login_as, make_user):
    coordinator = make_user(Role.COORDINATOR)
    patient = login_as(Role.PATIENT, locale="ja")
    mine = services.book_visit(
        patient.patient, "consultation", clinic.at(clinic.day(), "10:00"), actor=coordinator
    )
    other = services.book_visit(
        make_user(Role.PATIENT).patient,
        "consultation",
        clinic.at(clinic.day(), "14:00"),
        actor=coordinator,
    )
    db.session.commit()
    with client.get(f"/visits/{mine.id}.ics") as r:
        assert r.status_code == 200 and r.mimetype == "text/calendar"
        assert f'filename="visit-{mine.id}.ics"' in r.headers["Content-Disposition"]
        event = Calendar.from_ical(r.get_data()).walk("VEVENT")[0]
    assert str(event["summary"]).startswith("診察")
    for url in (
        f"/visits/{other.id}.ics",
        f"/visits/{other.id}/cancel",
        f"/visits/{other.id}/reschedule",
        "/visits/99999.ics",
    ):
        get(client, url, status=404)
    post(client, f"/visits/{other.id}/cancel", {"reason": "x"}, status=404)
    assert db.session.get(Appointment, other.id).status == AppointmentStatus.BOOKED


def test_patient_cancels_and_reschedules(client, clinic, login_as):
    patient = login_as(Role.PATIENT)
    day = clinic.day(weekday=TUESDAY)
    appointment = services.book_visit(
        patient.patient, "consultation", clinic.at(day, "10:00"), actor=patient
    )
    db.session.commit()

    page = get(client, f"/visits/{appointment.id}/reschedule?day={day}")
    assert "Booked now" in page
    link = first_link(page, r"/visits/\d+/reschedule\?start=[^\"]+T14:00[^\"]*")
    start = re.search(r'name="start" value="([^"]+)"', get(client, link)).group(1)
    location, _ = post(client, f"/visits/{appointment.id}/reschedule", {"start": start})
    assert location.endswith("/visits")
    db.session.refresh(appointment)
    assert appointment.start_at == clinic.at(day, "14:00")

    assert "Cancel this visit" in get(client, f"/visits/{appointment.id}/cancel")
    post(client, f"/visits/{appointment.id}/cancel", {"reason": "Flight changed"})
    db.session.refresh(appointment)
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.cancel_reason == "Flight changed"
    assert "Your visit is cancelled." in get(client, "/visits")


def test_inside_the_notice_the_patient_is_told_to_call(client, clinic, login_as):
    patient = login_as(Role.PATIENT)
    start = utcnow().replace(second=0, microsecond=0) + timedelta(hours=20)
    appointment = Appointment(
        patient=patient.patient,
        course=course_of(patient),
        visit_type=clinic.visit_type("consultation"),
        start_at=start,
        end_at=start + timedelta(minutes=45),
        booked_by=patient,
    )
    db.session.add(appointment)
    db.session.commit()
    visits = get(client, "/visits")
    assert "To change or cancel it, please call the clinic" in visits
    assert f"/visits/{appointment.id}/cancel" not in visits
    assert "Please call the clinic" in get(client, f"/visits/{appointment.id}/cancel")
    assert "Please call the clinic" in get(client, f"/visits/{appointment.id}/reschedule")
    _, body = post(client, f"/visits/{appointment.id}/cancel", {"reason": ""}, status=200)
    assert "Please call the clinic" in body
    db.session.refresh(appointment)
    assert appointment.status == AppointmentStatus.BOOKED


@pytest.mark.parametrize(
    "url",
    [
        "/book/consultation?day=2026-99-99",
        "/book/consultation?day=yesterday",
        "/book/consultation?start=garbage",
        "/book/consultation?start=2026-12-01T10:00:00",
        "/book/consultation?start=2026-12-01T10:07:00%2B09:00",
        "/book/consultation?from=1999-01-01",
        "/book/consultation?from=9999-12-31",
        "/book/consultation?day=1900-01-01",
        "/book/consultation?day=9999-12-31",
        "/book/consultation?day=0001-01-01",
        "/book/consultation?start=0001-01-01T00:00:00%2B09:00",
        "/book/consultation?start=9999-12-31T23:59:00-09:00",
        "/book/consultation?from=0001-01-01",
    ],
)
def test_odd_query_strings_show_the_picker(client, clinic, login_as, url):
    login_as(Role.PATIENT)
    page = get(client, url)
    assert "Choose a day" in page or "Choose a time" in page


@pytest.mark.parametrize(
    "start, message",
    [
        ("garbage", "Please choose one of the offered start times."),
        ("", "Please choose a day and a time from the list."),
        ("2020-01-06T10:00:00+09:00", "That time has already passed."),
        ("{day}T10:05:00+09:00", "Please choose one of the offered start times."),
        ("{day}T12:15:00+09:00", "outside the clinic's opening hours"),
        ("{sunday}T10:00:00+09:00", "outside the clinic's opening hours"),
        ("0001-01-01T00:00:00+09:00", "Please choose one of the offered start times."),
        ("9999-12-31T23:59:00-09:00", "Please choose one of the offered start times."),
    ],
)
def test_bad_posts_write_nothing(client, clinic, login_as, start, message):
    login_as(Role.PATIENT)
    data = {"start": start.format(day=clinic.day(), sunday=clinic.weekday(6)), "mode": "video"}
    location, _ = post(client, "/book/consultation", data)
    assert "/book/consultation" in location
    assert message in get(client, location)
    assert db.session.execute(select(Appointment)).first() is None
    assert db.session.execute(select(Hold)).first() is None


def test_visits_that_cannot_be_booked_online(client, clinic, login_as):
    login_as(Role.PATIENT)
    for code in ("reinfusion-iv", "massage"):
        assert "cannot be booked online" in get(client, f"/book/{code}", status=404)


def test_collection_without_the_gate_lists_what_is_missing(client, clinic, login_as):
    login_as(Role.PATIENT)
    page = get(client, "/book/collection")
    assert "once everything below is ready" in page
    assert "A doctor has not yet approved" in page and "Choose a day" not in page
    day = clinic.day()
    _, body = post(client, "/book/collection", {"start": f"{day}T10:00:00+09:00"}, status=200)
    assert "once everything below is ready" in body
    assert db.session.execute(select(Appointment)).first() is None


@pytest.mark.parametrize(
    ("locale", "names", "code_sentence"),
    [
        (
            "zh_Hans",
            ("乙肝表面抗原（HBsAg）", "人类嗜T淋巴细胞病毒1型抗体（HTLV-1）"),
            "HBsAg 的检测结果",
        ),
        ("ja", ("HBs抗原", "HTLV-1抗体"), "HBsAg の検査結果"),
        ("en", ("Hepatitis B surface antigen (HBsAg)", "HTLV-1 antibody"), "The HBsAg test"),
    ],
)
def test_gate_names_the_tests_in_the_patients_language(
    client, clinic, login_as, locale, names, code_sentence
):
    """The patient reads what blocks the collection booking with each test's
    localized name, not the lab code."""
    login_as(Role.PATIENT, locale=locale)
    page = get(client, "/book/collection")
    for name in names:
        assert name in page
    assert code_sentence not in page
    day = clinic.day()
    _, body = post(client, "/book/collection", {"start": f"{day}T10:00:00+09:00"}, status=200)
    assert names[0] in body


def test_approved_patient_books_the_collection(client, clinic, make_approved_patient):
    patient = make_approved_patient(locale="zh_Hans")
    with client.post("/login", data={"email": patient.email, "password": PASSWORD}) as r:
        assert r.status_code == 302
    page = get(client, "/book/collection")
    assert "1." in page and "day=" in page
    link = first_link(page, r"/book/collection\?day=[0-9-]+")
    times = get(client, link)
    start_link = first_link(times, r"/book/collection\?start=[^\"]+")
    start = re.search(r'name="start" value="([^"]+)"', get(client, start_link)).group(1)
    post(client, "/book/collection", {"start": start})
    appointment = db.session.execute(select(Appointment)).scalar_one()
    assert appointment.visit_type.code == "collection"
    assert len(clinic.holds(appointment)) == 4 * 3
    assert len(clinic.incubator_holds(appointment.course_id)) == 43


def test_access(client, clinic, login_as):
    get(client, "/visits", status=302)  # anonymous: to the login page
    login_as(Role.COORDINATOR)
    get(client, "/visits", status=403)
    get(client, "/book/consultation", status=403)
