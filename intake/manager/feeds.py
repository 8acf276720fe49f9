"""Calendar feeds: one iCalendar address per resource (a room, a chair, a bed,
a staff member) that a calendar app subscribes to.

* The address holds a long random token (``secrets.token_urlsafe(32)``, 256
  bits). Only its SHA-256 is stored; a request is answered by looking the hash
  up (an index lookup on a digest reveals nothing about the token through its
  timing) and the found digest is compared again with ``hmac.compare_digest``.
* A manager makes and revokes feeds; each leaves an audit row. A revoked or
  unknown token answers 404.
* What a feed shows: every visit that holds a seat of the resource (for a pool
  such as "Doctors", of any of its members) from ``FEED_PAST_DAYS`` back to
  the booking horizon ahead (the ``horizon_days`` setting, 120 days by
  default). The patient appears by initials only ("W. L."), with the visit
  type; times are UTC; each visit keeps one UID and its ``sequence``.
* Cancelled (and missed) visits are **left out**: cancelling frees the visit's
  seats, so it no longer occupies the resource, and a subscribed calendar
  mirrors the feed, so an event that leaves the feed leaves the calendar.
  (Which staff member a cancelled visit had is not kept, so it could not be
  listed per staff member anyway.)
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Event
from sqlalchemy import or_, select, update

from intake.accounts.models import User
from intake.accounts.roles import Role
from intake.core import audit, settings
from intake.core.errors import DomainError, NotAllowed
from intake.core.languages import LANGUAGES
from intake.core.types import utcnow
from intake.extensions import db
from intake.manager.models import FeedToken
from intake.patients.models import Patient
from intake.scheduling import ics
from intake.scheduling.models import (
    STATUS_LABELS,
    Appointment,
    Hold,
    Resource,
    VisitMode,
    VisitType,
    localized,
)

FEED_PAST_DAYS = 30
TOKEN_BYTES = 32
HINT_LENGTH = 6
# What ``token_urlsafe(32)`` makes: 43 characters of the URL-safe alphabet.
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{40,64}")


# --------------------------------------------------------------------------- tokens


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def find_active(token: str) -> FeedToken | None:
    """The live feed whose token is ``token``; None when unknown or revoked."""
    if not isinstance(token, str) or not TOKEN_RE.fullmatch(token):
        return None
    digest = hash_token(token)
    feed = db.session.execute(
        select(FeedToken).where(FeedToken.token_hash == digest)
    ).scalar_one_or_none()
    if feed is None or not hmac.compare_digest(feed.token_hash, digest):
        return None
    return feed if feed.is_active else None


def feed_url(token: str) -> str:
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return f"{base}/feeds/{token}.ics"


def webcal_url(token: str) -> str:
    """The same address for "subscribe" links (calendar apps open ``webcal:``)."""
    return re.sub(r"^https?://", "webcal://", feed_url(token))


# --------------------------------------------------------------------------- changes


def _require_manager(actor: User | None) -> None:
    if actor is None or actor.role != Role.MANAGER:
        raise NotAllowed(_("Only a manager can change this."))


def feedable(resource: Resource | None) -> bool:
    """Rooms, chairs, beds and staff have visits; incubator places hold cultures."""
    return resource is not None and resource.is_active and not resource.is_per_day


def create_feed(
    resource: Resource | None, *, actor: User, locale: str, note: str | None = None
) -> tuple[FeedToken, str]:
    """A new feed for ``resource``; returns it with its token (shown once)."""
    _require_manager(actor)
    if not feedable(resource):
        raise DomainError(_("Choose a room, chair, bed or staff member."), field="resource_id")
    if locale not in LANGUAGES:
        raise DomainError(_("Choose a language."), field="locale")
    note = (note or "").strip() or None
    if note is not None and (len(note) > 200 or "\x00" in note):
        raise DomainError(_("Keep the note under 200 characters."), field="note")
    token = new_token()
    feed = FeedToken(
        token_hash=hash_token(token),
        hint=token[:HINT_LENGTH],
        resource=resource,
        locale=locale,
        note=note,
        created_by=actor,
    )
    db.session.add(feed)
    db.session.flush()
    audit.record(
        actor=actor,
        action="manager.feed_create",
        entity=feed,
        after=audit.snapshot(feed, FeedToken.AUDITED),
    )
    return feed, token


def revoke_feed(feed: FeedToken, *, actor: User, now: datetime | None = None) -> FeedToken:
    """Revoke once: the atomic update's row count decides (two revocations
    racing leave one audit row)."""
    _require_manager(actor)
    now = now or utcnow()
    result = db.session.execute(
        update(FeedToken)
        .where(FeedToken.id == feed.id, FeedToken.revoked_at.is_(None))
        .values(revoked_at=now, revoked_by_id=actor.id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise DomainError(_("This feed was already revoked."))
    db.session.refresh(feed)
    audit.record(
        actor=actor,
        action="manager.feed_revoke",
        entity=feed,
        before={"revoked_at": None},
        after={"revoked_at": now.isoformat()},
    )
    return feed


# --------------------------------------------------------------------------- reads


def feeds_page() -> list[FeedToken]:
    """Every feed, live first, newest first (one statement with the resources)."""
    from sqlalchemy.orm import joinedload

    return list(
        db.session.execute(
            select(FeedToken)
            .options(joinedload(FeedToken.resource), joinedload(FeedToken.created_by))
            .order_by(FeedToken.revoked_at.is_not(None), FeedToken.id.desc())
        ).scalars()
    )


def feedable_resources() -> list[Resource]:
    return list(
        db.session.execute(
            select(Resource)
            .where(Resource.is_active.is_(True), Resource.is_per_day.is_(False))
            .order_by(Resource.kind, Resource.position, Resource.id)
        ).scalars()
    )


def feed_window(now: datetime, horizon_days: int) -> tuple[datetime, datetime]:
    return now - timedelta(days=FEED_PAST_DAYS), now + timedelta(days=horizon_days)


def feed_visits(resource_id: int, start: datetime, end: datetime):
    """``(appointment, visit type, patient)`` of every visit holding a seat of
    the resource (or of a member of the pool) starting in ``[start, end)``:
    one statement."""
    members = select(Resource.id).where(Resource.pool_id == resource_id)
    holding = select(Hold.appointment_id).where(
        or_(Hold.resource_id == resource_id, Hold.resource_id.in_(members)),
        Hold.appointment_id.is_not(None),
    )
    return db.session.execute(
        select(Appointment, VisitType, Patient)
        .join(VisitType, Appointment.visit_type_id == VisitType.id)
        .join(Patient, Appointment.patient_id == Patient.id)
        .where(
            Appointment.id.in_(holding),
            Appointment.start_at >= start,
            Appointment.start_at < end,
        )
        .order_by(Appointment.start_at, Appointment.id)
    ).all()


# --------------------------------------------------------------------------- the feed


def _initial(text: str | None) -> str:
    text = (text or "").strip()
    return f"{text[0].upper()}." if text else ""


def initials(patient: Patient) -> str:
    """ "W. L." for 王丽 (WANG Li): family name first, from the Latin spelling
    when there is one (else the name's first character); never more."""
    family = patient.family_name_latin or patient.family_name
    given = patient.given_name_latin or patient.given_name
    return " ".join(part for part in (_initial(family), _initial(given)) if part) or "?"


def build(feed: FeedToken, rows, *, now: datetime) -> str:
    """The feed's .ics text (visits from ``feed_visits``)."""
    locale = feed.locale if feed.locale in LANGUAGES else "en"
    clinic = current_app.config["CLINIC_NAME"]
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    calendar = ics.new_calendar()
    with force_locale(locale):
        calendar.add("x-wr-calname", f"{localized(feed.resource.names, locale)} · {clinic}")
        calendar.add(
            "x-wr-caldesc", _("Visits at %(clinic)s (patients by initials).", clinic=clinic)
        )
        for appointment, visit_type, patient in rows:
            name = visit_type.name_in(locale)
            video = appointment.mode == VisitMode.VIDEO
            event = Event()
            event.add("uid", ics.uid_for(appointment))
            event.add("dtstamp", now)
            event.add("sequence", appointment.sequence)
            event.add("dtstart", appointment.start_at.astimezone(UTC))
            event.add("dtend", appointment.end_at.astimezone(UTC))
            event.add("summary", f"{initials(patient)} · {name}")
            event.add("location", _("Video call") if video else ics.clinic_location())
            event.add(
                "description",
                "\n".join(
                    (
                        _("Visit type: %(name)s", name=name),
                        _("Status: %(status)s", status=_(STATUS_LABELS[appointment.status])),
                    )
                ),
            )
            event.add("status", "CONFIRMED")
            event.add("transp", "OPAQUE")
            event.add("url", f"{base}/desk/visits/{appointment.id}")
            calendar.add_component(event)
    return calendar.to_ical().decode("utf-8")


def feed_text(feed: FeedToken, *, now: datetime | None = None) -> str:
    now = now or utcnow()
    start, end = feed_window(now, settings.get("horizon_days"))
    return build(feed, feed_visits(feed.resource_id, start, end), now=now)
