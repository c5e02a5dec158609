"""The contact's credit notes (list, page, PDF): their own customer's only."""
from __future__ import annotations

from flask import render_template

from portal.customer import bp
from portal.customer.access import contact, customer_id, own_credit_note
from portal.services.credit_notes import credit_note_context, customer_credit_notes
from portal.services.payments import customer_credit_minor
from portal.web import invoice_pdf_response


@bp.get("/credit-notes")
def credit_notes():
    """The customer's credit notes, newest first, and the credit not applied yet."""
    customer = contact().customer
    return render_template("customer/credit_notes.html", customer=customer,
                           credit_notes=customer_credit_notes(customer_id()),
                           credit_left=customer_credit_minor(customer.id))


@bp.get("/credit-notes/<int:credit_note_id>")
def credit_note(credit_note_id: int):
    """One credit note as printed, with the invoices its credit was applied to."""
    return render_template("customer/credit_note.html", **credit_note_context(own_credit_note(credit_note_id)))


@bp.get("/credit-notes/<int:credit_note_id>/pdf")
def credit_note_pdf(credit_note_id: int):
    """The credit note PDF, as a download."""
    return invoice_pdf_response(own_credit_note(credit_note_id))
