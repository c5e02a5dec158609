"""usage rollups per (line, local day), their state and the late-usage log

Revision ID: rollups01
Revises: engine01
Create Date: 2026-11-30 19:30:00

"""
from alembic import op
import sqlalchemy as sa

from portal.db_types import MicroTotal


# revision identifiers, used by Alembic.
revision = 'rollups01'
down_revision = 'engine01'
branch_labels = None
depends_on = None

# A record whose `from` falls before `log_before` (a day already rolled, or being rolled)
# is logged for the rollup job; on-time records insert nothing (one more statement-level
# trigger on PostgreSQL, whatever the number of rows).
_PG_FUNCTION = """
CREATE FUNCTION log_late_usage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO usage_rollup_dirty (line_item_id, at)
    SELECT n.line_item_id, n.from_at FROM inserted_usage n
    WHERE n.from_at < (SELECT log_before FROM usage_rollup_state WHERE id = 1);
    RETURN NULL;
END
$$
"""
_PG_TRIGGER = """
CREATE TRIGGER usage_records_log_late AFTER INSERT ON usage_records
REFERENCING NEW TABLE AS inserted_usage FOR EACH STATEMENT
EXECUTE FUNCTION log_late_usage()
"""
_SQLITE_TRIGGER = """
CREATE TRIGGER usage_records_log_late AFTER INSERT ON usage_records
WHEN NEW.from_at < (SELECT log_before FROM usage_rollup_state WHERE id = 1)
BEGIN
    INSERT INTO usage_rollup_dirty (line_item_id, at) VALUES (NEW.line_item_id, NEW.from_at);
END
"""


def upgrade():
    op.create_table('usage_day_rollups',
    sa.Column('line_item_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('records', sa.BigInteger(), nullable=False),
    sa.Column('total', MicroTotal(), nullable=False),
    sa.Column('peak', sa.BigInteger(), nullable=False),
    sa.Column('latest_value', sa.BigInteger(), nullable=False),
    sa.Column('latest_from', sa.DateTime(), nullable=False),
    sa.Column('latest_id', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('records > 0', name=op.f('ck_usage_day_rollups_records')),
    sa.ForeignKeyConstraint(['line_item_id'], ['line_items.id'], name=op.f('fk_usage_day_rollups_line_item_id_line_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('line_item_id', 'day', name=op.f('pk_usage_day_rollups'))
    )
    with op.batch_alter_table('usage_day_rollups', schema=None) as batch_op:
        batch_op.create_index('ix_usage_day_rollups_day', ['day', 'line_item_id', 'records', 'total', 'peak'], unique=False)
    op.create_table('usage_rollup_dirty',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('line_item_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['line_item_id'], ['line_items.id'], name=op.f('fk_usage_rollup_dirty_line_item_id_line_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usage_rollup_dirty'))
    )
    with op.batch_alter_table('usage_rollup_dirty', schema=None) as batch_op:
        batch_op.create_index('ix_usage_rollup_dirty_line_at', ['line_item_id', 'at'], unique=False)
    op.create_table('usage_rollup_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tz', sa.String(length=64), nullable=False),
    sa.Column('rolled_before', sa.Date(), nullable=True),
    sa.Column('log_before', sa.DateTime(), nullable=True),
    sa.CheckConstraint('id = 1', name=op.f('ck_usage_rollup_state_single')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usage_rollup_state'))
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        op.execute(_SQLITE_TRIGGER)


def downgrade():
    op.execute('DROP TRIGGER IF EXISTS usage_records_log_late'
               + (' ON usage_records' if op.get_bind().dialect.name == 'postgresql' else ''))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP FUNCTION IF EXISTS log_late_usage()')
    op.drop_table('usage_rollup_state')
    with op.batch_alter_table('usage_rollup_dirty', schema=None) as batch_op:
        batch_op.drop_index('ix_usage_rollup_dirty_line_at')
    op.drop_table('usage_rollup_dirty')
    with op.batch_alter_table('usage_day_rollups', schema=None) as batch_op:
        batch_op.drop_index('ix_usage_day_rollups_day')
    op.drop_table('usage_day_rollups')
