"""merchant setting: e-mails per minute at most

Revision ID: engine01
Revises: house01
Create Date: 2026-11-30 19:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'engine01'
down_revision = 'house01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('merchant_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mail_rate_per_minute', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(op.f('ck_merchant_settings_mail_rate'),
                                         'mail_rate_per_minute IS NULL OR mail_rate_per_minute > 0')


def downgrade():
    with op.batch_alter_table('merchant_settings', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_merchant_settings_mail_rate'), type_='check')
        batch_op.drop_column('mail_rate_per_minute')
