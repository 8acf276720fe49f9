"""Revision b7d3f0a91c25 on a clinic in use: the key pages' sort and filter
columns get their indexes, every row stays; downgrading removes the indexes
and keeps the rows."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from intake.extensions import db
from tests.migration_support import populated_clinic_at
from tests.test_migrations import _empty, _migration_app

BEFORE, AFTER = "d4a7c2e9b813", "b7d3f0a91c25"
NEW = {
    "reviews": "ix_reviews_signed_at",
    "users": "ix_users_active_role",
    "courses": "ix_courses_status_opened_at",
    "batches": "ix_batches_state_collected_on",
}


def _indexes(conn) -> dict[str, set[str]]:
    inspector = inspect(conn)
    return {table: {i["name"] for i in inspector.get_indexes(table)} for table in NEW}


def _rows(conn) -> dict[str, list]:
    return {
        table: conn.execute(text(f"SELECT * FROM {table} ORDER BY id")).all()  # noqa: S608
        for table in NEW
    }


def test_page_indexes_arrive_on_a_populated_database(tmp_path):
    app = _migration_app(tmp_path)
    with app.app_context():
        populated_clinic_at(app, BEFORE)
        with db.engine.connect() as conn:
            before = _rows(conn)
            assert not any(NEW[t] in names for t, names in _indexes(conn).items())
        assert before["reviews"] and before["users"] and before["courses"]
        upgrade(revision=AFTER)
        with db.engine.connect() as conn:
            assert all(NEW[t] in names for t, names in _indexes(conn).items())
            assert _rows(conn) == before
            recent = conn.execute(
                text(
                    "SELECT id FROM reviews WHERE decision IS NOT NULL"
                    " ORDER BY signed_at DESC, id DESC"
                )
            ).scalars()
            assert set(recent) <= {r.id for r in before["reviews"]}
        downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            assert not any(NEW[t] in names for t, names in _indexes(conn).items())
            assert _rows(conn) == before
        _empty(app)
