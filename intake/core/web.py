"""Small helpers every blueprint's views share."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash

from intake.core.errors import DomainError
from intake.extensions import db


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def show_domain_error(form, exc: DomainError) -> None:
    """Undo the failed change and show the message beside its field (or, for a
    message about the whole form, at the top of the page)."""
    db.session.rollback()
    errors = getattr(exc, "errors", None) or {exc.field: exc.message}
    for name, message in errors.items():
        field = getattr(form, name, None) if name else None
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, message]
        else:
            flash(message, "danger")
