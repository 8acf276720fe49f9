"""Visit types are named by a kind; the rules follow the kind, never a code:
the intake gate for collection and reinfusion kinds, one upcoming visit of a
kind per patient booking online, the link to "book your collection"."""

from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select

from intake.accounts.roles import Role
from intake.core.errors import DomainError
from intake.extensions import db
from intake.scheduling import services
from intake.scheduling.models import Appointment, VisitType, VisitTypeSegment
from intake.scheduling.visit_kinds import (
    KIND_LABELS,
    VisitKind,
    is_reinfusion,
    one_upcoming,
    requires_intake_gate,
)

K = VisitKind

# kind, requires the intake gate, one upcoming per patient, reinfusion
RULES = [
    (K.CONSULTATION, False, True, False),
    (K.COLLECTION, True, True, False),
    (K.REINFUSION_IV, True, False, True),
    (K.REINFUSION_LOCAL, True, False, True),
    (K.REINFUSION_INTRATHECAL, True, False, True),
    (K.FOLLOW_UP, False, False, False),
    (K.OTHER, False, False, False),
]


def test_the_table_covers_every_kind():
    assert {row[0] for row in RULES} == set(VisitKind) == set(KIND_LABELS)


@pytest.mark.parametrize("kind, gate, single, reinfusion", RULES, ids=lambda v: str(v))
def test_rules_of_each_kind(kind, gate, single, reinfusion):
    assert requires_intake_gate(kind) is gate
    assert requires_intake_gate(kind.value) is gate  # as stored
    assert one_upcoming(kind) is single
    assert is_reinfusion(kind) is reinfusion


SEEDED = {
    "consultation": K.CONSULTATION,
    "collection": K.COLLECTION,
    "reinfusion-iv": K.REINFUSION_IV,
    "reinfusion-local": K.REINFUSION_LOCAL,
    "reinfusion-intrathecal": K.REINFUSION_INTRATHECAL,
}


def test_seeded_visit_types_have_their_kind(clinic):
    kinds = dict(db.session.execute(select(VisitType.code, VisitType.kind)).all())
    assert kinds == SEEDED
    assert "requires_intake_gate" not in VisitType.__table__.columns  # no opt-in to forget


@pytest.mark.parametrize("code", ["reinfusion-iv", "reinfusion-local", "reinfusion-intrathecal"])
def test_reinfusions_need_the_intake_gate_whoever_books(
    clinic, coordinator, make_user, make_approved_patient, code
):
    start = clinic.at(clinic.day(weekday=1), "13:00")
    with pytest.raises(services.GateClosed) as refused:
        services.book_visit(make_user(Role.PATIENT).patient, code, start, actor=coordinator)
    assert refused.value.missing
    db.session.rollback()
    assert db.session.execute(select(Appointment)).first() is None
    appointment = services.book_visit(
        make_approved_patient().patient, code, start, actor=coordinator
    )
    assert appointment.visit_type.kind == SEEDED[code]


def _copy_type(clinic, source: str, code: str, **fields) -> VisitType:
    original = clinic.visit_type(source)
    copy = VisitType(
        code=code,
        kind=fields.pop("kind", original.kind),
        names={"en": code},
        duration_minutes=60,
        modes=[],
        is_patient_bookable=fields.pop("is_patient_bookable", True),
        is_desk_bookable=True,
        day_block_resource_id=original.day_block_resource_id,
        position=50,
        segments=[
            VisitTypeSegment(resource_id=s.resource_id, offset_minutes=0, quantity=s.quantity)
            for s in original.segments
        ],
        **fields,
    )
    db.session.add(copy)
    db.session.commit()
    return copy


def test_the_gate_follows_the_kind_not_the_code(clinic, coordinator, make_user):
    _copy_type(clinic, "collection", "harvest-room-2")
    _copy_type(clinic, "collection", "paid-extra", kind=K.OTHER)
    start = clinic.at(clinic.day(weekday=1), "10:00")
    with pytest.raises(services.GateClosed):
        services.book_visit(
            make_user(Role.PATIENT).patient, "harvest-room-2", start, actor=coordinator
        )
    db.session.rollback()
    booked = services.book_visit(
        make_user(Role.PATIENT).patient, "paid-extra", start, actor=coordinator
    )
    assert booked.visit_type.kind == K.OTHER


def _get(client, url, status=200):
    with client.get(url) as r:
        assert r.status_code == status, (url, r.status_code)
        return r.headers.get("Location", ""), unescape(r.get_data(as_text=True))


def test_one_upcoming_visit_of_a_kind_per_patient(clinic, client, login_as):
    patient = login_as(Role.PATIENT)
    _copy_type(clinic, "consultation", "consultation-long")
    day = clinic.day(weekday=1)
    services.book_visit(patient.patient, "consultation", clinic.at(day, "10:00"), actor=patient)
    db.session.commit()
    with pytest.raises(DomainError, match="already have this visit booked"):
        services.book_visit(
            patient.patient, "consultation-long", clinic.at(day, "14:00"), actor=patient
        )
    db.session.rollback()
    _, page = _get(client, "/book/consultation-long")
    assert "You already have this visit booked" in page
    _, visits = _get(client, "/visits")
    assert "/book/consultation-long" not in visits  # not offered while one is booked


def test_booking_link_names_the_kind(clinic, client, login_as):
    login_as(Role.PATIENT)
    location, _ = _get(client, "/book/kind/collection", status=302)
    assert location.endswith("/book/collection")
    clinic.visit_type("collection").is_patient_bookable = False
    _copy_type(clinic, "collection", "harvest-room-2")
    location, _ = _get(client, "/book/kind/collection", status=302)
    assert location.endswith("/book/harvest-room-2")
    for kind in ("reinfusion_iv", "nonsense"):
        _, page = _get(client, f"/book/kind/{kind}", status=404)
        assert "cannot be booked online" in page
    _get(client, "/book/kind/%00", status=400)  # NUL: refused before any view


def test_a_cancelled_visit_does_not_count(clinic, login_as):
    patient = login_as(Role.PATIENT)
    day = clinic.day(weekday=1)
    first = services.book_visit(
        patient.patient, "consultation", clinic.at(day, "10:00"), actor=patient
    )
    services.cancel_visit(first, actor=patient, now=first.start_at - timedelta(days=3))
    services.book_visit(patient.patient, "consultation", clinic.at(day, "14:00"), actor=patient)
