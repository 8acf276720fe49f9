"""patients separate from logins, treatment courses, holds owned by the course's culture

Every patient login becomes a ``patients`` row with the same id (so every
``patient_id`` already stored stays right) and one course; every clinical row
of that patient joins the course. Incubator-place holds move from the
collection visit to the course.

Revision ID: b3d5e7a9c1f0
Revises: 1c1f29cb5d06
Create Date: 2026-12-02 09:30:00

"""
import hashlib
import re
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

import intake.core.types

revision = "b3d5e7a9c1f0"
down_revision = "1c1f29cb5d06"
branch_labels = None
depends_on = None

CLINICAL = ("questionnaires", "reviews", "panel_orders", "panel_results", "consent_signatures")
PATIENT_FK_TABLES = (*CLINICAL, "appointments", "audit_entries")


def _digits(phone):
    digits = re.sub(r"\D", "", phone or "")
    return digits or None


def upgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(
            sa.Column(
                "email_verified_at", intake.core.types.UTCDateTime(timezone=True), nullable=True
            )
        )
    op.execute("UPDATE users SET email_verified_at = created_at")
    with op.batch_alter_table("consent_documents") as batch_op:
        batch_op.add_column(
            sa.Column("changes_meaning", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("consent_signatures") as batch_op:
        batch_op.add_column(sa.Column("text_sha256", sa.String(length=64), nullable=True))
    bind0 = op.get_bind()
    for sig_id, title, body in bind0.execute(sa.text(
        "SELECT s.id, d.title, d.body FROM consent_signatures s "
        "JOIN consent_documents d ON d.id = s.document_id"
    )).all():
        digest = hashlib.sha256(f"{title}\n\n{body}".encode()).hexdigest()
        bind0.execute(
            sa.text("UPDATE consent_signatures SET text_sha256 = :d WHERE id = :i"),
            {"d": digest, "i": sig_id},
        )
    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_number", sa.String(length=20), nullable=True),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("family_name_latin", sa.String(length=100), nullable=True),
        sa.Column("given_name_latin", sa.String(length=100), nullable=True),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column(
            "sex",
            sa.Enum(
                "female", "male", "other", "unknown",
                name="patient_sex", native_enum=False, create_constraint=True, length=32,
            ),
            nullable=True,
        ),
        sa.Column("nationality", sa.String(length=2), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("phone_digits", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", intake.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", intake.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_patients_created_by_id_users")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_patients_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
        sa.UniqueConstraint("record_number", name=op.f("uq_patients_record_number")),
        sa.UniqueConstraint("user_id", name=op.f("uq_patients_user_id")),
    )
    op.create_index("ix_patients_identity", "patients", ["date_of_birth", "family_name"])
    op.create_index("ix_patients_phone_digits", "patients", ["phone_digits"])
    op.create_table(
        "courses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open", "halted", "declined", "completed",
                name="course_status", native_enum=False, create_constraint=True, length=32,
            ),
            nullable=False,
        ),
        sa.Column("opened_at", intake.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", intake.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("close_reason", sa.Text(), nullable=True),
        sa.Column("opened_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["opened_by_id"], ["users.id"], name=op.f("fk_courses_opened_by_id_users")),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_courses_patient_id_patients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses")),
        sa.UniqueConstraint("patient_id", "number", name=op.f("uq_courses_patient_id_number")),
    )
    op.create_index(op.f("ix_courses_patient_id"), "courses", ["patient_id"])
    op.create_index(op.f("ix_courses_status"), "courses", ["status"])
    op.create_index(
        "uq_courses_one_open_per_patient",
        "courses",
        ["patient_id"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )

    bind = op.get_bind()
    now = sa.func.now()
    users = bind.execute(
        sa.text(
            "SELECT id, email, full_name, date_of_birth, phone, locale, created_at "
            "FROM users WHERE role = 'patient' ORDER BY id"
        )
    ).mappings().all()
    patients_t = sa.table(
        "patients",
        *(sa.column(c) for c in (
            "id", "record_number", "family_name", "given_name", "date_of_birth", "phone",
            "phone_digits", "email", "locale", "user_id", "created_at", "updated_at",
        )),
    )
    rows = [
        {
            "id": u["id"],
            "record_number": f"P{u['id']:06d}",
            "family_name": (u["full_name"] or "").strip() or u["email"],
            "given_name": "",
            "date_of_birth": u["date_of_birth"],
            "phone": u["phone"],
            "phone_digits": _digits(u["phone"]),
            "email": u["email"],
            "locale": u["locale"] or "en",
            "user_id": u["id"],
            "created_at": u["created_at"],
            "updated_at": u["created_at"],
        }
        for u in users
    ]
    if rows:
        op.bulk_insert(patients_t, rows)
    if bind.dialect.name == "postgresql":
        bind.execute(sa.text(
            "SELECT setval(pg_get_serial_sequence('patients', 'id'), "
            "COALESCE((SELECT MAX(id) FROM patients), 0) + 1, false)"
        ))
    # One course per patient: halted if consent was withdrawn, declined if the
    # doctor declined, otherwise open.
    withdrawn = {
        r[0] for r in bind.execute(sa.text(
            "SELECT DISTINCT patient_id FROM consent_signatures WHERE withdrawn_at IS NOT NULL"
        ))
    }
    latest_status = dict(bind.execute(sa.text(
        "SELECT q.patient_id, q.status FROM questionnaires q WHERE q.id IN "
        "(SELECT MAX(id) FROM questionnaires GROUP BY patient_id)"
    )).all())
    courses_t = sa.table(
        "courses", *(sa.column(c) for c in ("patient_id", "number", "status", "opened_at"))
    )
    course_rows = []
    for u in users:
        status = "open"
        if u["id"] in withdrawn:
            status = "halted"
        elif latest_status.get(u["id"]) == "declined":
            status = "declined"
        course_rows.append(
            {"patient_id": u["id"], "number": 1, "status": status, "opened_at": u["created_at"]}
        )
    if course_rows:
        op.bulk_insert(courses_t, course_rows)
    bind.execute(sa.text(
        "UPDATE courses SET closed_at = opened_at, close_reason = 'migrated' WHERE status <> 'open'"
    ))

    for table in (*CLINICAL, "appointments"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("course_id", sa.Integer(), nullable=True))
        bind.execute(sa.text(
            f"UPDATE {table} SET course_id = "  # noqa: S608 (fixed table names)
            "(SELECT c.id FROM courses c WHERE c.patient_id = "
            f"{table}.patient_id AND c.number = 1)"
        ))

    # Holds: incubator places (per-day resources) belong to the course.
    with op.batch_alter_table("holds") as batch_op:
        batch_op.add_column(sa.Column("course_id", sa.Integer(), nullable=True))
        batch_op.alter_column("appointment_id", existing_type=sa.Integer(), nullable=True)
    bind.execute(sa.text(
        "UPDATE holds SET course_id = (SELECT a.course_id FROM appointments a "
        "WHERE a.id = holds.appointment_id), appointment_id = NULL "
        "WHERE resource_id IN (SELECT id FROM resources WHERE is_per_day = :yes)"
    ), {"yes": True})
    with op.batch_alter_table("holds") as batch_op:
        batch_op.create_foreign_key(
            op.f("fk_holds_course_id_courses"), "courses", ["course_id"], ["id"]
        )
        batch_op.create_check_constraint(
            op.f("ck_holds_one_owner"), "(appointment_id IS NULL) <> (course_id IS NULL)"
        )
        batch_op.create_index("ix_holds_course_unit", ["course_id", "unit_start"])

    for table in PATIENT_FK_TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_patient_id_users", type_="foreignkey")
            batch_op.create_foreign_key(
                op.f(f"fk_{table}_patient_id_patients"), "patients", ["patient_id"], ["id"]
            )
            if table != "audit_entries":
                batch_op.alter_column("course_id", existing_type=sa.Integer(), nullable=False)
                batch_op.create_foreign_key(
                    op.f(f"fk_{table}_course_id_courses"), "courses", ["course_id"], ["id"]
                )
                batch_op.create_index(op.f(f"ix_{table}_course_id"), ["course_id"])

    with op.batch_alter_table("messages") as batch_op:
        batch_op.add_column(sa.Column("patient_id", sa.Integer(), nullable=True))
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(
            op.f("fk_messages_patient_id_patients"), "patients", ["patient_id"], ["id"]
        )
        batch_op.create_index(op.f("ix_messages_patient_id"), ["patient_id"])
    bind.execute(sa.text(
        "UPDATE messages SET patient_id = (SELECT p.id FROM patients p "
        "WHERE p.user_id = messages.user_id)"
    ))


def _collection_visit_of(hold, visits):
    """The visit that held this incubator place before the course did: of the
    course's visits that block that resource by the day (its collections), the
    last one on or before the day; the course's earliest visit otherwise."""
    blocking = [v for v in visits if v.day_block_resource_id == hold.resource_id] or visits
    before = [v for v in blocking if v.start_at < hold.unit_start + timedelta(days=1)]
    return (before[-1] if before else blocking[0]).id


def downgrade():
    bind = op.get_bind()
    when = intake.core.types.UTCDateTime(timezone=True)
    visits = {}
    for visit in bind.execute(
        sa.text(
            "SELECT a.id, a.course_id, a.start_at, v.day_block_resource_id "
            "FROM appointments a JOIN visit_types v ON v.id = a.visit_type_id "
            "WHERE a.status IN ('booked', 'arrived', 'completed') ORDER BY a.start_at, a.id"
        ).columns(start_at=when)
    ):
        visits.setdefault(visit.course_id, []).append(visit)
    moved = [
        {"h": hold.id, "a": _collection_visit_of(hold, visits[hold.course_id])}
        for hold in bind.execute(
            sa.text(
                "SELECT id, course_id, resource_id, unit_start FROM holds "
                "WHERE course_id IS NOT NULL"
            ).columns(unit_start=when)
        )
        if hold.course_id in visits
    ]
    if moved:
        bind.execute(
            sa.text("UPDATE holds SET appointment_id = :a, course_id = NULL WHERE id = :h"),
            moved,
        )
    bind.execute(sa.text("DELETE FROM holds WHERE appointment_id IS NULL"))
    with op.batch_alter_table("holds") as batch_op:
        batch_op.drop_index("ix_holds_course_unit")
        batch_op.drop_constraint(op.f("ck_holds_one_owner"), type_="check")
        batch_op.drop_constraint(op.f("fk_holds_course_id_courses"), type_="foreignkey")
        batch_op.drop_column("course_id")
        batch_op.alter_column("appointment_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_index(op.f("ix_messages_patient_id"))
        batch_op.drop_constraint(op.f("fk_messages_patient_id_patients"), type_="foreignkey")
        batch_op.drop_column("patient_id")
    for table in PATIENT_FK_TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_patient_id_patients", type_="foreignkey")
            batch_op.create_foreign_key(
                op.f(f"fk_{table}_patient_id_users"), "users", ["patient_id"], ["id"]
            )
            if table != "audit_entries":
                batch_op.drop_index(op.f(f"ix_{table}_course_id"))
                batch_op.drop_constraint(f"fk_{table}_course_id_courses", type_="foreignkey")
                batch_op.drop_column("course_id")
    op.drop_index("uq_courses_one_open_per_patient", table_name="courses")
    op.drop_index(op.f("ix_courses_status"), table_name="courses")
    op.drop_index(op.f("ix_courses_patient_id"), table_name="courses")
    op.drop_table("courses")
    op.drop_index("ix_patients_phone_digits", table_name="patients")
    op.drop_index("ix_patients_identity", table_name="patients")
    op.drop_table("patients")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("email_verified_at")
    with op.batch_alter_table("consent_signatures") as batch_op:
        batch_op.drop_column("text_sha256")
    with op.batch_alter_table("consent_documents") as batch_op:
        batch_op.drop_column("changes_meaning")
