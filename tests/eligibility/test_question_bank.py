from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from intake.eligibility.question_bank import (
    DEFAULT_QUESTION_SET,
    INDICATION_OTHER,
    INDICATIONS,
    KINDS,
    LANGUAGES,
    MSG_CHOICE,
    MSG_DATE_FORMAT,
    MSG_DATE_FUTURE,
    MSG_DATE_TOO_OLD,
    MSG_NUMBER_FORMAT,
    MSG_NUMBER_RANGE,
    MSG_REQUIRED,
    MSG_TEXT_TOO_LONG,
    MSG_YEAR_FORMAT,
    MSG_YEAR_FUTURE,
    MSG_YES_NO,
    ROUTES,
    Condition,
    Page,
    QuestionSet,
    QuestionSetInvalid,
    check_question_set,
    load_question_set,
    progress,
    validate_answers,
    visible_questions,
)
from intake.eligibility.rules import REQUIRED_ANSWERS

QS = DEFAULT_QUESTION_SET
TODAY = date(2025, 6, 15)
ALL_QUESTIONS = tuple(QS.questions())


def codes(questions: Any) -> list[str]:
    return [q.code for q in questions]


# --------------------------------------------------------------------------- the data


@pytest.mark.parametrize("question", ALL_QUESTIONS, ids=lambda q: q.code)
def test_every_question_speaks_three_languages(question: Any) -> None:
    assert question.kind in KINDS
    for lang in LANGUAGES:
        assert question.text[lang].strip()
        if question.help:
            assert question.help[lang].strip()
        for choice in question.choices:
            assert choice.text[lang].strip()


@pytest.mark.parametrize("page", QS.pages, ids=lambda p: p.code)
def test_every_page_has_a_title_and_questions(page: Page) -> None:
    assert all(page.title[lang].strip() for lang in LANGUAGES)
    assert page.questions


def test_codes_are_unique_snake_case() -> None:
    question_codes = codes(ALL_QUESTIONS)
    assert len(question_codes) == len(set(question_codes))
    page_codes = [page.code for page in QS.pages]
    assert len(page_codes) == len(set(page_codes))
    for code in question_codes + page_codes:
        assert code.isidentifier() and code == code.lower()


def test_show_if_refers_to_earlier_questions_and_possible_values() -> None:
    assert check_question_set(QS) == ()
    seen: set[str] = set()
    for question in ALL_QUESTIONS:
        for condition in question.show_if:
            assert condition.question in seen
        seen.add(question.code)


def test_choice_questions_have_unique_choice_codes() -> None:
    for question in ALL_QUESTIONS:
        if question.kind == "choice":
            assert len(question.choice_codes()) == len(set(question.choice_codes())) > 1


@pytest.mark.parametrize("required", REQUIRED_ANSWERS, ids=lambda r: r.code)
def test_every_safety_answer_the_rules_need_is_a_required_question(required: Any) -> None:
    assert QS.question(required.code).required


def test_covers_the_domain_topics() -> None:
    expected = {
        "indication",
        "past_history",
        "present_illnesses",
        "smoking",
        "alcohol",
        "current_medication",
        "anticoagulant_use",
        "allergy_local_anaesthetic",
        "allergy_bovine_serum",
        "allergy_antibiotics",
        "pregnant_or_breastfeeding",
        "malignancy_history",
        "malignancy_when",
        "active_infection",
        "heart_attack_or_stroke",
        "heart_attack_or_stroke_date",
        "uncontrolled_hypertension",
        "severe_anaemia",
        "height_cm",
        "weight_kg",
    }
    assert expected <= set(codes(ALL_QUESTIONS))
    assert not QS.question("height_cm").required
    assert not QS.question("weight_kg").required


def test_indications_and_routes() -> None:
    route_codes = {route.code for route in ROUTES}
    indication_codes = [item.code for item in INDICATIONS]
    assert INDICATION_OTHER not in indication_codes
    assert len(indication_codes) == len(set(indication_codes)) == 11
    for item in INDICATIONS:
        assert item.routes and set(item.routes) <= route_codes
        assert all(item.names[lang].strip() for lang in LANGUAGES)
    by_code = {item.code: item for item in INDICATIONS}
    assert by_code["hair_loss"].routes == ("local",)
    assert "intrathecal" in by_code["spinal_cord_injury"].routes
    assert QS.question("indication").choice_codes() == (*indication_codes, INDICATION_OTHER)


def test_round_trips_through_json() -> None:
    stored = json.dumps(QS.to_dict(), ensure_ascii=False)
    assert QuestionSet.from_dict(json.loads(stored)) == QS
    assert QS.to_dict()["version"] == 1


def test_from_dict_refuses_unknown_kinds() -> None:
    data = QS.to_dict()
    data["pages"][0]["questions"][0]["kind"] = "slider"
    with pytest.raises(ValueError):
        QuestionSet.from_dict(data)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda q: replace(q, text={"en": "Hi", "zh_Hans": "", "ja": "やあ"}), "no zh_Hans text"),
        (lambda q: replace(q, show_if=(Condition("nowhere", ("yes",)),)), "show_if refers"),
        (lambda q: replace(q, code="smoking"), "used twice"),
    ],
)
def test_check_question_set_finds_problems(change: Any, problem: str) -> None:
    page = QS.pages[0]
    broken_page = replace(page, questions=(change(page.questions[0]), *page.questions[1:]))
    broken = replace(QS, pages=(broken_page, *QS.pages[1:]))
    assert any(problem in message for message in check_question_set(broken))


# --------------------------------------------------------------------------- visibility

CANCER_FOLLOW_UPS = ("malignancy_active", "malignancy_when")


@pytest.mark.parametrize(
    ("answers", "shown", "hidden"),
    [
        ({}, ("pregnant_or_breastfeeding",), CANCER_FOLLOW_UPS),
        ({"malignancy_history": "no"}, (), CANCER_FOLLOW_UPS),
        ({"malignancy_history": "yes"}, ("malignancy_active",), ("malignancy_when",)),
        ({"malignancy_history": "yes", "malignancy_active": "no"}, CANCER_FOLLOW_UPS, ()),
        (
            {"malignancy_history": "yes", "malignancy_active": "yes"},
            ("malignancy_active",),
            ("malignancy_when",),
        ),
        (
            {"malignancy_history": "no", "malignancy_active": "no"},
            (),
            CANCER_FOLLOW_UPS,
        ),
        ({"heart_attack_or_stroke": "yes"}, ("heart_attack_or_stroke_date",), ()),
        ({"heart_attack_or_stroke": "no"}, (), ("heart_attack_or_stroke_date",)),
        ({"indication": "other"}, ("indication_other",), ()),
        ({"indication": "knee_oa"}, (), ("indication_other",)),
        ({"malignancy_history": "Yes"}, ("malignancy_active",), ()),
    ],
)
def test_visible_questions(
    answers: dict[str, Any], shown: tuple[str, ...], hidden: tuple[str, ...]
) -> None:
    visible = set(codes(visible_questions(QS, answers)))
    assert set(shown) <= visible
    assert not set(hidden) & visible


def test_visible_questions_of_one_page() -> None:
    page = visible_questions(QS, {"heart_attack_or_stroke": "yes"}, page_code="heart_blood")
    assert codes(page) == [
        "heart_attack_or_stroke",
        "heart_attack_or_stroke_date",
        "uncontrolled_hypertension",
        "severe_anaemia",
    ]


# --------------------------------------------------------------------------- progress

BASE_REQUIRED = 13
ALL_REQUIRED_NO = {
    "indication": "knee_oa",
    "heart_attack_or_stroke": "no",
    "uncontrolled_hypertension": "no",
    "severe_anaemia": "no",
    "malignancy_history": "no",
    "active_infection": "no",
    "anticoagulant_use": "no",
    "allergy_local_anaesthetic": "no",
    "allergy_bovine_serum": "no",
    "allergy_antibiotics": "no",
    "pregnant_or_breastfeeding": "no",
    "smoking": "never",
    "alcohol": "none",
}


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({}, (0, BASE_REQUIRED)),
        ({"height_cm": 170, "past_history": "appendix out"}, (0, BASE_REQUIRED)),
        ({"indication": "knee_oa", "smoking": "never"}, (2, BASE_REQUIRED)),
        ({"indication": "other"}, (1, BASE_REQUIRED + 1)),
        ({"indication": "other", "indication_other": "tennis elbow"}, (2, BASE_REQUIRED + 1)),
        ({"malignancy_history": "yes"}, (1, BASE_REQUIRED + 1)),
        ({"malignancy_history": "yes", "malignancy_active": "no"}, (2, BASE_REQUIRED + 2)),
        ({"indication": "  "}, (0, BASE_REQUIRED)),
        (ALL_REQUIRED_NO, (BASE_REQUIRED, BASE_REQUIRED)),
        (
            {**ALL_REQUIRED_NO, "heart_attack_or_stroke": "yes"},
            (BASE_REQUIRED, BASE_REQUIRED + 1),
        ),
    ],
)
def test_progress(answers: dict[str, Any], expected: tuple[int, int]) -> None:
    assert progress(QS, answers) == expected


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("page", "raw", "clean", "errors"),
    [
        pytest.param(
            "cancer_infection",
            {"malignancy_history": "no", "active_infection": "no", "csrf_token": "x"},
            {"malignancy_history": "no", "active_infection": "no"},
            {},
            id="yes-no-ok-unknown-keys-ignored",
        ),
        pytest.param(
            "cancer_infection",
            {"malignancy_history": " YES ", "malignancy_active": "no", "malignancy_when": "2018"},
            {"malignancy_history": "yes", "malignancy_active": "no", "malignancy_when": 2018},
            {"active_infection": MSG_REQUIRED},
            id="follow-ups-and-required",
        ),
        pytest.param(
            "cancer_infection",
            {"malignancy_history": "maybe", "malignancy_when": "2018", "active_infection": "no"},
            {"active_infection": "no"},
            {"malignancy_history": MSG_YES_NO},
            id="bad-yes-no-hides-follow-ups",
        ),
        pytest.param(
            "cancer_infection",
            {"malignancy_history": "no", "malignancy_active": "yes", "active_infection": "no"},
            {"malignancy_history": "no", "active_infection": "no"},
            {},
            id="hidden-answers-dropped",
        ),
        pytest.param(
            "cancer_infection",
            {
                "malignancy_history": "yes",
                "malignancy_active": "no",
                "malignancy_when": "2026",
                "active_infection": "no",
            },
            {"malignancy_history": "yes", "malignancy_active": "no", "active_infection": "no"},
            {"malignancy_when": MSG_YEAR_FUTURE},
            id="year-in-future",
        ),
        pytest.param(
            "cancer_infection",
            {
                "malignancy_history": "yes",
                "malignancy_active": "no",
                "malignancy_when": "18",
                "active_infection": "no",
            },
            {"malignancy_history": "yes", "malignancy_active": "no", "active_infection": "no"},
            {"malignancy_when": MSG_YEAR_FORMAT},
            id="two-digit-year",
        ),
        pytest.param(
            "indication",
            {"indication": "knee_oa", "indication_details": "  stairs hurt  "},
            {"indication": "knee_oa", "indication_details": "stairs hurt"},
            {},
            id="choice-ok-text-stripped",
        ),
        pytest.param(
            "indication",
            {"indication": "teeth"},
            {},
            {"indication": MSG_CHOICE},
            id="choice-not-in-list",
        ),
        pytest.param(
            "indication",
            {"indication": "other"},
            {"indication": "other"},
            {"indication_other": MSG_REQUIRED},
            id="other-needs-description",
        ),
        pytest.param(
            "indication",
            {"indication": "knee_oa", "indication_details": "x" * 2001},
            {"indication": "knee_oa"},
            {"indication_details": MSG_TEXT_TOO_LONG},
            id="text-too-long",
        ),
        pytest.param(
            "heart_blood",
            {
                "heart_attack_or_stroke": "yes",
                "heart_attack_or_stroke_date": "2024-11-03",
                "uncontrolled_hypertension": "no",
                "severe_anaemia": "no",
            },
            {
                "heart_attack_or_stroke": "yes",
                "heart_attack_or_stroke_date": "2024-11-03",
                "uncontrolled_hypertension": "no",
                "severe_anaemia": "no",
            },
            {},
            id="date-ok",
        ),
        pytest.param(
            "heart_blood",
            {"heart_attack_or_stroke": "yes", "heart_attack_or_stroke_date": "2025-06-15"},
            {"heart_attack_or_stroke": "yes", "heart_attack_or_stroke_date": "2025-06-15"},
            {"uncontrolled_hypertension": MSG_REQUIRED, "severe_anaemia": MSG_REQUIRED},
            id="date-today-allowed",
        ),
        pytest.param(
            "heart_blood",
            {"heart_attack_or_stroke": "yes", "heart_attack_or_stroke_date": "2025-06-16"},
            {"heart_attack_or_stroke": "yes"},
            {
                "heart_attack_or_stroke_date": MSG_DATE_FUTURE,
                "uncontrolled_hypertension": MSG_REQUIRED,
                "severe_anaemia": MSG_REQUIRED,
            },
            id="date-tomorrow-refused",
        ),
        pytest.param(
            "heart_blood",
            {"heart_attack_or_stroke": "yes", "heart_attack_or_stroke_date": "15/06/2024"},
            {"heart_attack_or_stroke": "yes"},
            {
                "heart_attack_or_stroke_date": MSG_DATE_FORMAT,
                "uncontrolled_hypertension": MSG_REQUIRED,
                "severe_anaemia": MSG_REQUIRED,
            },
            id="date-wrong-format",
        ),
        pytest.param(
            "heart_blood",
            {"heart_attack_or_stroke": "yes", "heart_attack_or_stroke_date": "2025-02-30"},
            {"heart_attack_or_stroke": "yes"},
            {
                "heart_attack_or_stroke_date": MSG_DATE_FORMAT,
                "uncontrolled_hypertension": MSG_REQUIRED,
                "severe_anaemia": MSG_REQUIRED,
            },
            id="date-impossible",
        ),
        pytest.param(
            "heart_blood",
            {"heart_attack_or_stroke": "yes", "heart_attack_or_stroke_date": "1850-01-01"},
            {"heart_attack_or_stroke": "yes"},
            {
                "heart_attack_or_stroke_date": MSG_DATE_TOO_OLD,
                "uncontrolled_hypertension": MSG_REQUIRED,
                "severe_anaemia": MSG_REQUIRED,
            },
            id="date-too-old",
        ),
        pytest.param(
            "heart_blood",
            {"heart_attack_or_stroke": "no", "heart_attack_or_stroke_date": "nonsense"},
            {"heart_attack_or_stroke": "no"},
            {"uncontrolled_hypertension": MSG_REQUIRED, "severe_anaemia": MSG_REQUIRED},
            id="hidden-date-not-checked",
        ),
        pytest.param(
            "about_you",
            {"pregnant_or_breastfeeding": "no", "height_cm": "１６８", "weight_kg": "61.5"},
            {"pregnant_or_breastfeeding": "no", "height_cm": 168, "weight_kg": 61.5},
            {},
            id="numbers-incl-full-width",
        ),
        pytest.param(
            "about_you",
            {"pregnant_or_breastfeeding": "no", "height_cm": "", "weight_kg": None},
            {"pregnant_or_breastfeeding": "no"},
            {},
            id="optional-numbers-blank",
        ),
        pytest.param(
            "about_you",
            {"pregnant_or_breastfeeding": "no", "height_cm": "1.68", "weight_kg": "600"},
            {"pregnant_or_breastfeeding": "no"},
            {"height_cm": MSG_NUMBER_RANGE, "weight_kg": MSG_NUMBER_RANGE},
            id="numbers-out-of-range",
        ),
        pytest.param(
            "about_you",
            {"pregnant_or_breastfeeding": "no", "height_cm": "170cm", "weight_kg": "1e2"},
            {"pregnant_or_breastfeeding": "no"},
            {"height_cm": MSG_NUMBER_FORMAT, "weight_kg": MSG_NUMBER_FORMAT},
            id="numbers-not-digits",
        ),
        pytest.param(
            "about_you",
            {},
            {},
            {"pregnant_or_breastfeeding": MSG_REQUIRED},
            id="empty-page",
        ),
    ],
)
def test_validate_answers(
    page: str, raw: dict[str, Any], clean: dict[str, Any], errors: dict[str, str]
) -> None:
    assert validate_answers(QS, page, raw, today=TODAY) == (clean, errors)


def test_validate_uses_answers_from_other_pages_for_show_if() -> None:
    extra = replace(
        QS.question("weight_kg"),
        code="follow_up",
        required=True,
        show_if=(Condition("smoking", ("current",)),),
    )
    page = Page("late", {"en": "L", "zh_Hans": "L", "ja": "L"}, (extra,))
    custom = replace(QS, pages=(*QS.pages, page))
    asked = validate_answers(custom, "late", {}, today=TODAY, previous={"smoking": "current"})
    skipped = validate_answers(custom, "late", {}, today=TODAY, previous={"smoking": "never"})
    assert asked == ({}, {"follow_up": MSG_REQUIRED})
    assert skipped == ({}, {})


def test_validate_unknown_page() -> None:
    with pytest.raises(KeyError):
        validate_answers(QS, "nope", {}, today=TODAY)


def test_validate_answers_needs_today() -> None:
    """No fallback to the machine's clock: the clinic's today is passed in."""
    with pytest.raises(TypeError):
        validate_answers(QS, QS.pages[0].code, {})  # type: ignore[call-arg]


def _broken(change) -> dict[str, Any]:
    data = json.loads(json.dumps(DEFAULT_QUESTION_SET.to_dict()))
    change(data)
    return data


def _drop_zh(data):
    del data["pages"][1]["questions"][0]["text"]["zh_Hans"]


def _bad_show_if(data):
    data["pages"][0]["questions"][0]["show_if"] = [{"question": "smoking", "in": ["current"]}]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d.pop("pages"), "malformed definition: missing 'pages'"),
        (lambda d: d.update(pages="x"), "malformed definition"),
        (lambda d: d["pages"][0]["questions"][0].pop("kind"), "missing 'kind'"),
        (lambda d: d["pages"][0]["questions"][0].update(kind="colour"), "unknown question kind"),
        (_drop_zh, "no zh_Hans text"),
        (_bad_show_if, "show_if refers to smoking, not asked before"),
        (lambda d: d["pages"].append(d["pages"][0]), "page codes are not unique"),
    ],
)
def test_load_question_set_names_what_is_wrong(change, problem) -> None:
    with pytest.raises(QuestionSetInvalid) as caught:
        load_question_set(_broken(change))
    assert any(problem in p for p in caught.value.problems), caught.value.problems
    assert "question set version" in str(caught.value)


@pytest.mark.parametrize("data", [None, [], "pages", 3])
def test_load_question_set_refuses_what_is_not_an_object(data) -> None:
    with pytest.raises(QuestionSetInvalid, match="malformed definition"):
        load_question_set(data)


def test_load_question_set_reads_a_good_one() -> None:
    assert load_question_set(DEFAULT_QUESTION_SET.to_dict()) == DEFAULT_QUESTION_SET
