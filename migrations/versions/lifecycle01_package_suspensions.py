"""package suspensions as intervals (replaces packages.suspended_at)

Revision ID: lifecycle01
Revises: a656e6727680
Create Date: 2026-11-30 15:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'lifecycle01'
down_revision = 'a656e6727680'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('package_suspensions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=False),
    sa.Column('start_at', sa.DateTime(), nullable=False),
    sa.Column('end_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('end_at IS NULL OR end_at > start_at', name=op.f('ck_package_suspensions_interval')),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], name=op.f('fk_package_suspensions_package_id_packages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_package_suspensions')),
    sa.UniqueConstraint('package_id', 'start_at', name=op.f('uq_package_suspensions_package_id_start_at'))
    )
    with op.batch_alter_table('package_suspensions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_package_suspensions_package_id'), ['package_id'], unique=False)
    # A package suspended today keeps its suspension, open-ended, as an interval.
    op.execute("INSERT INTO package_suspensions (package_id, start_at, end_at, created_at) "
               "SELECT id, suspended_at, NULL, created_at FROM packages "
               "WHERE suspended_at IS NOT NULL AND status = 'suspended-suspended'")
    with op.batch_alter_table('packages', schema=None) as batch_op:
        batch_op.drop_column('suspended_at')


def downgrade():
    with op.batch_alter_table('packages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suspended_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE packages SET suspended_at = (SELECT max(s.start_at) FROM package_suspensions s "
               "WHERE s.package_id = packages.id AND s.end_at IS NULL) "
               "WHERE status = 'suspended-suspended'")
    with op.batch_alter_table('package_suspensions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_package_suspensions_package_id'))
    op.drop_table('package_suspensions')
