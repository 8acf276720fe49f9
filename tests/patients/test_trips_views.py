"""The trip pages: the patient's own at /trips, a patient's for coordinators
and doctors at /patients/<id>/trips; another patient's trip answers 404; bad
input shows beside its field with what was typed kept; links to the pages."""

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from intake.accounts.roles import Role
from intake.core.models import AuditEntry
from intake.extensions import db
from intake.patients import trip_services
from intake.patients.models import Trip


def get(client, url, status=200):
    with client.get(url) as r:
        assert r.status_code == status, (url, r.status_code, r.get_data(as_text=True)[:300])
        return unescape(r.get_data(as_text=True))


def post(client, url, data, status=302):
    with client.post(url, data=data) as r:
        assert r.status_code == status, (url, r.status_code, r.get_data(as_text=True)[:300])
        return r.headers.get("Location", ""), unescape(r.get_data(as_text=True))


def error_of(html, field):
    match = re.search(rf'id="{field}-error"[^>]*>([^<]*)<', html)
    return match.group(1).strip() if match else None


def value_of(html, field):
    match = re.search(rf'<input[^>]*id="{field}"[^>]*value="([^"]*)"', html)
    return match.group(1) if match else None


def _trips():
    return list(db.session.execute(select(Trip).order_by(Trip.id)).scalars())


def _days(clinic, a, b):
    return {
        "arrives_on": (clinic.today + timedelta(days=a)).isoformat(),
        "departs_on": (clinic.today + timedelta(days=b)).isoformat(),
    }


def test_the_patient_adds_changes_and_cancels_a_trip(client, clinic, login_as):
    patient = login_as(Role.PATIENT)
    page = get(client, "/trips")
    assert "My trips to Japan" in page and "No trips planned." in page
    location, _ = post(client, "/trips", {**_days(clinic, 40, 50), "note": "Flight CA925"})
    assert location.endswith("/trips")
    [trip] = _trips()
    assert trip.patient_id == patient.patient.id and trip.note == "Flight CA925"
    page = get(client, "/trips")
    assert "Trip saved" in page and "Flight CA925" in page and "11 days" in page
    assert f"/trips/{trip.id}/edit" in page and f"/trips/{trip.id}/cancel" in page

    edit = get(client, f"/trips/{trip.id}/edit")
    assert value_of(edit, "arrives_on") == trip.arrives_on.isoformat()
    post(client, f"/trips/{trip.id}/edit", {**_days(clinic, 41, 50), "note": ""})
    db.session.refresh(trip)
    assert trip.arrives_on == clinic.today + timedelta(days=41) and trip.note is None

    post(client, f"/trips/{trip.id}/cancel", {})
    db.session.refresh(trip)
    assert trip.cancelled_at is not None
    page = get(client, "/trips")
    assert "Trip cancelled" in page and "Past and cancelled trips" in page
    assert f"/trips/{trip.id}/cancel" not in page
    actions = db.session.execute(
        select(AuditEntry.action).where(AuditEntry.entity_type == "trips").order_by(AuditEntry.id)
    ).scalars()
    assert list(actions) == ["patients.trip_add", "patients.trip_change", "patients.trip_cancel"]


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"arrives_on": "2027-02-30", "departs_on": ""}, "arrives_on", "YYYY-MM-DD"),
        ({"arrives_on": "", "departs_on": "tomorrow"}, "arrives_on", "Enter the day you arrive."),
        ({"arrives_on": "", "departs_on": "tomorrow"}, "departs_on", "YYYY-MM-DD"),
        ({"arrives_on": "1899-01-01", "departs_on": "2300-01-01"}, "arrives_on", "1900"),
    ],
)
def test_unreadable_input_beside_the_field_typed_text_kept(
    client, clinic, login_as, data, field, message
):
    login_as(Role.PATIENT)
    _, page = post(client, "/trips", {**data, "note": "kept note"}, status=400)
    assert message in (error_of(page, field) or "")
    assert value_of(page, field) == data[field]
    assert value_of(page, "note") == "kept note"
    assert _trips() == []


def test_rules_beside_the_field(client, clinic, login_as):
    login_as(Role.PATIENT)
    post(client, "/trips", _days(clinic, 10, 20))
    _, page = post(client, "/trips", _days(clinic, 15, 9), status=400)
    assert "on or after the arrival" in error_of(page, "departs_on")
    assert value_of(page, "arrives_on") == _days(clinic, 15, 9)["arrives_on"]
    _, page = post(client, "/trips", _days(clinic, 15, 25), status=400)
    assert "overlaps" in error_of(page, "arrives_on")
    _, page = post(client, "/trips", _days(clinic, -9, -2), status=400)
    assert "over" in error_of(page, "departs_on")
    _, page = post(client, "/trips", {**_days(clinic, 30, 31), "note": "x\x00"}, status=400)
    assert len(_trips()) == 1


def test_the_edit_page_shows_rules_beside_the_field(client, clinic, login_as):
    login_as(Role.PATIENT)
    post(client, "/trips", _days(clinic, 10, 20))
    post(client, "/trips", _days(clinic, 30, 40))
    first, second = _trips()
    _, page = post(client, f"/trips/{second.id}/edit", _days(clinic, 18, 40), status=400)
    assert "overlaps" in error_of(page, "arrives_on")
    assert value_of(page, "arrives_on") == _days(clinic, 18, 40)["arrives_on"]
    db.session.refresh(second)
    assert second.arrives_on == clinic.today + timedelta(days=30)


def test_another_patients_trip_answers_404(client, clinic, login_as, make_user):
    other = make_user(Role.PATIENT)
    trip = trip_services.add_trip(
        other.patient,
        arrives_on=clinic.today + timedelta(days=5),
        departs_on=clinic.today + timedelta(days=6),
        actor=other,
    )
    db.session.commit()
    login_as(Role.PATIENT)
    get(client, f"/trips/{trip.id}/edit", status=404)
    post(client, f"/trips/{trip.id}/edit", _days(clinic, 7, 8), status=404)
    post(client, f"/trips/{trip.id}/cancel", {}, status=404)
    get(client, "/trips/999999/edit", status=404)
    db.session.refresh(trip)
    assert trip.cancelled_at is None and trip.arrives_on == clinic.today + timedelta(days=5)
    assert "/edit" not in get(client, "/trips").split("planned-trips")[1].split("Add a trip")[0]


def test_a_cancelled_trip_cannot_be_changed(client, clinic, login_as):
    login_as(Role.PATIENT)
    post(client, "/trips", _days(clinic, 10, 20))
    [trip] = _trips()
    post(client, f"/trips/{trip.id}/cancel", {})
    post(client, f"/trips/{trip.id}/cancel", {})
    assert "This trip is cancelled." in get(client, "/trips")
    _, page = post(client, f"/trips/{trip.id}/edit", _days(clinic, 11, 20), status=400)
    assert "This trip is cancelled." in page


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.DOCTOR])
def test_staff_record_a_patients_trips(client, clinic, login_as, make_user, role):
    patient = make_user(Role.PATIENT)
    staff = login_as(role)
    record = get(client, f"/patients/{patient.patient.id}")
    assert f"/patients/{patient.patient.id}/trips" in record
    base = f"/patients/{patient.patient.id}/trips"
    page = get(client, base)
    assert patient.patient.full_name in page
    location, _ = post(client, base, _days(clinic, 40, 50))
    assert location.endswith(base)
    [trip] = _trips()
    assert trip.created_by_id == staff.id and trip.patient_id == patient.patient.id
    post(client, f"{base}/{trip.id}/edit", _days(clinic, 40, 45))
    post(client, f"{base}/{trip.id}/cancel", {})
    db.session.refresh(trip)
    assert trip.departs_on == clinic.today + timedelta(days=45) and trip.cancelled_at
    entries = db.session.execute(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.actor_id == staff.id, AuditEntry.entity_type == "trips")
    ).scalar_one()
    assert entries == 3


def test_staff_pages_check_the_trip_belongs_to_the_patient(client, clinic, login_as, make_user):
    alice, bob = make_user(Role.PATIENT), make_user(Role.PATIENT)
    trip = trip_services.add_trip(
        alice.patient,
        arrives_on=clinic.today + timedelta(days=5),
        departs_on=clinic.today + timedelta(days=6),
        actor=alice,
    )
    db.session.commit()
    login_as(Role.COORDINATOR)
    get(client, f"/patients/{bob.patient.id}/trips/{trip.id}/edit", status=404)
    post(client, f"/patients/{bob.patient.id}/trips/{trip.id}/cancel", {}, status=404)
    get(client, "/patients/999999/trips", status=404)
    db.session.refresh(trip)
    assert trip.cancelled_at is None


@pytest.mark.parametrize("role", [Role.MANAGER, Role.LAB, Role.ADMIN])
def test_other_staff_get_403(client, clinic, login_as, make_user, role):
    patient = make_user(Role.PATIENT)
    login_as(role)
    get(client, f"/patients/{patient.patient.id}/trips", status=403)
    get(client, "/trips", status=403)


def test_the_next_link_leads_back_to_the_booking(client, clinic, login_as):
    login_as(Role.PATIENT)
    page = get(client, "/trips?next=/book/collection")
    assert 'href="/book/collection"' in page and "Back to the booking" in page
    assert "next=/book/collection" in page  # the form posts back with it
    page = get(client, "/trips?next=https://evil.example/")
    assert 'href="https://evil.example/"' not in page and "Back to the booking" not in page


def test_the_journey_links_to_the_trips(client, clinic, make_approved_patient):
    from tests.conftest import log_in

    log_in(client, make_approved_patient())
    assert 'href="/trips"' in get(client, "/journey")
