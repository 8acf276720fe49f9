"""Domain errors: raised by services, shown to the user by views.

A ``DomainError`` carries an English message already translated by the
service (services run inside a request with the user's locale) and, when the
problem belongs to one form field, that field's name so the view can show the
message next to it.
"""

from __future__ import annotations


class DomainError(Exception):
    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code


class NotAllowed(DomainError):
    """The actor may not do this (maps to 403)."""


class Conflict(DomainError):
    """The state changed underneath (e.g. a seat was just taken)."""


class FormErrors(DomainError):
    """Several problems found at once, each a ``DomainError`` naming its field,
    so a form shows every message in one answer instead of the first one."""

    def __init__(self, errors: list[DomainError]):
        super().__init__(" ".join(e.message for e in errors), field=errors[0].field)
        self.errors = list(errors)


class Problems:
    """Collects a service's checks so all of them run before any is reported.

    ``check(fn, …)`` calls a checking function and keeps the ``DomainError`` it
    raises (returning None); ``add`` records one directly; ``raise_if_any``
    raises the single error, or ``FormErrors`` for several."""

    def __init__(self) -> None:
        self.errors: list[DomainError] = []

    def add(self, message: str, *, field: str | None = None) -> None:
        self.errors.append(DomainError(message, field=field))

    def check(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except NotAllowed:
            raise
        except DomainError as exc:
            self.errors.append(exc)
            return None

    def raise_if_any(self) -> None:
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise FormErrors(self.errors)
