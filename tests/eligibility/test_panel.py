"""The infectious panel: ordered by a doctor, each result entered by a
coordinator or doctor with its test date, never overwritten, audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from intake.accounts.roles import Role
from intake.core.errors import DomainError, NotAllowed
from intake.eligibility import queries, services
from intake.eligibility.models import PanelItemDefinition, PanelOrder, PanelResult
from intake.extensions import db
from intake.notifications.models import Message
from tests.eligibility.conftest import current, error_beside
from tests.helpers import course_of


def _results() -> int:
    return db.session.execute(select(func.count()).select_from(PanelResult)).scalar_one()


def _enter(patient, actor, **changes):
    fields = {
        "item_code": "HBsAg",
        "test_date": services.clinic_today() - timedelta(days=3),
        "result": "Negative (0.1 IU/mL)",
        # Only a doctor judges a result; a coordinator records it as waiting.
        "acceptable": True if actor.role == Role.DOCTOR else None,
        **changes,
    }
    return services.enter_panel_result(patient.patient, actor=actor, **fields)


def test_the_doctor_orders_the_whole_panel_and_the_patient_is_told(
    make_submitted, doctor, audit_rows
):
    patient = make_submitted(locale="zh_Hans")
    order = services.order_panel(current(patient), actor=doctor)
    db.session.commit()
    assert order.items == [item.code for item in queries.panel_items()]
    assert len(order.items) == 10
    (row,) = audit_rows("eligibility.panel_order", patient_id=patient.id)
    assert row.after["items"] == order.items
    message = db.session.execute(
        select(Message).where(Message.template == "eligibility_panel_ordered")
    ).scalar_one()
    assert "乙肝表面抗原（HBsAg）" in message.body


def test_an_order_names_only_configured_tests(make_submitted, doctor):
    with pytest.raises(DomainError) as caught:
        services.order_panel(current(make_submitted()), actor=doctor, items=["COVID"])
    assert caught.value.field == "items"


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.DOCTOR])
def test_coordinators_and_doctors_enter_results_with_an_audit_row(
    make_submitted, make_user, audit_rows, role
):
    patient = make_submitted()
    actor = make_user(role)
    row = _enter(patient, actor)
    db.session.commit()
    assert row.entered_by_id == actor.id and row.replaces_id is None
    (entry,) = audit_rows("eligibility.panel_result", patient_id=patient.id)
    assert entry.actor_id == actor.id
    assert entry.after["result"] == "Negative (0.1 IU/mL)"
    assert entry.after["test_date"] == row.test_date.isoformat()


@pytest.mark.parametrize("role", [Role.LAB, Role.MANAGER, Role.PATIENT, Role.ADMIN])
def test_others_cannot_enter_results(make_submitted, make_user, role):
    patient = make_submitted()
    with pytest.raises(NotAllowed):
        _enter(patient, make_user(role))


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"test_date": "tomorrow"}, "test_date", "The test date cannot be in the future."),
        ({"test_date": None}, "test_date", "Enter the date the blood was taken."),
        ({"item_code": "COVID"}, "item_code", "Choose a test from the clinic's panel list."),
        ({"result": "  "}, "result", "This field is required."),
    ],
)
def test_bad_results_are_refused(make_submitted, coordinator, changes, field, message):
    patient = make_submitted()
    if changes.get("test_date") == "tomorrow":
        changes = {"test_date": services.clinic_today() + timedelta(days=1)}
    with pytest.raises(DomainError) as caught:
        _enter(patient, coordinator, **changes)
    assert (caught.value.field, caught.value.message) == (field, message)
    db.session.rollback()
    assert _results() == 0


def test_an_item_the_clinic_switched_off_is_refused(make_submitted, coordinator):
    patient = make_submitted()
    item = db.session.execute(
        select(PanelItemDefinition).where(PanelItemDefinition.code == "anti-HTLV-1")
    ).scalar_one()
    item.is_active = False
    db.session.commit()
    with pytest.raises(DomainError):
        _enter(patient, coordinator, item_code="anti-HTLV-1")
    assert "anti-HTLV-1" not in [i.code for i in queries.panel_items()]


def test_a_correction_adds_a_row_and_the_newest_counts(
    make_submitted, coordinator, doctor, audit_rows
):
    patient = make_submitted()
    first = _enter(patient, coordinator, acceptable=None)
    second = _enter(patient, doctor, result="Negative, confirmed", acceptable=True)
    db.session.commit()
    assert _results() == 2
    assert second.replaces_id == first.id
    assert queries.latest_panel_results(course_of(patient).id)["HBsAg"].id == second.id
    assert db.session.get(PanelResult, first.id).result == "Negative (0.1 IU/mL)"
    correction = audit_rows("eligibility.panel_result", patient_id=patient.id)[-1]
    assert correction.before["acceptable"] is None
    assert correction.after["acceptable"] is True


# --------------------------------------------------------------------------- pages


def test_the_result_form_shows_errors_beside_the_fields_and_keeps_input(
    client, login_as, make_submitted
):
    patient = make_submitted()
    login_as(Role.COORDINATOR)
    future = (services.clinic_today() + timedelta(days=2)).isoformat()
    data = {
        "item_code": "HBsAg",
        "test_date": future,
        "result": "Negative",
        "acceptable": "pending",
    }
    with client.post(f"/panel/{patient.id}", data=data) as r:
        body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "The test date cannot be in the future." in error_beside(body, "test_date")
    assert 'value="Negative"' in body and f'value="{future}"' in body
    with client.post(
        f"/panel/{patient.id}", data={**data, "item_code": "COVID", "test_date": "2025-01-01"}
    ) as r:
        body = r.get_data(as_text=True)
    assert "Choose a test from the clinic&#39;s panel list." in error_beside(body, "item_code")
    with client.post(f"/panel/{patient.id}", data={**data, "test_date": "01/02/2025"}) as r:
        body = r.get_data(as_text=True)
    assert "Not a valid date value." in error_beside(body, "test_date")
    assert _results() == 0


def test_a_result_entered_on_the_page_is_listed(client, login_as, make_submitted):
    patient = make_submitted()
    login_as(Role.DOCTOR)
    data = {
        "item_code": "anti-HCV",
        "test_date": services.clinic_today().isoformat(),
        "result": "Non-reactive",
        "acceptable": "pending",
    }
    with client.post(f"/panel/{patient.id}", data=data) as r:
        assert r.status_code == 302
    row = db.session.execute(select(PanelResult)).scalar_one()
    assert row.acceptable is None and row.result == "Non-reactive"
    with client.get(f"/panel/{patient.id}") as r:
        body = r.get_data(as_text=True)
    assert "Non-reactive" in body and "Assessment pending" in body


@pytest.mark.parametrize("role", [Role.MANAGER, Role.PATIENT])
def test_viewers_cannot_post_results(client, login_as, make_submitted, role):
    patient = make_submitted()
    if role == Role.PATIENT:  # the patient's own page is read-only
        client.post("/login", data={"email": patient.email, "password": "Correct-Horse-9"}).close()
    else:
        login_as(role)
    data = {"item_code": "HBsAg", "test_date": "2025-01-01", "result": "x", "acceptable": "yes"}
    with client.post(f"/panel/{patient.id}", data=data) as r:
        assert r.status_code == 403
    with client.get(f"/panel/{patient.id}") as r:
        assert r.status_code == 200 and 'name="result"' not in r.get_data(as_text=True)
    assert _results() == 0


def test_a_patient_sees_only_their_own_results(client, make_submitted, coordinator):
    mine, theirs = make_submitted(), make_submitted()
    _enter(theirs, coordinator, result="Their secret result")
    db.session.commit()
    client.post("/login", data={"email": mine.email, "password": "Correct-Horse-9"}).close()
    with client.get(f"/panel/{mine.id}") as r:
        assert r.status_code == 200 and "Their secret result" not in r.get_data(as_text=True)
    with client.get(f"/panel/{theirs.id}") as r:
        assert r.status_code == 404
    with client.get("/panel/999999") as r:
        assert r.status_code == 404


def test_lab_cannot_open_panel_pages(client, login_as, make_submitted):
    patient = make_submitted()
    login_as(Role.LAB)
    with client.get(f"/panel/{patient.id}") as r:
        assert r.status_code == 403


def test_ordering_from_the_review_page(client, login_as, make_submitted):
    patient = make_submitted()
    login_as(Role.DOCTOR)
    data = {"order-items": ["HBsAg", "anti-HCV"], "order-note": "Fasting not needed."}
    with client.post(f"/reviews/{current(patient).id}/panel", data=data) as r:
        assert r.status_code == 302
    order = db.session.execute(select(PanelOrder)).scalar_one()
    assert order.items == ["HBsAg", "anti-HCV"] and order.note == "Fasting not needed."
