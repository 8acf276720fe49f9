"""A course as one FHIR R4 ``Bundle`` of type ``collection``. Pure.

``course_bundle(record, now=...)`` maps a ``CourseRecord`` to FHIR JSON
(plain dicts): the ``Patient``, an ``Appointment`` per visit, a
``Questionnaire`` per question-set version answered and the
``QuestionnaireResponse`` (and the follow-up contacts' answers, each a
``QuestionnaireResponse`` part of its administration), a ``Consent`` per
signature (and one more for each withdrawal), ``Observation`` for the panel
results, the vital signs, the cell counts, viability and QC results, a
``Specimen`` for the tissue and the blood collected, a
``BiologicallyDerivedProduct`` per culture batch (identified by its
chain-of-identity number), a ``Procedure`` for each collection and each
administration, and the ``AdverseEvent`` rows.

Ids are deterministic (``p-12``, ``a-34`` …) and every entry's ``fullUrl`` is
a ``urn:uuid:`` derived from the clinic's address and the resource's key
(UUID version 5), so the same record always has the same address and every
reference inside the bundle resolves to an entry's ``fullUrl``.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from intake.eligibility.question_bank import CHOICE, DATE, NUMBER, YES_NO, QuestionSet, answer_text
from intake.eligibility.question_bank import DEFAULT_LANGUAGE as QB_DEFAULT_LANGUAGE
from intake.fhir import codes
from intake.fhir.record import (
    AdministrationData,
    AdverseEventData,
    BatchData,
    BatchEventData,
    ConsentData,
    CourseRecord,
    FollowUpData,
    PanelResultData,
    PatientData,
    QuestionnaireData,
    VisitData,
    VitalsData,
)
from intake.reinfusion import aftercare

# --------------------------------------------------------------------------- addresses


def full_url(base: str, key: str) -> str:
    """The entry's address: ``urn:uuid:`` of UUID 5 over the clinic's address
    and ``key`` (``Patient/p-12``)."""
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, base.rstrip("/"))
    return f"urn:uuid:{uuid.uuid5(namespace, key)}"


class _Bundle:
    def __init__(self, base: str):
        self.base = base
        self.entries: list[dict] = []

    def ref(self, resource_type: str, resource_id: str) -> dict:
        return {"reference": full_url(self.base, f"{resource_type}/{resource_id}")}

    def add(self, resource: dict) -> dict:
        key = f"{resource['resourceType']}/{resource['id']}"
        self.entries.append({"fullUrl": full_url(self.base, key), "resource": resource})
        return resource


def instant(value: datetime) -> str:
    """An aware date-time in FHIR form (a naive one is taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _date(value: date) -> str:
    return value.isoformat()


def _number(value: Decimal | float | int):
    """JSON numbers: integers stay integers, decimals become floats."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _concept(codings: list[dict], text: str | None = None) -> dict:
    concept: dict = {"coding": codings}
    if text:
        concept["text"] = text
    return concept


# --------------------------------------------------------------------------- the patient


def _name(family: str | None, given: str | None) -> dict | None:
    family, given = (family or "").strip(), (given or "").strip()
    if not family and not given:
        return None
    name: dict = {"use": "official"}
    if family:
        name["family"] = family
    if given:
        name["given"] = [given]
    return name


def _is_latin(text: str) -> bool:
    return all(ord(ch) < 0x0250 for ch in text)


def _representation(code: str) -> list[dict]:
    return [{"url": codes.NAME_REPRESENTATION, "valueCode": code}]


def organization_resource(b: _Bundle, name: str) -> dict:
    """The clinic that holds the record."""
    return b.add(
        {
            "resourceType": "Organization",
            "id": "clinic",
            "identifier": [
                {"system": codes.clinic_naming(b.base, "organization"), "value": "clinic"}
            ],
            "active": True,
            "name": name,
        }
    )


def patient_resource(b: _Bundle, patient: PatientData) -> dict:
    resource: dict = {"resourceType": "Patient", "id": f"p-{patient.id}"}
    identifiers = [{"system": codes.clinic_naming(b.base, "patient-id"), "value": str(patient.id)}]
    if patient.record_number:
        identifiers.insert(
            0,
            {
                "use": "official",
                "type": {"text": "Medical record number"},
                "system": codes.clinic_naming(b.base, "record-number"),
                "value": patient.record_number,
            },
        )
    resource["identifier"] = identifiers
    names = []
    own = _name(patient.family_name, patient.given_name)
    if own is not None:
        own_text = f"{patient.family_name}{patient.given_name}"
        own["extension"] = _representation("ABC" if _is_latin(own_text) else "IDE")
        names.append(own)
    latin = _name(patient.family_name_latin, patient.given_name_latin)
    if latin is not None and latin != _name(patient.family_name, patient.given_name):
        latin["extension"] = _representation("ABC")
        names.append(latin)
    if names:
        resource["name"] = names
    telecom = []
    if patient.phone:
        telecom.append({"system": "phone", "value": patient.phone})
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    if telecom:
        resource["telecom"] = telecom
    resource["gender"] = codes.gender(patient.sex)
    if patient.date_of_birth:
        resource["birthDate"] = _date(patient.date_of_birth)
    resource["communication"] = [
        {
            "language": _concept(
                [{"system": codes.BCP47, "code": codes.language_tag(patient.locale)}]
            ),
            "preferred": True,
        }
    ]
    resource["managingOrganization"] = b.ref("Organization", "clinic")
    if patient.nationality:
        resource["extension"] = [
            {
                "url": codes.NATIONALITY,
                "extension": [
                    {
                        "url": "code",
                        "valueCodeableConcept": _concept(
                            [{"system": codes.ISO3166, "code": patient.nationality}]
                        ),
                    }
                ],
            }
        ]
    return b.add(resource)


# --------------------------------------------------------------------------- visits


def appointment_resource(b: _Bundle, visit: VisitData, patient_id: str) -> dict:
    resource: dict = {
        "resourceType": "Appointment",
        "id": f"a-{visit.id}",
        "status": codes.APPOINTMENT_STATUS.get(visit.status, "booked"),
        "serviceType": [
            _concept(
                [
                    {
                        "system": codes.clinic_system(b.base, "visit-kinds"),
                        "code": visit.kind,
                    },
                    {
                        "system": codes.clinic_system(b.base, "visit-types"),
                        "code": visit.type_code,
                        "display": visit.type_name,
                    },
                ],
                visit.type_name,
            )
        ],
        "start": instant(visit.start_at),
        "end": instant(visit.end_at),
        "participant": [
            {"actor": b.ref("Patient", patient_id), "required": "required", "status": "accepted"}
        ],
    }
    if visit.status == "cancelled" and visit.cancel_reason:
        resource["cancelationReason"] = {"text": visit.cancel_reason}
    return b.add(resource)


# --------------------------------------------------------------------------- questionnaires


def questionnaire_url(base: str) -> str:
    return f"{base.rstrip('/')}/fhir/Questionnaire/intake"


def _translations(texts, lang: str) -> dict | None:
    """The ``_text`` element with the other languages' texts (FHIR translation
    extension)."""
    others = [
        {
            "url": codes.TRANSLATION,
            "extension": [
                {"url": "lang", "valueCode": codes.language_tag(other)},
                {"url": "content", "valueString": value},
            ],
        }
        for other, value in texts.items()
        if other != lang and value
    ]
    return {"extension": others} if others else None


def _text(texts, lang: str) -> str:
    return texts.get(lang) or texts.get(QB_DEFAULT_LANGUAGE) or next(iter(texts.values()), "")


_ITEM_TYPE = {YES_NO: "choice", CHOICE: "choice", DATE: "date", NUMBER: "decimal"}


def _choices(base: str, question) -> list[dict]:
    if question.kind == YES_NO:
        return [
            {"valueCoding": {"system": codes.clinic_system(base, "yes-no"), "code": code}}
            for code in ("yes", "no")
        ]
    return [
        {
            "valueCoding": {
                "system": codes.clinic_system(base, f"question-{question.code}"),
                "code": choice.code,
                "display": _text(choice.text, QB_DEFAULT_LANGUAGE),
            }
        }
        for choice in question.choices
    ]


def questionnaire_resource(b: _Bundle, version: int, data: QuestionSet) -> dict:
    lang = QB_DEFAULT_LANGUAGE

    def text_fields(texts) -> dict:
        fields = {"text": _text(texts, lang)}
        translations = _translations(texts, lang)
        if translations:
            fields["_text"] = translations
        return fields

    pages = []
    for page in data.pages:
        items = []
        for question in page.questions:
            item = {
                "linkId": question.code,
                **text_fields(question.text),
                "type": _ITEM_TYPE.get(question.kind, "text"),
                "required": bool(question.required),
            }
            if question.kind in (YES_NO, CHOICE):
                item["answerOption"] = _choices(b.base, question)
            items.append(item)
        pages.append(
            {"linkId": page.code, **text_fields(page.title), "type": "group", "item": items}
        )
    return b.add(
        {
            "resourceType": "Questionnaire",
            "id": f"qs-v{version}",
            "url": questionnaire_url(b.base),
            "version": str(version),
            "name": "IntakeQuestionnaire",
            "title": "Eligibility questionnaire",
            "status": "active",
            "subjectType": ["Patient"],
            "language": codes.language_tag(lang),
            "item": pages,
        }
    )


def _answer(base: str, question, value) -> dict | None:
    text = answer_text(value)
    if not text:
        return None
    if question.kind in (YES_NO, CHOICE):
        system = (
            codes.clinic_system(base, "yes-no")
            if question.kind == YES_NO
            else codes.clinic_system(base, f"question-{question.code}")
        )
        coding = {"system": system, "code": text}
        for choice in question.choices:
            if choice.code == text:
                coding["display"] = _text(choice.text, QB_DEFAULT_LANGUAGE)
        return {"valueCoding": coding}
    if question.kind == NUMBER:
        try:
            return {"valueDecimal": _number(Decimal(text))}
        except ArithmeticError:
            return {"valueString": text}
    if question.kind == DATE:
        try:
            return {"valueDate": date.fromisoformat(text).isoformat()}
        except ValueError:
            return {"valueString": text}
    return {"valueString": text}


def questionnaire_response_resource(
    b: _Bundle, questionnaire: QuestionnaireData, data: QuestionSet, patient_id: str
) -> dict:
    pages = []
    for page in data.pages:
        items = []
        for question in page.questions:
            answer = _answer(b.base, question, questionnaire.answers.get(question.code))
            if answer is not None:
                items.append(
                    {
                        "linkId": question.code,
                        "text": _text(question.text, QB_DEFAULT_LANGUAGE),
                        "answer": [answer],
                    }
                )
        if items:
            pages.append({"linkId": page.code, "item": items})
    submitted = questionnaire.submitted_at is not None and questionnaire.status != "draft"
    resource: dict = {
        "resourceType": "QuestionnaireResponse",
        "id": f"qr-{questionnaire.id}",
        "questionnaire": f"{questionnaire_url(b.base)}|{questionnaire.version}",
        "status": "completed" if submitted else "in-progress",
        "subject": b.ref("Patient", patient_id),
        "authored": instant(questionnaire.submitted_at or questionnaire.updated_at),
        "author": b.ref("Patient", patient_id),
        "source": b.ref("Patient", patient_id),
    }
    if pages:
        resource["item"] = pages
    return b.add(resource)


# --------------------------------------------------------------------------- follow-up answers


def follow_up_questionnaire_url(base: str) -> str:
    return f"{base.rstrip('/')}/fhir/Questionnaire/follow-up"


def _follow_up_coding(base: str, question, code: str) -> dict:
    coding = {"system": codes.clinic_system(base, f"follow-up-{question.code}"), "code": code}
    option = question.option(code)
    if option is not None:
        coding["display"] = option.label(QB_DEFAULT_LANGUAGE)
    return coding


def follow_up_questionnaire_resource(b: _Bundle) -> dict:
    """The short questionnaire of the follow-up contacts (the same questions
    for every contact)."""
    items = []
    for question in aftercare.QUESTIONS:
        item: dict = {"linkId": question.code, "text": question.label(QB_DEFAULT_LANGUAGE)}
        translations = _translations(question.text, QB_DEFAULT_LANGUAGE)
        if translations:
            item["_text"] = translations
        item["type"] = "text" if question.kind == aftercare.TEXT else "choice"
        item["required"] = bool(question.required)
        if question.kind == aftercare.MULTIPLE:
            item["repeats"] = True
        if question.options:
            item["answerOption"] = [
                {"valueCoding": _follow_up_coding(b.base, question, option.code)}
                for option in question.options
            ]
        if question.when is not None:
            parent, value = question.when
            item["enableWhen"] = [
                {
                    "question": parent,
                    "operator": "=",
                    "answerCoding": _follow_up_coding(b.base, aftercare.BY_CODE[parent], value),
                }
            ]
        items.append(item)
    return b.add(
        {
            "resourceType": "Questionnaire",
            "id": "qs-follow-up",
            "url": follow_up_questionnaire_url(b.base),
            "name": "FollowUpQuestionnaire",
            "title": "Follow-up after the treatment",
            "status": "active",
            "subjectType": ["Patient"],
            "language": codes.language_tag(QB_DEFAULT_LANGUAGE),
            "item": items,
        }
    )


def follow_up_response_resource(b: _Bundle, follow_up: FollowUpData, patient_id: str) -> dict:
    items = []
    for question in aftercare.QUESTIONS:
        if question.code not in follow_up.answers:
            continue
        value = follow_up.answers[question.code]
        if question.kind == aftercare.TEXT:
            answers = [{"valueString": str(value)}] if str(value).strip() else []
        else:
            chosen = value if isinstance(value, list) else [value]
            answers = [
                {"valueCoding": _follow_up_coding(b.base, question, str(code))} for code in chosen
            ]
        item: dict = {"linkId": question.code, "text": question.label(QB_DEFAULT_LANGUAGE)}
        if answers:
            item["answer"] = answers
        items.append(item)
    resource: dict = {
        "resourceType": "QuestionnaireResponse",
        "id": f"qr-f-{follow_up.id}",
        "identifier": {
            "system": codes.clinic_naming(b.base, "follow-up"),
            "value": f"{follow_up.id} (day {follow_up.days_after})",
        },
        "partOf": [b.ref("Procedure", f"pa-{follow_up.administration_id}")],
        "questionnaire": follow_up_questionnaire_url(b.base),
        "status": "completed",
        "subject": b.ref("Patient", patient_id),
        "authored": instant(follow_up.answered_at),
        "author": b.ref("Patient", patient_id),
    }
    if items:
        resource["item"] = items
    return b.add(resource)


# --------------------------------------------------------------------------- consent

_SCOPE = {
    "treatment": ("treatment", "Treatment"),
    "cross_border": ("patient-privacy", "Privacy Consent"),
}
_CONSENT_NAMES = {
    "treatment": "Consent to the treatment",
    "cross_border": "Consent to send data abroad (cross-border transfer)",
}


def _consent_common(b: _Bundle, consent: ConsentData, patient_id: str) -> dict:
    scope_code, scope_display = _SCOPE.get(consent.kind, ("treatment", "Treatment"))
    return {
        "scope": _concept(
            [{"system": codes.CONSENT_SCOPE, "code": scope_code, "display": scope_display}]
        ),
        "category": [
            _concept(
                [
                    {"system": codes.LOINC, "code": "59284-0", "display": "Consent Document"},
                    {"system": codes.clinic_system(b.base, "consent-kinds"), "code": consent.kind},
                ],
                _CONSENT_NAMES.get(consent.kind, consent.kind),
            )
        ],
        "patient": b.ref("Patient", patient_id),
        "policyRule": _concept(
            [
                {
                    "system": codes.clinic_system(b.base, "consent-documents"),
                    "code": f"{consent.kind}-v{consent.version}-{consent.locale}",
                    "display": consent.title,
                }
            ],
            consent.title,
        ),
    }


def consent_resources(b: _Bundle, consent: ConsentData, patient_id: str) -> list[dict]:
    """The signature, ``active`` (``inactive`` once withdrawn, its permission
    ending at the withdrawal); a withdrawal adds a second ``Consent`` that denies
    from that moment and points at the signature it withdraws."""
    period: dict = {"start": instant(consent.signed_at)}
    if consent.withdrawn_at is not None:
        period["end"] = instant(consent.withdrawn_at)
    signature: dict = {
        "resourceType": "Consent",
        "id": f"c-{consent.id}",
        "status": "inactive" if consent.withdrawn_at is not None else "active",
        **_consent_common(b, consent, patient_id),
        "dateTime": instant(consent.signed_at),
        "sourceAttachment": {
            "contentType": "text/plain",
            "language": codes.language_tag(consent.locale),
            "title": consent.title,
        },
        "provision": {"type": "permit", "period": period},
    }
    if consent.text_sha256:
        signature["identifier"] = [
            {
                "system": codes.clinic_naming(b.base, "consent-text-sha256"),
                "value": consent.text_sha256,
            }
        ]
    made = [b.add(signature)]
    if consent.withdrawn_at is not None:
        withdrawal = {
            "resourceType": "Consent",
            "id": f"c-{consent.id}-withdrawal",
            "status": "active",
            **_consent_common(b, consent, patient_id),
            "dateTime": instant(consent.withdrawn_at),
            "sourceReference": b.ref("Consent", f"c-{consent.id}"),
            "provision": {"type": "deny", "period": {"start": instant(consent.withdrawn_at)}},
        }
        reason = consent.withdrawal_reason or ""
        withdrawal["policyRule"]["text"] = f"Withdrawal: {reason}".strip().rstrip(":")
        made.append(b.add(withdrawal))
    return made


# --------------------------------------------------------------------------- observations


def _laboratory() -> list[dict]:
    return [
        _concept(
            [{"system": codes.OBSERVATION_CATEGORY, "code": "laboratory", "display": "Laboratory"}]
        )
    ]


def _vital_signs() -> list[dict]:
    return [
        _concept(
            [
                {
                    "system": codes.OBSERVATION_CATEGORY,
                    "code": "vital-signs",
                    "display": "Vital Signs",
                }
            ]
        )
    ]


def panel_observation(b: _Bundle, result: PanelResultData, patient_id: str) -> dict:
    notes = []
    if result.acceptable is True:
        notes.append("Accepted by the doctor.")
    elif result.acceptable is False:
        notes.append("Not accepted by the doctor.")
    if result.note:
        notes.append(result.note)
    resource: dict = {
        "resourceType": "Observation",
        "id": f"pr-{result.id}",
        "status": "corrected" if result.replaces_id else "final",
        "category": _laboratory(),
        "code": _concept(
            codes.panel_codings(b.base, result.item_code, result.item_name), result.item_name
        ),
        "subject": b.ref("Patient", patient_id),
        "effectiveDateTime": _date(result.test_date),
        "issued": instant(result.entered_at),
        "valueString": result.result,
    }
    if notes:
        resource["note"] = [{"text": " ".join(notes)}]
    return b.add(resource)


def vital_observations(
    b: _Bundle, vitals: VitalsData, patient_id: str, part_of: dict | None
) -> list[dict]:
    when = instant(vitals.taken_at)
    label = "clearance" if vitals.context == "clearance" else "after the administration"

    def base(kind: str, key: str) -> dict:
        resource: dict = {
            "resourceType": "Observation",
            "id": f"v-{vitals.key}-{kind}",
            "status": "final",
            "category": _vital_signs(),
            "code": _concept(codes.vital_coding(key), f"{codes.VITALS[key][1]} ({label})"),
            "subject": b.ref("Patient", patient_id),
            "effectiveDateTime": when,
        }
        if part_of is not None:
            resource["partOf"] = [part_of]
        return resource

    bp = base("bp", "blood_pressure")
    bp["component"] = [
        {
            "code": _concept(codes.vital_coding("systolic")),
            "valueQuantity": codes.ucum(vitals.systolic, "mm[Hg]"),
        },
        {
            "code": _concept(codes.vital_coding("diastolic")),
            "valueQuantity": codes.ucum(vitals.diastolic, "mm[Hg]"),
        },
    ]
    pulse = base("hr", "pulse")
    pulse["valueQuantity"] = codes.ucum(vitals.pulse, "/min")
    temperature = base("temp", "temperature")
    temperature["valueQuantity"] = codes.ucum(_number(vitals.temperature_c), "Cel")
    spo2 = base("spo2", "spo2")
    spo2["valueQuantity"] = codes.ucum(vitals.spo2, "%")
    return [b.add(r) for r in (bp, pulse, temperature, spo2)]


def _lab_code(base: str, code: str, display: str) -> dict:
    return _concept(
        [
            {
                "system": codes.clinic_system(base, "culture-observations"),
                "code": code,
                "display": display,
            }
        ],
        display,
    )


def batch_observations(
    b: _Bundle, batch: BatchData, event: BatchEventData, patient_id: str
) -> list[dict]:
    """Cell count and viability (one event may give both) and QC results."""

    def observation(suffix: str, code: str, display: str) -> dict:
        resource: dict = {
            "resourceType": "Observation",
            "id": f"be-{event.id}{suffix}",
            "status": "final",
            "category": _laboratory(),
            "code": _lab_code(b.base, code, display),
            "subject": b.ref("Patient", patient_id),
            "focus": [b.ref("BiologicallyDerivedProduct", f"b-{batch.id}")],
            "effectiveDateTime": instant(event.occurred_at),
        }
        if event.note:
            resource["note"] = [{"text": event.note}]
        return resource

    made = []
    if event.kind == "cell_count":
        if event.cells is not None:
            count = observation("-cells", "cell-count", "Cell count")
            count["valueQuantity"] = {
                "value": event.cells,
                "unit": "cells",
                "system": codes.UCUM,
                "code": "{cells}",
            }
            made.append(count)
        if event.viability_percent is not None:
            viability = observation("-viability", "viability", "Cell viability")
            viability["valueQuantity"] = codes.ucum(_number(event.viability_percent), "%")
            made.append(viability)
    elif event.kind == "qc_result" and event.qc_item:
        qc = observation("", f"qc-{event.qc_item}", f"QC: {event.qc_item}")
        qc["valueString"] = event.qc_value or ""
        if event.qc_passed is not None:
            code, display = ("N", "Normal") if event.qc_passed else ("A", "Abnormal")
            qc["interpretation"] = [
                _concept(
                    [{"system": codes.INTERPRETATION, "code": code, "display": display}],
                    "Passed" if event.qc_passed else "Failed",
                )
            ]
        made.append(qc)
    return [b.add(r) for r in made]


# --------------------------------------------------------------------------- the cells


def specimen_resources(b: _Bundle, batch: BatchData, patient_id: str) -> list[dict]:
    tissue_unit = (
        codes.ucum(batch.tissue_amount, "mg")
        if batch.tissue_unit == "mg"
        else {"value": batch.tissue_amount, "unit": batch.tissue_unit}
    )
    made = []
    for key, quantity in (
        ("adipose_tissue", tissue_unit),
        ("blood", codes.ucum(batch.blood_volume_ml, "mL")),
    ):
        resource: dict = {
            "resourceType": "Specimen",
            "id": f"s-{batch.id}-{key.replace('_', '-')}",
            "identifier": [
                {
                    "system": codes.clinic_naming(b.base, "specimen"),
                    "value": f"{batch.coi} {key.replace('_', '-')}",
                }
            ],
            # The material went into the culture: none of it is left to send.
            "status": "unavailable",
            "type": _concept(codes.specimen_codings(b.base, key), codes.SPECIMEN_NAMES[key]),
            "subject": b.ref("Patient", patient_id),
            "collection": {
                "collectedDateTime": _date(batch.collected_on),
                "quantity": quantity,
            },
            "note": [{"text": f"Collected by {batch.collected_by}."}],
        }
        if batch.received_at is not None:
            resource["receivedTime"] = instant(batch.received_at)
        made.append(b.add(resource))
    return made


_AVAILABLE_STATES = frozenset({"released", "cryopreserved"})


def product_resource(b: _Bundle, batch: BatchData, patient_id: str) -> dict:
    processing = []
    for event in batch.events:
        if event.kind == "passage":
            description = (
                f"Passage P{event.passage_number}"
                if event.passage_number is not None
                else "Passage"
            )
        elif event.kind == "medium_change":
            description = "Medium change"
        else:
            continue
        processing.append({"description": description, "timeDateTime": instant(event.occurred_at)})
    resource: dict = {
        "resourceType": "BiologicallyDerivedProduct",
        "id": f"b-{batch.id}",
        "identifier": [
            {
                "use": "official",
                "type": {"text": "Chain-of-identity number"},
                "system": codes.clinic_naming(b.base, "coi"),
                "value": batch.coi,
            }
        ],
        "productCategory": "cells",
        "productCode": _concept(
            [
                {
                    "system": codes.clinic_system(b.base, "products"),
                    "code": "autologous-adsc",
                    "display": "Autologous cultured adipose-derived stem cells",
                },
                {"system": codes.clinic_system(b.base, "batch-states"), "code": batch.state},
            ],
            "Autologous cultured adipose-derived stem cells",
        ),
        "status": "available" if batch.state in _AVAILABLE_STATES else "unavailable",
        "collection": {
            "source": b.ref("Patient", patient_id),
            "collectedDateTime": _date(batch.collected_on),
        },
    }
    if processing:
        resource["processing"] = processing
    storage = [
        {"description": event.to_place, "duration": {"start": instant(event.occurred_at)}}
        for event in batch.events
        if event.kind == "custody" and event.to_place
    ]
    if batch.state == "cryopreserved":
        storage.append({"description": "Cryopreserved"})
    if storage:
        resource["storage"] = storage
    return b.add(resource)


def _procedure_code(base: str, code: str, display: str) -> dict:
    return _concept(
        [{"system": codes.clinic_system(base, "procedures"), "code": code, "display": display}],
        display,
    )


def collection_procedure(
    b: _Bundle, batch: BatchData, visit: VisitData | None, patient_id: str
) -> dict:
    resource: dict = {
        "resourceType": "Procedure",
        "id": f"pc-{batch.id}",
        "status": "completed",
        "code": _procedure_code(
            b.base, "collection", "Collection of adipose tissue and blood for cell culture"
        ),
        "subject": b.ref("Patient", patient_id),
        "note": [{"text": f"Collected by {batch.collected_by}; batch {batch.coi}."}],
    }
    if visit is not None:
        resource["performedPeriod"] = {
            "start": instant(visit.start_at),
            "end": instant(visit.end_at),
        }
    else:
        resource["performedDateTime"] = _date(batch.collected_on)
    return b.add(resource)


def administration_procedure(
    b: _Bundle, administration: AdministrationData, patient_id: str, base_url: str
) -> dict:
    route = codes.route_name(administration.route)
    note = f"Dose {administration.dose_number}: {administration.cells_given:,} cells, {route}."
    if administration.note:
        note = f"{note} {administration.note}"
    return b.add(
        {
            "resourceType": "Procedure",
            "id": f"pa-{administration.id}",
            "extension": [
                {
                    "url": f"{base_url.rstrip('/')}/fhir/StructureDefinition/administered-product",
                    "valueReference": b.ref(
                        "BiologicallyDerivedProduct", f"b-{administration.batch_id}"
                    ),
                }
            ],
            "status": "completed",
            "code": _procedure_code(
                b.base,
                f"administration-{administration.route}",
                f"Administration of autologous cultured cells: {route}",
            ),
            "subject": b.ref("Patient", patient_id),
            "performedPeriod": {
                "start": instant(administration.started_at),
                "end": instant(administration.ended_at),
            },
            "note": [{"text": note}],
        }
    )


def adverse_event_resource(b: _Bundle, event: AdverseEventData, patient_id: str) -> dict:
    resource: dict = {
        "resourceType": "AdverseEvent",
        "id": f"ae-{event.id}",
        "identifier": {
            "system": codes.clinic_naming(b.base, "adverse-event"),
            "value": str(event.id),
        },
        "actuality": "actual",
        "event": {"text": event.description},
        "subject": b.ref("Patient", patient_id),
        "date": _date(event.began_on),
        "detected": _date(event.known_on),
        "recordedDate": instant(event.recorded_at),
        "seriousness": _concept(codes.seriousness_codings(b.base, event.seriousness)),
    }
    if event.seriousness == "death":
        resource["outcome"] = _concept(
            [{"system": codes.AE_OUTCOME, "code": "fatal", "display": "Fatal"}]
        )
    if event.administration_id is not None:
        resource["suspectEntity"] = [
            {"instance": b.ref("Procedure", f"pa-{event.administration_id}")}
        ]
    return b.add(resource)


# --------------------------------------------------------------------------- the bundle


def course_bundle(record: CourseRecord, *, now: datetime) -> dict:
    """The course as a ``collection`` Bundle (FHIR R4 JSON)."""
    b = _Bundle(record.base_url)
    patient = patient_resource(b, record.patient)
    organization_resource(b, record.clinic_name)
    pid = patient["id"]
    visits = {visit.id: visit for visit in record.visits}
    for visit in record.visits:
        appointment_resource(b, visit, pid)
    versions = sorted(
        {q.version for q in record.questionnaires if q.version in record.question_sets}
    )
    for version in versions:
        questionnaire_resource(b, version, record.question_sets[version])
    for questionnaire in record.questionnaires:
        data = record.question_sets.get(questionnaire.version)
        if data is not None:
            questionnaire_response_resource(b, questionnaire, data, pid)
    for consent in record.consents:
        consent_resources(b, consent, pid)
    for result in record.panel_results:
        panel_observation(b, result, pid)
    for batch in record.batches:
        product_resource(b, batch, pid)
        specimen_resources(b, batch, pid)
        collection_procedure(b, batch, visits.get(batch.collection_visit_id), pid)
        for event in batch.events:
            batch_observations(b, batch, event, pid)
    batch_ids = {batch.id for batch in record.batches}
    administrations = {a.id for a in record.administrations if a.batch_id in batch_ids}
    for administration in record.administrations:
        if administration.id in administrations:
            administration_procedure(b, administration, pid, record.base_url)
    answered = [f for f in record.follow_ups if f.administration_id in administrations]
    if answered:
        follow_up_questionnaire_resource(b)
    for follow_up in answered:
        follow_up_response_resource(b, follow_up, pid)
    for vitals in record.vitals:
        part_of = (
            b.ref("Procedure", f"pa-{vitals.administration_id}")
            if vitals.administration_id in administrations
            else None
        )
        vital_observations(b, vitals, pid, part_of)
    for event in record.adverse_events:
        if event.administration_id not in administrations:
            event = _untied(event)
        adverse_event_resource(b, event, pid)
    return {
        "resourceType": "Bundle",
        "id": f"course-{record.course.id}",
        "identifier": {
            "system": codes.clinic_naming(record.base_url, "course-export"),
            "value": f"course-{record.course.id}",
        },
        "type": "collection",
        "timestamp": instant(now),
        "entry": b.entries,
    }


def _untied(event: AdverseEventData) -> AdverseEventData:
    return replace(event, administration_id=None)


def references(value) -> list[str]:
    """Every ``reference`` string anywhere in a FHIR JSON value."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "reference" and isinstance(item, str):
                found.append(item)
            else:
                found.extend(references(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(references(item))
    return found
