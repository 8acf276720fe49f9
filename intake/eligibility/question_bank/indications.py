"""The conditions the clinic treats and the routes of administration. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from intake.eligibility.question_bank.model import DEFAULT_LANGUAGE, Texts, _pick, _t

ROUTE_IV = "iv"
ROUTE_LOCAL = "local"
ROUTE_INTRATHECAL = "intrathecal"


@dataclass(frozen=True)
class Route:
    code: str
    names: Texts


ROUTES: tuple[Route, ...] = (
    Route(ROUTE_IV, _t("IV drip", "静脉滴注", "点滴（静脈内投与）")),
    Route(ROUTE_LOCAL, _t("Local injection", "局部注射", "局所注射")),
    Route(
        ROUTE_INTRATHECAL,
        _t("Intrathecal (spinal) injection", "鞘内注射", "髄腔内投与（くも膜下腔への注射）"),
    ),
)


@dataclass(frozen=True)
class Indication:
    code: str
    names: Texts
    #: Routes allowed by default; the first is the usual one.
    routes: tuple[str, ...]

    def label(self, lang: str = DEFAULT_LANGUAGE) -> str:
        return _pick(self.names, lang)


INDICATION_OTHER = "other"

INDICATIONS: tuple[Indication, ...] = (
    Indication(
        "skin_ageing",
        _t("Skin ageing", "皮肤衰老", "肌の老化（エイジングケア）"),
        (ROUTE_IV, ROUTE_LOCAL),
    ),
    Indication("hair_loss", _t("Hair loss", "脱发", "薄毛・脱毛症"), (ROUTE_LOCAL,)),
    Indication("diabetes", _t("Diabetes", "糖尿病", "糖尿病"), (ROUTE_IV,)),
    Indication(
        "after_stroke",
        _t("After a stroke", "脑卒中后遗症", "脳卒中後遺症"),
        (ROUTE_IV, ROUTE_INTRATHECAL),
    ),
    Indication("liver_cirrhosis", _t("Liver cirrhosis", "肝硬化", "肝硬変"), (ROUTE_IV,)),
    Indication(
        "copd",
        _t(
            "COPD (chronic obstructive pulmonary disease)",
            "慢性阻塞性肺疾病（慢阻肺）",
            "COPD（慢性閉塞性肺疾患）",
        ),
        (ROUTE_IV,),
    ),
    Indication(
        "parkinsons",
        _t("Parkinson's disease", "帕金森病", "パーキンソン病"),
        (ROUTE_IV, ROUTE_INTRATHECAL),
    ),
    Indication(
        "spinal_cord_injury",
        _t("Spinal cord injury", "脊髓损伤", "脊髄損傷"),
        (ROUTE_INTRATHECAL, ROUTE_IV),
    ),
    Indication(
        "lupus_sle",
        _t("Lupus (SLE)", "系统性红斑狼疮（SLE）", "全身性エリテマトーデス（SLE）"),
        (ROUTE_IV,),
    ),
    Indication(
        "knee_oa",
        _t("Knee osteoarthritis", "膝骨关节炎", "変形性膝関節症"),
        (ROUTE_LOCAL, ROUTE_IV),
    ),
    Indication(
        "immune_support",
        _t("Immune support", "免疫调理", "免疫力のサポート"),
        (ROUTE_IV,),
    ),
)


def indication(code: str) -> Indication:
    for item in INDICATIONS:
        if item.code == code:
            return item
    raise KeyError(f"no indication {code!r}")
