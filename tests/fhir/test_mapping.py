"""The FHIR mapping, pure: records made by hand in, FHIR JSON out, each
resource validated with the ``fhir.resources`` R4B models."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from intake.eligibility.question_bank import DEFAULT_QUESTION_SET
from intake.fhir import codes
from intake.fhir.record import (
    AdministrationData,
    AdverseEventData,
    ConsentData,
    CourseData,
    CourseRecord,
    FollowUpData,
    PanelResultData,
    PatientData,
    QuestionnaireData,
    VitalsData,
)
from intake.fhir.resources import course_bundle, full_url, instant, references

BASE = "https://clinic.example"
NOW = datetime(2026, 5, 1, 1, 0, tzinfo=UTC)
PATIENT = PatientData(id=12, family_name="王", given_name="丽", date_of_birth=date(1970, 1, 2))
EMPTY = CourseRecord(
    base_url=BASE,
    clinic_name="Clinic",
    patient=PATIENT,
    course=CourseData(id=3, number=1, status="open", opened_at=NOW),
)


def _valid(bundle: dict) -> dict:
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    Bundle.model_validate(bundle)
    urls = {entry["fullUrl"] for entry in bundle["entry"]}
    assert [ref for ref in references(bundle) if ref not in urls] == []
    return bundle


def _resources(record: CourseRecord, resource_type: str) -> list[dict]:
    bundle = _valid(course_bundle(record, now=NOW))
    return [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type
    ]


def test_an_empty_course_is_the_patient_and_the_clinic():
    bundle = _valid(course_bundle(EMPTY, now=NOW))
    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == ["Patient", "Organization"]
    assert bundle["entry"][1]["resource"]["name"] == "Clinic"
    assert bundle["type"] == "collection" and bundle["timestamp"] == "2026-05-01T01:00:00+00:00"
    assert bundle["entry"][0]["fullUrl"] == full_url(BASE, "Patient/p-12")


@pytest.mark.parametrize(
    ("sex", "gender"),
    [
        ("female", "female"),
        ("male", "male"),
        ("other", "other"),
        ("unknown", "unknown"),
        (None, "unknown"),
    ],
)
def test_gender(sex, gender):
    (patient,) = _resources(replace(EMPTY, patient=replace(PATIENT, sex=sex)), "Patient")
    assert patient["gender"] == gender


@pytest.mark.parametrize(
    ("locale", "tag"), [("zh_Hans", "zh-CN"), ("ja", "ja"), ("en", "en"), ("xx", "en")]
)
def test_language(locale, tag):
    (patient,) = _resources(replace(EMPTY, patient=replace(PATIENT, locale=locale)), "Patient")
    assert patient["communication"][0]["language"]["coding"][0] == {
        "system": codes.BCP47,
        "code": tag,
    }


@pytest.mark.parametrize(
    ("fields", "names"),
    [
        ({}, [("王", "IDE")]),
        ({"family_name_latin": "Wang", "given_name_latin": "Li"}, [("王", "IDE"), ("Wang", "ABC")]),
        ({"family_name": "Smith", "given_name": "Anna"}, [("Smith", "ABC")]),
        (
            {
                "family_name": "Smith",
                "given_name": "Anna",
                "family_name_latin": "Smith",
                "given_name_latin": "Anna",
            },
            [("Smith", "ABC")],
        ),
        (
            {"family_name": "山田", "given_name": "花子", "family_name_latin": "Yamada"},
            [("山田", "IDE"), ("Yamada", "ABC")],
        ),
    ],
)
def test_names_in_own_script_and_latin_letters(fields, names):
    (patient,) = _resources(replace(EMPTY, patient=replace(PATIENT, **fields)), "Patient")
    assert [(n["family"], n["extension"][0]["valueCode"]) for n in patient["name"]] == names


def test_nationality_and_contact():
    patient_data = replace(
        PATIENT, nationality="CN", phone="+86 138", email="w@example.org", record_number="R-1"
    )
    (patient,) = _resources(replace(EMPTY, patient=patient_data), "Patient")
    assert (
        patient["extension"][0]["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "CN"
    )
    assert {t["system"] for t in patient["telecom"]} == {"phone", "email"}
    assert patient["identifier"][0]["value"] == "R-1"


VITALS = VitalsData(
    key="c1",
    context="clearance",
    taken_at=NOW,
    systolic=121,
    diastolic=79,
    pulse=66,
    temperature_c=Decimal("36.7"),
    spo2=97,
)


@pytest.mark.parametrize(
    ("code", "value", "unit"),
    [("8867-4", 66, "/min"), ("8310-5", 36.7, "Cel"), ("59408-5", 97, "%")],
)
def test_vital_signs_in_loinc_and_ucum(code, value, unit):
    observations = _resources(replace(EMPTY, vitals=(VITALS,)), "Observation")
    (found,) = [o for o in observations if o["code"]["coding"][0]["code"] == code]
    assert found["valueQuantity"]["value"] == value
    assert found["valueQuantity"]["code"] == unit and found["valueQuantity"]["system"] == codes.UCUM
    assert found["category"][0]["coding"][0]["code"] == "vital-signs"


def test_blood_pressure_is_a_panel_with_two_components():
    observations = _resources(replace(EMPTY, vitals=(VITALS,)), "Observation")
    (bp,) = [o for o in observations if o["code"]["coding"][0]["code"] == "85354-9"]
    assert [
        (c["code"]["coding"][0]["code"], c["valueQuantity"]["value"]) for c in bp["component"]
    ] == [
        ("8480-6", 121),
        ("8462-4", 79),
    ]
    assert all(c["valueQuantity"]["code"] == "mm[Hg]" for c in bp["component"])


def test_spo2_carries_both_loinc_codes():
    observations = _resources(replace(EMPTY, vitals=(VITALS,)), "Observation")
    (spo2,) = [o for o in observations if o["code"]["coding"][0]["code"] == "59408-5"]
    assert [c["code"] for c in spo2["code"]["coding"]] == ["59408-5", "2708-6"]


@pytest.mark.parametrize(
    ("seriousness", "fhir"),
    [
        ("death", "serious"),
        ("life_threatening", "serious"),
        ("hospitalisation", "serious"),
        ("disability", "serious"),
        ("other_serious", "serious"),
        ("not_serious", "non-serious"),
    ],
)
def test_seriousness(seriousness, fhir):
    event = AdverseEventData(
        id=1,
        description="Rash",
        began_on=date(2026, 4, 1),
        known_on=date(2026, 4, 2),
        seriousness=seriousness,
        recorded_at=NOW,
    )
    (resource,) = _resources(replace(EMPTY, adverse_events=(event,)), "AdverseEvent")
    assert [c["code"] for c in resource["seriousness"]["coding"]] == [fhir, seriousness]
    assert resource["seriousness"]["coding"][0]["system"] == codes.AE_SERIOUSNESS
    assert ("outcome" in resource) == (seriousness == "death")
    assert "suspectEntity" not in resource  # not tied to an administration in the bundle


SIGNED = ConsentData(
    id=5,
    kind="treatment",
    version=2,
    locale="zh_Hans",
    title="治疗同意书",
    signer_name="王丽",
    meaning="I consent",
    signed_at=datetime(2026, 3, 1, 2, 0, tzinfo=UTC),
)


def test_a_signed_consent_is_active_and_permits_from_the_signature():
    (consent,) = _resources(replace(EMPTY, consents=(SIGNED,)), "Consent")
    assert consent["status"] == "active" and consent["provision"]["type"] == "permit"
    assert consent["provision"]["period"] == {"start": "2026-03-01T02:00:00+00:00"}
    assert consent["sourceAttachment"]["language"] == "zh-CN"


def test_a_withdrawal_ends_the_permission_and_adds_a_denial():
    withdrawn = replace(
        SIGNED,
        withdrawn_at=datetime(2026, 3, 9, 4, 0, tzinfo=UTC),
        withdrawal_reason="Changed my mind",
    )
    signature, withdrawal = _resources(replace(EMPTY, consents=(withdrawn,)), "Consent")
    assert signature["status"] == "inactive"
    assert signature["provision"]["period"]["end"] == "2026-03-09T04:00:00+00:00"
    assert withdrawal["status"] == "active" and withdrawal["provision"]["type"] == "deny"
    assert withdrawal["dateTime"] == "2026-03-09T04:00:00+00:00"
    assert withdrawal["sourceReference"]["reference"] == full_url(BASE, "Consent/c-5")
    assert "Changed my mind" in withdrawal["policyRule"]["text"]


@pytest.mark.parametrize(
    ("kind", "scope"), [("treatment", "treatment"), ("cross_border", "patient-privacy")]
)
def test_consent_scope(kind, scope):
    (consent,) = _resources(replace(EMPTY, consents=(replace(SIGNED, kind=kind),)), "Consent")
    assert consent["scope"]["coding"][0] == {
        "system": codes.CONSENT_SCOPE,
        "code": scope,
        "display": consent["scope"]["coding"][0]["display"],
    }


@pytest.mark.parametrize(
    ("item", "loinc"),
    [
        ("HBsAg", "5195-3"),
        ("anti-HBs", "10900-9"),
        ("anti-HBc", "16933-4"),
        ("anti-HCV", "16128-1"),
        ("anti-HIV", "31201-7"),
        ("HBeAg", None),
        ("RPR", None),
        ("anti-HTLV-1", None),
        ("clinic-own-test", None),
    ],
)
def test_panel_items_with_and_without_a_loinc_code(item, loinc):
    result = PanelResultData(
        id=9,
        item_code=item,
        item_name=f"{item} test",
        test_date=date(2026, 2, 1),
        result="Negative",
        entered_at=NOW,
        acceptable=True,
    )
    (observation,) = _resources(replace(EMPTY, panel_results=(result,)), "Observation")
    systems = [(c["system"], c["code"]) for c in observation["code"]["coding"]]
    clinic = (codes.clinic_system(BASE, "panel-tests"), item)
    assert systems == ([(codes.LOINC, loinc), clinic] if loinc else [clinic])
    assert (
        observation["valueString"] == "Negative"
        and observation["effectiveDateTime"] == "2026-02-01"
    )
    assert observation["category"][0]["coding"][0]["code"] == "laboratory"


def test_a_corrected_panel_result():
    result = PanelResultData(
        id=10,
        item_code="HBsAg",
        item_name="HBsAg",
        test_date=date(2026, 2, 1),
        result="Negative",
        entered_at=NOW,
        replaces_id=9,
    )
    (observation,) = _resources(replace(EMPTY, panel_results=(result,)), "Observation")
    assert observation["status"] == "corrected"


def test_the_questionnaire_response_names_its_question_set_version():
    questionnaire = QuestionnaireData(
        id=4,
        version=1,
        status="submitted",
        updated_at=NOW,
        submitted_at=NOW,
        answers={
            "indication": "knee_oa",
            "height_cm": "165",
            "anticoagulant_use": "no",
            "past_history": "None",
        },
    )
    record = replace(
        EMPTY, question_sets={1: DEFAULT_QUESTION_SET}, questionnaires=(questionnaire,)
    )
    (definition,) = _resources(record, "Questionnaire")
    (response,) = _resources(record, "QuestionnaireResponse")
    assert response["questionnaire"] == f"{BASE}/fhir/Questionnaire/intake|1"
    assert definition["url"] == f"{BASE}/fhir/Questionnaire/intake" and definition["version"] == "1"
    answers = {
        item["linkId"]: item["answer"][0] for page in response["item"] for item in page["item"]
    }
    assert answers["height_cm"] == {"valueDecimal": 165}
    assert answers["anticoagulant_use"]["valueCoding"]["code"] == "no"
    assert answers["indication"]["valueCoding"]["code"] == "knee_oa"
    assert answers["past_history"] == {"valueString": "None"}
    first = definition["item"][0]["item"][0]
    languages = {ext["extension"][0]["valueCode"] for ext in first["_text"]["extension"]}
    assert languages == {"zh-CN", "ja"}


def test_a_draft_questionnaire_is_in_progress():
    questionnaire = QuestionnaireData(id=4, version=1, status="draft", updated_at=NOW, answers={})
    record = replace(
        EMPTY, question_sets={1: DEFAULT_QUESTION_SET}, questionnaires=(questionnaire,)
    )
    (response,) = _resources(record, "QuestionnaireResponse")
    assert response["status"] == "in-progress" and "item" not in response


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(2026, 1, 1, 9, 30, tzinfo=UTC), "2026-01-01T09:30:00+00:00"),
        (datetime(2026, 1, 1, 9, 30), "2026-01-01T09:30:00+00:00"),  # naive: UTC
    ],
)
def test_instants_are_utc_with_the_zone(value, text):
    assert instant(value) == text


def test_addresses_depend_on_the_clinic_and_the_key():
    assert full_url(BASE, "Patient/p-1") == full_url(BASE + "/", "Patient/p-1")
    assert full_url(BASE, "Patient/p-1") != full_url(BASE, "Patient/p-2")
    assert full_url(BASE, "Patient/p-1") != full_url("https://other.example", "Patient/p-1")
    assert full_url(BASE, "Patient/p-1").startswith("urn:uuid:")


ADMINISTRATION = AdministrationData(
    id=8,
    dose_number=1,
    batch_id=2,
    visit_id=5,
    route="iv",
    cells_given=150_000_000,
    started_at=NOW,
    ended_at=NOW,
)


def test_follow_up_answers_need_their_administration_in_the_bundle():
    follow_up = FollowUpData(
        id=3, administration_id=8, days_after=7, answers={"feeling": "better"}, answered_at=NOW
    )
    record = replace(EMPTY, administrations=(ADMINISTRATION,), follow_ups=(follow_up,))
    # No batch of the course: the administration and its answers are left out.
    assert _resources(record, "QuestionnaireResponse") == []
    assert _resources(record, "Questionnaire") == []


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"feeling": "much_worse"}, {"feeling": ["much_worse"]}),
        ({"symptoms": []}, {"symptoms": []}),
        ({"symptoms": ["fever", "headache"]}, {"symptoms": ["fever", "headache"]}),
        (
            {"doctor_visit": "yes", "doctor_visit_detail": "Saw my GP."},
            {"doctor_visit": ["yes"], "doctor_visit_detail": ["Saw my GP."]},
        ),
    ],
)
def test_follow_up_answers(answers, expected):
    from intake.fhir.record import BatchData

    batch = BatchData(
        id=2,
        coi="TKY26000123 O",
        state="administered",
        collected_on=date(2026, 1, 2),
        collected_by="Dr Sato",
        tissue_amount=3,
        tissue_unit="pieces",
        blood_volume_ml=50,
        collection_visit_id=5,
    )
    follow_up = FollowUpData(
        id=3, administration_id=8, days_after=7, answers=answers, answered_at=NOW
    )
    record = replace(
        EMPTY, batches=(batch,), administrations=(ADMINISTRATION,), follow_ups=(follow_up,)
    )
    (response,) = _resources(record, "QuestionnaireResponse")
    (questionnaire,) = _resources(record, "Questionnaire")
    assert (
        response["questionnaire"] == questionnaire["url"] == f"{BASE}/fhir/Questionnaire/follow-up"
    )
    assert response["partOf"] == [{"reference": full_url(BASE, "Procedure/pa-8")}]
    got = {
        item["linkId"]: [
            a.get("valueCoding", {}).get("code") or a.get("valueString")
            for a in item.get("answer", [])
        ]
        for item in response["item"]
    }
    assert got == expected
    detail = [i for i in questionnaire["item"] if i["linkId"] == "doctor_visit_detail"][0]
    assert detail["enableWhen"][0]["question"] == "doctor_visit"
    assert detail["enableWhen"][0]["answerCoding"]["code"] == "yes"


@pytest.mark.parametrize(
    ("state", "status", "stored"),
    [
        ("in_culture", "unavailable", ["Incubator 3"]),
        ("released", "available", ["Incubator 3"]),
        ("cryopreserved", "available", ["Incubator 3", "Cryopreserved"]),
        ("administered", "unavailable", ["Incubator 3"]),
        ("failed", "unavailable", ["Incubator 3"]),
    ],
)
def test_the_batch_as_a_product(state, status, stored):
    from intake.fhir.record import BatchData, BatchEventData

    events = (
        BatchEventData(id=1, kind="custody", occurred_at=NOW, to_place="Incubator 3"),
        BatchEventData(id=2, kind="passage", occurred_at=NOW, passage_number=1),
        BatchEventData(id=3, kind="medium_change", occurred_at=NOW),
        BatchEventData(
            id=4,
            kind="qc_result",
            occurred_at=NOW,
            qc_item="mycoplasma",
            qc_value="positive",
            qc_passed=False,
        ),
    )
    batch = BatchData(
        id=2,
        coi="TKY26000123 O",
        state=state,
        collected_on=date(2026, 1, 2),
        collected_by="Dr Sato",
        tissue_amount=30,
        tissue_unit="mg",
        blood_volume_ml=50,
        collection_visit_id=5,
        events=events,
    )
    record = replace(EMPTY, batches=(batch,))
    (product,) = _resources(record, "BiologicallyDerivedProduct")
    assert product["identifier"][0]["value"] == "TKY26000123 O"
    assert product["status"] == status
    assert [p["description"] for p in product["processing"]] == ["Passage P1", "Medium change"]
    assert [s["description"] for s in product["storage"]] == stored
    assert product["collection"]["source"]["reference"] == full_url(BASE, "Patient/p-12")
    (qc,) = _resources(record, "Observation")
    assert qc["interpretation"][0]["coding"][0]["code"] == "A"
    assert qc["focus"] == [{"reference": full_url(BASE, "BiologicallyDerivedProduct/b-2")}]
    tissue, blood = _resources(record, "Specimen")
    assert tissue["collection"]["quantity"]["code"] == "mg"
    assert blood["type"]["coding"][0] == {
        "system": codes.SNOMED,
        "code": "119297000",
        "display": "Blood specimen",
    }
    (collection,) = _resources(record, "Procedure")
    assert collection["performedDateTime"] == "2026-01-02"  # its visit is not in the record
