"""The clinic's indications and the routes its plan allows, edited by a manager."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from intake.accounts.roles import Role
from intake.core.errors import DomainError, NotAllowed
from intake.eligibility import queries, services
from intake.eligibility.models import Indication
from intake.extensions import db
from tests.eligibility.conftest import error_beside

NAMES = {"en": "Osteoarthritis of the hip", "zh_Hans": "髋骨关节炎", "ja": "変形性股関節症"}


def _indication(code: str) -> Indication:
    return db.session.execute(select(Indication).where(Indication.code == code)).scalar_one()


def test_the_default_list_is_the_articles(intake):
    codes = [i.code for i in queries.indications()]
    assert codes[:3] == ["skin_ageing", "hair_loss", "diabetes"]
    assert len(codes) == 11
    assert _indication("spinal_cord_injury").routes == ["intrathecal", "iv"]  # usual one first


def test_a_manager_edits_names_and_routes_with_an_audit_row(intake, make_user, audit_rows):
    manager = make_user(Role.MANAGER)
    item = _indication("knee_oa")
    services.update_indication(
        item, actor=manager, names=NAMES, routes=["local"], is_active=True, sort_order=3
    )
    db.session.commit()
    assert item.routes == ["local"] and item.label("ja") == "変形性股関節症"
    (row,) = audit_rows("eligibility.indication_update")
    assert row.before["routes"] == ["local", "iv"]
    assert row.after["routes"] == ["local"]


def test_routes_and_three_names_are_required(intake, make_user):
    manager = make_user(Role.MANAGER)
    item = _indication("knee_oa")
    with pytest.raises(DomainError) as caught:
        services.update_indication(
            item, actor=manager, names=NAMES, routes=[], is_active=True, sort_order=0
        )
    assert caught.value.field == "routes"
    with pytest.raises(DomainError) as caught:
        services.update_indication(
            item,
            actor=manager,
            names={**NAMES, "ja": " "},
            routes=["iv"],
            is_active=True,
            sort_order=0,
        )
    assert caught.value.field == "name_ja"
    with pytest.raises(DomainError):
        services.update_indication(
            item, actor=manager, names=NAMES, routes=["oral"], is_active=True, sort_order=0
        )


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.COORDINATOR, Role.ADMIN])
def test_only_a_manager_changes_indications(intake, make_user, role):
    with pytest.raises(NotAllowed):
        services.create_indication(actor=make_user(role), code="hip_oa", names=NAMES, routes=["iv"])


def test_a_new_indication_is_offered_to_patients_and_an_inactive_one_is_not(
    client, intake, make_user, login_as
):
    manager = make_user(Role.MANAGER)
    services.create_indication(actor=manager, code="hip_oa", names=NAMES, routes=["local"])
    hair = _indication("hair_loss")
    services.update_indication(
        hair, actor=manager, names=hair.names, routes=hair.routes, is_active=False, sort_order=1
    )
    db.session.commit()
    login_as(Role.PATIENT, locale="zh_Hans")
    with client.get("/questionnaire/indication") as r:
        body = r.get_data(as_text=True)
    assert "髋骨关节炎" in body
    assert 'value="hair_loss"' not in body
    with client.post("/questionnaire/indication", data={"indication": "hair_loss"}) as r:
        assert r.status_code == 200  # no longer a choice
    with client.post("/questionnaire/indication", data={"indication": "hip_oa"}) as r:
        assert r.status_code == 302


def test_the_manager_pages(client, intake, login_as, audit_rows):
    login_as(Role.MANAGER)
    with client.get("/manager/indications") as r:
        assert "Knee osteoarthritis" in r.get_data(as_text=True)
    bad = {
        "code": "Hip OA",
        "name_en": "Hip",
        "name_zh_Hans": "髋",
        "name_ja": "股",
        "routes": ["local"],
        "sort_order": "5",
    }
    with client.post("/manager/indications", data=bad) as r:
        body = r.get_data(as_text=True)
    assert "lower-case letters" in error_beside(body, "code")
    assert 'value="Hip OA"' in body
    with client.post("/manager/indications", data={**bad, "code": "hip_oa"}) as r:
        assert r.status_code == 302
    item = _indication("hip_oa")
    with client.post(f"/manager/indications/{item.id}", data={**bad, "routes": []}) as r:
        assert "Choose at least one route" in error_beside(r.get_data(as_text=True), "routes")
    edit = {**bad, "routes": ["local", "iv"], "is_active": "y", "name_en": "Hip osteoarthritis"}
    with client.post(f"/manager/indications/{item.id}", data=edit) as r:
        assert r.status_code == 302
    db.session.refresh(item)
    assert item.routes == ["iv", "local"] and item.names["en"] == "Hip osteoarthritis"
    assert len(audit_rows("eligibility.indication_create")) == 1
    assert len(audit_rows("eligibility.indication_update")) == 1


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.PATIENT, Role.LAB])
def test_the_manager_pages_are_for_managers(client, intake, login_as, role):
    login_as(role)
    with client.get("/manager/indications") as r:
        assert r.status_code == 403
