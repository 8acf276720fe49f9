"""``collection_gate_for``: the one function the booking code calls. It loads
the review, the panel, the settings and the consents, and lists what is missing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from intake.accounts.roles import Role
from intake.core import settings
from intake.eligibility import queries, services
from intake.eligibility.demo import enter_panel
from intake.eligibility.gate import GateResult
from intake.eligibility.models import ConsentKind, Decision, PanelItemDefinition
from intake.extensions import db
from tests.conftest import PASSWORD
from tests.eligibility.conftest import current
from tests.helpers import course_of

ALL_PANEL = [
    "HBsAg",
    "anti-HBs",
    "HBeAg",
    "anti-HBe",
    "anti-HBc",
    "anti-HCV",
    "anti-HIV",
    "TP-Ab",
    "RPR",
    "anti-HTLV-1",
]
CONSENTS = ["consent_missing", "cross_border_consent_missing"]


def gate(patient, **kw) -> GateResult:
    return queries.collection_gate_for(
        course_of(patient), today=kw.get("today", services.clinic_today())
    )


def test_a_new_patient_misses_everything(intake, make_user):
    result = gate(make_user(Role.PATIENT))
    assert not result.allowed
    assert result.codes == (
        "review_not_approved",
        *[f"panel_missing:{code}" for code in ALL_PANEL],
        *CONSENTS,
    )


def test_without_stored_panel_items_the_default_panel_applies(app, make_user):
    # no reference data at all: the gate must never pass an empty panel
    assert len([c for c in gate(make_user(Role.PATIENT)).codes if c.startswith("panel_")]) == 10


def test_submitted_but_not_reviewed(make_submitted):
    assert gate(make_submitted()).codes[0] == "review_not_approved"


def test_declined_is_not_approved(make_submitted, doctor):
    patient = make_submitted()
    services.decide_review(
        current(patient), actor=doctor, decision=Decision.DECLINED, reason="x", password=PASSWORD
    )
    assert "review_not_approved" in gate(patient).codes


def test_approved_waits_for_panel_and_consent(make_approved):
    result = gate(make_approved())
    assert result.codes == (*[f"panel_missing:{code}" for code in ALL_PANEL], *CONSENTS)


def test_a_partial_panel_lists_the_missing_tests(make_approved, coordinator, doctor):
    patient = make_approved()
    enter_panel(patient, actor=doctor, count=4)
    assert [c for c in gate(patient).codes if c.startswith("panel_")] == [
        f"panel_missing:{code}" for code in ALL_PANEL[4:]
    ]


def test_panel_complete_only_consent_remains(make_approved, coordinator, doctor):
    patient = make_approved()
    enter_panel(patient, actor=doctor)
    assert gate(patient).codes == tuple(CONSENTS)


def test_cross_border_consent_is_separate(make_approved, coordinator, doctor):
    patient = make_approved()
    enter_panel(patient, actor=doctor)
    services.sign_consent(
        patient.patient,
        queries.document_for(ConsentKind.TREATMENT, "en"),
        actor=patient,
        password=PASSWORD,
    )
    assert gate(patient).codes == ("cross_border_consent_missing",)


def test_ready_patient_may_book(make_ready):
    result = gate(make_ready())
    assert result.allowed and result.missing == ()


def test_the_fixture_for_the_booking_code(make_approved_patient):
    patient = make_approved_patient(full_name="Booking Tester", locale="ja")
    assert patient.full_name == "Booking Tester" and patient.role == Role.PATIENT
    assert gate(patient).allowed


@pytest.mark.parametrize(
    ("days_ago", "validity", "codes"),
    [
        (90, 90, ()),
        (91, 90, ("panel_expired:HBsAg",)),
        (31, 30, ("panel_expired:HBsAg",)),
        (30, 30, ()),
    ],
)
def test_expiry_follows_the_validity_setting(
    make_ready, doctor, make_user, days_ago, validity, codes
):
    patient = make_ready()
    settings.update_settings({"panel_validity_days": str(validity)}, actor=make_user(Role.MANAGER))
    for item in ALL_PANEL:  # recent results for the others
        services.enter_panel_result(
            patient.patient,
            actor=doctor,
            item_code=item,
            test_date=services.clinic_today() - timedelta(days=1),
            result="Negative",
            acceptable=True,
        )
    services.enter_panel_result(
        patient.patient,
        actor=doctor,
        item_code="HBsAg",
        test_date=services.clinic_today() - timedelta(days=days_ago),
        result="Negative",
        acceptable=True,
    )
    assert gate(patient).codes == codes


def test_results_expire_as_days_pass(make_ready):
    patient = make_ready()  # tests taken 7 days ago, valid 90 days
    assert gate(patient, today=services.clinic_today() + timedelta(days=83)).allowed
    later = gate(patient, today=services.clinic_today() + timedelta(days=84))
    assert later.codes == tuple(f"panel_expired:{code}" for code in ALL_PANEL)


@pytest.mark.parametrize(
    ("acceptable", "code"),
    [(None, "panel_pending:anti-HIV"), (False, "panel_unacceptable:anti-HIV")],
)
def test_pending_or_unacceptable_results_block(make_ready, doctor, acceptable, code):
    patient = make_ready()
    services.enter_panel_result(
        patient.patient,
        actor=doctor,
        item_code="anti-HIV",
        test_date=services.clinic_today(),
        result="Reactive, confirmation pending",
        acceptable=acceptable,
    )
    assert gate(patient).codes == (code,)


def test_a_test_the_clinic_adds_is_required(make_ready):
    patient = make_ready()
    db.session.add(PanelItemDefinition(code="anti-HEV", names={"en": "Hepatitis E"}, sort_order=99))
    db.session.commit()
    assert gate(patient).codes == ("panel_missing:anti-HEV",)


def test_withdrawal_halts_the_gate(make_ready):
    patient = make_ready()
    services.withdraw_consent(patient.patient, ConsentKind.TREATMENT, actor=patient)
    result = gate(patient)
    assert not result.allowed and result.codes == ("consent_withdrawn",)


def test_missing_items_explain_themselves(make_approved):
    result = gate(make_approved())
    texts = [m.text() for m in result.missing]
    assert "The Hepatitis B surface antigen (HBsAg) test result has not been recorded yet." in texts
    assert "The consent for the treatment has not been signed yet." in texts


def test_the_gate_runs_a_fixed_number_of_queries(make_ready, coordinator, doctor, count_queries):
    patient = make_ready()
    gate(patient)  # settings are cached per request; count them as a fresh read below
    from flask import g

    g.pop("_clinic_settings", None)
    course = course_of(patient)
    with count_queries() as small:
        queries.collection_gate_for(course, today=services.clinic_today())
    for _ in range(3):  # more rows everywhere: the same number of queries
        enter_panel(patient, actor=doctor)
    services.withdraw_consent(patient.patient, ConsentKind.CROSS_BORDER, actor=patient)
    services.sign_consent(
        patient.patient,
        queries.document_for(ConsentKind.CROSS_BORDER, "en"),
        actor=patient,
        password=PASSWORD,
    )
    db.session.commit()
    db.session.refresh(patient)  # the commit expired it; the gate is handed a loaded user
    g.pop("_clinic_settings", None)
    db.session.refresh(course)
    with count_queries() as big:
        assert queries.collection_gate_for(course, today=services.clinic_today()).allowed
    # questionnaire, results, panel items, settings, signatures, newest consent version
    assert len(big) == len(small) <= 6
