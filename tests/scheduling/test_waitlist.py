"""The collection waitlist's services: joining (gate open, one entry per
course, weeks checked), offering a freed day (a cancellation, a failed batch,
more capacity, a closure removed) in the patient's language, the time limit
(expiry, then the next patient), declining, accepting (books the collection
and ends the entry), and the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from intake.accounts.roles import Role
from intake.core import settings
from intake.core.errors import DomainError
from intake.core.models import AuditEntry
from intake.core.types import utcnow
from intake.cultures.lifecycle import BatchState
from intake.extensions import db
from intake.notifications.models import Message
from intake.scheduling import services
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

TUESDAY = 1


def _actions() -> list[str]:
    return list(db.session.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars())


def _count(model, *where) -> int:
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def _messages(user, template: str) -> list[Message]:
    return list(
        db.session.execute(
            select(Message).where(Message.user_id == user.id, Message.template == template)
        ).scalars()
    )


@pytest.fixture
def full(clinic, manager, coordinator, make_approved_patient):
    """One incubator place and a 30-day horizon: the collection booked on
    ``day`` holds the place through day 42, so no day in the horizon is free."""
    settings.update_settings({"incubator_places": "1", "horizon_days": "30"}, actor=manager)
    db.session.commit()
    holder = make_approved_patient()
    day = clinic.day(weekday=TUESDAY)
    visit = services.book_visit(
        holder.patient, "collection", clinic.at(day, "10:00"), actor=coordinator
    )
    db.session.commit()
    return SimpleNamespace(day=day, visit=visit, holder=holder, week=rules.week_of(day))


def _join(user, weeks, *, fit_trips=False, now=None):
    entry = waitlist.join(
        user.patient,
        "collection",
        [w.isoformat() for w in weeks],
        fit_trips=fit_trips,
        actor=user,
        now=now,
    )
    db.session.commit()
    return entry


def _cancel(full, coordinator):
    services.cancel_visit(full.visit, actor=coordinator, reason="The patient cannot travel")
    db.session.commit()


def test_when_every_day_is_full_there_is_no_free_place(full):
    assert waitlist.free_places("collection", utcnow(), settings.values()) == {}


def test_a_patient_joins_with_the_weeks_that_suit_them(full, make_approved_patient):
    patient = make_approved_patient()
    entry = _join(patient, [full.week])
    assert entry.status == WaitlistStatus.WAITING
    assert entry.weeks == [full.week.isoformat()]
    assert waitlist.position_of(entry) == 1
    assert "waitlist.join" in _actions()


def test_a_patient_whose_gate_is_closed_cannot_join(full, make_user):
    patient = make_user(Role.PATIENT)
    with pytest.raises(services.GateClosed):
        _join(patient, [full.week])
    db.session.rollback()
    assert _count(WaitlistEntry) == 0


def test_one_entry_per_course(full, make_approved_patient):
    patient = make_approved_patient()
    _join(patient, [full.week])
    with pytest.raises(DomainError) as caught:
        _join(patient, [full.week + timedelta(days=7)])
    db.session.rollback()
    assert caught.value.code == "already_waiting"
    assert _count(WaitlistEntry) == 1


def test_a_patient_with_a_collection_booked_does_not_wait(full):
    with pytest.raises(DomainError) as caught:
        _join(full.holder, [full.week])
    db.session.rollback()
    assert caught.value.code == "already_booked"
    assert _count(WaitlistEntry) == 0


@pytest.mark.parametrize(
    "weeks",
    [
        pytest.param([], id="none"),
        pytest.param(["not-a-date"], id="unreadable"),
        pytest.param(["tuesday"], id="a-word"),
        pytest.param(["2000-01-03"], id="a-past-week"),
        pytest.param(["9999-12-27"], id="beyond-the-horizon"),
    ],
)
def test_bad_weeks_are_refused_beside_the_field_and_nothing_is_saved(
    full, make_approved_patient, weeks
):
    patient = make_approved_patient()
    with pytest.raises(DomainError) as caught:
        waitlist.join(patient.patient, "collection", weeks, fit_trips=False, actor=patient)
    db.session.rollback()
    assert caught.value.field == "weeks"
    assert _count(WaitlistEntry) == 0


def test_a_day_that_is_not_a_monday_is_refused(full, make_approved_patient):
    patient = make_approved_patient()
    with pytest.raises(DomainError) as caught:
        waitlist.join(
            patient.patient,
            "collection",
            [(full.week + timedelta(days=1)).isoformat()],
            fit_trips=False,
            actor=patient,
        )
    db.session.rollback()
    assert caught.value.field == "weeks"


def test_a_cancellation_offers_the_freed_day_first_come_in_the_patients_language(
    full, coordinator, make_approved_patient
):
    first = make_approved_patient(locale="zh_Hans")
    second = make_approved_patient()
    _join(first, [full.week])
    _join(second, [full.week])
    _cancel(full, coordinator)
    made = waitlist.offer_freed_places()
    db.session.commit()
    assert [o.entry.patient_id for o in made] == [first.patient.id]
    offer = made[0]
    assert rules.week_of(offer.day) == full.week
    assert offer.expires_at == offer.offered_at + timedelta(hours=24)
    (message,) = _messages(first, "waitlist_offer")
    assert message.locale == "zh_Hans"
    assert "采集" in message.subject  # the Chinese subject
    assert "/waitlist" in message.body
    assert _messages(second, "waitlist_offer") == []
    assert "waitlist.offer" in _actions()


def test_the_time_limit_is_a_setting_then_the_next_patient_is_offered(
    full, coordinator, manager, make_approved_patient
):
    settings.update_settings({"waitlist_offer_hours": "6"}, actor=manager)
    db.session.commit()
    first, second = make_approved_patient(), make_approved_patient()
    _join(first, [full.week])
    _join(second, [full.week])
    _cancel(full, coordinator)
    now = utcnow()
    (offer,) = waitlist.offer_freed_places(now)
    db.session.commit()
    assert offer.expires_at == now + timedelta(hours=6)
    # A second before the limit: nothing changes.
    assert waitlist.offer_freed_places(now + timedelta(hours=6, seconds=-1)) == []
    db.session.commit()
    assert offer.status == OfferStatus.OPEN
    # At the limit: the offer ends and the same day goes to the next patient.
    (following,) = waitlist.offer_freed_places(now + timedelta(hours=6))
    db.session.commit()
    db.session.refresh(offer)
    assert offer.status == OfferStatus.EXPIRED
    assert following.entry.patient_id == second.patient.id
    assert following.day == offer.day
    assert "waitlist.offer_expired" in _actions()
    # The first patient keeps their place for another day.
    assert offer.entry.status == WaitlistStatus.WAITING


def test_an_expired_offer_cannot_be_accepted(full, coordinator, make_approved_patient):
    patient = make_approved_patient()
    _join(patient, [full.week])
    _cancel(full, coordinator)
    now = utcnow()
    (offer,) = waitlist.offer_freed_places(now)
    db.session.commit()
    with pytest.raises(DomainError) as caught:
        waitlist.accept(offer, actor=patient, now=offer.expires_at)
    db.session.rollback()
    assert caught.value.code == "closed"
    assert _count(Appointment, Appointment.patient_id == patient.patient.id) == 0


def test_declining_passes_the_day_to_the_next(full, coordinator, make_approved_patient):
    first, second = make_approved_patient(), make_approved_patient()
    _join(first, [full.week])
    _join(second, [full.week])
    _cancel(full, coordinator)
    (offer,) = waitlist.offer_freed_places()
    db.session.commit()
    waitlist.decline(offer, actor=first)
    db.session.commit()
    (following,) = waitlist.offer_freed_places()
    db.session.commit()
    assert following.entry.patient_id == second.patient.id
    assert following.day == offer.day
    assert "waitlist.offer_declined" in _actions()


def test_accepting_books_the_collection_and_ends_the_entry(
    full, coordinator, make_approved_patient
):
    patient = make_approved_patient()
    entry = _join(patient, [full.week])
    _cancel(full, coordinator)
    (offer,) = waitlist.offer_freed_places()
    db.session.commit()
    appointment = waitlist.accept(offer, actor=patient)
    db.session.commit()
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.patient_id == patient.patient.id
    assert full.visit.course_id != appointment.course_id
    assert appointment.start_at.astimezone(full.visit.start_at.tzinfo)  # an instant
    assert waitlist.services.queries.clinic_calendar().local_date(appointment.start_at) == offer.day
    db.session.refresh(entry)
    db.session.refresh(offer)
    assert entry.status == WaitlistStatus.BOOKED and entry.appointment_id == appointment.id
    assert offer.status == OfferStatus.ACCEPTED and offer.appointment_id == appointment.id
    assert _messages(patient, "visit_booked")
    assert "waitlist.accept" in _actions()
    # Sent again: refused, still one booking.
    with pytest.raises(DomainError):
        waitlist.accept(offer, actor=patient)
    db.session.rollback()
    assert _count(Appointment, Appointment.patient_id == patient.patient.id) == 1


def test_another_patient_cannot_accept_or_decline(full, coordinator, make_approved_patient):
    patient, other = make_approved_patient(), make_approved_patient()
    _join(patient, [full.week])
    _cancel(full, coordinator)
    (offer,) = waitlist.offer_freed_places()
    db.session.commit()
    with pytest.raises(services.NotAllowed):
        waitlist.accept(offer, actor=other)
    db.session.rollback()
    with pytest.raises(services.NotAllowed):
        waitlist.decline(offer, actor=other)
    db.session.rollback()
    db.session.refresh(offer)
    assert offer.status == OfferStatus.OPEN


def test_leaving_declines_the_open_offer(full, coordinator, make_approved_patient):
    patient = make_approved_patient()
    entry = _join(patient, [full.week])
    _cancel(full, coordinator)
    (offer,) = waitlist.offer_freed_places()
    db.session.commit()
    waitlist.leave(entry, actor=patient)
    db.session.commit()
    db.session.refresh(offer)
    assert entry.status == WaitlistStatus.LEFT and offer.status == OfferStatus.DECLINED
    assert "waitlist.leave" in _actions()
    assert waitlist.offer_freed_places() == []


def test_a_week_with_no_free_day_is_not_offered(full, coordinator, make_approved_patient):
    patient = make_approved_patient()
    _join(patient, [full.week + timedelta(days=7)])
    assert waitlist.offer_freed_places() == []


def test_the_patient_cancelling_through_the_page_frees_the_day_for_the_waitlist(
    client, full, make_approved_patient
):
    waiting = make_approved_patient()
    _join(waiting, [full.week])
    # The holder cancels online (more than 48 hours ahead).
    from tests.conftest import log_in

    log_in(client, full.holder)
    with client.post(f"/visits/{full.visit.id}/cancel", data={"reason": ""}) as r:
        assert r.status_code == 302
    db.session.expire_all()
    (offer,) = db.session.execute(select(WaitlistOffer)).scalars()
    assert offer.entry.patient_id == waiting.patient.id


def test_a_failure_in_offering_never_undoes_the_cancellation(
    client, full, make_approved_patient, monkeypatch
):
    waiting = make_approved_patient()
    _join(waiting, [full.week])

    def broken(now=None):
        raise RuntimeError("the offer could not be made")

    monkeypatch.setattr(waitlist, "offer_freed_places", broken)
    from tests.conftest import log_in

    log_in(client, full.holder)
    with client.post(f"/visits/{full.visit.id}/cancel", data={"reason": ""}) as r:
        assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Appointment, full.visit.id).status == AppointmentStatus.CANCELLED
    assert _count(WaitlistOffer) == 0


def test_the_desk_cancelling_offers_the_day(client, full, make_approved_patient, login_as):
    waiting = make_approved_patient()
    _join(waiting, [full.week])
    login_as(Role.COORDINATOR)
    with client.post(
        f"/desk/visits/{full.visit.id}/cancel", data={"reason": "Flight cancelled"}
    ) as r:
        assert r.status_code == 302
    db.session.expire_all()
    assert _count(WaitlistOffer, WaitlistOffer.status == OfferStatus.OPEN) == 1


def test_more_incubator_places_offer_a_day(client, full, make_approved_patient, login_as):
    waiting = make_approved_patient()
    _join(waiting, [full.week])
    login_as(Role.MANAGER)
    data = settings.raw_values() | {"incubator_places": "2"}
    with client.post("/manager/settings", data=data) as r:
        assert r.status_code == 302
    db.session.expire_all()
    (offer,) = db.session.execute(select(WaitlistOffer)).scalars()
    assert offer.entry.patient_id == waiting.patient.id


def test_a_failed_batch_frees_its_place_for_the_waitlist(
    client, clinic, manager, coordinator, make_approved_patient, login_as
):
    """A culture five days in holds the only place through day 42; the lab
    records the batch failed: the place is free from today and offered."""
    from intake.cultures import coi
    from intake.cultures.models import Batch, TissueUnit
    from intake.patients.services import current_course

    settings.update_settings({"incubator_places": "1", "horizon_days": "30"}, actor=manager)
    db.session.commit()
    holder = make_approved_patient()
    collected = clinic.today - timedelta(days=5)
    start = datetime.combine(collected, time(10, 0), tzinfo=clinic.cal.tz).astimezone(UTC)
    visit = services.record_past_visit(
        holder.patient,
        "collection",
        start,
        actor=coordinator,
        status=AppointmentStatus.COMPLETED,
        note="collected",
    )
    number = coi.make("TKY", collected.year % 100, 900_001)
    batch = Batch(
        course=current_course(holder.patient),
        patient=holder.patient,
        appointment=visit,
        coi_site="TKY",
        coi_year=collected.year % 100,
        coi_sequence=number.sequence,
        coi=coi.format(number),
        state=BatchState.IN_CULTURE,
        planned_dose_low=100_000_000,
        planned_dose_high=200_000_000,
        collected_on=collected,
        collected_by="Dr Sato",
        tissue_amount=3,
        tissue_unit=TissueUnit.PIECES,
        blood_volume_ml=50,
        received_at=start + timedelta(hours=2),
        received_by="Tanaka",
        received_condition="intact",
    )
    db.session.add(batch)
    db.session.commit()
    assert waitlist.free_places("collection", utcnow(), settings.values()) == {}
    waiting = make_approved_patient()
    week = rules.week_of(clinic.day(min_days=7))
    _join(waiting, [week])
    login_as(Role.LAB)
    with client.post(
        f"/lab/batches/{batch.id}/transition",
        data={"target": "failed", "reason": "No growth by day 5"},
    ) as r:
        assert r.status_code == 302
    db.session.expire_all()
    (offer,) = db.session.execute(select(WaitlistOffer)).scalars()
    assert offer.entry.patient_id == waiting.patient.id
    assert rules.week_of(offer.day) == week


def test_the_command_expires_and_offers(runner, full, coordinator, make_approved_patient):
    patient = make_approved_patient()
    _join(patient, [full.week])
    _cancel(full, coordinator)
    result = runner.invoke(args=["scheduling", "waitlist-offers"])
    assert result.exit_code == 0, result.output
    assert "Offered 1 day(s)" in result.output
    result = runner.invoke(args=["scheduling", "waitlist-offers"])
    assert "Offered 0 day(s)" in result.output


def test_a_day_offered_can_still_be_booked_at_the_deadline(
    full, coordinator, manager, make_approved_patient
):
    """Patients book 48 hours ahead at least: a day is offered only when it
    is still bookable when the time to accept ends."""
    settings.update_settings({"waitlist_offer_hours": "72"}, actor=manager)
    db.session.commit()
    patient = make_approved_patient()
    _join(patient, [full.week, full.week + timedelta(days=7)])
    _cancel(full, coordinator)
    now = utcnow()
    (offer,) = waitlist.offer_freed_places(now)
    db.session.commit()
    cal = services.queries.clinic_calendar()
    assert cal.day_start(offer.day + timedelta(days=1)) > now + timedelta(hours=72 + 48)
    appointment = waitlist.accept(offer, actor=patient, now=offer.expires_at - timedelta(seconds=1))
    db.session.commit()
    assert cal.local_date(appointment.start_at) == offer.day


def test_days_that_miss_the_trips_are_not_offered_when_the_patient_asked(
    full, coordinator, make_approved_patient
):
    from intake.patients import trip_services

    fitting_only, anyday = make_approved_patient(), make_approved_patient()
    for patient in (fitting_only, anyday):
        # A trip well after the cells of that week are ready: those days miss it.
        trip_services.add_trip(
            patient.patient,
            arrives_on=full.week + timedelta(days=70),
            departs_on=full.week + timedelta(days=75),
            actor=patient,
        )
    db.session.commit()
    _join(fitting_only, [full.week], fit_trips=True)
    _join(anyday, [full.week])
    _cancel(full, coordinator)
    made = waitlist.offer_freed_places()
    db.session.commit()
    assert [o.entry.patient_id for o in made] == [anyday.patient.id]


def test_a_patient_whose_course_stopped_while_waiting_is_never_offered_a_day(
    full, coordinator, make_approved_patient
):
    """Consent withdrawn (the course halts) while waiting: the freed day goes
    to the next patient, the stopped wish leaves the line, audited."""
    from intake.eligibility import services as eligibility
    from intake.eligibility.models import ConsentKind

    first, second = make_approved_patient(), make_approved_patient()
    entry = _join(first, [full.week])
    _join(second, [full.week])
    eligibility.withdraw_consent(first.patient, ConsentKind.TREATMENT, actor=first)
    db.session.commit()
    _cancel(full, coordinator)
    made = waitlist.offer_freed_places()
    db.session.commit()
    assert [o.entry.patient_id for o in made] == [second.patient.id]
    assert _messages(first, "waitlist_offer") == []
    db.session.refresh(entry)
    assert entry.status == WaitlistStatus.LEFT
    assert waitlist.waiting_entry(first.patient) is None
    assert waitlist.position_of(waitlist.waiting_entry(second.patient)) == 1
    assert "waitlist.stopped" in _actions()


def test_a_wish_met_by_a_booking_at_the_desk_is_not_offered_the_freed_day(
    full, clinic, manager, coordinator, make_approved_patient
):
    """The clinic adds an incubator place and the front desk books it for the
    first waiting patient at once: when the held day frees too, it goes to
    the next patient; the first wish ends as booked by that visit."""
    first, second = make_approved_patient(), make_approved_patient()
    entry = _join(first, [full.week])
    _join(second, [full.week])
    settings.update_settings({"incubator_places": "2"}, actor=manager)
    db.session.commit()
    visit = services.book_visit(
        first.patient, "collection", clinic.at(full.day, "11:00"), actor=coordinator
    )
    db.session.commit()
    _cancel(full, coordinator)
    made = waitlist.offer_freed_places()
    db.session.commit()
    assert [o.entry.patient_id for o in made] == [second.patient.id]
    db.session.refresh(entry)
    assert (entry.status, entry.appointment_id) == (WaitlistStatus.BOOKED, visit.id)
    assert "waitlist.booked" in _actions()


def test_a_day_the_patients_blood_tests_will_no_longer_cover_is_not_offered_to_them(
    full, coordinator, make_approved_patient
):
    """The first patient's panel is valid today but not on any day of their
    week (DOMAIN rule: valid on the visit day): an offer they could not accept
    would hold the place from the next patient for the whole time limit. The
    day goes to the next patient; the first keeps their place in line."""
    from intake.eligibility.models import PanelResult

    first, second = make_approved_patient(), make_approved_patient()
    _join(first, [full.week])
    _join(second, [full.week])
    db.session.execute(
        PanelResult.__table__.update()
        .where(PanelResult.patient_id == first.patient.id)
        .values(test_date=full.week - timedelta(days=91))
    )
    db.session.commit()
    _cancel(full, coordinator)
    made = waitlist.offer_freed_places()
    db.session.commit()
    assert [o.entry.patient_id for o in made] == [second.patient.id]
    assert _messages(first, "waitlist_offer") == []
    assert waitlist.position_of(waitlist.waiting_entry(first.patient)) == 1
