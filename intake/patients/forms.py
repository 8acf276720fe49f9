"""Patient record forms: shape only (types, required, lengths)."""

from __future__ import annotations

from datetime import date

from babel import Locale
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import DateField, EmailField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    Length,
    Optional,
    ValidationError,
)

from intake.core.forms import FlaskForm, PhoneField, PhoneNumber, Required
from intake.core.languages import LANGUAGE_NAMES, PATIENT_ORDER
from intake.patients.models import SEX_LABELS, Sex

#: Offered first: where most of the clinic's patients come from.
FIRST_COUNTRIES = ("CN", "JP", "HK", "TW", "MO", "KR", "SG")


def _required():
    return Required(message=_l("This field is required."))


def _filled():
    """Required, and not only spaces (the text is trimmed first)."""
    return DataRequired(message=_l("This field is required."))


def _strip(value):
    return " ".join(value.split()) if isinstance(value, str) else value


def language_choices():
    return [SelectChoice(code, LANGUAGE_NAMES[code]) for code in PATIENT_ORDER]


def sex_choices():
    return [SelectChoice("", "—")] + [SelectChoice(s.value, _l(SEX_LABELS[s])) for s in Sex]


def country_choices():
    """ISO 3166 countries named in the reader's language, the usual ones first."""
    territories = Locale.parse(str(get_locale() or "en")).territories
    countries = {code: name for code, name in territories.items() if len(code) == 2}
    countries.pop("ZZ", None)
    first = [SelectChoice(c, countries[c]) for c in FIRST_COUNTRIES if c in countries]
    rest = sorted(
        (SelectChoice(c, n) for c, n in countries.items() if c not in FIRST_COUNTRIES),
        key=lambda choice: choice.label,
    )
    return [SelectChoice("", "—"), *first, *rest]


class PatientNameFields:
    """The patient's two identifiers' first half: names in their own script and
    in Latin letters (as in the passport)."""

    family_name = StringField(
        _l("Family name"), filters=[_strip], validators=[_filled(), Length(max=100)]
    )
    given_name = StringField(
        _l("Given name"), filters=[_strip], validators=[_filled(), Length(max=100)]
    )
    family_name_latin = StringField(
        _l("Family name in Latin letters (as in the passport)"),
        filters=[_strip],
        validators=[Optional(), Length(max=100)],
    )
    given_name_latin = StringField(
        _l("Given name in Latin letters (as in the passport)"),
        filters=[_strip],
        validators=[Optional(), Length(max=100)],
    )
    date_of_birth = DateField(_l("Date of birth"), validators=[_required()], format="%Y-%m-%d")
    sex = SelectField(_l("Sex"), choices=sex_choices, validators=[Optional()])
    nationality = SelectField(_l("Nationality"), choices=country_choices, validators=[Optional()])

    def validate_date_of_birth(self, field):
        if field.data and not (date(1900, 1, 1) <= field.data <= date.today()):
            raise ValidationError(_l("Enter a real date of birth."))


class PatientRegistrationForm(PatientNameFields, FlaskForm):
    """A coordinator registers a patient who phones or walks in (no login yet)."""

    phone = PhoneField(_l("Phone (with country code)"), validators=[Optional(), PhoneNumber()])
    email = EmailField(
        _l("E-mail"),
        validators=[
            Optional(),
            Email(message=_l("Enter a valid e-mail address.")),
            Length(max=254),
        ],
    )
    locale = SelectField(_l("Preferred language"), choices=language_choices)


class InviteForm(FlaskForm):
    email = EmailField(
        _l("E-mail"),
        validators=[
            _required(),
            Email(message=_l("Enter a valid e-mail address.")),
            Length(max=254),
        ],
    )
