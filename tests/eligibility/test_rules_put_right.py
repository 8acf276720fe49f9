"""Issue 7, item 4 "Rules put right": one test (or one table) per rule.

1. the panel must be valid on the visit day, not just today;
2. the intake gate is a property of the kind of visit, whoever books;
3. a hard exclusion is never approved; a doctor corrects a wrong answer (audited);
4. only a doctor accepts panel results;
5. approval needs the consultation date, and age is taken on it;
6. treatment consent only after the consultation;
7. withdrawal cancels every future visit of the course;
8. a new consent version that changes the meaning is signed again before booking;
9. each signature keeps the SHA-256 fingerprint of the text shown.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, time, timedelta
from html import unescape
from types import SimpleNamespace

import pytest
from sqlalchemy import delete, func, select

from intake.accounts.roles import Role
from intake.core import settings
from intake.core.errors import DomainError, NotAllowed
from intake.core.types import utcnow
from intake.eligibility import queries, services
from intake.eligibility.demo import (
    ELIGIBLE_ANSWERS,
    INELIGIBLE_ANSWERS,
    NEEDS_REVIEW_ANSWERS,
    sign_all,
)
from intake.eligibility.gate import collection_gate
from intake.eligibility.models import (
    ConsentKind,
    ConsentSignature,
    Decision,
    Outcome,
    PanelResult,
    QuestionnaireStatus,
)
from intake.extensions import db
from intake.notifications.models import Message
from intake.patients.models import CourseStatus
from intake.scheduling import queries as scheduling_queries
from intake.scheduling import services as booking
from intake.scheduling.demo import seed_scheduling
from intake.scheduling.models import Appointment, AppointmentStatus, Closure, Hold
from tests.conftest import PASSWORD, log_in
from tests.eligibility.conftest import current
from tests.helpers import course_of

TUESDAY = 1

# --------------------------------------------------------------------------- helpers


class Clinic:
    """The seeded clinic's calendar: open days and times in the clinic's zone."""

    def __init__(self):
        self.cal = scheduling_queries.clinic_calendar()

    @property
    def today(self) -> date:
        return self.cal.today(utcnow())

    def _is_open(self, day: date) -> bool:
        return day not in self.cal.holidays(day, day) and bool(self.cal.units_of_day(day))

    def day(self, *, min_days: int = 4, weekday: int | None = None) -> date:
        """The first open day at least ``min_days`` ahead (on ``weekday``)."""
        day = self.today + timedelta(days=min_days)
        for _ in range(60):
            if self._is_open(day) and weekday in (None, day.weekday()):
                return day
            day += timedelta(days=1)
        raise AssertionError("no open day in the next 60 days")

    def past_day(self) -> date:
        """The last open day before today."""
        day = self.today - timedelta(days=1)
        for _ in range(30):
            if self._is_open(day):
                return day
            day -= timedelta(days=1)
        raise AssertionError("no open day in the last 30 days")

    def at(self, day: date, hhmm: str) -> datetime:
        local = datetime.combine(day, time.fromisoformat(hhmm), tzinfo=self.cal.tz)
        return local.astimezone(UTC)


@pytest.fixture
def clinic(app):
    """The demo resources and visit types, no bookings and no closures."""
    settings.seed_defaults()
    seed_scheduling(password=PASSWORD, with_bookings=False)
    db.session.execute(delete(Closure))
    db.session.commit()
    return Clinic()


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER)


def _panel_codes() -> list[str]:
    return [item.code for item in queries.panel_items()]


def _enter_all_results(patient, *, actor, test_date: date) -> None:
    for code in _panel_codes():
        services.enter_panel_result(
            patient.patient,
            actor=actor,
            item_code=code,
            test_date=test_date,
            result="Negative",
            acceptable=True,
        )


def _notes(record, doctor, **changes):
    fields = {
        "history_notes": "Consultation: treatment, effect, risks and cost explained.",
        "consultation_date": services.clinic_today(),
        "indication_code": "knee_oa",
        "planned_route": "local",
        **changes,
    }
    return services.save_review_notes(record, actor=doctor, **fields)


def _approve(record, doctor, *, password=PASSWORD, override_reason=None):
    return services.decide_review(
        record,
        actor=doctor,
        decision=Decision.APPROVED,
        reason="Suitable after the consultation.",
        password=password,
        override_reason=override_reason,
    )


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _sign(user, kind: ConsentKind, **kwargs) -> ConsentSignature:
    document = queries.document_for(kind, user.locale)
    return services.sign_consent(
        user.patient, document, actor=user, password=kwargs.pop("password", PASSWORD), **kwargs
    )


def _problems(exc: DomainError) -> list[tuple[str | None, str]]:
    """Every (field, message) a refusal reports: one error, or several at once."""
    errors = getattr(exc, "errors", None)
    if isinstance(errors, dict):
        return list(errors.items())
    if errors:
        return [(error.field, error.message) for error in errors]
    return [(exc.field, exc.message)]


def _count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def _gate(user, **kwargs):
    return queries.collection_gate_for(
        course_of(user), today=kwargs.pop("today", services.clinic_today()), **kwargs
    )


def _publish_treatment(manager, *, changes_meaning: bool, locale: str = "en"):
    return services.publish_consent_document(
        actor=manager,
        kind=ConsentKind.TREATMENT,
        locale=locale,
        title="Treatment with your own stem cells (revised)",
        body="What the treatment is, its effects, risks, alternatives and cost, revised.",
        changes_meaning=changes_meaning,
    )


# ------------------------------------------- 1. the panel is valid on the visit day

TODAY = date(2025, 6, 16)
TESTED = TODAY - timedelta(days=10)
ITEMS = ("HBsAg", "anti-HCV")


def _pure_gate(*, test_date: date, visit_date: date | None, validity: int = 90):
    return collection_gate(
        review_status="approved",
        panel_results={code: {"test_date": test_date, "acceptable": True} for code in ITEMS},
        panel_items=ITEMS,
        panel_validity_days=validity,
        consent_signed=True,
        consent_withdrawn=False,
        cross_border_consent_signed=True,
        today=TODAY,
        visit_date=visit_date,
    )


EXPIRED = tuple(f"panel_expired:{code}" for code in ITEMS)


@pytest.mark.parametrize(
    ("test_date", "visit_date", "validity", "codes"),
    [
        pytest.param(TESTED, TESTED + timedelta(days=90), 90, (), id="visit-on-day-90-valid"),
        pytest.param(TESTED, TESTED + timedelta(days=91), 90, EXPIRED, id="visit-on-day-91"),
        pytest.param(TESTED, TESTED + timedelta(days=30), 30, (), id="setting-30-day-30"),
        pytest.param(TESTED, TESTED + timedelta(days=31), 30, EXPIRED, id="setting-30-day-31"),
        pytest.param(TODAY - timedelta(days=90), None, 90, (), id="no-visit-today-is-day-90"),
        pytest.param(TODAY - timedelta(days=91), None, 90, EXPIRED, id="no-visit-today-is-day-91"),
        pytest.param(
            TODAY - timedelta(days=91),
            TODAY - timedelta(days=3),
            90,
            EXPIRED,
            id="visit-in-the-past-checked-on-today",
        ),
        pytest.param(TODAY, TODAY, 90, (), id="tested-today-visit-today"),
    ],
)
def test_panel_validity_is_checked_on_the_visit_day(test_date, visit_date, validity, codes):
    assert _pure_gate(test_date=test_date, visit_date=visit_date, validity=validity).codes == codes


@pytest.mark.parametrize(("days_before_visit", "allowed"), [(90, True), (91, False)])
def test_booking_a_collection_needs_the_panel_valid_on_the_visit_day(
    clinic, make_approved, doctor, coordinator, days_before_visit, allowed
):
    patient = make_approved()
    day = clinic.day(min_days=10)
    _enter_all_results(patient, actor=doctor, test_date=day - timedelta(days=days_before_visit))
    sign_all(patient, password=PASSWORD)
    db.session.commit()
    assert _gate(patient).allowed  # valid today either way: the visit day decides
    start = clinic.at(day, "13:00")
    if allowed:
        booked = booking.book_visit(patient.patient, "collection", start, actor=coordinator)
        assert booked.status == AppointmentStatus.BOOKED
        return
    with pytest.raises(booking.GateClosed) as refused:
        booking.book_visit(patient.patient, "collection", start, actor=coordinator)
    codes = tuple(item.code for item in refused.value.missing)
    assert codes == tuple(f"panel_expired:{code}" for code in _panel_codes())


def test_moving_a_collection_past_the_panel_expiry_is_refused(
    clinic, make_approved, doctor, coordinator
):
    patient = make_approved()
    day = clinic.day(min_days=10)
    _enter_all_results(patient, actor=doctor, test_date=day - timedelta(days=90))
    sign_all(patient, password=PASSWORD)
    appointment = booking.book_visit(
        patient.patient, "collection", clinic.at(day, "13:00"), actor=coordinator
    )
    db.session.commit()
    later = clinic.day(min_days=(day - clinic.today).days + 1)
    with pytest.raises(booking.GateClosed) as refused:
        booking.reschedule_visit(appointment, clinic.at(later, "13:00"), actor=coordinator)
    assert {m.code.split(":")[0] for m in refused.value.missing} == {"panel_expired"}


# ------------------------------------------- 2. the gate follows the kind, whoever books

GATED = [
    ("collection", Role.PATIENT),
    ("collection", Role.COORDINATOR),
    ("collection", Role.DOCTOR),
    ("reinfusion-iv", Role.DOCTOR),
    ("reinfusion-local", Role.COORDINATOR),
]  # managers do not book at all (tests/manager/test_read_only.py)


@pytest.mark.parametrize(("code", "role"), GATED, ids=lambda v: str(v))
def test_gated_kinds_refuse_a_patient_without_approval_whoever_books(
    clinic, make_submitted, make_user, code, role
):
    patient = make_submitted()  # answers sent, nothing approved
    actor = patient if role == Role.PATIENT else make_user(role)
    start = clinic.at(clinic.day(weekday=TUESDAY), "13:00")
    with pytest.raises(booking.GateClosed) as refused:
        booking.book_visit(patient.patient, code, start, actor=actor)
    assert "review_not_approved" in {m.code for m in refused.value.missing}


def test_a_refused_gated_booking_writes_nothing(clinic, make_submitted, coordinator):
    patient = make_submitted()
    start = clinic.at(clinic.day(weekday=TUESDAY), "13:00")
    with pytest.raises(booking.GateClosed):
        booking.book_visit(patient.patient, "collection", start, actor=coordinator)
    db.session.rollback()
    assert (_count(Appointment), _count(Hold)) == (0, 0)


def test_staff_booking_is_refused_until_the_whole_gate_is_open(clinic, make_approved, coordinator):
    patient = make_approved()  # approved, but no panel results and no consent
    start = clinic.at(clinic.day(weekday=TUESDAY), "13:00")
    with pytest.raises(booking.GateClosed) as refused:
        booking.book_visit(patient.patient, "collection", start, actor=coordinator)
    codes = {m.code for m in refused.value.missing}
    assert {f"panel_missing:{code}" for code in _panel_codes()} | {
        "consent_missing",
        "cross_border_consent_missing",
    } == codes


# ------------------------------------------- 3. hard exclusions; corrected answers

ALLERGIC = {**ELIGIBLE_ANSWERS, "allergy_local_anaesthetic": "yes"}


@pytest.mark.parametrize(
    ("answers", "outcome", "override_reason", "refused_field"),
    [
        pytest.param(ELIGIBLE_ANSWERS, Outcome.ELIGIBLE, None, None, id="eligible"),
        pytest.param(
            NEEDS_REVIEW_ANSWERS,
            Outcome.NEEDS_REVIEW,
            "Anticoagulant paused for the procedure.",
            None,
            id="needs-review-with-reason",
        ),
        pytest.param(
            NEEDS_REVIEW_ANSWERS,
            Outcome.NEEDS_REVIEW,
            None,
            "override_reason",
            id="needs-review-without-reason",
        ),
        pytest.param(
            INELIGIBLE_ANSWERS,
            Outcome.INELIGIBLE,
            "The patient insists.",
            "decision",
            id="ineligible-with-reason",
        ),
        pytest.param(ALLERGIC, Outcome.INELIGIBLE, None, "decision", id="ineligible-no-reason"),
    ],
)
def test_approval_by_rules_outcome(
    make_submitted, doctor, answers, outcome, override_reason, refused_field
):
    record = current(make_submitted(answers))
    assert record.outcome == outcome
    _notes(record, doctor)
    if refused_field is None:
        review = _approve(record, doctor, override_reason=override_reason)
        assert review.decision == Decision.APPROVED
        assert review.is_override is (outcome == Outcome.NEEDS_REVIEW)
        return
    with pytest.raises(DomainError) as refused:
        _approve(record, doctor, override_reason=override_reason)
    assert [field for field, _ in _problems(refused.value)] == [refused_field]
    assert record.status == QuestionnaireStatus.SUBMITTED


def test_a_hard_exclusion_says_to_correct_the_answer_instead(make_submitted, doctor):
    record = current(make_submitted(ALLERGIC))
    _notes(record, doctor)
    with pytest.raises(DomainError) as refused:
        _approve(record, doctor, override_reason="The patient insists.")
    (problem,) = _problems(refused.value)
    assert problem[0] == "decision" and "hard exclusion cannot be approved" in problem[1]


def test_a_corrected_answer_reruns_the_rules(make_submitted, doctor):
    record = current(make_submitted(ALLERGIC))
    assert record.outcome == Outcome.INELIGIBLE
    services.correct_answer(
        record,
        actor=doctor,
        question_code="allergy_local_anaesthetic",
        value="no",
        reason="It was a faint after an injection, not an allergy.",
    )
    assert record.answers["allergy_local_anaesthetic"] == "no"
    assert (record.outcome, record.reasons) == (Outcome.ELIGIBLE, [])


def test_a_correction_is_audited_with_before_after_and_reason(make_submitted, doctor, audit_rows):
    patient = make_submitted(ALLERGIC)
    services.correct_answer(
        current(patient),
        actor=doctor,
        question_code="allergy_local_anaesthetic",
        value="no",
        reason="It was a faint after an injection, not an allergy.",
    )
    (row,) = audit_rows("eligibility.answer_corrected", patient_id=patient.patient.id)
    assert row.actor_id == doctor.id
    assert (row.before["answer"], row.before["outcome"]) == ("yes", "ineligible")
    assert (row.after["answer"], row.after["outcome"]) == ("no", "eligible")
    assert "allergy_local_anaesthetic" in row.before["reasons"]
    assert "It was a faint after an injection, not an allergy." in row.note


def test_after_a_correction_the_doctor_can_approve(make_submitted, doctor):
    record = current(make_submitted(ALLERGIC))
    services.correct_answer(
        record,
        actor=doctor,
        question_code="allergy_local_anaesthetic",
        value="no",
        reason="Confirmed with the patient: never reacted to lidocaine.",
    )
    _notes(record, doctor)
    assert _approve(record, doctor).decision == Decision.APPROVED


def test_a_coordinator_may_not_correct_an_answer(make_submitted, coordinator, audit_rows):
    patient = make_submitted(ALLERGIC)
    with pytest.raises(NotAllowed):
        services.correct_answer(
            current(patient),
            actor=coordinator,
            question_code="allergy_local_anaesthetic",
            value="no",
            reason="Told at the desk.",
        )
    assert current(patient).outcome == Outcome.INELIGIBLE
    assert audit_rows("eligibility.answer_corrected") == []


@pytest.mark.parametrize(
    ("question_code", "value"),
    [
        pytest.param("allergy_local_anaesthetic", "maybe", id="not-yes-or-no"),
        pytest.param("allergy_local_anaesthetic", "", id="required-left-empty"),
        pytest.param("allergy_local_anaesthetic", "yes", id="unchanged"),
        pytest.param("height_cm", "tall", id="not-a-number"),
        pytest.param("no_such_question", "no", id="unknown-question"),
    ],
)
def test_an_invalid_correction_is_refused_on_the_value(
    make_submitted, doctor, audit_rows, question_code, value
):
    patient = make_submitted(ALLERGIC)
    with pytest.raises(DomainError) as refused:
        services.correct_answer(
            current(patient),
            actor=doctor,
            question_code=question_code,
            value=value,
            reason="Checked with the patient.",
        )
    assert refused.value.field == "value"
    assert current(patient).answers["allergy_local_anaesthetic"] == "yes"
    assert audit_rows("eligibility.answer_corrected") == []


def test_the_correction_page_works_for_a_doctor(client, make_submitted, doctor):
    patient = make_submitted(ALLERGIC)
    record = current(patient)
    log_in(client, doctor)
    url = f"/reviews/{record.id}/answers/allergy_local_anaesthetic"
    with client.get(url) as page:
        assert page.status_code == 200
        assert 'name="value"' in page.get_data(as_text=True)
    data = {"value": "no", "reason": "A faint at the dentist, not an allergy."}
    with client.post(url, data=data) as response:
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/reviews/{record.id}")
    db.session.expire_all()
    assert current(patient).outcome == Outcome.ELIGIBLE


@pytest.mark.parametrize("method", ["get", "post"])
def test_the_correction_page_is_closed_to_a_coordinator(
    client, make_submitted, coordinator, method
):
    record = current(make_submitted(ALLERGIC))
    log_in(client, coordinator)
    url = f"/reviews/{record.id}/answers/allergy_local_anaesthetic"
    data = {"value": "no", "reason": "Told at the desk."} if method == "post" else None
    with getattr(client, method)(url, data=data) as response:
        assert response.status_code == 403


# ------------------------------------------- 4. only a doctor accepts panel results


@pytest.mark.parametrize(
    ("role", "acceptable", "refused"),
    [
        (Role.COORDINATOR, True, True),
        (Role.COORDINATOR, False, True),
        (Role.COORDINATOR, None, False),
        (Role.DOCTOR, True, False),
        (Role.DOCTOR, False, False),
        (Role.DOCTOR, None, False),
    ],
    ids=lambda v: str(v),
)
def test_only_a_doctor_judges_a_panel_result(
    make_approved, doctor, coordinator, role, acceptable, refused
):
    patient = make_approved()
    actor = doctor if role == Role.DOCTOR else coordinator
    enter = {
        "actor": actor,
        "item_code": "HBsAg",
        "test_date": services.clinic_today(),
        "result": "Negative",
        "acceptable": acceptable,
    }
    if refused:
        with pytest.raises(DomainError) as caught:
            services.enter_panel_result(patient.patient, **enter)
        assert caught.value.field == "acceptable"
        assert _count(PanelResult) == 0
        return
    row = services.enter_panel_result(patient.patient, **enter)
    assert (row.acceptable, row.entered_by_id) == (acceptable, actor.id)


# ------------------------------------------- 5. approval needs the consultation date


@pytest.mark.parametrize(
    ("consultation_offset", "allowed"),
    [
        pytest.param(None, False, id="not-recorded"),
        pytest.param(1, False, id="tomorrow"),
        pytest.param(0, True, id="today"),
        pytest.param(-1, True, id="yesterday"),
    ],
)
def test_approval_needs_a_consultation_that_took_place(
    make_submitted, doctor, consultation_offset, allowed
):
    record = current(make_submitted())
    day = (
        None
        if consultation_offset is None
        else services.clinic_today() + timedelta(days=consultation_offset)
    )
    _notes(record, doctor, consultation_date=day)
    if allowed:
        assert _approve(record, doctor).decision == Decision.APPROVED
        return
    with pytest.raises(DomainError) as refused:
        _approve(record, doctor)
    assert [
        (field, "consultation date" in message) for field, message in _problems(refused.value)
    ] == [("decision", True)]


def test_age_is_taken_on_the_consultation_day(make_submitted, doctor):
    today = services.clinic_today()
    consultation = today - timedelta(days=10)
    born = _years_before(today - timedelta(days=5), 81)  # 81st birthday 5 days ago
    patient = make_submitted(date_of_birth=born)
    record = current(patient)
    assert (record.assessed_age, record.outcome) == (81, Outcome.INELIGIBLE)  # on today
    record.submitted_at = utcnow() - timedelta(days=30)  # answers sent a month ago
    _notes(record, doctor, consultation_date=consultation)
    review = _approve(record, doctor)
    assert review.decision == Decision.APPROVED
    assert (record.assessed_age, record.outcome) == (80, Outcome.ELIGIBLE)
    assert record.consultation_date == consultation


def test_every_decision_error_is_reported_at_once(make_submitted, doctor):
    record = current(make_submitted())
    _notes(record, doctor, indication_code=None, planned_route=None)
    with pytest.raises(DomainError) as refused:
        _approve(record, doctor, password="wrong-password")
    problems = _problems(refused.value)
    assert {field for field, _ in problems} == {"decision", "password"}
    assert any(field == "decision" and "indication" in text for field, text in problems)


# ------------------------------------------- 6. treatment consent after the consultation


@pytest.mark.parametrize(
    ("consultation_offset", "allowed"),
    [
        pytest.param("no-review", False, id="no-review"),
        pytest.param(None, False, id="review-without-date"),
        pytest.param(1, False, id="consultation-tomorrow"),
        pytest.param(0, True, id="consultation-today"),
        pytest.param(-1, True, id="consultation-yesterday"),
    ],
)
def test_treatment_consent_follows_the_consultation(
    make_submitted, doctor, consultation_offset, allowed
):
    patient = make_submitted()
    if consultation_offset != "no-review":
        day = (
            None
            if consultation_offset is None
            else services.clinic_today() + timedelta(days=consultation_offset)
        )
        _notes(current(patient), doctor, consultation_date=day)
    if allowed:
        assert _sign(patient, ConsentKind.TREATMENT).kind == ConsentKind.TREATMENT
        return
    with pytest.raises(DomainError) as refused:
        _sign(patient, ConsentKind.TREATMENT)
    assert refused.value.code == "consultation_first"
    assert _count(ConsentSignature) == 0


def test_cross_border_consent_may_be_signed_before_the_consultation(make_submitted):
    patient = make_submitted()
    assert _sign(patient, ConsentKind.CROSS_BORDER).kind == ConsentKind.CROSS_BORDER


# ------------------------------------------- 7. withdrawal cancels the course's future visits


@pytest.fixture
def booked(clinic, make_ready, coordinator):
    """A ready patient with a past visit the desk has not closed yet, and a
    future consultation and collection booked by the desk."""
    patient = make_ready()
    past = booking.record_past_visit(
        patient.patient,
        "consultation",
        clinic.at(clinic.past_day(), "10:00"),
        actor=coordinator,
        status=AppointmentStatus.BOOKED,
        note="Consultation not yet closed by the desk.",
    )
    day = clinic.day(weekday=TUESDAY)
    consultation = booking.book_visit(
        patient.patient, "consultation", clinic.at(day, "10:00"), actor=coordinator
    )
    collection = booking.book_visit(
        patient.patient, "collection", clinic.at(day, "13:00"), actor=coordinator
    )
    db.session.commit()
    return SimpleNamespace(user=patient, past=past, future=(consultation, collection))


REASON = "I would like to think about it longer with my family."


def _withdraw(booked, kind: ConsentKind = ConsentKind.TREATMENT) -> None:
    user = booked.user
    services.withdraw_consent(user.patient, kind, actor=user, reason=REASON)
    db.session.commit()


@pytest.mark.parametrize("kind", list(ConsentKind), ids=lambda k: k.value)
def test_withdrawal_cancels_each_future_visit_with_the_reason(booked, kind):
    _withdraw(booked, kind)
    for appointment in booked.future:
        assert appointment.status == AppointmentStatus.CANCELLED
        assert "Consent withdrawn" in appointment.cancel_reason
        assert REASON in appointment.cancel_reason


def test_withdrawal_frees_the_holds_and_the_culture_place(booked):
    course = course_of(booked.user)
    future = booked.future
    assert db.session.execute(select(Hold.id).where(Hold.course_id == course.id)).first()
    _withdraw(booked)
    held = db.session.execute(
        select(Hold.id).where(
            (Hold.appointment_id.in_([a.id for a in future])) | (Hold.course_id == course.id)
        )
    ).all()
    assert held == []


def test_withdrawal_leaves_a_past_visit_alone(booked):
    past = booked.past
    holds_before = db.session.execute(
        select(func.count()).where(Hold.appointment_id == past.id)
    ).scalar_one()
    _withdraw(booked)
    assert past.status == AppointmentStatus.BOOKED and past.cancel_reason is None
    held = db.session.execute(
        select(func.count()).where(Hold.appointment_id == past.id)
    ).scalar_one()
    assert held == holds_before > 0


def test_withdrawal_halts_the_course(booked):
    _withdraw(booked)
    course = course_of(booked.user)
    assert course.status == CourseStatus.HALTED
    assert queries.course_journey(course, today=services.clinic_today())["journey"].is_stopped


def test_withdrawal_tells_the_patient_and_every_active_coordinator(booked, coordinator, make_user):
    second = make_user(Role.COORDINATOR)
    make_user(Role.COORDINATOR, is_active=False)
    first_new = (db.session.execute(select(func.max(Message.id))).scalar_one() or 0) + 1
    _withdraw(booked)
    messages = db.session.execute(
        select(Message).where(Message.id >= first_new).order_by(Message.id)
    ).scalars()
    sent = [(m.template, m.patient_id, m.user_id) for m in messages]
    patient_id = booked.user.patient.id
    told_patient = sorted(t for t, p, u in sent if p == patient_id)
    assert told_patient == [
        "eligibility_consent_withdrawn",
        "visit_cancelled",
        "visit_cancelled",
    ]
    desk = sorted(u for t, p, u in sent if t == "desk_consent_withdrawn")
    assert desk == sorted([coordinator.id, second.id])


# ------------------------------------------- 8. a new version that changes the meaning


def test_a_meaning_change_closes_the_gate_until_signed_again(make_ready, manager):
    patient = make_ready()
    _publish_treatment(manager, changes_meaning=True)
    db.session.commit()
    gate = _gate(patient)
    assert (gate.allowed, gate.codes) == (False, ("consent_outdated",))


def test_signing_the_new_version_opens_the_gate_again(make_ready, manager):
    patient = make_ready()
    new = _publish_treatment(manager, changes_meaning=True)
    signature = _sign(patient, ConsentKind.TREATMENT)
    assert signature.version == new.version
    assert _gate(patient).allowed


def test_a_wording_fix_does_not_close_the_gate(make_ready, manager):
    patient = make_ready()
    _publish_treatment(manager, changes_meaning=False)
    assert _gate(patient).allowed


def test_the_journey_asks_for_the_new_signature_before_collection(make_ready, manager):
    patient = make_ready()
    _publish_treatment(manager, changes_meaning=True)
    journey = queries.course_journey(course_of(patient), today=services.clinic_today())
    assert journey["consent_outdated"] is True
    assert "consent_outdated" in journey["gate"].codes


def test_a_patient_with_a_booked_collection_is_not_asked_again(
    clinic, make_ready, coordinator, manager
):
    patient = make_ready()
    booking.book_visit(
        patient.patient,
        "collection",
        clinic.at(clinic.day(weekday=TUESDAY), "13:00"),
        actor=coordinator,
    )
    _publish_treatment(manager, changes_meaning=True)
    journey = queries.course_journey(course_of(patient), today=services.clinic_today())
    assert journey["consent_outdated"] is False
    assert "consent_outdated" not in journey["gate"].codes


def test_a_booked_collection_can_still_be_moved_after_a_meaning_change(
    clinic, make_ready, coordinator, manager
):
    patient = make_ready()
    day = clinic.day(weekday=TUESDAY)
    appointment = booking.book_visit(
        patient.patient, "collection", clinic.at(day, "13:00"), actor=coordinator
    )
    _publish_treatment(manager, changes_meaning=True)
    later = clinic.day(min_days=(day - clinic.today).days + 1)
    moved = booking.reschedule_visit(appointment, clinic.at(later, "13:00"), actor=coordinator)
    assert clinic.cal.local_date(moved.start_at) == later


def test_a_new_version_in_another_language_does_not_close_the_gate(make_ready, manager):
    patient = make_ready()  # signed the English text, version 1
    _publish_treatment(manager, changes_meaning=True, locale="zh_Hans")
    assert _gate(patient).allowed


# ------------------------------------------- 9. the fingerprint of the text shown


def _sha256_of(document) -> str:
    return hashlib.sha256(f"{document.title}\n\n{document.body}".encode()).hexdigest()


def test_the_signature_keeps_the_fingerprint_of_the_text_shown(make_approved):
    patient = make_approved()
    document = queries.document_for(ConsentKind.TREATMENT, patient.locale)
    signature = _sign(patient, ConsentKind.TREATMENT)
    assert re.fullmatch(r"[0-9a-f]{64}", signature.text_sha256)
    assert signature.text_sha256 == _sha256_of(document)


def test_signing_through_the_page_keeps_the_fingerprint_it_showed(client, make_approved):
    patient = make_approved()
    log_in(client, patient)
    with client.get("/consent/treatment") as page:
        shown = re.search(r'name="fingerprint"[^>]*value="([0-9a-f]{64})"', page.get_data(True))
        document_id = re.search(r'name="document_id"[^>]*value="(\d+)"', page.get_data(True))
    assert shown and document_id
    form = {
        "document_id": document_id.group(1),
        "fingerprint": shown.group(1),
        "has_read": "y",
        "password": PASSWORD,
    }
    with client.post("/consent/treatment", data=form) as response:
        assert response.status_code == 302
    signature = db.session.execute(select(ConsentSignature)).scalar_one()
    assert signature.text_sha256 == shown.group(1) == _sha256_of(signature.document)


def test_the_signature_page_shows_the_fingerprint(client, make_approved):
    patient = make_approved()
    signature = _sign(patient, ConsentKind.TREATMENT)
    db.session.commit()
    log_in(client, patient)
    with client.get(f"/consent/signatures/{signature.id}") as page:
        assert page.status_code == 200
        body = unescape(page.get_data(as_text=True))
    fingerprint = body.split('id="fingerprint"', 1)[1].split("</p>", 1)[0]
    assert signature.text_sha256 in fingerprint


@pytest.mark.parametrize(
    ("fingerprint", "signed"),
    [
        pytest.param("shown", True, id="the-text-shown"),
        pytest.param(None, True, id="not-given"),
        pytest.param("0" * 64, False, id="another-text"),
        pytest.param("", False, id="empty"),
    ],
)
def test_a_fingerprint_of_another_text_is_refused(make_approved, fingerprint, signed):
    patient = make_approved()
    document = queries.document_for(ConsentKind.TREATMENT, patient.locale)
    given = _sha256_of(document) if fingerprint == "shown" else fingerprint
    if signed:
        assert _sign(patient, ConsentKind.TREATMENT, fingerprint=given).document_id == document.id
        return
    with pytest.raises(DomainError, match="has changed since you opened it"):
        _sign(patient, ConsentKind.TREATMENT, fingerprint=given)
    assert _count(ConsentSignature) == 0
