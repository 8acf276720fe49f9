"""The FHIR bundle of a seeded, completed course: every resource validates
with the ``fhir.resources`` R4B models, every resource type the export
promises is there, every reference resolves inside the bundle, and nothing of
another patient is in it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from intake.extensions import db
from intake.fhir.collect import course_record
from intake.fhir.resources import course_bundle, references
from intake.patients.models import Sex

NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)

REQUIRED_TYPES = {
    "Patient",
    "Appointment",
    "QuestionnaireResponse",
    "Questionnaire",
    "Consent",
    "Observation",
    "Specimen",
    "BiologicallyDerivedProduct",
    "Procedure",
    "AdverseEvent",
}


@pytest.fixture
def seeded(seed_course):
    seeded = seed_course(
        family_name="王", given_name="丽", family_name_latin="Wang", given_name_latin="Li"
    )
    seeded.patient.sex = Sex.FEMALE
    seeded.patient.nationality = "CN"
    return seeded


def _bundle(course) -> dict:
    return course_bundle(course_record(course), now=NOW)


def _of(bundle, resource_type) -> list[dict]:
    return [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type
    ]


def test_every_resource_validates_with_fhir_resources(seeded):
    bundle = _bundle(seeded.course)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        model = get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert model.id == resource["id"]
    parsed = Bundle.model_validate(bundle)
    assert parsed.type == "collection" and len(parsed.entry) == len(bundle["entry"])
    assert parsed.timestamp is not None and parsed.identifier.value == f"course-{seeded.course.id}"


def test_every_resource_type_of_the_course_is_there(seeded):
    bundle = _bundle(seeded.course)
    types = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert REQUIRED_TYPES <= types


def test_every_reference_resolves_inside_the_bundle(seeded):
    bundle = _bundle(seeded.course)
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(urls) == len(set(urls))
    found = references(bundle)
    assert found, "the bundle's resources point at each other"
    assert [ref for ref in found if ref not in urls] == []


def test_the_same_course_gives_the_same_addresses(seeded):
    first, second = _bundle(seeded.course), _bundle(seeded.course)
    assert [e["fullUrl"] for e in first["entry"]] == [e["fullUrl"] for e in second["entry"]]


def test_the_course_in_fhir_terms(seeded):
    bundle = _bundle(seeded.course)
    (patient,) = _of(bundle, "Patient")
    assert patient["gender"] == "female" and patient["birthDate"] == "1970-01-01"
    assert [n.get("family") for n in patient["name"]] == ["王", "Wang"]
    assert patient["communication"][0]["language"]["coding"][0]["code"] == "en"
    assert any(i["value"] == seeded.patient.record_number for i in patient["identifier"])

    (product,) = _of(bundle, "BiologicallyDerivedProduct")
    assert product["identifier"][0]["value"] == seeded.batch.coi
    assert product["productCategory"] == "cells"

    consents = _of(bundle, "Consent")
    withdrawn = [c for c in consents if c["status"] == "inactive"]
    denials = [c for c in consents if c["provision"]["type"] == "deny"]
    assert len(withdrawn) == 1 and len(denials) == 1
    assert "end" in withdrawn[0]["provision"]["period"]
    assert len([c for c in consents if c["status"] == "active"]) == 3  # two signed + the withdrawal

    observations = _of(bundle, "Observation")
    codes = {c["code"] for o in observations for c in o["code"]["coding"]}
    assert {"85354-9", "8867-4", "8310-5", "59408-5", "5195-3", "cell-count", "viability"} <= codes
    assert "qc-sterility" in codes
    categories = {o["category"][0]["coding"][0]["code"] for o in observations}
    assert categories == {"laboratory", "vital-signs"}

    specimens = _of(bundle, "Specimen")
    assert {s["type"]["coding"][0]["code"] for s in specimens} >= {"119297000"}
    procedures = _of(bundle, "Procedure")
    assert {p["code"]["coding"][0]["code"] for p in procedures} == {
        "collection",
        "administration-iv",
    }
    (event,) = _of(bundle, "AdverseEvent")
    assert event["actuality"] == "actual"
    assert event["seriousness"]["coding"][0]["code"] == "non-serious"

    intake_response, follow_up = _of(bundle, "QuestionnaireResponse")
    intake, follow_up_questions = _of(bundle, "Questionnaire")
    assert intake_response["questionnaire"] == f"{intake['url']}|{intake['version']}"
    assert intake_response["status"] == "completed"
    assert follow_up["questionnaire"] == follow_up_questions["url"]
    (administration,) = [p for p in procedures if p["id"].startswith("pa-")]
    addresses = {e["resource"]["id"]: e["fullUrl"] for e in bundle["entry"]}
    assert follow_up["partOf"] == [{"reference": addresses[administration["id"]]}]
    symptoms = [i for i in follow_up["item"] if i["linkId"] == "symptoms"][0]
    assert [a["valueCoding"]["code"] for a in symptoms["answer"]] == ["fever", "other"]
    appointments = _of(bundle, "Appointment")
    assert {a["status"] for a in appointments} == {"fulfilled"}


def test_nothing_of_another_patient(seed_course):
    mine = seed_course(
        family_name="李", given_name="娜", family_name_latin="Li", given_name_latin="Na"
    )
    other = seed_course(
        family_name="周", given_name="芳", family_name_latin="Zhou", given_name_latin="Fang"
    )
    text = json.dumps(_bundle(mine.course), ensure_ascii=False)
    for secret in (
        "周芳",
        "Zhou",
        "Fang",
        other.patient.email,
        other.patient.record_number,
        other.batch.coi,
        f'p-{other.patient.id}"',
        f'b-{other.batch.id}"',
        f'pa-{other.administration.id}"',
    ):
        assert secret not in text
    assert mine.batch.coi in text and "李" in text


def test_the_export_reads_a_fixed_number_of_statements(seed_course, make_patient, count_queries):
    """An empty course and a completed one (visits, batch, events, doses,
    follow-ups, adverse events) cost the same statements: nothing per row."""
    from tests.helpers import course_of

    seeded = seed_course()
    empty = course_of(make_patient())
    db.session.commit()
    counts = []
    for course in (empty, seeded.course):
        db.session.expire_all()
        with count_queries() as statements:
            course_record(course)
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 14
