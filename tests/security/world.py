"""A small clinic with one record of every kind, for the security tests: the
demo staff (one per role, two-step login off), the reference data and the
clinic's set-up, and two patients ("alice" and "bob") each with a submitted
and approved questionnaire, panel results, signed consents, an upcoming
consultation and collection, messages, and a culture batch (a collection
visit some days back, completed at the desk and received by the lab). Every
id a URL of the app takes is named here, so a test can build any route's URL
for alice or for bob."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flask import url_for
from sqlalchemy import select
from werkzeug.routing import Rule

from intake.accounts import demo as accounts_demo
from intake.accounts import services as accounts
from intake.accounts.models import User
from intake.accounts.roles import Role
from intake.core import settings
from intake.core.models import Setting
from intake.core.types import utcnow
from intake.cultures import services as cultures
from intake.cultures.models import Batch
from intake.eligibility import queries as eligibility_queries
from intake.eligibility import services as eligibility
from intake.eligibility.demo import make_ready_to_book
from intake.eligibility.models import ConsentSignature, Indication, PanelItemDefinition
from intake.extensions import db
from intake.manager import feeds
from intake.notifications.models import Message
from intake.patients import trip_services
from intake.patients.services import current_course
from intake.reinfusion import aftercare_services
from intake.reinfusion import services as reinfusion
from intake.scheduling import queries as scheduling_queries
from intake.scheduling import services as scheduling
from intake.scheduling.demo import seed_scheduling
from intake.scheduling.models import (
    Appointment,
    AppointmentStatus,
    Closure,
    Resource,
    VisitMode,
    VisitType,
    WaitlistEntry,
    WaitlistOffer,
)
from tests.reinfusion.aftercare_fixtures import given_with_follow_ups

PATIENT_PASSWORD = "Bright-Lantern-26"
ROLES = ("anonymous", *(r.value for r in Role))


@dataclass
class Owned:
    """One patient's login and records."""

    user: User
    patient_id: int
    questionnaire_id: int
    signature_id: int
    consultation_id: int
    collection_id: int
    message_id: int
    batch_id: int  # not the patient's to open: the lab's, read by clinical staff
    dose_id: int  # the batch's first dose, its date confirmed (locked)
    proposal_id: int  # the proposal the patient chose
    request_id: int  # the patient's open request to change the locked date
    reinfusion_id: int  # the confirmed (locked) visit of the batch's dose 1
    follow_up_id: int  # a follow-up contact after a reinfusion, due
    adverse_event_id: int
    trip_id: int
    course_id: int  # the patient's treatment course
    offer_id: int  # an open waitlist offer (the patient waits as well as having a booking)


@dataclass
class World:
    staff: dict[str, User]
    alice: Owned
    bob: Owned
    ids: dict[str, object] = field(default_factory=dict)
    # Query strings some pages need to answer at all.
    query: dict[str, dict[str, object]] = field(default_factory=dict)

    def user(self, role: str) -> User | None:
        if role == "anonymous":
            return None
        return self.alice.user if role == "patient" else self.staff[role]

    def password(self, role: str) -> str:
        if role == "patient":
            return PATIENT_PASSWORD
        return accounts_demo.staff_login(Role(role))[1]

    def values(self, rule: Rule, owner: Owned | None = None) -> dict[str, object]:
        """The URL values of ``rule`` for records of ``owner`` (alice by default)."""
        owner = owner or self.alice
        own = {
            "patient_id": owner.patient_id,
            "questionnaire_id": owner.questionnaire_id,
            "signature_id": owner.signature_id,
            "appointment_id": owner.consultation_id,
            "message_id": owner.message_id,
            "batch_id": owner.batch_id,
            "dose_id": owner.dose_id,
            "proposal_id": owner.proposal_id,
            "request_id": owner.request_id,
            "follow_up_id": owner.follow_up_id,
            "event_id": owner.adverse_event_id,
            "trip_id": owner.trip_id,
            "course_id": owner.course_id,
            "offer_id": owner.offer_id,
        }
        special = {
            "scheduling.book_kind": {"kind": "consultation"},
            "eligibility.consent_sign": {"kind": "treatment"},
            "eligibility.consent_withdraw": {"kind": "treatment"},
            # Cancelling needs no field: empty posts cancel the collection, not
            # the consultation the other pages show.
            "scheduling.visit_cancel": {"appointment_id": owner.collection_id},
            "scheduling.desk_cancel": {"appointment_id": owner.collection_id},
            # The desk's form for a collection visit (the consultation is not one).
            "cultures.complete_collection": {"appointment_id": owner.collection_id},
            "cultures.record_event": {"kind": "observation"},
            "scheduling.waitlist_join": {"visit_type": "collection"},
            # The reinfusion day's pages take a reinfusion visit with its dose.
            **{
                f"reinfusion_day.{name}": {"appointment_id": owner.reinfusion_id}
                for name in ("visit", "clearance", "bedside", "administration")
            },
            "manager_pipeline.stage_list": {"stage": "in_culture"},
            "bootstrap.static": {"filename": "css/bootstrap.min.css"},
            # A live calendar feed (the revoke page acts on another one).
            "feeds.feed": {"token": self.ids.get("feed_token")},
        }.get(rule.endpoint, {})
        values = {
            arg: special.get(arg, own.get(arg, self.ids.get(arg))) for arg in sorted(rule.arguments)
        }
        return {**values, **self.query.get(rule.endpoint, {})}

    def url(self, app, rule: Rule, owner: Owned | None = None) -> str:
        with app.test_request_context():
            return url_for(rule.endpoint, **self.values(rule, owner))


def past_collection(patient, staff: dict[str, User]) -> Appointment:
    """A collection visit of ``patient`` on an open day some days back, the
    patient checked in at the desk (its form makes the batch)."""
    cal = scheduling_queries.clinic_calendar()
    now = utcnow()
    for offset in range(3, 60):
        day = cal.today(now) - timedelta(days=offset)
        as_of = cal.day_start(day) - timedelta(days=1)
        starts = scheduling_queries.availability("collection", day, 1, as_of, for_patient=False)
        if starts:
            break
    else:
        raise AssertionError("no collection slot in the last 60 days")
    return scheduling.record_past_visit(
        patient,
        "collection",
        starts[0],
        actor=staff["coordinator"],
        status=AppointmentStatus.ARRIVED,
        now=now,
        note="security tests",
    )


def _batch(patient, staff: dict[str, User]) -> Batch:
    """A past collection completed through the desk's service (which makes the
    batch, expected in the lab) and received by the lab."""
    visit = past_collection(patient, staff)
    batch = cultures.complete_collection(
        visit,
        collected_by="Dr Sato",
        tissue_amount=3,
        tissue_unit="pieces",
        blood_volume_ml=50,
        actor=staff["coordinator"],
    )
    cultures.receive_batch(
        batch,
        received_by="Tanaka",
        received_at=min(visit.start_at + timedelta(hours=2), utcnow()),
        condition="Tissue intact; serum clear.",
        actor=staff["lab"],
    )
    return batch


def _reinfusion(user: User, batch: Batch, staff: dict[str, User]):
    """Dates proposed for the batch (the coordinator), the first confirmed and
    locked (the patient), and the patient's request to change it."""
    _window, times = reinfusion.valid_times(batch, None, "local")
    cal = scheduling_queries.clinic_calendar()
    by_day: dict = {}
    for start in times:
        by_day.setdefault(cal.local_date(start), start)
    chosen = [by_day[day] for day in sorted(by_day)[:2]]
    proposals = reinfusion.propose_for_batch(batch, chosen, "local", actor=staff["coordinator"])
    dose = reinfusion.confirm(proposals[0], actor=user)
    change = reinfusion.request_change(dose, "A family event", actor=user)
    return proposals[0], change


def _patient(email: str, name: tuple[str, str], staff: dict[str, User]) -> Owned:
    user = accounts.register_patient(
        email=email,
        password=PATIENT_PASSWORD,
        family_name=name[0],
        given_name=name[1],
        date_of_birth=utcnow().date().replace(year=1960),
        phone="+86 138 0013 8000",
        locale="en",
    )
    user.email_verified_at = utcnow()
    make_ready_to_book(
        user,
        doctor=staff["doctor"],
        doctor_password=accounts_demo.staff_login(Role.DOCTOR)[1],
        coordinator=staff["coordinator"],
        password=PATIENT_PASSWORD,
    )
    patient = user.patient
    now = utcnow()
    cal = scheduling_queries.clinic_calendar()
    booked = {}
    day = cal.today(now) + timedelta(days=10)
    for code in ("consultation", "collection"):
        for _ in range(60):
            starts = scheduling_queries.availability(code, day, 1, now, for_patient=False)
            if starts:
                break
            day += timedelta(days=1)
        mode = VisitMode.IN_PERSON if code == "consultation" else None
        booked[code] = scheduling.book_visit(
            patient, code, starts[-1], actor=staff["coordinator"], mode=mode, now=now
        )
    db.session.flush()
    signature = (
        db.session.execute(
            select(ConsentSignature).where(ConsentSignature.patient_id == patient.id)
        )
        .scalars()
        .first()
    )
    message = (
        db.session.execute(select(Message).where(Message.user_id == user.id).order_by(Message.id))
        .scalars()
        .first()
    )
    questionnaire = eligibility_queries.current_questionnaire(current_course(patient).id)
    batch = _batch(patient, staff)
    proposal, change = _reinfusion(user, batch, staff)
    administration, follow_up = given_with_follow_ups(patient, doctor=staff["doctor"])
    event = aftercare_services.record_adverse_event(
        patient,
        administration=administration,
        description="Fever after the reinfusion",
        began_on=follow_up.due_on,
        known_on=follow_up.due_on,
        seriousness="hospitalisation",
        actor=staff["doctor"],
    )
    trip = trip_services.add_trip(
        patient,
        arrives_on=cal.today(now) + timedelta(days=60),
        departs_on=cal.today(now) + timedelta(days=70),
        actor=user,
    )
    offer = _waitlist_offer(patient, now)
    return Owned(
        user=user,
        patient_id=patient.id,
        questionnaire_id=questionnaire.id,
        signature_id=signature.id,
        consultation_id=booked["consultation"].id,
        collection_id=booked["collection"].id,
        message_id=message.id,
        batch_id=batch.id,
        dose_id=proposal.dose_id,
        proposal_id=proposal.id,
        request_id=change.id,
        reinfusion_id=proposal.dose.appointment_id,
        follow_up_id=follow_up.id,
        adverse_event_id=event.id,
        trip_id=trip.id,
        course_id=questionnaire.course_id,
        offer_id=offer.id,
    )


def _waitlist_offer(patient, now) -> WaitlistOffer:
    """A waiting entry with an open offer, written directly (the patient's
    collection is booked, so the services would not let them join)."""
    cal = scheduling_queries.clinic_calendar()
    day = cal.today(now) + timedelta(days=20)
    monday = day - timedelta(days=day.weekday())
    entry = WaitlistEntry(
        course=current_course(patient),
        patient=patient,
        visit_type=db.session.execute(
            select(VisitType).where(VisitType.code == "collection")
        ).scalar_one(),
        weeks=[monday.isoformat()],
        joined_at=now,
    )
    offer = WaitlistOffer(entry=entry, day=day, offered_at=now, expires_at=now + timedelta(days=1))
    db.session.add_all([entry, offer])
    db.session.flush()
    return offer


def _first(model):
    return db.session.execute(select(model).order_by(model.id)).scalars().first()


def build_world() -> World:
    settings.seed_defaults()
    db.session.get(Setting, "staff_two_factor_required").value = "0"
    accounts_demo.seed_accounts()
    eligibility.ensure_reference_data()
    seed_scheduling(password=PATIENT_PASSWORD, with_bookings=False)
    staff = {
        role.value: accounts.find_by_email(accounts_demo.staff_login(role)[0])
        for role in Role
        if role != Role.PATIENT
    }
    alice = _patient("alice@example.org", ("Liddell", "Alice"), staff)
    bob = _patient("bob@example.org", ("Builder", "Bob"), staff)
    # The account the admin's pages edit (fuzzed forms may rename or disable it).
    spare = accounts.create_staff(
        actor=None,
        email="spare@example.org",
        full_name="Spare Account",
        role=Role.COORDINATOR,
        password="Quiet-Harbour-26",
    )
    closure = _first(Closure)
    if closure is None:
        raise AssertionError("the demo set-up has no closure")
    world = World(staff=staff, alice=alice, bob=bob)
    room = db.session.execute(
        select(Resource).where(Resource.code == "procedure-room-1")
    ).scalar_one()
    _live, feed_token = feeds.create_feed(room, actor=staff["manager"], locale="en")
    revocable, _token = feeds.create_feed(room, actor=staff["manager"], locale="en")
    world.ids = {
        "closure_id": closure.id,
        "resource_id": _first(Resource).id,
        "visit_type_id": _first(VisitType).id,
        "visit_type": "consultation",
        "indication_id": _first(Indication).id,
        "item_id": _first(PanelItemDefinition).id,
        "user_id": spare.id,
        "page_code": "indication",
        "question_code": "indication",
        "token": "not-a-token",
        "filename": "css/app.css",
        "feed_token": feed_token,
        "feed_id": revocable.id,
    }
    today = scheduling_queries.clinic_calendar().today(utcnow())
    world.query = {
        "scheduling.availability_api": {"service": "consultation", "start": today, "days": 7},
        "scheduling.desk_book": {"patient_id": alice.patient_id, "visit_type": "consultation"},
    }
    db.session.commit()
    return world
