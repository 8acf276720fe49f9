"""Security headers on every response, and the forced password change."""

from __future__ import annotations

from flask import g, redirect, request, url_for
from flask_babel import refresh as babel_refresh
from flask_login import current_user

from intake.accounts.services import two_factor_required

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

# Endpoints a user with a temporary password may still reach.
_ALLOWED_WHILE_TEMPORARY = {
    "accounts.change_password",
    "accounts.logout",
    "accounts.set_language",
    "static",
    "bootstrap.static",
    "healthz",
}


def init_app(app) -> None:
    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        if request.endpoint not in ("static", "bootstrap.static"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.before_request
    def _force_password_change_then_second_factor():
        if not current_user.is_authenticated or request.endpoint in _ALLOWED_WHILE_TEMPORARY:
            return None
        if current_user.is_password_temporary:
            return redirect(url_for("accounts.change_password"))
        if (
            request.endpoint != "accounts.two_factor_setup"
            and not current_user.has_two_factor
            and two_factor_required(current_user)
        ):
            return redirect(url_for("accounts.two_factor_setup"))
        return None

    @app.teardown_request
    def _forget_request_caches(_exc):
        # The user and the settings are cached per request in ``g``; drop them
        # so that nothing outlives the request even when the app context does
        # (tests, CLI commands that make several requests).
        g.pop("_login_user", None)
        g.pop("_clinic_settings", None)
        babel_refresh()  # Flask-Babel caches the locale on the app context

    @app.get("/healthz")
    def healthz():
        return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}
