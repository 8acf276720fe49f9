"""Reading after-care for the screens: one function per screen, a fixed
number of queries whatever the data size."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from intake.extensions import db
from intake.reinfusion import aftercare
from intake.reinfusion.models import Administration, AdverseEvent, FollowUp, FollowUpStatus

#: Upcoming contacts shown this many days ahead on the coordinators' list.
UPCOMING_DAYS = 14
#: Closed contacts and reported events stay listed this many days.
RECENT_DAYS = 30
#: At most this many rows per list (the oldest work first).
LIMIT = 500


def _follow_up_row(follow_up: FollowUp, today: date, lang: str) -> dict:
    answers = follow_up.answers or None
    return {
        "follow_up": follow_up,
        "patient": follow_up.patient,
        "state": aftercare.follow_up_state(follow_up.due_on, follow_up.status.value, today),
        "answers": aftercare.answer_lines(answers, lang) if answers else [],
        "flags": aftercare.alerts(answers) if answers else [],
    }


def follow_up_list(today: date, lang: str) -> list[dict]:
    """The coordinators' contacts: overdue and due first, then those of the
    next two weeks, then those closed in the last month."""
    rows = (
        db.session.execute(
            select(FollowUp)
            .options(joinedload(FollowUp.patient), joinedload(FollowUp.contacted_by))
            .where(
                or_(
                    (FollowUp.status == FollowUpStatus.OPEN)
                    & (FollowUp.due_on <= today + timedelta(days=UPCOMING_DAYS)),
                    (FollowUp.status != FollowUpStatus.OPEN)
                    & (FollowUp.due_on >= today - timedelta(days=RECENT_DAYS + UPCOMING_DAYS))
                    & (FollowUp.contacted_at.is_not(None)),
                )
            )
            .order_by(FollowUp.due_on, FollowUp.id)
            .limit(LIMIT)
        )
        .scalars()
        .all()
    )
    ordered = aftercare.sort_follow_ups(rows, today, key=lambda f: (f.due_on, f.status.value))
    return [_follow_up_row(f, today, lang) for f in ordered]


def due_follow_up_count(today: date) -> int:
    """Open contacts due today or earlier (the worklist's pointer)."""
    from sqlalchemy import func

    return db.session.execute(
        select(func.count())
        .select_from(FollowUp)
        .where(FollowUp.status == FollowUpStatus.OPEN, FollowUp.due_on <= today)
    ).scalar_one()


def patient_follow_ups(patient_id: int, today: date) -> list[dict]:
    """The patient's contacts they can answer now (for the journey page)."""
    rows = (
        db.session.execute(
            select(FollowUp)
            .where(
                FollowUp.patient_id == patient_id,
                FollowUp.status == FollowUpStatus.OPEN,
                FollowUp.answered_at.is_(None),
                FollowUp.due_on <= today,
            )
            .order_by(FollowUp.due_on)
        )
        .scalars()
        .all()
    )
    return [{"follow_up": f} for f in rows]


def _event_row(event: AdverseEvent, today: date) -> dict:
    return {
        "event": event,
        "patient": event.patient,
        "clock": aftercare.report_clock(event.report_due_on, event.reported_at is not None, today),
    }


def adverse_event_list(today: date) -> dict:
    """Open reports (the earliest deadline first; periodic-report events
    last), and those reported in the last month."""
    open_rows = (
        db.session.execute(
            select(AdverseEvent)
            .options(joinedload(AdverseEvent.patient))
            .where(AdverseEvent.reported_at.is_(None))
            .order_by(
                AdverseEvent.report_due_on.is_(None),
                AdverseEvent.report_due_on,
                AdverseEvent.id,
            )
            .limit(LIMIT)
        )
        .scalars()
        .all()
    )
    since = today - timedelta(days=RECENT_DAYS)
    reported = (
        db.session.execute(
            select(AdverseEvent)
            .options(joinedload(AdverseEvent.patient))
            .where(AdverseEvent.reported_at.is_not(None), AdverseEvent.known_on >= since)
            .order_by(AdverseEvent.reported_at.desc())
            .limit(LIMIT)
        )
        .scalars()
        .all()
    )
    return {
        "open": [_event_row(e, today) for e in open_rows],
        "reported": [_event_row(e, today) for e in reported],
    }


def cpc_list(today: date) -> list[dict]:
    """Events the lab has not yet confirmed telling the CPC, oldest first."""
    rows = (
        db.session.execute(
            select(AdverseEvent)
            .options(
                joinedload(AdverseEvent.patient),
                joinedload(AdverseEvent.administration),
            )
            .where(AdverseEvent.cpc_told_at.is_(None))
            .order_by(AdverseEvent.created_at, AdverseEvent.id)
            .limit(LIMIT)
        )
        .scalars()
        .all()
    )
    return [_event_row(e, today) for e in rows]


def patient_aftercare(patient_id: int, today: date, lang: str) -> dict:
    """The staff record's panel: the patient's contacts and events."""
    follow_ups = (
        db.session.execute(
            select(FollowUp)
            .where(FollowUp.patient_id == patient_id)
            .order_by(FollowUp.due_on, FollowUp.id)
        )
        .scalars()
        .all()
    )
    events = (
        db.session.execute(
            select(AdverseEvent)
            .where(AdverseEvent.patient_id == patient_id)
            .order_by(AdverseEvent.known_on.desc(), AdverseEvent.id.desc())
        )
        .scalars()
        .all()
    )
    return {
        "follow_ups": [_follow_up_row(f, today, lang) for f in follow_ups],
        "events": [_event_row(e, today) for e in events],
    }


def administrations_of(patient_id: int) -> list[Administration]:
    """A patient's administrations, latest first (the event form's choices)."""
    return list(
        db.session.execute(
            select(Administration)
            .where(Administration.patient_id == patient_id)
            .order_by(Administration.started_at.desc())
        ).scalars()
    )


def report_summary(today: date) -> dict:
    """The manager's overview: open reports, how many are late, the next
    deadline (one query)."""
    from sqlalchemy import case, func

    row = db.session.execute(
        select(
            func.count(),
            func.sum(case((AdverseEvent.report_due_on < today, 1), else_=0)),
            func.min(case((AdverseEvent.report_due_on >= today, AdverseEvent.report_due_on))),
        ).where(AdverseEvent.reported_at.is_(None))
    ).one()
    return {"open": row[0], "overdue": row[1] or 0, "next_due": row[2]}
