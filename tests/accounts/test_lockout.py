"""Brute force: a failure counter per account in the database locks the
account with a growing back-off, whatever the number of workers; the answer
never tells a locked account from a wrong password or an unknown address;
behind a configured proxy the client's address is what counts."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from intake import create_app
from intake.accounts import services
from intake.accounts.models import User
from intake.accounts.roles import Role
from intake.core.models import AuditEntry
from intake.extensions import db
from tests.conftest import PASSWORD, current_code

GENERIC = "The e-mail or password is not correct."
CODE_REFUSED = "This code is not correct."
WRONG = "Wrong-Pass-1"


def _login(client, email, password, **kwargs):
    with client.post("/login", data={"email": email, "password": password}, **kwargs) as r:
        return r.status_code, r.get_data(as_text=True), r.headers.get("Location")


def _fail(client, user, times=1):
    for _ in range(times):
        status, body, _location = _login(client, user.email, WRONG)
        assert status == 200 and GENERIC in body


def _state(user):
    db.session.expire_all()
    fresh = db.session.get(User, user.id)
    return fresh.failed_logins, fresh.locked_until


class _Clock:
    def __init__(self):
        self.now = datetime(2031, 3, 4, 5, 6, 7, tzinfo=UTC)

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    fake = _Clock()
    monkeypatch.setattr(services, "utcnow", fake)
    return fake


def test_unknown_wrong_and_locked_give_the_same_answer(app, make_user):
    locked, other = make_user(Role.PATIENT), make_user(Role.PATIENT)
    _fail(app.test_client(), locked, 5)
    cases = [
        ("nobody@example.org", WRONG),
        (other.email, WRONG),
        (locked.email, WRONG),
        (locked.email, PASSWORD),  # even the right password
    ]
    answers = set()
    for email, password in cases:
        client = app.test_client()
        status, body, location = _login(client, email, password)
        answers.add((status, location, body.replace(email, "EMAIL")))
        with client.get("/me") as r:
            assert r.status_code == 302  # no session was opened
    assert len(answers) == 1
    [(status, _location, body)] = answers
    assert status == 200 and GENERIC in body


def test_five_failures_lock_the_account_for_a_minute(client, make_user, clock):
    user = make_user(Role.PATIENT)
    _fail(client, user, 4)
    assert _state(user) == (4, None)
    _fail(client, user)
    assert _state(user) == (5, clock.now + timedelta(minutes=1))
    clock.advance(59)
    assert _login(client, user.email, PASSWORD)[0] == 200  # still locked
    clock.advance(2)
    assert _login(client, user.email, PASSWORD)[2] == "/me"
    assert _state(user) == (0, None)  # a login starts the count again


def test_attempts_while_locked_are_refused_without_extending_the_lock(client, make_user, clock):
    user = make_user(Role.PATIENT)
    _fail(client, user, 5)
    locked = _state(user)
    _fail(client, user, 3)
    assert _state(user) == locked
    actions = db.session.execute(
        select(AuditEntry.action).where(
            AuditEntry.entity_id == str(user.id), AuditEntry.action.like("accounts.%")
        )
    ).scalars()
    assert sorted(actions) == ["accounts.login_failed"] * 8 + ["accounts.login_locked"]


def test_each_failure_after_a_lock_doubles_it_up_to_an_hour(client, make_user, clock):
    user = make_user(Role.PATIENT)
    _fail(client, user, 5)
    lengths = []
    for _ in range(8):
        _failures, until = _state(user)
        lengths.append(round((until - clock.now).total_seconds()))
        clock.advance(lengths[-1] + 1)
        _fail(client, user)
    assert lengths == [60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_a_success_before_the_limit_resets_the_count(client, make_user, clock):
    user = make_user(Role.PATIENT)
    _fail(client, user, 4)
    assert _login(client, user.email, PASSWORD)[2] == "/me"
    client.post("/logout").close()
    _fail(client, user, 4)
    assert _state(user) == (4, None)


def test_a_password_reset_lifts_the_lock(client, make_user, clock):
    user = make_user(Role.PATIENT)
    _fail(client, user, 5)
    token = services.request_password_reset(user.email)
    db.session.commit()
    data = {"password": "Fresh-Start-88", "confirm": "Fresh-Start-88"}
    with client.post(f"/password/reset/{token}", data=data) as r:
        assert r.status_code == 302
    assert _state(user) == (0, None)
    assert _login(client, user.email, "Fresh-Start-88")[2] == "/me"


def _code_step(client, user):
    status, _body, location = _login(client, user.email, PASSWORD)
    assert (status, location) == (302, "/login/code")


def _code(client, code):
    with client.post("/login/code", data={"code": code}) as r:
        return r.status_code, r.get_data(as_text=True), r.headers.get("Location")


def test_wrong_login_codes_count_as_failures(app, client, make_user):
    doctor = make_user(Role.DOCTOR)
    _code_step(client, doctor)
    for _ in range(5):
        status, body, _location = _code(client, "000000")
        assert status == 200 and CODE_REFUSED in body
    failures, until = _state(doctor)
    assert failures == 5 and until is not None
    # Locked: the right code is refused too, and so is the password.
    status, body, _location = _code(client, current_code(doctor))
    assert status == 200 and CODE_REFUSED in body
    status, body, _location = _login(app.test_client(), doctor.email, PASSWORD)
    assert status == 200 and GENERIC in body


def test_the_password_alone_does_not_reset_the_count_of_codes(client, make_user):
    doctor = make_user(Role.DOCTOR)
    _code_step(client, doctor)
    for _ in range(4):
        _code(client, "000000")
    _code_step(client, doctor)  # the right password again
    assert _state(doctor)[0] == 4
    _code(client, "000000")
    assert _state(doctor)[1] is not None


def test_the_right_code_resets_the_count(client, make_user):
    doctor = make_user(Role.DOCTOR)
    _code_step(client, doctor)
    _code(client, "000000")
    assert _code(client, current_code(doctor))[2] == "/worklist"
    assert _state(doctor) == (0, None)


def _race(app, email, password, threads):
    barrier = threading.Barrier(threads)
    outcomes: list = [None] * threads

    def post(i):
        client = app.test_client()
        try:
            barrier.wait()
            status, body, _location = _login(client, email, password)
            outcomes[i] = (status, GENERIC in body)
        except BaseException as exc:  # recorded, never lost in the thread
            outcomes[i] = ("error", repr(exc))

    workers = [threading.Thread(target=post, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert not any(worker.is_alive() for worker in workers)
    return outcomes


def _audited(user, action):
    return db.session.execute(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.entity_id == str(user.id), AuditEntry.action == action)
    ).scalar_one()


def test_concurrent_failures_are_each_counted(app, make_user):
    """Ten workers' worth of wrong passwords at once: ten failures counted,
    none lost to a read-then-write race."""
    app.config["LOGIN_LOCKOUT_THRESHOLD"] = 100
    user = make_user(Role.PATIENT)
    outcomes = _race(app, user.email, WRONG, 10)
    assert outcomes == [(200, True)] * 10
    assert _state(user) == (10, None)
    assert _audited(user, "accounts.login_failed") == 10


def test_concurrent_failures_lock_at_exactly_the_threshold(app, make_user):
    user = make_user(Role.PATIENT)
    outcomes = _race(app, user.email, WRONG, 10)
    assert outcomes == [(200, True)] * 10
    failures, until = _state(user)
    assert failures == 5 and until is not None
    assert _audited(user, "accounts.login_locked") == 1


def _app(app, **config):
    return create_app(
        {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], **config},
        config_object="config.TestConfig",
    )


def _failed_from(app, user, headers):
    client = app.test_client()
    _login(client, user.email, WRONG, headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    return (
        db.session.execute(
            select(AuditEntry.ip_address)
            .where(AuditEntry.action == "accounts.login_failed")
            .order_by(AuditEntry.id.desc())
        )
        .scalars()
        .first()
    )


def test_behind_a_configured_proxy_the_client_address_is_audited(app, make_user):
    user = make_user(Role.PATIENT)
    proxied = _app(app, PROXY_COUNT=1)
    try:
        assert _failed_from(proxied, user, {"X-Forwarded-For": "203.0.113.7"}) == "203.0.113.7"
        # Only the address the proxy added counts: a client cannot choose its own.
        spoofed = {"X-Forwarded-For": "198.51.100.1, 203.0.113.8"}
        assert _failed_from(proxied, user, spoofed) == "203.0.113.8"
    finally:
        with proxied.app_context():
            db.engine.dispose()


def test_without_a_proxy_forwarded_headers_are_ignored(app, make_user):
    user = make_user(Role.PATIENT)
    assert app.config["PROXY_COUNT"] == 0
    assert _failed_from(app, user, {"X-Forwarded-For": "203.0.113.7"}) == "10.0.0.2"


def test_behind_a_proxy_each_client_has_its_own_rate_limit(app):
    limited = _app(app, PROXY_COUNT=1, RATELIMIT_ENABLED=True)
    try:
        client = limited.test_client()
        codes = {}
        for address in ("203.0.113.1", "203.0.113.2"):
            codes[address] = [
                _login(client, "a@example.org", "x", headers={"X-Forwarded-For": address})[0]
                for _ in range(11)
            ]
    finally:
        with limited.app_context():
            db.engine.dispose()
    assert codes["203.0.113.1"] == [200] * 10 + [429]
    assert codes["203.0.113.2"] == [200] * 10 + [429]
