"""Chain-of-identity (COI) numbers of culture batches. Pure.

A number is the clinic's site code (2-5 capital letters A-Z), a two-digit year
and a six-digit sequence, followed by an ISO 7064 mod 37-2 check character over
those characters, the scheme ISBT 128 uses: ``TKY26000123`` + ``O``. It is
printed as the identifier, a space and the check character: ``TKY26000123 O``.
The check character is one of ``0-9``, ``A-Z`` or ``*``; the arithmetic is
python-stdnum's (``stdnum.iso7064.mod_37_2``), not ours.

``parse`` reads what a person types or a scanner sends: any case, spaces,
hyphens and line ends anywhere, full-width characters from a Japanese or
Chinese keyboard, with or without the space before the check character. A
wrong check character (a misread or mistyped number) is refused with its own
code and message, apart from a number that is not shaped like one at all.

Errors are ``CoiError`` (a ``ParseError``, so a ``ValueError``) with a ``code``
and an English message wrapped in ``N_``, translated by the view.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from stdnum.iso7064 import mod_37_2

from intake.core.parsing import ParseError
from intake.core.text import N_

SITE_MIN, SITE_MAX = 2, 5
SEQUENCE_MIN, SEQUENCE_MAX = 1, 999_999
YEAR_MIN, YEAR_MAX = 0, 99
#: Longest text worth reading: the 14 characters of a number with room for
#: spaces and hyphens. Anything longer is refused before any other work.
MAX_INPUT = 64

_SITE_RE = re.compile(r"[A-Z]{2,5}", re.ASCII)
_NUMBER_RE = re.compile(r"([A-Z]{2,5})([0-9]{2})([0-9]{6})([0-9A-Z*])", re.ASCII)
_NO_CHECK_RE = re.compile(r"[A-Z]{2,5}[0-9]{8}", re.ASCII)
#: Removed before reading: whitespace of any kind (a scanner's CR/LF, the
#: ideographic space) and hyphens or dashes people type between groups.
_SEPARATORS_RE = re.compile(r"[\s\-\u2010-\u2015\u2212\u30fc]+")


class CoiCode(StrEnum):
    SITE = "coi_site"
    YEAR = "coi_year"
    SEQUENCE = "coi_sequence"
    EMPTY = "coi_empty"
    MALFORMED = "coi_malformed"
    NO_CHECK = "coi_no_check"
    CHECK_MISMATCH = "coi_check_mismatch"


MSG_SITE = N_("The site code must be 2 to 5 capital letters A to Z.")
MSG_YEAR = N_("The year must be two digits, 00 to 99.")
MSG_SEQUENCE = N_("The sequence must be a number from 1 to 999999.")
MSG_EMPTY = N_("Enter or scan a chain-of-identity number.")
MSG_MALFORMED = N_(
    "This is not a chain-of-identity number: it should look like %(example)s "
    "(site letters, year, six digits and a check character)."
)
MSG_NO_CHECK = N_(
    "The check character at the end of the number is missing: please enter the whole "
    "number as printed on the label."
)
MSG_CHECK_MISMATCH = N_("The check character does not match: please re-read or re-scan the number.")

EXAMPLE = "TKY26000123 O"


class CoiError(ParseError):
    """A number that cannot be made or read; ``code`` says why."""

    def __init__(self, code: CoiCode, message: str, **params):
        super().__init__(message, **params)
        self.code = code


@dataclass(frozen=True)
class CoiNumber:
    """A valid number; constructing one checks its parts."""

    site: str
    year: int
    sequence: int

    def __post_init__(self) -> None:
        _check_parts(self.site, self.year, self.sequence)

    @property
    def identifier(self) -> str:
        """The number without its check character: ``TKY26000123``."""
        return f"{self.site}{self.year:02d}{self.sequence:06d}"

    @property
    def check(self) -> str:
        return mod_37_2.calc_check_digit(self.identifier)

    @property
    def compact(self) -> str:
        """Identifier and check character with no space (for a QR code or a
        unique database column): ``TKY26000123O``."""
        return self.identifier + self.check

    def __str__(self) -> str:
        return f"{self.identifier} {self.check}"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_parts(site: object, year: object, sequence: object) -> None:
    if not isinstance(site, str) or not _SITE_RE.fullmatch(site):
        raise CoiError(CoiCode.SITE, MSG_SITE)
    if not _is_int(year) or not YEAR_MIN <= year <= YEAR_MAX:
        raise CoiError(CoiCode.YEAR, MSG_YEAR)
    if not _is_int(sequence) or not SEQUENCE_MIN <= sequence <= SEQUENCE_MAX:
        raise CoiError(CoiCode.SEQUENCE, MSG_SEQUENCE)


def make(site: str, year: int, sequence: int) -> CoiNumber:
    """The number for ``site`` (exactly as set: capital letters), the year's
    last two digits (``2026 % 100``) and the sequence; ``CoiError`` when a part
    is out of range."""
    return CoiNumber(site, year, sequence)


def format(number: CoiNumber) -> str:  # shadows the builtin on purpose: coi.format
    """As printed on a label: ``TKY26000123 O``."""
    return str(number)


def _normalise(text: str) -> str:
    if "\x00" in text:
        raise CoiError(CoiCode.MALFORMED, MSG_MALFORMED, example=EXAMPLE)
    # Full-width letters and digits (ＴＫＹ２６…) become ASCII; the length was
    # capped first, so this stays cheap.
    text = _SEPARATORS_RE.sub("", unicodedata.normalize("NFKC", text))
    if not text.isascii():  # before upper(): "ı".upper() is "I"
        raise CoiError(CoiCode.MALFORMED, MSG_MALFORMED, example=EXAMPLE)
    return text.upper()


def parse(text: str) -> CoiNumber:
    """The number in ``text`` as typed or scanned, or ``CoiError``:
    ``coi_empty``, ``coi_malformed``, ``coi_no_check`` or ``coi_check_mismatch``."""
    if not isinstance(text, str):
        raise TypeError("parse() takes the text as typed or scanned")
    if len(text) > MAX_INPUT:
        raise CoiError(CoiCode.MALFORMED, MSG_MALFORMED, example=EXAMPLE)
    compact = _normalise(text)
    if not compact:
        raise CoiError(CoiCode.EMPTY, MSG_EMPTY)
    match = _NUMBER_RE.fullmatch(compact)
    if match is None:
        if _NO_CHECK_RE.fullmatch(compact):
            raise CoiError(CoiCode.NO_CHECK, MSG_NO_CHECK)
        raise CoiError(CoiCode.MALFORMED, MSG_MALFORMED, example=EXAMPLE)
    site, year, sequence, _check = match.groups()
    if not mod_37_2.is_valid(compact):
        raise CoiError(CoiCode.CHECK_MISMATCH, MSG_CHECK_MISMATCH)
    try:
        return CoiNumber(site, int(year), int(sequence))
    except CoiError as error:  # shaped right, checks out, but sequence 000000
        raise CoiError(CoiCode.MALFORMED, MSG_MALFORMED, example=EXAMPLE) from error
