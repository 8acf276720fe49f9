"""The pure after-care rules: follow-up days and states, the questionnaire's
checks and alerts, the adverse-event reporting clocks. No app."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from intake.core.languages import LANGUAGES
from intake.reinfusion import aftercare as ac
from intake.reinfusion.aftercare import FollowUpState as F
from intake.reinfusion.aftercare import ReportState as R

GIVEN = date(2027, 3, 1)


# --------------------------------------------------------------------------- follow-up days


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (
            (7, 30, 90, 180),
            [
                (7, date(2027, 3, 8)),
                (30, date(2027, 3, 31)),
                (90, date(2027, 5, 30)),
                (180, date(2027, 8, 28)),
            ],
        ),  # noqa: E501
        ((30, 7, 7), [(7, date(2027, 3, 8)), (30, date(2027, 3, 31))]),  # sorted, once each
        ((0, 14, 5000), [(14, date(2027, 3, 15))]),  # the day itself and slips ignored
        ((1, ac.MAX_FOLLOW_UP_DAYS), [(1, date(2027, 3, 2)), (3650, GIVEN + timedelta(days=3650))]),
        ((), []),
    ],
)
def test_follow_up_schedule(days, expected):
    assert ac.follow_up_schedule(GIVEN, days) == expected


DUE = date(2027, 3, 8)


@pytest.mark.parametrize(
    ("today", "status", "state"),
    [
        (DUE - timedelta(days=1), "open", F.UPCOMING),
        (DUE, "open", F.DUE),
        (DUE + timedelta(days=6), "open", F.DUE),  # the last day of grace
        (DUE + timedelta(days=7), "open", F.OVERDUE),  # a week after: overdue
        (DUE + timedelta(days=90), "open", F.OVERDUE),
        (DUE - timedelta(days=3), "done", F.DONE),
        (DUE + timedelta(days=30), "done", F.DONE),
        (DUE + timedelta(days=30), "unreachable", F.UNREACHABLE),
    ],
)
def test_follow_up_state(today, status, state):
    assert ac.follow_up_state(DUE, status, today) is state


def test_follow_up_grace_can_be_given():
    assert ac.follow_up_state(DUE, "open", DUE + timedelta(days=2), grace_days=2) is F.OVERDUE
    assert ac.follow_up_state(DUE, "open", DUE + timedelta(days=1), grace_days=2) is F.DUE


@pytest.mark.parametrize(
    ("today", "status", "answered", "allowed"),
    [
        (DUE - timedelta(days=1), "open", False, False),  # not open yet
        (DUE, "open", False, True),
        (DUE + timedelta(days=40), "open", False, True),  # overdue still answerable
        (DUE, "open", True, False),  # once
        (DUE, "done", False, False),
        (DUE, "unreachable", False, False),
    ],
)
def test_can_answer(today, status, answered, allowed):
    assert ac.can_answer(DUE, status, answered, today) is allowed


def test_follow_ups_sorted_work_first():
    today = DUE
    rows = [
        (DUE + timedelta(days=20), "open"),  # upcoming
        (DUE - timedelta(days=1), "done"),
        (DUE, "open"),  # due
        (DUE - timedelta(days=10), "open"),  # overdue
        (DUE - timedelta(days=8), "open"),  # overdue, later
        (DUE - timedelta(days=1), "open"),  # due, earlier
    ]
    ordered = ac.sort_follow_ups(rows, today)
    assert ordered == [rows[3], rows[4], rows[5], rows[2], rows[0], rows[1]]


# --------------------------------------------------------------------------- the questionnaire


def test_every_question_and_option_is_in_every_language():
    for q in ac.QUESTIONS:
        assert set(q.text) == set(LANGUAGES), q.code
        assert all(q.text.values()), q.code
        for option in q.options:
            assert set(option.text) == set(LANGUAGES) and all(option.text.values()), option.code
    assert ac.BY_CODE["feeling"].label("zh_Hans") == "与治疗前相比，您现在感觉如何？"
    assert ac.BY_CODE["feeling"].label("xx") == ac.BY_CODE["feeling"].label("en")


GOOD = {"feeling": "better", "doctor_visit": "no"}


@pytest.mark.parametrize(
    ("raw", "answers", "problems"),
    [
        (GOOD, {"feeling": "better", "symptoms": [], "doctor_visit": "no"}, {}),
        (
            {**GOOD, "symptoms": ["fever", "site"], "anything_else": "  thanks  "},
            {
                "feeling": "better",
                "symptoms": ["site", "fever"],  # the questionnaire's order
                "doctor_visit": "no",
                "anything_else": "thanks",
            },
            {},
        ),
        ({}, {"symptoms": []}, {"feeling": ac.MSG_REQUIRED, "doctor_visit": ac.MSG_REQUIRED}),
        ({**GOOD, "feeling": "   "}, None, {"feeling": ac.MSG_REQUIRED}),
        ({**GOOD, "feeling": "great"}, None, {"feeling": ac.MSG_CHOICE}),
        ({**GOOD, "feeling": ["better", "same"]}, None, {"feeling": ac.MSG_CHOICE}),
        ({**GOOD, "doctor_visit": "maybe"}, None, {"doctor_visit": ac.MSG_CHOICE}),
        ({**GOOD, "symptoms": ["fever", "rash"]}, None, {"symptoms": ac.MSG_CHOICE}),
        # follow-on questions: required when their parent holds, ignored otherwise
        ({**GOOD, "doctor_visit": "yes"}, None, {"doctor_visit_detail": ac.MSG_DETAIL}),
        (
            {**GOOD, "doctor_visit": "yes", "doctor_visit_detail": "GP, a cold"},
            {
                "feeling": "better",
                "symptoms": [],
                "doctor_visit": "yes",
                "doctor_visit_detail": "GP, a cold",
            },
            {},
        ),
        (
            {**GOOD, "doctor_visit_detail": "ignored"},
            {"feeling": "better", "symptoms": [], "doctor_visit": "no"},
            {},
        ),
        ({**GOOD, "symptoms": ["other"]}, None, {"symptoms_other": ac.MSG_DETAIL}),
        (
            {**GOOD, "symptoms": "other", "symptoms_other": "tired"},
            {
                "feeling": "better",
                "symptoms": ["other"],
                "symptoms_other": "tired",
                "doctor_visit": "no",
            },
            {},
        ),
        ({**GOOD, "anything_else": "a\x00b"}, None, {"anything_else": ac.MSG_BAD_TEXT}),
    ],
)
def test_validate_answers(raw, answers, problems):
    clean, found = ac.validate_answers(raw)
    assert {k: p.message for k, p in found.items()} == problems
    if answers is not None:
        assert clean == answers


@pytest.mark.parametrize(
    ("code", "limit"), [("anything_else", ac.TEXT_MAX), ("symptoms_other", 500)]
)
def test_text_length_boundary(code, limit):
    raw = {**GOOD, "symptoms": ["other"], "symptoms_other": "x"}
    clean, found = ac.validate_answers({**raw, code: "字" * limit})
    assert not found and clean[code] == "字" * limit
    clean, found = ac.validate_answers({**raw, code: "字" * (limit + 1)})
    assert found[code].message == ac.MSG_TOO_LONG and found[code].params == {"n": limit}


@pytest.mark.parametrize(
    ("answers", "flags"),
    [
        ({"feeling": "better", "symptoms": [], "doctor_visit": "no"}, []),
        ({"feeling": "same", "symptoms": ["site", "headache"], "doctor_visit": "no"}, []),
        ({"feeling": "worse", "symptoms": [], "doctor_visit": "no"}, [ac.ALERT_WORSE]),
        ({"feeling": "much_worse", "doctor_visit": "no"}, [ac.ALERT_WORSE]),
        ({"feeling": "better", "symptoms": ["fever"], "doctor_visit": "no"}, [ac.ALERT_FEVER]),
        (
            {"feeling": "much_worse", "symptoms": ["fever"], "doctor_visit": "yes"},
            [ac.ALERT_DOCTOR_VISIT, ac.ALERT_WORSE, ac.ALERT_FEVER],
        ),
    ],
)
def test_alerts(answers, flags):
    assert ac.alerts(answers) == flags


def test_answer_lines_in_the_patients_language():
    answers = {"feeling": "worse", "symptoms": ["site", "fever"], "doctor_visit": "no"}
    lines = ac.answer_lines(answers, "zh_Hans")
    assert lines[0] == ("与治疗前相比，您现在感觉如何？", "差一些")
    assert lines[1][1] == "注射部位疼痛、肿胀或发红, 发烧"
    assert lines[2][1] == "否"
    assert ac.answer_lines({"symptoms": []}, "en") == [(ac.BY_CODE["symptoms"].label("en"), "")]


# --------------------------------------------------------------------------- adverse events

KNOWN = date(2027, 4, 10)


@pytest.mark.parametrize(
    ("seriousness", "fatal", "serious", "due"),
    [
        ("death", 7, 15, date(2027, 4, 17)),
        ("life_threatening", 7, 15, date(2027, 4, 17)),
        ("hospitalisation", 7, 15, date(2027, 4, 25)),
        ("disability", 7, 15, date(2027, 4, 25)),
        ("other_serious", 7, 15, date(2027, 4, 25)),
        ("not_serious", 7, 15, None),  # the periodic report
        # the clinic's settings changed
        ("life_threatening", 3, 10, date(2027, 4, 13)),
        ("hospitalisation", 3, 10, date(2027, 4, 20)),
        ("not_serious", 3, 10, None),
    ],
)
def test_report_due_on(seriousness, fatal, serious, due):
    assert ac.report_due_on(seriousness, KNOWN, days_fatal=fatal, days_serious=serious) == due


def test_report_due_on_refuses_an_unknown_category():
    with pytest.raises(ValueError):
        ac.report_due_on("mild", KNOWN, days_fatal=7, days_serious=15)


DUE_ON = KNOWN + timedelta(days=7)


@pytest.mark.parametrize(
    ("due_on", "reported", "today", "clock"),
    [
        (DUE_ON, False, KNOWN, ac.ReportClock(R.DUE, 7)),  # day 7 is the deadline
        (DUE_ON, False, DUE_ON - timedelta(days=1), ac.ReportClock(R.DUE, 1)),
        (DUE_ON, False, DUE_ON, ac.ReportClock(R.DUE_TODAY, 0)),
        (DUE_ON, False, DUE_ON + timedelta(days=1), ac.ReportClock(R.OVERDUE, 1)),  # day 8: late
        (
            KNOWN + timedelta(days=15),
            False,
            KNOWN + timedelta(days=15),
            ac.ReportClock(R.DUE_TODAY, 0),
        ),  # noqa: E501
        (
            KNOWN + timedelta(days=15),
            False,
            KNOWN + timedelta(days=16),
            ac.ReportClock(R.OVERDUE, 1),
        ),  # noqa: E501
        (None, False, KNOWN + timedelta(days=400), ac.ReportClock(R.PERIODIC)),
        (DUE_ON, True, DUE_ON + timedelta(days=30), ac.ReportClock(R.REPORTED)),
        (None, True, KNOWN, ac.ReportClock(R.REPORTED)),
    ],
)
def test_report_clock(due_on, reported, today, clock):
    assert ac.report_clock(due_on, reported, today) == clock


TODAY = date(2027, 4, 12)


@pytest.mark.parametrize(
    ("began", "known", "given", "problems"),
    [
        (TODAY, TODAY, None, {}),
        (date(2027, 4, 1), TODAY, date(2027, 4, 1), {}),  # the day the cells were given
        (None, TODAY, None, {"began_on": ac.MSG_DATE_REQUIRED}),
        (None, None, None, {"began_on": ac.MSG_DATE_REQUIRED, "known_on": ac.MSG_DATE_REQUIRED}),
        (TODAY + timedelta(days=1), TODAY, None, {"began_on": ac.MSG_DATE_FUTURE}),
        (TODAY, TODAY + timedelta(days=1), None, {"known_on": ac.MSG_DATE_FUTURE}),
        (date(2027, 4, 11), date(2027, 4, 10), None, {"began_on": ac.MSG_BEGAN_AFTER_KNOWN}),
        (date(2027, 3, 31), TODAY, date(2027, 4, 1), {"began_on": ac.MSG_BEGAN_BEFORE_GIVEN}),
    ],
)
def test_check_event_dates(began, known, given, problems):
    found = ac.check_event_dates(began, known, TODAY, given_on=given)
    assert {k: p.message for k, p in found.items()} == problems


def test_seriousness_categories_partition():
    assert set(ac.FATAL) | set(ac.SERIOUS) | {ac.NOT_SERIOUS} == set(ac.SERIOUSNESS)
    assert not set(ac.FATAL) & set(ac.SERIOUS)
