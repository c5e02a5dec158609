"""The contact's dashboard, invoices (page, PDF) and payments: their own customer's only."""
from __future__ import annotations

from flask import redirect, render_template, url_for

from portal.customer import bp
from portal.customer.access import contact, customer_id, own_invoice
from portal.customer.helpers import portal_page
from portal.db_types import utcnow
from portal.services.balances import customer_balance_minor
from portal.services.invoice_email import invoice_recipients
from portal.services.invoice_view import invoice_context
from portal.services.links import invoice_links
from portal.services.listings import invoice_payments
from portal.services.self_service import current_estimates, invoice_history, open_invoices, payments_with_invoices
from portal.web import invoice_pdf_response, page_number

INVOICES_PER_PAGE = 10


@bp.get("/")
def dashboard():
    """Dashboard: balance, open invoices, current packages with this period's estimate."""
    customer, now = contact().customer, utcnow()
    return render_template("customer/dashboard.html", customer=customer, now=now,
                           balance=customer_balance_minor(customer), open_invoices=open_invoices(customer.id),
                           packages=current_estimates(customer.id, now))


@bp.get("/invoices")
def invoices():
    """The customer's invoices, newest first, a page at a time (HTMX swaps the list)."""
    listing = invoice_history(customer_id(), page_number(), INVOICES_PER_PAGE)
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
    transactions, invoices_by_id = payments_with_invoices(customer.id)
    return render_template("customer/payments.html", customer=customer, transactions=transactions,
                           invoices_by_id=invoices_by_id, balance=customer_balance_minor(customer))
