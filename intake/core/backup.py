"""Backups that restore: ``flask backup`` and ``flask restore``.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies a
consistent snapshot while the app runs (WAL: readers and writers go on), and
restores the same way into the live file, in one transaction, so open
connections see either the old or the restored database. PostgreSQL:
``pg_dump --format=custom`` and ``pg_restore --single-transaction``; the
password travels in ``PGPASSWORD``, never on the command line.

Every backup is written under a temporary name, verified (``PRAGMA
integrity_check`` / ``pg_restore --list``), renamed when complete and given a
``.sha256`` file. A restore checks the checksum and the file before it touches
the database; any failure leaves the database as it was.
"""

from __future__ import annotations

import glob
import hashlib
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from flask import current_app
from sqlalchemy import inspect, text
from sqlalchemy.engine import URL

from intake.core import audit
from intake.core.backup_policy import (
    RevisionCheck,
    backup_name,
    backups_to_keep,
    checksum_line,
    parse_backup_name,
    parse_checksum,
    revision_check,
    safe_db_name,
)
from intake.core.types import utcnow
from intake.extensions import db

log = logging.getLogger(__name__)

# PostgreSQL: how long a backup or restore waits for the app's locks, then
# gives up (a restore is rolled back) instead of queueing behind them forever.
PG_LOCK_WAIT_SECONDS = 60.0
# SQLite: how long a backup or restore waits for the app's locks.
SQLITE_BUSY_SECONDS = 30.0


class BackupError(Exception):
    """A backup or restore that could not be done; the message says why."""


@dataclass(frozen=True)
class BackupFile:
    path: Path
    size: int
    sha256: str


@dataclass(frozen=True)
class RestoreResult:
    path: Path
    revision: RevisionCheck
    safety_backup: BackupFile | None


# --- where backups go -------------------------------------------------------


def backup_dir() -> Path:
    configured = current_app.config.get("BACKUP_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "backups"


def _dialect() -> str:
    return db.engine.dialect.name


def _sqlite_path(url: URL) -> Path:
    database = url.database
    if database in (None, "", ":memory:") or (url.query or {}).get("mode") == "memory":
        raise BackupError("An in-memory SQLite database cannot be backed up or restored.")
    return Path(database)


def _db_name(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return _sqlite_path(url).stem
    return url.database or "database"


# --- checksums and files ----------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _free_name(directory: Path, db_name: str, taken_at: datetime, extension: str) -> Path:
    n = 0
    while True:
        candidate = directory / backup_name(db_name, taken_at, extension, n)
        if not candidate.exists() and not checksum_path(candidate).exists():
            return candidate
        n += 1


# --- backup -----------------------------------------------------------------


def backup_database(directory: Path | None = None, *, now: datetime | None = None) -> BackupFile:
    """Back the current database up into ``directory`` (default BACKUP_DIR)."""
    directory = Path(directory) if directory is not None else backup_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise BackupError(f"Cannot use {directory} for backups: {exc}") from exc
    url = db.engine.url
    dialect = _dialect()
    if dialect not in ("sqlite", "postgresql"):
        raise BackupError(f"Backups of {dialect} databases are not supported.")
    extension = "sqlite3" if dialect == "sqlite" else "dump"
    final = _free_name(directory, _db_name(url), now or utcnow(), extension)
    partial = final.with_name(f".{final.name}.partial")
    partial_sum = final.with_name(f".{final.name}.sha256.partial")
    try:
        # Patient records: readable by the owner only, from the first byte.
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        if dialect == "sqlite":
            _sqlite_backup(_sqlite_path(url), partial)
        else:
            _pg_dump(url, partial)
        _fsync(partial)
        digest = sha256_of(partial)
        partial_sum.write_text(checksum_line(digest, final.name))
        os.chmod(partial_sum, 0o600)
        os.replace(partial, final)
        os.replace(partial_sum, checksum_path(final))
    except OSError as exc:
        raise BackupError(f"Writing the backup in {directory} failed: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
        partial_sum.unlink(missing_ok=True)
    result = BackupFile(final, final.stat().st_size, digest)
    log.info("backup written: %s (%d bytes, sha256 %s)", final, result.size, digest)
    return result


def _sqlite_backup(source: Path, target: Path) -> None:
    if not source.exists():
        raise BackupError(f"The database file {source} does not exist.")
    src = sqlite3.connect(source, timeout=SQLITE_BUSY_SECONDS)
    try:
        dst = sqlite3.connect(target)
        try:
            _sqlite_copy(src, dst, SQLITE_BUSY_SECONDS)
            # One self-contained file (the copy would otherwise be in WAL mode).
            dst.execute("PRAGMA journal_mode=DELETE")
            _sqlite_check(dst, target)
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite backup failed: {exc}") from exc
    finally:
        src.close()


def _sqlite_copy(src: sqlite3.Connection, dst: sqlite3.Connection, wait_seconds: float) -> None:
    """The whole database in one step (one transaction on ``dst``). Python's
    ``backup`` retries a busy or locked step forever; give up after
    ``wait_seconds`` instead (nothing is written then)."""
    deadline = time.monotonic() + wait_seconds

    def progress(status: int, remaining: int, total: int) -> None:
        if status in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) and time.monotonic() > deadline:
            raise sqlite3.OperationalError("database is locked")

    src.backup(dst, progress=progress, sleep=0.05)


def _sqlite_check(conn: sqlite3.Connection, path: Path) -> None:
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path.name} is not a readable SQLite database: {exc}") from exc
    if rows != ["ok"]:
        raise BackupError(f"{path.name} failed the integrity check: {'; '.join(rows[:5])}")
    known = {t.name for t in db.metadata.sorted_tables}
    if not tables & known:
        raise BackupError(f"{path.name} holds none of this app's tables.")


# --- PostgreSQL tools -------------------------------------------------------


def _version_key(path: str) -> tuple:
    return tuple(int(p) for p in re.findall(r"\d+", path))


def pg_tool(name: str) -> str:
    """``pg_dump``/``pg_restore``: PG_BIN_DIR if set, then PATH, then the
    newest /usr/lib/postgresql/*/bin."""
    configured = current_app.config.get("PG_BIN_DIR")
    if configured:
        candidate = Path(configured) / name
        if candidate.exists():
            return str(candidate)
        raise BackupError(f"{name} is not in PG_BIN_DIR ({configured}).")
    found = shutil.which(name)
    if found:
        return found
    installed = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version_key)
    if installed:
        return installed[-1]
    raise BackupError(f"{name} was not found (install the PostgreSQL client or set PG_BIN_DIR).")


def pg_connection(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password, and the environment that
    carries it (PGPASSWORD), for ``postgresql+psycopg://…`` and the like."""
    without_password = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )
    uri = without_password.render_as_string(hide_password=False)
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return uri, env


def _run(
    args: list[str], env: dict[str, str], what: str, *, watch=None
) -> subprocess.CompletedProcess:
    """Run a PostgreSQL tool; ``watch()`` is called every 0.2 s while it runs."""
    try:
        proc = subprocess.Popen(  # noqa: S603 - a fixed tool, list arguments, no shell
            args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    except OSError as exc:
        raise BackupError(f"{what} could not run: {exc}") from exc
    while True:
        try:
            stdout, stderr = proc.communicate(timeout=0.2)
            break
        except subprocess.TimeoutExpired:
            if watch is not None:
                watch()
    if proc.returncode != 0:
        detail = (stderr or stdout).strip().splitlines()
        raise BackupError(f"{what} failed: {' '.join(detail[-3:]) or proc.returncode}")
    return subprocess.CompletedProcess(args, proc.returncode, stdout, stderr)


def _pg_dump(url: URL, target: Path) -> None:
    uri, env = pg_connection(url)
    _run(
        [
            pg_tool("pg_dump"),
            "--format=custom",
            f"--lock-wait-timeout={int(PG_LOCK_WAIT_SECONDS * 1000)}",
            f"--file={target}",
            f"--dbname={uri}",
        ],
        env,
        "pg_dump",
    )
    _pg_check(target)


def _pg_check(path: Path) -> None:
    try:
        listed = _run(
            [pg_tool("pg_restore"), "--list", str(path)], dict(os.environ), "pg_restore --list"
        )
    except BackupError as exc:
        raise BackupError(f"{path.name} is not a readable pg_dump archive ({exc}).") from exc
    if "TABLE DATA" not in listed.stdout:
        raise BackupError(f"{path.name} holds no table data.")


# --- restore ----------------------------------------------------------------


def verify_backup(path: Path) -> str:
    """Check a backup file before it is used: it exists, its ``.sha256``
    matches, and its content reads. Returns the digest; raises BackupError."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"No backup file at {path}.")
    sums = checksum_path(path)
    if not sums.is_file():
        raise BackupError(
            f"No checksum file {sums.name} beside the backup: its integrity cannot be "
            "checked. (If you trust the file, write its `sha256sum` output there.)"
        )
    expected = parse_checksum(sums.read_text(errors="replace"))
    if expected is None:
        raise BackupError(f"{sums.name} holds no SHA-256 digest.")
    actual = sha256_of(path)
    if actual != expected:
        raise BackupError(
            f"Checksum mismatch: {path.name} has SHA-256 {actual}, {sums.name} says "
            f"{expected}. The file is damaged or not the one that was backed up."
        )
    dialect = _dialect()
    if dialect == "sqlite":
        if path.suffix != ".sqlite3":
            raise BackupError(f"{path.name} is not a SQLite backup (.sqlite3).")
        conn = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
        try:
            _sqlite_check(conn, path)
        finally:
            conn.close()
    else:
        if path.suffix != ".dump":
            raise BackupError(f"{path.name} is not a PostgreSQL backup (.dump).")
        _pg_check(path)
    return actual


def restore_database(
    path: Path, *, safety_dir: Path | None = None, safety_backup: bool = True
) -> RestoreResult:
    """Replace the database's content with a verified backup, in one
    transaction. First (unless ``safety_backup=False``) the current database is
    backed up, so a wrong restore can itself be undone."""
    path = Path(path)
    digest = verify_backup(path)
    url = db.engine.url
    if safety_backup and not _has_app_tables():
        safety_backup = False  # a new, empty database (a restore test): nothing to keep
    saved = backup_database(safety_dir) if safety_backup else None
    # No connection of ours may hold a lock or a stale snapshot.
    db.session.remove()
    db.engine.dispose()
    if _dialect() == "sqlite":
        _sqlite_restore(path, _sqlite_path(url))
    else:
        _pg_restore(path, url)
    db.engine.dispose()
    check = revision_check(database_revisions(), *code_revisions())
    _record_restore(path, digest, check)
    log.warning("database restored from %s (sha256 %s): %s", path, digest, check.message)
    return RestoreResult(path, check, saved)


def _has_app_tables() -> bool:
    if _dialect() == "sqlite" and not _sqlite_path(db.engine.url).exists():
        return False
    with db.engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
    return bool(present & {t.name for t in db.metadata.sorted_tables})


def _sqlite_restore(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{quote(str(source.resolve()))}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target, timeout=SQLITE_BUSY_SECONDS)
        try:
            # One write transaction on the live file: the app's connections
            # wait (busy_timeout) and then read the restored pages.
            _sqlite_copy(src, dst, SQLITE_BUSY_SECONDS)
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise BackupError(
            f"SQLite restore failed: {exc} — the database is unchanged. (If it was "
            "locked, stop the app's workers and try again.)"
        ) from exc
    finally:
        src.close()


def _pg_restore(source: Path, url: URL) -> None:
    uri, env = pg_connection(url)
    # The archive sets lock_timeout = 0 itself, so a watchdog cancels the
    # restore when it waits for the app's locks too long (rolled back).
    env["PGAPPNAME"] = app_name = f"intake-restore-{os.getpid()}-{time.monotonic_ns()}"
    cancelled = []

    def watch() -> None:
        with db.engine.connect() as conn:
            stuck = conn.execute(
                text(
                    "SELECT pg_cancel_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = :name AND wait_event_type = 'Lock'"
                    " AND clock_timestamp() - query_start > make_interval(secs => :secs)"
                ),
                {"name": app_name, "secs": PG_LOCK_WAIT_SECONDS},
            ).all()
            conn.rollback()
        if stuck:
            cancelled.append(True)

    try:
        _run(
            [
                pg_tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                f"--dbname={uri}",
                str(source),
            ],
            env,
            "pg_restore",
            watch=watch,
        )
    except BackupError as exc:
        why = (
            f"it waited more than {PG_LOCK_WAIT_SECONDS:g} s for the app's open "
            "transactions; stop the app's workers and try again"
            if cancelled
            else str(exc)
        )
        raise BackupError(
            f"Restore failed ({why}) — rolled back, the database is unchanged."
        ) from exc
    finally:
        db.engine.dispose()


# --- migration revision -----------------------------------------------------


def database_revisions() -> set[str] | None:
    """The database's ``alembic_version`` rows (None when there is no table)."""
    with db.engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())


def code_revisions() -> tuple[set[str], set[str]]:
    """The code's migration heads and every revision it knows."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", current_app.extensions["migrate"].directory)
    script = ScriptDirectory.from_config(config)
    return set(script.get_heads()), {s.revision for s in script.walk_revisions()}


# --- the audit trail ----------------------------------------------------------


@dataclass(frozen=True)
class _Database:
    """The audit trail's name for the database as a whole."""

    id: str
    __tablename__ = "database"


def _record_restore(path: Path, digest: str, check: RevisionCheck) -> None:
    """A restore replaces clinical records: the restored audit trail says so.
    (A backup changes nothing, so it is logged, not audited.)"""
    try:
        audit.record(
            actor=None,
            action="database.restore",
            entity=_Database(id=path.name[:64]),
            after={"file": path.name, "sha256": digest, "revision": check.message},
            note=f"Restored from {path}",
        )
        db.session.commit()
    except Exception as exc:  # an older schema may not take the row yet
        db.session.rollback()
        log.warning("restore not recorded in the audit trail (%s); %s", exc, check.message)


# --- retention ----------------------------------------------------------------


def prune_backups(
    directory: Path | None = None,
    *,
    now: datetime | None = None,
    keep_days: int,
    keep_years: int,
) -> list[Path]:
    """Delete this database's backups (and checksums) that the retention
    policy no longer keeps; returns what was deleted."""
    directory = Path(directory) if directory is not None else backup_dir()
    name = safe_db_name(_db_name(db.engine.url))
    mine: dict[Path, datetime] = {}
    for path in directory.iterdir() if directory.is_dir() else ():
        parsed = parse_backup_name(path.name)
        if parsed is not None and parsed.db_name == name and path.is_file():
            mine[path] = parsed.taken_at
    keep = backups_to_keep(
        list(mine.values()), now or utcnow(), keep_days=keep_days, keep_years=keep_years
    )
    deleted = []
    for path, taken_at in sorted(mine.items(), key=lambda item: item[1]):
        if taken_at not in keep:
            path.unlink()
            checksum_path(path).unlink(missing_ok=True)
            deleted.append(path)
    if deleted:
        log.info("pruned %d old backup(s) from %s", len(deleted), directory)
    return deleted
