"""The audit trail: who did what to which record, with before and after."""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from decimal import Decimal

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session

from intake.core.models import AuditEntry
from intake.extensions import db

SYSTEM = "system"


def _json_safe(value):
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    return value


def snapshot(obj, fields) -> dict:
    """The named attributes of ``obj`` as a JSON-safe dict."""
    return {f: _json_safe(getattr(obj, f)) for f in fields}


def changes(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the keys whose values differ, for compact before/after rows."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def record(
    *,
    actor,
    action: str,
    entity,
    before: dict | None = None,
    after: dict | None = None,
    patient=None,
    note: str | None = None,
) -> AuditEntry:
    """Add one audit row in the current transaction (flushes the entity first
    so it has an id). ``actor`` is a User or None for the system."""
    if getattr(entity, "id", None) is None:
        db.session.flush()
    entity_type = getattr(entity, "__tablename__", type(entity).__name__)
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        actor_label=actor.audit_label if actor is not None else SYSTEM,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity.id),
        patient_id=patient.id if patient is not None else None,
        before=_json_safe(before) if before is not None else None,
        after=_json_safe(after) if after is not None else None,
        ip_address=request.remote_addr if has_request_context() else None,
        note=note,
    )
    db.session.add(entry)
    return entry


class AuditTamperError(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def _audit_is_append_only(session, flush_context, instances):
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEntry) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditTamperError("audit entries are append-only")
