"""After a reinfusion: follow-up contacts and adverse events (DOMAIN step 5
and rule 11). The rules are in the pure ``aftercare`` module.

Every function checks its actor and input, writes, leaves an audit row and
flushes; the caller commits (or rolls back on ``DomainError``). "Once" rules
(a follow-up answered once, closed once, a patient invited once, an event
acknowledged or reported once) are atomic ``UPDATE … WHERE`` statements whose
row count decides, so two requests racing cannot both win.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from intake.accounts.models import User
from intake.accounts.roles import Role
from intake.core import audit, settings
from intake.core.claims import claim_once
from intake.core.errors import Conflict, DomainError, FormErrors, NotAllowed
from intake.core.types import utcnow
from intake.extensions import db
from intake.notifications.services import notify
from intake.patients.models import Patient
from intake.patients.services import current_course
from intake.reinfusion import aftercare
from intake.reinfusion.models import (
    Administration,
    AdverseEvent,
    FollowUp,
    FollowUpStatus,
    Seriousness,
)
from intake.scheduling import queries as scheduling_queries

TEXT_MAX = 4000
REFERENCE_MAX = 120
NOTE_MAX = 2000

#: Who records an adverse event.
AE_RECORDERS = (Role.DOCTOR, Role.COORDINATOR)
#: Who marks an event reported to the authority.
AE_REPORTERS = (Role.DOCTOR, Role.MANAGER)
#: Who closes a follow-up contact.
FOLLOW_UP_STAFF = (Role.COORDINATOR, Role.DOCTOR)


def _now(now: datetime | None) -> datetime:
    return now or utcnow()


def _today(now: datetime) -> date:
    return scheduling_queries.clinic_calendar().today(now)


def given_on(administration: Administration) -> date:
    """The clinic-local day the cells were given."""
    return scheduling_queries.clinic_calendar().local_date(administration.started_at)


def _snapshot(obj) -> dict:
    return audit.snapshot(obj, obj.AUDITED)


def _staff(role: Role) -> list[User]:
    return list(
        db.session.execute(
            select(User).where(User.role == role, User.is_active).order_by(User.id)
        ).scalars()
    )


def _public_url(endpoint: str, **values) -> str:
    """An absolute link for messages, also outside a request."""
    adapter = current_app.url_map.bind("localhost", script_name="/")
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + adapter.build(endpoint, values)


def _problems(found: dict[str, aftercare.Problem]) -> list[DomainError]:
    return [DomainError(_(p.message, **p.params), field=name) for name, p in found.items()]


def _clean(value: str | None, field: str, *, max_length: int, required: bool, problems: list):
    text = (value or "").strip()
    if "\x00" in text:
        problems.append(
            DomainError(_("This text contains characters that cannot be stored."), field=field)
        )
        return None
    if len(text) > max_length:
        problems.append(
            DomainError(_("Please keep this under %(n)s characters.", n=max_length), field=field)
        )
        return None
    if required and not text:
        problems.append(DomainError(_("This field is required."), field=field))
        return None
    return text or None


# --------------------------------------------------------------------------- follow-up contacts


def schedule_follow_ups(
    administration: Administration, *, actor: User | None, now: datetime | None = None
) -> list[FollowUp]:
    """One contact per ``follow_up_days`` offset after the day the cells were
    given. Idempotent: contacts already there are kept (the unique
    ``(administration_id, days_after)`` decides, also against a racing call).
    Returns the contacts made now."""
    if actor is not None and actor.role not in (Role.DOCTOR, Role.COORDINATOR, Role.MANAGER):
        raise NotAllowed(_("Only clinic staff can schedule follow-up contacts."))
    now = _now(now)
    existing = set(
        db.session.execute(
            select(FollowUp.days_after).where(FollowUp.administration_id == administration.id)
        ).scalars()
    )
    made = []
    for days, due_on in aftercare.follow_up_schedule(
        given_on(administration), settings.get("follow_up_days")
    ):
        if days in existing:
            continue
        follow_up = FollowUp(
            administration_id=administration.id,
            course_id=administration.course_id,
            patient_id=administration.patient_id,
            days_after=days,
            due_on=due_on,
            status=FollowUpStatus.OPEN,
            created_at=now,
        )
        try:
            with db.session.begin_nested():
                db.session.add(follow_up)
                db.session.flush()
        except IntegrityError:
            continue  # made by a call that ran at the same time
        audit.record(
            actor=actor,
            action="aftercare.follow_up_schedule",
            entity=follow_up,
            after=_snapshot(follow_up),
            patient=administration.patient,
        )
        made.append(follow_up)
    db.session.flush()
    return made


def schedule_missing_follow_ups(*, now: datetime | None = None) -> int:
    """Contacts for every administration that has none yet (the nightly
    catch-up behind ``flask send-follow-ups``). Returns how many were made."""
    has_any = select(FollowUp.id).where(FollowUp.administration_id == Administration.id).exists()
    missing = db.session.execute(select(Administration).where(~has_any)).scalars().all()
    return sum(len(schedule_follow_ups(a, actor=None, now=now)) for a in missing)


def send_follow_up_invitations(now: datetime | None = None) -> int:
    """Tell each patient whose contact is due today or earlier, still open,
    not answered and not yet invited, that the questionnaire is open (inbox
    and e-mail, in their language). Once per contact. Returns how many."""
    now = _now(now)
    today = _today(now)
    due = (
        db.session.execute(
            select(FollowUp)
            .where(
                FollowUp.status == FollowUpStatus.OPEN,
                FollowUp.due_on <= today,
                FollowUp.invited_at.is_(None),
                FollowUp.answered_at.is_(None),
            )
            .order_by(FollowUp.due_on, FollowUp.id)
        )
        .scalars()
        .all()
    )
    sent = 0
    for follow_up in due:
        if not claim_once(follow_up, "invited_at", now):
            continue
        notify(
            follow_up.patient,
            "aftercare_follow_up_open",
            follow_up=follow_up,
            link=_public_url("aftercare.questionnaire", follow_up_id=follow_up.id),
        )
        audit.record(
            actor=None,
            action="aftercare.follow_up_invite",
            entity=follow_up,
            after={"invited_at": now},
            patient=follow_up.patient,
        )
        sent += 1
    db.session.flush()
    return sent


def _owns(actor: User | None, follow_up: FollowUp) -> bool:
    own = getattr(actor, "patient", None) if actor is not None else None
    return (
        actor is not None
        and actor.role == Role.PATIENT
        and own is not None
        and own.id == follow_up.patient_id
    )


def answer_follow_up(
    follow_up: FollowUp, answers, *, actor: User, now: datetime | None = None
) -> list[str]:
    """The patient's answers to the short questionnaire: their own contact
    only, from its day, once. Returns the alerts the answers raise (each
    active coordinator is told when there is one)."""
    if not _owns(actor, follow_up):
        raise NotAllowed(_("Only the patient can answer their own follow-up questions."))
    now = _now(now)
    today = _today(now)
    if follow_up.answered_at is not None or follow_up.status != FollowUpStatus.OPEN:
        raise Conflict(_("These questions have already been answered or closed. Thank you."))
    if today < follow_up.due_on:
        raise DomainError(_("These questions open on %(day)s.", day=follow_up.due_on.isoformat()))
    clean, found = aftercare.validate_answers(answers)
    if found:
        raise FormErrors(_problems(found))
    before = _snapshot(follow_up)
    taken = db.session.execute(
        update(FollowUp)
        .where(
            FollowUp.id == follow_up.id,
            FollowUp.answered_at.is_(None),
            FollowUp.status == FollowUpStatus.OPEN,
        )
        .values(answers=clean, answered_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        raise Conflict(_("These questions have already been answered or closed. Thank you."))
    db.session.refresh(follow_up)
    flags = aftercare.alerts(clean)
    old, new = audit.changes(before, _snapshot(follow_up))
    audit.record(
        actor=actor,
        action="aftercare.follow_up_answer",
        entity=follow_up,
        before=old,
        after=new,
        patient=follow_up.patient,
        note=",".join(flags) or None,
    )
    if flags:
        link = _public_url("aftercare.follow_ups")
        for coordinator in _staff(Role.COORDINATOR):
            notify(
                coordinator,
                "aftercare_follow_up_alert",
                follow_up=follow_up,
                patient=follow_up.patient,
                flags=[aftercare.ALERT_LABELS[f] for f in flags],
                link=link,
            )
    db.session.flush()
    return flags


def close_follow_up(
    follow_up: FollowUp,
    *,
    status: FollowUpStatus | str,
    note: str | None,
    actor: User,
    now: datetime | None = None,
) -> None:
    """A coordinator (or doctor) closes a contact: done, or unreachable (with
    a note saying what was tried). From the contact's day, once."""
    if actor is None or actor.role not in FOLLOW_UP_STAFF:
        raise NotAllowed(_("Only coordinators and doctors can close a follow-up contact."))
    now = _now(now)
    problems: list[DomainError] = []
    try:
        status = FollowUpStatus(status)
    except ValueError:
        status = None
    if status not in (FollowUpStatus.DONE, FollowUpStatus.UNREACHABLE):
        problems.append(DomainError(_("Choose done or unreachable."), field="status"))
    text = _clean(
        note,
        "note",
        max_length=NOTE_MAX,
        required=status == FollowUpStatus.UNREACHABLE,
        problems=problems,
    )
    if problems:
        raise FormErrors(problems)
    if _today(now) < follow_up.due_on:
        raise DomainError(
            _("This contact is not due yet (due %(day)s).", day=follow_up.due_on.isoformat()),
            field="status",
        )
    before = _snapshot(follow_up)
    taken = db.session.execute(
        update(FollowUp)
        .where(FollowUp.id == follow_up.id, FollowUp.status == FollowUpStatus.OPEN)
        .values(status=status, note=text, contacted_at=now, contacted_by_id=actor.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        raise Conflict(_("This contact was already closed."))
    db.session.refresh(follow_up)
    old, new = audit.changes(before, _snapshot(follow_up))
    audit.record(
        actor=actor,
        action="aftercare.follow_up_close",
        entity=follow_up,
        before=old,
        after=new,
        patient=follow_up.patient,
    )
    db.session.flush()


# --------------------------------------------------------------------------- adverse events


def report_due_on(seriousness: Seriousness | str, known_on: date) -> date | None:
    """The reporting deadline under the clinic's current settings."""
    values = settings.values()
    return aftercare.report_due_on(
        Seriousness(seriousness).value,
        known_on,
        days_fatal=values["ae_report_days_fatal"],
        days_serious=values["ae_report_days_serious"],
    )


def record_adverse_event(
    patient: Patient,
    *,
    description: str | None,
    began_on: date | None,
    known_on: date | None,
    seriousness: Seriousness | str | None,
    actor: User,
    administration: Administration | None = None,
    now: datetime | None = None,
) -> AdverseEvent:
    """A doctor or coordinator records an event: what, when it began, when
    the clinic learnt of it, how serious. The reporting deadline is computed
    (rule 11); the lab is asked to tell the CPC, and managers are told."""
    if actor is None or actor.role not in AE_RECORDERS:
        raise NotAllowed(_("Only doctors and coordinators can record an adverse event."))
    now = _now(now)
    problems: list[DomainError] = []
    text = _clean(description, "description", max_length=TEXT_MAX, required=True, problems=problems)
    try:
        category = Seriousness(seriousness) if seriousness else None
    except ValueError:
        category = None
    if category is None:
        problems.append(DomainError(_("Choose how serious the event is."), field="seriousness"))
    if administration is not None and administration.patient_id != patient.id:
        problems.append(
            DomainError(_("Choose one of this patient's administrations."), field="administration")
        )
        administration = None
    given = given_on(administration) if administration is not None else None
    problems += _problems(
        aftercare.check_event_dates(began_on, known_on, _today(now), given_on=given)
    )
    if problems:
        raise FormErrors(problems)
    event = AdverseEvent(
        course_id=administration.course_id if administration else current_course(patient).id,
        patient_id=patient.id,
        administration_id=administration.id if administration else None,
        description=text,
        began_on=began_on,
        known_on=known_on,
        seriousness=category,
        report_due_on=report_due_on(category, known_on),
        recorded_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    db.session.add(event)
    db.session.flush()
    audit.record(
        actor=actor,
        action="aftercare.adverse_event_record",
        entity=event,
        after=_snapshot(event),
        patient=patient,
    )
    for lab_user in _staff(Role.LAB):
        notify(
            lab_user,
            "aftercare_cpc_tell",
            event=event,
            patient=patient,
            link=_public_url("aftercare.cpc"),
        )
    for manager in _staff(Role.MANAGER):
        notify(
            manager,
            "aftercare_adverse_event",
            event=event,
            patient=patient,
            link=_public_url("aftercare.adverse_events"),
        )
    db.session.flush()
    return event


def _set_once(event: AdverseEvent, unset_column, values: dict, message: str) -> dict:
    before = _snapshot(event)
    taken = db.session.execute(
        update(AdverseEvent)
        .where(AdverseEvent.id == event.id, unset_column.is_(None))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        raise Conflict(message)
    db.session.refresh(event)
    return before


def acknowledge_by_cpc(event: AdverseEvent, *, actor: User, now: datetime | None = None) -> None:
    """A lab user confirms the CPC has been told of the event (once)."""
    if actor is None or actor.role != Role.LAB:
        raise NotAllowed(_("Only lab staff can confirm that the CPC was told."))
    now = _now(now)
    before = _set_once(
        event,
        AdverseEvent.cpc_told_at,
        {"cpc_told_at": now, "cpc_told_by_id": actor.id, "updated_at": now},
        _("The CPC was already told of this event."),
    )
    old, new = audit.changes(before, _snapshot(event))
    audit.record(
        actor=actor,
        action="aftercare.adverse_event_cpc_told",
        entity=event,
        before=old,
        after=new,
        patient=event.patient,
    )
    db.session.flush()


def mark_reported(
    event: AdverseEvent, *, reference: str | None, actor: User, now: datetime | None = None
) -> None:
    """A doctor or manager records that the event was reported, with the
    report's reference (once)."""
    if actor is None or actor.role not in AE_REPORTERS:
        raise NotAllowed(_("Only doctors and managers can mark an event reported."))
    now = _now(now)
    problems: list[DomainError] = []
    text = _clean(
        reference, "reference", max_length=REFERENCE_MAX, required=True, problems=problems
    )
    if problems:
        raise FormErrors(problems)
    before = _set_once(
        event,
        AdverseEvent.reported_at,
        {
            "reported_at": now,
            "reported_by_id": actor.id,
            "report_reference": text,
            "updated_at": now,
        },
        _("This event was already marked reported."),
    )
    old, new = audit.changes(before, _snapshot(event))
    audit.record(
        actor=actor,
        action="aftercare.adverse_event_reported",
        entity=event,
        before=old,
        after=new,
        patient=event.patient,
    )
    db.session.flush()
