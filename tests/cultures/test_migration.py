"""Revision 928b8b3b2aaa adds the culture tables to a populated database,
leaving existing rows as they were, and a batch can then be stored."""

import os

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from intake import create_app
from intake.extensions import db


def test_the_culture_tables_arrive_on_a_populated_database(tmp_path):
    uri = os.environ.get("TEST_MIGRATION_DATABASE_URL") or f"sqlite:///{tmp_path / 'm.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": uri}, config_object="config.TestConfig")
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade(revision="e45ef2ab68b6")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO patients (id, family_name, given_name, locale, created_at,"
                    " updated_at) VALUES (1, '王', '丽', 'zh_Hans', '2026-01-01 00:00:00',"
                    " '2026-01-01 00:00:00')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO courses (id, patient_id, number, status, opened_at)"
                    " VALUES (1, 1, 1, 'open', '2026-01-01 00:00:00')"
                )
            )
        upgrade(revision="928b8b3b2aaa")
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT family_name FROM patients")).scalar_one() == "王"
            tables = set(inspect(conn).get_table_names())
        assert {"batches", "batch_events"} <= tables
        downgrade(revision="e45ef2ab68b6")
        with db.engine.connect() as conn:
            assert "batches" not in set(inspect(conn).get_table_names())
            assert conn.execute(text("SELECT count(*) FROM courses")).scalar_one() == 1
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.engine.dispose()
