"""rate limit counters: the login and form limits counted in the database

A new table only (RATELIMIT_STORAGE_URI = "database://"); nothing existing
changes.

Revision ID: 7d3a9f0c2e61
Revises: 5e2b8c41d7a3
Create Date: 2026-12-02 15:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d3a9f0c2e61'
down_revision = '5e2b8c41d7a3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rate_limit_counters',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.Column('expires_epoch', sa.Float(precision=53), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limit_counters'))
    )
    with op.batch_alter_table('rate_limit_counters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_limit_counters_expires_epoch'), ['expires_epoch'], unique=False)


def downgrade():
    with op.batch_alter_table('rate_limit_counters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_limit_counters_expires_epoch'))

    op.drop_table('rate_limit_counters')
