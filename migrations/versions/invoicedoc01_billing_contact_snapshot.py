"""one billing contact per customer, invoice snapshots, zero-total e-mail setting

Revision ID: invoicedoc01
Revises: worker01
Create Date: 2026-11-30 15:40:00

Data steps (frozen here on purpose: they must not follow later model changes):
- each customer keeps one billing contact: its first flagged contact with an e-mail (else
  its first contact); a customer without contacts whose main-contact e-mail is free gets
  that contact; the customer's superuser_* fields are copied from the billing contact
  (the contact is where invoices were actually sent, and is also the portal login);
- every existing invoice gets a snapshot of today's settings and customer data (the best
  record there is of what it showed).
"""
import hashlib
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision = 'invoicedoc01'
down_revision = 'worker01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'invoice_logos',
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('mimetype', sa.String(length=60), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('sha256'),
    )
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('snapshot', sa.JSON(), nullable=True))
    with op.batch_alter_table('merchant_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_zero_invoices', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    bind = op.get_bind()
    _one_billing_contact(bind)
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index('uq_contacts_billing', ['customer_id'], unique=True,
                              postgresql_where=sa.text('is_billing_contact'),
                              sqlite_where=sa.text('is_billing_contact'))
    _snapshot_invoices(bind)


def downgrade():
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index('uq_contacts_billing')
    with op.batch_alter_table('merchant_settings', schema=None) as batch_op:
        batch_op.drop_column('email_zero_invoices')
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_column('snapshot')
    op.drop_table('invoice_logos')


customers = sa.table(
    'customers', sa.column('id', sa.Integer), sa.column('company', sa.String),
    sa.column('external_key', sa.String), *(sa.column(f'bill_{n}', sa.String) for n in (
        'addr1', 'addr2', 'addr3', 'city', 'state', 'postcode', 'country')),
    sa.column('superuser_name', sa.String), sa.column('superuser_email', sa.String),
    sa.column('superuser_phone', sa.String), sa.column('created_at', sa.DateTime))
contacts = sa.table(
    'contacts', sa.column('id', sa.Integer), sa.column('customer_id', sa.Integer),
    sa.column('first_name', sa.String), sa.column('last_name', sa.String),
    sa.column('email', sa.String), sa.column('phone', sa.String),
    sa.column('is_billing_contact', sa.Boolean), sa.column('created_at', sa.DateTime))
invoices = sa.table(
    'invoices', sa.column('id', sa.Integer), sa.column('customer_id', sa.Integer),
    sa.column('terms_days', sa.Integer), sa.column('tax_rate', sa.String),
    sa.column('snapshot', sa.JSON))
settings_table = sa.table(
    'merchant_settings', *(sa.column(n, sa.String) for n in (
        'company_name', 'address', 'email', 'phone', 'logo_mimetype', 'accent_colour',
        'footer_text', 'terms_text')), sa.column('logo', sa.LargeBinary), sa.column('id', sa.Integer))
logos = sa.table('invoice_logos', sa.column('sha256', sa.String), sa.column('mimetype', sa.String),
                 sa.column('data', sa.LargeBinary))


def _billing_contacts(bind) -> dict:
    """customer id → its billing contact row (after fixing the flags)."""
    rows = bind.execute(sa.select(contacts).order_by(contacts.c.customer_id, contacts.c.id)).all()
    by_customer: dict = {}
    for row in rows:
        by_customer.setdefault(row.customer_id, []).append(row)
    chosen = {}
    for customer_id, rows in by_customer.items():
        flagged = [r for r in rows if r.is_billing_contact and r.email]
        chosen[customer_id] = (flagged or [r for r in rows if r.email] or rows)[0]
    return chosen


def _one_billing_contact(bind) -> None:
    bind.execute(contacts.update().values(is_billing_contact=False))
    used = {r.email for r in bind.execute(sa.select(contacts.c.email)) if r.email}
    for customer in bind.execute(sa.select(customers)).all():
        email = (customer.superuser_email or '').strip().lower()
        has_contact = bind.execute(sa.select(contacts.c.id).where(
            contacts.c.customer_id == customer.id).limit(1)).first()
        if not has_contact and '@' in email and email not in used:
            first, _, last = (customer.superuser_name or '').partition(' ')
            bind.execute(contacts.insert().values(
                customer_id=customer.id, email=email, first_name=first or None,
                last_name=last.strip() or None, phone=customer.superuser_phone,
                is_billing_contact=False, created_at=customer.created_at))
            used.add(email)
    for customer_id, contact in _billing_contacts(bind).items():
        bind.execute(contacts.update().where(contacts.c.id == contact.id).values(is_billing_contact=True))
        name = ' '.join(p for p in (contact.first_name, contact.last_name) if p) or None
        bind.execute(customers.update().where(customers.c.id == customer_id).values(
            superuser_name=name, superuser_email=contact.email, superuser_phone=contact.phone))


def _tax_label(rate: Decimal) -> str:
    text = f'{rate * 100:f}'
    return (text.rstrip('0').rstrip('.') if '.' in text else text) + ' %'


def _snapshot_invoices(bind) -> None:
    settings = bind.execute(sa.select(settings_table).where(settings_table.c.id == 1)).first()
    if settings is None:
        return
    logo = None
    if settings.logo:
        logo = hashlib.sha256(settings.logo).hexdigest()
        known = bind.execute(sa.select(logos.c.sha256).where(logos.c.sha256 == logo)).first()
        if known is None:
            bind.execute(logos.insert().values(sha256=logo, mimetype=settings.logo_mimetype or 'image/png',
                                               data=settings.logo))
    seller = {n: getattr(settings, n) for n in ('company_name', 'address', 'email', 'phone')}
    design = {'logo': logo, 'accent_colour': settings.accent_colour or '#2563eb',
              'footer_text': settings.footer_text}
    buyers = {c.id: c for c in bind.execute(sa.select(customers))}
    billing = _billing_contacts(bind)
    for invoice in bind.execute(sa.select(invoices).where(invoices.c.snapshot.is_(None))).all():
        customer, contact = buyers[invoice.customer_id], billing.get(invoice.customer_id)
        rate = Decimal(invoice.tax_rate or '0')
        name = ' '.join(p for p in (contact.first_name, contact.last_name) if p) if contact else ''
        snapshot = {
            'version': 1, 'seller': seller,
            'buyer': {n: getattr(customer, n) for n in (
                'company', 'external_key', 'bill_addr1', 'bill_addr2', 'bill_addr3', 'bill_city',
                'bill_state', 'bill_postcode', 'bill_country')},
            'contact': {'name': name or None, 'email': contact.email, 'phone': contact.phone}
            if contact else None,
            'terms': {'days': invoice.terms_days, 'text': settings.terms_text,
                      'label': 'Due on receipt' if invoice.terms_days == 0 else f'Net {invoice.terms_days}'},
            'tax': {'rate': str(rate), 'label': _tax_label(rate)},
            'design': design,
        }
        bind.execute(invoices.update().where(invoices.c.id == invoice.id).values(snapshot=snapshot))
