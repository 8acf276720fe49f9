"""The collection waitlist: joining, offering freed days, accepting, declining
and leaving. Who is offered what is decided by the pure ``waitlist`` rules;
this module loads their input, writes the outcome, audits it and tells the
patients. The caller commits (or rolls back on ``DomainError``).

Guarantees, on any database:

* one waiting entry per course (partial unique index on ``waitlist_entries``);
* one open offer per entry (partial unique index on ``waitlist_offers``);
* an offer is accepted once: one conditional ``UPDATE … WHERE status = 'open'
  AND expires_at > now`` whose row count decides; the booking that follows
  goes through ``services.book_visit`` and its hold ledger, so two patients
  offered the last place never both get it (the second is told kindly and
  stays on the list).

Two runs of ``offer_freed_places`` at the same moment read the same line and
decide alike: the second run's offer meets the one-open-offer-per-entry index
and is dropped (``test_two_offer_runs_at_once_offer_the_last_place_once``).
Only runs that read different lines (a patient joining or an offer ending
between their reads) could offer one place to two patients; the acceptance
above still books it once, and the other patient is told it was taken and
keeps their place.

``offer_freed_places`` runs after a place may have been freed (a cancellation,
a failed batch, more capacity) and from ``flask scheduling waitlist-offers``
(cron), which also ends the offers whose time limit is over and offers the
next patient. ``offer_after_commit`` is the views' way to call it: a failure
there is logged and never undoes what was committed before.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from intake.accounts.models import User
from intake.core import audit, settings
from intake.core.errors import Conflict, DomainError, NotAllowed
from intake.core.types import utcnow
from intake.extensions import db
from intake.notifications.services import notify
from intake.patients.models import Course, CourseStatus, Patient
from intake.patients.services import current_course
from intake.reinfusion import trips as trip_rules
from intake.scheduling import context, ledger, queries, services
from intake.scheduling import waitlist as rules
from intake.scheduling.models import (
    Appointment,
    AppointmentStatus,
    OfferStatus,
    VisitType,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from intake.scheduling.visit_kinds import VisitKind

log = logging.getLogger(__name__)

PASSED = (OfferStatus.DECLINED, OfferStatus.EXPIRED, OfferStatus.TAKEN)


# --------------------------------------------------------------------------- reads


def waiting_entry(patient: Patient) -> WaitlistEntry | None:
    """The patient's waiting entry, if any (one statement)."""
    return (
        db.session.execute(
            select(WaitlistEntry)
            .where(
                WaitlistEntry.patient_id == patient.id,
                WaitlistEntry.status == WaitlistStatus.WAITING,
            )
            .order_by(WaitlistEntry.id)
        )
        .scalars()
        .first()
    )


def open_offer(entry: WaitlistEntry) -> WaitlistOffer | None:
    return db.session.execute(
        select(WaitlistOffer).where(
            WaitlistOffer.entry_id == entry.id, WaitlistOffer.status == OfferStatus.OPEN
        )
    ).scalar_one_or_none()


def open_offers_of(entry_ids) -> dict[int, WaitlistOffer]:
    """The open offer of each entry that has one (one statement)."""
    if not entry_ids:
        return {}
    rows = db.session.execute(
        select(WaitlistOffer).where(
            WaitlistOffer.entry_id.in_(list(entry_ids)), WaitlistOffer.status == OfferStatus.OPEN
        )
    ).scalars()
    return {offer.entry_id: offer for offer in rows}


def line() -> list[WaitlistEntry]:
    """Every waiting entry of an ongoing course, first come first served."""
    return list(
        db.session.execute(
            select(WaitlistEntry)
            .join(Course, Course.id == WaitlistEntry.course_id)
            .where(
                WaitlistEntry.status == WaitlistStatus.WAITING,
                Course.status == CourseStatus.OPEN,
            )
            .order_by(WaitlistEntry.joined_at, WaitlistEntry.id)
        ).scalars()
    )


def end_settled_wishes(now: datetime) -> int:
    """Waiting entries that no longer wait leave the line, their open offers
    withdrawn, audited; they are never offered a day:

    * the course stopped (consent withdrawn, the treatment declined);
    * the collection was booked another way (a free day on the booking page,
      the front desk): the wish is met by that visit.

    Returns how many entries ended."""
    stopped = list(
        db.session.execute(
            select(WaitlistEntry)
            .join(Course, Course.id == WaitlistEntry.course_id)
            .where(
                WaitlistEntry.status == WaitlistStatus.WAITING,
                Course.status != CourseStatus.OPEN,
            )
        ).scalars()
    )
    booked = db.session.execute(
        select(WaitlistEntry, Appointment.id)
        .join(
            Appointment,
            (Appointment.course_id == WaitlistEntry.course_id)
            & (Appointment.visit_type_id == WaitlistEntry.visit_type_id),
        )
        .where(
            WaitlistEntry.status == WaitlistStatus.WAITING,
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.end_at > now,
        )
        .order_by(WaitlistEntry.id, Appointment.start_at)
    ).all()
    endings = [(entry, WaitlistStatus.LEFT, None, "waitlist.stopped") for entry in stopped]
    seen = {entry.id for entry in stopped}
    for entry, appointment_id in booked:
        if entry.id not in seen:
            seen.add(entry.id)
            endings.append((entry, WaitlistStatus.BOOKED, appointment_id, "waitlist.booked"))
    for entry, status, appointment_id, action in endings:
        offer = open_offer(entry)
        if offer is not None:
            _decide(offer, OfferStatus.WITHDRAWN, now)
        before = _snapshot(entry)
        entry.status = status
        entry.ended_at = now
        entry.appointment_id = appointment_id
        old, new = audit.changes(before, _snapshot(entry))
        audit.record(
            actor=None, action=action, entity=entry, before=old, after=new, patient=entry.patient
        )
    db.session.flush()
    return len(endings)


def position_of(entry: WaitlistEntry) -> int | None:
    """1 = the next patient to be offered a freed day."""
    return rules.position([_wish(e) for e in line()], entry.id)


def _weeks(entry: WaitlistEntry) -> frozenset[date]:
    return frozenset(date.fromisoformat(w) for w in entry.weeks or ())


def _wish(entry: WaitlistEntry, **extra) -> rules.Wish:
    return rules.Wish(entry.id, entry.joined_at, _weeks(entry), **extra)


@dataclass(frozen=True)
class WeekChoice:
    monday: date
    sunday: date
    #: True: a day of the week fits the patient's trips; None: no trip planned.
    fits_trips: bool | None


def week_choices(patient: Patient, now: datetime, values: dict | None = None) -> list[WeekChoice]:
    """The weeks a patient may wish for: from the first day bookable (the
    minimum notice) to the end of the booking horizon, with what each means
    for their planned trips."""
    from intake.patients import trip_services

    values = values if values is not None else settings.values()
    cal = context.clinic_calendar(values)
    first = cal.local_date(now + cal.min_notice(for_patient=True))
    last = cal.local_date(now + cal.horizon)
    if last < first:
        return []
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    fits = trip_services.collection_fits(patient, days, values=values)
    choices = []
    for monday in rules.weeks_between(first, last):
        fitting = None
        if fits is not None:
            fitting = any(
                fits[d].verdict == trip_rules.Verdict.FITS
                for d in (monday + timedelta(days=n) for n in range(7))
                if d in fits
            )
        choices.append(WeekChoice(monday, monday + timedelta(days=6), fitting))
    return choices


@dataclass(frozen=True)
class FreeDays:
    """What the waitlist can be offered now: each free day with how many
    collections its rooms and staff can still take, and the incubator places
    over the culture windows."""

    starts: dict[date, int]
    cultures: tuple[rules.Culture, ...] = ()


def free_days(
    visit_type_code: str, now: datetime, values: dict, *, bookable_for_hours: int = 0
) -> FreeDays:
    """The days a patient could book ``visit_type_code`` on now (the booking
    window, the minimum notice, closures, every resource). With
    ``bookable_for_hours``, only starts the patient can still book that many
    hours from now (an offer's time to accept: a day offered is still
    bookable at its deadline)."""
    plan = context.load_plan(visit_type_code, values)
    if plan is None or plan.pure is None or not plan.visit_type.is_active:
        return FreeDays({})
    cal = context.clinic_calendar(values)
    first, last = context.bookable_window(cal, now)
    starts: list[datetime] = []
    day = first
    while day <= last:
        days = min(context.MAX_WINDOW_DAYS, (last - day).days + 1)
        starts += context.availability(visit_type_code, day, days, now, for_patient=True)
        day += timedelta(days=days)
    if bookable_for_hours:
        earliest = now + timedelta(hours=bookable_for_hours) + cal.min_notice(for_patient=True)
        starts = [start for start in starts if start >= earliest]
    by_day = context.starts_by_day(starts, cal.tz)
    if not by_day or not plan.pure.day_blocks:
        return FreeDays({d: len(s) for d, s in sorted(by_day.items())})
    low, high = min(by_day), max(by_day)
    holds = context.load_hold_counts(plan, cal, low, high)
    capacities = {code: need.capacity for code, need in plan.needs.items()}
    cultures = tuple(
        rules.culture_of(block, low, high, capacities, holds) for block in plan.pure.day_blocks
    )
    return FreeDays({d: len(s) for d, s in sorted(by_day.items())}, cultures)


def free_places(visit_type_code: str, now: datetime, values: dict) -> dict[date, int]:
    """Each free day and how many collections it can take (the rooms and the
    incubator places of that day alone)."""
    free = free_days(visit_type_code, now, values)
    return {
        d: n for d, n in free.starts.items() if all(c.has_room(d) for c in free.cultures) and n > 0
    }


# --------------------------------------------------------------------------- joining


def _now(now: datetime | None) -> datetime:
    value = now or utcnow()
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value


def _collection_type(code: str) -> VisitType:
    visit_type = queries.visit_type_by_code(code)
    if (
        visit_type is None
        or not visit_type.is_active
        or not visit_type.is_patient_bookable
        or visit_type.kind != VisitKind.COLLECTION
    ):
        raise DomainError(_("Only the collection visit has a waitlist."), field="visit_type")
    return visit_type


def weeks_message() -> str:
    return _("Choose at least one of the weeks listed.")


def _parse_weeks(texts, allowed: set[date]) -> list[date]:
    chosen = set()
    for text in texts or ():
        try:
            monday = date.fromisoformat(str(text).strip())
        except ValueError:
            raise DomainError(weeks_message(), field="weeks") from None
        if monday not in allowed:
            raise DomainError(weeks_message(), field="weeks")
        chosen.add(monday)
    if not chosen:
        raise DomainError(weeks_message(), field="weeks")
    return sorted(chosen)


def _snapshot(entry: WaitlistEntry) -> dict:
    return audit.snapshot(entry, WaitlistEntry.AUDITED)


def join(
    patient: Patient,
    visit_type_code: str,
    weeks,
    *,
    fit_trips: bool,
    actor: User,
    now: datetime | None = None,
) -> WaitlistEntry:
    """Put the patient on the waitlist for ``weeks`` (ISO dates of Mondays).
    The intake gate must be open (a patient who may not book the collection
    cannot wait for one); one waiting entry per course; no upcoming collection."""
    now = _now(now)
    services._check_actor_for(patient, actor)
    visit_type = _collection_type(visit_type_code)
    values = settings.values()
    cal = context.clinic_calendar(values)
    course = current_course(patient)
    from intake.eligibility.queries import collection_gate_for

    gate = collection_gate_for(course, today=cal.today(now))
    if not gate.allowed:
        raise services.GateClosed(services.gate_closed_message(visit_type), tuple(gate.missing))
    if queries.upcoming_of_kind(patient, visit_type, now, course_id=course.id) is not None:
        raise DomainError(
            services.already_booked_message(by_patient=services._is_patient(actor)),
            code="already_booked",
        )
    if waiting_entry(patient) is not None:
        raise DomainError(_("You are already on the waitlist."), code="already_waiting")
    allowed = {choice.monday for choice in week_choices(patient, now, values)}
    chosen = _parse_weeks(weeks, allowed)
    entry = WaitlistEntry(
        course=course,
        patient=patient,
        visit_type=visit_type,
        weeks=[monday.isoformat() for monday in chosen],
        fit_trips=bool(fit_trips),
        joined_at=now,
        status=WaitlistStatus.WAITING,
        created_by_id=actor.id,
    )
    db.session.add(entry)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise DomainError(_("You are already on the waitlist."), code="already_waiting") from None
    audit.record(
        actor=actor, action="waitlist.join", entity=entry, after=_snapshot(entry), patient=patient
    )
    db.session.flush()
    return entry


def _own_entry(entry: WaitlistEntry, actor: User) -> None:
    if services._is_patient(actor):
        if actor.patient is None or entry.patient_id != actor.patient.id:
            raise NotAllowed(_("This is not your waitlist place."))
    else:
        services._require_staff(actor)


def leave(entry: WaitlistEntry, *, actor: User, now: datetime | None = None) -> WaitlistEntry:
    """Leave the waitlist; an open offer is declined with it."""
    now = _now(now)
    _own_entry(entry, actor)
    if entry.status != WaitlistStatus.WAITING:
        raise DomainError(_("You are no longer on the waitlist."))
    offer = open_offer(entry)
    if offer is not None:
        _decide(offer, OfferStatus.DECLINED, now)
    before = _snapshot(entry)
    entry.status = WaitlistStatus.LEFT
    entry.ended_at = now
    old, new = audit.changes(before, _snapshot(entry))
    audit.record(
        actor=actor,
        action="waitlist.leave",
        entity=entry,
        before=old,
        after=new,
        patient=entry.patient,
    )
    db.session.flush()
    return entry


# --------------------------------------------------------------------------- offering


def _decide(offer: WaitlistOffer, status: OfferStatus, now: datetime) -> bool:
    """Open → ``status`` in one conditional UPDATE; True when this call decided it."""
    condition = [WaitlistOffer.id == offer.id, WaitlistOffer.status == OfferStatus.OPEN]
    if status == OfferStatus.ACCEPTED:
        condition.append(WaitlistOffer.expires_at > now)
    if status == OfferStatus.EXPIRED:
        condition.append(WaitlistOffer.expires_at <= now)
    done = db.session.execute(
        update(WaitlistOffer)
        .where(*condition)
        .values(status=status, decided_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.expire(offer)
    return done == 1


def _offer_snapshot(offer: WaitlistOffer) -> dict:
    return audit.snapshot(offer, WaitlistOffer.AUDITED)


def _public_url(endpoint: str, **values) -> str:
    return services._public_url(endpoint, **values)


def _tell(offer: WaitlistOffer, entry: WaitlistEntry) -> None:
    patient = entry.patient
    notify(
        patient,
        "waitlist_offer",
        day=offer.day,
        deadline=offer.expires_at,
        visit_name=entry.visit_type.name_in(patient.locale),
        link=_public_url("scheduling.waitlist_page"),
    )


def offer_freed_places(now: datetime | None = None) -> list[WaitlistOffer]:
    """End the offers whose time is over and offer each free collection day to
    the first waiting patients it fits (``waitlist.decide``). Returns the new
    offers. Few statements when nobody waits (called after every cancellation)."""
    now = _now(now)
    end_settled_wishes(now)
    entries = line()
    if not entries:
        return []
    ids = [e.id for e in entries]
    offers = list(
        db.session.execute(
            select(WaitlistOffer).where(
                WaitlistOffer.entry_id.in_(ids), WaitlistOffer.status == OfferStatus.OPEN
            )
        ).scalars()
    )
    passed: dict[int, set[date]] = {}
    for entry_id, day in db.session.execute(
        select(WaitlistOffer.entry_id, WaitlistOffer.day).where(
            WaitlistOffer.entry_id.in_(ids), WaitlistOffer.status.in_(PASSED)
        )
    ):
        passed.setdefault(entry_id, set()).add(day)
    values = settings.values()
    hours = values["waitlist_offer_hours"]
    by_id = {e.id: e for e in entries}
    made: list[WaitlistOffer] = []
    for visit_type_id in sorted({e.visit_type_id for e in entries}):
        group = [e for e in entries if e.visit_type_id == visit_type_id]
        code = group[0].visit_type.code
        free = free_days(code, now, values, bookable_for_hours=hours)
        trips_unfit = {e.id: _unfit_days(e, free.starts, values) for e in group}
        group_ids = {e.id for e in group}
        open_here = [
            rules.OpenOffer(o.id, o.entry_id, o.day, o.expires_at)
            for o in offers
            if o.entry_id in group_ids
        ]
        # A day the intake gate would refuse the patient (their blood tests no
        # longer valid on it) is unfit for them: decided again without it, so
        # nobody is offered a day they could not accept. Checked only for the
        # days about to be offered.
        gate_unfit: dict[int, set[date]] = {}
        while True:
            wishes = [
                _wish(
                    e,
                    unfit_days=trips_unfit[e.id] | frozenset(gate_unfit.get(e.id, ())),
                    passed_days=frozenset(passed.get(e.id, ())),
                )
                for e in group
            ]
            decision = rules.decide(wishes, free.starts, open_here, now, free.cultures)
            refused = [
                new
                for new in decision.offers
                if not _gate_allows(by_id[new.entry_id], new.day, now)
            ]
            if not refused:
                break
            for new in refused:
                gate_unfit.setdefault(new.entry_id, set()).add(new.day)
        for offer in (o for o in offers if o.id in decision.expired):
            if _decide(offer, OfferStatus.EXPIRED, now):
                audit.record(
                    actor=None,
                    action="waitlist.offer_expired",
                    entity=offer,
                    after=_offer_snapshot(offer),
                    patient=by_id[offer.entry_id].patient,
                )
        for new in decision.offers:
            entry = by_id[new.entry_id]
            offer = WaitlistOffer(
                entry_id=entry.id,
                day=new.day,
                offered_at=now,
                expires_at=rules.expires_at(now, hours),
                status=OfferStatus.OPEN,
            )
            db.session.add(offer)
            try:
                with db.session.begin_nested():
                    db.session.flush()
            except IntegrityError:  # another run offered this entry meanwhile
                continue
            audit.record(
                actor=None,
                action="waitlist.offer",
                entity=offer,
                after=_offer_snapshot(offer),
                patient=entry.patient,
            )
            _tell(offer, entry)
            made.append(offer)
    db.session.flush()
    return made


def _gate_allows(entry: WaitlistEntry, day: date, now: datetime) -> bool:
    """Would the intake gate let the entry's collection be booked on ``day``
    (as ``book_visit`` checks it at acceptance)?"""
    from intake.eligibility.queries import collection_gate_for

    cal = context.clinic_calendar()
    return collection_gate_for(entry.course, today=cal.today(now), visit_date=day).allowed


def _unfit_days(entry: WaitlistEntry, free: dict[date, int], values: dict) -> frozenset[date]:
    """The free days that miss the patient's trips, when they asked for fitting days."""
    if not entry.fit_trips or not free:
        return frozenset()
    from intake.patients import trip_services

    fits = trip_services.collection_fits(entry.patient, free, values=values)
    if fits is None:
        return frozenset()
    return frozenset(d for d, f in fits.items() if f.verdict == trip_rules.Verdict.MISSES)


def offer_after_commit(now: datetime | None = None) -> int:
    """Offer freed places after a change was committed (a cancellation, a
    failed batch, more capacity). Its own transaction: a failure is logged and
    rolled back, and what was committed before stays."""
    try:
        made = offer_freed_places(now)
        db.session.commit()
        return len(made)
    except Exception:  # never undo the cancellation that freed the place
        db.session.rollback()
        log.exception("offering freed places to the waitlist failed")
        return 0


def after_booking(patient: Patient) -> None:
    """After a booking was committed: a waiting patient whose collection is
    now booked leaves the line at once (``end_settled_wishes``), in its own
    transaction like ``offer_after_commit``."""
    if waiting_entry(patient) is not None:
        offer_after_commit()


# --------------------------------------------------------------------------- deciding


class Taken(DomainError):
    """The offered day was booked by someone else first; the patient stays on the list."""


def taken_message() -> str:
    return _(
        "We are sorry: someone else took this day a moment before you. You keep your "
        "place on the waitlist and we will tell you when another day frees."
    )


def _own_offer(offer: WaitlistOffer, actor: User) -> WaitlistEntry:
    entry = offer.entry
    _own_entry(entry, actor)
    return entry


def _closed_message(offer: WaitlistOffer, now: datetime) -> str:
    if offer.status == OfferStatus.OPEN and offer.expires_at <= now:
        return _("The time to accept this offer is over.")
    return _("This offer is no longer open.")


def accept(offer: WaitlistOffer, *, actor: User, now: datetime | None = None) -> Appointment:
    """Accept: the offer turns accepted in one conditional UPDATE (open, not
    expired), then the collection is booked on the offered day through the
    hold ledger (the first free start of that day that can still be taken).
    Raises ``Taken`` (offer marked taken, the patient still waiting) when the
    day was booked by someone else first, ``DomainError`` when the offer is no
    longer open. Returns the appointment."""
    now = _now(now)
    entry = _own_offer(offer, actor)
    if entry.status != WaitlistStatus.WAITING:
        raise DomainError(_("This offer is no longer open."), code="closed")
    if not _decide(offer, OfferStatus.ACCEPTED, now):
        raise DomainError(_closed_message(offer, now), code="closed")
    appointment = _book_day(entry, offer.day, actor=actor, now=now)
    if appointment is None:
        db.session.execute(
            update(WaitlistOffer)
            .where(WaitlistOffer.id == offer.id)
            .values(status=OfferStatus.TAKEN)
            .execution_options(synchronize_session=False)
        )
        db.session.expire(offer)
        audit.record(
            actor=actor,
            action="waitlist.offer_taken",
            entity=offer,
            after=_offer_snapshot(offer),
            patient=entry.patient,
        )
        db.session.flush()
        raise Taken(taken_message(), code="taken")
    db.session.execute(
        update(WaitlistOffer)
        .where(WaitlistOffer.id == offer.id)
        .values(appointment_id=appointment.id)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(offer)
    before = _snapshot(entry)
    entry.status = WaitlistStatus.BOOKED
    entry.ended_at = now
    entry.appointment_id = appointment.id
    old, new = audit.changes(before, _snapshot(entry))
    audit.record(
        actor=actor,
        action="waitlist.accept",
        entity=entry,
        before=old,
        after=new,
        patient=entry.patient,
    )
    db.session.flush()
    return appointment


def _book_day(entry: WaitlistEntry, day: date, *, actor: User, now: datetime):
    """Book the entry's collection at the first start of ``day`` that the
    ledger still gives; None when every start of the day is taken."""
    code = entry.visit_type.code
    starts = context.availability(code, day, 1, now, for_patient=services._is_patient(actor))
    for start in starts:
        try:
            with db.session.begin_nested():
                return services.book_visit(entry.patient, code, start, actor=actor, now=now)
        except Conflict:
            continue
        except IntegrityError:  # a seat another booking wrote first
            continue
        except OperationalError as exc:
            if ledger.is_lock_error(exc):
                continue
            raise
    return None


def decline(offer: WaitlistOffer, *, actor: User, now: datetime | None = None) -> WaitlistOffer:
    """Decline the offered day: the patient keeps their place for another
    day; the day goes to the next patient (``offer_freed_places``)."""
    now = _now(now)
    entry = _own_offer(offer, actor)
    if not _decide(offer, OfferStatus.DECLINED, now):
        raise DomainError(_closed_message(offer, now), code="closed")
    audit.record(
        actor=actor,
        action="waitlist.offer_declined",
        entity=offer,
        after=_offer_snapshot(offer),
        patient=entry.patient,
    )
    db.session.flush()
    return offer


def offer_of(offer_id: int) -> WaitlistOffer | None:
    return db.session.get(WaitlistOffer, offer_id)
