from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from intake.core.time import age_on, clinic_today, local_to_utc, to_clinic

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (date(2006, 11, 24), date(2026, 11, 24), 20),
        (date(2006, 11, 25), date(2026, 11, 24), 19),
        (date(2004, 2, 29), date(2025, 2, 28), 20),
        (date(2004, 2, 29), date(2025, 3, 1), 21),
        (date(2004, 2, 29), date(2028, 2, 29), 24),
    ],
)
def test_age_on(born, on, age):
    assert age_on(born, on) == age


def test_clinic_day_differs_from_utc_day():
    now = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)  # 01:00 on the 25th in Tokyo
    assert clinic_today(now, TOKYO) == date(2026, 11, 25)
    assert to_clinic(now, TOKYO).hour == 1


def test_local_to_utc():
    assert local_to_utc(date(2026, 12, 1), time(9, 0), TOKYO) == datetime(
        2026, 12, 1, 0, 0, tzinfo=UTC
    )


def test_naive_refused():
    with pytest.raises(ValueError):
        to_clinic(datetime(2026, 1, 1), TOKYO)
