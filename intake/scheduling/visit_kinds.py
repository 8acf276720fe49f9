"""What kind of visit a visit type is, and what follows from the kind. Pure: no
Flask, no database.

A clinic may have several visit types of one kind (a 30-minute and a 60-minute
consultation, a second collection room); the rules hang on the kind, never on a
visit type's code, so a type a manager adds cannot forget them:

* ``requires_intake_gate``: DOMAIN rule 2 — nothing past the consultation is
  booked without an approved review, a complete and valid panel accepted by a
  doctor and signed consent: every collection and reinfusion visit, whoever
  books it.
* ``one_upcoming``: a patient booking online holds at most one upcoming visit
  of this kind (any type of it); for the other kinds, at most one per type.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from intake.core.text import N_


class VisitKind(enum.StrEnum):
    CONSULTATION = "consultation"
    COLLECTION = "collection"
    REINFUSION_IV = "reinfusion_iv"
    REINFUSION_LOCAL = "reinfusion_local"
    REINFUSION_INTRATHECAL = "reinfusion_intrathecal"
    FOLLOW_UP = "follow_up"
    OTHER = "other"


@dataclass(frozen=True)
class KindRules:
    label: str
    requires_intake_gate: bool
    one_upcoming: bool
    is_reinfusion: bool = False


KINDS: dict[VisitKind, KindRules] = {
    VisitKind.CONSULTATION: KindRules(N_("Consultation"), False, True),
    VisitKind.COLLECTION: KindRules(N_("Collection (fat tissue and blood)"), True, True),
    VisitKind.REINFUSION_IV: KindRules(N_("Reinfusion: IV drip"), True, False, True),
    VisitKind.REINFUSION_LOCAL: KindRules(N_("Reinfusion: local injection"), True, False, True),
    VisitKind.REINFUSION_INTRATHECAL: KindRules(
        N_("Reinfusion: intrathecal injection"), True, False, True
    ),
    VisitKind.FOLLOW_UP: KindRules(N_("Follow-up"), False, False),
    VisitKind.OTHER: KindRules(N_("Other"), False, False),
}

KIND_LABELS = {kind: rules.label for kind, rules in KINDS.items()}


def requires_intake_gate(kind: VisitKind | str) -> bool:
    """Must the intake gate be open before a visit of this kind is booked?"""
    return KINDS[VisitKind(kind)].requires_intake_gate


def one_upcoming(kind: VisitKind | str) -> bool:
    """Is a patient's online booking limited to one upcoming visit of this kind?"""
    return KINDS[VisitKind(kind)].one_upcoming


def is_reinfusion(kind: VisitKind | str) -> bool:
    return KINDS[VisitKind(kind)].is_reinfusion
