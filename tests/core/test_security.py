"""Security headers, CSRF on every form, cookie flags, error pages."""

import pytest

from intake import create_app
from intake.accounts.roles import Role


def test_security_headers(client):
    with client.get("/login") as r:
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
        assert "frame-ancestors 'none'" in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "same-origin"
        assert "<script>" not in r.get_data(as_text=True)  # no inline script anywhere


def test_session_cookie_flags(client, make_user):
    user = make_user(Role.PATIENT)
    with client.post("/login", data={"email": user.email, "password": "Correct-Horse-9"}) as r:
        cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_refuses_default_secret_and_sets_secure_cookies(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(
            {"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "dev-only-not-secret"},
            config_object="config.ProductionConfig",
        )
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x" * 40},
        config_object="config.ProductionConfig",
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True


@pytest.fixture
def csrf_client(app):
    app.config["WTF_CSRF_ENABLED"] = True
    return app.test_client()


@pytest.mark.parametrize(
    "path", ["/login", "/register", "/password/forgot", "/language", "/logout", "/admin/users/new"]
)
def test_csrf_is_required_on_every_form(csrf_client, path):
    with csrf_client.post(path, data={"email": "a@example.org", "password": "x"}) as r:
        assert r.status_code == 400
        assert "The form expired" in r.get_data(as_text=True)


def test_forms_carry_a_csrf_token(csrf_client):
    for path in ("/login", "/register", "/password/forgot"):
        with csrf_client.get(path) as r:
            assert 'name="csrf_token"' in r.get_data(as_text=True)


def test_404_page_is_friendly_and_translated(client):
    with client.get("/nope", headers={"Accept-Language": "en"}) as r:
        assert r.status_code == 404 and "We could not find this page" in r.get_data(as_text=True)


def test_unexpected_error_gives_friendly_500(app, client):
    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    with client.get("/boom") as r:
        assert r.status_code == 500
        assert "Something went wrong on our side" in r.get_data(as_text=True)


def test_assets_are_local(client):
    """Every script, stylesheet and image comes from the app itself (the page's
    random CSRF token may spell anything, so the addresses are what is read)."""
    import re

    with client.get("/login") as r:
        body = r.get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]*)"', body)
    assert sources
    assert all(not s.startswith(("http:", "https:", "//")) for s in sources), sources
    with client.get("/bootstrap/static/css/bootstrap.min.css") as r:
        assert r.status_code == 200


def test_clinic_phone_in_footer_when_configured(app, client):
    app.config["CLINIC_PHONE"] = "+81 3 1234 5678"
    with client.get("/login") as r:
        assert 'href="tel:+81312345678"' in r.get_data(as_text=True)
