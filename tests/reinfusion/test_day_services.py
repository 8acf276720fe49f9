# ruff: noqa: F811  (fixtures are imported from day_support, not a conftest shared with other work)
"""The reinfusion day's services: the clearance, the bedside identity check,
the administration and the dose plan. Each refusal leaves nothing saved."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from intake.accounts.roles import Role
from intake.core.errors import DomainError, FormErrors, NotAllowed
from intake.core.models import AuditEntry
from intake.cultures import services as cultures
from intake.cultures.lifecycle import BatchState
from intake.cultures.models import BatchEvent, EventKind
from intake.extensions import db
from intake.notifications.models import Message
from intake.reinfusion import day_services as services
from intake.reinfusion.models import (
    Administration,
    BedsideCheck,
    Clearance,
    Dose,
    DoseStatus,
)
from intake.scheduling import front_desk
from intake.scheduling.models import AppointmentStatus
from tests.conftest import PASSWORD
from tests.reinfusion.day_support import (  # noqa: F401
    CELLS,
    DOB,
    clinic,
    coordinator,
    day_patient,
    doctor,
    lab,
    make_batch,
    make_day_visit,
    manager,
)

VITALS = {
    "systolic": 124,
    "diastolic": 78,
    "pulse": 72,
    "temperature_c": Decimal("36.6"),
    "spo2": 98,
}
AFTER = {f"{k}_after": v for k, v in VITALS.items()}


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def audit_actions() -> list[str]:
    return list(db.session.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars())


def clear(visit, doctor, at="09:30", **overrides):
    fields = {**VITALS, "decision": "go", "reason": None, "password": PASSWORD, **overrides}
    return services.record_clearance(visit.appointment, actor=doctor, now=visit.at(at), **fields)


def bedside(visit, actor, label=None, at="09:40", **overrides):
    fields = {"name": "王丽", "date_of_birth": DOB, **overrides}
    return services.record_bedside_check(
        visit.appointment,
        label_text=label or visit.batch.coi,
        actor=actor,
        now=visit.at(at),
        **fields,
    )


def administer(visit, doctor, at="11:30", **overrides):
    fields = {
        "route": visit.dose.route,
        "cells_given": CELLS,
        "started_at": visit.at("10:00"),
        "ended_at": visit.at("10:50"),
        "observed_until": visit.at("11:20"),
        **AFTER,
        **overrides,
    }
    return services.record_administration(
        visit.appointment, actor=doctor, now=visit.at(at), **fields
    )


def ready(visit, doctor, coordinator):
    front_desk.mark_arrived(visit.appointment, actor=coordinator, now=visit.at("09:00"))
    clear(visit, doctor)
    bedside(visit, doctor)
    db.session.commit()


# ------------------------------------------------------------------ the clearance


def test_clearance_signed_with_the_password_and_audited(make_day_visit, doctor):
    visit = make_day_visit()
    clearance = clear(visit, doctor)
    assert clearance.decision.value == "go" and clearance.signed_at == visit.at("09:30")
    assert clearance.temperature_c == Decimal("36.6") and clearance.doctor_id == doctor.id
    assert "reinfusion.clearance" in audit_actions()


def test_clearance_refusals_all_at_once_and_nothing_saved(make_day_visit, doctor):
    visit = make_day_visit()
    with pytest.raises(FormErrors) as caught:
        clear(visit, doctor, systolic=300, spo2=20, decision="no_go", reason=" ", password="wrong")
    fields = [e.field for e in caught.value.errors]
    assert fields == ["systolic", "spo2", "reason", "password"]
    db.session.rollback()
    assert count(Clearance) == 0


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.MANAGER, Role.LAB, Role.PATIENT])
def test_only_a_doctor_clears(make_day_visit, make_user, role):
    visit = make_day_visit()
    with pytest.raises(NotAllowed):
        clear(visit, make_user(role))
    assert count(Clearance) == 0


def test_clearance_only_on_the_visit_day(make_day_visit, doctor):
    visit = make_day_visit()
    with pytest.raises(DomainError, match="only on the day"):
        services.record_clearance(
            visit.appointment,
            **VITALS,
            decision="go",
            reason=None,
            password=PASSWORD,
            actor=doctor,
            now=visit.at("10:00") - timedelta(days=1),
        )


# ------------------------------------------------------------------ the bedside check


def test_bedside_match_in_either_script(make_day_visit, doctor, coordinator):
    visit = make_day_visit()
    check = bedside(
        visit, coordinator, name="li wang", label=visit.batch.coi.replace(" ", "").lower()
    )
    assert check.matched and check.mismatch is None and check.batch_id == visit.batch.id
    assert "reinfusion.bedside_check" in audit_actions()


def test_bad_check_character_is_a_typing_error_and_nothing_is_stored(make_day_visit, doctor):
    visit = make_day_visit()
    coi = visit.batch.coi
    wrong = coi[:-1] + ("A" if coi[-1] != "A" else "B")
    messages = count(Message)
    with pytest.raises(DomainError) as caught:
        bedside(visit, doctor, label=wrong)
    assert caught.value.field == "label" and "check character" in caught.value.message
    db.session.rollback()
    assert count(BedsideCheck) == 0 and count(Message) == messages


def test_mismatch_is_stored_blocks_and_alerts_managers_and_lab(
    make_day_visit, make_batch, doctor, coordinator, manager, lab, make_patient
):
    visit = make_day_visit()
    other = make_batch(patient=make_patient(with_login=False), state=BatchState.RELEASED)
    before = count(Message)
    check = bedside(visit, doctor, label=other.coi, date_of_birth=date(1970, 1, 2))
    db.session.commit()
    assert not check.matched and check.mismatch == "other_batch,birth_date"
    alerts = (
        db.session.execute(
            select(Message).where(Message.template == "reinfusion_day_identity_mismatch")
        )
        .scalars()
        .all()
    )
    assert {m.user_id for m in alerts} == {manager.id, lab.id}
    assert count(Message) == before + 2
    assert other.coi in alerts[0].body and visit.batch.coi in alerts[0].body
    body = {m.user_id: m.body for m in alerts}
    assert f"/lab/batches/{visit.batch.id}" in body[lab.id]
    assert f"/reinfusion/visits/{visit.appointment.id}" in body[manager.id]
    # the mismatch blocks the administration
    front_desk.mark_arrived(visit.appointment, actor=coordinator, now=visit.at("09:00"))
    clear(visit, doctor)
    db.session.commit()
    with pytest.raises(DomainError, match="did not match"):
        administer(visit, doctor)
    db.session.rollback()
    # then the right label matches, and the latest check counts
    bedside(visit, doctor, at="09:50")
    administer(visit, doctor)
    assert count(Administration) == 1


def test_wrong_name_is_a_mismatch(make_day_visit, doctor, manager):
    visit = make_day_visit()
    check = bedside(visit, doctor, name="Wang Wei")
    assert not check.matched and check.mismatch == "name"


def test_bedside_check_by_lab_or_manager_is_refused(make_day_visit, lab, manager):
    visit = make_day_visit()
    for actor in (lab, manager):
        with pytest.raises(NotAllowed):
            bedside(visit, actor)
    assert count(BedsideCheck) == 0


# ------------------------------------------------------------------ the administration


def test_administration_completes_the_visit_dose_and_batch(make_day_visit, doctor, coordinator):
    visit = make_day_visit()
    ready(visit, doctor, coordinator)
    administration = administer(visit, doctor, note="Tolerated well")
    db.session.commit()
    assert administration.cells_given == CELLS and administration.note == "Tolerated well"
    assert visit.dose.status == DoseStatus.ADMINISTERED
    assert visit.appointment.status == AppointmentStatus.COMPLETED
    assert visit.batch.state == BatchState.ADMINISTERED and visit.batch.later_doses == 0
    actions = audit_actions()
    for action in (
        "reinfusion.administration",
        "reinfusion.dose_given",
        "scheduling.complete",
        "cultures.transition",
    ):
        assert action in actions
    event = db.session.execute(
        select(BatchEvent).where(BatchEvent.kind == EventKind.TRANSITION)
    ).scalar_one()
    assert (event.from_state, event.to_state) == ("released", "administered")


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("not_arrived", "not been checked in"),
        ("no_clearance", "No doctor has cleared"),
        ("no_go", "did not clear"),
        ("no_bedside", "No bedside identity check"),
        ("not_released", "not released"),
    ],
)
def test_no_administration_without_each_condition(
    make_day_visit, doctor, coordinator, setup, message
):
    visit = make_day_visit()
    if setup != "not_arrived":
        front_desk.mark_arrived(visit.appointment, actor=coordinator, now=visit.at("09:00"))
    if setup != "no_clearance":
        clear(visit, doctor, decision="no_go" if setup == "no_go" else "go", reason="BP high")
    if setup != "no_bedside":
        bedside(visit, doctor)
    if setup == "not_released":
        visit.batch.state = BatchState.QC_PENDING
    db.session.commit()
    audits = count(AuditEntry)
    with pytest.raises(DomainError, match=message):
        administer(visit, doctor)
    db.session.rollback()
    assert count(Administration) == 0 and count(AuditEntry) == audits
    assert visit.dose.status == DoseStatus.CONFIRMED


def test_entry_refusals_beside_their_fields_and_nothing_saved(make_day_visit, doctor, coordinator):
    visit = make_day_visit()
    ready(visit, doctor, coordinator)
    with pytest.raises(FormErrors) as caught:
        administer(
            visit,
            doctor,
            route="intrathecal",
            cells_given=CELLS * 3,
            observed_until=visit.at("11:19"),  # 29 minutes
            pulse_after=250,
        )
    assert [e.field for e in caught.value.errors] == [
        "route",
        "over_cap_reason",
        "observed_until",
        "pulse_after",
    ]
    db.session.rollback()
    assert count(Administration) == 0 and visit.batch.state == BatchState.RELEASED


def test_over_the_cap_with_a_doctors_reason(make_day_visit, doctor, coordinator):
    visit = make_day_visit()
    ready(visit, doctor, coordinator)
    administration = administer(
        visit, doctor, cells_given=200_000_001, over_cap_reason="Both knees, agreed with the lab"
    )
    assert administration.over_cap_reason == "Both knees, agreed with the lab"
    assert visit.batch.state == BatchState.ADMINISTERED


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.MANAGER, Role.LAB])
def test_only_a_doctor_administers(make_day_visit, doctor, coordinator, make_user, role):
    visit = make_day_visit()
    ready(visit, doctor, coordinator)
    with pytest.raises(NotAllowed):
        administer(visit, make_user(role))
    assert count(Administration) == 0


def test_clearance_of_yesterday_does_not_count(make_day_visit, doctor, coordinator):
    visit = make_day_visit()
    front_desk.mark_arrived(visit.appointment, actor=coordinator, now=visit.at("09:00"))
    bedside(visit, doctor)
    db.session.add(
        Clearance(
            appointment_id=visit.appointment.id,
            dose_id=visit.dose.id,
            course_id=visit.appointment.course_id,
            patient_id=visit.patient.id,
            doctor=doctor,
            signed_at=visit.at("17:00") - timedelta(days=1),
            decision="go",
            **VITALS,
        )
    )
    db.session.commit()
    with pytest.raises(DomainError, match="No doctor has cleared"):
        administer(visit, doctor)


# ------------------------------------------------------------------ several doses


def _thaw_release(batch, lab, now):
    cultures.transition_batch(batch, "released", actor=lab, now=now)


def test_two_doses_second_from_a_thawed_aliquot(make_day_visit, clinic, doctor, coordinator, lab):
    first = make_day_visit()
    services.plan_doses(
        first.batch,
        doses=[("iv", CELLS, None), ("iv", CELLS, 14)],
        actor=doctor,
        now=first.at("08:00"),
    )
    assert first.batch.later_doses == 1 and first.dose.status == DoseStatus.CONFIRMED
    ready(first, doctor, coordinator)
    administer(first, doctor)
    db.session.commit()
    assert first.batch.state == BatchState.CRYOPRESERVED and first.batch.later_doses == 0
    second_dose = db.session.execute(select(Dose).where(Dose.number == 2)).scalar_one()
    assert second_dose.source.value == "cryopreserved" and second_dose.status == DoseStatus.PLANNED

    second = make_day_visit(
        batch=first.batch, number=2, on_day=clinic.day(min_days=20), interval_days=14
    )
    ready(second, doctor, coordinator)
    with pytest.raises(DomainError, match="not released"):
        administer(second, doctor)  # still frozen
    db.session.rollback()
    # the lab thaws an aliquot and releases it again (viability and count after thaw)
    thawed = second.at("08:00")
    for item, value in (("viability", "85"), ("cell_count", str(CELLS))):
        cultures.record_event(
            first.batch,
            "qc_result",
            actor=lab,
            occurred_at=thawed,
            qc_item=item,
            qc_value=value,
            now=thawed,
        )
    _thaw_release(first.batch, lab, thawed)
    db.session.commit()
    administer(second, doctor)
    db.session.commit()
    assert first.batch.state == BatchState.ADMINISTERED and first.batch.later_doses == 0
    assert second.dose.status == DoseStatus.ADMINISTERED
    states = db.session.execute(
        select(BatchEvent.from_state, BatchEvent.to_state)
        .where(BatchEvent.kind == EventKind.TRANSITION)
        .order_by(BatchEvent.id)
    ).all()
    assert [tuple(s) for s in states] == [
        ("released", "cryopreserved"),
        ("cryopreserved", "released"),
        ("released", "administered"),
    ]


def test_a_later_dose_waits_for_the_earlier(make_day_visit, clinic, doctor, coordinator):
    first = make_day_visit()
    second = make_day_visit(batch=first.batch, number=2, on_day=clinic.day(min_days=20))
    ready(second, doctor, coordinator)
    with pytest.raises(DomainError, match="earlier dose"):
        administer(second, doctor)


# ------------------------------------------------------------------ the plan


def test_plan_keeps_dose_one_and_its_status(make_day_visit, doctor):
    visit = make_day_visit()
    planned = services.plan_doses(
        visit.batch,
        doses=[(None, None, None), ("local", 150_000_000, 30), ("iv", CELLS, 30)],
        actor=doctor,
    )
    assert [d.number for d in planned] == [1, 2, 3]
    assert planned[0].id == visit.dose.id and planned[0].status == DoseStatus.CONFIRMED
    assert planned[0].planned_cells == CELLS
    assert [d.source.value for d in planned] == ["fresh", "cryopreserved", "cryopreserved"]
    assert visit.batch.later_doses == 2
    assert audit_actions().count("reinfusion.dose_plan") == 2
    # shortening cancels the planned dose 3; never deleted
    services.plan_doses(visit.batch, doses=[(None, None, None), ("local", CELLS, 30)], actor=doctor)
    third = db.session.execute(select(Dose).where(Dose.number == 3)).scalar_one()
    assert third.status == DoseStatus.CANCELLED and third.cancel_reason
    assert visit.batch.later_doses == 1
    # and planning it again brings it back
    services.plan_doses(
        visit.batch,
        doses=[(None, None, None), ("local", CELLS, 30), ("local", CELLS, 7)],
        actor=doctor,
    )
    assert third.status == DoseStatus.PLANNED and visit.batch.later_doses == 2


def test_plan_refusals_leave_nothing_saved(make_day_visit, doctor):
    visit = make_day_visit()
    with pytest.raises(FormErrors) as caught:
        services.plan_doses(
            visit.batch,
            doses=[(None, None, None), ("intrathecal", 250_000_000, 0)],
            actor=doctor,
        )
    assert [e.field for e in caught.value.errors] == ["route_2", "cells_2", "interval_2"]
    db.session.rollback()
    assert count(Dose) == 1 and visit.batch.later_doses == 0


def test_plan_over_cap_needs_a_reason_and_only_doctors_plan(make_day_visit, doctor, coordinator):
    visit = make_day_visit()
    with pytest.raises(NotAllowed):
        services.plan_doses(visit.batch, doses=[("iv", CELLS, None)], actor=coordinator)
    planned = services.plan_doses(
        visit.batch,
        doses=[(None, None, None), ("iv", 200_000_000, 30)],
        actor=doctor,
    )
    assert planned[1].over_cap_reason is None  # exactly at the cap


def test_the_administration_schedules_the_follow_up_contacts(make_day_visit, doctor, coordinator):
    """Point 5: the contacts at 1 week, 1, 3 and 6 months (the setting) become
    tasks as soon as the cells are given, counted from the day they were given."""
    from intake.reinfusion.models import FollowUp, FollowUpStatus
    from intake.scheduling import queries as scheduling_queries

    visit = make_day_visit()
    ready(visit, doctor, coordinator)
    administration = administer(visit, doctor)
    db.session.commit()
    contacts = (
        db.session.execute(
            select(FollowUp)
            .where(FollowUp.administration_id == administration.id)
            .order_by(FollowUp.days_after)
        )
        .scalars()
        .all()
    )
    given_on = scheduling_queries.clinic_calendar().local_date(administration.started_at)
    assert [c.days_after for c in contacts] == [7, 30, 90, 180]
    assert [(c.due_on - given_on).days for c in contacts] == [7, 30, 90, 180]
    assert {c.status for c in contacts} == {FollowUpStatus.OPEN}
    assert "aftercare.follow_up_schedule" in audit_actions()
