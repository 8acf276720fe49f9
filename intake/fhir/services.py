"""The FHIR export of a course, recorded in the audit trail (an export of
health data is worth knowing about: who took which course, and how)."""

from __future__ import annotations

import json
from datetime import datetime

from intake.core import audit
from intake.fhir.collect import course_record
from intake.fhir.resources import course_bundle
from intake.patients.models import Course

MEDIA_TYPE = "application/fhir+json"


def export_course(course: Course, *, actor, now: datetime, channel: str) -> dict:
    """The course's Bundle; one audit row names who exported it and how
    (``channel``: ``record``, ``patient`` or ``command line``)."""
    bundle = course_bundle(course_record(course), now=now)
    audit.record(
        actor=actor,
        action="fhir.export",
        entity=course,
        patient=course.patient,
        after={"course": course.number, "resources": len(bundle["entry"]), "channel": channel},
    )
    return bundle


def as_json(bundle: dict) -> str:
    return json.dumps(bundle, ensure_ascii=False, indent=2)


def filename(course: Course) -> str:
    return f"course-{course.id}-fhir.json"
