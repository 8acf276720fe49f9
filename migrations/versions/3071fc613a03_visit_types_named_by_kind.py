"""visit types named by a kind; the intake gate follows the kind

Adds ``visit_types.kind`` and fills it from each existing type's code (the
seeded codes: consultation, collection, reinfusion-iv, reinfusion-local,
reinfusion-intrathecal; "follow…" → follow_up). A type with another code keeps
the gate it had: one that required the intake gate becomes a collection-kind
type (the gate can never be lost by upgrading), any other becomes "other".
Then drops the opt-in ``requires_intake_gate`` column: collection and
reinfusion kinds always require the gate (``intake.scheduling.visit_kinds``).

Revision ID: 3071fc613a03
Revises: b3d5e7a9c1f0
Create Date: 2026-12-02 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3071fc613a03'
down_revision = 'b3d5e7a9c1f0'
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
GATED_KINDS = ('collection', 'reinfusion_iv', 'reinfusion_local', 'reinfusion_intrathecal')
# Code prefix → kind, the longest prefixes first.
BY_CODE = (
    ('reinfusion-intrathecal', 'reinfusion_intrathecal'),
    ('reinfusion-local', 'reinfusion_local'),
    ('reinfusion-iv', 'reinfusion_iv'),
    ('collection', 'collection'),
    ('consultation', 'consultation'),
    ('follow', 'follow_up'),
)


def kind_of(code: str, requires_intake_gate: bool) -> str:
    code = (code or '').lower()
    for prefix, kind in BY_CODE:
        if code.startswith(prefix):
            return kind
    return 'collection' if requires_intake_gate else 'other'


def _kind_column(nullable: bool) -> sa.Column:
    return sa.Column(
        'kind',
        sa.Enum(*KINDS, name='visit_kind', native_enum=False, create_constraint=True, length=32),
        nullable=nullable,
    )


def upgrade():
    with op.batch_alter_table('visit_types', schema=None) as batch_op:
        batch_op.add_column(_kind_column(nullable=True))

    visit_types = sa.table(
        'visit_types',
        sa.column('id', sa.Integer()),
        sa.column('code', sa.String()),
        sa.column('kind', sa.String()),
        sa.column('requires_intake_gate', sa.Boolean()),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(visit_types.c.id, visit_types.c.code, visit_types.c.requires_intake_gate)
    ).all()
    for row_id, code, gated in rows:
        conn.execute(
            visit_types.update()
            .where(visit_types.c.id == row_id)
            .values(kind=kind_of(code, bool(gated)))
        )

    with op.batch_alter_table('visit_types', schema=None) as batch_op:
        batch_op.alter_column(
            'kind',
            existing_type=sa.Enum(*KINDS, name='visit_kind', native_enum=False, length=32),
            nullable=False,
        )
        batch_op.drop_column('requires_intake_gate')


def downgrade():
    with op.batch_alter_table('visit_types', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requires_intake_gate', sa.Boolean(), nullable=True))

    visit_types = sa.table(
        'visit_types',
        sa.column('kind', sa.String()),
        sa.column('requires_intake_gate', sa.Boolean()),
    )
    op.get_bind().execute(
        visit_types.update().values(requires_intake_gate=visit_types.c.kind.in_(GATED_KINDS))
    )

    with op.batch_alter_table('visit_types', schema=None) as batch_op:
        batch_op.alter_column('requires_intake_gate', existing_type=sa.Boolean(), nullable=False)
        batch_op.drop_constraint(op.f('ck_visit_types_visit_kind'), type_='check')
        batch_op.drop_column('kind')
