"""Revision 7d3a9f0c2e61 on a clinic in use: the rate-limit table arrives
empty beside the existing data, counts as the app counts, and downgrading
removes it and nothing else."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from intake.core.ratelimit import DatabaseStorage
from intake.extensions import db
from tests.test_migrations import _empty, _migration_app, _populate_clinic_before_patients

BEFORE, AFTER = "5e2b8c41d7a3", "7d3a9f0c2e61"


def test_rate_limit_counters_arrive_on_a_populated_database(tmp_path):
    app = _migration_app(tmp_path)
    with app.app_context():
        _empty(app)
        upgrade(revision="1c1f29cb5d06")
        with db.engine.begin() as conn:
            _populate_clinic_before_patients(conn)
        upgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            users_before = conn.execute(text("SELECT id, email FROM users ORDER BY id")).all()
        upgrade(revision=AFTER)
        with db.engine.connect() as conn:
            tables_after = set(inspect(conn).get_table_names())
            empty = conn.execute(text("SELECT count(*) FROM rate_limit_counters")).scalar_one()
            users_after = conn.execute(text("SELECT id, email FROM users ORDER BY id")).all()
        engine = db.engine
        storage = DatabaseStorage("database://", engine=lambda: engine, clock=lambda: 100.0)
        counted = [storage.incr("login/203.0.113.7", 60) for _ in range(3)]
        downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            tables_down = set(inspect(conn).get_table_names())
            users_down = conn.execute(text("SELECT count(*) FROM users")).scalar_one()
        _empty(app)
        db.engine.dispose()
    assert "rate_limit_counters" in tables_after
    assert empty == 0
    assert users_after == users_before and len(users_before) == 6
    assert counted == [1, 2, 3]
    assert "rate_limit_counters" not in tables_down
    assert tables_down == tables_after - {"rate_limit_counters"}
    assert users_down == 6
