"""usage alerts

Revision ID: hooks02
Revises: hooks01
Create Date: 2026-11-30 19:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'hooks02'
down_revision = 'hooks01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('usage_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=False),
    sa.Column('line_item_id', sa.Integer(), nullable=True),
    sa.Column('metric', sa.String(length=10), nullable=False),
    sa.Column('threshold', sa.String(length=40), nullable=False),
    sa.Column('notify_merchant', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('notify_customer', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('enabled', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('fired_period_start', sa.DateTime(), nullable=True),
    sa.Column('fired_at', sa.DateTime(), nullable=True),
    sa.Column('fired_value', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("metric IN ('quantity', 'cost')", name=op.f('ck_usage_alerts_metric')),
    sa.ForeignKeyConstraint(['line_item_id'], ['line_items.id'], name=op.f('fk_usage_alerts_line_item_id_line_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], name=op.f('fk_usage_alerts_package_id_packages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usage_alerts'))
    )
    op.create_index('ix_usage_alerts_line_item_id', 'usage_alerts', ['line_item_id'], unique=False)
    op.create_index('ix_usage_alerts_package_id', 'usage_alerts', ['package_id'], unique=False)


def downgrade():
    op.drop_index('ix_usage_alerts_package_id', table_name='usage_alerts')
    op.drop_index('ix_usage_alerts_line_item_id', table_name='usage_alerts')
    op.drop_table('usage_alerts')
