"""The patient record apart from the login: the desk registers walk-in and
phone patients, sees possible duplicates, books them, and invites them to log
in; courses; search; the staff record and the patient's pages agree."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from intake.accounts.roles import Role
from intake.core.errors import DomainError
from intake.core.models import AuditEntry
from intake.extensions import db
from intake.notifications.models import Message
from intake.patients import services as patient_services
from intake.patients.models import Course, CourseStatus, Patient
from intake.scheduling import services
from intake.scheduling.models import Appointment
from tests.conftest import log_in

WALK_IN = {
    "family_name": "张",
    "given_name": "伟",
    "family_name_latin": "Zhang",
    "given_name_latin": "Wei",
    "date_of_birth": "1962-03-04",
    "sex": "male",
    "nationality": "CN",
    "phone": "+86 139 0000 1111",
    "email": "",
    "locale": "zh_Hans",
}


def _post(client, url, data):
    with client.post(url, data=data) as r:
        return r.status_code, r.headers.get("Location"), r.get_data(as_text=True)


def _patients() -> int:
    return db.session.execute(select(func.count()).select_from(Patient)).scalar_one()


def test_a_coordinator_registers_a_walk_in_patient_without_a_login(client, login_as):
    login_as(Role.COORDINATOR)
    status, location, _body = _post(client, "/patients/new", WALK_IN)
    assert status == 302
    patient = db.session.execute(select(Patient)).scalar_one()
    assert location == f"/patients/{patient.id}"
    assert patient.user_id is None and patient.full_name == "张伟"
    assert patient.latin_name == "ZHANG Wei" and patient.record_number == f"P{patient.id:06d}"
    assert patient.phone_digits == "8613900001111"
    (course,) = db.session.execute(select(Course)).scalars()
    assert course.patient_id == patient.id and course.status == CourseStatus.OPEN
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "patients.register")
    ).scalar_one()
    assert entry.patient_id == patient.id and entry.after["family_name"] == "张"
    with client.get(location) as r:
        page = r.get_data(as_text=True)
    assert "张伟" in page and "ZHANG Wei" in page and "Invite to log in" in page


@pytest.mark.parametrize(
    "changes",
    [
        {},  # the same name and date of birth
        {"family_name": "Zhang", "given_name": "Wei", "phone": ""},  # the Latin name matches
        {"family_name": "李", "date_of_birth": "1970-01-01", "phone": "+86-139-0000-1111"},
    ],
)
def test_possible_duplicates_are_flagged_never_merged(client, login_as, changes):
    login_as(Role.COORDINATOR)
    assert _post(client, "/patients/new", WALK_IN)[0] == 302
    status, _location, body = _post(client, "/patients/new", {**WALK_IN, **changes})
    assert status == 200 and 'id="possible-duplicates"' in body
    assert "张伟" in body and _patients() == 1
    # Saving anyway needs the coordinator to say it is a different person.
    data = {**WALK_IN, **changes, "not_duplicate": "yes"}
    assert _post(client, "/patients/new", data)[0] == 302
    assert _patients() == 2


def test_bad_input_is_shown_beside_the_field(client, login_as):
    login_as(Role.COORDINATOR)
    status, _location, body = _post(
        client, "/patients/new", {**WALK_IN, "family_name": "   ", "date_of_birth": "2999-01-01"}
    )
    assert status == 200
    assert 'id="family_name-error"' in body and 'id="date_of_birth-error"' in body
    assert 'value="Zhang"' in body and _patients() == 0


@pytest.mark.parametrize("role", [Role.PATIENT, Role.LAB, Role.MANAGER, Role.ADMIN])
def test_only_coordinators_and_doctors_register(client, login_as, role):
    login_as(role)
    assert _post(client, "/patients/new", WALK_IN)[0] == 403
    assert _patients() == (1 if role == Role.PATIENT else 0)


def test_a_patient_without_a_login_can_be_booked(clinic, coordinator, make_patient):
    patient = make_patient(with_login=False, email="walkin@example.org", locale="ja")
    start = clinic.at(clinic.day(), "10:00")
    appointment = services.book_visit(patient, "consultation", start, actor=coordinator)
    db.session.commit()
    assert appointment.patient_id == patient.id and appointment.course_id is not None
    message = db.session.execute(select(Message)).scalar_one()
    # No inbox to show it in: it goes by e-mail, in the patient's language.
    assert message.user_id is None and message.patient_id == patient.id
    assert message.to_address == "walkin@example.org" and message.locale == "ja"


def test_a_patient_with_neither_login_nor_email_is_booked_and_told_by_the_desk(
    clinic, coordinator, make_patient
):
    patient = make_patient(with_login=False)
    start = clinic.at(clinic.day(), "11:00")
    services.book_visit(patient, "consultation", start, actor=coordinator)
    db.session.commit()
    assert db.session.execute(select(func.count()).select_from(Message)).scalar_one() == 0
    assert db.session.execute(select(Appointment)).scalar_one().patient_id == patient.id


def test_the_desk_invites_a_patient_to_log_in(app, client, login_as, make_patient):
    patient = make_patient(with_login=False, family_name="山田", given_name="太郎", locale="ja")
    login_as(Role.COORDINATOR)
    url = f"/patients/{patient.id}/invite"
    status, _location, body = _post(client, url, {"email": "not-an-address"})
    assert status == 400 and 'id="email-error"' in body
    status, location, _body = _post(client, url, {"email": "Taro@Example.org"})
    assert status == 302 and location == f"/patients/{patient.id}"
    db.session.refresh(patient)
    user = patient.user
    assert user.email == "taro@example.org" and user.role == Role.PATIENT
    assert patient.email == "taro@example.org"
    invitation = db.session.execute(
        select(Message).where(Message.template == "patient_invitation")
    ).scalar_one()
    assert invitation.user_id == user.id and invitation.locale == "ja"
    path = "/" + re.search(r"https?://[^/]+/(\S+)", invitation.body).group(1)
    # The patient chooses a password through the link, then logs in.
    patient_client = app.test_client()
    data = {"password": "Yama-Fuji-2026", "confirm": "Yama-Fuji-2026"}
    with patient_client.post(path, data=data) as r:
        assert r.status_code == 302
    user = db.session.get(type(user), user.id)
    db.session.refresh(user)
    assert user.check_password("Yama-Fuji-2026") and user.email_verified_at is not None
    log_in(patient_client, user, "Yama-Fuji-2026")
    with patient_client.get("/me") as r:
        assert "山田 太郎" in r.get_data(as_text=True)
    # A second invitation is refused: the record has a login now.
    assert _post(client, url, {"email": "other@example.org"})[0] == 400


def test_inviting_with_an_address_already_in_use_is_refused(make_patient, make_user):
    taken = make_user(Role.PATIENT, email="taken@example.org")
    walk_in = make_patient(with_login=False)
    coordinator = make_user(Role.COORDINATOR)
    from intake.accounts.services import invite_patient

    with pytest.raises(DomainError) as caught:
        invite_patient(walk_in, email="TAKEN@example.org", actor=coordinator)
    assert caught.value.field == "email" and taken.patient.id != walk_in.id


def test_one_open_course_per_patient_is_a_database_guarantee(make_patient):
    patient = make_patient(with_login=False)
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.execute(
                insert(Course).values(patient_id=patient.id, number=2, status="open")
            )


def test_a_new_course_only_after_the_last_one_ended(client, login_as, make_patient):
    patient = make_patient(with_login=False)
    coordinator = login_as(Role.COORDINATOR)
    with pytest.raises(DomainError):
        patient_services.start_new_course(patient, actor=coordinator)
    db.session.rollback()
    course = patient_services.current_course(patient)
    patient_services.close_course(
        course, CourseStatus.COMPLETED, actor=coordinator, reason="Last follow-up done."
    )
    db.session.commit()
    status, location, _body = _post(client, f"/patients/{patient.id}/courses", {})
    assert status == 302
    courses = (
        db.session.execute(
            select(Course).where(Course.patient_id == patient.id).order_by(Course.number)
        )
        .scalars()
        .all()
    )
    assert [(c.number, c.status) for c in courses] == [
        (1, CourseStatus.COMPLETED),
        (2, CourseStatus.OPEN),
    ]
    assert patient_services.current_course(patient).number == 2


def test_search_takes_percent_and_underscore_literally(client, login_as, make_patient):
    make_patient(with_login=False, family_name="Tanaka", given_name="Ken")
    make_patient(with_login=False, family_name="Sato", given_name="Yu", phone="+81 90 5555 1234")
    login_as(Role.COORDINATOR)

    def names(q):
        with client.get("/patients", query_string={"q": q}) as r:
            body = r.get_data(as_text=True)
        return {n for n in ("Ken Tanaka", "Yu Sato") if n in body}

    assert names("%") == set()
    assert names("_") == set()
    assert names("tanaka") == {"Ken Tanaka"}
    assert names("90-5555") == {"Yu Sato"}  # phone digits, whatever the spacing
    assert names("P0") == {"Ken Tanaka", "Yu Sato"}  # record numbers


def test_patient_and_login_ids_differ_and_each_sees_only_their_own(
    client, make_patient, make_approved_patient, clinic, coordinator
):
    # Records without logins first: the patients' ids no longer match their logins'.
    walk_ins = [make_patient(with_login=False) for _ in range(6)]
    mine = make_approved_patient()
    theirs = make_approved_patient()
    assert mine.patient.id != mine.id and theirs.patient.id != theirs.id
    start = clinic.at(clinic.day(), "10:00")
    their_visit = services.book_visit(theirs.patient, "consultation", start, actor=coordinator)
    my_visit = services.book_visit(
        mine.patient, "consultation", clinic.at(clinic.day(), "11:00"), actor=coordinator
    )
    db.session.commit()
    log_in(client, mine)
    with client.get(f"/visits/{their_visit.id}.ics") as r:
        assert r.status_code == 404
    with client.get(f"/visits/{my_visit.id}.ics") as r:
        assert r.status_code == 200
    for other in (theirs.patient, walk_ins[0]):
        with client.get(f"/panel/{other.id}") as r:
            assert r.status_code == 404
    with client.get(f"/panel/{mine.patient.id}") as r:
        assert r.status_code == 200
    with client.get("/visits") as r:
        body = r.get_data(as_text=True)
    assert f"/visits/{my_visit.id}" in body and f"/visits/{their_visit.id}" not in body
    with client.get("/journey") as r:
        assert r.status_code == 200 and 'data-step="book"' in r.get_data(as_text=True)


@pytest.mark.parametrize(
    "query",
    [{"page": "99999999999999999999999"}, {"page": "-3"}, {"page": "abc"}, {"page": ""}],
    # NUL bytes: a 400 before any view (tests/core/test_request_input.py)
)
def test_the_patient_list_answers_odd_query_strings(client, login_as, query):
    login_as(Role.COORDINATOR)
    with client.get("/patients", query_string=query) as r:
        assert r.status_code == 200


def test_a_self_registered_twin_of_a_walk_in_is_flagged_on_both_records(
    client, login_as, make_patient, make_user
):
    from datetime import date as day

    walk_in = make_patient(
        with_login=False, family_name="王", given_name="芳", date_of_birth=day(1971, 2, 3)
    )
    online = make_user(
        Role.PATIENT, family_name="王", given_name="芳", date_of_birth=day(1971, 2, 3)
    )
    login_as(Role.COORDINATOR)
    for mine, other in ((walk_in, online.patient), (online.patient, walk_in)):
        with client.get(f"/patients/{mine.id}") as r:
            body = r.get_data(as_text=True)
        flagged = body.split('id="possible-duplicates"', 1)[1].split("</section>", 1)[0]
        assert f"/patients/{other.id}" in flagged and f'/patients/{mine.id}"' not in flagged
