"""`flask db upgrade` builds the schema from empty, and it matches the models."""

import hashlib
import os

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from intake import create_app
from intake.extensions import db


def _migration_app(tmp_path):
    uri = os.environ.get("TEST_MIGRATION_DATABASE_URL") or f"sqlite:///{tmp_path / 'm.db'}"
    return create_app({"SQLALCHEMY_DATABASE_URI": uri}, config_object="config.TestConfig")


def _empty(app):
    db.drop_all()
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    # Close the pool's connections now (a migration test's app is thrown away;
    # an open PostgreSQL connection collected later warns in another test).
    db.engine.dispose()


def test_upgrade_from_empty_matches_models(tmp_path):
    app = _migration_app(tmp_path)
    with app.app_context():
        _empty(app)
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
        tables = set(inspect(db.engine).get_table_names())
        downgrade(revision="base")
        remaining = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        _empty(app)
        db.engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"
    assert {"users", "audit_entries", "settings", "messages"} <= tables
    assert remaining == set()


def test_visit_types_get_their_kind_when_upgrading_a_populated_database(tmp_path):
    """Revision 3071fc613a03: each existing visit type's kind comes from its code;
    an unknown type that required the intake gate keeps it (collection kind)."""
    app = _migration_app(tmp_path)
    rows = [
        # code, requires_intake_gate, expected kind
        ("consultation", False, "consultation"),
        ("collection", True, "collection"),
        ("reinfusion-iv", False, "reinfusion_iv"),
        ("reinfusion-local", False, "reinfusion_local"),
        ("reinfusion-intrathecal", False, "reinfusion_intrathecal"),
        ("follow-up-1m", False, "follow_up"),
        ("harvest-2", True, "collection"),
        ("massage", False, "other"),
    ]
    with app.app_context():
        _empty(app)
        upgrade(revision="1c1f29cb5d06")
        with db.engine.begin() as conn:
            for n, (code, gated, _kind) in enumerate(rows):
                conn.execute(
                    text(
                        "INSERT INTO visit_types (code, names, modes, requires_intake_gate,"
                        " is_patient_bookable, is_desk_bookable, is_active, day_block_quantity,"
                        " position, created_at, updated_at) VALUES (:code, '{}', '[]', :gated,"
                        " true, true, true, 1, :n, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                    ),
                    {"code": code, "gated": gated, "n": n},
                )
        upgrade(revision="3071fc613a03")
        with db.engine.connect() as conn:
            kinds = dict(conn.execute(text("SELECT code, kind FROM visit_types")).all())
            columns = {c["name"] for c in inspect(conn).get_columns("visit_types")}
        downgrade(revision="1c1f29cb5d06")
        with db.engine.connect() as conn:
            gates = dict(
                conn.execute(text("SELECT code, requires_intake_gate FROM visit_types")).all()
            )
        _empty(app)
        db.engine.dispose()
    assert kinds == {code: kind for code, _gated, kind in rows}
    assert "requires_intake_gate" not in columns and "kind" in columns
    # Downgrading puts the flag back from the kind (reinfusions now gated too).
    assert {code for code, gated in gates.items() if gated} == {
        "collection",
        "harvest-2",
        "reinfusion-iv",
        "reinfusion-local",
        "reinfusion-intrathecal",
    }


def test_patients_and_courses_upgrade_a_populated_database(tmp_path):
    """Revision b3d5e7a9c1f0 on a clinic in use: every patient login becomes a
    patient record with the same id and one course; every clinical row joins
    that course; incubator places move from the collection visit to the course
    (and back to the collection visit on downgrade)."""
    app = _migration_app(tmp_path)
    created = "2026-01-05 08:00:00"
    with app.app_context():
        _empty(app)
        upgrade(revision="1c1f29cb5d06")
        with db.engine.begin() as conn:
            _populate_clinic_before_patients(conn)
        upgrade(revision="b3d5e7a9c1f0")
        with db.engine.connect() as conn:
            patients = {
                r.id: r
                for r in conn.execute(
                    text(
                        "SELECT id, record_number, family_name, given_name, date_of_birth,"
                        " phone, phone_digits, email, locale, user_id FROM patients"
                    )
                )
            }
            courses = {
                r.patient_id: r
                for r in conn.execute(
                    text("SELECT id, patient_id, number, status, closed_at FROM courses")
                )
            }
            course_of_row = {
                table: dict(
                    conn.execute(text(f"SELECT id, course_id FROM {table}")).all()  # noqa: S608
                )
                for table in (
                    "questionnaires",
                    "reviews",
                    "panel_orders",
                    "panel_results",
                    "consent_signatures",
                    "appointments",
                )
            }
            holds = {
                r.id: (r.appointment_id, r.course_id)
                for r in conn.execute(text("SELECT id, appointment_id, course_id FROM holds"))
            }
            message_patients = dict(conn.execute(text("SELECT id, patient_id FROM messages")).all())
            digests = dict(
                conn.execute(text("SELECT id, text_sha256 FROM consent_signatures")).all()
            )
            verified = dict(conn.execute(text("SELECT id, email_verified_at FROM users")).all())
            audit_patients = dict(
                conn.execute(text("SELECT id, patient_id FROM audit_entries")).all()
            )
            foreign_keys_on = (
                conn.dialect.name != "sqlite"
                or conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            )
            patient_fks = {
                fk["referred_table"]
                for fk in inspect(conn).get_foreign_keys("questionnaires")
                if fk["constrained_columns"] == ["patient_id"]
            }
        downgrade(revision="1c1f29cb5d06")
        with db.engine.connect() as conn:
            holds_after_downgrade = dict(
                conn.execute(text("SELECT id, appointment_id FROM holds")).all()
            )
            tables_after_downgrade = set(inspect(conn).get_table_names())
        _empty(app)
        db.engine.dispose()

    # Patient records: same ids as the logins, identity copied, login linked.
    assert set(patients) == {10, 11, 12}
    anna = patients[10]
    assert anna.family_name == "Anna Smith" and anna.given_name == ""
    assert str(anna.date_of_birth) == "1960-03-14"
    assert anna.phone == "+44 20 7946 0000" and anna.phone_digits == "442079460000"
    assert (anna.email, anna.locale, anna.user_id) == ("anna@example.com", "en", 10)
    assert patients[11].family_name == "王丽" and patients[11].locale == "zh_Hans"
    assert (patients[11].email, patients[11].user_id) == ("wang@example.cn", 11)
    assert patients[12].family_name == "山田 花子" and patients[12].phone is None
    assert patients[12].phone_digits is None and patients[12].locale == "ja"
    assert {p.id: p.record_number for p in patients.values()} == {
        10: "P000010",
        11: "P000011",
        12: "P000012",
    }
    # One course each: Anna in progress, Wang halted (consent withdrawn),
    # Yamada declined (latest questionnaire declined, an older one approved).
    assert {pid: (c.number, c.status) for pid, c in courses.items()} == {
        10: (1, "open"),
        11: (1, "halted"),
        12: (1, "declined"),
    }
    assert courses[10].closed_at is None
    assert courses[11].closed_at is not None and courses[12].closed_at is not None
    course = {pid: c.id for pid, c in courses.items()}
    # Every clinical row joins its patient's course.
    assert course_of_row == {
        "questionnaires": {100: course[10], 101: course[11], 102: course[12], 103: course[12]},
        "reviews": {200: course[10], 201: course[12]},
        "panel_orders": {300: course[10]},
        "panel_results": {400: course[10], 401: course[10], 402: course[11]},
        "consent_signatures": {500: course[10], 501: course[10], 502: course[11]},
        "appointments": {600: course[10], 601: course[10], 602: course[11]},
    }
    # Incubator places (per-day) belong to the course; the room stays with the visit.
    assert holds == {
        700: (None, course[10]),
        701: (None, course[10]),
        702: (None, course[10]),
        703: (601, None),
        704: (601, None),
        705: (600, None),
        706: (602, None),
    }
    # Messages find their patient; a staff member's message has none.
    assert message_patients == {800: 10, 801: 11, 802: None}
    # Signatures keep the fingerprint of the text that was signed.
    treatment_en = hashlib.sha256(f"{CONSENT_TITLE}\n\n{CONSENT_BODY}".encode()).hexdigest()
    treatment_zh = hashlib.sha256(f"{CONSENT_TITLE_ZH}\n\n{CONSENT_BODY_ZH}".encode()).hexdigest()
    assert digests == {500: treatment_en, 501: treatment_en, 502: treatment_zh}
    assert len({*digests.values()}) == 2
    # Existing accounts count as verified (from the day they were made).
    assert set(verified) == {1, 2, 3, 10, 11, 12}
    assert all(value is not None for value in verified.values())
    assert str(verified[10]).startswith(created[:10])
    assert audit_patients == {900: 10, 901: None}
    assert patient_fks == {"patients"}
    # SQLite: the migration turned foreign keys off to rebuild tables; the
    # pooled connection has them back on.
    assert foreign_keys_on

    # Downgrade: the incubator places go back to the collection visit (not to
    # the consultation, an earlier visit of the same course).
    assert holds_after_downgrade == {
        700: 601,
        701: 601,
        702: 601,
        703: 601,
        704: 601,
        705: 600,
        706: 602,
    }
    assert not {"patients", "courses"} & tables_after_downgrade


CONSENT_TITLE = "Consent to autologous cell treatment"
CONSENT_BODY = "I agree to the collection of my cells.\n\nI may withdraw at any time."
CONSENT_TITLE_ZH = "自体细胞治疗知情同意书"
CONSENT_BODY_ZH = "我同意采集我的细胞。\n\n我可以随时撤回同意。"


def _populate_clinic_before_patients(conn):
    """A clinic in use at revision 1c1f29cb5d06, in raw SQL (the models have moved on)."""

    def insert(table, **values):
        columns = ", ".join(values)
        params = ", ".join(f":{c}" for c in values)
        conn.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({params})"), values)  # noqa: S608

    t = "2026-01-05 08:00:00"
    user = {
        "password_hash": "x",
        "is_active": True,
        "is_password_temporary": False,
        "session_nonce": "n",
        "created_at": t,
        "updated_at": t,
    }
    insert(
        "users",
        id=1,
        email="admin@clinic.test",
        full_name="Ada Admin",
        locale="en",
        role="admin",
        **user,
    )
    insert(
        "users",
        id=2,
        email="doctor@clinic.test",
        full_name="Dr Li",
        locale="en",
        role="doctor",
        **user,
    )
    insert(
        "users",
        id=3,
        email="lab@clinic.test",
        full_name="Lab Tech",
        locale="en",
        role="lab",
        **user,
    )
    insert(
        "users",
        id=10,
        email="anna@example.com",
        full_name=" Anna Smith ",
        date_of_birth="1960-03-14",
        phone="+44 20 7946 0000",
        locale="en",
        role="patient",
        **user,
    )
    insert(
        "users",
        id=11,
        email="wang@example.cn",
        full_name="王丽",
        date_of_birth="1955-07-01",
        phone="138 0013 8000",
        locale="zh_Hans",
        role="patient",
        **user,
    )
    insert(
        "users",
        id=12,
        email="yamada@example.jp",
        full_name="山田 花子",
        date_of_birth="1948-12-24",
        phone=None,
        locale="ja",
        role="patient",
        **user,
    )

    insert("question_sets", id=1, version=1, definition="{}", is_active=True, created_at=t)
    questionnaire = {
        "question_set_id": 1,
        "answers": "{}",
        "reasons": "[]",
        "created_at": t,
        "updated_at": t,
        "submitted_at": t,
    }
    insert(
        "questionnaires",
        id=100,
        patient_id=10,
        status="approved",
        outcome="eligible",
        consultation_date="2026-01-12",
        **questionnaire,
    )
    insert(
        "questionnaires",
        id=101,
        patient_id=11,
        status="approved",
        outcome="eligible",
        **questionnaire,
    )
    insert(
        "questionnaires",
        id=102,
        patient_id=12,
        status="approved",
        outcome="eligible",
        **questionnaire,
    )
    insert(
        "questionnaires",
        id=103,
        patient_id=12,
        status="declined",
        outcome="needs_review",
        **questionnaire,
    )
    review = {"doctor_id": 2, "is_override": False, "created_at": t, "updated_at": t}
    insert(
        "reviews",
        id=200,
        questionnaire_id=100,
        patient_id=10,
        decision="approved",
        consultation_date="2026-01-12",
        signed_at=t,
        signer_name="Dr Li",
        **review,
    )
    insert(
        "reviews",
        id=201,
        questionnaire_id=103,
        patient_id=12,
        decision="declined",
        reason="Not a candidate",
        **review,
    )
    insert(
        "panel_orders",
        id=300,
        patient_id=10,
        questionnaire_id=100,
        ordered_by_id=2,
        ordered_at=t,
        items='["hiv", "hbv"]',
    )
    result = {"test_date": "2026-01-10", "entered_by_id": 2, "entered_at": t}
    insert(
        "panel_results",
        id=400,
        patient_id=10,
        item_code="hiv",
        result="negative",
        acceptable=True,
        **result,
    )
    insert(
        "panel_results",
        id=401,
        patient_id=10,
        item_code="hbv",
        result="negative",
        acceptable=True,
        **result,
    )
    insert(
        "panel_results",
        id=402,
        patient_id=11,
        item_code="hiv",
        result="negative",
        acceptable=None,
        **result,
    )

    document = {
        "kind": "treatment",
        "version": 1,
        "is_current": True,
        "published_at": t,
        "published_by_id": 1,
    }
    insert(
        "consent_documents", id=1, locale="en", title=CONSENT_TITLE, body=CONSENT_BODY, **document
    )
    insert(
        "consent_documents",
        id=2,
        locale="zh_Hans",
        title=CONSENT_TITLE_ZH,
        body=CONSENT_BODY_ZH,
        **document,
    )
    signature = {"kind": "treatment", "version": 1, "meaning": "I agree", "signed_at": t}
    insert(
        "consent_signatures",
        id=500,
        patient_id=10,
        document_id=1,
        locale="en",
        signer_name="Anna Smith",
        **signature,
    )
    insert(
        "consent_signatures",
        id=501,
        patient_id=10,
        document_id=1,
        locale="en",
        signer_name="Anna Smith",
        withdrawn_at=None,
        **signature,
    )
    insert(
        "consent_signatures",
        id=502,
        patient_id=11,
        document_id=2,
        locale="zh_Hans",
        signer_name="王丽",
        withdrawn_at="2026-01-20 09:00:00",
        withdrawal_reason="Changed my mind",
        withdrawn_by_id=11,
        **signature,
    )

    resource = {"names": "{}", "is_active": True, "created_at": t, "updated_at": t}
    insert(
        "resources",
        id=1,
        code="room-1",
        kind="room",
        capacity=1,
        is_per_day=False,
        position=0,
        **resource,
    )
    insert(
        "resources",
        id=2,
        code="incubator",
        kind="incubator",
        capacity=4,
        is_per_day=True,
        position=1,
        **resource,
    )
    visit_type = {
        "names": "{}",
        "modes": '["in_person"]',
        "is_patient_bookable": True,
        "is_desk_bookable": True,
        "is_active": True,
        "created_at": t,
        "updated_at": t,
    }
    insert(
        "visit_types",
        id=1,
        code="consultation",
        duration_minutes=30,
        requires_intake_gate=False,
        day_block_quantity=1,
        position=0,
        **visit_type,
    )
    insert(
        "visit_types",
        id=2,
        code="collection",
        duration_minutes=60,
        requires_intake_gate=True,
        day_block_resource_id=2,
        day_block_quantity=3,
        position=1,
        **visit_type,
    )
    insert(
        "visit_type_segments", id=1, visit_type_id=1, resource_id=1, offset_minutes=0, quantity=1
    )
    insert(
        "visit_type_segments", id=2, visit_type_id=2, resource_id=1, offset_minutes=0, quantity=1
    )

    appointment = {
        "mode": "in_person",
        "booked_by_id": 10,
        "created_at": t,
        "updated_at": t,
        "sequence": 0,
    }
    # Anna: a consultation (done), then her collection visit with three
    # incubator days; Wang: a consultation cancelled when she withdrew.
    insert(
        "appointments",
        id=600,
        patient_id=10,
        visit_type_id=1,
        start_at="2026-01-12 01:00:00",
        end_at="2026-01-12 01:30:00",
        status="completed",
        **appointment,
    )
    insert(
        "appointments",
        id=601,
        patient_id=10,
        visit_type_id=2,
        start_at="2026-02-02 01:00:00",
        end_at="2026-02-02 02:00:00",
        status="booked",
        **appointment,
    )
    insert(
        "appointments",
        id=602,
        patient_id=11,
        visit_type_id=1,
        start_at="2026-01-26 01:00:00",
        end_at="2026-01-26 01:30:00",
        status="booked",
        **appointment,
    )
    for hold_id, unit_start in (
        (700, "2026-02-01 16:00:00"),
        (701, "2026-02-02 16:00:00"),
        (702, "2026-02-03 16:00:00"),
    ):
        insert(
            "holds", id=hold_id, appointment_id=601, resource_id=2, unit_start=unit_start, seat=0
        )
    insert(
        "holds", id=703, appointment_id=601, resource_id=1, unit_start="2026-02-02 01:00:00", seat=0
    )
    insert(
        "holds", id=704, appointment_id=601, resource_id=1, unit_start="2026-02-02 01:15:00", seat=0
    )
    insert(
        "holds", id=705, appointment_id=600, resource_id=1, unit_start="2026-01-12 01:00:00", seat=0
    )
    insert(
        "holds", id=706, appointment_id=602, resource_id=1, unit_start="2026-01-26 01:00:00", seat=0
    )

    insert(
        "audit_entries",
        id=900,
        created_at=t,
        actor_id=10,
        actor_label="Anna Smith",
        action="eligibility.consent_signed",
        entity_type="ConsentSignature",
        entity_id="500",
        patient_id=10,
    )
    insert(
        "audit_entries",
        id=901,
        created_at=t,
        actor_id=1,
        actor_label="Ada Admin",
        action="accounts.staff_created",
        entity_type="User",
        entity_id="3",
        patient_id=None,
    )
    message = {"subject": "s", "body": "b", "status": "sent", "attempts": 1, "created_at": t}
    insert(
        "messages",
        id=800,
        user_id=10,
        template="visit_booked",
        locale="en",
        to_address="anna@example.com",
        **message,
    )
    insert(
        "messages",
        id=801,
        user_id=11,
        template="consent_withdrawn",
        locale="zh_Hans",
        to_address="wang@example.cn",
        **message,
    )
    insert(
        "messages",
        id=802,
        user_id=2,
        template="password_reset",
        locale="en",
        to_address="doctor@clinic.test",
        **message,
    )


def test_login_lock_columns_upgrade_a_populated_database(tmp_path):
    """Revision e45ef2ab68b6 on a clinic in use: every existing account starts
    with no failed logins and no lock; downgrading removes both columns."""
    app = _migration_app(tmp_path)
    with app.app_context():
        _empty(app)
        upgrade(revision="1c1f29cb5d06")
        with db.engine.begin() as conn:
            _populate_clinic_before_patients(conn)
        upgrade(revision="3071fc613a03")
        upgrade(revision="e45ef2ab68b6")
        with db.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, failed_logins, locked_until FROM users ORDER BY id")
            ).all()
        with db.engine.begin() as conn:  # the new columns work as the app uses them
            conn.execute(text("UPDATE users SET failed_logins = failed_logins + 1 WHERE id = 2"))
        downgrade(revision="3071fc613a03")
        with db.engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("users")}
            users = conn.execute(text("SELECT count(*) FROM users")).scalar_one()
        _empty(app)
        db.engine.dispose()
    assert [r.id for r in rows] == [1, 2, 3, 10, 11, 12]
    assert {(r.failed_logins, r.locked_until) for r in rows} == {(0, None)}
    assert not {"failed_logins", "locked_until"} & columns
    assert users == 6
