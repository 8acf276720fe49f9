"""The collection booking against the patient's trips: each offered day is
marked (fits / cells ready with no trip then); a day that misses asks for
"book anyway" before it is booked; nothing changes for a patient without
trips, for a day with no later trip, or for other visits."""

import re
from datetime import date, timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from intake.accounts.roles import Role
from intake.extensions import db
from intake.patients import trip_services
from intake.scheduling.models import Appointment
from tests.conftest import log_in


def get(client, url, status=200):
    with client.get(url) as r:
        assert r.status_code == status, (url, r.status_code, r.get_data(as_text=True)[:300])
        return unescape(r.get_data(as_text=True))


def post(client, url, data, status=302):
    with client.post(url, data=data) as r:
        assert r.status_code == status, (url, r.status_code, r.get_data(as_text=True)[:300])
        return r.headers.get("Location", ""), unescape(r.get_data(as_text=True))


def offered_days(html, base):
    return [date.fromisoformat(d) for d in re.findall(rf"{re.escape(base)}[?&]day=([0-9-]+)", html)]


def marks(html):
    """Day → verdict of each marked day button."""
    found = {}
    for iso, body in re.findall(r'day=([0-9-]{10})"[^>]*>(.*?)</a>', html, re.S):
        m = re.search(r'data-fit="(\w+)"', body)
        if m:
            found[date.fromisoformat(iso)] = m.group(1)
    return found


def count_bookings():
    return db.session.execute(select(func.count()).select_from(Appointment)).scalar_one()


def confirm_start(client, url):
    """The start value of a confirmation page reached through a day's first time."""
    times = get(client, url)
    link = re.search(r'href="([^"]*start=[^"]+)"', times).group(1)
    page = get(client, link)
    return link, page, re.search(r'name="start" value="([^"]+)"', page).group(1)


@pytest.fixture
def traveller(client, clinic, make_approved_patient):
    patient = make_approved_patient(locale="en")
    log_in(client, patient)
    return patient


def _trip(patient, first, last):
    trip_services.add_trip(patient.patient, arrives_on=first, departs_on=last, actor=patient)
    db.session.commit()


def test_no_trips_nothing_marked(client, clinic, traveller):
    page = get(client, "/book/collection")
    assert offered_days(page, "/book/collection")
    assert "data-fit" not in page
    assert "Travelling to Japan for the treatment?" in page
    assert 'href="/trips?next=/book/collection"' in page


def test_days_marked_and_a_day_that_misses_asks_first(client, clinic, traveller):
    page = get(client, "/book/collection")
    days = offered_days(page, "/book/collection")
    first = days[0]
    # Cells of the first offered day are ready first+28 … first+42: a trip then.
    _trip(traveller, first + timedelta(days=28), first + timedelta(days=42))
    page = get(client, "/book/collection")
    assert "Days are marked against your planned trips to Japan." in page
    found = marks(page)
    assert found[first] == "fits"
    assert "Fits your trip" in page
    late = [d for d in days if d > first + timedelta(days=14)]
    assert late, "the page offers no day more than two weeks after the first"
    miss = late[0]
    assert found[miss] == "misses"
    assert "no trip then" in page

    # The day that misses: its times page says so, its confirmation asks.
    link, confirm, start = confirm_start(client, f"/book/collection?day={miss}")
    assert 'id="trip-warning"' in confirm and "Book this day anyway" in confirm
    assert "none of your planned trips" in confirm
    location, _ = post(client, "/book/collection", {"start": start})
    assert "start=" in location  # back to the confirmation
    assert count_bookings() == 0
    again = get(client, location)
    assert "Tick “Book this day anyway” to book it." in again and 'id="trip-warning"' in again

    # The day that fits books at once.
    _, confirm, start = confirm_start(client, f"/book/collection?day={first}")
    assert 'id="trip-warning"' not in confirm and "Book this day anyway" not in confirm
    assert "Fits your trip" in confirm
    location, _ = post(client, "/book/collection", {"start": start})
    assert location.endswith("/visits")
    assert count_bookings() == 1


def test_book_anyway_books_the_day_that_misses(client, clinic, traveller):
    page = get(client, "/book/collection")
    days = offered_days(page, "/book/collection")
    _trip(traveller, days[0] + timedelta(days=28), days[0] + timedelta(days=42))
    miss = next(d for d in days if d > days[0] + timedelta(days=14))
    _, _, start = confirm_start(client, f"/book/collection?day={miss}")
    location, _ = post(client, "/book/collection", {"start": start, "book_anyway": "yes"})
    assert location.endswith("/visits")
    appointment = db.session.execute(select(Appointment)).scalar_one()
    assert clinic.cal.local_date(appointment.start_at) == miss


def test_no_later_trip_no_mark_no_warning(client, clinic, traveller):
    """A stay under way (the one for the collection) is not a later trip: days
    whose window it does not meet are not warned until a later trip exists."""
    _trip(traveller, clinic.today, clinic.today + timedelta(days=60))
    page = get(client, "/book/collection")
    assert set(marks(page).values()) == {"fits"}
    later_page = f"/book/collection?from={clinic.today + timedelta(days=35)}"
    page = get(client, later_page)
    assert offered_days(page, "/book/collection")
    assert marks(page) == {} and "no trip then" not in page
    _trip(traveller, clinic.today + timedelta(days=400), clinic.today + timedelta(days=410))
    page = get(client, later_page)
    assert set(marks(page).values()) == {"misses"}


def test_other_visits_are_not_marked(client, clinic, traveller):
    _trip(traveller, clinic.today + timedelta(days=5), clinic.today + timedelta(days=60))
    page = get(client, "/book/consultation")
    assert "data-fit" not in page and "/trips" not in page.split("<main")[1]


def test_the_gate_still_comes_first(client, clinic, login_as):
    patient = login_as(Role.PATIENT)
    _trip(patient, clinic.today + timedelta(days=60), clinic.today + timedelta(days=61))
    page = get(client, "/book/collection")
    assert "data-fit" not in page and "can be booked once everything below is ready" in page
    day = clinic.day(min_days=4)
    _, body = post(client, "/book/collection", {"start": f"{day}T10:00:00+09:00"}, status=200)
    assert "can be booked once everything below is ready" in body
    assert "Book this day anyway" not in body and count_bookings() == 0


# --------------------------------------------------------------------------- the desk


def test_the_desk_sees_the_marks_and_is_asked_too(client, clinic, make_approved_patient, login_as):
    patient = make_approved_patient(locale="zh_Hans")
    coordinator = login_as(Role.COORDINATOR, locale="en")
    base = f"/desk/book?patient_id={patient.patient.id}&visit_type=collection"
    page = get(client, base)
    assert "data-fit" not in page
    assert f"/patients/{patient.patient.id}/trips?next=" in page
    days = offered_days(page, f"/desk/book?patient_id={patient.patient.id}&visit_type=collection")
    first = days[0]
    _trip(patient, first + timedelta(days=28), first + timedelta(days=42))
    page = get(client, base)
    found = marks(page)
    assert found[first] == "fits" and "Fits the patient's trip" in page
    miss = next(d for d in days if d > first + timedelta(days=14))
    assert found[miss] == "misses"

    _, confirm, start = confirm_start(client, f"{base}&day={miss}")
    assert "none of the patient's planned trips" in confirm and "Book this day anyway" in confirm
    location, _ = post(client, base, {"start": start})
    assert "start=" in location and count_bookings() == 0
    assert "does not fit the patient's trips" in get(client, location)
    location, _ = post(client, base, {"start": start, "book_anyway": "yes"})
    appointment = db.session.execute(select(Appointment)).scalar_one()
    assert appointment.booked_by_id == coordinator.id
    assert clinic.cal.local_date(appointment.start_at) == miss
