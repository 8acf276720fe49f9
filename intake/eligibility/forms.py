"""Intake forms: shape only (types, required, lengths). The questionnaire pages
are built from the question set and checked by ``question_bank``."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from intake.core.forms import FlaskForm, Required
from intake.eligibility.models import Decision


def _required():
    return Required(message=_l("This field is required."))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ReviewNotesForm(FlaskForm):
    history_notes = TextAreaField(
        _l("History notes (past, present and personal history)"),
        validators=[Optional(), Length(max=20000)],
        render_kw={"rows": 6},
    )
    consultation_date = DateField(
        _l("Consultation date"), validators=[Optional()], format="%Y-%m-%d"
    )
    indication_code = SelectField(_l("Indication"), validate_choice=False)
    planned_route = SelectField(_l("Planned route"), validate_choice=False)


def decision_choices():
    return [
        SelectChoice(Decision.APPROVED.value, _l("Approve")),
        SelectChoice(Decision.MORE_INFO.value, _l("Ask the patient for more information")),
        SelectChoice(Decision.DECLINED.value, _l("Decline")),
    ]


class DecisionForm(FlaskForm):
    decision = RadioField(
        _l("Decision"),
        choices=decision_choices,
        validators=[InputRequired(message=_l("Choose a decision."))],
    )
    reason = TextAreaField(
        _l("Reason (the patient reads this)"), validators=[_required(), Length(max=4000)]
    )
    override_reason = TextAreaField(
        _l("Why you approve although the rules advise against it"),
        validators=[Optional(), Length(max=4000)],
    )
    password = PasswordField(
        _l("Your password, to sign"), validators=[_required(), Length(max=200)]
    )


class PanelOrderForm(FlaskForm):
    items = MultiCheckboxField(_l("Tests"), validate_choice=False)
    note = TextAreaField(_l("Note for the coordinator"), validators=[Optional(), Length(max=4000)])


def acceptable_choices():
    return [
        SelectChoice("yes", _l("Acceptable")),
        SelectChoice("no", _l("Not acceptable")),
        SelectChoice("pending", _l("Waiting for the doctor's assessment")),
    ]


class PanelResultForm(FlaskForm):
    item_code = SelectField(_l("Test"), validate_choice=False)
    test_date = DateField(
        _l("Date the blood was taken"), validators=[_required()], format="%Y-%m-%d"
    )
    result = StringField(
        _l("Result (as on the lab report)"), validators=[_required(), Length(max=200)]
    )
    acceptable = RadioField(
        _l("Assessment"),
        choices=acceptable_choices,
        default="pending",
        validators=[InputRequired(message=_l("Choose an assessment."))],
    )
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=4000)])


class ConsentSignForm(FlaskForm):
    document_id = HiddenField()
    # SHA-256 of the text shown: a text changed since the page was opened is refused.
    fingerprint = HiddenField()
    has_read = BooleanField(
        _l("I have read this document and my questions have been answered."),
        validators=[InputRequired(message=_l("Please confirm that you have read the document."))],
    )
    password = PasswordField(
        _l("Your password, to sign"), validators=[_required(), Length(max=200)]
    )


class WithdrawForm(FlaskForm):
    reason = TextAreaField(_l("Reason (optional)"), validators=[Optional(), Length(max=4000)])
    confirm = BooleanField(
        _l("I understand that my treatment journey stops."),
        validators=[InputRequired(message=_l("Please confirm to withdraw."))],
    )


class StaffWithdrawForm(FlaskForm):
    kind = SelectField(_l("Consent"), validate_choice=False)
    reason = TextAreaField(
        _l("How the patient told us, and why"), validators=[_required(), Length(max=4000)]
    )


def route_choices():
    from intake.eligibility.question_bank import ROUTES

    return [SelectChoice(route.code, route.names["en"]) for route in ROUTES]


class IndicationForm(FlaskForm):
    code = StringField(_l("Code (letters, digits, underscores)"), validators=[Length(max=64)])
    name_en = StringField(_l("Name in English"), validators=[_required(), Length(max=200)])
    name_zh_Hans = StringField(  # noqa: N815 - named after the locale code
        _l("Name in Simplified Chinese"), validators=[_required(), Length(max=200)]
    )
    name_ja = StringField(_l("Name in Japanese"), validators=[_required(), Length(max=200)])
    routes = MultiCheckboxField(_l("Routes the clinic's plan allows"), validate_choice=False)
    sort_order = IntegerField(
        _l("Position in lists"),
        default=0,
        validators=[
            InputRequired(message=_l("Enter a whole number.")),
            NumberRange(min=0, max=1000, message=_l("Enter a number from 0 to 1000.")),
        ],
    )
    is_active = BooleanField(_l("Offered to patients"), default=True)


class PanelItemForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[_required(), Length(max=32)],
        description=_l("As the laboratory names the test, e.g. anti-HEV. Cannot change later."),
    )
    name_en = StringField(_l("Name in English"), validators=[_required(), Length(max=200)])
    name_zh_Hans = StringField(  # noqa: N815 - named after the locale code
        _l("Name in Simplified Chinese"), validators=[_required(), Length(max=200)]
    )
    name_ja = StringField(_l("Name in Japanese"), validators=[_required(), Length(max=200)])
    sort_order = IntegerField(
        _l("Position in lists"),
        default=0,
        validators=[
            InputRequired(message=_l("Enter a whole number.")),
            NumberRange(min=0, max=10000, message=_l("Enter a number from 0 to 10000.")),
        ],
    )
    is_active = BooleanField(
        _l("Part of the panel (untick to retire the test; its results stay on record)"),
        default=True,
    )


class PanelItemMoveForm(FlaskForm):
    direction = HiddenField(validators=[_required(), AnyOf(("up", "down"))])


class ConsentPublishForm(FlaskForm):
    kind = SelectField(_l("Document"), validate_choice=False)
    locale = SelectField(_l("Language"), validate_choice=False)
    title = StringField(_l("Title"), validators=[_required(), Length(max=300)])
    body = TextAreaField(
        _l("Text"), validators=[_required(), Length(max=100000)], render_kw={"rows": 16}
    )
    changes_meaning = BooleanField(
        _l(
            "This version changes what the patient agrees to: patients who have not had "
            "their collection yet sign it again before booking"
        )
    )


class AnswerCorrectionForm(FlaskForm):
    """One answer corrected by the doctor with the patient: the new value (checked
    by the question's own rules in the service) and why."""

    value = StringField(_l("Corrected answer"), validators=[Length(max=4000)])
    reason = TextAreaField(
        _l("What the patient told you"),
        validators=[_required(), Length(max=4000)],
    )
