"""Eligibility rule 1 of the domain, as a table of data-driven rules.

``evaluate`` turns questionnaire answers, the date of birth and the consultation date
into an ``Assessment``: ``ineligible`` if any hard exclusion fired, otherwise
``needs_review`` if any review rule fired, otherwise ``eligible``. Every fired rule is
listed, so the doctor sees them all; the patient reads the kind ``message``.

Date conventions (all exact, no 30-day months or 365-day years):

* Age is the number of birthdays reached on the consultation date. Someone born on
  29 February reaches a birthday on 1 March in non-leap years (a person born on
  2004-02-29 is 20 on 2025-02-28 and 21 on 2025-03-01).
* "Within the last N months" means after the consultation date minus N calendar
  months, where the day is clamped to the end of a shorter month (2025-08-31 minus
  6 months is 2025-02-28). An event exactly N months before is *not* recent.
* Cancer treatment is given as a year. The treatment ended "within N years" when it
  ended after the consultation date minus N years (same clamping). If the whole year
  lies inside that window it is a hard exclusion; if only part of it does, the exact
  date is unknown and a doctor must confirm it (review); if none of it does, the rule
  does not fire. Treatment that ended exactly N years ago does not exclude.

Answers may be clean values (``"yes"``, ISO date strings, ``int`` years) or raw
strings; an answer that cannot be read counts as unanswered, and unanswered safety
questions always lead to a doctor's review, never to a silent "eligible".
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from intake.core.text import N_
from intake.core.time import age_on
from intake.eligibility.question_bank import NO, YES, answer_text

ELIGIBLE = "eligible"
NEEDS_REVIEW = "needs_review"
INELIGIBLE = "ineligible"

EXCLUDE = "exclude"
REVIEW = "review"

DEFAULT_THRESHOLDS: Mapping[str, int] = MappingProxyType(
    {
        "age_min": 20,
        "age_max": 80,
        "malignancy_exclusion_years": 5,
        "recent_cardiac_event_months": 6,
    }
)


# --------------------------------------------------------------------------- dates


def subtract_months(day: date, months: int) -> date:
    """``day`` minus whole calendar months, clamping the day to the month's end."""
    index = day.year * 12 + (day.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --------------------------------------------------------------------------- reading answers

_YEAR_RE = re.compile(r"\d{4}")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def read_yes_no(value: Any) -> bool | None:
    text = answer_text(value).lower()
    return {YES: True, NO: False}.get(text)


def read_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = answer_text(value)
    if not _DATE_RE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def read_year(value: Any) -> int | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = answer_text(value)
    return int(text) if _YEAR_RE.fullmatch(text) else None


def _yes_no_on(value: Any, on: date) -> bool | None:
    return read_yes_no(value)


def read_past_date(value: Any, on: date) -> date | None:
    """A date answer that is not after ``on``; ``None`` if unreadable or in the future."""
    day = read_date(value)
    return day if day is not None and day <= on else None


def read_past_year(value: Any, on: date) -> int | None:
    """A year answer that is not after ``on``'s year; ``None`` otherwise."""
    year = read_year(value)
    return year if year is not None and year <= on.year else None


# --------------------------------------------------------------------------- data types


@dataclass(frozen=True)
class Reason:
    code: str
    severity: str
    #: English, wrapped in ``N_``; may hold ``%(name)s`` placeholders filled from ``params``.
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)
    #: The answers this reason is about, for the doctor's view.
    questions: tuple[str, ...] = ()

    def text(self, translate: Callable[[str], str] | None = None) -> str:
        """The message, translated by ``translate`` (e.g. ``gettext``) and interpolated."""
        message = translate(self.message) if translate else self.message
        return message % self.params if self.params else message


@dataclass(frozen=True)
class Assessment:
    outcome: str
    reasons: tuple[Reason, ...]
    age: int

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(reason.code for reason in self.reasons)


@dataclass(frozen=True)
class RuleContext:
    answers: Mapping[str, Any]
    age: int
    consultation_date: date
    thresholds: Mapping[str, int]
    #: Safety questions that should have an answer but do not (or cannot be read).
    missing: tuple[str, ...]

    def yes(self, code: str) -> bool:
        return read_yes_no(self.answers.get(code)) is True

    def no(self, code: str) -> bool:
        return read_yes_no(self.answers.get(code)) is False


@dataclass(frozen=True)
class Rule:
    code: str
    severity: str
    predicate: Callable[[RuleContext], bool]
    message: str
    #: Related question codes, fixed or computed from the context.
    questions: tuple[str, ...] | Callable[[RuleContext], tuple[str, ...]] = ()
    params: Callable[[RuleContext], Mapping[str, Any]] | None = None

    def check(self, ctx: RuleContext) -> Reason | None:
        if not self.predicate(ctx):
            return None
        questions = self.questions(ctx) if callable(self.questions) else self.questions
        params = dict(self.params(ctx)) if self.params else {}
        return Reason(self.code, self.severity, self.message, params, tuple(questions))


@dataclass(frozen=True)
class RequiredAnswer:
    """A safety answer that must be given (and readable) when all ``when`` pairs hold."""

    code: str
    #: Reads the answer as of the consultation date; ``None`` means missing or unusable.
    reader: Callable[[Any, date], Any]
    when: tuple[tuple[str, str], ...] = ()

    def applies(self, answers: Mapping[str, Any]) -> bool:
        return all(answer_text(answers.get(q)).lower() == v for q, v in self.when)

    def is_missing(self, answers: Mapping[str, Any], consultation_date: date) -> bool:
        return self.reader(answers.get(self.code), consultation_date) is None


# --------------------------------------------------------------------------- the tables

REQUIRED_ANSWERS: tuple[RequiredAnswer, ...] = (
    RequiredAnswer("pregnant_or_breastfeeding", _yes_no_on),
    RequiredAnswer("malignancy_history", _yes_no_on),
    RequiredAnswer("malignancy_active", _yes_no_on, (("malignancy_history", YES),)),
    RequiredAnswer(
        "malignancy_when", read_past_year, (("malignancy_history", YES), ("malignancy_active", NO))
    ),
    RequiredAnswer("active_infection", _yes_no_on),
    RequiredAnswer("allergy_local_anaesthetic", _yes_no_on),
    RequiredAnswer("allergy_bovine_serum", _yes_no_on),
    RequiredAnswer("allergy_antibiotics", _yes_no_on),
    RequiredAnswer("anticoagulant_use", _yes_no_on),
    RequiredAnswer("severe_anaemia", _yes_no_on),
    RequiredAnswer("heart_attack_or_stroke", _yes_no_on),
    RequiredAnswer(
        "heart_attack_or_stroke_date", read_past_date, (("heart_attack_or_stroke", YES),)
    ),
    RequiredAnswer("uncontrolled_hypertension", _yes_no_on),
)

WITHIN = "within"
STRADDLES = "straddles"
OUTSIDE = "outside"


def malignancy_timing(ctx: RuleContext) -> str | None:
    """Where the year treatment ended lies against the exclusion window, if known."""
    year = read_past_year(ctx.answers.get("malignancy_when"), ctx.consultation_date)
    if year is None:
        return None
    years = ctx.thresholds["malignancy_exclusion_years"]
    cutoff = subtract_months(ctx.consultation_date, 12 * years)
    if date(year, 1, 1) > cutoff:
        return WITHIN
    if date(year, 12, 31) > cutoff:
        return STRADDLES
    return OUTSIDE


def _below_min_age(ctx: RuleContext) -> bool:
    return ctx.age < ctx.thresholds["age_min"]


def _above_max_age(ctx: RuleContext) -> bool:
    return ctx.age > ctx.thresholds["age_max"]


def _malignancy_recent(ctx: RuleContext) -> bool:
    if not ctx.yes("malignancy_history"):
        return False
    return ctx.yes("malignancy_active") or (
        ctx.no("malignancy_active") and malignancy_timing(ctx) == WITHIN
    )


def _malignancy_unclear(ctx: RuleContext) -> bool:
    return (
        ctx.yes("malignancy_history")
        and ctx.no("malignancy_active")
        and malignancy_timing(ctx) == STRADDLES
    )


def _culture_allergy(ctx: RuleContext) -> bool:
    return ctx.yes("allergy_bovine_serum") or ctx.yes("allergy_antibiotics")


def _recent_cardiac_event(ctx: RuleContext) -> bool:
    if not ctx.yes("heart_attack_or_stroke"):
        return False
    when = read_past_date(ctx.answers.get("heart_attack_or_stroke_date"), ctx.consultation_date)
    if when is None:
        return False
    months = ctx.thresholds["recent_cardiac_event_months"]
    return when > subtract_months(ctx.consultation_date, months)


def _answered_yes(code: str) -> Callable[[RuleContext], bool]:
    def predicate(ctx: RuleContext) -> bool:
        return ctx.yes(code)

    return predicate


def _age_params(ctx: RuleContext) -> Mapping[str, Any]:
    return {
        "age": ctx.age,
        "age_min": ctx.thresholds["age_min"],
        "age_max": ctx.thresholds["age_max"],
    }


def _years_params(ctx: RuleContext) -> Mapping[str, Any]:
    return {"years": ctx.thresholds["malignancy_exclusion_years"]}


def _months_params(ctx: RuleContext) -> Mapping[str, Any]:
    return {"months": ctx.thresholds["recent_cardiac_event_months"]}


_MALIGNANCY_QUESTIONS = ("malignancy_history", "malignancy_active", "malignancy_when")
_CARDIAC_QUESTIONS = ("heart_attack_or_stroke", "heart_attack_or_stroke_date")

RULES: tuple[Rule, ...] = (
    Rule(
        "age_below_minimum",
        EXCLUDE,
        _below_min_age,
        N_(
            "This treatment is for adults aged %(age_min)s to %(age_max)s on the day of "
            "the consultation. We are sorry that we cannot offer it to you yet."
        ),
        params=_age_params,
    ),
    Rule(
        "age_above_maximum",
        EXCLUDE,
        _above_max_age,
        N_(
            "This treatment is for adults aged %(age_min)s to %(age_max)s on the day of "
            "the consultation. We are sorry that we cannot offer it to you; your own "
            "doctor can talk with you about other options."
        ),
        params=_age_params,
    ),
    Rule(
        "pregnancy_or_breastfeeding",
        EXCLUDE,
        _answered_yes("pregnant_or_breastfeeding"),
        N_(
            "We cannot offer this treatment during pregnancy or while breastfeeding, to "
            "protect you and your baby."
        ),
        questions=("pregnant_or_breastfeeding",),
    ),
    Rule(
        "malignancy_recent",
        EXCLUDE,
        _malignancy_recent,
        N_(
            "For your safety, we cannot offer this treatment to anyone who has had cancer, "
            "or treatment for cancer, within the last %(years)s years. Please keep "
            "following the advice of the doctors who care for you."
        ),
        questions=_MALIGNANCY_QUESTIONS,
        params=_years_params,
    ),
    Rule(
        "active_infection",
        EXCLUDE,
        _answered_yes("active_infection"),
        N_(
            "We cannot start this treatment while you have an infection. Once you have "
            "fully recovered, you are welcome to answer the questions again."
        ),
        questions=("active_infection",),
    ),
    Rule(
        "allergy_local_anaesthetic",
        EXCLUDE,
        _answered_yes("allergy_local_anaesthetic"),
        N_(
            "Taking the small fat sample needs a local anaesthetic such as lidocaine. "
            "Because you have reacted to local anaesthetics before, we cannot offer this "
            "treatment safely."
        ),
        questions=("allergy_local_anaesthetic",),
    ),
    Rule(
        "allergy_culture_materials",
        EXCLUDE,
        _culture_allergy,
        N_(
            "Your cells are grown with materials that can include bovine serum and "
            "antibiotics. Because you are allergic to one of these, we cannot offer this "
            "treatment safely."
        ),
        questions=("allergy_bovine_serum", "allergy_antibiotics"),
    ),
    Rule(
        "malignancy_timing_unclear",
        REVIEW,
        _malignancy_unclear,
        N_(
            "Cancer treatment needs to have finished at least %(years)s years ago. A "
            "doctor will confirm the date with you."
        ),
        questions=_MALIGNANCY_QUESTIONS,
        params=_years_params,
    ),
    Rule(
        "anticoagulant_use",
        REVIEW,
        _answered_yes("anticoagulant_use"),
        N_(
            "You take medicine that thins the blood. A doctor will talk this through with "
            "you before the small procedure. Please do not stop any medicine on your own."
        ),
        questions=("anticoagulant_use", "current_medication"),
    ),
    Rule(
        "severe_anaemia",
        REVIEW,
        _answered_yes("severe_anaemia"),
        N_(
            "About 50 mL of blood is taken during the treatment, so a doctor will first "
            "check your blood count with you."
        ),
        questions=("severe_anaemia",),
    ),
    Rule(
        "recent_cardiac_event",
        REVIEW,
        _recent_cardiac_event,
        N_(
            "You had a heart attack or stroke within the last %(months)s months. A doctor "
            "will talk with you about whether, and when, the treatment is safe for you."
        ),
        questions=_CARDIAC_QUESTIONS,
        params=_months_params,
    ),
    Rule(
        "uncontrolled_hypertension",
        REVIEW,
        _answered_yes("uncontrolled_hypertension"),
        N_(
            "Your blood pressure needs to be well controlled for the procedures. A doctor "
            "will go through this with you."
        ),
        questions=("uncontrolled_hypertension",),
    ),
    Rule(
        "unanswered_safety_questions",
        REVIEW,
        lambda ctx: bool(ctx.missing),
        N_(
            "Some health and safety questions have not been answered yet. A doctor will "
            "go through them with you before anything is decided."
        ),
        questions=lambda ctx: ctx.missing,
    ),
)


# What staff read instead of a rule's code (the doctor's review, the audit trail).
RULE_TITLES: Mapping[str, str] = MappingProxyType(
    {
        "age_below_minimum": N_("Below the minimum age"),
        "age_above_maximum": N_("Above the maximum age"),
        "pregnancy_or_breastfeeding": N_("Pregnant or breastfeeding"),
        "malignancy_recent": N_("Cancer within the exclusion period"),
        "active_infection": N_("Active infection"),
        "allergy_local_anaesthetic": N_("Allergy to local anaesthetic"),
        "allergy_culture_materials": N_("Allergy to culture materials"),
        "malignancy_timing_unclear": N_("Timing of cancer treatment unclear"),
        "anticoagulant_use": N_("Takes blood thinners"),
        "severe_anaemia": N_("Severe anaemia"),
        "recent_cardiac_event": N_("Recent heart attack or stroke"),
        "uncontrolled_hypertension": N_("Uncontrolled high blood pressure"),
        "unanswered_safety_questions": N_("Safety questions unanswered"),
    }
)


def rule_title(code: str) -> str:
    """The rule's name (English, for ``_()``); an unknown code as words."""
    if code in RULE_TITLES:
        return RULE_TITLES[code]
    text = code.replace("_", " ")
    return text[:1].upper() + text[1:]


# --------------------------------------------------------------------------- evaluation


def merged_thresholds(thresholds: Mapping[str, Any] | None) -> dict[str, int]:
    """Defaults overlaid with the clinic's settings, as ints."""
    merged = {
        key: int(value) for key, value in {**DEFAULT_THRESHOLDS, **(thresholds or {})}.items()
    }
    if merged["age_min"] > merged["age_max"]:
        raise ValueError("age_min must not be above age_max")
    if any(value < 0 for value in merged.values()):
        raise ValueError("eligibility thresholds must not be negative")
    return merged


def missing_answers(
    answers: Mapping[str, Any],
    consultation_date: date,
    required: Sequence[RequiredAnswer] = REQUIRED_ANSWERS,
) -> tuple[str, ...]:
    return tuple(
        item.code
        for item in required
        if item.applies(answers) and item.is_missing(answers, consultation_date)
    )


def outcome_of(reasons: Sequence[Reason]) -> str:
    severities = {reason.severity for reason in reasons}
    if EXCLUDE in severities:
        return INELIGIBLE
    if REVIEW in severities:
        return NEEDS_REVIEW
    return ELIGIBLE


def evaluate(
    answers: Mapping[str, Any],
    date_of_birth: date,
    consultation_date: date,
    thresholds: Mapping[str, Any] | None = DEFAULT_THRESHOLDS,
    *,
    rules: Sequence[Rule] = RULES,
    required: Sequence[RequiredAnswer] = REQUIRED_ANSWERS,
) -> Assessment:
    """Apply the rule table; missing threshold keys fall back to ``DEFAULT_THRESHOLDS``."""
    ctx = RuleContext(
        answers=answers,
        age=age_on(date_of_birth, consultation_date),
        consultation_date=consultation_date,
        thresholds=merged_thresholds(thresholds),
        missing=missing_answers(answers, consultation_date, required),
    )
    reasons = tuple(reason for rule in rules if (reason := rule.check(ctx)) is not None)
    return Assessment(outcome=outcome_of(reasons), reasons=reasons, age=ctx.age)
