"""Revision c4d47576a018 on a clinic in use: each course's earliest upcoming
consultation and collection get the claim the unique index guards; visits
already closed or over, and duplicates booked before the index existed, get
none and stay as they were; the index then refuses a second claim."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from intake.extensions import db
from tests.test_migrations import _empty, _migration_app, _populate_clinic_before_patients

BEFORE, AFTER = "3071fc613a03", "c4d47576a018"


def _at(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S")


def _add_visits(conn) -> None:
    course = dict(conn.execute(text("SELECT patient_id, id FROM courses")).all())
    visits = [
        # id, patient, visit type (1 consultation, 2 collection), starts in days, status
        (610, 10, 1, 20, "booked"),  # Anna: two upcoming consultations (the old race) …
        (611, 10, 1, 10, "booked"),  # … the earlier one keeps the claim
        (612, 10, 1, 5, "cancelled"),
        (613, 10, 2, 30, "booked"),
        (614, 11, 1, -3, "booked"),  # Wang: over, never closed by the desk
        (615, 11, 1, 0.5, "arrived"),
        (616, 12, 2, 40, "no_show"),
    ]
    for row_id, patient_id, visit_type_id, days, status in visits:
        conn.execute(
            text(
                "INSERT INTO appointments (id, patient_id, course_id, visit_type_id, start_at,"
                " end_at, status, mode, booked_by_id, created_at, updated_at, sequence)"
                " VALUES (:id, :patient, :course, :vt, :start, :end, :status, 'in_person',"
                " :patient, :created, :created, 0)"
            ),
            {
                "id": row_id,
                "patient": patient_id,
                "course": course[patient_id],
                "vt": visit_type_id,
                "start": _at(days),
                "end": _at(days + 0.05),
                "status": status,
                "created": "2026-01-05 08:00:00",
            },
        )


def test_claims_are_given_when_upgrading_a_populated_database(tmp_path):
    app = _migration_app(tmp_path)
    with app.app_context():
        _empty(app)
        upgrade(revision="1c1f29cb5d06")
        with db.engine.begin() as conn:
            _populate_clinic_before_patients(conn)
        upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            _add_visits(conn)
        upgrade(revision=AFTER)
        with db.engine.connect() as conn:
            claims = dict(conn.execute(text("SELECT id, upcoming_kind FROM appointments")).all())
            statuses = dict(conn.execute(text("SELECT id, status FROM appointments")).all())
            columns = {c["name"] for c in inspect(conn).get_columns("appointments")}
            anna_course = conn.execute(
                text("SELECT course_id FROM appointments WHERE id = 610")
            ).scalar_one()
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            conn.execute(
                text("UPDATE appointments SET upcoming_kind = 'consultation' WHERE id = 610")
            )
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            conn.execute(  # a closed visit cannot hold a claim
                text("UPDATE appointments SET upcoming_kind = 'collection' WHERE id = 616")
            )
        with db.engine.begin() as conn:  # the same key twice is refused, none is fine
            conn.execute(text("UPDATE appointments SET request_key = 'k1' WHERE id = 612"))
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            conn.execute(text("UPDATE appointments SET request_key = 'k1' WHERE id = 613"))
        downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            columns_after = {c["name"] for c in inspect(conn).get_columns("appointments")}
            statuses_after = dict(conn.execute(text("SELECT id, status FROM appointments")).all())
        _empty(app)
        db.engine.dispose()

    assert anna_course is not None
    assert {"upcoming_kind", "request_key"} <= columns
    assert claims == {
        600: None,  # completed
        601: None,  # a collection of February 2026: over
        602: None,
        610: None,  # the later duplicate stays booked, without the claim
        611: "consultation",
        612: None,
        613: "collection",
        614: None,  # over: no longer upcoming
        615: "consultation",  # arrived today, still to end
        616: None,
    }
    assert statuses == statuses_after  # nothing cancelled or changed
    assert not {"upcoming_kind", "request_key"} & columns_after
