"""Managers add a visit type of an existing kind: names in three languages,
length, parts; a message next to the field for bad input, the input kept; an
audit row; a new collection-kind type requires the intake gate by itself."""

from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select

from intake.accounts.roles import Role
from intake.core.errors import NotAllowed
from intake.core.models import AuditEntry
from intake.extensions import db
from intake.scheduling import clinic_setup, services
from intake.scheduling.models import VisitType
from intake.scheduling.visit_kinds import VisitKind

URL = "/scheduling/visit-types/new"


def _send(client, data, status):
    with client.post(URL, data=data) as r:
        assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:400])
        return r.headers.get("Location", ""), unescape(r.get_data(as_text=True))


def _form(clinic, **changes):
    data = {
        "code": "collection-room-2",
        "kind": "collection",
        "name_en": "Collection in room 2",
        "name_zh": "采集（2号处置室）",
        "name_ja": "採取（処置室2）",
        "duration_minutes": "60",
        "is_patient_bookable": "y",
        "is_desk_bookable": "y",
        "is_active": "y",
        "segments-0-resource_id": str(clinic.resource("procedure-room-1").id),
        "segments-0-offset_minutes": "0",
        "segments-0-duration_minutes": "",
        "segments-0-quantity": "1",
        "segments-1-resource_id": str(clinic.resource("doctor").id),
        "segments-1-offset_minutes": "0",
        "segments-1-duration_minutes": "30",
        "segments-1-quantity": "1",
        "day_block_resource_id": str(clinic.resource("incubator").id),
        "day_block_quantity": "1",
    }
    data.update(changes)
    return data


def _audit(action):
    return db.session.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars().all()


def test_manager_adds_a_collection_type_that_requires_the_gate(
    clinic, client, login_as, make_user, make_approved_patient
):
    login_as(Role.MANAGER)
    with client.get(URL) as r:
        page = r.get_data(as_text=True)
    assert r.status_code == 200 and 'name="kind"' in page and 'name="code"' in page
    with client.get("/scheduling/visit-types") as r:
        assert URL in r.get_data(as_text=True)  # reachable from the list
    location, _ = _send(client, _form(clinic), 302)
    assert location.endswith("/scheduling/visit-types")
    vt = db.session.execute(
        select(VisitType).where(VisitType.code == "collection-room-2")
    ).scalar_one()
    assert vt.kind == VisitKind.COLLECTION and vt.requires_intake_gate
    assert vt.names == {
        "en": "Collection in room 2",
        "zh_Hans": "采集（2号处置室）",
        "ja": "採取（処置室2）",
    }
    assert vt.duration_minutes == 60 and len(vt.segments) == 2
    (entry,) = _audit("scheduling.visit_type_create")
    assert entry.after["code"] == "collection-room-2" and entry.after["kind"] == "collection"
    assert entry.after["segments"]

    # Nobody ticked a gate: the kind requires it.
    coordinator = make_user(Role.COORDINATOR)
    start = clinic.at(clinic.day(weekday=1), "10:00")
    with pytest.raises(services.GateClosed):
        services.book_visit(make_user(Role.PATIENT).patient, vt.code, start, actor=coordinator)
    db.session.rollback()
    booked = services.book_visit(make_approved_patient().patient, vt.code, start, actor=coordinator)
    assert booked.visit_type.code == "collection-room-2"


def test_a_consultation_kind_type_needs_no_gate(clinic, manager, make_user):
    vt = clinic_setup.create_visit_type(
        actor=manager,
        code="second-opinion",
        kind="consultation",
        names={"en": "Second opinion"},
        duration_minutes=30,
        modes=["video"],
        is_patient_bookable=True,
        is_desk_bookable=True,
        segments=[clinic_setup.SegmentInput(clinic.resource("doctor").id, 0, None)],
        day_block_resource_id=None,
    )
    db.session.commit()
    assert not vt.requires_intake_gate
    patient = make_user(Role.PATIENT)
    start = clinic.at(clinic.day(weekday=1), "10:00")
    booked = services.book_visit(
        patient.patient, "second-opinion", start, actor=patient, mode="video"
    )
    assert booked.end_at - booked.start_at == timedelta(minutes=30)


# change to the form, field with the message, the message
BAD = [
    ({"code": "Room 2!"}, "code", "lower-case letters"),
    ({"code": "collection"}, "code", "already has this code"),
    ({"code": ""}, "code", "This field is required."),
    ({"kind": "massage"}, "kind", "Not a valid choice"),
    ({"name_en": " "}, "name_en", "This field is required."),
    ({"duration_minutes": "3"}, "duration_minutes", "Number must be between 5 and 600"),
    ({"duration_minutes": "abc"}, "duration_minutes", "Not a valid integer value"),
    ({"duration_minutes": "99999999999999999999999"}, "duration_minutes", "between 5 and 600"),
    ({"segments-0-resource_id": "", "segments-1-resource_id": ""}, "segments", "at least one"),
    ({"segments-1-duration_minutes": "90"}, "segments", "end within the visit"),
    ({"day_block_resource_id": "99999"}, "day_block_resource_id", "Not a valid choice"),
]


@pytest.mark.parametrize(
    "change, field, message", BAD, ids=[b[1] + str(n) for n, b in enumerate(BAD)]
)
def test_bad_input_is_told_next_to_the_field_and_kept(
    clinic, client, login_as, change, field, message
):
    login_as(Role.MANAGER)
    before = db.session.execute(select(VisitType.id)).all()
    _, page = _send(client, _form(clinic, **change), 200)
    assert message in page
    if field != "segments":
        error = page.split(f'id="{field}-error"', 1)
        assert len(error) == 2 and message in error[1].split("</div>", 1)[0]
    assert 'value="Collection in room 2"' in page or change.get("name_en")  # input kept
    assert db.session.execute(select(VisitType.id)).all() == before
    assert _audit("scheduling.visit_type_create") == []


def test_messages_in_the_managers_language(clinic, client, login_as):
    login_as(Role.MANAGER, locale="zh_Hans")
    _, page = _send(client, _form(clinic, code="collection"), 200)
    assert "已有" in page or "已经" in page  # "Another visit type already has this code."


def test_only_managers_add_visit_types(clinic, client, login_as, make_user):
    for role in (Role.COORDINATOR, Role.DOCTOR, Role.PATIENT):
        client.post("/logout")
        login_as(role)
        with client.get(URL) as r:
            assert r.status_code == 403
        with client.post(URL, data=_form(clinic)) as r:
            assert r.status_code == 403
    with pytest.raises(NotAllowed):
        clinic_setup.create_visit_type(
            actor=make_user(Role.COORDINATOR),
            code="x-type",
            kind="other",
            names={"en": "X"},
            duration_minutes=30,
            modes=[],
            is_patient_bookable=False,
            is_desk_bookable=True,
            segments=[clinic_setup.SegmentInput(clinic.resource("doctor").id, 0, None)],
            day_block_resource_id=None,
        )
