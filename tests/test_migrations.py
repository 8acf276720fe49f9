"""`flask db upgrade` builds the schema from empty, and it matches the models."""

import os

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from intake import create_app
from intake.extensions import db


def _migration_app(tmp_path):
    uri = os.environ.get("TEST_MIGRATION_DATABASE_URL") or f"sqlite:///{tmp_path / 'm.db'}"
    return create_app({"SQLALCHEMY_DATABASE_URI": uri}, config_object="config.TestConfig")


def _empty(app):
    db.drop_all()
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


def test_upgrade_from_empty_matches_models(tmp_path):
    app = _migration_app(tmp_path)
    with app.app_context():
        _empty(app)
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
        tables = set(inspect(db.engine).get_table_names())
        downgrade(revision="base")
        remaining = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        _empty(app)
        db.engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"
    assert {"users", "audit_entries", "settings", "messages"} <= tables
    assert remaining == set()
