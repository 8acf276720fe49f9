"""The doctor's review: queue, page with every answer and rule, notes,
indication and route, signed decisions, overrides, and who may do what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from intake.accounts.roles import Role
from intake.core.errors import DomainError, FormErrors, NotAllowed
from intake.eligibility import services
from intake.eligibility.demo import INELIGIBLE_ANSWERS, NEEDS_REVIEW_ANSWERS, answer_pages
from intake.eligibility.models import Decision, Outcome, QuestionnaireStatus, Review
from intake.extensions import db
from intake.notifications.models import Message
from tests.conftest import PASSWORD
from tests.eligibility.conftest import current, error_beside


def _notes(record, doctor, **changes):
    fields = {
        "history_notes": "Knee pain for 5 years; no anticoagulant.",
        "consultation_date": services.clinic_today(),
        "indication_code": "knee_oa",
        "planned_route": "local",
        **changes,
    }
    return services.save_review_notes(record, actor=doctor, **fields)


def _messages(template):
    return list(db.session.execute(select(Message).where(Message.template == template)).scalars())


# --------------------------------------------------------------------------- services


def test_notes_record_indication_and_route_with_an_audit_row(make_submitted, doctor, audit_rows):
    patient = make_submitted()
    review = _notes(current(patient), doctor)
    db.session.commit()
    assert (review.indication_code, review.planned_route) == ("knee_oa", "local")
    rows = audit_rows("eligibility.review_notes", patient_id=patient.id)
    assert len(rows) == 1 and rows[0].after["planned_route"] == "local"
    _notes(current(patient), doctor, history_notes="Changed notes.")
    rows = audit_rows("eligibility.review_notes", patient_id=patient.id)
    assert rows[-1].before["history_notes"].startswith("Knee pain")
    assert rows[-1].after == {"history_notes": "Changed notes."}


def test_the_route_must_be_one_the_indication_allows(make_submitted, doctor):
    patient = make_submitted()
    with pytest.raises(DomainError) as caught:
        _notes(current(patient), doctor, indication_code="hair_loss", planned_route="iv")
    assert caught.value.field == "planned_route"
    assert "Local injection" in caught.value.message
    with pytest.raises(DomainError) as caught:
        _notes(current(patient), doctor, indication_code="no_such", planned_route=None)
    assert caught.value.field == "indication_code"


def test_a_new_consultation_date_reruns_the_rules(make_submitted, doctor, audit_rows):
    today = services.clinic_today()
    born = today.replace(year=today.year - 81) + timedelta(days=20)  # 81 in 20 days
    patient = make_submitted(date_of_birth=born)
    record = current(patient)
    assert record.outcome == Outcome.ELIGIBLE and record.assessed_age == 80
    _notes(record, doctor, consultation_date=today + timedelta(days=10))
    assert record.assessed_age == 80 and record.outcome == Outcome.ELIGIBLE
    _notes(record, doctor, consultation_date=today + timedelta(days=30))
    assert record.assessed_age == 81
    assert record.outcome == Outcome.INELIGIBLE
    assert [r["code"] for r in record.reasons] == ["age_above_maximum"]
    assert len(audit_rows("eligibility.reassess", patient_id=patient.id)) == 2
    with pytest.raises(DomainError) as caught:  # beyond the booking horizon
        _notes(record, doctor, consultation_date=today + timedelta(days=400))
    assert caught.value.field == "consultation_date"


def test_approval_is_signed_with_name_time_and_meaning(make_submitted, doctor, audit_rows):
    patient = make_submitted()
    record = current(patient)
    _notes(record, doctor)
    review = services.decide_review(
        record, actor=doctor, decision=Decision.APPROVED, reason="Suitable.", password=PASSWORD
    )
    db.session.commit()
    assert record.status == QuestionnaireStatus.APPROVED
    assert review.signer_name == "Dr. Sato Hiroshi"
    assert review.signed_at is not None
    assert review.signature_meaning == (
        f"I, Dr. Sato Hiroshi, approve {patient.full_name} as eligible for treatment with "
        "their own adipose-derived stem cells for Knee osteoarthritis, by Local injection."
    )
    assert review.is_override is False
    rows = audit_rows("eligibility.review_decision", patient_id=patient.id)
    assert len(rows) == 1
    assert rows[0].actor_id == doctor.id
    assert rows[0].after["decision"] == "approved"
    assert rows[0].before["questionnaire_status"] == "submitted"
    assert rows[0].note == review.signature_meaning
    (message,) = _messages("eligibility_approved")
    assert message.user_id == patient.id and "/consent" in message.body


def test_signature_needs_the_doctors_own_password(make_submitted, doctor):
    patient = make_submitted()
    record = current(patient)
    _notes(record, doctor)
    db.session.commit()
    with pytest.raises(DomainError) as caught:
        services.decide_review(
            record, actor=doctor, decision=Decision.APPROVED, reason="Ok.", password="wrong"
        )
    assert caught.value.field == "password"
    db.session.rollback()
    assert current(patient).status == QuestionnaireStatus.SUBMITTED
    assert db.session.execute(select(Review.decision)).scalars().all() == [None]


def test_a_hard_exclusion_cannot_be_approved_even_with_a_reason(make_submitted, doctor):
    """DOMAIN rule 1: ineligible is never overridden by approval."""
    patient = make_submitted(INELIGIBLE_ANSWERS)
    record = current(patient)
    _notes(record, doctor, indication_code="after_stroke", planned_route="iv")
    with pytest.raises(DomainError) as caught:
        services.decide_review(
            record,
            actor=doctor,
            decision=Decision.APPROVED,
            reason="Fine.",
            password=PASSWORD,
            override_reason="I think it is fine.",
        )
    assert caught.value.field == "decision"
    db.session.rollback()
    assert current(patient).status == QuestionnaireStatus.SUBMITTED


@pytest.mark.parametrize("answers", [NEEDS_REVIEW_ANSWERS])
def test_overriding_the_rules_needs_a_written_reason(make_submitted, doctor, answers):
    patient = make_submitted(answers)
    record = current(patient)
    _notes(record, doctor, indication_code="after_stroke", planned_route="iv")
    for empty in (None, "   "):
        with pytest.raises(DomainError) as caught:
            services.decide_review(
                record,
                actor=doctor,
                decision=Decision.APPROVED,
                reason="Fine.",
                password=PASSWORD,
                override_reason=empty,
            )
        assert caught.value.field == "override_reason"
    review = services.decide_review(
        record,
        actor=doctor,
        decision=Decision.APPROVED,
        reason="Fine.",
        password=PASSWORD,
        override_reason="Cardiologist agrees to pause apixaban for 48 hours.",
    )
    assert review.is_override is True
    assert review.override_reason.startswith("Cardiologist")


def test_declining_an_ineligible_patient_needs_no_override(make_submitted, doctor):
    patient = make_submitted(INELIGIBLE_ANSWERS)
    review = services.decide_review(
        current(patient),
        actor=doctor,
        decision=Decision.DECLINED,
        reason="Cancer treatment continues.",
        password=PASSWORD,
    )
    assert review.is_override is False
    assert current(patient).status == QuestionnaireStatus.DECLINED
    (message,) = _messages("eligibility_declined")
    assert "Cancer treatment continues." in message.body
    assert "within the last 5 years" in message.body  # the kind explanation of the rule


def test_approval_needs_indication_route_and_a_reason(make_submitted, doctor):
    record = current(make_submitted())
    with pytest.raises(DomainError) as caught:
        services.decide_review(
            record, actor=doctor, decision=Decision.APPROVED, reason="Ok.", password=PASSWORD
        )
    assert caught.value.field == "decision"
    with pytest.raises(DomainError) as caught:
        services.decide_review(
            record, actor=doctor, decision=Decision.DECLINED, reason=" ", password=PASSWORD
        )
    assert caught.value.field == "reason"


def test_more_information_returns_the_questionnaire_to_the_patient(
    make_submitted, doctor, audit_rows
):
    patient = make_submitted()
    record = current(patient)
    services.decide_review(
        record,
        actor=doctor,
        decision=Decision.MORE_INFO,
        reason="Which dose of glucosamine do you take?",
        password=PASSWORD,
    )
    assert record.status == QuestionnaireStatus.RETURNED
    (message,) = _messages("eligibility_more_info")
    assert "Which dose of glucosamine" in message.body
    services.save_page(
        patient.patient,
        "medication_allergies",
        {**NEEDS_REVIEW_ANSWERS, "current_medication": "Glucosamine 1500 mg daily."},
        actor=patient,
    )
    services.submit_questionnaire(patient.patient, actor=patient)
    assert record.status == QuestionnaireStatus.SUBMITTED
    review = _notes(record, doctor)  # a new review for the new submission
    assert review.decision is None
    assert len(db.session.execute(select(Review)).scalars().all()) == 2
    assert len(audit_rows("eligibility.review_decision", patient_id=patient.id)) == 1


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.MANAGER, Role.LAB, Role.PATIENT])
def test_only_a_doctor_reviews(make_submitted, make_user, role):
    record = current(make_submitted())
    other = make_user(role)
    with pytest.raises(NotAllowed):
        services.save_review_notes(
            record,
            actor=other,
            history_notes="x",
            consultation_date=None,
            indication_code=None,
            planned_route=None,
        )
    with pytest.raises(NotAllowed):
        services.decide_review(
            record, actor=other, decision=Decision.DECLINED, reason="x", password=PASSWORD
        )


def test_a_decided_questionnaire_is_not_decided_again(make_approved, doctor):
    record = current(make_approved())
    with pytest.raises(DomainError):
        services.decide_review(
            record, actor=doctor, decision=Decision.DECLINED, reason="x", password=PASSWORD
        )


# --------------------------------------------------------------------------- pages


@pytest.mark.parametrize("role", [Role.PATIENT, Role.LAB, Role.ADMIN])
def test_the_queue_refuses_patients_lab_and_admin(client, login_as, make_submitted, role):
    record = current(make_submitted())
    login_as(role)
    for path in ("/reviews", f"/reviews/{record.id}"):
        with client.get(path) as r:
            assert r.status_code == 403, path


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.DOCTOR, Role.MANAGER])
def test_clinical_staff_see_the_queue_oldest_first(client, login_as, make_submitted, role):
    first = make_submitted(full_name="First Patient")
    second = make_submitted(full_name="Second Patient")
    current(first).submitted_at -= timedelta(days=2, hours=3)
    db.session.commit()
    login_as(role)
    with client.get("/reviews") as r:
        body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert body.index("First Patient") < body.index("Second Patient")
    assert "2 days" in body  # waiting time
    assert second.full_name in body


def test_the_review_page_shows_every_answer_and_every_rule(client, login_as, make_submitted):
    answers = {
        **NEEDS_REVIEW_ANSWERS,
        "severe_anaemia": "yes",
        "uncontrolled_hypertension": "yes",
    }
    record = current(make_submitted(answers))
    login_as(Role.DOCTOR)
    with client.get(f"/reviews/{record.id}") as r:
        body = r.get_data(as_text=True)
    assert r.status_code == 200
    for code in ("anticoagulant_use", "severe_anaemia", "uncontrolled_hypertension"):
        assert f'data-rule="{code}"' in body
        assert f'<code class="small">{code}</code>' not in body  # staff read words
    for title in ("Takes blood thinners", "Severe anaemia", "Uncontrolled high blood pressure"):
        assert f"<strong>{title}</strong>" in body
    assert "Doctor review" in body
    assert "Apixaban 5 mg twice a day." in body
    assert "Both knees hurt on stairs" in body
    assert "Glucosamine" not in body  # replaced by the apixaban answer
    for text in ("Have you ever had a heart attack", "Do you smoke?", "I have never smoked"):
        assert text in body
    assert 'name="decision-password"' in body
    assert "You sign as" in body


def test_coordinators_see_the_review_but_cannot_decide(client, login_as, make_submitted):
    record = current(make_submitted())
    login_as(Role.COORDINATOR)
    with client.get(f"/reviews/{record.id}") as r:
        body = r.get_data(as_text=True)
    assert "Only a doctor can decide." in body and 'name="decision-password"' not in body
    data = {"decision-decision": "declined", "decision-reason": "x", "decision-password": "x"}
    for path in ("decision", "notes", "panel"):
        with client.post(f"/reviews/{record.id}/{path}", data=data) as r:
            assert r.status_code == 403
    assert record.status == QuestionnaireStatus.SUBMITTED


def test_the_doctor_decides_on_the_page(client, login_as, make_submitted, audit_rows):
    patient = make_submitted(NEEDS_REVIEW_ANSWERS)
    record = current(patient)
    doctor = login_as(Role.DOCTOR, full_name="Dr. Ito")
    notes = {
        "notes-history_notes": "Takes apixaban for atrial fibrillation.",
        "notes-consultation_date": services.clinic_today().isoformat(),
        "notes-indication_code": "after_stroke",
        "notes-planned_route": "iv",
    }
    with client.post(f"/reviews/{record.id}/notes", data=notes) as r:
        assert r.status_code == 302
    decision = {
        "decision-decision": "approved",
        "decision-reason": "Suitable after the consultation.",
        "decision-override_reason": "Cardiologist agrees to pause apixaban.",
        "decision-password": PASSWORD,
    }
    with client.post(f"/reviews/{record.id}/decision", data=decision) as r:
        assert r.status_code == 302
        assert r.headers["Location"] == "/reviews"
    db.session.refresh(record)
    assert record.status == QuestionnaireStatus.APPROVED
    (row,) = audit_rows("eligibility.review_decision", patient_id=patient.id)
    assert row.actor_id == doctor.id and row.after["is_override"] is True
    with client.get(f"/reviews/{record.id}") as r:
        body = r.get_data(as_text=True)
    assert "Dr. Ito" in body and "Signed at" in body and "Meaning" in body
    assert "I, Dr. Ito, approve" in body


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"decision-password": "wrong"}, "decision-password", "The password is not correct"),
        ({"decision-override_reason": ""}, "decision-override_reason", "write why"),
        ({"decision-reason": ""}, "decision-reason", "This field is required."),
        ({"decision-decision": "maybe"}, "decision-decision", "Not a valid choice."),
    ],
)
def test_bad_decisions_are_shown_beside_the_field(
    client, login_as, make_submitted, changes, field, message
):
    record = current(make_submitted(NEEDS_REVIEW_ANSWERS))
    doctor = login_as(Role.DOCTOR)
    _notes(record, doctor, indication_code="after_stroke", planned_route="iv")
    db.session.commit()
    data = {
        "decision-decision": "approved",
        "decision-reason": "Suitable after the consultation.",
        "decision-override_reason": "Typed reason kept",
        "decision-password": PASSWORD,
        **changes,
    }
    with client.post(f"/reviews/{record.id}/decision", data=data) as r:
        body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert message in error_beside(body, field)
    if field != "decision-reason":
        assert "Suitable after the consultation." in body  # what was typed is kept
    db.session.refresh(record)
    assert record.status == QuestionnaireStatus.SUBMITTED


def test_every_decision_error_is_shown_at_once(client, login_as, make_submitted):
    """A wrong password and a missing indication: both messages in one answer,
    the password's beside the password."""
    record = current(make_submitted())
    login_as(Role.DOCTOR)
    data = {
        "decision-decision": "approved",
        "decision-reason": "Suitable after the consultation.",
        "decision-password": "wrong",
    }
    with client.post(f"/reviews/{record.id}/decision", data=data) as r:
        body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "The password is not correct" in error_beside(body, "decision-password")
    assert "Record the indication and the planned route" in error_beside(body, "decision-decision")
    db.session.refresh(record)
    assert record.status == QuestionnaireStatus.SUBMITTED


def test_shape_and_signature_errors_are_shown_together(client, login_as, make_submitted):
    """A blank reason (the form's own check) does not hide the wrong password."""
    record = current(make_submitted())
    login_as(Role.DOCTOR)
    data = {"decision-decision": "declined", "decision-reason": "", "decision-password": "wrong"}
    with client.post(f"/reviews/{record.id}/decision", data=data) as r:
        body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "This field is required." in error_beside(body, "decision-reason")
    assert "The password is not correct" in error_beside(body, "decision-password")
    db.session.refresh(record)
    assert record.status == QuestionnaireStatus.SUBMITTED


def test_decide_review_raises_every_problem(make_submitted, doctor):
    record = current(make_submitted())
    with pytest.raises(FormErrors) as caught:
        services.decide_review(
            record, actor=doctor, decision=Decision.APPROVED, reason="", password="wrong"
        )
    assert {e.field for e in caught.value.errors} == {"reason", "decision", "password"}
    assert record.status == QuestionnaireStatus.SUBMITTED


def test_a_wrong_route_is_shown_beside_the_route(client, login_as, make_submitted):
    record = current(make_submitted())
    login_as(Role.DOCTOR)
    data = {"notes-indication_code": "hair_loss", "notes-planned_route": "intrathecal"}
    with client.post(f"/reviews/{record.id}/notes", data=data) as r:
        body = r.get_data(as_text=True)
    assert "the clinic&#39;s plan allows: Local injection" in error_beside(
        body, "notes-planned_route"
    )
    # the route list now offers only the routes of the chosen indication
    route_select = body.split('id="notes-planned_route"', 1)[1].split("</select>", 1)[0]
    assert 'value="local"' in route_select and 'value="iv"' not in route_select


def test_draft_questionnaires_are_not_in_review(client, login_as, intake):
    patient = login_as(Role.PATIENT)
    answer_pages(patient, {"indication": "knee_oa"}, pages=1)
    db.session.commit()
    client.post("/logout").close()
    login_as(Role.DOCTOR)
    with client.get(f"/reviews/{current(patient).id}") as r:
        assert r.status_code == 404


# --------------------------------------------------------------------------- query counts


def test_the_queue_runs_a_fixed_number_of_queries(
    client, login_as, make_submitted, doctor, count_queries
):
    def measure():
        with count_queries() as statements:
            with client.get("/reviews") as r:
                assert r.status_code == 200
        return len(statements)

    for _ in range(2):
        make_submitted()
    login_as(Role.DOCTOR)
    small = measure()
    for n in range(6):
        patient = make_submitted(NEEDS_REVIEW_ANSWERS if n % 2 else None)
        if n % 3 == 0:
            _notes(current(patient), doctor)
    db.session.commit()
    assert measure() == small <= 8


def test_the_review_page_runs_a_fixed_number_of_queries(
    client, login_as, make_ready, make_submitted, coordinator, doctor, count_queries
):
    def measure(record_id):
        with count_queries() as statements:
            with client.get(f"/reviews/{record_id}") as r:
                assert r.status_code == 200
        return len(statements)

    login_as(Role.DOCTOR)
    small = measure(current(make_submitted()).id)
    big = make_ready()
    from intake.eligibility.demo import enter_panel

    enter_panel(big, actor=doctor)  # a second round of every result
    _notes(current(make_submitted()), doctor)
    db.session.commit()
    assert measure(current(big).id) == small <= 12
