"""login failure count and lock per account

Adds ``users.failed_logins`` (failed passwords and login codes in a row;
existing accounts start at 0) and ``users.locked_until`` (empty: not locked).

Revision ID: e45ef2ab68b6
Revises: 3071fc613a03
Create Date: 2026-12-08 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import intake.core.types


# revision identifiers, used by Alembic.
revision = 'e45ef2ab68b6'
down_revision = '3071fc613a03'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False)
        )
        batch_op.add_column(
            sa.Column('locked_until', intake.core.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')
