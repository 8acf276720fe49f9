"""A culture batch's life: its states, which may follow which, and the guards
on release, administration, failure and discard. Pure: no Flask, no database,
no clock; QC results, thresholds, the dose plan and any override are passed in.

The states (DOMAIN.md, "Culture batch lifecycle")::

    received -> in_culture -> harvest_ready -> qc_pending -> released -> administered
                                                              |    ^
                                                              v    |
                                                           cryopreserved

    failed / discarded: from any state above except administered, with a reason.

Where DOMAIN.md is silent, this module decides:

* **The state says where the batch's remaining cells are.** ``administered``
  means every planned dose has been given: the batch is closed. A course may
  have several doses from one culture; each dose is given from ``released``
  (the administration itself is recorded by the reinfusion side). When later
  doses remain, the batch does not go to ``administered`` but to
  ``cryopreserved`` (the remaining aliquots frozen); ``released ->
  administered`` is refused while ``later_doses`` > 0.
* **Thawing is a release of its own.** ``cryopreserved -> released`` is an
  aliquot thawed for the next dose. The batch-level tests (sterility,
  mycoplasma, endotoxin) were passed at the first release and still hold; what
  freezing changes is checked again on the thawed aliquot: viability and the
  cell count (``Thresholds.thaw_required_qc``), and the dose limit. The caller
  passes the post-thaw results as ``context.qc`` for that transition.
* Freezing the whole batch (``released -> cryopreserved``) needs no guard: a
  postponed dose is a reason to freeze, not a fault.
* The dose limit (rule 9) applies to the most the plan gives in one
  administration (``DoseRange.high``), at every release and at the final
  administration; above it, a doctor's override with a reason is needed.
* ``failed``, ``discarded`` and ``administered`` are final. Aliquots left in
  store after an earlier dose may still be discarded or fail (then the batch
  ends so, with the earlier dose on record).

``check_transition`` answers for one step (the first refusal, or None);
``refusals`` lists every reason at once for the screen; ``allowed_targets``
gives the buttons to show, leaving out only the reason a fail or discard form
asks for itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from intake.accounts.roles import Role
from intake.core.text import N_


class BatchState(StrEnum):
    RECEIVED = "received"
    IN_CULTURE = "in_culture"
    HARVEST_READY = "harvest_ready"
    QC_PENDING = "qc_pending"
    RELEASED = "released"
    CRYOPRESERVED = "cryopreserved"
    ADMINISTERED = "administered"
    FAILED = "failed"
    DISCARDED = "discarded"


S = BatchState

STATE_LABELS = {
    S.RECEIVED: N_("Received"),
    S.IN_CULTURE: N_("In culture"),
    S.HARVEST_READY: N_("Ready to harvest"),
    S.QC_PENDING: N_("Waiting for QC"),
    S.RELEASED: N_("Released"),
    S.CRYOPRESERVED: N_("Cryopreserved"),
    S.ADMINISTERED: N_("Administered"),
    S.FAILED: N_("Failed"),
    S.DISCARDED: N_("Discarded"),
}

#: States from which the batch can still fail or be discarded.
OPEN = (S.RECEIVED, S.IN_CULTURE, S.HARVEST_READY, S.QC_PENDING, S.RELEASED, S.CRYOPRESERVED)
FINAL = frozenset({S.ADMINISTERED, S.FAILED, S.DISCARDED})
#: States that count as released for "at risk" (DOMAIN: past day 42 unreleased).
RELEASED_STATES = frozenset({S.RELEASED, S.CRYOPRESERVED, S.ADMINISTERED})

_ENDS = (S.FAILED, S.DISCARDED)

#: Which state may follow which (guards aside), targets in button order.
TRANSITIONS: dict[BatchState, tuple[BatchState, ...]] = {
    S.RECEIVED: (S.IN_CULTURE, *_ENDS),
    S.IN_CULTURE: (S.HARVEST_READY, *_ENDS),
    S.HARVEST_READY: (S.QC_PENDING, *_ENDS),
    S.QC_PENDING: (S.RELEASED, *_ENDS),
    S.RELEASED: (S.ADMINISTERED, S.CRYOPRESERVED, *_ENDS),
    S.CRYOPRESERVED: (S.RELEASED, *_ENDS),
    S.ADMINISTERED: (),
    S.FAILED: (),
    S.DISCARDED: (),
}


def is_open(state: BatchState | str) -> bool:
    return BatchState(state) not in FINAL


class QcItem(StrEnum):
    STERILITY = "sterility"
    MYCOPLASMA = "mycoplasma"
    ENDOTOXIN = "endotoxin"  # EU/mL, Decimal
    VIABILITY = "viability"  # per cent, Decimal
    CELL_COUNT = "cell_count"  # cells, int


class Finding(StrEnum):
    """A sterility or mycoplasma result."""

    NEGATIVE = "negative"
    POSITIVE = "positive"


RELEASE_QC = tuple(QcItem)
THAW_QC = (QcItem.VIABILITY, QcItem.CELL_COUNT)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _exact(value: object, what: str) -> Decimal:
    """``value`` as a finite Decimal; an int is exact too. A float is a bug."""
    if _is_int(value):
        return Decimal(value)
    if not isinstance(value, Decimal):
        raise TypeError(f"{what} must be a Decimal or int, not {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{what} must be a finite number")
    return value


@dataclass(frozen=True)
class Thresholds:
    """Release criteria (DOMAIN rule 9), defaults as there; the clinic's
    settings override them (``from_settings``)."""

    #: Endotoxin must be strictly below this.
    endotoxin_max_eu_per_ml: Decimal = Decimal("0.5")
    #: Viability must be at least this.
    viability_min_percent: Decimal = Decimal("70")
    #: Most cells per administration without a doctor's override.
    max_dose_cells: int = 200_000_000
    required_qc: tuple[QcItem, ...] = RELEASE_QC
    thaw_required_qc: tuple[QcItem, ...] = THAW_QC

    def __post_init__(self) -> None:
        endotoxin = _exact(self.endotoxin_max_eu_per_ml, "endotoxin_max_eu_per_ml")
        viability = _exact(self.viability_min_percent, "viability_min_percent")
        if endotoxin < 0 or not 0 <= viability <= 100:
            raise ValueError("threshold out of range")
        if not _is_int(self.max_dose_cells) or self.max_dose_cells < 1:
            raise ValueError("max_dose_cells must be a positive int")
        object.__setattr__(self, "endotoxin_max_eu_per_ml", endotoxin)
        object.__setattr__(self, "viability_min_percent", viability)
        object.__setattr__(self, "required_qc", tuple(QcItem(i) for i in self.required_qc))
        object.__setattr__(
            self, "thaw_required_qc", tuple(QcItem(i) for i in self.thaw_required_qc)
        )

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Thresholds:
        """From the clinic's settings (``endotoxin_max_eu_per_ml``,
        ``viability_min_percent``, ``max_dose_cells``); missing keys keep the
        defaults."""
        names = ("endotoxin_max_eu_per_ml", "viability_min_percent", "max_dose_cells")
        names += ("required_qc", "thaw_required_qc")
        return cls(**{name: settings[name] for name in names if name in settings})


@dataclass(frozen=True)
class DoseRange:
    """The planned dose: the cell count a release must fall within, ``low``
    to ``high`` inclusive, per administration."""

    low: int
    high: int

    def __post_init__(self) -> None:
        if not (_is_int(self.low) and _is_int(self.high)) or not 1 <= self.low <= self.high:
            raise ValueError("a dose range is two ints, 1 <= low <= high")


@dataclass(frozen=True)
class DoseOverride:
    """A doctor's reasoned permission for a dose above the limit."""

    actor_role: Role | str
    reason: str


@dataclass(frozen=True)
class TransitionContext:
    """What the guards need; every field is optional, and a guard refuses
    when what it needs is missing.

    ``qc`` maps a ``QcItem`` to the latest valid result: a ``Finding`` for
    sterility and mycoplasma, a ``Decimal`` (or int) for endotoxin in EU/mL
    and viability in per cent, an int for the cell count. For a thaw
    (``cryopreserved -> released``) it holds the thawed aliquot's results.
    ``thresholds`` is a ``Thresholds`` or the settings mapping.
    ``later_doses``: doses still planned from this batch after the one being
    given now. ``reason``: why the batch fails or is discarded.
    """

    qc: Mapping[str, Any] = field(default_factory=dict)
    thresholds: Thresholds | Mapping[str, Any] = field(default_factory=Thresholds)
    planned_dose: DoseRange | None = None
    override: DoseOverride | None = None
    reason: str | None = None
    later_doses: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.thresholds, Thresholds):
            object.__setattr__(self, "thresholds", Thresholds.from_settings(self.thresholds))
        if not _is_int(self.later_doses) or self.later_doses < 0:
            raise ValueError("later_doses must be an int >= 0")

    @property
    def limits(self) -> Thresholds:
        """``thresholds``, always a ``Thresholds`` once constructed."""
        assert isinstance(self.thresholds, Thresholds)  # made so by __post_init__
        return self.thresholds


class Why(StrEnum):
    TRANSITION = "transition"
    REASON_REQUIRED = "reason_required"
    QC_MISSING = "qc_missing"
    QC_FAILED = "qc_failed"
    DOSE_NOT_PLANNED = "dose_not_planned"
    DOSE_OVER_LIMIT = "dose_over_limit"
    OVERRIDE_NOT_DOCTOR = "override_not_doctor"
    OVERRIDE_NO_REASON = "override_no_reason"
    LATER_DOSES = "later_doses"


@dataclass(frozen=True)
class Refusal:
    code: Why
    #: English, wrapped in ``N_``; ``%(name)s`` placeholders filled from ``params``.
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)
    #: The QC item concerned, for ``qc_missing`` and ``qc_failed``.
    item: QcItem | None = None

    @property
    def key(self) -> str:
        """``qc_failed:viability``, or the code alone."""
        return f"{self.code}:{self.item}" if self.item else str(self.code)

    def text(self, translate: Callable[[str], str] | None = None) -> str:
        message = translate(self.message) if translate else self.message
        return message % dict(self.params)


MSG_TRANSITION = N_("This step is not possible from the batch's current state.")
MSG_REASON = {
    S.FAILED: N_("Please say why the batch failed."),
    S.DISCARDED: N_("Please say why the batch is discarded."),
}
MSG_QC_MISSING = {
    QcItem.STERILITY: N_("The sterility result has not been recorded."),
    QcItem.MYCOPLASMA: N_("The mycoplasma result has not been recorded."),
    QcItem.ENDOTOXIN: N_("The endotoxin result has not been recorded."),
    QcItem.VIABILITY: N_("The viability has not been recorded."),
    QcItem.CELL_COUNT: N_("The cell count has not been recorded."),
}
MSG_QC_FAILED = {
    QcItem.STERILITY: N_("The sterility test is not negative."),
    QcItem.MYCOPLASMA: N_("The mycoplasma test is not negative."),
    QcItem.ENDOTOXIN: N_("Endotoxin is %(value)s EU/mL; it must be below %(limit)s EU/mL."),
    QcItem.VIABILITY: N_("Viability is %(value)s %%; it must be at least %(limit)s %%."),
    QcItem.CELL_COUNT: N_(
        "The cell count of %(value)s is outside the planned dose of %(low)s to %(high)s cells."
    ),
}
MSG_DOSE_NOT_PLANNED = N_("The planned dose has not been set for this batch.")
MSG_DOSE_OVER_LIMIT = N_(
    "The planned dose of up to %(dose)s cells is above the limit of %(limit)s cells per "
    "administration: a doctor's override with a reason is needed."
)
MSG_OVERRIDE_NOT_DOCTOR = N_(
    "Only a doctor can allow a dose above %(limit)s cells per administration."
)
MSG_OVERRIDE_NO_REASON = N_("The doctor's override of the dose limit needs a reason.")
MSG_LATER_DOSES = N_(
    "Later doses are still planned from this batch (%(doses)s): cryopreserve the "
    "remaining cells instead."
)


def _qc_refusal(item: QcItem, value: Any, context: TransitionContext) -> Refusal | None:
    """Why one present QC result does not pass (None: it passes)."""
    limits = context.limits
    failed = Why.QC_FAILED
    if item in (QcItem.STERILITY, QcItem.MYCOPLASMA):
        if Finding(value) is not Finding.NEGATIVE:
            return Refusal(failed, MSG_QC_FAILED[item], {}, item)
    elif item is QcItem.ENDOTOXIN:
        value = _exact(value, "endotoxin")
        if value < 0:
            raise ValueError("endotoxin must not be negative")
        if not value < limits.endotoxin_max_eu_per_ml:
            params = {"value": value, "limit": limits.endotoxin_max_eu_per_ml}
            return Refusal(failed, MSG_QC_FAILED[item], params, item)
    elif item is QcItem.VIABILITY:
        value = _exact(value, "viability")
        if not 0 <= value <= 100:
            raise ValueError("viability is a percentage, 0 to 100")
        if value < limits.viability_min_percent:
            params = {"value": value, "limit": limits.viability_min_percent}
            return Refusal(failed, MSG_QC_FAILED[item], params, item)
    elif item is QcItem.CELL_COUNT:
        if not _is_int(value) or value < 0:
            raise TypeError("the cell count must be an int >= 0")
        dose = context.planned_dose
        if dose is None:  # reported once, by _dose_refusals
            return None
        if not dose.low <= value <= dose.high:
            params = {"value": value, "low": dose.low, "high": dose.high}
            return Refusal(failed, MSG_QC_FAILED[item], params, item)
    return None


def _qc_refusals(required: tuple[QcItem, ...], context: TransitionContext) -> list[Refusal]:
    found: list[Refusal] = []
    for item in required:
        value = context.qc.get(item)
        if value is None:
            found.append(Refusal(Why.QC_MISSING, MSG_QC_MISSING[item], {}, item))
        elif (refusal := _qc_refusal(item, value, context)) is not None:
            found.append(refusal)
    return found


def _dose_refusals(context: TransitionContext) -> list[Refusal]:
    limits = context.limits
    dose = context.planned_dose
    if dose is None:
        return [Refusal(Why.DOSE_NOT_PLANNED, MSG_DOSE_NOT_PLANNED)]
    if dose.high <= limits.max_dose_cells:
        return []
    limit = {"limit": limits.max_dose_cells}
    override = context.override
    if override is None:
        return [Refusal(Why.DOSE_OVER_LIMIT, MSG_DOSE_OVER_LIMIT, {"dose": dose.high, **limit})]
    found = []
    if override.actor_role != Role.DOCTOR:
        found.append(Refusal(Why.OVERRIDE_NOT_DOCTOR, MSG_OVERRIDE_NOT_DOCTOR, limit))
    if not (override.reason or "").strip():
        found.append(Refusal(Why.OVERRIDE_NO_REASON, MSG_OVERRIDE_NO_REASON))
    return found


def _refusals(
    current: BatchState, target: BatchState, context: TransitionContext, *, with_reason: bool
) -> tuple[Refusal, ...]:
    if target not in TRANSITIONS[current]:
        params = {"current": current.value, "target": target.value}
        return (Refusal(Why.TRANSITION, MSG_TRANSITION, params),)
    limits = context.limits
    found: list[Refusal] = []
    if target in _ENDS:
        if with_reason and not (context.reason or "").strip():
            found.append(Refusal(Why.REASON_REQUIRED, MSG_REASON[target]))
    elif target is S.RELEASED:
        required = limits.required_qc if current is S.QC_PENDING else limits.thaw_required_qc
        found += _qc_refusals(required, context)
        found += _dose_refusals(context)
    elif target is S.ADMINISTERED:
        if context.later_doses:
            found.append(Refusal(Why.LATER_DOSES, MSG_LATER_DOSES, {"doses": context.later_doses}))
        found += _dose_refusals(context)
    return tuple(found)


def refusals(
    current: BatchState | str, target: BatchState | str, *, context: TransitionContext | None = None
) -> tuple[Refusal, ...]:
    """Every reason ``current`` may not become ``target`` (empty: it may)."""
    return _refusals(
        BatchState(current), BatchState(target), context or TransitionContext(), with_reason=True
    )


def check_transition(
    current: BatchState | str, target: BatchState | str, *, context: TransitionContext | None = None
) -> Refusal | None:
    """None when ``current`` may become ``target``, else the first refusal."""
    found = refusals(current, target, context=context)
    return found[0] if found else None


@dataclass(frozen=True)
class Option:
    """A step the batch page may show as a button: blocked while ``refusals``."""

    target: BatchState
    refusals: tuple[Refusal, ...]

    @property
    def allowed(self) -> bool:
        return not self.refusals


def options(
    current: BatchState | str, context: TransitionContext | None = None
) -> tuple[Option, ...]:
    """Every step the state machine has from ``current``, with what blocks it
    now. The reason for failing or discarding is not asked for here: the
    button's own form asks for it, and ``check_transition`` checks it."""
    current = BatchState(current)
    context = context or TransitionContext()
    return tuple(
        Option(target, _refusals(current, target, context, with_reason=False))
        for target in TRANSITIONS[current]
    )


def allowed_targets(
    current: BatchState | str, context: TransitionContext | None = None
) -> tuple[BatchState, ...]:
    """The steps to show as buttons, in order (see ``options``)."""
    return tuple(option.target for option in options(current, context) if option.allowed)
