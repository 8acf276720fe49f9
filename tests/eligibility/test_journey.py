"""The patient's journey page: where they are and what comes next, in their
language, from answering the questions to booking the collection visit."""

from __future__ import annotations

import pytest

from intake.accounts.roles import Role
from intake.eligibility import queries, services
from intake.eligibility.demo import INELIGIBLE_ANSWERS, answer_pages, enter_panel
from intake.eligibility.models import ConsentKind, Decision
from intake.extensions import db
from tests.conftest import PASSWORD
from tests.eligibility.conftest import current


def _journey(client, patient) -> str:
    client.post("/login", data={"email": patient.email, "password": PASSWORD}).close()
    with client.get("/journey") as r:
        assert r.status_code == 200
        return r.get_data(as_text=True)


def _current_step(body: str) -> str:
    return body.split('id="next-step"', 1)[0].rsplit('data-step="', 1)[1].split('"', 1)[0]


def _journey_now(patient) -> str:
    return queries.patient_journey(patient.patient, today=services.clinic_today())[
        "journey"
    ].current


def test_a_new_patient_starts_with_the_questions(client, intake, make_user):
    body = _journey(client, make_user(Role.PATIENT))
    assert _current_step(body) == "answer"
    assert "Start the questions" in body
    assert 'aria-current="step"' in body


def test_a_draft_continues(client, intake, make_user):
    patient = make_user(Role.PATIENT)
    answer_pages(patient, {"indication": "knee_oa"}, pages=1)
    db.session.commit()
    body = _journey(client, patient)
    assert _current_step(body) == "answer" and "Continue the questions" in body


def test_after_sending_the_patient_waits_for_the_review(client, make_submitted):
    assert _current_step(_journey(client, make_submitted())) == "review"


def test_once_the_doctor_has_started_the_consultation_comes_next(make_submitted, doctor):
    patient = make_submitted()
    services.save_review_notes(
        current(patient),
        actor=doctor,
        history_notes="Video consultation booked.",
        consultation_date=None,
        indication_code="knee_oa",
        planned_route=None,
    )
    assert _journey_now(patient) == "consultation"


def test_approved_patients_wait_for_results_then_sign_then_book(
    client, make_approved, coordinator, doctor
):
    patient = make_approved()
    body = _journey(client, patient)
    assert _current_step(body) == "panel"
    assert "Hepatitis B surface antigen (HBsAg)" in body  # tests still to come, named in full
    enter_panel(patient, actor=doctor)
    db.session.commit()
    assert _journey_now(patient) == "consent"
    for kind in ConsentKind:
        services.sign_consent(
            patient.patient, queries.document_for(kind, "en"), actor=patient, password=PASSWORD
        )
    db.session.commit()
    with client.get("/journey") as r:
        body = r.get_data(as_text=True)
    assert _current_step(body) == "book"
    assert "Book your collection visit" in body


def test_the_booking_link_leads_to_the_collection_booking(app, client, make_ready):
    if "scheduling.book" not in app.view_functions:  # before the scheduling pages exist
        app.add_url_rule("/test-booking/<visit_type>", "scheduling.book", lambda visit_type: "")
    body = _journey(client, make_ready())
    link = body.split('id="book-collection"', 1)[0].rsplit("href=", 1)[1]
    assert "collection" in link


def test_without_a_booking_page_the_journey_says_it_in_words(app, client, make_ready, monkeypatch):
    monkeypatch.delitem(app.view_functions, "scheduling.book", raising=False)
    body = _journey(client, make_ready())
    assert _current_step(body) == "book"
    assert 'id="book-collection"' not in body
    assert "The clinic will contact you to book your collection visit" in body


def test_a_declined_patient_hears_why_kindly(client, make_submitted, doctor):
    patient = make_submitted(INELIGIBLE_ANSWERS)
    services.decide_review(
        current(patient),
        actor=doctor,
        decision=Decision.DECLINED,
        reason="Please finish your cancer treatment first.",
        password=PASSWORD,
    )
    db.session.commit()
    body = _journey(client, patient)
    assert _current_step(body) == "declined"
    assert "Please finish your cancer treatment first." in body
    assert "within the last 5 years" in body
    assert "Answer the questions again" in body


def test_more_information_asked_brings_the_patient_back_to_the_questions(
    client, make_submitted, doctor
):
    patient = make_submitted()
    services.decide_review(
        current(patient),
        actor=doctor,
        decision=Decision.MORE_INFO,
        reason="Please tell us the dose of your supplement.",
        password=PASSWORD,
    )
    db.session.commit()
    body = _journey(client, patient)
    assert _current_step(body) == "answer"
    assert "Please tell us the dose of your supplement." in body
    with client.get("/questionnaire/medication_allergies") as r:
        assert r.status_code == 200


def test_withdrawal_halts_the_journey(client, make_ready):
    patient = make_ready()
    services.withdraw_consent(patient.patient, ConsentKind.TREATMENT, actor=patient)
    db.session.commit()
    assert _current_step(_journey(client, patient)) == "halted"


def test_the_journey_speaks_the_patients_language(client, make_submitted):
    body = _journey(client, make_submitted(locale="zh_Hans"))
    assert 'lang="zh-Hans"' in body
    assert "乙肝" not in body  # nothing about the panel yet


@pytest.mark.parametrize(
    ("fixture", "step"), [("make_submitted", "review"), ("make_ready", "book")]
)
def test_the_home_page_shows_the_next_step(client, request, fixture, step):
    patient = request.getfixturevalue(fixture)()
    client.post("/login", data={"email": patient.email, "password": PASSWORD}).close()
    with client.get("/me") as r:
        body = r.get_data(as_text=True)
    assert f'data-step="{step}"' in body and 'href="/journey"' in body


def test_the_journey_is_for_patients(client, login_as, intake):
    login_as(Role.COORDINATOR)
    with client.get("/journey") as r:
        assert r.status_code == 403


def test_the_patient_is_told_once_when_everything_is_ready(make_approved, coordinator, doctor):
    from sqlalchemy import select

    from intake.notifications.models import Message

    def ready_messages():
        query = select(Message).where(Message.template == "eligibility_ready_to_book")
        return list(db.session.execute(query).scalars())

    patient = make_approved()
    enter_panel(patient, actor=doctor)
    services.sign_consent(
        patient.patient,
        queries.document_for(ConsentKind.TREATMENT, "en"),
        actor=patient,
        password=PASSWORD,
    )
    assert ready_messages() == []
    services.sign_consent(
        patient.patient,
        queries.document_for(ConsentKind.CROSS_BORDER, "en"),
        actor=patient,
        password=PASSWORD,
    )
    enter_panel(patient, actor=doctor)  # a repeat panel does not tell them again
    (message,) = ready_messages()
    assert message.user_id == patient.id and "collection" in message.body
