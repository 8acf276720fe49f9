"""Reads for the deadlines page: every item of the six kinds, with its
patient, as ``deadlines.Deadline`` rows (the pure module orders them). A fixed
number of statements whatever the data: one per kind, the lab board's reads
for the batches at risk (the same outlook the lab sees), the panel's items
and results for the booked visits."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from intake.core import settings
from intake.core.models import AuditEntry
from intake.cultures import queries as culture_queries
from intake.cultures.models import Batch
from intake.eligibility import queries as eligibility_queries
from intake.eligibility.models import ConsentSignature, PanelResult
from intake.extensions import db
from intake.manager import deadlines
from intake.manager.deadlines import Deadline
from intake.patients.models import Patient
from intake.reinfusion import aftercare
from intake.reinfusion.models import AdverseEvent, BedsideCheck, FollowUp, FollowUpStatus
from intake.scheduling import queries as scheduling_queries
from intake.scheduling.models import Appointment, AppointmentStatus, VisitType
from intake.scheduling.visit_kinds import KINDS

IDENTITY_CHECK = "cultures.identity_check"
GATED_KINDS = tuple(kind for kind, rules in KINDS.items() if rules.requires_intake_gate)


def _adverse_events(patients: dict) -> list[Deadline]:
    items = []
    for event, patient in db.session.execute(
        select(AdverseEvent, Patient)
        .join(Patient, AdverseEvent.patient_id == Patient.id)
        .where(AdverseEvent.reported_at.is_(None), AdverseEvent.report_due_on.is_not(None))
    ).all():
        patients[patient.id] = patient
        items.append(
            Deadline(
                deadlines.ADVERSE_EVENT,
                event.report_due_on,
                ("adverse_event", event.id),
                patient.id,
                {
                    "seriousness": event.seriousness,
                    "known_on": event.known_on,
                    "description": event.description,
                    "cpc_told": event.cpc_told_at is not None,
                },
            )
        )
    return items


def _batches_at_risk(patients: dict, today: date, max_days: int) -> list[Deadline]:
    items = []
    board = culture_queries.lab_board(
        today=today, states=culture_queries.OPEN_STATES, at_risk_rows=True
    )
    for row in board["at_risk_rows"]:
        patients[row.patient.id] = row.patient
        items.append(
            Deadline(
                deadlines.BATCH_AT_RISK,
                deadlines.batch_due_on(row.batch.collected_on, max_days),
                ("batch", row.batch.id),
                row.patient.id,
                {
                    "batch_id": row.batch.id,
                    "coi": row.batch.coi,
                    "day": row.day,
                    "risks": row.outlook.risks,
                },
            )
        )
    return items


def _follow_ups(patients: dict, today: date) -> list[Deadline]:
    items = []
    for follow_up, patient in db.session.execute(
        select(FollowUp, Patient)
        .join(Patient, FollowUp.patient_id == Patient.id)
        .where(
            FollowUp.status == FollowUpStatus.OPEN,
            FollowUp.due_on <= today - timedelta(days=aftercare.FOLLOW_UP_GRACE_DAYS),
        )
    ).all():
        if not deadlines.follow_up_overdue(follow_up.status.value, follow_up.due_on, today):
            continue
        patients[patient.id] = patient
        items.append(
            Deadline(
                deadlines.FOLLOW_UP_OVERDUE,
                deadlines.follow_up_overdue_on(follow_up.due_on),
                ("follow_up", follow_up.id),
                patient.id,
                {"days_after": follow_up.days_after},
            )
        )
    return items


def _panels(patients: dict, today: date, cal, validity: int) -> list[Deadline]:
    visits = db.session.execute(
        select(Appointment, VisitType, Patient)
        .join(VisitType, Appointment.visit_type_id == VisitType.id)
        .join(Patient, Appointment.patient_id == Patient.id)
        .where(
            VisitType.kind.in_(GATED_KINDS),
            Appointment.status.in_((AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED)),
            Appointment.start_at >= cal.day_start(today),
        )
    ).all()
    if not visits:
        return []
    course_ids = {visit.course_id for visit, _type, _patient in visits}
    newest = (
        select(func.max(PanelResult.id))
        .where(PanelResult.course_id.in_(course_ids))
        .group_by(PanelResult.course_id, PanelResult.item_code)
    )
    tested: dict[int, dict[str, date]] = {}
    for result in db.session.execute(
        select(PanelResult).where(PanelResult.id.in_(newest))
    ).scalars():
        tested.setdefault(result.course_id, {})[result.item_code] = result.test_date
    codes = [item.code for item in eligibility_queries.panel_items()]
    items = []
    for visit, visit_type, patient in visits:
        day = cal.local_date(visit.start_at)
        results = tested.get(visit.course_id, {})
        expiring, lapses = deadlines.panel_expiring(
            {code: results.get(code) for code in codes}, day, validity
        )
        if not expiring:
            continue
        patients[patient.id] = patient
        items.append(
            Deadline(
                deadlines.PANEL_EXPIRING,
                day,
                ("visit", visit.id),
                patient.id,
                {
                    "visit_id": visit.id,
                    "start_at": visit.start_at,
                    "visit_type": visit_type,
                    "tests": expiring,
                    "lapses_on": lapses,
                },
            )
        )
    return items


def _withdrawals(patients: dict, since: datetime, cal, today: date) -> list[Deadline]:
    items = []
    for signature, patient in db.session.execute(
        select(ConsentSignature, Patient)
        .join(Patient, ConsentSignature.patient_id == Patient.id)
        .where(ConsentSignature.withdrawn_at >= since)
    ).all():
        day = cal.local_date(signature.withdrawn_at)
        if not deadlines.within_lookback(day, today):
            continue
        patients[patient.id] = patient
        items.append(
            Deadline(
                deadlines.CONSENT_WITHDRAWN,
                day,
                ("signature", signature.id),
                patient.id,
                {
                    "consent_kind": signature.kind,
                    "withdrawn_at": signature.withdrawn_at,
                    "reason": signature.withdrawal_reason,
                },
            )
        )
    return items


def _identity_mismatches(patients: dict, since: datetime, cal) -> list[Deadline]:
    checks: list[deadlines.IdentityCheck] = []
    info: dict[tuple, dict] = {}
    for entry, patient in db.session.execute(
        select(AuditEntry, Patient)
        .outerjoin(Patient, AuditEntry.patient_id == Patient.id)
        .where(
            AuditEntry.action == IDENTITY_CHECK,
            AuditEntry.entity_type == Batch.__tablename__,
            AuditEntry.created_at >= since,
        )
    ).all():
        after = entry.after or {}
        ref = ("audit", entry.id)
        checks.append(
            deadlines.IdentityCheck(
                ("batch", entry.entity_id), entry.created_at, after.get("result") == "match", ref
            )
        )
        info[ref] = {
            "patient": patient,
            "where": "lab",
            "checked_at": entry.created_at,
            "label": after.get("coi") or "",
            "batch_id": int(entry.entity_id) if entry.entity_id.isdigit() else None,
            "why": None,
        }
    for check, patient in db.session.execute(
        select(BedsideCheck, Patient)
        .join(Patient, BedsideCheck.patient_id == Patient.id)
        .where(BedsideCheck.checked_at >= since)
    ).all():
        ref = ("bedside", check.id)
        checks.append(
            deadlines.IdentityCheck(("dose", check.dose_id), check.checked_at, check.matched, ref)
        )
        info[ref] = {
            "patient": patient,
            "where": "bedside",
            "checked_at": check.checked_at,
            "label": check.label_read,
            "batch_id": check.batch_id,
            "why": check.mismatch,
        }
    items = []
    for check in deadlines.unresolved_mismatches(checks):
        details = info[check.ref]
        patient = details.pop("patient")
        if patient is not None:
            patients[patient.id] = patient
        items.append(
            Deadline(
                deadlines.IDENTITY_MISMATCH,
                cal.local_date(check.checked_at),
                check.ref,
                patient.id if patient is not None else None,
                details,
            )
        )
    return items


def deadline_items(*, today: date) -> dict:
    """Every deadline, most urgent first, and the patients they name."""
    values = settings.values()
    cal = scheduling_queries.clinic_calendar(values)
    since = cal.day_start(today - timedelta(days=deadlines.LOOKBACK_DAYS))
    patients: dict[int, Patient] = {}
    items = [
        *_adverse_events(patients),
        *_batches_at_risk(patients, today, values["culture_max_days"]),
        *_follow_ups(patients, today),
        *_panels(patients, today, cal, values["panel_validity_days"]),
        *_withdrawals(patients, since, cal, today),
        *_identity_mismatches(patients, since, cal),
    ]
    return {"items": deadlines.ordered(items), "patients": patients}
