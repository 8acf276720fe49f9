"""Reinfusion dates: proposing, confirming (the lock), moving a locked date,
the patient's change request, and what a failed batch undoes.

Every function applies the rules (``rules``), writes, leaves an audit row,
queues messages and flushes; the caller commits (or rolls back on
``DomainError``).

"At most one" guarantees, on any database:
* one dose of a number per batch: the unique ``(batch_id, number)``;
* one confirmation per dose: an atomic ``UPDATE … WHERE status = 'proposed'``
  whose row count decides (a double submit finds the dose confirmed and
  answers with it); one visit per dose: the unique ``appointment_id``;
* one open change request per dose, and one set of open proposals: the dose's
  row is written first (``_claim_dose``), which serialises two requests for
  the same dose (PostgreSQL's row lock, SQLite's write lock) before the check.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from intake.accounts.models import User
from intake.accounts.roles import Role
from intake.core import audit, settings
from intake.core.errors import Conflict, DomainError, FormErrors, NotAllowed
from intake.core.types import utcnow
from intake.cultures.models import Batch
from intake.eligibility import queries as eligibility_queries
from intake.extensions import db
from intake.notifications.services import notify
from intake.reinfusion import queries, rules
from intake.reinfusion.models import (
    ChangeRequest,
    ChangeRequestStatus,
    Dose,
    DoseSource,
    DoseStatus,
    Proposal,
    ProposalStatus,
)
from intake.scheduling import queries as scheduling_queries
from intake.scheduling import services as scheduling
from intake.scheduling.models import Appointment, AppointmentStatus

REASON_MAX = 1000


def _now(now: datetime | None) -> datetime:
    value = now or utcnow()
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value


def _public_url(endpoint: str, **values) -> str:
    adapter = current_app.url_map.bind("localhost", script_name="/")
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + adapter.build(endpoint, values)


def _require_proposer(actor: User | None, message: str | None = None) -> None:
    if actor is None or actor.role not in rules.PROPOSERS:
        raise NotAllowed(message or _("Only a coordinator or doctor can propose reinfusion dates."))


def _is_own_patient(actor: User | None, patient_id: int) -> bool:
    return (
        actor is not None
        and actor.role == Role.PATIENT
        and actor.patient is not None
        and actor.patient.id == patient_id
    )


def _clean_reason(text: str | None, field: str, problems: list[DomainError]) -> str:
    text = (text or "").strip()
    if not text:
        problems.append(DomainError(_("Give the reason."), field=field))
    elif len(text) > REASON_MAX:
        problems.append(
            DomainError(_("Keep it under %(n)s characters.", n=REASON_MAX), field=field)
        )
    return text


def _raise(problems: list[DomainError]) -> None:
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise FormErrors(problems)


def _claim_dose(dose: Dose, now: datetime) -> None:
    """Write the dose's row first: a second request for the same dose waits
    here until the first one ends, then sees what it wrote."""
    db.session.execute(
        update(Dose)
        .where(Dose.id == dose.id)
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )


def _snapshot(dose: Dose) -> dict:
    return audit.snapshot(dose, Dose.AUDITED)


def route_name(route: str | None) -> str:
    names = {
        rules.ROUTE_IV: _("IV drip"),
        rules.ROUTE_LOCAL: _("Local injection"),
        rules.ROUTE_INTRATHECAL: _("Intrathecal (spinal) injection"),
    }
    return names.get(route or "", route or "")


# --------------------------------------------------------------------------- valid times


def _window_for(batch: Batch, dose: Dose | None, values: dict) -> rules.Window:
    """Dose 1: the batch window; a later dose: after the previous dose's day
    and its interval (``rules.later_dose_window``)."""
    lo, hi = values["culture_min_days"], values["culture_max_days"]
    if dose is None or dose.number == 1:
        return rules.batch_window(batch.collected_on, min_days=lo, max_days=hi)
    previous = queries.previous_dose(dose)
    if previous is None or previous.appointment is None:
        raise DomainError(_("Fix the date of the previous dose first."), code="no_previous")
    cal = scheduling_queries.clinic_calendar(values)
    return rules.later_dose_window(
        cal.local_date(previous.appointment.start_at),
        dose.interval_days or 1,
        min_days=lo,
        max_days=hi,
    )


def valid_times(
    batch: Batch,
    dose: Dose | None,
    route: str,
    *,
    now: datetime | None = None,
    for_move: Appointment | None = None,
    prefer: Callable[[date], bool] | None = None,
) -> tuple[rules.Window, list[datetime]]:
    """The window and the times that may be offered for the dose (or a new
    time for ``for_move``, the locked visit being moved: its own seats count
    as free and no lock minimum applies)."""
    now = _now(now)
    values = settings.values()
    window = _window_for(batch, dose, values)
    visit_type = (
        for_move.visit_type if for_move is not None else queries.visit_type_for_route(route)
    )
    if visit_type is None:
        return window, []
    cal = scheduling_queries.clinic_calendar(values)
    try:
        open_starts = scheduling_queries.availability(
            visit_type.code,
            window.first,
            window.days(),
            now,
            for_patient=False,
            exclude_appointment_id=for_move.id if for_move is not None else None,
        )
    except scheduling_queries.UnknownVisitType:
        return window, []
    return window, rules.valid_times(
        open_starts,
        now=now,
        tz=cal.tz,
        window=window,
        lock_min_days=None if for_move is not None else values["reinfusion_lock_min_days"],
        prefer=prefer,
    )


def _time_message(problem: rules.Problem, *, lock_min_days: int) -> str:
    return {
        rules.Problem.NONE_CHOSEN: _("Choose at least one time."),
        rules.Problem.TOO_MANY: _("Choose at most %(n)s times.", n=rules.MAX_PROPOSALS),
        rules.Problem.DUPLICATE: _("Choose different times."),
        rules.Problem.PAST: _("That time has already passed."),
        rules.Problem.OUTSIDE_WINDOW: _("That time is outside the batch's window."),
        rules.Problem.TOO_SOON: _(
            "A reinfusion date is fixed at least %(n)s days ahead.", n=lock_min_days
        ),
        rules.Problem.NOT_OPEN: _("That time is not open (closed, or no room or staff free)."),
        rules.Problem.SAME_TIME: _("The visit is already at this time."),
    }[problem]


def _route_message(problem: rules.Problem) -> str:
    if problem == rules.Problem.UNKNOWN_ROUTE:
        return _("Choose one of the routes offered.")
    return _("The patient's indication does not allow this route.")


def check_on_track(batch: Batch, *, today: date) -> None:
    at_risk = batch.state in rules.ON_TRACK_STATES and queries.batch_at_risk(batch, today=today)
    if not rules.batch_on_track(batch.state, at_risk=at_risk):
        raise DomainError(
            _(
                "Dates can be proposed only for a batch that is on track (not failed, "
                "discarded, given or at risk)."
            ),
            code="not_on_track",
        )


# --------------------------------------------------------------------------- proposals


def first_dose_for(batch: Batch, route: str, *, actor: User) -> Dose:
    """The batch's dose 1, made now if it has none (route chosen, the plan's
    cells, fresh cells)."""
    # Write the batch's row first (unchanged): two coordinators proposing for
    # one batch at once queue here, and the savepoint below runs inside an
    # open transaction (SQLite's driver commits a savepoint opened outside one).
    db.session.execute(
        update(Batch)
        .where(Batch.id == batch.id)
        .values(updated_at=Batch.updated_at)
        .execution_options(synchronize_session=False)
    )
    dose = queries.first_dose(batch.id)
    if dose is not None:
        return dose
    dose = Dose(
        course_id=batch.course_id,
        patient_id=batch.patient_id,
        batch=batch,
        number=1,
        route=route,
        planned_cells=batch.planned_dose_low,
        source=DoseSource.FRESH,
        status=DoseStatus.PLANNED,
        planned_by_id=actor.id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(dose)
            db.session.flush()
    except IntegrityError:
        # Another coordinator made it at the same moment: use theirs.
        dose = queries.first_dose(batch.id)
        if dose is None:
            raise
        return dose
    audit.record(
        actor=actor,
        action="reinfusion.dose_plan",
        entity=dose,
        after=_snapshot(dose),
        patient=batch.patient,
    )
    return dose


def propose_for_batch(
    batch: Batch,
    times: Sequence[datetime],
    route: str,
    *,
    actor: User,
    now: datetime | None = None,
) -> list[Proposal]:
    """The first proposals for a batch: its dose 1 is made if needed."""
    _require_proposer(actor)
    now = _now(now)
    _check_route(batch.course_id, route)
    dose = first_dose_for(batch, route, actor=actor)
    return propose(dose, times, route, actor=actor, now=now)


def _check_route(course_id: int, route: str) -> tuple[str, ...]:
    routes, _planned = queries.route_options(course_id)
    problem = rules.route_problem(route, routes)
    if problem is not None:
        raise DomainError(_route_message(problem), field="route", code=problem.value)
    return routes


def propose(
    dose: Dose,
    times: Sequence[datetime],
    route: str,
    *,
    actor: User,
    now: datetime | None = None,
) -> list[Proposal]:
    """Offer the patient 1-3 times for ``dose`` by ``route``: earlier open
    proposals are withdrawn, the dose is PROPOSED and the patient told."""
    _require_proposer(actor)
    now = _now(now)
    values = settings.values()
    cal = scheduling_queries.clinic_calendar(values)
    batch = dose.batch
    check_on_track(batch, today=cal.today(now))
    if not rules.can_propose(dose.status.value):
        raise DomainError(
            _("This dose's date is already confirmed; move it instead.")
            if dose.status == DoseStatus.CONFIRMED
            else _("Dates can no longer be proposed for this dose."),
            code="not_proposable",
        )
    problems: list[DomainError] = []
    try:
        _check_route(dose.course_id, route)
    except DomainError as exc:
        problems.append(exc)
    visit_type = queries.visit_type_for_route(route) if not problems else None
    if not problems and visit_type is None:
        problems.append(
            DomainError(
                _("No visit type is set up for this route. Please ask the clinic manager."),
                field="route",
            )
        )
    times = list(times)
    if not problems:
        window, valid = valid_times(batch, dose, route, now=now)
        found = rules.proposal_problems(
            times,
            now=now,
            tz=cal.tz,
            window=window,
            open_starts=valid,
            lock_min_days=values["reinfusion_lock_min_days"],
        )
        for _index, problem in found:
            problems.append(
                DomainError(
                    _time_message(problem, lock_min_days=values["reinfusion_lock_min_days"]),
                    field="times",
                    code=problem.value,
                )
            )
    if not problems:
        for day in sorted({cal.local_date(t) for t in times}):
            gate = eligibility_queries.collection_gate_for(
                dose.course, today=cal.today(now), visit_date=day
            )
            if not gate.allowed:
                problems.append(
                    DomainError(
                        _(
                            "The intake checks (approval, consent, blood tests valid on the "
                            "day) do not allow a visit on %(day)s.",
                            day=day.isoformat(),
                        ),
                        field="times",
                        code="gate_closed",
                    )
                )
                break
    _raise(problems)
    _claim_dose(dose, now)
    db.session.refresh(dose)
    if not rules.can_propose(dose.status.value):
        raise Conflict(_("This dose changed meanwhile. Please look again."), code="changed")
    before = _snapshot(dose)
    withdrawn = _withdraw_offered(dose.id, now, reason="replaced")
    dose.route = route
    dose.status = DoseStatus.PROPOSED
    proposals = [
        Proposal(
            dose=dose,
            course_id=dose.course_id,
            patient_id=dose.patient_id,
            visit_type=visit_type,
            start_at=start,
            status=ProposalStatus.OFFERED,
            proposed_by_id=actor.id,
            created_at=now,
        )
        for start in sorted(times)
    ]
    db.session.add_all(proposals)
    db.session.flush()
    old, new = audit.changes(before, _snapshot(dose))
    audit.record(
        actor=actor,
        action="reinfusion.propose",
        entity=dose,
        before={**old, "withdrawn": withdrawn},
        after={**new, "times": [p.start_at.isoformat() for p in proposals], "route": route},
        patient=dose.patient,
    )
    notify(
        dose.patient,
        "reinfusion_proposed",
        times=[p.start_at for p in proposals],
        route=route,
        lock_min_days=values["reinfusion_lock_min_days"],
        link=_public_url("reinfusion.mine"),
    )
    db.session.flush()
    return proposals


def _withdraw_offered(dose_id: int, now: datetime, *, reason: str) -> int:
    return db.session.execute(
        update(Proposal)
        .where(Proposal.dose_id == dose_id, Proposal.status == ProposalStatus.OFFERED)
        .values(status=ProposalStatus.WITHDRAWN, closed_at=now, close_reason=reason)
        .execution_options(synchronize_session="fetch")
    ).rowcount


# --------------------------------------------------------------------------- confirmation


def confirm(proposal: Proposal, *, actor: User, now: datetime | None = None) -> Dose:
    """The patient accepts ``proposal``: the visit is booked through the
    scheduling engine and locked; the other times are withdrawn; coordinators
    are told. A second submit of the same choice answers with the same dose."""
    now = _now(now)
    if not _is_own_patient(actor, proposal.patient_id):
        raise NotAllowed(_("This is not your proposal."))
    dose = proposal.dose
    if proposal.status == ProposalStatus.CHOSEN and dose.status == DoseStatus.CONFIRMED:
        return dose  # a double submit: already done
    if proposal.status != ProposalStatus.OFFERED or dose.status != DoseStatus.PROPOSED:
        raise DomainError(
            _("This time is no longer offered. Please see your reinfusion page."),
            code="withdrawn",
        )
    values = settings.values()
    cal = scheduling_queries.clinic_calendar(values)
    lock_min_days = values["reinfusion_lock_min_days"]
    if rules.days_ahead(proposal.start_at, now, cal.tz) < lock_min_days:
        raise DomainError(
            _(
                "This date is now less than %(n)s days away, too close to fix it. Please "
                "choose another of the proposed times, or wait for the clinic's new proposals.",
                n=lock_min_days,
            ),
            code="too_soon",
        )
    claimed = db.session.execute(
        update(Dose)
        .where(Dose.id == dose.id, Dose.status == DoseStatus.PROPOSED)
        .values(status=DoseStatus.CONFIRMED, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(dose)
    db.session.refresh(proposal)
    if claimed != 1:
        if proposal.status == ProposalStatus.CHOSEN and dose.status == DoseStatus.CONFIRMED:
            return dose
        raise DomainError(
            _("This time is no longer offered. Please see your reinfusion page."),
            code="withdrawn",
        )
    before = {"status": DoseStatus.PROPOSED.value, "appointment_id": None}
    try:
        appointment = scheduling.book_offered_visit(
            dose.patient,
            proposal.visit_type.code,
            proposal.start_at,
            actor=actor,
            now=now,
            template="reinfusion_confirmed",
            journey_link=_public_url("reinfusion.mine"),
        )
    except Conflict as exc:
        raise Conflict(
            _(
                "Sorry, this time was just taken. Your other proposed times are still open: "
                "please choose one of them, or wait for the clinic's new proposals."
            ),
            code="taken",
        ) from exc
    appointment.locked_at = now
    appointment.locked_by_id = actor.id
    proposal.status = ProposalStatus.CHOSEN
    proposal.closed_at = now
    _withdraw_offered(dose.id, now, reason="another_chosen")
    dose.appointment_id = appointment.id
    dose.appointment = appointment
    dose.confirmed_at = now
    dose.confirmed_by_id = actor.id
    db.session.flush()
    audit.record(
        actor=actor,
        action="reinfusion.confirm",
        entity=dose,
        before=before,
        after={
            "status": DoseStatus.CONFIRMED.value,
            "appointment_id": appointment.id,
            "start_at": appointment.start_at.isoformat(),
            "locked_at": now.isoformat(),
        },
        patient=dose.patient,
    )
    for coordinator in queries.coordinators():
        notify(
            coordinator,
            "reinfusion_confirmed_desk",
            patient=dose.patient,
            start_at=appointment.start_at,
            route=dose.route,
            link=_public_url("reinfusion.overview"),
        )
    db.session.flush()
    return dose


# --------------------------------------------------------------------------- the move


def move_locked(
    dose: Dose,
    new_start: datetime | None,
    *,
    reason: str | None,
    lab_user_id: int | None,
    actor: User,
    now: datetime | None = None,
    change_request: ChangeRequest | None = None,
) -> Appointment:
    """The one way to move a locked date: a coordinator or doctor, with a
    reason and the lab technician who agreed; inside the batch window on an
    open time (no lock minimum: the lab's agreement is that planning). The lock
    stays; the patient is told; audited with before and after."""
    now = _now(now)
    appointment = dose.appointment
    lab = db.session.get(User, lab_user_id) if lab_user_id else None
    lab_agreed = lab is not None and lab.role == Role.LAB and lab.is_active
    refusals = rules.move_refusals(
        is_locked=appointment is not None and appointment.is_locked,
        role=actor.role if actor is not None else None,
        reason=reason,
        lab_agreed=lab_agreed,
    )
    if rules.ChangeRefusal.NOT_ALLOWED in refusals:
        raise NotAllowed(_("Only a coordinator or doctor can move a locked date."))
    if rules.ChangeRefusal.NOT_LOCKED in refusals or appointment is None:
        raise DomainError(_("This dose has no locked date to move."), code="not_locked")
    if appointment.status != AppointmentStatus.BOOKED:
        raise DomainError(_("Only a booked visit can be moved."), code="not_booked")
    problems: list[DomainError] = []
    reason = _clean_reason(reason, "reason", problems)
    if rules.ChangeRefusal.NO_LAB_AGREEMENT in refusals:
        problems.append(
            DomainError(_("Choose the lab technician who agreed to the new date."), field="lab")
        )
    if new_start is None or new_start.tzinfo is None:
        problems.append(DomainError(_("Choose one of the offered times."), field="start"))
    else:
        values = settings.values()
        cal = scheduling_queries.clinic_calendar(values)
        window, valid = valid_times(dose.batch, dose, dose.route, now=now, for_move=appointment)
        if new_start == appointment.start_at:
            problem = rules.Problem.SAME_TIME
        else:
            problem = rules.time_problem(
                new_start,
                now=now,
                tz=cal.tz,
                window=window,
                open_starts=valid,
                lock_min_days=None,
            )
        if problem is not None:
            problems.append(
                DomainError(
                    _time_message(problem, lock_min_days=values["reinfusion_lock_min_days"]),
                    field="start",
                    code=problem.value,
                )
            )
    _raise(problems)
    _claim_dose(dose, now)
    previous_start = appointment.start_at
    scheduling.move_locked_visit(
        appointment,
        new_start,
        actor=actor,
        now=now,
        template="reinfusion_moved",
        reason=reason,
        journey_link=_public_url("reinfusion.mine"),
    )
    audit.record(
        actor=actor,
        action="reinfusion.move",
        entity=dose,
        before={"start_at": previous_start.isoformat()},
        after={
            "start_at": appointment.start_at.isoformat(),
            "lab_agreed_by_id": lab.id,
            "lab_agreed_by": lab.full_name,
        },
        patient=dose.patient,
        note=reason,
    )
    request = change_request or queries.open_request(dose.id)
    if request is not None and request.status == ChangeRequestStatus.OPEN:
        if request.dose_id != dose.id:
            raise DomainError(_("This request is about another dose."))
        _close_request(request, ChangeRequestStatus.MOVED, answer=reason, actor=actor, now=now)
    db.session.flush()
    return appointment


# --------------------------------------------------------------------------- change requests


def request_change(
    dose: Dose, reason: str | None, *, actor: User, now: datetime | None = None
) -> ChangeRequest:
    """The patient asks to move their locked date, with a reason; active
    coordinators are told. One open request per dose."""
    now = _now(now)
    if not _is_own_patient(actor, dose.patient_id):
        raise NotAllowed(_("This is not your reinfusion."))
    appointment = dose.appointment
    if appointment is None or not appointment.is_locked:
        raise DomainError(_("This date is not fixed yet: choose a proposed time instead."))
    if appointment.status != AppointmentStatus.BOOKED or appointment.start_at <= now:
        raise DomainError(_("This visit can no longer be changed."))
    problems: list[DomainError] = []
    reason = _clean_reason(reason, "reason", problems)
    _raise(problems)
    _claim_dose(dose, now)
    if queries.open_request(dose.id) is not None:
        raise DomainError(
            _("You have already asked for a change. The clinic will answer you soon."),
            code="already_open",
        )
    request = ChangeRequest(
        dose=dose,
        appointment=appointment,
        course_id=dose.course_id,
        patient_id=dose.patient_id,
        reason=reason,
        status=ChangeRequestStatus.OPEN,
        created_at=now,
        created_by_id=actor.id,
    )
    db.session.add(request)
    db.session.flush()
    audit.record(
        actor=actor,
        action="reinfusion.change_request",
        entity=request,
        after=audit.snapshot(request, ChangeRequest.AUDITED),
        patient=dose.patient,
    )
    for coordinator in queries.coordinators():
        notify(
            coordinator,
            "reinfusion_change_requested",
            patient=dose.patient,
            start_at=appointment.start_at,
            reason=reason,
            link=_public_url("reinfusion.change_request", request_id=request.id),
        )
    db.session.flush()
    return request


def decline_change(
    request: ChangeRequest, answer: str | None, *, actor: User, now: datetime | None = None
) -> ChangeRequest:
    """Keep the date: the coordinator's answer goes to the patient."""
    _require_proposer(actor, _("Only a coordinator or doctor can answer a change request."))
    now = _now(now)
    if request.status != ChangeRequestStatus.OPEN:
        raise DomainError(_("This request has already been answered."), code="answered")
    problems: list[DomainError] = []
    answer = (answer or "").strip()
    if not answer:
        problems.append(DomainError(_("Write the answer the patient will read."), field="answer"))
    elif len(answer) > REASON_MAX:
        problems.append(
            DomainError(_("Keep it under %(n)s characters.", n=REASON_MAX), field="answer")
        )
    _raise(problems)
    _claim_dose(request.dose, now)
    db.session.refresh(request)
    if request.status != ChangeRequestStatus.OPEN:
        raise DomainError(_("This request has already been answered."), code="answered")
    _close_request(request, ChangeRequestStatus.DECLINED, answer=answer, actor=actor, now=now)
    notify(
        request.patient,
        "reinfusion_change_declined",
        start_at=request.appointment.start_at,
        answer=answer,
        link=_public_url("reinfusion.mine"),
    )
    db.session.flush()
    return request


def _close_request(
    request: ChangeRequest,
    status: ChangeRequestStatus,
    *,
    answer: str,
    actor: User | None,
    now: datetime,
) -> None:
    before = audit.snapshot(request, ChangeRequest.AUDITED)
    request.status = status
    request.answer = answer
    request.handled_at = now
    request.handled_by_id = actor.id if actor is not None else None
    old, new = audit.changes(before, audit.snapshot(request, ChangeRequest.AUDITED))
    audit.record(
        actor=actor,
        action="reinfusion.change_request_answer",
        entity=request,
        before=old,
        after=new,
        patient=request.patient,
    )


# --------------------------------------------------------------------------- a failed batch


def cancel_for_failed_batch(batch: Batch, *, actor: User | None, now: datetime) -> list[Dose]:
    """DOMAIN rule 10, the reinfusion side: the batch's open proposals are
    withdrawn, its doses not yet given are cancelled with the reason, open
    change requests are closed. (The visits themselves are cancelled by
    ``cultures.services._after_failure`` through the scheduling engine.)"""
    doses = list(
        db.session.execute(
            select(Dose).where(
                Dose.batch_id == batch.id,
                Dose.status.in_((DoseStatus.PLANNED, DoseStatus.PROPOSED, DoseStatus.CONFIRMED)),
            )
        ).scalars()
    )
    with force_locale(batch.patient.locale):
        reason = _("The cells could not be grown for this treatment")
    for dose in doses:
        before = _snapshot(dose)
        withdrawn = _withdraw_offered(dose.id, now, reason="batch_failed")
        dose.status = DoseStatus.CANCELLED
        dose.cancelled_at = now
        dose.cancel_reason = reason
        old, new = audit.changes(before, _snapshot(dose))
        audit.record(
            actor=actor,
            action="reinfusion.dose_cancel",
            entity=dose,
            before={**old, "withdrawn": withdrawn},
            after=new,
            patient=batch.patient,
        )
        request = queries.open_request(dose.id)
        if request is not None:
            _close_request(
                request, ChangeRequestStatus.DECLINED, answer=reason, actor=actor, now=now
            )
    db.session.flush()
    return doses
