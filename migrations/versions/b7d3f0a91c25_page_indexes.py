"""page indexes: the columns the key pages sort or filter on

Review decisions by signing time, active users by role, courses by status and
opening time, batches by state and collection day. Indexes only; no data
changes.

Revision ID: b7d3f0a91c25
Revises: d4a7c2e9b813
Create Date: 2026-12-02 15:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b7d3f0a91c25'
down_revision = 'd4a7c2e9b813'
branch_labels = None
depends_on = None

INDEXES = (
    ('ix_reviews_signed_at', 'reviews', ['signed_at', 'id']),
    ('ix_users_active_role', 'users', ['is_active', 'role']),
    ('ix_courses_status_opened_at', 'courses', ['status', 'opened_at', 'id']),
    ('ix_batches_state_collected_on', 'batches', ['state', 'collected_on', 'id']),
)


def upgrade():
    for name, table, columns in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
