"""The reinfusion day's forms: shape only (types, required, lengths). The
ranges and the guard live in ``day`` and ``doses``; their messages show
beside the same fields."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DecimalField, IntegerField, PasswordField, RadioField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from intake.core.forms import FlaskForm, SafeDateField, required
from intake.cultures.forms import WhenField, _note, _text
from intake.reinfusion.doses import MAX_DOSES


def _int(label):
    return IntegerField(label, validators=[required()])


class _Vitals:
    systolic = _int(_l("Blood pressure, systolic (mmHg)"))
    diastolic = _int(_l("Blood pressure, diastolic (mmHg)"))
    pulse = _int(_l("Pulse (beats per minute)"))
    temperature_c = DecimalField(_l("Temperature (°C)"), places=None, validators=[required()])
    spo2 = _int(_l("Oxygen saturation, SpO2 (%)"))


class ClearanceForm(FlaskForm, _Vitals):
    decision = RadioField(
        _l("Decision"),
        choices=[
            SelectChoice("go", _l("Cleared: go ahead today")),
            SelectChoice("no_go", _l("Not cleared today")),
        ],
        validators=[required()],
    )
    reason = _note(_l("Reason (required when not cleared)"))
    password = PasswordField(_l("Your password, to sign"), validators=[required(), Length(max=200)])


class BedsideForm(FlaskForm):
    label = _text(_l("Batch label (scan or type)"), required=True, max_length=64)
    name = _text(_l("Patient's name as read (either script)"), required=True, max_length=200)
    date_of_birth = SafeDateField(_l("Patient's date of birth"), validators=[required()])


class AdministrationForm(FlaskForm):
    route = SelectField(_l("Route"), validators=[required()])
    cells_given = _int(_l("Cells given"))
    over_cap_reason = _note(_l("Doctor's reason for a dose above the limit"))
    started_at = WhenField(_l("Started at"))
    ended_at = WhenField(_l("Ended at"))
    observed_until = WhenField(_l("Observed until"))
    systolic_after = _int(_l("Blood pressure after, systolic (mmHg)"))
    diastolic_after = _int(_l("Blood pressure after, diastolic (mmHg)"))
    pulse_after = _int(_l("Pulse after (beats per minute)"))
    temperature_c_after = DecimalField(
        _l("Temperature after (°C)"), places=None, validators=[required()]
    )
    spo2_after = _int(_l("Oxygen saturation after, SpO2 (%)"))
    note = _note(_l("Note"))


class DosePlanForm(FlaskForm):
    """The plan: how many doses, then one row per dose (``route_<n>``,
    ``cells_<n>``, ``interval_<n>``), read by the view from the form data."""

    count = SelectField(
        _l("Number of doses"),
        coerce=int,
        choices=[SelectChoice(n, str(n)) for n in range(1, MAX_DOSES + 1)],
    )
    reason = _note(_l("Doctor's reason for a dose above the limit"))
