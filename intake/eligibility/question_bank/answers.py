"""Which questions are asked, and checking the shape of answers. Pure.

``today`` is always passed in (the clinic's today), never read from the clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from intake.core.text import N_
from intake.eligibility.question_bank.model import (
    CHOICE,
    DATE,
    EARLIEST_DATE,
    NO,
    NUMBER,
    TEXT,
    TEXT_MAX_LENGTH,
    UNIT_YEAR,
    YES,
    YES_NO,
    Question,
    QuestionSet,
    answer_text,
    is_answered,
)


def visible_questions(
    question_set: QuestionSet, answers: Mapping[str, Any], page_code: str | None = None
) -> tuple[Question, ...]:
    """Questions to ask, in order, honouring ``show_if``.

    An answer to a hidden question is ignored (as if unanswered), so questions that
    depend on it are hidden too.
    """
    asked: dict[str, Any] = {}
    visible: list[tuple[str, Question]] = []
    for page in question_set.pages:
        for question in page.questions:
            if not question.is_shown(asked):
                continue
            visible.append((page.code, question))
            if is_answered(answers.get(question.code)):
                asked[question.code] = answers[question.code]
    return tuple(q for code, q in visible if page_code is None or code == page_code)


def progress(question_set: QuestionSet, answers: Mapping[str, Any]) -> tuple[int, int]:
    """``(answered_required, total_required)`` over the questions currently asked."""
    required = [q for q in visible_questions(question_set, answers) if q.required]
    answered = sum(1 for q in required if is_answered(answers.get(q.code)))
    return answered, len(required)


MSG_REQUIRED = N_("Please answer this question.")
MSG_YES_NO = N_("Please choose Yes or No.")
MSG_CHOICE = N_("Please choose one of the options.")
MSG_DATE_FORMAT = N_("Please enter the date as year-month-day, for example 2024-03-15.")
MSG_DATE_FUTURE = N_("This date cannot be in the future.")
MSG_DATE_TOO_OLD = N_("Please check this date; it seems too far in the past.")
MSG_NUMBER_FORMAT = N_("Please enter a number using digits only.")
MSG_NUMBER_RANGE = N_("Please check this number; it is outside the range we would expect.")
MSG_YEAR_FORMAT = N_("Please enter a four-digit year, for example 2018.")
MSG_YEAR_FUTURE = N_("This year cannot be in the future.")
MSG_TEXT_TOO_LONG = N_("This answer is too long; please shorten it a little.")

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMBER_RE = re.compile(r"[+-]?\d+(\.\d+)?")
_YEAR_RE = re.compile(r"\d{4}")

_Parsed = tuple[Any, str | None]


def validate_answers(
    question_set: QuestionSet,
    page_code: str,
    raw: Mapping[str, Any],
    *,
    today: date,
    previous: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Check the shape of one page's answers; ``today`` is the clinic's today
    (a date answer may not lie after it).

    ``raw`` is the submitted form (unknown keys are ignored). ``previous`` holds clean
    answers from other pages, for ``show_if`` conditions that look across pages.
    Returns ``(clean, errors)``: ``clean`` has a JSON value for every answered visible
    question of the page (hidden and unanswered questions are absent, so ``clean``
    replaces the page's earlier answers); ``errors`` maps question code to an English
    message wrapped in ``N_``.
    """
    page = question_set.page(page_code)
    own_codes = {q.code for q in page.questions}
    context = {k: v for k, v in (previous or {}).items() if k not in own_codes}
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for question in page.questions:
        if not question.is_shown(context):
            continue
        value, error = _check_one(question, raw.get(question.code), today)
        if error:
            errors[question.code] = error
        elif value is not None:
            clean[question.code] = context[question.code] = value
    return clean, errors


def _check_one(question: Question, raw_value: Any, today: date) -> _Parsed:
    if question.kind == TEXT:
        text = "" if raw_value is None else str(raw_value).strip()
    else:
        text = answer_text(raw_value)
    if not text:
        return None, MSG_REQUIRED if question.required else None
    return _PARSERS[question.kind](question, text, today)


def _parse_yes_no(question: Question, text: str, today: date) -> _Parsed:
    value = text.lower()
    return (value, None) if value in (YES, NO) else (None, MSG_YES_NO)


def _parse_choice(question: Question, text: str, today: date) -> _Parsed:
    return (text, None) if text in question.choice_codes() else (None, MSG_CHOICE)


def _parse_date(question: Question, text: str, today: date) -> _Parsed:
    if not _DATE_RE.fullmatch(text):
        return None, MSG_DATE_FORMAT
    try:
        value = date.fromisoformat(text)
    except ValueError:
        return None, MSG_DATE_FORMAT
    if value > today:
        return None, MSG_DATE_FUTURE
    if value < EARLIEST_DATE:
        return None, MSG_DATE_TOO_OLD
    return value.isoformat(), None


def _parse_number(question: Question, text: str, today: date) -> _Parsed:
    if question.unit == UNIT_YEAR:
        return _parse_year(question, text, today)
    if not _NUMBER_RE.fullmatch(text):
        return None, MSG_NUMBER_FORMAT
    value: int | float = float(text) if "." in text else int(text)
    if not _within(question, value):
        return None, MSG_NUMBER_RANGE
    return value, None


def _parse_year(question: Question, text: str, today: date) -> _Parsed:
    if not _YEAR_RE.fullmatch(text):
        return None, MSG_YEAR_FORMAT
    value = int(text)
    if value > today.year:
        return None, MSG_YEAR_FUTURE
    if not _within(question, value):
        return None, MSG_NUMBER_RANGE
    return value, None


def _within(question: Question, value: float) -> bool:
    low_ok = question.min_value is None or value >= question.min_value
    high_ok = question.max_value is None or value <= question.max_value
    return low_ok and high_ok


def _parse_text(question: Question, text: str, today: date) -> _Parsed:
    return (text, None) if len(text) <= TEXT_MAX_LENGTH else (None, MSG_TEXT_TOO_LONG)


_PARSERS = {
    YES_NO: _parse_yes_no,
    CHOICE: _parse_choice,
    DATE: _parse_date,
    NUMBER: _parse_number,
    TEXT: _parse_text,
}
