"""``flask seed-demo`` works whatever the date and hour: near the clinic's
midnight the patient of the day is still checked in and cleared on the day of
the visit, and every step of the reinfusion has its patient even on dates when
the randomly drawn history has no collection of the right age."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import pytest

from intake.core import types
from intake.demo import seed

# 23:55, 00:05 and 08:30 in Tokyo (the demo clinic's time zone), in UTC, and
# 01:20 on 3 December, when the history held no collection old enough for a
# dose already given.
CLOCKS = [
    datetime(2026, 12, 2, 14, 55, tzinfo=UTC),
    datetime(2026, 12, 2, 15, 5, tzinfo=UTC),
    datetime(2026, 12, 2, 23, 30, tzinfo=UTC),
    datetime(2026, 12, 2, 16, 20, tzinfo=UTC),
    datetime(2027, 5, 3, 1, 0, tzinfo=UTC),
]
STEPS = ("dates proposed", "dose 1 of 2 given", "date confirmed and locked")


@pytest.fixture
def stopped_clock(monkeypatch):
    real = types.utcnow

    def stop(at: datetime) -> None:
        def fake() -> datetime:
            return at

        for name, module in list(sys.modules.items()):
            if name.startswith("intake") and getattr(module, "utcnow", None) is real:
                monkeypatch.setattr(module, "utcnow", fake)

    return stop


@pytest.mark.parametrize("clock", CLOCKS, ids=lambda c: c.strftime("%m%d%H%MZ"))
def test_the_demo_seeds_at_any_hour(app, stopped_clock, clock):
    stopped_clock(clock)
    lines = seed()
    assert any("today" in line or "next open day" in line for line in lines), lines
    for step in STEPS:
        assert any(step in line for line in lines), (step, lines)
    assert seed()[-1] == "demo data already present"
