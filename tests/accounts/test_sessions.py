"""Sessions end server-side: a cookie copied before logout, a password change
or reset, or an admin disabling the account no longer opens anything after it.
Staff sessions end after 15 minutes idle, patients' after a longer limit."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from intake.accounts.roles import Role
from intake.core import security
from intake.extensions import db
from intake.notifications.models import Message
from tests.conftest import PASSWORD, log_in

HOME = {Role.PATIENT: "/me", Role.COORDINATOR: "/worklist"}


def _copy_session(source, target) -> None:
    """What a thief with the browser's cookie jar has: the same session cookie."""
    cookie = source.get_cookie("session")
    assert cookie is not None
    target.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)


def _sent_to_login(client, path) -> bool:
    with client.get(path) as r:
        return r.status_code == 302 and r.headers["Location"].startswith("/login")


def _logged_in_pair(app, user):
    first, copy = app.test_client(), app.test_client()
    log_in(first, user)
    _copy_session(first, copy)
    assert not _sent_to_login(copy, HOME[user.role])  # the copy works before the event
    return first, copy


@pytest.mark.parametrize("role", [Role.PATIENT, Role.COORDINATOR])
def test_logout_ends_a_copied_session(app, make_user, role):
    user = make_user(role)
    first, copy = _logged_in_pair(app, user)
    with first.post("/logout") as r:
        assert r.status_code == 302
    assert _sent_to_login(first, HOME[role])
    assert _sent_to_login(copy, HOME[role])


def test_password_change_ends_a_copied_session(app, make_user):
    user = make_user(Role.PATIENT)
    first, copy = _logged_in_pair(app, user)
    data = {"current_password": PASSWORD, "password": "Brand-New-77", "confirm": "Brand-New-77"}
    with first.post("/password/change", data=data) as r:
        assert r.status_code == 302
    assert not _sent_to_login(first, "/me")  # the session that changed it stays in
    assert _sent_to_login(copy, "/me")


def test_password_reset_ends_a_copied_session(app, make_user):
    user = make_user(Role.PATIENT)
    first, copy = _logged_in_pair(app, user)
    stranger = app.test_client()
    stranger.post("/password/forgot", data={"email": user.email}).close()
    body = db.session.execute(select(Message.body).order_by(Message.id.desc())).scalars().first()
    path = re.search(r"/password/reset/\S+", body).group(0)
    new = {"password": "Fresh-Start-88", "confirm": "Fresh-Start-88"}
    with stranger.post(path, data=new) as r:
        assert r.status_code == 302
    assert _sent_to_login(first, "/me")
    assert _sent_to_login(copy, "/me")


def test_disabling_ends_a_copied_session_even_once_enabled_again(app, client, make_user):
    nurse = make_user(Role.COORDINATOR)
    _first, copy = _logged_in_pair(app, nurse)
    log_in(client, make_user(Role.ADMIN))
    data = {"full_name": nurse.full_name, "role": "coordinator"}
    with client.post(f"/admin/users/{nurse.id}", data=data) as r:  # unticked: inactive
        assert r.status_code == 302
    assert _sent_to_login(copy, "/worklist")
    with client.post(f"/admin/users/{nurse.id}", data={**data, "is_active": "y"}) as r:
        assert r.status_code == 302
    assert _sent_to_login(copy, "/worklist")


class _Clock:
    def __init__(self, start: float = 1_900_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += minutes * 60


@pytest.fixture
def clock(monkeypatch):
    fake = _Clock()
    monkeypatch.setattr(security, "clock", fake)
    return fake


def test_staff_session_ends_after_15_idle_minutes(client, make_user, clock):
    log_in(client, make_user(Role.COORDINATOR))
    clock.advance(14)
    assert not _sent_to_login(client, "/worklist")
    clock.advance(14)  # 28 minutes in, but only 14 since the last request
    assert not _sent_to_login(client, "/worklist")
    clock.advance(15.1)
    assert _sent_to_login(client, "/worklist")
    with client.get("/login") as r:
        assert "logged out after a period of inactivity" in r.get_data(as_text=True)
    clock.advance(1)
    assert _sent_to_login(client, "/worklist")  # the session stays ended


def test_idle_logout_remembers_the_page(client, make_user, clock):
    log_in(client, make_user(Role.COORDINATOR))
    clock.advance(16)
    with client.get("/patients?q=abc") as r:
        location = urlsplit(r.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == ["/patients?q=abc"]


def test_patients_keep_a_longer_idle_limit(client, make_user, clock):
    log_in(client, make_user(Role.PATIENT))
    clock.advance(30)
    assert not _sent_to_login(client, "/me")
    clock.advance(61)
    assert _sent_to_login(client, "/me")


def test_idle_limits_are_configurable(app, client, make_user, clock):
    app.config["STAFF_IDLE_TIMEOUT_SECONDS"] = 120
    log_in(client, make_user(Role.COORDINATOR))
    clock.advance(1.9)
    assert not _sent_to_login(client, "/worklist")
    clock.advance(2.1)
    assert _sent_to_login(client, "/worklist")


def test_a_session_without_its_activity_time_is_refused(client, make_user):
    """The last-activity time is signed inside the session: one without it is
    not trusted (it could only come from before the idle limit existed)."""
    log_in(client, make_user(Role.COORDINATOR))
    with client.session_transaction() as s:
        s.pop(security.LAST_SEEN_KEY)
    assert _sent_to_login(client, "/worklist")
