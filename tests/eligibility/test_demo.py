"""``flask seed-demo`` puts a patient in each intake state, and can run again."""

from __future__ import annotations

from intake.accounts.services import find_by_email
from intake.demo import PATIENT_PASSWORD, seed
from intake.eligibility import queries, services
from intake.eligibility.models import ConsentKind, Outcome, QuestionnaireStatus
from tests.helpers import course_of

EXPECTED = {
    "patient@demo.clinic": ("answer", QuestionnaireStatus.DRAFT),
    "li.wei@demo.clinic": ("review", QuestionnaireStatus.SUBMITTED),
    "yamada@demo.clinic": ("panel", QuestionnaireStatus.APPROVED),
    "smith@demo.clinic": ("book", QuestionnaireStatus.APPROVED),
    "zhang.min@demo.clinic": ("declined", QuestionnaireStatus.DECLINED),
    "chen.jie@demo.clinic": ("halted", QuestionnaireStatus.APPROVED),
    "zhou.fang@demo.clinic": ("collection", QuestionnaireStatus.APPROVED),
}


def test_seed_puts_a_patient_in_each_state_and_is_idempotent(app, runner):
    lines = seed()
    assert any("question set version 1" in line for line in lines)
    today = services.clinic_today()
    for email, (step, status) in EXPECTED.items():
        patient = find_by_email(email)
        assert patient.check_password(PATIENT_PASSWORD)
        data = queries.patient_journey(patient.patient, today=today)
        assert data["journey"].current == step, email
        assert data["questionnaire"].status == status, email
    li_wei = queries.current_questionnaire(course_of(find_by_email("li.wei@demo.clinic")).id)
    assert li_wei.outcome == Outcome.NEEDS_REVIEW
    chen = find_by_email("chen.jie@demo.clinic")
    assert queries.latest_signatures(course_of(chen).id)[ConsentKind.TREATMENT].is_withdrawn
    assert queries.collection_gate_for(
        course_of(find_by_email("smith@demo.clinic")), today=today
    ).allowed
    assert seed()[-1] == "demo data already present"
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0 and "already present" in result.output


def test_the_init_command_stores_reference_data(app, runner):
    result = runner.invoke(args=["eligibility", "init"])
    assert result.exit_code == 0, result.output
    assert "11 indications" in result.output
    assert len(queries.indications()) == 11
    again = runner.invoke(args=["eligibility", "init"])
    assert "already present" in again.output
