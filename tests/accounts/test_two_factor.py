"""Staff log in with a password and a code from an authenticator app."""

from sqlalchemy import select

from intake.accounts.roles import Role
from intake.core.models import AuditEntry, Setting
from intake.extensions import db
from tests.conftest import PASSWORD, current_code


def _password(client, user):
    with client.post("/login", data={"email": user.email, "password": PASSWORD}) as r:
        return r.headers.get("Location")


def test_the_password_alone_opens_no_session(client, make_user):
    doctor = make_user(Role.DOCTOR)
    assert _password(client, doctor) == "/login/code"
    with client.get("/patients") as r:
        assert r.status_code == 302 and r.headers["Location"].startswith("/login")


def test_a_wrong_code_is_refused_and_audited(client, make_user):
    doctor = make_user(Role.DOCTOR)
    _password(client, doctor)
    with client.post("/login/code", data={"code": "12345x"}) as r:
        assert r.status_code == 200
        assert "This code is not correct." in r.get_data(as_text=True)
    with client.get("/patients") as r:
        assert r.status_code == 302
    actions = db.session.execute(select(AuditEntry.action)).scalars().all()
    assert "accounts.two_factor_failed" in actions and "accounts.login" not in actions


def test_a_code_works_once(app, make_user):
    doctor = make_user(Role.DOCTOR)
    first, second = app.test_client(), app.test_client()
    code = current_code(doctor)
    _password(first, doctor)
    with first.post("/login/code", data={"code": code}) as r:
        assert r.headers["Location"] == "/worklist"
    _password(second, doctor)
    with second.post("/login/code", data={"code": code}) as r:
        assert r.status_code == 200  # the same code again: refused


def test_code_page_without_a_password_step_goes_to_login(client):
    with client.get("/login/code") as r:
        assert r.headers["Location"] == "/login"


def test_patients_log_in_with_the_password(client, make_user):
    assert _password(client, make_user(Role.PATIENT)) == "/me"


def test_staff_without_an_app_must_set_it_up_when_required(client, make_user):
    nurse = make_user(Role.COORDINATOR, two_factor=False)
    assert _password(client, nurse) == "/worklist"
    with client.get("/patients") as r:
        assert r.headers["Location"] == "/account/two-factor"


def test_when_the_clinic_switches_it_off_staff_log_in_with_the_password(client, make_user):
    db.session.add(Setting(key="staff_two_factor_required", value="0"))
    db.session.commit()
    nurse = make_user(Role.COORDINATOR, two_factor=False)
    _password(client, nurse)
    with client.get("/patients") as r:
        assert r.status_code == 200


def test_admin_resets_a_lost_app(client, login_as, make_user):
    nurse = make_user(Role.COORDINATOR)
    admin = login_as(Role.ADMIN)
    with client.get(f"/admin/users/{nurse.id}") as r:
        assert "Reset two-step login" in r.get_data(as_text=True)
    data = {"full_name": nurse.full_name, "role": "coordinator", "is_active": "y"}
    with client.post(f"/admin/users/{nurse.id}", data={**data, "reset_two_factor": "y"}) as r:
        assert r.status_code == 302
    db.session.refresh(nurse)
    assert not nurse.has_two_factor and nurse.totp_secret is None
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "accounts.two_factor_reset")
    ).scalar_one()
    assert entry.actor_id == admin.id
