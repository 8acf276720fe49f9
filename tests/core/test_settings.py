"""Clinic settings: parsed from text, edited by a manager, audited."""

from datetime import time
from decimal import Decimal

import pytest
from sqlalchemy import select

from intake.accounts.roles import Role
from intake.core import settings
from intake.core.models import AuditEntry, Setting
from intake.core.settings_schema import BY_KEY, SettingValueError, defaults, parse
from intake.extensions import db


@pytest.mark.parametrize(
    ("key", "raw", "value"),
    [
        ("age_min", "20", 20),
        ("age_min", " 18 ", 18),
        ("endotoxin_max_eu_per_ml", "0.25", Decimal("0.25")),
        ("closed_on_public_holidays", "0", False),
        ("open_time", "08:30", time(8, 30)),
        ("open_weekdays", "5,0,1,1", (0, 1, 5)),
        ("follow_up_days", "7, 30", (7, 30)),
    ],
)
def test_parse_good(key, raw, value):
    assert parse(BY_KEY[key], raw) == value


@pytest.mark.parametrize(
    ("key", "raw"),
    [
        ("age_min", "twenty"),
        ("age_min", "-1"),
        ("age_max", "121"),
        ("endotoxin_max_eu_per_ml", "abc"),
        ("endotoxin_max_eu_per_ml", "-0.1"),
        ("endotoxin_max_eu_per_ml", "NaN"),
        ("closed_on_public_holidays", "maybe"),
        ("open_time", "9:00"),
        ("open_time", "24:00"),
        ("open_weekdays", "0,7"),
        ("follow_up_days", ""),
        ("password_min_length", "6"),
    ],
)
def test_parse_bad(key, raw):
    with pytest.raises(SettingValueError):
        parse(BY_KEY[key], raw)


def test_defaults_are_domain_defaults():
    d = defaults()
    assert (d["age_min"], d["age_max"], d["panel_validity_days"], d["incubator_places"]) == (
        20,
        80,
        90,
        40,
    )
    assert (
        d["culture_min_days"],
        d["culture_max_days"],
        d["min_notice_hours"],
        d["horizon_days"],
    ) == (28, 42, 48, 120)


def test_values_fall_back_to_defaults_in_one_query(app, count_queries):
    with count_queries() as statements:
        assert settings.get("age_max") == 80
        assert settings.get("slot_minutes") == 15
    assert len(statements) == 1


def test_manager_changes_a_setting_with_audit(client, login_as):
    manager = login_as(Role.MANAGER)
    form = settings.raw_values() | {"age_max": "75"}
    with client.post("/manager/settings", data=form) as r:
        assert r.status_code == 302
    assert db.session.get(Setting, "age_max").value == "75"
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "settings.change")
    ).scalar_one()
    assert (entry.entity_id, entry.before, entry.after, entry.actor_id) == (
        "age_max",
        {"value": "80"},
        {"value": "75"},
        manager.id,
    )


def test_bad_settings_show_messages_and_save_nothing(client, login_as):
    login_as(Role.MANAGER)
    form = settings.raw_values() | {
        "age_max": "abc",
        "slot_minutes": "20",
        "culture_min_days": "50",
    }
    with client.post("/manager/settings", data=form) as r:
        body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert 'id="e-age_max"' in body and "Enter a whole number." in body
    assert 'value="abc"' in body  # what was typed is kept
    assert db.session.execute(select(Setting)).first() is None
    form = settings.raw_values() | {"culture_min_days": "50"}
    with client.post("/manager/settings", data=form) as r:
        assert "Must not be before the window start." in r.get_data(as_text=True)
    assert (
        db.session.execute(select(AuditEntry).where(AuditEntry.action == "settings.change")).first()
        is None
    )


def test_seed_defaults_is_idempotent(app):
    assert settings.seed_defaults() == len(BY_KEY)
    db.session.commit()
    assert settings.seed_defaults() == 0


def test_opening_times_must_fall_on_the_booking_unit(client, login_as):
    login_as(Role.MANAGER)
    form = settings.raw_values() | {"open_time": "09:10"}
    with client.post("/manager/settings", data=form) as r:
        assert "Must fall on the booking unit (every 15 minutes)." in r.get_data(as_text=True)
    form = settings.raw_values() | {"open_time": "09:10", "slot_minutes": "5"}
    with client.post("/manager/settings", data=form) as r:
        assert r.status_code == 302


@pytest.mark.parametrize(
    ("changes", "key", "message"),
    [
        (
            {"break_start": "14:00", "break_end": "13:00"},
            "break_end",
            "The break must not end before it starts.",
        ),
        (
            {"break_start": "08:00"},
            "break_start",
            "The break must lie between opening and closing time.",
        ),
        (
            {"break_end": "19:00"},
            "break_end",
            "The break must lie between opening and closing time.",
        ),
        (
            {"open_time": "18:00", "close_time": "09:00"},
            "close_time",
            "Must be after the opening time.",
        ),
    ],
)
def test_hours_out_of_order_are_named_next_to_the_field(client, login_as, changes, key, message):
    login_as(Role.MANAGER)
    form = settings.raw_values() | changes
    with client.post("/manager/settings", data=form) as r:
        body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert f'<div class="invalid-feedback d-block" id="e-{key}">{message}</div>' in body
    for typed in changes.values():
        assert f'value="{typed}"' in body  # what was typed is kept
    assert db.session.execute(select(Setting)).first() is None


def test_hours_out_of_order_message_in_the_users_language(client, login_as):
    login_as(Role.MANAGER, locale="zh_Hans")
    form = settings.raw_values() | {"break_start": "14:00", "break_end": "13:00"}
    with client.post("/manager/settings", data=form) as r:
        body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert 'id="e-break_end">午休结束时间不能早于开始时间。</div>' in body
    assert db.session.execute(select(Setting)).first() is None


@pytest.mark.parametrize(
    ("changes", "keys"),
    [
        ({}, set()),
        ({"break_start": "12:00", "break_end": "12:00"}, set()),  # no break
        ({"break_start": "13:00", "break_end": "12:00"}, {"break_end"}),
        ({"break_start": "09:00"}, {"break_start"}),
        ({"break_end": "18:00"}, {"break_end"}),
        ({"close_time": "09:00"}, {"close_time", "break_start", "break_end"}),
        ({"age_min": 81}, {"age_max"}),
        ({"culture_min_days": 43}, {"culture_max_days"}),
    ],
)
def test_cross_check_table(changes, keys):
    from intake.core.settings_schema import cross_check

    values = defaults() | {
        k: time.fromisoformat(v) if isinstance(v, str) else v for k, v in changes.items()
    }
    assert {key for key, _message, _n in cross_check(values)} == keys


def test_open_weekdays_are_ticked_by_name(client, login_as):
    login_as(Role.MANAGER)
    with client.get("/manager/settings") as r:
        body = r.get_data(as_text=True)
    assert "0 = Monday" not in body
    assert 'name="open_weekdays" value="0" checked' in body
    assert 'name="open_weekdays" value="6" >' in body  # Sunday closed by default
    assert "Default: Monday, Tuesday, Wednesday, Thursday, Friday, Saturday" in body
    form = settings.raw_values() | {"open_weekdays": ["0", "2", "4"]}
    with client.post("/manager/settings", data=form) as r:
        assert r.status_code == 302
    assert db.session.get(Setting, "open_weekdays").value == "0,2,4"


@pytest.mark.parametrize("ticked", [[], [""]])
def test_no_open_weekday_is_refused_beside_the_field(client, login_as, ticked):
    login_as(Role.MANAGER)
    form = settings.raw_values() | {"open_weekdays": ticked}
    with client.post("/manager/settings", data=form) as r:
        body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert 'id="e-open_weekdays">Choose at least one weekday.</div>' in body
    assert db.session.execute(select(Setting)).first() is None
