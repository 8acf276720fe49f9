"""A booking form carries an idempotency key (a random token made when the
form is shown): sending the same form again (a retry after a worker died
after its commit, a double click) returns the booking the first send made,
never an error or a second booking."""

from __future__ import annotations

import re
import threading
from html import unescape
from urllib.parse import quote

from sqlalchemy import func, select

from intake.accounts.roles import Role
from intake.core.models import AuditEntry
from intake.extensions import db
from intake.notifications.models import Message
from intake.scheduling.models import Appointment
from tests.conftest import PASSWORD, log_in

TUESDAY = 1
FORM_KEY = "Jx3kV9qL2mN8pR4tW7yZ1bC5dF0gH6"
KEY = re.compile(r'name="request_key"[^>]*value="([A-Za-z0-9_-]+)"')


def _count(model, *where) -> int:
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def _key(client, url) -> str:
    with client.get(url) as r:
        assert r.status_code == 200, (url, r.status_code)
        match = KEY.search(r.get_data(as_text=True))
    assert match, "the confirmation form carries no request_key"
    return match.group(1)


def _post(client, url, data) -> tuple[int, str]:
    with client.post(url, data=data) as r:
        return r.status_code, r.headers.get("Location", "")


def _flashes(client, location) -> str:
    with client.get(location) as r:
        return unescape(r.get_data(as_text=True))


def test_the_confirmation_form_carries_a_fresh_key(clinic, client, login_as):
    login_as(Role.PATIENT)
    start = f"{clinic.day(weekday=TUESDAY)}T10:00:00+09:00"
    url = f"/book/consultation?start={quote(start)}"
    first, second = _key(client, url), _key(client, url)
    assert first != second and len(first) >= 20


def test_a_patient_sending_the_form_twice_gets_one_booking(clinic, client, login_as):
    patient = login_as(Role.PATIENT)
    start = f"{clinic.day(weekday=TUESDAY)}T10:00:00+09:00"
    key = FORM_KEY  # what the confirmation form carries (test above)
    data = {"start": start, "request_key": key}

    first = _post(client, "/book/consultation", data)
    second = _post(client, "/book/consultation", data)

    assert first[0] == second[0] == 302
    assert first[1] == second[1] and first[1].endswith("/visits")
    assert "Booked." in _flashes(client, second[1])
    assert _count(Appointment) == 1
    (appointment,) = db.session.execute(select(Appointment)).scalars()
    assert appointment.request_key == key and appointment.patient_id == patient.patient.id
    # Booked, audited and confirmed once.
    assert _count(AuditEntry, AuditEntry.action == "scheduling.book") == 1
    assert _count(Message, Message.template == "visit_booked") == 1


def test_a_new_form_is_not_a_retry(clinic, client, login_as):
    """Another form (another key) for a second consultation is refused as before."""
    login_as(Role.PATIENT)
    day = clinic.day(weekday=TUESDAY)
    for hhmm, key, expected in (
        ("10:00", FORM_KEY, "/visits"),
        ("14:00", FORM_KEY[::-1], "/book/consultation"),
    ):
        start = f"{day}T{hhmm}:00+09:00"
        status, location = _post(client, "/book/consultation", {"start": start, "request_key": key})
        assert status == 302 and expected in location
    assert "already have this visit booked" in _flashes(client, location)
    assert _count(Appointment) == 1


def test_the_desk_sending_the_form_twice_gets_one_booking(clinic, client, login_as, make_user):
    login_as(Role.COORDINATOR)
    patient = make_user(Role.PATIENT)
    start = f"{clinic.day(weekday=TUESDAY)}T10:00:00+09:00"
    url = f"/desk/book?patient_id={patient.patient.id}&visit_type=consultation"
    assert _key(client, f"{url}&start={quote(start)}")
    data = {"start": start, "request_key": FORM_KEY}

    first, second = _post(client, url, data), _post(client, url, data)

    (appointment,) = db.session.execute(select(Appointment)).scalars()
    assert first == second == (302, f"/desk/visits/{appointment.id}")


def test_two_sends_at_once_make_one_booking(app, clinic, make_user):
    """The same form sent twice at the same moment (a double click, a proxy
    retrying): one booking, and both answers lead to it."""
    patient = make_user(Role.PATIENT)
    start = f"{clinic.day(weekday=TUESDAY)}T10:00:00+09:00"
    client = app.test_client()
    with client.post("/login", data={"email": patient.email, "password": PASSWORD}) as r:
        assert r.status_code == 302
    key = FORM_KEY
    barrier = threading.Barrier(2)
    answers: list = []

    def send():
        barrier.wait()
        answers.append(_post(client, "/book/consultation", {"start": start, "request_key": key}))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert answers == [(302, "/visits"), (302, "/visits")]
    assert _count(Appointment) == 1


def test_someone_elses_key_books_nothing(app, clinic, client, login_as, make_user):
    owner = login_as(Role.PATIENT)
    day = clinic.day(weekday=TUESDAY)
    start = f"{day}T10:00:00+09:00"
    key = _key(client, f"/book/consultation?start={quote(start)}")
    assert _post(client, "/book/consultation", {"start": start, "request_key": key})[0] == 302
    other_client = app.test_client()
    log_in(other_client, make_user(Role.PATIENT))
    other = f"{day}T14:00:00+09:00"
    status, location = _post(
        other_client, "/book/consultation", {"start": other, "request_key": key}
    )
    assert status == 302 and "/book/consultation" in location
    rows = db.session.execute(select(Appointment.patient_id)).scalars().all()
    assert rows == [owner.patient.id]
