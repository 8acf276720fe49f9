"""What a user reads: times without seconds, in the clinic's zone, named."""

from datetime import UTC, datetime

import pytest
from flask_babel import force_locale

from intake.templating import fmt_datetime

INSTANT = datetime(2026, 3, 2, 0, 5, 7, tzinfo=UTC)  # 09:05:07 in Tokyo


@pytest.mark.parametrize(
    ("locale", "shown"),
    [
        ("en", "Mar 2, 2026, 9:05\u202fAM (JST, Asia/Tokyo)"),
        ("zh_Hans", "2026年3月2日 09:05 (JST, Asia/Tokyo)"),
        ("ja", "2026/03/02 9:05 (JST, Asia/Tokyo)"),
    ],
)
def test_datetimes_are_shown_without_seconds(app, locale, shown):
    with app.test_request_context(), force_locale(locale):
        assert fmt_datetime(INSTANT) == shown


def test_no_seconds_on_a_page(app, client, login_as):
    from intake.accounts.roles import Role

    login_as(Role.MANAGER)
    with client.get("/audit") as r:  # the login just written, with its time
        body = r.get_data(as_text=True)
    import re

    assert re.search(r"\d{1,2}:\d{2}\s[AP]M \(JST", body)
    assert not re.search(r"\d{1,2}:\d{2}:\d{2}", body)


TEMPLATE = (
    "{{ _('Lab board') }}|{{ _('%(n)s batches, %(risk)s at risk.', n=x, risk=2) }}|"
    "{{ ngettext('%(num)s day', '%(num)s days', 3) }}|"
    "{{ ngettext('%(num)s day', '%(num)s days', 1) }}|"
    "{% trans n=x %}Day {{ n }}{% endtrans %}|{{ _('100%% sure') }}"
)


@pytest.mark.parametrize("locale", ["en", "zh_Hans", "ja"])
def test_templates_translate_as_flask_babel_does(app, locale):
    """A page's ``_``, ``ngettext`` and ``{% trans %}`` use the catalogue bound
    once per render: the same text, escaping and formatting as Flask-Babel's
    own callables (a plain ``from_string`` render runs no context processor)."""
    from flask import render_template_string
    from flask_babel import gettext

    with app.test_request_context(), force_locale(locale):
        fast = render_template_string(TEMPLATE, x="<b>")
        plain = app.jinja_env.from_string(TEMPLATE).render(x="<b>")
        assert fast == plain
        assert fast.startswith(gettext("Lab board") + "|")
        assert "&lt;b&gt;" in fast and "<b>" not in fast
        if locale != "en":
            assert gettext("Lab board") != "Lab board"


def test_a_page_translates_with_the_catalogue_looked_up_once(app, client, login_as, monkeypatch):
    """The board of many rows looks the reader's catalogue up once per render,
    not once per string."""
    import flask_babel

    from intake.accounts.roles import Role

    login_as(Role.LAB)
    calls = []
    original = flask_babel.get_translations
    monkeypatch.setattr(flask_babel, "get_translations", lambda: calls.append(1) or original())
    with client.get("/lab") as r:
        assert r.status_code == 200
    # The page's template strings go through the bound catalogue: only the
    # Python side (views, navigation) and imported macros still ask.
    assert len(calls) < 15


@pytest.mark.parametrize("locale", ["en", "zh_Hans", "ja"])
@pytest.mark.parametrize(
    "instant",
    [
        INSTANT,
        datetime(2026, 12, 31, 15, 0, tzinfo=UTC),  # midnight in Tokyo: the next day
        datetime(2026, 6, 30, 14, 59, 59, tzinfo=UTC),
        datetime(2027, 1, 1, 3, 30, tzinfo=UTC),
    ],
)
def test_datetimes_read_as_flask_babels_formatters_give_them(app, locale, instant):
    from flask_babel import format_date, format_time, get_locale

    with app.test_request_context(), force_locale(locale):
        time_part, date_part = format_time(instant, "short"), format_date(instant, "medium")
        shown = fmt_datetime(instant)
        joined = str(get_locale().datetime_formats["medium"]).format(time_part, date_part)
        assert shown == f"{joined} (JST, Asia/Tokyo)"
