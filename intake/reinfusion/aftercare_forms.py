"""After-care forms: shape only (types, lengths). The rules (dates not in the
future, begun before known, a note when unreachable, a known category) live
in the services and the pure ``aftercare`` module, whose messages show
beside the same fields. The patient's questionnaire is drawn from
``aftercare.QUESTIONS`` and checked there; its form carries only the CSRF
token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from intake.core.forms import FlaskForm, NoNul, SafeDateField
from intake.reinfusion.models import SERIOUSNESS_LABELS


class QuestionnaireForm(FlaskForm):
    """The CSRF token of the patient's questionnaire."""


class CloseFollowUpForm(FlaskForm):
    status = SelectField(
        _l("Outcome"),
        choices=[
            SelectChoice("done", _l("Done: spoke with the patient or read their answers")),
            SelectChoice("unreachable", _l("Unreachable")),
        ],
        validate_choice=False,
    )
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000), NoNul()])


def seriousness_choices():
    return [SelectChoice("", _l("Choose…"))] + [
        SelectChoice(code.value, _l(label)) for code, label in SERIOUSNESS_LABELS.items()
    ]


class AdverseEventForm(FlaskForm):
    description = TextAreaField(
        _l("What happened"), validators=[Optional(), Length(max=4000), NoNul()]
    )
    began_on = SafeDateField(_l("Began on"), validators=[Optional()])
    known_on = SafeDateField(_l("The clinic learnt of it on"), validators=[Optional()])
    seriousness = SelectField(_l("Seriousness"), choices=seriousness_choices, validate_choice=False)
    administration = SelectField(
        _l("After the administration of"), choices=[], validate_choice=False
    )


class ReportedForm(FlaskForm):
    reference = StringField(
        _l("Report reference"), validators=[Optional(), Length(max=120), NoNul()]
    )


class AcknowledgeForm(FlaskForm):
    """The CSRF token of "the CPC was told"."""
