"""ledger version: one number every change to what availability reads raises

A new one-row table (id 1, version 0); nothing existing changes.

Revision ID: d4a7c2e9b813
Revises: 7d3a9f0c2e61
Create Date: 2026-12-02 15:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4a7c2e9b813'
down_revision = '7d3a9f0c2e61'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table('ledger_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_versions'))
    )
    op.bulk_insert(table, [{'id': 1, 'version': 0}])


def downgrade():
    op.drop_table('ledger_versions')
