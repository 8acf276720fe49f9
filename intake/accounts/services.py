"""Changing accounts. Every function applies the rules, writes, leaves an
audit row and flushes; the view commits."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import func, or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from intake.accounts import two_factor
from intake.accounts.models import PasswordResetToken, User
from intake.accounts.passwords import lockout_seconds, password_problems
from intake.accounts.roles import STAFF_ROLES, Role
from intake.core import audit, settings
from intake.core.errors import DomainError, NotAllowed, Problems
from intake.core.types import utcnow
from intake.extensions import db
from intake.notifications.services import notify
from intake.patients.models import display_name
from intake.patients.services import create_patient

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


def _absolute(endpoint: str, **values) -> str:
    """An absolute link for e-mails; works without a request (CLI, seeding)."""
    path = current_app.url_map.bind("").build(endpoint, values)
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def _patient_of(user: User):
    return user.patient if user.role == Role.PATIENT else None


REGISTRATION_SALT = "intake-register"
REGISTRATION_LINK_HOURS = 48


def _registration_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=REGISTRATION_SALT)


def registration_link(user: User) -> str:
    token = _registration_serializer().dumps({"u": user.id, "n": user.session_nonce})
    return _absolute("accounts.confirm_registration", token=token)


def send_registration_link(user: User) -> None:
    notify(
        user.patient or user,
        "registration_confirm",
        link=registration_link(user),
        hours=REGISTRATION_LINK_HOURS,
    )


def register_patient(
    *,
    email: str,
    password: str,
    date_of_birth,
    phone: str,
    locale: str,
    family_name: str,
    given_name: str,
    family_name_latin: str | None = None,
    given_name_latin: str | None = None,
    sex: str | None = None,
    nationality: str | None = None,
) -> User | None:
    """Self-registration. The answer on screen is the same whether or not the
    e-mail is already registered ("check your e-mail"): a new account gets a
    link that confirms the address and signs in; the owner of an existing
    account gets a sign-in hint instead. Returns the new user, or None."""
    email = normalise_email(email)
    name = display_name(family_name, given_name)
    check_new_password(password, email=email, name=name)
    existing = find_by_email(email)
    if existing is not None:
        notify(
            existing.patient or existing,
            "registration_existing",
            login_link=_absolute("accounts.login"),
            reset_link=_absolute("accounts.forgot_password"),
        )
        audit.record(
            actor=None,
            action="accounts.register_existing",
            entity=existing,
            patient=_patient_of(existing),
        )
        return None
    user = User(
        email=email,
        full_name=name,
        phone=phone.strip(),
        locale=locale,
        role=Role.PATIENT,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()  # the new patient is the actor of their own registration
    patient = create_patient(
        family_name=family_name,
        given_name=given_name,
        family_name_latin=family_name_latin,
        given_name_latin=given_name_latin,
        date_of_birth=date_of_birth,
        sex=sex,
        nationality=nationality,
        phone=phone,
        email=email,
        locale=locale,
        user=user,
        actor=user,
    )
    audit.record(
        actor=user, action="accounts.register", entity=user, after=_snapshot(user), patient=patient
    )
    send_registration_link(user)
    return user


def confirm_registration(token: str) -> User | None:
    """The user whose registration link this is (confirming the address), or
    None when the link is wrong or older than REGISTRATION_LINK_HOURS."""
    try:
        data = _registration_serializer().loads(token, max_age=REGISTRATION_LINK_HOURS * 3600)
    except BadData:
        return None
    if not isinstance(data, dict):
        return None
    user = db.session.get(User, data.get("u")) if isinstance(data.get("u"), int) else None
    if user is None or user.session_nonce != data.get("n") or not user.is_active:
        return None
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        audit.record(
            actor=user,
            action="accounts.email_confirmed",
            entity=user,
            patient=_patient_of(user),
        )
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user when the e-mail and password match an active account that is
    not locked, else None, taking the same time whether or not the account
    exists or is locked. A wrong password counts towards the lock."""
    user = find_by_email(email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)  # equalise timing with a real check
        return None
    now = utcnow()
    if is_locked(user, now):
        check_password_hash(_DUMMY_HASH, password)  # the password is not even tried
        _refused_while_locked(user, "accounts.login_failed")
        return None
    if not user.check_password(password) or not user.is_active:
        record_login_failure(user, "accounts.login_failed", now=now)
        return None
    return user


def is_locked(user: User, now=None) -> bool:
    return user.locked_until is not None and user.locked_until > (now or utcnow())


def _not_locked(now):
    return or_(User.locked_until.is_(None), User.locked_until <= now)


def _refused_while_locked(user: User, action: str) -> None:
    audit.record(
        actor=user,
        action=action,
        entity=user,
        after={"locked_until": user.locked_until},
        patient=_patient_of(user),
    )


def record_login_failure(user: User, action: str, *, now=None) -> None:
    """Count a wrong password or login code, and lock the account when the
    count reaches the threshold (then for longer with each further failure).

    The count is one ``UPDATE … SET failed_logins = failed_logins + 1`` that
    returns the new value, so concurrent failures on any number of workers
    are each counted once, and the one that reaches the threshold locks. An
    attempt that finds the account locked meanwhile is not counted."""
    now = now or utcnow()
    failures = db.session.execute(
        update(User)
        .where(User.id == user.id, _not_locked(now))
        .values(failed_logins=User.failed_logins + 1)
        .returning(User.failed_logins)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if failures is None:  # locked by a concurrent failure since it was read
        db.session.refresh(user)
        _refused_while_locked(user, action)
        return
    config = current_app.config
    seconds = lockout_seconds(
        failures,
        threshold=config["LOGIN_LOCKOUT_THRESHOLD"],
        first=config["LOGIN_LOCKOUT_SECONDS"],
        longest=config["LOGIN_LOCKOUT_MAX_SECONDS"],
    )
    until = now + timedelta(seconds=seconds) if seconds else None
    if until is not None:
        # The row stays locked by the UPDATE above until the commit.
        db.session.execute(
            update(User)
            .where(User.id == user.id)
            .values(locked_until=until)
            .execution_options(synchronize_session=False)
        )
    db.session.refresh(user)
    patient = _patient_of(user)
    audit.record(
        actor=user, action=action, entity=user, after={"failed_logins": failures}, patient=patient
    )
    if until is not None:
        audit.record(
            actor=user,
            action="accounts.login_locked",
            entity=user,
            after={"failed_logins": failures, "locked_until": until},
            patient=patient,
        )


def open_login(user: User) -> bool:
    """The last step of a login by password (and code): the failure count
    starts again and the login is recorded. False, writing nothing, when a
    concurrent failure has locked the account since its password was checked."""
    now = utcnow()
    opened = db.session.execute(
        update(User)
        .where(User.id == user.id, _not_locked(now))
        .values(failed_logins=0, locked_until=None)
        .execution_options(synchronize_session=False)
    )
    if opened.rowcount != 1:
        return False
    db.session.refresh(user)
    record_login(user)
    return True


def record_login(user: User) -> None:
    user.last_login_at = utcnow()
    audit.record(actor=user, action="accounts.login", entity=user, patient=_patient_of(user))


def log_out(user: User) -> None:
    """End every session of ``user``: a copy of the cookie stops working too."""
    user.end_sessions()
    audit.record(actor=user, action="accounts.logout", entity=user, patient=_patient_of(user))


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
    _end_reset_tokens(user.id, utcnow())  # a link asked for earlier must not undo it
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
    link = _absolute("accounts.reset_password", token=token)
    notify(user, "password_reset", link=link, minutes=ttl // 60)
    return token


def valid_reset_token(token: str) -> PasswordResetToken | None:
    row = db.session.execute(
        select(PasswordResetToken).where(PasswordResetToken.token_hash == _token_hash(token))
    ).scalar_one_or_none()
    if (
        row is None
        or row.used_at is not None
        or row.expires_at <= utcnow()
        or not row.user.is_active
    ):
        return None
    return row


def _use_reset_token(row: PasswordResetToken, now) -> bool:
    """Mark the token used, and with it every other unused token of its user
    (an older link must not outlive a newer one, nor the reverse). The
    database decides: only one request can turn this token from unused to
    used, whatever runs at the same time."""
    used = db.session.execute(
        update(PasswordResetToken)
        .where(
            PasswordResetToken.id == row.id,
            PasswordResetToken.used_at.is_(None),
            PasswordResetToken.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:
        return False
    _end_reset_tokens(row.user_id, now)
    db.session.refresh(row)
    return True


def _end_reset_tokens(user_id: int, now) -> None:
    db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user_id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )


def reset_password(token: str, new: str) -> User:
    row = valid_reset_token(token)
    if row is None:
        raise DomainError(_("This reset link has expired or was already used. Ask for a new one."))
    user = row.user
    check_new_password(new, email=user.email, name=user.full_name)
    now = utcnow()
    if not _use_reset_token(row, now):  # another request used it in the meantime
        raise DomainError(_("This reset link has expired or was already used. Ask for a new one."))
    before = _snapshot(user)
    user.set_password(new)
    user.is_password_temporary = False
    if user.email_verified_at is None:  # the link proves the address
        user.email_verified_at = now
    user.failed_logins = 0  # the owner has shown who they are: lift the lock
    user.locked_until = None
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
        email_verified_at=utcnow(),  # the admin entered the staff member's address
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
        user.end_sessions()
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
    """The language the person chose; for a patient also the language the
    clinic writes to them in (their record's, which ``notify`` uses)."""
    patient = _patient_of(user)
    if patient is not None and patient.locale != locale:
        patient.locale = locale
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
    """True when ``code`` is the user's current code, not used before and the
    account is not locked. A wrong code counts towards the lock like a wrong
    password; the right one lets ``open_login`` reset the count."""
    now = now or utcnow()
    if is_locked(user, now):
        _refused_while_locked(user, "accounts.two_factor_failed")
        return False
    step = two_factor.matching_step(user.totp_secret, code, now=now, last_step=user.totp_last_step)
    if step is None:
        record_login_failure(user, "accounts.two_factor_failed", now=now)
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
    user.end_sessions()
    audit.record(
        actor=actor,
        action="accounts.two_factor_reset",
        entity=user,
        before=before,
        after=_snapshot(user),
    )


def invite_patient(patient, *, email: str, actor: User) -> User:
    """Give a patient registered by the desk a login: an account with no usable
    password, linked to their record, and an e-mail with a single-use link to
    choose one (it also confirms the address)."""
    from intake.patients.services import REGISTRARS, link_login

    if actor is None or actor.role not in REGISTRARS:
        raise NotAllowed(_("Only a coordinator or a doctor can do this."))
    email = normalise_email(email)
    if patient.user_id is not None:
        raise DomainError(_("This patient already has a login."), field="email")
    if find_by_email(email) is not None:
        raise DomainError(_("Another account already uses this e-mail address."), field="email")
    user = User(
        email=email,
        full_name=patient.full_name,
        phone=patient.phone,
        locale=patient.locale,
        role=Role.PATIENT,
    )
    user.set_password(secrets.token_urlsafe(32))  # never told to anyone
    db.session.add(user)
    db.session.flush()
    if not patient.email:
        patient.email = email
    link_login(patient, user, actor=actor)
    token = secrets.token_urlsafe(32)
    ttl = current_app.config["INVITATION_TTL_SECONDS"]
    db.session.add(
        PasswordResetToken(
            user=user, token_hash=_token_hash(token), expires_at=utcnow() + timedelta(seconds=ttl)
        )
    )
    link = _absolute("accounts.reset_password", token=token)
    notify(patient, "patient_invitation", link=link, days=max(1, ttl // 86400))
    audit.record(
        actor=actor,
        action="accounts.invite",
        entity=user,
        after=_snapshot(user),
        patient=patient,
    )
    return user
