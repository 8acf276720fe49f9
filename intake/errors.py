"""Friendly error pages in the user's language (JSON for API paths)."""

from __future__ import annotations

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from intake.core.parsing import MSG_NUL
from intake.core.text import N_
from intake.core.web import holds_nul_byte
from intake.extensions import db

PAGES = {
    400: (N_("Something in the request was not right"), N_("Please go back and try again.")),
    403: (
        N_("You do not have access to this page"),
        N_("If you think you should see it, ask the clinic."),
    ),
    404: (
        N_("We could not find this page"),
        N_("The address may be mistyped, or the record is not yours to see."),
    ),
    405: (N_("This action is not available here"), N_("Please go back and try again.")),
    410: (N_("This link is no longer valid"), N_("Please ask for a new one.")),
    429: (N_("Too many attempts"), N_("Please wait a minute before trying again.")),
    500: (
        N_("Something went wrong on our side"),
        N_("We have been told about it. Please try again in a moment, or call the clinic."),
    ),
}


def wants_json() -> bool:
    return request.path.startswith("/scheduling/availability") or (
        request.accept_mimetypes.best == "application/json"
    )


def error_page(code: int, detail: str | None = None):
    title, default_detail = PAGES.get(code, PAGES[500])
    if wants_json():
        return jsonify(error=detail or _(title)), code
    return render_template(
        "errors/error.html", code=code, title=_(title), detail=detail or _(default_detail)
    ), code


def register(app) -> None:
    def _refuse_nul_bytes():
        if holds_nul_byte():
            return error_page(400, _(MSG_NUL))
        return None

    # First, before anything (rate limits, the login, a view) reads the request.
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_nul_bytes)

    @app.errorhandler(CSRFError)
    def _csrf(exc):
        return error_page(
            400, _("The form expired. Please go back, reload the page and try again.")
        )

    @app.errorhandler(HTTPException)
    def _http(exc):
        if exc.code not in PAGES:
            return exc
        return error_page(exc.code)

    @app.errorhandler(Exception)
    def _unexpected(exc):
        db.session.rollback()
        app.logger.exception("unhandled error")
        return error_page(500)
