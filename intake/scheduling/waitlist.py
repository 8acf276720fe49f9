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
  once as it has free places, and a patient has at most one open offer. A
  collection holds an incubator place from its day through the culture
  window (``Culture``): one freed place is offered on one day only.
* A day the patient declined, let expire, or found taken is not offered to
  them again (``passed_days``): the next fitting patient gets it instead, and
  while days they let pass are still free they wait behind the patients who
  have not been offered them (so one patient cannot hold a freed place day
  after day).
* A wish that fits no free day is skipped but keeps its place in the line.
"""

from __future__ import annotations

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


@dataclass
class Culture:
    """The free places of a per-day resource (the incubator), calendar day by
    calendar day, and what one collection holds: ``quantity`` places on each
    of ``days`` days from the collection day. One freed place can start a
    culture on many days, but only one of them: offering a day takes the
    place over the whole window, so the next offer needs another place."""

    free: dict[date, int]
    days: int
    quantity: int = 1

    def has_room(self, day: date) -> bool:
        return all(
            self.free.get(day + timedelta(days=n), 0) >= self.quantity for n in range(self.days)
        )

    def take(self, day: date) -> None:
        for n in range(self.days):
            on = day + timedelta(days=n)
            self.free[on] = self.free.get(on, 0) - self.quantity


def decide(
    wishes: Iterable[Wish],
    free_starts: Mapping[date, int],
    open_offers: Iterable[OpenOffer],
    now: datetime,
    cultures: Sequence[Culture] = (),
) -> Decision:
    """Which open offers end (expired) and which new offers to make.

    ``free_starts``: each free day and how many collections its rooms and
    staff can still take; ``cultures``: the incubator places they need over
    the culture window. Neither counts the open offers yet: each open offer
    holds its day's start and its culture places until it ends."""
    offers = list(open_offers)
    expired = [o for o in offers if is_expired(o, now)]
    live = [o for o in offers if not is_expired(o, now)]
    cultures = [Culture(dict(c.free), c.days, c.quantity) for c in cultures]
    remaining = dict(free_starts)
    for o in live:
        remaining[o.day] = remaining.get(o.day, 0) - 1
        for culture in cultures:
            culture.take(o.day)
    busy = {o.entry_id for o in live}
    passed: dict[int, set[date]] = {}
    for offer in expired:
        passed.setdefault(offer.entry_id, set()).add(offer.day)
    wishes = [
        Wish(
            w.entry_id,
            w.joined_at,
            w.weeks,
            w.unfit_days,
            w.passed_days | frozenset(passed.get(w.entry_id, ())),
        )
        for w in wishes
    ]
    free_now = {d for d, n in remaining.items() if n > 0}
    # Who let one of these days pass waits behind those who have not: a
    # patient who declines (or lets an offer expire) cannot hold the freed
    # place day after day while the next patients wait.
    line = sorted(wishes, key=lambda w: (bool(w.passed_days & free_now), w.joined_at, w.entry_id))
    made: list[NewOffer] = []
    for own in line:
        if own.entry_id in busy:
            continue
        day = next(
            (
                d
                for d in sorted(remaining)
                if remaining[d] > 0 and fits(own, d) and all(c.has_room(d) for c in cultures)
            ),
            None,
        )
        if day is None:
            continue
        remaining[day] -= 1
        for culture in cultures:
            culture.take(day)
        busy.add(own.entry_id)
        made.append(NewOffer(own.entry_id, day))
    return Decision(tuple(o.offer_id for o in expired), tuple(made))


def position(wishes: Iterable[Wish], entry_id: int) -> int | None:
    """The entry's place in the line (1 = next), or None when not waiting."""
    for n, wish in enumerate(in_line(wishes), start=1):
        if wish.entry_id == entry_id:
            return n
    return None


def culture_of(
    block: DayBlock,
    first: date,
    last: date,
    capacities: Mapping[str, int],
    holds: Mapping[HoldKey, int],
) -> Culture:
    """The free places of ``block``'s resource on every day a collection
    starting ``first`` … ``last`` would hold."""
    code = block.resource_code
    span = (last - first).days + block.days
    free = {
        first + timedelta(days=n): capacities.get(code, 0)
        - holds.get((code, day_key(first) + n), 0)
        for n in range(span)
    }
    return Culture(free, block.days, block.quantity)
