"""Who on the collection waitlist is offered which freed day. Pure: the
waiting wishes, the free places, the open offers and ``now`` are passed in.

DOMAIN: "When collection days are full, a patient may wait for a freed place
on a waitlist: first come, first offered, with a time limit to accept."

* Wishes are served in the order they joined (``joined_at``, then the entry
  id: two patients who joined in the same second are served by id).
* A wish names the weeks that suit the patient (each week by its Monday, in
  the clinic's calendar, Monday to Sunday); a day outside those weeks is never
  offered. A wish may also rule out days that miss the patient's trips
  (``unfit_days``, computed by the caller from ``reinfusion.trips``).
* An offer holds a free place of its day until it is decided or it expires
  (``expires_at <= now``): a day is offered to at most as many patients at
  once as it has free places, and a patient has at most one open offer.
* A day the patient declined, let expire, or found taken is not offered to
  them again (``passed_days``): the next fitting patient gets it instead.
* A wish that fits no free day is skipped but keeps its place in the line.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from intake.scheduling.availability import DayBlock, HoldKey, day_key


@dataclass(frozen=True)
class Wish:
    """One waiting entry of the line."""

    entry_id: int
    joined_at: datetime
    #: The Mondays of the weeks that suit the patient.
    weeks: frozenset[date]
    #: Days that miss the patient's trips, when they asked for fitting days only.
    unfit_days: frozenset[date] = frozenset()
    #: Days already offered to this patient that they did not take.
    passed_days: frozenset[date] = frozenset()


@dataclass(frozen=True)
class OpenOffer:
    offer_id: int
    entry_id: int
    day: date
    expires_at: datetime


@dataclass(frozen=True)
class NewOffer:
    entry_id: int
    day: date


@dataclass(frozen=True)
class Decision:
    #: Open offers whose time is over (ids).
    expired: tuple[int, ...] = ()
    #: Offers to make now, first come first served.
    offers: tuple[NewOffer, ...] = field(default_factory=tuple)


def week_of(day: date) -> date:
    """The Monday of ``day``'s week (weeks run Monday to Sunday)."""
    return day - timedelta(days=day.weekday())


def weeks_between(first: date, last: date) -> list[date]:
    """The Mondays of every week touching ``first`` … ``last``."""
    monday, weeks = week_of(first), []
    while monday <= last:
        weeks.append(monday)
        monday += timedelta(days=7)
    return weeks


def expires_at(now: datetime, hours: int) -> datetime:
    """When an offer made at ``now`` stops being open."""
    if hours <= 0:
        raise ValueError("an offer needs a positive time limit")
    return now + timedelta(hours=hours)


def is_expired(offer: OpenOffer, now: datetime) -> bool:
    """An offer expiring exactly at ``now`` is over."""
    return offer.expires_at <= now


def fits(wish: Wish, day: date) -> bool:
    return week_of(day) in wish.weeks and day not in wish.unfit_days and day not in wish.passed_days


def in_line(wishes: Iterable[Wish]) -> list[Wish]:
    """First come, first served; the same second by entry id."""
    return sorted(wishes, key=lambda w: (w.joined_at, w.entry_id))


def decide(
    wishes: Iterable[Wish],
    free_places: Mapping[date, int],
    open_offers: Iterable[OpenOffer],
    now: datetime,
) -> Decision:
    """Which open offers end (expired) and which new offers to make.

    ``free_places``: each free day and how many collections can still be
    booked on it (the places held by open offers are NOT subtracted yet)."""
    offers = list(open_offers)
    expired = [o for o in offers if is_expired(o, now)]
    live = [o for o in offers if not is_expired(o, now)]
    claimed = Counter(o.day for o in live)
    remaining = {day: n - claimed[day] for day, n in free_places.items()}
    busy = {o.entry_id for o in live}
    passed: dict[int, set[date]] = {}
    for offer in expired:
        passed.setdefault(offer.entry_id, set()).add(offer.day)
    made: list[NewOffer] = []
    for wish in in_line(wishes):
        if wish.entry_id in busy:
            continue
        own = Wish(
            wish.entry_id,
            wish.joined_at,
            wish.weeks,
            wish.unfit_days,
            wish.passed_days | frozenset(passed.get(wish.entry_id, ())),
        )
        day = next(
            (d for d in sorted(remaining) if remaining[d] > 0 and fits(own, d)),
            None,
        )
        if day is None:
            continue
        remaining[day] -= 1
        busy.add(wish.entry_id)
        made.append(NewOffer(wish.entry_id, day))
    return Decision(tuple(o.offer_id for o in expired), tuple(made))


def position(wishes: Iterable[Wish], entry_id: int) -> int | None:
    """The entry's place in the line (1 = next), or None when not waiting."""
    for n, wish in enumerate(in_line(wishes), start=1):
        if wish.entry_id == entry_id:
            return n
    return None


def day_places(
    days: Sequence[date],
    day_blocks: Sequence[DayBlock],
    capacities: Mapping[str, int],
    holds: Mapping[HoldKey, int],
) -> dict[date, int]:
    """How many more collections can start on each of ``days`` as far as the
    per-day resources go (an incubator place held from day 0 to day 42): the
    fewest free places over the block's days, divided by its quantity. A visit
    with no day block is not limited here (None is not returned: a large number)."""
    places: dict[date, int] = {}
    for day in days:
        room = 1 << 30
        for block in day_blocks:
            capacity = capacities.get(block.resource_code, 0)
            fewest = min(
                capacity - holds.get((block.resource_code, day_key(day) + n), 0)
                for n in range(block.days)
            )
            room = min(room, max(fewest, 0) // block.quantity)
        places[day] = room
    return places
