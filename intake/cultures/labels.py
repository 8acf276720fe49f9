"""What a batch label carries and how a label is checked against a patient. Pure.

A label shows the chain-of-identity number in large type, its QR code (the
compact number, ``TKY26000123O``, as an inline SVG made by ``segno``) and the
two patient identifiers: the name (in the patient's own script and in Latin
letters) and the date of birth.

The identity check compares what the lab reads from the patient or the tube
with the batch's patient: the name in either script, ignoring case, spaces and
the order of family and given name, and the date of birth exactly.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date

import segno

from intake.cultures.coi import CoiNumber

#: Removed before names are compared: whitespace of any kind (the ideographic
#: space too), the middle dots and commas people put between name parts.
_NAME_NOISE_RE = re.compile(r"[\s,.\u00b7\u30fb\u3001\uff0c]+")


def qr_svg(number: CoiNumber, *, title: str = "") -> str:
    """The number's QR code as inline SVG markup, sized by CSS (a viewBox, no
    width or height). It encodes the compact number a scanner sends back."""
    code = segno.make(number.compact, error="m", micro=False)
    return code.svg_inline(omitsize=True, svgclass="qr", title=title or None, border=2)


def normalise_name(name: str) -> str:
    """A name as compared: full-width letters made ASCII, case folded, spaces
    and separators removed."""
    text = unicodedata.normalize("NFKC", name or "")
    return _NAME_NOISE_RE.sub("", text).casefold()


def name_forms(
    family: str | None,
    given: str | None,
    family_latin: str | None = None,
    given_latin: str | None = None,
) -> set[str]:
    """Every accepted way of writing the patient's name, normalised: each
    script, family name first or given name first."""
    forms = set()
    for first, second in ((family, given), (family_latin, given_latin)):
        first, second = (first or "").strip(), (second or "").strip()
        if not first and not second:
            continue
        forms.add(normalise_name(first + second))
        forms.add(normalise_name(second + first))
    forms.discard("")
    return forms


def identity_matches(
    entered_name: str,
    entered_birth_date: date | None,
    *,
    names: Iterable[str],
    birth_date: date | None,
) -> bool:
    """Both identifiers agree: the entered name is one of ``names`` (from
    ``name_forms``) and the date of birth is the same day. A patient whose
    date of birth is not on record never matches."""
    entered = normalise_name(entered_name)
    if not entered or entered_birth_date is None or birth_date is None:
        return False
    return entered in set(names) and entered_birth_date == birth_date
