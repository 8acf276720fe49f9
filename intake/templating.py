"""Locale and time zone selection, template filters and the navigation."""

from __future__ import annotations

from datetime import date, datetime

from babel import dates as babel_dates
from flask import current_app, has_request_context, request, session
from flask_babel import format_date, get_locale, get_translations
from flask_babel import gettext as _
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup

from intake.accounts.roles import ROLE_LABELS, Role
from intake.accounts.services import two_factor_required
from intake.core import settings
from intake.core.audit_labels import action_label, entity_label
from intake.core.clinic import clinic_tz
from intake.core.languages import LANGUAGE_NAMES
from intake.core.parsing import show_phone
from intake.core.text import N_


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    # Browsers send zh-CN / zh-Hans / zh; all read Simplified Chinese here.
    best = request.accept_languages.best_match(["en", "ja", "zh", "zh-CN", "zh-Hans", "zh-SG"])
    if best and best.startswith("zh"):
        return "zh_Hans"
    return best or current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["CLINIC_TIMEZONE"]


def html_lang() -> str:
    return str(get_locale()).replace("_", "-")


def fmt_datetime(value: datetime | None) -> str:
    """Date and time (hours and minutes, no seconds) in the clinic's zone,
    joined the way the reader's language joins them, with the zone named."""
    if value is None:
        return ""
    zone = current_app.config["CLINIC_TIMEZONE"]
    local = value.astimezone(clinic_tz())
    locale = get_locale()
    # Babel's formatters on the clinic's wall time with the reader's locale
    # looked up once: what Flask-Babel's format_time/format_date give (the
    # page's time zone is the clinic's), at half the cost on a long list.
    joined = str(locale.datetime_formats["medium"]).format(
        babel_dates.format_time(local, "short", locale=locale),
        babel_dates.format_date(local.date(), "medium", locale=locale),
    )
    return f"{joined} ({local.tzname()}, {zone})"


def fmt_date(value: date | None) -> str:
    return "" if value is None else format_date(value, "medium")


NAV = {
    Role.PATIENT: (
        ("patients.home", N_("My page")),
        ("eligibility.journey", N_("My journey")),
        ("scheduling.my_visits", N_("My visits")),
        ("notifications.inbox", N_("Messages")),
    ),
    Role.COORDINATOR: (
        ("patients.worklist", N_("Worklist")),
        ("scheduling.desk", N_("Day list")),
        ("manager.schedule", N_("Schedule")),
        ("patients.staff_home", N_("Patients")),
        ("eligibility.review_queue", N_("Review queue")),
        # Step 5's pages share one entry; tabs on each lead to the others.
        ("reinfusion.overview", N_("Reinfusion")),
    ),
    Role.DOCTOR: (
        ("patients.worklist", N_("Worklist")),
        ("scheduling.desk", N_("Day list")),
        ("manager.schedule", N_("Schedule")),
        ("patients.staff_home", N_("Patients")),
        ("eligibility.review_queue", N_("Review queue")),
        ("eligibility.panel_items", N_("Panel tests")),
        ("reinfusion.overview", N_("Reinfusion")),
        # The culture batches, where a doctor plans each batch's doses.
        ("cultures.board", N_("Lab board")),
    ),
    Role.LAB: (
        ("cultures.board", N_("Lab board")),
        ("aftercare.cpc", N_("Events to tell the CPC")),
    ),
    Role.MANAGER: (
        ("manager.home", N_("Overview")),
        ("manager.schedule", N_("Schedule")),
        ("manager_pipeline.overview", N_("Pipeline")),
        ("manager_pipeline.deadlines_page", N_("Deadlines")),
        ("capacity.page", N_("Capacity")),
        ("patients.staff_home", N_("Patients")),
        ("reinfusion_day.today", N_("Reinfusion")),
        ("cultures.board", N_("Lab board")),
        ("manager.settings_page", N_("Settings")),
        ("manager.audit_log", N_("Audit trail")),
    ),
    Role.ADMIN: (
        ("accounts.user_list", N_("Users")),
        ("manager_pipeline.overview", N_("Pipeline")),
        ("manager_pipeline.deadlines_page", N_("Deadlines")),
        ("capacity.page", N_("Capacity")),
        ("manager.audit_log", N_("Audit trail")),
    ),
}

#: The tabs on step 5's pages (the navigation bar has one "Reinfusion" entry).
REINFUSION_TABS = (
    ("reinfusion.overview", N_("Dates and changes"), (Role.COORDINATOR, Role.DOCTOR)),
    (
        "reinfusion_day.today",
        N_("Reinfusions today"),
        (Role.COORDINATOR, Role.DOCTOR, Role.MANAGER),
    ),
    ("aftercare.follow_ups", N_("Follow-ups"), (Role.COORDINATOR, Role.DOCTOR, Role.MANAGER)),
    ("aftercare.adverse_events", N_("Adverse events"), (Role.DOCTOR, Role.MANAGER)),
)


def navigation() -> list[tuple[str, str]]:
    if not current_user.is_authenticated or current_user.is_password_temporary:
        return []  # nothing else is reachable until the initial password is changed
    if not current_user.has_two_factor and two_factor_required(current_user):
        return []  # nor until the second factor is set up
    return [(endpoint, _(label)) for endpoint, label in NAV[current_user.role]]


def reinfusion_tabs() -> list[tuple[str, str]]:
    if not current_user.is_authenticated:
        return []
    return [(e, _(label)) for e, label, roles in REINFUSION_TABS if current_user.role in roles]


def template_gettext(translations) -> dict:
    """``gettext`` and ``ngettext`` for one render, bound to the reader's
    catalogue once instead of looking it up again for every string (a board
    of a thousand rows translates thousands of times). They behave as
    Jinja's "newstyle" callables that Flask-Babel installs: the text is
    marked safe when autoescaping, then always %-formatted with the keyword
    arguments (``num`` defaulting to the count). ``_`` and ``{% trans %}``
    resolve ``gettext`` from the render's context, so they use these."""
    lookup, plural = translations.ugettext, translations.ungettext

    @pass_context
    def gettext(context, string, **variables):
        text = lookup(string)
        if context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704  # nosec B704
        return text % variables

    @pass_context
    def ngettext(context, singular, plural_form, num, **variables):
        variables.setdefault("num", num)
        text = plural(singular, plural_form, num)
        if context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704  # nosec B704
        return text % variables

    return {"gettext": gettext, "ngettext": ngettext}


def register(app) -> None:
    app.jinja_env.filters["clinic_datetime"] = fmt_datetime
    app.jinja_env.filters["clinic_date"] = fmt_date
    app.jinja_env.filters["phone"] = show_phone
    app.jinja_env.filters["audit_action"] = lambda code: _(action_label(code))
    app.jinja_env.filters["audit_entity"] = lambda table: _(entity_label(table))

    @app.context_processor
    def _globals():
        return {
            **template_gettext(get_translations()),
            "html_lang": html_lang,
            "navigation": navigation,
            "reinfusion_tabs": reinfusion_tabs,
            "language_names": LANGUAGE_NAMES,
            "current_locale": lambda: str(get_locale()),
            "role_label": lambda role: _(ROLE_LABELS[role]),
            "clinic_name": current_app.config["CLINIC_NAME"],
            "clinic_phone": current_app.config.get("CLINIC_PHONE"),
            "clinic_timezone": current_app.config["CLINIC_TIMEZONE"],
            "password_min_length": lambda: settings.get("password_min_length"),
        }
