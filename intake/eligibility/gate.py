"""Rule 2 of the domain: may the collection visit be booked?

``collection_gate`` lists everything still missing; booking is allowed only when
nothing is. A panel result is valid *through* day ``validity_days`` inclusive: with
90 days, a test taken exactly 90 days before the day checked is still valid, one taken
91 days before is expired. The day checked is ``today``, or ``visit_date`` when given
(so a result that would expire before the visit itself is reported now).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from intake.core.languages import texts as _t
from intake.core.text import N_

REVIEW_APPROVED = "approved"

Texts = Mapping[str, str]


@dataclass(frozen=True)
class PanelItem:
    code: str
    names: Texts


DEFAULT_PANEL_ITEMS: tuple[PanelItem, ...] = (
    PanelItem(
        "HBsAg",
        _t("Hepatitis B surface antigen (HBsAg)", "乙肝表面抗原（HBsAg）", "HBs抗原"),
    ),
    PanelItem(
        "anti-HBs",
        _t("Hepatitis B surface antibody (anti-HBs)", "乙肝表面抗体（抗-HBs）", "HBs抗体"),
    ),
    PanelItem("HBeAg", _t("Hepatitis B e antigen (HBeAg)", "乙肝e抗原（HBeAg）", "HBe抗原")),
    PanelItem(
        "anti-HBe", _t("Hepatitis B e antibody (anti-HBe)", "乙肝e抗体（抗-HBe）", "HBe抗体")
    ),
    PanelItem(
        "anti-HBc",
        _t("Hepatitis B core antibody (anti-HBc)", "乙肝核心抗体（抗-HBc）", "HBc抗体"),
    ),
    PanelItem("anti-HCV", _t("Hepatitis C antibody (anti-HCV)", "丙肝抗体（抗-HCV）", "HCV抗体")),
    PanelItem(
        "anti-HIV",
        _t("HIV-1/2 antibody", "艾滋病病毒抗体（HIV-1/2）", "HIV-1/2抗体"),
    ),
    PanelItem(
        "TP-Ab",
        _t("Syphilis: TP antibody", "梅毒螺旋体抗体（TP抗体）", "梅毒TP抗体"),
    ),
    PanelItem(
        "RPR",
        _t("Syphilis: RPR", "梅毒快速血浆反应素试验（RPR）", "梅毒RPR法"),
    ),
    PanelItem(
        "anti-HTLV-1",
        _t("HTLV-1 antibody", "人类嗜T淋巴细胞病毒1型抗体（HTLV-1）", "HTLV-1抗体"),
    ),
)


@dataclass(frozen=True)
class Missing:
    code: str
    #: English, wrapped in ``N_``; ``%(name)s`` placeholders are filled from ``params``.
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)
    #: The panel item's name per language, shown instead of its code (``%(item)s``).
    item_names: Texts = field(default_factory=dict)

    def text(self, translate: Callable[[str], str] | None = None, lang: str = "en") -> str:
        """The message in ``lang``: ``translate`` is that language's gettext,
        and a panel item is named by its name in ``lang`` (English, then its
        code, when it has none)."""
        message = translate(self.message) if translate else self.message
        params = dict(self.params)
        if "item" in params:
            names = self.item_names
            params["item"] = names.get(lang) or names.get("en") or params["item"]
        return message % params if params else message


@dataclass(frozen=True)
class GateResult:
    allowed: bool
    missing: tuple[Missing, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(item.code for item in self.missing)


MSG_REVIEW = N_("A doctor has not yet approved the eligibility review.")
MSG_PANEL_MISSING = N_("The %(item)s test result has not been recorded yet.")
MSG_PANEL_DATE = N_("The %(item)s test result has no valid test date.")
MSG_PANEL_EXPIRED = N_(
    "The %(item)s test result is older than %(days)s days. Please have the test repeated."
)
MSG_PANEL_PENDING = N_("The %(item)s test result is waiting for a doctor's assessment.")
MSG_PANEL_UNACCEPTABLE = N_(
    "The %(item)s test result does not allow the treatment to go ahead. A doctor will "
    "talk with you about it."
)
MSG_CONSENT_MISSING = N_("The consent for the treatment has not been signed yet.")
MSG_CONSENT_WITHDRAWN = N_("Consent has been withdrawn, so nothing further can be booked.")
MSG_CROSS_BORDER = N_("The consent to send your data abroad has not been signed yet.")
MSG_CONSENT_OUTDATED = N_(
    "A new version of the treatment consent has been published. Please read and sign it."
)


def _field(result: Any, name: str) -> Any:
    if isinstance(result, Mapping):
        return result.get(name)
    return getattr(result, name, None)


def _item_code(item: Any) -> str:
    if isinstance(item, str):
        return item
    return str(_field(item, "code"))


def _item_names(item: Any) -> Texts:
    if isinstance(item, str):
        return {}
    return _field(item, "names") or {}


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def panel_problems(
    code: str,
    result: Any,
    validity_days: int,
    today: date,
    valid_on: date,
    names: Texts | None = None,
) -> list[Missing]:
    """What is wrong with one panel item's result (empty when usable)."""
    params = {"item": code}
    names = dict(names or {})

    def missing(kind: str, message: str, extra: Mapping[str, Any] | None = None) -> Missing:
        return Missing(f"{kind}:{code}", message, {**params, **(extra or {})}, names)

    if result is None:
        return [missing("panel_missing", MSG_PANEL_MISSING)]
    problems: list[Missing] = []
    test_date = _as_date(_field(result, "test_date"))
    if test_date is None or test_date > today:
        problems.append(missing("panel_date_invalid", MSG_PANEL_DATE))
    elif test_date < valid_on - timedelta(days=validity_days):
        problems.append(missing("panel_expired", MSG_PANEL_EXPIRED, {"days": validity_days}))
    acceptable = _field(result, "acceptable")
    if acceptable is None:
        problems.append(missing("panel_pending", MSG_PANEL_PENDING))
    elif acceptable is not True:
        problems.append(missing("panel_unacceptable", MSG_PANEL_UNACCEPTABLE))
    return problems


def _consent_problems(
    consent_signed: bool,
    consent_withdrawn: bool,
    cross_border_consent_signed: bool | None,
    consent_outdated: bool = False,
) -> list[Missing]:
    if consent_withdrawn:
        return [Missing("consent_withdrawn", MSG_CONSENT_WITHDRAWN)]
    if consent_signed and consent_outdated:
        problems = [Missing("consent_outdated", MSG_CONSENT_OUTDATED)]
    else:
        problems = [] if consent_signed else [Missing("consent_missing", MSG_CONSENT_MISSING)]
    if cross_border_consent_signed is False:
        problems.append(Missing("cross_border_consent_missing", MSG_CROSS_BORDER))
    return problems


def collection_gate(
    *,
    review_status: str | None,
    panel_results: Mapping[str, Any],
    panel_items: Iterable[str | PanelItem | Mapping[str, Any]],
    panel_validity_days: int,
    consent_signed: bool,
    consent_withdrawn: bool,
    cross_border_consent_signed: bool | None,
    today: date,
    visit_date: date | None = None,
    consent_outdated: bool = False,
) -> GateResult:
    """May the collection visit be booked? Lists every missing item, in a stable order.

    ``panel_results`` maps item code to a dict or object with ``test_date`` (a date)
    and ``acceptable`` (``True``/``False``; ``None`` means not yet assessed).
    ``cross_border_consent_signed`` is ``None`` when that consent does not apply.
    """
    if panel_validity_days < 0:
        raise ValueError("panel_validity_days must not be negative")
    valid_on = max(today, visit_date or today)
    missing: list[Missing] = []
    if review_status != REVIEW_APPROVED:
        missing.append(Missing("review_not_approved", MSG_REVIEW))
    for item in panel_items:
        code = _item_code(item)
        result = panel_results.get(code)
        missing.extend(
            panel_problems(
                code, result, panel_validity_days, today, valid_on, names=_item_names(item)
            )
        )
    missing.extend(
        _consent_problems(
            consent_signed, consent_withdrawn, cross_border_consent_signed, consent_outdated
        )
    )
    return GateResult(allowed=not missing, missing=tuple(missing))
