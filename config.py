"""Application configuration. Environment variables override the defaults."""

from __future__ import annotations

import os

from intake.core.languages import LANGUAGES

DEFAULT_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - refused in production


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY)
    # None means: SQLite in the app's instance/ folder (set in create_app).
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    CLINIC_TIMEZONE = os.environ.get("CLINIC_TIMEZONE", "Asia/Tokyo")
    CLINIC_NAME = os.environ.get("CLINIC_NAME", "Sakura Regenerative Clinic")
    # Shown in the footer and calendar files when set ("please call the clinic").
    CLINIC_PHONE = os.environ.get("CLINIC_PHONE")
    CLINIC_ADDRESS = os.environ.get("CLINIC_ADDRESS")

    LANGUAGES = LANGUAGES
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"

    BOOTSTRAP_SERVE_LOCAL = True
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = 3600 * 8

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 3600 * 8
    # A session ends after this long without a request (the last request's
    # time travels in the signed session cookie). Staff screens show records.
    STAFF_IDLE_TIMEOUT_SECONDS = int(os.environ.get("STAFF_IDLE_TIMEOUT_SECONDS", "900"))
    PATIENT_IDLE_TIMEOUT_SECONDS = int(os.environ.get("PATIENT_IDLE_TIMEOUT_SECONDS", "3600"))

    RATELIMIT_ENABLED = True
    # Where the rate limits count: "memory://" (each process on its own: one
    # development server), "database://" (the clinic's database, shared by
    # every worker and app server), or "redis://host:6379/0" (pip install
    # ".[redis]"). Production counts in the database unless told otherwise.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour")
    # Per account, in the database (so across every worker): after this many
    # failed passwords or codes in a row the account is locked for
    # LOGIN_LOCKOUT_SECONDS, doubling with each further failure up to the longest.
    LOGIN_LOCKOUT_THRESHOLD = int(os.environ.get("LOGIN_LOCKOUT_THRESHOLD", "5"))
    LOGIN_LOCKOUT_SECONDS = int(os.environ.get("LOGIN_LOCKOUT_SECONDS", "60"))
    LOGIN_LOCKOUT_MAX_SECONDS = int(os.environ.get("LOGIN_LOCKOUT_MAX_SECONDS", "3600"))
    # Reverse proxies in front of the app that add X-Forwarded-For/-Proto
    # (0: none, the headers are ignored). The rate limit and the audit trail
    # then see the client's address instead of the proxy's.
    PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0"))

    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 - a method name
    PASSWORD_RESET_TTL_SECONDS = int(os.environ.get("PASSWORD_RESET_TTL_SECONDS", "3600"))
    INVITATION_TTL_SECONDS = int(os.environ.get("INVITATION_TTL_SECONDS", str(7 * 86400)))

    # Outbox delivery: SMTP when SMTP_HOST is set, otherwise messages are printed.
    SMTP_HOST = os.environ.get("SMTP_HOST")
    SMTP_PORT = int(os.environ.get("SMTP_PORT", "587"))
    SMTP_USERNAME = os.environ.get("SMTP_USERNAME")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD")
    SMTP_STARTTLS = os.environ.get("SMTP_STARTTLS", "1") == "1"
    MAIL_FROM = os.environ.get("MAIL_FROM", "clinic@example.org")
    # Absolute links in e-mails (password reset) use this origin.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")

    # `flask backup`: where backups go (None: instance/backups) and, on
    # PostgreSQL, the folder of pg_dump/pg_restore (None: PATH, then the
    # newest /usr/lib/postgresql/*/bin).
    BACKUP_DIR = os.environ.get("BACKUP_DIR")
    PG_BIN_DIR = os.environ.get("PG_BIN_DIR")


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"  # noqa: S105
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    SMTP_HOST = None
    SERVER_NAME = None
    # Fast hashing keeps the suite quick; production uses scrypt.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # noqa: S105 - a method name


class ProductionConfig(Config):
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "database://")
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
