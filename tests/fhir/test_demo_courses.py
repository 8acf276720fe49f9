"""Every course of the demo clinic (``flask seed-demo``: patients at each
step, from the first answers to cells given and an adverse event) exports as
a bundle whose every resource validates and whose references resolve."""

from __future__ import annotations

from datetime import UTC, datetime

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select

from intake.demo import seed
from intake.extensions import db
from intake.fhir.collect import course_record
from intake.fhir.resources import course_bundle, references
from intake.patients.models import Course

NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)


def test_every_demo_course_exports_valid_fhir(app):
    seed()
    courses = list(db.session.execute(select(Course).order_by(Course.id)).scalars())
    assert len(courses) > 5
    seen: set[str] = set()
    for course in courses:
        bundle = course_bundle(course_record(course), now=NOW)
        Bundle.model_validate(bundle)
        for entry in bundle["entry"]:
            resource = entry["resource"]
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
            seen.add(resource["resourceType"])
        urls = {entry["fullUrl"] for entry in bundle["entry"]}
        assert [ref for ref in references(bundle) if ref not in urls] == [], course
    assert {"Procedure", "AdverseEvent", "BiologicallyDerivedProduct", "Specimen"} <= seen
