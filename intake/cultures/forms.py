"""Culture forms: shape only (types, required, lengths). The rules (times
after the collection and not in the future, counts, thresholds) live in the
services and the pure modules, whose messages show beside the same fields."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateTimeLocalField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional

from intake.core.forms import FlaskForm, NoNul, Required, SafeDateField
from intake.cultures.lifecycle import QcItem


def _required():
    return Required(message=_l("This field is required."))


class WhenField(DateTimeLocalField):
    """A clinic-local date and time (the view gives it the clinic's zone)."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(
            label,
            validators or [_required()],
            format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
            **kwargs,
        )

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter the date and time.")) from None

    def aware(self, tz) -> datetime | None:
        return self.data.replace(tzinfo=tz) if self.data else None


def _text(label, *, required=False, max_length=120):
    validators = [_required() if required else Optional(), Length(max=max_length), NoNul()]
    return StringField(label, validators=validators)


def _note(label, *, required=False):
    validators = [_required() if required else Optional(), Length(max=2000), NoNul()]
    return TextAreaField(label, validators=validators)


class CollectionForm(FlaskForm):
    collected_by = _text(_l("Collected by"), required=True)
    tissue_amount = IntegerField(
        _l("Fat tissue collected"),
        validators=[_required(), NumberRange(min=1, max=100_000)],
    )
    tissue_unit = SelectField(
        _l("Unit"),
        choices=[SelectChoice("pieces", _l("pieces")), SelectChoice("mg", _l("mg"))],
    )
    blood_volume_ml = IntegerField(
        _l("Blood drawn (mL)"), validators=[_required(), NumberRange(min=1, max=1000)]
    )


class ReceiveForm(FlaskForm):
    received_by = _text(_l("Received by"), required=True)
    occurred_at = WhenField(_l("Received at"))
    condition = _note(_l("Condition of the tissue and serum"), required=True)


class _EventForm(FlaskForm):
    corrects_id = HiddenField()
    occurred_at = WhenField(_l("When"))


class CustodyForm(_EventForm):
    person = _text(_l("Handed to"), required=True)
    from_place = _text(_l("From"), required=True)
    to_place = _text(_l("To"), required=True)
    note = _note(_l("Note"))


class PassageForm(_EventForm):
    passage_number = IntegerField(
        _l("Passage number (P)"), validators=[_required(), NumberRange(min=0, max=50)]
    )
    note = _note(_l("Note"))


class MediumChangeForm(_EventForm):
    note = _note(_l("Note"))


class CountForm(_EventForm):
    # The form base bounds it to the INTEGER range (far above any dose) and
    # refuses a number past it beside the field; 0 and below: the service.
    cells = IntegerField(_l("Cells (whole batch)"), validators=[_required()])
    viability_percent = DecimalField(_l("Viability (%)"), places=None, validators=[_required()])
    note = _note(_l("Note"))


class ObservationForm(_EventForm):
    note = _note(_l("Observation"), required=True)


class QcForm(_EventForm):
    # The view labels the tests in the reader's language; the values stand alone.
    qc_item = SelectField(_l("Test"), choices=[SelectChoice(i.value, i.value) for i in QcItem])
    qc_value = _text(_l("Result"), required=True, max_length=40)
    note = _note(_l("Note"))


class TransitionForm(FlaskForm):
    target = HiddenField(validators=[_required(), Length(max=32)])
    reason = _note(_l("Reason"))


class IdentityCheckForm(FlaskForm):
    number = _text(_l("Chain-of-identity number (scan or type)"), required=True, max_length=64)
    name = _text(_l("Patient's name (either script)"), required=True, max_length=200)
    date_of_birth = SafeDateField(_l("Date of birth"), validators=[_required()])


EVENT_FORMS = {
    "custody": CustodyForm,
    "passage": PassageForm,
    "medium_change": MediumChangeForm,
    "cell_count": CountForm,
    "observation": ObservationForm,
    "qc_result": QcForm,
}
