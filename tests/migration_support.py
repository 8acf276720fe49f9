"""What the tests of each later migration share: a clinic in use, brought to
the revision just before the one under test."""

from __future__ import annotations

from flask_migrate import upgrade

from intake.extensions import db
from tests.scheduling.test_migration_upcoming_kind import _add_visits
from tests.test_migrations import _empty, _populate_clinic_before_patients


def populated_clinic_at(app, revision: str) -> None:
    """Empty the database, then upgrade it to ``revision`` through a clinic in
    use: staff, settings and resources from before patients existed, then
    patients with courses and visits. Call inside ``app.app_context()``."""
    _empty(app)
    upgrade(revision="1c1f29cb5d06")
    with db.engine.begin() as conn:
        _populate_clinic_before_patients(conn)
    upgrade(revision="3071fc613a03")
    with db.engine.begin() as conn:
        _add_visits(conn)
    upgrade(revision=revision)
