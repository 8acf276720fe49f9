"""Chain-of-identity numbers: made, printed and read back, and every typing or
reading slip the mod 37-2 check character is there to catch. No app."""

import itertools

import pytest

from intake.cultures import coi
from intake.cultures.coi import CoiCode, CoiError, CoiNumber

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"


def reference_check(identifier: str) -> str:
    """ISO 7064 MOD 37-2 written out from the standard's definition, to check
    the values below independently of stdnum: the weighted sum of the
    characters (weight 2^i, i counted from the right starting at 1 for the
    last identifier character) plus the check value is 1 modulo 37."""
    total = sum(
        ALPHABET.index(c) * pow(2, i, 37) for i, c in enumerate(reversed(identifier), start=1)
    )
    return ALPHABET[(1 - total) % 37]


#: (site, year, sequence, printed) computed with stdnum; the first is DOMAIN.md's example.
KNOWN = [
    ("TKY", 26, 123, "TKY26000123 O"),
    ("TKY", 26, 5, "TKY26000005 *"),
    ("OSK", 25, 39, "OSK25000039 *"),
    ("KOBE", 27, 500000, "KOBE27500000 P"),
    ("ZZ", 1, 10, "ZZ01000010 I"),
    ("AB", 0, 1, "AB00000001 0"),
    ("AB", 99, 999999, "AB99999999 0"),
    ("ABCDE", 26, 42, "ABCDE26000042 E"),
]


@pytest.mark.parametrize(("site", "year", "sequence", "printed"), KNOWN)
def test_known_numbers(site, year, sequence, printed):
    number = coi.make(site, year, sequence)
    assert coi.format(number) == printed == str(number)
    assert number.identifier + " " + number.check == printed
    assert reference_check(number.identifier) == number.check
    assert number.compact == printed.replace(" ", "")
    assert coi.parse(printed) == number


def test_domain_example_matches_stdnum():
    assert coi.make("TKY", 26, 123).check == "O"


BAD_SITES = ["", "T", "TOKYO1", "TOKYOX", "tky", "Tky", "T-K", "TK1", "ÄB", " TKY", None, 12]
BAD_SITES.append("ＴＫＹ")  # full-width: parse() reads it, make() takes the setting as is


@pytest.mark.parametrize("site", BAD_SITES)
def test_bad_site(site):
    with pytest.raises(CoiError) as raised:
        coi.make(site, 26, 1)
    assert raised.value.code == CoiCode.SITE


@pytest.mark.parametrize("year", [-1, 100, 2026, True, "26", 26.0, None])
def test_bad_year(year):
    with pytest.raises(CoiError) as raised:
        coi.make("TKY", year, 1)
    assert raised.value.code == CoiCode.YEAR


@pytest.mark.parametrize("sequence", [0, -1, 1_000_000, 2**63, False, "123", 123.0, None])
def test_bad_sequence(sequence):
    with pytest.raises(CoiError) as raised:
        coi.make("TKY", 26, sequence)
    assert raised.value.code == CoiCode.SEQUENCE


@pytest.mark.parametrize(
    ("site", "year", "sequence"), [("AB", 0, 1), ("ABCDE", 99, 999_999), ("TKY", 26, 123)]
)
def test_boundaries_accepted(site, year, sequence):
    number = coi.make(site, year, sequence)
    assert (number.site, number.year, number.sequence) == (site, year, sequence)


def test_a_number_cannot_be_built_invalid():
    with pytest.raises(CoiError):
        CoiNumber("tky", 26, 1)


def test_errors_are_value_errors_with_a_message():
    with pytest.raises(ValueError, match="2 to 5 capital letters"):
        coi.make("T", 26, 1)


EXPECTED = coi.make("TKY", 26, 123)


@pytest.mark.parametrize(
    "text",
    [
        "TKY26000123 O",
        "TKY26000123O",
        "tky26000123o",
        "Tky26000123 o",
        "  TKY26000123 O  ",
        "TKY26000123 O\r\n",  # a scanner's line end
        "\tTKY 26 000123 O\n",
        "TKY-26-000123-O",
        "T K Y 2 6 0 0 0 1 2 3 O",
        "TKY26000123  -  O",
        "--TKY26000123O--",
        "ＴＫＹ２６０００１２３　Ｏ",  # full-width, ideographic space (a Japanese keyboard)
        "TKY26000123\u00a0O",  # no-break space
        "TKY‐26‐000123‐O",  # Unicode hyphens
    ],
)
def test_parse_accepts_what_people_type_and_scanners_send(text):
    assert coi.parse(text) == EXPECTED


def test_parse_accepts_an_asterisk_check_character():
    assert coi.parse("tky26000005*") == coi.make("TKY", 26, 5)
    assert coi.parse("TKY26000005 ＊") == coi.make("TKY", 26, 5)


@pytest.mark.parametrize("text", ["", "   ", "\r\n", "-", " - - "])
def test_parse_empty(text):
    with pytest.raises(CoiError) as raised:
        coi.parse(text)
    assert raised.value.code == CoiCode.EMPTY


@pytest.mark.parametrize(
    "text",
    [
        "TKY26000123 OO",
        "TKY2600123 O",  # five-digit sequence
        "TKY260000123 O",  # seven digits: no room for a check character
        "T26000123 O",  # one-letter site
        "TOKYOX26000123 O",  # six-letter site
        "26000123 O",
        "TKY26000123 #",
        "TKY 26 000123 .",
        "TKY26000123_O",
        "TKY26000123/O",
        "TKY2600012A O",
        "TKY26000123 O\x00",
        "TKY\x0026000123O",
        "\x00",
        "TKY26000123 ı",  # dotless i: upper() would make it an I
        "tkı26000123 O",
        "TKY26000123 O" + " " * 60,  # longer than anything worth reading
        "X" * 10_000,
        "TKY26000123 O" * 1000,
        "TKY00000000 V",  # sequence 000000, with its own correct check character
    ],
)
def test_parse_malformed(text):
    with pytest.raises(CoiError) as raised:
        coi.parse(text)
    assert raised.value.code == CoiCode.MALFORMED
    assert "TKY26000123 O" in raised.value.text()


def test_sequence_zero_really_has_a_matching_check_character():
    assert reference_check("TKY00000000") == "V"


@pytest.mark.parametrize("text", ["TKY26000123", "tky 26 000123", "ABCDE99999999"])
def test_parse_without_check_character(text):
    with pytest.raises(CoiError) as raised:
        coi.parse(text)
    assert raised.value.code == CoiCode.NO_CHECK


def test_parse_refuses_what_is_not_text():
    with pytest.raises(TypeError):
        coi.parse(b"TKY26000123O")


def test_wrong_check_character_message():
    with pytest.raises(CoiError) as raised:
        coi.parse("TKY26000123 P")
    assert raised.value.code == CoiCode.CHECK_MISMATCH
    assert raised.value.text() == (
        "The check character does not match: please re-read or re-scan the number."
    )


def _variants(compact: str):
    """Every single-character substitution and every swap of two adjacent,
    different characters of ``compact``."""
    for i, c in enumerate(compact):
        for other in ALPHABET:
            if other != c:
                yield "substitution", compact[:i] + other + compact[i + 1 :]
    for i in range(len(compact) - 1):
        a, b = compact[i], compact[i + 1]
        if a != b:
            yield "transposition", compact[:i] + b + a + compact[i + 2 :]


def _same_shape(text: str) -> bool:
    return coi._NUMBER_RE.fullmatch(text) is not None


@pytest.mark.parametrize("site, year, sequence, printed", KNOWN)
def test_every_substitution_and_adjacent_transposition_is_detected(site, year, sequence, printed):
    compact = printed.replace(" ", "")
    count = 0
    for kind, variant in _variants(compact):
        with pytest.raises(CoiError) as raised:
            coi.parse(variant)
        # A slip that keeps the number's shape is caught by the check character
        # alone; the others are not even shaped like a number.
        if _same_shape(variant):
            assert raised.value.code == CoiCode.CHECK_MISMATCH, (kind, variant)
        else:  # a digit turned letter can also read as a longer site without a check
            assert raised.value.code in (CoiCode.MALFORMED, CoiCode.NO_CHECK), (kind, variant)
        count += 1
    assert count > 36 * len(compact)


def test_substitutions_that_keep_the_shape_are_the_check_characters_job():
    """A sanity check of the test above: most substitutions keep the shape, so
    it is the check character, not the pattern, that catches them."""
    compact = "TKY26000123O"
    kept = [v for kind, v in _variants(compact) if kind == "substitution" and _same_shape(v)]
    assert len(kept) == 3 * 25 + 8 * 9 + 36  # site letters, digits, check character
    assert all(not coi.mod_37_2.is_valid(v) for v in kept)


def test_adjacent_digit_transpositions_in_many_numbers():
    """Swapping two different neighbouring digits is caught for every number
    of a day's sequence range, not only the examples."""
    for sequence in range(1, 2000, 7):
        compact = coi.make("TKY", 26, sequence).compact
        digits = range(3, 11)  # the year and sequence positions
        for i, j in itertools.pairwise(digits):
            if compact[i] != compact[j]:
                swapped = compact[:i] + compact[j] + compact[i] + compact[j + 1 :]
                assert not coi.mod_37_2.is_valid(swapped), swapped
