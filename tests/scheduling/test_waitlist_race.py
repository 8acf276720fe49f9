"""A waitlist offer is accepted once, and a freed day is booked once
(DESIGN.md: "a waitlist offer accepted once" is a database guarantee). Two
patients holding open offers for the same day with ONE place accept at the
same moment, each in its own thread, session and connection: exactly one
gets the collection, the other is told kindly in their language and keeps
their place; the incubator never holds more than its places. The same offer
sent twice at once books once. Runs on SQLite (file, WAL) and on
PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from intake.accounts.models import User
from intake.core.errors import DomainError
from intake.core.types import utcnow
from intake.extensions import db
from intake.scheduling import services
from intake.scheduling import waitlist_services as waitlist
from intake.scheduling.models import (
    Appointment,
    AppointmentStatus,
    Hold,
    OfferStatus,
    WaitlistOffer,
    WaitlistStatus,
)
from tests.scheduling.test_race import _race
from tests.scheduling.test_waitlist import _cancel, _join, full  # noqa: F401

LOCALES = {"zh_Hans": "zh-CN", "ja": "ja", "en": "en"}


def _accept_in_thread(app, *, offer_id, user_id, locale):
    def attempt(barrier):
        with app.test_request_context(headers={"Accept-Language": LOCALES[locale]}):
            try:
                user = db.session.get(User, user_id)
                offer = db.session.get(WaitlistOffer, offer_id)
                offer.entry.patient  # noqa: B018 - loaded before the start
                barrier.wait()
                try:
                    appointment = waitlist.accept(offer, actor=user)
                    db.session.commit()
                    return ("ok", appointment.id)
                except waitlist.Taken as exc:
                    db.session.commit()  # the offer is marked taken
                    return ("taken", locale, exc.message)
                except DomainError as exc:
                    db.session.rollback()
                    return ("refused", exc.code)
            finally:
                db.session.remove()

    return attempt


def _open_offers_for_one_day(full, coordinator, patients):  # noqa: F811
    """Every patient waiting, the day freed, and an open offer each for the
    same day (as after a capacity raised and lowered again)."""
    for patient in patients:
        _join(patient, [full.week])
    _cancel(full, coordinator)
    (first,) = waitlist.offer_freed_places()
    db.session.commit()
    offers = [first]
    for patient in patients[1:]:
        entry = waitlist.waiting_entry(patient.patient)
        offer = WaitlistOffer(
            entry_id=entry.id,
            day=first.day,
            offered_at=first.offered_at,
            expires_at=first.expires_at,
            status=OfferStatus.OPEN,
        )
        db.session.add(offer)
        offers.append(offer)
    db.session.commit()
    return offers


def _incubator_holds_per_day():
    return db.session.execute(
        select(Hold.unit_start, func.count(), func.max(Hold.seat))
        .where(Hold.course_id.is_not(None))
        .group_by(Hold.unit_start)
    ).all()


def test_two_patients_accepting_the_last_place_never_both_get_it(
    app,
    full,  # noqa: F811
    coordinator,
    make_approved_patient,
):
    patients = [make_approved_patient(locale="zh_Hans"), make_approved_patient(locale="ja")]
    offers = _open_offers_for_one_day(full, coordinator, patients)
    attempts = [
        _accept_in_thread(app, offer_id=o.id, user_id=p.id, locale=p.locale)
        for o, p in zip(offers, patients, strict=True)
    ]
    outcomes = _race(app, attempts)
    assert [o for o in outcomes if o[0] == "error"] == [], outcomes
    wins = [o for o in outcomes if o[0] == "ok"]
    losses = [o for o in outcomes if o[0] == "taken"]
    assert len(wins) == 1 and len(losses) == 1, outcomes
    _taken, locale, message = losses[0]
    with force_locale(locale):
        assert message == waitlist.taken_message()
    assert message != waitlist.taken_message()  # not the English text
    db.session.expire_all()
    booked = db.session.execute(
        select(func.count())
        .select_from(Appointment)
        .where(Appointment.status == AppointmentStatus.BOOKED)
    ).scalar_one()
    assert booked == 1
    statuses = sorted(
        db.session.execute(
            select(WaitlistOffer.status).where(WaitlistOffer.id.in_([o.id for o in offers]))
        ).scalars()
    )
    assert statuses == sorted([OfferStatus.ACCEPTED, OfferStatus.TAKEN])
    # The one told "taken" is still waiting; the incubator holds one place a day.
    entries = [waitlist.waiting_entry(p.patient) for p in patients]
    assert sum(e is not None for e in entries) == 1
    assert all(e.status == WaitlistStatus.WAITING for e in entries if e is not None)
    per_day = _incubator_holds_per_day()
    assert per_day and all(count == 1 and top == 0 for _day, count, top in per_day)


def test_the_same_offer_sent_twice_at_once_books_once(
    app,
    full,  # noqa: F811
    coordinator,
    make_approved_patient,
):
    patient = make_approved_patient()
    (offer,) = _open_offers_for_one_day(full, coordinator, [patient])
    attempts = [
        _accept_in_thread(app, offer_id=offer.id, user_id=patient.id, locale="en") for _ in range(2)
    ]
    outcomes = _race(app, attempts)
    assert sorted(o[0] for o in outcomes) == ["ok", "refused"], outcomes
    assert [o for o in outcomes if o[0] == "refused"] == [("refused", "closed")]
    db.session.expire_all()
    mine = db.session.execute(
        select(func.count())
        .select_from(Appointment)
        .where(Appointment.patient_id == patient.patient.id)
    ).scalar_one()
    assert mine == 1


def test_an_offer_past_its_time_is_not_accepted_even_when_open(
    full,  # noqa: F811
    coordinator,
    make_approved_patient,
):
    patient = make_approved_patient()
    (offer,) = _open_offers_for_one_day(full, coordinator, [patient])
    db.session.execute(
        WaitlistOffer.__table__.update()
        .where(WaitlistOffer.id == offer.id)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    db.session.refresh(offer)
    with pytest.raises(DomainError) as caught:
        waitlist.accept(offer, actor=patient)
    db.session.rollback()
    assert caught.value.code == "closed"
    assert (
        db.session.execute(
            select(func.count())
            .select_from(Appointment)
            .where(Appointment.patient_id == patient.patient.id)
        ).scalar_one()
        == 0
    )


def _offer_run_in_thread(app):
    """One run of ``offer_freed_places`` in its own session; the runs read the
    line and the free days, then wait for each other before deciding (a
    run that cannot arrive, because the other holds the line, lets it go on)."""

    def attempt(barrier):
        with app.app_context():
            try:
                waitlist.offer_freed_places()
                db.session.commit()
                return ("ok",)
            except Exception as exc:  # a writer that lost the race on SQLite
                db.session.rollback()
                return ("lost", type(exc).__name__)
            finally:
                db.session.remove()

    return attempt


def test_two_offer_runs_at_once_offer_the_last_place_once(
    app,
    full,  # noqa: F811
    coordinator,
    make_approved_patient,
    monkeypatch,
):
    """A cancellation on one server and the cron command on another run at the
    same moment, both deciding on the same line: the one freed place is
    offered to one patient only (the second run's offer meets the index of
    one open offer per entry, or, on SQLite, the second writer gives way)."""
    patients = [make_approved_patient(), make_approved_patient()]
    for patient in patients:
        _join(patient, [full.week])
    services.cancel_visit(full.visit, actor=coordinator, reason="The patient cannot travel")
    db.session.commit()

    together = threading.Barrier(2)
    real_decide = waitlist.rules.decide

    def decide_together(*args, **kwargs):
        try:
            together.wait(timeout=3)
        except threading.BrokenBarrierError:
            pass  # the other run waits for the line: go on alone
        return real_decide(*args, **kwargs)

    monkeypatch.setattr(waitlist.rules, "decide", decide_together)
    attempts = [_offer_run_in_thread(app) for _ in range(2)]
    outcomes = _race(app, attempts)
    assert [o for o in outcomes if o[0] == "error"] == [], outcomes
    db.session.expire_all()
    offered = db.session.execute(
        select(func.count())
        .select_from(WaitlistOffer)
        .where(WaitlistOffer.status == OfferStatus.OPEN)
    ).scalar_one()
    assert offered == 1, outcomes
