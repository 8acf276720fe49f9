"""Two trips sent at once for one patient never overlap: each write locks the
patient's row before it reads the other trips, so the threads are checked
one after the other. Runs on SQLite (file, WAL) and on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from intake.accounts.models import User
from intake.accounts.roles import Role
from intake.core.errors import DomainError
from intake.extensions import db
from intake.patients import trip_services
from intake.patients.models import Trip

THREADS = 6


def test_overlapping_trips_sent_at_once_one_wins(app, clinic, make_user):
    patient = make_user(Role.PATIENT)
    patient_id = patient.id
    today = clinic.today
    barrier = threading.Barrier(THREADS)
    outcomes: list = [None] * THREADS

    def attempt(i):
        with app.test_request_context():
            try:
                user = db.session.get(User, patient_id)
                record = user.patient
                barrier.wait()
                try:
                    trip_services.add_trip(
                        record,
                        arrives_on=today + timedelta(days=30 + i),
                        departs_on=today + timedelta(days=40 + i),
                        actor=user,
                    )
                    db.session.commit()
                    outcomes[i] = "ok"
                except DomainError as exc:
                    db.session.rollback()
                    outcomes[i] = ("refused", exc.field)
            except BaseException as exc:  # recorded, never lost in the thread
                outcomes[i] = ("error", repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert outcomes.count("ok") == 1, outcomes
    assert outcomes.count(("refused", "arrives_on")) == THREADS - 1, outcomes
    db.session.expire_all()
    assert len(db.session.execute(select(Trip)).scalars().all()) == 1
