"""The culture batch's lifecycle as pure rules: every (from, to) pair allowed
or forbidden, each guard at its boundary, and the buttons. No app."""

import itertools
from decimal import Decimal

import pytest

from intake.accounts.roles import Role
from intake.cultures.lifecycle import (
    FINAL,
    OPEN,
    STATE_LABELS,
    TRANSITIONS,
    BatchState,
    DoseOverride,
    DoseRange,
    Finding,
    QcItem,
    Thresholds,
    TransitionContext,
    Why,
    allowed_targets,
    check_transition,
    is_open,
    options,
    refusals,
)

S = BatchState
RECEIVED, IN_CULTURE, HARVEST_READY, QC_PENDING = (
    S.RECEIVED,
    S.IN_CULTURE,
    S.HARVEST_READY,
    S.QC_PENDING,
)
RELEASED, CRYOPRESERVED, ADMINISTERED, FAILED, DISCARDED = (
    S.RELEASED,
    S.CRYOPRESERVED,
    S.ADMINISTERED,
    S.FAILED,
    S.DISCARDED,
)

#: Every step the lifecycle has; any pair not listed is forbidden.
ALLOWED = {
    (RECEIVED, IN_CULTURE),
    (IN_CULTURE, HARVEST_READY),
    (HARVEST_READY, QC_PENDING),
    (QC_PENDING, RELEASED),
    (RELEASED, ADMINISTERED),
    (RELEASED, CRYOPRESERVED),
    (CRYOPRESERVED, RELEASED),  # an aliquot thawed for a later dose
} | {(state, end) for state in OPEN for end in (FAILED, DISCARDED)}

DOSE = DoseRange(80_000_000, 120_000_000)
PASSING_QC = {
    QcItem.STERILITY: Finding.NEGATIVE,
    QcItem.MYCOPLASMA: Finding.NEGATIVE,
    QcItem.ENDOTOXIN: Decimal("0.12"),
    QcItem.VIABILITY: Decimal("92.5"),
    QcItem.CELL_COUNT: 100_000_000,
}


def ctx(**overrides) -> TransitionContext:
    """A context in which every guard passes, changed by ``overrides``."""
    values = {"qc": PASSING_QC, "planned_dose": DOSE, "reason": "Contaminated flask"}
    values.update(overrides)
    return TransitionContext(**values)


def qc(**changes) -> dict:
    result = {**PASSING_QC, **{QcItem(k): v for k, v in changes.items()}}
    return {k: v for k, v in result.items() if v is not None}


def keys(found) -> list[str]:
    return [r.key for r in found]


# --- the state machine ---------------------------------------------------------------


@pytest.mark.parametrize(("current", "target"), list(itertools.product(S, S)))
def test_every_pair_allowed_or_forbidden(current, target):
    """With every guard satisfied, a step is allowed exactly when it is in ALLOWED."""
    refusal = check_transition(current, target, context=ctx())
    if (current, target) in ALLOWED:
        assert refusal is None
    else:
        assert refusal is not None
        assert refusal.code == Why.TRANSITION
        assert refusal.params == {"current": current.value, "target": target.value}


def test_the_table_is_the_module_table():
    module = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert module == ALLOWED
    assert set(TRANSITIONS) == set(S) == set(STATE_LABELS)


@pytest.mark.parametrize("state", list(S))
def test_final_states_have_no_way_out(state):
    assert (TRANSITIONS[state] == ()) == (state in FINAL)
    assert is_open(state) == (state not in FINAL)


def test_failed_and_discarded_from_every_state_before_administered():
    for state in S:
        for end in (FAILED, DISCARDED):
            allowed = check_transition(state, end, context=ctx()) is None
            assert allowed == (state not in FINAL), (state, end)


def test_states_may_be_given_as_their_values():
    assert check_transition("received", "in_culture") is None
    with pytest.raises(ValueError):
        check_transition("received", "thawed")


# Without any context, which allowed steps are refused, and why first.
UNGUARDED = {
    (RECEIVED, IN_CULTURE),
    (IN_CULTURE, HARVEST_READY),
    (HARVEST_READY, QC_PENDING),
    (RELEASED, CRYOPRESERVED),
}


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED))
def test_guards_with_an_empty_context(current, target):
    refusal = check_transition(current, target)
    if (current, target) in UNGUARDED:
        assert refusal is None
    elif target in (FAILED, DISCARDED):
        assert refusal.code == Why.REASON_REQUIRED
    elif target == RELEASED:
        assert refusal.code == Why.QC_MISSING
    else:  # administered: no dose plan
        assert refusal.code == Why.DOSE_NOT_PLANNED


# --- fail and discard ------------------------------------------------------------------


@pytest.mark.parametrize("reason", [None, "", "   ", "\n\t"])
@pytest.mark.parametrize("end", [FAILED, DISCARDED])
def test_fail_and_discard_need_a_reason(end, reason):
    refusal = check_transition(IN_CULTURE, end, context=ctx(reason=reason))
    assert refusal.code == Why.REASON_REQUIRED
    assert "why" in refusal.text()


@pytest.mark.parametrize("end", [FAILED, DISCARDED])
def test_fail_and_discard_need_nothing_else(end):
    context = TransitionContext(reason="Poor growth")  # no QC, no dose plan
    assert check_transition(QC_PENDING, end, context=context) is None


# --- release ---------------------------------------------------------------------------


def test_release_with_everything_passing():
    assert refusals(QC_PENDING, RELEASED, context=ctx()) == ()


@pytest.mark.parametrize("item", list(QcItem))
def test_release_refused_when_one_qc_result_is_missing(item):
    found = refusals(QC_PENDING, RELEASED, context=ctx(qc=qc(**{item.value: None})))
    assert keys(found) == [f"qc_missing:{item}"]


def test_release_lists_every_missing_result_in_order():
    found = refusals(QC_PENDING, RELEASED, context=ctx(qc={}))
    assert keys(found) == [f"qc_missing:{item}" for item in QcItem]


@pytest.mark.parametrize(
    ("change", "allowed"),
    [
        ({"viability": Decimal("69.9")}, False),
        ({"viability": Decimal("69.99")}, False),
        ({"viability": Decimal("70.0")}, True),
        ({"viability": Decimal("70")}, True),
        ({"viability": 70}, True),
        ({"viability": Decimal("100")}, True),
        ({"viability": Decimal("0")}, False),
        ({"endotoxin": Decimal("0.49")}, True),
        ({"endotoxin": Decimal("0.499")}, True),
        ({"endotoxin": Decimal("0.50")}, False),
        ({"endotoxin": Decimal("0.5")}, False),
        ({"endotoxin": Decimal("0")}, True),
        ({"endotoxin": Decimal("12")}, False),
        ({"sterility": Finding.POSITIVE}, False),
        ({"sterility": "negative"}, True),
        ({"mycoplasma": Finding.POSITIVE}, False),
        ({"mycoplasma": "positive"}, False),
        ({"cell_count": DOSE.low}, True),
        ({"cell_count": DOSE.low - 1}, False),
        ({"cell_count": DOSE.high}, True),
        ({"cell_count": DOSE.high + 1}, False),
        ({"cell_count": 0}, False),
    ],
)
def test_release_thresholds_at_their_boundaries(change, allowed):
    found = refusals(QC_PENDING, RELEASED, context=ctx(qc=qc(**change)))
    if allowed:
        assert found == ()
    else:
        (item,) = change
        assert keys(found) == [f"qc_failed:{item}"]


def test_release_messages_name_the_value_and_the_limit():
    context = ctx(qc=qc(viability=Decimal("69.9"), endotoxin=Decimal("0.50"), cell_count=5))
    texts = [r.text() for r in refusals(QC_PENDING, RELEASED, context=context)]
    assert texts == [
        "Endotoxin is 0.50 EU/mL; it must be below 0.5 EU/mL.",
        "Viability is 69.9 %; it must be at least 70 %.",
        "The cell count of 5 is outside the planned dose of 80000000 to 120000000 cells.",
    ]


def test_messages_are_translated_before_they_are_filled():
    refusal = check_transition(QC_PENDING, RELEASED, context=ctx(qc=qc(viability=Decimal(50))))
    assert refusal.text(lambda m: m.replace("Viability", "生存率")).startswith("生存率 is 50 %")


def test_thresholds_come_from_the_clinics_settings():
    settings = {
        "endotoxin_max_eu_per_ml": Decimal("0.25"),
        "viability_min_percent": 80,  # an INT setting
        "max_dose_cells": 100_000_000,
        "unrelated_setting": "x",
    }
    context = ctx(
        thresholds=settings,
        qc=qc(endotoxin=Decimal("0.3"), viability=Decimal("75")),
        planned_dose=DoseRange(50_000_000, 150_000_000),
    )
    assert keys(refusals(QC_PENDING, RELEASED, context=context)) == [
        "qc_failed:endotoxin",
        "qc_failed:viability",
        "dose_over_limit",
    ]
    assert context.limits == Thresholds(Decimal("0.25"), Decimal("80"), 100_000_000)


def test_thresholds_keep_defaults_for_missing_settings():
    assert Thresholds.from_settings({}) == Thresholds()
    assert Thresholds() == Thresholds(Decimal("0.5"), Decimal("70"), 200_000_000)


def test_the_required_qc_set_is_a_setting_too():
    context = ctx(thresholds={"required_qc": ("sterility",)}, qc={"sterility": "negative"})
    assert check_transition(QC_PENDING, RELEASED, context=context) is None


@pytest.mark.parametrize(
    "bad",
    [
        {"viability": 69.9},  # a float: never
        {"endotoxin": 0.1},
        {"cell_count": 1.0e8},
        {"cell_count": True},
        {"viability": Decimal("NaN")},
        {"endotoxin": Decimal("Infinity")},
        {"viability": Decimal("100.1")},
        {"endotoxin": Decimal("-0.1")},
        {"cell_count": -1},
        {"sterility": "inconclusive"},
    ],
)
def test_qc_values_of_the_wrong_kind_are_a_programming_error(bad):
    with pytest.raises((TypeError, ValueError)):
        check_transition(QC_PENDING, RELEASED, context=ctx(qc=qc(**bad)))


@pytest.mark.parametrize(
    "settings",
    [
        {"viability_min_percent": 70.0},
        {"endotoxin_max_eu_per_ml": 0.5},
        {"max_dose_cells": 2e8},
        {"max_dose_cells": 0},
        {"viability_min_percent": 101},
        {"endotoxin_max_eu_per_ml": Decimal("-1")},
        {"required_qc": ("identity",)},
    ],
)
def test_bad_thresholds_are_refused(settings):
    with pytest.raises((TypeError, ValueError)):
        Thresholds.from_settings(settings)


@pytest.mark.parametrize("bounds", [(0, 1), (2, 1), (1.0, 2), (1, 2.0), (True, 2)])
def test_bad_dose_ranges_are_refused(bounds):
    with pytest.raises(ValueError):
        DoseRange(*bounds)


# --- the dose limit --------------------------------------------------------------------

LIMIT = 200_000_000
DOCTOR_OVERRIDE = DoseOverride(Role.DOCTOR, "Large joint, two sites; discussed with the patient")


@pytest.mark.parametrize(
    ("high", "override", "expected"),
    [
        (LIMIT, None, []),
        (LIMIT - 1, None, []),
        (LIMIT + 1, None, ["dose_over_limit"]),
        (LIMIT + 1, DOCTOR_OVERRIDE, []),
        (LIMIT + 1, DoseOverride("doctor", "Reasoned"), []),
        (LIMIT + 1, DoseOverride(Role.DOCTOR, ""), ["override_no_reason"]),
        (LIMIT + 1, DoseOverride(Role.DOCTOR, "   "), ["override_no_reason"]),
        (LIMIT + 1, DoseOverride(Role.LAB, "Reasoned"), ["override_not_doctor"]),
        (LIMIT + 1, DoseOverride(Role.MANAGER, ""), ["override_not_doctor", "override_no_reason"]),
        (LIMIT, DoseOverride(Role.LAB, ""), []),  # not needed, so not checked
    ],
)
@pytest.mark.parametrize(
    ("current", "target"),
    [(QC_PENDING, RELEASED), (CRYOPRESERVED, RELEASED), (RELEASED, ADMINISTERED)],
)
def test_dose_limit_and_override(current, target, high, override, expected):
    dose = DoseRange(LIMIT // 2, high)
    context = ctx(planned_dose=dose, override=override, qc=qc(cell_count=dose.low))
    assert keys(refusals(current, target, context=context)) == expected


def test_dose_limit_message():
    context = ctx(planned_dose=DoseRange(1, LIMIT + 1))
    refusal = check_transition(RELEASED, ADMINISTERED, context=context)
    assert refusal.text() == (
        "The planned dose of up to 200000001 cells is above the limit of 200000000 cells per "
        "administration: a doctor's override with a reason is needed."
    )


def test_release_without_a_dose_plan():
    found = refusals(QC_PENDING, RELEASED, context=ctx(planned_dose=None))
    assert keys(found) == ["dose_not_planned"]  # the count cannot be judged: said once


# --- doses, freezing and thawing -------------------------------------------------------


def test_administered_closes_the_batch_only_after_the_last_dose():
    refusal = check_transition(RELEASED, ADMINISTERED, context=ctx(later_doses=2))
    assert refusal.code == Why.LATER_DOSES
    assert refusal.params == {"doses": 2}
    assert check_transition(RELEASED, CRYOPRESERVED, context=ctx(later_doses=2)) is None
    assert check_transition(RELEASED, ADMINISTERED, context=ctx(later_doses=0)) is None


def test_a_three_dose_course():
    """Dose 1 fresh, doses 2 and 3 from thawed aliquots."""
    steps = [
        (RECEIVED, IN_CULTURE, ctx()),
        (IN_CULTURE, HARVEST_READY, ctx()),
        (HARVEST_READY, QC_PENDING, ctx()),
        (QC_PENDING, RELEASED, ctx()),
        (RELEASED, CRYOPRESERVED, ctx(later_doses=2)),  # dose 1 given, the rest frozen
        (CRYOPRESERVED, RELEASED, ctx(qc=qc(sterility=None, mycoplasma=None, endotoxin=None))),
        (RELEASED, CRYOPRESERVED, ctx(later_doses=1)),  # dose 2 given
        (CRYOPRESERVED, RELEASED, ctx()),
        (RELEASED, ADMINISTERED, ctx(later_doses=0)),  # dose 3: done
    ]
    for current, target, context in steps:
        assert check_transition(current, target, context=context) is None, (current, target)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, []),
        ({"sterility": None, "mycoplasma": None, "endotoxin": None}, []),  # not asked again
        ({"viability": Decimal("69.9")}, ["qc_failed:viability"]),
        ({"viability": None}, ["qc_missing:viability"]),
        ({"cell_count": None}, ["qc_missing:cell_count"]),
        ({"cell_count": DOSE.low - 1}, ["qc_failed:cell_count"]),
    ],
)
def test_thawing_checks_viability_and_count_again(change, expected):
    found = refusals(CRYOPRESERVED, RELEASED, context=ctx(qc=qc(**change)))
    assert keys(found) == expected


def test_later_doses_must_be_a_count():
    for bad in (-1, 1.0, True):
        with pytest.raises(ValueError):
            ctx(later_doses=bad)


# --- buttons ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "context", "expected"),
    [
        (RECEIVED, None, (IN_CULTURE, FAILED, DISCARDED)),
        (QC_PENDING, None, (FAILED, DISCARDED)),
        (QC_PENDING, ctx(reason=None), (RELEASED, FAILED, DISCARDED)),
        (QC_PENDING, ctx(qc=qc(viability=Decimal("69.9"))), (FAILED, DISCARDED)),
        (RELEASED, ctx(), (ADMINISTERED, CRYOPRESERVED, FAILED, DISCARDED)),
        (RELEASED, ctx(later_doses=1), (CRYOPRESERVED, FAILED, DISCARDED)),
        (CRYOPRESERVED, ctx(), (RELEASED, FAILED, DISCARDED)),
        (ADMINISTERED, ctx(), ()),
        (FAILED, ctx(), ()),
        (DISCARDED, None, ()),
    ],
)
def test_allowed_targets_are_the_buttons(current, context, expected):
    """Fail and discard are offered without a reason: their form asks for it."""
    assert allowed_targets(current, context) == expected


def test_options_say_why_a_button_is_blocked():
    blocked = {o.target: keys(o.refusals) for o in options(QC_PENDING) if not o.allowed}
    assert blocked == {
        RELEASED: [f"qc_missing:{item}" for item in QcItem] + ["dose_not_planned"],
    }
