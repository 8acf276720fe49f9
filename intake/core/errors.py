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


class FieldErrors(DomainError):
    """Several fields are wrong at once: ``errors`` maps each field to its message,
    so the form can show every problem in one answer."""

    def __init__(self, errors: dict[str, str]):
        first_field, first_message = next(iter(errors.items()))
        super().__init__(first_message, field=first_field)
        self.errors = dict(errors)
