"""Invoices: filtered list, detail (the PDF's content as HTML), PDF, e-mail, void, payments."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for

from portal.billing.money import from_minor
from portal.db_types import utcnow
from portal.extensions import db
from portal.merchant import bp
from portal.merchant.access import admin_required
from portal.merchant.forms_common import form_action, page
from portal.merchant.forms_invoices import (
    STATUS_FILTER_LABELS, EmailForm, InvoiceFilters, PaymentForm, payment_fields, payment_outcome,
)
from portal.models import Invoice
from portal.services.invoice_email import invoice_recipients
from portal.services.invoice_view import invoice_context
from portal.services.listings import customer_choices, filter_invoices, invoice_deliveries, invoice_payments
from portal.services.mail import queue_invoice_email
from portal.services.invoices import is_voidable, void_invoice
from portal.services.links import invoice_links, rotate_invoice_link
from portal.services.payments import pay_invoice
from portal.services.reports import local_today
from portal.web import invoice_pdf_response, page_number, render_page

DETAIL_PAGE, DETAIL_PARTIAL = "merchant/invoice.html", "partials/merchant_invoice_detail.html"
PAYMENT_ALIASES = {"applied_to[0].amount": "amount", "applied_to[0]": "amount", "invoice_id": "amount"}



def _detail(invoice: Invoice, payment_form: PaymentForm | None = None,
            email_form: EmailForm | None = None, after_action: bool = False) -> dict:
    """The invoice page's context: the invoice as printed, its payments and e-mails.

    :param after_action: a change was just made: the forms start empty (a payment form
        still holding the amount just recorded invites recording it twice).
    """
    today = local_today(utcnow()).isoformat()
    balance = "" if after_action else str(from_minor(invoice.balance_minor, invoice.currency))
    # formdata=None: a new form must not read the request's posted values back.
    return {**invoice_context(invoice), "payments": invoice_payments(invoice.id),
            "deliveries": invoice_deliveries(invoice.id), "voidable": is_voidable(invoice),
            "recipients": invoice_recipients(invoice),
            "payment_form": payment_form or PaymentForm(formdata=None, data={"amount": balance, "paid_on": today}),
            "email_form": email_form or EmailForm(formdata=None),
            "links": invoice_links(invoice) if invoice.voided_at is None else None}


def _act(invoice_id: int, action, message, form=None, aliases=None, **forms):
    """Run an invoice service action through `form_action`; a refusal re-renders the page (422).

    :param message: what to flash on success (a callable is called after the commit).
    """
    return form_action(
        action, form=form, aliases=aliases, failure="Not done: {}",
        refuse=lambda: (DETAIL_PAGE, DETAIL_PARTIAL, _detail(db.get_or_404(Invoice, invoice_id), **forms)),
        message=lambda _: message() if callable(message) else message, done=lambda _: _shown(invoice_id))


def _shown(invoice_id: int):
    """The invoice after an action: its partial for HTMX, else a redirect to its page."""
    if getattr(request, "htmx", False):
        invoice = db.get_or_404(Invoice, invoice_id)
        return render_page(DETAIL_PAGE, DETAIL_PARTIAL, **_detail(invoice, after_action=True))
    return redirect(url_for("merchant.invoice", invoice_id=invoice_id))


@bp.get("/invoices")
def invoices():
    """Invoices filtered by status, date range and customer; HTMX gets the table only."""
    filters = InvoiceFilters.from_args(request.args)
    results = filter_invoices(status=filters.status, date_from=filters.date_from, date_to=filters.date_to,
                              customer_id=filters.customer_id, today=local_today(utcnow()), page=page_number())
    return page("merchant/invoices.html", "partials/merchant_invoice_table.html", results=results,
                filters=filters, statuses=STATUS_FILTER_LABELS, customers=customer_choices())


@bp.get("/invoices/<int:invoice_id>")
def invoice(invoice_id: int):
    """An invoice as printed, with its payments, e-mails and actions."""
    found = db.session.get(Invoice, invoice_id)
    if found is not None and found.is_credit_note:
        return redirect(url_for("merchant.credit_note", credit_note_id=invoice_id))
    return page(DETAIL_PAGE, DETAIL_PARTIAL, **_detail(db.get_or_404(Invoice, invoice_id)))


@bp.get("/invoices/<int:invoice_id>/pdf")
def invoice_pdf(invoice_id: int):
    """Download the invoice PDF."""
    invoice = db.get_or_404(Invoice, invoice_id)
    return invoice_pdf_response(invoice)


@bp.get("/invoices/<int:invoice_id>/deliveries")
def invoice_deliveries_partial(invoice_id: int):
    """HTMX: the invoice's e-mails and their status (polled while one is pending)."""
    invoice = db.get_or_404(Invoice, invoice_id)
    return render_template("partials/merchant_invoice_deliveries.html", invoice=invoice,
                           deliveries=invoice_deliveries(invoice.id))


@bp.post("/invoices/<int:invoice_id>/email")
@admin_required
def invoice_email(invoice_id: int):
    """Queue the invoice e-mail (the mail job sends it with the PDF attached)."""
    invoice, form = db.get_or_404(Invoice, invoice_id), EmailForm()
    to_address = (form.to_address.data or "").strip() or None
    return _act(invoice_id, lambda: queue_invoice_email(invoice, to_address=to_address),
                f"Invoice #{invoice.refnumber} queued for e-mail.", form, {"email": "to_address"},
                email_form=form)


@bp.post("/invoices/<int:invoice_id>/void")
@admin_required
def invoice_void(invoice_id: int):
    """Void the invoice: its charges are billed again by the next run."""
    invoice = db.get_or_404(Invoice, invoice_id)
    return _act(invoice_id, lambda: void_invoice(invoice), f"Invoice #{invoice.refnumber} voided.")


@bp.post("/invoices/<int:invoice_id>/rotate-link")
@admin_required
def invoice_rotate_link(invoice_id: int):
    """Give the invoice a new customer link; the previous link stops working at once."""
    invoice = db.get_or_404(Invoice, invoice_id)
    return _act(invoice_id, lambda: rotate_invoice_link(invoice),
                f"Invoice #{invoice.refnumber} has a new link; the previous one no longer works.")


@bp.post("/invoices/<int:invoice_id>/payments")
@admin_required
def invoice_pay(invoice_id: int):
    """Record a payment of the invoice (all or part of its balance)."""
    invoice, form = db.get_or_404(Invoice, invoice_id), PaymentForm()
    return _act(invoice_id, lambda: pay_invoice(invoice, **payment_fields(form)),
                lambda: payment_outcome(db.get_or_404(Invoice, invoice_id)), form, PAYMENT_ALIASES, payment_form=form)
