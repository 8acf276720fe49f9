"""The questionnaire's structure as plain data: questions, pages, the
versioned question set and its JSON form. Pure."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from intake.core.languages import DEFAULT_LANGUAGE, LANGUAGES
from intake.core.languages import pick as _pick
from intake.core.languages import texts as _t

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "_pick", "_t"]

YES_NO = "yes_no"
CHOICE = "choice"
DATE = "date"
NUMBER = "number"
TEXT = "text"
KINDS: tuple[str, ...] = (YES_NO, CHOICE, DATE, NUMBER, TEXT)

YES = "yes"
NO = "no"

#: A number question whose ``unit`` is "year" holds a calendar year (not after today).
UNIT_YEAR = "year"
TEXT_MAX_LENGTH = 2000
EARLIEST_DATE = date(1900, 1, 1)

Texts = Mapping[str, str]


# --------------------------------------------------------------------------- structure


@dataclass(frozen=True)
class Choice:
    code: str
    text: Texts

    def label(self, lang: str = DEFAULT_LANGUAGE) -> str:
        return _pick(self.text, lang)


@dataclass(frozen=True)
class Condition:
    """``show_if`` part: the answer to ``question`` is one of ``values``."""

    question: str
    values: tuple[str, ...]

    def holds(self, answers: Mapping[str, Any]) -> bool:
        given = answer_text(answers.get(self.question)).lower()
        return any(given == value.lower() for value in self.values)


@dataclass(frozen=True)
class Question:
    code: str
    kind: str
    required: bool
    text: Texts
    help: Texts | None = None
    choices: tuple[Choice, ...] = ()
    #: All conditions must hold for the question to be asked.
    show_if: tuple[Condition, ...] = ()
    min_value: float | None = None
    max_value: float | None = None
    unit: str | None = None

    def label(self, lang: str = DEFAULT_LANGUAGE) -> str:
        return _pick(self.text, lang)

    def help_text(self, lang: str = DEFAULT_LANGUAGE) -> str | None:
        return _pick(self.help, lang) if self.help else None

    def choice_codes(self) -> tuple[str, ...]:
        return tuple(choice.code for choice in self.choices)

    def is_shown(self, answers: Mapping[str, Any]) -> bool:
        return all(condition.holds(answers) for condition in self.show_if)


@dataclass(frozen=True)
class Page:
    code: str
    title: Texts
    questions: tuple[Question, ...]

    def label(self, lang: str = DEFAULT_LANGUAGE) -> str:
        return _pick(self.title, lang)


@dataclass(frozen=True)
class QuestionSet:
    version: int
    pages: tuple[Page, ...]

    def page(self, code: str) -> Page:
        for page in self.pages:
            if page.code == code:
                return page
        raise KeyError(f"no page {code!r} in question set version {self.version}")

    def questions(self) -> Iterator[Question]:
        for page in self.pages:
            yield from page.questions

    def question(self, code: str) -> Question:
        for question in self.questions():
            if question.code == code:
                return question
        raise KeyError(f"no question {code!r} in question set version {self.version}")

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "pages": [_page_to_dict(p) for p in self.pages]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QuestionSet:
        pages = tuple(_page_from_dict(p) for p in data["pages"])
        return cls(version=int(data["version"]), pages=pages)


# --------------------------------------------------------------------------- JSON form


def _question_to_dict(question: Question) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": question.code,
        "kind": question.kind,
        "required": question.required,
        "text": dict(question.text),
    }
    optional = {
        "help": dict(question.help) if question.help else None,
        "choices": [{"code": c.code, "text": dict(c.text)} for c in question.choices],
        "show_if": [{"question": c.question, "in": list(c.values)} for c in question.show_if],
        "min_value": question.min_value,
        "max_value": question.max_value,
        "unit": question.unit,
    }
    data.update({key: value for key, value in optional.items() if value not in (None, [])})
    return data


def _question_from_dict(data: Mapping[str, Any]) -> Question:
    kind = data["kind"]
    if kind not in KINDS:
        raise ValueError(f"unknown question kind {kind!r} for {data.get('code')!r}")
    return Question(
        code=data["code"],
        kind=kind,
        required=bool(data["required"]),
        text=dict(data["text"]),
        help=dict(data["help"]) if data.get("help") else None,
        choices=tuple(Choice(c["code"], dict(c["text"])) for c in data.get("choices", ())),
        show_if=tuple(Condition(c["question"], tuple(c["in"])) for c in data.get("show_if", ())),
        min_value=data.get("min_value"),
        max_value=data.get("max_value"),
        unit=data.get("unit"),
    )


def _page_to_dict(page: Page) -> dict[str, Any]:
    return {
        "code": page.code,
        "title": dict(page.title),
        "questions": [_question_to_dict(q) for q in page.questions],
    }


def _page_from_dict(data: Mapping[str, Any]) -> Page:
    questions = tuple(_question_from_dict(q) for q in data["questions"])
    return Page(code=data["code"], title=dict(data["title"]), questions=questions)


def answer_text(value: Any) -> str:
    """An answer as normalised text: booleans become yes/no, full-width forms are folded."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    return unicodedata.normalize("NFKC", str(value)).strip()


def is_answered(value: Any) -> bool:
    return answer_text(value) != ""
