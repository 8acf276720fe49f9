"""Form fields and validators the domains' forms share. They read values
through ``intake.core.parsing`` so a form, a query string and an API call
accept the same dates and refuse the same input (shape only, no rules)."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from intake.core import parsing
from intake.core.weekdays import WEEKDAY_LABELS


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


def weekday_choices():
    return [SelectChoice(str(n), _l(label)) for n, label in enumerate(WEEKDAY_LABELS)]


class WeekdaysField(SelectMultipleField):
    """Weekdays ticked by name, Monday to Sunday; ``data`` is a sorted list of
    day numbers (0 = Monday). Blank values are ignored (nothing ticked is an
    empty list); anything else gets a message, never a 500."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("choices", weekday_choices)
        kwargs.setdefault("coerce", int)
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        days = set()
        for text in valuelist:
            try:
                day = parsing.parse_int(text, minimum=0, maximum=6)
            except parsing.ParseError:
                self.data = []
                raise ValueError(gettext("Choose weekdays from the list.")) from None
            if day is not None:
                days.add(day)
        self.data = sorted(days)

    def pre_validate(self, form):
        pass  # process_formdata has checked every value
