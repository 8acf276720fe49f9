"""Two app servers (gunicorn, 2 workers each, production config) on one
PostgreSQL share what must be shared:

(a) the last free seat booked on server A is refused as taken on server B, and
    patients racing for one seat from both servers get it exactly once;
(b) the login rate limit counts the attempts sent to A and to B together
    (production counts in the database by default);
(c) logging out on A ends the session on B too (its cookie and another device's).

Runs in the PostgreSQL leg (``bash scripts/with-postgres.sh ...``), in a
database of its own on the same server; skipped on SQLite.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
PASSWORD = "Scale-Out-Pass-9"
LOGIN_LIMIT = 6
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
KEY_RE = re.compile(r'name="request_key"[^>]*value="([A-Za-z0-9_-]+)"')
TAKEN = "This time was just taken. Please choose another."

pytestmark = pytest.mark.skipif(
    not TEST_DATABASE_URL.startswith("postgresql"),
    reason="two app servers on one PostgreSQL: run with scripts/with-postgres.sh",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """A browser over loopback: a cookie jar (sent back over plain HTTP
    although production marks cookies Secure), the last CSRF token seen, and
    the address the proxy in front of the servers reports for it."""

    def __init__(self, address: str):
        self.address = address
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def request(self, port: int, method: str, path: str, form: dict | None = None):
        headers = {"Host": f"127.0.0.1:{port}", "X-Forwarded-For": self.address}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode({"csrf_token": self.csrf, **form}).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            page = response.read().decode("utf-8", "replace")
            location = response.getheader("Location", "")
            for cookie in response.msg.get_all("Set-Cookie") or []:
                name, _, rest = cookie.partition("=")
                if "max-age=0" in cookie.lower() or "1970" in cookie:
                    self.cookies.pop(name.strip(), None)
                else:
                    self.cookies[name.strip()] = rest.split(";", 1)[0]
        finally:
            conn.close()
        if match := CSRF_RE.search(page):
            self.csrf = match.group(1)
        return response.status, urlsplit(location).path + _query(location), page

    def get(self, port: int, path: str):
        return self.request(port, "GET", path)

    def post(self, port: int, path: str, form: dict):
        return self.request(port, "POST", path, form)

    def log_in(self, port: int, email: str) -> None:
        self.get(port, "/login")
        status, location, _ = self.post(port, "/login", {"email": email, "password": PASSWORD})
        assert status == 302 and not location.startswith("/login"), (email, status, location)


def _query(location: str) -> str:
    query = urlsplit(location).query
    return f"?{query}" if query else ""


class Server:
    """``gunicorn --workers 2`` on a spare loopback port, production config."""

    def __init__(self, name: str, url: str, secret_key: str, tmp_path: Path):
        self.name, self.port = name, _free_port()
        self.log = tmp_path / f"gunicorn-{name}.log"
        env = {k: v for k, v in os.environ.items() if k != "RATELIMIT_STORAGE_URI"}
        env.update(
            INTAKE_ENV="production",
            DATABASE_URL=url,
            SECRET_KEY=secret_key,
            PROXY_COUNT="1",
            LOGIN_RATE_LIMIT=f"{LOGIN_LIMIT} per hour",
            PUBLIC_BASE_URL=f"http://127.0.0.1:{self.port}",
        )
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--timeout",
            "60",
            "--graceful-timeout",
            "5",
            "--chdir",
            str(ROOT),
            "wsgi:app",
        ]
        with self.log.open("w") as out:
            self.process = subprocess.Popen(  # noqa: S603
                command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def workers(self) -> int:
        count = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            count += int(fields[1]) == self.process.pid
        return count

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn {self.name} exited:\n{self.log.read_text()}")
            if self.workers() == 2:
                conn = HTTPConnection("127.0.0.1", self.port, timeout=5)
                try:
                    conn.request("GET", "/healthz")
                    if conn.getresponse().status == 200:
                        return
                except OSError:
                    pass
                finally:
                    conn.close()
            time.sleep(0.2)
        raise AssertionError(f"gunicorn {self.name} not ready:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)


@pytest.fixture
def scale_url():
    """A database of its own on the test PostgreSQL server."""
    name = f"intake_scale_{os.getpid()}"
    admin = create_engine(make_url(TEST_DATABASE_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _seed(url: str) -> dict:
    """Migrations, the demo clinic's settings, resources and visit types, and
    approved patients; one doctor of two already taken at two consultation
    starts, so one seat is left at each."""
    from flask_migrate import upgrade

    from intake import create_app
    from intake.accounts.models import User
    from intake.accounts.roles import Role
    from intake.core import settings
    from intake.core.types import utcnow
    from intake.eligibility.demo import make_ready_to_book
    from intake.extensions import db
    from intake.patients.services import create_patient
    from intake.scheduling import queries, services
    from intake.scheduling.demo import seed_scheduling

    app = create_app({"SQLALCHEMY_DATABASE_URI": url}, config_object="config.TestConfig")
    with app.app_context():
        upgrade()
    with app.test_request_context():
        settings.seed_defaults()
        seed_scheduling(password=PASSWORD, with_bookings=False)
        db.session.commit()

        def user(role, n):
            u = User(
                email=f"{role.value}{n}@scale.test",
                full_name=f"Scale {role.value} {n}",
                role=role,
                locale="en",
            )
            u.set_password(PASSWORD)
            db.session.add(u)
            db.session.flush()
            return u

        doctor, desk = user(Role.DOCTOR, 0), user(Role.COORDINATOR, 0)
        db.session.commit()

        def patient(n):
            u = user(Role.PATIENT, n)
            u.email_verified_at = utcnow()
            create_patient(
                family_name="Scale",
                given_name=f"Patient {n}",
                date_of_birth=date(1960, 1, 1) + timedelta(days=n),
                phone=None,
                email=u.email,
                locale="en",
                user=u,
                actor=None,
            )
            db.session.flush()
            make_ready_to_book(
                u, doctor=doctor, doctor_password=PASSWORD, coordinator=desk, password=PASSWORD
            )
            db.session.commit()
            return u

        patients = [patient(n) for n in range(1, 10)]
        now = utcnow()
        cal = queries.clinic_calendar()
        first = cal.today(now) + timedelta(days=4)
        # Days two doctors see patients (Tue, Thu, Sat): one start on two such days.
        two_doctor_days = [
            s
            for s in queries.availability("consultation", first, 21, now, for_patient=True)
            if cal.local_date(s).weekday() in (1, 3, 5)
        ]
        starts = [two_doctor_days[0]]
        starts.append(
            next(s for s in two_doctor_days if cal.local_date(s) > cal.local_date(starts[0]))
        )
        for filler, start in zip(patients[:2], starts, strict=True):
            services.book_visit(
                filler.patient, "consultation", start, actor=desk, send_confirmation=False
            )
        db.session.commit()
        seeded = {
            "patients": [(u.email, u.patient.id) for u in patients[2:]],
            "starts": [s.astimezone(cal.tz).isoformat() for s in starts],
            "start_values": starts,
        }
    with app.app_context():
        db.engine.dispose()
    return seeded


def _booked_at(url: str, start) -> list[int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    text(
                        "SELECT a.patient_id FROM appointments a"
                        " JOIN visit_types v ON v.id = a.visit_type_id"
                        " WHERE v.code = 'consultation' AND a.status = 'booked'"
                        " AND a.start_at = :start ORDER BY a.patient_id"
                    ),
                    {"start": start},
                ).scalars()
            )
    finally:
        engine.dispose()


def _open_booking(client: Client, port: int, start: str) -> str:
    status, _, page = client.get(port, f"/book/consultation?start={quote(start)}")
    assert status == 200
    match = KEY_RE.search(page)
    assert match, "the confirmation page has its request key"
    return match.group(1)


def _book(client: Client, port: int, start: str, key: str):
    status, location, _ = client.post(
        port, "/book/consultation", {"start": start, "request_key": key}
    )
    assert status == 302, status
    return location


def test_two_app_servers_share_seats_rate_limits_and_sessions(scale_url, tmp_path):
    seeded = _seed(scale_url)
    secret_key = secrets.token_hex(32)
    a = Server("a", scale_url, secret_key, tmp_path)
    b = Server("b", scale_url, secret_key, tmp_path)
    try:
        a.wait_ready()
        b.wait_ready()
        (p1, p1_id), (p2, _), *racers, (p7, _) = seeded["patients"]
        s1, s2 = seeded["starts"]
        before_s1 = _booked_at(scale_url, seeded["start_values"][0])

        # (a) The last seat, booked on A, is refused on B.
        on_a, on_b = Client("203.0.113.10"), Client("203.0.113.11")
        on_a.log_in(a.port, p1)
        on_b.log_in(b.port, p2)
        key_a, key_b = _open_booking(on_a, a.port, s1), _open_booking(on_b, b.port, s1)
        assert _book(on_a, a.port, s1, key_a) == "/visits"
        refused = _book(on_b, b.port, s1, key_b)
        assert refused.startswith("/book/consultation")
        status, _, page = on_b.get(b.port, refused)
        assert status == 200 and TAKEN in page
        # The same form sent again through the other server (a proxy's retry)
        # is answered as booked, and books nothing more.
        assert _book(on_a, b.port, s1, key_a) == "/visits"
        assert _booked_at(scale_url, seeded["start_values"][0]) == sorted(before_s1 + [p1_id])

        # ... and four patients racing for one seat, two on each server, get it once.
        clients = [Client(f"203.0.113.{20 + i}") for i in range(len(racers))]
        ports = [(a.port, b.port)[i % 2] for i in range(len(racers))]
        keys = []
        for client, port, (email, _) in zip(clients, ports, racers, strict=True):
            client.log_in(port, email)
            keys.append(_open_booking(client, port, s2))
        answers: list = [None] * len(racers)
        barrier = threading.Barrier(len(racers))

        def race(i):
            barrier.wait(30)
            answers[i] = _book(clients[i], ports[i], s2, keys[i])

        threads = [threading.Thread(target=race, args=(i,)) for i in range(len(racers))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert answers.count("/visits") == 1, answers
        assert all(x == "/visits" or x.startswith("/book/consultation") for x in answers)
        assert len(_booked_at(scale_url, seeded["start_values"][1])) == 2  # filler + winner

        # (b) The login limit counts the attempts sent to A and to B together.
        guesser = Client("198.51.100.77")
        guesser.get(a.port, "/login")
        codes = []
        for n in range(LOGIN_LIMIT):
            port = (a.port, b.port)[n % 2]
            status, _, page = guesser.post(
                port, "/login", {"email": "nobody@scale.test", "password": "wrong"}
            )
            codes.append(status)
            assert "The e-mail or password is not correct." in page
        codes.append(guesser.post(a.port, "/login", {"email": "x@scale.test", "password": "x"})[0])
        codes.append(guesser.post(b.port, "/login", {"email": "x@scale.test", "password": "x"})[0])
        assert codes == [200] * LOGIN_LIMIT + [429, 429]
        # Sent all at once over both servers' four workers, exactly the limit passes.
        burst = [Client("198.51.100.90") for _ in range(2 * LOGIN_LIMIT + 2)]
        for n, client in enumerate(burst):
            client.get((a.port, b.port)[n % 2], "/login")
        burst_codes: list = [None] * len(burst)
        barrier = threading.Barrier(len(burst))

        def attempt(n):
            barrier.wait(30)
            burst_codes[n] = burst[n].post(
                (a.port, b.port)[n % 2], "/login", {"email": "x@scale.test", "password": "x"}
            )[0]

        threads = [threading.Thread(target=attempt, args=(n,)) for n in range(len(burst))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(burst_codes) == [200] * LOGIN_LIMIT + [429] * (LOGIN_LIMIT + 2)

        # Another client (another address) is not held back by that one.
        other = Client("198.51.100.78")
        other.get(b.port, "/login")
        assert other.post(b.port, "/login", {"email": "x@scale.test", "password": "x"})[0] == 200

        # (c) Logging out on A ends the session on B: a copy of the cookie and
        # the session of another device.
        laptop = Client("203.0.113.40")
        laptop.log_in(a.port, p7)
        copy = Client("203.0.113.41")
        copy.cookies = dict(laptop.cookies)
        phone = Client("203.0.113.42")
        phone.log_in(b.port, p7)
        assert copy.get(b.port, "/me")[0] == 200  # one SECRET_KEY: B reads A's cookie
        assert phone.get(b.port, "/me")[0] == 200
        laptop.get(a.port, "/me")
        status, location, _ = laptop.post(a.port, "/logout", {})
        assert (status, location) == (302, "/login")
        for client in (copy, phone):
            status, location, _ = client.get(b.port, "/me")
            assert status == 302 and location.startswith("/login"), (status, location)
    finally:
        a.stop()
        b.stop()
    for server in (a, b):
        log = server.log.read_text(errors="replace")
        assert "Traceback" not in log, log
