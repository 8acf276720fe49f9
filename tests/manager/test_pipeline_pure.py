"""The pipeline's stage of a course, its culture week and the paging, pure
(no app): the precedence table of ``intake.manager.pipeline``, line by line."""

from __future__ import annotations

from datetime import date

import pytest

from intake.manager import pipeline as p
from intake.manager.pipeline import CourseFacts as F

TODAY = date(2026, 12, 2)
AGO = date(2026, 11, 20)

# (facts, expected stage): one row per precedence line and its boundaries.
CASES = [
    # 11. nothing yet, a draft, returned for more information
    (F(), p.ANSWERING),
    (F(questionnaire_status="draft"), p.ANSWERING),
    (F(questionnaire_status="returned"), p.ANSWERING),
    # 10. submitted
    (F(questionnaire_status="submitted"), p.AWAITING_REVIEW),
    # 9. approved (a failed batch with no new collection comes back here)
    (F(questionnaire_status="approved"), p.APPROVED),
    (F(questionnaire_status="approved", batch_state="failed", collected_on=AGO), p.APPROVED),
    (F(questionnaire_status="approved", batch_state="discarded", collected_on=AGO), p.APPROVED),
    # 8. a collection booked or under way; a recollection after a failed batch
    (F(questionnaire_status="approved", collection_active=True), p.COLLECTION_BOOKED),
    (
        F(
            questionnaire_status="approved",
            collection_active=True,
            batch_state="failed",
            collected_on=AGO,
        ),
        p.COLLECTION_BOOKED,
    ),
    # 7. the batch is in the lab: every culture state
    (F(questionnaire_status="approved", batch_state="received", collected_on=AGO), p.IN_CULTURE),
    (F(questionnaire_status="approved", batch_state="in_culture", collected_on=AGO), p.IN_CULTURE),
    (F(batch_state="harvest_ready", collected_on=AGO), p.IN_CULTURE),
    (F(batch_state="qc_pending", collected_on=AGO), p.IN_CULTURE),
    # 6. released or frozen for later doses
    (F(batch_state="released", collected_on=AGO), p.RELEASED),
    (F(batch_state="cryopreserved", collected_on=AGO), p.RELEASED),
    # 5. given, no follow-up open (not yet planned, or all done)
    (F(batch_state="released", administered_doses=1), p.ADMINISTERED),
    (F(batch_state="administered"), p.ADMINISTERED),
    # 4. given, with follow-ups open
    (F(batch_state="cryopreserved", administered_doses=1, open_follow_ups=1), p.IN_FOLLOW_UP),
    (F(batch_state="administered", open_follow_ups=3), p.IN_FOLLOW_UP),
    # open follow-ups alone (no dose given) do not make a course "in follow-up"
    (F(batch_state="released", open_follow_ups=1), p.RELEASED),
    # 3. a confirmed dose: also a later one after an earlier was given
    (F(batch_state="released", confirmed_doses=1), p.REINFUSION_CONFIRMED),
    (
        F(batch_state="cryopreserved", confirmed_doses=1, administered_doses=1, open_follow_ups=2),
        p.REINFUSION_CONFIRMED,
    ),
    # 2. closed courses are not in the pipeline
    (F(course_status="completed", batch_state="administered"), None),
    (F(course_status="declined", questionnaire_status="declined"), None),
    (F(questionnaire_status="declined"), None),
    # 1. halted beats everything
    (F(course_status="halted"), p.HALTED),
    (F(course_status="halted", questionnaire_status="submitted"), p.HALTED),
    (F(course_status="halted", collection_active=True), p.HALTED),
    (F(course_status="halted", batch_state="in_culture", collected_on=AGO), p.HALTED),
    (F(course_status="halted", confirmed_doses=1, administered_doses=1), p.HALTED),
    (F(course_status="halted", questionnaire_status="declined"), p.HALTED),
]


@pytest.mark.parametrize(("facts", "expected"), CASES)
def test_stage(facts, expected):
    assert p.stage(facts) == expected


def test_every_stage_is_reached_by_the_table_and_titled():
    reached = {expected for _facts, expected in CASES}
    assert set(p.STAGES) <= reached
    assert set(p.STAGE_TITLES) == set(p.STAGES)


@pytest.mark.parametrize(
    ("days", "week"),
    [
        (-3, 1),  # a collection day after today: week 1, never 0 or negative
        (0, 1),
        (6, 1),
        (7, 2),
        (13, 2),
        (14, 3),
        (34, 5),
        (35, 6),
        (41, 6),
        (42, 6),  # the window's last day (default)
        (400, 6),  # "6+"
    ],
)
def test_culture_week(days, week):
    from datetime import timedelta

    collected = TODAY - timedelta(days=days)
    assert p.culture_week(collected, TODAY) == week
    assert p.week_of_day(days) == week
    assert p.culture_day(collected, TODAY) == days


@pytest.mark.parametrize(
    ("status", "closed", "shown"),
    [
        ("open", None, True),
        ("halted", None, True),
        ("halted", date(2026, 12, 2), True),
        ("halted", date(2026, 9, 3), True),  # 90 days ago: the last day shown
        ("halted", date(2026, 9, 2), False),  # 91 days ago
        ("completed", date(2026, 12, 1), False),
        ("declined", date(2026, 12, 1), False),
    ],
)
def test_which_courses_are_shown(status, closed, shown):
    assert p.HALTED_SHOWN_DAYS == 90
    assert p.is_shown(status, closed, TODAY) is shown


def test_count_every_stage_and_week_present():
    counts = p.count(
        [
            (p.ANSWERING, None),
            (p.IN_CULTURE, 1),
            (p.IN_CULTURE, 6),
            (p.IN_CULTURE, 9),  # clamped to 6+
            (None, None),  # not in the pipeline: not counted
            (p.HALTED, None),
            (p.RELEASED, 3),  # a week only counts for in_culture
        ]
    )
    assert counts.by_stage[p.ANSWERING] == 1
    assert counts.by_stage[p.IN_CULTURE] == 3
    assert counts.by_stage[p.APPROVED] == 0
    assert counts.by_week == {1: 1, 2: 0, 3: 0, 4: 0, 5: 0, 6: 2}
    assert counts.total == 6
    assert list(counts.by_stage) == list(p.STAGES)


def test_count_of_nothing():
    counts = p.count([])
    assert counts.total == 0
    assert set(counts.by_week.values()) == {0}


@pytest.mark.parametrize(
    ("total", "page", "shown_page", "items", "pages", "prev", "next_"),
    [
        (0, 1, 1, [], 1, False, False),
        (0, 5, 1, [], 1, False, False),
        (25, 1, 1, list(range(10)), 3, False, True),
        (25, 2, 2, list(range(10, 20)), 3, True, True),
        (25, 3, 3, list(range(20, 25)), 3, True, False),
        (25, 4, 3, list(range(20, 25)), 3, True, False),  # past the last: the last
        (25, 0, 1, list(range(10)), 3, False, True),  # below 1: the first
        (20, 2, 2, list(range(10, 20)), 2, True, False),  # exactly full pages
        (20, 10**9, 2, list(range(10, 20)), 2, True, False),
    ],
)
def test_paginate(total, page, shown_page, items, pages, prev, next_):
    result = p.paginate(list(range(total)), page, 10)
    assert result.page == shown_page
    assert list(result.items) == items
    assert result.pages == pages
    assert result.total == total
    assert (result.has_prev, result.has_next) == (prev, next_)
    if prev:
        assert result.prev_num == shown_page - 1
    if next_:
        assert result.next_num == shown_page + 1


def test_paginate_refuses_an_empty_page_size():
    with pytest.raises(ValueError):
        p.paginate([1], 1, 0)
