"""Reading dates, instants, whole numbers and text a request sends. Pure.

One helper per kind, used everywhere instead of ``int()`` or
``date.fromisoformat`` in views (DESIGN.md, lessons from the probe): years
1900-2200 (further out is a typing error and overflows date arithmetic),
whole numbers within the 64-bit signed range of a database integer, and no
NUL bytes (PostgreSQL refuses them in text). A blank value is ``None``; the
caller decides whether that is allowed. Anything else that cannot be read
raises ``ParseError`` with an English message wrapped in ``N_``, which the
view translates and shows next to the field.
"""

from __future__ import annotations

import re
from datetime import date, datetime

import phonenumbers

from intake.core.text import N_

MIN_YEAR = 1900
MAX_YEAR = 2200
# The database's INTEGER (ids, counts): 32 bits on PostgreSQL; SQLite allows
# 64, but the app runs on both, so a number must fit the stricter one (a larger
# one in a query is an "integer out of range" error there, a 500 before this).
INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
ID_MAX = INT_MAX
MAX_LENGTH = 40  # characters of a date, instant or number worth reading

MSG_NUL = N_("The value contains a character that is not allowed.")
MSG_DATE_FORMAT = N_("Enter the date as YYYY-MM-DD.")
MSG_DATE_RANGE = N_("Enter a date between the years %(low)s and %(high)s.")
MSG_INSTANT_FORMAT = N_("Enter a date and time with its time zone.")
MSG_INT = N_("Enter a whole number.")
MSG_INT_RANGE = N_("Enter a whole number from %(low)s to %(high)s.")
MSG_PHONE = N_("Enter the phone number with its country code, for example +81 90 1234 5678.")
MSG_PHONE_INVALID = N_("This phone number does not exist. Check the country code and the digits.")

_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INSTANT_RE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})"
)
_INT_RE = re.compile(r"[+-]?[0-9]+")


class ParseError(ValueError):
    def __init__(self, message: str, **params):
        super().__init__(message)
        self.message = message
        self.params = params

    def text(self, translate=None) -> str:
        """The message, translated by ``translate`` (a gettext) when given."""
        message = translate(self.message) if translate else self.message
        return message % self.params if self.params else message


def check_text(text: str) -> str:
    """``text`` unchanged, or ParseError when it holds a NUL byte."""
    if "\x00" in text:
        raise ParseError(MSG_NUL)
    return text


def _prepare(text: str | None) -> str | None:
    if text is None:
        return None
    check_text(text)
    text = text.strip()
    return text or None


def check_date(value: date) -> date:
    """``value`` when its year is in the sensible range, else ParseError."""
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ParseError(MSG_DATE_RANGE, low=MIN_YEAR, high=MAX_YEAR)
    return value


def parse_date(text: str | None) -> date | None:
    """A YYYY-MM-DD day (ASCII digits only), or None when blank."""
    text = _prepare(text)
    if text is None:
        return None
    if len(text) > MAX_LENGTH or not _DATE_RE.fullmatch(text):
        raise ParseError(MSG_DATE_FORMAT)
    try:
        value = date.fromisoformat(text)
    except ValueError:
        if not MIN_YEAR <= int(text[:4]) <= MAX_YEAR:
            raise ParseError(MSG_DATE_RANGE, low=MIN_YEAR, high=MAX_YEAR) from None
        raise ParseError(MSG_DATE_FORMAT) from None
    return check_date(value)


def parse_instant(text: str | None) -> datetime | None:
    """An ISO 8601 instant with its offset (2026-12-01T09:00:00+09:00), or
    None when blank. A time without an offset is refused: it is ambiguous."""
    text = _prepare(text)
    if text is None:
        return None
    if len(text) > MAX_LENGTH or not _INSTANT_RE.fullmatch(text):
        raise ParseError(MSG_INSTANT_FORMAT)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ParseError(MSG_INSTANT_FORMAT) from None
    check_date(value.date())
    return value


def parse_int(text: str | None, *, minimum: int = INT_MIN, maximum: int = INT_MAX) -> int | None:
    """A whole number (ASCII digits, optional sign) from ``minimum`` to
    ``maximum`` (at most the database INTEGER range, INT_MIN…INT_MAX), or None when
    blank; anything else raises ``ParseError`` with a message for the person."""
    text = _prepare(text)
    if text is None:
        return None
    if len(text) > MAX_LENGTH or not _INT_RE.fullmatch(text):
        raise ParseError(MSG_INT)
    value = int(text)
    low, high = max(minimum, INT_MIN), min(maximum, INT_MAX)
    if not low <= value <= high:
        raise ParseError(MSG_INT_RANGE, low=low, high=high)
    return value


def parse_phone(text: str | None) -> str | None:
    """A phone number with its country code (``+86 138-0013-8000``, full-width
    digits too) in E.164 form (``+8613800138000``), or None when blank. A
    number without a country code, or one no country hands out, is refused."""
    text = _prepare(text)
    if text is None:
        return None
    if len(text) > MAX_LENGTH:
        raise ParseError(MSG_PHONE)
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        raise ParseError(MSG_PHONE) from None
    if not phonenumbers.is_valid_number(number):
        raise ParseError(MSG_PHONE_INVALID)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def show_phone(text: str | None) -> str:
    """A stored number as people read it (``+86 138 0013 8000``); text stored
    before numbers were checked is shown as it was typed."""
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return text
    if not phonenumbers.is_valid_number(number):
        return text
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
