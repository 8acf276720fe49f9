"""The questionnaire: a draft saved at every page and resumed, checked before
sending, assessed by the rules on submission, in the patient's language."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from intake.accounts.roles import Role
from intake.core import settings
from intake.core.errors import DomainError, NotAllowed
from intake.eligibility import services
from intake.eligibility.demo import ELIGIBLE_ANSWERS, INELIGIBLE_ANSWERS, NEEDS_REVIEW_ANSWERS
from intake.eligibility.models import Outcome, Questionnaire, QuestionnaireStatus
from intake.extensions import db
from intake.notifications.models import Message
from tests.eligibility.conftest import current, error_beside

PAGES = (
    "indication",
    "history",
    "heart_blood",
    "cancer_infection",
    "medication_allergies",
    "about_you",
    "lifestyle",
)


def _questionnaires() -> int:
    return db.session.execute(select(func.count()).select_from(Questionnaire)).scalar_one()


# --------------------------------------------------------------------------- services


def test_first_page_creates_a_draft_that_remembers_where_to_resume(intake, make_user, audit_rows):
    patient = make_user(Role.PATIENT)
    assert current(patient) is None
    services.save_page(patient.patient, "indication", {"indication": "hair_loss"}, actor=patient)
    db.session.commit()
    draft = current(patient)
    assert draft.status == QuestionnaireStatus.DRAFT
    assert draft.answers == {"indication": "hair_loss"}
    assert draft.current_page == "history"
    assert draft.question_set.version == 1
    starts = audit_rows("eligibility.questionnaire_start", patient_id=patient.id)
    saves = audit_rows("eligibility.questionnaire_save", patient_id=patient.id)
    assert len(starts) == 1 and len(saves) == 1
    assert saves[0].after == {"indication": "hair_loss"}


def test_changing_an_answer_is_audited_with_before_and_after(intake, make_user, audit_rows):
    patient = make_user(Role.PATIENT)
    services.save_page(patient.patient, "indication", {"indication": "hair_loss"}, actor=patient)
    services.save_page(patient.patient, "indication", {"indication": "diabetes"}, actor=patient)
    db.session.commit()
    last = audit_rows("eligibility.questionnaire_save", patient_id=patient.id)[-1]
    assert last.before == {"indication": "hair_loss"}
    assert last.after == {"indication": "diabetes"}


def test_wrong_answers_save_nothing(intake, make_user):
    patient = make_user(Role.PATIENT)
    services.save_page(patient.patient, "indication", {"indication": "knee_oa"}, actor=patient)
    db.session.commit()
    raw = {"heart_attack_or_stroke": "yes", "heart_attack_or_stroke_date": "2999-01-01"}
    with pytest.raises(services.AnswersInvalid) as caught:
        services.save_page(patient.patient, "heart_blood", raw, actor=patient)
    db.session.rollback()
    assert caught.value.errors["heart_attack_or_stroke_date"] == (
        "This date cannot be in the future."
    )
    assert caught.value.errors["uncontrolled_hypertension"] == "Please answer this question."
    assert current(patient).answers == {"indication": "knee_oa"}


def test_going_back_or_saving_for_later_keeps_a_half_answered_page(intake, make_user):
    patient = make_user(Role.PATIENT)
    services.save_page(patient.patient, "indication", {"indication": "knee_oa"}, actor=patient)
    services.save_page(
        patient.patient, "heart_blood", {"severe_anaemia": "no"}, actor=patient, direction="stay"
    )
    assert current(patient).current_page == "heart_blood"
    services.save_page(
        patient.patient, "heart_blood", {"severe_anaemia": "no"}, actor=patient, direction="back"
    )
    draft = current(patient)
    assert draft.current_page == "history"
    assert draft.answers == {"indication": "knee_oa", "severe_anaemia": "no"}
    with pytest.raises(services.AnswersInvalid):
        services.save_page(patient.patient, "heart_blood", {"severe_anaemia": "no"}, actor=patient)


def test_only_the_patient_answers_their_own_questions(intake, make_user):
    patient = make_user(Role.PATIENT)
    with pytest.raises(NotAllowed):
        services.save_page(
            patient.patient, "indication", {"indication": "knee_oa"}, actor=make_user()
        )
    with pytest.raises(NotAllowed):
        services.submit_questionnaire(patient.patient, actor=make_user(Role.COORDINATOR))


@pytest.mark.parametrize(
    ("answers", "outcome", "codes"),
    [
        (ELIGIBLE_ANSWERS, Outcome.ELIGIBLE, []),
        (NEEDS_REVIEW_ANSWERS, Outcome.NEEDS_REVIEW, ["anticoagulant_use"]),
        (INELIGIBLE_ANSWERS, Outcome.INELIGIBLE, ["malignancy_recent"]),
    ],
)
def test_submission_runs_the_rules(make_submitted, audit_rows, answers, outcome, codes):
    patient = make_submitted(answers)
    record = current(patient)
    assert record.status == QuestionnaireStatus.SUBMITTED
    assert record.outcome == outcome
    assert [r["code"] for r in record.reasons] == codes
    assert record.consultation_date == services.clinic_today()
    assert record.assessed_age == services.clinic_today().year - 1970  # born 1 January
    submit = audit_rows("eligibility.questionnaire_submit", patient_id=patient.id)
    assert len(submit) == 1 and submit[0].after["outcome"] == outcome.value
    message = db.session.execute(
        select(Message).where(Message.template == "eligibility_submitted")
    ).scalar_one()
    assert message.user_id == patient.id


def test_age_limits_come_from_the_clinic_settings(make_submitted, manager_user):
    settings.update_settings({"age_max": "40"}, actor=manager_user)
    db.session.commit()
    patient = make_submitted()  # born 1970-01-01
    record = current(patient)
    assert record.outcome == Outcome.INELIGIBLE
    assert [r["code"] for r in record.reasons] == ["age_above_maximum"]
    assert record.reasons[0]["params"]["age_max"] == 40


@pytest.fixture
def manager_user(make_user):
    return make_user(Role.MANAGER)


def test_answers_to_questions_that_no_longer_apply_are_dropped(intake, make_user):
    patient = make_user(Role.PATIENT)
    answers = {
        **ELIGIBLE_ANSWERS,
        "heart_attack_or_stroke": "yes",
        "heart_attack_or_stroke_date": (date.today() - timedelta(days=800)).isoformat(),
    }
    for page in PAGES:
        services.save_page(patient.patient, page, answers, actor=patient)
    assert "heart_attack_or_stroke_date" in current(patient).answers
    services.save_page(patient.patient, "heart_blood", ELIGIBLE_ANSWERS, actor=patient)
    assert "heart_attack_or_stroke_date" not in current(patient).answers
    draft = current(patient)  # a stale answer left from an earlier question set
    draft.answers = {**draft.answers, "malignancy_when": 2010}
    services.submit_questionnaire(patient.patient, actor=patient)
    assert "malignancy_when" not in current(patient).answers


def test_an_incomplete_questionnaire_cannot_be_sent(intake, make_user):
    patient = make_user(Role.PATIENT)
    services.save_page(patient.patient, "indication", {"indication": "knee_oa"}, actor=patient)
    with pytest.raises(DomainError) as caught:
        services.submit_questionnaire(patient.patient, actor=patient)
    assert "Heart, blood pressure and blood" in caught.value.message
    assert current(patient).status == QuestionnaireStatus.DRAFT


def test_sent_answers_cannot_be_changed(make_submitted):
    patient = make_submitted()
    with pytest.raises(DomainError):
        services.save_page(patient.patient, "indication", {"indication": "diabetes"}, actor=patient)
    assert current(patient).answers["indication"] == "knee_oa"


# --------------------------------------------------------------------------- pages


def test_a_page_speaks_the_patients_language(client, intake, login_as):
    login_as(Role.PATIENT, locale="zh_Hans")
    with client.get("/questionnaire/medication_allergies") as r:
        body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "您是否在服用抗凝药或抗血小板药" in body
    assert 'lang="zh-Hans"' in body
    assert 'role="progressbar"' in body and 'aria-valuenow="5"' in body


def test_walking_the_pages_saves_a_draft_at_each_and_resumes(client, intake, login_as):
    patient = login_as(Role.PATIENT)
    with client.get("/questionnaire") as r:
        assert r.headers["Location"] == "/questionnaire/indication"
    with client.post("/questionnaire/indication", data={"indication": "knee_oa"}) as r:
        assert r.headers["Location"] == "/questionnaire/history"
    with client.post("/questionnaire/history", data={"action": "stay"}) as r:
        assert r.headers["Location"] == "/journey"
    assert current(patient).answers == {"indication": "knee_oa"}
    client.post("/logout").close()
    client.post("/login", data={"email": patient.email, "password": "Correct-Horse-9"}).close()
    with client.get("/questionnaire") as r:  # come back later: same page
        assert r.headers["Location"] == "/questionnaire/history"
    with client.get("/questionnaire/indication") as r:
        assert 'value="knee_oa" checked' in r.get_data(as_text=True)


def test_bad_answers_are_shown_beside_the_question_and_kept(client, intake, login_as):
    patient = login_as(Role.PATIENT)
    client.post("/questionnaire/indication", data={"indication": "knee_oa"}).close()
    data = {
        "heart_attack_or_stroke": "yes",
        "heart_attack_or_stroke_date": "2999-01-01",
        "severe_anaemia": "no",
    }
    with client.post("/questionnaire/heart_blood", data=data) as r:
        body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "This date cannot be in the future." in error_beside(body, "heart_attack_or_stroke_date")
    assert "Please answer this question." in error_beside(body, "uncontrolled_hypertension")
    assert 'value="2999-01-01"' in body
    assert 'id="heart_attack_or_stroke-yes" value="yes" autocomplete="off" checked' in body
    assert 'aria-invalid="true"' in body
    assert current(patient).answers == {"indication": "knee_oa"}


def test_errors_come_in_the_patients_language(client, intake, login_as):
    login_as(Role.PATIENT, locale="ja")
    with client.post("/questionnaire/indication", data={}) as r:
        body = r.get_data(as_text=True)
    assert "この質問にお答えください。" in error_beside(body, "indication")


def test_unknown_page_is_404(client, intake, login_as):
    login_as(Role.PATIENT)
    with client.get("/questionnaire/nope") as r:
        assert r.status_code == 404
    with client.post("/questionnaire/nope", data={}) as r:
        assert r.status_code == 404


def test_review_page_lists_answers_and_sending_them_reaches_the_journey(client, intake, login_as):
    patient = login_as(Role.PATIENT)
    for page in PAGES:
        with client.post(f"/questionnaire/{page}", data=NEEDS_REVIEW_ANSWERS) as r:
            assert r.status_code == 302, r.get_data(as_text=True)
    assert r.headers["Location"] == "/questionnaire/review"
    with client.get("/questionnaire/review") as r:
        body = r.get_data(as_text=True)
    assert "Apixaban 5 mg twice a day." in body
    assert "After a stroke" in body
    assert "Some answers are missing" not in body
    with client.post("/questionnaire/submit") as r:
        assert r.headers["Location"] == "/journey"
    assert current(patient).outcome == Outcome.NEEDS_REVIEW
    with client.get("/journey") as r:
        body = r.get_data(as_text=True)
    assert "You take medicine that thins the blood." in body
    assert 'data-step="review"' in body
    with client.get("/questionnaire/history") as r:  # no more changes
        assert r.headers["Location"] == "/journey"


def test_sending_an_incomplete_questionnaire_says_what_is_missing(client, intake, login_as):
    patient = login_as(Role.PATIENT)
    client.post("/questionnaire/indication", data={"indication": "knee_oa"}).close()
    with client.get("/questionnaire/review") as r:
        assert "Some answers are missing on this page." in r.get_data(as_text=True)
    with client.post("/questionnaire/submit", follow_redirects=True) as r:
        body = r.get_data(as_text=True)
    assert "Some questions still need an answer" in body
    assert current(patient).status == QuestionnaireStatus.DRAFT


def test_a_patient_sees_only_their_own_answers(client, make_submitted, login_as):
    other = make_submitted()
    me = login_as(Role.PATIENT)
    with client.get(f"/questionnaires/{current(other).id}") as r:
        assert r.status_code == 404
    with client.get("/questionnaires/999999") as r:
        assert r.status_code == 404
    assert _questionnaires() == 1
    assert current(me) is None


def test_the_patient_can_read_what_they_sent(client, make_submitted):
    patient = make_submitted(NEEDS_REVIEW_ANSWERS)
    client.post("/login", data={"email": patient.email, "password": "Correct-Horse-9"}).close()
    with client.get(f"/questionnaires/{current(patient).id}") as r:
        body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "Apixaban 5 mg twice a day." in body


def test_conditional_questions_carry_their_condition(client, intake, login_as):
    login_as(Role.PATIENT)
    with client.get("/questionnaire/heart_blood") as r:
        body = r.get_data(as_text=True)
    assert 'data-show-if="[{&#34;question&#34;: &#34;heart_attack_or_stroke&#34;' in body
    assert "Only if your answers above were: “Yes”" in body
    assert "js/questionnaire.js" in body


def test_staff_cannot_use_the_patient_pages(client, intake, login_as):
    login_as(Role.DOCTOR)
    for path in ("/questionnaire", "/questionnaire/indication", "/journey", "/consent"):
        with client.get(path) as r:
            assert r.status_code == 403, path


def test_free_text_is_kept_exactly_as_typed(client, intake, login_as):
    patient = login_as(Role.PATIENT, locale="zh_Hans")
    typed = "阿哌沙班 5 mg，每日两次（早、晚）"
    data = {**ELIGIBLE_ANSWERS, "current_medication": typed}
    client.post("/questionnaire/indication", data=data).close()
    client.post("/questionnaire/medication_allergies", data=data).close()
    assert current(patient).answers["current_medication"] == typed
    with client.get("/questionnaire/medication_allergies") as r:
        assert f">{typed}</textarea>" in r.get_data(as_text=True)
    with client.get("/questionnaire/review") as r:
        assert typed in r.get_data(as_text=True)


def test_a_stored_question_set_is_checked_when_loaded(app):
    """A malformed stored definition raises a clear error, not a KeyError
    somewhere in a page, and a good one loads."""
    from intake.eligibility.models import QuestionSet
    from intake.eligibility.question_bank import (
        DEFAULT_QUESTION_SET,
        QuestionSetInvalid,
    )

    good = QuestionSet(version=1, definition=DEFAULT_QUESTION_SET.to_dict(), is_active=True)
    broken_definition = DEFAULT_QUESTION_SET.to_dict() | {"version": 8}
    broken_definition["pages"][0]["questions"][0]["text"] = {"en": "Only English"}
    broken = QuestionSet(version=8, definition=broken_definition, is_active=True)
    db.session.add_all([good, broken])
    db.session.commit()
    assert good.data().pages == DEFAULT_QUESTION_SET.pages
    with pytest.raises(QuestionSetInvalid, match="question set version 8 cannot be used"):
        broken.data()
    with pytest.raises(QuestionSetInvalid, match="no zh_Hans text"):
        db.session.get(QuestionSet, broken.id).data()
    mislabelled = QuestionSet(version=9, definition=DEFAULT_QUESTION_SET.to_dict())
    with pytest.raises(QuestionSetInvalid, match="the definition says version 1"):
        mislabelled.data()
