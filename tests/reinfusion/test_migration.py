"""Revision aa0250d939d1 on a clinic in use: the reinfusion tables and trips
arrive, every visit keeps its row and is unlocked, and a locked visit and a
dose can then be stored; downgrading removes them and keeps the visits."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from intake.extensions import db
from tests.migration_support import populated_clinic_at
from tests.test_migrations import _empty, _migration_app

BEFORE, AFTER = "c4d47576a018", "aa0250d939d1"
NEW_TABLES = {
    "trips",
    "reinfusion_doses",
    "reinfusion_proposals",
    "reinfusion_change_requests",
    "reinfusion_clearances",
    "reinfusion_bedside_checks",
    "reinfusion_administrations",
    "follow_ups",
    "adverse_events",
}


def test_reinfusion_tables_arrive_on_a_populated_database(tmp_path):
    app = _migration_app(tmp_path)
    with app.app_context():
        populated_clinic_at(app, BEFORE)
        with db.engine.connect() as conn:
            visits_before = conn.execute(
                text("SELECT id, status, start_at FROM appointments ORDER BY id")
            ).all()
        upgrade(revision=AFTER)
        with db.engine.begin() as conn:
            assert NEW_TABLES <= set(inspect(conn).get_table_names())
            assert (
                conn.execute(
                    text("SELECT id, status, start_at FROM appointments ORDER BY id")
                ).all()
                == visits_before
            )
            assert (
                conn.execute(
                    text("SELECT count(*) FROM appointments WHERE locked_at IS NOT NULL")
                ).scalar_one()
                == 0
            )
            conn.execute(
                text("UPDATE appointments SET locked_at = '2026-12-01 00:00:00' WHERE id = 613")
            )
            conn.execute(
                text(
                    "INSERT INTO trips (patient_id, arrives_on, departs_on, created_at)"
                    " VALUES (10, '2027-01-10', '2027-01-20', '2026-12-01 00:00:00')"
                )
            )
        downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            assert not NEW_TABLES & tables
            columns = {c["name"] for c in inspect(conn).get_columns("appointments")}
            assert "locked_at" not in columns
            assert conn.execute(text("SELECT count(*) FROM appointments")).scalar_one() == len(
                visits_before
            )
        _empty(app)
