"""The three catalogues are complete: every string the code and templates
use has a translation in zh_Hans and ja."""

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "intake" / "translations"


def _catalog(path: Path):
    with path.open("rb") as f:
        return read_po(f)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "--quiet",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "N_",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    return {m.id for m in _catalog(pot) if m.id}


@pytest.mark.parametrize("locale", ["en", "zh_Hans", "ja"])
def test_catalogue_has_every_extracted_string(locale, extracted):
    catalog = _catalog(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po")
    missing = sorted(str(i) for i in extracted - {m.id for m in catalog if m.id})
    assert not missing, (
        f"{locale} lacks {len(missing)} strings, e.g. {missing[:5]} (make update-messages)"
    )


@pytest.mark.parametrize("locale", ["zh_Hans", "ja"])
def test_catalogue_is_fully_translated(locale):
    catalog = _catalog(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po")
    untranslated = [
        m.id
        for m in catalog
        if m.id and (m.fuzzy or not all(m.string if isinstance(m.string, tuple) else (m.string,)))
    ]
    assert not untranslated, f"{locale}: {len(untranslated)} untranslated, e.g. {untranslated[:5]}"


@pytest.mark.parametrize("locale", ["zh_Hans", "ja"])
def test_placeholders_survive_translation(locale):
    import re

    catalog = _catalog(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po")
    pattern = re.compile(r"%\(\w+\)s")
    for m in catalog:
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        wanted = set(pattern.findall(ids[0])) | (
            set(pattern.findall(ids[1])) if len(ids) > 1 else set()
        )
        for s in strings:
            assert set(pattern.findall(s)) <= wanted, (locale, m.id, s)
            assert set(pattern.findall(s)) >= set(pattern.findall(ids[0])) - {"%(num)s"}, (
                locale,
                m.id,
                s,
            )
