"""Whatever is typed into the intake forms, the answer is a page with a
message (or a redirect), never a server error, and nothing is half-saved."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from intake.accounts.roles import Role
from intake.core.models import AuditEntry
from intake.extensions import db
from tests.conftest import PASSWORD
from tests.eligibility.conftest import current

GARBAGE = {
    "empty": {},
    "long": {"x": "a" * 5000},
    "odd": {
        "indication": "<script>",
        "height_cm": "１６５ｃｍ",
        "malignancy_when": "20１8",
        "heart_attack_or_stroke_date": "2024-02-30",
        "action": "sideways",
        "current_medication": "x" * 2500,
    },
}


def _audit_count() -> int:
    return db.session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()


@pytest.mark.parametrize("data", GARBAGE.values(), ids=GARBAGE.keys())
@pytest.mark.parametrize(
    "page", ["indication", "heart_blood", "cancer_infection", "medication_allergies", "about_you"]
)
def test_questionnaire_pages(client, intake, login_as, page, data):
    patient = login_as(Role.PATIENT)
    before = _audit_count()
    with client.post(f"/questionnaire/{page}", data=data) as r:
        assert r.status_code in (200, 302)
    if r.status_code == 200:
        assert _audit_count() == before and current(patient) is None


@pytest.mark.parametrize("data", GARBAGE.values(), ids=GARBAGE.keys())
def test_staff_forms(client, login_as, make_submitted, data):
    patient = make_submitted()
    record = current(patient)
    login_as(Role.DOCTOR)
    prefixed = {
        **{f"notes-{k}": v for k, v in data.items()},
        "notes-consultation_date": "31/31/2025",
        "decision-decision": "approved",
        "decision-password": PASSWORD,
        "order-items": ["<b>"],
        "withdraw-kind": "nope",
        "withdraw-reason": "x",
    }
    for path in (
        f"/reviews/{record.id}/notes",
        f"/reviews/{record.id}/decision",
        f"/reviews/{record.id}/panel",
        f"/patients/{patient.id}/consent/withdraw",
        f"/panel/{patient.id}",
    ):
        with client.post(path, data={**prefixed, **data, "test_date": "yesterday"}) as r:
            assert r.status_code == 200, path
    db.session.refresh(record)
    assert record.status.value == "submitted"


@pytest.mark.parametrize("data", GARBAGE.values(), ids=GARBAGE.keys())
def test_consent_and_manager_forms(client, login_as, make_approved, data):
    patient = make_approved()
    client.post("/login", data={"email": patient.email, "password": PASSWORD}).close()
    for path in ("/consent/treatment", "/consent/cross_border"):
        with client.post(path, data=data) as r:
            assert r.status_code == 200, path
    client.post("/logout").close()
    login_as(Role.MANAGER)
    for path in ("/manager/indications", "/manager/indications/1", "/manager/consents"):
        with client.post(path, data={**data, "sort_order": "many", "kind": "x"}) as r:
            assert r.status_code == 200, path
