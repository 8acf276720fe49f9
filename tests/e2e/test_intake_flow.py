"""Patient intake in a real browser: a patient answers the questionnaire in
Chinese on a phone and lands in ``needs_review``; a doctor (another browser)
approves with their password; the panel results arrive; the patient signs
both consents (the treatment consent only once the doctor has recorded the
consultation date) and is told to book the collection visit next."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from intake.accounts.roles import Role
from intake.eligibility import queries, services
from intake.eligibility.demo import enter_panel
from intake.eligibility.models import Outcome, QuestionnaireStatus
from intake.extensions import db
from tests.conftest import PASSWORD
from tests.e2e.conftest import DESKTOP, assert_accessible, log_in
from tests.helpers import course_of

SHOTS = Path("/tmp/intake-shots")


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def next_page(page: Page) -> None:
    page.locator("button[name=action][value=next]").click()


def choose(page: Page, question: str, answer: str) -> None:
    """Click the visible control for a yes/no toggle or a listed choice."""
    page.locator(f"label[for='{question}-{answer}']").click()


def test_patient_in_chinese_to_approved_and_ready_to_book(
    app, live_server, page: Page, browser, make_user, zh
):
    services.ensure_reference_data()
    patient = make_user(Role.PATIENT, full_name="王丽", locale="zh_Hans")
    make_user(Role.COORDINATOR)
    doctor = make_user(Role.DOCTOR, full_name="Dr. Sato Hiroshi", locale="en")
    db.session.commit()

    # --- the patient, on a phone, in Chinese
    log_in(page, live_server, patient.email)
    page.goto(f"{live_server}/journey")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator("#next-step")).to_have_attribute("data-step", "answer")
    assert_accessible(page)
    page.locator("#next-step a.btn-primary").click()

    expect(page).to_have_url(f"{live_server}/questionnaire/indication")
    expect(page.get_by_role("heading", level=1)).to_have_text("您希望改善的问题")
    expect(page.get_by_text("您想咨询哪方面的治疗？")).to_be_visible()
    # "Something else" needs words; the script shows that question only then.
    expect(page.locator("#question-indication_other")).to_be_hidden()
    choose(page, "indication", "other")
    expect(page.locator("#question-indication_other")).to_be_visible()
    choose(page, "indication", "after_stroke")
    expect(page.locator("#question-indication_other")).to_be_hidden()
    assert_accessible(page)
    shot(page, "questionnaire-zh-indication")
    next_page(page)

    expect(page).to_have_url(f"{live_server}/questionnaire/history")
    page.locator("#past_history").fill("2019年脑梗死，住院两周。")
    next_page(page)

    # Heart and blood: a missing answer is shown beside its question, in Chinese.
    expect(page).to_have_url(f"{live_server}/questionnaire/heart_blood")
    choose(page, "heart_attack_or_stroke", "no")
    choose(page, "severe_anaemia", "no")
    next_page(page)
    expect(page.locator("#uncontrolled_hypertension-error")).to_have_text("请回答这个问题。")
    expect(page.locator("#question-heart_attack_or_stroke_date")).to_be_hidden()
    assert_accessible(page)
    shot(page, "questionnaire-zh-error")
    choose(page, "uncontrolled_hypertension", "no")
    next_page(page)

    expect(page).to_have_url(f"{live_server}/questionnaire/cancer_infection")
    choose(page, "malignancy_history", "no")
    choose(page, "active_infection", "no")
    next_page(page)

    expect(page).to_have_url(f"{live_server}/questionnaire/medication_allergies")
    expect(page.get_by_text("您是否在服用抗凝药或抗血小板药")).to_be_visible()
    page.locator("#current_medication").fill("阿哌沙班 5 mg，每日两次")
    choose(page, "anticoagulant_use", "yes")
    for question in ("allergy_local_anaesthetic", "allergy_bovine_serum", "allergy_antibiotics"):
        choose(page, question, "no")
    assert_accessible(page)
    shot(page, "questionnaire-zh-medication")
    next_page(page)

    expect(page).to_have_url(f"{live_server}/questionnaire/about_you")
    choose(page, "pregnant_or_breastfeeding", "no")
    page.locator("#height_cm").fill("162")
    next_page(page)

    expect(page).to_have_url(f"{live_server}/questionnaire/lifestyle")
    choose(page, "smoking", "never")
    choose(page, "alcohol", "none")
    next_page(page)

    expect(page).to_have_url(f"{live_server}/questionnaire/review")
    expect(page.get_by_text("阿哌沙班 5 mg，每日两次")).to_be_visible()
    assert_accessible(page)
    page.locator("#submit-answers").click()

    expect(page).to_have_url(f"{live_server}/journey")
    expect(page.locator("#next-step")).to_have_attribute("data-step", "review")
    assert_accessible(page)
    shot(page, "journey-zh-review")
    record = queries.current_questionnaire(course_of(patient).id)
    db.session.refresh(record)
    assert record.status == QuestionnaireStatus.SUBMITTED
    assert record.outcome == Outcome.NEEDS_REVIEW
    assert [r["code"] for r in record.reasons] == ["anticoagulant_use"]

    # --- the doctor, in another browser, approves with their password
    desk = browser.new_context(viewport=DESKTOP, locale="en-GB", timezone_id="Asia/Tokyo")
    try:
        doc = desk.new_page()
        log_in(doc, live_server, doctor.email)
        doc.goto(f"{live_server}/reviews")
        assert_accessible(doc)
        doc.get_by_role("link", name="王丽").click()
        expect(doc.locator('[data-rule="anticoagulant_use"]')).to_be_visible()
        expect(doc.get_by_text("阿哌沙班 5 mg，每日两次")).to_be_visible()
        assert_accessible(doc)
        doc.locator("#notes-indication_code").select_option("after_stroke")
        doc.locator("#notes-planned_route").select_option("iv")
        doc.locator("#notes-history_notes").fill("Atrial fibrillation on apixaban.")
        # The video consultation took place today: approving (and, later, the
        # patient's treatment consent) needs its date on record.
        doc.locator("#notes-consultation_date").fill(services.clinic_today().isoformat())
        doc.get_by_role("button", name="Save notes").click()
        expect(doc.locator("#notes-planned_route")).to_have_value("iv")
        expect(doc.locator("#notes-consultation_date")).to_have_value(
            services.clinic_today().isoformat()
        )
        doc.locator("#decision-decision-0").check()  # approve
        expect(doc.locator("#meaning-approved")).to_contain_text("Dr. Sato Hiroshi")
        doc.locator("#decision-reason").fill("Suitable after the video consultation.")
        doc.locator("#decision-override_reason").fill("Cardiologist agrees to pause apixaban.")
        doc.locator("#decision-password").fill("not-my-password")
        doc.locator("#sign-decision").click()
        expect(doc.locator("#decision-password-error")).to_contain_text("password")
        doc.locator("#decision-password").fill(PASSWORD)
        doc.locator("#sign-decision").click()
        expect(doc).to_have_url(f"{live_server}/reviews")
        expect(doc.get_by_text("Approved")).to_be_visible()
    finally:
        desk.close()
    db.session.refresh(record)
    assert record.status == QuestionnaireStatus.APPROVED

    # --- the panel results arrive (a doctor judges them acceptable)
    enter_panel(patient, actor=doctor)
    db.session.commit()

    # --- the patient signs both consents and is told to book next
    page.goto(f"{live_server}/journey")
    expect(page.locator("#next-step")).to_have_attribute("data-step", "consent")
    page.goto(f"{live_server}/consent")
    assert_accessible(page)
    for kind in ("treatment", "cross_border"):
        page.goto(f"{live_server}/consent/{kind}")
        expect(page.locator("article")).to_have_attribute("lang", "zh-Hans")
        if kind == "treatment":
            expect(page.get_by_role("heading", level=1)).to_have_text(
                "自体脂肪干细胞治疗知情同意书"
            )
            assert_accessible(page)
            shot(page, "consent-zh-treatment")
        page.locator("#has_read").check()
        page.locator("#password").fill(PASSWORD)
        page.locator("#sign-consent").click()
        expect(page).to_have_url(f"{live_server}/journey")

    expect(page.locator("#next-step")).to_have_attribute("data-step", "book")
    book = zh("Book your collection visit.") or "Book your collection visit."
    expect(page.locator("#next-h")).to_have_text(book)
    assert_accessible(page)
    shot(page, "journey-zh-book")
    assert queries.collection_gate_for(course_of(patient), today=services.clinic_today()).allowed
