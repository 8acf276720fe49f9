"""Changing bookings: book, reschedule, cancel. (The front desk's status
changes are in ``front_desk``, reminders in ``reminders``, the manager's set-up
of resources, visit types and closures in ``clinic_setup``.)

Every function applies the rules, writes, leaves an audit row, queues messages
and flushes; the caller commits (or rolls back on ``DomainError``).

One path through a booking: the visit type's plan and the clinic calendar are
loaded once (``context``), then ``context.load_for_start`` reads the closures
and the taken seats fresh from the database (never a kept availability
answer), the pure ``availability.check_start`` decides on that one
``Situation``, and the ``ledger`` writes the holds (no double booking: the
unique ``(resource_id, unit_start, seat)``; capacities read under a lock).

One upcoming visit of a kind per course (``visit_kinds.one_upcoming``): the
appointment's ``upcoming_kind`` under a partial unique index, set whoever books
(staff too: a course has one upcoming collection, which the desk moves rather
than books twice), cleared when the visit is closed or its time is over.

Idempotency: a booking form carries a random ``request_key``, stored unique on
the appointment; a retry of the same form raises ``DuplicateRequest`` and the
view shows the booking the first attempt made.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from intake.accounts.models import User
from intake.accounts.roles import DESK_ROLES, Role
from intake.core import audit, settings
from intake.core.errors import Conflict, DomainError, NotAllowed
from intake.core.types import utcnow
from intake.extensions import db
from intake.notifications.services import notify
from intake.patients.models import Course, Patient
from intake.patients.services import current_course
from intake.scheduling import availability as pure
from intake.scheduling import changes, context, ics, ledger, queries, visit_kinds, visit_status
from intake.scheduling.models import (
    MODE_LABELS,
    Appointment,
    AppointmentStatus,
    Hold,
    VisitMode,
    VisitType,
)
from intake.scheduling.visit_kinds import VisitKind


class GateClosed(DomainError):
    """The intake gate does not allow this visit yet; ``missing`` lists why."""

    def __init__(self, message: str, missing: tuple):
        super().__init__(message, code="gate_closed")
        self.missing = missing


class DuplicateRequest(DomainError):
    """This booking form was already sent and made a booking (a retry, a double
    click, a worker that died after its commit). The view shows that booking."""

    def __init__(self, appointment_id: int | None = None):
        super().__init__(
            _("This booking was already made. Please check your visits."), code="duplicate"
        )
        self.appointment_id = appointment_id


def already_booked_message(*, by_patient: bool) -> str:
    if by_patient:
        return _(
            "You already have this visit booked. Change its time on the My visits page instead."
        )
    return _(
        "This patient already has an upcoming visit of this kind. Move that visit instead "
        "of booking another."
    )


def locked_message(*, by_patient: bool) -> str:
    if by_patient:
        return _(
            "This reinfusion date is fixed: your cells are being grown for it. To ask for "
            'another date, use "Request a change" on your journey page.'
        )
    return _(
        "This reinfusion date is locked. Only a coordinator or doctor can move it, from the "
        "reinfusion page, with a reason and the lab's agreement."
    )


def refuse_locked(appointment: Appointment, actor: User | None) -> None:
    """DOMAIN rule 7: a confirmed reinfusion date is locked; every ordinary way
    of changing the visit refuses it (the move path is
    ``intake.reinfusion.services.move_locked``)."""
    if appointment.is_locked:
        raise DomainError(locked_message(by_patient=_is_patient(actor)), code="locked")


# --------------------------------------------------------------------------- helpers


def _now(now: datetime | None) -> datetime:
    value = now or utcnow()
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value


def _aware(start_at: datetime) -> datetime:
    """The start as a UTC instant (forms send the clinic's offset, e.g. +09:00)."""
    if not isinstance(start_at, datetime) or start_at.tzinfo is None:
        raise DomainError(_("Please choose one of the offered start times."), field="start")
    try:
        return start_at.astimezone(UTC)
    except OverflowError:
        raise DomainError(
            _("Please choose one of the offered start times."), field="start"
        ) from None


def _is_patient(actor: User | None) -> bool:
    return actor is not None and actor.role == Role.PATIENT


def _require_staff(actor: User | None) -> None:
    if actor is None or actor.role not in DESK_ROLES:
        raise NotAllowed(_("Only clinic staff can do this."))


def _acts_as(actor: User | None, patient: Patient) -> bool:
    """Is ``actor`` the patient's own login?"""
    return _is_patient(actor) and actor.patient is not None and actor.patient.id == patient.id


def _check_actor_for(patient: Patient, actor: User | None) -> None:
    """Patients act for themselves; clinic staff for any patient."""
    if not isinstance(patient, Patient):
        raise DomainError(_("Choose a patient."), field="patient")
    if _is_patient(actor):
        if not _acts_as(actor, patient):
            raise NotAllowed(_("You can only book visits for yourself."))
    else:
        _require_staff(actor)
    if not patient.is_active:
        raise DomainError(_("Choose an active patient account."), field="patient")


def _snapshot(appointment: Appointment) -> dict:
    data = audit.snapshot(appointment, Appointment.AUDITED)
    data["visit_type"] = appointment.visit_type.code
    return data


def _public_url(endpoint: str, **values) -> str:
    """An absolute link for e-mails, also outside a request (CLI reminders)."""
    adapter = current_app.url_map.bind("localhost", script_name="/")
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + adapter.build(endpoint, values)


def patient_cutoff(appointment: Appointment, values: dict | None = None) -> datetime:
    """After this instant the patient can no longer change the visit online
    (the rule: ``changes.patient_cutoff``)."""
    values = values if values is not None else settings.values()
    return changes.patient_cutoff(appointment.start_at, min_notice_hours=values["min_notice_hours"])


def patient_can_change(appointment: Appointment, now: datetime, values: dict | None = None) -> bool:
    """May the patient move or cancel the visit online now? Never a locked one."""
    if appointment.is_locked:
        return False
    values = values if values is not None else settings.values()
    return changes.patient_can_change(
        appointment.status,
        appointment.start_at,
        now,
        min_notice_hours=values["min_notice_hours"],
    )


def change_window(
    appointment: Appointment, now: datetime, values: dict | None = None
) -> changes.ChangeWindow:
    """Can the patient still change the visit online for a while (``changes``)?"""
    values = values if values is not None else settings.values()
    return changes.change_window(
        appointment.start_at, now, min_notice_hours=values["min_notice_hours"]
    )


def _refusal_error(refusal: pure.Refusal, cal: context.ClinicCalendar, *, for_patient: bool):
    messages = {
        pure.Refusal.HOLIDAY: _("The clinic is closed on that day (public holiday)."),
        pure.Refusal.OUTSIDE_HOURS: _("That time is outside the clinic's opening hours."),
        pure.Refusal.NOT_ALIGNED: _("Please choose one of the offered start times."),
        pure.Refusal.CLOSED: _("The clinic is closed at that time."),
        pure.Refusal.BEYOND_HORIZON: _(
            "Visits can be booked up to %(days)s days ahead.", days=cal.horizon_days
        ),
    }
    if refusal == pure.Refusal.FULL:
        return Conflict(ledger.taken_message(), field="start", code=refusal.value)
    if refusal == pure.Refusal.TOO_SOON:
        if for_patient:
            message = _(
                "Visits must be booked at least %(hours)s hours ahead. For an earlier visit, "
                "please call the clinic.",
                hours=cal.min_notice_hours,
            )
        else:
            message = _("That time has already passed.")
        return DomainError(message, field="start", code=refusal.value)
    return DomainError(messages[refusal], field="start", code=refusal.value)


def _load_plan(code: str, values: dict) -> context.Plan:
    plan = context.load_plan(code, values)
    if plan is None:
        raise DomainError(_("There is no such visit type."), field="visit_type")
    if plan.pure is None:
        raise DomainError(
            _("This visit type has no resources set up yet. Please ask the clinic manager."),
            field="visit_type",
        )
    return plan


def gate_closed_message(visit_type: VisitType) -> str:
    if visit_type.kind == VisitKind.COLLECTION:
        return _("The collection visit can be booked once everything below is ready.")
    return _("This visit can be booked once everything below is ready.")


def _check_gate(
    course: Course,
    visit_type: VisitType,
    cal: context.ClinicCalendar,
    now: datetime,
    start_at: datetime,
) -> None:
    """Rule 2, for a visit whose kind requires it (``visit_kinds``): approved
    review, consent, and a panel accepted by a doctor and still valid on the
    visit day."""
    if not visit_type.requires_intake_gate:
        return
    from intake.eligibility.queries import collection_gate_for

    gate = collection_gate_for(course, today=cal.today(now), visit_date=cal.local_date(start_at))
    if not gate.allowed:
        raise GateClosed(gate_closed_message(visit_type), missing=tuple(gate.missing))


def _mode(visit_type: VisitType, mode: str | VisitMode | None) -> VisitMode | None:
    allowed = [VisitMode(m) for m in visit_type.modes or ()]
    if not allowed:
        if mode not in (None, "", VisitMode.IN_PERSON):
            raise DomainError(_("Choose how the visit takes place."), field="mode")
        return None
    if mode in (None, ""):
        return allowed[0]
    try:
        chosen = VisitMode(mode)
    except ValueError:
        chosen = None
    if chosen not in allowed:
        raise DomainError(_("Choose how the visit takes place."), field="mode")
    return chosen


# --------------------------------------------------------------------------- the ledger


def _unique_key_hit(exc: IntegrityError) -> str | None:
    """Which of the appointment's unique keys a failed write met: ``"request_key"``,
    ``"upcoming_kind"`` or None (another constraint). PostgreSQL names the
    constraint; SQLite names the columns."""
    diag = getattr(exc.orig, "diag", None)
    name = getattr(diag, "constraint_name", None) or ""
    text = str(exc.orig)
    if name == "uq_appointments_request_key" or "appointments.request_key" in text:
        return "request_key"
    if (
        name == "uq_appointments_one_upcoming_kind_per_course"
        or "appointments.upcoming_kind" in text
    ):
        return "upcoming_kind"
    return None


def _write_appointment(appointment: Appointment, *, by_patient: bool) -> None:
    """Flush the appointment row: its unique keys decide a race between two
    bookings of one course (``upcoming_kind``) or two sends of one form
    (``request_key``), on any database."""
    try:
        db.session.flush()
    except IntegrityError as exc:
        hit = _unique_key_hit(exc)
        if hit == "request_key":
            raise DuplicateRequest() from exc
        if hit == "upcoming_kind":
            raise DomainError(
                already_booked_message(by_patient=by_patient), code="already_booked"
            ) from exc
        raise
    except OperationalError as exc:
        if ledger.is_lock_error(exc):  # SQLite: another writer held the lock past busy_timeout
            raise Conflict(ledger.taken_message(), field="start", code="locked") from exc
        raise


def _claim_of(visit_type: VisitType) -> VisitKind | None:
    """The kind a visit of this type claims as its course's one upcoming visit."""
    return visit_type.kind if visit_kinds.one_upcoming(visit_type.kind) else None


def _expire_claims(course_id: int, kind: VisitKind, now: datetime) -> None:
    """A visit whose time is over no longer counts as upcoming, even when the
    desk has not closed it yet: its claim goes (one atomic update)."""
    db.session.execute(
        update(Appointment)
        .where(
            Appointment.course_id == course_id,
            Appointment.upcoming_kind == kind,
            Appointment.end_at <= now,
        )
        .values(upcoming_kind=None)
        .execution_options(synchronize_session="fetch")
    )


def _check_start(
    plan: context.Plan,
    cal: context.ClinicCalendar,
    start_at: datetime,
    now: datetime,
    *,
    for_patient: bool,
    exclude_appointment_id: int | None = None,
    exclude_course_id: int | None = None,
) -> set:
    """Raise unless ``start_at`` is bookable now; return the seats already taken
    (a visit being moved: without its own). Reads only (fresh, never a kept
    availability answer), writes nothing."""
    loaded = context.load_for_start(
        plan,
        cal,
        start_at,
        now,
        for_patient=for_patient,
        exclude_appointment_id=exclude_appointment_id,
        exclude_course_id=exclude_course_id,
    )
    refusal = pure.check_start(start_at, plan.pure, loaded.situation)
    if refusal is not None:
        raise _refusal_error(refusal, cal, for_patient=for_patient)
    return loaded.taken


def _confirm(
    appointment: Appointment, template: str, *, now: datetime | None = None, **template_context
) -> None:
    patient = appointment.patient
    link = _public_url("scheduling.my_visits")
    values = settings.values()
    notify(
        patient,
        template,
        appointment=appointment,
        visit_name=appointment.visit_type.name_in(patient.locale),
        location=ics.clinic_location(),
        mode_label=MODE_LABELS.get(appointment.mode) if appointment.mode else None,
        notice_hours=values["min_notice_hours"],
        # Booked or moved close to (or past) the patient's cut-off: say so, with the phone.
        change_window=change_window(appointment, _now(now), values).value,
        change_cutoff=patient_cutoff(appointment, values),
        clinic_phone=current_app.config.get("CLINIC_PHONE"),
        link=link,
        attachment=ics.attachment(appointment, locale=patient.locale, link=link),
        **template_context,
    )


# --------------------------------------------------------------------------- bookings


def book_visit(
    patient: Patient,
    visit_type_code: str,
    start_at: datetime,
    *,
    actor: User,
    mode: str | VisitMode | None = None,
    now: datetime | None = None,
    send_confirmation: bool = True,
    request_key: str | None = None,
) -> Appointment:
    """Book ``visit_type_code`` for ``patient`` at ``start_at`` (UTC-aware).

    Patients book for themselves, visit types open to online booking only, with
    the minimum notice; clinic staff book for anyone, any time not yet passed.
    Visit types that require it pass the intake gate first. A course holds one
    upcoming visit of a kind that allows only one (``visit_kinds.one_upcoming``),
    whoever books it. ``request_key`` (the booking form's idempotency key): when
    a booking was already made with it, ``DuplicateRequest`` names it."""
    now = _now(now)
    _check_actor_for(patient, actor)
    if request_key:
        earlier = queries.appointment_by_request_key(request_key)
        if earlier is not None:
            raise DuplicateRequest(earlier.id)
    start_at = _aware(start_at)
    values = settings.values()
    plan = _load_plan(visit_type_code, values)
    visit_type = plan.visit_type
    for_patient = _is_patient(actor)
    if not visit_type.is_active:
        raise DomainError(_("This visit type is not offered at the moment."), field="visit_type")
    if for_patient and not visit_type.is_patient_bookable:
        raise NotAllowed(_("This visit cannot be booked online. Please contact the clinic."))
    chosen_mode = _mode(visit_type, mode)
    if start_at < now:
        raise DomainError(_("That time has already passed."), field="start")
    cal = context.clinic_calendar(values)
    course = current_course(patient)
    _check_gate(course, visit_type, cal, now, start_at)
    claim = _claim_of(visit_type)
    # Checked here for a clear answer before any seat is chosen; decided by the
    # unique index on (course, upcoming_kind) when two bookings race. The
    # one-per-type rule of the other kinds binds patients booking online only.
    if claim is not None or for_patient:
        existing = queries.upcoming_of_kind(patient, visit_type, now, course_id=course.id)
        if existing is not None:
            raise DomainError(already_booked_message(by_patient=for_patient), code="already_booked")
    taken = _check_start(plan, cal, start_at, now, for_patient=for_patient)
    if claim is not None:
        _expire_claims(course.id, claim, now)
    appointment = Appointment(
        patient=patient,
        course=course,
        visit_type=visit_type,
        start_at=start_at,
        end_at=start_at + timedelta(minutes=plan.duration_minutes),
        status=AppointmentStatus.BOOKED,
        mode=chosen_mode,
        booked_by=actor,
        status_changed_at=now,
        upcoming_kind=claim,
        request_key=request_key or None,
    )
    db.session.add(appointment)
    _write_appointment(appointment, by_patient=for_patient)
    ledger.take_seats(appointment, plan, cal, start_at, taken)
    audit.record(
        actor=actor,
        action="scheduling.book",
        entity=appointment,
        after=_snapshot(appointment),
        patient=patient,
    )
    if send_confirmation:
        _confirm(appointment, "visit_booked", now=now)
    db.session.flush()
    return appointment


def book_offered_visit(
    patient: Patient,
    visit_type_code: str,
    start_at: datetime,
    *,
    actor: User,
    now: datetime | None = None,
    template: str,
    **template_context,
) -> Appointment:
    """Book a time the clinic offered the patient (a reinfusion proposal) when the
    patient accepts it. Visit types the patient may not book online are allowed
    here, because the clinic chose the type and the time; everything else is
    ``book_visit``'s: the intake gate, the hold ledger (no double booking: a
    time taken meanwhile raises ``Conflict``), the patient's minimum notice.
    Several visits of one type may be upcoming (doses of one course): the
    offer itself is the one-per-dose guarantee. The patient gets ``template``."""
    now = _now(now)
    _check_actor_for(patient, actor)
    start_at = _aware(start_at)
    values = settings.values()
    plan = _load_plan(visit_type_code, values)
    visit_type = plan.visit_type
    if not visit_type.is_active:
        raise DomainError(_("This visit type is not offered at the moment."), field="visit_type")
    if start_at < now:
        raise DomainError(_("That time has already passed."), field="start")
    cal = context.clinic_calendar(values)
    course = current_course(patient)
    _check_gate(course, visit_type, cal, now, start_at)
    claim = _claim_of(visit_type)
    taken = _check_start(plan, cal, start_at, now, for_patient=_is_patient(actor))
    if claim is not None:
        _expire_claims(course.id, claim, now)
    appointment = Appointment(
        patient=patient,
        course=course,
        visit_type=visit_type,
        start_at=start_at,
        end_at=start_at + timedelta(minutes=plan.duration_minutes),
        status=AppointmentStatus.BOOKED,
        booked_by=actor,
        status_changed_at=now,
        upcoming_kind=claim,
    )
    db.session.add(appointment)
    _write_appointment(appointment, by_patient=_is_patient(actor))
    ledger.take_seats(appointment, plan, cal, start_at, taken)
    audit.record(
        actor=actor,
        action="scheduling.book",
        entity=appointment,
        after=_snapshot(appointment),
        patient=patient,
    )
    _confirm(appointment, template, now=now, **template_context)
    db.session.flush()
    return appointment


def record_past_visit(
    patient: Patient,
    visit_type_code: str,
    start_at: datetime,
    *,
    actor: User | None,
    status: AppointmentStatus,
    mode: str | VisitMode | None = None,
    now: datetime | None = None,
    note: str,
) -> Appointment:
    """Enter a visit that already took place (data import, demo history), through
    the same hold ledger so it can never overbook. Only for starts in the past:
    it skips the booking-window and intake checks that apply to new bookings."""
    now = _now(now)
    if actor is not None:
        _require_staff(actor)
    if not isinstance(patient, Patient):
        raise DomainError(_("Choose a patient."), field="patient")
    start_at = _aware(start_at)
    if start_at >= now:
        raise DomainError(_("Only visits that already took place can be recorded."))
    values = settings.values()
    plan = _load_plan(visit_type_code, values)
    cal = context.clinic_calendar(values)
    # Checked as of just before the visit, by staff (no notice), like the original booking.
    taken = _check_start(plan, cal, start_at, start_at - timedelta(minutes=1), for_patient=False)
    appointment = Appointment(
        patient=patient,
        course=current_course(patient),
        visit_type=plan.visit_type,
        start_at=start_at,
        end_at=start_at + timedelta(minutes=plan.duration_minutes),
        status=status,
        mode=_mode(plan.visit_type, mode),
        booked_by=actor,
        status_changed_at=start_at,
        created_at=start_at - timedelta(days=7),
    )
    # A visit that took place is not upcoming: it claims no kind (upcoming_kind None).
    if status == AppointmentStatus.CANCELLED:
        appointment.cancelled_at = start_at - timedelta(days=3)
        appointment.cancel_reason = note
    db.session.add(appointment)
    ledger.take_seats(appointment, plan, cal, start_at, taken)
    if status in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW):
        ledger.release_seats(appointment)
    audit.record(
        actor=actor,
        action="scheduling.record",
        entity=appointment,
        after=_snapshot(appointment),
        patient=patient,
        note=note,
    )
    return appointment


def _check_change_allowed(appointment: Appointment, actor: User, now: datetime) -> bool:
    """Returns whether the actor is the patient; raises when they may not change it
    (a locked reinfusion date: nobody, on this path)."""
    if _is_patient(actor):
        if actor.patient is None or appointment.patient_id != actor.patient.id:
            raise NotAllowed(_("This is not your visit."))
        refuse_locked(appointment, actor)
        if appointment.status != AppointmentStatus.BOOKED:
            raise DomainError(_("This visit can no longer be changed."))
        if not patient_can_change(appointment, now):
            raise DomainError(
                _(
                    "Your visit is less than %(hours)s hours away, so it can no longer be "
                    "changed online. Please call the clinic.",
                    hours=settings.get("min_notice_hours"),
                ),
                code="past_cutoff",
            )
        return True
    _require_staff(actor)
    refuse_locked(appointment, actor)
    return False


def reschedule_visit(
    appointment: Appointment,
    start_at: datetime,
    *,
    actor: User,
    mode: str | VisitMode | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Move a booked visit to ``start_at``: its old seats are released and new ones
    taken in the same transaction, so it keeps its old time if the new one fails.
    A locked reinfusion date is refused (``move_locked_visit`` moves it)."""
    now = _now(now)
    start_at = _aware(start_at)
    by_patient = _check_change_allowed(appointment, actor, now)
    return _move(appointment, start_at, actor=actor, mode=mode, now=now, by_patient=by_patient)


def move_locked_visit(
    appointment: Appointment,
    start_at: datetime,
    *,
    actor: User,
    now: datetime | None = None,
    template: str,
    **template_context,
) -> Appointment:
    """Move a locked reinfusion visit: the one way, for ``intake.reinfusion``'s
    move (a coordinator or doctor, a reason and the lab's agreement, checked
    there). The lock stays; the same ledger and checks as any move apply; the
    patient gets ``template`` with ``template_context``."""
    now = _now(now)
    start_at = _aware(start_at)
    if actor is None or actor.role not in (Role.COORDINATOR, Role.DOCTOR):
        raise NotAllowed(_("Only a coordinator or doctor can move a locked date."))
    if not appointment.is_locked:
        raise DomainError(_("This visit is not locked."))
    return _move(
        appointment,
        start_at,
        actor=actor,
        mode=None,
        now=now,
        by_patient=False,
        template=template,
        template_context=template_context,
    )


def _move(
    appointment: Appointment,
    start_at: datetime,
    *,
    actor: User,
    mode: str | VisitMode | None,
    now: datetime,
    by_patient: bool,
    template: str = "visit_rescheduled",
    template_context: dict | None = None,
) -> Appointment:
    if appointment.status != AppointmentStatus.BOOKED:
        raise DomainError(_("Only a booked visit can be moved."))
    if start_at < now:
        raise DomainError(_("That time has already passed."), field="start")
    values = settings.values()
    plan = _load_plan(appointment.visit_type.code, values)
    chosen_mode = _mode(plan.visit_type, mode if mode not in (None, "") else appointment.mode)
    if start_at == appointment.start_at and chosen_mode == appointment.mode:
        raise DomainError(_("The visit is already at this time."), field="start")
    cal = context.clinic_calendar(values)
    _check_gate(appointment.course, plan.visit_type, cal, now, start_at)
    taken = _check_start(
        plan,
        cal,
        start_at,
        now,
        for_patient=by_patient,
        exclude_appointment_id=appointment.id,
        exclude_course_id=appointment.course_id if plan.day_block_days else None,
    )
    claim = _claim_of(plan.visit_type)
    if claim is not None and appointment.upcoming_kind is None:
        # A visit whose claim lapsed (its time was over) is upcoming again.
        _expire_claims(appointment.course_id, claim, now)
        appointment.upcoming_kind = claim
        _write_appointment(appointment, by_patient=by_patient)
    before = _snapshot(appointment)
    previous_start = appointment.start_at
    ledger.release_seats(appointment)
    ledger.take_seats(appointment, plan, cal, start_at, taken)
    appointment.start_at = start_at
    appointment.end_at = start_at + timedelta(minutes=plan.duration_minutes)
    appointment.mode = chosen_mode
    appointment.reminded_at = None  # the new time earns its own reminder
    appointment.sequence += 1
    old, new = audit.changes(before, _snapshot(appointment))
    audit.record(
        actor=actor,
        action="scheduling.reschedule",
        entity=appointment,
        before=old,
        after=new,
        patient=appointment.patient,
    )
    _confirm(
        appointment, template, now=now, previous_start=previous_start, **(template_context or {})
    )
    db.session.flush()
    return appointment


def cancel_visit(
    appointment: Appointment,
    *,
    actor: User,
    reason: str | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Cancel: the seats are freed, the appointment row stays with its reason.
    Patients until the notice cut-off; clinic staff at any time, with a reason."""
    now = _now(now)
    by_patient = _check_change_allowed(appointment, actor, now)
    if AppointmentStatus.CANCELLED not in visit_status.TRANSITIONS[appointment.status]:
        raise DomainError(_("This visit is already closed."))
    reason = (reason or "").strip()
    if not by_patient and not reason:
        raise DomainError(_("Give the reason for cancelling."), field="reason")
    if len(reason) > 500:
        raise DomainError(_("Keep the reason under 500 characters."), field="reason")
    _cancel(appointment, actor=actor, reason=reason or None, now=now, by_clinic=not by_patient)
    db.session.flush()
    return appointment


def _cancel(
    appointment: Appointment,
    *,
    actor: User | None,
    reason: str | None,
    now: datetime,
    by_clinic: bool,
    note: str | None = None,
) -> None:
    """Free the visit's seats (and a collection's culture place), keep the row
    with its status and reason, audit it and tell the patient."""
    before = _snapshot(appointment)
    ledger.release_seats(appointment)
    appointment.status = AppointmentStatus.CANCELLED
    appointment.upcoming_kind = None
    appointment.status_changed_at = now
    appointment.cancelled_at = now
    appointment.cancelled_by_id = actor.id if actor is not None else None
    appointment.cancel_reason = reason
    appointment.sequence += 1
    old, new = audit.changes(before, _snapshot(appointment))
    audit.record(
        actor=actor,
        action="scheduling.cancel",
        entity=appointment,
        before=old,
        after=new,
        patient=appointment.patient,
        note=note,
    )
    _confirm(appointment, "visit_cancelled", by_clinic=by_clinic)


@settings.change_guard
def _booking_unit_is_fixed_while_visits_are_booked(current: dict, new: dict) -> dict[str, str]:
    """Holds are keyed by unit start: a new unit length would let bookings on
    the old and the new grid overlap without meeting the unique constraint."""
    if current["slot_minutes"] == new["slot_minutes"]:
        return {}
    booked_ahead = db.session.execute(
        select(Hold.id).where(Hold.unit_start >= utcnow()).limit(1)
    ).first()
    if booked_ahead is None:
        return {}
    return {
        "slot_minutes": _(
            "Visits are booked on the current booking unit. Change it when no future "
            "visit is booked."
        )
    }


def cancel_future_visits(
    course: Course,
    *,
    actor: User | None,
    reason: str,
    now: datetime | None = None,
    kinds: Iterable[VisitKind] | None = None,
) -> list[Appointment]:
    """Cancel every visit of the course still to come (consent withdrawn), or
    only those of ``kinds`` (a failed culture cancels its reinfusions): holds
    freed, rows kept with the reason, the patient told of each. The front desk
    sees them among the day's cancellations."""
    now = _now(now)
    query = (
        select(Appointment)
        .where(
            Appointment.course_id == course.id,
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.start_at > now,
        )
        .order_by(Appointment.start_at)
    )
    if kinds is not None:
        query = query.join(VisitType, Appointment.visit_type_id == VisitType.id).where(
            VisitType.kind.in_(list(kinds))
        )
    upcoming = list(db.session.execute(query).scalars())
    for appointment in upcoming:
        _cancel(appointment, actor=actor, reason=reason, now=now, by_clinic=True, note=reason)
    db.session.flush()
    return upcoming
