"""collection waitlist: entries (one waiting per course) and offers (one open per entry)

New tables only; no existing row changes.

Revision ID: 960275a2ae06
Revises: b7d3f0a91c25
Create Date: 2026-12-03 07:47:37.322073

"""
from alembic import op
import sqlalchemy as sa

import intake.core.types


# revision identifiers, used by Alembic.
revision = '960275a2ae06'
down_revision = 'b7d3f0a91c25'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('waitlist_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('visit_type_id', sa.Integer(), nullable=False),
    sa.Column('weeks', sa.JSON(), nullable=False),
    sa.Column('fit_trips', sa.Boolean(), nullable=False),
    sa.Column('joined_at', intake.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('waiting', 'booked', 'left', name='waitlist_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('ended_at', intake.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_waitlist_entries_appointment_id_appointments')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_waitlist_entries_course_id_courses')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_waitlist_entries_created_by_id_users')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_waitlist_entries_patient_id_patients')),
    sa.ForeignKeyConstraint(['visit_type_id'], ['visit_types.id'], name=op.f('fk_waitlist_entries_visit_type_id_visit_types')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waitlist_entries'))
    )
    with op.batch_alter_table('waitlist_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waitlist_entries_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('ix_waitlist_entries_status_joined', ['status', 'joined_at'], unique=False)
        batch_op.create_index('uq_waitlist_entries_one_waiting_per_course', ['course_id'], unique=True, sqlite_where=sa.text("status = 'waiting'"), postgresql_where=sa.text("status = 'waiting'"))

    op.create_table('waitlist_offers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('offered_at', intake.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', intake.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('open', 'accepted', 'declined', 'expired', 'taken', 'withdrawn', name='waitlist_offer_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('decided_at', intake.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_waitlist_offers_appointment_id_appointments')),
    sa.ForeignKeyConstraint(['entry_id'], ['waitlist_entries.id'], name=op.f('fk_waitlist_offers_entry_id_waitlist_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waitlist_offers'))
    )
    with op.batch_alter_table('waitlist_offers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waitlist_offers_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index('ix_waitlist_offers_status_expires', ['status', 'expires_at'], unique=False)
        batch_op.create_index('uq_waitlist_offers_one_open_per_entry', ['entry_id'], unique=True, sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))



def downgrade():
    with op.batch_alter_table('waitlist_offers', schema=None) as batch_op:
        batch_op.drop_index('uq_waitlist_offers_one_open_per_entry', sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))
        batch_op.drop_index('ix_waitlist_offers_status_expires')
        batch_op.drop_index(batch_op.f('ix_waitlist_offers_entry_id'))

    op.drop_table('waitlist_offers')
    with op.batch_alter_table('waitlist_entries', schema=None) as batch_op:
        batch_op.drop_index('uq_waitlist_entries_one_waiting_per_course', sqlite_where=sa.text("status = 'waiting'"), postgresql_where=sa.text("status = 'waiting'"))
        batch_op.drop_index('ix_waitlist_entries_status_joined')
        batch_op.drop_index(batch_op.f('ix_waitlist_entries_patient_id'))

    op.drop_table('waitlist_entries')
