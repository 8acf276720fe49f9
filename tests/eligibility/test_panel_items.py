"""The infectious panel's tests are the clinic's to change: a doctor or a
manager adds one (code, names in three languages, position), renames, reorders
or retires it. A retired test no longer counts for a complete panel, and stays
shown on the results entered for it. Every change is audited; other roles get
403; bad input is told next to the field with the input kept."""

from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import select

from intake.accounts.roles import Role
from intake.core.errors import DomainError, NotAllowed
from intake.eligibility import queries, services
from intake.eligibility.models import PanelItemDefinition
from intake.extensions import db
from tests.conftest import PASSWORD
from tests.eligibility.conftest import error_beside
from tests.helpers import course_of

NAMES = {"en": "Hepatitis E antibody (anti-HEV)", "zh_Hans": "戊肝抗体（抗-HEV）", "ja": "HEV抗体"}


def _item(code: str) -> PanelItemDefinition:
    return db.session.execute(
        select(PanelItemDefinition).where(PanelItemDefinition.code == code)
    ).scalar_one()


def _gate(patient):
    return queries.collection_gate_for(course_of(patient), today=services.clinic_today())


def _page(client, url, status=200):
    with client.get(url) as r:
        assert r.status_code == status, (url, r.status_code)
        return unescape(r.get_data(as_text=True))


def _post(client, url, data, status=302):
    with client.post(url, data=data) as r:
        assert r.status_code == status, (url, r.status_code, r.get_data(as_text=True)[:400])
        return unescape(r.get_data(as_text=True))


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.MANAGER])
def test_a_new_test_is_part_of_the_panel_until_retired(
    intake, make_ready, make_user, audit_rows, role
):
    patient = make_ready()
    assert _gate(patient).allowed
    editor = make_user(role)
    item = services.create_panel_item(actor=editor, code="anti-HEV", names=NAMES, sort_order=95)
    db.session.commit()
    assert [i.code for i in queries.panel_items()][-1] == "anti-HEV"
    gate = _gate(patient)
    assert not gate.allowed and [m.code for m in gate.missing] == ["panel_missing:anti-HEV"]
    (row,) = audit_rows("eligibility.panel_item_create")
    assert row.actor_id == editor.id and row.after["code"] == "anti-HEV"
    assert row.after["names"] == NAMES

    services.update_panel_item(
        item, actor=editor, names=NAMES, sort_order=item.sort_order, is_active=False
    )
    db.session.commit()
    assert "anti-HEV" not in [i.code for i in queries.panel_items()]
    assert _gate(patient).allowed  # a retired test no longer counts
    (row,) = audit_rows("eligibility.panel_item_update")
    assert row.before == {"is_active": True} and row.after == {"is_active": False}


def test_retiring_a_test_opens_the_gate_for_whom_only_it_was_missing(
    intake, make_approved, coordinator, doctor
):
    from intake.eligibility.demo import enter_panel, sign_all

    patient = make_approved()
    enter_panel(patient, actor=doctor, count=9)  # all but anti-HTLV-1
    sign_all(patient, password=PASSWORD)
    db.session.commit()
    assert not _gate(patient).allowed
    htlv = _item("anti-HTLV-1")
    services.update_panel_item(
        htlv, actor=doctor, names=htlv.names, sort_order=htlv.sort_order, is_active=False
    )
    db.session.commit()
    assert _gate(patient).allowed


def test_a_retired_test_stays_on_old_results(intake, make_ready, client, doctor, login_as):
    patient = make_ready()
    rpr = _item("RPR")
    services.update_panel_item(
        rpr, actor=doctor, names=rpr.names, sort_order=rpr.sort_order, is_active=False
    )
    db.session.commit()
    login_as(Role.DOCTOR)
    page = _page(client, f"/panel/{patient.id}")
    retired = page.split('id="retired"', 1)[1].split("</section>", 1)[0]
    assert "Syphilis: RPR" in retired  # its name and result are still shown
    assert 'data-item="RPR"' not in page.split('id="retired"', 1)[0]  # not a current test
    assert "Panel complete and valid" in page
    # No new result can be entered for it.
    with pytest.raises(DomainError):
        services.enter_panel_result(
            patient.patient,
            actor=doctor,
            item_code="RPR",
            test_date=services.clinic_today(),
            result="negative",
            acceptable=True,
        )


def test_rename_and_reorder(intake, make_user, audit_rows):
    manager = make_user(Role.MANAGER)
    rpr = _item("RPR")
    names = {**rpr.names, "en": "Syphilis: RPR (non-treponemal)"}
    services.update_panel_item(rpr, actor=manager, names=names, sort_order=0, is_active=True)
    db.session.commit()
    assert queries.panel_items()[0].code in ("HBsAg", "RPR")
    services.move_panel_item(rpr, actor=manager, direction="up")
    db.session.commit()
    codes = [i.code for i in queries.panel_items()]
    assert codes[0] == "RPR" and len(codes) == 10 and len(set(codes)) == 10
    services.move_panel_item(_item("RPR"), actor=manager, direction="down")
    db.session.commit()
    assert [i.code for i in queries.panel_items()][:2] == ["HBsAg", "RPR"]
    update = audit_rows("eligibility.panel_item_update")[0]
    assert update.after["names"]["en"] == "Syphilis: RPR (non-treponemal)"
    assert audit_rows("eligibility.panel_item_move")


# fields, field with the message, the message
BAD = [
    ({"code": ""}, "code", "This field is required."),
    ({"code": "HEV antibody!"}, "code", "letters, digits"),
    ({"code": "hbsag"}, "code", "already in the panel"),
    ({"code": "a" * 40}, "code", "Field cannot be longer than 32 characters."),
    ({"name_zh_Hans": ""}, "name_zh_Hans", "This field is required."),
    ({"sort_order": "x"}, "sort_order", "Not a valid integer value."),
    ({"sort_order": ""}, "sort_order", "Enter a whole number."),
    ({"sort_order": "99999999999999999999"}, "sort_order", "from 0 to 1000"),
]


@pytest.mark.parametrize("change, field, message", BAD)
def test_bad_input_is_told_beside_the_field(intake, client, login_as, change, field, message):
    login_as(Role.DOCTOR)
    data = {
        "code": "anti-HEV",
        "name_en": NAMES["en"],
        "name_zh_Hans": NAMES["zh_Hans"],
        "name_ja": NAMES["ja"],
        "sort_order": "95",
        **change,
    }
    body = _post(client, "/panel-items", data, status=200)
    assert message in error_beside(body, field)
    if field != "name_en":
        assert f'value="{NAMES["en"]}"' in body  # the input is kept
    assert len(queries.panel_items()) == 10


def test_the_last_test_cannot_be_retired(intake, doctor):
    items = queries.panel_items()
    for item in items[:-1]:
        services.update_panel_item(
            item, actor=doctor, names=item.names, sort_order=item.sort_order, is_active=False
        )
    last = items[-1]
    with pytest.raises(DomainError, match="at least one test"):
        services.update_panel_item(
            last, actor=doctor, names=last.names, sort_order=last.sort_order, is_active=False
        )


def test_the_pages_for_doctors_and_managers(intake, client, login_as):
    login_as(Role.DOCTOR)
    nav = _page(client, "/panel-items")
    assert 'href="/panel-items"' in nav  # in the doctor's navigation
    _post(
        client,
        "/panel-items",
        {
            "code": "anti-HEV",
            "name_en": NAMES["en"],
            "name_zh_Hans": NAMES["zh_Hans"],
            "name_ja": NAMES["ja"],
            "sort_order": "95",
        },
    )
    item = _item("anti-HEV")
    page = _page(client, "/panel-items")
    assert NAMES["en"] in page and f"/panel-items/{item.id}" in page
    _post(
        client,
        f"/panel-items/{item.id}",
        {
            "name_en": "Hepatitis E IgG",
            "name_zh_Hans": NAMES["zh_Hans"],
            "name_ja": NAMES["ja"],
            "sort_order": "96",
        },  # "is_active" unticked: retired
    )
    db.session.refresh(item)
    assert item.names["en"] == "Hepatitis E IgG" and item.sort_order == 96 and not item.is_active
    _post(client, f"/panel-items/{item.id}/move", {"direction": "up"})
    client.post("/logout")
    login_as(Role.MANAGER)
    home = _page(client, "/manager")
    assert 'href="/panel-items"' in home  # the set-up card
    assert "Hepatitis E IgG" in _page(client, "/panel-items")


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.LAB, Role.PATIENT, Role.ADMIN])
def test_other_roles_get_403(intake, client, login_as, make_user, role):
    item = _item("RPR")
    login_as(role)
    for method, url, data in (
        ("get", "/panel-items", None),
        ("post", "/panel-items", {"code": "x-1"}),
        ("get", f"/panel-items/{item.id}", None),
        ("post", f"/panel-items/{item.id}", {"name_en": "x"}),
        ("post", f"/panel-items/{item.id}/move", {"direction": "up"}),
    ):
        with getattr(client, method)(url, data=data) as r:
            assert r.status_code == 403, (role, method, url, r.status_code)
    with pytest.raises(NotAllowed):
        services.create_panel_item(actor=make_user(role), code="x-1", names=NAMES, sort_order=1)
    assert db.session.get(PanelItemDefinition, item.id).is_active


def test_unknown_item_is_404(intake, client, login_as):
    login_as(Role.MANAGER)
    _page(client, "/panel-items/99999", status=404)
    _post(client, "/panel-items/99999/move", {"direction": "up"}, status=404)


def test_the_first_change_stores_the_default_panel_first(app, make_user):
    """Before the clinic stores its list the default panel applies; adding a test
    then must not shrink the panel to that one test."""
    assert len(queries.panel_items()) == 10 and queries.panel_items()[0].id is None
    services.create_panel_item(
        actor=make_user(Role.DOCTOR), code="anti-HEV", names=NAMES, sort_order=95
    )
    db.session.commit()
    codes = [i.code for i in queries.panel_items()]
    assert len(codes) == 11 and codes[0] == "HBsAg" and codes[-1] == "anti-HEV"
