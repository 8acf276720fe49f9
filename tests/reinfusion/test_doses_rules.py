"""Multi-dose plans: the pure rules (count, routes, cells, intervals, what
may still change), the planned dates and the batch's state after each dose."""

from __future__ import annotations

from datetime import date

import pytest

from intake.cultures import lifecycle
from intake.reinfusion import doses
from intake.reinfusion.doses import Entry, Existing

LIMITS = {
    "allowed_routes": ("iv", "local"),
    "planned_low": 100_000_000,
    "planned_high": 300_000_000,
    "max_dose_cells": 200_000_000,
}
ONE = Entry("iv", 100_000_000)
LATER = Entry("iv", 100_000_000, 30)


def problems(entries, **kwargs):
    return [(p.code, p.field) for p in doses.plan_problems(entries, **{**LIMITS, **kwargs})]


@pytest.mark.parametrize(
    ("count", "ok"), [(0, False), (1, True), (doses.MAX_DOSES, True), (doses.MAX_DOSES + 1, False)]
)
def test_number_of_doses(count, ok):
    entries = [ONE] + [LATER] * (count - 1) if count else []
    assert (problems(entries) == []) is ok


@pytest.mark.parametrize(
    ("interval", "ok"),
    [(0, False), (1, True), (doses.MAX_INTERVAL_DAYS, True), (doses.MAX_INTERVAL_DAYS + 1, False)],
)
def test_interval_bounds(interval, ok):
    assert (problems([ONE, Entry("iv", 100_000_000, interval)]) == []) is ok


def test_later_dose_needs_an_interval_the_first_does_not():
    assert problems([ONE, Entry("iv", 100_000_000, None)]) == [("interval", "interval_2")]
    assert problems([Entry("iv", 100_000_000, None)]) == []


@pytest.mark.parametrize(
    ("cells", "reason", "expected"),
    [
        (99_999_999, None, [("cells", "cells_1")]),  # below the batch's planned range
        (100_000_000, None, []),
        (200_000_000, None, []),  # exactly the cap
        (200_000_001, None, [("over_cap", "reason")]),
        (200_000_001, "Large joint", []),
        (300_000_000, "Large joint", []),
        (300_000_001, "Large joint", [("cells", "cells_1")]),  # past the planned range
        (None, None, [("cells", "cells_1")]),
    ],
)
def test_cells_within_the_planned_range_and_the_cap(cells, reason, expected):
    assert problems([Entry("iv", cells)], reason=reason) == expected


def test_route_must_be_allowed_and_every_problem_is_reported():
    assert problems([Entry("intrathecal", 1), Entry(None, 100_000_000, 0)]) == [
        ("route", "route_1"),
        ("cells", "cells_1"),
        ("route", "route_2"),
        ("interval", "interval_2"),
    ]


def test_confirmed_and_given_doses_are_kept_a_proposed_one_keeps_its_route():
    existing = [
        Existing(1, "administered", "iv", 100_000_000, None),
        Existing(2, "confirmed", "iv", 100_000_000, 30),
        Existing(3, "proposed", "iv", 100_000_000, 30),
    ]
    # entries for the given and confirmed doses are ignored, even empty ones
    blank = Entry(None, None, None)
    assert problems([blank, blank, Entry("iv", 150_000_000, 14)], existing=existing) == []
    assert problems([blank, blank, Entry("local", 150_000_000, 14)], existing=existing) == [
        ("route_fixed", "route_3")
    ]


def test_shortening_cancels_only_planned_doses():
    existing = [
        Existing(1, "confirmed", "iv", 100_000_000, None),
        Existing(2, "planned", "iv", 100_000_000, 30),
        Existing(3, "proposed", "iv", 100_000_000, 30),
    ]
    assert problems([ONE], existing=existing) == [("cannot_remove", "count")]
    assert problems([ONE, LATER, LATER], existing=existing[:2] + [existing[1]]) == []
    assert problems([ONE], existing=existing[:2]) == []


def test_source_of_each_dose():
    assert [doses.source_for(n) for n in (1, 2, 3)] == ["fresh", "cryopreserved", "cryopreserved"]
    with pytest.raises(ValueError):
        doses.source_for(0)


def test_planned_dates_follow_the_previous_dose():
    first = date(2026, 7, 1)
    assert doses.planned_dates(first, [None, 30, 14]) == [
        date(2026, 7, 1),
        date(2026, 7, 31),
        date(2026, 8, 14),
    ]
    # a booked later dose moves the ones after it
    assert doses.planned_dates(first, [None, 30, 14], [None, date(2026, 8, 3), None]) == [
        date(2026, 7, 1),
        date(2026, 8, 3),
        date(2026, 8, 17),
    ]
    assert doses.planned_dates(None, [None, 30]) == [None, None]


@pytest.mark.parametrize(("to_give", "later"), [(0, 0), (1, 0), (2, 1), (3, 2)])
def test_later_doses_counts_the_doses_after_the_next(to_give, later):
    assert doses.later_doses(to_give) == later


@pytest.mark.parametrize(
    ("k", "n", "state"),
    [
        (1, 1, "administered"),
        (1, 3, "cryopreserved"),
        (2, 3, "cryopreserved"),
        (3, 3, "administered"),
    ],
)
def test_state_after_dose_k_of_n_agrees_with_the_lifecycle(k, n, state):
    remaining = n - k
    assert doses.state_after_dose(remaining) == state
    # the batch's later_doses when dose k is given (doses still to give: n - k + 1)
    context = lifecycle.TransitionContext(
        planned_dose=lifecycle.DoseRange(100_000_000, 200_000_000),
        later_doses=doses.later_doses(n - k + 1),
    )
    assert lifecycle.check_transition("released", state, context=context) is None
    if state == "cryopreserved":
        refusal = lifecycle.check_transition("released", "administered", context=context)
        assert refusal is not None and refusal.code == lifecycle.Why.LATER_DOSES


def test_bad_counts_are_a_bug():
    with pytest.raises(ValueError):
        doses.later_doses(-1)
    with pytest.raises(ValueError):
        doses.state_after_dose(-1)
