"""`flask backup` and `flask restore`: a seeded clinic survives the round trip,
table by table, row by row; a bad file is refused and changes nothing."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select, text

from intake.core.backup import pg_connection
from intake.core.backup_policy import parse_backup_name
from intake.core.models import AuditEntry
from intake.extensions import db

IGNORED = {"alembic_version", "sqlite_sequence"}


def snapshot() -> dict[str, list[tuple]]:
    """Every table of the database: all rows, all columns, by primary key."""
    db.session.remove()
    in_database = set(inspect(db.engine).get_table_names()) - IGNORED
    tables = {t.name: t for t in db.metadata.sorted_tables}
    assert in_database == set(tables), "a table the app's models do not describe"
    state = {}
    with db.engine.connect() as conn:
        for name, table in tables.items():
            query = select(table).order_by(*table.primary_key.columns)
            state[name] = [tuple(row) for row in conn.execute(query)]
    return state


def backup(runner, directory) -> Path:
    result = runner.invoke(args=["backup", "--to", str(directory)])
    assert result.exit_code == 0, result.output
    written = re.search(r"Backup written: (\S+) \(([\d,]+) bytes\)", result.output)
    assert written, result.output
    path = Path(written[1])
    assert path.stat().st_size == int(written[2].replace(",", ""))
    return path


def restore(runner, path, *extra, input=None):
    db.session.remove()  # the test's own connection holds no lock
    return runner.invoke(args=["restore", str(path), *extra], input=input)


@pytest.fixture
def seeded(app, runner, tmp_path):
    app.config["BACKUP_DIR"] = str(tmp_path / "safety")
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return app


def damage_the_clinic():
    """Changes and deletions across several tables, straight in SQL."""
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE patients SET family_name = 'Changed'"))
        conn.execute(text("DELETE FROM settings"))
        conn.execute(text("DELETE FROM messages"))
        conn.execute(text("DELETE FROM holds"))
        conn.execute(
            text(
                "INSERT INTO audit_entries (created_at, actor_label, action, entity_type,"
                " entity_id) VALUES (CURRENT_TIMESTAMP, 'x', 'x.y', 'users', '1')"
            )
        )


def test_a_seeded_clinic_round_trips_every_table(seeded, runner, tmp_path):
    before = snapshot()
    for table in ("patients", "appointments", "holds", "batches", "messages", "audit_entries"):
        assert before[table], f"the demo seeds {table}"

    path = backup(runner, tmp_path / "backups")
    damage_the_clinic()
    damaged = snapshot()
    for table in ("patients", "settings", "holds", "messages", "audit_entries"):
        assert damaged[table] != before[table]

    result = restore(runner, path, "--yes")
    assert result.exit_code == 0, result.output
    assert f"Restored from {path}." in result.output

    after = snapshot()
    assert set(after) == set(before)
    for table in before:
        if table != "audit_entries":
            assert after[table] == before[table], table
    # The audit trail is the one of backup time, plus one row saying so.
    assert after["audit_entries"][: len(before["audit_entries"])] == before["audit_entries"]
    (added,) = after["audit_entries"][len(before["audit_entries"]) :]
    entry = db.session.get(AuditEntry, added[0])
    assert (entry.action, entry.entity_type, entry.entity_id) == (
        "database.restore",
        "database",
        path.name,
    )
    assert entry.after["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert entry.actor_label == "system"


def test_restore_first_saves_the_database_as_it_was(seeded, runner, tmp_path):
    path = backup(runner, tmp_path / "backups")
    damage_the_clinic()
    damaged = snapshot()
    result = restore(runner, path, "--yes")
    assert result.exit_code == 0, result.output
    saved = Path(re.search(r"The database as it was is saved in (\S+)", result.output)[1])
    assert saved.parent == tmp_path / "safety"

    # Undo the restore: the damaged state comes back (plus the restore's audit row).
    assert restore(runner, saved, "--yes", "--no-safety-backup").exit_code == 0
    again = snapshot()
    assert again["patients"] == damaged["patients"]
    assert again["messages"] == damaged["messages"] == []
    assert again["audit_entries"][: len(damaged["audit_entries"])] == damaged["audit_entries"]


def test_the_backup_file_is_named_checksummed_and_private(app, runner, make_patient, tmp_path):
    make_patient()
    path = backup(runner, tmp_path / "b")
    parsed = parse_backup_name(path.name)
    assert parsed is not None
    expected_ext = "sqlite3" if db.engine.dialect.name == "sqlite" else "dump"
    assert parsed.extension == expected_ext
    assert parsed.db_name == ("test" if expected_ext == "sqlite3" else db.engine.url.database)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    # `sha256sum --check` reads it.
    assert path.with_name(path.name + ".sha256").read_text() == f"{digest}  {path.name}\n"
    assert path.stat().st_mode & 0o077 == 0
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name, path.name + ".sha256"]


def test_a_folder_that_cannot_be_used_is_a_clear_error(app, runner, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = runner.invoke(args=["backup", "--to", str(blocker / "sub")])
    assert result.exit_code == 1
    assert f"Error: Cannot use {blocker / 'sub'} for backups" in result.output


def test_two_backups_in_one_second_get_two_files(app, runner, tmp_path):
    from datetime import UTC, datetime

    from intake.core.backup import backup_database

    moment = datetime(2026, 12, 2, 15, 0, 0, tzinfo=UTC)
    first = backup_database(tmp_path, now=moment)
    second = backup_database(tmp_path, now=moment)
    assert first.path != second.path
    assert first.path.name.endswith("-20261202T150000Z." + first.path.suffix[1:])
    assert second.path.name.endswith("-20261202T150000Z-1." + second.path.suffix[1:])


def test_a_backup_leaves_out_what_another_connection_has_not_committed(
    app, runner, make_patient, tmp_path
):
    make_patient(family_name="Committed")
    with db.engine.connect() as other:
        other.execute(text("UPDATE patients SET family_name = 'Uncommitted'"))
        path = backup(runner, tmp_path / "b")  # while the write is open
        other.rollback()
    make_patient(family_name="Later")
    assert restore(runner, path, "--yes", "--no-safety-backup").exit_code == 0
    names = db.session.execute(select(text("family_name")).select_from(text("patients")))
    assert list(names.scalars()) == ["Committed"]


def test_the_default_folder_is_backup_dir(app, runner, tmp_path):
    app.config["BACKUP_DIR"] = str(tmp_path / "configured")
    result = runner.invoke(args=["backup"])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "configured").glob("*.sha256"))) == 1


# --- refusals: the database is untouched -----------------------------------


@pytest.fixture
def backed_up(seeded, runner, tmp_path):
    path = backup(runner, tmp_path / "backups")
    damage_the_clinic()  # so that a restore, had it happened, would show
    return path, snapshot()


def _rewrite_checksum(path: Path) -> None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    path.with_name(path.name + ".sha256").write_text(f"{digest}  {path.name}\n")


def _garbage_header(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[:100] = b"\xa5" * 100
    path.write_bytes(bytes(data))
    _rewrite_checksum(path)


def _truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    _rewrite_checksum(path)


def _scrambled_middle(path: Path) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4096] = bytes((i * 7 + 3) % 256 for i in range(4096))
    path.write_bytes(bytes(data))
    _rewrite_checksum(path)


def _one_byte_changed(path: Path) -> None:  # the checksum is left as it was
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x01
    path.write_bytes(bytes(data))


def _checksum_missing(path: Path) -> None:
    path.with_name(path.name + ".sha256").unlink()


def _file_missing(path: Path) -> None:
    path.unlink()


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (_file_missing, "No backup file at"),
        (_checksum_missing, "No checksum file"),
        (_one_byte_changed, "Checksum mismatch"),
        (_garbage_header, "not a readable"),
        (_truncated, "not a readable"),
        # Where the scrambled bytes land decides which check stops it first:
        # SQLite cannot read the file, or reads it and its integrity check fails.
        (_scrambled_middle, ("not a readable", "failed the integrity check")),
    ],
)
def test_a_bad_backup_is_refused_and_the_database_is_untouched(
    backed_up, runner, tmp_path, spoil, message
):
    path, damaged = backed_up
    spoil(path)
    result = restore(runner, path, "--yes")
    assert result.exit_code == 1, result.output
    assert "Error:" in result.output
    messages = message if isinstance(message, tuple) else (message,)
    assert any(m in result.output for m in messages), result.output
    assert "Restored from" not in result.output
    assert snapshot() == damaged


def test_a_restore_that_cannot_finish_leaves_the_database_untouched(backed_up, runner, monkeypatch):
    """The app holds a write open for longer than the restore waits: the
    restore gives up in one piece (SQLite: busy; PostgreSQL: lock timeout and
    the single transaction rolled back)."""
    from intake.core import backup as module

    monkeypatch.setattr(module, "SQLITE_BUSY_SECONDS", 0.2)
    monkeypatch.setattr(module, "PG_LOCK_WAIT_SECONDS", 0.5)
    path, damaged = backed_up
    worker_engine = create_engine(db.engine.url)  # the app, in another process
    try:
        with worker_engine.connect() as app_worker:
            app_worker.execute(text("UPDATE patients SET family_name = family_name"))
            result = restore(runner, path, "--yes")
            app_worker.rollback()
    finally:
        worker_engine.dispose()
    assert result.exit_code == 1, result.output
    assert "the database is unchanged" in result.output
    assert "stop the app's workers" in result.output
    assert snapshot() == damaged


def test_restore_asks_before_it_replaces_anything(backed_up, runner):
    path, damaged = backed_up
    result = restore(runner, path, input="n\n")
    assert result.exit_code == 1
    assert "checksum and content verified" in result.output
    assert "Replace ALL data in" in result.output
    assert "Aborted" in result.output
    assert snapshot() == damaged
    assert restore(runner, path, input="y\n").exit_code == 0
    assert snapshot()["messages"] != damaged["messages"]


# --- migration revision -----------------------------------------------------


def test_restore_says_what_to_run_when_the_revision_differs(app, runner, tmp_path):
    from intake.core.backup import code_revisions

    heads, known = code_revisions()
    (head,) = heads
    older = sorted(known - heads)[0]
    try:
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
            conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": older})
        old = backup(runner, tmp_path / "b")
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
        current = backup(runner, tmp_path / "b")

        result = restore(runner, old, "--yes", "--no-safety-backup")
        assert result.exit_code == 0, result.output
        assert f"Migration revision {older} is older" in result.output
        assert "run `flask db upgrade`" in result.output

        result = restore(runner, current, "--yes", "--no-safety-backup")
        assert f"Migration revision {head} matches the code." in result.output
    finally:
        db.session.remove()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


def test_restore_of_a_database_without_a_revision_says_so(app, runner, tmp_path):
    path = backup(runner, tmp_path / "b")
    result = restore(runner, path, "--yes", "--no-safety-backup")
    assert result.exit_code == 0, result.output
    assert "no alembic_version row" in result.output
    assert "flask db stamp head" in result.output


# --- retention --------------------------------------------------------------


def test_prune_keeps_the_policy_and_deletes_the_rest(app, runner, tmp_path):
    from datetime import timedelta

    from intake.core.backup import backup_database
    from intake.core.types import utcnow

    folder = tmp_path / "b"
    month_first = (utcnow() - timedelta(days=40)).replace(day=1, hour=3)
    first_of_month = backup_database(folder, now=month_first)
    later_that_month = backup_database(folder, now=month_first + timedelta(days=1))
    ancient = backup_database(folder, now=utcnow() - timedelta(days=11 * 366))
    stranger = folder / "notes.txt"
    stranger.write_text("not a backup")

    result = runner.invoke(args=["backup", "--to", str(folder), "--prune"])
    assert result.exit_code == 0, result.output
    assert "Pruned 2 old backup(s)." in result.output
    assert not later_that_month.path.exists()
    assert not later_that_month.path.with_name(later_that_month.path.name + ".sha256").exists()
    assert not ancient.path.exists()
    assert first_of_month.path.exists()
    assert stranger.exists()
    assert len(list(folder.glob("*.sha256"))) == 2  # the month's first and today's


# --- PostgreSQL connection ---------------------------------------------------


def test_the_password_travels_in_the_environment_not_the_command_line():
    from sqlalchemy.engine import make_url

    url = make_url("postgresql+psycopg://clinic:s3cr%40t@db.example:5433/intake?sslmode=require")
    uri, env = pg_connection(url)
    assert "s3cr" not in uri
    assert uri == "postgresql://clinic@db.example:5433/intake?sslmode=require"
    assert env["PGPASSWORD"] == "s3cr@t"

    uri, env = pg_connection(make_url("postgresql+psycopg://clinic@/intake?host=/run/pg"))
    assert uri == "postgresql://clinic@/intake?host=%2Frun%2Fpg"


def test_a_backup_restores_into_an_empty_database_to_test_it(app, runner, make_patient, tmp_path):
    """The regular restore test: into a scratch database (SQLite: a new file;
    PostgreSQL: the spare test database), the live one untouched."""
    from tests.test_migrations import _empty, _migration_app

    make_patient(family_name="Kept")
    path = backup(runner, tmp_path / "b")
    (tmp_path / "scratch").mkdir()
    scratch = _migration_app(tmp_path / "scratch")
    with scratch.app_context():  # the command runs in the current app's context
        _empty(scratch)
        try:
            result = scratch.test_cli_runner().invoke(args=["restore", "--yes", str(path)])
            assert result.exit_code == 0, result.output
            assert "saved in" not in result.output  # an empty database: nothing to save
            names = db.session.execute(text("SELECT family_name FROM patients")).scalars().all()
        finally:
            db.session.remove()
            _empty(scratch)
    assert names == ["Kept"]
    live = db.session.execute(
        select(AuditEntry.id).where(AuditEntry.action == "database.restore")
    ).all()
    assert live == []  # the live database was not the one restored


def test_sqlite_rows_still_in_the_wal_are_in_the_backup(app, runner, make_patient, tmp_path):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's write-ahead log")
    import sqlite3

    make_patient(family_name="InTheLog")
    wal = Path(db.engine.url.database + "-wal")
    assert wal.stat().st_size > 0  # committed, not yet checkpointed into the file
    path = backup(runner, tmp_path / "b")
    assert not Path(str(path) + "-wal").exists()  # one self-contained file
    copy = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [r[0] for r in copy.execute("SELECT family_name FROM patients")]
        mode = copy.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        copy.close()
    assert names == ["InTheLog"]
    assert mode == "delete"
