"""Scheduling forms: shape only (types, required, lengths). The rules (free
times, notice, capacity) live in the services and the pure modules."""

from __future__ import annotations

import secrets

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from intake.core.forms import FlaskForm, Form, NoNul, Required, SafeDateField, WeekdaysField


def _required():
    return Required(message=_l("This field is required."))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def new_request_key() -> str:
    """A booking form's idempotency key: random, made each time the form is shown."""
    return secrets.token_urlsafe(24)


class BookForm(FlaskForm):
    """The confirmation step: the chosen start (ISO 8601 with offset) and mode,
    and the form's idempotency key (``request_key``): sending the same form
    again returns the booking the first send made."""

    start = HiddenField(validators=[_required(), Length(max=40)])
    mode = RadioField(_l("How would you like to meet?"), validators=[Optional()], choices=[])
    request_key = HiddenField(
        validators=[Optional(), Regexp(r"^[A-Za-z0-9_-]{16,64}$")], default=new_request_key
    )


class PatientCancelForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (optional)"), validators=[Optional(), Length(max=500)], render_kw={"rows": 2}
    )


class StaffCancelForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for cancelling"),
        validators=[_required(), Length(max=500)],
        render_kw={"rows": 2},
    )


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token."""


class StatusForm(FlaskForm):
    action = HiddenField(validators=[_required(), Length(max=20)])
    next = HiddenField(validators=[Optional(), Length(max=300)])


class ResourceForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[_required(), Length(max=40)],
        description=_l("Lower-case letters, digits and hyphens; cannot change later."),
    )
    kind = SelectField(_l("Kind"), choices=[])
    name_en = StringField(_l("Name (English)"), validators=[_required(), Length(max=120)])
    name_zh = StringField(_l("Name (Simplified Chinese)"), validators=[Length(max=120)])
    name_ja = StringField(_l("Name (Japanese)"), validators=[Length(max=120)])
    capacity = IntegerField(
        _l("Capacity"),
        validators=[_required(), NumberRange(min=0, max=10000)],
        description=_l(
            "How many visits it serves at the same time (places per day for incubators)."
        ),
    )
    is_per_day = BooleanField(_l("Counted per day (incubator places)"))
    pool_id = SelectField(_l("Member of the staff group"), choices=[], validators=[Optional()])
    user_id = SelectField(_l("Staff account"), choices=[], validators=[Optional()])
    working_weekdays = WeekdaysField(_l("Working days"))
    is_active = BooleanField(_l("In use"), default=True)


class SegmentForm(Form):
    resource_id = SelectField(_l("Resource"), choices=[], validators=[Optional()])
    offset_minutes = IntegerField(
        _l("From minute"), validators=[Optional(), NumberRange(min=0, max=600)], default=0
    )
    duration_minutes = IntegerField(
        _l("For minutes (blank: to the end)"),
        validators=[Optional(), NumberRange(min=1, max=600)],
    )
    quantity = IntegerField(
        _l("How many"), validators=[Optional(), NumberRange(min=1, max=20)], default=1
    )
    remove = BooleanField(_l("Remove"))


class VisitTypeForm(FlaskForm):
    name_en = StringField(_l("Name (English)"), validators=[_required(), Length(max=120)])
    name_zh = StringField(_l("Name (Simplified Chinese)"), validators=[Length(max=120)])
    name_ja = StringField(_l("Name (Japanese)"), validators=[Length(max=120)])
    duration_minutes = IntegerField(
        _l("Length (minutes)"), validators=[_required(), NumberRange(min=5, max=600)]
    )
    modes = MultiCheckboxField(_l("How it can take place"), choices=[], validators=[Optional()])
    is_patient_bookable = BooleanField(_l("Patients can book it online"))
    is_desk_bookable = BooleanField(_l("Staff can book it on the day list"))
    is_active = BooleanField(_l("Offered"))
    segments = FieldList(FormField(SegmentForm), min_entries=1, max_entries=12)
    day_block_resource_id = SelectField(
        _l("Also hold, from the visit day to the end of the culture window"),
        choices=[],
        validators=[Optional()],
    )
    day_block_quantity = IntegerField(
        _l("Places held"), validators=[Optional(), NumberRange(min=1, max=20)], default=1
    )


class VisitTypeNewForm(VisitTypeForm):
    code = StringField(
        _l("Code"),
        validators=[_required(), Length(max=40)],
        description=_l("Lower-case letters, digits and hyphens; cannot change later."),
    )
    kind = SelectField(
        _l("Kind of visit"),
        choices=[],
        description=_l(
            "Cannot change later. The rules follow the kind: collection and reinfusion "
            "visits are booked only after approval, valid test results and signed consent."
        ),
    )


class ClosureForm(FlaskForm):
    first_date = SafeDateField(_l("From (day)"), validators=[_required()])
    last_date = SafeDateField(_l("To (day, for whole days)"), validators=[Optional()])
    from_time = TimeField(_l("From (time)"), validators=[Optional()], format="%H:%M")
    to_time = TimeField(_l("To (time)"), validators=[Optional()], format="%H:%M")
    reason = StringField(_l("Reason"), validators=[_required(), NoNul(), Length(max=200)])


class WaitlistJoinForm(FlaskForm):
    """The weeks are checked against the weeks offered by the service (a
    message next to the list when none or an unknown one is sent)."""

    weeks = MultiCheckboxField(_l("Weeks that suit you"), choices=[], validate_choice=False)
    fit_trips = BooleanField(_l("Only offer me days that fit my planned trips"))


class WaitlistActionForm(FlaskForm):
    """Accept, decline or leave: the button is the whole form (CSRF only)."""
