"""Revision 960275a2ae06 on a clinic in use: the waitlist's two tables
arrive empty beside every existing row, with their partial unique indexes
(one waiting entry per course, one open offer per entry) enforced by the
database; downgrading removes them and keeps every other row."""

from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from intake.extensions import db
from tests.migration_support import populated_clinic_at
from tests.test_migrations import _empty, _migration_app

BEFORE, AFTER = "b7d3f0a91c25", "960275a2ae06"
KEPT = ("patients", "courses", "appointments", "holds")


def _rows(conn) -> dict[str, list]:
    return {
        table: conn.execute(text(f"SELECT * FROM {table} ORDER BY id")).all()  # noqa: S608
        for table in KEPT
    }


def _entry(conn, course_id, patient_id, visit_type_id, status="waiting") -> int:
    return conn.execute(
        text(
            "INSERT INTO waitlist_entries (course_id, patient_id, visit_type_id, weeks,"
            " fit_trips, joined_at, status) VALUES (:c, :p, :v, '[\"2027-03-15\"]', false,"
            " '2027-03-01 00:00:00+00:00', :s) RETURNING id"
        ),
        {"c": course_id, "p": patient_id, "v": visit_type_id, "s": status},
    ).scalar_one()


def _offer(conn, entry_id, status="open") -> None:
    conn.execute(
        text(
            "INSERT INTO waitlist_offers (entry_id, day, offered_at, expires_at, status)"
            " VALUES (:e, '2027-03-16', '2027-03-02 00:00:00+00:00',"
            " '2027-03-03 00:00:00+00:00', :s)"
        ),
        {"e": entry_id, "s": status},
    )


def test_the_waitlist_arrives_on_a_populated_database_and_leaves_again(tmp_path):
    app = _migration_app(tmp_path)
    with app.app_context():
        populated_clinic_at(app, BEFORE)
        with db.engine.connect() as conn:
            before = _rows(conn)
            assert "waitlist_entries" not in inspect(conn).get_table_names()
        assert before["patients"] and before["courses"] and before["appointments"]
        upgrade(revision=AFTER)
        with db.engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            assert {"waitlist_entries", "waitlist_offers"} <= tables
            assert _rows(conn) == before
            course_id, patient_id = conn.execute(
                text("SELECT id, patient_id FROM courses ORDER BY id")
            ).first()
            visit_type_id = conn.execute(
                text("SELECT id FROM visit_types WHERE code = 'collection'")
            ).scalar_one()
        # One waiting entry per course; a past one beside it is fine.
        with db.engine.begin() as conn:
            entry_id = _entry(conn, course_id, patient_id, visit_type_id)
            _entry(conn, course_id, patient_id, visit_type_id, status="left")
            _offer(conn, entry_id)
            _offer(conn, entry_id, status="expired")
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            _entry(conn, course_id, patient_id, visit_type_id)
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            _offer(conn, entry_id)
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            _offer(conn, entry_id, status="maybe")  # the status's check constraint
        downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            assert "waitlist_entries" not in inspect(conn).get_table_names()
            assert "waitlist_offers" not in inspect(conn).get_table_names()
            assert _rows(conn) == before
        _empty(app)
