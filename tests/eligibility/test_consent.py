"""Consent: versioned texts per language, signed by re-entering the password,
recording who, when, which version and language and the meaning; withdrawal
at any time halts the journey and staff see it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from intake.accounts.roles import Role
from intake.core.errors import DomainError, NotAllowed
from intake.eligibility import consent_texts, queries, services
from intake.eligibility.models import ConsentDocument, ConsentKind, ConsentSignature
from intake.extensions import db
from intake.notifications.models import Message
from tests.conftest import PASSWORD
from tests.eligibility.conftest import current, error_beside
from tests.helpers import course_of


def _signatures() -> int:
    return db.session.execute(select(func.count()).select_from(ConsentSignature)).scalar_one()


def _sign(patient, kind=ConsentKind.TREATMENT, password=PASSWORD, locale=None):
    document = queries.document_for(kind, locale or patient.locale)
    return services.sign_consent(patient.patient, document, actor=patient, password=password)


def _login(client, patient):
    client.post("/login", data={"email": patient.email, "password": PASSWORD}).close()


# --------------------------------------------------------------------------- the texts


TREATMENT_HEADINGS = {
    "en": (
        "What the treatment is",
        "Expected effects",
        "Risks",
        "Alternatives",
        "Your choice is free",
        "How to withdraw",
        "Privacy",
        "Cost",
    ),
    "zh_Hans": (
        "治疗内容",
        "预期效果",
        "风险",
        "其他治疗选择",
        "自由决定",
        "撤回同意",
        "隐私",
        "费用",
    ),
    "ja": (
        "治療の内容",
        "期待される効果",
        "危険性",
        "ほかの治療法",
        "自由な意思",
        "同意の撤回",
        "個人情報",
        "費用",
    ),
}


@pytest.mark.parametrize("locale", ["en", "zh_Hans", "ja"])
def test_version_1_covers_every_item_of_domain_rule_3(locale):
    title, body = consent_texts.DOCUMENTS[(consent_texts.TREATMENT, locale)]
    headings = [line for line in body.splitlines() if line.startswith("## ")]
    assert len(headings) >= 8
    for word in TREATMENT_HEADINGS[locale]:
        assert any(word in h for h in headings), (locale, word)
    cross_title, cross_body = consent_texts.DOCUMENTS[(consent_texts.CROSS_BORDER, locale)]
    assert cross_title and len(cross_body) > 500


def test_reference_data_publishes_version_1_in_three_languages(intake):
    documents = queries.consent_documents()
    assert {(d.kind, d.locale, d.version, d.is_current) for d in documents} == {
        (kind, locale, 1, True) for kind in ConsentKind for locale in ("en", "zh_Hans", "ja")
    }
    assert services.ensure_reference_data() == []  # idempotent


# --------------------------------------------------------------------------- signing


def test_signing_records_who_when_version_language_and_meaning(make_approved, audit_rows):
    patient = make_approved(locale="zh_Hans", full_name="王丽")
    signature = services.sign_consent(
        patient.patient,
        queries.document_for(ConsentKind.TREATMENT, "zh_Hans"),
        actor=patient,
        password=PASSWORD,
        ip_address="203.0.113.7",
    )
    db.session.commit()
    assert (signature.patient_id, signature.kind, signature.version, signature.locale) == (
        patient.id,
        ConsentKind.TREATMENT,
        1,
        "zh_Hans",
    )
    assert signature.signer_name == "王丽" and signature.signed_at is not None
    assert signature.ip_address == "203.0.113.7"
    assert "王丽" in signature.meaning  # in the language of the document signed
    assert "自体脂肪干细胞治疗知情同意书" in signature.meaning
    (row,) = audit_rows("eligibility.consent_sign", patient_id=patient.id)
    assert row.actor_id == patient.id
    assert row.after["version"] == 1 and row.after["locale"] == "zh_Hans"
    assert row.note == signature.meaning
    message = db.session.execute(
        select(Message).where(Message.template == "eligibility_consent_signed")
    ).scalar_one()
    assert message.attachment_name == "consent-treatment-v1-zh_Hans.txt"
    assert "## 1. 治疗内容" in message.attachment_body


def test_signing_needs_the_right_password(make_approved):
    patient = make_approved()
    with pytest.raises(DomainError) as caught:
        _sign(patient, password="Not-My-Password-1")
    assert caught.value.field == "password"
    db.session.rollback()
    assert _signatures() == 0


def test_only_the_patient_signs(make_approved, make_user):
    patient = make_approved()
    document = queries.document_for(ConsentKind.TREATMENT, "en")
    with pytest.raises(NotAllowed):
        services.sign_consent(
            patient.patient, document, actor=make_user(Role.DOCTOR), password=PASSWORD
        )


def test_consent_is_signed_only_after_the_answers_are_sent(intake, make_user):
    patient = make_user(Role.PATIENT)
    with pytest.raises(DomainError):
        _sign(patient)


def test_the_same_version_is_not_signed_twice(make_approved):
    patient = make_approved()
    _sign(patient)
    with pytest.raises(DomainError):
        _sign(patient)


def test_a_new_version_must_be_read_before_signing(make_approved, make_user):
    patient = make_approved()
    old = queries.document_for(ConsentKind.TREATMENT, "en")
    _sign(patient)
    new = services.publish_consent_document(
        actor=make_user(Role.MANAGER),
        kind=ConsentKind.TREATMENT,
        locale="en",
        title="Consent, version 2",
        body="## 1. What the treatment is\nUpdated text.",
    )
    db.session.commit()
    assert (new.version, new.is_current, old.is_current) == (2, True, False)
    with pytest.raises(DomainError):
        services.sign_consent(patient.patient, old, actor=patient, password=PASSWORD)
    signature = services.sign_consent(patient.patient, new, actor=patient, password=PASSWORD)
    assert signature.version == 2


# --------------------------------------------------------------------------- withdrawal


def test_withdrawal_halts_the_gate_and_is_audited(make_ready, audit_rows):
    patient = make_ready()
    today = services.clinic_today()
    assert queries.collection_gate_for(course_of(patient), today=today).allowed
    signature = services.withdraw_consent(
        patient.patient, ConsentKind.TREATMENT, actor=patient, reason="Need more time."
    )
    db.session.commit()
    gate = queries.collection_gate_for(course_of(patient), today=today)
    assert not gate.allowed and gate.codes == ("consent_withdrawn",)
    assert signature.withdrawn_at is not None and signature.withdrawal_reason == "Need more time."
    (row,) = audit_rows("eligibility.consent_withdraw", patient_id=patient.id)
    assert row.before["withdrawn_at"] is None and row.after["withdrawn_at"]
    assert db.session.get(ConsentSignature, signature.id) is not None  # kept, not deleted
    message = db.session.execute(
        select(Message).where(Message.template == "eligibility_consent_withdrawn")
    ).scalar_one()
    assert message.user_id == patient.id


def test_withdrawing_the_cross_border_consent_also_halts(make_ready):
    patient = make_ready()
    services.withdraw_consent(patient.patient, ConsentKind.CROSS_BORDER, actor=patient)
    gate = queries.collection_gate_for(course_of(patient), today=services.clinic_today())
    assert gate.codes == ("consent_withdrawn",)


def test_signing_again_after_withdrawal_reopens_the_journey(make_ready):
    patient = make_ready()
    services.withdraw_consent(patient.patient, ConsentKind.TREATMENT, actor=patient)
    _sign(patient)
    assert queries.collection_gate_for(course_of(patient), today=services.clinic_today()).allowed


def test_staff_record_a_withdrawal_only_with_a_reason(make_ready, coordinator, make_user):
    patient = make_ready()
    with pytest.raises(DomainError) as caught:
        services.withdraw_consent(
            patient.patient, ConsentKind.TREATMENT, actor=coordinator, reason=""
        )
    assert caught.value.field == "reason"
    with pytest.raises(NotAllowed):
        services.withdraw_consent(
            patient.patient, ConsentKind.TREATMENT, actor=make_user(Role.LAB), reason="x"
        )
    with pytest.raises(NotAllowed):
        services.withdraw_consent(
            patient.patient, ConsentKind.TREATMENT, actor=make_user(Role.PATIENT), reason="x"
        )
    signature = services.withdraw_consent(
        patient.patient, ConsentKind.TREATMENT, actor=coordinator, reason="Phoned the clinic."
    )
    assert signature.withdrawn_by_id == coordinator.id


def test_nothing_to_withdraw(make_approved):
    patient = make_approved()
    with pytest.raises(DomainError) as caught:
        services.withdraw_consent(patient.patient, ConsentKind.TREATMENT, actor=patient)
    assert caught.value.message == "There is no signed consent to withdraw."


# --------------------------------------------------------------------------- pages


def test_the_patient_reads_and_signs_in_their_language(client, make_approved):
    patient = make_approved(locale="ja")
    _login(client, patient)
    with client.get("/consent/treatment") as r:
        body = r.get_data(as_text=True)
    assert "自己脂肪由来幹細胞治療についての同意書" in body
    assert "治療の内容" in body and 'lang="ja"' in body
    document = queries.document_for(ConsentKind.TREATMENT, "ja")
    data = {"document_id": str(document.id), "has_read": "y", "password": PASSWORD}
    with client.post("/consent/treatment", data=data) as r:
        assert r.status_code == 302 and r.headers["Location"] == "/journey"
    signature = db.session.execute(select(ConsentSignature)).scalar_one()
    assert signature.locale == "ja" and signature.ip_address == "127.0.0.1"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"password": "wrong"}, "password", "The password is not correct"),
        ({"password": ""}, "password", "This field is required."),
        ({"has_read": ""}, "has_read", "Please confirm that you have read the document."),
    ],
)
def test_signing_problems_are_shown_beside_the_field(
    client, make_approved, changes, field, message
):
    patient = make_approved()
    _login(client, patient)
    document = queries.document_for(ConsentKind.CROSS_BORDER, "en")
    data = {"document_id": str(document.id), "has_read": "y", "password": PASSWORD, **changes}
    with client.post("/consent/cross_border", data=data) as r:
        body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert message in error_beside(body, field)
    assert _signatures() == 0


def test_an_outdated_document_id_is_not_signed(client, make_approved):
    patient = make_approved()
    _login(client, patient)
    data = {"document_id": "999", "has_read": "y", "password": PASSWORD}
    with client.post("/consent/treatment", data=data) as r:
        assert "newer version" in r.get_data(as_text=True)
    assert _signatures() == 0


def test_the_patient_withdraws_on_the_page(client, make_ready):
    patient = make_ready()
    _login(client, patient)
    with client.post("/consent/treatment/withdraw", data={"reason": ""}) as r:
        body = r.get_data(as_text=True)
    assert "Please confirm to withdraw." in error_beside(body, "confirm")
    with client.post("/consent/treatment/withdraw", data={"confirm": "y", "reason": "Later"}) as r:
        assert r.headers["Location"] == "/journey"
    with client.get("/journey") as r:
        body = r.get_data(as_text=True)
    assert 'data-step="halted"' in body
    with client.get("/consent") as r:
        assert "Withdrawn" in r.get_data(as_text=True)


def test_staff_see_a_withdrawal(client, login_as, make_ready, make_submitted):
    patient = make_ready(full_name="Withdrawn Patient")
    services.withdraw_consent(
        patient.patient, ConsentKind.TREATMENT, actor=patient, reason="Family."
    )
    waiting = make_submitted()  # signed while waiting, then withdrew
    services.sign_consent(
        waiting.patient,
        queries.document_for(ConsentKind.CROSS_BORDER, "en"),
        actor=waiting,
        password=PASSWORD,
    )
    services.withdraw_consent(waiting.patient, ConsentKind.CROSS_BORDER, actor=waiting)
    db.session.commit()
    login_as(Role.COORDINATOR)
    with client.get(f"/reviews/{current(patient).id}") as r:
        body = r.get_data(as_text=True)
    assert 'id="consent-withdrawn"' in body and "Family." in body
    with client.get(f"/panel/{patient.id}") as r:
        assert "Consent withdrawn" in r.get_data(as_text=True)
    with client.get("/reviews") as r:
        queue = r.get_data(as_text=True)
    assert "Consent withdrawn" in queue.split(waiting.full_name, 1)[1].split("</li>", 1)[0]


def test_staff_record_a_withdrawal_on_the_review_page(client, login_as, make_ready):
    patient = make_ready()
    login_as(Role.DOCTOR)
    url = f"/patients/{patient.id}/consent/withdraw"
    with client.post(url, data={"withdraw-kind": "treatment", "withdraw-reason": ""}) as r:
        assert "This field is required." in error_beside(
            r.get_data(as_text=True), "withdraw-reason"
        )
    data = {"withdraw-kind": "treatment", "withdraw-reason": "Told us by phone."}
    with client.post(url, data=data) as r:
        assert r.status_code == 302
    assert queries.latest_signatures(course_of(patient).id)[ConsentKind.TREATMENT].is_withdrawn


def test_consent_records_of_others_are_404(client, make_ready, make_approved):
    theirs = make_ready()
    mine = make_approved()
    their_signature = queries.latest_signatures(course_of(theirs).id)[ConsentKind.TREATMENT]
    _login(client, mine)
    with client.get(f"/consent/signatures/{their_signature.id}") as r:
        assert r.status_code == 404
    with client.get("/consent/signatures/999999") as r:
        assert r.status_code == 404
    with client.get("/consent/nonsense") as r:
        assert r.status_code == 404
    mine_signature = _sign(mine)
    db.session.commit()
    with client.get(f"/consent/signatures/{mine_signature.id}") as r:
        body = r.get_data(as_text=True)
    assert r.status_code == 200 and mine_signature.meaning in body.replace("&#34;", '"')


def test_the_manager_publishes_a_new_version(client, login_as, intake, audit_rows):
    login_as(Role.MANAGER)
    data = {"kind": "treatment", "locale": "zh_Hans", "title": "", "body": "## 1. x"}
    with client.post("/manager/consents", data=data) as r:
        assert "This field is required." in error_beside(r.get_data(as_text=True), "title")
    data["title"] = "知情同意书（第2版）"
    with client.post("/manager/consents", data=data) as r:
        assert r.status_code == 302
    current_zh = queries.document_for(ConsentKind.TREATMENT, "zh_Hans")
    assert (current_zh.version, current_zh.title) == (2, "知情同意书（第2版）")
    assert (
        db.session.execute(
            select(func.count()).select_from(ConsentDocument).where(ConsentDocument.is_current)
        ).scalar_one()
        == 6
    )
    assert audit_rows("eligibility.consent_publish")[-1].after["version"] == 2


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.PATIENT, Role.COORDINATOR])
def test_only_managers_publish(client, login_as, intake, role):
    login_as(role)
    with client.get("/manager/consents") as r:
        assert r.status_code == 403
