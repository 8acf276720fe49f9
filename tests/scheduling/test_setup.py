"""The manager's set-up: resources (capacity, staff working days), visit types
(lengths, parts), closures (whole days or hours, with a reason)."""

from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select

from intake.accounts.roles import Role
from intake.core import settings
from intake.core.errors import DomainError, NotAllowed
from intake.core.models import AuditEntry
from intake.core.types import utcnow
from intake.extensions import db
from intake.scheduling import clinic_setup, queries, services
from intake.scheduling.models import Closure, Resource, ResourceKind

TUESDAY = 1


def get(client, url, status=200):
    with client.get(url) as r:
        assert r.status_code == status, (url, r.status_code)
        return unescape(r.get_data(as_text=True))


def post(client, url, data, status=302):
    with client.post(url, data=data) as r:
        assert r.status_code == status, (url, r.status_code, r.get_data(as_text=True)[:400])
        return unescape(r.get_data(as_text=True))


def _audit(action):
    return db.session.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars().all()


@pytest.fixture
def boss(client, login_as):
    return login_as(Role.MANAGER)


def _resource_form(resource, **changes):
    data = {
        "name_en": resource.names["en"],
        "name_zh": resource.names.get("zh_Hans", ""),
        "name_ja": resource.names.get("ja", ""),
        "capacity": resource.capacity if resource.capacity is not None else 0,
        "pool_id": str(resource.pool_id or ""),
        "user_id": str(resource.user_id or ""),
        "working_weekdays": [str(d) for d in sorted(resource.weekdays or range(7))],
        "is_active": "y" if resource.is_active else "",
    }
    data.update(changes)
    return data


def test_resources_page_lists_groups_and_members(client, clinic, boss):
    page = get(client, "/scheduling/resources")
    for text in ("Procedure room 1", "Dr. Sato Hiroshi", "Incubator places", "Infusion chairs"):
        assert text in page
    assert "sum of members" in page and "clinic setting" in page


def test_manager_changes_a_room_capacity(client, clinic, boss, make_user, make_approved_patient):
    room = clinic.resource("procedure-room-1")
    post(client, f"/scheduling/resources/{room.id}", _resource_form(room, capacity="2"))
    db.session.refresh(room)
    assert room.capacity == 2
    (entry,) = _audit("scheduling.resource_update")
    assert entry.before == {"capacity": 1} and entry.after == {"capacity": 2}
    # Two local injections at once now fit.
    start = clinic.at(clinic.day(), "10:00")
    coordinator = make_user(Role.COORDINATOR)
    for _ in range(2):  # reinfusions need the intake gate
        services.book_visit(
            make_approved_patient().patient, "reinfusion-local", start, actor=coordinator
        )


def test_capacity_kept_in_a_clinic_setting(client, clinic, boss):
    chairs = clinic.resource("infusion-chair")
    post(client, f"/scheduling/resources/{chairs.id}", _resource_form(chairs, capacity="6"))
    assert settings.get("infusion_chairs") == 6
    assert _audit("settings.change")


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"capacity": "-1"}, "Number must be between 0 and 10000."),
        ({"capacity": "lots"}, "Not a valid integer value."),
        ({"name_en": ""}, "This field is required."),
        ({"working_weekdays": ["9"]}, "Choose weekdays from the list."),
    ],
)
def test_bad_resource_input(client, clinic, boss, changes, message):
    room = clinic.resource("procedure-room-1")
    body = post(
        client, f"/scheduling/resources/{room.id}", _resource_form(room, **changes), status=200
    )
    assert message in body
    db.session.refresh(room)
    assert room.capacity == 1


def test_add_a_staff_member_to_a_group(client, clinic, boss, make_user):
    doctor = make_user(Role.DOCTOR, full_name="Dr. New")
    data = {
        "code": "dr-new",
        "kind": "staff",
        "name_en": "Dr. New",
        "name_zh": "新医生",
        "name_ja": "新 医師",
        "capacity": "1",
        "pool_id": str(clinic.resource("doctor").id),
        "user_id": str(doctor.id),
        "working_weekdays": ["0"],
        "is_active": "y",
    }
    post(client, "/scheduling/resources/new", data)
    new = clinic.resource("dr-new")
    assert new.pool_id == clinic.resource("doctor").id and new.user_id == doctor.id
    assert new.working_weekdays == "0"
    assert _audit("scheduling.resource_create")
    # Mondays now have two doctors.
    monday = clinic.at(clinic.day(weekday=0), "10:00")
    coordinator = make_user(Role.COORDINATOR)
    for _ in range(2):
        services.book_visit(
            make_user(Role.PATIENT).patient, "consultation", monday, actor=coordinator
        )
    # The same code or account twice is refused.
    body = post(client, "/scheduling/resources/new", {**data, "user_id": ""}, status=200)
    assert "Another resource already has this code." in body
    # A linked account is no longer offered (and the service refuses it too).
    body = post(client, "/scheduling/resources/new", {**data, "code": "dr-new-2"}, status=200)
    assert "Not a valid choice." in body
    with pytest.raises(DomainError, match="already linked"):
        clinic_setup.save_resource(
            None,
            actor=boss,
            code="dr-new-3",
            kind="staff",
            names={"en": "X"},
            capacity=1,
            user_id=doctor.id,
        )


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"kind": ResourceKind.ROOM, "pool_id": "doctor"}, "staff group"),
        ({"kind": ResourceKind.STAFF, "pool_id": "dr-sato"}, "staff group"),
        ({"kind": ResourceKind.STAFF, "code": "Bad Code"}, "lower-case"),
        ({"kind": "spaceship"}, "Choose a kind."),
        ({"kind": ResourceKind.ROOM, "capacity": -3}, "capacity from 0 to 10000"),
    ],
)
def test_resource_rules(clinic, manager, fields, message):
    pools = {"doctor": clinic.resource("doctor").id, "dr-sato": clinic.resource("dr-sato").id}
    arguments = {"code": "room-x", "names": {"en": "X"}, "capacity": 1} | fields
    if "pool_id" in arguments:
        arguments["pool_id"] = pools[arguments["pool_id"]]
    with pytest.raises(DomainError, match=message):
        clinic_setup.save_resource(None, actor=manager, **arguments)
    assert db.session.execute(select(Resource).where(Resource.code == "room-x")).first() is None


def test_only_managers_set_up(clinic, coordinator, client, login_as):
    with pytest.raises(NotAllowed):
        clinic_setup.save_resource(
            None, actor=coordinator, code="x-1", kind="room", names={"en": "X"}, capacity=1
        )
    login_as(Role.COORDINATOR)
    for url in ("/scheduling/resources", "/scheduling/visit-types", "/scheduling/closures"):
        get(client, url, status=403)


def _visit_type_form(vt, duration, **changes):
    """The visit type form as the edit page submits it, with ``changes``."""
    data = {
        "name_en": vt.names["en"],
        "name_zh": vt.names.get("zh_Hans", ""),
        "name_ja": vt.names.get("ja", ""),
        "duration_minutes": str(duration),
        "modes": list(vt.modes),
        "day_block_resource_id": str(vt.day_block_resource_id or ""),
        "day_block_quantity": str(vt.day_block_quantity),
    }
    for flag in ("is_patient_bookable", "is_desk_bookable", "is_active"):
        if getattr(vt, flag):
            data[flag] = "y"
    for n, segment in enumerate(vt.segments):
        data[f"segments-{n}-resource_id"] = str(segment.resource_id)
        data[f"segments-{n}-offset_minutes"] = str(segment.offset_minutes)
        data[f"segments-{n}-duration_minutes"] = str(segment.duration_minutes or "")
        data[f"segments-{n}-quantity"] = str(segment.quantity)
    data.update(changes)
    return data


def test_visit_type_length(client, clinic, boss):
    iv = clinic.visit_type("reinfusion-iv")
    page = get(client, f"/scheduling/visit-types/{iv.id}")
    assert 'name="duration_minutes"' in page and 'value="90"' in page
    post(client, f"/scheduling/visit-types/{iv.id}", _visit_type_form(iv, 75))
    db.session.refresh(iv)
    assert iv.duration_minutes == 75
    assert _audit("scheduling.visit_type_update")[0].after["duration_minutes"] == 75
    plan = queries.load_plan("reinfusion-iv")
    assert plan.pure.span_minutes == 75  # the chair is held until the end

    consultation = clinic.visit_type("consultation")
    assert "also a clinic setting" in get(client, f"/scheduling/visit-types/{consultation.id}")
    post(client, f"/scheduling/visit-types/{consultation.id}", _visit_type_form(consultation, 60))
    assert settings.get("consultation_minutes") == 60  # the length is the clinic setting


def test_visit_type_parts_must_fit(client, clinic, boss):
    intrathecal = clinic.visit_type("reinfusion-intrathecal")
    body = post(
        client,
        f"/scheduling/visit-types/{intrathecal.id}",
        _visit_type_form(intrathecal, 50),
        status=200,
    )
    assert "end within the visit" in body
    db.session.refresh(intrathecal)
    assert intrathecal.duration_minutes == 120


def test_visit_type_add_and_remove_a_part(clinic, manager):
    local = clinic.visit_type("reinfusion-local")
    room = clinic.resource("procedure-room-1").id
    nurse = clinic.resource("nurse").id
    clinic_setup.update_visit_type(
        local,
        actor=manager,
        names=local.names,
        duration_minutes=60,
        modes=[],
        is_patient_bookable=False,
        is_desk_bookable=True,
        is_active=True,
        day_block_resource_id=None,
        segments=[
            clinic_setup.SegmentInput(room, 0, None),
            clinic_setup.SegmentInput(nurse, 0, 30),
        ],
    )
    db.session.commit()
    plan = queries.load_plan("reinfusion-local")
    assert sorted(s.resource_code for s in plan.pure.segments) == ["nurse", "procedure-room-1"]
    with pytest.raises(DomainError, match="at least one resource"):
        clinic_setup.update_visit_type(
            local,
            actor=manager,
            names=local.names,
            duration_minutes=60,
            modes=[],
            is_patient_bookable=False,
            is_desk_bookable=True,
            is_active=True,
            day_block_resource_id=None,
            segments=[],
        )
    with pytest.raises(DomainError, match="per-day resource"):
        clinic_setup.update_visit_type(
            local,
            actor=manager,
            names=local.names,
            duration_minutes=60,
            modes=[],
            is_patient_bookable=False,
            is_desk_bookable=True,
            is_active=True,
            day_block_resource_id=room,
            segments=[clinic_setup.SegmentInput(room, 0, None)],
        )


def test_closures_whole_days_and_hours(client, clinic, boss, make_user):
    tuesday = clinic.day(weekday=TUESDAY)
    coordinator = make_user(Role.COORDINATOR)
    booked = services.book_visit(
        make_user(Role.PATIENT).patient,
        "consultation",
        clinic.at(tuesday, "10:00"),
        actor=coordinator,
    )
    db.session.commit()
    post(
        client,
        "/scheduling/closures",
        {"first_date": tuesday.isoformat(), "last_date": "", "reason": "Staff training"},
    )
    closure = db.session.execute(select(Closure)).scalar_one()
    assert closure.start_at == clinic.cal.day_start(tuesday)
    assert closure.end_at == clinic.cal.day_start(tuesday + timedelta(days=1))
    page = get(client, "/scheduling/closures")
    assert "Staff training" in page and "1 booked visit(s) fall inside this closure" in page
    assert queries.availability("consultation", tuesday, 1, utcnow(), for_patient=False) == []
    assert booked.status.value == "booked"  # nothing is moved silently
    (entry,) = _audit("scheduling.closure_add")
    assert entry.after["reason"] == "Staff training"

    post(client, f"/scheduling/closures/{closure.id}/remove", {})
    assert db.session.execute(select(Closure)).first() is None
    assert _audit("scheduling.closure_remove")[0].before["reason"] == "Staff training"

    wednesday = tuesday + timedelta(days=1)
    post(
        client,
        "/scheduling/closures",
        {
            "first_date": wednesday.isoformat(),
            "from_time": "13:00",
            "to_time": "18:00",
            "reason": "Maintenance",
        },
    )
    starts = queries.availability("consultation", wednesday, 1, utcnow(), for_patient=False)
    assert starts and max(starts) < clinic.at(wednesday, "12:00")


@pytest.mark.parametrize(
    "form, message",
    [
        ({"first_date": "{day}", "reason": ""}, "This field is required."),
        ({"first_date": "{day}", "last_date": "{before}", "reason": "x"}, "must not be before"),
        (
            {"first_date": "{day}", "from_time": "15:00", "to_time": "14:00", "reason": "x"},
            "must end after it starts",
        ),
        ({"first_date": "{day}", "from_time": "15:00", "reason": "x"}, "Give both times"),
        ({"first_date": "2020-01-01", "reason": "x"}, "already over"),
        ({"first_date": "not a date", "reason": "x"}, "Enter the date as YYYY-MM-DD."),
        (
            {"first_date": "{day}", "from_time": "25:00", "to_time": "26:00", "reason": "x"},
            "Not a valid time value.",
        ),
        ({"first_date": "{day}", "last_date": "{far}", "reason": "x"}, "at most 366 days"),
    ],
)
def test_bad_closures(client, clinic, boss, form, message):
    day = clinic.day()
    values = {
        key: value.format(day=day, before=day - timedelta(days=1), far=day + timedelta(days=400))
        for key, value in form.items()
    }
    body = post(client, "/scheduling/closures", values, status=200)
    assert message in body
    assert db.session.execute(select(Closure)).first() is None


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        (
            {"first_date": "2999-01-01", "reason": "x"},
            "first_date",
            "Enter a date between the years 1900 and 2200.",
        ),
        (
            {"first_date": "2100-01-01", "reason": "x"},
            "first_date",
            "A closure can be entered at most 5 years ahead.",
        ),
        (
            {"first_date": "{day}", "last_date": "2100-01-01", "reason": "x"},
            "last_date",
            "A closure can be entered at most 5 years ahead.",
        ),
        (
            {"first_date": "0001-01-01", "reason": "x"},
            "first_date",
            "Enter a date between the years 1900 and 2200.",
        ),
        (
            {"first_date": "9999-12-31", "reason": "x"},
            "first_date",
            "Enter a date between the years 1900 and 2200.",
        ),
        (
            {"first_date": "{day}", "last_date": "0001-01-01", "reason": "x"},
            "last_date",
            "Enter a date between the years 1900 and 2200.",
        ),
    ],
)
def test_closure_dates_far_out_of_range(client, clinic, boss, form, field, message):
    day = clinic.day()
    values = {key: value.format(day=day) for key, value in form.items()}
    body = post(client, "/scheduling/closures", values, status=200)
    assert f'<div id="{field}-error" class="invalid-feedback d-block">{message}</div>' in body
    assert 'value="' + values["first_date"] + '"' in body  # what was typed is kept
    assert db.session.execute(select(Closure)).first() is None


def test_closure_up_to_five_years_ahead(client, clinic, boss):
    day = clinic.today.replace(year=clinic.today.year + 5) - timedelta(days=2)
    post(client, "/scheduling/closures", {"first_date": str(day), "reason": "Far"})
    assert db.session.execute(select(Closure)).scalar_one().reason == "Far"


def test_overlapping_closures_are_refused(clinic, manager):
    day = clinic.day()
    clinic_setup.add_closure(
        actor=manager,
        start_at=clinic.at(day, "09:00"),
        end_at=clinic.at(day, "12:00"),
        reason="One",
    )
    with pytest.raises(DomainError, match="overlaps"):
        clinic_setup.add_closure(
            actor=manager,
            start_at=clinic.at(day, "11:00"),
            end_at=clinic.at(day, "13:00"),
            reason="Two",
        )


def _staff_member(clinic):
    return (
        db.session.execute(
            select(Resource).where(
                Resource.kind == ResourceKind.STAFF, Resource.pool_id.is_not(None)
            )
        )
        .scalars()
        .first()
    )


def test_working_days_are_ticked_by_name(client, clinic, boss):
    member = _staff_member(clinic)
    page = get(client, f"/scheduling/resources/{member.id}")
    for name in ("Monday", "Tuesday", "Wednesday", "Sunday"):
        assert name in page
    assert 'type="checkbox" value="0"' in page and "0 = Monday" not in page
    post(
        client,
        f"/scheduling/resources/{member.id}",
        _resource_form(member, working_weekdays=["0", "2"]),
    )
    assert member.working_weekdays == "0,2"
    assert "Mon, Wed" in get(client, "/scheduling/resources")


@pytest.mark.parametrize(
    ("ticked", "stored"),
    [("", None), ([""], None), ([], None), (["", "3"], "3"), (["1", "1"], "1")],
)
def test_blank_working_days_never_500(client, clinic, boss, ticked, stored):
    member = _staff_member(clinic)
    post(
        client,
        f"/scheduling/resources/{member.id}",
        _resource_form(member, working_weekdays=ticked),
    )
    db.session.refresh(member)
    assert member.working_weekdays == stored  # none ticked: every open day


@pytest.mark.parametrize("ticked", [["x"], ["7"], ["-1"]])
def test_odd_working_days_get_a_message(client, clinic, boss, ticked):
    member = _staff_member(clinic)
    before = member.working_weekdays
    body = post(
        client,
        f"/scheduling/resources/{member.id}",
        _resource_form(member, working_weekdays=ticked),
        status=200,
    )
    assert "Choose weekdays from the list." in body
    db.session.refresh(member)
    assert member.working_weekdays == before
