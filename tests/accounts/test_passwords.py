import pytest

from intake.accounts.passwords import password_problems


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("Abcdefg1", True),  # 8 chars, three kinds
        ("Abcdef1", False),  # 7 chars
        ("abcdefgh", False),  # one kind
        ("abcdefg1", False),  # two kinds
        ("abcdefg1!", True),  # lower, digit, symbol
        ("ABCDEFG1!", True),
        ("密码Password1", True),  # non-Latin letters count as letters
        ("        ", False),
        ("Aa1!" * 10, True),
    ],
)
def test_policy(password, ok):
    assert (password_problems(password, min_length=8) == []) is ok


def test_longer_minimum_from_settings():
    assert password_problems("Abcdefg1", min_length=10)
    assert not password_problems("Abcdefgh12", min_length=10)


@pytest.mark.parametrize("personal", [("wang.li",), ("Wang Li Hua",)])
def test_own_email_or_name_refused(personal):
    assert password_problems(f"X1!{personal[0].upper()}", min_length=8, personal=personal)


def test_short_personal_parts_are_ignored():
    assert password_problems("Li-Secret-99", min_length=8, personal=("li",)) == []


@pytest.mark.parametrize(
    ("failures", "seconds"),
    [(0, 0), (4, 0), (5, 60), (6, 120), (7, 240), (10, 1920), (11, 3600), (10**6, 3600)],
)
def test_lockout_backs_off_from_a_minute_to_an_hour(failures, seconds):
    from intake.accounts.passwords import lockout_seconds

    assert lockout_seconds(failures, threshold=5, first=60, longest=3600) == seconds
