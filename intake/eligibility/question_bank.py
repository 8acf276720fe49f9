"""The eligibility questionnaire as plain data, and pure helpers to check answers.

The clinic stores a questionnaire as JSON in a versioned row (``QuestionSet.to_dict`` /
``QuestionSet.from_dict``); ``DEFAULT_QUESTION_SET`` is version 1. A phone shows one
``Page`` at a time. Every user-visible text exists in English (``en``), Simplified
Chinese (``zh_Hans``) and Japanese (``ja``).

Answers are kept as plain JSON values keyed by question code: ``"yes"``/``"no"`` for
yes/no questions, the choice code for choices, an ISO ``YYYY-MM-DD`` string for dates,
an ``int`` or ``float`` for numbers and a string for free text. Unanswered questions are
simply absent.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from intake.core.text import N_

LANGUAGES: tuple[str, ...] = ("en", "zh_Hans", "ja")
DEFAULT_LANGUAGE = "en"

YES_NO = "yes_no"
CHOICE = "choice"
DATE = "date"
NUMBER = "number"
TEXT = "text"
KINDS: tuple[str, ...] = (YES_NO, CHOICE, DATE, NUMBER, TEXT)

YES = "yes"
NO = "no"

#: A number question whose ``unit`` is "year" holds a calendar year (not after today).
UNIT_YEAR = "year"
TEXT_MAX_LENGTH = 2000
EARLIEST_DATE = date(1900, 1, 1)

Texts = Mapping[str, str]


def _t(en: str, zh_hans: str, ja: str) -> dict[str, str]:
    return {"en": en, "zh_Hans": zh_hans, "ja": ja}


def _pick(texts: Texts, lang: str) -> str:
    return texts.get(lang) or texts[DEFAULT_LANGUAGE]


# --------------------------------------------------------------------------- structure


@dataclass(frozen=True)
class Choice:
    code: str
    text: Texts

    def label(self, lang: str = DEFAULT_LANGUAGE) -> str:
        return _pick(self.text, lang)


@dataclass(frozen=True)
class Condition:
    """``show_if`` part: the answer to ``question`` is one of ``values``."""

    question: str
    values: tuple[str, ...]

    def holds(self, answers: Mapping[str, Any]) -> bool:
        given = answer_text(answers.get(self.question)).lower()
        return any(given == value.lower() for value in self.values)


@dataclass(frozen=True)
class Question:
    code: str
    kind: str
    required: bool
    text: Texts
    help: Texts | None = None
    choices: tuple[Choice, ...] = ()
    #: All conditions must hold for the question to be asked.
    show_if: tuple[Condition, ...] = ()
    min_value: float | None = None
    max_value: float | None = None
    unit: str | None = None

    def label(self, lang: str = DEFAULT_LANGUAGE) -> str:
        return _pick(self.text, lang)

    def help_text(self, lang: str = DEFAULT_LANGUAGE) -> str | None:
        return _pick(self.help, lang) if self.help else None

    def choice_codes(self) -> tuple[str, ...]:
        return tuple(choice.code for choice in self.choices)

    def is_shown(self, answers: Mapping[str, Any]) -> bool:
        return all(condition.holds(answers) for condition in self.show_if)


@dataclass(frozen=True)
class Page:
    code: str
    title: Texts
    questions: tuple[Question, ...]

    def label(self, lang: str = DEFAULT_LANGUAGE) -> str:
        return _pick(self.title, lang)


@dataclass(frozen=True)
class QuestionSet:
    version: int
    pages: tuple[Page, ...]

    def page(self, code: str) -> Page:
        for page in self.pages:
            if page.code == code:
                return page
        raise KeyError(f"no page {code!r} in question set version {self.version}")

    def questions(self) -> Iterator[Question]:
        for page in self.pages:
            yield from page.questions

    def question(self, code: str) -> Question:
        for question in self.questions():
            if question.code == code:
                return question
        raise KeyError(f"no question {code!r} in question set version {self.version}")

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "pages": [_page_to_dict(p) for p in self.pages]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QuestionSet:
        pages = tuple(_page_from_dict(p) for p in data["pages"])
        return cls(version=int(data["version"]), pages=pages)


# --------------------------------------------------------------------------- JSON form


def _question_to_dict(question: Question) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": question.code,
        "kind": question.kind,
        "required": question.required,
        "text": dict(question.text),
    }
    optional = {
        "help": dict(question.help) if question.help else None,
        "choices": [{"code": c.code, "text": dict(c.text)} for c in question.choices],
        "show_if": [{"question": c.question, "in": list(c.values)} for c in question.show_if],
        "min_value": question.min_value,
        "max_value": question.max_value,
        "unit": question.unit,
    }
    data.update({key: value for key, value in optional.items() if value not in (None, [])})
    return data


def _question_from_dict(data: Mapping[str, Any]) -> Question:
    kind = data["kind"]
    if kind not in KINDS:
        raise ValueError(f"unknown question kind {kind!r} for {data.get('code')!r}")
    return Question(
        code=data["code"],
        kind=kind,
        required=bool(data["required"]),
        text=dict(data["text"]),
        help=dict(data["help"]) if data.get("help") else None,
        choices=tuple(Choice(c["code"], dict(c["text"])) for c in data.get("choices", ())),
        show_if=tuple(Condition(c["question"], tuple(c["in"])) for c in data.get("show_if", ())),
        min_value=data.get("min_value"),
        max_value=data.get("max_value"),
        unit=data.get("unit"),
    )


def _page_to_dict(page: Page) -> dict[str, Any]:
    return {
        "code": page.code,
        "title": dict(page.title),
        "questions": [_question_to_dict(q) for q in page.questions],
    }


def _page_from_dict(data: Mapping[str, Any]) -> Page:
    questions = tuple(_question_from_dict(q) for q in data["questions"])
    return Page(code=data["code"], title=dict(data["title"]), questions=questions)


# --------------------------------------------------------------------------- indications

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


# --------------------------------------------------------------------------- the default set


def _yes_no(code: str, text: Texts, *, help_: Texts | None = None, **kw: Any) -> Question:
    return Question(code, YES_NO, True, text, help=help_, **kw)


def _if_yes(code: str) -> tuple[Condition, ...]:
    return (Condition(code, (YES,)),)


_OPTIONAL_EMPTY = _t(
    "If there is nothing to add, you can leave this empty.",
    "如果没有，可以不填。",
    "特にない場合は、空欄のままで結構です。",
)

_INDICATION_CHOICES = tuple(Choice(i.code, i.names) for i in INDICATIONS) + (
    Choice(INDICATION_OTHER, _t("Something else", "其他", "その他")),
)

_PAGE_INDICATION = Page(
    "indication",
    _t("What you would like help with", "您希望改善的问题", "ご相談になりたい内容"),
    (
        Question(
            "indication",
            CHOICE,
            True,
            _t(
                "Which condition would you like to ask us about?",
                "您想咨询哪方面的治疗？",
                "どのようなお悩み・ご病気についてご相談されたいですか？",
            ),
            choices=_INDICATION_CHOICES,
        ),
        Question(
            "indication_other",
            TEXT,
            True,
            _t(
                "Please tell us about it in your own words.",
                "请用您自己的话简单描述一下。",
                "ご相談になりたい内容を、ご自身の言葉でお書きください。",
            ),
            show_if=(Condition("indication", (INDICATION_OTHER,)),),
        ),
        Question(
            "indication_details",
            TEXT,
            False,
            _t(
                "If you like, tell us a little more: how long you have had it, and what "
                "you hope the treatment will change.",
                "如果方便，请再多告诉我们一些：这个问题持续了多久，您希望治疗后有哪些改善。",
                "差し支えなければ、いつ頃からの症状か、治療でどのような変化を望まれているかを"
                "教えてください。",
            ),
            help=_OPTIONAL_EMPTY,
        ),
    ),
)

_PAGE_HISTORY = Page(
    "history",
    _t("Your health so far", "您的健康状况", "これまでのご病歴"),
    (
        Question(
            "past_history",
            TEXT,
            False,
            _t(
                "Please list any serious illnesses, operations or hospital stays you have "
                "had, with the year if you remember it.",
                "请列出您以往患过的重要疾病、做过的手术或住院经历，如果记得请注明年份。",
                "これまでにかかった大きなご病気、手術、入院のご経験があれば、"
                "わかる範囲で年も添えてお書きください。",
            ),
            help=_OPTIONAL_EMPTY,
        ),
        Question(
            "present_illnesses",
            TEXT,
            False,
            _t(
                "Are you being treated for any illness at the moment, or seeing a doctor "
                "regularly for one? Please tell us which.",
                "您目前是否正在治疗某种疾病，或因某种疾病定期复查？请写明是什么疾病。",
                "現在治療中のご病気や、定期的に通院して経過をみてもらっているご病気があれば"
                "お書きください。",
            ),
            help=_OPTIONAL_EMPTY,
        ),
    ),
)

_PAGE_HEART_BLOOD = Page(
    "heart_blood",
    _t("Heart, blood pressure and blood", "心脏、血压与血液", "心臓・血圧・血液について"),
    (
        _yes_no(
            "heart_attack_or_stroke",
            _t(
                "Have you ever had a heart attack or a stroke (including a bleed in the "
                "brain or a mini-stroke)?",
                "您是否曾经发生过心肌梗死（心梗）或脑卒中（包括脑梗死、脑出血和短暂性脑缺血"
                "发作）？",
                "これまでに心筋梗塞、または脳卒中（脳梗塞・脳出血・一過性脳虚血発作を含む）を"
                "起こしたことはありますか？",
            ),
        ),
        Question(
            "heart_attack_or_stroke_date",
            DATE,
            True,
            _t(
                "When did the most recent one happen?",
                "最近一次是什么时候发生的？",
                "最後に起きたのはいつですか？",
            ),
            help=_t(
                "If you do not remember the exact day, an approximate date is fine; the "
                "doctor will check it with you.",
                "如果记不清具体日期，填写大概的日期即可，医生会再和您确认。",
                "正確な日付がわからない場合は、おおよその日付で構いません。"
                "医師があらためて確認します。",
            ),
            show_if=_if_yes("heart_attack_or_stroke"),
        ),
        _yes_no(
            "uncontrolled_hypertension",
            _t(
                "Is your blood pressure often high even with treatment — for example "
                "160/100 or above — or has a doctor told you it is not well controlled?",
                "您的血压是否经常偏高（例如达到160/100 mmHg或以上，无论是否服药），"
                "或者医生是否说过您的血压控制得不好？",
                "お薬の有無にかかわらず血圧が高いことが多い（例：160/100 mmHg以上）、"
                "または医師から血圧のコントロールが十分でないと言われていますか？",
            ),
        ),
        _yes_no(
            "severe_anaemia",
            _t(
                "Has a doctor recently told you that you have severe anaemia (a very low "
                "blood count)?",
                "最近医生是否告诉过您患有严重贫血（血红蛋白明显偏低）？",
                "最近、医師から重い貧血（ヘモグロビンがかなり低い状態）と言われたことは"
                "ありますか？",
            ),
        ),
    ),
)

_PAGE_CANCER_INFECTION = Page(
    "cancer_infection",
    _t("Cancer and infections", "肿瘤与感染", "がん・感染症について"),
    (
        _yes_no(
            "malignancy_history",
            _t(
                "Have you ever had cancer or another malignant tumour (including leukaemia "
                "or lymphoma)?",
                "您是否曾经患过癌症或其他恶性肿瘤（包括白血病、淋巴瘤）？",
                "これまでに、がんなどの悪性腫瘍（白血病・悪性リンパ腫を含む）にかかったことは"
                "ありますか？",
            ),
        ),
        _yes_no(
            "malignancy_active",
            _t(
                "Is the cancer still present, or are you still having treatment for it "
                "(such as surgery, chemotherapy, radiotherapy or hormone therapy)?",
                "目前肿瘤是否仍然存在，或者您是否仍在接受治疗（如手术、化疗、放疗或内分泌治疗）？",
                "現在もがんが残っている、または治療（手術・抗がん剤・放射線・ホルモン療法など）"
                "を続けていますか？",
            ),
            show_if=_if_yes("malignancy_history"),
        ),
        Question(
            "malignancy_when",
            NUMBER,
            True,
            _t(
                "In which year did your last cancer treatment finish?",
                "您最后一次肿瘤治疗是在哪一年结束的？",
                "最後のがん治療が終わったのは何年ですか？",
            ),
            help=_t(
                "Please enter the year, for example 2018.",
                "请填写年份，例如 2018。",
                "西暦でご記入ください（例：2018）。",
            ),
            show_if=(
                Condition("malignancy_history", (YES,)),
                Condition("malignancy_active", (NO,)),
            ),
            min_value=1900,
            unit=UNIT_YEAR,
        ),
        _yes_no(
            "active_infection",
            _t(
                "Do you have an infection at the moment — for example a fever, or an "
                "infection you are taking antibiotics or antiviral medicine for?",
                "您目前是否有感染？例如正在发烧，或正在因感染服用抗生素或抗病毒药物。",
                "現在、感染症にかかっていますか？（例：熱がある、感染症のために抗生物質や"
                "抗ウイルス薬を飲んでいる）",
            ),
        ),
    ),
)

_PAGE_MEDICATION_ALLERGIES = Page(
    "medication_allergies",
    _t("Medicines and allergies", "用药与过敏", "お薬とアレルギー"),
    (
        Question(
            "current_medication",
            TEXT,
            False,
            _t(
                "Which medicines, supplements or herbal remedies do you take regularly? "
                "Please include the dose if you know it.",
                "您目前常规服用哪些药物、保健品或中药？如知道剂量，请一并填写。",
                "普段飲んでいるお薬、サプリメント、漢方薬があればお書きください。"
                "わかれば量も添えてください。",
            ),
            help=_OPTIONAL_EMPTY,
        ),
        _yes_no(
            "anticoagulant_use",
            _t(
                "Do you take any medicine that thins the blood or prevents clots — for "
                "example warfarin, apixaban, rivaroxaban, edoxaban, dabigatran, aspirin "
                "or clopidogrel?",
                "您是否在服用抗凝药或抗血小板药（俗称“抗血栓药”）？例如华法林、阿哌沙班、"
                "利伐沙班、依度沙班、达比加群、阿司匹林或氯吡格雷。",
                "血液をサラサラにするお薬（抗凝固薬・抗血小板薬）を飲んでいますか？"
                "（例：ワーファリン、エリキュース、イグザレルト、リクシアナ、プラザキサ、"
                "バイアスピリン、プラビックス）",
            ),
        ),
        _yes_no(
            "allergy_local_anaesthetic",
            _t(
                "Have you ever had an allergic reaction to a local anaesthetic such as "
                "lidocaine (for example at the dentist)?",
                "您是否曾对局部麻醉药（如利多卡因，包括看牙时用的麻药）发生过过敏反应？",
                "局所麻酔薬（リドカイン〈キシロカイン〉など。歯科の麻酔を含む）で"
                "アレルギー反応が出たことはありますか？",
            ),
        ),
        _yes_no(
            "allergy_bovine_serum",
            _t(
                "Are you allergic to bovine (cow) serum or other products made from cattle?",
                "您是否对牛血清或其他牛源性制品过敏？",
                "牛の血清など、牛由来の成分にアレルギーはありますか？",
            ),
        ),
        _yes_no(
            "allergy_antibiotics",
            _t(
                "Are you allergic to any antibiotic, for example penicillin, streptomycin "
                "or gentamicin?",
                "您是否对任何抗生素过敏？例如青霉素、链霉素或庆大霉素。",
                "抗生物質（ペニシリン、ストレプトマイシン、ゲンタマイシンなど）に"
                "アレルギーはありますか？",
            ),
        ),
        Question(
            "other_allergies",
            TEXT,
            False,
            _t(
                "Do you have any other allergies (medicines, foods, latex, plasters)? "
                "Please tell us what happened.",
                "您是否还有其他过敏（药物、食物、乳胶、胶布等）？请写明过敏时出现的反应。",
                "その他のアレルギー（お薬、食べ物、ラテックス、絆創膏など）があれば、"
                "どのような症状が出たかも含めてお書きください。",
            ),
            help=_OPTIONAL_EMPTY,
        ),
    ),
)

_PAGE_ABOUT_YOU = Page(
    "about_you",
    _t("About you", "您的基本情况", "あなたご自身について"),
    (
        _yes_no(
            "pregnant_or_breastfeeding",
            _t(
                "Are you pregnant, could you be pregnant, or are you breastfeeding?",
                "您目前是否怀孕、可能怀孕，或正在哺乳？",
                "現在、妊娠中、妊娠の可能性がある、または授乳中ですか？",
            ),
            help_=_t(
                "We ask everyone this question. If it does not apply to you, please answer No.",
                "这个问题我们会询问每一位患者。如不适用，请选择“否”。",
                "皆さまにお伺いしている質問です。該当しない方は「いいえ」をお選びください。",
            ),
        ),
        Question(
            "height_cm",
            NUMBER,
            False,
            _t("Your height in centimetres", "身高（厘米）", "身長（cm）"),
            min_value=100,
            max_value=250,
            unit="cm",
        ),
        Question(
            "weight_kg",
            NUMBER,
            False,
            _t("Your weight in kilograms", "体重（公斤）", "体重（kg）"),
            min_value=25,
            max_value=300,
            unit="kg",
        ),
    ),
)

_PAGE_LIFESTYLE = Page(
    "lifestyle",
    _t("Daily life", "生活习惯", "生活習慣"),
    (
        Question(
            "smoking",
            CHOICE,
            True,
            _t("Do you smoke?", "您吸烟吗？", "たばこを吸いますか？"),
            choices=(
                Choice("never", _t("I have never smoked", "从不吸烟", "吸ったことがない")),
                Choice(
                    "former",
                    _t(
                        "I used to smoke, but I have stopped",
                        "以前吸烟，现已戒烟",
                        "以前吸っていたが、今はやめている",
                    ),
                ),
                Choice("current", _t("I smoke now", "目前吸烟", "現在吸っている")),
            ),
        ),
        Question(
            "alcohol",
            CHOICE,
            True,
            _t(
                "How often do you drink alcohol?",
                "您饮酒的频率是？",
                "お酒はどのくらい飲みますか？",
            ),
            choices=(
                Choice("none", _t("I don't drink", "不饮酒", "飲まない")),
                Choice(
                    "occasional",
                    _t(
                        "Now and then (a few times a month or less)",
                        "偶尔（每月几次或更少）",
                        "ときどき（月に数回以下）",
                    ),
                ),
                Choice("weekly", _t("Most weeks", "每周都喝", "週に何回か")),
                Choice("daily", _t("Almost every day", "几乎每天", "ほぼ毎日")),
            ),
        ),
    ),
)

DEFAULT_QUESTION_SET = QuestionSet(
    version=1,
    pages=(
        _PAGE_INDICATION,
        _PAGE_HISTORY,
        _PAGE_HEART_BLOOD,
        _PAGE_CANCER_INFECTION,
        _PAGE_MEDICATION_ALLERGIES,
        _PAGE_ABOUT_YOU,
        _PAGE_LIFESTYLE,
    ),
)


# --------------------------------------------------------------------------- consistency


def check_question_set(question_set: QuestionSet) -> tuple[str, ...]:
    """Problems that make a (clinic-edited) question set unusable; empty when fine."""
    problems: list[str] = []
    seen: dict[str, Question] = {}
    page_codes = [page.code for page in question_set.pages]
    if len(set(page_codes)) != len(page_codes):
        problems.append("page codes are not unique")
    for page in question_set.pages:
        problems.extend(_text_problems(f"page {page.code}", page.title))
        for question in page.questions:
            if question.code in seen:
                problems.append(f"question code {question.code} is used twice")
            problems.extend(_question_problems(question, seen))
            seen[question.code] = question
    return tuple(problems)


def _text_problems(where: str, texts: Texts | None) -> list[str]:
    if texts is None:
        return []
    return [f"{where}: no {lang} text" for lang in LANGUAGES if not texts.get(lang, "").strip()]


def _question_problems(question: Question, earlier: Mapping[str, Question]) -> list[str]:
    where = f"question {question.code}"
    problems = _text_problems(where, question.text) + _text_problems(where, question.help)
    if question.kind not in KINDS:
        problems.append(f"{where}: unknown kind {question.kind}")
    if question.kind == CHOICE and not question.choices:
        problems.append(f"{where}: a choice question needs choices")
    for choice in question.choices:
        problems.extend(_text_problems(f"{where} choice {choice.code}", choice.text))
    for condition in question.show_if:
        target = earlier.get(condition.question)
        if target is None:
            problems.append(f"{where}: show_if refers to {condition.question}, not asked before")
        elif not set(condition.values) <= set(_possible_values(target)):
            problems.append(f"{where}: show_if values {condition.values} are not possible")
    return problems


def _possible_values(question: Question) -> tuple[str, ...]:
    if question.kind == YES_NO:
        return (YES, NO)
    return question.choice_codes()


# --------------------------------------------------------------------------- answers


def answer_text(value: Any) -> str:
    """An answer as normalised text: booleans become yes/no, full-width forms are folded."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    return unicodedata.normalize("NFKC", str(value)).strip()


def is_answered(value: Any) -> bool:
    return answer_text(value) != ""


def visible_questions(
    question_set: QuestionSet, answers: Mapping[str, Any], page_code: str | None = None
) -> tuple[Question, ...]:
    """Questions to ask, in order, honouring ``show_if``.

    An answer to a hidden question is ignored (as if unanswered), so questions that
    depend on it are hidden too.
    """
    asked: dict[str, Any] = {}
    visible: list[tuple[str, Question]] = []
    for page in question_set.pages:
        for question in page.questions:
            if not question.is_shown(asked):
                continue
            visible.append((page.code, question))
            if is_answered(answers.get(question.code)):
                asked[question.code] = answers[question.code]
    return tuple(q for code, q in visible if page_code is None or code == page_code)


def progress(question_set: QuestionSet, answers: Mapping[str, Any]) -> tuple[int, int]:
    """``(answered_required, total_required)`` over the questions currently asked."""
    required = [q for q in visible_questions(question_set, answers) if q.required]
    answered = sum(1 for q in required if is_answered(answers.get(q.code)))
    return answered, len(required)


MSG_REQUIRED = N_("Please answer this question.")
MSG_YES_NO = N_("Please choose Yes or No.")
MSG_CHOICE = N_("Please choose one of the options.")
MSG_DATE_FORMAT = N_("Please enter the date as year-month-day, for example 2024-03-15.")
MSG_DATE_FUTURE = N_("This date cannot be in the future.")
MSG_DATE_TOO_OLD = N_("Please check this date; it seems too far in the past.")
MSG_NUMBER_FORMAT = N_("Please enter a number using digits only.")
MSG_NUMBER_RANGE = N_("Please check this number; it is outside the range we would expect.")
MSG_YEAR_FORMAT = N_("Please enter a four-digit year, for example 2018.")
MSG_YEAR_FUTURE = N_("This year cannot be in the future.")
MSG_TEXT_TOO_LONG = N_("This answer is too long; please shorten it a little.")

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMBER_RE = re.compile(r"[+-]?\d+(\.\d+)?")
_YEAR_RE = re.compile(r"\d{4}")

_Parsed = tuple[Any, str | None]


def validate_answers(
    question_set: QuestionSet,
    page_code: str,
    raw: Mapping[str, Any],
    *,
    today: date | None = None,
    previous: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Check the shape of one page's answers.

    ``raw`` is the submitted form (unknown keys are ignored). ``previous`` holds clean
    answers from other pages, for ``show_if`` conditions that look across pages.
    Returns ``(clean, errors)``: ``clean`` has a JSON value for every answered visible
    question of the page (hidden and unanswered questions are absent, so ``clean``
    replaces the page's earlier answers); ``errors`` maps question code to an English
    message wrapped in ``N_``.
    """
    page = question_set.page(page_code)
    today = today or date.today()
    own_codes = {q.code for q in page.questions}
    context = {k: v for k, v in (previous or {}).items() if k not in own_codes}
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for question in page.questions:
        if not question.is_shown(context):
            continue
        value, error = _check_one(question, raw.get(question.code), today)
        if error:
            errors[question.code] = error
        elif value is not None:
            clean[question.code] = context[question.code] = value
    return clean, errors


def _check_one(question: Question, raw_value: Any, today: date) -> _Parsed:
    if question.kind == TEXT:
        text = "" if raw_value is None else str(raw_value).strip()
    else:
        text = answer_text(raw_value)
    if not text:
        return None, MSG_REQUIRED if question.required else None
    return _PARSERS[question.kind](question, text, today)


def _parse_yes_no(question: Question, text: str, today: date) -> _Parsed:
    value = text.lower()
    return (value, None) if value in (YES, NO) else (None, MSG_YES_NO)


def _parse_choice(question: Question, text: str, today: date) -> _Parsed:
    return (text, None) if text in question.choice_codes() else (None, MSG_CHOICE)


def _parse_date(question: Question, text: str, today: date) -> _Parsed:
    if not _DATE_RE.fullmatch(text):
        return None, MSG_DATE_FORMAT
    try:
        value = date.fromisoformat(text)
    except ValueError:
        return None, MSG_DATE_FORMAT
    if value > today:
        return None, MSG_DATE_FUTURE
    if value < EARLIEST_DATE:
        return None, MSG_DATE_TOO_OLD
    return value.isoformat(), None


def _parse_number(question: Question, text: str, today: date) -> _Parsed:
    if question.unit == UNIT_YEAR:
        return _parse_year(question, text, today)
    if not _NUMBER_RE.fullmatch(text):
        return None, MSG_NUMBER_FORMAT
    value: int | float = float(text) if "." in text else int(text)
    if not _within(question, value):
        return None, MSG_NUMBER_RANGE
    return value, None


def _parse_year(question: Question, text: str, today: date) -> _Parsed:
    if not _YEAR_RE.fullmatch(text):
        return None, MSG_YEAR_FORMAT
    value = int(text)
    if value > today.year:
        return None, MSG_YEAR_FUTURE
    if not _within(question, value):
        return None, MSG_NUMBER_RANGE
    return value, None


def _within(question: Question, value: float) -> bool:
    low_ok = question.min_value is None or value >= question.min_value
    high_ok = question.max_value is None or value <= question.max_value
    return low_ok and high_ok


def _parse_text(question: Question, text: str, today: date) -> _Parsed:
    return (text, None) if len(text) <= TEXT_MAX_LENGTH else (None, MSG_TEXT_TOO_LONG)


_PARSERS = {
    YES_NO: _parse_yes_no,
    CHOICE: _parse_choice,
    DATE: _parse_date,
    NUMBER: _parse_number,
    TEXT: _parse_text,
}
