"""With CSRF protection on (as in production; the test configuration turns
it off), every POST route of the URL map answers 400 without a token, for an
anonymous visitor and for every role that may use it, and nothing changes;
with the token the same forms work."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from intake import create_app
from intake.core.models import AuditEntry
from intake.extensions import db
from tests.security.world import ROLES, build_world
from tests.test_security_matrix import expected

TOKEN_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def csrf_app(app):
    """A second app on the same database, with CSRF protection on."""
    protected = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "WTF_CSRF_ENABLED": True,
        },
        config_object="config.TestConfig",
    )
    yield protected
    with protected.app_context():
        db.session.remove()
        db.engine.dispose()


def _token(client, url="/login") -> str:
    with client.get(url) as r:
        match = TOKEN_RE.search(r.get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def _log_in(client, world, role):
    user = world.user(role)
    data = {"email": user.email, "password": world.password(role), "csrf_token": _token(client)}
    with client.post("/login", data=data) as r:
        assert r.status_code == 302 and "/login" not in r.headers["Location"], role


def _post_routes(app):
    for rule in app.url_map.iter_rules():
        if "POST" in (rule.methods or ()):
            yield rule


def _audit_rows() -> int:
    return db.session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()


def test_every_post_without_a_token_is_400(app, csrf_app):
    world = build_world()
    table = expected()
    rules = list(_post_routes(csrf_app))
    assert len(rules) > 40
    wrong = []
    for role in ROLES:
        client = csrf_app.test_client()
        if role != "anonymous":
            _log_in(client, world, role)
        before = _audit_rows()
        for rule in rules:
            if table["POST", rule.rule][role] != "ok" and role != "anonymous":
                continue  # refused anyway; the table checks that
            url = world.url(csrf_app, rule)
            with client.post(url, data={"reason": "no token", "email": "a@example.org"}) as r:
                if r.status_code != 400:
                    wrong.append(f"{role} POST {url}: {r.status_code}")
        if _audit_rows() != before:
            wrong.append(f"{role}: posts without a token changed the audit trail")
    assert not wrong, "\n".join(wrong)


def test_a_wrong_token_is_400_too_with_a_clear_message(app, csrf_app):
    world = build_world()
    client = csrf_app.test_client()
    _log_in(client, world, "manager")
    data = {"first_date": "2031-01-06", "reason": "Training", "csrf_token": "forged"}
    with client.post("/scheduling/closures", data=data) as r:
        assert r.status_code == 400
        assert "The form expired" in r.get_data(as_text=True)


def test_with_the_token_the_form_works(app, csrf_app):
    """The control: the same protected app accepts the page's own token."""
    world = build_world()
    client = csrf_app.test_client()
    _log_in(client, world, "manager")
    data = {
        "first_date": "2031-01-06",
        "reason": "Training",
        "csrf_token": _token(client, "/scheduling/closures"),
    }
    with client.post("/scheduling/closures", data=data) as r:
        assert r.status_code == 302
