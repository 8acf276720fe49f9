"""Reinfusion dates: which times may be proposed, and the lock a confirmed date
carries (DOMAIN step 4-5, rule 7). Pure: no Flask, no database, no clock
(``now`` and the clinic's zone are passed in).

* **The batch window**: dose 1 is given on a day from the collection day +
  ``culture_min_days`` to + ``culture_max_days`` (28 … 42 by default), both
  included. A later dose (cells from a cryopreserved aliquot) is given from
  the previous dose's day + its interval, over a span as long as the batch
  window (``max - min`` days).
* **The lock minimum**: a date is fixed at least ``reinfusion_lock_min_days``
  whole days ahead, counted in the clinic's calendar (today in the clinic's
  zone, not in UTC: at 00:30 in Tokyo it is already tomorrow).
* **A valid time to propose** lies inside the window, on or after the lock
  minimum, and among the starts the scheduling engine found open with
  capacity for every resource of the route's visit type (``open_starts``).
* **1 … 3 proposals** at once, all different.
* **The route** is one the course's indication allows; each route code is a
  kind of reinfusion visit (``iv`` → IV drip …).
* **The lock**: once the patient confirms, the visit is locked. A locked
  visit is changed on one path only, the move: by a coordinator or a doctor,
  with a reason and the lab's agreement. A move may land sooner than the lock
  minimum ahead: the minimum stands in for the lab's planning, and a move
  needs the lab's recorded agreement, which is that planning; it must still
  lie inside the window, on an open time with capacity, and not in the past.
  Withdrawal of consent and a failed batch (rule 10) still cancel a locked
  visit: they end the treatment, they do not move it.

``prefer`` (a day → bool) orders valid times with preferred days first (a
patient's planned trip), keeping time order inside each group.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from intake.accounts.roles import Role
from intake.cultures.lifecycle import BatchState
from intake.scheduling.visit_kinds import VisitKind

MAX_PROPOSALS = 3

ROUTE_IV = "iv"
ROUTE_LOCAL = "local"
ROUTE_INTRATHECAL = "intrathecal"

#: The kind of reinfusion visit each route code books.
ROUTE_KINDS: dict[str, VisitKind] = {
    ROUTE_IV: VisitKind.REINFUSION_IV,
    ROUTE_LOCAL: VisitKind.REINFUSION_LOCAL,
    ROUTE_INTRATHECAL: VisitKind.REINFUSION_INTRATHECAL,
}

#: Who may move a locked date, and who may propose dates.
MOVERS = frozenset({Role.COORDINATOR, Role.DOCTOR})
PROPOSERS = MOVERS

#: A batch in these states may still be given back: dates can be proposed.
ON_TRACK_STATES = frozenset(
    {
        BatchState.RECEIVED,
        BatchState.IN_CULTURE,
        BatchState.HARVEST_READY,
        BatchState.QC_PENDING,
        BatchState.RELEASED,
        BatchState.CRYOPRESERVED,
    }
)


@dataclass(frozen=True)
class Window:
    """Local days ``first`` … ``last``, both included."""

    first: date
    last: date

    def __contains__(self, day: date) -> bool:
        return self.first <= day <= self.last

    def days(self) -> int:
        return (self.last - self.first).days + 1


def batch_window(collected_on: date, *, min_days: int, max_days: int) -> Window:
    """Dose 1: collection day + ``min_days`` … + ``max_days``."""
    return Window(collected_on + timedelta(days=min_days), collected_on + timedelta(days=max_days))


def later_dose_window(
    previous_day: date, interval_days: int, *, min_days: int, max_days: int
) -> Window:
    """A later dose: from the previous dose's day + its interval, over as many
    days as the batch window spans."""
    first = previous_day + timedelta(days=interval_days)
    return Window(first, first + timedelta(days=max(max_days - min_days, 0)))


def local_day(instant: datetime, tz: tzinfo) -> date:
    if instant.tzinfo is None:
        raise ValueError("naive datetime")
    return instant.astimezone(tz).date()


def lock_minimum(now: datetime, tz: tzinfo, *, lock_min_days: int) -> date:
    """The first local day a date may be fixed on: today in the clinic's zone
    + ``lock_min_days``."""
    return local_day(now, tz) + timedelta(days=lock_min_days)


def days_ahead(start: datetime, now: datetime, tz: tzinfo) -> int:
    """Whole clinic days from today to the day of ``start``."""
    return (local_day(start, tz) - local_day(now, tz)).days


class Problem(enum.StrEnum):
    NONE_CHOSEN = "none_chosen"
    TOO_MANY = "too_many"
    DUPLICATE = "duplicate"
    PAST = "past"
    OUTSIDE_WINDOW = "outside_window"
    TOO_SOON = "too_soon"
    NOT_OPEN = "not_open"
    UNKNOWN_ROUTE = "unknown_route"
    ROUTE_NOT_ALLOWED = "route_not_allowed"
    SAME_TIME = "same_time"


def time_problem(
    start: datetime,
    *,
    now: datetime,
    tz: tzinfo,
    window: Window,
    open_starts: Iterable[datetime],
    lock_min_days: int | None,
) -> Problem | None:
    """Why ``start`` cannot be offered (None: it can). ``lock_min_days`` None:
    a move, which needs no lock minimum (see the module's note)."""
    if start.tzinfo is None:
        raise ValueError("naive datetime")
    if start <= now:
        return Problem.PAST
    if local_day(start, tz) not in window:
        return Problem.OUTSIDE_WINDOW
    if lock_min_days is not None and local_day(start, tz) < lock_minimum(
        now, tz, lock_min_days=lock_min_days
    ):
        return Problem.TOO_SOON
    if start not in set(open_starts):
        return Problem.NOT_OPEN
    return None


def valid_times(
    open_starts: Iterable[datetime],
    *,
    now: datetime,
    tz: tzinfo,
    window: Window,
    lock_min_days: int | None,
    prefer: Callable[[date], bool] | None = None,
) -> list[datetime]:
    """The open starts that may be offered, in time order, preferred days first."""
    starts = sorted(set(open_starts))
    valid = [
        s
        for s in starts
        if time_problem(
            s, now=now, tz=tz, window=window, open_starts=starts, lock_min_days=lock_min_days
        )
        is None
    ]
    if prefer is None:
        return valid
    return sorted(valid, key=lambda s: (not prefer(local_day(s, tz)), s))


def proposal_problems(
    times: Sequence[datetime],
    *,
    now: datetime,
    tz: tzinfo,
    window: Window,
    open_starts: Iterable[datetime],
    lock_min_days: int,
) -> list[tuple[int | None, Problem]]:
    """Every problem of a set of proposed times: ``(index, problem)``, the
    index None for the set as a whole. Empty: the set may be offered."""
    if not times:
        return [(None, Problem.NONE_CHOSEN)]
    problems: list[tuple[int | None, Problem]] = []
    if len(times) > MAX_PROPOSALS:
        problems.append((None, Problem.TOO_MANY))
    if len(set(times)) != len(times):
        problems.append((None, Problem.DUPLICATE))
    starts = set(open_starts)
    for index, start in enumerate(times):
        problem = time_problem(
            start,
            now=now,
            tz=tz,
            window=window,
            open_starts=starts,
            lock_min_days=lock_min_days,
        )
        if problem is not None:
            problems.append((index, problem))
    return problems


def allowed_routes(indication_routes: Iterable[str] | None) -> tuple[str, ...]:
    """The indication's routes this clinic can book, in the indication's order."""
    return tuple(r for r in (indication_routes or ()) if r in ROUTE_KINDS)


def route_problem(route: str | None, indication_routes: Iterable[str] | None) -> Problem | None:
    if route not in ROUTE_KINDS:
        return Problem.UNKNOWN_ROUTE
    if route not in allowed_routes(indication_routes):
        return Problem.ROUTE_NOT_ALLOWED
    return None


def route_kind(route: str) -> VisitKind | None:
    return ROUTE_KINDS.get(route)


def batch_on_track(state: BatchState | str, *, at_risk: bool) -> bool:
    """May dates be proposed for this batch: still growing or kept, not at risk."""
    try:
        state = BatchState(state)
    except ValueError:
        return False
    return state in ON_TRACK_STATES and not at_risk


# --------------------------------------------------------------------------- the lock


class ChangeRefusal(enum.StrEnum):
    #: A locked visit: only the move path changes it.
    LOCKED = "locked"
    #: The move path is for coordinators and doctors.
    NOT_ALLOWED = "not_allowed"
    NO_REASON = "no_reason"
    NO_LAB_AGREEMENT = "no_lab_agreement"
    #: Nothing to move: the visit is not locked (use the ordinary pages).
    NOT_LOCKED = "not_locked"


def change_refusal(*, is_locked: bool) -> ChangeRefusal | None:
    """May an ordinary path (reschedule, cancel, a desk change) change this
    visit? Whoever asks, an ordinary change of a locked visit is refused: the
    lock leaves one way, the move."""
    return ChangeRefusal.LOCKED if is_locked else None


def move_refusals(
    *,
    is_locked: bool,
    role: Role | str | None,
    reason: str | None,
    lab_agreed: bool,
) -> list[ChangeRefusal]:
    """Why the move path refuses (empty: it may move the visit)."""
    try:
        role = Role(role) if role is not None else None
    except ValueError:
        role = None
    if role not in MOVERS:
        return [ChangeRefusal.NOT_ALLOWED]
    refusals = []
    if not is_locked:
        refusals.append(ChangeRefusal.NOT_LOCKED)
    if not (reason or "").strip():
        refusals.append(ChangeRefusal.NO_REASON)
    if not lab_agreed:
        refusals.append(ChangeRefusal.NO_LAB_AGREEMENT)
    return refusals


def may_request_change(*, is_locked: bool, is_active: bool, has_open_request: bool) -> bool:
    """The patient asks for a change of a locked, upcoming date, one request at a time."""
    return is_locked and is_active and not has_open_request


class DoseStep(enum.StrEnum):
    PLANNED = "planned"
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    ADMINISTERED = "administered"
    CANCELLED = "cancelled"


def can_propose(dose_status: str) -> bool:
    """Times are (re)proposed until the patient confirms one; a confirmed date
    moves only by the move path."""
    return dose_status in (DoseStep.PLANNED, DoseStep.PROPOSED)
