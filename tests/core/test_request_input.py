"""Whatever a request carries, the answer is a page with a message or a clear
400, never a server error: NUL bytes (PostgreSQL refuses them in text) are
refused before any view runs, on public pages too; numbers past 64 bits in
the query string are named in a message. Run on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from intake.accounts.models import User
from intake.accounts.roles import Role
from intake.core.models import AuditEntry
from intake.extensions import db
from tests.conftest import PASSWORD

NUL_MESSAGE = "The value contains a character that is not allowed."

REGISTRATION = {
    "family_name": "Wang",
    "given_name": "Li",
    "date_of_birth": "1968-05-12",
    "email": "wang.li@example.org",
    "phone": "+86 138 0013 8000",
    "locale": "en",
    "password": "Sakura-Intake-2026",
    "confirm": "Sakura-Intake-2026",
}

# Every form an anonymous visitor can send, with a NUL in each field in turn.
PUBLIC_FORMS = [
    ("/login", {"email": "someone@example.org", "password": PASSWORD}),
    ("/register", REGISTRATION),
    ("/password/forgot", {"email": "someone@example.org"}),
    ("/password/reset/abc", {"password": PASSWORD, "confirm": PASSWORD}),
    ("/login/code", {"code": "123456"}),
    ("/language", {"locale": "ja", "next": "/login"}),
]


def _nul_cases():
    for path, form in PUBLIC_FORMS:
        for field in form:
            yield pytest.param(path, form, field, id=f"{path}:{field}")


def _count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.mark.parametrize(("path", "form", "field"), _nul_cases())
def test_nul_in_any_public_form_field_is_a_clear_400(client, path, form, field):
    data = {**form, field: form[field][:3] + "\x00" + form[field][3:]}
    with client.post(path, data=data) as r:
        assert r.status_code == 400, r.status_code
        assert NUL_MESSAGE in r.get_data(as_text=True)
    assert _count(User) == 0 and _count(AuditEntry) == 0


@pytest.mark.parametrize(
    "url",
    [
        "/login?next=/me%00",
        "/login?x%00=1",
        "/register?locale=ja%00",
        "/password/reset/abc%00def",
        "/register/confirm/abc%00",
        "/scheduling/availability?service=consultation%00&start=2026-01-05&days=1",
    ],
)
def test_nul_in_a_query_parameter_or_the_path_is_a_clear_400(client, url):
    with client.get(url) as r:
        assert r.status_code == 400
        assert NUL_MESSAGE in r.get_data(as_text=True)


def test_nul_in_a_field_name_is_refused_too(client):
    with client.post("/login", data={"email\x00": "a@example.org", "password": "x"}) as r:
        assert r.status_code == 400


def test_nul_after_login_is_refused_everywhere(client, login_as):
    login_as(Role.MANAGER)
    with client.get("/audit?entity_type=users%00") as r:
        assert r.status_code == 400
    with client.post("/manager/settings", data={"clinic_name": "A\x00B"}) as r:
        assert r.status_code == 400


def test_the_api_answers_json(client):
    with client.get("/scheduling/availability?service=x%00") as r:
        assert r.status_code == 400 and r.is_json
        assert r.get_json()["error"] == NUL_MESSAGE


def test_the_message_is_in_the_readers_language(client):
    client.post("/language", data={"locale": "ja", "next": "/login"}).close()
    with client.post("/login", data={"email": "a\x00@example.org", "password": "x"}) as r:
        assert r.status_code == 400
        assert NUL_MESSAGE not in r.get_data(as_text=True)


HUGE = str(2**64 + 5)


@pytest.mark.parametrize(
    ("role", "url"),
    [
        (Role.MANAGER, f"/audit?page={HUGE}"),
        (Role.MANAGER, f"/audit?patient_id={HUGE}"),
        (Role.MANAGER, f"/audit?actor_id={HUGE}"),
        (Role.MANAGER, f"/audit?actor_id=-{HUGE}&patient_id=１２"),
        # Past the 32-bit INTEGER of an id column on PostgreSQL.
        (Role.MANAGER, "/audit?patient_id=2147483648"),
        (Role.MANAGER, f"/audit?actor_id={2**63 - 1}"),
        (Role.COORDINATOR, "/desk/book?patient_id=2147483648"),
        (Role.COORDINATOR, f"/patients?page={HUGE}"),
        (Role.COORDINATOR, f"/desk/book?patient_id={HUGE}"),
        (Role.DOCTOR, f"/reviews?page={HUGE}"),
        (Role.PATIENT, f"/messages/?page={HUGE}"),
    ],
)
def test_integers_past_64_bits_in_the_query_get_a_message(client, login_as, role, url):
    login_as(role)
    with client.get(url) as r:
        assert r.status_code == 200, r.status_code
        assert "Enter a whole number" in r.get_data(as_text=True)


@pytest.mark.parametrize(
    ("role", "method", "url", "data"),
    [
        (Role.COORDINATOR, "GET", "/desk?day=2026-01-01%00", None),
        (Role.MANAGER, "GET", "/audit?patient_id=12%00", None),
        (Role.MANAGER, "GET", "/audit?entity_id=a%00b", None),
        (Role.MANAGER, "GET", "/audit?action=x%00", None),
        (Role.COORDINATOR, "GET", "/patients?q=a%00b", None),
        (Role.PATIENT, "GET", "/book/kind/%00", None),
        (
            Role.MANAGER,
            "POST",
            "/scheduling/closures",
            {"first_date": "2030-01-07", "reason": "A\x00"},
        ),
        (Role.MANAGER, "POST", "/scheduling/resources/1", {"working_weekdays": ["1\x00"]}),
        (Role.MANAGER, "POST", "/scheduling/visit-types/new", {"code": "bad\x00code"}),
        (Role.MANAGER, "POST", "/scheduling/visit-types/new", {"name_ja": "採取\x00"}),
        (Role.DOCTOR, "POST", "/panel-items", {"code": "anti-HEV", "name_ja": "HEV\x00"}),
    ],
)
def test_nul_in_staff_and_patient_pages_is_a_clear_400(client, login_as, role, method, url, data):
    login_as(role)
    before = _count(AuditEntry)
    with client.open(url, method=method, data=data) as r:
        assert r.status_code == 400
        assert NUL_MESSAGE in r.get_data(as_text=True)
    assert _count(AuditEntry) == before


@pytest.mark.parametrize(
    ("role", "url"),
    [
        (Role.COORDINATOR, "/patients/2147483648"),
        (Role.COORDINATOR, f"/desk/visits/{2**63 - 1}"),
        (Role.PATIENT, "/messages/2147483648"),
        (Role.PATIENT, f"/visits/{2**63 - 1}.ics"),
        (Role.MANAGER, "/scheduling/resources/2147483648"),
    ],
)
def test_ids_past_an_integer_column_are_404(client, login_as, role, url):
    login_as(role)
    with client.get(url) as r:
        assert r.status_code == 404
