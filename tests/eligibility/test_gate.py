from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from intake.eligibility.gate import DEFAULT_PANEL_ITEMS, collection_gate
from intake.eligibility.question_bank import LANGUAGES

TODAY = date(2025, 6, 15)
ITEMS = ("HBsAg", "anti-HCV", "anti-HIV")


@dataclass(frozen=True)
class Result:
    test_date: date | None
    acceptable: bool | None


def fresh(days_ago: int = 10, acceptable: bool | None = True) -> dict[str, Any]:
    return {"test_date": TODAY - timedelta(days=days_ago), "acceptable": acceptable}


def good(**changes: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "review_status": "approved",
        "panel_results": {code: fresh() for code in ITEMS},
        "panel_items": ITEMS,
        "panel_validity_days": 90,
        "consent_signed": True,
        "consent_withdrawn": False,
        "cross_border_consent_signed": True,
        "today": TODAY,
    }
    kwargs.update(changes)
    return kwargs


def results(**by_code: Any) -> dict[str, Any]:
    base: dict[str, Any] = {code: fresh() for code in ITEMS}
    for code, value in by_code.items():
        base[code.replace("_", "-")] = value
    return {code: value for code, value in base.items() if value is not None}


CASES = [
    pytest.param(good(), (), id="all-good"),
    pytest.param(good(review_status="pending"), ("review_not_approved",), id="review-pending"),
    pytest.param(good(review_status=None), ("review_not_approved",), id="no-review"),
    pytest.param(good(review_status="rejected"), ("review_not_approved",), id="review-rejected"),
    pytest.param(
        good(panel_results=results(HBsAg=None)), ("panel_missing:HBsAg",), id="panel-missing"
    ),
    pytest.param(
        good(panel_results={}),
        ("panel_missing:HBsAg", "panel_missing:anti-HCV", "panel_missing:anti-HIV"),
        id="no-panel-at-all",
    ),
    pytest.param(
        good(panel_results=results(HBsAg=fresh(90))), (), id="result-exactly-90-days-old-valid"
    ),
    pytest.param(
        good(panel_results=results(HBsAg=fresh(91))),
        ("panel_expired:HBsAg",),
        id="result-91-days-old-expired",
    ),
    pytest.param(good(panel_results=results(HBsAg=fresh(0))), (), id="result-taken-today"),
    pytest.param(
        good(panel_results=results(HBsAg=fresh(30)), panel_validity_days=30),
        (),
        id="custom-validity-boundary",
    ),
    pytest.param(
        good(panel_results=results(anti_HIV=fresh(acceptable=False))),
        ("panel_unacceptable:anti-HIV",),
        id="unacceptable",
    ),
    pytest.param(
        good(panel_results=results(anti_HIV=fresh(acceptable=None))),
        ("panel_pending:anti-HIV",),
        id="not-yet-assessed",
    ),
    pytest.param(
        good(panel_results=results(anti_HCV=fresh(120, acceptable=False))),
        ("panel_expired:anti-HCV", "panel_unacceptable:anti-HCV"),
        id="expired-and-unacceptable",
    ),
    pytest.param(
        good(panel_results=results(HBsAg=fresh(-1))),
        ("panel_date_invalid:HBsAg",),
        id="test-date-in-future",
    ),
    pytest.param(
        good(panel_results=results(HBsAg={"test_date": None, "acceptable": True})),
        ("panel_date_invalid:HBsAg",),
        id="test-date-absent",
    ),
    pytest.param(
        good(panel_results=results(HBsAg=Result(TODAY - timedelta(days=5), True))),
        (),
        id="result-as-object",
    ),
    pytest.param(
        good(panel_results=results(HBsAg=Result(TODAY - timedelta(days=91), True))),
        ("panel_expired:HBsAg",),
        id="object-expired",
    ),
    pytest.param(
        good(
            panel_results=results(HBsAg={"test_date": datetime(2025, 6, 1, 9), "acceptable": True})
        ),
        (),
        id="test-date-as-datetime",
    ),
    pytest.param(
        good(panel_results=results(HBsAg=fresh(80)), visit_date=TODAY + timedelta(days=10)),
        (),
        id="still-valid-on-visit-day",
    ),
    pytest.param(
        good(panel_results=results(HBsAg=fresh(80)), visit_date=TODAY + timedelta(days=11)),
        ("panel_expired:HBsAg",),
        id="expires-before-visit-day",
    ),
    pytest.param(
        good(panel_results={"extra": fresh()}, panel_items=()), (), id="no-panel-configured"
    ),
    pytest.param(good(consent_signed=False), ("consent_missing",), id="consent-missing"),
    pytest.param(good(consent_withdrawn=True), ("consent_withdrawn",), id="consent-withdrawn"),
    pytest.param(
        good(consent_signed=False, consent_withdrawn=True),
        ("consent_withdrawn",),
        id="withdrawn-wins-over-unsigned",
    ),
    pytest.param(
        good(cross_border_consent_signed=False),
        ("cross_border_consent_missing",),
        id="cross-border-missing",
    ),
    pytest.param(good(cross_border_consent_signed=None), (), id="cross-border-not-applicable"),
    pytest.param(
        good(
            review_status="pending",
            panel_results=results(HBsAg=None, anti_HCV=fresh(95)),
            consent_signed=False,
            cross_border_consent_signed=False,
        ),
        (
            "review_not_approved",
            "panel_missing:HBsAg",
            "panel_expired:anti-HCV",
            "consent_missing",
            "cross_border_consent_missing",
        ),
        id="everything-missing-listed-in-order",
    ),
]


@pytest.mark.parametrize(("kwargs", "codes"), CASES)
def test_collection_gate(kwargs: dict[str, Any], codes: tuple[str, ...]) -> None:
    result = collection_gate(**kwargs)
    assert result.codes == codes
    assert result.allowed is (codes == ())


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (good(panel_results=results(HBsAg=fresh(91))), "The HBsAg test result is older than 90"),
        (good(panel_results=results(HBsAg=None)), "The HBsAg test result has not been recorded"),
        (good(consent_withdrawn=True), "Consent has been withdrawn"),
    ],
)
def test_messages_are_interpolated(kwargs: dict[str, Any], expected: str) -> None:
    (missing,) = collection_gate(**kwargs).missing
    assert missing.text().startswith(expected)
    assert "%(" not in missing.text(lambda message: "«" + message + "»")


def test_default_panel_items_match_the_domain() -> None:
    codes = [item.code for item in DEFAULT_PANEL_ITEMS]
    assert codes == [
        "HBsAg",
        "anti-HBs",
        "HBeAg",
        "anti-HBe",
        "anti-HBc",
        "anti-HCV",
        "anti-HIV",
        "TP-Ab",
        "RPR",
        "anti-HTLV-1",
    ]
    for item in DEFAULT_PANEL_ITEMS:
        assert all(item.names[lang].strip() for lang in LANGUAGES)


def test_default_panel_items_can_be_passed_directly() -> None:
    panel = {item.code: fresh() for item in DEFAULT_PANEL_ITEMS}
    kwargs = good(panel_items=DEFAULT_PANEL_ITEMS, panel_results=panel)
    assert collection_gate(**kwargs).allowed
    del panel["anti-HTLV-1"]
    assert collection_gate(**kwargs).codes == ("panel_missing:anti-HTLV-1",)


def test_negative_validity_is_refused() -> None:
    with pytest.raises(ValueError):
        collection_gate(**good(panel_validity_days=-1))


@pytest.mark.parametrize(
    ("items", "lang", "text"),
    [
        (DEFAULT_PANEL_ITEMS[:1], "zh_Hans", "The 乙肝表面抗原（HBsAg） test result"),
        (DEFAULT_PANEL_ITEMS[:1], "ja", "The HBs抗原 test result"),
        (DEFAULT_PANEL_ITEMS[:1], "en", "The Hepatitis B surface antigen (HBsAg) test result"),
        ([{"code": "anti-HEV", "names": {"en": "Hepatitis E"}}], "ja", "The Hepatitis E test"),
        (["anti-HEV"], "zh_Hans", "The anti-HEV test result"),  # no names: the code
    ],
)
def test_missing_names_the_panel_item_in_the_language(items, lang, text):
    result = collection_gate(**good(panel_items=items, panel_results={}))
    assert result.missing[0].text(lang=lang).startswith(text)
