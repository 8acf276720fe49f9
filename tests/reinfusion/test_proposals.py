"""Proposals and confirmation (issue 10 points 1, 2): valid times only, 1-3
of them, routes by indication, only coordinators and doctors, the patient
told in their language; the patient confirms their own proposal, the visit is
booked through the engine and locked, a double submit is harmless, a time
taken meanwhile keeps the other proposals."""

from __future__ import annotations

from tests.reinfusion.offer_fixtures import (  # noqa: F401
    Offer,
    clinic,
    coordinator,
    doctor,
    intake,
    lab,
    make_approved,
    make_batch,
    make_ready,
    make_submitted,
    manager,
    offer,
    other_patient,
)


def test_smoke(offer):
    o = offer()
    proposals = o.propose()
    assert len(proposals) == 3
    dose = o.confirm(proposals[1])
    assert dose.appointment.is_locked
