"""credit notes: invoice document type, credit-note transactions, timed applications

Revision ID: credit01
Revises: security01
Create Date: 2026-11-30 15:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'credit01'
down_revision = 'security01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('doc_type', sa.String(length=12), server_default='invoice', nullable=False))
        batch_op.drop_constraint(batch_op.f('uq_invoices_refnumber'), type_='unique')
        batch_op.drop_constraint(batch_op.f('ck_invoices_paid'), type_='check')
        batch_op.create_unique_constraint(batch_op.f('uq_invoices_doc_type_refnumber'), ['doc_type', 'refnumber'])
        batch_op.create_check_constraint(batch_op.f('ck_invoices_doc_type'), "doc_type IN ('invoice', 'credit_note')")
        batch_op.create_check_constraint(batch_op.f('ck_invoices_credit_total'), "doc_type = 'invoice' OR total_minor < 0")
        batch_op.create_check_constraint(batch_op.f('ck_invoices_paid'), "(doc_type = 'invoice' AND paid_minor >= 0) OR (doc_type = 'credit_note' AND paid_minor <= 0)")

    with op.batch_alter_table('transactions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credit_note_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('voided_at', sa.DateTime(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_transactions_credit_note_id'), ['credit_note_id'])
        batch_op.create_foreign_key(batch_op.f('fk_transactions_credit_note_id_invoices'), 'invoices', ['credit_note_id'], ['id'])

    with op.batch_alter_table('transaction_applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('automatic', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('created_at', sa.DateTime(), nullable=True))
    # Existing applications were made when their payment was recorded.
    op.execute("UPDATE transaction_applications SET created_at = (SELECT t.created_at FROM transactions t "
               "WHERE t.id = transaction_applications.transaction_id)")
    with op.batch_alter_table('transaction_applications', schema=None) as batch_op:
        batch_op.alter_column('created_at', existing_type=sa.DateTime(), nullable=False)


def downgrade():
    with op.batch_alter_table('transaction_applications', schema=None) as batch_op:
        batch_op.drop_column('created_at')
        batch_op.drop_column('automatic')

    with op.batch_alter_table('transactions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_transactions_credit_note_id_invoices'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_transactions_credit_note_id'), type_='unique')
        batch_op.drop_column('voided_at')
        batch_op.drop_column('credit_note_id')

    op.execute("DELETE FROM invoices WHERE doc_type = 'credit_note'")
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_invoices_paid'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_invoices_credit_total'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_invoices_doc_type'), type_='check')
        batch_op.drop_constraint(batch_op.f('uq_invoices_doc_type_refnumber'), type_='unique')
        batch_op.create_check_constraint(batch_op.f('ck_invoices_paid'), 'paid_minor >= 0')
        batch_op.create_unique_constraint(batch_op.f('uq_invoices_refnumber'), ['refnumber'])
        batch_op.drop_column('doc_type')
