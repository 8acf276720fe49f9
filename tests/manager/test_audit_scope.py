"""The audit trail of clinical records is for the manager; an administrator
(who may not open a patient's record) sees only account and security events
(``accounts.*``, ``settings.*``), and of a patient's account only what the
account pages show, never the date of birth or any answer or result."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from intake.accounts import services as accounts
from intake.accounts.roles import Role
from intake.core.models import AuditEntry
from intake.extensions import db
from tests.conftest import PASSWORD

BORN = date(1957, 3, 14)
ACCOUNT_EVENTS = ("accounts.", "settings.")


@pytest.fixture
def patient(make_approved_patient):
    """An approved patient (answers, panel results, consents), registered
    through the registration service, so the trail holds a
    registration with the date of birth too."""
    patient = make_approved_patient(date_of_birth=BORN)
    user = accounts.register_patient(
        email="second.patient@example.org",
        password="Bright-Lantern-26",
        date_of_birth=BORN,
        phone="+86 138 0013 8000",
        locale="en",
        family_name="Wang",
        given_name="Li",
    )
    db.session.commit()
    return patient, user


def _page(client, url: str) -> str:
    with client.get(url) as r:
        assert r.status_code == 200
        return r.get_data(as_text=True)


def _actions(body: str) -> list[str]:
    return re.findall(r'data-action="([^"]+)"', body)


def _clinical(action: str) -> bool:
    return not action.startswith(ACCOUNT_EVENTS)


def _born_shown(body: str) -> bool:
    return "1957" in body


def test_the_manager_reads_the_clinical_trail_of_a_patient(client, login_as, patient):
    record, registered = patient
    login_as(Role.MANAGER)
    body = _page(client, f"/audit?patient_id={record.patient.id}")
    actions = _actions(body)
    for action in (
        "eligibility.questionnaire_submit",
        "eligibility.review_decision",
        "eligibility.panel_result",
    ):
        assert action in actions
    body = _page(client, f"/audit?patient_id={registered.patient.id}")
    assert "accounts.register" in _actions(body) and _born_shown(body)


def test_the_admin_filtering_by_a_patient_sees_nothing_clinical(client, login_as, patient):
    record, registered = patient
    login_as(Role.ADMIN)
    for patient_id in (record.patient.id, registered.patient.id):
        body = _page(client, f"/audit?patient_id={patient_id}")
        assert [a for a in _actions(body) if _clinical(a)] == []
        assert not _born_shown(body)
    # The account events of the patient are there, without the date of birth.
    body = _page(client, f"/audit?patient_id={registered.patient.id}")
    assert "accounts.register" in _actions(body)
    assert "second.patient@example.org" in body


def test_the_admin_opening_a_clinical_entry_sees_nothing(client, login_as, patient):
    record, _registered = patient
    entries = (
        db.session.execute(select(AuditEntry).where(AuditEntry.patient_id == record.patient.id))
        .scalars()
        .all()
    )
    clinical = [e for e in entries if _clinical(e.action)]
    assert len(clinical) >= 5
    login_as(Role.ADMIN)
    for entry in clinical:
        body = _page(client, f"/audit?entity_type={entry.entity_type}&entity_id={entry.entity_id}")
        assert _actions(body) == [] and "No entries match." in body
        body = _page(client, f"/audit?action={entry.action}")
        assert _actions(body) == []


def test_the_admin_trail_holds_only_account_and_security_events(client, login_as, patient):
    login_as(Role.ADMIN)
    body = _page(client, "/audit")
    actions = _actions(body)
    assert "accounts.login" in actions and "accounts.register" in actions
    assert [a for a in actions if _clinical(a)] == []
    assert not _born_shown(body)
    # The filter lists offer only what the admin may read.
    assert 'value="eligibility.panel_result"' not in body
    assert 'value="questionnaires"' not in body and 'value="users"' in body


def test_the_admin_still_reads_staff_account_changes(client, login_as, make_user):
    admin = login_as(Role.ADMIN)
    nurse = make_user(Role.COORDINATOR, full_name="Old Name")
    client.post(
        f"/admin/users/{nurse.id}",
        data={"full_name": "New Name", "role": "coordinator", "is_active": "y"},
    ).close()
    body = _page(client, f"/audit?entity_type=users&entity_id={nurse.id}")
    assert _actions(body) == ["accounts.update"]
    assert "Old Name" in body and "New Name" in body
    body = _page(client, f"/audit?actor_id={admin.id}")
    assert "accounts.update" in _actions(body)


def test_the_admin_sees_no_clinical_value_of_a_login_event(client, login_as, patient):
    """A patient's logins are security events; their rows name the account only."""
    _record, registered = patient
    registered.email_verified_at = registered.created_at
    db.session.commit()
    client.post("/login", data={"email": registered.email, "password": "Bright-Lantern-26"}).close()
    client.post("/logout").close()
    login_as(Role.ADMIN, password=PASSWORD)
    body = _page(client, f"/audit?patient_id={registered.patient.id}&action=accounts.login")
    assert "accounts.login" in _actions(body) and not _born_shown(body)
