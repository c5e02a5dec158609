"""offline payment methods (ChargeOver's gateway_method), refunds of a transaction,
invoice token and external key

Revision ID: money01
Revises: rollups01
Create Date: 2026-11-30 19:20:00

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'money01'
down_revision = 'rollups01'
branch_labels = None
depends_on = None

OLD_METHODS = "method IN ('check', 'ach', 'card', 'cash', 'other')"
NEW_METHODS = ("method IN ('check', 'ach', 'card', 'cash', 'other', 'visa', 'mastercard', "
               "'american-express', 'discover', 'paypal', 'credit')")


def upgrade():
    with op.batch_alter_table('transactions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_transactions_method'), type_='check')
        batch_op.alter_column('method', existing_type=sa.String(length=10), type_=sa.String(length=20),
                              existing_nullable=False)
        batch_op.create_check_constraint(batch_op.f('ck_transactions_method'), NEW_METHODS)
        batch_op.add_column(sa.Column('refund_of_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_transactions_refund_of_id_transactions'),
                                    'transactions', ['refund_of_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_transactions_refund_of_id'), ['refund_of_id'], unique=False)

    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('external_key', sa.String(length=255), nullable=True))
    # Every existing invoice and credit note gets its own random token.
    connection = op.get_bind()
    ids = [row[0] for row in connection.execute(sa.text("SELECT id FROM invoices"))]
    for invoice_id in ids:
        connection.execute(sa.text("UPDATE invoices SET token = :token WHERE id = :id"),
                           {"token": secrets.token_hex(8), "id": invoice_id})
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.alter_column('token', existing_type=sa.String(length=32), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_invoices_token'), ['token'])
        batch_op.create_unique_constraint(batch_op.f('uq_invoices_external_key'), ['external_key'])


def downgrade():
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_invoices_external_key'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_invoices_token'), type_='unique')
        batch_op.drop_column('external_key')
        batch_op.drop_column('token')

    op.execute("DELETE FROM transactions WHERE transaction_type = 'ref' AND refund_of_id IS NOT NULL")
    op.execute("UPDATE transactions SET method = 'card' WHERE method IN "
               "('visa', 'mastercard', 'american-express', 'discover')")
    op.execute("UPDATE transactions SET method = 'other' WHERE method IN ('paypal', 'credit')")
    with op.batch_alter_table('transactions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transactions_refund_of_id'))
        batch_op.drop_constraint(batch_op.f('fk_transactions_refund_of_id_transactions'), type_='foreignkey')
        batch_op.drop_column('refund_of_id')
        batch_op.drop_constraint(batch_op.f('ck_transactions_method'), type_='check')
        batch_op.alter_column('method', existing_type=sa.String(length=20), type_=sa.String(length=10),
                              existing_nullable=False)
        batch_op.create_check_constraint(batch_op.f('ck_transactions_method'), OLD_METHODS)
