"""One list of the clinic's languages (intake/core/languages.py)."""

import re
from pathlib import Path

import pytest

from intake.core.languages import LANGUAGE_NAMES, LANGUAGES, PATIENT_ORDER, pick, supported, texts

ROOT = Path(__file__).resolve().parents[2]


def test_the_list_and_its_names_agree():
    assert LANGUAGES == ("en", "zh_Hans", "ja")
    assert set(LANGUAGE_NAMES) == set(LANGUAGES) == set(PATIENT_ORDER)
    catalogues = (ROOT / "intake" / "translations").iterdir()
    assert sorted(p.name for p in catalogues if p.is_dir()) == sorted(LANGUAGES)


@pytest.mark.parametrize(
    ("names", "lang", "shown"),
    [
        (texts("Room", "房间", "部屋"), "ja", "部屋"),
        ({"en": "Room"}, "zh_Hans", "Room"),
        ({"ja": "部屋"}, "zh_Hans", "部屋"),
        ({}, "en", ""),
        (None, None, ""),
    ],
)
def test_pick(names, lang, shown):
    assert pick(names, lang) == shown


@pytest.mark.parametrize(("lang", "result"), [("ja", "ja"), ("fr", "en"), (None, "en")])
def test_supported(lang, result):
    assert supported(lang) == result


def test_no_other_copy_of_the_list():
    """Code names the languages through intake.core.languages, not a literal."""
    literal = re.compile(r"""\(\s*["']en["'],\s*["']zh_Hans["'],\s*["']ja["']\s*\)""")
    found = [
        str(path.relative_to(ROOT))
        for path in [*ROOT.joinpath("intake").rglob("*.py"), ROOT / "config.py"]
        if path.name != "languages.py" and literal.search(path.read_text())
    ]
    assert not found, found
