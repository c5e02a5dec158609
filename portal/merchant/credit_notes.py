"""Credit notes: list, detail (the PDF's content as HTML), PDF, e-mail, void."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for

from portal.billing.errors import ValidationError
from portal.extensions import db
from portal.merchant import bp
from portal.merchant.access import admin_required
from portal.merchant.forms_common import page
from portal.models import Invoice
from portal.services.credit_notes import (
    all_credit_notes, credit_note_context, credit_note_transaction, customer_companies,
)
from portal.services.invoices import void_invoice
from portal.services.listings import invoice_deliveries
from portal.services.mail import queue_invoice_email
from portal.web import invoice_pdf_response

LIST_PAGE, LIST_PARTIAL = "merchant/credit_notes.html", "partials/merchant_credit_note_table.html"
DETAIL_PAGE, DETAIL_PARTIAL = "merchant/credit_note.html", "partials/merchant_credit_note_detail.html"


def _credit_note(credit_note_id: int) -> Invoice:
    credit_note = db.session.get(Invoice, credit_note_id)
    if credit_note is None or not credit_note.is_credit_note:
        abort(404)
    return credit_note


def _detail(credit_note: Invoice) -> dict:
    return {**credit_note_context(credit_note), "deliveries": invoice_deliveries(credit_note.id),
            "transaction": credit_note_transaction(credit_note)}


def _done(credit_note_id: int, action, message: str):
    """Run an action on the credit note, then show it again (a refusal is flashed)."""
    try:
        action()
    except ValidationError as error:
        db.session.rollback()
        flash(f"Not done: {error.message}", "error")
    else:
        db.session.commit()
        flash(message, "info")
    if getattr(request, "htmx", False):
        return page(DETAIL_PAGE, DETAIL_PARTIAL, **_detail(_credit_note(credit_note_id)))
    return redirect(url_for("merchant.credit_note", credit_note_id=credit_note_id))


@bp.get("/credit-notes")
def credit_notes():
    """Every customer's credit notes, newest first."""
    notes = all_credit_notes()
    return page(LIST_PAGE, LIST_PARTIAL, credit_notes=notes, companies=customer_companies(notes))


@bp.get("/credit-notes/<int:credit_note_id>")
def credit_note(credit_note_id: int):
    """A credit note as printed, with the invoices its credit was applied to."""
    return page(DETAIL_PAGE, DETAIL_PARTIAL, **_detail(_credit_note(credit_note_id)))


@bp.get("/credit-notes/<int:credit_note_id>/pdf")
def credit_note_pdf(credit_note_id: int):
    """Download the credit note PDF."""
    return invoice_pdf_response(_credit_note(credit_note_id))


@bp.post("/credit-notes/<int:credit_note_id>/email")
@admin_required
def credit_note_email(credit_note_id: int):
    """Queue the credit note e-mail to the billing contact (sent by the mail job)."""
    note = _credit_note(credit_note_id)
    return _done(credit_note_id, lambda: queue_invoice_email(note),
                 f"Credit note {note.number} queued for e-mail.")


@bp.post("/credit-notes/<int:credit_note_id>/void")
@admin_required
def credit_note_void(credit_note_id: int):
    """Void the credit note: its applications are reversed and its lines billed again."""
    note = _credit_note(credit_note_id)
    return _done(credit_note_id, lambda: void_invoice(note), f"Credit note {note.number} voided.")
