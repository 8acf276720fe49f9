"""Form fields and validators the domains' forms share. They read values
through ``intake.core.parsing`` so a form, a query string and an API call
accept the same dates and refuse the same input (shape only, no rules)."""

from __future__ import annotations

from flask_babel import gettext
from wtforms import DateField
from wtforms.validators import ValidationError

from intake.core import parsing


class SafeDateField(DateField):
    """A YYYY-MM-DD day in the sensible year range (1900-2200); anything else
    gets a clear message next to the field, and what was typed stays shown."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("format", "%Y-%m-%d")
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        try:
            self.data = parsing.parse_date(valuelist[0])
        except parsing.ParseError as exc:
            self.data = None
            raise ValueError(exc.text(gettext)) from None


class NoNul:
    """Refuses text holding a NUL byte (PostgreSQL cannot store it)."""

    def __call__(self, form, field):
        try:
            if isinstance(field.data, str):
                parsing.check_text(field.data)
        except parsing.ParseError as exc:
            raise ValidationError(exc.text(gettext)) from None
