"""Revision d4a7c2e9b813 on a clinic in use: the ledger's version arrives as
one row at 0, the visits and their holds are untouched; downgrading removes
the table and keeps them."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from intake.extensions import db
from tests.migration_support import populated_clinic_at
from tests.test_migrations import _empty, _migration_app

BEFORE, AFTER = "7d3a9f0c2e61", "d4a7c2e9b813"
VISITS = "SELECT id, status, start_at FROM appointments ORDER BY id"
HOLDS = "SELECT id, resource_id, unit_start, seat FROM holds ORDER BY id"


def test_the_ledger_version_arrives_on_a_populated_database(tmp_path):
    app = _migration_app(tmp_path)
    with app.app_context():
        populated_clinic_at(app, BEFORE)
        with db.engine.connect() as conn:
            visits, holds = conn.execute(text(VISITS)).all(), conn.execute(text(HOLDS)).all()
        assert visits
        upgrade(revision=AFTER)
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT id, version FROM ledger_versions")).all() == [(1, 0)]
            assert conn.execute(text(VISITS)).all() == visits
            assert conn.execute(text(HOLDS)).all() == holds
            conn.execute(text("UPDATE ledger_versions SET version = version + 1 WHERE id = 1"))
            assert conn.execute(text("SELECT version FROM ledger_versions")).scalar_one() == 1
        downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            assert "ledger_versions" not in set(inspect(conn).get_table_names())
            assert conn.execute(text(VISITS)).all() == visits
            assert conn.execute(text(HOLDS)).all() == holds
        _empty(app)
