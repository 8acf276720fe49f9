"""Backup names, retention and the revision check: pure, no app."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from intake.core.backup_policy import (
    backup_name,
    backups_to_keep,
    checksum_line,
    parse_backup_name,
    parse_checksum,
    revision_check,
    safe_db_name,
)

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


def test_the_name_carries_the_database_and_the_utc_time():
    tokyo = timezone(timedelta(hours=9))
    taken = datetime(2026, 12, 3, 0, 30, 5, tzinfo=tokyo)
    assert backup_name("clinic", taken, "sqlite3") == "clinic-20261202T153005Z.sqlite3"
    assert backup_name("intake", taken, "dump", 2) == "intake-20261202T153005Z-2.dump"
    with pytest.raises(ValueError):
        backup_name("clinic", taken, "zip")


def test_names_parse_back_and_other_files_do_not():
    parsed = parse_backup_name("clinic-20261202T153005Z-1.sqlite3")
    assert parsed.db_name == "clinic"
    assert parsed.taken_at == datetime(2026, 12, 2, 15, 30, 5, tzinfo=UTC)
    assert parsed.extension == "sqlite3"
    for other in (
        "clinic-20261202T153005Z.sqlite3.sha256",
        ".clinic-20261202T153005Z.sqlite3.partial",
        "clinic-20261302T153005Z.dump",  # month 13
        "notes.txt",
        "clinic.db",
    ):
        assert parse_backup_name(other) is None, other


def test_unsafe_database_names_become_file_names():
    assert safe_db_name("my clinic/../x") == "my_clinic_.._x"
    assert safe_db_name("..") == "database"


def test_the_checksum_file_is_sha256sum_format():
    digest = "ab" * 32
    line = checksum_line(digest, "clinic-20261202T153005Z.sqlite3")
    assert line == f"{digest}  clinic-20261202T153005Z.sqlite3\n"
    assert parse_checksum(line) == digest
    assert parse_checksum(line.upper()) == digest
    assert parse_checksum("") is None
    assert parse_checksum("not-a-digest  file") is None


def test_retention_keeps_the_last_days_and_a_monthly_backup_for_years():
    daily = [NOW - timedelta(days=d) for d in range(0, 400)]
    keep = backups_to_keep(daily, NOW, keep_days=30, keep_years=10)
    assert {NOW - timedelta(days=d) for d in range(0, 31)} <= keep
    older = sorted(keep - {NOW - timedelta(days=d) for d in range(0, 31)})
    # The first of each month (the oldest month's first backup is its 29th).
    assert older[0] == min(daily) == datetime(2025, 10, 29, 15, tzinfo=UTC)
    assert all(moment.day == 1 for moment in older[1:])
    assert len({(m.year, m.month) for m in older}) == len(older)
    assert datetime(2025, 11, 1, 15, tzinfo=UTC) in keep
    assert datetime(2025, 11, 2, 15, tzinfo=UTC) not in keep


def test_monthly_backups_are_kept_ten_years_and_not_longer():
    ten_years_ago = datetime(2016, 12, 2, 15, 0, tzinfo=UTC)
    taken = [ten_years_ago, ten_years_ago - timedelta(seconds=1), NOW]
    assert backups_to_keep(taken, NOW) == {ten_years_ago, NOW}


def test_the_newest_backup_is_always_kept():
    old = datetime(2001, 5, 17, tzinfo=UTC)
    assert backups_to_keep([old], NOW, keep_days=0, keep_years=0) == {old}
    assert backups_to_keep([], NOW) == set()
    with pytest.raises(ValueError):
        backups_to_keep([old], NOW, keep_days=-1)


def test_leap_day_retention():
    leap = datetime(2028, 2, 29, tzinfo=UTC)
    taken = [datetime(2018, 2, 28, tzinfo=UTC), datetime(2018, 2, 27, tzinfo=UTC), leap]
    assert backups_to_keep(taken, leap) == {datetime(2018, 2, 28, tzinfo=UTC), leap}


@pytest.mark.parametrize(
    ("database", "ok", "says"),
    [
        ({"head"}, True, "matches the code"),
        ({"old"}, False, "run `flask db upgrade`"),
        ({"future"}, False, "newer version of the app"),
        (None, False, "flask db stamp head"),
        (set(), False, "flask db stamp head"),
    ],
)
def test_revision_check(database, ok, says):
    check = revision_check(database, {"head"}, {"head", "old"})
    assert check.ok is ok
    assert says in check.message
