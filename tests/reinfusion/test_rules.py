"""The reinfusion rules, table by table: the window (days 27/28/42/43), the
lock minimum (13 vs 14 days ahead, counted in Tokyo near midnight UTC), valid
times, 1-3 proposals, routes by indication, on-track batches, and the lock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from intake.accounts.roles import Role
from intake.cultures.lifecycle import BatchState
from intake.reinfusion import rules
from intake.reinfusion.rules import ChangeRefusal, Problem
from intake.scheduling.visit_kinds import VisitKind

TOKYO = ZoneInfo("Asia/Tokyo")
COLLECTED = date(2026, 3, 2)
WINDOW = rules.batch_window(COLLECTED, min_days=28, max_days=42)


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TOKYO).astimezone(UTC)


def day_of_culture(n: int) -> date:
    return COLLECTED + timedelta(days=n)


# --------------------------------------------------------------------------- the window


@pytest.mark.parametrize(
    ("culture_day", "inside"),
    [(0, False), (27, False), (28, True), (35, True), (42, True), (43, False)],
)
def test_batch_window_days_28_to_42_both_included(culture_day, inside):
    assert (day_of_culture(culture_day) in WINDOW) is inside


def test_window_follows_the_settings():
    window = rules.batch_window(COLLECTED, min_days=21, max_days=35)
    assert window.first == day_of_culture(21) and window.last == day_of_culture(35)
    assert window.days() == 15


@pytest.mark.parametrize(("offset", "inside"), [(29, False), (30, True), (44, True), (45, False)])
def test_a_later_dose_window_starts_after_its_interval(offset, inside):
    window = rules.later_dose_window(COLLECTED, 30, min_days=28, max_days=42)
    assert (COLLECTED + timedelta(days=offset) in window) is inside


# --------------------------------------------------------------------------- the lock minimum

# 15:30 UTC on 1 March is 00:30 on 2 March in Tokyo: the clinic's today is the 2nd.
NEAR_MIDNIGHT = datetime(2026, 3, 1, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "start_day", "ok"),
    [
        # Counted from the clinic's today (2 March), not UTC's (1 March).
        (NEAR_MIDNIGHT, date(2026, 3, 16), True),  # 14 days ahead
        (NEAR_MIDNIGHT, date(2026, 3, 15), False),  # 13 days ahead (14 in UTC)
        # 14:59 UTC is 23:59 in Tokyo: still the 1st there.
        (datetime(2026, 3, 1, 14, 59, tzinfo=UTC), date(2026, 3, 15), True),
        (datetime(2026, 3, 1, 14, 59, tzinfo=UTC), date(2026, 3, 14), False),
    ],
)
def test_lock_minimum_counts_clinic_days(now, start_day, ok):
    earliest = rules.lock_minimum(now, TOKYO, lock_min_days=14)
    assert (start_day >= earliest) is ok
    assert (rules.days_ahead(at(start_day, 9), now, TOKYO) >= 14) is ok


def test_lock_minimum_zero_days_is_today():
    assert rules.lock_minimum(NEAR_MIDNIGHT, TOKYO, lock_min_days=0) == date(2026, 3, 2)


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        rules.lock_minimum(datetime(2026, 3, 1, 10), TOKYO, lock_min_days=14)


# --------------------------------------------------------------------------- valid times

# Today (Tokyo) is culture day 10, so the lock minimum is day 24: the window
# (28-42) decides the first valid day.
NOW = at(day_of_culture(10), 11)


@pytest.mark.parametrize(
    ("start", "lock_min_days", "problem"),
    [
        (at(day_of_culture(27)), 14, Problem.OUTSIDE_WINDOW),
        (at(day_of_culture(28)), 14, None),
        (at(day_of_culture(42), 17, 45), 14, None),
        (at(day_of_culture(43)), 14, Problem.OUTSIDE_WINDOW),
        # Lock minimum after the window opens: day 10 + 20 = day 30.
        (at(day_of_culture(29)), 20, Problem.TOO_SOON),
        (at(day_of_culture(30)), 20, None),
        (at(day_of_culture(31), 10, 15), 14, Problem.NOT_OPEN),
        (at(day_of_culture(9)), 14, Problem.PAST),
        # A move: no lock minimum, still inside the window.
        (at(day_of_culture(29)), None, None),
        (at(day_of_culture(43)), None, Problem.OUTSIDE_WINDOW),
    ],
)
def test_time_problem(start, lock_min_days, problem):
    open_starts = [at(day_of_culture(d)) for d in range(0, 50)] + [at(day_of_culture(42), 17, 45)]
    found = rules.time_problem(
        start,
        now=NOW,
        tz=TOKYO,
        window=WINDOW,
        open_starts=open_starts,
        lock_min_days=lock_min_days,
    )
    assert found == problem


def test_valid_times_keeps_only_offerable_starts_in_order():
    open_starts = [at(day_of_culture(d)) for d in (45, 20, 30, 28, 42, 43)]
    valid = rules.valid_times(open_starts, now=NOW, tz=TOKYO, window=WINDOW, lock_min_days=14)
    assert valid == [at(day_of_culture(d)) for d in (28, 30, 42)]


def test_preferred_days_come_first_in_time_order():
    open_starts = [at(day_of_culture(d), h) for d in (28, 33, 35, 40) for h in (10, 14)]
    trip = {day_of_culture(35), day_of_culture(40)}
    valid = rules.valid_times(
        open_starts, now=NOW, tz=TOKYO, window=WINDOW, lock_min_days=14, prefer=trip.__contains__
    )
    assert valid[:4] == [at(day_of_culture(d), h) for d in (35, 40) for h in (10, 14)]
    assert valid[4:] == [at(day_of_culture(d), h) for d in (28, 33) for h in (10, 14)]


# --------------------------------------------------------------------------- 1-3 proposals

OPEN = [at(day_of_culture(d)) for d in range(28, 43)]


@pytest.mark.parametrize(
    ("days", "problems"),
    [
        ((), [(None, Problem.NONE_CHOSEN)]),
        ((28,), []),
        ((28, 30, 42), []),
        ((28, 29, 30, 31), [(None, Problem.TOO_MANY)]),
        ((28, 28), [(None, Problem.DUPLICATE)]),
        ((28, 43), [(1, Problem.OUTSIDE_WINDOW)]),
        ((27, 43), [(0, Problem.OUTSIDE_WINDOW), (1, Problem.OUTSIDE_WINDOW)]),
    ],
)
def test_proposal_problems(days, problems):
    times = [at(day_of_culture(d)) for d in days]
    found = rules.proposal_problems(
        times, now=NOW, tz=TOKYO, window=WINDOW, open_starts=OPEN, lock_min_days=14
    )
    assert found == problems


# --------------------------------------------------------------------------- routes


@pytest.mark.parametrize(
    ("route", "indication_routes", "problem"),
    [
        ("iv", ["iv", "local"], None),
        ("local", ["iv", "local"], None),
        ("intrathecal", ["iv", "local"], Problem.ROUTE_NOT_ALLOWED),
        ("intrathecal", ["intrathecal", "iv"], None),
        ("oral", ["iv"], Problem.UNKNOWN_ROUTE),
        ("", ["iv"], Problem.UNKNOWN_ROUTE),
        (None, ["iv"], Problem.UNKNOWN_ROUTE),
        ("iv", [], Problem.ROUTE_NOT_ALLOWED),
        ("iv", None, Problem.ROUTE_NOT_ALLOWED),
    ],
)
def test_route_problem(route, indication_routes, problem):
    assert rules.route_problem(route, indication_routes) == problem


def test_routes_map_to_reinfusion_kinds_and_keep_the_indications_order():
    assert rules.route_kind("iv") == VisitKind.REINFUSION_IV
    assert rules.route_kind("local") == VisitKind.REINFUSION_LOCAL
    assert rules.route_kind("intrathecal") == VisitKind.REINFUSION_INTRATHECAL
    assert rules.route_kind("oral") is None
    assert rules.allowed_routes(["intrathecal", "oral", "iv"]) == ("intrathecal", "iv")


# --------------------------------------------------------------------------- on track


@pytest.mark.parametrize(
    ("state", "at_risk", "on_track"),
    [
        (BatchState.RECEIVED, False, True),
        (BatchState.IN_CULTURE, False, True),
        (BatchState.IN_CULTURE, True, False),
        (BatchState.QC_PENDING, False, True),
        (BatchState.RELEASED, False, True),
        (BatchState.CRYOPRESERVED, False, True),
        (BatchState.FAILED, False, False),
        (BatchState.DISCARDED, False, False),
        (BatchState.ADMINISTERED, False, False),
        ("nonsense", False, False),
    ],
)
def test_batch_on_track(state, at_risk, on_track):
    assert rules.batch_on_track(state, at_risk=at_risk) is on_track


# --------------------------------------------------------------------------- the lock


@pytest.mark.parametrize(("is_locked", "refusal"), [(True, ChangeRefusal.LOCKED), (False, None)])
def test_ordinary_changes_refuse_a_locked_visit(is_locked, refusal):
    assert rules.change_refusal(is_locked=is_locked) == refusal


@pytest.mark.parametrize(
    ("role", "is_locked", "reason", "lab_agreed", "refusals"),
    [
        (Role.COORDINATOR, True, "Patient ill", True, []),
        (Role.DOCTOR, True, "Patient ill", True, []),
        (Role.PATIENT, True, "Patient ill", True, [ChangeRefusal.NOT_ALLOWED]),
        (Role.LAB, True, "Patient ill", True, [ChangeRefusal.NOT_ALLOWED]),
        (Role.MANAGER, True, "Patient ill", True, [ChangeRefusal.NOT_ALLOWED]),
        (None, True, "Patient ill", True, [ChangeRefusal.NOT_ALLOWED]),
        ("nobody", True, "Patient ill", True, [ChangeRefusal.NOT_ALLOWED]),
        (Role.COORDINATOR, True, "   ", True, [ChangeRefusal.NO_REASON]),
        (
            Role.COORDINATOR,
            True,
            None,
            False,
            [ChangeRefusal.NO_REASON, ChangeRefusal.NO_LAB_AGREEMENT],
        ),
        (Role.DOCTOR, True, "Patient ill", False, [ChangeRefusal.NO_LAB_AGREEMENT]),
        (Role.DOCTOR, False, "Patient ill", True, [ChangeRefusal.NOT_LOCKED]),
    ],
)
def test_the_move_path(role, is_locked, reason, lab_agreed, refusals):
    found = rules.move_refusals(
        is_locked=is_locked, role=role, reason=reason, lab_agreed=lab_agreed
    )
    assert found == refusals


@pytest.mark.parametrize(
    ("is_locked", "is_active", "has_open", "may"),
    [
        (True, True, False, True),
        (True, True, True, False),
        (False, True, False, False),
        (True, False, False, False),
    ],
)
def test_may_request_change(is_locked, is_active, has_open, may):
    assert (
        rules.may_request_change(
            is_locked=is_locked, is_active=is_active, has_open_request=has_open
        )
        is may
    )


@pytest.mark.parametrize(
    ("status", "may"),
    [
        ("planned", True),
        ("proposed", True),
        ("confirmed", False),
        ("administered", False),
        ("cancelled", False),
    ],
)
def test_can_propose(status, may):
    assert rules.can_propose(status) is may
