"""Changing the reinfusion day's records: the dose plan, the doctor's
clearance, the bedside identity check and the administration.

Every function checks its actor and the rules (``day`` and ``doses``, pure),
writes, leaves an audit row and flushes; the caller commits (or rolls back
on ``DomainError``). Any refusal raises before anything is written, so a
refused form leaves nothing behind — except a bedside mismatch, which is
itself the record (stored, blocking, alerted).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from intake.accounts.models import User
from intake.accounts.roles import Role
from intake.core import audit, settings
from intake.core.errors import DomainError, FormErrors, NotAllowed
from intake.core.types import utcnow
from intake.cultures import coi, labels, lifecycle
from intake.cultures import queries as cultures_queries
from intake.cultures import services as cultures
from intake.cultures.models import Batch
from intake.eligibility import queries as eligibility_queries
from intake.eligibility.models import Decision as ReviewDecision
from intake.eligibility.models import Indication
from intake.eligibility.question_bank import ROUTES
from intake.eligibility.services import reference
from intake.extensions import db
from intake.notifications.services import notify
from intake.reinfusion import aftercare_services, day
from intake.reinfusion import doses as dose_rules
from intake.reinfusion.models import (
    Administration,
    BedsideCheck,
    Clearance,
    Decision,
    Dose,
    DoseSource,
    DoseStatus,
)
from intake.scheduling import front_desk as scheduling_desk
from intake.scheduling import queries as scheduling_queries
from intake.scheduling.models import Appointment, AppointmentStatus, VisitType
from intake.scheduling.visit_kinds import VisitKind, is_reinfusion

TEXT_MAX = 2000
ROUTE_CODES = tuple(route.code for route in ROUTES)
#: Who may record a bedside identity check: the doctor, or the nurse at the desk.
BEDSIDE_ROLES = (Role.DOCTOR, Role.COORDINATOR)


def _now(now: datetime | None) -> datetime:
    return now or utcnow()


def _require_doctor(actor: User | None, message: str) -> None:
    if actor is None or actor.role != Role.DOCTOR:
        raise NotAllowed(message)


def _snapshot(obj) -> dict:
    return audit.snapshot(obj, obj.AUDITED)


def _problems(found: list[day.Problem]) -> None:
    """Raise the pure rules' problems, translated, each beside its field."""
    errors = [DomainError(p.text(_), field=p.field, code=p.code) for p in found]
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise FormErrors(errors)


def _clean(value: str | None, field: str) -> str | None:
    text = (value or "").strip()
    if "\x00" in text or len(text) > TEXT_MAX:
        raise DomainError(_("This text is too long or not allowed."), field=field)
    return text or None


def _link(endpoint: str, **values) -> str:
    adapter = current_app.url_map.bind("localhost", script_name="/")
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + adapter.build(endpoint, values)


# ------------------------------------------------------------------ reading what the rules need


def dose_for_visit(appointment: Appointment) -> Dose | None:
    return db.session.execute(
        select(Dose).where(Dose.appointment_id == appointment.id)
    ).scalar_one_or_none()


def batch_doses(batch: Batch) -> list[Dose]:
    return list(
        db.session.execute(
            select(Dose).where(Dose.batch_id == batch.id).order_by(Dose.number)
        ).scalars()
    )


def allowed_routes(course) -> tuple[str, ...]:
    """The routes the course's approved indication allows (the doctor's
    review); every route when none is on record."""
    questionnaire = eligibility_queries.current_questionnaire(course.id)
    review = eligibility_queries.last_decision_for(questionnaire.id) if questionnaire else None
    if review is None or review.decision != ReviewDecision.APPROVED or not review.indication_code:
        return ROUTE_CODES
    indication = db.session.execute(
        select(Indication).where(Indication.code == review.indication_code)
    ).scalar_one_or_none()
    routes = tuple(r for r in (indication.routes if indication else ()) if r in ROUTE_CODES)
    return routes or ROUTE_CODES


def latest_clearance(appointment: Appointment) -> Clearance | None:
    return db.session.execute(
        select(Clearance)
        .where(Clearance.appointment_id == appointment.id)
        .order_by(Clearance.signed_at.desc(), Clearance.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def latest_bedside_check(appointment: Appointment) -> BedsideCheck | None:
    return db.session.execute(
        select(BedsideCheck)
        .where(BedsideCheck.appointment_id == appointment.id)
        .order_by(BedsideCheck.checked_at.desc(), BedsideCheck.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def todays_visits(now: datetime) -> list[tuple[Appointment, Dose | None]]:
    """Today's reinfusion visits (clinic-local day), not cancelled, each with
    its dose when one is linked: one query."""
    cal = scheduling_queries.clinic_calendar()
    today = cal.today(now)
    kinds = [kind for kind in VisitKind if is_reinfusion(kind)]
    rows = db.session.execute(
        select(Appointment, Dose)
        .join(VisitType, Appointment.visit_type_id == VisitType.id)
        .outerjoin(Dose, Dose.appointment_id == Appointment.id)
        .options(joinedload(Appointment.patient))
        .where(
            VisitType.kind.in_(kinds),
            Appointment.start_at >= cal.day_start(today),
            Appointment.start_at < cal.day_start(today + timedelta(days=1)),
            Appointment.status != AppointmentStatus.CANCELLED,
        )
        .order_by(Appointment.start_at, Appointment.id)
    ).all()
    return [(appointment, dose) for appointment, dose in rows]


def day_facts(appointment: Appointment, dose: Dose, now: datetime) -> day.DayFacts:
    """What the administration guard needs about this visit, now."""
    cal = scheduling_queries.clinic_calendar()
    clearance = latest_clearance(appointment)
    bedside = latest_bedside_check(appointment)
    earlier = sum(
        1
        for other in batch_doses(dose.batch)
        if other.number < dose.number and other.status.value in dose_rules.TO_GIVE
    )
    return day.DayFacts(
        today=cal.today(now),
        visit_day=cal.local_date(appointment.start_at),
        appointment_status=appointment.status.value,
        batch_state=dose.batch.state.value,
        dose_status=dose.status.value,
        dose_route=dose.route,
        earlier_doses_pending=earlier,
        clearance=day.Check(
            cal.local_date(clearance.signed_at),
            clearance.decision == Decision.GO,
            by_doctor=clearance.doctor.role == Role.DOCTOR,
        )
        if clearance
        else None,
        bedside=day.Check(cal.local_date(bedside.checked_at), bedside.matched) if bedside else None,
    )


def _visit_dose(appointment: Appointment) -> Dose:
    """The visit's dose, not yet given (a clearance or a check after the
    administration would mean nothing)."""
    dose = dose_for_visit(appointment)
    if dose is None:
        raise DomainError(_("This visit is not a reinfusion of a planned dose."))
    if dose.status == DoseStatus.ADMINISTERED:
        raise DomainError(_(day.MSG_DOSE_GIVEN))
    return dose


# ------------------------------------------------------------------ the dose plan


@dataclass(frozen=True)
class PlannedDose:
    route: str | None
    cells: int | None
    interval_days: int | None = None


def plan_doses(
    batch: Batch,
    *,
    doses: list[PlannedDose | tuple],
    reason: str | None = None,
    actor: User,
    now: datetime | None = None,
) -> list[Dose]:
    """A doctor plans the batch's doses (1 to ``doses.MAX_DOSES``): each one's
    route, cells and days after the previous (``doses``: ``PlannedDose``
    or ``(route, cells, interval_days)`` tuples, dose 1 first). Doses already confirmed or given
    keep their values; a dose 1 made with the first proposal is kept with its
    status. Shortening the plan cancels the planned doses past its end. The
    batch's ``later_doses`` then counts the doses still to give after the next."""
    now = _now(now)
    _require_doctor(actor, _("Only a doctor can plan the doses."))
    if not lifecycle.is_open(batch.state) or batch.state == lifecycle.BatchState.FAILED:
        raise DomainError(_("This batch is closed: its doses can no longer be planned."))
    entries = [
        dose_rules.Entry(
            *(item if isinstance(item, tuple) else (item.route, item.cells, item.interval_days))
        )
        for item in doses
    ]
    reason_text = _clean(reason, "reason")
    existing = batch_doses(batch)
    values = settings.values()
    _problems(
        dose_rules.plan_problems(
            entries,
            existing=[
                dose_rules.Existing(
                    d.number, d.status.value, d.route, d.planned_cells, d.interval_days
                )
                for d in existing
            ],
            allowed_routes=allowed_routes(batch.course),
            planned_low=batch.planned_dose_low,
            planned_high=batch.planned_dose_high,
            max_dose_cells=values["max_dose_cells"],
            reason=reason_text,
        )
    )
    by_number = {d.number: d for d in existing}
    result: list[Dose] = []
    for number, entry in enumerate(entries, start=1):
        dose = by_number.get(number)
        if dose is not None and dose.status not in (
            DoseStatus.PLANNED,
            DoseStatus.PROPOSED,
            DoseStatus.CANCELLED,
        ):
            result.append(dose)
            continue
        before = _snapshot(dose) if dose is not None else None
        if dose is None:
            dose = Dose(
                course_id=batch.course_id,
                patient_id=batch.patient_id,
                batch=batch,
                number=number,
                status=DoseStatus.PLANNED,
                created_at=now,
            )
            db.session.add(dose)
        elif dose.status == DoseStatus.CANCELLED:
            dose.status, dose.cancelled_at, dose.cancel_reason = DoseStatus.PLANNED, None, None
        dose.route = entry.route
        dose.planned_cells = entry.cells
        dose.interval_days = entry.interval_days if number > 1 else None
        dose.source = DoseSource(dose_rules.source_for(number))
        dose.over_cap_reason = reason_text if entry.cells > values["max_dose_cells"] else None
        dose.planned_by_id = actor.id
        after = _snapshot(dose)
        if before is None or audit.changes(before, after)[1]:
            old, new = audit.changes(before, after) if before else (None, after)
            audit.record(
                actor=actor,
                action="reinfusion.dose_plan",
                entity=dose,
                before=old,
                after=new,
                patient=batch.patient,
            )
        result.append(dose)
    for dose in existing:
        if dose.number > len(entries) and dose.status == DoseStatus.PLANNED:
            before = _snapshot(dose)
            dose.status = DoseStatus.CANCELLED
            dose.cancelled_at = now
            dose.cancel_reason = _("Removed from the dose plan.")
            old, new = audit.changes(before, _snapshot(dose))
            audit.record(
                actor=actor,
                action="reinfusion.dose_cancel",
                entity=dose,
                before=old,
                after=new,
                patient=batch.patient,
            )
    _set_later_doses(batch, actor=actor, doses_now=result)
    db.session.flush()
    return result


def _set_later_doses(batch: Batch, *, actor: User, doses_now: list[Dose]) -> None:
    to_give = sum(1 for d in doses_now if d.status.value in dose_rules.TO_GIVE)
    later = dose_rules.later_doses(to_give)
    if batch.later_doses != later:
        before = {"later_doses": batch.later_doses}
        batch.later_doses = later
        audit.record(
            actor=actor,
            action="reinfusion.later_doses",
            entity=batch,
            before=before,
            after={"later_doses": later},
            patient=batch.patient,
        )


# ------------------------------------------------------------------ the clearance


def record_clearance(
    appointment: Appointment,
    *,
    systolic: int | None,
    diastolic: int | None,
    pulse: int | None,
    temperature_c: Decimal | None,
    spo2: int | None,
    decision: Decision | str | None,
    reason: str | None,
    password: str,
    actor: User,
    now: datetime | None = None,
) -> Clearance:
    """The doctor's same-day clearance: vital signs, go or no-go (a no-go with
    a reason), signed by re-entering their password. Every problem at once."""
    now = _now(now)
    _require_doctor(actor, _("Only a doctor can clear a patient."))
    dose = _visit_dose(appointment)
    cal = scheduling_queries.clinic_calendar()
    if cal.local_date(appointment.start_at) != cal.today(now):
        raise DomainError(_("A patient can be cleared only on the day of the visit."))
    errors: list[DomainError] = []
    try:
        choice = Decision(decision)
    except ValueError:
        choice = None
        errors.append(DomainError(_("Choose cleared or not cleared."), field="decision"))
    try:
        reason_text = _clean(reason, "reason")
    except DomainError as exc:
        reason_text = None
        errors.append(exc)
    vitals = day.Vitals(systolic, diastolic, pulse, temperature_c, spo2)
    found = day.clearance_problems(vitals, go=choice != Decision.NO_GO, reason=reason_text)
    if choice is None:
        found = day.vital_problems(vitals)
    errors += [DomainError(p.text(_), field=p.field, code=p.code) for p in found]
    if not password or not actor.check_password(password):
        errors.append(
            DomainError(
                _("The password is not correct, so nothing was signed. Please try again."),
                field="password",
            )
        )
    if errors:
        raise errors[0] if len(errors) == 1 else FormErrors(errors)
    clearance = Clearance(
        appointment_id=appointment.id,
        dose_id=dose.id,
        course_id=appointment.course_id,
        patient_id=appointment.patient_id,
        doctor=actor,
        systolic=systolic,
        diastolic=diastolic,
        pulse=pulse,
        temperature_c=temperature_c,
        spo2=spo2,
        decision=choice,
        reason=reason_text,
        signed_at=now,
    )
    db.session.add(clearance)
    db.session.flush()
    audit.record(
        actor=actor,
        action="reinfusion.clearance",
        entity=clearance,
        after=_snapshot(clearance),
        patient=appointment.patient,
    )
    db.session.flush()
    return clearance


# ------------------------------------------------------------------ the bedside identity check

MISMATCH_OTHER_BATCH = "other_batch"
MISMATCH_UNKNOWN = "unknown_batch"
MISMATCH_NAME = "name"
MISMATCH_BIRTH = "birth_date"


def record_bedside_check(
    appointment: Appointment,
    *,
    label_text: str | None,
    name: str | None,
    date_of_birth: date | None,
    actor: User,
    now: datetime | None = None,
) -> BedsideCheck:
    """The batch label (scanned or typed; a wrong check character is a typing
    error: refused, nothing stored) and the patient's two identifiers read at
    the bedside, against the dose's batch and the patient. A mismatch is
    stored, blocks the administration and alerts every active manager and lab
    user."""
    now = _now(now)
    if actor is None or actor.role not in BEDSIDE_ROLES:
        raise NotAllowed(_("Only a doctor or a nurse can check the identity at the bedside."))
    dose = _visit_dose(appointment)
    cal = scheduling_queries.clinic_calendar()
    if cal.local_date(appointment.start_at) != cal.today(now):
        raise DomainError(_("The bedside check is made on the day of the visit."))
    errors: list[DomainError] = []
    number = None
    try:
        number = coi.parse(label_text or "")
    except coi.CoiError as exc:
        errors.append(DomainError(exc.text(_), field="label", code=str(exc.code)))
    try:
        entered = _clean(name, "name")
        if not entered or len(entered) > 200:
            errors.append(DomainError(_("Enter the patient's name as read."), field="name"))
    except DomainError as exc:
        entered = None
        errors.append(exc)
    if date_of_birth is None:
        errors.append(DomainError(_("Enter the date of birth."), field="date_of_birth"))
    if errors:
        raise errors[0] if len(errors) == 1 else FormErrors(errors)
    batch = cultures_queries.batch_by_number(number)
    patient = appointment.patient
    names = labels.name_forms(
        patient.family_name, patient.given_name, patient.family_name_latin, patient.given_name_latin
    )
    why = []
    if batch is None:
        why.append(MISMATCH_UNKNOWN)
    elif batch.id != dose.batch_id:
        why.append(MISMATCH_OTHER_BATCH)
    if labels.normalise_name(entered) not in names:
        why.append(MISMATCH_NAME)
    if patient.date_of_birth is None or date_of_birth != patient.date_of_birth:
        why.append(MISMATCH_BIRTH)
    matched = not why and labels.identity_matches(
        entered, date_of_birth, names=names, birth_date=patient.date_of_birth
    )
    check = BedsideCheck(
        appointment_id=appointment.id,
        dose_id=dose.id,
        course_id=appointment.course_id,
        patient_id=patient.id,
        label_read=(label_text or "").strip()[:40],
        batch_id=batch.id if batch else None,
        name_read=entered,
        date_of_birth_read=date_of_birth,
        matched=matched,
        mismatch=",".join(why) or None,
        checked_by=actor,
        checked_at=now,
    )
    db.session.add(check)
    db.session.flush()
    audit.record(
        actor=actor,
        action="reinfusion.bedside_check",
        entity=check,
        after=_snapshot(check),
        patient=patient,
    )
    if not matched:
        # The lab opens the batch; the managers the visit's checklist.
        links = {
            Role.LAB: _link("cultures.batch", batch_id=dose.batch_id),
            Role.MANAGER: _link("reinfusion_day.visit", appointment_id=appointment.id),
        }
        for user in _alerted():
            notify(
                user,
                "reinfusion_day_identity_mismatch",
                coi=coi.format(number),
                expected=dose.batch.coi,
                checked_by=actor.full_name,
                checked_at=now,
                link=links[user.role],
            )
    db.session.flush()
    return check


def _alerted() -> list[User]:
    return list(
        db.session.execute(
            select(User)
            .where(User.role.in_((Role.MANAGER, Role.LAB)), User.is_active)
            .order_by(User.id)
        ).scalars()
    )


# ------------------------------------------------------------------ the administration


def route_label(code: str) -> str:
    """The route's name in the reader's language."""
    return reference.route_label(code, str(get_locale() or "en"))


def check_administration(
    appointment: Appointment,
    entry: day.AdministrationEntry,
    *,
    now: datetime,
) -> Dose:
    """Every reason the administration may not be recorded, at once."""
    dose = _visit_dose(appointment)
    values = settings.values()
    _problems(
        day.administration_problems(
            day_facts(appointment, dose, now),
            entry,
            now=now,
            observation_minutes=values["observation_minutes"],
            max_dose_cells=values["max_dose_cells"],
            route_label=route_label(dose.route),
        )
    )
    return dose


def record_administration(
    appointment: Appointment,
    *,
    route: str | None,
    cells_given: int | None,
    started_at: datetime | None,
    ended_at: datetime | None,
    observed_until: datetime | None,
    systolic_after: int | None,
    diastolic_after: int | None,
    pulse_after: int | None,
    temperature_c_after: Decimal | None,
    spo2_after: int | None,
    over_cap_reason: str | None = None,
    note: str | None = None,
    actor: User,
    now: datetime | None = None,
) -> Administration:
    """The doctor records the administration: only after release, a matching
    bedside check and a go today, with the route, cells, times, observation and
    vital signs after (``day.administration_problems``). The dose becomes
    given, the visit completed, and the batch cryopreserved (later doses
    remain) or administered (the last)."""
    now = _now(now)
    _require_doctor(actor, _("Only a doctor can record an administration."))
    reason_text = _clean(over_cap_reason, "over_cap_reason")
    note_text = _clean(note, "note")
    entry = day.AdministrationEntry(
        route=route,
        cells_given=cells_given,
        started_at=started_at,
        ended_at=ended_at,
        observed_until=observed_until,
        vitals_after=day.Vitals(
            systolic_after, diastolic_after, pulse_after, temperature_c_after, spo2_after
        ),
        over_cap_reason=reason_text,
    )
    dose = check_administration(appointment, entry, now=now)
    values = settings.values()
    clearance = latest_clearance(appointment)
    bedside = latest_bedside_check(appointment)
    administration = Administration(
        dose=dose,
        appointment=appointment,
        batch_id=dose.batch_id,
        course_id=appointment.course_id,
        patient_id=appointment.patient_id,
        clearance_id=clearance.id,
        bedside_check_id=bedside.id,
        route=route,
        cells_given=cells_given,
        over_cap_reason=reason_text if cells_given > values["max_dose_cells"] else None,
        started_at=started_at,
        ended_at=ended_at,
        observed_until=observed_until,
        systolic_after=systolic_after,
        diastolic_after=diastolic_after,
        pulse_after=pulse_after,
        temperature_c_after=temperature_c_after,
        spo2_after=spo2_after,
        note=note_text,
        given_by=actor,
        recorded_at=now,
    )
    db.session.add(administration)
    db.session.flush()
    audit.record(
        actor=actor,
        action="reinfusion.administration",
        entity=administration,
        after=_snapshot(administration),
        patient=appointment.patient,
    )
    before = _snapshot(dose)
    dose.status = DoseStatus.ADMINISTERED
    old, new = audit.changes(before, _snapshot(dose))
    audit.record(
        actor=actor,
        action="reinfusion.dose_given",
        entity=dose,
        before=old,
        after=new,
        patient=appointment.patient,
    )
    scheduling_desk.mark_completed(appointment, actor=actor, now=now)
    remaining = sum(
        1
        for other in batch_doses(dose.batch)
        if other.id != dose.id and other.status.value in dose_rules.TO_GIVE
    )
    batch = dose.batch
    total = max(d.number for d in batch_doses(batch) if d.status != DoseStatus.CANCELLED)
    cultures.record_dose_given(
        batch,
        cells_given=cells_given,
        remaining=remaining,
        target=dose_rules.state_after_dose(remaining),
        actor=actor,
        override_reason=reason_text,
        note=_("Dose %(number)s of %(total)s given.", number=dose.number, total=total),
        now=now,
    )
    # The follow-up contacts (1 week, 1, 3, 6 months by default) become the
    # coordinators' tasks and the patient's questionnaires.
    aftercare_services.schedule_follow_ups(administration, actor=actor, now=now)
    db.session.flush()
    return administration
