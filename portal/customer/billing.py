"""The contact's dashboard, invoices (page, PDF) and payments: their own customer's only."""
from __future__ import annotations

from flask import redirect, render_template, url_for
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from portal.billing.vocabulary import DocType, InvoiceStatus, PackageStatus
from portal.customer import bp
from portal.customer.access import contact, customer_id, own_invoice
from portal.customer.helpers import page_number, portal_page
from portal.db_types import utcnow
from portal.extensions import db
from portal.models import Invoice, Package, Transaction
from portal.services.billing_context import RunContext
from portal.services.estimates import estimate_current_period
from portal.services.invoice_email import invoice_recipients
from portal.services.invoice_view import invoice_context
from portal.services.links import invoice_links
from portal.services.listings import invoice_payments, paginate
from portal.services.balances import customer_balance_minor
from portal.web import invoice_pdf_response


INVOICES_PER_PAGE = 10
ENDED_STATUSES = (PackageStatus.EXPIRED,)


def current_packages(now) -> list[Package]:
    """The customer's packages that are not over (not expired, not cancelled before now)."""
    return list(db.session.scalars(
        select(Package).where(Package.customer_id == customer_id(), Package.status.not_in(ENDED_STATUSES),
                              or_(Package.cancel_at.is_(None), Package.cancel_at > now))
        .options(selectinload(Package.line_items)).order_by(Package.id)))


@bp.get("/")
def dashboard():
    """Dashboard: balance, open invoices, current packages with this period's estimate."""
    customer, now = contact().customer, utcnow()
    open_invoices = list(db.session.scalars(
        select(Invoice).where(Invoice.customer_id == customer.id, Invoice.status == InvoiceStatus.OPEN,
                              Invoice.doc_type == DocType.INVOICE)
        .order_by(Invoice.due_date, Invoice.refnumber)))
    ctx = RunContext.load()
    packages = [(p, estimate_current_period(p, now, ctx)) for p in current_packages(now)]
    return render_template("customer/dashboard.html", customer=customer, now=now,
                           balance=customer_balance_minor(customer), open_invoices=open_invoices,
                           packages=packages)


@bp.get("/invoices")
def invoices():
    """The customer's invoices, newest first, a page at a time (HTMX swaps the list)."""
    stmt = (select(Invoice).where(Invoice.customer_id == customer_id(), Invoice.doc_type == DocType.INVOICE)
            .order_by(Invoice.date.desc(), Invoice.refnumber.desc()))
    listing = paginate(stmt, page_number(), INVOICES_PER_PAGE)
    return portal_page("customer/invoices.html", "partials/customer_invoice_list.html",
                       listing=listing, customer=contact().customer)


@bp.get("/invoices/<int:invoice_id>")
def invoice(invoice_id: int):
    """One invoice as printed, with its payments, PDF and shareable link."""
    invoice = own_invoice(invoice_id)
    if invoice.is_credit_note:
        return redirect(url_for("customer.credit_note", credit_note_id=invoice.id))
    return render_template("customer/invoice.html", payments=invoice_payments(invoice.id),
                           links=invoice_links(invoice.id), recipients=invoice_recipients(invoice),
                           **invoice_context(invoice))


@bp.get("/invoices/<int:invoice_id>/pdf")
def invoice_pdf(invoice_id: int):
    """The invoice PDF, as a download."""
    invoice = own_invoice(invoice_id)
    return invoice_pdf_response(invoice)


@bp.get("/payments")
def payments():
    """Payments with the invoices they were applied to, and the balance."""
    customer = contact().customer
    transactions = list(db.session.scalars(
        select(Transaction).where(Transaction.customer_id == customer.id)
        .options(selectinload(Transaction.applications))
        .order_by(Transaction.transaction_date.desc(), Transaction.id.desc())))
    invoice_ids = {a.invoice_id for t in transactions for a in t.applications}
    invoices_by_id = {i.id: i for i in db.session.scalars(
        select(Invoice).where(Invoice.id.in_(invoice_ids), Invoice.customer_id == customer.id))} if invoice_ids else {}
    return render_template("customer/payments.html", customer=customer, transactions=transactions,
                           invoices_by_id=invoices_by_id, balance=customer_balance_minor(customer))
