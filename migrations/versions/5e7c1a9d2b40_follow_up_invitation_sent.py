"""follow-up: when the patient was invited to answer the questionnaire

One empty column on ``follow_ups`` (``invited_at``): the invitation to the
patient is sent once per contact (``flask send-follow-ups``); existing
contacts start uninvited.

Revision ID: 5e7c1a9d2b40
Revises: aa0250d939d1
Create Date: 2026-12-02 12:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

import intake.core.types


# revision identifiers, used by Alembic.
revision = '5e7c1a9d2b40'
down_revision = 'aa0250d939d1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invited_at', intake.core.types.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_column('invited_at')
