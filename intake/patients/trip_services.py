"""A travelling patient's trips: recorded by the patient or by a coordinator
or doctor, checked by the pure ``intake.reinfusion.trips``, audited; and what
the trips mean for a collection day (the booking pages' marks).

Writes lock the patient's row first (an ``UPDATE`` that changes nothing: the
row lock on PostgreSQL, the write lock on SQLite), so two trips sent at once
for one patient are checked one after the other and never overlap."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from babel.dates import format_interval
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select, update

from intake.accounts.models import User
from intake.accounts.roles import Role
from intake.core import audit, settings
from intake.core.errors import DomainError, NotAllowed, Problems
from intake.core.types import utcnow
from intake.extensions import db
from intake.patients.models import Patient, Trip
from intake.patients.services import REGISTRARS
from intake.reinfusion import trips as rules
from intake.scheduling import queries as scheduling_queries
from intake.scheduling.visit_kinds import VisitKind

NOTE_LIMIT = 200


def _messages() -> dict[rules.Problem, str]:
    return {
        rules.Problem.DEPARTS_BEFORE_ARRIVAL: _("The departure must be on or after the arrival."),
        rules.Problem.IN_THE_PAST: _("This trip is over: enter a trip that ends today or later."),
        rules.Problem.TOO_FAR: _(
            "Trips can be planned up to %(years)s years ahead.",
            years=rules.TRIP_HORIZON_DAYS // 365,
        ),
        rules.Problem.OVERLAPS: _(
            "This trip overlaps another planned trip. Change or cancel that one first."
        ),
    }


# --------------------------------------------------------------------------- reads


def trips_of(patient: Patient) -> list[Trip]:
    """Every trip of ``patient`` (cancelled ones too), by arrival."""
    return list(
        db.session.execute(
            select(Trip).where(Trip.patient_id == patient.id).order_by(Trip.arrives_on, Trip.id)
        ).scalars()
    )


def planned(patient: Patient) -> list[rules.Trip]:
    """The patient's trips that are not cancelled, as the pure rules take them."""
    rows = db.session.execute(
        select(Trip.arrives_on, Trip.departs_on).where(
            Trip.patient_id == patient.id, Trip.cancelled_at.is_(None)
        )
    ).all()
    return rules.in_order(rules.Trip(a, d) for a, d in rows)


def trip_of(patient: Patient, trip_id: int) -> Trip | None:
    """One trip of ``patient`` (None: not theirs, or no such trip)."""
    trip = db.session.get(Trip, trip_id)
    return trip if trip is not None and trip.patient_id == patient.id else None


def collection_fits(
    patient: Patient, days: Iterable[date], *, values: dict | None = None
) -> dict[date, rules.Fit] | None:
    """For each candidate collection day, what it means for the patient's trips;
    None when the patient has planned no trip (the page then shows nothing).
    Two statements: the trips, and the closures of the windows."""
    days = sorted(set(days))
    trips = planned(patient)
    if not trips or not days:
        return None
    values = values if values is not None else settings.values()
    min_days, max_days = values["culture_min_days"], values["culture_max_days"]
    cal = scheduling_queries.clinic_calendar(values)
    first = days[0] + timedelta(days=min_days)
    last = days[-1] + timedelta(days=max_days)
    closures = scheduling_queries.load_closures(
        cal.day_start(first), cal.day_start(last + timedelta(days=1))
    )
    is_open = rules.open_day_predicate(cal.hours, cal.tz, closures, cal.holidays(first, last))
    return rules.fits_by_day(days, trips, min_days=min_days, max_days=max_days, is_open=is_open)


def collection_fit(patient: Patient, day: date) -> rules.Fit | None:
    fits = collection_fits(patient, [day])
    return None if fits is None else fits[day]


# --------------------------------------------------------------------------- words


def range_label(first: date, last: date) -> str:
    """ "10 – 20 Jan" in the reader's language (with the year when they differ)."""
    skeleton = "MMMd" if first.year == last.year else "yMMMd"
    return format_interval(first, last, skeleton, locale=get_locale())


def fit_text(result: rules.Fit | None, *, for_patient: bool) -> str | None:
    """The mark beside a collection day; None when nothing is marked (NO_TRIP)."""
    if result is None or result.verdict == rules.Verdict.NO_TRIP:
        return None
    if result.verdict == rules.Verdict.FITS:
        dates = range_label(result.trip.arrives_on, result.trip.departs_on)
        if for_patient:
            return _("Fits your trip %(dates)s", dates=dates)
        return _("Fits the patient's trip %(dates)s", dates=dates)
    return _("Cells ready %(dates)s: no trip then", dates=range_label(*result.window))


def miss_reason(result: rules.Fit, *, for_patient: bool) -> str:
    """Why a day that MISSES is worth a second thought."""
    window = range_label(*result.window)
    if for_patient:
        return _(
            "Your cells would be ready for reinfusion between %(window)s, but none of your "
            "planned trips to Japan includes a day the clinic is open in that time.",
            window=window,
        )
    return _(
        "The cells would be ready for reinfusion between %(window)s, but none of the "
        "patient's planned trips to Japan includes a day the clinic is open in that time.",
        window=window,
    )


# --------------------------------------------------------------------------- writes


def _require_may_edit(patient: Patient, actor: User | None) -> None:
    if actor is None:
        raise NotAllowed(_("Only the patient or the clinic can change these trips."))
    if actor.role == Role.PATIENT:
        own = getattr(actor, "patient", None)
        if own is None or own.id != patient.id:
            raise NotAllowed(_("Only the patient or the clinic can change these trips."))
    elif actor.role not in REGISTRARS:
        raise NotAllowed(_("Only the patient or the clinic can change these trips."))


def _lock_patient(patient: Patient) -> None:
    db.session.execute(
        update(Patient)
        .where(Patient.id == patient.id)
        .values(updated_at=Patient.updated_at)
        .execution_options(synchronize_session=False)
    )


def _clean_note(note: str | None) -> str | None:
    text = " ".join((note or "").split())
    if len(text) > NOTE_LIMIT:
        raise DomainError(
            _("Please shorten this text to %(n)s characters.", n=NOTE_LIMIT), field="note"
        )
    return text or None


def _check(
    patient: Patient,
    arrives_on: date | None,
    departs_on: date | None,
    note: str | None,
    *,
    today: date,
    exclude: Trip | None = None,
) -> str | None:
    """Every problem of the trip at once (``FormErrors``), else the clean note."""
    problems = Problems()
    if arrives_on is None:
        problems.add(_("Enter the day you arrive."), field="arrives_on")
    if departs_on is None:
        problems.add(_("Enter the day you leave."), field="departs_on")
    clean = problems.check(_clean_note, note)
    if arrives_on is not None and departs_on is not None:
        query = select(Trip.arrives_on, Trip.departs_on).where(
            Trip.patient_id == patient.id, Trip.cancelled_at.is_(None)
        )
        if exclude is not None:
            query = query.where(Trip.id != exclude.id)
        others = db.session.execute(query).all()
        messages = _messages()
        for field, problem in rules.trip_problems(
            arrives_on, departs_on, today=today, others=[rules.Trip(a, d) for a, d in others]
        ):
            problems.add(messages[problem], field=field)
    problems.raise_if_any()
    return clean


def _today(now: datetime | None) -> date:
    return scheduling_queries.clinic_calendar().today(now or utcnow())


def add_trip(
    patient: Patient,
    *,
    arrives_on: date | None,
    departs_on: date | None,
    note: str | None = None,
    actor: User,
    now: datetime | None = None,
) -> Trip:
    _require_may_edit(patient, actor)
    _lock_patient(patient)
    clean = _check(patient, arrives_on, departs_on, note, today=_today(now))
    trip = Trip(
        patient=patient,
        arrives_on=arrives_on,
        departs_on=departs_on,
        note=clean,
        created_by_id=actor.id,
        created_at=now or utcnow(),
    )
    db.session.add(trip)
    db.session.flush()
    audit.record(
        actor=actor,
        action="patients.trip_add",
        entity=trip,
        after=audit.snapshot(trip, Trip.AUDITED),
        patient=patient,
    )
    return trip


def _require_open(trip: Trip, today: date) -> None:
    if trip.cancelled_at is not None:
        raise DomainError(_("This trip is cancelled."))
    if trip.departs_on < today:
        raise DomainError(_("This trip is over and can no longer be changed."))


def change_trip(
    trip: Trip,
    *,
    arrives_on: date | None,
    departs_on: date | None,
    note: str | None = None,
    actor: User,
    now: datetime | None = None,
) -> Trip:
    patient = trip.patient
    _require_may_edit(patient, actor)
    _lock_patient(patient)
    today = _today(now)
    _require_open(trip, today)
    clean = _check(patient, arrives_on, departs_on, note, today=today, exclude=trip)
    before = audit.snapshot(trip, Trip.AUDITED)
    trip.arrives_on, trip.departs_on, trip.note = arrives_on, departs_on, clean
    after = audit.snapshot(trip, Trip.AUDITED)
    if before != after:
        old, new = audit.changes(before, after)
        audit.record(
            actor=actor,
            action="patients.trip_change",
            entity=trip,
            before=old,
            after=new,
            patient=patient,
        )
    db.session.flush()
    return trip


def cancel_trip(trip: Trip, *, actor: User, now: datetime | None = None) -> Trip:
    """The trip no longer counts; its row stays (``cancelled_at``)."""
    patient = trip.patient
    _require_may_edit(patient, actor)
    _lock_patient(patient)
    now = now or utcnow()
    _require_open(trip, _today(now))
    before = audit.snapshot(trip, Trip.AUDITED)
    trip.cancelled_at = now
    audit.record(
        actor=actor,
        action="patients.trip_cancel",
        entity=trip,
        before=before,
        after=audit.snapshot(trip, Trip.AUDITED),
        patient=patient,
    )
    db.session.flush()
    return trip


# --------------------------------------------------------------------------- the collection booking

#: The confirmation step's checkbox: book a day that misses the trips anyway.
BOOK_ANYWAY = "book_anyway"


def _is_collection(visit_type) -> bool:
    return visit_type.kind == VisitKind.COLLECTION


def booking_marks(patient: Patient, visit_type, picker: dict, *, for_patient: bool) -> dict | None:
    """What the time picker of a collection shows about the patient's trips:
    ``marks`` (day ISO → (verdict, text)) for the days listed, and for the
    chosen day its ``fit`` and, when it misses, the ``reason``. None when the
    visit is not a collection or the patient has planned no trip."""
    if not _is_collection(visit_type) or picker is None:
        return None
    if picker["step"] == "days":
        days = [entry[0] for entry in picker["days"]]
    else:
        days = [picker["day"]]
    fits = collection_fits(patient, days)
    if fits is None:
        return None
    texts = {day: fit_text(result, for_patient=for_patient) for day, result in fits.items()}
    marks = {
        day.isoformat(): (fits[day].verdict.value, text) for day, text in texts.items() if text
    }
    chosen = fits.get(picker.get("day")) if picker["step"] != "days" else None
    return {
        "marks": marks,
        "fit": chosen,
        "reason": miss_reason(chosen, for_patient=for_patient)
        if chosen is not None and chosen.warns
        else None,
        "field": BOOK_ANYWAY,
    }


def unconfirmed_miss(
    patient: Patient, visit_type, day: date | None, *, confirmed: bool
) -> rules.Fit | None:
    """The fit of a collection on ``day`` when it misses the patient's trips
    and "book anyway" was not ticked (the booking then waits); else None."""
    if day is None or not _is_collection(visit_type):
        return None
    result = collection_fit(patient, day)
    return result if rules.needs_confirmation(result, confirmed=confirmed) else None
