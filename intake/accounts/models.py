"""People who use the clinic's software: patients and staff."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from intake.accounts.roles import STAFF_ROLES, Role
from intake.core.db import enum_column
from intake.core.types import utcnow
from intake.extensions import db


def _nonce() -> str:
    return secrets.token_hex(8)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    # The manager's overview counts active accounts by role from this index alone.
    __table_args__ = (Index("ix_users_active_role", "is_active", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date | None]
    phone: Mapped[str | None] = mapped_column(String(40))
    locale: Mapped[str] = mapped_column(String(16), default="en")
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    is_password_temporary: Mapped[bool] = mapped_column(default=False)
    # Part of every session's id (``get_id``): rotating it (``end_sessions``)
    # ends every session of this user on every device, server-side.
    session_nonce: Mapped[str] = mapped_column(String(32), default=_nonce)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_login_at: Mapped[datetime | None]
    # Failed passwords and login codes in a row (counted in the database, so
    # across every worker); past the threshold the account is locked until
    # ``locked_until`` (accounts.services.record_login_failure).
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None]
    # When the owner proved the address (self-registered patients sign in only after).
    email_verified_at: Mapped[datetime | None]
    # Second factor (staff): the authenticator secret, when it was confirmed,
    # and the last time step used (a code is never accepted twice).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None]

    AUDITED = (
        "email",
        "full_name",
        "date_of_birth",
        "phone",
        "locale",
        "role",
        "is_active",
        "is_password_temporary",
        "totp_enabled_at",
    )

    def set_password(self, password: str) -> None:
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)
        self.end_sessions()

    def end_sessions(self) -> None:
        """Every session cookie issued so far stops working (logout, a new
        password, a disabled account, a reset second factor)."""
        self.session_nonce = _nonce()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_nonce}"

    @property
    def has_two_factor(self) -> bool:
        return self.totp_secret is not None and self.totp_enabled_at is not None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def audit_label(self) -> str:
        return f"{self.full_name} <{self.email}> ({self.role.value})"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role.value}>"


class PasswordResetToken(db.Model):
    """Only the token's SHA-256 is stored; the token itself travels by e-mail."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    user: Mapped[User] = relationship()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
