"""Typed text is trimmed, and a required text made only of spaces is refused
with a message beside the field (it used to be stored empty: staff names,
resource, visit type, indication and panel test names, reasons)."""

from __future__ import annotations

import importlib
import pkgutil

import wtforms
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired

import intake
from intake.accounts.models import User
from intake.accounts.roles import Role
from intake.core.forms import FlaskForm as TrimmedForm
from intake.core.forms import Form as TrimmedSubform
from intake.core.models import AuditEntry
from intake.extensions import db

REQUIRED = "This field is required."


def _all_forms() -> list[type]:
    for module in pkgutil.walk_packages(intake.__path__, "intake."):
        if module.name.endswith(".forms"):
            importlib.import_module(module.name)
    found, todo = [], [wtforms.Form]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            bases = (TrimmedForm, TrimmedSubform)
            if sub.__module__.startswith("intake.") and sub not in bases and sub not in found:
                found.append(sub)
    return found


FORMS = _all_forms()


def test_there_are_forms_to_check():
    assert len(FORMS) > 20


def test_every_form_trims_its_text():
    """Every form is built on the project's FlaskForm (or, inside a form, its
    Form), which trims text fields and bounds whole numbers."""
    bases = (TrimmedForm, TrimmedSubform)
    assert [c.__name__ for c in FORMS if not issubclass(c, bases)] == []


def _required_text_fields(form):
    for field in form:
        if not isinstance(field, StringField) or isinstance(field, PasswordField):
            continue
        if any(isinstance(v, InputRequired) for v in field.validators):
            yield field.name


def _required_pairs():
    # Fields are only listed once a form is bound (needs a request context).
    from intake import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}, config_object="config.TestConfig")
    with app.test_request_context():
        return [
            (form_class, name)
            for form_class in FORMS
            for name in _required_text_fields(form_class(formdata=None))
        ]


PAIRS = _required_pairs()


def test_required_text_fields_found():
    names = {f"{c.__name__}.{n}" for c, n in PAIRS}
    for expected in (
        "StaffCreateForm.full_name",
        "UserEditForm.full_name",
        "ResourceForm.name_en",
        "VisitTypeForm.name_en",
        "IndicationForm.name_en",
        "PanelItemForm.name_ja",
        "ClosureForm.reason",
        "StaffCancelForm.reason",
    ):
        assert expected in names


def test_only_spaces_in_a_required_text_field_is_refused(app):
    wrong = []
    for form_class, name in PAIRS:
        with app.test_request_context(method="POST"):
            form = form_class(formdata=MultiDict({name: " \t\u3000 "}))
            form.validate()
            if REQUIRED not in [str(e) for e in form[name].errors]:
                wrong.append(f"{form_class.__name__}.{name}")
    assert wrong == []


def test_text_is_trimmed(app):
    wrong = []
    for form_class, name in PAIRS:
        with app.test_request_context(method="POST"):
            form = form_class(formdata=MultiDict({name: "  abc \n"}))
            if form[name].data != "abc":
                wrong.append(f"{form_class.__name__}.{name}")
    assert wrong == []


def _count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_a_staff_name_of_spaces_is_refused(client, login_as):
    login_as(Role.ADMIN)
    before = _count(User)
    data = {
        "full_name": "   ",
        "email": "nurse@example.org",
        "role": "coordinator",
        "locale": "en",
        "password": "Bright-Lantern-2026",
    }
    with client.post("/admin/users/new", data=data) as r:
        assert r.status_code == 200
        body = r.get_data(as_text=True)
    assert 'id="full_name-error"' in body and REQUIRED in body.split('id="full_name-error"')[1]
    assert _count(User) == before


def test_a_staff_name_is_stored_trimmed(client, login_as):
    login_as(Role.ADMIN)
    data = {
        "full_name": "  Ito Aya  ",
        "email": " Nurse@Example.org ",
        "role": "coordinator",
        "locale": "en",
        "password": "Bright-Lantern-2026",
    }
    client.post("/admin/users/new", data=data).close()
    user = db.session.execute(select(User).where(User.email == "nurse@example.org")).scalar_one()
    assert user.full_name == "Ito Aya"


def test_an_account_edit_to_a_name_of_spaces_is_refused(client, login_as, make_user):
    login_as(Role.ADMIN)
    doctor = make_user(Role.DOCTOR, full_name="Dr. Sato")
    audit_before = _count(AuditEntry)
    with client.post(f"/admin/users/{doctor.id}", data={"full_name": "  ", "role": "doctor"}) as r:
        assert r.status_code == 200
        assert REQUIRED in r.get_data(as_text=True)
    db.session.refresh(doctor)
    assert doctor.full_name == "Dr. Sato" and _count(AuditEntry) == audit_before


def test_an_indication_of_spaces_is_refused(client, login_as):
    from intake.eligibility.models import Indication

    login_as(Role.MANAGER)
    data = {
        "code": "hair",
        "name_en": "Hair",
        "name_zh_Hans": " ",
        "name_ja": "　",
        "sort_order": 5,
    }
    with client.post("/manager/indications", data=data) as r:
        assert r.status_code == 200
        body = r.get_data(as_text=True)
    assert REQUIRED in body.split('id="name_zh_Hans-error"')[1]
    assert REQUIRED in body.split('id="name_ja-error"')[1]
    assert _count(Indication) == 0


def test_a_resource_name_of_spaces_is_refused(client, login_as):
    from intake.scheduling.models import Resource

    login_as(Role.MANAGER)
    data = {"code": "room-9", "kind": "room", "name_en": "   ", "capacity": "1", "is_active": "y"}
    with client.post("/scheduling/resources/new", data=data) as r:
        assert r.status_code == 200
        assert REQUIRED in r.get_data(as_text=True).split('id="name_en-error"')[1]
    assert _count(Resource) == 0
