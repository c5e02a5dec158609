"""billing change log, price model kept per charge, adjustment invoices

Revision ID: billing01
Revises: invoicedoc01
Create Date: 2026-11-30 15:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'billing01'
down_revision = 'invoicedoc01'
branch_labels = None
depends_on = None

# Every accepted usage record logs its line's package and `from` in the same statement
# (set-based on PostgreSQL: one INSERT per statement, however many rows it inserted).
_PG_FUNCTION = """
CREATE FUNCTION log_usage_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO billing_changes (package_id, line_item_id, at)
    SELECT l.package_id, n.line_item_id, n.from_at
    FROM inserted_usage n JOIN line_items l ON l.id = n.line_item_id;
    RETURN NULL;
END
$$
"""
_PG_TRIGGER = """
CREATE TRIGGER usage_records_log_changes AFTER INSERT ON usage_records
REFERENCING NEW TABLE AS inserted_usage FOR EACH STATEMENT
EXECUTE FUNCTION log_usage_changes()
"""
_SQLITE_TRIGGER = """
CREATE TRIGGER usage_records_log_changes AFTER INSERT ON usage_records
BEGIN
    INSERT INTO billing_changes (package_id, line_item_id, at)
    SELECT package_id, NEW.line_item_id, NEW.from_at FROM line_items WHERE id = NEW.line_item_id;
END
"""


def _kinds(values):
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"kind IN ({quoted})"


def upgrade():
    op.create_table('billing_changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=False),
    sa.Column('line_item_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['line_item_id'], ['line_items.id'], name=op.f('fk_billing_changes_line_item_id_line_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], name=op.f('fk_billing_changes_package_id_packages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_changes'))
    )
    with op.batch_alter_table('billing_changes', schema=None) as batch_op:
        batch_op.create_index('ix_billing_changes_package_at', ['package_id', 'at'], unique=False)
    with op.batch_alter_table('invoice_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pricing', sa.JSON(), nullable=True))
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_invoices_kind'), type_='check')
        batch_op.create_check_constraint(
            'kind', _kinds(('recurring', 'final', 'manual', 'adjustment')))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        op.execute(_SQLITE_TRIGGER)


def downgrade():
    op.execute('DROP TRIGGER IF EXISTS usage_records_log_changes'
               + (' ON usage_records' if op.get_bind().dialect.name == 'postgresql' else ''))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP FUNCTION IF EXISTS log_usage_changes()')
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_invoices_kind'), type_='check')
        batch_op.create_check_constraint('kind', _kinds(('recurring', 'final', 'manual')))
    with op.batch_alter_table('invoice_lines', schema=None) as batch_op:
        batch_op.drop_column('pricing')
    with op.batch_alter_table('billing_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_billing_changes_package_at')
    op.drop_table('billing_changes')
