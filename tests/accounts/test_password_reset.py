"""Reset by an e-mailed, expiring, single-use token."""

import re
import threading
from datetime import timedelta

from sqlalchemy import select

from intake.accounts.models import PasswordResetToken, User
from intake.accounts.roles import Role
from intake.core.models import AuditEntry
from intake.extensions import db
from intake.notifications.models import Message

NEW = {"password": "Fresh-Start-88", "confirm": "Fresh-Start-88"}


def _request_link(client, email) -> str:
    with client.post("/password/forgot", data={"email": email}) as r:
        assert r.status_code == 302
    message = db.session.execute(select(Message).order_by(Message.id.desc())).scalars().first()
    return re.search(r"http\S+/password/reset/\S+", message.body).group(0).split("5000", 1)[1]


def test_token_works_once(client, make_user):
    user = make_user(Role.PATIENT, locale="ja")
    path = _request_link(client, user.email)
    message = db.session.execute(select(Message)).scalar_one()
    assert message.to_address == user.email and message.locale == "ja"
    with client.get(path) as r:
        assert r.status_code == 200
    with client.post(path, data=NEW) as r:
        assert r.status_code == 302
    db.session.refresh(user)
    assert user.check_password("Fresh-Start-88")
    with client.post(path, data={"password": "Again-Other-99", "confirm": "Again-Other-99"}) as r:
        assert r.status_code == 410
    with client.get(path) as r:
        assert r.status_code == 410
    db.session.refresh(user)
    assert user.check_password("Fresh-Start-88")
    actions = (
        db.session.execute(
            select(AuditEntry.action)
            .where(AuditEntry.action.like("accounts.%"))
            .order_by(AuditEntry.id)
        )
        .scalars()
        .all()
    )
    assert actions == ["accounts.password_reset_requested", "accounts.password_reset"]


def test_token_expires(client, make_user):
    user = make_user(Role.PATIENT)
    path = _request_link(client, user.email)
    token = db.session.execute(select(PasswordResetToken)).scalar_one()
    token.expires_at = token.created_at - timedelta(seconds=1)
    db.session.commit()
    with client.post(path, data=NEW) as r:
        assert r.status_code == 410
        assert "no longer valid" in r.get_data(as_text=True)
    db.session.refresh(user)
    assert user.check_password("Correct-Horse-9")


def test_unknown_address_gets_the_same_answer_and_no_message(client, make_user):
    user = make_user(Role.PATIENT)
    answers = []
    for email in (user.email, "nobody@example.org"):
        with client.post("/password/forgot", data={"email": email}, follow_redirects=True) as r:
            answers.append(re.sub(r"\s+", " ", r.get_data(as_text=True)))
    assert answers[0] == answers[1]
    assert db.session.execute(select(Message.to_address)).scalars().all() == [user.email]


def test_only_the_hash_is_stored(client, make_user):
    user = make_user(Role.PATIENT)
    path = _request_link(client, user.email)
    token = path.rsplit("/", 1)[1]
    row = db.session.execute(select(PasswordResetToken)).scalar_one()
    assert token not in row.token_hash and len(row.token_hash) == 64


def test_weak_new_password_is_refused_and_token_stays_usable(client, make_user):
    user = make_user(Role.PATIENT)
    path = _request_link(client, user.email)
    with client.post(path, data={"password": "weak", "confirm": "weak"}) as r:
        assert r.status_code == 200
        assert "Use at least 8 characters." in r.get_data(as_text=True)
    with client.post(path, data=NEW) as r:
        assert r.status_code == 302


def test_weak_and_mismatched_new_password_are_both_named(client, make_user):
    user = make_user(Role.PATIENT)
    path = _request_link(client, user.email)
    with client.post(path, data={"password": "weak", "confirm": "other"}) as r:
        body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "Use at least 8 characters." in body.split('id="password-error"', 1)[1]
    assert "The passwords do not match." in body.split('id="confirm-error"', 1)[1]
    with client.post(path, data=NEW) as r:  # nothing was used up
        assert r.status_code == 302


def test_using_one_link_ends_every_other_link_of_the_user(client, make_user):
    user = make_user(Role.PATIENT)
    older = _request_link(client, user.email)
    newer = _request_link(client, user.email)
    with client.post(newer, data=NEW) as r:
        assert r.status_code == 302
    with client.post(older, data={"password": "Again-Other-99", "confirm": "Again-Other-99"}) as r:
        assert r.status_code == 410
    db.session.refresh(user)
    assert user.check_password("Fresh-Start-88")


def test_using_the_older_link_ends_the_newer_one(client, make_user):
    user = make_user(Role.PATIENT)
    older = _request_link(client, user.email)
    newer = _request_link(client, user.email)
    with client.post(older, data=NEW) as r:
        assert r.status_code == 302
    with client.get(newer) as r:
        assert r.status_code == 410


def test_other_users_links_stay_usable(client, make_user):
    user, other = make_user(Role.PATIENT), make_user(Role.PATIENT)
    path = _request_link(client, user.email)
    others = _request_link(client, other.email)
    with client.post(path, data=NEW) as r:
        assert r.status_code == 302
    with client.post(others, data=NEW) as r:
        assert r.status_code == 302


def test_a_link_of_a_disabled_account_no_longer_works(client, make_user):
    user = make_user(Role.PATIENT)
    path = _request_link(client, user.email)
    user.is_active = False
    db.session.commit()
    with client.post(path, data=NEW) as r:
        assert r.status_code == 410
    db.session.refresh(user)
    assert user.check_password("Correct-Horse-9")


THREADS = 10


def test_concurrent_posts_of_one_link_change_the_password_once(app, make_user):
    """Ten tabs (or a replaying attacker) post the same link at once: the
    database decides, exactly one new password is set and audited."""
    user = make_user(Role.PATIENT)
    path = _request_link(app.test_client(), user.email)
    barrier = threading.Barrier(THREADS)
    outcomes: list = [None] * THREADS

    def post(i):
        client = app.test_client()
        password = f"Racing-Pass-{i:02d}"
        try:
            barrier.wait()
            with client.post(path, data={"password": password, "confirm": password}) as r:
                outcomes[i] = (r.status_code, password)
        except BaseException as exc:  # recorded, never lost in the thread
            outcomes[i] = ("error", repr(exc))

    threads = [threading.Thread(target=post, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)

    codes = sorted(code for code, _password in outcomes)
    assert codes == [302] + [410] * (THREADS - 1), outcomes
    [winner] = [password for code, password in outcomes if code == 302]
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password(winner)
    resets = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "accounts.password_reset")
    ).scalars()
    assert len(resets.all()) == 1


def test_changing_the_password_ends_open_links(client, make_user):
    user = make_user(Role.PATIENT)
    path = _request_link(client, user.email)
    client.post("/login", data={"email": user.email, "password": "Correct-Horse-9"}).close()
    data = {"current_password": "Correct-Horse-9", "password": "Own-Choice-55"}
    with client.post("/password/change", data={**data, "confirm": "Own-Choice-55"}) as r:
        assert r.status_code == 302
    client.post("/logout").close()
    with client.post(path, data=NEW) as r:
        assert r.status_code == 410
