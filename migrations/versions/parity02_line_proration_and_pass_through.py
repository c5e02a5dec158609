"""ChargeOver parity: line proration flags and custom fields, the pass-through price model

Revision ID: parity02
Revises: parity01
Create Date: 2026-11-30 19:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'parity02'
down_revision = 'parity01'
branch_labels = None
depends_on = None


def _models(codes):
    return "pricemodel IN (" + ", ".join(f"'{c}'" for c in codes) + ")"


def upgrade():
    # Added in place, never by a batch rebuild: usage_records' SQLite trigger names line_items.
    op.add_column('line_items', sa.Column('prorate_subscribe', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column('line_items', sa.Column('prorate_cancel', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column('line_items', sa.Column('custom_fields', sa.JSON(), server_default=sa.text("'{}'"), nullable=False))
    with op.batch_alter_table('tiersets', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_tiersets_pricemodel'), type_='check')
        batch_op.create_check_constraint(
            'pricemodel', _models(('fla', 'uni', 'tie', 'vol', 'stp', 'pkg', 'pas')))


def downgrade():
    with op.batch_alter_table('tiersets', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_tiersets_pricemodel'), type_='check')
        batch_op.create_check_constraint(
            'pricemodel', _models(('fla', 'uni', 'tie', 'vol', 'stp', 'pkg')))
    for name in ('custom_fields', 'prorate_cancel', 'prorate_subscribe'):
        op.drop_column('line_items', name)  # SQLite ≥ 3.35 drops a column in place
