"""The manager's pipeline: which journey stage a course is in, pure.

Takes plain facts about one course (loaded for every course at once by
``pipeline_queries``) and answers one stage, so that every course is counted
exactly once. The stages follow the patient's journey
(``intake.patients.journey``) past the collection, into the culture,
reinfusion and follow-up.

Precedence, first match wins (the table tests in
``tests/manager/test_pipeline_pure.py`` prove each line):

1. the course is halted (consent withdrawn) → ``halted``, whatever else is true;
2. the course is declined or completed, or its questionnaire declined → no
   stage (the pipeline shows work in progress);
3. a dose is confirmed (booked and locked) → ``reinfusion_confirmed``: a later
   dose confirmed after an earlier one was given is still a reinfusion to come;
4. a dose was given and a follow-up contact is open → ``in_follow_up``;
5. a dose was given (or the batch is marked administered) → ``administered``;
6. the latest batch is released or cryopreserved → ``released``;
7. the latest batch is in the lab (received, in culture, harvest ready, QC
   pending) → ``in_culture``, grouped by culture week (1 … 6, 6 = 6+);
8. a collection visit is booked or under way → ``collection_booked`` (a
   recollection after a failed batch lands here too);
9. the questionnaire is approved → ``approved`` (a failed batch with no new
   collection comes back here, as on the patient's journey);
10. the questionnaire is submitted → ``awaiting_review``;
11. otherwise (no questionnaire, a draft, or returned for more information)
    → ``answering``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Generic, TypeVar

from intake.core.text import N_

ANSWERING = "answering"
AWAITING_REVIEW = "awaiting_review"
APPROVED = "approved"
COLLECTION_BOOKED = "collection_booked"
IN_CULTURE = "in_culture"
RELEASED = "released"
REINFUSION_CONFIRMED = "reinfusion_confirmed"
ADMINISTERED = "administered"
IN_FOLLOW_UP = "in_follow_up"
HALTED = "halted"

#: In the order the journey goes (the page shows them so).
STAGES = (
    ANSWERING,
    AWAITING_REVIEW,
    APPROVED,
    COLLECTION_BOOKED,
    IN_CULTURE,
    RELEASED,
    REINFUSION_CONFIRMED,
    ADMINISTERED,
    IN_FOLLOW_UP,
    HALTED,
)

STAGE_TITLES = {
    ANSWERING: N_("Answering the questions"),
    AWAITING_REVIEW: N_("Awaiting the doctor's review"),
    APPROVED: N_("Approved"),
    COLLECTION_BOOKED: N_("Collection booked"),
    IN_CULTURE: N_("In culture"),
    RELEASED: N_("Cells released"),
    REINFUSION_CONFIRMED: N_("Reinfusion confirmed"),
    ADMINISTERED: N_("Administered"),
    IN_FOLLOW_UP: N_("In follow-up"),
    HALTED: N_("Halted: consent withdrawn"),
}

#: Culture weeks shown one by one; the last counts that week and every later one.
CULTURE_WEEKS = 6
#: A halted course stays in the pipeline this many days after it stopped.
HALTED_SHOWN_DAYS = 90

CULTURE_STATES = frozenset({"received", "in_culture", "harvest_ready", "qc_pending"})
RELEASED_STATES = frozenset({"released", "cryopreserved"})
CLOSED_STATUSES = frozenset({"declined", "completed"})


@dataclass(frozen=True)
class CourseFacts:
    """What the pipeline needs to know of one course, as plain values."""

    course_status: str = "open"
    #: The course's (latest) questionnaire's status, None without one.
    questionnaire_status: str | None = None
    #: A collection visit of the course is booked or under way.
    collection_active: bool = False
    #: The course's latest culture batch: its state and collection day.
    batch_state: str | None = None
    collected_on: date | None = None
    confirmed_doses: int = 0
    administered_doses: int = 0
    open_follow_ups: int = 0


def stage(facts: CourseFacts) -> str | None:
    """The course's one stage (see the module's precedence), or None when the
    course is not in the pipeline (declined or completed)."""
    if facts.course_status == "halted":
        return HALTED
    if facts.course_status in CLOSED_STATUSES or facts.questionnaire_status == "declined":
        return None
    if facts.confirmed_doses > 0:
        return REINFUSION_CONFIRMED
    given = facts.administered_doses > 0 or facts.batch_state == "administered"
    if given and facts.open_follow_ups > 0:
        return IN_FOLLOW_UP
    if given:
        return ADMINISTERED
    if facts.batch_state in RELEASED_STATES:
        return RELEASED
    if facts.batch_state in CULTURE_STATES:
        return IN_CULTURE
    if facts.collection_active:
        return COLLECTION_BOOKED
    if facts.questionnaire_status == "approved":
        return APPROVED
    if facts.questionnaire_status == "submitted":
        return AWAITING_REVIEW
    return ANSWERING


def culture_day(collected_on: date, today: date) -> int:
    """Whole days since the collection: 0 on the collection day."""
    return (today - collected_on).days


def culture_week(collected_on: date, today: date) -> int:
    """The culture week, 1 … ``CULTURE_WEEKS``: days 0-6 are week 1, days
    7-13 week 2 …; every day from week 6 on counts as week 6 ("6+"). A
    collection day after today (a clock or entry error) is week 1."""
    return week_of_day(culture_day(collected_on, today))


def week_of_day(day: int) -> int:
    """The culture week of culture day ``day`` (see ``culture_week``)."""
    return min(max(day, 0) // 7 + 1, CULTURE_WEEKS)


def week_bounds(week: int, today: date) -> tuple[date | None, date | None]:
    """The collection days (earliest, latest; None: unbounded) whose culture
    week is ``week`` on ``today`` (see ``culture_week``): what a database
    compares instead of working out each course's week."""
    week = min(max(week, 1), CULTURE_WEEKS)
    earliest = None if week == CULTURE_WEEKS else today - timedelta(days=7 * week - 1)
    latest = None if week == 1 else today - timedelta(days=7 * (week - 1))
    return earliest, latest


def is_shown(course_status: str, closed_on: date | None, today: date) -> bool:
    """Open courses are in the pipeline; a halted one for ``HALTED_SHOWN_DAYS``
    after it stopped (counting the day it stopped as day 0)."""
    if course_status == "open":
        return True
    if course_status != "halted":
        return False
    return closed_on is None or closed_on >= today - timedelta(days=HALTED_SHOWN_DAYS)


@dataclass(frozen=True)
class Counts:
    """How many courses are at each stage, and in culture by week."""

    by_stage: dict[str, int]
    by_week: dict[int, int]

    @property
    def total(self) -> int:
        return sum(self.by_stage.values())


def count(placed: Iterable[tuple[str | None, int | None]]) -> Counts:
    """Counts from (stage, culture week) pairs; a None stage is not counted,
    the week counts only for ``in_culture``. Every stage and week is present,
    zero when empty."""
    by_stage = dict.fromkeys(STAGES, 0)
    by_week = dict.fromkeys(range(1, CULTURE_WEEKS + 1), 0)
    for code, week in placed:
        if code is None:
            continue
        by_stage[code] += 1
        if code == IN_CULTURE and week is not None:
            by_week[min(max(week, 1), CULTURE_WEEKS)] += 1
    return Counts(by_stage, by_week)


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list already in memory, with what the ``pager`` macro
    reads (``page``, ``pages``, ``has_prev`` …)."""

    items: Sequence[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def paginate(items: Sequence[T], page: int, per_page: int) -> Page[T]:
    """Page ``page`` (from 1) of ``items``; a page past the last shows the
    last one, a page below 1 the first."""
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    total = len(items)
    last = max(1, -(-total // per_page))
    page = min(max(page, 1), last)
    start = (page - 1) * per_page
    return Page(items[start : start + per_page], page, per_page, total)
