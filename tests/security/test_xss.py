"""Markup typed by one person never runs in another's browser: script and
attribute-breaking payloads entered as a patient's name (self-registration
and the desk), as questionnaire text answers, as a consent withdrawal reason,
as a trip's note, as a closure reason and in a culture batch's records (the
collector, its receipt, a name typed at the identity check) come back escaped on every page
of the URL map, for every role, and are shown (escaped) where they belong."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

from sqlalchemy import select

from intake.accounts.models import User
from intake.core.types import utcnow
from intake.cultures.models import Batch
from intake.eligibility import queries as eligibility_queries
from intake.eligibility.demo import ELIGIBLE_ANSWERS, approve, enter_panel, sign_all
from intake.eligibility.models import ConsentSignature
from intake.eligibility.question_bank import DEFAULT_QUESTION_SET
from intake.extensions import db
from intake.notifications.models import Message
from intake.patients.models import Patient, Trip
from intake.patients.services import current_course
from intake.reinfusion.models import AdverseEvent
from intake.scheduling import queries as scheduling_queries
from tests.reinfusion.aftercare_fixtures import given_with_follow_ups
from tests.security.world import ROLES, Owned, build_world, past_collection
from tests.test_security_matrix import expected

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
PAYLOADS = (SCRIPT, ATTRIBUTE)
PASSWORD = "Bright-Lantern-26"


def _post(client, url, data, status=(200, 302)):
    with client.post(url, data=data) as r:
        messages = re.findall(r"(?:invalid-feedback|alert)[^>]*>([^<]*)", r.get_data(as_text=True))
        assert r.status_code in status, (url, r.status_code, messages)


def _log_in(client, email, password):
    client.post("/logout").close()
    _post(client, "/login", {"email": email, "password": password}, status=(302,))


def _enter_payloads(app, world) -> Owned:
    """Mallory registers with markup names, answers with markup, is approved,
    signs and withdraws with a markup reason; the desk registers a walk-in
    with markup names; the manager closes a day with a markup reason."""
    client = app.test_client()
    _post(
        client,
        "/register",
        {
            "family_name": SCRIPT,
            "given_name": ATTRIBUTE,
            "family_name_latin": SCRIPT,
            "email": "mallory@example.org",
            "phone": "+86 138 0013 8000",
            "date_of_birth": "1970-01-01",
            "locale": "en",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    mallory = db.session.execute(
        select(User).where(User.email == "mallory@example.org")
    ).scalar_one()
    mallory.email_verified_at = utcnow()
    db.session.commit()
    _log_in(client, mallory.email, PASSWORD)
    answers = {
        **ELIGIBLE_ANSWERS,
        "indication_details": SCRIPT,
        "past_history": ATTRIBUTE,
        "current_medication": SCRIPT + ATTRIBUTE,
    }
    for page in DEFAULT_QUESTION_SET.pages:
        data = {q.code: answers.get(q.code, "") for q in page.questions}
        _post(client, f"/questionnaire/{page.code}", {**data, "action": "next"}, status=(302,))
    _post(client, "/questionnaire/submit", {}, status=(302,))
    mallory = db.session.get(User, mallory.id)
    approve(
        mallory,
        doctor=world.staff["doctor"],
        doctor_password=world.password("doctor"),
        indication="knee_oa",
        route="local",
    )
    enter_panel(mallory, actor=world.staff["doctor"])
    sign_all(mallory, password=PASSWORD)
    db.session.commit()
    _post(
        client,
        "/consent/treatment/withdraw",
        {"reason": ATTRIBUTE + SCRIPT, "confirm": "y"},
        status=(302,),
    )
    soon = scheduling_queries.clinic_calendar().today(utcnow())
    _post(
        client,
        "/trips",
        {
            "arrives_on": (soon + timedelta(days=50)).isoformat(),
            "departs_on": (soon + timedelta(days=60)).isoformat(),
            "note": SCRIPT + ATTRIBUTE,
        },
        status=(302,),
    )

    _log_in(client, world.staff["coordinator"].email, world.password("coordinator"))
    _post(
        client,
        "/patients/new",
        {
            "family_name": ATTRIBUTE,
            "given_name": SCRIPT,
            "date_of_birth": "1980-02-02",
            "phone": "+81 90 1234 5678",
            "locale": "ja",
            "not_duplicate": "yes",  # the names look like mallory's
        },
        status=(302,),
    )
    _log_in(client, world.staff["manager"].email, world.password("manager"))
    day = scheduling_queries.clinic_calendar().today(utcnow()) + timedelta(days=400)
    _post(client, "/scheduling/closures", {"first_date": day.isoformat(), "reason": SCRIPT}, (302,))

    patient = db.session.get(User, mallory.id).patient
    batch = _culture(client, world, patient)
    follow_up_id, event_id = _aftercare(client, world, patient)
    signature = (
        db.session.execute(
            select(ConsentSignature).where(ConsentSignature.patient_id == patient.id)
        )
        .scalars()
        .first()
    )
    message = (
        db.session.execute(
            select(Message).where(Message.user_id == mallory.id).order_by(Message.id.desc())
        )
        .scalars()
        .first()
    )
    return Owned(
        user=db.session.get(User, mallory.id),
        patient_id=patient.id,
        questionnaire_id=eligibility_queries.current_questionnaire(current_course(patient).id).id,
        signature_id=signature.id,
        consultation_id=world.alice.consultation_id,
        collection_id=world.alice.collection_id,
        message_id=message.id,
        batch_id=batch.id,
        # She withdrew consent: no reinfusion of her own (alice's, as for the visits).
        dose_id=world.alice.dose_id,
        proposal_id=world.alice.proposal_id,
        request_id=world.alice.request_id,
        reinfusion_id=world.alice.reinfusion_id,
        follow_up_id=follow_up_id,
        adverse_event_id=event_id,
        trip_id=db.session.execute(
            select(Trip.id).where(Trip.patient_id == patient.id)
        ).scalar_one(),
        course_id=current_course(patient).id,
        offer_id=world.alice.offer_id,
    )


def _aftercare(client, world, patient) -> tuple[int, int]:
    """After a reinfusion (written directly), mallory answers her follow-up
    questions with markup, and a doctor records an adverse event with a
    markup description."""
    _administration, follow_up = given_with_follow_ups(patient, doctor=world.staff["doctor"])
    db.session.commit()
    follow_up_id = follow_up.id
    _log_in(client, "mallory@example.org", PASSWORD)
    _post(
        client,
        f"/follow-ups/{follow_up_id}",
        {
            "feeling": "worse",
            "symptoms": "other",
            "symptoms_other": ATTRIBUTE,
            "doctor_visit": "yes",
            "doctor_visit_detail": SCRIPT,
            "anything_else": SCRIPT + ATTRIBUTE,
        },
        status=(302,),
    )
    _log_in(client, world.staff["doctor"].email, world.password("doctor"))
    today = scheduling_queries.clinic_calendar().today(utcnow()).isoformat()
    _post(
        client,
        f"/patients/{patient.id}/adverse-events/new",
        {
            "description": SCRIPT + ATTRIBUTE,
            "began_on": today,
            "known_on": today,
            "seriousness": "other_serious",
            "administration": "",
        },
        status=(302,),
    )
    event_id = db.session.execute(
        select(AdverseEvent.id).where(AdverseEvent.patient_id == patient.id)
    ).scalar_one()
    return follow_up_id, event_id


def _culture(client, world, patient) -> Batch:
    """Mallory's collection visit (checked in some days back) is completed at
    the desk with a markup collector, received by the lab with markup, and
    the lab checks her identity typing markup as the name: that page shows
    it back escaped."""
    visit = past_collection(patient, world.staff)
    db.session.commit()
    _log_in(client, world.staff["coordinator"].email, world.password("coordinator"))
    _post(
        client,
        f"/lab/collections/{visit.id}/complete",
        {
            "collected_by": SCRIPT,
            "tissue_amount": "3",
            "tissue_unit": "pieces",
            "blood_volume_ml": "50",
        },
        status=(302,),
    )
    batch = db.session.execute(select(Batch).where(Batch.appointment_id == visit.id)).scalar_one()
    _log_in(client, world.staff["lab"].email, world.password("lab"))
    tz = scheduling_queries.clinic_calendar().tz
    received = min(visit.start_at + timedelta(hours=2), utcnow()).astimezone(tz)
    _post(
        client,
        f"/lab/batches/{batch.id}/receive",
        {
            "received_by": ATTRIBUTE,
            "occurred_at": received.strftime("%Y-%m-%dT%H:%M"),
            "condition": SCRIPT,
        },
        status=(302,),
    )
    data = {"number": batch.coi, "name": SCRIPT + ATTRIBUTE, "date_of_birth": "1970-01-01"}
    with client.post("/lab/identity-check", data=data) as r:
        assert r.status_code == 200
        body = r.get_data(as_text=True)
    for payload in PAYLOADS:
        assert payload not in body and payload in unescape(body), payload
    return batch


def test_markup_comes_back_escaped_everywhere(app):
    world = build_world()
    mallory = _enter_payloads(app, world)
    walk_in = db.session.execute(
        select(Patient).where(Patient.family_name == ATTRIBUTE)
    ).scalar_one()
    assert db.session.get(Patient, mallory.patient_id).family_name == SCRIPT  # stored as typed

    table = expected()
    raw, shown = [], set()
    for role in ROLES:
        client = app.test_client()
        if role == "patient":
            _log_in(client, mallory.user.email, PASSWORD)
        elif role != "anonymous":
            _log_in(client, world.user(role).email, world.password(role))
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if "GET" not in rule.methods or rule.endpoint in ("static", "bootstrap.static"):
                continue
            if table["GET", rule.rule][role] != "ok":
                continue
            urls = [world.url(app, rule, owner=mallory)]
            if rule.endpoint == "patients.record":
                urls.append(f"/patients/{walk_in.id}")
            if rule.endpoint == "manager.audit_log":
                urls += [f"/audit?patient_id={mallory.patient_id}", "/audit?entity_type=closures"]
            for url in urls:
                with client.get(url) as r:
                    if "html" not in (r.content_type or ""):
                        continue
                    body = r.get_data(as_text=True)
                for payload in PAYLOADS:
                    if payload in body:
                        raw.append(f"{role} {url}: {payload}")
                    elif payload in unescape(body):
                        shown.add((role, url.split("?")[0]))
    assert raw == [], "\n".join(raw)

    q, p, b = mallory.questionnaire_id, mallory.patient_id, mallory.batch_id
    for where in (
        ("patient", "/me"),  # her name
        ("patient", f"/questionnaires/{q}"),  # her answers
        ("patient", "/consent"),  # her withdrawal reason
        ("coordinator", "/patients"),  # names in the list
        ("coordinator", f"/patients/{p}"),
        ("coordinator", f"/patients/{walk_in.id}"),
        ("doctor", f"/reviews/{q}"),  # answers for the doctor
        ("manager", "/scheduling/closures"),  # the closure reason
        ("manager", "/audit"),
        ("lab", "/lab"),  # her name on the board
        ("coordinator", "/lab"),
        ("lab", f"/lab/batches/{b}"),  # her name, the collector, receipt, identity check
        ("doctor", f"/lab/batches/{b}"),
        ("lab", f"/lab/batches/{b}/label"),
        ("manager", f"/lab/batches/{b}/label"),
        ("patient", f"/follow-ups/{mallory.follow_up_id}"),  # her follow-up answers
        ("coordinator", "/follow-ups"),
        ("doctor", f"/patients/{p}"),  # the event on the record
        ("doctor", "/adverse-events"),
        ("manager", "/adverse-events"),
        ("lab", "/lab/adverse-events"),
        ("patient", "/trips"),  # her trip's note
        ("coordinator", f"/patients/{p}/trips"),
    ):
        assert where in shown, f"the payload is not shown (escaped) on {where}"
