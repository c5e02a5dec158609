"""/r/invoice/<token>: an invoice shown by its signed link, without login."""
from flask import Blueprint, abort, render_template

from portal.models import Invoice
from portal.services.invoice_view import invoice_context
from portal.services.links import invoice_from_token
from portal.web import invoice_pdf_response

bp = Blueprint("links", __name__, url_prefix="/r")


def _invoice(token: str) -> Invoice:
    """The invoice a valid, current token names; 404 for any other token (no oracle)."""
    invoice = invoice_from_token(token)
    if invoice is None:
        abort(404)
    return invoice


@bp.get("/invoice/<token>")
def invoice_view(token: str):
    """The invoice page of a signed permalink."""
    invoice = _invoice(token)
    if invoice.is_credit_note:
        from portal.services.credit_notes import credit_note_context

        return render_template("invoice_public.html", token=token, **credit_note_context(invoice))
    return render_template("invoice_public.html", token=token, **invoice_context(invoice))


@bp.get("/invoice/<token>/pdf")
def invoice_pdf(token: str):
    """The invoice PDF of a signed link."""
    invoice = _invoice(token)
    return invoice_pdf_response(invoice, inline=True)
