"""The lock (issue 10 point 2, rule 7): a confirmed reinfusion date refuses
every ordinary way of changing the visit, for every role; one path moves it
(a coordinator or doctor, a reason, the lab's agreement, the patient told,
audited with before and after); the patient may only request a change.
Withdrawal of consent and a failed batch still cancel it (rules 3 and 10),
and the patient is offered a new collection."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import current_app, url_for
from sqlalchemy import select

from intake.accounts.roles import Role
from intake.core.errors import DomainError, FormErrors, NotAllowed
from intake.core.models import AuditEntry
from intake.cultures import services as cultures
from intake.cultures.lifecycle import BatchState
from intake.extensions import db
from intake.notifications.models import Message
from intake.reinfusion import queries, services
from intake.reinfusion.models import (
    ChangeRequest,
    ChangeRequestStatus,
    DoseStatus,
    Proposal,
    ProposalStatus,
)
from intake.scheduling import services as scheduling
from intake.scheduling.models import Appointment, AppointmentStatus, Hold
from tests.conftest import log_in

pytest_plugins = ["tests.reinfusion.offer_fixtures"]

#: The one path that moves a locked date (tested below, not by the walk).
MOVE_PATH = {"reinfusion.move"}
#: Paths that may cancel a locked visit, by right: the patient withdrawing
#: consent (rule 3) and a failed batch (rule 10); tested below.
MAY_CANCEL = {
    "eligibility.consent_withdraw",
    "eligibility.staff_withdraw",
    "cultures.transition",
}
#: Sign-in, password and account pages: they end or change the session the
#: walk uses, and touch no clinical record.
SESSION_BLUEPRINTS = {"accounts"}
ROLES = (Role.PATIENT, Role.COORDINATOR, Role.DOCTOR, Role.MANAGER, Role.LAB, Role.ADMIN)


def link(endpoint: str, **values) -> str:
    with current_app.test_request_context():
        return url_for(endpoint, **values)


def state_of(appointment_id: int) -> tuple:
    db.session.expire_all()
    a = db.session.get(Appointment, appointment_id)
    holds = sorted(
        (h.resource_id, h.unit_start, h.seat)
        for h in db.session.execute(select(Hold).where(Hold.appointment_id == a.id)).scalars()
    )
    return (a.start_at, a.end_at, a.status, a.locked_at, a.cancelled_at, a.sequence, holds)


def locked_offer(offer, **kw) -> tuple:
    o = offer(**kw)
    dose = o.locked()
    return o, dose


def other_time(o, dose) -> object:
    """A valid time the visit could move to (so only the lock refuses it)."""
    _w, times = services.valid_times(o.batch, dose, dose.route, for_move=dose.appointment)
    return next(t for t in times if t != dose.appointment.start_at)


# --------------------------------------------------------------------------- the walk


def _values(rule, ids: dict) -> dict:
    values = {}
    for arg in rule.arguments:
        converter = rule._converters.get(arg)
        is_int = getattr(converter, "num_convert", None) is int
        values[arg] = ids.get(arg, 1 if is_int else "x")
    return values


def test_every_route_that_could_change_a_visit_refuses_a_locked_one(app, offer, make_user):
    """Every POST route of the URL map (a new one is walked too), as every
    role, with a form that asks to move, cancel or close the locked visit:
    the visit, its seats and its lock stay as they were. Only the move path
    and the rights to withdraw or fail a batch are left out, by name."""
    o, dose = locked_offer(offer)
    appointment = dose.appointment
    start = other_time(o, dose).astimezone(o.clinic.cal.tz).isoformat()
    change = services.request_change(dose, "A family event", actor=o.user)
    db.session.commit()
    chosen = change.id
    ids = {
        "appointment_id": appointment.id,
        "dose_id": dose.id,
        "patient_id": o.patient.id,
        "batch_id": o.batch.id,
        "request_id": chosen,
        "proposal_id": 1,
        "visit_type": "reinfusion-local",
        "kind": "treatment",
    }
    form = {
        "start": start,
        "times": start,
        "route": "local",
        "mode": "",
        "reason": "Please move it",
        "answer": "Moved",
        "action": "no_show",
        "status": "cancelled",
        "lab": str(o.lab.id),
        "confirm": "1",
    }
    before = state_of(appointment.id)
    users = {Role.PATIENT: o.user, Role.COORDINATOR: o.coordinator, Role.DOCTOR: o.doctor}
    users[Role.LAB] = o.lab
    users[Role.MANAGER] = make_user(Role.MANAGER)
    users[Role.ADMIN] = make_user(Role.ADMIN)
    # The admin's pages edit this account, not one the walk is logged in as.
    ids["user_id"] = make_user(Role.COORDINATOR).id
    clients = {}
    for role in ROLES:
        clients[role] = app.test_client()
        log_in(clients[role], users[role])
    walked = []
    for rule in app.url_map.iter_rules():
        methods = (rule.methods or set()) - {"GET", "HEAD", "OPTIONS"}
        if not methods or rule.endpoint in MOVE_PATH | MAY_CANCEL:
            continue
        if rule.endpoint.split(".")[0] in SESSION_BLUEPRINTS:
            continue
        with app.test_request_context():
            url = url_for(rule.endpoint, **_values(rule, ids))
        for role in ROLES:
            for method in sorted(methods):
                with clients[role].open(url, method=method, data=form) as response:
                    assert response.status_code < 500, (rule.endpoint, role, response.status)
            assert state_of(appointment.id) == before, (rule.endpoint, role)
        walked.append(rule.endpoint)
    # Every role was still logged in at the end: nothing was skipped by a lost session.
    for role in ROLES:
        with clients[role].get("/") as response:
            assert "/login" not in response.headers.get("Location", ""), role
    # The pages that exist to change a visit were among those walked.
    for endpoint in (
        "scheduling.visit_reschedule",
        "scheduling.visit_cancel",
        "scheduling.desk_reschedule",
        "scheduling.desk_cancel",
        "scheduling.desk_status",
        "scheduling.desk_book",
        "scheduling.book",
        "reinfusion.propose",
        "reinfusion.propose_dose",
        "reinfusion.confirm",
        "reinfusion.change_request",
    ):
        assert endpoint in walked, endpoint
    # The allow-list names routes that exist.
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    assert MOVE_PATH | MAY_CANCEL <= endpoints
    db.session.expire_all()
    assert db.session.get(type(dose), dose.id).status == DoseStatus.CONFIRMED


@pytest.mark.parametrize(
    ("role", "page", "data"),
    [
        (Role.PATIENT, "scheduling.visit_cancel", {"reason": ""}),
        (Role.PATIENT, "scheduling.visit_reschedule", {"start": "START"}),
        (Role.COORDINATOR, "scheduling.desk_cancel", {"reason": "Clinic closed"}),
        (Role.DOCTOR, "scheduling.desk_reschedule", {"start": "START"}),
    ],
)
def test_the_change_pages_say_why(app, client, offer, role, page, data):
    o, dose = locked_offer(offer)
    start = other_time(o, dose).astimezone(o.clinic.cal.tz).isoformat()
    user = {Role.PATIENT: o.user, Role.COORDINATOR: o.coordinator, Role.DOCTOR: o.doctor}[role]
    log_in(client, user)
    before = state_of(dose.appointment_id)
    url = link(page, appointment_id=dose.appointment_id)
    form = {k: (start if v == "START" else v) for k, v in data.items()}
    with client.post(url, data=form, follow_redirects=True) as response:
        body = response.get_data(as_text=True)
    assert "locked" in body or "fixed" in body
    assert state_of(dose.appointment_id) == before
    shown = {"scheduling.desk_cancel": "scheduling.desk_visit"}.get(page, page)
    with client.get(link(shown, appointment_id=dose.appointment_id)) as response:
        body = response.get_data(as_text=True)
    assert 'id="locked-note"' in body or "reinfusion page" in body


@pytest.mark.parametrize("role", ["patient", "coordinator", "doctor"])
def test_the_scheduling_services_refuse_a_locked_visit(offer, role):
    """(A manager changes no visit at all: tests/manager/test_read_only.py.)"""
    o, dose = locked_offer(offer)
    actor = {"patient": o.user, "coordinator": o.coordinator, "doctor": o.doctor}[role]
    appointment = dose.appointment
    new_start = other_time(o, dose)
    with pytest.raises(DomainError) as caught:
        scheduling.reschedule_visit(appointment, new_start, actor=actor)
    assert caught.value.code == "locked"
    db.session.rollback()
    with pytest.raises(DomainError) as caught:
        scheduling.cancel_visit(appointment, actor=actor, reason="Clinic closed")
    assert caught.value.code == "locked"
    db.session.rollback()
    assert not scheduling.patient_can_change(appointment, o.clinic.at(o.clinic.today, "09:00"))


def test_the_patient_sees_only_request_a_change(client, offer):
    o, dose = locked_offer(offer, locale="zh_Hans")
    log_in(client, o.user)
    with client.get("/visits") as response:
        body = response.get_data(as_text=True)
    assert f"/visits/{dose.appointment_id}/reschedule" not in body
    assert f"/visits/{dose.appointment_id}/cancel" not in body
    assert 'data-locked="1"' in body
    with client.get("/journey") as response:
        body = response.get_data(as_text=True)
    assert 'id="reinfusion-locked"' in body and 'id="request-change"' in body
    assert "/reschedule" not in body and "/cancel" not in body
    with client.get("/my-reinfusion") as response:
        body = response.get_data(as_text=True)
    assert 'id="reinfusion-locked"' in body and 'id="request-change"' in body
    assert "Confirm this date" not in body


# --------------------------------------------------------------------------- the move


def test_a_coordinator_moves_a_locked_date_with_a_reason_and_the_labs_agreement(offer):
    o, dose = locked_offer(offer, locale="zh_Hans")
    appointment = dose.appointment
    old_start = appointment.start_at
    new_start = other_time(o, dose)
    services.move_locked(
        dose,
        new_start,
        reason="The patient has a fever",
        lab_user_id=o.lab.id,
        actor=o.coordinator,
    )
    db.session.commit()
    db.session.expire_all()
    appointment = db.session.get(Appointment, appointment.id)
    assert appointment.start_at == new_start and appointment.is_locked
    assert appointment.status == AppointmentStatus.BOOKED
    holds = db.session.execute(select(Hold).where(Hold.appointment_id == appointment.id)).scalars()
    assert min(h.unit_start for h in holds) == new_start
    (entry,) = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "reinfusion.move")
    ).scalars()
    assert entry.before == {"start_at": old_start.isoformat()}
    assert entry.after["start_at"] == new_start.isoformat()
    assert entry.after["lab_agreed_by"] == o.lab.full_name
    assert entry.note == "The patient has a fever"
    (message,) = db.session.execute(
        select(Message).where(Message.user_id == o.user.id, Message.template == "reinfusion_moved")
    ).scalars()
    assert "The patient has a fever" in message.body
    assert message.subject.startswith("您的回输新日期")


def test_a_move_may_land_sooner_than_14_days_inside_the_window(offer):
    # Day 25 of the culture: the window runs 3 to 17 days ahead.
    o, dose = locked_offer(offer, days_ago=25)
    soon = [
        t
        for t in other_times(o, dose)
        if o.clinic.cal.local_date(t) < o.clinic.today + timedelta(days=14)
    ]
    assert soon
    services.move_locked(
        dose, soon[0], reason="Flight changed", lab_user_id=o.lab.id, actor=o.doctor
    )
    assert dose.appointment.start_at == soon[0]


def other_times(o, dose) -> list:
    _w, times = services.valid_times(o.batch, dose, dose.route, for_move=dose.appointment)
    return [t for t in times if t != dose.appointment.start_at]


def test_move_bad_input_is_refused_beside_each_field_nothing_changed(offer, coordinator):
    o, dose = locked_offer(offer)
    before = state_of(dose.appointment_id)
    outside = o.clinic.at(o.batch.collected_on + timedelta(days=43), "10:00")
    odd = other_time(o, dose) + timedelta(minutes=7)
    cases = [
        (dict(new_start=other_time(o, dose), reason="  ", lab_user_id=o.lab.id), {"reason"}),
        (dict(new_start=other_time(o, dose), reason="Fever", lab_user_id=None), {"lab"}),
        (
            dict(new_start=other_time(o, dose), reason="Fever", lab_user_id=o.coordinator.id),
            {"lab"},
        ),
        (dict(new_start=outside, reason="Fever", lab_user_id=o.lab.id), {"start"}),
        (dict(new_start=odd, reason="Fever", lab_user_id=o.lab.id), {"start"}),
        (
            dict(new_start=dose.appointment.start_at, reason="Fever", lab_user_id=o.lab.id),
            {"start"},
        ),
        (dict(new_start=None, reason="", lab_user_id=None), {"start", "reason", "lab"}),
    ]
    for kwargs, fields in cases:
        with pytest.raises(DomainError) as caught:
            services.move_locked(dose, actor=o.coordinator, **kwargs)
        db.session.rollback()
        errors = caught.value.errors if isinstance(caught.value, FormErrors) else [caught.value]
        assert {e.field for e in errors} == fields, kwargs
        assert state_of(dose.appointment_id) == before


@pytest.mark.parametrize("role", ["patient", "lab", "manager"])
def test_only_coordinators_and_doctors_move(offer, manager, role):
    o, dose = locked_offer(offer)
    actor = {"patient": o.user, "lab": o.lab, "manager": manager}[role]
    with pytest.raises(NotAllowed):
        services.move_locked(
            dose, other_time(o, dose), reason="x", lab_user_id=o.lab.id, actor=actor
        )


def test_the_move_page_shows_errors_beside_the_fields(client, offer):
    o, dose = locked_offer(offer)
    log_in(client, o.coordinator)
    url = link("reinfusion.move", dose_id=dose.id)
    with client.get(url) as response:
        body = response.get_data(as_text=True)
    assert o.lab.full_name in body and "Asia/Tokyo" in body
    with client.post(url, data={"start": "", "reason": "   ", "lab": ""}) as response:
        body = response.get_data(as_text=True)
    assert response.status_code == 200
    for field in ("start", "reason", "lab"):
        assert f'id="{field}-error"' in body
    start = other_time(o, dose).astimezone(o.clinic.cal.tz).isoformat()
    with client.post(url, data={"start": start, "reason": "Fever", "lab": "99999"}) as response:
        body = response.get_data(as_text=True)
    assert 'id="lab-error"' in body and "Fever" in body


# --------------------------------------------------------------------------- change requests


def test_the_patient_requests_a_change_and_coordinators_are_told(client, offer):
    o, dose = locked_offer(offer)
    log_in(client, o.user)
    url = link("reinfusion.request_change", dose_id=dose.id)
    with client.post(url, data={"reason": "   "}) as response:
        assert 'id="reason-error"' in response.get_data(as_text=True)
    assert queries.open_request(dose.id) is None
    with client.post(url, data={"reason": "My flight was cancelled"}) as response:
        assert response.status_code == 302
    request = queries.open_request(dose.id)
    assert request.reason == "My flight was cancelled"
    assert db.session.execute(
        select(Message).where(
            Message.user_id == o.coordinator.id, Message.template == "reinfusion_change_requested"
        )
    ).first()
    with pytest.raises(DomainError) as caught:
        services.request_change(dose, "Again", actor=o.user)
    assert caught.value.code == "already_open"
    with client.get("/journey") as response:
        body = response.get_data(as_text=True)
    assert 'id="request-open"' in body and 'id="request-change"' not in body


def test_another_patients_dose_and_proposal_are_404(client, offer, other_patient):
    o, dose = locked_offer(offer)
    log_in(client, other_patient)
    with client.get(link("reinfusion.request_change", dose_id=dose.id)) as response:
        assert response.status_code == 404
    with client.post(
        link("reinfusion.request_change", dose_id=dose.id), data={"reason": "x"}
    ) as response:
        assert response.status_code == 404
    chosen = db.session.execute(
        select(Proposal).where(Proposal.status == ProposalStatus.CHOSEN)
    ).scalar_one()
    with client.post(link("reinfusion.confirm", proposal_id=chosen.id)) as response:
        assert response.status_code == 404


def test_a_coordinator_declines_with_an_answer_and_the_patient_is_told(client, offer):
    o, dose = locked_offer(offer)
    request = services.request_change(dose, "Holiday", actor=o.user)
    db.session.commit()
    log_in(client, o.coordinator)
    with client.get(link("reinfusion.change_requests")) as response:
        assert "Holiday" not in response.get_data(as_text=True)  # the list names the patient
        assert o.patient.full_name in response.get_data(as_text=True)
    url = link("reinfusion.change_request", request_id=request.id)
    with client.post(url, data={"answer": " "}) as response:
        assert 'id="answer-error"' in response.get_data(as_text=True)
    with client.post(url, data={"answer": "The cells are ready that day."}) as response:
        assert response.status_code == 302
    db.session.expire_all()
    request = db.session.get(ChangeRequest, request.id)
    assert request.status == ChangeRequestStatus.DECLINED
    assert request.handled_by_id == o.coordinator.id
    (message,) = db.session.execute(
        select(Message).where(
            Message.user_id == o.user.id, Message.template == "reinfusion_change_declined"
        )
    ).scalars()
    assert "The cells are ready that day." in message.body


def test_moving_from_a_request_closes_it_as_moved(offer):
    o, dose = locked_offer(offer)
    request = services.request_change(dose, "Holiday", actor=o.user)
    db.session.commit()
    services.move_locked(
        dose,
        other_time(o, dose),
        reason="Moved as asked",
        lab_user_id=o.lab.id,
        actor=o.coordinator,
        change_request=request,
    )
    db.session.commit()
    assert request.status == ChangeRequestStatus.MOVED and request.answer == "Moved as asked"
    assert queries.open_change_requests() == []


# --------------------------------------------------------------------------- what still cancels


def test_withdrawing_consent_cancels_a_locked_visit(offer):
    o, dose = locked_offer(offer)
    cancelled = scheduling.cancel_future_visits(
        dose.course, actor=o.user, reason="Consent withdrawn"
    )
    assert dose.appointment in cancelled
    assert dose.appointment.status == AppointmentStatus.CANCELLED


def test_a_failed_batch_cancels_its_proposals_doses_and_locked_visit(client, offer):
    o, dose = locked_offer(offer)
    # A second patient's batch with open proposals.
    p = offer()
    proposals = p.propose(2)
    for batch in (o.batch, p.batch):
        cultures.transition_batch(batch, BatchState.FAILED, actor=o.lab, reason="Contaminated")
    db.session.commit()
    db.session.expire_all()
    dose = db.session.get(type(dose), dose.id)
    assert dose.status == DoseStatus.CANCELLED and dose.cancel_reason
    assert dose.appointment.status == AppointmentStatus.CANCELLED
    for proposal in proposals:
        db.session.refresh(proposal)
        assert proposal.status == ProposalStatus.WITHDRAWN
        assert proposal.dose.status == DoseStatus.CANCELLED
    log_in(client, o.user)
    with client.get("/journey") as response:
        body = response.get_data(as_text=True)
    assert 'id="culture-failed"' in body
    assert 'data-step="book"' in body
    assert 'id="reinfusion-locked"' not in body
