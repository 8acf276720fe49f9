"""The waitlist's pure rules (``intake.scheduling.waitlist``): who is offered
which freed collection day, first come first served, with a time limit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from intake.scheduling import waitlist as rules
from intake.scheduling.availability import DayBlock, day_key

NOW = datetime(2027, 3, 10, 3, 0, tzinfo=UTC)  # a Wednesday, 12:00 in Tokyo
MON = date(2027, 3, 15)  # Monday of the week after
NEXT_MON = MON + timedelta(days=7)
SUN = MON + timedelta(days=6)


def wish(entry_id, minutes=0, weeks=(MON,), **extra):
    return rules.Wish(
        entry_id, NOW - timedelta(days=10) + timedelta(minutes=minutes), frozenset(weeks), **extra
    )


def offer(offer_id, entry_id, day, expires_at):
    return rules.OpenOffer(offer_id, entry_id, day, expires_at)


def offered(decision):
    return [(o.entry_id, o.day) for o in decision.offers]


@pytest.mark.parametrize(
    "day, monday",
    [
        (date(2027, 3, 15), date(2027, 3, 15)),  # Monday: its own week
        (date(2027, 3, 21), date(2027, 3, 15)),  # Sunday: still the same week
        (date(2027, 3, 22), date(2027, 3, 22)),  # the next Monday starts the next
        (date(2027, 1, 2), date(2026, 12, 28)),  # a week across the new year
    ],
)
def test_week_of(day, monday):
    assert rules.week_of(day) == monday


def test_weeks_between_lists_every_touched_monday():
    assert rules.weeks_between(date(2027, 3, 17), date(2027, 3, 29)) == [
        date(2027, 3, 15),
        date(2027, 3, 22),
        date(2027, 3, 29),
    ]
    assert rules.weeks_between(date(2027, 3, 29), date(2027, 3, 28)) == []


@pytest.mark.parametrize(
    "hours, expected", [(24, NOW + timedelta(hours=24)), (1, NOW + timedelta(hours=1))]
)
def test_expires_at(hours, expected):
    assert rules.expires_at(NOW, hours) == expected


def test_expires_at_needs_a_positive_limit():
    with pytest.raises(ValueError):
        rules.expires_at(NOW, 0)


@pytest.mark.parametrize(
    "name, wishes, free, open_offers, expected_offers, expected_expired",
    [
        (
            "first come first served: one place, two wishes",
            [wish(2, minutes=5), wish(1, minutes=0)],
            {MON: 1},
            [],
            [(1, MON)],
            (),
        ),
        (
            "joined the same second: the lower id first",
            [wish(8), wish(7)],
            {MON: 1},
            [],
            [(7, MON)],
            (),
        ),
        (
            "the last free place: two places, three wishes",
            [wish(1), wish(2, 1), wish(3, 2)],
            {MON: 2},
            [],
            [(1, MON), (2, MON)],
            (),
        ),
        (
            "a wish whose weeks do not fit is skipped, the next fitting one is offered",
            [wish(1, weeks=(NEXT_MON,)), wish(2, 1)],
            {MON: 1},
            [],
            [(2, MON)],
            (),
        ),
        (
            "the skipped wish keeps its place: a day in its week goes to it first",
            [wish(1, weeks=(NEXT_MON,)), wish(2, 1, weeks=(MON, NEXT_MON))],
            {MON: 1, NEXT_MON: 1},
            [],
            [(1, NEXT_MON), (2, MON)],
            (),
        ),
        (
            "Sunday belongs to the week of its Monday",
            [wish(1, weeks=(MON,))],
            {SUN: 1, SUN + timedelta(days=1): 1},
            [],
            [(1, SUN)],
            (),
        ),
        (
            "the Monday after is the next week, not this one",
            [wish(1, weeks=(MON,))],
            {NEXT_MON: 1},
            [],
            [],
            (),
        ),
        (
            "an open offer holds its place: nobody else is offered that day",
            [wish(1), wish(2, 1)],
            {MON: 1},
            [offer(10, 1, MON, NOW + timedelta(seconds=1))],
            [],
            (),
        ),
        (
            "an entry has one open offer at a time",
            [wish(1)],
            {MON: 1, MON + timedelta(days=1): 1},
            [offer(10, 1, MON, NOW + timedelta(hours=3))],
            [],
            (),
        ),
        (
            "an offer expiring exactly now is over: the next patient is offered the day",
            [wish(1), wish(2, 1)],
            {MON: 1},
            [offer(10, 1, MON, NOW)],
            [(2, MON)],
            (10,),
        ),
        (
            "the patient who let it expire is not offered the same day again",
            [wish(1)],
            {MON: 1},
            [offer(10, 1, MON, NOW - timedelta(minutes=1))],
            [],
            (10,),
        ),
        (
            "after an expiry the patient may be offered another day",
            [wish(1)],
            {MON: 1, MON + timedelta(days=2): 1},
            [offer(10, 1, MON, NOW - timedelta(minutes=1))],
            [(1, MON + timedelta(days=2))],
            (10,),
        ),
        (
            "a day the patient declined before goes to the next",
            [wish(1, passed_days=frozenset({MON})), wish(2, 1)],
            {MON: 1},
            [],
            [(2, MON)],
            (),
        ),
        (
            "days that miss the patient's trips are not offered to them",
            [wish(1, unfit_days=frozenset({MON})), wish(2, 1)],
            {MON: 1, MON + timedelta(days=1): 1},
            [],
            [(1, MON + timedelta(days=1)), (2, MON)],
            (),
        ),
        (
            "the earliest fitting day first",
            [wish(1, weeks=(MON, NEXT_MON))],
            {NEXT_MON: 1, MON + timedelta(days=3): 1},
            [],
            [(1, MON + timedelta(days=3))],
            (),
        ),
        (
            "who let a free day pass waits behind the others for the days free now",
            [wish(1, passed_days=frozenset({MON})), wish(2, 1)],
            {MON: 1, MON + timedelta(days=1): 1},
            [],
            [(2, MON), (1, MON + timedelta(days=1))],
            (),
        ),
        (
            "an expiry now puts the patient behind the next one too",
            [wish(1), wish(2, 1)],
            {MON: 1, MON + timedelta(days=1): 1},
            [offer(10, 1, MON, NOW)],
            [(2, MON), (1, MON + timedelta(days=1))],
            (10,),
        ),
        (
            "a day passed long ago that is not free now keeps the patient first",
            [wish(1, passed_days=frozenset({MON - timedelta(days=30)})), wish(2, 1)],
            {MON: 1},
            [],
            [(1, MON)],
            (),
        ),
        ("nobody waits", [], {MON: 3}, [], [], ()),
        ("no free day", [wish(1)], {}, [], [], ()),
        ("a day with no place left", [wish(1)], {MON: 0}, [], [], ()),
    ],
)
def test_decide(name, wishes, free, open_offers, expected_offers, expected_expired):
    decision = rules.decide(wishes, free, open_offers, NOW)
    assert offered(decision) == expected_offers, name
    assert decision.expired == expected_expired, name


def test_position_in_line():
    wishes = [wish(5, 3), wish(4, 1), wish(3, 1)]
    assert rules.position(wishes, 3) == 1
    assert rules.position(wishes, 4) == 2
    assert rules.position(wishes, 5) == 3
    assert rules.position(wishes, 99) is None


def _culture(free_days: int, places: int = 1, days: int = 3, first: date = MON):
    return rules.Culture({first + timedelta(days=n): places for n in range(free_days)}, days=days)


@pytest.mark.parametrize(
    "name, wishes, culture, open_offers, expected",
    [
        (
            "one freed incubator place is offered on one day only",
            [wish(1, weeks=(MON,)), wish(2, 1, weeks=(MON,))],
            _culture(5),  # Monday to Friday: after Monday's culture, two days are left
            [],
            [(1, MON)],
        ),
        (
            "two places: two patients, the second on the first day with room",
            [wish(1), wish(2, 1)],
            _culture(10, places=2),
            [],
            [(1, MON), (2, MON)],
        ),
        (
            "an open offer holds the place over its culture window",
            [wish(1), wish(2, 1)],
            _culture(5),  # Tuesday's offer holds Tuesday to Thursday
            [offer(10, 1, MON + timedelta(days=1), NOW + timedelta(hours=1))],
            [],
        ),
        (
            "a day after the offer's window is free for the next patient",
            [wish(1), wish(2, 1)],
            _culture(10),
            [offer(10, 1, MON, NOW + timedelta(hours=1))],
            [(2, MON + timedelta(days=3))],
        ),
        (
            "the window must be free to its last day",
            [wish(1)],
            _culture(2),  # Monday and Tuesday free; a culture needs three days
            [],
            [],
        ),
    ],
)
def test_decide_with_the_culture_window(name, wishes, culture, open_offers, expected):
    starts = {MON + timedelta(days=n): 4 for n in range(7)}
    decision = rules.decide(wishes, starts, open_offers, NOW, [culture])
    assert offered(decision) == expected, name


def test_decide_leaves_the_callers_culture_alone():
    culture = _culture(5)
    rules.decide([wish(1)], {MON: 1}, [], NOW, [culture])
    assert culture.free[MON] == 1


@pytest.mark.parametrize(
    "held, first_free",
    [
        ({}, 1),
        # One of two places held on the third day of Monday's window.
        ({2: 1}, 1),
        ({2: 2}, 0),
    ],
)
def test_culture_of_reads_the_free_places_day_by_day(held, first_free):
    block = DayBlock("incubator", days=4)
    holds = {("incubator", day_key(MON) + n): count for n, count in held.items()}
    culture = rules.culture_of(block, MON, MON + timedelta(days=1), {"incubator": 2}, holds)
    assert len(culture.free) == 5  # Monday's and Tuesday's windows: five days
    assert culture.has_room(MON) == bool(first_free)
    assert culture.days == 4 and culture.quantity == 1
