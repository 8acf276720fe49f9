"""Demo intake data: reference lists and one patient in each journey state.
Everything goes through the services, as a real clinic day would."""

from __future__ import annotations

from datetime import date, timedelta

from intake.accounts import services as accounts
from intake.accounts.demo import PATIENT_PASSWORD, register_demo_patients, staff_login
from intake.accounts.models import User
from intake.accounts.roles import Role
from intake.eligibility import queries, services
from intake.eligibility.models import ConsentKind, Decision

#: Answers with nothing that stops or delays the treatment (knee osteoarthritis).
ELIGIBLE_ANSWERS: dict[str, str] = {
    "indication": "knee_oa",
    "indication_details": "Both knees hurt on stairs for about five years.",
    "past_history": "Appendectomy 1998.",
    "present_illnesses": "",
    "heart_attack_or_stroke": "no",
    "uncontrolled_hypertension": "no",
    "severe_anaemia": "no",
    "malignancy_history": "no",
    "active_infection": "no",
    "current_medication": "Glucosamine supplement.",
    "anticoagulant_use": "no",
    "allergy_local_anaesthetic": "no",
    "allergy_bovine_serum": "no",
    "allergy_antibiotics": "no",
    "other_allergies": "",
    "pregnant_or_breastfeeding": "no",
    "height_cm": "165",
    "weight_kg": "60",
    "smoking": "never",
    "alcohol": "occasional",
}
#: Takes a blood thinner: a doctor must review (never an automatic no).
NEEDS_REVIEW_ANSWERS = {
    **ELIGIBLE_ANSWERS,
    "indication": "after_stroke",
    "current_medication": "Apixaban 5 mg twice a day.",
    "anticoagulant_use": "yes",
}
#: Cancer still under treatment: a hard exclusion.
INELIGIBLE_ANSWERS = {
    **ELIGIBLE_ANSWERS,
    "indication": "immune_support",
    "malignancy_history": "yes",
    "malignancy_active": "yes",
}

EXTRA_PATIENTS = (
    ("zhang.min@demo.clinic", "张敏", date(1962, 9, 8), "+86 137 0000 1122", "zh_Hans"),
    ("chen.jie@demo.clinic", "陈杰", date(1970, 4, 21), "+86 135 0000 3344", "zh_Hans"),
    ("zhou.fang@demo.clinic", "周芳", date(1966, 10, 2), "+86 136 0000 5566", "zh_Hans"),
)


# --------------------------------------------------------------------------- building blocks


def answer_pages(user: User, answers: dict, *, pages: int | None = None) -> None:
    """Answer the questionnaire page by page, as the patient (``user``, their
    login) would."""
    patient = user.patient
    data = services.questionnaire_data(services.editable_questionnaire(patient, create=False))
    for page in data.pages[:pages]:
        services.save_page(patient, page.code, answers, actor=user, direction="next")


def submit(user: User, answers: dict) -> None:
    answer_pages(user, answers)
    services.submit_questionnaire(user.patient, actor=user)


def _course_id(user: User) -> int:
    from intake.patients.services import current_course

    return current_course(user.patient).id


def approve(
    patient: User, *, doctor: User, doctor_password: str, indication: str, route: str
) -> None:
    questionnaire = queries.current_questionnaire(_course_id(patient))
    services.save_review_notes(
        questionnaire,
        actor=doctor,
        history_notes="Video consultation: treatment, expected effect, risks and cost explained.",
        consultation_date=services.clinic_today(),
        indication_code=indication,
        planned_route=route,
    )
    services.order_panel(questionnaire, actor=doctor)
    services.decide_review(
        questionnaire,
        actor=doctor,
        decision=Decision.APPROVED,
        reason="Suitable for the treatment after the consultation.",
        password=doctor_password,
        override_reason="Discussed at the consultation; the benefit outweighs the risk."
        if questionnaire.outcome and questionnaire.outcome.value != "eligible"
        else None,
    )


def enter_panel(patient: User, *, actor: User, count: int | None = None, days_ago: int = 7) -> None:
    """Acceptable results for the first ``count`` panel tests (all by default)."""
    test_date = services.clinic_today() - timedelta(days=days_ago)
    for item in queries.panel_items()[:count]:
        services.enter_panel_result(
            patient.patient,
            actor=actor,
            item_code=item.code,
            test_date=test_date,
            result="Negative",
            acceptable=True if actor.role == Role.DOCTOR else None,
        )


def sign_all(user: User, *, password: str) -> None:
    for kind in ConsentKind:
        document = queries.document_for(kind, user.locale)
        services.sign_consent(user.patient, document, actor=user, password=password)


def make_ready_to_book(
    patient: User, *, doctor: User, doctor_password: str, coordinator: User, password: str
) -> User:
    """Questionnaire, approval, complete panel and both consents: the gate opens."""
    services.ensure_reference_data()
    submit(patient, ELIGIBLE_ANSWERS)
    approve(
        patient, doctor=doctor, doctor_password=doctor_password, indication="knee_oa", route="local"
    )
    enter_panel(patient, actor=doctor)
    sign_all(patient, password=password)
    return patient


# --------------------------------------------------------------------------- the demo clinic


def seed_eligibility() -> list[str]:
    """Reference data plus a patient in each state. Idempotent: a patient who
    already has a questionnaire is left as they are."""
    lines = [f"intake: {line}" for line in services.ensure_reference_data()]
    doctor_email, doctor_password = staff_login(Role.DOCTOR)
    doctor = accounts.find_by_email(doctor_email)
    coordinator = accounts.find_by_email(staff_login(Role.COORDINATOR)[0])

    lines.extend(register_demo_patients(EXTRA_PATIENTS))

    def fresh(email: str) -> User | None:
        patient = accounts.find_by_email(email)
        if patient is None or queries.current_questionnaire(_course_id(patient)) is not None:
            return None
        return patient

    if patient := fresh("patient@demo.clinic"):
        answer_pages(patient, {**ELIGIBLE_ANSWERS, "indication": "skin_ageing"}, pages=2)
        lines.append("intake: 王丽 has a questionnaire in progress (draft)")
    if patient := fresh("li.wei@demo.clinic"):
        submit(patient, NEEDS_REVIEW_ANSWERS)
        lines.append("intake: 李伟 submitted; needs a doctor's review (anticoagulant)")
    if patient := fresh("yamada@demo.clinic"):
        submit(patient, ELIGIBLE_ANSWERS)
        approve(
            patient,
            doctor=doctor,
            doctor_password=doctor_password,
            indication="knee_oa",
            route="local",
        )
        enter_panel(patient, actor=coordinator, count=4)
        lines.append("intake: 山田 花子 approved; panel results pending")
    if patient := fresh("smith@demo.clinic"):
        make_ready_to_book(
            patient,
            doctor=doctor,
            doctor_password=doctor_password,
            coordinator=coordinator,
            password=PATIENT_PASSWORD,
        )
        lines.append("intake: Anna Smith approved, panel complete, consent signed: ready to book")
    if patient := fresh("zhang.min@demo.clinic"):
        submit(patient, INELIGIBLE_ANSWERS)
        services.decide_review(
            queries.current_questionnaire(_course_id(patient)),
            actor=doctor,
            decision=Decision.DECLINED,
            reason="Cancer treatment is still going on. Please continue it with your oncologist; "
            "you are welcome to ask us again five years after it has ended.",
            password=doctor_password,
        )
        lines.append("intake: 张敏 declined (ineligible)")
    if patient := fresh("chen.jie@demo.clinic"):
        make_ready_to_book(
            patient,
            doctor=doctor,
            doctor_password=doctor_password,
            coordinator=coordinator,
            password=PATIENT_PASSWORD,
        )
        services.withdraw_consent(
            patient.patient,
            ConsentKind.TREATMENT,
            actor=patient,
            reason="I would like to think about it longer with my family.",
        )
        lines.append("intake: 陈杰 withdrew consent (journey halted)")
    if patient := fresh("zhou.fang@demo.clinic"):
        make_ready_to_book(
            patient,
            doctor=doctor,
            doctor_password=doctor_password,
            coordinator=coordinator,
            password=PATIENT_PASSWORD,
        )
        lines.append("intake: 周芳 ready; the scheduling demo books her collection")
    return lines
