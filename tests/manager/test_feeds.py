"""Calendar feeds per resource and per staff member: a secret, revocable
address; initials only; parsed with a second iCalendar library (vobject)."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from types import SimpleNamespace

import pytest
import vobject
from sqlalchemy import select

from intake.accounts.roles import Role
from intake.core.errors import DomainError, NotAllowed
from intake.core.models import AuditEntry
from intake.extensions import db
from intake.manager import feeds
from intake.manager.models import FeedToken
from intake.scheduling import services
from tests.scheduling import conftest as scheduling_fixtures

clinic = scheduling_fixtures.clinic
coordinator = scheduling_fixtures.coordinator
manager = scheduling_fixtures.manager


@pytest.mark.parametrize(
    "names, expected",
    [
        (("王", "丽", "Wang", "Li"), "W. L."),
        (("Smith", "Anna", None, None), "S. A."),
        (("山田", "花子", None, None), "山. 花."),
        (("zhou", "", None, None), "Z."),
        (("", "", None, None), "?"),
        (("佐々木", "健一", "sasaki", "ken'ichi"), "S. K."),
    ],
)
def test_initials_only(names, expected):
    family, given, family_latin, given_latin = names
    patient = SimpleNamespace(
        family_name=family,
        given_name=given,
        family_name_latin=family_latin,
        given_name_latin=given_latin,
    )
    assert feeds.initials(patient) == expected


def test_a_token_is_long_random_and_only_its_hash_is_kept():
    token = feeds.new_token()
    assert len(token) >= 43 and feeds.TOKEN_RE.fullmatch(token)
    assert token != feeds.new_token()
    assert feeds.hash_token(token) == hashlib.sha256(token.encode()).hexdigest()


def test_the_window_runs_from_30_days_back_to_the_horizon():
    now = datetime(2026, 12, 1, tzinfo=UTC)
    start, end = feeds.feed_window(now, 120)
    assert (now - start, end - now) == (timedelta(days=30), timedelta(days=120))


@pytest.fixture
def booked(clinic, coordinator, make_user):
    """Two consultations (a doctor each) and a collection (room, doctor, nurse)."""
    day = clinic.day(weekday=1)  # a Tuesday: both doctors work
    wang = make_user(
        Role.PATIENT,
        family_name="王",
        given_name="丽",
        family_name_latin="Wang",
        given_name_latin="Li",
    ).patient
    smith = make_user(Role.PATIENT, family_name="Smith", given_name="Anna").patient
    first = services.book_visit(wang, "consultation", clinic.at(day, "10:00"), actor=coordinator)
    second = services.book_visit(smith, "consultation", clinic.at(day, "14:00"), actor=coordinator)
    db.session.commit()
    return SimpleNamespace(day=day, wang=wang, smith=smith, first=first, second=second)


def _make_feed(client, clinic, code: str, locale: str = "en") -> str:
    resource = clinic.resource(code)
    data = {"resource_id": str(resource.id), "locale": locale, "note": "Front desk iPad"}
    with client.post("/manager/feeds", data=data) as r:
        assert r.status_code == 200
        page = unescape(r.get_data(as_text=True))
    match = re.search(r"/feeds/([A-Za-z0-9_-]{40,})\.ics", page)
    assert match, "the address is shown once"
    assert "webcal://" in page
    return match.group(1)


def _events(client, token: str):
    with client.get(f"/feeds/{token}.ics") as r:
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("text/calendar")
        text = r.get_data(as_text=True)
    calendar = vobject.readOne(text)
    return text, calendar, list(getattr(calendar, "vevent_list", []))


def _member(visit, clinic):
    """The doctor (member resource) a consultation holds."""
    (resource_id,) = {hold.resource_id for hold in clinic.holds(visit)}
    return db.session.get(type(clinic.resource("doctor")), resource_id)


def test_a_staff_member_feed_shows_their_visits_with_initials(
    client,
    login_as,
    clinic,
    booked,
):
    boss = login_as(Role.MANAGER)
    doctor = _member(booked.first, clinic)
    token = _make_feed(client, clinic, doctor.code)
    stored = db.session.execute(select(FeedToken)).scalar_one()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored.token_hash and len(stored.hint) == 6
    (entry,) = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "manager.feed_create")
    ).scalars()
    assert entry.actor_id == boss.id and entry.entity_type == "feed_tokens"
    assert token not in str(entry.after)

    client.post("/logout").close()  # a calendar app has no session
    text, calendar, events = _events(client, token)
    mine = [v for v in (booked.first, booked.second) if _member(v, clinic).id == doctor.id]
    assert sorted(e.uid.value for e in events) == sorted(
        f"appointment-{v.id}@127.0.0.1" for v in mine
    )
    wang = next(e for e in events if e.uid.value == f"appointment-{booked.first.id}@127.0.0.1")
    assert wang.summary.value == "W. L. · Consultation"
    assert wang.dtstart.value == booked.first.start_at.astimezone(UTC)
    assert wang.dtstart.value.tzinfo is not None and "Z" in text  # UTC in the file
    assert int(wang.sequence.value) == booked.first.sequence
    assert wang.status.value == "CONFIRMED"
    for name in ("王", "丽", "Wang", "Li ", "Smith", "Anna"):
        assert name not in text  # never a name, only initials
    assert calendar.contents["x-wr-calname"][0].value.startswith(doctor.names["en"])


def test_a_room_feed_and_a_pool_feed(client, login_as, clinic, booked, coordinator):
    login_as(Role.MANAGER)
    collection_patient = booked.smith
    db.session.refresh(collection_patient)
    doctors = _make_feed(client, clinic, "doctor", locale="ja")
    _text, _calendar, events = _events(client, doctors)
    assert {e.uid.value for e in events} == {
        f"appointment-{booked.first.id}@127.0.0.1",
        f"appointment-{booked.second.id}@127.0.0.1",
    }
    assert {e.summary.value for e in events} == {"W. L. · 診察", "S. A. · 診察"}
    room = _make_feed(client, clinic, "procedure-room-1")
    _text, _calendar, events = _events(client, room)
    assert events == []  # consultations need no room


def test_a_moved_visit_keeps_its_uid_with_a_higher_sequence_and_a_cancelled_one_leaves(
    client,
    login_as,
    clinic,
    booked,
    coordinator,
):
    login_as(Role.MANAGER)
    token = _make_feed(client, clinic, "doctor")
    _t, _c, before = _events(client, token)
    services.reschedule_visit(booked.first, clinic.at(booked.day, "11:00"), actor=coordinator)
    services.cancel_visit(booked.second, actor=coordinator, reason="Flight cancelled")
    db.session.commit()
    _t, _c, after = _events(client, token)
    uid = f"appointment-{booked.first.id}@127.0.0.1"
    (moved,) = after
    assert moved.uid.value == uid and uid in {e.uid.value for e in before}
    assert int(moved.sequence.value) == 1
    assert moved.dtstart.value == clinic.at(booked.day, "11:00")
    # Cancelled: left out (its seats are freed), so subscribed calendars drop it.
    assert f"appointment-{booked.second.id}@127.0.0.1" not in {e.uid.value for e in after}


def test_revoking_ends_the_feed_and_is_audited(client, login_as, clinic, booked):
    login_as(Role.MANAGER)
    token = _make_feed(client, clinic, "doctor")
    feed = db.session.execute(select(FeedToken)).scalar_one()
    with client.get("/manager/feeds") as r:
        page = r.get_data(as_text=True)
    assert feed.hint in page and token not in page  # the address is not shown again
    with client.post(f"/manager/feeds/{feed.id}/revoke") as r:
        assert r.status_code == 302
    with client.get(f"/feeds/{token}.ics") as r:
        assert r.status_code == 404
    db.session.refresh(feed)
    assert feed.revoked_at is not None and feed.revoked_by_id is not None
    with client.post(f"/manager/feeds/{feed.id}/revoke") as r:
        assert r.status_code == 302
    with client.get("/manager/feeds") as r:
        assert "already revoked" in r.get_data(as_text=True)
    actions = db.session.execute(
        select(AuditEntry.action).where(AuditEntry.entity_type == "feed_tokens")
    ).scalars()
    assert sorted(actions) == ["manager.feed_create", "manager.feed_revoke"]


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "A" * 43,
        "A" * 400,
        "%00" + "A" * 43,
        "../../etc/passwd",
    ],
)
def test_unknown_or_malformed_tokens_answer_404(client, clinic, token):
    with client.get(f"/feeds/{token}.ics") as r:
        assert r.status_code in (400, 404)


def test_bad_input_is_shown_beside_the_field(client, login_as, clinic):
    login_as(Role.MANAGER)
    incubator = clinic.resource("incubator")
    cases = [
        ({"resource_id": "", "locale": "en"}, "This field is required"),
        ({"resource_id": str(incubator.id), "locale": "en"}, "Not a valid choice"),
        ({"resource_id": "999999", "locale": "en"}, "Not a valid choice"),
        ({"resource_id": str(incubator.id), "locale": "xx"}, "Not a valid choice"),
    ]
    for data, message in cases:
        with client.post("/manager/feeds", data={**data, "note": "kept text"}) as r:
            page = unescape(r.get_data(as_text=True))
        assert r.status_code == 400, data
        assert message in page, data
        assert 'value="kept text"' in page
    assert db.session.execute(select(FeedToken)).first() is None


def test_only_a_manager_makes_or_revokes_feeds(clinic, coordinator, manager):
    room = clinic.resource("procedure-room-1")
    with pytest.raises(NotAllowed):
        feeds.create_feed(room, actor=coordinator, locale="en")
    feed, _token = feeds.create_feed(room, actor=manager, locale="en")
    with pytest.raises(NotAllowed):
        feeds.revoke_feed(feed, actor=coordinator)
    feeds.revoke_feed(feed, actor=manager)
    with pytest.raises(DomainError):
        feeds.revoke_feed(feed, actor=manager)
    with pytest.raises(DomainError, match="room, chair, bed or staff"):
        feeds.create_feed(clinic.resource("incubator"), actor=manager, locale="en")
    with pytest.raises(DomainError, match="language"):
        feeds.create_feed(room, actor=manager, locale="xx")
