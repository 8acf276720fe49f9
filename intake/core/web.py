"""Small helpers every blueprint's views share."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, request
from flask_babel import gettext

from intake.core import parsing
from intake.core.errors import DomainError, FormErrors
from intake.extensions import db


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def show_domain_error(form, exc: DomainError, *, skip_fields_with_errors: bool = False) -> None:
    """Undo the failed change and show each message beside its field (or, for a
    message about the whole form, at the top of the page). ``FormErrors``
    shows all of its messages. With ``skip_fields_with_errors``, a field that
    already has the form's own message keeps just that one."""
    db.session.rollback()
    for error in exc.errors if isinstance(exc, FormErrors) else [exc]:
        field = getattr(form, error.field, None) if error.field else None
        if field is not None and hasattr(field, "errors"):
            if skip_fields_with_errors and field.errors:
                continue
            if error.message not in field.errors:
                field.errors = [*field.errors, error.message]
        else:
            flash(error.message, "danger")


def check_too(form, check) -> None:
    """After ``form`` failed its own (shape) validation, run the service's
    ``check()`` as well, so its messages (a wrong password, a rule) show in
    the same answer. Skipped when the CSRF token failed."""
    if "csrf_token" in form.errors:
        return
    try:
        check()
    except DomainError as exc:
        show_domain_error(form, exc, skip_fields_with_errors=True)


# Past this a page number only makes the database's OFFSET overflow.
MAX_PAGE = 10**9


def query_int(
    name: str, *, minimum: int = 1, maximum: int = parsing.ID_MAX, default: int | None = None
) -> int | None:
    """A whole number from the query string (an id, a page): ``default`` when
    blank or unreadable; an unreadable one is named in a message. By default
    within the range of a record id (``parsing.ID_MAX``)."""
    try:
        value = parsing.parse_int(request.args.get(name), minimum=minimum, maximum=maximum)
    except parsing.ParseError as exc:
        flash(exc.text(gettext), "warning")
        return default
    return default if value is None else value


def holds_nul_byte() -> bool:
    """True when any part of the request a view may read or store holds a NUL
    byte: a query or form name or value, a value taken from the path, or the
    client's address. No database stores it in text (PostgreSQL refuses it),
    and no person types it."""
    values = [request.path, request.remote_addr or ""]
    for data in (request.args, request.form):
        for key, items in data.lists():
            values.append(key)
            values.extend(items)
    values.extend(v for v in (request.view_args or {}).values() if isinstance(v, str))
    return any("\x00" in value for value in values)


def query_text(name: str, *, max_length: int = 64) -> str | None:
    """A short text from the query string, trimmed; None when blank or when
    it holds a character no database stores (named in a message)."""
    text = request.args.get(name, "").strip()[:max_length]
    try:
        parsing.check_text(text)
    except parsing.ParseError as exc:
        flash(exc.text(gettext), "warning")
        return None
    return text or None
