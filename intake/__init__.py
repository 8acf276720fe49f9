"""The clinic application factory."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None, config_object: str | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    config_object = config_object or _config_name()
    app.config.from_object(config_object)
    if test_config:
        app.config.from_mapping(test_config)
    _finish_config(app)
    _behind_proxies(app)
    _bounded_int_urls(app)

    from intake import errors, templating
    from intake.core import ratelimit as _ratelimit  # noqa: F401 - registers database://
    from intake.core import security, sqlite
    from intake.extensions import babel, bootstrap, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    bootstrap.init_app(app)
    limiter.init_app(app)
    babel.init_app(
        app,
        locale_selector=templating.select_locale,
        timezone_selector=templating.select_timezone,
    )
    login_manager.init_app(app)
    security.init_app(app)
    _register_models()
    _register_blueprints(app)
    errors.register(app)
    templating.register(app)
    from intake import cli

    cli.register(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            sqlite.configure(db.engine)
    return app


def _behind_proxies(app: Flask) -> None:
    """Trust X-Forwarded-For/-Proto from exactly PROXY_COUNT proxies: the
    client's address is the one the last of them saw (never one the client
    wrote itself)."""
    count = app.config.get("PROXY_COUNT") or 0
    if count:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)


def _bounded_int_urls(app: Flask) -> None:
    """``<int:…>`` in a URL accepts only ids an INTEGER column can hold (32
    bits on PostgreSQL); a longer number answers 404 instead of overflowing
    the query."""
    from werkzeug.routing import IntegerConverter

    from intake.core.parsing import ID_MAX

    class BoundedIntegerConverter(IntegerConverter):
        def __init__(self, map, *args, **kwargs):
            kwargs.setdefault("max", ID_MAX)
            super().__init__(map, *args, **kwargs)

    app.url_map.converters["int"] = BoundedIntegerConverter


def _config_name() -> str:
    env = os.environ.get("INTAKE_ENV", "development")
    return {"production": "config.ProductionConfig", "testing": "config.TestConfig"}.get(
        env, "config.Config"
    )


def _finish_config(app: Flask) -> None:
    from config import DEFAULT_SECRET_KEY

    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        os.makedirs(app.instance_path, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(
            app.instance_path, "clinic.db"
        )
    if not app.debug and not app.testing and app.config.get("SESSION_COOKIE_SECURE"):
        if app.config["SECRET_KEY"] in (None, "", DEFAULT_SECRET_KEY):
            raise RuntimeError("Set SECRET_KEY: production refuses the default key.")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(ROOT / "intake" / "translations")


def _register_models() -> None:
    # Import every model module so metadata (and migrations) see all tables.
    from intake.accounts import models as _accounts  # noqa: F401
    from intake.core import models as _core  # noqa: F401
    from intake.core import ratelimit as _ratelimit  # noqa: F401
    from intake.cultures import models as _cultures  # noqa: F401
    from intake.eligibility import models as _eligibility  # noqa: F401
    from intake.manager import models as _manager  # noqa: F401
    from intake.notifications import models as _notifications  # noqa: F401
    from intake.reinfusion import models as _reinfusion  # noqa: F401
    from intake.scheduling import models as _scheduling  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from intake.accounts.views import bp as accounts_bp
    from intake.cultures.views import bp as cultures_bp
    from intake.eligibility.views import bp as eligibility_bp
    from intake.fhir.views import bp as fhir_bp
    from intake.manager.capacity_views import bp as capacity_bp
    from intake.manager.feeds_views import bp as feeds_bp
    from intake.manager.pipeline_views import bp as manager_pipeline_bp
    from intake.manager.views import bp as manager_bp
    from intake.notifications.views import bp as notifications_bp
    from intake.patients.trip_views import bp as trips_bp
    from intake.patients.views import bp as patients_bp
    from intake.reinfusion.aftercare_views import bp as aftercare_bp
    from intake.reinfusion.day_views import bp as reinfusion_day_bp
    from intake.reinfusion.views import bp as reinfusion_bp
    from intake.scheduling.views import bp as scheduling_bp

    app.register_blueprint(accounts_bp)
    app.register_blueprint(patients_bp)
    app.register_blueprint(manager_bp)
    app.register_blueprint(manager_pipeline_bp)
    app.register_blueprint(capacity_bp)
    app.register_blueprint(feeds_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(eligibility_bp)
    app.register_blueprint(scheduling_bp)
    app.register_blueprint(cultures_bp)
    app.register_blueprint(reinfusion_bp)
    app.register_blueprint(reinfusion_day_bp)
    app.register_blueprint(aftercare_bp)
    app.register_blueprint(trips_bp)
    app.register_blueprint(fhir_bp)
