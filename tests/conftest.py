"""Fixtures: a fresh database per test, on SQLite or (TEST_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

import itertools
import os
import re

import pytest
from sqlalchemy import event, text

from intake import create_app
from intake.accounts.roles import Role
from intake.accounts.two_factor import code_at, new_secret
from intake.core.types import utcnow
from intake.extensions import db

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
_counter = itertools.count(1)
_pg_schema_ready = False

PASSWORD = "Correct-Horse-9"


def _fresh_schema(app) -> None:
    """SQLite: a new in-memory-like file each test. PostgreSQL: the schema is
    created once, then every table is emptied before each test."""
    global _pg_schema_ready
    with app.app_context():
        if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
            if not _pg_schema_ready:
                db.drop_all()
                with db.engine.begin() as conn:
                    conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
                db.create_all()
                _pg_schema_ready = True
            tables = ", ".join(t.name for t in db.metadata.sorted_tables)
            with db.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        else:
            db.create_all()


@pytest.fixture
def app(tmp_path):
    uri = TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'test.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": uri}, config_object="config.TestConfig")
    _fresh_schema(app)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    from intake.accounts.models import User

    def make(role: Role = Role.PATIENT, **overrides) -> User:
        n = next(_counter)
        fields = {
            "email": f"user{n}@example.org",
            "full_name": f"Test {role.value.title()} {n}",
            "role": role,
            "locale": "en",
        }
        if role == Role.PATIENT:
            from datetime import date

            fields.update(date_of_birth=date(1970, 1, 1), phone="+86 138 0000 0000")
        password = overrides.pop("password", PASSWORD)
        if role != Role.PATIENT and overrides.pop("two_factor", True):
            # Staff log in with a second factor: give them an enrolled app.
            fields.update(totp_secret=new_secret(), totp_enabled_at=utcnow())
        if role == Role.PATIENT:
            fields["email_verified_at"] = utcnow()
        patient_fields = {
            key: overrides.pop(key)
            for key in ("family_name", "given_name", "family_name_latin", "given_name_latin")
            if key in overrides
        }
        fields.update(overrides)
        user = User(**fields)
        user.set_password(password)
        db.session.add(user)
        if role == Role.PATIENT:
            from intake.patients.services import create_patient

            db.session.flush()
            # The record takes the login's id (as the migration does for existing
            # patients), so tests may compare either; tests of the patient ≠ login
            # separation use make_patient(with_login=False) to shift the ids.
            named = "full_name" in overrides
            from intake.patients.models import Patient

            create_patient(
                # The login's id when free (tests may compare either); taken by a
                # record without a login, the ids differ, as in real use.
                patient_id=user.id if db.session.get(Patient, user.id) is None else None,
                family_name=patient_fields.get(
                    "family_name", overrides["full_name"] if named else "Test"
                ),
                given_name=patient_fields.get("given_name", "" if named else f"Patient {n}"),
                family_name_latin=patient_fields.get("family_name_latin"),
                given_name_latin=patient_fields.get("given_name_latin"),
                date_of_birth=fields.get("date_of_birth"),
                phone=fields.get("phone"),
                email=fields["email"],
                locale=fields["locale"],
                user=user,
                actor=None,
            )
            user.full_name = user.patient.full_name
            _sync_patient_sequence()
        db.session.commit()
        return user

    return make


def _sync_patient_sequence() -> None:
    if db.engine.dialect.name == "postgresql":
        db.session.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('patients', 'id'), "
                "GREATEST((SELECT COALESCE(MAX(id), 0) FROM patients), "
                "(SELECT COALESCE(MAX(id), 0) FROM users)) + 1, false)"
            )
        )


@pytest.fixture
def make_patient(make_user):
    """A patient record with a login (``with_login=False``: registered by the
    desk, no login). Returns the ``Patient``; its login is ``patient.user``."""

    def make(*, with_login: bool = True, **overrides):
        if with_login:
            return make_user(Role.PATIENT, **overrides).patient
        from datetime import date

        from intake.patients.services import create_patient

        n = next(_counter)
        patient = create_patient(
            family_name=overrides.pop("family_name", "Walkin"),
            given_name=overrides.pop("given_name", f"Patient {n}"),
            date_of_birth=overrides.pop("date_of_birth", date(1970, 1, 1)),
            locale=overrides.pop("locale", "en"),
            actor=None,
            **overrides,
        )
        db.session.commit()
        return patient

    return make


def log_in(client, user, password: str = PASSWORD):
    """Password, then (staff with an enrolled app) the current code."""
    with client.post("/login", data={"email": user.email, "password": password}) as response:
        assert response.status_code == 302, response.get_data(as_text=True)
        location = response.headers["Location"]
    if location == "/login/code":
        with client.post("/login/code", data={"code": current_code(user)}) as response:
            assert response.status_code == 302, response.get_data(as_text=True)


def current_code(user) -> str:
    return code_at(user.totp_secret, utcnow())


@pytest.fixture
def login_as(client, make_user):
    """Log in through the real login form; returns the user."""

    def login(role: Role | str = Role.PATIENT, **overrides):
        user = make_user(Role(role), **overrides)
        log_in(client, user, overrides.get("password", PASSWORD))
        return user

    return login


@pytest.fixture
def count_queries(app):
    """Context manager counting SQL statements sent to the database."""
    from contextlib import contextmanager

    @contextmanager
    def counter():
        statements: list[str] = []

        def before(conn, cursor, statement, *args):
            if not re.match(r"\s*(SAVEPOINT|RELEASE|PRAGMA)", statement):
                statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            event.remove(db.engine, "before_cursor_execute", before)

    return counter


@pytest.fixture
def make_approved_patient(make_user):
    """A patient who may book the collection visit: submitted questionnaire,
    a doctor's approval, a complete, valid and acceptable infectious panel
    (taken 7 days before today in the clinic) and signed treatment and
    cross-border consents, all made through the intake services. Keyword
    arguments override the patient's User fields (``password`` too)."""
    from intake.eligibility.demo import make_ready_to_book

    def make(**user_overrides):
        password = user_overrides.get("password", PASSWORD)
        patient = make_user(Role.PATIENT, **user_overrides)
        doctor = make_user(Role.DOCTOR)
        coordinator = make_user(Role.COORDINATOR)
        make_ready_to_book(
            patient,
            doctor=doctor,
            doctor_password=PASSWORD,
            coordinator=coordinator,
            password=password,
        )
        db.session.commit()
        return patient

    return make
