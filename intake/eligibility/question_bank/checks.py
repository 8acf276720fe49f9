"""Consistency of a question set (a clinic-edited or stored one). Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from intake.eligibility.question_bank.model import (
    CHOICE,
    KINDS,
    LANGUAGES,
    NO,
    YES,
    YES_NO,
    Question,
    QuestionSet,
    Texts,
)


class QuestionSetInvalid(ValueError):
    """A stored question set that cannot be used; ``problems`` names each fault."""

    def __init__(self, version: Any, problems: tuple[str, ...]):
        self.version = version
        self.problems = tuple(problems)
        super().__init__(
            f"question set version {version} cannot be used: " + "; ".join(self.problems)
        )


def load_question_set(data: Any) -> QuestionSet:
    """A stored definition (the JSON of ``QuestionSet.to_dict``) read and
    checked: ``QuestionSetInvalid`` names what is wrong, whether the JSON is
    malformed (a missing key, a wrong type) or the set is inconsistent."""
    version = data.get("version") if isinstance(data, Mapping) else None
    try:
        if not isinstance(data, Mapping):
            raise TypeError(f"expected an object, got {type(data).__name__}")
        question_set = QuestionSet.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        detail = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
        raise QuestionSetInvalid(version, (f"malformed definition: {detail}",)) from exc
    problems = check_question_set(question_set)
    if problems:
        raise QuestionSetInvalid(question_set.version, problems)
    return question_set


def check_question_set(question_set: QuestionSet) -> tuple[str, ...]:
    """Problems that make a (clinic-edited) question set unusable; empty when fine."""
    problems: list[str] = []
    seen: dict[str, Question] = {}
    page_codes = [page.code for page in question_set.pages]
    if len(set(page_codes)) != len(page_codes):
        problems.append("page codes are not unique")
    for page in question_set.pages:
        problems.extend(_text_problems(f"page {page.code}", page.title))
        for question in page.questions:
            if question.code in seen:
                problems.append(f"question code {question.code} is used twice")
            problems.extend(_question_problems(question, seen))
            seen[question.code] = question
    return tuple(problems)


def _text_problems(where: str, texts: Texts | None) -> list[str]:
    if texts is None:
        return []
    return [f"{where}: no {lang} text" for lang in LANGUAGES if not texts.get(lang, "").strip()]


def _question_problems(question: Question, earlier: Mapping[str, Question]) -> list[str]:
    where = f"question {question.code}"
    problems = _text_problems(where, question.text) + _text_problems(where, question.help)
    if question.kind not in KINDS:
        problems.append(f"{where}: unknown kind {question.kind}")
    if question.kind == CHOICE and not question.choices:
        problems.append(f"{where}: a choice question needs choices")
    for choice in question.choices:
        problems.extend(_text_problems(f"{where} choice {choice.code}", choice.text))
    for condition in question.show_if:
        target = earlier.get(condition.question)
        if target is None:
            problems.append(f"{where}: show_if refers to {condition.question}, not asked before")
        elif not set(condition.values) <= set(_possible_values(target)):
            problems.append(f"{where}: show_if values {condition.values} are not possible")
    return problems


def _possible_values(question: Question) -> tuple[str, ...]:
    if question.kind == YES_NO:
        return (YES, NO)
    return question.choice_codes()
