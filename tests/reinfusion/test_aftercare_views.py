"""After-care pages: who reaches what, the patient's questions in their
language (own only), messages beside the fields with what was typed kept,
nothing half-saved, and the links that lead to each page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from intake.accounts.roles import Role
from intake.extensions import db
from intake.reinfusion import aftercare_services as svc
from intake.reinfusion.models import AdverseEvent, FollowUp, FollowUpStatus
from tests.conftest import log_in
from tests.cultures.conftest import make_batch  # noqa: F401
from tests.reinfusion.aftercare_fixtures import make_administration  # noqa: F401
from tests.scheduling.conftest import clinic  # noqa: F401


@pytest.fixture
def patient_user(make_user):
    return make_user(Role.PATIENT, locale="zh_Hans")


@pytest.fixture
def week(make_administration, patient_user):  # noqa: F811
    """The patient's due one-week contact (the cells given 10 days ago)."""
    administration = make_administration(days_ago=10, patient=patient_user.patient)
    made = svc.schedule_follow_ups(administration, actor=None)
    db.session.commit()
    return made[0]


def _get(client, url):
    with client.get(url) as r:
        return r.status_code, r.get_data(as_text=True)


def _post(client, url, data):
    with client.post(url, data=data) as r:
        return r.status_code, r.get_data(as_text=True)


# --------------------------------------------------------------------------- the patient


def test_the_journey_links_the_open_questions_in_the_patients_language(client, patient_user, week):
    log_in(client, patient_user)
    status, body = _get(client, "/journey")
    assert status == 200 and f"/follow-ups/{week.id}" in body
    status, body = _get(client, f"/follow-ups/{week.id}")
    assert status == 200
    assert "与治疗前相比，您现在感觉如何？" in body and "好多了" in body


def test_another_patients_follow_up_is_hidden(client, make_user, week):
    log_in(client, make_user(Role.PATIENT))
    assert _get(client, f"/follow-ups/{week.id}")[0] == 404
    assert _post(client, f"/follow-ups/{week.id}", {"feeling": "same"})[0] == 404
    assert _get(client, "/follow-ups/999999")[0] == 404
    assert db.session.get(FollowUp, week.id).answered_at is None


def test_bad_answers_show_beside_their_question_and_keep_what_was_typed(client, patient_user, week):
    log_in(client, patient_user)
    status, body = _post(
        client,
        f"/follow-ups/{week.id}",
        {"symptoms": ["fever", "other"], "anything_else": "有点累"},
    )
    assert status == 422
    assert 'id="q-feeling-error"' in body and 'id="q-doctor_visit-error"' in body
    assert 'id="q-symptoms_other-error"' in body
    assert 'value="fever" checked' in body and "有点累" in body
    db.session.expire_all()
    assert db.session.get(FollowUp, week.id).answers is None


def test_answers_are_sent_once_and_shown_back(client, patient_user, week, make_user):
    coordinator = make_user(Role.COORDINATOR)
    log_in(client, patient_user)
    data = {"feeling": "worse", "doctor_visit": "yes", "doctor_visit_detail": "住院两天"}
    status, _body = _post(client, f"/follow-ups/{week.id}", data)
    assert status == 302
    status, body = _get(client, f"/follow-ups/{week.id}")
    assert "住院两天" in body and "差一些" in body and "<form" not in body.split("<main")[1]
    status, body = _post(client, f"/follow-ups/{week.id}", {**data, "feeling": "same"})
    assert status == 422
    db.session.expire_all()
    assert db.session.get(FollowUp, week.id).answers["feeling"] == "worse"
    # the coordinator sees the flag on the list
    client.post("/logout").close()
    log_in(client, coordinator)
    status, body = _get(client, "/follow-ups")
    assert status == 200 and "住院两天" in body
    assert "Saw a doctor or was admitted to hospital" in body


def test_a_contact_not_yet_open_says_when(client, patient_user, make_administration):  # noqa: F811
    administration = make_administration(days_ago=1, patient=patient_user.patient)
    contact = svc.schedule_follow_ups(administration, actor=None)[0]
    db.session.commit()
    log_in(client, patient_user)
    status, body = _get(client, f"/follow-ups/{contact.id}")
    assert status == 200 and "<textarea" not in body
    assert _post(client, f"/follow-ups/{contact.id}", {"feeling": "same"})[0] == 422


# --------------------------------------------------------------------------- coordinators


def test_the_list_puts_work_first_and_closing_needs_a_note_when_unreachable(
    client,
    login_as,
    week,
    make_administration,  # noqa: F811
):
    login_as(Role.COORDINATOR)
    old = make_administration(days_ago=30)
    svc.schedule_follow_ups(old, actor=None)
    db.session.commit()
    status, body = _get(client, "/follow-ups")
    assert status == 200
    assert body.index('data-state="overdue"') < body.index('data-state="due"')
    assert "3 follow-up contacts are due." in _get(client, "/worklist")[1]
    status, body = _post(
        client, f"/follow-ups/{week.id}/close", {"status": "unreachable", "note": " "}
    )
    assert status == 422 and f'id="note-{week.id}-error"' in body
    db.session.expire_all()
    assert db.session.get(FollowUp, week.id).status == FollowUpStatus.OPEN
    status, _ = _post(
        client,
        f"/follow-ups/{week.id}/close",
        {"status": "unreachable", "note": "Called twice, no answer"},
    )
    assert status == 302
    db.session.expire_all()
    closed = db.session.get(FollowUp, week.id)
    assert closed.status == FollowUpStatus.UNREACHABLE and closed.note == "Called twice, no answer"


def test_the_navigation_leads_to_each_list(client, login_as):
    for role, path in (
        (Role.COORDINATOR, "/follow-ups"),
        (Role.DOCTOR, "/adverse-events"),
        (Role.LAB, "/lab/adverse-events"),
        (Role.MANAGER, "/manager"),  # the overview leads managers to the events
    ):
        client.post("/logout").close()
        login_as(role)
        status, body = _get(client, path)
        if role == Role.MANAGER:
            assert 'href="/adverse-events"' in body and 'id="ae-reports"' in body
            continue
        assert status == 200
        assert f'href="{path}"' in body, role


# --------------------------------------------------------------------------- adverse events


def _event_count() -> int:
    return db.session.execute(select(func.count()).select_from(AdverseEvent)).scalar_one()


def test_the_record_links_the_event_form(client, login_as, patient_user, week):
    login_as(Role.DOCTOR)
    status, body = _get(client, f"/patients/{patient_user.patient.id}")
    assert status == 200
    assert f"/patients/{patient_user.patient.id}/adverse-events/new" in body
    assert 'id="aftercare-panel"' in body


def test_bad_event_input_shows_beside_the_fields_and_saves_nothing(
    client,
    login_as,
    patient_user,
    week,
    clinic,  # noqa: F811
):
    login_as(Role.DOCTOR)
    url = f"/patients/{patient_user.patient.id}/adverse-events/new"
    assert _get(client, url)[0] == 200
    tomorrow = (clinic.today + timedelta(days=1)).isoformat()
    status, body = _post(
        client,
        url,
        {
            "description": "Rash on the arm",
            "began_on": tomorrow,
            "known_on": "2027-02-30",
            "seriousness": "",
            "administration": str(week.administration_id),
        },
    )
    assert status == 422
    for name in ("began_on", "known_on", "seriousness"):
        assert f'id="{name}-error"' in body, name
    assert "Rash on the arm" in body and "2027-02-30" in body
    status, body = _post(client, url, {"description": "x", "administration": "12abc"})
    assert status == 422 and 'id="administration-error"' in body
    assert _event_count() == 0


def test_a_life_threatening_event_is_due_in_7_days_on_the_managers_list(
    client,
    login_as,
    make_user,
    patient_user,
    week,
    clinic,  # noqa: F811
):
    manager = make_user(Role.MANAGER)
    login_as(Role.DOCTOR)
    today = clinic.today.isoformat()
    status, _ = _post(
        client,
        f"/patients/{patient_user.patient.id}/adverse-events/new",
        {
            "description": "Anaphylaxis",
            "began_on": today,
            "known_on": today,
            "seriousness": "life_threatening",
            "administration": str(week.administration_id),
        },
    )
    assert status == 302
    event = db.session.execute(select(AdverseEvent)).scalar_one()
    assert event.report_due_on == clinic.today + timedelta(days=7)
    client.post("/logout").close()
    log_in(client, manager)
    status, body = _get(client, "/adverse-events")
    assert status == 200 and "Anaphylaxis" in body and "Due in 7 days" in body
    assert 'action="/adverse-events/' in body  # managers may mark it reported


def test_marking_reported_needs_a_reference(client, login_as, patient_user, week, clinic):  # noqa: F811
    doctor = login_as(Role.DOCTOR)
    event = svc.record_adverse_event(
        patient_user.patient,
        description="Fever",
        began_on=clinic.today,
        known_on=clinic.today,
        seriousness="other_serious",
        actor=doctor,
    )
    db.session.commit()
    status, body = _post(client, f"/adverse-events/{event.id}/reported", {"reference": ""})
    assert status == 422 and f'id="reference-{event.id}-error"' in body
    assert _post(client, f"/adverse-events/{event.id}/reported", {"reference": "R-7"})[0] == 302
    db.session.expire_all()
    assert db.session.get(AdverseEvent, event.id).report_reference == "R-7"


def test_the_lab_confirms_telling_the_cpc(client, login_as, patient_user, make_user, clinic):  # noqa: F811
    event = svc.record_adverse_event(
        patient_user.patient,
        description="Fever",
        began_on=clinic.today,
        known_on=clinic.today,
        seriousness="death",
        actor=make_user(Role.DOCTOR),
    )
    db.session.commit()
    login_as(Role.LAB)
    status, body = _get(client, "/lab/adverse-events")
    assert status == 200 and "Fever" in body
    assert _post(client, f"/lab/adverse-events/{event.id}/acknowledge", {})[0] == 302
    status, body = _get(client, "/lab/adverse-events")
    assert "Nothing to tell the CPC." in body
    assert _post(client, f"/lab/adverse-events/{event.id}/acknowledge", {})[0] == 302
    assert _post(client, "/lab/adverse-events/999999/acknowledge", {})[0] == 404
