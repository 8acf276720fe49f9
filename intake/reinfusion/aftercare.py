"""After a reinfusion: follow-up contacts, the patient's short questionnaire
and the adverse-event reporting clocks (DOMAIN step 5 and rule 11). Pure:
no Flask, no database, never reads the clock (``today`` is passed in).

Follow-up contacts
    One contact per number of days in the ``follow_up_days`` setting
    (default 7, 30, 90, 180), counted from the clinic-local day the cells
    were given. A contact is *upcoming* before its day, *due* from its day,
    and *overdue* once ``FOLLOW_UP_GRACE_DAYS`` (7) days have passed since
    its day without being closed (due on the 1st: due on the 1st to the 7th,
    overdue from the 8th). A coordinator closes it as *done* (talked to the
    patient, or read their answers) or *unreachable*. The patient may answer
    the questionnaire once, from the contact's day while it is open.

Adverse events
    The reporting clock starts on the day the clinic learnt of the event
    (``known_on``): death or a life-threatening event must be reported within
    ``ae_report_days_fatal`` days (default 7), hospitalisation, disability or
    another serious event within ``ae_report_days_serious`` (default 15); an
    event that is not serious has no deadline of its own and goes in the
    periodic report.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from intake.core.languages import DEFAULT_LANGUAGE, pick, texts
from intake.core.text import N_

# --------------------------------------------------------------------------- follow-up contacts

#: Days after a contact's day before it counts as overdue.
FOLLOW_UP_GRACE_DAYS = 7
#: Follow-up offsets outside 1 … this many days are ignored (a typing slip).
MAX_FOLLOW_UP_DAYS = 3650


class FollowUpState(enum.StrEnum):
    UPCOMING = "upcoming"
    DUE = "due"
    OVERDUE = "overdue"
    DONE = "done"
    UNREACHABLE = "unreachable"


FOLLOW_UP_STATE_LABELS = {
    FollowUpState.UPCOMING: N_("Upcoming"),
    FollowUpState.DUE: N_("Due"),
    FollowUpState.OVERDUE: N_("Overdue"),
    FollowUpState.DONE: N_("Done"),
    FollowUpState.UNREACHABLE: N_("Unreachable"),
}

#: The order the coordinators' list shows contacts in: work first.
STATE_ORDER = (
    FollowUpState.OVERDUE,
    FollowUpState.DUE,
    FollowUpState.UPCOMING,
    FollowUpState.DONE,
    FollowUpState.UNREACHABLE,
)

#: Stored statuses (``FollowUp.status`` values) that close a contact.
CLOSED_STATUSES = ("done", "unreachable")


def follow_up_schedule(given_on: date, days_after: Iterable[int]) -> list[tuple[int, date]]:
    """``(days_after, due_on)`` for each distinct offset in 1 …
    ``MAX_FOLLOW_UP_DAYS``, earliest first."""
    offsets = sorted({d for d in days_after if 1 <= d <= MAX_FOLLOW_UP_DAYS})
    return [(d, given_on + timedelta(days=d)) for d in offsets]


def follow_up_state(
    due_on: date, status: str, today: date, *, grace_days: int = FOLLOW_UP_GRACE_DAYS
) -> FollowUpState:
    """The contact's state on ``today`` (``status`` is the stored status:
    open, done or unreachable)."""
    if status == "done":
        return FollowUpState.DONE
    if status == "unreachable":
        return FollowUpState.UNREACHABLE
    if today < due_on:
        return FollowUpState.UPCOMING
    if today >= due_on + timedelta(days=grace_days):
        return FollowUpState.OVERDUE
    return FollowUpState.DUE


def can_answer(due_on: date, status: str, answered: bool, today: date) -> bool:
    """The patient may fill in the questionnaire: from the contact's day, while
    it is open, once."""
    return status == "open" and not answered and today >= due_on


# --------------------------------------------------------------------------- the questionnaire

SINGLE = "single"  # one of the options
MULTIPLE = "multiple"  # any of the options (none is an answer too)
YES_NO = "yes_no"
TEXT = "text"

YES, NO = "yes", "no"

TEXT_MAX = 1000


@dataclass(frozen=True)
class Option:
    code: str
    text: Mapping[str, str]

    def label(self, lang: str = DEFAULT_LANGUAGE) -> str:
        return pick(self.text, lang)


@dataclass(frozen=True)
class Question:
    code: str
    kind: str
    required: bool
    text: Mapping[str, str]
    options: tuple[Option, ...] = ()
    help: Mapping[str, str] | None = None
    #: A text question asked only when ``(question, answer)`` holds; then required.
    when: tuple[str, str] | None = None
    max_length: int = TEXT_MAX
    # Whether the answer shows on one line with its parent (layout only).
    follows: bool = field(default=False)

    def label(self, lang: str = DEFAULT_LANGUAGE) -> str:
        return pick(self.text, lang)

    def help_text(self, lang: str = DEFAULT_LANGUAGE) -> str | None:
        return pick(self.help, lang) if self.help else None

    def option(self, code: str) -> Option | None:
        return next((o for o in self.options if o.code == code), None)


FEELING_WORSE = ("worse", "much_worse")

QUESTIONS: tuple[Question, ...] = (
    Question(
        "feeling",
        SINGLE,
        True,
        texts(
            "How do you feel compared with before the treatment?",
            "与治疗前相比，您现在感觉如何？",
            "治療前と比べて、今の体調はいかがですか？",
        ),
        options=(
            Option("much_better", texts("Much better", "好多了", "とても良くなった")),
            Option("better", texts("Better", "好一些", "良くなった")),
            Option("same", texts("About the same", "差不多", "変わらない")),
            Option("worse", texts("Worse", "差一些", "悪くなった")),
            Option("much_worse", texts("Much worse", "差很多", "とても悪くなった")),
        ),
    ),
    Question(
        "symptoms",
        MULTIPLE,
        False,
        texts(
            "Since the last contact, have you had any of these?",
            "自上次联系以来，您是否出现过以下情况？",
            "前回のご連絡以降、次のような症状はありましたか？",
        ),
        help=texts(
            "Tick all that apply. If none, leave them all unticked.",
            "可多选。如果都没有，请不要勾选。",
            "当てはまるものをすべて選んでください。なければ選ばなくて結構です。",
        ),
        options=(
            Option(
                "site",
                texts(
                    "Pain, swelling or redness where the cells were given",
                    "注射部位疼痛、肿胀或发红",
                    "細胞を投与した部位の痛み・腫れ・赤み",
                ),
            ),
            Option("fever", texts("Fever", "发烧", "発熱")),
            Option("headache", texts("Headache", "头痛", "頭痛")),
            Option("other", texts("Something else", "其他不适", "その他")),
        ),
    ),
    Question(
        "symptoms_other",
        TEXT,
        False,
        texts("What else did you notice?", "还有哪些不适？", "その他の症状を教えてください。"),
        when=("symptoms", "other"),
        max_length=500,
        follows=True,
    ),
    Question(
        "doctor_visit",
        YES_NO,
        True,
        texts(
            "Since the last contact, have you seen a doctor or been admitted to hospital?",
            "自上次联系以来，您是否看过医生或住过院？",
            "前回のご連絡以降、医師の診察を受けたり入院したりしましたか？",
        ),
        options=(
            Option(YES, texts("Yes", "是", "はい")),
            Option(NO, texts("No", "否", "いいえ")),
        ),
    ),
    Question(
        "doctor_visit_detail",
        TEXT,
        False,
        texts(
            "What for, and where?",
            "因为什么原因？在哪里？",
            "どのような理由で、どちらの医療機関でしたか？",
        ),
        when=("doctor_visit", YES),
        follows=True,
    ),
    Question(
        "anything_else",
        TEXT,
        False,
        texts(
            "Is there anything else you would like to tell us?",
            "您还有其他想告诉我们的吗？",
            "その他、お伝えになりたいことはありますか？",
        ),
        help=texts(
            "If there is nothing to add, you can leave this empty.",
            "如果没有，可以不填。",
            "特にない場合は、空欄のままで結構です。",
        ),
    ),
)

BY_CODE = {q.code: q for q in QUESTIONS}

MSG_REQUIRED = N_("Please answer this question.")
MSG_CHOICE = N_("Please choose one of the answers offered.")
MSG_TOO_LONG = N_("Please keep this under %(n)s characters.")
MSG_BAD_TEXT = N_("This text contains characters that cannot be stored.")
MSG_DETAIL = N_("Please tell us a little more.")


@dataclass(frozen=True)
class Problem:
    """A message for one question (English, translated by the caller)."""

    message: str
    params: Mapping[str, object] = field(default_factory=dict)


def _values(raw: Mapping[str, object], code: str) -> list[str]:
    value = raw.get(code)
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    return [v.strip() if isinstance(v, str) else "" for v in value]  # type: ignore[union-attr]


def _clean_text(text: str, question: Question) -> tuple[str, Problem | None]:
    text = unicodedata.normalize("NFC", text.strip())
    if "\x00" in text or any(unicodedata.category(c) == "Cs" for c in text):
        return text, Problem(MSG_BAD_TEXT)
    if len(text) > question.max_length:
        return text, Problem(MSG_TOO_LONG, {"n": question.max_length})
    return text, None


def is_asked(question: Question, answers: Mapping[str, object]) -> bool:
    """A follow-on question is asked only when its parent's answer holds."""
    if question.when is None:
        return True
    parent, value = question.when
    given = answers.get(parent)
    return value in given if isinstance(given, list) else given == value


def validate_answers(
    raw: Mapping[str, object],
) -> tuple[dict[str, object], dict[str, Problem]]:
    """Check a submitted questionnaire (``raw``: question code → the submitted
    string or strings). Returns the clean answers (single and yes/no: the
    option code; multiple: the list of codes in the questionnaire's order;
    text: the trimmed text, absent when empty) and a problem per question."""
    answers: dict[str, object] = {}
    problems: dict[str, Problem] = {}
    for q in QUESTIONS:
        values = [v for v in _values(raw, q.code) if v]
        if not is_asked(q, answers):
            continue
        if q.kind in (SINGLE, YES_NO):
            if len(values) > 1 or (values and q.option(values[0]) is None):
                problems[q.code] = Problem(MSG_CHOICE)
            elif values:
                answers[q.code] = values[0]
            elif q.required:
                problems[q.code] = Problem(MSG_REQUIRED)
        elif q.kind == MULTIPLE:
            if any(q.option(v) is None for v in values):
                problems[q.code] = Problem(MSG_CHOICE)
            else:
                answers[q.code] = [o.code for o in q.options if o.code in values]
        else:
            text, problem = _clean_text(" ".join(values), q)
            if problem is not None:
                problems[q.code] = problem
            elif text:
                answers[q.code] = text
            elif q.when is not None:
                problems[q.code] = Problem(MSG_DETAIL)
            elif q.required:
                problems[q.code] = Problem(MSG_REQUIRED)
    return answers, problems


# What in the answers may be an adverse event: the coordinator is alerted.
ALERT_DOCTOR_VISIT = "doctor_visit"
ALERT_WORSE = "worse"
ALERT_FEVER = "fever"

ALERT_LABELS = {
    ALERT_DOCTOR_VISIT: N_("Saw a doctor or was admitted to hospital"),
    ALERT_WORSE: N_("Feels worse than before the treatment"),
    ALERT_FEVER: N_("Had a fever"),
}


def alerts(answers: Mapping[str, object]) -> list[str]:
    """The answers that may mean an adverse event, in a fixed order."""
    found = []
    if answers.get("doctor_visit") == YES:
        found.append(ALERT_DOCTOR_VISIT)
    if answers.get("feeling") in FEELING_WORSE:
        found.append(ALERT_WORSE)
    symptoms = answers.get("symptoms")
    if isinstance(symptoms, list) and "fever" in symptoms:
        found.append(ALERT_FEVER)
    return found


def answer_lines(answers: Mapping[str, object], lang: str) -> list[tuple[str, str]]:
    """``(question, answer)`` in ``lang`` for showing stored answers (none of
    several options ticked shows as an empty string)."""
    lines = []
    for q in QUESTIONS:
        if q.code not in answers:
            continue
        value = answers[q.code]
        if q.kind in (SINGLE, YES_NO):
            option = q.option(str(value))
            shown = option.label(lang) if option else str(value)
        elif q.kind == MULTIPLE:
            codes = value if isinstance(value, list) else []
            shown = ", ".join(o.label(lang) for o in q.options if o.code in codes)
        else:
            shown = str(value)
        lines.append((q.label(lang), shown))
    return lines


# --------------------------------------------------------------------------- adverse events

DEATH = "death"
LIFE_THREATENING = "life_threatening"
HOSPITALISATION = "hospitalisation"
DISABILITY = "disability"
OTHER_SERIOUS = "other_serious"
NOT_SERIOUS = "not_serious"

#: Reported within ``ae_report_days_fatal`` days.
FATAL: tuple[str, ...] = (DEATH, LIFE_THREATENING)
#: Reported within ``ae_report_days_serious`` days.
SERIOUS: tuple[str, ...] = (HOSPITALISATION, DISABILITY, OTHER_SERIOUS)
SERIOUSNESS: tuple[str, ...] = (*FATAL, *SERIOUS, NOT_SERIOUS)


def report_due_on(
    seriousness: str, known_on: date, *, days_fatal: int, days_serious: int
) -> date | None:
    """The last day to report the event; None: the periodic report."""
    if seriousness in FATAL:
        return known_on + timedelta(days=days_fatal)
    if seriousness in SERIOUS:
        return known_on + timedelta(days=days_serious)
    if seriousness == NOT_SERIOUS:
        return None
    raise ValueError(f"unknown seriousness {seriousness!r}")


class ReportState(enum.StrEnum):
    DUE = "due"  # due in N days
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"
    PERIODIC = "periodic"  # no deadline of its own: goes in the periodic report
    REPORTED = "reported"


@dataclass(frozen=True)
class ReportClock:
    state: ReportState
    #: Days left (DUE), 0 (DUE_TODAY), days late (OVERDUE); None otherwise.
    days: int | None = None


def report_clock(due_on: date | None, reported: bool, today: date) -> ReportClock:
    if reported:
        return ReportClock(ReportState.REPORTED)
    if due_on is None:
        return ReportClock(ReportState.PERIODIC)
    left = (due_on - today).days
    if left > 0:
        return ReportClock(ReportState.DUE, left)
    if left == 0:
        return ReportClock(ReportState.DUE_TODAY, 0)
    return ReportClock(ReportState.OVERDUE, -left)


MSG_DATE_REQUIRED = N_("Enter the date.")
MSG_DATE_FUTURE = N_("This date is in the future.")
MSG_BEGAN_AFTER_KNOWN = N_("The event cannot begin after the day the clinic learnt of it.")
MSG_BEGAN_BEFORE_GIVEN = N_("The event cannot begin before the cells were given (%(day)s).")


def check_event_dates(
    began_on: date | None,
    known_on: date | None,
    today: date,
    *,
    given_on: date | None = None,
) -> dict[str, Problem]:
    """Problems with an event's dates, by field (``began_on``, ``known_on``):
    both given, neither in the future, begun on or before the day the clinic
    learnt of it, and not before the administration it follows (when known)."""
    problems: dict[str, Problem] = {}
    for name, day in (("began_on", began_on), ("known_on", known_on)):
        if day is None:
            problems[name] = Problem(MSG_DATE_REQUIRED)
        elif day > today:
            problems[name] = Problem(MSG_DATE_FUTURE)
    if "began_on" not in problems and given_on is not None and began_on < given_on:
        problems["began_on"] = Problem(MSG_BEGAN_BEFORE_GIVEN, {"day": given_on})
    if not problems and began_on > known_on:
        problems["began_on"] = Problem(MSG_BEGAN_AFTER_KNOWN)
    return problems


def sort_follow_ups(rows: Sequence, today: date, key=lambda r: r) -> list:
    """Rows ordered for the coordinators: overdue, due, upcoming, then closed;
    each group by its day. ``key(row)`` gives ``(due_on, status)``."""

    def order(row):
        due_on, status = key(row)
        state = follow_up_state(due_on, status, today)
        return (STATE_ORDER.index(state), due_on)

    return sorted(rows, key=order)
