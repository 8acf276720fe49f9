"""Downloading a course as FHIR: the clinical staff from the patient's record,
the patient from their own page; each download is in the audit trail; another
patient's course, or a course under another patient's record, answers 404."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from intake.accounts.roles import Role
from intake.core.models import AuditEntry
from intake.extensions import db
from tests.conftest import log_in


def _get(client, url):
    with client.get(url) as response:
        return response.status_code, response.headers, response.get_data(as_text=True)


def _exports() -> list[AuditEntry]:
    return list(
        db.session.execute(
            select(AuditEntry).where(AuditEntry.action == "fhir.export").order_by(AuditEntry.id)
        ).scalars()
    )


def _staff_url(seeded) -> str:
    return f"/patients/{seeded.patient.id}/courses/{seeded.course.id}/fhir"


def test_the_doctor_downloads_from_the_record_page(client, seed_course, make_user):
    seeded = seed_course()
    doctor = make_user(Role.DOCTOR)
    log_in(client, doctor)
    status, _headers, page = _get(client, f"/patients/{seeded.patient.id}")
    assert status == 200 and _staff_url(seeded) in page and "Download as FHIR (JSON)" in page
    status, headers, body = _get(client, _staff_url(seeded))
    assert status == 200
    assert headers["Content-Type"].startswith("application/fhir+json")
    assert headers["Content-Disposition"] == (
        f'attachment; filename="course-{seeded.course.id}-fhir.json"'
    )
    bundle = json.loads(body)
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    (entry,) = _exports()
    assert entry.actor_id == doctor.id and entry.patient_id == seeded.patient.id
    assert entry.entity_type == "courses" and entry.entity_id == str(seeded.course.id)
    assert entry.after["channel"] == "record"
    assert entry.after["resources"] == len(bundle["entry"])


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.MANAGER])
def test_other_clinical_staff_download_too(client, seed_course, login_as, role):
    seeded = seed_course()
    login_as(role)
    assert _get(client, _staff_url(seeded))[0] == 200


@pytest.mark.parametrize("role", [Role.LAB, Role.ADMIN])
def test_staff_who_may_not_open_the_record_are_refused(client, seed_course, login_as, role):
    seeded = seed_course()
    login_as(role)
    assert _get(client, _staff_url(seeded))[0] == 403
    assert _exports() == []


def test_a_course_under_another_patients_record_is_hidden(client, seed_course, login_as):
    mine, other = seed_course(), seed_course()
    login_as(Role.DOCTOR)
    url = f"/patients/{mine.patient.id}/courses/{other.course.id}/fhir"
    assert _get(client, url)[0] == 404
    assert _get(client, f"/patients/{mine.patient.id}/courses/999999/fhir")[0] == 404
    assert _exports() == []


def test_the_patient_downloads_their_own_course_from_their_page(client, seed_course):
    seeded = seed_course(locale="zh_Hans")
    log_in(client, seeded.patient.user)
    status, _headers, page = _get(client, "/me")
    url = f"/me/courses/{seeded.course.id}/fhir"
    assert status == 200 and url in page
    assert "下载第 1 个疗程记录（FHIR）" in page
    status, headers, body = _get(client, url)
    assert status == 200 and headers["Content-Type"].startswith("application/fhir+json")
    assert seeded.batch.coi in body
    (entry,) = _exports()
    assert entry.actor_id == seeded.patient.user.id and entry.after["channel"] == "patient"


def test_another_patients_course_is_hidden_from_a_patient(client, seed_course):
    mine, other = seed_course(), seed_course()
    log_in(client, mine.patient.user)
    assert _get(client, f"/me/courses/{other.course.id}/fhir")[0] == 404
    assert _get(client, f"/patients/{other.patient.id}/courses/{other.course.id}/fhir")[0] == 403
    assert _exports() == []


def test_staff_cannot_use_the_patients_address(client, seed_course, login_as):
    seeded = seed_course()
    login_as(Role.DOCTOR)
    assert _get(client, f"/me/courses/{seeded.course.id}/fhir")[0] == 403


def test_anonymous_visitors_are_sent_to_log_in(client, seed_course):
    seeded = seed_course()
    for url in (_staff_url(seeded), f"/me/courses/{seeded.course.id}/fhir"):
        status, headers, _body = _get(client, url)
        assert status == 302 and "/login" in headers["Location"]


@pytest.mark.parametrize(
    ("locale", "staff_text", "patient_text"),
    [
        ("en", "Download as FHIR (JSON)", "Download course 1 (FHIR)"),
        ("zh_Hans", "下载 FHIR 文件（JSON）", "下载第 1 个疗程记录（FHIR）"),
        ("ja", "FHIR 形式でダウンロード（JSON）", "第 1 治療コースの記録をダウンロード（FHIR）"),
    ],
)
def test_the_links_in_each_language(app, seed_course, make_user, locale, staff_text, patient_text):
    seeded = seed_course(locale=locale)
    patient_client = app.test_client()
    log_in(patient_client, seeded.patient.user)
    assert patient_text in _get(patient_client, "/me")[2]
    staff_client = app.test_client()
    log_in(staff_client, make_user(Role.DOCTOR, locale=locale))
    assert staff_text in _get(staff_client, f"/patients/{seeded.patient.id}")[2]
