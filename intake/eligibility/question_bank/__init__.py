"""The eligibility questionnaire as plain data, and pure helpers to check answers.

The clinic stores a questionnaire as JSON in a versioned row (``QuestionSet.to_dict`` /
``QuestionSet.from_dict``); ``DEFAULT_QUESTION_SET`` is version 1. A phone shows one
``Page`` at a time. Every user-visible text exists in the clinic's languages
(``intake.core.languages``).

Answers are kept as plain JSON values keyed by question code: ``"yes"``/``"no"`` for
yes/no questions, the choice code for choices, an ISO ``YYYY-MM-DD`` string for dates,
an ``int`` or ``float`` for numbers and a string for free text. Unanswered questions are
simply absent.

The package's modules: ``model`` (the dataclasses and their JSON form),
``indications`` (conditions treated, routes), ``default_set`` (version 1's
questions), ``checks`` (is a question set usable) and ``answers`` (which
questions are asked, and checking answers). Import from the package.
"""

from intake.eligibility.question_bank.answers import (
    MSG_CHOICE,
    MSG_DATE_FORMAT,
    MSG_DATE_FUTURE,
    MSG_DATE_TOO_OLD,
    MSG_NUMBER_FORMAT,
    MSG_NUMBER_RANGE,
    MSG_REQUIRED,
    MSG_TEXT_TOO_LONG,
    MSG_YEAR_FORMAT,
    MSG_YEAR_FUTURE,
    MSG_YES_NO,
    progress,
    validate_answers,
    visible_questions,
)
from intake.eligibility.question_bank.checks import (
    QuestionSetInvalid,
    check_question_set,
    load_question_set,
)
from intake.eligibility.question_bank.default_set import DEFAULT_QUESTION_SET
from intake.eligibility.question_bank.indications import (
    INDICATION_OTHER,
    INDICATIONS,
    ROUTE_INTRATHECAL,
    ROUTE_IV,
    ROUTE_LOCAL,
    ROUTES,
    Indication,
    Route,
    indication,
)
from intake.eligibility.question_bank.model import (
    CHOICE,
    DATE,
    DEFAULT_LANGUAGE,
    EARLIEST_DATE,
    KINDS,
    LANGUAGES,
    NO,
    NUMBER,
    TEXT,
    TEXT_MAX_LENGTH,
    UNIT_YEAR,
    YES,
    YES_NO,
    Choice,
    Condition,
    Page,
    Question,
    QuestionSet,
    Texts,
    answer_text,
    is_answered,
)

__all__ = [
    "CHOICE",
    "DATE",
    "DEFAULT_LANGUAGE",
    "DEFAULT_QUESTION_SET",
    "EARLIEST_DATE",
    "INDICATIONS",
    "INDICATION_OTHER",
    "KINDS",
    "LANGUAGES",
    "MSG_CHOICE",
    "MSG_DATE_FORMAT",
    "MSG_DATE_FUTURE",
    "MSG_DATE_TOO_OLD",
    "MSG_NUMBER_FORMAT",
    "MSG_NUMBER_RANGE",
    "MSG_REQUIRED",
    "MSG_TEXT_TOO_LONG",
    "MSG_YEAR_FORMAT",
    "MSG_YEAR_FUTURE",
    "MSG_YES_NO",
    "NO",
    "NUMBER",
    "ROUTES",
    "ROUTE_INTRATHECAL",
    "ROUTE_IV",
    "ROUTE_LOCAL",
    "TEXT",
    "TEXT_MAX_LENGTH",
    "UNIT_YEAR",
    "YES",
    "YES_NO",
    "Choice",
    "Condition",
    "Indication",
    "Page",
    "Question",
    "QuestionSet",
    "QuestionSetInvalid",
    "Route",
    "Texts",
    "answer_text",
    "check_question_set",
    "indication",
    "is_answered",
    "load_question_set",
    "progress",
    "validate_answers",
    "visible_questions",
]
