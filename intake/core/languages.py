"""The clinic's languages, in one place. Pure.

Every user-visible text exists in English (``en``), Simplified Chinese
(``zh_Hans``) and Japanese (``ja``): the Babel catalogues, the names of visit
types, resources, panel tests and indications, the questionnaire and the
consent documents. Code that needs the list, a language's own name or a
name in a given language reads it here.
"""

from __future__ import annotations

from collections.abc import Mapping

LANGUAGES: tuple[str, ...] = ("en", "zh_Hans", "ja")
DEFAULT_LANGUAGE = "en"

#: Each language named in itself, for language pickers.
LANGUAGE_NAMES: Mapping[str, str] = {"en": "English", "zh_Hans": "简体中文", "ja": "日本語"}

#: The order a patient is offered the languages in (most patients read Chinese).
PATIENT_ORDER: tuple[str, ...] = ("zh_Hans", "ja", "en")


def texts(en: str, zh_hans: str, ja: str) -> dict[str, str]:
    """One text in the three languages, e.g. a name stored as JSON."""
    return {"en": en, "zh_Hans": zh_hans, "ja": ja}


def pick(names: Mapping[str, str] | None, lang: str | None) -> str:
    """The text in ``lang``, else English, else any; empty when there is none."""
    names = names or {}
    return (
        (names.get(lang) if lang else None)
        or names.get(DEFAULT_LANGUAGE)
        or next(iter(names.values()), "")
    )


def supported(lang: str | None) -> str:
    """``lang`` when the clinic speaks it, else the default language."""
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE
