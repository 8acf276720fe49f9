"""Backup file names, which backups to keep, and what a restored database's
migration revision means. Pure: ``now`` is passed in.

A backup is named ``<dbname>-YYYYmmddTHHMMSSZ.sqlite3`` (SQLite) or
``….dump`` (PostgreSQL, ``pg_dump --format=custom``), with ``-N`` before the
extension when two are taken in the same second; its SHA-256 is in
``<name>.sha256`` in ``sha256sum`` format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

EXTENSIONS = ("sqlite3", "dump")
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
_NAME_RE = re.compile(
    r"^(?P<db>[A-Za-z0-9_.-]+)-(?P<stamp>\d{8}T\d{6}Z)(?:-(?P<n>\d+))?\.(?P<ext>sqlite3|dump)$"
)
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")

DEFAULT_KEEP_DAYS = 30
DEFAULT_KEEP_YEARS = 10


def safe_db_name(name: str) -> str:
    """The database's name as a file-name part (letters, digits, ``_.-``)."""
    cleaned = _UNSAFE.sub("_", name).strip("._-")
    return cleaned or "database"


def backup_name(db_name: str, taken_at: datetime, extension: str, n: int = 0) -> str:
    if extension not in EXTENSIONS:
        raise ValueError(f"unknown backup extension {extension!r}")
    stamp = taken_at.astimezone(UTC).strftime(STAMP_FORMAT)
    suffix = f"-{n}" if n else ""
    return f"{safe_db_name(db_name)}-{stamp}{suffix}.{extension}"


@dataclass(frozen=True)
class BackupName:
    db_name: str
    taken_at: datetime
    extension: str


def parse_backup_name(file_name: str) -> BackupName | None:
    """The parts of a backup's file name, or None for any other file."""
    match = _NAME_RE.match(file_name)
    if match is None:
        return None
    try:
        taken_at = datetime.strptime(match["stamp"], STAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None
    return BackupName(match["db"], taken_at, match["ext"])


def checksum_line(digest: str, file_name: str) -> str:
    """One line ``sha256sum --check`` reads."""
    return f"{digest}  {file_name}\n"


def parse_checksum(text: str) -> str | None:
    """The hex digest in a ``.sha256`` file, or None when there is none."""
    first = text.strip().split()
    if not first or not re.fullmatch(r"[0-9a-fA-F]{64}", first[0]):
        return None
    return first[0].lower()


def _years_before(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - years, day=28)


def backups_to_keep(
    taken: list[datetime],
    now: datetime,
    *,
    keep_days: int = DEFAULT_KEEP_DAYS,
    keep_years: int = DEFAULT_KEEP_YEARS,
) -> set[datetime]:
    """Which backups a retention policy keeps: every backup of the last
    ``keep_days`` days, the first backup of each calendar month (UTC) of the
    last ``keep_years`` years, and always the newest one."""
    if keep_days < 0 or keep_years < 0:
        raise ValueError("retention periods cannot be negative")
    if not taken:
        return set()
    keep = {max(taken)}
    daily_from = now - timedelta(days=keep_days)
    keep.update(t for t in taken if t >= daily_from)
    monthly_from = _years_before(now, keep_years)
    first_of_month: dict[tuple[int, int], datetime] = {}
    for moment in sorted(taken):
        if moment >= monthly_from:
            utc = moment.astimezone(UTC)
            first_of_month.setdefault((utc.year, utc.month), moment)
    keep.update(first_of_month.values())
    return keep


@dataclass(frozen=True)
class RevisionCheck:
    ok: bool
    message: str


def revision_check(database: set[str] | None, heads: set[str], known: set[str]) -> RevisionCheck:
    """Whether a database's migration revision (``alembic_version``; None when
    the table is missing) matches the code's head(s), and what to run if not."""
    if database is None or not database:
        return RevisionCheck(
            False,
            "The database records no migration revision (no alembic_version row). "
            "If its tables match this version of the code, run `flask db stamp head`; "
            "otherwise restore a backup taken by `flask backup` of a migrated database.",
        )
    shown = ", ".join(sorted(database))
    if database == heads:
        return RevisionCheck(True, f"Migration revision {shown} matches the code.")
    unknown = database - known
    if unknown:
        return RevisionCheck(
            False,
            f"Migration revision {', '.join(sorted(unknown))} is not in this code: the "
            "backup comes from a newer version of the app. Deploy that version (then "
            "`flask db upgrade`), or restore an older backup.",
        )
    return RevisionCheck(
        False,
        f"Migration revision {shown} is older than the code's "
        f"({', '.join(sorted(heads))}): run `flask db upgrade` before starting the app.",
    )
