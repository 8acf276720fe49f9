"""Security headers on every response, idle sessions, and the forced
password change."""

from __future__ import annotations

import time

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import refresh as babel_refresh
from flask_login import current_user, logout_user, user_logged_in

from intake.accounts.services import two_factor_required
from intake.extensions import login_manager

# The time of the session's last request (whole seconds since the epoch),
# signed with the rest of the session cookie.
LAST_SEEN_KEY = "_seen"

# Requests that neither need a session nor count as activity.
_NOT_ACTIVITY = {"static", "bootstrap.static", "healthz"}

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


def clock() -> float:
    """Seconds since the epoch; tests move it instead of sleeping."""
    return time.time()


def idle_limit(user) -> int:
    key = "STAFF_IDLE_TIMEOUT_SECONDS" if user.is_staff else "PATIENT_IDLE_TIMEOUT_SECONDS"
    return current_app.config[key]


def _stamp_login(_sender, **_extra) -> None:
    session[LAST_SEEN_KEY] = int(clock())


def end_idle_session():
    """Log out a session idle for longer than its user's limit (or with no
    activity time: it cannot be trusted), else note this request's time."""
    if request.endpoint in _NOT_ACTIVITY or not current_user.is_authenticated:
        return None
    now = clock()
    seen = session.get(LAST_SEEN_KEY)
    if not isinstance(seen, int) or now - seen > idle_limit(current_user):
        logout_user()
        session.pop(LAST_SEEN_KEY, None)
        flash(_("You were logged out after a period of inactivity. Please log in again."), "info")
        return login_manager.unauthorized()
    if int(now) != seen:
        session[LAST_SEEN_KEY] = int(now)
    return None


def init_app(app) -> None:
    user_logged_in.connect(_stamp_login, app)
    # First of the request hooks: an idle session is ended before anything else.
    app.before_request(end_idle_session)

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
