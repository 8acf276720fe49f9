"""Changing accounts. Every function applies the rules, writes, leaves an
audit row and flushes; the view commits."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from intake.accounts import two_factor
from intake.accounts.models import PasswordResetToken, User
from intake.accounts.passwords import password_problems
from intake.accounts.roles import STAFF_ROLES, Role
from intake.core import audit, settings
from intake.core.errors import DomainError, NotAllowed, Problems
from intake.core.types import utcnow
from intake.extensions import db
from intake.notifications.services import notify

# Checked against when no account matches, so a miss costs as much as a hit.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(email: str) -> User | None:
    return db.session.execute(
        select(User).where(func.lower(User.email) == normalise_email(email))
    ).scalar_one_or_none()


def check_new_password(password: str, *, email: str = "", name: str = "") -> None:
    problems = password_problems(
        password,
        min_length=settings.get("password_min_length"),
        personal=(email.split("@")[0], name),
    )
    if problems:
        raise DomainError(" ".join(_(msg, **params) for msg, params in problems), field="password")


def _snapshot(user: User) -> dict:
    return audit.snapshot(user, User.AUDITED)


def _patient_of(user: User) -> User | None:
    return user if user.role == Role.PATIENT else None


def register_patient(
    *, email: str, password: str, full_name: str, date_of_birth, phone: str, locale: str
) -> User:
    email = normalise_email(email)
    if find_by_email(email) is not None:
        raise DomainError(
            _("An account with this e-mail already exists. Log in or reset your password."),
            field="email",
        )
    check_new_password(password, email=email, name=full_name)
    user = User(
        email=email,
        full_name=full_name.strip(),
        date_of_birth=date_of_birth,
        phone=phone.strip(),
        locale=locale,
        role=Role.PATIENT,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()  # the new patient is the actor of their own registration
    audit.record(
        actor=user, action="accounts.register", entity=user, after=_snapshot(user), patient=user
    )
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user when the e-mail and password match an active account, else
    None, taking the same time whether or not the account exists."""
    user = find_by_email(email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)  # equalise timing with a real check
        return None
    if not user.check_password(password) or not user.is_active:
        audit.record(
            actor=user, action="accounts.login_failed", entity=user, patient=_patient_of(user)
        )
        return None
    return user


def record_login(user: User) -> None:
    user.last_login_at = utcnow()
    audit.record(actor=user, action="accounts.login", entity=user, patient=_patient_of(user))


def check_password_change(user: User, *, current: str | None, new: str | None) -> None:
    """Every problem with this password change at once, writing nothing."""
    problems = Problems()
    if not current or not user.check_password(current):
        problems.add(_("Your current password is not correct."), field="current_password")
    if current and current == new:
        problems.add(_("Choose a password different from the current one."), field="password")
    else:
        problems.check(check_new_password, new or "", email=user.email, name=user.full_name)
    problems.raise_if_any()


def change_password(user: User, *, current: str, new: str) -> None:
    check_password_change(user, current=current, new=new)
    before = _snapshot(user)
    user.set_password(new)
    user.is_password_temporary = False
    audit.record(
        actor=user,
        action="accounts.password_change",
        entity=user,
        before=before,
        after=_snapshot(user),
        patient=_patient_of(user),
    )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_password_reset(email: str) -> str | None:
    """E-mail a single-use reset link when the account exists and is active.
    Returns the token (for tests); the caller answers the same either way."""
    user = find_by_email(email)
    if user is None or not user.is_active:
        return None
    token = secrets.token_urlsafe(32)
    ttl = current_app.config["PASSWORD_RESET_TTL_SECONDS"]
    row = PasswordResetToken(
        user=user, token_hash=_token_hash(token), expires_at=utcnow() + timedelta(seconds=ttl)
    )
    db.session.add(row)
    audit.record(
        actor=None,
        action="accounts.password_reset_requested",
        entity=user,
        patient=_patient_of(user),
    )
    link = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for(
        "accounts.reset_password", token=token
    )
    notify(user, "password_reset", link=link, minutes=ttl // 60)
    return token


def valid_reset_token(token: str) -> PasswordResetToken | None:
    row = db.session.execute(
        select(PasswordResetToken).where(PasswordResetToken.token_hash == _token_hash(token))
    ).scalar_one_or_none()
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    return row


def reset_password(token: str, new: str) -> User:
    row = valid_reset_token(token)
    if row is None:
        raise DomainError(_("This reset link has expired or was already used. Ask for a new one."))
    user = row.user
    check_new_password(new, email=user.email, name=user.full_name)
    before = _snapshot(user)
    user.set_password(new)
    user.is_password_temporary = False
    row.used_at = utcnow()
    audit.record(
        actor=user,
        action="accounts.password_reset",
        entity=user,
        before=before,
        after=_snapshot(user),
        patient=_patient_of(user),
    )
    return user


def create_staff(
    *, actor: User | None, email: str, full_name: str, role: Role, password: str, locale: str = "en"
) -> User:
    if actor is not None and actor.role != Role.ADMIN:
        raise NotAllowed(_("Only an administrator can create staff accounts."))
    if role not in STAFF_ROLES:
        raise DomainError(_("Choose a staff role."), field="role")
    email = normalise_email(email)
    if find_by_email(email) is not None:
        raise DomainError(_("An account with this e-mail already exists."), field="email")
    check_new_password(password, email=email, name=full_name)
    user = User(
        email=email,
        full_name=full_name.strip(),
        role=role,
        locale=locale,
        is_password_temporary=True,
    )
    user.set_password(password)
    db.session.add(user)
    audit.record(actor=actor, action="accounts.create_staff", entity=user, after=_snapshot(user))
    return user


def update_user(user: User, *, actor: User, **fields) -> None:
    """Admin edits: name, phone, role, active. An admin cannot lock themself out."""
    if actor.role != Role.ADMIN:
        raise NotAllowed(_("Only an administrator can change accounts."))
    if user.id == actor.id and (
        fields.get("is_active") is False or fields.get("role", actor.role) != Role.ADMIN
    ):
        raise DomainError(_("You cannot remove your own administrator access."), field="role")
    if "role" in fields and (user.role == Role.PATIENT) != (fields["role"] == Role.PATIENT):
        raise DomainError(
            _("A patient account cannot become a staff account, or the reverse."), field="role"
        )
    before = _snapshot(user)
    for name, value in fields.items():
        setattr(user, name, value)
    if fields.get("is_active") is False:
        user.session_nonce = secrets.token_hex(8)
    old, new = audit.changes(before, _snapshot(user))
    if new:
        audit.record(
            actor=actor,
            action="accounts.update",
            entity=user,
            before=old,
            after=new,
            patient=_patient_of(user),
        )


def set_locale(user: User, locale: str) -> None:
    if user.locale == locale:
        return
    before = {"locale": user.locale}
    user.locale = locale
    audit.record(
        actor=user,
        action="accounts.set_locale",
        entity=user,
        before=before,
        after={"locale": locale},
        patient=_patient_of(user),
    )


# --------------------------------------------------------------- second factor


def two_factor_required(user: User) -> bool:
    return user.is_staff and bool(settings.get("staff_two_factor_required"))


def enable_two_factor(user: User, *, secret: str, code: str, now=None) -> None:
    """Confirm the authenticator app: the code shown must match ``secret``."""
    now = now or utcnow()
    step = two_factor.matching_step(secret, code, now=now, last_step=None)
    if step is None:
        raise DomainError(
            _("This code does not match. Check the time on your phone and try the newest code."),
            field="code",
        )
    before = _snapshot(user)
    user.totp_secret = secret
    user.totp_enabled_at = now
    user.totp_last_step = step
    audit.record(
        actor=user,
        action="accounts.two_factor_enable",
        entity=user,
        before=before,
        after=_snapshot(user),
    )


def check_login_code(user: User, code: str, *, now=None) -> bool:
    """True when ``code`` is the user's current code, not used before."""
    now = now or utcnow()
    step = two_factor.matching_step(user.totp_secret, code, now=now, last_step=user.totp_last_step)
    if step is None:
        audit.record(actor=user, action="accounts.two_factor_failed", entity=user)
        return False
    user.totp_last_step = step
    return True


def reset_two_factor(user: User, *, actor: User) -> None:
    """An admin clears a lost authenticator; the person sets up a new one at next login."""
    if actor.role != Role.ADMIN:
        raise NotAllowed(_("Only an administrator can change accounts."))
    if user.totp_secret is None:
        return
    before = _snapshot(user)
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.session_nonce = secrets.token_hex(8)
    audit.record(
        actor=actor,
        action="accounts.two_factor_reset",
        entity=user,
        before=before,
        after=_snapshot(user),
    )
