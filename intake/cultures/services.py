"""Changing culture batches: made from a completed collection, received in the
lab, recorded day by day, moved through their lifecycle.

Every function checks its actor and rules, writes, leaves an audit row and
flushes; the caller commits (or rolls back on ``DomainError``). Only lab
users write to a batch; the desk completes the collection that creates it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from intake.accounts.models import User
from intake.accounts.roles import DESK_ROLES, Role
from intake.core import audit, settings
from intake.core.errors import DomainError, FormErrors, NotAllowed
from intake.core.types import utcnow
from intake.cultures import coi, labels, lifecycle
from intake.cultures.lifecycle import BatchState, Finding, QcItem
from intake.cultures.models import Batch, BatchEvent, EventKind, TissueUnit
from intake.cultures.queries import transition_context
from intake.extensions import db
from intake.notifications.services import notify
from intake.reinfusion import services as reinfusion
from intake.scheduling import front_desk as scheduling_desk
from intake.scheduling import ledger as scheduling_ledger
from intake.scheduling import queries as scheduling_queries
from intake.scheduling import services as scheduling
from intake.scheduling import visit_kinds
from intake.scheduling.models import Appointment, AppointmentStatus
from intake.scheduling.visit_kinds import VisitKind

#: How often a new number is tried when another batch took the sequence first.
COI_ATTEMPTS = 20
MAX_CELLS = 10**15
TEXT_MAX = 2000


def _now(now: datetime | None) -> datetime:
    return now or utcnow()


def _require_lab(actor: User | None) -> None:
    if actor is None or actor.role != Role.LAB:
        raise NotAllowed(_("Only lab staff can record this."))


def _snapshot(obj) -> dict:
    return audit.snapshot(obj, obj.AUDITED)


# ------------------------------------------------------------------ the chain-of-identity number


def _take_coi(batch: Batch, site: str, year: int) -> None:
    """Give ``batch`` the next number of ``site`` and ``year``. The unique
    constraint on (site, year, sequence) decides: an insert that loses a race
    rolls back to its savepoint and takes the next sequence."""
    for _attempt in range(COI_ATTEMPTS):
        last = db.session.execute(
            select(func.max(Batch.coi_sequence)).where(
                Batch.coi_site == site, Batch.coi_year == year
            )
        ).scalar_one()
        number = coi.make(site, year, (last or 0) + 1)
        batch.coi_site, batch.coi_year, batch.coi_sequence = site, year, number.sequence
        batch.coi = coi.format(number)
        try:
            with db.session.begin_nested():
                db.session.add(batch)
                db.session.flush()
            return
        except IntegrityError:
            continue
    raise DomainError(_("No chain-of-identity number could be given. Please try again."))


# ------------------------------------------------------------------ collection completed


def _clean_text(value: str | None, field: str, problems: list, *, required: bool) -> str | None:
    text = (value or "").strip()
    if "\x00" in text or len(text) > TEXT_MAX:
        problems.append(DomainError(_("This text is too long or not allowed."), field=field))
        return None
    if required and not text:
        problems.append(DomainError(_("This field is required."), field=field))
        return None
    return text or None


def _check_collection(
    appointment: Appointment,
    *,
    collected_by: str,
    tissue_amount: int,
    tissue_unit: TissueUnit | str,
    blood_volume_ml: int,
    actor: User,
) -> tuple[str, TissueUnit]:
    if actor is None or actor.role not in DESK_ROLES:
        raise NotAllowed(_("Only clinic staff can complete a visit."))
    if appointment.visit_type.kind != VisitKind.COLLECTION:
        raise DomainError(_("This visit is not a collection visit."))
    problems: list[DomainError] = []
    who = _clean_text(collected_by, "collected_by", problems, required=True)
    if not isinstance(tissue_amount, int) or not 1 <= tissue_amount <= 100_000:
        problems.append(
            DomainError(
                _("Enter the tissue amount, a whole number above 0."), field="tissue_amount"
            )
        )
    if not isinstance(blood_volume_ml, int) or not 1 <= blood_volume_ml <= 1000:
        problems.append(
            DomainError(
                _("Enter the blood volume in mL, a whole number from 1 to 1000."),
                field="blood_volume_ml",
            )
        )
    unit = None
    try:
        unit = TissueUnit(tissue_unit)
    except ValueError:
        problems.append(DomainError(_("Choose mg or pieces."), field="tissue_unit"))
    if problems:
        raise FormErrors(problems)
    return who, unit


def _make_batch(
    appointment: Appointment,
    *,
    collected_by: str,
    tissue_amount: int,
    tissue_unit: TissueUnit,
    blood_volume_ml: int,
    actor: User,
    now: datetime,
) -> Batch:
    values = settings.values()
    cal = scheduling_queries.clinic_calendar(values)
    collected_on = cal.local_date(appointment.start_at)
    batch = Batch(
        course_id=appointment.course_id,
        patient_id=appointment.patient_id,
        appointment_id=appointment.id,
        state=BatchState.RECEIVED,
        planned_dose_low=values["planned_dose_min_cells"],
        planned_dose_high=max(values["max_dose_cells"], values["planned_dose_min_cells"]),
        later_doses=0,
        collected_on=collected_on,
        collected_by=collected_by,
        tissue_amount=tissue_amount,
        tissue_unit=tissue_unit,
        blood_volume_ml=blood_volume_ml,
        created_by_id=actor.id,
        created_at=now,
    )
    _take_coi(batch, values["coi_site_code"], collected_on.year % 100)
    audit.record(
        actor=actor,
        action="cultures.batch_create",
        entity=batch,
        after=_snapshot(batch),
        patient=appointment.patient,
    )
    db.session.flush()
    return batch


def complete_collection(
    appointment: Appointment,
    *,
    collected_by: str,
    tissue_amount: int,
    tissue_unit: TissueUnit | str,
    blood_volume_ml: int,
    actor: User,
    now: datetime | None = None,
) -> Batch:
    """The desk marks the collection visit completed, with what was collected:
    the visit is completed (``scheduling.front_desk.mark_completed``) and the
    course's culture batch is made with its chain-of-identity number, expected
    in the lab (not yet received)."""
    now = _now(now)
    who, unit = _check_collection(
        appointment,
        collected_by=collected_by,
        tissue_amount=tissue_amount,
        tissue_unit=tissue_unit,
        blood_volume_ml=blood_volume_ml,
        actor=actor,
    )
    scheduling_desk.mark_completed(appointment, actor=actor, now=now)
    return _make_batch(
        appointment,
        collected_by=who,
        tissue_amount=tissue_amount,
        tissue_unit=unit,
        blood_volume_ml=blood_volume_ml,
        actor=actor,
        now=now,
    )


def record_past_collection(
    appointment: Appointment,
    *,
    collected_by: str,
    tissue_amount: int,
    tissue_unit: TissueUnit | str,
    blood_volume_ml: int,
    actor: User,
    now: datetime | None = None,
) -> Batch:
    """The batch of a collection visit already recorded as completed (data
    import, demo history; ``scheduling.services.record_past_visit``): the same
    checks and the same batch as ``complete_collection``, the visit unchanged."""
    now = _now(now)
    who, unit = _check_collection(
        appointment,
        collected_by=collected_by,
        tissue_amount=tissue_amount,
        tissue_unit=tissue_unit,
        blood_volume_ml=blood_volume_ml,
        actor=actor,
    )
    if appointment.status != AppointmentStatus.COMPLETED:
        raise DomainError(_("This visit cannot change to that status now."))
    return _make_batch(
        appointment,
        collected_by=who,
        tissue_amount=tissue_amount,
        tissue_unit=unit,
        blood_volume_ml=blood_volume_ml,
        actor=actor,
        now=now,
    )


# ------------------------------------------------------------------ events


def _check_when(batch: Batch, when: datetime | None, now: datetime, problems: list) -> None:
    if when is None:
        problems.append(DomainError(_("Enter the date and time."), field="occurred_at"))
        return
    if when.tzinfo is None:
        raise ValueError("naive datetime")
    if when > now:
        problems.append(DomainError(_("This time is in the future."), field="occurred_at"))
    elif when < batch.appointment.start_at:
        problems.append(
            DomainError(_("This time is before the collection visit."), field="occurred_at")
        )


def _event(batch: Batch, kind: EventKind, *, actor: User, occurred_at, now, **fields) -> BatchEvent:
    event = BatchEvent(
        batch=batch,
        kind=kind,
        occurred_at=occurred_at,
        recorded_at=now,
        recorded_by=actor,
        **fields,
    )
    db.session.add(event)
    return event


def receive_batch(
    batch: Batch,
    *,
    received_by: str,
    received_at: datetime | None,
    condition: str,
    actor: User,
    now: datetime | None = None,
) -> BatchEvent:
    """The tissue and serum reach the lab: who took them, when, in what condition."""
    now = _now(now)
    _require_lab(actor)
    if batch.received_at is not None:
        raise DomainError(_("This batch was already received."))
    problems: list[DomainError] = []
    who = _clean_text(received_by, "received_by", problems, required=True)
    state = _clean_text(condition, "condition", problems, required=True)
    _check_when(batch, received_at, now, problems)
    if problems:
        raise FormErrors(problems)
    before = _snapshot(batch)
    batch.received_at, batch.received_by, batch.received_condition = received_at, who, state
    event = _event(
        batch,
        EventKind.RECEIPT,
        actor=actor,
        occurred_at=received_at,
        now=now,
        person=who,
        to_place=_("Lab"),
        note=state,
    )
    old, new = audit.changes(before, _snapshot(batch))
    audit.record(
        actor=actor,
        action="cultures.receive",
        entity=batch,
        before=old,
        after=new,
        patient=batch.patient,
    )
    db.session.flush()
    return event


def _corrected(batch: Batch, kind: EventKind, corrects_id: int | None) -> BatchEvent | None:
    if corrects_id is None:
        return None
    target = db.session.get(BatchEvent, corrects_id)
    if target is None or target.batch_id != batch.id or target.kind != kind:
        raise DomainError(_("The entry to correct was not found on this batch."))
    taken = db.session.execute(
        select(BatchEvent.id).where(BatchEvent.corrects_id == target.id)
    ).first()
    if taken is not None:
        raise DomainError(_("This entry was already corrected: correct the newest one."))
    return target


def qc_passes(item: QcItem, value, batch: Batch) -> bool:
    """Does one QC result meet the release criteria (the lifecycle's rule)?"""
    context = lifecycle.TransitionContext(
        thresholds=settings.values(),
        planned_dose=lifecycle.DoseRange(batch.planned_dose_low, batch.planned_dose_high),
    )
    return lifecycle._qc_refusal(item, value, context) is None


def record_event(
    batch: Batch,
    kind: EventKind | str,
    *,
    actor: User,
    occurred_at: datetime | None,
    person: str | None = None,
    from_place: str | None = None,
    to_place: str | None = None,
    passage_number: int | None = None,
    cells: int | None = None,
    viability_percent: Decimal | None = None,
    qc_item: str | None = None,
    qc_value: str | None = None,
    note: str | None = None,
    corrects_id: int | None = None,
    now: datetime | None = None,
) -> BatchEvent:
    """One entry of the day-by-day record (not receipt or a state change). A
    correction (``corrects_id``) is a new entry that replaces the named one."""
    now = _now(now)
    _require_lab(actor)
    kind = EventKind(kind)
    if kind in (EventKind.RECEIPT, EventKind.TRANSITION):
        raise ValueError(f"{kind} is recorded by its own service")
    if not lifecycle.is_open(batch.state):
        raise DomainError(_("This batch is closed: nothing more can be recorded."))
    if batch.received_at is None:
        raise DomainError(_("Receive the tissue in the lab first."))
    corrected = _corrected(batch, kind, corrects_id)
    problems: list[DomainError] = []
    _check_when(batch, occurred_at, now, problems)
    note = _clean_text(note, "note", problems, required=kind == EventKind.OBSERVATION)
    fields: dict = {"note": note, "corrects_id": corrected.id if corrected else None}
    if kind == EventKind.CUSTODY:
        fields["person"] = _clean_text(person, "person", problems, required=True)
        fields["from_place"] = _clean_text(from_place, "from_place", problems, required=True)
        fields["to_place"] = _clean_text(to_place, "to_place", problems, required=True)
    elif kind == EventKind.PASSAGE:
        if not isinstance(passage_number, int) or not 0 <= passage_number <= 50:
            problems.append(
                DomainError(_("Enter the passage number, 0 to 50."), field="passage_number")
            )
        fields["passage_number"] = passage_number
    elif kind == EventKind.CELL_COUNT:
        if not isinstance(cells, int) or isinstance(cells, bool) or not 1 <= cells <= MAX_CELLS:
            problems.append(
                DomainError(_("Enter the cells, a whole number above 0."), field="cells")
            )
        if (
            not isinstance(viability_percent, Decimal)
            or not viability_percent.is_finite()
            or not 0 <= viability_percent <= 100
        ):
            problems.append(
                DomainError(
                    _("Enter the viability in per cent, 0 to 100."), field="viability_percent"
                )
            )
        else:
            viability_percent = viability_percent.quantize(Decimal("0.01"))
        fields.update(cells=cells, viability_percent=viability_percent)
    elif kind == EventKind.QC_RESULT:
        fields.update(_qc_fields(batch, qc_item, qc_value, problems))
    if problems:
        raise FormErrors(problems)
    event = _event(batch, kind, actor=actor, occurred_at=occurred_at, now=now, **fields)
    db.session.flush()
    audit.record(
        actor=actor,
        action="cultures.correct" if corrected else "cultures.record",
        entity=event,
        before=_snapshot(corrected) if corrected else None,
        after=_snapshot(event),
        patient=batch.patient,
    )
    db.session.flush()
    return event


def _qc_fields(batch: Batch, item_text, value_text, problems: list) -> dict:
    try:
        item = QcItem(item_text)
    except ValueError:
        problems.append(DomainError(_("Choose the QC test."), field="qc_item"))
        return {}
    text = (value_text or "").strip()
    value: object
    if item in (QcItem.STERILITY, QcItem.MYCOPLASMA):
        try:
            value = Finding(text)
        except ValueError:
            problems.append(DomainError(_("Choose negative or positive."), field="qc_value"))
            return {}
    elif item == QcItem.CELL_COUNT:
        if not text.isascii() or not text.isdigit() or len(text) > 16 or int(text) < 1:
            problems.append(
                DomainError(_("Enter the cells, a whole number above 0."), field="qc_value")
            )
            return {}
        value = int(text)
    else:
        try:
            value = Decimal(text) if len(text) <= 20 else None
        except ArithmeticError:
            value = None
        if value is None or not value.is_finite():
            problems.append(DomainError(_("Enter a number, e.g. 0.25."), field="qc_value"))
            return {}
        if item == QcItem.ENDOTOXIN and value < 0:
            problems.append(DomainError(_("Endotoxin cannot be below 0."), field="qc_value"))
            return {}
        if item == QcItem.VIABILITY and not 0 <= value <= 100:
            problems.append(
                DomainError(_("Enter the viability in per cent, 0 to 100."), field="qc_value")
            )
            return {}
    return {
        "qc_item": item.value,
        "qc_value": str(value.value if isinstance(value, Finding) else value),
        "qc_passed": qc_passes(item, value, batch),
    }


# ------------------------------------------------------------------ the lifecycle


def current_events(batch: Batch) -> list[BatchEvent]:
    """The batch's events that still count (not replaced by a correction)."""
    events = list(
        db.session.execute(
            select(BatchEvent).where(BatchEvent.batch_id == batch.id).order_by(BatchEvent.id)
        ).scalars()
    )
    replaced = {e.corrects_id for e in events if e.corrects_id is not None}
    return [e for e in events if e.id not in replaced]


def transition_batch(
    batch: Batch,
    target: BatchState | str,
    *,
    actor: User,
    reason: str | None = None,
    now: datetime | None = None,
) -> BatchEvent:
    """Move the batch one step (``lifecycle``'s guards decide). Failing a
    batch frees its incubator place from today, tells the patient kindly and
    leaves the course open for a new collection."""
    now = _now(now)
    _require_lab(actor)
    try:
        target = BatchState(target)
    except ValueError:
        raise DomainError(_("This step is not possible from the batch's current state.")) from None
    if "\x00" in (reason or "") or len(reason or "") > TEXT_MAX:
        raise DomainError(_("This text is too long or not allowed."), field="reason")
    if target == BatchState.IN_CULTURE and batch.received_at is None:
        raise DomainError(_("Receive the tissue in the lab first."))
    context = transition_context(batch, current_events(batch), reason=(reason or "").strip())
    refusal = lifecycle.check_transition(batch.state, target, context=context)
    if refusal is not None:
        field = "reason" if refusal.code == lifecycle.Why.REASON_REQUIRED else None
        raise DomainError(refusal.text(_), field=field, code=refusal.key)
    before = _snapshot(batch)
    previous = batch.state
    batch.state = target
    if target in (BatchState.FAILED, BatchState.DISCARDED):
        batch.state_reason = reason.strip()
    event = _event(
        batch,
        EventKind.TRANSITION,
        actor=actor,
        occurred_at=now,
        now=now,
        from_state=previous.value,
        to_state=target.value,
        note=(reason or "").strip() or None,
    )
    old, new = audit.changes(before, _snapshot(batch))
    audit.record(
        actor=actor,
        action="cultures.transition",
        entity=batch,
        before=old,
        after=new,
        patient=batch.patient,
        note=(reason or "").strip() or None,
    )
    if target == BatchState.FAILED:
        _after_failure(batch, actor=actor, now=now)
    db.session.flush()
    return event


def _after_failure(batch: Batch, *, actor: User, now: datetime) -> None:
    """DOMAIN rule 10: the place is given back, the batch's reinfusion
    proposals are withdrawn and its doses cancelled, the course's reinfusion
    visits (locked ones too) are cancelled, and the patient is told kindly (a
    new collection can be booked on the same course; the gate checks again)."""
    cal = scheduling_queries.clinic_calendar()
    reinfusion.cancel_for_failed_batch(batch, actor=actor, now=now)
    scheduling_ledger.release_culture_place(
        batch.course, from_day=cal.today(now), actor=actor, reason=batch.state_reason or ""
    )
    with force_locale(batch.patient.locale):
        reason = _("The cells could not be grown for this treatment")
    scheduling.cancel_future_visits(
        batch.course,
        actor=actor,
        reason=reason,
        now=now,
        kinds=[kind for kind in VisitKind if visit_kinds.is_reinfusion(kind)],
    )
    notify(batch.patient, "culture_failed", link=_public_url("eligibility.journey"))


def _public_url(endpoint: str, **values) -> str:
    """An absolute link for e-mails, also outside a request."""
    adapter = current_app.url_map.bind("localhost", script_name="/")
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + adapter.build(endpoint, values)


# ------------------------------------------------------------------ the identity check


def check_identity(
    batch: Batch,
    *,
    name: str,
    date_of_birth: date | None,
    actor: User,
    now: datetime | None = None,
) -> bool:
    """The lab compares a batch (its scanned or typed number) with the
    patient's identifiers as read from the patient or the tube: the name in
    either script and the date of birth. Every check leaves an audit row with
    its result (shown on the batch's timeline); a mismatch alerts every active
    manager. True when both identifiers agree."""
    now = _now(now)
    _require_lab(actor)
    problems: list[DomainError] = []
    entered = _clean_text(name, "name", problems, required=True)
    if date_of_birth is None:
        problems.append(DomainError(_("Enter the date of birth."), field="date_of_birth"))
    if problems:
        raise FormErrors(problems)
    patient = batch.patient
    matched = labels.identity_matches(
        entered,
        date_of_birth,
        names=labels.name_forms(
            patient.family_name,
            patient.given_name,
            patient.family_name_latin,
            patient.given_name_latin,
        ),
        birth_date=patient.date_of_birth,
    )
    audit.record(
        actor=actor,
        action="cultures.identity_check",
        entity=batch,
        after={
            "result": IDENTITY_MATCH if matched else IDENTITY_MISMATCH,
            "coi": batch.coi,
            "name": entered,
            "date_of_birth": date_of_birth,
            "checked_at": now,
        },
        patient=patient,
    )
    if not matched:
        for manager in _managers():
            notify(
                manager,
                "cultures_identity_mismatch",
                batch=batch,
                checked_by=actor.full_name,
                checked_at=now,
                link=_public_url("cultures.batch", batch_id=batch.id),
            )
    db.session.flush()
    return matched


IDENTITY_MATCH, IDENTITY_MISMATCH = "match", "mismatch"


def _managers() -> list[User]:
    return list(
        db.session.execute(
            select(User).where(User.role == Role.MANAGER, User.is_active).order_by(User.id)
        ).scalars()
    )


# ------------------------------------------------------------------ a dose given


def record_dose_given(
    batch: Batch,
    *,
    cells_given: int,
    remaining: int,
    target: BatchState | str,
    actor: User,
    override_reason: str | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> BatchEvent:
    """The batch's side of an administration, recorded by the doctor who gave
    the dose (``transition_batch`` is the lab's): from ``released`` to
    ``cryopreserved`` while ``remaining`` doses are still to give after this
    one, or to ``administered`` after the last (``lifecycle``'s guards decide,
    with ``later_doses`` = ``remaining``). The dose limit is checked on the
    cells given in this administration, with the doctor's reason as the
    override. ``batch.later_doses`` then counts the doses after the next one."""
    now = _now(now)
    if actor is None or actor.role != Role.DOCTOR:
        raise NotAllowed(_("Only a doctor can record an administration."))
    target = BatchState(target)
    context = lifecycle.TransitionContext(
        thresholds=settings.values(),
        planned_dose=lifecycle.DoseRange(cells_given, cells_given),
        override=lifecycle.DoseOverride(actor.role, override_reason or "")
        if (override_reason or "").strip()
        else None,
        later_doses=remaining,
    )
    refusal = lifecycle.check_transition(batch.state, target, context=context)
    if refusal is not None:
        raise DomainError(refusal.text(_), code=refusal.key)
    before = _snapshot(batch)
    previous = batch.state
    batch.state = target
    batch.later_doses = max(remaining - 1, 0)
    event = _event(
        batch,
        EventKind.TRANSITION,
        actor=actor,
        occurred_at=now,
        now=now,
        from_state=previous.value,
        to_state=target.value,
        note=note,
    )
    old, new = audit.changes(before, _snapshot(batch))
    audit.record(
        actor=actor,
        action="cultures.transition",
        entity=batch,
        before=old,
        after=new,
        patient=batch.patient,
        note=note,
    )
    db.session.flush()
    return event
