"""The big clinic of the page benchmarks (scripts/bigclinic.py), seeded small:
coherent rows, and every key page answers 200 for the one who uses it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from intake import create_app
from intake.extensions import db

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


@pytest.fixture(scope="module")
def bigclinic():
    spec = importlib.util.spec_from_file_location("bigclinic", SCRIPTS / "bigclinic.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bigclinic"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("bigclinic", None)


@pytest.fixture(scope="module")
def seeded(bigclinic, tmp_path_factory):
    path = tmp_path_factory.mktemp("bigclinic") / "clinic.db"
    made = bigclinic.seed(str(path), scale=0.005, log=lambda _line: None)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": bigclinic.database_url(str(path)),
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        },
        config_object="config.TestConfig",
    )
    with app.app_context():
        yield app, made
        db.session.remove()
        db.engine.dispose()


def test_the_big_clinic_is_coherent(seeded):
    from intake.cultures.lifecycle import BatchState
    from intake.cultures.models import Batch
    from intake.eligibility.models import Questionnaire, QuestionnaireStatus
    from intake.scheduling.models import Appointment, Hold

    app, made = seeded
    assert made["patients"] == 100 and made["batches"] == 25
    assert made["audit_entries"] == 500 and made["messages"] == 200
    # Every bulk visit that took seats holds them; no seat is held twice.
    doubled = db.session.execute(
        select(Hold.resource_id, Hold.unit_start, Hold.seat)
        .group_by(Hold.resource_id, Hold.unit_start, Hold.seat)
        .having(func.count() > 1)
    ).all()
    assert doubled == []
    held = db.session.execute(
        select(func.count(func.distinct(Hold.appointment_id))).where(
            Hold.appointment_id.is_not(None)
        )
    ).scalar_one()
    assert held > 100
    assert db.session.execute(select(func.count()).select_from(Appointment)).scalar_one() > 100
    # The review queue and the lab board have rows.
    waiting = db.session.execute(
        select(func.count()).where(Questionnaire.status == QuestionnaireStatus.SUBMITTED)
    ).scalar_one()
    assert waiting >= 1
    states = set(db.session.execute(select(Batch.state).distinct()).scalars())
    assert BatchState.ADMINISTERED in states and BatchState.IN_CULTURE in states


def test_every_key_page_answers_200_for_its_user(seeded, bigclinic):
    app, _made = seeded
    pages = bigclinic.pages()
    assert {name for name, _role, _url in pages} == {
        "journey",
        "me",
        "availability_collection",
        "availability_consultation",
        "desk",
        "worklist",
        "reviews",
        "lab",
        "batch",
        "manager_week",
        "pipeline",
    }
    for name, role, url in pages:
        client = app.test_client()
        credentials = bigclinic.login(role)
        if credentials:
            form = {"email": credentials[0], "password": credentials[1]}
            with client.post("/login", data=form) as response:
                assert response.status_code == 302, (role, response.status_code)
        with client.get(url) as response:
            assert response.status_code == 200, (name, url, response.status_code)
            assert len(response.get_data()) > 200, name


def test_the_availability_benchmark_builds_its_bookings(app):
    """scripts/bench_availability.py still builds its clinic: every visit
    belongs to a patient record and a course."""
    import random

    from intake.scheduling.models import Appointment, Hold

    spec = importlib.util.spec_from_file_location(
        "bench_availability", SCRIPTS / "bench_availability.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    made = module.build(60, random.Random(1))
    assert made["bookings"] == 60 and made["holds"] > 0
    orphans = db.session.execute(
        select(func.count()).where(Appointment.course_id.is_(None))
    ).scalar_one()
    assert orphans == 0
    assert db.session.execute(select(func.count()).select_from(Hold)).scalar_one() == made["holds"]
