"""Version 1 of the clinic's consent documents in English, Simplified Chinese and
Japanese. Pure data: ``services.ensure_reference_data`` publishes them when the
clinic has none, and a manager publishes later versions from the app.

A body is plain text. Blocks are separated by a blank line; a block starting
with ``## `` is a heading and lines starting with ``- `` are list items.
Each paragraph is one line, so the prose lines are long.
"""

# ruff: noqa: E501

from __future__ import annotations

TREATMENT = "treatment"
CROSS_BORDER = "cross_border"

TREATMENT_EN = """\
Please read this document carefully. A doctor has explained it to you at your consultation, and you can ask us any question before or after signing.

## 1. What the treatment is
The treatment uses your own cells. Under local anaesthetic, a doctor makes a small cut of about 5 mm near your navel (or on the buttock) and takes 2 to 3 pieces of fat the size of a grain of rice. It takes about 10 minutes and needs no stitches. On the same day about 50 mL of blood is drawn to make the serum in which your cells are grown.

In our cell processing centre (CPC), stem cells from the fat (adipose-derived mesenchymal stromal cells) are grown for about 4 to 6 weeks. Before release they must pass quality checks: sterility, mycoplasma, endotoxin, viability and cell count. They are then given back to you by intravenous drip, local injection or intrathecal (spinal) injection, as planned with your doctor. The course can include several doses from one culture.

The clinic provides this treatment under Japan's Act on the Safety of Regenerative Medicine as a Class II regenerative medicine. The treatment plan was reviewed by a certified committee for regenerative medicine and filed with the Ministry of Health, Labour and Welfare.

## 2. Expected effects
The aim is to improve your symptoms or slow your condition, alongside your usual treatment. Effects differ from person to person: some people notice a clear improvement, some little or none. Changes may take weeks or months to appear and may not last. This treatment is not a cure and we cannot promise any result. Your doctor has told you what is known for your condition and how strong the evidence is.

## 3. Risks and side effects
- Fat collection: pain, bruising, bleeding, infection at the cut and a small scar; rarely an allergic reaction to the local anaesthetic.
- Blood draw: bruising, feeling faint or fainting.
- Administration: fever, headache, tiredness or a rash for a day or two. Rarely a serious allergic reaction, or a blood clot (embolism) after an intravenous drip. An intrathecal injection can cause headache and back pain, and rarely infection (meningitis) or nerve injury.
- The cells: sometimes cells do not grow well or fail the quality checks. They are then not given to you, and we will discuss a new collection with you. Long-term risks, including an unknown risk of abnormal cell growth, cannot be completely ruled out.

After each administration we watch you for at least 30 minutes and check your vital signs. We contact you about 1 week and 1, 3 and 6 months later. Please tell us at once about any health problem. If one occurs, we will treat it and report it to the authorities as the law requires.

## 4. Alternatives
- Continue or change your standard treatment (medicines, rehabilitation, surgery or other care covered by health insurance): usually better proven, often less costly, but it may not improve your condition further.
- Take part in a clinical trial of a regenerative treatment, where one is open to you.
- Choose no additional treatment.
This treatment uses your own cells, so rejection is not expected, but its benefit is less proven than standard care. Your doctor has compared these options with you.

## 5. Your choice is free
Taking part is entirely your choice. If you decide not to take part, or not yet, you will not be treated any less well by our clinic, now or in the future.

## 6. How to withdraw
You can withdraw your consent at any time and without giving a reason, even after your cells have been collected: on the Consent page of your account, or by telling the clinic in person, by phone or by e-mail. Your treatment stops at once and nothing further is booked. Cells that will not be used are disposed of safely. Fees for steps already carried out may not be refunded (see section 8).

## 7. Privacy
Your personal and health information is used only for your treatment, for the safety checks the law requires, and for reports to the authorities and the certified committee in a form that does not identify you. It is protected under Japan's Act on the Protection of Personal Information, seen only by staff who need it, and kept securely for at least 10 years, as the law requires. You may ask to see your records or to correct them. Sending your data outside Japan needs your separate consent.

## 8. Cost
This treatment is not covered by Japanese public health insurance; you pay its full cost yourself. Before you sign, you receive a written estimate that lists the consultation, the tests, the fat collection, the cell culture, each administration and the follow-up. Travel and accommodation are not included. The estimate also explains which fees are refunded if you withdraw, or if your cells cannot be grown or fail the quality checks.

## 9. Questions
You can ask us anything at any time. Take the time you need to decide, and talk with your family if you wish.
"""

TREATMENT_ZH = """\
请仔细阅读本文件。医生已在面诊时向您说明了其中内容；签署前后，您都可以随时向我们提问。

## 1. 治疗内容
本治疗使用您自己的细胞。在局部麻醉下，医生在您的肚脐周围（或臀部）切开约5毫米的小口，取出2～3颗米粒大小的脂肪组织。整个过程约10分钟，无需缝合。同一天还会抽取约50毫升血液，用于制备培养细胞所需的血清。

在本诊所的细胞培养加工中心（CPC），从脂肪中分离出的干细胞（脂肪来源间充质基质细胞）将培养约4～6周。放行前，细胞必须通过质量检测：无菌试验、支原体、内毒素、细胞活率和细胞数量。随后按照您与医生商定的方案，通过静脉滴注、局部注射或鞘内（脊髓腔）注射回输给您。一个疗程可以使用同一次培养的细胞分多次给药。

本诊所依据日本《再生医疗等安全性确保法》，将本治疗作为第二类再生医疗提供。治疗计划已经过认定再生医疗等委员会审查，并已向日本厚生劳动省备案。

## 2. 预期效果
治疗的目的是在您现有治疗的基础上改善症状或延缓病情发展。效果因人而异：有些人改善明显，有些人变化很小甚至没有变化。效果可能需要数周至数月才会出现，也可能不会持久。本治疗不能根治疾病，我们无法保证任何效果。医生已向您说明了针对您的疾病目前已知的情况以及相关证据的充分程度。

## 3. 风险与副作用
- 采集脂肪：疼痛、淤青、出血、切口感染和小疤痕；极少数情况下对局部麻醉药过敏。
- 抽血：淤青、头晕或晕厥。
- 回输：一两天内可能出现发热、头痛、乏力或皮疹。极少数情况下可能出现严重过敏反应，或在静脉滴注后出现血栓（栓塞）。鞘内注射可能引起头痛和腰背痛，极少数情况下可能引起感染（脑膜炎）或神经损伤。
- 细胞本身：有时细胞生长不佳或未能通过质量检测，此时不会给您使用这些细胞，我们会与您商量是否重新采集。包括未知的细胞异常增殖风险在内的长期风险，目前还不能完全排除。

每次回输后，我们会观察您至少30分钟并测量生命体征。回输后约1周、1个月、3个月和6个月，我们会与您联系随访。如有任何身体不适，请立即告诉我们。一旦发生不良事件，我们会为您治疗，并依法向主管部门报告。

## 4. 其他治疗选择
- 继续或调整您的常规治疗（药物、康复、手术或其他医保范围内的治疗）：通常证据更充分、费用往往更低，但可能无法进一步改善病情。
- 如有合适的项目，参加再生医疗的临床试验。
- 不进行额外治疗。
本治疗使用您自己的细胞，一般不会发生排斥反应，但其疗效证据不如常规治疗充分。医生已与您一起比较了以上各种选择。

## 5. 您可以自由决定
是否接受本治疗完全由您自己决定。如果您决定不接受或暂时不接受，您在本诊所现在和将来所得到的诊疗都不会因此受到任何影响。

## 6. 如何撤回同意
您可以随时撤回同意，无需说明理由，即使在细胞已经采集之后也可以：在您账户的“同意书”页面操作，或者当面、电话或电子邮件告知诊所。治疗将立即停止，不会再安排任何预约。不再使用的细胞将被安全销毁。已经完成的步骤所产生的费用可能无法退还（见第8条）。

## 7. 隐私保护
您的个人信息和健康信息仅用于您的治疗、法律要求的安全性检查，以及以无法识别您身份的形式向主管部门和认定委员会提交的报告。这些信息受日本《个人信息保护法》保护，仅有需要的工作人员才能查看，并按照法律要求安全保存至少10年。您可以要求查阅或更正您的记录。将您的信息传输到日本境外，需要您另行单独同意。

## 8. 费用
本治疗不属于日本公共医疗保险的范围，全部费用由您自行承担。签署前，您会收到一份书面费用估算，列明面诊、检查、脂肪采集、细胞培养、每次回输以及随访的费用。往返交通和住宿费用不包括在内。估算中还说明了在您撤回同意、细胞无法培养或未通过质量检测时，哪些费用可以退还。

## 9. 咨询
您可以随时向我们提出任何问题。请在充分考虑后再做决定，如有需要，也可以先与家人商量。
"""

TREATMENT_JA = """\
この説明書をよくお読みください。内容は診察の際に医師からご説明しています。署名の前でも後でも、いつでもご質問いただけます。

## 1. 治療の内容
この治療では、あなたご自身の細胞を使います。局所麻酔をしたうえで、医師がおへその周り（またはお尻）を約5ミリ切開し、米粒大の脂肪を2～3粒採取します。所要時間は約10分で、縫合は不要です。同じ日に、細胞の培養に使う血清をつくるため約50 mLの採血を行います。

当院の細胞培養加工施設（CPC）で、脂肪から取り出した幹細胞（脂肪由来間葉系間質細胞）を約4～6週間培養します。出荷の前に、無菌試験・マイコプラズマ・エンドトキシン・生存率・細胞数の品質検査に合格する必要があります。その後、医師と決めた方法（点滴、局所注射、または髄腔内〈くも膜下腔〉への注射）であなたの体に戻します。1回の培養から複数回に分けて投与することがあります。

当院はこの治療を「再生医療等の安全性の確保等に関する法律」に基づく第二種再生医療等として提供しています。治療計画は特定認定再生医療等委員会の審査を受け、厚生労働省に提出済みです。

## 2. 期待される効果
現在受けている治療に加えて、症状の改善や進行を遅らせることを目指します。効果には個人差があり、はっきり改善する方もいれば、ほとんど変化のない方もいます。効果が現れるまで数週間から数か月かかることがあり、持続しない場合もあります。この治療は病気を根本的に治すものではなく、効果をお約束することはできません。あなたのご病気についてわかっていることと、その根拠の確かさは、医師からご説明しています。

## 3. 危険性と副作用
- 脂肪の採取：痛み、内出血、出血、傷の感染、小さな傷あと。まれに局所麻酔薬へのアレルギー反応。
- 採血：内出血、気分不良や失神。
- 投与：1～2日の発熱、頭痛、だるさ、発疹。まれに重いアレルギー反応や、点滴の後の血栓（塞栓症）。髄腔内投与では頭痛や腰痛、まれに感染（髄膜炎）や神経の損傷が起こることがあります。
- 細胞について：細胞がうまく増えない、または品質検査に合格しないことがあります。その場合は投与せず、再度の採取についてご相談します。細胞が異常に増える危険性など、長期的な危険性を完全に否定することはできません。

投与のたびに少なくとも30分間経過を観察し、バイタルサインを確認します。投与の約1週間後、1か月後、3か月後、6か月後にご連絡します。体調の変化があればすぐにお知らせください。万一の場合は治療を行い、法律に従って行政に報告します。

## 4. ほかの治療法
- 現在の標準的な治療（お薬、リハビリ、手術など、保険診療）を続ける、または変更する：一般に効果の根拠が確かで費用も抑えられることが多い一方、それ以上の改善が得られない場合があります。
- 参加できる臨床試験があれば、再生医療の臨床試験に参加する。
- 追加の治療を受けない。
この治療はご自身の細胞を使うため拒絶反応は起こりにくいと考えられますが、効果の根拠は標準的な治療ほど確立していません。これらの選択肢は医師があなたと比較してご説明しています。

## 5. 自由な意思で決めてください
治療を受けるかどうかは、あなたの自由な意思で決めてください。受けない、またはいまは受けないと決めても、当院での診療において、現在も将来も不利益を受けることは一切ありません。

## 6. 同意の撤回
細胞の採取後であっても、理由を述べることなく、いつでも同意を撤回できます。アカウントの「同意書」ページから、または来院・電話・メールで当院にお伝えください。治療はただちに中止され、以後の予約は行いません。使用しない細胞は安全に廃棄します。すでに行った処置の費用は返金できない場合があります（第8項をご覧ください）。

## 7. 個人情報の保護
あなたの個人情報と健康情報は、あなたの治療、法律で定められた安全性の確認、ならびに個人が特定されない形での行政および認定委員会への報告にのみ使用します。個人情報の保護に関する法律に基づいて保護し、必要な職員だけが閲覧し、法律に従って少なくとも10年間安全に保管します。記録の開示や訂正を求めることができます。日本国外へ情報を提供するには、別途あなたの同意が必要です。

## 8. 費用
この治療は公的医療保険の対象外であり、費用は全額自己負担です。署名の前に、診察、検査、脂肪の採取、細胞培養、各回の投与、経過観察の費用を記載した見積書をお渡しします。交通費と宿泊費は含まれません。同意を撤回した場合、細胞が培養できなかった場合、品質検査に合格しなかった場合に返金される費用についても、見積書に記載しています。

## 9. ご質問
いつでも何でもご質問ください。決めるまでに必要なだけ時間をとり、ご希望であればご家族とご相談ください。
"""

CROSS_BORDER_EN = """\
This consent is separate from your consent to the treatment. You may refuse it, and you may withdraw it at any time.

## 1. What is sent
Your name, date of birth and contact details; your answers to the health questions; your test results; your appointments; and the records of your treatment and follow-up.

## 2. To whom, where and why
- Our patient coordination office in the People's Republic of China, which helps patients travelling from mainland China with appointments, travel and interpreting.
- The doctors who care for you in your country of residence, when you ask us to share your results with them.
- Our e-mail and secure data-storage service providers, whose servers may be located outside Japan.
Each recipient may use your data only for these purposes, under a written contract with our clinic that requires protection equivalent to Japanese law.

## 3. Protection in those countries
The rules on personal information in the receiving countries can differ from Japan's. In the People's Republic of China, personal information is protected by the Personal Information Protection Law. On request we tell you, for each recipient, the country, its system for protecting personal information and the measures the recipient takes.

## 4. Your choice
Coordinating your care across borders needs this consent; without it we cannot continue with your treatment journey. Declining brings no other disadvantage.

## 5. How to withdraw
You can withdraw this consent at any time on the Consent page of your account, or by telling the clinic. We then stop sending your data abroad and ask the recipients to stop using it and to delete it where the law allows. Your treatment journey stops until you consent again.

## 6. Contact
If you have any question about how your data is handled, please ask the clinic's privacy officer at the reception or by e-mail.
"""

CROSS_BORDER_ZH = """\
本同意独立于您对治疗的同意。您可以拒绝，也可以随时撤回。

## 1. 传输哪些信息
您的姓名、出生日期和联系方式；您对健康问卷的回答；检查结果；预约信息；以及治疗和随访记录。

## 2. 接收方、所在地及目的
- 本诊所在中华人民共和国的患者协调办公室：协助从中国大陆前来的患者安排预约、出行和翻译。
- 您所在国家或地区为您诊治的医生：在您要求我们向其提供检查结果时。
- 本诊所使用的电子邮件和安全数据存储服务提供商：其服务器可能位于日本境外。
各接收方只能为上述目的使用您的信息，并须遵守与本诊所签订的书面合同，合同要求其提供与日本法律同等水平的保护。

## 3. 接收国的保护制度
接收国关于个人信息的规定可能与日本不同。在中华人民共和国，个人信息受《个人信息保护法》保护。如您需要，我们会告知每个接收方所在的国家、该国的个人信息保护制度以及接收方采取的保护措施。

## 4. 您的选择
跨境协调您的诊疗需要本同意；没有本同意，我们将无法继续您的治疗流程。拒绝不会给您带来其他任何不利影响。

## 5. 如何撤回
您可以随时在您账户的“同意书”页面撤回本同意，或告知诊所。撤回后，我们将停止向境外传输您的信息，并要求接收方停止使用，在法律允许的范围内删除相关信息。在您重新同意之前，您的治疗流程将暂停。

## 6. 联系方式
如对您的信息处理方式有任何疑问，请在前台或通过电子邮件联系本诊所的个人信息保护负责人。
"""

CROSS_BORDER_JA = """\
この同意は、治療への同意とは別のものです。同意しないことも、いつでも撤回することもできます。

## 1. 提供する情報
氏名、生年月日、連絡先、健康に関する質問へのご回答、検査結果、予約情報、治療と経過観察の記録。

## 2. 提供先・所在国・目的
- 中華人民共和国にある当院の患者コーディネート窓口：中国大陸からお越しの患者さまの予約、渡航、通訳をお手伝いします。
- お住まいの国であなたを診ている医師：あなたが検査結果の共有を希望された場合。
- 当院が利用する電子メールおよび安全なデータ保管サービスの事業者：サーバーが日本国外にある場合があります。
各提供先は、日本の法律と同等の保護を求める当院との書面による契約のもとで、上記の目的にのみ情報を使用します。

## 3. 提供先の国における保護制度
提供先の国の個人情報に関する制度は、日本と異なる場合があります。中華人民共和国では、個人情報は「個人情報保護法」により保護されています。ご希望があれば、提供先ごとに、所在国、その国の個人情報保護制度、提供先が講じている措置をお知らせします。

## 4. あなたの選択
国境を越えて診療を調整するためにはこの同意が必要であり、同意がない場合は治療の手続きを進めることができません。それ以外の不利益はありません。

## 5. 撤回の方法
アカウントの「同意書」ページから、または当院にお伝えいただくことで、いつでもこの同意を撤回できます。撤回後は国外への提供を停止し、提供先に利用の停止と、法律で認められる範囲での削除を求めます。再び同意されるまで、治療の手続きは停止します。

## 6. お問い合わせ
情報の取り扱いについてご質問があれば、受付または電子メールで当院の個人情報保護担当者にお尋ねください。
"""

#: (kind, locale) -> (title, body) for version 1.
DOCUMENTS: dict[tuple[str, str], tuple[str, str]] = {
    (TREATMENT, "en"): (
        "Consent to treatment with your own adipose-derived stem cells",
        TREATMENT_EN,
    ),
    (TREATMENT, "zh_Hans"): ("自体脂肪干细胞治疗知情同意书", TREATMENT_ZH),
    (TREATMENT, "ja"): ("自己脂肪由来幹細胞治療についての同意書", TREATMENT_JA),
    (CROSS_BORDER, "en"): ("Consent to sending your personal data abroad", CROSS_BORDER_EN),
    (CROSS_BORDER, "zh_Hans"): ("个人信息跨境传输同意书", CROSS_BORDER_ZH),
    (CROSS_BORDER, "ja"): ("個人情報の外国への提供についての同意書", CROSS_BORDER_JA),
}
