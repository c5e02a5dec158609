"""a voided invoice or credit note is `closed-void` (ChargeOver's name), not `void-void`

Revision ID: house01
Revises: billing01
Create Date: 2026-11-30 19:20:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'house01'
down_revision = 'billing01'
branch_labels = None
depends_on = None

_OLD = "status IN ('open-unpaid', 'closed-paid', 'void-void')"
_NEW = "status IN ('open-unpaid', 'closed-paid', 'closed-void')"


def _rename(new_check: str, old: str, new: str) -> None:
    # Credit notes share the column. The check is dropped first (on SQLite each batch rebuilds
    # the table, whose copy would refuse the renamed rows), the rows rewritten, the check
    # created again with the new name.
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_invoices_status'), type_='check')
    op.execute(f"UPDATE invoices SET status = '{new}' WHERE status = '{old}'")
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.create_check_constraint(batch_op.f('ck_invoices_status'), new_check)


def upgrade():
    _rename(_NEW, 'void-void', 'closed-void')


def downgrade():
    _rename(_OLD, 'closed-void', 'void-void')
