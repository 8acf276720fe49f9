from datetime import UTC, datetime, timedelta

import pytest

from intake.accounts.two_factor import code_at, grouped, matching_step, new_secret

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = datetime(2026, 11, 24, 9, 0, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("offset_seconds", "accepted"),
    [(0, True), (-30, True), (30, True), (-60, False), (60, False), (-3600, False)],
)
def test_clock_drift_of_one_step_either_side(offset_seconds, accepted):
    code = code_at(SECRET, NOW + timedelta(seconds=offset_seconds))
    assert (matching_step(SECRET, code, now=NOW, last_step=None) is not None) is accepted


def test_a_code_is_used_once():
    code = code_at(SECRET, NOW)
    step = matching_step(SECRET, code, now=NOW, last_step=None)
    assert step is not None
    assert matching_step(SECRET, code, now=NOW, last_step=step) is None
    later = NOW + timedelta(seconds=30)
    assert matching_step(SECRET, code_at(SECRET, later), now=later, last_step=step) == step + 1


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", None])
def test_malformed_codes(code):
    assert matching_step(SECRET, code, now=NOW, last_step=None) is None


def test_spaces_are_ignored():
    code = code_at(SECRET, NOW)
    assert matching_step(SECRET, f"{code[:3]} {code[3:]}", now=NOW, last_step=None) is not None


def test_secret_shape():
    secret = new_secret()
    assert len(secret) == 32 and grouped(secret).count(" ") == 7
