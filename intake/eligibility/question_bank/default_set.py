"""The default question set (version 1): what the clinic asks, in the three
languages. Pure data."""

from __future__ import annotations

from typing import Any

from intake.eligibility.question_bank.indications import INDICATION_OTHER, INDICATIONS
from intake.eligibility.question_bank.model import (
    CHOICE,
    DATE,
    NO,
    NUMBER,
    TEXT,
    UNIT_YEAR,
    YES,
    YES_NO,
    Choice,
    Condition,
    Page,
    Question,
    QuestionSet,
    Texts,
    _t,
)


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
