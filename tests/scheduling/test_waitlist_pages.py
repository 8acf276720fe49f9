"""The waitlist's pages: the booking page leads to it when the collection
days are full, the join page (weeks marked against the patient's trips, a
message beside the weeks when none is chosen), the patient's place with an
offer to accept or decline, leaving, the staff's list in order, and the
manager's overview (the waitlist's length and its oldest wish)."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

from sqlalchemy import func, select

from intake.accounts.roles import Role
from intake.core.types import utcnow
from intake.extensions import db
from intake.manager import queries as manager_queries
from intake.patients import trip_services
from intake.scheduling import waitlist as rules
from intake.scheduling import waitlist_services as waitlist
from intake.scheduling.models import (
    Appointment,
    AppointmentStatus,
    OfferStatus,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from tests.conftest import log_in
from tests.scheduling.test_waitlist import _cancel, _join, full  # noqa: F401


def _body(response) -> str:
    return unescape(response.get_data(as_text=True))


def _offer_for(client, full, coordinator, patient):  # noqa: F811
    _join(patient, [full.week])
    _cancel(full, coordinator)
    (offer,) = waitlist.offer_freed_places()
    db.session.commit()
    log_in(client, patient)
    return offer


def test_the_booking_page_leads_to_the_waitlist_when_every_day_is_full(
    client,
    full,  # noqa: F811
    make_approved_patient,
):
    patient = make_approved_patient()
    log_in(client, patient)
    with client.get("/book/collection") as r:
        body = _body(r)
    assert 'id="waitlist-full"' in body
    assert "All collection days are full for now" in body
    assert "/waitlist/join/collection" in body


def test_with_free_days_the_booking_page_still_offers_the_waitlist(
    client, clinic, make_approved_patient
):
    log_in(client, make_approved_patient())
    with client.get("/book/collection") as r:
        body = _body(r)
    assert 'id="waitlist-full"' not in body
    assert 'id="waitlist-offer"' in body and "/waitlist/join/collection" in body


def test_the_join_page_marks_and_preselects_the_weeks_that_fit_the_trips(
    client,
    full,  # noqa: F811
    make_approved_patient,
):
    patient = make_approved_patient()
    # In Japan from day 35 to day 40 after the Monday of the full week: a
    # collection that week has its cells ready (day 28 to 42) during the trip.
    trip_services.add_trip(
        patient.patient,
        arrives_on=full.week + timedelta(days=35),
        departs_on=full.week + timedelta(days=40),
        actor=patient,
    )
    db.session.commit()
    log_in(client, patient)
    with client.get("/waitlist/join/collection") as r:
        assert r.status_code == 200
        body = _body(r)
    week = full.week.isoformat()
    box = body[body.index(f'id="week-{week}"') - 120 : body.index(f'id="week-{week}"') + 200]
    assert "checked" in box
    assert "fits your trips" in body
    choices = waitlist.week_choices(patient.patient, utcnow())
    last = choices[-1]
    assert last.fits_trips is False
    tail = body[body.index(f'id="week-{last.monday.isoformat()}"') :]
    assert "checked" not in tail[: tail.index(">")]


def test_no_week_chosen_is_answered_beside_the_weeks_and_nothing_is_saved(
    client,
    full,  # noqa: F811
    make_approved_patient,
):
    log_in(client, make_approved_patient())
    with client.post("/waitlist/join/collection", data={}) as r:
        assert r.status_code == 422
        body = _body(r)
    assert 'id="weeks-error"' in body
    assert "Choose at least one of the weeks listed." in body
    assert db.session.execute(select(func.count()).select_from(WaitlistEntry)).scalar_one() == 0


def test_a_patient_joins_sees_their_place_and_leaves(
    client,
    full,  # noqa: F811
    make_approved_patient,
):
    patient = make_approved_patient()
    log_in(client, patient)
    with client.post("/waitlist/join/collection", data={"weeks": [full.week.isoformat()]}) as r:
        assert r.status_code == 302 and r.headers["Location"].endswith("/waitlist")
    with client.get("/waitlist") as r:
        body = _body(r)
    assert 'data-position="1"' in body and "You are number 1 on the waitlist." in body
    with client.get("/visits") as r:
        assert 'id="waitlist-link"' in _body(r)
    # Joining again leads to the place already held.
    with client.get("/waitlist/join/collection") as r:
        assert r.status_code == 302 and r.headers["Location"].endswith("/waitlist")
    with client.post("/waitlist/leave") as r:
        assert r.status_code == 302
    entry = db.session.execute(select(WaitlistEntry)).scalar_one()
    db.session.refresh(entry)
    assert entry.status == WaitlistStatus.LEFT
    with client.get("/waitlist") as r:
        assert "You are not on the waitlist." in _body(r)


def test_a_gate_not_open_shows_what_is_missing_instead_of_the_weeks(
    client,
    full,  # noqa: F811
    login_as,
):
    login_as(Role.PATIENT)
    with client.get("/waitlist/join/collection") as r:
        body = _body(r)
    assert "The collection visit can be booked once everything below is ready." in body
    assert 'name="weeks"' not in body


def test_the_offer_is_accepted_on_the_page_and_a_second_send_books_once(
    client,
    full,  # noqa: F811
    coordinator,
    make_approved_patient,
):
    patient = make_approved_patient()
    offer = _offer_for(client, full, coordinator, patient)
    with client.get("/waitlist") as r:
        body = _body(r)
    assert f'data-offer="{offer.id}"' in body and "Accept this day" in body
    for _ in range(2):
        with client.post(f"/waitlist/offers/{offer.id}/accept") as r:
            assert r.status_code == 302 and r.headers["Location"].endswith("/visits")
    mine = list(
        db.session.execute(
            select(Appointment).where(Appointment.patient_id == patient.patient.id)
        ).scalars()
    )
    assert len(mine) == 1 and mine[0].status == AppointmentStatus.BOOKED
    with client.get("/visits") as r:
        assert "Booked. We have sent you a confirmation" in _body(r)


def test_declining_on_the_page_keeps_the_place(
    client,
    full,  # noqa: F811
    coordinator,
    make_approved_patient,
):
    patient = make_approved_patient()
    offer = _offer_for(client, full, coordinator, patient)
    with client.post(f"/waitlist/offers/{offer.id}/decline") as r:
        assert r.status_code == 302
    db.session.refresh(offer)
    assert offer.status == OfferStatus.DECLINED
    with client.get("/waitlist") as r:
        body = _body(r)
    assert "Declined. You keep your place on the waitlist." in body
    # Nobody else waits: another free day of the week is offered, never the declined one.
    following = db.session.execute(
        select(WaitlistOffer).where(WaitlistOffer.status == OfferStatus.OPEN)
    ).scalar_one()
    assert following.day != offer.day and rules.week_of(following.day) == full.week
    assert f'data-offer="{following.id}"' in body


def test_another_patients_offer_answers_404_and_stays_open(
    client,
    full,  # noqa: F811
    coordinator,
    make_approved_patient,
):
    owner, other = make_approved_patient(), make_approved_patient()
    offer = _offer_for(client, full, coordinator, owner)
    client.post("/logout")
    log_in(client, other)
    for action in ("accept", "decline"):
        with client.post(f"/waitlist/offers/{offer.id}/{action}") as r:
            assert r.status_code == 404
    db.session.refresh(offer)
    assert offer.status == OfferStatus.OPEN


def test_staff_see_the_line_first_come_first(
    client,
    full,  # noqa: F811
    make_approved_patient,
    login_as,
):
    first, second = make_approved_patient(), make_approved_patient()
    now = utcnow()
    _join(second, [full.week], now=now)
    _join(first, [full.week], now=now - timedelta(hours=2))
    login_as(Role.COORDINATOR)
    with client.get("/desk/waitlist") as r:
        body = _body(r)
    assert body.index(first.full_name) < body.index(second.full_name)
    with client.get("/desk") as r:
        assert "/desk/waitlist" in _body(r)


def _waiting_since(patient, week, joined_at):
    entry = _join(patient, [week])
    entry.joined_at = joined_at
    db.session.commit()
    return entry


def test_the_manager_sees_the_waitlists_length_and_oldest_wish(
    client,
    full,  # noqa: F811
    make_approved_patient,
    login_as,
):
    now = utcnow()
    assert manager_queries.waitlist_summary(now) == {"length": 0, "oldest": None, "days": None}
    _waiting_since(make_approved_patient(), full.week, now - timedelta(days=9, hours=1))
    _waiting_since(make_approved_patient(), full.week, now - timedelta(days=2))
    left = _waiting_since(make_approved_patient(), full.week, now - timedelta(days=30))
    left.status = WaitlistStatus.LEFT  # no longer waiting: not counted
    db.session.commit()
    summary = manager_queries.waitlist_summary(now)
    assert summary["length"] == 2
    assert summary["oldest"] == now - timedelta(days=9, hours=1)
    assert summary["days"] == 9
    login_as(Role.MANAGER)
    with client.get("/manager") as r:
        body = _body(r)
    assert 'data-waitlist-length="2"' in body and "Patients waiting: 2" in body
    assert 'data-waitlist-days="9"' in body and "waiting 9 day(s)" in body
    with client.get("/desk/waitlist") as r:
        assert r.status_code == 200


def test_an_offer_is_shown_only_until_its_time(
    client,
    full,  # noqa: F811
    coordinator,
    make_approved_patient,
):
    patient = make_approved_patient()
    offer = _offer_for(client, full, coordinator, patient)
    db.session.execute(
        WaitlistOffer.__table__.update()
        .where(WaitlistOffer.id == offer.id)
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    with client.get("/waitlist") as r:
        assert "data-offer=" not in _body(r)
    assert rules.week_of(offer.day) == full.week


def test_withdrawing_consent_while_waiting_ends_the_wish_and_withdraws_the_offer(
    client,
    full,  # noqa: F811
    coordinator,
    make_approved_patient,
):
    patient = make_approved_patient()
    offer = _offer_for(client, full, coordinator, patient)
    offer_id = offer.id
    with client.post("/consent/treatment/withdraw", data={"confirm": "y", "reason": ""}) as r:
        assert r.status_code == 302
    db.session.expire_all()
    assert waitlist.waiting_entry(patient.patient) is None
    assert db.session.get(WaitlistOffer, offer_id).status == OfferStatus.WITHDRAWN
    with client.get("/waitlist") as r:
        assert r.status_code in (200, 302)
        assert "Accept this day" not in _body(r)
    with client.post(f"/waitlist/offers/{offer_id}/accept") as r:
        assert r.status_code in (302, 409)
    assert (
        db.session.execute(
            select(func.count())
            .select_from(Appointment)
            .where(
                Appointment.patient_id == patient.patient.id,
                Appointment.status == AppointmentStatus.BOOKED,
            )
        ).scalar_one()
        == 0
    )


def test_a_waiting_patient_who_books_the_collection_directly_leaves_the_line(
    client,
    full,  # noqa: F811
    coordinator,
    make_approved_patient,
):
    """The freed day seen free on the booking page before any offer: booked
    there, the wish is met (not left waiting to be offered days it no longer
    needs, holding a place from the next patient)."""
    booker, next_in_line = make_approved_patient(), make_approved_patient()
    entry = _join(booker, [full.week])
    _join(next_in_line, [full.week])
    _cancel(full, coordinator)  # no offer made yet
    log_in(client, booker)
    start = f"{full.day.isoformat()}T10:00:00+09:00"
    with client.post("/book/collection", data={"start": start, "request_key": "K" * 24}) as r:
        assert r.status_code == 302
    db.session.expire_all()
    booked = db.session.execute(
        select(Appointment).where(
            Appointment.patient_id == booker.patient.id,
            Appointment.status == AppointmentStatus.BOOKED,
        )
    ).scalar_one()
    entry = db.session.get(WaitlistEntry, entry.id)
    assert entry.status == WaitlistStatus.BOOKED
    assert entry.appointment_id == booked.id
    assert waitlist.waiting_entry(booker.patient) is None
    assert waitlist.position_of(waitlist.waiting_entry(next_in_line.patient)) == 1
    assert (
        db.session.execute(
            select(func.count())
            .select_from(WaitlistOffer)
            .where(WaitlistOffer.entry_id == entry.id)
        ).scalar_one()
        == 0
    )
