"""Revision 5e2b8c41d7a3 on a clinic in use: the feed tokens table arrives,
every existing row stays, a feed can then be stored; downgrading removes the
table and keeps the rest."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from intake.extensions import db
from tests.migration_support import populated_clinic_at
from tests.test_migrations import _empty, _migration_app

BEFORE, AFTER = "5e7c1a9d2b40", "5e2b8c41d7a3"
KEPT = ("appointments", "resources", "users", "holds")


def _counts(conn) -> dict[str, int]:
    return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in KEPT}  # noqa: S608


def test_feed_tokens_arrive_on_a_populated_database(tmp_path):
    app = _migration_app(tmp_path)
    with app.app_context():
        populated_clinic_at(app, BEFORE)
        with db.engine.connect() as conn:
            before = _counts(conn)
            assert before["appointments"] > 0 and before["resources"] > 0
        upgrade(revision=AFTER)
        with db.engine.begin() as conn:
            assert "feed_tokens" in inspect(conn).get_table_names()
            assert _counts(conn) == before
            resource_id = conn.execute(text("SELECT min(id) FROM resources")).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO feed_tokens (token_hash, hint, resource_id, locale, created_at)"
                    " VALUES (:h, 'abcdef', :r, 'en', '2026-12-01 00:00:00')"
                ),
                {"h": "0" * 64, "r": resource_id},
            )
            assert conn.execute(text("SELECT count(*) FROM feed_tokens")).scalar_one() == 1
        downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            assert "feed_tokens" not in inspect(conn).get_table_names()
            assert _counts(conn) == before
        _empty(app)
