"""One parsing helper per kind of value a request sends (DESIGN.md, lessons):
years 1900-2200, whole numbers within 64-bit signed range, no NUL bytes."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from intake.core import parsing
from intake.core.parsing import ParseError


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("2026-03-01", date(2026, 3, 1)),
        (" 2026-03-01 ", date(2026, 3, 1)),
        ("1900-01-01", date(1900, 1, 1)),
        ("2200-12-31", date(2200, 12, 31)),
    ],
)
def test_parse_date_good(text, value):
    assert parsing.parse_date(text) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1800-01-01", parsing.MSG_DATE_RANGE),
        ("1899-12-31", parsing.MSG_DATE_RANGE),
        ("2201-01-01", parsing.MSG_DATE_RANGE),
        ("2999-01-01", parsing.MSG_DATE_RANGE),
        ("0001-01-01", parsing.MSG_DATE_RANGE),
        ("9999-12-31", parsing.MSG_DATE_RANGE),
        ("2026-02-30", parsing.MSG_DATE_FORMAT),
        ("20260301", parsing.MSG_DATE_FORMAT),
        ("2026-W01-1", parsing.MSG_DATE_FORMAT),
        ("２０２６-０３-０１", parsing.MSG_DATE_FORMAT),
        ("10000-01-01", parsing.MSG_DATE_FORMAT),
        ("tomorrow", parsing.MSG_DATE_FORMAT),
        ("2026-03-01\x00", parsing.MSG_NUL),
        ("x" * 5000, parsing.MSG_DATE_FORMAT),
    ],
)
def test_parse_date_bad(text, message):
    with pytest.raises(ParseError) as caught:
        parsing.parse_date(text)
    assert caught.value.message == message
    assert caught.value.text() == message % caught.value.params


@pytest.mark.parametrize(
    ("value", "ok"),
    [(date(1900, 1, 1), True), (date(2200, 12, 31), True), (date(1, 1, 1), False)],
)
def test_check_date(value, ok):
    if ok:
        assert parsing.check_date(value) == value
    else:
        with pytest.raises(ParseError):
            parsing.check_date(value)


TOKYO = timezone(timedelta(hours=9))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (None, None),
        ("", None),
        ("2026-12-01T09:00:00+09:00", datetime(2026, 12, 1, 9, tzinfo=TOKYO)),
        ("2026-12-01T00:00:00Z", datetime(2026, 12, 1, tzinfo=UTC)),
    ],
)
def test_parse_instant_good(text, value):
    assert parsing.parse_instant(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-01T09:00:00",  # no offset: ambiguous
        "0001-01-01T00:00:00+09:00",
        "2999-01-01T00:00:00+09:00",
        "2026-12-01T09:00:00+09:00\x00",
        "yesterday",
        "2026-12-01T09:00:00.1234567+09:00",
        "2026-12-01T09:00:00+09:00" + "0" * 50,
    ],
)
def test_parse_instant_bad(text):
    with pytest.raises(ParseError):
        parsing.parse_instant(text)


@pytest.mark.parametrize(
    ("text", "kwargs", "value"),
    [
        (None, {}, None),
        ("", {}, None),
        ("0", {}, 0),
        (" 42 ", {}, 42),
        ("-7", {}, -7),
        (str(2**31 - 1), {}, 2**31 - 1),  # the largest INTEGER on PostgreSQL
        (str(-(2**31)), {}, -(2**31)),
        ("5", {"minimum": 1, "maximum": 10}, 5),
    ],
)
def test_parse_int_good(text, kwargs, value):
    assert parsing.parse_int(text, **kwargs) == value


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [
        (str(2**31), {}, parsing.MSG_INT_RANGE),
        (str(-(2**31) - 1), {}, parsing.MSG_INT_RANGE),
        ("9" * 400, {}, parsing.MSG_INT),
        ("0", {"minimum": 1}, parsing.MSG_INT_RANGE),
        ("11", {"maximum": 10}, parsing.MSG_INT_RANGE),
        ("1.5", {}, parsing.MSG_INT),
        ("1e3", {}, parsing.MSG_INT),
        ("٣", {}, parsing.MSG_INT),  # Arabic-Indic digit: int() would accept it
        ("1_000", {}, parsing.MSG_INT),  # int() would accept it
        ("12\x00", {}, parsing.MSG_NUL),
    ],
)
def test_parse_int_bad(text, kwargs, message):
    with pytest.raises(ParseError) as caught:
        parsing.parse_int(text, **kwargs)
    assert caught.value.message == message


@pytest.mark.parametrize(("text", "ok"), [("Staff training", True), ("", True), ("a\x00b", False)])
def test_check_text(text, ok):
    if ok:
        assert parsing.check_text(text) == text
    else:
        with pytest.raises(ParseError) as caught:
            parsing.check_text(text)
        assert caught.value.message == parsing.MSG_NUL
