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
