"""Batches made, received, recorded and moved through their lifecycle by the
services: rules, audit rows, nothing saved on bad input."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from intake.accounts.roles import Role
from intake.core import settings
from intake.core.errors import DomainError, FormErrors, NotAllowed
from intake.core.models import AuditEntry
from intake.core.types import utcnow
from intake.cultures import coi, services
from intake.cultures.lifecycle import BatchState
from intake.cultures.models import Batch, BatchEvent, EventKind
from intake.extensions import db
from intake.notifications.models import Message
from intake.scheduling import services as scheduling
from intake.scheduling.models import AppointmentStatus, Hold


def _count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def _actions() -> list[str]:
    return list(db.session.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars())


def _collection_today(clinic, make_patient, coordinator):
    """A collection visit earlier today (or the last open day), checked in."""
    cal = clinic.cal
    day = clinic.today
    for _ in range(10):
        if cal.units_of_day(day) and day not in cal.holidays(day, day):
            break
        day -= timedelta(days=1)
    start = datetime.combine(day, time(9, 0), tzinfo=cal.tz).astimezone(UTC)
    if start >= utcnow():
        start = datetime.combine(day - timedelta(days=7), time(9, 0), tzinfo=cal.tz)
        start = start.astimezone(UTC)
    patient = make_patient(email="wang@example.org", locale="zh_Hans")
    appointment = scheduling.record_past_visit(
        patient,
        "collection",
        start,
        actor=coordinator,
        status=AppointmentStatus.ARRIVED,
        note="test",
    )
    db.session.commit()
    return appointment


@pytest.fixture
def coordinator(make_user):
    return make_user(Role.COORDINATOR)


def test_completing_a_collection_makes_an_expected_batch_with_its_number(
    clinic, make_patient, coordinator
):
    appointment = _collection_today(clinic, make_patient, coordinator)
    batch = services.complete_collection(
        appointment,
        collected_by="Dr Sato",
        tissue_amount=3,
        tissue_unit="pieces",
        blood_volume_ml=50,
        actor=coordinator,
    )
    db.session.commit()
    assert appointment.status == AppointmentStatus.COMPLETED
    assert batch.course_id == appointment.course_id and batch.is_expected
    assert batch.state == BatchState.RECEIVED
    number = coi.parse(batch.coi)
    assert (number.site, number.sequence) == ("TKY", 1)
    assert number.year == clinic.cal.local_date(appointment.start_at).year % 100
    assert batch.planned_dose_low == 100_000_000
    assert _actions()[-2:] == ["scheduling.complete", "cultures.batch_create"]


def test_the_site_code_comes_from_the_settings_and_numbers_follow_on(
    clinic, make_patient, coordinator, make_user
):
    settings.update_settings({"coi_site_code": "OSK"}, actor=make_user(Role.MANAGER))
    first = _collection_today(clinic, make_patient, coordinator)
    a = services.complete_collection(
        first,
        collected_by="A",
        tissue_amount=1,
        tissue_unit="mg",
        blood_volume_ml=40,
        actor=coordinator,
    )
    db.session.commit()
    assert a.coi.startswith("OSK") and a.coi_sequence == 1
    b = Batch(
        **{
            c: getattr(a, c)
            for c in (
                "course_id",
                "patient_id",
                "collected_on",
                "collected_by",
                "tissue_amount",
                "tissue_unit",
                "blood_volume_ml",
                "planned_dose_low",
                "planned_dose_high",
            )
        },
        appointment_id=a.appointment_id,
    )
    # A second batch for the same visit is refused by the database, not reused.
    with pytest.raises(DomainError):
        services._take_coi(b, "OSK", a.coi_year)
    db.session.rollback()


@pytest.mark.parametrize("code", ["T", "tky", "TOKYOX", "T1Y", ""])
def test_the_site_code_setting_is_two_to_five_capitals(app, make_user, code):
    from intake.core.settings import SettingsInvalid

    settings.seed_defaults()
    with pytest.raises(SettingsInvalid) as info:
        settings.update_settings({"coi_site_code": code}, actor=make_user(Role.MANAGER))
    assert "coi_site_code" in info.value.errors


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"tissue_amount": 0}, "tissue_amount"),
        ({"blood_volume_ml": -5}, "blood_volume_ml"),
        ({"collected_by": "  "}, "collected_by"),
        ({"tissue_unit": "kg"}, "tissue_unit"),
    ],
)
def test_bad_collection_details_save_nothing(clinic, make_patient, coordinator, fields, bad):
    appointment = _collection_today(clinic, make_patient, coordinator)
    values = dict(collected_by="A", tissue_amount=2, tissue_unit="mg", blood_volume_ml=50)
    values.update(fields)
    with pytest.raises(FormErrors) as info:
        services.complete_collection(appointment, actor=coordinator, **values)
    assert [e.field for e in info.value.errors] == [bad]
    db.session.rollback()
    assert _count(Batch) == 0 and appointment.status == AppointmentStatus.ARRIVED


def test_receiving_records_custody_and_audit(make_batch, lab):
    batch = make_batch(received=False, state=BatchState.RECEIVED, days_ago=1)
    when = batch.appointment.start_at + timedelta(hours=3)
    services.receive_batch(
        batch, received_by="Tanaka", received_at=when, condition="intact", actor=lab
    )
    db.session.commit()
    assert batch.received_at == when and not batch.is_expected
    event = db.session.execute(select(BatchEvent)).scalar_one()
    assert event.kind == EventKind.RECEIPT and event.person == "Tanaka"
    assert _actions()[-1] == "cultures.receive"
    with pytest.raises(DomainError):
        services.receive_batch(batch, received_by="X", received_at=when, condition="x", actor=lab)


@pytest.mark.parametrize(
    ("kind", "fields", "bad"),
    [
        ("cell_count", {"cells": 0, "viability_percent": Decimal("90")}, "cells"),
        ("cell_count", {"cells": -3, "viability_percent": Decimal("90")}, "cells"),
        (
            "cell_count",
            {"cells": 10**6, "viability_percent": Decimal("100.5")},
            "viability_percent",
        ),
        ("cell_count", {"cells": 10**6, "viability_percent": Decimal("-1")}, "viability_percent"),
        ("cell_count", {"cells": 10**6, "viability_percent": Decimal("NaN")}, "viability_percent"),
        ("qc_result", {"qc_item": "endotoxin", "qc_value": "-0.1"}, "qc_value"),
        ("qc_result", {"qc_item": "viability", "qc_value": "101"}, "qc_value"),
        ("qc_result", {"qc_item": "sterility", "qc_value": "maybe"}, "qc_value"),
        ("qc_result", {"qc_item": "cell_count", "qc_value": "0"}, "qc_value"),
        ("qc_result", {"qc_item": "colour", "qc_value": "1"}, "qc_item"),
        ("passage", {"passage_number": -1}, "passage_number"),
        ("observation", {"note": ""}, "note"),
        ("custody", {"person": "A", "from_place": "", "to_place": "B"}, "from_place"),
    ],
)
def test_bad_entries_save_nothing(make_batch, lab, kind, fields, bad):
    batch = make_batch()
    with pytest.raises(FormErrors) as info:
        services.record_event(batch, kind, actor=lab, occurred_at=utcnow(), **fields)
    assert bad in [e.field for e in info.value.errors]
    db.session.rollback()
    assert _count(BatchEvent) == 0


@pytest.mark.parametrize(
    ("offset", "message"),
    [(timedelta(hours=1), "future"), (None, "before the collection")],
)
def test_entry_times_are_neither_future_nor_before_the_collection(make_batch, lab, offset, message):
    batch = make_batch()
    when = utcnow() + offset if offset else batch.appointment.start_at - timedelta(minutes=1)
    with pytest.raises(FormErrors) as info:
        services.record_event(batch, "medium_change", actor=lab, occurred_at=when)
    assert message in info.value.errors[0].message
    assert info.value.errors[0].field == "occurred_at"


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.DOCTOR, Role.MANAGER, Role.PATIENT])
def test_only_lab_users_write(make_batch, make_user, role):
    batch = make_batch()
    actor = make_user(role)
    with pytest.raises(NotAllowed):
        services.record_event(batch, "medium_change", actor=actor, occurred_at=utcnow())
    with pytest.raises(NotAllowed):
        services.transition_batch(batch, "failed", actor=actor, reason="x")


@pytest.mark.parametrize(
    ("item", "value", "passed"),
    [
        ("sterility", "negative", True),
        ("sterility", "positive", False),
        ("mycoplasma", "negative", True),
        ("endotoxin", "0.49", True),
        ("endotoxin", "0.5", False),
        ("viability", "70", True),
        ("viability", "69.9", False),
        ("cell_count", "150000000", True),
        ("cell_count", "99999999", False),
    ],
)
def test_qc_results_are_judged_by_the_settings(make_batch, lab, item, value, passed):
    batch = make_batch()
    event = services.record_event(
        batch, "qc_result", actor=lab, occurred_at=utcnow(), qc_item=item, qc_value=value
    )
    assert event.qc_passed is passed
    assert _actions()[-1] == "cultures.record"


def test_a_correction_is_a_new_entry_that_replaces_the_old(make_batch, lab):
    batch = make_batch()
    first = services.record_event(
        batch,
        "cell_count",
        actor=lab,
        occurred_at=utcnow(),
        cells=10**7,
        viability_percent=Decimal("90"),
    )
    fixed = services.record_event(
        batch,
        "cell_count",
        actor=lab,
        occurred_at=utcnow(),
        cells=2 * 10**7,
        viability_percent=Decimal("91"),
        corrects_id=first.id,
        note="typo",
    )
    db.session.commit()
    assert first.cells == 10**7 and fixed.corrects_id == first.id
    assert services.current_events(batch) == [fixed]
    assert _actions()[-1] == "cultures.correct"
    with pytest.raises(DomainError):
        services.record_event(
            batch,
            "cell_count",
            actor=lab,
            occurred_at=utcnow(),
            cells=1,
            viability_percent=Decimal("1"),
            corrects_id=first.id,
        )


def _pass_qc(batch, lab):
    for item, value in [
        ("sterility", "negative"),
        ("mycoplasma", "negative"),
        ("endotoxin", "0.1"),
        ("viability", "95"),
        ("cell_count", "150000000"),
    ]:
        services.record_event(
            batch, "qc_result", actor=lab, occurred_at=utcnow(), qc_item=item, qc_value=value
        )


def test_release_needs_every_qc_result(make_batch, lab):
    batch = make_batch(state=BatchState.QC_PENDING)
    with pytest.raises(DomainError) as info:
        services.transition_batch(batch, "released", actor=lab)
    assert "sterility" in info.value.message
    _pass_qc(batch, lab)
    services.transition_batch(batch, "released", actor=lab)
    db.session.commit()
    assert batch.state == BatchState.RELEASED
    assert _actions()[-1] == "cultures.transition"


def test_a_batch_not_received_cannot_start(make_batch, lab):
    batch = make_batch(state=BatchState.RECEIVED, received=False)
    with pytest.raises(DomainError):
        services.transition_batch(batch, "in_culture", actor=lab)


def test_failing_needs_a_reason(make_batch, lab):
    batch = make_batch()
    with pytest.raises(DomainError) as info:
        services.transition_batch(batch, "failed", actor=lab, reason="  ")
    assert info.value.field == "reason"


def test_failing_frees_the_place_tells_the_patient_and_leaves_the_course_open(
    clinic, make_patient, coordinator, lab
):
    appointment = _collection_today(clinic, make_patient, coordinator)
    batch = services.complete_collection(
        appointment,
        collected_by="A",
        tissue_amount=2,
        tissue_unit="pieces",
        blood_volume_ml=50,
        actor=coordinator,
    )
    db.session.commit()
    course = batch.course
    held = len(clinic.incubator_holds(course.id))
    assert held > 0
    services.transition_batch(batch, "failed", actor=lab, reason="contamination")
    db.session.commit()
    today_start = clinic.cal.day_start(clinic.today)
    left = clinic.incubator_holds(course.id)
    assert left and all(h.unit_start < today_start for h in left) or not left
    assert len(left) < held
    assert (
        db.session.execute(
            select(Hold).where(Hold.course_id == course.id, Hold.unit_start >= today_start)
        ).first()
        is None
    )
    message = db.session.execute(
        select(Message).where(Message.template == "culture_failed")
    ).scalar_one()
    assert message.locale == "zh_Hans" and "培养" in message.subject
    assert course.is_open
    assert "scheduling.culture_place_released" in _actions()


def test_a_failed_batch_cancels_the_courses_reinfusions_only(
    clinic, make_batch, make_approved_patient, coordinator, lab
):
    """DOMAIN rule 10: a failed batch cancels its reinfusion bookings; other
    visits of the course (a consultation) stay."""
    from intake.scheduling import services as booking
    from intake.scheduling.models import AppointmentStatus

    user = make_approved_patient()
    day = clinic.day(min_days=20)
    reinfusion = booking.book_visit(
        user.patient, "reinfusion-iv", clinic.at(day, "10:00"), actor=coordinator
    )
    consultation = booking.book_visit(
        user.patient, "consultation", clinic.at(day, "15:00"), actor=coordinator
    )
    batch = make_batch(patient=user.patient)
    db.session.commit()
    services.transition_batch(batch, "failed", actor=lab, reason="Contamination.")
    db.session.commit()
    assert reinfusion.status == AppointmentStatus.CANCELLED
    assert "cells could not be grown" in reinfusion.cancel_reason
    assert consultation.status == AppointmentStatus.BOOKED
    assert clinic.holds(reinfusion) == []
