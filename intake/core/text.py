"""Marker for strings that pure modules hand to the UI.

Pure modules cannot import Flask-Babel, so they wrap user-visible English text
in ``N_`` (a no-op). ``pybabel extract`` is configured to collect ``N_`` calls,
and the view or template translates the string with ``_()`` at render time.
"""


def N_(text: str) -> str:  # noqa: N802 - conventional gettext marker name
    return text
