"""Form fields and validators the domains' forms share. They read values
through ``intake.core.parsing`` so a form, a query string and an API call
accept the same dates and refuse the same input (shape only, no rules)."""

from __future__ import annotations

import flask_wtf
import wtforms
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, PasswordField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.fields.core import UnboundField
from wtforms.meta import DefaultMeta
from wtforms.validators import InputRequired, NumberRange, StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from intake.core import parsing
from intake.core.weekdays import WEEKDAY_LABELS


def trim(value):
    """Spaces (any Unicode space, line breaks) around typed text removed."""
    return value.strip() if isinstance(value, str) else value


class SafeIntegerField(IntegerField):
    """A whole number that cannot overflow. A number past the 64-bit range is
    kept as the first one past it, so ``NumberRange`` names the field's own
    bounds (a 400-digit number used to overflow its float check: a 500);
    without a ``NumberRange`` the range of an INTEGER column applies."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not parsing.INT_MIN <= self.data <= parsing.INT_MAX:
            self.data = parsing.INT_MAX + 1 if self.data > 0 else parsing.INT_MIN - 1

    def pre_validate(self, form):
        if self.data is None or any(isinstance(v, NumberRange) for v in self.validators):
            return
        if not -parsing.ID_MAX - 1 <= self.data <= parsing.ID_MAX:
            raise ValidationError(
                gettext(parsing.MSG_INT_RANGE, low=-parsing.ID_MAX - 1, high=parsing.ID_MAX)
            )


class _CleanMeta:
    """Binds every text field (not a password) with ``trim`` first, and every
    ``IntegerField`` as a ``SafeIntegerField``."""

    def bind_field(self, form, unbound_field, options):
        field_class = unbound_field.field_class
        if field_class is IntegerField:
            unbound_field = UnboundField(
                SafeIntegerField,
                *unbound_field.args,
                name=unbound_field.name,
                **unbound_field.kwargs,
            )
        elif issubclass(field_class, StringField) and not issubclass(field_class, PasswordField):
            options["filters"] = [trim, *unbound_field.kwargs.get("filters", ())]
        return super().bind_field(form, unbound_field, options)


class FlaskForm(flask_wtf.FlaskForm):
    """The project's form base: every text field (not a password) is trimmed
    before it is validated or stored, so "  Sato " is saved as "Sato" and a
    name made only of spaces is empty (``Required`` then refuses it); whole
    numbers cannot overflow (``SafeIntegerField``).
    ``tests/core/test_text_fields.py`` checks that every form uses it."""

    class Meta(_CleanMeta, flask_wtf.FlaskForm.Meta):
        pass


class Form(wtforms.Form):
    """The same for a form inside a form (``FormField``), which has no CSRF."""

    class Meta(_CleanMeta, DefaultMeta):
        pass


class Required(InputRequired):
    """Something must be typed, and text made only of spaces does not count."""

    def __call__(self, form, field):
        super().__call__(form, field)
        if isinstance(field.data, str) and not field.data.strip():
            field.errors[:] = []
            raise StopValidation(self.message or field.gettext("This field is required."))


def required():
    return Required(message=_l("This field is required."))


class PhoneNumber:
    """A phone number with its country code; the field's data becomes its
    E.164 form (``+8613800138000``). Blank is left to ``Optional``/``Required``."""

    def __call__(self, form, field):
        try:
            field.data = parsing.parse_phone(field.data)
        except parsing.ParseError as exc:
            raise ValidationError(exc.text(gettext)) from None


class PhoneField(StringField):
    """A phone number field (validated by ``PhoneNumber``): the form's data is
    the E.164 form, but the page shows what the person typed."""

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return super()._value()


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
