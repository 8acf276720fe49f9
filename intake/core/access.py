"""Who may reach what: role checks on routes, object checks on records."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from intake.accounts.roles import CLINICAL_ROLES, Role


def role_required(*roles: Role):
    """Logged-in users with one of ``roles`` pass; others get 403 (anonymous
    users are sent to the login page)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def can_view_patient(user, patient) -> bool:
    """A patient sees only themself; clinical staff see every patient."""
    if user.role == Role.PATIENT:
        own = getattr(user, "patient", None)
        return own is not None and own.id == patient.id
    return user.role in (Role.COORDINATOR, Role.DOCTOR, Role.MANAGER)


def can_view_message(user, message) -> bool:
    return message.user_id == user.id


def can_manage_users(user) -> bool:
    return user.role == Role.ADMIN


def can_view_audit(user) -> bool:
    return user.role in (Role.MANAGER, Role.ADMIN)


# The audit trail of clinical records (answers, results, visits, the date of
# birth) is for clinical roles and managers. The administrator, who may not
# open a patient's record, reads the account and security events only, and of
# an account only what the account pages show.
ACCOUNT_EVENTS = ("accounts.", "settings.")
ACCOUNT_ENTITIES = ("users", "settings")
ACCOUNT_VALUES = frozenset(
    (
        "email",
        "full_name",
        "phone",
        "locale",
        "role",
        "is_active",
        "is_password_temporary",
        "totp_enabled_at",
    )
)


def can_view_clinical_audit(user) -> bool:
    return user.role in CLINICAL_ROLES


def require(allowed: bool, *, not_found: bool = True) -> None:
    """Stop the request unless ``allowed``. Records of other people answer 404
    so that their existence is not revealed."""
    if not allowed:
        abort(404 if not_found else 403)
