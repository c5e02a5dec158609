"""ChargeOver parity: a discount line's percent (tiersets.percent)

Revision ID: parity03
Revises: parity02
Create Date: 2026-11-30 20:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'parity03'
down_revision = 'parity02'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('tiersets', sa.Column('percent', sa.String(length=40), nullable=True))


def downgrade():
    op.drop_column('tiersets', 'percent')
