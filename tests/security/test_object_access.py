"""A patient asking for another patient's record gets 404 (its existence is
not revealed) and changes nothing: every route that takes the id of a
patient-owned record, found from the URL map, so a new one is covered."""

from __future__ import annotations

from sqlalchemy import func, select

from intake.core.models import AuditEntry
from intake.extensions import db
from intake.scheduling.models import Appointment, AppointmentStatus
from tests.security.world import build_world
from tests.test_security_matrix import expected

# URL values naming a record that belongs to one patient.
OWNED = {
    "patient_id",
    "questionnaire_id",
    "signature_id",
    "appointment_id",
    "message_id",
    "dose_id",
    "proposal_id",
    "follow_up_id",
    "trip_id",
    "course_id",
    "offer_id",
}

# The records the issue names; each must be among the routes checked.
NAMED = {
    "eligibility.questionnaire_detail",
    "eligibility.consent_signature",
    "eligibility.panel",
    "scheduling.visit_ics",
    "scheduling.visit_cancel",
    "scheduling.visit_reschedule",
    "notifications.message",
    "reinfusion.confirm",
    "reinfusion.request_change",
    "aftercare.questionnaire",
    "aftercare.answer",
    "trips.edit",
    "trips.cancel",
    "fhir.patient_download",
    "scheduling.waitlist_accept",
    "scheduling.waitlist_decline",
}


def _log_in(client, user, password):
    with client.post("/login", data={"email": user.email, "password": password}) as r:
        assert r.status_code == 302


def _audit_rows() -> int:
    return db.session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()


def _patient_routes(app):
    """(method, rule) of every route a patient may use on a record they own."""
    table = expected()
    for rule in app.url_map.iter_rules():
        if not OWNED & set(rule.arguments):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if table[method, rule.rule]["patient"] == "ok":
                yield method, rule


def test_another_patients_records_answer_404(app, client):
    world = build_world()
    _log_in(client, world.alice.user, world.password("patient"))
    routes = list(_patient_routes(app))
    assert NAMED <= {rule.endpoint for _method, rule in routes}
    before = _audit_rows()
    wrong = []
    for method, rule in routes:
        theirs = world.url(app, rule, owner=world.bob)
        mine = world.url(app, rule, owner=world.alice)
        assert theirs != mine
        with client.open(theirs, method=method, data={"reason": "not mine"}) as r:
            if r.status_code != 404:
                wrong.append(f"{method} {theirs}: {r.status_code}")
    assert not wrong, wrong
    for appointment_id in (world.bob.consultation_id, world.bob.collection_id):
        visit = db.session.get(Appointment, appointment_id)
        db.session.refresh(visit)
        assert visit.status == AppointmentStatus.BOOKED
    assert _audit_rows() == before  # nothing was done to bob's records


def test_bobs_own_records_open_for_bob(app, client):
    """The 404s above are about ownership: the same URLs open for their owner."""
    world = build_world()
    _log_in(client, world.bob.user, world.password("patient"))
    for method, rule in _patient_routes(app):
        if method != "GET":
            continue
        with client.get(world.url(app, rule, owner=world.bob)) as r:
            assert r.status_code in (200, 302), (rule.rule, r.status_code)
