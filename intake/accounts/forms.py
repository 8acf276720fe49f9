"""Account forms: shape only (types, required, lengths)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, EqualTo, Length, Optional

from intake.accounts.roles import ROLE_LABELS, STAFF_ROLES
from intake.core.forms import FlaskForm, PhoneField, PhoneNumber, Required
from intake.patients.forms import PatientNameFields, language_choices


def staff_role_choices():
    return [SelectChoice(r.value, _l(ROLE_LABELS[r])) for r in STAFF_ROLES]


def _required():
    return Required(message=_l("This field is required."))


def _email():
    return [_required(), Email(message=_l("Enter a valid e-mail address.")), Length(max=254)]


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[_required(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[_required(), Length(max=200)])


class RegistrationForm(PatientNameFields, FlaskForm):
    email = EmailField(_l("E-mail"), validators=_email())
    phone = PhoneField(_l("Phone (with country code)"), validators=[_required(), PhoneNumber()])
    locale = SelectField(_l("Preferred language"), choices=language_choices)
    password = PasswordField(_l("Password"), validators=[_required(), Length(max=200)])
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[_required(), EqualTo("password", message=_l("The passwords do not match."))],
    )


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=_email())


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[_required(), Length(max=200)])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[_required(), EqualTo("password", message=_l("The passwords do not match."))],
    )


class ChangePasswordForm(ResetPasswordForm):
    current_password = PasswordField(
        _l("Current password"), validators=[_required(), Length(max=200)]
    )


class StaffCreateForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=[_required(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=_email())
    role = SelectField(_l("Role"), choices=staff_role_choices)
    locale = SelectField(_l("Preferred language"), choices=language_choices)
    password = PasswordField(
        _l("Initial password (they must change it at first login)"),
        validators=[_required(), Length(max=200)],
    )


class UserEditForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=[_required(), Length(max=200)])
    phone = PhoneField(_l("Phone"), validators=[Optional(), PhoneNumber()])
    role = SelectField(_l("Role"), choices=staff_role_choices)
    is_active = BooleanField(_l("Account active"))
    reset_two_factor = BooleanField(
        _l("Reset two-step login (lost phone): they set up the app again at next login")
    )


class LanguageForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=language_choices)


class CodeForm(FlaskForm):
    code = StringField(
        _l("6-digit code from the authenticator app"),
        validators=[_required(), Length(max=12)],
    )
