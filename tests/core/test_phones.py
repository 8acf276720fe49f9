"""Phone numbers are checked (``phonenumbers``) wherever they are typed: the
patient's registration, the desk's registration of a walk-in patient, the
admin's account edit. A number is stored in E.164 form and shown grouped; one
without a country code, or one no country hands out, gets a message beside
the field and nothing is saved."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from intake.accounts.models import User
from intake.accounts.roles import Role
from intake.core import parsing
from intake.extensions import db
from intake.patients.models import Patient

NEED_CODE = "Enter the phone number with its country code"
NO_SUCH = "This phone number does not exist"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("+86 138 0013 8000", "+8613800138000"),
        ("+86-138-0013-8000", "+8613800138000"),
        ("＋８６ １３８ ００１３ ８０００", "+8613800138000"),  # typed with a CJK keyboard
        ("+81 90-1234-5678", "+819012345678"),
        ("+81 (3) 1234 5678", "+81312345678"),
        ("  +44 20 7946 0000 ", "+442079460000"),
        ("", None),
        ("   ", None),
    ],
)
def test_parse_phone_reads_numbers_with_a_country_code(typed, stored):
    assert parsing.parse_phone(typed) == stored


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("090-1234-5678", NEED_CODE),  # no country code
        ("hello", NEED_CODE),
        ("12", NEED_CODE),
        ("+", NEED_CODE),
        ("+999 1234 5678", NEED_CODE),  # no such country
        ("+81 3 0000", NO_SUCH),  # too short for Japan
        ("+1 555 0100", NO_SUCH),
        ("+86 138 0013 8000 1234 5678 9999 0000 1111 2222", NEED_CODE),  # too long to read
        ("+86 138\x000013 8000", "not allowed"),
    ],
)
def test_parse_phone_refuses_what_is_not_a_number(typed, message):
    with pytest.raises(parsing.ParseError) as caught:
        parsing.parse_phone(typed)
    assert message in caught.value.text()


def test_show_phone_groups_the_digits():
    assert parsing.show_phone("+8613800138000") == "+86 138 0013 8000"
    assert parsing.show_phone("+819012345678") == "+81 90-1234-5678"
    assert parsing.show_phone("call the office") == "call the office"  # stored before checks
    assert parsing.show_phone(None) == ""


REGISTRATION = {
    "family_name": "王",
    "given_name": "丽",
    "email": "wang.li@example.org",
    "date_of_birth": "1968-05-12",
    "locale": "zh_Hans",
    "password": "Sakura-Tree-26",
    "confirm": "Sakura-Tree-26",
}

WALK_IN = {
    "family_name": "张",
    "given_name": "伟",
    "date_of_birth": "1962-03-04",
    "locale": "zh_Hans",
}


def _count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def _error_beside(body: str, field: str) -> str:
    marker = f'id="{field}-error"'
    assert marker in body, f"no error beside {field}"
    return body.split(marker, 1)[1].split("</div>", 1)[0]


@pytest.mark.parametrize(("typed", "message"), [("my phone", NEED_CODE), ("+81 3 0000", NO_SUCH)])
def test_registration_refuses_a_phone_that_is_not_a_number(client, typed, message):
    client.post("/language", data={"locale": "en", "next": "/register"}).close()
    with client.post("/register", data={**REGISTRATION, "phone": typed}) as r:
        assert r.status_code == 200
        body = r.get_data(as_text=True)
    assert message in _error_beside(body, "phone")
    assert f'value="{typed}"' in body  # what was typed stays shown
    assert _count(User) == 0 and _count(Patient) == 0


def test_registration_stores_the_number_in_e164(client):
    with client.post("/register", data={**REGISTRATION, "phone": "+86 138-0013-8000"}) as r:
        assert r.status_code == 200
    user = db.session.execute(select(User)).scalar_one()
    assert user.phone == "+8613800138000" and user.patient.phone == "+8613800138000"
    assert user.patient.phone_digits == "8613800138000"


def test_the_desk_registers_a_walk_in_with_a_checked_number(client, login_as):
    login_as(Role.COORDINATOR)
    with client.post("/patients/new", data={**WALK_IN, "phone": "0139 0000 1111"}) as r:
        assert r.status_code == 200
        assert NEED_CODE in _error_beside(r.get_data(as_text=True), "phone")
    assert _count(Patient) == 0
    with client.post("/patients/new", data={**WALK_IN, "phone": "+86 139 0000 1111"}) as r:
        assert r.status_code == 302
        record = r.headers["Location"]
    patient = db.session.execute(select(Patient)).scalar_one()
    assert patient.phone == "+8613900001111"
    with client.get(record) as r:
        assert "+86 139 0000 1111" in r.get_data(as_text=True)


def test_a_walk_in_needs_no_phone(client, login_as):
    login_as(Role.COORDINATOR)
    with client.post("/patients/new", data={**WALK_IN, "phone": "  "}) as r:
        assert r.status_code == 302
    assert db.session.execute(select(Patient)).scalar_one().phone is None


def test_the_admin_edits_a_phone_in_e164(client, login_as, make_user):
    login_as(Role.ADMIN)
    nurse = make_user(Role.COORDINATOR, full_name="Ito Aya")
    data = {"full_name": "Ito Aya", "role": "coordinator", "is_active": "y"}
    with client.post(f"/admin/users/{nurse.id}", data={**data, "phone": "ext. 12"}) as r:
        assert r.status_code == 200
        assert NEED_CODE in _error_beside(r.get_data(as_text=True), "phone")
    db.session.refresh(nurse)
    assert nurse.phone is None
    with client.post(f"/admin/users/{nurse.id}", data={**data, "phone": "+81 90 1234 5678"}) as r:
        assert r.status_code == 302
    db.session.refresh(nurse)
    assert nurse.phone == "+819012345678"
