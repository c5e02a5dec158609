"""What customers and packages were invoiced, paid and owe: the invoice-balance sums, written
once. Void invoices count for nothing; credit notes are invoices with a negative total; a
customer's payments are its `pay` transactions less the refunds paid back to it, voided ones
left out (credits are credit notes, already counted)."""
from __future__ import annotations

from sqlalchemy import case, func, select

from portal.billing.vocabulary import InvoiceStatus, TransactionType
from portal.extensions import db
from portal.models import Customer, Invoice, Package, Transaction

NOT_VOID = Invoice.status != InvoiceStatus.VOID


def invoiced_by_customer(customer_ids: list[int]) -> dict[int, int]:
    """Each customer's non-void invoice totals (credit notes subtract), minor units."""
    rows = db.session.execute(
        select(Invoice.customer_id, func.sum(Invoice.total_minor))
        .where(Invoice.customer_id.in_(customer_ids), NOT_VOID).group_by(Invoice.customer_id))
    found = {cid: int(total or 0) for cid, total in rows}
    return {cid: found.get(cid, 0) for cid in customer_ids}


NET_PAID = case((Transaction.transaction_type == TransactionType.REFUND, -Transaction.amount_minor),
               else_=Transaction.amount_minor)


def paid_by_customer(customer_ids: list[int]) -> dict[int, int]:
    """Each customer's recorded payments less refunds (not void), minor units."""
    rows = db.session.execute(
        select(Transaction.customer_id, func.sum(NET_PAID))
        .where(Transaction.customer_id.in_(customer_ids), Transaction.voided_at.is_(None),
               Transaction.transaction_type.in_((TransactionType.PAYMENT, TransactionType.REFUND)))
        .group_by(Transaction.customer_id))
    found = {cid: int(total or 0) for cid, total in rows}
    return {cid: found.get(cid, 0) for cid in customer_ids}


def balances_minor(customer_ids: list[int]) -> dict[int, int]:
    """What each customer owes: invoiced minus paid (negative: credit the customer has), in
    two grouped queries whatever the number of customers."""
    if not customer_ids:
        return {}
    invoiced, paid = invoiced_by_customer(customer_ids), paid_by_customer(customer_ids)
    return {cid: invoiced[cid] - paid[cid] for cid in customer_ids}


def invoiced_minor(customer: Customer) -> int:
    """What one customer was invoiced (non-void invoices, credit notes subtract)."""
    return invoiced_by_customer([customer.id])[customer.id]


def customer_balance_minor(customer: Customer) -> int:
    """What one customer owes (negative: credit it has)."""
    return balances_minor([customer.id])[customer.id]


def package_totals(package: Package) -> tuple[int, int]:
    """(invoiced, paid) in minor units over a package's non-void invoices."""
    row = db.session.execute(
        select(func.coalesce(func.sum(Invoice.total_minor), 0), func.coalesce(func.sum(Invoice.paid_minor), 0))
        .where(Invoice.package_id == package.id, NOT_VOID)).one()
    return int(row[0]), int(row[1])
