"""Where a treatment course stands: the steps of the journey, pure.

Takes plain facts about one course (loaded by ``queries.course_journey``) and
answers which steps are done and which one is current. The patient's journey
page, their home page and the staff's patient record all read this, so they
always agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from intake.core.text import N_

ANSWER = "answer"
REVIEW = "review"
CONSULTATION = "consultation"
PANEL = "panel"
APPROVAL = "approval"
CONSENT = "consent"
BOOK = "book"
COLLECTION = "collection"
CULTURE = "culture"
REINFUSION_DATE = "reinfusion_date"
REINFUSION = "reinfusion"
FOLLOW_UP = "follow_up"

ORDER = (
    ANSWER,
    REVIEW,
    CONSULTATION,
    PANEL,
    APPROVAL,
    CONSENT,
    BOOK,
    COLLECTION,
    CULTURE,
    REINFUSION_DATE,
    REINFUSION,
    FOLLOW_UP,
)

STEP_TITLES = {
    ANSWER: N_("Answer the health questions"),
    REVIEW: N_("A doctor reviews your answers"),
    CONSULTATION: N_("Attend your consultation"),
    PANEL: N_("Blood test results"),
    APPROVAL: N_("The doctor's approval"),
    CONSENT: N_("Sign the consent"),
    BOOK: N_("Book your collection visit"),
    COLLECTION: N_("Collection visit: fat tissue and blood"),
    CULTURE: N_("Your cells are growing in the lab"),
    REINFUSION_DATE: N_("Confirm your reinfusion date"),
    REINFUSION: N_("Reinfusion: your cells given back"),
    FOLLOW_UP: N_("Follow-up after the treatment"),
}

#: ``Journey.current`` when the course stopped.
DECLINED = "declined"
HALTED = "halted"
COMPLETED = "completed"

STAGE_TITLES = {
    **STEP_TITLES,
    DECLINED: N_("Declined"),
    HALTED: N_("Halted: consent withdrawn"),
    COMPLETED: N_("Completed"),
}

SUBMITTED_STATES = ("submitted", "approved", "declined")
ACTIVE_VISIT = ("booked", "arrived")


@dataclass(frozen=True)
class CourseFacts:
    """What is known of one course, as plain values."""

    course_status: str = "open"
    questionnaire_status: str | None = None
    has_open_review: bool = False
    consultation_date: date | None = None
    #: What the intake gate still misses (``GateResult.codes``).
    gate_codes: Sequence[str] = ()
    treatment_consent_signed: bool = False
    cross_border_consent_signed: bool = False
    #: The course's collection visit: status and clinic-local day.
    collection_status: str | None = None
    collection_date: date | None = None
    #: First and last day of the incubator place held for the culture.
    culture_place: tuple[date, date] | None = None
    #: The culture batch of that collection: its state (``lifecycle``'s
    #: values), today's culture day and the window (first, last day).
    batch_state: str | None = None
    culture_day: int | None = None
    culture_window: tuple[int, int] = (28, 42)
    #: The reinfusion doses of that batch: confirmed (date locked, not yet
    #: given), given, and still to give (planned, proposed or confirmed).
    doses_confirmed: int = 0
    doses_given: int = 0
    doses_to_give: int = 0
    #: Follow-up contacts after the doses given: all of them, and those open.
    follow_ups: int = 0
    open_follow_ups: int = 0

    @property
    def culture_failed(self) -> bool:
        return self.batch_state in ("failed", "discarded")

    @property
    def cells_ready(self) -> bool:
        return self.batch_state in ("released", "cryopreserved", "administered")

    @property
    def culture_percent(self) -> int:
        """How far the culture is towards the window's last day, 0-100."""
        if self.culture_day is None:
            return 0
        return max(0, min(100, round(100 * self.culture_day / max(self.culture_window[1], 1))))


@dataclass(frozen=True)
class Step:
    code: str
    title: str
    is_done: bool
    is_current: bool


@dataclass(frozen=True)
class Journey:
    current: str
    steps: tuple[Step, ...]
    facts: CourseFacts = field(default_factory=CourseFacts)

    @property
    def title(self) -> str:
        return STAGE_TITLES[self.current]

    @property
    def is_stopped(self) -> bool:
        return self.current in (DECLINED, HALTED)


def journey(facts: CourseFacts, *, today: date) -> Journey:
    status = facts.questionnaire_status
    approved = status == "approved"
    codes = tuple(facts.gate_codes)
    collection_active = facts.collection_status in ACTIVE_VISIT
    # A failed culture asks for a new collection in the same course.
    collected = facts.collection_status == "completed" and not facts.culture_failed
    booked = collection_active or collected
    done = {
        ANSWER: status in SUBMITTED_STATES,
        REVIEW: approved or status == "declined" or facts.has_open_review,
        CONSULTATION: approved
        or (facts.consultation_date is not None and facts.consultation_date <= today),
        PANEL: booked or not any(code.startswith("panel_") for code in codes),
        APPROVAL: approved,
        CONSENT: facts.treatment_consent_signed and facts.cross_border_consent_signed,
        BOOK: booked,
        COLLECTION: collected,
        # Grown: released (or given). A date may be fixed while it grows.
        CULTURE: collected and (facts.cells_ready or facts.doses_given > 0),
        REINFUSION_DATE: collected and (facts.doses_confirmed > 0 or facts.doses_given > 0),
        REINFUSION: collected and facts.doses_given > 0 and facts.doses_to_give == 0,
        FOLLOW_UP: collected
        and facts.doses_given > 0
        and facts.doses_to_give == 0
        and facts.follow_ups > 0
        and facts.open_follow_ups == 0,
    }
    current = next((code for code in ORDER if not done[code]), COMPLETED)
    if facts.course_status == "declined" or status == "declined":
        current = DECLINED
    elif facts.course_status == "halted" or "consent_withdrawn" in codes:
        current = HALTED
    elif facts.course_status == "completed":
        current = COMPLETED
    steps = tuple(Step(code, STEP_TITLES[code], done[code], code == current) for code in ORDER)
    return Journey(current=current, steps=steps, facts=facts)
