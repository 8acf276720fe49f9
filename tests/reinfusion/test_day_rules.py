"""The reinfusion day's pure rules: vital-sign ranges at each boundary, the
clearance's reason, and the administration guard (every refusal at once)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from intake.reinfusion import day
from intake.reinfusion.day import AdministrationEntry, Check, DayFacts, Vitals

NORMAL = Vitals(systolic=120, diastolic=80, pulse=70, temperature_c=Decimal("36.6"), spo2=98)


def codes(problems):
    return [(p.code, p.field) for p in problems]


@pytest.mark.parametrize(
    ("name", "value", "ok"),
    [
        ("systolic", 59, False),
        ("systolic", 60, True),
        ("systolic", 260, True),
        ("systolic", 261, False),
        ("diastolic", 29, False),
        ("diastolic", 30, True),
        ("diastolic", 160, True),
        ("diastolic", 161, False),
        ("pulse", 29, False),
        ("pulse", 30, True),
        ("pulse", 220, True),
        ("pulse", 221, False),
        ("temperature_c", Decimal("33.9"), False),
        ("temperature_c", Decimal("34.0"), True),
        ("temperature_c", Decimal("42.5"), True),
        ("temperature_c", Decimal("42.6"), False),
        ("spo2", 49, False),
        ("spo2", 50, True),
        ("spo2", 100, True),
        ("spo2", 101, False),
        ("systolic", None, False),
        ("temperature_c", None, False),
        ("temperature_c", Decimal("NaN"), False),
    ],
)
def test_each_vital_sign_at_its_boundaries(name, value, ok):
    # the other pressure is set wide apart, so only the range is tested here
    other = {"systolic": {"diastolic": 30}, "diastolic": {"systolic": 200}}.get(name, {})
    problems = day.vital_problems(replace(NORMAL, **{name: value, **other}))
    assert (problems == []) is ok
    if not ok:
        assert problems[0].field == name and problems[0].code == "vital_range"


@pytest.mark.parametrize(
    ("systolic", "diastolic", "expected"),
    [
        (120, 160, [("diastolic_above", "diastolic")]),  # diastolic at its top, above systolic
        (160, 160, [("diastolic_above", "diastolic")]),  # equal: refused
        (161, 160, []),
        (90, 89, []),
        (59, 80, [("vital_range", "systolic")]),  # only the range is named then
    ],
)
def test_diastolic_below_systolic(systolic, diastolic, expected):
    problems = day.vital_problems(replace(NORMAL, systolic=systolic, diastolic=diastolic))
    assert codes(problems) == expected


def test_temperature_one_decimal_and_never_a_float():
    assert codes(day.vital_problems(replace(NORMAL, temperature_c=Decimal("36.65")))) == [
        ("vital_places", "temperature_c")
    ]
    with pytest.raises(TypeError):
        day.vital_problems(replace(NORMAL, temperature_c=36.6))
    with pytest.raises(TypeError):
        day.vital_problems(replace(NORMAL, pulse=True))


def test_every_bad_vital_reported_at_once_with_its_suffix():
    bad = Vitals(systolic=10, diastolic=None, pulse=300, temperature_c=Decimal("20"), spo2=0)
    fields = [p.field for p in day.vital_problems(bad, suffix="_after")]
    assert fields == ["systolic_after", "diastolic_after", "pulse_after"] + [
        "temperature_c_after",
        "spo2_after",
    ]


def test_message_names_the_range():
    (problem,) = day.vital_problems(replace(NORMAL, pulse=10))
    assert problem.text() == "Enter the pulse, 30 to 220 beats per minute."


@pytest.mark.parametrize(
    ("go", "reason", "expected"),
    [
        (True, None, []),
        (True, "fine", []),
        (False, "BP high", []),
        (False, "  ", [("reason_required", "reason")]),
        (False, None, [("reason_required", "reason")]),
    ],
)
def test_clearance_no_go_needs_a_reason(go, reason, expected):
    assert codes(day.clearance_problems(NORMAL, go=go, reason=reason)) == expected


# ------------------------------------------------------------------ the guard

TODAY = date(2026, 6, 10)
NOW = datetime(2026, 6, 10, 6, 0, tzinfo=UTC)  # 15:00 in Tokyo
READY = DayFacts(
    today=TODAY,
    visit_day=TODAY,
    appointment_status="arrived",
    batch_state="released",
    dose_status="confirmed",
    dose_route="iv",
    clearance=Check(TODAY, True, by_doctor=True),
    bedside=Check(TODAY, True),
)
START = NOW - timedelta(hours=2)
ENTRY = AdministrationEntry(
    route="iv",
    cells_given=100_000_000,
    started_at=START,
    ended_at=START + timedelta(minutes=50),
    observed_until=START + timedelta(minutes=80),
    vitals_after=NORMAL,
)
LIMITS = {"now": NOW, "observation_minutes": 30, "max_dose_cells": 200_000_000}


def guard(facts=READY, entry=ENTRY, **limits):
    return [p.code for p in day.administration_problems(facts, entry, **{**LIMITS, **limits})]


def test_ready_and_well_entered_passes():
    assert guard() == []
    assert day.readiness(READY) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"batch_state": "cryopreserved"}, ["not_released"]),
        ({"batch_state": "qc_pending"}, ["not_released"]),
        ({"dose_status": "administered"}, ["dose_given"]),
        ({"dose_status": "proposed"}, ["dose_not_confirmed"]),
        ({"earlier_doses_pending": 1}, ["earlier_dose"]),
        ({"appointment_status": "booked"}, ["not_arrived"]),
        ({"appointment_status": "completed"}, ["not_arrived"]),
        ({"visit_day": TODAY - timedelta(days=1)}, ["not_today"]),
        ({"bedside": None}, ["no_bedside"]),
        ({"bedside": Check(TODAY, False)}, ["bedside_mismatch"]),
        ({"bedside": Check(TODAY - timedelta(days=1), True)}, ["no_bedside"]),
        ({"clearance": None}, ["no_clearance"]),
        ({"clearance": Check(TODAY, False)}, ["no_go"]),
        # a clearance of yesterday does not count today
        ({"clearance": Check(TODAY - timedelta(days=1), True)}, ["no_clearance"]),
        ({"clearance": Check(TODAY, True, by_doctor=False)}, ["clearance_not_doctor"]),
    ],
)
def test_each_missing_condition_refuses(change, expected):
    assert guard(replace(READY, **change)) == expected


def test_every_refusal_at_once():
    facts = replace(READY, batch_state="qc_pending", bedside=None, clearance=None)
    entry = replace(ENTRY, route="local", cells_given=0)
    assert guard(facts, entry) == ["not_released", "no_bedside", "no_clearance", "route", "cells"]


@pytest.mark.parametrize(("minutes", "ok"), [(29, False), (30, True), (31, True)])
def test_observation_boundary(minutes, ok):
    entry = replace(ENTRY, observed_until=ENTRY.ended_at + timedelta(minutes=minutes))
    assert (guard(entry=entry) == []) is ok
    if not ok:
        assert guard(entry=entry) == ["observation"]


def test_observation_setting_is_used_and_cannot_end_in_the_future():
    entry = replace(ENTRY, observed_until=ENTRY.ended_at + timedelta(minutes=45))
    assert guard(entry=entry, observation_minutes=60) == ["observation"]
    future = replace(ENTRY, observed_until=NOW + timedelta(minutes=1))
    assert guard(entry=future) == ["observation_future"]
    assert guard(entry=replace(ENTRY, observed_until=NOW)) == []


@pytest.mark.parametrize(
    ("cells", "reason", "expected"),
    [
        (200_000_000, None, []),  # exactly at the cap
        (200_000_001, None, ["over_cap"]),
        (200_000_001, "  ", ["over_cap"]),
        (200_000_001, "Large joint, planned with the lab", []),
        (1, None, []),
        (0, None, ["cells"]),
        (None, None, ["cells"]),
    ],
)
def test_cells_and_the_cap(cells, reason, expected):
    assert guard(entry=replace(ENTRY, cells_given=cells, over_cap_reason=reason)) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (START, START, ["end"]),
        (START, START - timedelta(minutes=1), ["end"]),
        (None, START, ["start"]),
        (START, None, ["end"]),
    ],
)
def test_end_after_start(start, end, expected):
    entry = replace(ENTRY, started_at=start, ended_at=end)
    if end is not None:
        entry = replace(entry, observed_until=end + timedelta(minutes=30))
    assert guard(entry=entry) == expected


def test_route_must_be_the_doses_and_vitals_after_are_checked():
    problems = day.administration_problems(
        READY, replace(ENTRY, route="intrathecal"), route_label="IV drip", **LIMITS
    )
    assert [p.text() for p in problems] == ["The route must be the dose's planned route: IV drip."]
    entry = replace(ENTRY, vitals_after=replace(NORMAL, spo2=40))
    assert [(p.code, p.field) for p in day.administration_problems(READY, entry, **LIMITS)] == [
        ("vital_range", "spo2_after")
    ]


def test_naive_times_are_a_bug():
    with pytest.raises(ValueError):
        guard(entry=replace(ENTRY, started_at=START.replace(tzinfo=None)))
