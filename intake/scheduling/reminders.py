"""Reminders: one message for each booked visit starting soon, never two."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from intake.core import audit
from intake.core.claims import claim_once
from intake.extensions import db
from intake.scheduling.models import Appointment, AppointmentStatus
from intake.scheduling.services import _confirm, _now


def send_reminders(*, now: datetime | None = None, lead: timedelta = timedelta(hours=24)) -> int:
    """Queue one reminder for each booked visit starting within ``lead`` of ``now``.
    Each appointment is claimed with a conditional update first, so two runs at
    once never remind the same visit twice. Returns how many were queued."""
    now = _now(now)
    due = (
        db.session.execute(
            select(Appointment)
            .where(
                Appointment.status == AppointmentStatus.BOOKED,
                Appointment.reminded_at.is_(None),
                Appointment.start_at > now,
                Appointment.start_at <= now + lead,
            )
            .options(joinedload(Appointment.patient), joinedload(Appointment.visit_type))
            .order_by(Appointment.start_at)
        )
        .scalars()
        .all()
    )
    queued = 0
    for appointment in due:
        if not claim_once(appointment, "reminded_at", now):
            continue
        audit.record(
            actor=None,
            action="scheduling.remind",
            entity=appointment,
            after={"reminded_at": now},
            patient=appointment.patient,
        )
        _confirm(appointment, "visit_reminder")
        queued += 1
    db.session.flush()
    return queued
