"""Staff read the audit trail in words: every action the code records, and
every record type, has a readable, translated name."""

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from intake.accounts.roles import Role
from intake.core.audit_labels import ACTION_LABELS, ENTITY_LABELS, action_label, entity_label
from intake.core.models import AuditEntry
from intake.extensions import db

ROOT = Path(__file__).resolve().parents[2] / "intake"
CODE_RE = re.compile(r"""["']([a-z]+\.[a-z_]+)["']""")


def actions_in_code() -> set[str]:
    """Every ``domain.event`` literal on a line that sets ``action=``."""
    found = set()
    for path in ROOT.rglob("*.py"):
        if path.name == "audit_labels.py":
            continue
        for line in path.read_text().splitlines():
            if re.search(r"\baction\b\s*=", line):
                found.update(CODE_RE.findall(line))
    return found


def test_the_scan_finds_the_actions():
    found = actions_in_code()
    assert {"eligibility.questionnaire_submit", "scheduling.resource_update"} <= found


def test_every_recorded_action_has_a_name():
    missing = sorted(actions_in_code() - set(ACTION_LABELS))
    assert not missing, f"add to intake/core/audit_labels.py ACTION_LABELS: {missing}"


def test_every_table_has_a_name(app):
    missing = sorted({t.name for t in db.metadata.sorted_tables} - set(ENTITY_LABELS))
    assert not missing, f"add to intake/core/audit_labels.py ENTITY_LABELS: {missing}"


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("eligibility.questionnaire_submit", "Questionnaire submitted"),
        ("accounts.login", "Logged in"),
        ("patients.something_new", "Patients: something new"),  # unknown: still words
    ],
)
def test_action_label(code, label):
    assert action_label(code) == label


def test_entity_label():
    assert entity_label("questionnaires") == "Questionnaire"
    assert entity_label("new_things") == "New things"


@pytest.mark.parametrize(
    ("locale", "shown"),
    [("en", "Logged in"), ("zh_Hans", "登录"), ("ja", "ログイン")],
)
def test_the_audit_trail_shows_action_names(client, login_as, locale, shown):
    login_as(Role.MANAGER, locale=locale)
    assert db.session.execute(select(AuditEntry.action)).scalars().first() == "accounts.login"
    with client.get("/audit") as r:
        body = r.get_data(as_text=True)
    assert f'<td data-action="accounts.login">{shown}</td>' in body
    assert "<code>accounts.login</code>" not in body


def test_the_audit_trail_shows_values_in_words(client, login_as, make_user):
    from intake.core import audit, settings

    manager = login_as(Role.MANAGER)
    settings.update_settings({"open_weekdays": "0,2"}, actor=manager)
    patient = make_user(Role.PATIENT)
    audit.record(
        actor=manager,
        action="eligibility.reassess",
        entity=patient,
        before={"consultation_date": "2026-03-02", "at": "2026-03-02T00:05:07.123456+00:00"},
        after={"reasons": ["anticoagulant_use", "severe_anaemia"], "is_override": True},
        patient=patient,
    )
    db.session.commit()
    with client.get("/audit") as r:
        body = r.get_data(as_text=True)
    assert "Setting: Open weekdays" in body
    assert "Monday, Wednesday" in body and "0,2" not in body
    assert "Takes blood thinners, Severe anaemia" in body and "anticoagulant_use" not in body
    assert "Mar 2, 2026, 9:05\u202fAM (JST, Asia/Tokyo)" in body and ":07" not in body
    assert "Eligibility rules run again" in body
    assert '<option value="scheduling.book" >Visit booked</option>' in body


def test_the_patient_record_names_its_recent_actions(client, login_as, make_user):
    patient = make_user(Role.PATIENT)
    from intake.core import audit

    audit.record(actor=patient, action="accounts.set_locale", entity=patient, patient=patient)
    db.session.commit()
    login_as(Role.COORDINATOR)
    with client.get(f"/patients/{patient.id}") as r:
        body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert '<span data-action="accounts.set_locale">Language changed</span>' in body
