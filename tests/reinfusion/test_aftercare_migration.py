"""Revision 5e7c1a9d2b40 on a clinic in use: follow-up contacts already stored
keep their rows and answers and start uninvited; downgrading drops only the
new column."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from intake.extensions import db
from tests.migration_support import populated_clinic_at
from tests.test_migrations import _empty, _migration_app

BEFORE, AFTER = "aa0250d939d1", "5e7c1a9d2b40"

ROWS = (
    "INSERT INTO reinfusion_doses (id, course_id, patient_id, batch_id, number, route,"
    " planned_cells, source, status, appointment_id, created_at, updated_at)"
    " VALUES (1, :course, :patient, 1, 1, 'iv', 100000000, 'fresh', 'administered', :visit,"
    " '2026-11-01 00:00:00', '2026-11-01 00:00:00')",
    "INSERT INTO reinfusion_clearances (id, appointment_id, dose_id, course_id, patient_id,"
    " doctor_id, systolic, diastolic, pulse, temperature_c, spo2, decision, signed_at)"
    " VALUES (1, :visit, 1, :course, :patient, :doctor, 120, 80, 70, 36.5, 98, 'go',"
    " '2026-11-01 00:00:00')",
    "INSERT INTO reinfusion_bedside_checks (id, appointment_id, dose_id, course_id, patient_id,"
    " label_read, batch_id, name_read, date_of_birth_read, matched, checked_by_id, checked_at)"
    " VALUES (1, :visit, 1, :course, :patient, 'TKY26000001', 1, 'x', '1970-01-01', TRUE,"
    " :doctor, '2026-11-01 00:00:00')",
    "INSERT INTO reinfusion_administrations (id, dose_id, appointment_id, batch_id, course_id,"
    " patient_id, clearance_id, bedside_check_id, route, cells_given, started_at, ended_at,"
    " observed_until, systolic_after, diastolic_after, pulse_after, temperature_c_after,"
    " spo2_after, given_by_id, recorded_at)"
    " VALUES (1, 1, :visit, 1, :course, :patient, 1, 1, 'iv', 100000000,"
    " '2026-11-01 01:00:00', '2026-11-01 02:00:00', '2026-11-01 02:30:00', 120, 80, 70, 36.5,"
    " 98, :doctor, '2026-11-01 03:00:00')",
    "INSERT INTO follow_ups (id, administration_id, course_id, patient_id, days_after, due_on,"
    " status, answers, answered_at, created_at)"
    " VALUES (1, 1, :course, :patient, 7, '2026-11-08', 'open', '{\"feeling\": \"better\"}',"
    " '2026-11-08 01:00:00', '2026-11-01 03:00:00')",
)


def test_invited_at_arrives_on_a_populated_database(tmp_path):
    app = _migration_app(tmp_path)
    with app.app_context():
        populated_clinic_at(app, BEFORE)
        with db.engine.begin() as conn:
            visit = conn.execute(
                text("SELECT id, course_id, patient_id FROM appointments ORDER BY id")
            ).first()
            doctor = conn.execute(text("SELECT min(id) FROM users")).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO batches (id, course_id, patient_id, appointment_id, coi_site,"
                    " coi_year, coi_sequence, coi, state, planned_dose_low, planned_dose_high,"
                    " later_doses, collected_on, collected_by, tissue_amount, tissue_unit,"
                    " blood_volume_ml, created_at, updated_at) VALUES (1, :course, :patient,"
                    " :visit, 'TKY', 26, 1, 'TKY26000001 X', 'administered', 1, 2, 0,"
                    " '2026-10-01', 'Dr', 3, 'pieces', 50, '2026-10-01 00:00:00',"
                    " '2026-10-01 00:00:00')"
                ),
                {"course": visit.course_id, "patient": visit.patient_id, "visit": visit.id},
            )
            params = {
                "course": visit.course_id,
                "patient": visit.patient_id,
                "visit": visit.id,
                "doctor": doctor,
            }
            for statement in ROWS:
                conn.execute(text(statement), params)
        upgrade(revision=AFTER)
        with db.engine.begin() as conn:
            row = conn.execute(
                text("SELECT status, answers, invited_at FROM follow_ups WHERE id = 1")
            ).one()
            assert row.status == "open" and "better" in str(row.answers)
            assert row.invited_at is None
            conn.execute(text("UPDATE follow_ups SET invited_at = '2026-11-08 00:00:00'"))
        downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("follow_ups")}
            assert "invited_at" not in columns and "answers" in columns
            assert conn.execute(text("SELECT count(*) FROM follow_ups")).scalar_one() == 1
        _empty(app)
