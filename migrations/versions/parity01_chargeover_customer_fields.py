"""ChargeOver parity: customer ship_*, parent and token, contact username, API nonces

Revision ID: parity01
Revises: money01
Create Date: 2026-11-30 19:30:00

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'parity01'
down_revision = 'money01'
branch_labels = None
depends_on = None

SHIP = (("ship_addr1", 255), ("ship_addr2", 255), ("ship_addr3", 255), ("ship_city", 120),
        ("ship_state", 120), ("ship_postcode", 40), ("ship_country", 120))


def upgrade():
    op.create_table('api_nonces',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('api_key_id', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('seen_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'], name=op.f('fk_api_nonces_api_key_id_api_keys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_nonces')),
    sa.UniqueConstraint('api_key_id', 'nonce', name=op.f('uq_api_nonces_api_key_id_nonce'))
    )
    with op.batch_alter_table('api_nonces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_nonces_seen_at'), ['seen_at'], unique=False)
    with op.batch_alter_table('customers', schema=None) as batch_op:
        for name, length in SHIP:
            batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=True))
        batch_op.add_column(sa.Column('parent_customer_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('token', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_customers_parent_customer_id'), ['parent_customer_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_customers_parent_customer_id_customers'), 'customers', ['parent_customer_id'], ['id'], ondelete='SET NULL')
    connection = op.get_bind()
    customers = sa.table('customers', sa.column('id', sa.Integer), sa.column('token', sa.String))
    for (customer_id,) in connection.execute(sa.select(customers.c.id)).all():
        connection.execute(customers.update().where(customers.c.id == customer_id)
                           .values(token=secrets.token_hex(16)))
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.alter_column('token', existing_type=sa.String(length=32), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_customers_token'), ['token'])
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('username', sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_contacts_username'), ['username'])


def downgrade():
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_contacts_username'), type_='unique')
        batch_op.drop_column('username')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_customers_token'), type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_customers_parent_customer_id_customers'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_customers_parent_customer_id'))
        for name in ('token', 'parent_customer_id', *(n for n, _ in SHIP)):
            batch_op.drop_column(name)
    with op.batch_alter_table('api_nonces', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_nonces_seen_at'))
    op.drop_table('api_nonces')
