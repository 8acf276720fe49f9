"""Load and fault test: the app under gunicorn (4 sync workers, production
config), on SQLite and on a throwaway PostgreSQL, loopback only, bounded.

For each database it builds a seeded clinic (migrations, the demo resources and
visit types, 50 approved patients, 50 desk staff with an authenticator app),
starts gunicorn on 127.0.0.1, logs every client in through the real forms, then
runs races, each with every client released at once:

* consultation: 50 patients for the last doctor of one start;
* collection: 50 patients, each at another start, for the last incubator place
  those collections' culture windows share;
* reinfusion (IV drip, local injection, intrathecal injection): 50 desk staff,
  each for another patient, for the last chair / room of one start (the
  reinfusion module does not book yet: this clinic lets the desk book them);
* one patient racing against itself: 20 consultations and 20 collections at
  different starts, sent at once from one session;

and SIGKILLs one busy gunicorn worker in the middle of the collection and the
reinfusion races. A client whose connection dies sends the same form again
(same idempotency key), as a browser's retry would.

Then, with the server stopped, it counts:

* overbooked: (resource, unit) with more holds than the capacity or a seat at
  or above it; races acknowledged to more clients than there were seats;
  courses with more than one upcoming visit of a kind that allows one;
* 5xx: answers with a 5xx status;
* lost: bookings acknowledged to a client (redirect to the visit) that are not
  in the database as a booked visit with its holds;
* integrity: SQLite ``PRAGMA integrity_check`` and ``foreign_key_check``; on
  both databases, duplicate seats, holds without an owner, booked visits
  without holds; PostgreSQL constraints not validated.

It exits non-zero when any figure is not 0, or a phase overran its time, and
its last line is the figures. Usage::

    python scripts/loadtest.py [--db sqlite|postgresql|both] [--clients 50]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "Load-Test-Pass-9"  # noqa: S105 - the throwaway clinic's test accounts
HASH_FOR_SEEDING = "pbkdf2:sha256:1000"  # verified by the server like any hash
TOTAL_BUDGET = 290  # seconds, both databases
REQUEST_TIMEOUT = 30
RETRIES = 4
SELF_RACE = 20
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
KEY_RE = re.compile(r'name="request_key"[^>]*value="([A-Za-z0-9_-]+)"')
DESK_VISIT_RE = re.compile(r"/desk/visits/(\d+)$")


class Overrun(Exception):
    """A phase ran past the time budget."""


CLEANUPS: list = []  # servers to stop, also when the watchdog fires


def watchdog(seconds: float) -> threading.Timer:
    """Whatever hangs, the script ends: servers stopped, the figures line printed."""

    def fire():
        for cleanup in reversed(CLEANUPS):
            try:
                cleanup()
            except Exception:  # noqa: BLE001, S110 - stopping what can be stopped
                pass
        log(f"loadtest FAILED: OVERRUN, stopped after {seconds:.0f}s")
        os._exit(1)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    return timer


def log(message: str) -> None:
    print(message, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- HTTP


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0
    server_errors: int = 0
    retried: int = 0
    unanswered: int = 0
    errors: list = field(default_factory=list)

    def add(self, **counts) -> None:
        with self.lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)


class Client:
    """A browser session over loopback: cookies (sent back over plain HTTP
    although production marks them Secure), forms with their CSRF token."""

    def __init__(self, port: int, tally: Tally, locale: str = "en"):
        self.port, self.tally, self.locale = port, tally, locale
        self.cookies: dict[str, str] = {}
        self.lock = threading.Lock()
        self.csrf: str | None = None

    def request(self, method: str, path: str, form: dict | None = None):
        headers = {"Accept-Language": self.locale, "Host": f"127.0.0.1:{self.port}"}
        with self.lock:
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            status = response.status
            location = response.getheader("Location", "")
            for cookie in response.msg.get_all("Set-Cookie") or []:
                name, _, rest = cookie.partition("=")
                value = rest.split(";", 1)[0]
                expired = "max-age=0" in cookie.lower() or "1970" in cookie
                with self.lock:
                    if expired:
                        self.cookies.pop(name.strip(), None)
                    else:
                        self.cookies[name.strip()] = value
        finally:
            conn.close()
        self.tally.add(requests=1, server_errors=1 if status >= 500 else 0)
        if status >= 500:
            with self.tally.lock:
                self.tally.errors.append(f"{status} {method} {path}")
        match = CSRF_RE.search(text)
        if match:
            self.csrf = match.group(1)
        return status, location, text

    def get(self, path: str):
        return self.request("GET", path)

    def post(self, path: str, form: dict):
        return self.request("POST", path, {"csrf_token": self.csrf or "", **form})

    def send(self, path: str, form: dict):
        """POST a form; when the connection dies (a killed worker), send the very
        same form again, like a browser retry. None: never answered."""
        for attempt in range(RETRIES):
            try:
                return self.post(path, form)
            except (OSError, HTTPException):
                self.tally.add(retried=1)
                time.sleep(0.5 * (attempt + 1))
        self.tally.add(unanswered=1)
        return None

    def log_in(self, email: str, totp_secret: str | None = None) -> None:
        from intake.accounts.two_factor import code_at

        self.get("/login")
        status, location, _ = self.post("/login", {"email": email, "password": PASSWORD})
        if status != 302:
            raise RuntimeError(f"login of {email} answered {status}")
        if location.endswith("/login/code"):
            self.get("/login/code")
            code = code_at(totp_secret, datetime.now(UTC))
            status, location, _ = self.post("/login/code", {"code": code})
            if status != 302 or location.endswith("/login/code"):
                raise RuntimeError(f"second step of {email} answered {status} {location}")


# --------------------------------------------------------------------------- the clinic


@dataclass
class Race:
    name: str
    seats: int  # how many bookings can succeed together (dry run before the race)
    attempts: list  # (client index, path, form, patient id, visit type, start)
    kill: bool = False


@dataclass
class Plan:
    patients: list  # (user id, patient id, e-mail)
    staff: list  # (user id, e-mail, totp secret)
    racer: tuple  # the patient racing against themself
    races: list


def make_app(url: str):
    from intake import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "loadtest-seeding",
            "PASSWORD_HASH_METHOD": HASH_FOR_SEEDING,
        },
        config_object="config.ProductionConfig",
    )


def _user(role, n: int, **fields):
    from intake.accounts.models import User
    from intake.core.types import utcnow
    from intake.extensions import db

    user = User(
        email=f"{role.value}{n}@load.test",
        full_name=f"Load {role.value} {n}",
        role=role,
        locale=("en", "zh_Hans", "ja")[n % 3],
        **fields,
    )
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.flush()
    if role.value == "patient":
        from datetime import date

        from intake.patients.services import create_patient

        user.email_verified_at = utcnow()
        create_patient(
            family_name="Load",
            given_name=f"Patient {n}",
            date_of_birth=date(1965, 1, 1) + timedelta(days=n),
            phone=None,
            email=user.email,
            locale=user.locale,
            user=user,
            actor=None,
        )
        db.session.flush()
    return user


def _free_seats(code: str, starts: list, patients: list, actor) -> int:
    """How many of these bookings can succeed together now: book them one by
    one in a transaction that is then rolled back."""
    from sqlalchemy import text

    from intake.core.errors import DomainError
    from intake.extensions import db
    from intake.scheduling import services

    db.session.commit()
    # SQLite: a write first, so that the savepoints below nest in a transaction
    # (the driver would commit when the outermost savepoint is released).
    db.session.execute(text("UPDATE settings SET value = value WHERE 1 = 0"))
    booked = 0
    for patient, start in zip(patients, starts, strict=False):
        try:
            with db.session.begin_nested():
                services.book_visit(patient, code, start, actor=actor, send_confirmation=False)
            booked += 1
        except DomainError:
            pass
    db.session.rollback()
    return booked


def seed(url: str, clients: int) -> Plan:
    from flask_migrate import upgrade
    from sqlalchemy import select

    from intake.accounts.roles import Role
    from intake.accounts.two_factor import new_secret
    from intake.core import settings
    from intake.core.types import utcnow
    from intake.eligibility.demo import make_ready_to_book
    from intake.extensions import db
    from intake.scheduling import queries, services
    from intake.scheduling.demo import seed_scheduling
    from intake.scheduling.models import VisitType

    app = make_app(url)
    with app.app_context():
        upgrade()
    with app.test_request_context():
        settings.seed_defaults()
        seed_scheduling(password=PASSWORD, with_bookings=False)
        db.session.commit()
        # The reinfusion module does not book yet: the desk books these here.
        reinfusions = select(VisitType).where(VisitType.code.like("reinfusion-%"))
        for vt in db.session.execute(reinfusions).scalars():
            vt.is_desk_bookable = True
        manager = _user(Role.MANAGER, 0, totp_secret=new_secret(), totp_enabled_at=utcnow())
        doctor = _user(Role.DOCTOR, 0, totp_secret=new_secret(), totp_enabled_at=utcnow())
        desk = _user(Role.COORDINATOR, 0, totp_secret=new_secret(), totp_enabled_at=utcnow())
        settings.update_settings({"incubator_places": "3"}, actor=manager)
        db.session.commit()

        def approved(n):
            user = _user(Role.PATIENT, n)
            make_ready_to_book(
                user, doctor=doctor, doctor_password=PASSWORD, coordinator=desk, password=PASSWORD
            )
            db.session.commit()
            return user

        racers = [approved(n) for n in range(1, clients + 1)]
        fillers = [approved(n) for n in range(1000, 1010)]
        self_racer = approved(2000)
        staff = []
        for n in range(1, clients + 1):
            user = _user(Role.COORDINATOR, n, totp_secret=new_secret(), totp_enabled_at=utcnow())
            staff.append((user.id, user.email, user.totp_secret))
        db.session.commit()

        now = utcnow()
        cal = queries.clinic_calendar()
        first = cal.today(now) + timedelta(days=4)

        def free(code, start_day, days, for_patient=True):
            return queries.availability(code, start_day, days, now, for_patient=for_patient)

        def book(code, start, patient):
            services.book_visit(patient.patient, code, start, actor=desk, send_confirmation=False)
            db.session.commit()

        def iso(start):
            return start.astimezone(cal.tz).isoformat()

        races = []
        # Consultation: a day two doctors work (Tue, Thu, Sat); one of them taken.
        s1 = next(
            s for s in free("consultation", first, 21) if cal.local_date(s).weekday() in (1, 3, 5)
        )
        book("consultation", s1, fillers[0])
        seats = _free_seats("consultation", [s1] * 5, [p.patient for p in fillers[1:6]], desk)
        races.append(
            Race(
                "consultation",
                seats,
                [
                    (i, "/book/consultation", {"start": iso(s1)}, p.patient.id, "consultation", s1)
                    for i, p in enumerate(racers)
                ],
            )
        )
        taken_days = {cal.local_date(s1)}

        # Collection: two of three incubator places taken over the culture
        # windows; 50 collections at other starts share the last place.
        for filler in fillers[1:3]:
            book("collection", free("collection", first, 7)[0], filler)
        window = [s for s in free("collection", first, 21) if cal.local_date(s) not in taken_days]
        window = window[:clients]
        seats = _free_seats("collection", window, [p.patient for p in fillers[3:10]], desk)
        races.append(
            Race(
                "collection (incubator places)",
                seats,
                [
                    (i, "/book/collection", {"start": iso(s)}, p.patient.id, "collection", s)
                    for i, (p, s) in enumerate(zip(racers, window, strict=False))
                ],
                kill=True,
            )
        )
        last_collection_day = max(cal.local_date(s) for s in window)

        # Reinfusions, at the desk, on days after the collection race.
        later = last_collection_day + timedelta(days=2)
        for code, prefill in (
            ("reinfusion-iv", 3),
            ("reinfusion-local", 0),
            ("reinfusion-intrathecal", 0),
        ):
            start = next(s for s in free(code, later, 21, for_patient=False))
            for filler in fillers[3 : 3 + prefill]:
                book(code, start, filler)
            seats = _free_seats(code, [start] * 5, [p.patient for p in fillers[6:10]], desk)
            races.append(
                Race(
                    code,
                    seats,
                    [
                        (
                            i,
                            f"/desk/book?patient_id={p.patient.id}&visit_type={code}",
                            {"start": iso(start)},
                            p.patient.id,
                            code,
                            start,
                        )
                        for i, p in enumerate(racers)
                    ],
                    kill=True,
                )
            )
            later = cal.local_date(start) + timedelta(days=1)

        # One patient racing against themself, at different starts.
        consultations = [s for s in free("consultation", later, 14) if s != s1][:SELF_RACE]
        # Past every culture window of the races above, before the panel expires.
        collections = free("collection", first + timedelta(days=64), 12)[:SELF_RACE]
        attempts = [
            (0, "/book/consultation", {"start": iso(s)}, self_racer.patient.id, "consultation", s)
            for s in consultations
        ] + [
            (0, "/book/collection", {"start": iso(s)}, self_racer.patient.id, "collection", s)
            for s in collections
        ]
        races.append(Race("one patient, 40 bookings at once", 2, attempts))
        db.session.commit()
        patients = [(u.id, u.patient.id, u.email) for u in racers]
        plan = Plan(
            patients, staff, (self_racer.id, self_racer.patient.id, self_racer.email), races
        )
    with app.app_context():
        db.engine.dispose()
    return plan


# --------------------------------------------------------------------------- servers


class Postgres:
    """A throwaway PostgreSQL server on 127.0.0.1 (as scripts/with-postgres.sh)."""

    def __init__(self):
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not found:
            raise RuntimeError("PostgreSQL not installed (make system-deps)")
        self.bindir = found[-1].parent
        self.dir = Path(tempfile.mkdtemp(prefix="intake-loadtest-pg."))
        self.port = free_port()
        self.as_root = os.geteuid() == 0

    def _run(self, *args):
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, timeout=120)  # noqa: S603

    def start(self) -> str:
        CLEANUPS.append(self.stop)
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        self.dir.chmod(0o700)
        data = self.dir / "data"
        self._run(
            "initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"
        )
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(data),
            "-w",
            "-l",
            str(self.dir / "server.log"),
            "-o",
            options,
            "start",
        )
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "loadtest")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/loadtest"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "stop")
        except Exception:  # noqa: BLE001, S110 - best effort, the folder goes anyway
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


class Gunicorn:
    def __init__(self, url: str, workdir: Path):
        self.url, self.port = url, free_port()
        self.log = workdir / "gunicorn.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "INTAKE_ENV": "production",
            "DATABASE_URL": self.url,
            "SECRET_KEY": secrets.token_hex(32),
            "LOGIN_RATE_LIMIT": "100000 per minute",
            "RATELIMIT_STORAGE_URI": "memory://",
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{self.port}",
        }
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "4",
            "--worker-class",
            "sync",
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
        CLEANUPS.append(self.stop)
        self.wait_ready(60)

    def workers(self) -> list[int]:
        if self.process is None:
            return []
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                pids.append(int(stat.parent.name))
        return pids

    def wait_ready(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: see {self.log}")
            if len(self.workers()) == 4:
                try:
                    conn = HTTPConnection("127.0.0.1", self.port, timeout=5)
                    conn.request("GET", "/healthz")
                    if conn.getresponse().status == 200:
                        return
                except OSError:
                    pass
                finally:
                    conn.close()
            time.sleep(0.2)
        raise Overrun("gunicorn did not get 4 workers ready")

    def kill_one_worker(self) -> int | None:
        workers = self.workers()
        if not workers:
            return None
        pid = random.choice(workers)  # noqa: S311
        os.kill(pid, signal.SIGKILL)
        return pid

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)


# --------------------------------------------------------------------------- races


def run_threads(targets: list, seconds: float) -> None:
    threads = [threading.Thread(target=t, daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + seconds
    for thread in threads:
        thread.join(max(0.1, deadline - time.monotonic()))
    if any(thread.is_alive() for thread in threads):
        raise Overrun("clients still waiting for answers")


def log_in_all(port: int, tally: Tally, plan: Plan, budget: float):
    patients = [
        Client(port, tally, ("en", "zh-CN", "ja")[i % 3]) for i in range(len(plan.patients))
    ]
    staff = [Client(port, tally) for _ in plan.staff]
    racer = Client(port, tally, "ja")
    jobs = [
        (c, email, None) for c, (_uid, _pid, email) in zip(patients, plan.patients, strict=True)
    ]
    jobs += [(c, email, secret) for c, (_uid, email, secret) in zip(staff, plan.staff, strict=True)]
    jobs.append((racer, plan.racer[2], None))
    failures = []
    lock = threading.Lock()

    def worker(chunk):
        for client, email, secret in chunk:
            try:
                client.log_in(email, secret)
            except Exception as exc:  # noqa: BLE001 - counted below
                with lock:
                    failures.append(f"{email}: {exc}")

    chunks = [jobs[i::8] for i in range(8)]
    run_threads([lambda c=c: worker(c) for c in chunks], budget)
    if failures:
        raise RuntimeError(f"{len(failures)} logins failed, e.g. {failures[:3]}")
    return patients, staff, racer


def run_race(race: Race, clients: list, server: Gunicorn, tally: Tally, budget: float) -> dict:
    """Every client opens its confirmation page (CSRF token, idempotency key),
    then all send at once; returns what the clients were told."""
    outcomes: list = [None] * len(race.attempts)
    barrier = threading.Barrier(len(race.attempts) + 1, timeout=budget)

    def attempt(n):
        index, path, form, patient_id, code, start = race.attempts[n]
        client = clients[index]
        sep = "&" if "?" in path else "?"
        try:
            page = client.get(f"{path}{sep}start={quote(form['start'])}")[2]
        except (OSError, HTTPException):
            page = ""
        match = KEY_RE.search(page)
        key = match.group(1) if match else secrets.token_urlsafe(24)
        barrier.wait()
        answer = client.send(path, {**form, "request_key": key})
        if answer is None:
            outcomes[n] = ("unanswered", patient_id, code, start, None)
            return
        status, location, _ = answer
        booked = status == 302 and (
            location.endswith("/visits") or DESK_VISIT_RE.search(location) is not None
        )
        visit = DESK_VISIT_RE.search(location)
        # Refused: sent back to the booking page with the reason.
        refused = status == 302 and location.split("?")[0] == path.split("?")[0]
        outcomes[n] = (
            "ack" if booked else "refused" if refused else f"unexpected {status} {location}",
            patient_id,
            code,
            start,
            int(visit.group(1)) if visit else None,
        )

    threads = [
        threading.Thread(target=attempt, args=(n,), daemon=True) for n in range(len(outcomes))
    ]
    for thread in threads:
        thread.start()
    barrier.wait()
    killed = None
    if race.kill:
        time.sleep(random.uniform(0.05, 0.25))  # noqa: S311 - mid-load
        killed = server.kill_one_worker()
    deadline = time.monotonic() + budget
    for thread in threads:
        thread.join(max(0.1, deadline - time.monotonic()))
    if any(thread.is_alive() for thread in threads):
        raise Overrun(f"race {race.name}: clients still waiting")
    acks = [o for o in outcomes if o and o[0] == "ack"]
    counts = Counter(o[0] if o else "none" for o in outcomes)
    log(
        f"  {race.name}: {len(outcomes)} clients, {race.seats} seat(s) free, "
        f"{len(acks)} booked, {dict(counts)}" + (f", worker {killed} killed" if killed else "")
    )
    if race.kill:
        server.wait_ready(30)
    unexpected = [o[0] for o in outcomes if o is None or o[0].startswith("unexpected")]
    return {
        "acks": acks,
        "over": max(0, len(acks) - race.seats),
        "killed": killed is not None,
        # Nothing booked where a seat was free, or answers that are neither a
        # booking nor a refusal: the race proved nothing.
        "void": (race.seats > 0 and not acks) or bool(unexpected),
        "unexpected": unexpected[:3],
    }


# --------------------------------------------------------------------------- figures


def figures(url: str, acks: list) -> dict:
    """Counted with the server stopped."""
    from sqlalchemy import func, select, text

    from intake.core import settings
    from intake.extensions import db
    from intake.scheduling import queries, visit_kinds
    from intake.scheduling.models import Appointment, AppointmentStatus, Hold, Resource, VisitType

    app = make_app(url)
    result = {"overbooked": 0, "lost": 0, "integrity": 0, "notes": []}
    with app.app_context():
        values = settings.values()
        capacity = {r.id: queries.capacity_of(r, values) for r in db.session.query(Resource)}
        per_unit = db.session.execute(
            select(Hold.resource_id, Hold.unit_start, func.count(), func.max(Hold.seat)).group_by(
                Hold.resource_id, Hold.unit_start
            )
        ).all()
        for rid, unit, count, top in per_unit:
            if count > capacity[rid] or top >= capacity[rid]:
                result["overbooked"] += 1
                result["notes"].append(f"resource {rid} at {unit}: {count} holds, seat {top}")
        kinds = [k for k in visit_kinds.VisitKind if visit_kinds.one_upcoming(k)]
        doubles = db.session.execute(
            select(Appointment.course_id, VisitType.kind, func.count())
            .join(VisitType, VisitType.id == Appointment.visit_type_id)
            .where(
                Appointment.status.in_([AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED]),
                VisitType.kind.in_(kinds),
                Appointment.end_at > datetime.now(UTC),
            )
            .group_by(Appointment.course_id, VisitType.kind)
            .having(func.count() > 1)
        ).all()
        result["overbooked"] += len(doubles)
        result["notes"] += [f"course {c}: {n} upcoming {k}" for c, k, n in doubles]

        for _ack, patient_id, code, start, visit_id in acks:
            query = (
                select(Appointment)
                .join(VisitType, VisitType.id == Appointment.visit_type_id)
                .where(
                    Appointment.patient_id == patient_id,
                    VisitType.code == code,
                    Appointment.start_at == start,
                    Appointment.status == AppointmentStatus.BOOKED,
                )
            )
            if visit_id is not None:
                query = query.where(Appointment.id == visit_id)
            appointment = db.session.execute(query).scalars().first()
            held = (
                appointment is not None
                and db.session.execute(
                    select(func.count())
                    .select_from(Hold)
                    .where(Hold.appointment_id == appointment.id)
                ).scalar_one()
            )
            if not held:
                result["lost"] += 1
                result["notes"].append(
                    f"acknowledged but missing: {code} {start} patient {patient_id}"
                )

        checks = {
            "duplicate seats": "SELECT count(*) FROM (SELECT resource_id, unit_start, seat"
            " FROM holds GROUP BY resource_id, unit_start, seat HAVING count(*) > 1) d",
            "holds without owner": "SELECT count(*) FROM holds h"
            " WHERE (h.appointment_id IS NOT NULL AND NOT EXISTS"
            " (SELECT 1 FROM appointments a WHERE a.id = h.appointment_id))"
            " OR (h.course_id IS NOT NULL AND NOT EXISTS"
            " (SELECT 1 FROM courses c WHERE c.id = h.course_id))",
            "booked visits without holds": "SELECT count(*) FROM appointments a"
            " WHERE a.status = 'booked' AND NOT EXISTS"
            " (SELECT 1 FROM holds h WHERE h.appointment_id = a.id)",
        }
        with db.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                verdict = conn.exec_driver_sql("PRAGMA integrity_check").scalar()
                if verdict != "ok":
                    result["integrity"] += 1
                    result["notes"].append(f"integrity_check: {verdict}")
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    result["integrity"] += 1
                    result["notes"].append(f"foreign_key_check: {broken[:5]}")
            else:
                checks["constraints not validated"] = (
                    "SELECT count(*) FROM pg_constraint WHERE NOT convalidated"
                )
            for name, sql in checks.items():
                n = conn.execute(text(sql)).scalar()
                if n:
                    result["integrity"] += 1
                    result["notes"].append(f"{name}: {n}")
        db.engine.dispose()
    return result


def run_database(kind: str, clients: int, deadline: float) -> dict:
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix=f"intake-loadtest-{kind}."))
    postgres = Postgres() if kind == "postgresql" else None
    server = None
    try:
        url = postgres.start() if postgres else f"sqlite:///{workdir / 'clinic.db'}"
        log(f"{kind}: seeding a clinic ({clients} patients, {clients} desk staff)")
        plan = seed(url, clients)
        log(f"{kind}: seeded in {time.monotonic() - started:.0f}s; gunicorn, 4 sync workers")
        server = Gunicorn(url, workdir)
        server.start()
        tally = Tally()

        def left():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Overrun("time budget spent")
            return remaining

        patients, staff, racer = log_in_all(server.port, tally, plan, left())
        log(f"{kind}: {len(patients) + len(staff) + 1} clients logged in")
        acks, over, kills, void = [], 0, 0, []
        for race in plan.races:
            if race.name.startswith("one patient"):
                clients_for = [racer]
            elif race.name.startswith("reinfusion"):
                clients_for = staff
            else:
                clients_for = patients
            outcome = run_race(race, clients_for, server, tally, min(60, left()))
            acks += outcome["acks"]
            over += outcome["over"]
            kills += outcome["killed"]
            if outcome["void"]:
                void.append(f"{race.name}: nothing booked or odd answers {outcome['unexpected']}")
        server.stop()
        counted = figures(url, acks)
        counted["overbooked"] += over
        counted.update(
            server_errors=tally.server_errors,
            requests=tally.requests,
            retried=tally.retried,
            unanswered=tally.unanswered,
            kills=kills,
            seconds=time.monotonic() - started,
            overrun=False,
        )
        for note in counted["notes"][:20] + tally.errors[:10] + void:
            log(f"  ! {note}")
        if kills == 0 or void:
            counted["overrun"] = True  # the run proved less than it must
            log("  ! no worker was killed" if kills == 0 else "  ! a race proved nothing")
        return counted
    except Overrun as exc:
        log(f"{kind}: OVERRUN: {exc}")
        return {"overrun": True, "seconds": time.monotonic() - started}
    finally:
        if server is not None:
            server.stop()
            if server.log.exists():
                errors = [
                    line
                    for line in server.log.read_text(errors="replace").splitlines()
                    if "Traceback" in line or "Error" in line
                ]
                for line in errors[:10]:
                    log(f"  gunicorn: {line}")
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def summary(kind: str, f: dict) -> str:
    if f.get("overrun") and "overbooked" not in f:
        return f"{kind} OVERRUN after {f['seconds']:.0f}s"
    text = (
        f"{kind} overbooked={f['overbooked']} 5xx={f['server_errors']} lost={f['lost']} "
        f"integrity={f['integrity']} (requests={f['requests']} retried={f['retried']} "
        f"unanswered={f['unanswered']} workers_killed={f['kills']} {f['seconds']:.0f}s)"
    )
    return text + (" OVERRUN" if f.get("overrun") else "")


def failed(f: dict) -> bool:
    return bool(
        f.get("overrun")
        or f.get("overbooked")
        or f.get("server_errors")
        or f.get("lost")
        or f.get("integrity")
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--clients", type=int, default=50)
    args = parser.parse_args()
    started = time.monotonic()
    deadline = started + TOTAL_BUDGET
    watchdog(TOTAL_BUDGET + 5)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results = {}
    for i, kind in enumerate(kinds):
        # Leave the later databases their share of the budget.
        share = started + TOTAL_BUDGET * (i + 1) / len(kinds)
        results[kind] = run_database(kind, args.clients, min(deadline, share))
    elapsed = time.monotonic() - started
    bad = any(failed(f) for f in results.values())
    line = " | ".join(summary(kind, f) for kind, f in results.items())
    log(f"loadtest {'FAILED' if bad else 'ok'}: {line} | total {elapsed:.0f}s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
