"""``flask seed-demo`` works whatever the hour: near the clinic's midnight the
patient of the day is still checked in and cleared on the day of the visit."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import pytest

from intake.core import types
from intake.demo import seed

# 23:55, 00:05 and 08:30 in Tokyo (the demo clinic's time zone), in UTC.
CLOCKS = [
    datetime(2026, 12, 2, 14, 55, tzinfo=UTC),
    datetime(2026, 12, 2, 15, 5, tzinfo=UTC),
    datetime(2026, 12, 2, 23, 30, tzinfo=UTC),
]


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


@pytest.mark.parametrize("clock", CLOCKS, ids=lambda c: c.strftime("%H%MZ"))
def test_the_demo_seeds_at_any_hour(app, stopped_clock, clock):
    stopped_clock(clock)
    lines = seed()
    assert any("today" in line or "next open day" in line for line in lines), lines
    assert seed()[-1] == "demo data already present"
