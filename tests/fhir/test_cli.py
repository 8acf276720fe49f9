"""``flask export fhir --course N``: the bundle to a file or standard output,
recorded in the audit trail; an unknown course is a clear error."""

from __future__ import annotations

import json

from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select

from intake.core.models import AuditEntry
from intake.extensions import db


def test_the_bundle_to_a_file(runner, seed_course, tmp_path):
    seeded = seed_course()
    out = tmp_path / "course.json"
    result = runner.invoke(
        args=["export", "fhir", "--course", str(seeded.course.id), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    bundle = json.loads(out.read_text(encoding="utf-8"))
    Bundle.model_validate(bundle)
    assert f"{len(bundle['entry'])} resources written" in result.output
    (entry,) = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "fhir.export")
    ).scalars()
    assert entry.actor_id is None and entry.after["channel"] == "command line"


def test_the_bundle_to_standard_output(runner, seed_course):
    seeded = seed_course()
    result = runner.invoke(args=["export", "fhir", "--course", str(seeded.course.id)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["identifier"]["value"] == f"course-{seeded.course.id}"


def test_an_unknown_course(runner, app):
    result = runner.invoke(args=["export", "fhir", "--course", "424242"])
    assert result.exit_code != 0
    assert "There is no course 424242." in result.output
    assert db.session.execute(select(AuditEntry)).first() is None
