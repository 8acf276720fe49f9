from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from intake.eligibility.rules import (
    DEFAULT_THRESHOLDS,
    ELIGIBLE,
    EXCLUDE,
    INELIGIBLE,
    NEEDS_REVIEW,
    REVIEW,
    RULES,
    Rule,
    age_on,
    evaluate,
    subtract_months,
)

CONSULT = date(2025, 6, 15)
ADULT = date(1975, 1, 10)

SAFE: dict[str, Any] = {
    "pregnant_or_breastfeeding": "no",
    "malignancy_history": "no",
    "active_infection": "no",
    "allergy_local_anaesthetic": "no",
    "allergy_bovine_serum": "no",
    "allergy_antibiotics": "no",
    "anticoagulant_use": "no",
    "severe_anaemia": "no",
    "heart_attack_or_stroke": "no",
    "uncontrolled_hypertension": "no",
}

ALL_TOP_LEVEL = tuple(SAFE)


def answers(**changes: Any) -> dict[str, Any]:
    merged = {**SAFE, **changes}
    return {key: value for key, value in merged.items() if value is not None}


def cancer(when: Any = None, active: str = "no") -> dict[str, Any]:
    return answers(malignancy_history="yes", malignancy_active=active, malignancy_when=when)


def cardiac(when: Any) -> dict[str, Any]:
    return answers(heart_attack_or_stroke="yes", heart_attack_or_stroke_date=when)


CASES = [
    # --- age (consultation 2025-06-15) --------------------------------------------
    pytest.param(answers(), date(2005, 6, 15), CONSULT, {}, ELIGIBLE, (), id="exactly-20"),
    pytest.param(
        answers(),
        date(2005, 6, 16),
        CONSULT,
        {},
        INELIGIBLE,
        ("age_below_minimum",),
        id="day-before-20th-birthday",
    ),
    pytest.param(answers(), date(1945, 6, 15), CONSULT, {}, ELIGIBLE, (), id="exactly-80"),
    pytest.param(
        answers(), date(1944, 6, 16), CONSULT, {}, ELIGIBLE, (), id="day-before-81st-birthday"
    ),
    pytest.param(
        answers(),
        date(1944, 6, 15),
        CONSULT,
        {},
        INELIGIBLE,
        ("age_above_maximum",),
        id="81st-birthday",
    ),
    pytest.param(
        answers(),
        date(1944, 2, 29),
        date(2025, 2, 28),
        {},
        ELIGIBLE,
        (),
        id="leap-born-still-80-on-feb-28",
    ),
    pytest.param(
        answers(),
        date(1944, 2, 29),
        date(2025, 3, 1),
        {},
        INELIGIBLE,
        ("age_above_maximum",),
        id="leap-born-81-on-mar-1",
    ),
    pytest.param(
        answers(),
        date(2004, 2, 29),
        date(2024, 2, 29),
        {},
        ELIGIBLE,
        (),
        id="leap-born-20-on-leap-day",
    ),
    pytest.param(
        answers(),
        date(2004, 2, 29),
        date(2024, 2, 28),
        {},
        INELIGIBLE,
        ("age_below_minimum",),
        id="leap-born-day-before-leap-birthday",
    ),
    pytest.param(
        answers(),
        date(2004, 2, 29),
        date(2025, 2, 28),
        {"age_min": 21},
        INELIGIBLE,
        ("age_below_minimum",),
        id="leap-born-custom-min-feb-28",
    ),
    pytest.param(
        answers(),
        date(2004, 2, 29),
        date(2025, 3, 1),
        {"age_min": 21},
        ELIGIBLE,
        (),
        id="leap-born-custom-min-mar-1",
    ),
    pytest.param(
        answers(),
        date(1949, 6, 14),
        CONSULT,
        {"age_max": 75},
        INELIGIBLE,
        ("age_above_maximum",),
        id="custom-age-max",
    ),
    pytest.param(
        answers(),
        date(2030, 1, 1),
        CONSULT,
        {},
        INELIGIBLE,
        ("age_below_minimum",),
        id="birth-after-consultation",
    ),
    # --- hard exclusions ----------------------------------------------------------
    pytest.param(
        answers(pregnant_or_breastfeeding="yes"),
        ADULT,
        CONSULT,
        {},
        INELIGIBLE,
        ("pregnancy_or_breastfeeding",),
        id="pregnant",
    ),
    pytest.param(
        cancer(active="yes"),
        ADULT,
        CONSULT,
        {},
        INELIGIBLE,
        ("malignancy_recent",),
        id="cancer-active-now",
    ),
    pytest.param(
        cancer(2022),
        ADULT,
        CONSULT,
        {},
        INELIGIBLE,
        ("malignancy_recent",),
        id="cancer-treated-3-years-ago",
    ),
    pytest.param(
        cancer(2021),
        ADULT,
        CONSULT,
        {},
        INELIGIBLE,
        ("malignancy_recent",),
        id="cancer-whole-year-inside-window",
    ),
    pytest.param(
        cancer(2020),
        ADULT,
        CONSULT,
        {},
        NEEDS_REVIEW,
        ("malignancy_timing_unclear",),
        id="cancer-year-straddles-5-year-boundary",
    ),
    pytest.param(cancer(2019), ADULT, CONSULT, {}, ELIGIBLE, (), id="cancer-more-than-5-years-ago"),
    pytest.param(
        cancer(2020),
        ADULT,
        date(2025, 12, 31),
        {},
        ELIGIBLE,
        (),
        id="cancer-exactly-5-years-at-latest",
    ),
    pytest.param(
        cancer(2021),
        ADULT,
        date(2026, 1, 1),
        {},
        NEEDS_REVIEW,
        ("malignancy_timing_unclear",),
        id="cancer-year-starts-exactly-5-years-ago",
    ),
    pytest.param(
        cancer(2019),
        ADULT,
        CONSULT,
        {"malignancy_exclusion_years": 10},
        INELIGIBLE,
        ("malignancy_recent",),
        id="cancer-custom-10-years",
    ),
    pytest.param(
        cancer("２０１８"), ADULT, CONSULT, {}, ELIGIBLE, (), id="cancer-year-full-width-digits"
    ),
    pytest.param(
        answers(active_infection="yes"),
        ADULT,
        CONSULT,
        {},
        INELIGIBLE,
        ("active_infection",),
        id="active-infection",
    ),
    pytest.param(
        answers(allergy_local_anaesthetic="yes"),
        ADULT,
        CONSULT,
        {},
        INELIGIBLE,
        ("allergy_local_anaesthetic",),
        id="lidocaine-allergy",
    ),
    pytest.param(
        answers(allergy_bovine_serum="yes"),
        ADULT,
        CONSULT,
        {},
        INELIGIBLE,
        ("allergy_culture_materials",),
        id="bovine-serum-allergy",
    ),
    pytest.param(
        answers(allergy_antibiotics="yes"),
        ADULT,
        CONSULT,
        {},
        INELIGIBLE,
        ("allergy_culture_materials",),
        id="antibiotic-allergy",
    ),
    # --- review triggers ----------------------------------------------------------
    pytest.param(
        answers(anticoagulant_use="yes"),
        ADULT,
        CONSULT,
        {},
        NEEDS_REVIEW,
        ("anticoagulant_use",),
        id="anticoagulant",
    ),
    pytest.param(
        answers(severe_anaemia="yes"),
        ADULT,
        CONSULT,
        {},
        NEEDS_REVIEW,
        ("severe_anaemia",),
        id="severe-anaemia",
    ),
    pytest.param(
        answers(uncontrolled_hypertension="yes"),
        ADULT,
        CONSULT,
        {},
        NEEDS_REVIEW,
        ("uncontrolled_hypertension",),
        id="uncontrolled-hypertension",
    ),
    pytest.param(
        cardiac("2024-12-15"), ADULT, CONSULT, {}, ELIGIBLE, (), id="cardiac-exactly-6-months"
    ),
    pytest.param(
        cardiac("2024-12-16"),
        ADULT,
        CONSULT,
        {},
        NEEDS_REVIEW,
        ("recent_cardiac_event",),
        id="cardiac-6-months-less-a-day",
    ),
    pytest.param(
        cardiac("2025-06-15"),
        ADULT,
        CONSULT,
        {},
        NEEDS_REVIEW,
        ("recent_cardiac_event",),
        id="cardiac-on-consultation-day",
    ),
    pytest.param(
        cardiac("2025-02-28"),
        ADULT,
        date(2025, 8, 31),
        {},
        ELIGIBLE,
        (),
        id="cardiac-month-end-clamped-exactly",
    ),
    pytest.param(
        cardiac("2025-03-01"),
        ADULT,
        date(2025, 8, 31),
        {},
        NEEDS_REVIEW,
        ("recent_cardiac_event",),
        id="cardiac-month-end-day-later",
    ),
    pytest.param(
        cardiac("2024-02-29"),
        ADULT,
        date(2024, 8, 31),
        {},
        ELIGIBLE,
        (),
        id="cardiac-leap-month-end-exactly",
    ),
    pytest.param(
        cardiac(date(2024, 12, 16)),
        ADULT,
        CONSULT,
        {"recent_cardiac_event_months": 3},
        ELIGIBLE,
        (),
        id="cardiac-custom-3-months-date-object",
    ),
    pytest.param(cardiac("2010-05-01"), ADULT, CONSULT, {}, ELIGIBLE, (), id="cardiac-long-ago"),
    # --- combinations: every fired rule is listed ----------------------------------
    pytest.param(
        answers(pregnant_or_breastfeeding="yes", anticoagulant_use="yes"),
        ADULT,
        CONSULT,
        {},
        INELIGIBLE,
        ("pregnancy_or_breastfeeding", "anticoagulant_use"),
        id="exclusion-and-review",
    ),
    pytest.param(
        answers(
            active_infection="yes",
            uncontrolled_hypertension="yes",
            severe_anaemia="yes",
            allergy_antibiotics="yes",
        ),
        date(2010, 1, 1),
        CONSULT,
        {},
        INELIGIBLE,
        (
            "age_below_minimum",
            "active_infection",
            "allergy_culture_materials",
            "severe_anaemia",
            "uncontrolled_hypertension",
        ),
        id="many-rules-fire",
    ),
    pytest.param(
        {**cardiac("2025-05-01"), "anticoagulant_use": "yes"},
        ADULT,
        CONSULT,
        {},
        NEEDS_REVIEW,
        ("anticoagulant_use", "recent_cardiac_event"),
        id="two-reviews",
    ),
    # --- missing or unreadable safety answers ----------------------------------------
    pytest.param(
        {},
        ADULT,
        CONSULT,
        {},
        NEEDS_REVIEW,
        ("unanswered_safety_questions",),
        id="nothing-answered",
    ),
    pytest.param(
        answers(severe_anaemia=None),
        ADULT,
        CONSULT,
        {},
        NEEDS_REVIEW,
        ("unanswered_safety_questions",),
        id="one-answer-missing",
    ),
    pytest.param(
        answers(active_infection="maybe"),
        ADULT,
        CONSULT,
        {},
        NEEDS_REVIEW,
        ("unanswered_safety_questions",),
        id="unreadable-answer",
    ),
    pytest.param(
        cardiac(None),
        ADULT,
        CONSULT,
        {},
        NEEDS_REVIEW,
        ("unanswered_safety_questions",),
        id="cardiac-date-missing",
    ),
    pytest.param(
        cardiac("2025-07-01"),
        ADULT,
        CONSULT,
        {},
        NEEDS_REVIEW,
        ("unanswered_safety_questions",),
        id="cardiac-date-after-consultation",
    ),
    pytest.param(
        answers(malignancy_history="yes"),
        ADULT,
        CONSULT,
        {},
        NEEDS_REVIEW,
        ("unanswered_safety_questions",),
        id="cancer-activity-missing",
    ),
    pytest.param(
        cancer(None),
        ADULT,
        CONSULT,
        {},
        NEEDS_REVIEW,
        ("unanswered_safety_questions",),
        id="cancer-year-missing",
    ),
    pytest.param(
        cancer(2030),
        ADULT,
        CONSULT,
        {},
        NEEDS_REVIEW,
        ("unanswered_safety_questions",),
        id="cancer-year-in-future",
    ),
    pytest.param(
        answers(pregnant_or_breastfeeding="yes", anticoagulant_use=None),
        ADULT,
        CONSULT,
        {},
        INELIGIBLE,
        ("pregnancy_or_breastfeeding", "unanswered_safety_questions"),
        id="exclusion-with-missing-answer",
    ),
    pytest.param(
        answers(malignancy_active="yes", malignancy_when=2024),
        ADULT,
        CONSULT,
        {},
        ELIGIBLE,
        (),
        id="stale-hidden-cancer-answers-ignored",
    ),
    pytest.param(
        answers(pregnant_or_breastfeeding=" YES "),
        ADULT,
        CONSULT,
        {},
        INELIGIBLE,
        ("pregnancy_or_breastfeeding",),
        id="raw-answer-normalised",
    ),
]


@pytest.mark.parametrize(("given", "born", "consulted", "thresholds", "outcome", "codes"), CASES)
def test_evaluate(
    given: dict[str, Any],
    born: date,
    consulted: date,
    thresholds: dict[str, int],
    outcome: str,
    codes: tuple[str, ...],
) -> None:
    assessment = evaluate(given, born, consulted, {**DEFAULT_THRESHOLDS, **thresholds})
    assert assessment.outcome == outcome
    assert assessment.codes == codes


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        pytest.param({}, ALL_TOP_LEVEL, id="all-top-level"),
        pytest.param(answers(severe_anaemia=None), ("severe_anaemia",), id="one"),
        pytest.param(cardiac(None), ("heart_attack_or_stroke_date",), id="follow-up-date"),
        pytest.param(
            answers(malignancy_history="yes"), ("malignancy_active",), id="follow-up-active"
        ),
        pytest.param(cancer(None), ("malignancy_when",), id="follow-up-year"),
    ],
)
def test_unanswered_reason_lists_the_questions(
    given: dict[str, Any], missing: tuple[str, ...]
) -> None:
    reason = evaluate(given, ADULT, CONSULT).reasons[-1]
    assert (reason.code, reason.severity) == ("unanswered_safety_questions", REVIEW)
    assert set(reason.questions) == set(missing)


@pytest.mark.parametrize(
    ("born", "code", "expected"),
    [
        (date(2005, 6, 16), "age_below_minimum", "aged 20 to 80 on the day"),
        (date(1944, 6, 15), "age_above_maximum", "aged 20 to 80 on the day"),
    ],
)
def test_age_message_is_interpolated(born: date, code: str, expected: str) -> None:
    (reason,) = evaluate(answers(), born, CONSULT).reasons
    assert reason.code == code
    assert reason.severity == EXCLUDE
    assert expected in reason.text()
    assert reason.params["age"] == age_on(born, CONSULT)


@pytest.mark.parametrize(
    ("given", "code", "params"),
    [
        (cancer(2023), "malignancy_recent", {"years": 5}),
        (cancer(2020), "malignancy_timing_unclear", {"years": 5}),
        (cardiac("2025-06-01"), "recent_cardiac_event", {"months": 6}),
    ],
)
def test_params_and_translation_hook(given: dict[str, Any], code: str, params: dict) -> None:
    (reason,) = evaluate(given, ADULT, CONSULT).reasons
    assert reason.code == code
    assert dict(reason.params) == params
    translated = reason.text(lambda message: "[" + message + "]")
    assert translated.startswith("[") and "%(" not in translated


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 6, 15), 6, date(2024, 12, 15)),
        (date(2025, 8, 31), 6, date(2025, 2, 28)),
        (date(2024, 8, 31), 6, date(2024, 2, 29)),
        (date(2025, 3, 31), 1, date(2025, 2, 28)),
        (date(2025, 1, 15), 13, date(2023, 12, 15)),
        (date(2024, 2, 29), 12, date(2023, 2, 28)),
    ],
)
def test_subtract_months(day: date, months: int, expected: date) -> None:
    assert subtract_months(day, months) == expected


@pytest.mark.parametrize(
    ("born", "on", "expected"),
    [
        (date(2004, 2, 29), date(2025, 2, 28), 20),
        (date(2004, 2, 29), date(2025, 3, 1), 21),
        (date(2004, 2, 29), date(2028, 2, 29), 24),
        (date(2000, 12, 31), date(2020, 12, 30), 19),
        (date(2000, 12, 31), date(2020, 12, 31), 20),
    ],
)
def test_age_on(born: date, on: date, expected: int) -> None:
    assert age_on(born, on) == expected


def test_rule_table_is_well_formed() -> None:
    codes = [rule.code for rule in RULES]
    assert len(codes) == len(set(codes))
    for rule in RULES:
        assert rule.severity in (EXCLUDE, REVIEW)
        assert rule.message.strip()


def test_a_clinic_can_extend_the_rule_table() -> None:
    heavy_smoker = Rule(
        "current_smoker",
        REVIEW,
        lambda ctx: ctx.answers.get("smoking") == "current",
        "A doctor will talk with you about smoking.",
        questions=("smoking",),
    )
    result = evaluate(answers(smoking="current"), ADULT, CONSULT, rules=(*RULES, heavy_smoker))
    assert result.outcome == NEEDS_REVIEW
    assert result.codes == ("current_smoker",)


@pytest.mark.parametrize(
    "thresholds",
    [{"age_min": 81, "age_max": 80}, {"recent_cardiac_event_months": -1}],
)
def test_bad_thresholds_are_refused(thresholds: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        evaluate(answers(), ADULT, CONSULT, thresholds)


def test_missing_threshold_keys_fall_back_to_defaults() -> None:
    assert evaluate(answers(), date(2005, 6, 16), CONSULT, {}).outcome == INELIGIBLE


def test_every_rule_has_a_title_for_staff():
    from intake.eligibility.rules import RULE_TITLES, RULES, rule_title

    assert {rule.code for rule in RULES} == set(RULE_TITLES)
    assert rule_title("anticoagulant_use") == "Takes blood thinners"
    assert rule_title("some_new_rule") == "Some new rule"
