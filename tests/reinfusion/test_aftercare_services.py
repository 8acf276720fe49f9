"""After-care services: follow-up contacts scheduled once, the patient told
once, answered once by the patient alone, alerts to coordinators, closed by
staff; adverse events with their deadlines per category, the CPC task, the
report; an audit row for every write, nothing saved on bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import func, select, update

from intake.accounts.roles import Role
from intake.core.errors import Conflict, DomainError, FormErrors, NotAllowed
from intake.core.models import AuditEntry, Setting
from intake.core.types import utcnow
from intake.extensions import db
from intake.notifications.models import Message
from intake.reinfusion import aftercare
from intake.reinfusion import aftercare_services as svc
from intake.reinfusion.models import AdverseEvent, FollowUp, FollowUpStatus, Seriousness
from tests.cultures.conftest import make_batch  # noqa: F401
from tests.reinfusion.aftercare_fixtures import make_administration  # noqa: F401
from tests.scheduling.conftest import clinic  # noqa: F401

GOOD = {"feeling": "better", "doctor_visit": "no"}


def _count(model, *where) -> int:
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def _actions(prefix="aftercare.") -> list[str]:
    return list(
        db.session.execute(
            select(AuditEntry.action)
            .where(AuditEntry.action.startswith(prefix))
            .order_by(AuditEntry.id)
        ).scalars()
    )


def _messages(user, template: str) -> list[Message]:
    return list(
        db.session.execute(
            select(Message).where(Message.user_id == user.id, Message.template == template)
        ).scalars()
    )


@pytest.fixture
def patient_user(make_user):
    return make_user(Role.PATIENT, locale="zh_Hans")


@pytest.fixture
def given(make_administration, patient_user):  # noqa: F811
    """An administration 10 days ago, follow-ups scheduled."""
    administration = make_administration(days_ago=10, patient=patient_user.patient)
    svc.schedule_follow_ups(administration, actor=None)
    db.session.commit()
    return administration


def _contact(administration, days: int) -> FollowUp:
    return db.session.execute(
        select(FollowUp).where(
            FollowUp.administration_id == administration.id, FollowUp.days_after == days
        )
    ).scalar_one()


# --------------------------------------------------------------------------- scheduling


def test_contacts_follow_the_setting_and_scheduling_again_adds_nothing(
    make_administration,  # noqa: F811
    clinic,  # noqa: F811
    make_user,
):
    doctor = make_user(Role.DOCTOR)
    administration = make_administration(days_ago=3)
    made = svc.schedule_follow_ups(administration, actor=doctor)
    day = clinic.today - timedelta(days=3)
    assert [(f.days_after, f.due_on) for f in made] == [
        (d, day + timedelta(days=d)) for d in (7, 30, 90, 180)
    ]
    assert all(f.status == FollowUpStatus.OPEN for f in made)
    assert svc.schedule_follow_ups(administration, actor=doctor) == []
    db.session.get(Setting, "follow_up_days").value = "7,14,30"
    g.pop("_clinic_settings", None)
    again = svc.schedule_follow_ups(administration, actor=doctor)
    assert [f.days_after for f in again] == [14]  # only the new offset
    db.session.commit()
    assert _count(FollowUp, FollowUp.administration_id == administration.id) == 5
    assert _actions().count("aftercare.follow_up_schedule") == 5


def test_scheduling_is_for_clinic_staff(make_administration, make_user):  # noqa: F811
    administration = make_administration()
    with pytest.raises(NotAllowed):
        svc.schedule_follow_ups(administration, actor=make_user(Role.LAB))


def test_missing_contacts_are_made_by_the_catch_up(make_administration):  # noqa: F811
    first, second = make_administration(days_ago=1), make_administration(days_ago=2)
    svc.schedule_follow_ups(first, actor=None)
    assert svc.schedule_missing_follow_ups() == 4
    assert svc.schedule_missing_follow_ups() == 0
    assert _count(FollowUp, FollowUp.administration_id == second.id) == 4


# --------------------------------------------------------------------------- invitations


def test_patients_are_invited_once_when_a_contact_is_due(given, patient_user):
    assert svc.send_follow_up_invitations() == 1  # day 7 is due; 30, 90, 180 are not
    db.session.commit()
    assert svc.send_follow_up_invitations() == 0
    week = _contact(given, 7)
    assert week.invited_at is not None and _contact(given, 30).invited_at is None
    [message] = _messages(patient_user, "aftercare_follow_up_open")
    assert message.locale == "zh_Hans" and f"/follow-ups/{week.id}" in message.body
    assert "aftercare.follow_up_invite" in _actions()


def test_no_invitation_for_answered_or_closed_contacts(given, patient_user, make_user):
    svc.answer_follow_up(_contact(given, 7), GOOD, actor=patient_user)
    assert svc.send_follow_up_invitations() == 0


def test_the_cli_schedules_and_invites(runner, make_administration, patient_user):  # noqa: F811
    make_administration(days_ago=40, patient=patient_user.patient)
    result = runner.invoke(args=["send-follow-ups"])
    assert result.exit_code == 0, result.output
    assert "4 follow-up contact(s) scheduled, 2 invitation(s) queued" in result.output
    assert len(_messages(patient_user, "aftercare_follow_up_open")) == 2
    result = runner.invoke(args=["send-follow-ups"])
    assert "0 follow-up contact(s) scheduled, 0 invitation(s) queued" in result.output


# --------------------------------------------------------------------------- answers


def test_the_patient_answers_once(given, patient_user):
    week = _contact(given, 7)
    assert svc.answer_follow_up(week, GOOD, actor=patient_user) == []
    db.session.commit()
    assert week.answers == {"feeling": "better", "symptoms": [], "doctor_visit": "no"}
    assert week.answered_at is not None and week.status == FollowUpStatus.OPEN
    with pytest.raises(Conflict):
        svc.answer_follow_up(week, {**GOOD, "feeling": "worse"}, actor=patient_user)
    db.session.rollback()
    assert db.session.get(FollowUp, week.id).answers["feeling"] == "better"
    assert _actions().count("aftercare.follow_up_answer") == 1


def test_a_stale_copy_cannot_answer_twice(given, patient_user):
    """The database decides: a second answer on an out-of-date object fails."""
    week = _contact(given, 7)
    db.session.execute(  # another request answered; this object has not seen it
        update(FollowUp)
        .where(FollowUp.id == week.id)
        .values(answers={"feeling": "same"}, answered_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    assert week.answered_at is None
    with pytest.raises(Conflict):
        svc.answer_follow_up(week, GOOD, actor=patient_user)
    db.session.rollback()


def test_only_the_patient_answers_their_own(given, make_user):
    week = _contact(given, 7)
    for actor in (make_user(Role.PATIENT), make_user(Role.COORDINATOR), None):
        with pytest.raises(NotAllowed):
            svc.answer_follow_up(week, GOOD, actor=actor)
    assert db.session.get(FollowUp, week.id).answered_at is None


def test_a_contact_not_yet_due_cannot_be_answered(given, patient_user):
    with pytest.raises(DomainError, match="open on"):
        svc.answer_follow_up(_contact(given, 30), GOOD, actor=patient_user)


def test_bad_answers_name_their_questions_and_save_nothing(given, patient_user):
    week = _contact(given, 7)
    with pytest.raises(FormErrors) as caught:
        svc.answer_follow_up(week, {"feeling": "fine", "doctor_visit": "yes"}, actor=patient_user)
    assert {e.field for e in caught.value.errors} == {"feeling", "doctor_visit_detail"}
    db.session.rollback()
    assert db.session.get(FollowUp, week.id).answers is None
    assert "aftercare.follow_up_answer" not in _actions()


def test_worrying_answers_alert_the_coordinators(given, patient_user, make_user):
    coordinator = make_user(Role.COORDINATOR)
    flags = svc.answer_follow_up(
        _contact(given, 7),
        {"feeling": "much_worse", "symptoms": ["fever"], "doctor_visit": "yes",
         "doctor_visit_detail": "Admitted 2 nights"},
        actor=patient_user,
    )  # fmt: skip
    assert flags == [aftercare.ALERT_DOCTOR_VISIT, aftercare.ALERT_WORSE, aftercare.ALERT_FEVER]
    [message] = _messages(coordinator, "aftercare_follow_up_alert")
    assert "Saw a doctor or was admitted to hospital" in message.body
    assert "Had a fever" in message.body


def test_calm_answers_alert_no_one(given, patient_user, make_user):
    coordinator = make_user(Role.COORDINATOR)
    svc.answer_follow_up(_contact(given, 7), GOOD, actor=patient_user)
    assert _messages(coordinator, "aftercare_follow_up_alert") == []


# --------------------------------------------------------------------------- closing


def test_a_coordinator_closes_a_contact_once(given, make_user):
    coordinator = make_user(Role.COORDINATOR)
    week = _contact(given, 7)
    svc.close_follow_up(week, status="done", note="Called; feels well.", actor=coordinator)
    db.session.commit()
    assert week.status == FollowUpStatus.DONE and week.contacted_by_id == coordinator.id
    assert week.note == "Called; feels well."
    with pytest.raises(Conflict):
        svc.close_follow_up(week, status="unreachable", note="x", actor=coordinator)
    assert _actions().count("aftercare.follow_up_close") == 1


@pytest.mark.parametrize(
    ("status", "note", "fields"),
    [
        ("unreachable", "", {"note"}),  # say what was tried
        ("open", "x", {"status"}),
        ("maybe", "x", {"status"}),
        ("done", "x" * (svc.NOTE_MAX + 1), {"note"}),
    ],
)
def test_closing_needs_a_status_and_a_note_when_unreachable(given, make_user, status, note, fields):
    week = _contact(given, 7)
    with pytest.raises(FormErrors) as caught:
        svc.close_follow_up(week, status=status, note=note, actor=make_user(Role.COORDINATOR))
    assert {e.field for e in caught.value.errors} == fields
    assert db.session.get(FollowUp, week.id).status == FollowUpStatus.OPEN


def test_closing_waits_for_the_day_and_is_for_staff(given, make_user):
    with pytest.raises(DomainError, match="not due yet"):
        svc.close_follow_up(
            _contact(given, 30), status="done", note="", actor=make_user(Role.COORDINATOR)
        )
    for role in (Role.LAB, Role.MANAGER, Role.PATIENT):
        with pytest.raises(NotAllowed):
            svc.close_follow_up(_contact(given, 7), status="done", note="", actor=make_user(role))


# --------------------------------------------------------------------------- adverse events


def test_seriousness_in_the_model_is_the_rules_list():
    assert tuple(s.value for s in Seriousness) == aftercare.SERIOUSNESS


@pytest.mark.parametrize(
    ("seriousness", "days"),
    [
        ("death", 7),
        ("life_threatening", 7),
        ("hospitalisation", 15),
        ("disability", 15),
        ("other_serious", 15),
        ("not_serious", None),
    ],
)
def test_each_category_gets_its_deadline(
    given,
    patient_user,
    make_user,
    clinic,  # noqa: F811
    seriousness,
    days,  # noqa: F811
):
    known = clinic.today - timedelta(days=1)
    event = svc.record_adverse_event(
        patient_user.patient,
        administration=given,
        description="Fever 39 °C",
        began_on=known,
        known_on=known,
        seriousness=seriousness,
        actor=make_user(Role.DOCTOR),
    )
    expected = None if days is None else known + timedelta(days=days)
    assert event.report_due_on == expected
    assert event.course_id == given.course_id and event.administration_id == given.id


def test_changed_settings_change_new_deadlines(given, patient_user, make_user, clinic):  # noqa: F811
    db.session.get(Setting, "ae_report_days_fatal").value = "3"
    db.session.get(Setting, "ae_report_days_serious").value = "10"
    db.session.commit()
    g.pop("_clinic_settings", None)
    for seriousness, days in (("death", 3), ("disability", 10)):
        event = svc.record_adverse_event(
            patient_user.patient,
            description="x",
            began_on=clinic.today,
            known_on=clinic.today,
            seriousness=seriousness,
            actor=make_user(Role.COORDINATOR),
        )
        assert event.report_due_on == clinic.today + timedelta(days=days)
        assert event.administration_id is None


def test_recording_tells_the_lab_and_the_managers_and_is_audited(
    given,
    patient_user,
    make_user,
    clinic,  # noqa: F811
):
    lab, manager = make_user(Role.LAB), make_user(Role.MANAGER)
    event = svc.record_adverse_event(
        patient_user.patient,
        administration=given,
        description="Admitted with fever",
        began_on=clinic.today,
        known_on=clinic.today,
        seriousness=Seriousness.HOSPITALISATION,
        actor=make_user(Role.DOCTOR),
    )
    db.session.commit()
    assert event.cpc_told_at is None and event.reported_at is None
    assert len(_messages(lab, "aftercare_cpc_tell")) == 1
    [message] = _messages(manager, "aftercare_adverse_event")
    assert "must be reported by" in message.body
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "aftercare.adverse_event_record")
    ).scalar_one()
    assert entry.after["seriousness"] == "hospitalisation"
    assert entry.after["report_due_on"] == (clinic.today + timedelta(days=15)).isoformat()


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"description": "   "}, {"description"}),
        ({"description": "a\x00b"}, {"description"}),
        ({"description": "x" * (svc.TEXT_MAX + 1)}, {"description"}),
        ({"seriousness": ""}, {"seriousness"}),
        ({"seriousness": "mild"}, {"seriousness"}),
        ({"began_on": None}, {"began_on"}),
        ({"known_on": "tomorrow"}, {"known_on"}),
        ({"began_on": "tomorrow", "known_on": "tomorrow"}, {"began_on", "known_on"}),
        ({"began_on": "today", "known_on": "yesterday"}, {"began_on"}),
        ({"began_on": "before_given"}, {"began_on"}),
        (
            {"description": "", "seriousness": None, "began_on": None},
            {"description", "seriousness", "began_on"},
        ),  # noqa: E501
    ],
)
def test_bad_events_name_their_fields_and_save_nothing(
    given,
    patient_user,
    make_user,
    clinic,  # noqa: F811
    change,
    fields,  # noqa: F811
):
    today = clinic.today
    days = {
        "today": today,
        "yesterday": today - timedelta(days=1),
        "tomorrow": today + timedelta(days=1),
        "before_given": today - timedelta(days=11),
    }
    values = {
        "description": "Headache",
        "began_on": today,
        "known_on": today,
        "seriousness": "not_serious",
        **{k: days.get(v, v) if isinstance(v, str) and v in days else v for k, v in change.items()},
    }
    with pytest.raises(FormErrors) as caught:
        svc.record_adverse_event(
            patient_user.patient, administration=given, actor=make_user(Role.DOCTOR), **values
        )
    assert {e.field for e in caught.value.errors} == fields
    db.session.rollback()
    assert _count(AdverseEvent) == 0
    assert "aftercare.adverse_event_record" not in _actions()


def test_another_patients_administration_is_refused(
    given,
    make_user,
    make_administration,  # noqa: F811
    clinic,  # noqa: F811
):
    other = make_user(Role.PATIENT)
    with pytest.raises(FormErrors) as caught:
        svc.record_adverse_event(
            other.patient,
            administration=given,
            description="x",
            began_on=clinic.today,
            known_on=clinic.today,
            seriousness="death",
            actor=make_user(Role.DOCTOR),
        )
    assert {e.field for e in caught.value.errors} == {"administration"}


@pytest.mark.parametrize("role", [Role.LAB, Role.MANAGER, Role.PATIENT])
def test_only_doctors_and_coordinators_record(given, patient_user, make_user, clinic, role):  # noqa: F811
    with pytest.raises(NotAllowed):
        svc.record_adverse_event(
            patient_user.patient,
            description="x",
            began_on=clinic.today,
            known_on=clinic.today,
            seriousness="death",
            actor=make_user(role),
        )


@pytest.fixture
def event(given, patient_user, make_user, clinic):  # noqa: F811
    made = svc.record_adverse_event(
        patient_user.patient,
        administration=given,
        description="Life-threatening reaction",
        began_on=clinic.today,
        known_on=clinic.today,
        seriousness="life_threatening",
        actor=make_user(Role.DOCTOR),
    )
    db.session.commit()
    return made


def test_the_lab_acknowledges_once(event, make_user):
    lab = make_user(Role.LAB)
    for role in (Role.DOCTOR, Role.MANAGER, Role.COORDINATOR):
        with pytest.raises(NotAllowed):
            svc.acknowledge_by_cpc(event, actor=make_user(role))
    svc.acknowledge_by_cpc(event, actor=lab)
    db.session.commit()
    assert event.cpc_told_at is not None and event.cpc_told_by_id == lab.id
    with pytest.raises(Conflict):
        svc.acknowledge_by_cpc(event, actor=make_user(Role.LAB))
    assert _actions().count("aftercare.adverse_event_cpc_told") == 1


def test_reported_with_a_reference_once(event, make_user):
    doctor = make_user(Role.DOCTOR)
    with pytest.raises(FormErrors) as caught:
        svc.mark_reported(event, reference="  ", actor=doctor)
    assert caught.value.errors[0].field == "reference"
    with pytest.raises(FormErrors):
        svc.mark_reported(event, reference="x" * (svc.REFERENCE_MAX + 1), actor=doctor)
    for role in (Role.LAB, Role.COORDINATOR):
        with pytest.raises(NotAllowed):
            svc.mark_reported(event, reference="R-1", actor=make_user(role))
    assert db.session.get(AdverseEvent, event.id).reported_at is None
    svc.mark_reported(event, reference="MHLW-2027-001", actor=make_user(Role.MANAGER))
    db.session.commit()
    assert event.report_reference == "MHLW-2027-001" and event.reported_at is not None
    assert aftercare.report_clock(event.report_due_on, True, utcnow().date()).state == (
        aftercare.ReportState.REPORTED
    )
    with pytest.raises(Conflict):
        svc.mark_reported(event, reference="again", actor=doctor)
    db.session.rollback()
    assert db.session.get(AdverseEvent, event.id).report_reference == "MHLW-2027-001"
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "aftercare.adverse_event_reported")
    ).scalar_one()
    assert (
        entry.before["reported_at"] is None and entry.after["report_reference"] == "MHLW-2027-001"
    )
