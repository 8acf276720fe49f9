"""Staff accounts: created by an admin (page and CLI), forced password change,
and every write to a user record leaves an audit row."""

from sqlalchemy import select

from intake.accounts.models import User
from intake.accounts.roles import Role
from intake.accounts.two_factor import code_at
from intake.core.models import AuditEntry
from intake.core.types import utcnow
from intake.extensions import db

STAFF = {
    "full_name": "Ito Aya",
    "email": "ito@example.org",
    "role": "coordinator",
    "locale": "ja",
    "password": "Initial-Pass-42",
}


def _audit(action):
    return db.session.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars().all()


def test_admin_creates_staff_who_must_change_password(app, client, login_as):
    admin = login_as(Role.ADMIN)
    with client.post("/admin/users/new", data=STAFF) as r:
        assert r.status_code == 302
    user = db.session.execute(select(User).where(User.email == "ito@example.org")).scalar_one()
    assert user.role == Role.COORDINATOR and user.is_password_temporary
    [entry] = _audit("accounts.create_staff")
    assert entry.actor_id == admin.id and entry.after["role"] == "coordinator"

    staff = app.test_client()
    staff.post("/login", data={"email": "ito@example.org", "password": "Initial-Pass-42"}).close()
    for path in ("/patients", "/me", "/messages/"):
        with staff.get(path) as r:
            assert r.status_code == 302 and r.headers["Location"] == "/password/change"
    with staff.post(
        "/password/change",
        data={
            "current_password": "Initial-Pass-42",
            "password": "Own-Secret-77",
            "confirm": "Own-Secret-77",
        },
    ) as r:
        assert r.headers["Location"] == "/worklist"
    # Next, two-step login must be set up before any work.
    with staff.get("/patients") as r:
        assert r.headers["Location"] == "/account/two-factor"
    with staff.get("/account/two-factor") as r:
        assert "data:image/svg+xml" in r.get_data(as_text=True)  # the QR code
    with staff.session_transaction() as s:
        secret = s["totp_setup_secret"]
    with staff.post("/account/two-factor", data={"code": "000000"}) as r:
        assert "コードが一致しません" in r.get_data(as_text=True)  # in their language (ja)
    with staff.post("/account/two-factor", data={"code": code_at(secret, utcnow())}) as r:
        assert r.headers["Location"] == "/worklist"
    with staff.get("/patients") as r:
        assert r.status_code == 200
    db.session.refresh(user)
    assert not user.is_password_temporary and user.has_two_factor
    [enabled] = _audit("accounts.two_factor_enable")
    assert enabled.actor_id == user.id and "totp_secret" not in enabled.after
    [change] = _audit("accounts.password_change")
    assert (
        change.before["is_password_temporary"] is True
        and change.after["is_password_temporary"] is False
    )


def test_create_staff_bad_input_keeps_values(client, login_as, make_user):
    login_as(Role.ADMIN)
    make_user(Role.DOCTOR, email="taken@example.org")
    cases = [
        ({"email": "taken@example.org"}, "An account with this e-mail already exists."),
        ({"role": "patient"}, "Not a valid choice."),
        ({"password": "weakweak"}, "Mix at least three kinds"),
    ]
    for change, message in cases:
        with client.post("/admin/users/new", data={**STAFF, **change}) as r:
            body = r.get_data(as_text=True)
            assert r.status_code == 200 and message in body
            assert 'value="Ito Aya"' in body
    assert not _audit("accounts.create_staff")


def test_admin_edit_is_audited_with_before_and_after(client, login_as, make_user):
    admin = login_as(Role.ADMIN)
    nurse = make_user(Role.COORDINATOR, full_name="Old Name")
    with client.post(
        f"/admin/users/{nurse.id}",
        data={"full_name": "New Name", "phone": "+81 3-1234-5678", "role": "doctor"},
    ) as r:
        assert r.status_code == 302
    [entry] = _audit("accounts.update")
    assert entry.actor_id == admin.id
    assert entry.before == {
        "full_name": "Old Name",
        "phone": None,
        "role": "coordinator",
        "is_active": True,
    }
    assert entry.after == {
        "full_name": "New Name",
        "phone": "+81312345678",  # stored in E.164 form
        "role": "doctor",
        "is_active": False,
    }


def test_admin_cannot_lock_themself_out(client, login_as):
    admin = login_as(Role.ADMIN)
    with client.post(
        f"/admin/users/{admin.id}", data={"full_name": admin.full_name, "role": "admin"}
    ) as r:
        assert "You cannot remove your own administrator access." in r.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.is_active


def test_edit_unknown_user_is_404(client, login_as):
    login_as(Role.ADMIN)
    with client.get("/admin/users/424242") as r:
        assert r.status_code == 404


def test_language_change_is_audited(client, login_as):
    user = login_as(Role.PATIENT)
    client.post("/language", data={"locale": "ja"}).close()
    db.session.refresh(user)
    assert user.locale == "ja"
    [entry] = _audit("accounts.set_locale")
    assert entry.before == {"locale": "en"} and entry.after == {"locale": "ja"}


def test_a_patient_choosing_a_language_is_written_to_in_it(client, login_as):
    """The language a patient picks in the header is the one the clinic's
    messages use (``notify`` reads the patient record's language)."""
    user = login_as(Role.PATIENT)
    client.post("/language", data={"locale": "zh_Hans"}).close()
    db.session.refresh(user.patient)
    assert user.patient.locale == "zh_Hans"


def test_cli_create_user(runner):
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "dr@example.org",
            "--name",
            "Dr Who",
            "--role",
            "doctor",
            "--password",
            "Tardis-Blue-63",
        ],
    )
    assert result.exit_code == 0, result.output
    user = db.session.execute(select(User).where(User.email == "dr@example.org")).scalar_one()
    assert user.role == Role.DOCTOR and user.is_password_temporary
    assert _audit("accounts.create_staff")[0].actor_id is None


def test_cli_create_user_refuses_weak_password(runner):
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "dr@example.org",
            "--name",
            "Dr Who",
            "--role",
            "doctor",
            "--password",
            "weak",
        ],
    )
    assert result.exit_code != 0 and "Use at least 8 characters." in result.output
    assert db.session.execute(select(User)).first() is None
