"""Each role reaches its home and is refused elsewhere; anonymous users log in first."""

import pytest

from intake.accounts.roles import Role
from tests.conftest import current_code

HOMES = {
    Role.PATIENT: "/me",
    Role.COORDINATOR: "/worklist",
    Role.DOCTOR: "/worklist",
    Role.LAB: "/lab",
    Role.MANAGER: "/manager",
    Role.ADMIN: "/admin/users",
}
PROTECTED = [
    "/me",
    "/patients",
    "/lab",
    "/manager",
    "/manager/settings",
    "/audit",
    "/admin/users",
    "/admin/users/new",
]
ALLOWED = {
    Role.PATIENT: {"/me"},
    # Coordinators and doctors read the lab board (issue 9); only the lab writes.
    Role.COORDINATOR: {"/patients", "/lab"},
    Role.DOCTOR: {"/patients", "/lab"},
    Role.LAB: {"/lab"},
    Role.MANAGER: {"/manager", "/manager/settings", "/audit", "/patients", "/lab"},
    Role.ADMIN: {"/admin/users", "/admin/users/new", "/audit"},
}


@pytest.mark.parametrize("role", list(Role))
def test_login_lands_on_role_home(client, make_user, role):
    user = make_user(role)
    with client.post("/login", data={"email": user.email, "password": "Correct-Horse-9"}) as r:
        assert r.status_code == 302
        first = r.headers["Location"]
    if role == Role.PATIENT:
        assert first == HOMES[role]
    else:  # staff: the code from the authenticator app comes second
        assert first == "/login/code"
        with client.post("/login/code", data={"code": current_code(user)}) as r:
            assert r.headers["Location"] == HOMES[role]
    with client.get("/") as r:
        assert r.headers["Location"] == HOMES[role]
    with client.get(HOMES[role]) as r:
        assert r.status_code == 200


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("path", PROTECTED)
def test_role_is_refused_elsewhere(client, login_as, role, path):
    login_as(role)
    with client.get(path) as r:
        assert r.status_code == (200 if path in ALLOWED[role] else 403)
        if r.status_code == 403:
            assert "You do not have access to this page" in r.get_data(as_text=True)


@pytest.mark.parametrize("path", PROTECTED + ["/messages/", "/password/change"])
def test_anonymous_is_sent_to_login(client, path):
    with client.get(path) as r:
        assert r.status_code == 302
        assert r.headers["Location"].startswith("/login?next=")


def test_login_follows_only_local_next(client, make_user):
    user = make_user(Role.PATIENT)
    data = {"email": user.email, "password": "Correct-Horse-9"}
    with client.post("/login?next=https://evil.example/x", data=data) as r:
        assert r.headers["Location"] == "/me"
    client.post("/logout").close()
    with client.post("/login?next=/messages/", data=data) as r:
        assert r.headers["Location"] == "/messages/"
    manager = make_user(Role.MANAGER)
    client.post("/logout").close()
    client.post("/login?next=/audit", data={**data, "email": manager.email}).close()
    with client.post("/login/code", data={"code": current_code(manager)}) as r:
        assert r.headers["Location"] == "/audit"


def test_patient_record_of_another_is_404_and_staff_see_it(client, login_as, make_user):
    other = make_user(Role.PATIENT)
    login_as(Role.COORDINATOR)
    with client.get(f"/patients/{other.id}") as r:
        assert r.status_code == 200
        assert other.full_name in r.get_data(as_text=True)
    staff = make_user(Role.DOCTOR)
    with client.get(f"/patients/{staff.id}") as r:
        assert r.status_code == 404  # staff accounts are not patient records
    with client.get("/patients/999999") as r:
        assert r.status_code == 404


def test_patient_record_shows_journey_visits_and_actions(
    client, login_as, make_user, count_queries
):
    patient = make_user(Role.PATIENT)
    login_as(Role.COORDINATOR)
    with count_queries() as statements:
        with client.get(f"/patients/{patient.id}") as r:
            body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "Treatment journey" in body and "Answer the health questions" in body
    assert "Before the collection visit can be booked" in body
    assert f"/panel/{patient.id}" in body and f"/desk/book?patient_id={patient.id}" in body
    assert "No upcoming visit." in body
    # The session's user, the patient, their course and the course's journey
    # (questionnaire, panel, signatures, the consent version, collection, culture
    # place), visits, courses, recent activity, and after the reinfusion the
    # follow-up contacts and adverse events: a fixed number whatever the data.
    assert len(statements) <= 18, statements


def test_patient_record_of_a_ready_patient(client, login_as, make_approved_patient):
    patient = make_approved_patient()
    login_as(Role.DOCTOR)
    with client.get(f"/patients/{patient.id}") as r:
        body = r.get_data(as_text=True)
    assert "The collection visit may be booked." in body
    assert "/reviews/" in body
