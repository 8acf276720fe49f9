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
