"""one upcoming visit of a kind per course, and booking forms' idempotency keys

Adds to ``appointments``:

* ``upcoming_kind``: the kind a booked visit claims as its course's one upcoming
  visit of that kind (consultation, collection), under a partial unique index
  on ``(course_id, upcoming_kind)`` and a check that only a booked or arrived
  visit holds a claim. The clinic's data is kept as it is: for each course and
  kind, the earliest booked or arrived visit still to end gets the claim; any
  further ones booked before this revision (the race it closes) stay booked
  without a claim, for the clinic to move or cancel.
* ``request_key``: the idempotency key of the booking form that made the visit,
  unique (NULL for visits booked before).

Revision ID: c4d47576a018
Revises: 928b8b3b2aaa
Create Date: 2026-12-09 09:00:00.000000

"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4d47576a018'
down_revision = "928b8b3b2aaa"
branch_labels = None
depends_on = None

KINDS = (
    'consultation',
    'collection',
    'reinfusion_iv',
    'reinfusion_local',
    'reinfusion_intrathecal',
    'follow_up',
    'other',
)
# visit_kinds.one_upcoming, as it stands at this revision.
ONE_UPCOMING = ('consultation', 'collection')
ACTIVE = ('booked', 'arrived')
CLAIM_INDEX = 'uq_appointments_one_upcoming_kind_per_course'


def _aware(value):
    if isinstance(value, str):  # SQLite without type information
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def upgrade():
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'upcoming_kind',
                sa.Enum(
                    *KINDS,
                    name='upcoming_kind',
                    native_enum=False,
                    create_constraint=True,
                    length=32,
                ),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column('request_key', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f('uq_appointments_request_key'), ['request_key']
        )
        batch_op.create_check_constraint(
            'claim_only_while_active',
            "upcoming_kind IS NULL OR status IN ('booked', 'arrived')",
        )

    # The claims of the visits still to come: the earliest of each course and kind.
    appointments = sa.table(
        'appointments',
        sa.column('id', sa.Integer()),
        sa.column('course_id', sa.Integer()),
        sa.column('visit_type_id', sa.Integer()),
        sa.column('status', sa.String()),
        sa.column('start_at', sa.DateTime(timezone=True)),
        sa.column('end_at', sa.DateTime(timezone=True)),
        sa.column('upcoming_kind', sa.String()),
    )
    visit_types = sa.table('visit_types', sa.column('id', sa.Integer()), sa.column('kind', sa.String()))
    conn = op.get_bind()
    now = datetime.now(UTC)
    rows = conn.execute(
        sa.select(
            appointments.c.id,
            appointments.c.course_id,
            visit_types.c.kind,
            appointments.c.start_at,
            appointments.c.end_at,
        )
        .join(visit_types, visit_types.c.id == appointments.c.visit_type_id)
        .where(appointments.c.status.in_(ACTIVE), visit_types.c.kind.in_(ONE_UPCOMING))
        .order_by(appointments.c.start_at, appointments.c.id)
    ).all()
    claimed = set()
    for row_id, course_id, kind, _start_at, end_at in rows:
        if _aware(end_at) <= now or (course_id, kind) in claimed:
            continue
        claimed.add((course_id, kind))
        conn.execute(
            appointments.update().where(appointments.c.id == row_id).values(upcoming_kind=kind)
        )

    op.create_index(
        CLAIM_INDEX,
        'appointments',
        ['course_id', 'upcoming_kind'],
        unique=True,
        sqlite_where=sa.text('upcoming_kind IS NOT NULL'),
        postgresql_where=sa.text('upcoming_kind IS NOT NULL'),
    )


def downgrade():
    op.drop_index(CLAIM_INDEX, table_name='appointments')
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_appointments_claim_only_while_active'), type_='check')
        batch_op.drop_constraint(op.f('ck_appointments_upcoming_kind'), type_='check')
        batch_op.drop_constraint(batch_op.f('uq_appointments_request_key'), type_='unique')
        batch_op.drop_column('request_key')
        batch_op.drop_column('upcoming_kind')
