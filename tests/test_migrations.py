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


def test_visit_types_get_their_kind_when_upgrading_a_populated_database(tmp_path):
    """Revision 3071fc613a03: each existing visit type's kind comes from its code;
    an unknown type that required the intake gate keeps it (collection kind)."""
    app = _migration_app(tmp_path)
    rows = [
        # code, requires_intake_gate, expected kind
        ("consultation", False, "consultation"),
        ("collection", True, "collection"),
        ("reinfusion-iv", False, "reinfusion_iv"),
        ("reinfusion-local", False, "reinfusion_local"),
        ("reinfusion-intrathecal", False, "reinfusion_intrathecal"),
        ("follow-up-1m", False, "follow_up"),
        ("harvest-2", True, "collection"),
        ("massage", False, "other"),
    ]
    with app.app_context():
        _empty(app)
        upgrade(revision="1c1f29cb5d06")
        with db.engine.begin() as conn:
            for n, (code, gated, _kind) in enumerate(rows):
                conn.execute(
                    text(
                        "INSERT INTO visit_types (code, names, modes, requires_intake_gate,"
                        " is_patient_bookable, is_desk_bookable, is_active, day_block_quantity,"
                        " position, created_at, updated_at) VALUES (:code, '{}', '[]', :gated,"
                        " true, true, true, 1, :n, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                    ),
                    {"code": code, "gated": gated, "n": n},
                )
        upgrade(revision="3071fc613a03")
        with db.engine.connect() as conn:
            kinds = dict(conn.execute(text("SELECT code, kind FROM visit_types")).all())
            columns = {c["name"] for c in inspect(conn).get_columns("visit_types")}
        downgrade(revision="1c1f29cb5d06")
        with db.engine.connect() as conn:
            gates = dict(
                conn.execute(text("SELECT code, requires_intake_gate FROM visit_types")).all()
            )
        _empty(app)
        db.engine.dispose()
    assert kinds == {code: kind for code, _gated, kind in rows}
    assert "requires_intake_gate" not in columns and "kind" in columns
    # Downgrading puts the flag back from the kind (reinfusions now gated too).
    assert {code for code, gated in gates.items() if gated} == {
        "collection",
        "harvest-2",
        "reinfusion-iv",
        "reinfusion-local",
        "reinfusion-intrathecal",
    }
