"""The journey of a course and the staff's worklist lanes: pure, table-driven."""

from datetime import date

import pytest

from intake.patients import journey as j
from intake.patients import worklist as w

TODAY = date(2026, 12, 2)
READY = dict(
    questionnaire_status="approved",
    consultation_date=date(2026, 11, 20),
    treatment_consent_signed=True,
    cross_border_consent_signed=True,
)


@pytest.mark.parametrize(
    ("facts", "current"),
    [
        ({}, j.ANSWER),
        ({"questionnaire_status": "draft"}, j.ANSWER),
        ({"questionnaire_status": "returned"}, j.ANSWER),
        ({"questionnaire_status": "submitted"}, j.REVIEW),
        ({"questionnaire_status": "submitted", "has_open_review": True}, j.CONSULTATION),
        (
            {
                "questionnaire_status": "submitted",
                "has_open_review": True,
                "consultation_date": TODAY,  # the consultation is today: done
                "gate_codes": ("review_not_approved", "panel_missing:HBsAg"),
            },
            j.PANEL,
        ),
        (
            {
                "questionnaire_status": "submitted",
                "has_open_review": True,
                "consultation_date": date(2026, 12, 3),  # tomorrow: still to come
            },
            j.CONSULTATION,
        ),
        (
            {
                "questionnaire_status": "submitted",
                "has_open_review": True,
                "consultation_date": TODAY,
                "gate_codes": ("review_not_approved",),
            },
            j.APPROVAL,
        ),
        (
            {**READY, "treatment_consent_signed": False, "gate_codes": ("consent_missing",)},
            j.CONSENT,
        ),
        ({**READY, "cross_border_consent_signed": False}, j.CONSENT),
        (READY, j.BOOK),
        ({**READY, "collection_status": "booked"}, j.COLLECTION),
        ({**READY, "collection_status": "arrived"}, j.COLLECTION),
        ({**READY, "collection_status": "completed"}, j.CULTURE),
        # A panel that expires after booking does not move the journey back.
        (
            {**READY, "collection_status": "booked", "gate_codes": ("panel_expired:RPR",)},
            j.COLLECTION,
        ),
        ({**READY, "collection_status": "cancelled"}, j.BOOK),
        ({"questionnaire_status": "declined"}, j.DECLINED),
        ({**READY, "course_status": "declined"}, j.DECLINED),
        ({**READY, "course_status": "halted"}, j.HALTED),
        ({**READY, "gate_codes": ("consent_withdrawn",)}, j.HALTED),
        ({**READY, "course_status": "completed"}, j.COMPLETED),
    ],
)
def test_current_step(facts, current):
    journey = j.journey(j.CourseFacts(**facts), today=TODAY)
    assert journey.current == current
    assert journey.title == j.STAGE_TITLES[current]


def test_consent_signed_marks_its_step_done_and_booking_marks_book_done():
    journey = j.journey(j.CourseFacts(**READY, collection_status="booked"), today=TODAY)
    done = {step.code for step in journey.steps if step.is_done}
    assert {j.ANSWER, j.REVIEW, j.CONSULTATION, j.PANEL, j.APPROVAL, j.CONSENT, j.BOOK} <= done
    assert [s.code for s in journey.steps if s.is_current] == [j.COLLECTION]


@pytest.mark.parametrize(
    ("facts", "expiring", "lane"),
    [
        ({}, (), w.ANSWERING),
        ({"questionnaire_status": "submitted"}, (), w.REVIEW),
        ({"questionnaire_status": "submitted", "has_open_review": True}, (), w.REVIEW),
        ({**READY, "gate_codes": ("panel_missing:HBsAg",)}, (), w.PANEL),
        ({**READY, "gate_codes": ("panel_pending:RPR", "consent_missing")}, (), w.PANEL),
        (
            {**READY, "gate_codes": ("consent_missing",), "treatment_consent_signed": False},
            (),
            w.CONSENT,
        ),
        ({**READY, "gate_codes": ("consent_outdated",)}, (), w.CONSENT),
        ({**READY, "gate_codes": ("cross_border_consent_missing",)}, (), w.CONSENT),
        (READY, (), w.READY),
        ({**READY, "collection_status": "booked"}, (), w.BOOKED),
        ({**READY, "collection_status": "booked"}, ("RPR",), w.PANEL_EXPIRING),
        ({**READY, "course_status": "halted"}, (), w.HALTED),
    ],
)
def test_worklist_lane(facts, expiring, lane):
    placement = w.place(j.journey(j.CourseFacts(**facts), today=TODAY), expiring_codes=expiring)
    assert placement is not None and placement.lane == lane
    if lane == w.PANEL_EXPIRING:
        assert placement.reasons == expiring


@pytest.mark.parametrize(
    "facts",
    [
        {"questionnaire_status": "declined"},
        {**READY, "collection_status": "completed"},
        {**READY, "course_status": "completed"},
    ],
)
def test_courses_that_wait_for_nothing_are_not_listed(facts):
    assert w.place(j.journey(j.CourseFacts(**facts), today=TODAY)) is None


@pytest.mark.parametrize(
    ("tested", "expired"),
    [
        (date(2026, 9, 3), False),  # + 90 days = 2 Dec, the visit day: still valid
        (date(2026, 9, 2), True),  # + 90 days = 1 Dec: expired on the visit day
        (None, True),
    ],
)
def test_a_panel_test_expiring_before_the_visit(tested, expired):
    codes = w.expiring_before({"HBsAg": tested}, date(2026, 12, 2), 90)
    assert codes == (("HBsAg",) if expired else ())


COLLECTED = {**READY, "collection_status": "completed"}


@pytest.mark.parametrize(
    ("facts", "current", "done"),
    [
        # Growing, no date yet: the culture is the current step.
        ({**COLLECTED, "batch_state": "in_culture"}, j.CULTURE, set()),
        # A date fixed while the cells grow: that step is done, growing is current.
        (
            {**COLLECTED, "batch_state": "in_culture", "doses_confirmed": 1, "doses_to_give": 1},
            j.CULTURE,
            {j.REINFUSION_DATE},
        ),
        # Released with no date: confirming the date is current.
        (
            {**COLLECTED, "batch_state": "released", "doses_to_give": 1},
            j.REINFUSION_DATE,
            {j.CULTURE},
        ),
        # Released and dated: the reinfusion itself is next.
        (
            {**COLLECTED, "batch_state": "released", "doses_confirmed": 1, "doses_to_give": 1},
            j.REINFUSION,
            {j.CULTURE, j.REINFUSION_DATE},
        ),
        # Dose 1 of 2 given: the reinfusion goes on.
        (
            {
                **COLLECTED,
                "batch_state": "cryopreserved",
                "doses_given": 1,
                "doses_to_give": 1,
                "follow_ups": 4,
                "open_follow_ups": 4,
            },
            j.REINFUSION,
            {j.CULTURE, j.REINFUSION_DATE},
        ),
        # Every dose given: the follow-up contacts are what is left.
        (
            {
                **COLLECTED,
                "batch_state": "administered",
                "doses_given": 2,
                "follow_ups": 8,
                "open_follow_ups": 3,
            },
            j.FOLLOW_UP,
            {j.CULTURE, j.REINFUSION_DATE, j.REINFUSION},
        ),
        # The last contact closed: the course's steps are all done.
        (
            {**COLLECTED, "batch_state": "administered", "doses_given": 1, "follow_ups": 4},
            j.COMPLETED,
            {j.CULTURE, j.REINFUSION_DATE, j.REINFUSION, j.FOLLOW_UP},
        ),
        # A failed culture goes back to booking, whatever was dated.
        (
            {**COLLECTED, "batch_state": "failed", "doses_confirmed": 0},
            j.BOOK,
            set(),
        ),
    ],
)
def test_the_reinfusion_steps(facts, current, done):
    journey = j.journey(j.CourseFacts(**facts), today=TODAY)
    assert journey.current == current
    late = {j.CULTURE, j.REINFUSION_DATE, j.REINFUSION, j.FOLLOW_UP}
    assert {s.code for s in journey.steps if s.is_done} & late == done


@pytest.mark.parametrize("course_status", ["open", "halted"])
@pytest.mark.parametrize(
    "questionnaire_status", [None, "draft", "returned", "submitted", "approved", "declined"]
)
@pytest.mark.parametrize("collection_status", [None, "booked", "arrived", "completed"])
@pytest.mark.parametrize(
    "codes", [(), ("panel_missing:hbsag",), ("consent_treatment",), ("consent_withdrawn",)]
)
def test_a_known_lane_is_the_lane_place_gives(
    course_status, questionnaire_status, collection_status, codes
):
    """The worklist's shortcut never disagrees with the full placement (the
    gate names a withdrawn consent exactly when there is one)."""
    consent_withdrawn = "consent_withdrawn" in codes
    known = w.known_lane(
        course_status,
        questionnaire_status,
        has_collection=collection_status is not None,
        consent_withdrawn=consent_withdrawn,
    )
    facts = j.CourseFacts(
        course_status=course_status,
        questionnaire_status=questionnaire_status,
        gate_codes=codes,
        collection_status=collection_status,
        collection_date=TODAY if collection_status else None,
    )
    if known is not None:
        assert known == w.place(j.journey(facts, today=TODAY))
