"""Reinfusion forms: shape only (types, required, lengths). Which times and
routes are valid, and who may act, is decided by ``rules`` and ``services``,
whose messages show beside the same fields."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import Length

from intake.core.forms import FlaskForm, NoNul, required

REASON_MAX = 1000


class ProposeForm(FlaskForm):
    route = SelectField(_l("Route"), validators=[required()], validate_choice=False)
    #: ISO 8601 starts with the clinic's offset, ticked among the valid times.
    times = SelectMultipleField(_l("Times to offer"), validate_choice=False)


class ConfirmForm(FlaskForm):
    """Only the CSRF token: the proposal is in the URL."""


class ChangeRequestForm(FlaskForm):
    reason = TextAreaField(
        _l("Why do you need another date?"),
        validators=[required(), Length(max=REASON_MAX), NoNul()],
    )


class MoveForm(FlaskForm):
    start = SelectField(_l("New time"), validators=[required()], validate_choice=False)
    reason = TextAreaField(
        _l("Reason for the move"), validators=[required(), Length(max=REASON_MAX), NoNul()]
    )
    lab = SelectField(
        _l("Lab technician who agreed"),
        validators=[required()],
        validate_choice=False,
    )
    request_id = HiddenField()


class DeclineForm(FlaskForm):
    answer = TextAreaField(
        _l("Answer to the patient"), validators=[required(), Length(max=REASON_MAX), NoNul()]
    )
