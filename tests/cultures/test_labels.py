"""Batch labels and the lab's identity check: the printable label (62 mm and
A4) with the number, its QR code and the two patient identifiers; the check
that tells MATCH or MISMATCH, records every check and alerts the managers."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from intake.accounts.roles import Role
from intake.core.models import AuditEntry
from intake.cultures import coi, labels
from intake.extensions import db
from intake.notifications.models import Message

# ------------------------------------------------------------------ pure


NAMES = labels.name_forms("王", "丽", "Wang", "Li")


@pytest.mark.parametrize(
    ("name", "born", "expected"),
    [
        ("王丽", date(1970, 1, 1), True),
        ("王 丽", date(1970, 1, 1), True),
        ("王\u3000丽", date(1970, 1, 1), True),
        ("WANG Li", date(1970, 1, 1), True),
        ("li wang", date(1970, 1, 1), True),
        ("  wangli ", date(1970, 1, 1), True),
        ("ＷＡＮＧ ＬＩ", date(1970, 1, 1), True),
        ("王丽", date(1970, 1, 2), False),
        ("王立", date(1970, 1, 1), False),
        ("Wang", date(1970, 1, 1), False),
        ("", date(1970, 1, 1), False),
        ("王丽", None, False),
    ],
)
def test_identity_compares_the_name_in_either_script_and_the_birth_date(name, born, expected):
    assert labels.identity_matches(name, born, names=NAMES, birth_date=date(1970, 1, 1)) is expected


def test_no_birth_date_on_record_never_matches():
    assert not labels.identity_matches("王丽", date(1970, 1, 1), names=NAMES, birth_date=None)


def test_the_qr_code_is_inline_svg_of_the_compact_number():
    svg = labels.qr_svg(coi.parse("TKY26000123 O"), title="QR")
    assert svg.startswith("<svg") and "viewBox" in svg and 'class="qr"' in svg
    assert "<?xml" not in svg and "<title>QR</title>" in svg


# ------------------------------------------------------------------ the label page


def _patient(make_patient):
    return make_patient(
        with_login=False,
        family_name="王",
        given_name="丽",
        family_name_latin="Wang",
        given_name_latin="Li",
        date_of_birth=date(1968, 3, 14),
    )


@pytest.mark.parametrize("layout", ["62mm", "a4", None, "bogus"])
def test_the_label_has_number_qr_names_and_birth_date(
    client, login_as, make_batch, make_patient, layout
):
    batch = make_batch(patient=_patient(make_patient))
    login_as(Role.LAB)
    url = f"/lab/batches/{batch.id}/label" + (f"?layout={layout}" if layout else "")
    with client.get(url) as r:
        assert r.status_code == 200
        body = r.get_data(as_text=True)
    number = coi.parse(batch.coi)
    assert f'<p class="label-coi">{coi.format(number)}</p>' in body
    assert 'class="qr"' in body and "<svg" in body
    assert f'aria-label="QR code of {coi.format(number)}"' in body
    assert "王丽" in body and "WANG Li" in body and "1968-03-14" in body
    want = "a4" if layout == "a4" else "62mm"
    assert f"/static/css/labels-{want}.css" in body and "/static/css/labels.css" in body
    assert body.count('class="label"') == (14 if want == "a4" else 1)
    assert "cdn" not in body.lower() and "https://" not in body


def test_the_label_css_sets_the_page_and_hides_the_toolbar_in_print(client, login_as):
    for name, size in (("labels-62mm", "62mm"), ("labels-a4", "A4")):
        with client.get(f"/static/css/{name}.css") as r:
            css = r.get_data(as_text=True)
        assert "@page" in css and size in css
    with client.get("/static/css/labels.css") as r:
        css = r.get_data(as_text=True)
    assert "@media print" in css and ".label-toolbar { display: none; }" in css


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.LAB, 200),
        (Role.MANAGER, 200),
        (Role.COORDINATOR, 200),
        (Role.DOCTOR, 200),
        (Role.PATIENT, 403),
        (Role.ADMIN, 403),
    ],
)
def test_who_opens_the_label(client, login_as, make_batch, role, status):
    batch = make_batch()
    login_as(role)
    with client.get(f"/lab/batches/{batch.id}/label") as r:
        assert r.status_code == status
    with client.get(f"/lab/batches/{batch.id + 999}/label") as r:
        assert r.status_code == (404 if status == 200 else status)


def test_the_batch_page_links_to_the_label(client, login_as, make_batch):
    batch = make_batch()
    login_as(Role.LAB)
    with client.get(f"/lab/batches/{batch.id}") as r:
        assert f'href="/lab/batches/{batch.id}/label"' in r.get_data(as_text=True)


# ------------------------------------------------------------------ the identity check


def _checks() -> list[AuditEntry]:
    return list(
        db.session.execute(
            select(AuditEntry)
            .where(AuditEntry.action == "cultures.identity_check")
            .order_by(AuditEntry.id)
        ).scalars()
    )


def _messages(template: str) -> list[Message]:
    return list(db.session.execute(select(Message).where(Message.template == template)).scalars())


def _check(client, number, name, born):
    return client.post(
        "/lab/identity-check", data={"number": number, "name": name, "date_of_birth": born}
    )


def test_a_match(client, login_as, make_batch, make_patient, make_user):
    make_user(Role.MANAGER)
    batch = make_batch(patient=_patient(make_patient))
    login_as(Role.LAB)
    compact = coi.parse(batch.coi).compact.lower()  # as a scanner might send it
    with _check(client, compact, "wang li", "1968-03-14") as r:
        assert r.status_code == 200
        body = r.get_data(as_text=True)
    assert 'data-result="match"' in body and "MATCH" in body
    [entry] = _checks()
    assert entry.after["result"] == "match" and entry.entity_id == str(batch.id)
    assert entry.patient_id == batch.patient_id
    assert _messages("cultures_identity_mismatch") == []
    with client.get(f"/lab/batches/{batch.id}") as r:
        assert 'data-identity-check="match"' in r.get_data(as_text=True)


def test_a_mismatch_is_recorded_highlighted_and_alerts_every_active_manager(
    client, login_as, make_batch, make_patient, make_user
):
    first = make_user(Role.MANAGER)
    second = make_user(Role.MANAGER, locale="zh_Hans")
    gone = make_user(Role.MANAGER)
    gone.is_active = False
    make_user(Role.COORDINATOR)
    db.session.commit()
    batch = make_batch(patient=_patient(make_patient))
    login_as(Role.LAB)
    with _check(client, batch.coi, "王丽", "1968-03-15") as r:
        assert r.status_code == 200
        body = r.get_data(as_text=True)
    assert 'data-result="mismatch"' in body and "MISMATCH" in body and 'role="alert"' in body
    [entry] = _checks()
    assert entry.after["result"] == "mismatch" and entry.after["date_of_birth"] == "1968-03-15"
    messages = _messages("cultures_identity_mismatch")
    assert sorted(m.user_id for m in messages) == sorted([first.id, second.id])
    english = next(m for m in messages if m.user_id == first.id)
    assert batch.coi in english.subject and "did not match" in english.body
    assert f"/lab/batches/{batch.id}" in english.body
    chinese = next(m for m in messages if m.user_id == second.id)
    assert batch.coi in chinese.subject and "不一致" in chinese.subject
    with client.get(f"/lab/batches/{batch.id}") as r:
        page = r.get_data(as_text=True)
    assert 'data-identity-check="mismatch"' in page and "bg-danger-subtle" in page


def test_a_wrong_check_character_is_refused_beside_the_field(client, login_as, make_batch):
    batch = make_batch()
    login_as(Role.LAB)
    number = coi.parse(batch.coi)
    wrong = "0" if number.check != "0" else "1"
    with _check(client, f"{number.identifier} {wrong}", "王丽", "1970-01-01") as r:
        assert r.status_code == 422
        body = r.get_data(as_text=True)
    assert "The check character does not match" in body and "invalid-feedback" in body
    assert "data-result" not in body
    assert _checks() == []


def test_an_unknown_number_is_refused(client, login_as, make_batch):
    make_batch()
    login_as(Role.LAB)
    unknown = coi.make("TKY", 26, 123)
    with _check(client, coi.format(unknown), "王丽", "1970-01-01") as r:
        assert r.status_code == 422
        body = r.get_data(as_text=True)
    assert f"No batch has the number {coi.format(unknown)}." in body
    assert _checks() == []


def test_missing_identifiers_record_nothing(client, login_as, make_batch):
    batch = make_batch()
    login_as(Role.LAB)
    with _check(client, batch.coi, "", "") as r:
        assert r.status_code == 422
        assert "This field is required." in r.get_data(as_text=True)
    with _check(client, batch.coi, "王丽", "1850-01-01") as r:
        assert r.status_code == 422
    assert _checks() == []


@pytest.mark.parametrize(
    ("role", "get", "post"),
    [
        (Role.LAB, 200, 200),
        (Role.MANAGER, 200, 403),
        (Role.COORDINATOR, 200, 403),
        (Role.DOCTOR, 200, 403),
        (Role.PATIENT, 403, 403),
        (Role.ADMIN, 403, 403),
    ],
)
def test_only_the_lab_checks(client, login_as, make_batch, role, get, post):
    batch = make_batch()
    login_as(role)
    with client.get("/lab/identity-check") as r:
        assert r.status_code == get
    with _check(client, batch.coi, "王丽", "1970-01-01") as r:
        assert r.status_code == post
    assert db.session.execute(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "cultures.identity_check")
    ).scalar_one() == (1 if role == Role.LAB else 0)
