"""What the customer portal reads for one customer: open invoices, the invoice history,
payments with the invoices they settled, packages and which of them are not over yet.
Every function takes the customer's id, which the portal takes from the logged-in contact."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from portal.billing.vocabulary import DocType, InvoiceStatus, PackageStatus
from portal.extensions import db
from portal.models import Invoice, Package, Transaction
from portal.services.billing_context import RunContext
from portal.services.estimates import estimate_current_period
from portal.services.listings import Page, paginate

# A package in one of these is over, whatever its cancel date.
ENDED_STATUSES = (PackageStatus.EXPIRED,)


def current_packages(customer_id: int, now: datetime) -> list[Package]:
    """The customer's packages that are not over (not expired, not cancelled before now)."""
    return list(db.session.scalars(
        select(Package).where(Package.customer_id == customer_id, Package.status.not_in(ENDED_STATUSES),
                              or_(Package.cancel_at.is_(None), Package.cancel_at > now))
        .options(selectinload(Package.line_items)).order_by(Package.id)))


def current_estimates(customer_id: int, now: datetime) -> list[tuple[Package, object]]:
    """Each current package with the estimate of its running period as of `now`."""
    ctx = RunContext.load()
    return [(p, estimate_current_period(p, now, ctx)) for p in current_packages(customer_id, now)]


def all_packages(customer_id: int) -> list[Package]:
    """Every package of the customer, current and past, newest first."""
    return list(db.session.scalars(
        select(Package).where(Package.customer_id == customer_id)
        .options(selectinload(Package.line_items)).order_by(Package.id.desc())))


def open_invoices(customer_id: int) -> list[Invoice]:
    """The customer's unpaid invoices, the soonest due first."""
    return list(db.session.scalars(
        select(Invoice).where(Invoice.customer_id == customer_id, Invoice.status == InvoiceStatus.OPEN,
                              Invoice.doc_type == DocType.INVOICE)
        .order_by(Invoice.due_date, Invoice.refnumber)))


def invoice_history(customer_id: int, page: int, per_page: int) -> Page:
    """One page of the customer's invoices, newest first."""
    stmt = (select(Invoice).where(Invoice.customer_id == customer_id, Invoice.doc_type == DocType.INVOICE)
            .order_by(Invoice.date.desc(), Invoice.refnumber.desc()))
    return paginate(stmt, page, per_page)


def payments_with_invoices(customer_id: int) -> tuple[list[Transaction], dict[int, Invoice]]:
    """The customer's transactions, newest first, and the invoices they were applied to by id."""
    transactions = list(db.session.scalars(
        select(Transaction).where(Transaction.customer_id == customer_id)
        .options(selectinload(Transaction.applications))
        .order_by(Transaction.transaction_date.desc(), Transaction.id.desc())))
    invoice_ids = {a.invoice_id for t in transactions for a in t.applications}
    if not invoice_ids:
        return transactions, {}
    invoices = db.session.scalars(
        select(Invoice).where(Invoice.id.in_(invoice_ids), Invoice.customer_id == customer_id))
    return transactions, {i.id: i for i in invoices}
